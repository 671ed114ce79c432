/* cli-util.c - the CLI's shared helpers (cli.h). */
#include "mailfruit-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "udb-addr.h"
#include "udb-sql.h"

int cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("mailfruit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("mailfruit: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_db_fail(struct cli *cli, enum udb_rc rc)
{
	int code;

	switch (rc) {
	case UDB_OK: return 0;
	case UDB_NOTFOUND: code = EX_NOUSER; break;
	case UDB_EBUSY: code = EX_TEMPFAIL; break;
	case UDB_EMISSING: code = EX_NOINPUT; break;
	case UDB_ECORRUPT:
	case UDB_ESCHEMA: code = EX_CONFIG; break;
	case UDB_EEXIST:
	case UDB_ECONSTRAINT: code = EX_DATAERR; break;
	default: code = EX_IOERR; break;
	}
	return cli_fail(code, "%s%s", cli->err,
			rc == UDB_EBUSY ? " (the database is busy: try again)" : "");
}

int cli_open(struct cli *cli)
{
	enum udb_rc rc;

	if (cli->db != NULL)
		return 0;
	rc = udb_open_rw(cli->db_path, false, false, cli->busy_ms, &cli->db, cli->err,
			 sizeof(cli->err));
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	udb_lookup_init(&cli->lk, cli->db);
	return cli_maps_attach(cli);
}

void cli_close(struct cli *cli)
{
	if (cli->db == NULL)
		return;
	cli_maps_finish(cli);
	udb_lookup_deinit(&cli->lk);
	udb_close(cli->db);
	cli->db = NULL;
}

int cli_address(const char *in, char *out, char *local_r, char *domain_r)
{
	char err[256];

	if (udb_address_normalize(in, out, local_r, domain_r, err, sizeof(err)) < 0)
		return cli_fail(EX_DATAERR, "%s", err);
	return 0;
}

int cli_mailbox(struct cli *cli, const char *in, struct udb_mailbox *mb)
{
	char addr[UDB_ADDRESS_MAX + 1];
	enum udb_rc rc;
	int ret;

	if ((ret = cli_address(in, addr, NULL, NULL)) != 0 || (ret = cli_open(cli)) != 0)
		return ret;
	rc = udb_mailbox_get(&cli->lk, addr, mb, cli->err, sizeof(cli->err));
	if (rc == UDB_NOTFOUND)
		return cli_fail(EX_NOUSER, "no mailbox %s", addr);
	return cli_db_fail(cli, rc);
}

int cli_domain_id(struct cli *cli, const char *domain, long long *id_r)
{
	enum udb_rc rc;
	int ret;

	if ((ret = cli_open(cli)) != 0)
		return ret;
	rc = udb_query_int(cli->db, -1, id_r, cli->err, sizeof(cli->err),
			   "SELECT id FROM domains WHERE name = ?1", "t", domain);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (*id_r < 0)
		return cli_fail(EX_NOUSER, "no domain %s (add it with 'mailfruit domain add %s')",
				domain, domain);
	return 0;
}

int cli_list_open(struct cli *cli, int argc, char **argv, char domain[UDB_DOMAIN_MAX + 1])
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	domain[0] = '\0';
	while ((c = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (c == 'h')
			return cli_usage(argv[0], false);
		if (c != 'd')
			return EX_USAGE;
		if (udb_domain_normalize(optarg, domain, cli->err, sizeof(cli->err)) < 0)
			return cli_fail(EX_DATAERR, "%s", cli->err);
	}
	if (argc != optind)
		return cli_usage(argv[0], true);
	ret = cli_open(cli);
	return ret != 0 ? ret : -1;
}

bool cli_confirm(const char *question)
{
	char answer[16];
	FILE *tty = fopen("/dev/tty", "r+");
	bool yes;

	if (tty == NULL)
		return false;
	fprintf(tty, "%s [y/N] ", question);
	fflush(tty);
	yes = fgets(answer, sizeof(answer), tty) != NULL &&
	      (answer[0] == 'y' || answer[0] == 'Y');
	fclose(tty);
	return yes;
}

int cli_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		   unsigned long long *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out < min || *out > max)
		return -1;
	return 0;
}

int cli_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mult = 1;
	char num[32], *end;
	size_t len = strlen(s);

	if (strcmp(s, "none") == 0) {
		*out = 0;
		return 0;
	}
	if (len == 0 || len >= sizeof(num))
		return -1;
	strcpy(num, s);
	switch (num[len - 1]) {
	case 'k': case 'K': mult = 1ULL << 10; break;
	case 'm': case 'M': mult = 1ULL << 20; break;
	case 'g': case 'G': mult = 1ULL << 30; break;
	case 't': case 'T': mult = 1ULL << 40; break;
	}
	if (mult != 1)
		num[len - 1] = '\0';
	if (num[0] < '0' || num[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(num, &end, 10);
	/* SQLite integers are signed 64-bit. */
	if (errno != 0 || *end != '\0' || v > (unsigned long long)INT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

int cli_parse_fd(const char *s, int *fd_r)
{
	unsigned long long v;

	if (cli_parse_uint(s, 0, 1024 * 1024, &v) < 0 || fcntl((int)v, F_GETFD) < 0)
		return cli_fail(EX_USAGE, "'%s' is not an open file descriptor", s);
	*fd_r = (int)v;
	return 0;
}

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

const char *cli_time(long long t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "%lld", t);
	return buf;
}

int cli_kdf_settings(struct cli *cli, struct cli_kdf *kdf)
{
	char value[32];
	unsigned long long v;
	enum udb_rc rc;

	rc = udb_setting_get(cli->db, "argon2_opslimit", "4", value, sizeof(value), cli->err,
			     sizeof(cli->err));
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (cli_parse_uint(value, 1, 1000000, &v) < 0)
		return cli_fail(EX_CONFIG, "setting argon2_opslimit is invalid: %s", value);
	kdf->opslimit = v;
	rc = udb_setting_get(cli->db, "argon2_memlimit", "67108864", value, sizeof(value),
			     cli->err, sizeof(cli->err));
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (cli_parse_uint(value, 8192, 1ULL << 40, &v) < 0)
		return cli_fail(EX_CONFIG, "setting argon2_memlimit is invalid: %s", value);
	kdf->memlimit = (size_t)v;
	return 0;
}
