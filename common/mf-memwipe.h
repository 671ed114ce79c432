/*
 * mf-memwipe.h - remove stray copies of a secret from this process.
 *
 * Contract: mf_memwipe_process(secret, len) zeroes every occurrence of the
 * len bytes at `secret` in this process's private anonymous writable
 * memory (heap, anonymous mappings: malloc, Dovecot's pools and data stack),
 * except the mapping holding `secret` itself; not the stack, not file
 * mappings, not mappings over 1 GiB (reservations such as ASan's shadow). It returns how many copies it zeroed, or -1 when /proc/self/maps
 * cannot be read. It is for a secret that code outside ours copied into
 * memory we cannot reach (freed pools, stream buffers): len must be at
 * least 32 so a match is never an accident (a derived key in hex, not a
 * password). Only for single-threaded processes (Dovecot's).
 *
 * mf_memwipe_stack() zeroes MF_MEMWIPE_STACK_BYTES of stack below the
 * caller's frame: what finished calls (libsodium's, argon2's) left there.
 */
#ifndef MF_MEMWIPE_H
#define MF_MEMWIPE_H

#include <stddef.h>

int mf_memwipe_process(const void *secret, size_t len);
#define MF_MEMWIPE_STACK_BYTES 16384
void mf_memwipe_stack(void);

#endif
