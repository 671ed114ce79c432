#ifndef TREES_SECRET_H
#define TREES_SECRET_H

/*
 * trees-secret.h - per-message secret scratch (stream state and message
 * key) in sodium-locked memory, without a system call per message.
 *
 * Contract: trees_secret_alloc() returns TREES_SECRET_SIZE zeroed bytes of
 * mf_secmem (locked, guarded) memory or NULL; trees_secret_free() wipes
 * them and keeps up to a few blocks per thread for reuse, so encrypting a
 * message does not cost the mmap/mlock/munmap of a fresh allocation. The
 * cache is thread-local; blocks still cached at thread exit stay locked
 * (wiped) until the process ends.
 */

#include <stddef.h>

#define TREES_SECRET_SIZE 256u

void *trees_secret_alloc(void);
void trees_secret_free(void *block);

#endif
