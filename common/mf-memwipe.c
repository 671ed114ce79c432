/* mf-memwipe.c - remove stray copies of a secret (mf-memwipe.h). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "mf-memwipe.h"

#define MF_MEMWIPE_MIN_LEN 32
/* Larger mappings are reservations, not heap (ASan's shadow memory, for
   one): reading them would only fault in page tables. */
#define MF_MEMWIPE_MAX_MAPPING ((uintptr_t)1 << 30)

#if defined(__SANITIZE_ADDRESS__)
/* ASan checks what libc's memmem() reads, and the heap has redzones: an
   uninstrumented search instead (the sanitizer build's unit test). */
__attribute__((no_sanitize("address")))
static unsigned char *find(unsigned char *p, size_t n, const unsigned char *needle, size_t len)
{
	for (size_t i = 0; i + len <= n; i++) {
		size_t j = 0;

		while (j < len && p[i + j] == needle[j])
			j++;
		if (j == len)
			return p + i;
	}
	return NULL;
}

__attribute__((no_sanitize("address")))
static void zero(unsigned char *p, size_t len)
{
	for (volatile unsigned char *v = p; len > 0; len--)
		*v++ = 0;
}
#else
#define find(p, n, needle, len) memmem(p, n, needle, len)
#define zero(p, len) sodium_memzero(p, len)
#endif

static int wipe_range(unsigned char *start, unsigned char *end, const void *secret, size_t len)
{
	unsigned char *p = start;
	int wiped = 0;

	while ((size_t)(end - p) >= len) {
		unsigned char *hit = find(p, (size_t)(end - p), secret, len);

		if (hit == NULL)
			break;
		zero(hit, len);
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
		/* Private anonymous memory (malloc, pools, data stack) only: no
		   guard pages, no shared or file mappings (a private file
		   mapping past the file's end would fault), not the stack. */
		if (strcmp(perms, "rw-p") != 0 ||
		    (path[0] != '\0' && strcmp(path, "[heap]") != 0 &&
		     strncmp(path, "[anon:", 6) != 0) ||
		    (at >= start && at < end) || end - start > MF_MEMWIPE_MAX_MAPPING)
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
