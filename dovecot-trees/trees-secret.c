/* trees-secret.c - cached locked scratch blocks (trees-secret.h). */
#include "mailfruit-config.h"

#include "mf-secmem.h"
#include "trees-secret.h"

#define CACHE_MAX 4

static _Thread_local void *cache[CACHE_MAX];
static _Thread_local unsigned int cached;

void *trees_secret_alloc(void)
{
	if (cached > 0)
		return cache[--cached]; /* wiped when it was freed */
	return mf_secmem_alloc(TREES_SECRET_SIZE);
}

void trees_secret_free(void *block)
{
	if (block == NULL)
		return;
	mf_secmem_wipe(block, TREES_SECRET_SIZE);
	if (cached < CACHE_MAX)
		cache[cached++] = block;
	else
		mf_secmem_free(block);
}
