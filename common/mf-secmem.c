/* mf-secmem.c - see mf-secmem.h. */
#include "mailfruit-config.h"

#include "mf-secmem.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

/* sodium_init() takes a lock on every call; this flag keeps the allocation
 * path lock-free once initialization has succeeded. */
static atomic_bool mf_secmem_ready;

int mf_secmem_init(void)
{
	if (atomic_load(&mf_secmem_ready))
		return 0;
	/* 0: initialized now, 1: already initialized, -1: failure. */
	if (sodium_init() < 0)
		return -1;
	atomic_store(&mf_secmem_ready, true);
	return 0;
}

void *mf_secmem_alloc(size_t size)
{
	void *ptr;

	/* sodium_malloc() before sodium_init() would use a zero page size. */
	if (mf_secmem_init() < 0) {
		errno = ENOSYS;
		return NULL;
	}
	if ((ptr = sodium_malloc(size)) == NULL)
		return NULL;
	/* libsodium fills new memory with 0xdb; callers get a defined state. */
	sodium_memzero(ptr, size);
	return ptr;
}

char *mf_secmem_strdup(const char *str)
{
	size_t len;
	char *copy;

	if (str == NULL)
		return NULL;
	len = strlen(str);
	if ((copy = mf_secmem_alloc(len + 1)) == NULL)
		return NULL;
	memcpy(copy, str, len + 1);
	return copy;
}

void mf_secmem_free(void *ptr)
{
	/* sodium_free() accepts NULL, makes the region writable, wipes it. */
	sodium_free(ptr);
}

void mf_secmem_wipe(void *ptr, size_t len)
{
	if (ptr == NULL || len == 0)
		return;
	sodium_memzero(ptr, len);
}

int mf_secmem_lock(void *ptr, size_t len)
{
	if (ptr == NULL) {
		errno = EINVAL;
		return -1;
	}
	return sodium_mlock(ptr, len);
}

int mf_secmem_unlock(void *ptr, size_t len)
{
	if (ptr == NULL) {
		errno = EINVAL;
		return -1;
	}
	return sodium_munlock(ptr, len);
}

int mf_secmem_readonly(void *ptr)
{
	if (ptr == NULL) {
		errno = EINVAL;
		return -1;
	}
	return sodium_mprotect_readonly(ptr);
}

int mf_secmem_readwrite(void *ptr)
{
	if (ptr == NULL) {
		errno = EINVAL;
		return -1;
	}
	return sodium_mprotect_readwrite(ptr);
}
