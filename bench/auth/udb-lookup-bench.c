/*
 * udb-lookup-bench.c - in-process userdb lookup latency: what the Dovecot
 * driver does for one userdb request (udb_lookup_check + udb_mailbox_get on
 * a read-only connection with prepared statements), without Dovecot's IPC.
 *
 *   udb-lookup-bench DB [LOOKUPS]
 *
 * Looks up LOOKUPS (default 100000) addresses drawn at random from the
 * database and prints the p50, p99 and max latency in microseconds.
 */
#include "mailfruit-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "udb-store.h"

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	char err[512], (*addrs)[UDB_ADDRESS_MAX + 1] = NULL;
	size_t n = 0, cap = 0, i, lookups = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	long long *ns;
	struct timespec a, b;
	struct udb_lookup lk;
	struct udb_mailbox mb;
	sqlite3 *db;

	if (argc < 2 || sodium_init() < 0 || lookups == 0) {
		fprintf(stderr, "usage: udb-lookup-bench DB [LOOKUPS]\n");
		return 2;
	}
	if (udb_open_ro(argv[1], 1000, &db, err, sizeof(err)) != UDB_OK) {
		fprintf(stderr, "udb-lookup-bench: %s\n", err);
		return 1;
	}
	udb_lookup_init(&lk, db);
	udb_iter_start(&lk, err, sizeof(err));
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			addrs = realloc(addrs, cap * sizeof(*addrs));
			if (addrs == NULL)
				return 1;
		}
		if (udb_iter_next(&lk, addrs[n], err, sizeof(err)) != UDB_OK)
			break;
		n++;
	}
	udb_iter_end(&lk);
	ns = calloc(lookups, sizeof(*ns));
	if (n == 0 || ns == NULL) {
		fprintf(stderr, "udb-lookup-bench: no mailboxes\n");
		return 1;
	}
	for (i = 0; i < lookups; i++) {
		const char *addr = addrs[randombytes_uniform((uint32_t)n)];

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (udb_lookup_check(&lk, err, sizeof(err)) != UDB_OK ||
		    udb_mailbox_get(&lk, addr, &mb, err, sizeof(err)) != UDB_OK) {
			fprintf(stderr, "udb-lookup-bench: %s: %s\n", addr, err);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		ns[i] = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	}
	qsort(ns, lookups, sizeof(*ns), cmp_ll);
	printf("in-process lookups: %zu of %zu mailboxes: p50 %.1f us, p99 %.1f us, max %.1f us\n",
	       lookups, n, ns[lookups / 2] / 1e3, ns[lookups * 99 / 100] / 1e3,
	       ns[lookups - 1] / 1e3);
	udb_lookup_deinit(&lk);
	udb_close(db);
	free(ns);
	free(addrs);
	return 0;
}
