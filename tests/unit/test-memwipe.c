/* test-memwipe.c - unit tests for common/mf-memwipe. */
#include "mailfruit-config.h"

#include "mf-memwipe.h"
#include "mf-secmem.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define KEY "993930fb20691ddd4fec965c83993c226176323efaf304558724ac13180c6ae4"

int main(void)
{
	char *secret = mf_secmem_strdup(KEY);
	char *small = malloc(100), *large = malloc(1 << 20), *other = malloc(100);
	char *anon = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	char *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int wiped;

	tap_ok(secret != NULL && small != NULL && large != NULL && other != NULL &&
	       anon != MAP_FAILED && ro != MAP_FAILED, "allocations");
	snprintf(small, 100, "trees_secretbox_key=%s", KEY);
	memset(large, 'x', 1 << 20);
	memcpy(large + 12345, KEY, 64);
	memcpy(large + (1 << 20) - 64, KEY, 64);        /* at the very end */
	memcpy(anon + 4000, KEY, 64);                    /* straddles a page */
	memcpy(ro, KEY, 64);
	mprotect(ro, 4096, PROT_READ);                   /* not writable: left alone */
	snprintf(other, 100, "%.63s", KEY);              /* one short: no match */

	wiped = mf_memwipe_process(secret, strlen(secret));
	tap_ok(wiped >= 4, "zeroed the heap, large and anonymous copies (%d)", wiped);
	tap_is_str(small, "trees_secretbox_key=", "the field's value is zeroed, its name kept");
	tap_ok(large[12345] == 0 && large[12345 + 63] == 0 && large[12344] == 'x' &&
	       large[12345 + 64] == 'x', "exactly the copy's bytes are zeroed");
	tap_ok(large[(1 << 20) - 1] == 0, "a copy ending a mapping is zeroed");
	tap_ok(anon[4000] == 0 && anon[4063] == 0, "a copy across pages is zeroed");
	tap_ok(memcmp(ro, KEY, 64) == 0, "read-only memory is left alone");
	tap_ok(strlen(other) == 63 && other[0] == KEY[0], "a partial match is left alone");
	tap_is_str(secret, KEY, "the secret itself (locked memory) is kept");
	tap_is_int(mf_memwipe_process("short", 5), 0, "secrets under 32 bytes are never searched");
	mf_memwipe_stack();
	tap_ok(1, "the stack wipe returns");

	mf_secmem_free(secret);
	free(small);
	free(large);
	free(other);
	munmap(anon, 65536);
	munmap(ro, 4096);
	return tap_done();
}
