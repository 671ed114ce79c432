/* milter-current.c - see milter-current.h. */
#include "mailfruit-config.h"

#include "milter-current.h"

#include <pthread.h>
#include <stddef.h>

/* Both are guarded by lock, and so is every config's refs field. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_config *current;

/* Drops one reference; the caller holds lock. Returns the object to free
 * (after unlocking) or NULL. */
static struct milter_config *unref_locked(struct milter_config *conf)
{
	if (conf == NULL || --conf->refs > 0)
		return NULL;
	return conf;
}

void milter_current_set(struct milter_config *conf)
{
	struct milter_config *dead;

	if (conf != NULL)
		conf->refs = 1;		/* the reference "current" holds */
	pthread_mutex_lock(&lock);
	dead = unref_locked(current);
	current = conf;
	pthread_mutex_unlock(&lock);
	/* Freeing outside the lock keeps acquire() short. */
	milter_config_free(dead);
}

struct milter_config *milter_current_acquire(void)
{
	struct milter_config *conf;

	pthread_mutex_lock(&lock);
	conf = current;
	if (conf != NULL)
		conf->refs++;
	pthread_mutex_unlock(&lock);
	return conf;
}

void milter_current_release(struct milter_config *conf)
{
	struct milter_config *dead;

	if (conf == NULL)
		return;
	pthread_mutex_lock(&lock);
	dead = unref_locked(conf);
	pthread_mutex_unlock(&lock);
	milter_config_free(dead);
}
