/*
 * mf-secmem.h - memory for key material, over libsodium.
 *
 * Contract: mf_secmem_alloc() memory sits between two guard pages (touching a
 * byte past either end kills the process with SIGSEGV), is zero-filled, and
 * is wiped by mf_secmem_free(). "Locked" means mlock(2)ed, so it is never
 * written to swap, and marked MADV_DONTDUMP, so it stays out of core dumps.
 * Locking counts against RLIMIT_MEMLOCK: mf_secmem_alloc() treats it as
 * best effort (libsodium ignores an mlock failure, the allocation still
 * succeeds unlocked), while mf_secmem_lock() reports it: -1 with errno
 * (ENOMEM or EPERM). Each allocation costs 3-4 extra pages, so use it for
 * keys and passwords, not for bulk data; the result is 16-byte aligned only
 * when the size is a multiple of 16. Everything here is thread-safe.
 */
#ifndef MF_SECMEM_H
#define MF_SECMEM_H

#include <stddef.h>

/* sodium_init(); idempotent. The allocators call it on first use. -1 when
 * libsodium cannot initialize (no randomness source). */
int mf_secmem_init(void);

/* NULL when out of memory or when libsodium cannot initialize. */
void *mf_secmem_alloc(size_t size);
/* Copies str (NULL gives NULL) into mf_secmem_alloc() memory. */
char *mf_secmem_strdup(const char *str);
/* Wipes, unlocks and unmaps; NULL is a no-op. Works on read-only memory. */
void mf_secmem_free(void *ptr);

/* Zeroes len bytes in a way the compiler cannot optimize away. NULL-safe. */
void mf_secmem_wipe(void *ptr, size_t len);

/* Lock (or unlock) a buffer someone else allocated, e.g. on the stack.
 * 0 or -1 with errno. mf_secmem_unlock() wipes the buffer first. */
int mf_secmem_lock(void *ptr, size_t len);
int mf_secmem_unlock(void *ptr, size_t len);

/* Change the protection of mf_secmem_alloc() memory (nothing else):
 * writing to read-only memory kills the process with SIGSEGV. 0 or -1. */
int mf_secmem_readonly(void *ptr);
int mf_secmem_readwrite(void *ptr);

#endif
