/* mf-memwipe.c - remove stray copies of a secret (mf-memwipe.h). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "mf-memwipe.h"

#define MF_MEMWIPE_MIN_LEN 32

static int wipe_range(unsigned char *start, unsigned char *end, const void *secret, size_t len)
{
	unsigned char *p = start;
	int wiped = 0;

	while ((size_t)(end - p) >= len) {
		unsigned char *hit = memmem(p, (size_t)(end - p), secret, len);

		if (hit == NULL)
			break;
		sodium_memzero(hit, len);
		wiped++;
		p = hit + len;
	}
	return wiped;
}

int mf_memwipe_process(const void *secret, size_t len)
{
	char line[512], perms[8], path[256];
	uintptr_t start, end, at = (uintptr_t)secret;
	FILE *maps;
	int wiped = 0;

	if (len < MF_MEMWIPE_MIN_LEN)
		return 0;
	maps = fopen("/proc/self/maps", "re");
	if (maps == NULL)
		return -1;
	while (fgets(line, sizeof(line), maps) != NULL) {
		path[0] = '\0';
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &start, &end, perms, path) < 3)
			continue;
		/* rw-p only: no guard pages, no read-only or shared mappings. */
		if (strcmp(perms, "rw-p") != 0 || strncmp(path, "[stack", 6) == 0 ||
		    strcmp(path, "[vvar]") == 0 || (at >= start && at < end))
			continue;
		wiped += wipe_range((unsigned char *)start, (unsigned char *)end, secret, len);
	}
	fclose(maps);
	return wiped;
}

void __attribute__((noinline)) mf_memwipe_stack(void)
{
	unsigned char buf[MF_MEMWIPE_STACK_BYTES];

	sodium_memzero(buf, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}
