/* test-milter-current.c - unit tests for milter-tlsonly/milter-current:
 * the refcounted configuration that reloads replace while libmilter's
 * worker threads decide. Under ASan a use after free or a leak fails the
 * run; the threaded part is also the case to run under TSan. */
#include "mailfruit-config.h"

#include "milter-current.h"
#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define SWAPS 300

static char conf_path[PATH_MAX];

static struct milter_config *load(const char *text)
{
	char err[512];
	FILE *f = fopen(conf_path, "w");
	struct milter_config *conf;

	if (f == NULL)
		return NULL;
	fputs(text, f);
	fclose(f);
	if ((conf = milter_config_load(conf_path, err, sizeof(err))) == NULL)
		tap_diag("%s", err);
	return conf;
}

static void test_single(void)
{
	struct milter_config *a = load("mode = reject\n"), *b = load("mode = defer\n"), *held, *now;

	if (!tap_ok(a != NULL && b != NULL, "two configurations load"))
		return;
	tap_ok(milter_current_acquire() == NULL, "nothing installed: NULL");
	milter_current_set(a);
	held = milter_current_acquire();
	tap_ok(held == a, "acquire returns the installed configuration");
	tap_is_int((long long)a->refs, 2, "installed + one holder");
	milter_current_set(b);
	tap_is_int((long long)a->refs, 1, "replaced: only the holder is left");
	tap_is_int(mf_tlspolicy_mode(held->policy), MF_TLSPOLICY_MODE_REJECT,
		   "a holder keeps using the replaced configuration");
	now = milter_current_acquire();
	tap_ok(now == b, "new holders get the new one");
	milter_current_release(held);	/* frees a: ASan would see a second use */
	milter_current_release(now);
	tap_is_int((long long)b->refs, 1, "released back to the installed reference");
	milter_current_release(NULL);
	milter_current_set(NULL);
	tap_ok(milter_current_acquire() == NULL, "set(NULL) uninstalls");
}

static atomic_int stop;
static atomic_long decisions;

static void *worker(void *arg)
{
	struct mf_tlspolicy_request req = {
		.client_address = "192.0.2.10", .sender = "a@example.net",
		.recipient = "alice@example.test",
	};
	struct mf_tlspolicy_decision d;
	long n = 0, bad = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		struct milter_config *conf = milter_current_acquire();

		if (conf == NULL)
			continue;
		mf_tlspolicy_decide(conf->policy, &req, &d);
		if (d.verdict != MF_TLSPOLICY_REJECT && d.verdict != MF_TLSPOLICY_DEFER)
			bad++;
		milter_current_release(conf);
		n++;
	}
	atomic_fetch_add(&decisions, n);
	return (void *)bad;
}

static void test_threads(void)
{
	pthread_t tids[THREADS];
	long bad = 0;
	int i, swaps = 0;
	void *ret;

	milter_current_set(load("mode = reject\n"));
	for (i = 0; i < THREADS; i++)
		pthread_create(&tids[i], NULL, worker, NULL);
	for (i = 0; i < SWAPS; i++) {
		struct milter_config *conf = load(i % 2 ? "mode = reject\n" : "mode = defer\n");

		if (conf == NULL)
			break;
		milter_current_set(conf);
		swaps++;
	}
	atomic_store(&stop, 1);
	for (i = 0; i < THREADS; i++) {
		pthread_join(tids[i], &ret);
		bad += (long)ret;
	}
	milter_current_set(NULL);
	tap_is_int(swaps, SWAPS, "%d reloads while %d threads decide", SWAPS, THREADS);
	tap_ok(atomic_load(&decisions) > 0, "the threads decided (%ld times)",
	       atomic_load(&decisions));
	tap_is_int(bad, 0, "every decision came from a whole configuration");
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	char dir[PATH_MAX - 32];

	snprintf(dir, sizeof(dir), "%s/mf-test-milter-current.XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(dir) == NULL) {
		tap_ok(false, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	snprintf(conf_path, sizeof(conf_path), "%s/tls-policy.conf", dir);
	test_single();
	test_threads();
	unlink(conf_path);
	rmdir(dir);
	return tap_done();
}
