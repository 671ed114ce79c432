/* mf-config.c - see mf-config.h. */
#include "mailfruit-config.h"

#include "mf-config.h"
#include "mf-err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* All expanded values together; stops "b1 = $a, b2 = $a, ..." with a big
 * $a from turning a 1 MB file into gigabytes. */
#define MF_CONFIG_EXPAND_TOTAL_MAX (8 * 1024 * 1024)
/* How much of a user-supplied string an error message quotes. */
#define QUOTE_MAX 100
#define NO_ENTRY SIZE_MAX

enum expand_state { EXPAND_TODO, EXPAND_BUSY, EXPAND_DONE };

struct mf_config_entry {
	char *key;
	char *value;		/* raw text from the file; NULL: only a default */
	char *def;		/* raw default; NULL: none */
	char *expanded;		/* what mf_config_get() returns, set by the load */
	unsigned int line;	/* last definition in the file; 0: none */
	unsigned int prev_line;	/* the definition that one overrode; 0: none */
	size_t next;		/* next entry in the same hash bucket */
	enum expand_state state;
};

struct mf_config {
	char *name;			/* file name for messages */
	struct mf_config_entry *entries;
	size_t count, size;
	/* A hash table of entry indexes: a hostile file may hold 100000
	 * keys and as many references, too many for linear lookups. */
	size_t *buckets;
	size_t nbuckets;		/* a power of two */
	size_t *order;			/* file keys, by first appearance */
	size_t order_count, order_size;
	size_t expand_total;
	bool loaded, failed;
};

/* A growing NUL-terminated string. */
struct strbuf {
	char *data;
	size_t len, size;
};

/* ASCII only: the locale must not change what a file means. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static size_t name_span(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && is_name_char(s[n]))
		n++;
	return n;
}

static bool valid_name(const char *s, size_t len)
{
	return len > 0 && name_span(s, len) == len;
}

/* Precision and suffix for quoting at most QUOTE_MAX bytes with "%.*s%s". */
static int quote_len(size_t len)
{
	return (int)(len > QUOTE_MAX ? QUOTE_MAX : len);
}

static const char *quote_more(size_t len)
{
	return len > QUOTE_MAX ? "..." : "";
}

/* Returns array with room for one more element (reallocated when full),
 * or NULL when out of memory, leaving array as it was. */
static void *grow(void *array, size_t *size, size_t count, size_t elem)
{
	size_t new_size;

	if (count < *size)
		return array;
	if (*size > SIZE_MAX / 2 / elem)
		return NULL;
	new_size = *size == 0 ? 16 : *size * 2;
	if ((array = realloc(array, new_size * elem)) != NULL)
		*size = new_size;
	return array;
}

static int strbuf_append(struct strbuf *buf, const char *s, size_t len)
{
	size_t need;
	char *p;

	if (len > SIZE_MAX - buf->len - 1)
		return -1;
	need = buf->len + len + 1;
	if (need > buf->size) {
		size_t new_size = buf->size == 0 ? 64 : buf->size;

		while (new_size < need)
			new_size = new_size > SIZE_MAX / 2 ? need : new_size * 2;
		if ((p = realloc(buf->data, new_size)) == NULL)
			return -1;
		buf->data = p;
		buf->size = new_size;
	}
	memcpy(buf->data + buf->len, s, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return 0;
}

/* FNV-1a: short, and good enough for parameter names. */
static size_t hash_name(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static size_t find_entry(const struct mf_config *cfg, const char *key, size_t len)
{
	size_t i;

	if (cfg->nbuckets == 0)
		return NO_ENTRY;
	for (i = cfg->buckets[hash_name(key, len) & (cfg->nbuckets - 1)]; i != NO_ENTRY;
	     i = cfg->entries[i].next) {
		if (strncmp(cfg->entries[i].key, key, len) == 0 && cfg->entries[i].key[len] == '\0')
			return i;
	}
	return NO_ENTRY;
}

/* Doubles the table when it holds as many entries as buckets, before the
 * next entry is added. */
static int rehash(struct mf_config *cfg)
{
	size_t nbuckets, i, b;
	size_t *buckets;

	if (cfg->count < cfg->nbuckets)
		return 0;
	nbuckets = cfg->nbuckets == 0 ? 64 : cfg->nbuckets * 2;
	if (nbuckets > SIZE_MAX / sizeof(*buckets) ||
	    (buckets = malloc(nbuckets * sizeof(*buckets))) == NULL)
		return -1;
	for (b = 0; b < nbuckets; b++)
		buckets[b] = NO_ENTRY;
	for (i = 0; i < cfg->count; i++) {
		struct mf_config_entry *e = &cfg->entries[i];

		b = hash_name(e->key, strlen(e->key)) & (nbuckets - 1);
		e->next = buckets[b];
		buckets[b] = i;
	}
	free(cfg->buckets);
	cfg->buckets = buckets;
	cfg->nbuckets = nbuckets;
	return 0;
}

/* The entry for key, created empty if need be; NO_ENTRY when out of memory. */
static size_t get_entry(struct mf_config *cfg, const char *key, size_t len)
{
	struct mf_config_entry *e;
	size_t i, b;

	if ((i = find_entry(cfg, key, len)) != NO_ENTRY)
		return i;
	if ((e = grow(cfg->entries, &cfg->size, cfg->count, sizeof(*e))) == NULL)
		return NO_ENTRY;
	cfg->entries = e;
	if (rehash(cfg) < 0)
		return NO_ENTRY;
	e = &cfg->entries[cfg->count];
	memset(e, 0, sizeof(*e));
	if ((e->key = strndup(key, len)) == NULL)
		return NO_ENTRY;
	b = hash_name(key, len) & (cfg->nbuckets - 1);
	e->next = cfg->buckets[b];
	cfg->buckets[b] = cfg->count;
	return cfg->count++;
}

struct mf_config *mf_config_new(void)
{
	return calloc(1, sizeof(struct mf_config));
}

void mf_config_free(struct mf_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->count; i++) {
		free(cfg->entries[i].key);
		free(cfg->entries[i].value);
		free(cfg->entries[i].def);
		free(cfg->entries[i].expanded);
	}
	free(cfg->entries);
	free(cfg->buckets);
	free(cfg->order);
	free(cfg->name);
	free(cfg);
}

int mf_config_set_default(struct mf_config *cfg, const char *key, const char *value)
{
	char *copy;
	size_t i;

	if (cfg->loaded || key == NULL || value == NULL || !valid_name(key, strlen(key)))
		return -1;
	if ((copy = strdup(value)) == NULL)
		return -1;
	if ((i = get_entry(cfg, key, strlen(key))) == NO_ENTRY) {
		free(copy);
		return -1;
	}
	free(cfg->entries[i].def);
	cfg->entries[i].def = copy;
	return 0;
}

/* "FILE, line N: msg" for an entry in the file, "FILE: default value of
 * "key": msg" for one only set by default, "FILE: msg" without an entry. */
static void entry_verr(const struct mf_config *cfg, const struct mf_config_entry *e,
		       char *err, size_t errlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static void entry_verr(const struct mf_config *cfg, const struct mf_config_entry *e,
		       char *err, size_t errlen, const char *fmt, va_list ap)
{
	const char *name = cfg->name != NULL ? cfg->name : "(not loaded)";
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (e != NULL && e->line > 0)
		mf_err_set(err, errlen, "%s, line %u: %s", name, e->line, msg);
	else if (e != NULL)
		mf_err_set(err, errlen, "%s: default value of \"%s\": %s", name, e->key, msg);
	else
		mf_err_set(err, errlen, "%s: %s", name, msg);
}

static void entry_err(const struct mf_config *cfg, size_t i, char *err, size_t errlen,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void entry_err(const struct mf_config *cfg, size_t i, char *err, size_t errlen,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	entry_verr(cfg, &cfg->entries[i], err, errlen, fmt, ap);
	va_end(ap);
}

/* Stores one logical line "key = value" (left- and right-trimmed). */
static int parse_logical(struct mf_config *cfg, const char *text, size_t len,
			 unsigned int lineno, char *err, size_t errlen)
{
	const char *eq = memchr(text, '=', len);
	const char *val;
	size_t klen, vlen, i;
	struct mf_config_entry *e;
	size_t *order;
	char *copy;

	if (eq == NULL) {
		mf_err_set(err, errlen, "%s, line %u: missing '=' after parameter name \"%.*s%s\"",
			cfg->name, lineno, quote_len(len), text, quote_more(len));
		return -1;
	}
	for (klen = (size_t)(eq - text); klen > 0 && is_space(text[klen - 1]); klen--)
		;
	if (!valid_name(text, klen)) {
		mf_err_set(err, errlen, "%s, line %u: bad parameter name \"%.*s%s\"", cfg->name,
			lineno, quote_len(klen), text, quote_more(klen));
		return -1;
	}
	for (val = eq + 1; val < text + len && is_space(*val); val++)
		;
	vlen = (size_t)(text + len - val);
	if ((copy = strndup(val, vlen)) == NULL ||
	    (i = get_entry(cfg, text, klen)) == NO_ENTRY) {
		free(copy);
		mf_err_set(err, errlen, "%s, line %u: out of memory", cfg->name, lineno);
		return -1;
	}
	e = &cfg->entries[i];
	if (e->value == NULL) {
		if ((order = grow(cfg->order, &cfg->order_size, cfg->order_count,
				  sizeof(*order))) == NULL) {
			free(copy);
			mf_err_set(err, errlen, "%s, line %u: out of memory", cfg->name, lineno);
			return -1;
		}
		cfg->order = order;
		cfg->order[cfg->order_count++] = i;
	}
	free(e->value);
	e->value = copy;
	e->prev_line = e->line;
	e->line = lineno;
	return 0;
}

/* Joins physical lines into logical ones and stores them. */
static int parse_text(struct mf_config *cfg, const char *text, size_t len, char *err,
		      size_t errlen)
{
	const char *p = text, *end = text + len;
	const char *nl, *eol, *s, *e;
	struct strbuf logical = { 0 };
	unsigned int lineno = 0, start = 0;
	bool have = false;
	int rc = -1;

	for (; p < end; p = nl != NULL ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		eol = nl != NULL ? nl : end;
		lineno++;
		if ((size_t)(eol - p) > MF_CONFIG_LINE_MAX) {
			mf_err_set(err, errlen, "%s, line %u: line too long (max %d)", cfg->name,
				lineno, MF_CONFIG_LINE_MAX);
			goto out;
		}
		if (memchr(p, '\0', (size_t)(eol - p)) != NULL) {
			mf_err_set(err, errlen, "%s, line %u: line contains a NUL character",
				cfg->name, lineno);
			goto out;
		}
		for (s = p; s < eol && is_space(*s); s++)
			;
		for (e = eol; e > s && is_space(e[-1]); e--)
			;
		/* Blank and comment lines do not end a continued line. */
		if (s == e || *s == '#')
			continue;
		if (s > p) {
			if (!have) {
				mf_err_set(err, errlen,
					"%s, line %u: continuation line without preceding parameter",
					cfg->name, lineno);
				goto out;
			}
			if ((size_t)(e - s) + 1 > MF_CONFIG_VALUE_MAX - logical.len) {
				mf_err_set(err, errlen, "%s, line %u: logical line too long (max %d)",
					cfg->name, start, MF_CONFIG_VALUE_MAX);
				goto out;
			}
			if (strbuf_append(&logical, " ", 1) < 0 ||
			    strbuf_append(&logical, s, (size_t)(e - s)) < 0)
				goto nomem;
			continue;
		}
		if (have && parse_logical(cfg, logical.data, logical.len, start, err, errlen) < 0)
			goto out;
		logical.len = 0;
		if (strbuf_append(&logical, s, (size_t)(e - s)) < 0)
			goto nomem;
		start = lineno;
		have = true;
	}
	if (have && parse_logical(cfg, logical.data, logical.len, start, err, errlen) < 0)
		goto out;
	rc = 0;
	goto out;
nomem:
	mf_err_set(err, errlen, "%s, line %u: out of memory", cfg->name, lineno);
out:
	free(logical.data);
	return rc;
}

static int expand_entry(struct mf_config *cfg, size_t i, unsigned int depth, char *err,
			size_t errlen);

/* Parses the reference at p ('$' not followed by '$') in the value of entry
 * i; returns the text after it, or NULL with an error. */
static const char *parse_ref(const struct mf_config *cfg, size_t i, const char *p,
			     const char **name_r, size_t *len_r, char *err, size_t errlen)
{
	const char *key = cfg->entries[i].key;
	const char *name, *close;
	size_t len;

	if (p[1] != '{') {
		name = p + 1;
		if ((len = name_span(name, SIZE_MAX)) == 0) {
			entry_err(cfg, i, err, errlen,
				  "stray '$' in value of \"%s\" (use \"$$\" for a literal '$')", key);
			return NULL;
		}
		*name_r = name;
		*len_r = len;
		return name + len;
	}
	name = p + 2;
	if ((close = strchr(name, '}')) == NULL) {
		entry_err(cfg, i, err, errlen, "missing '}' after \"${\" in value of \"%s\"", key);
		return NULL;
	}
	len = (size_t)(close - name);
	if (!valid_name(name, len)) {
		entry_err(cfg, i, err, errlen,
			  "bad parameter reference \"${%.*s%s}\" in value of \"%s\"",
			  quote_len(len), name, quote_more(len), key);
		return NULL;
	}
	*name_r = name;
	*len_r = len;
	return close + 1;
}

/* The entry that a reference in entry i names, expanded; NO_ENTRY with an
 * error when it is undefined, part of a loop or nested too deeply. */
static size_t resolve_ref(struct mf_config *cfg, size_t i, const char *name, size_t len,
			  unsigned int depth, char *err, size_t errlen)
{
	const char *key = cfg->entries[i].key;
	size_t ref;

	if ((ref = find_entry(cfg, name, len)) == NO_ENTRY) {
		entry_err(cfg, i, err, errlen, "undefined parameter \"$%.*s%s\" in value of \"%s\"",
			  quote_len(len), name, quote_more(len), key);
		return NO_ENTRY;
	}
	switch (cfg->entries[ref].state) {
	case EXPAND_DONE:
		return ref;
	case EXPAND_BUSY:
		entry_err(cfg, i, err, errlen, "reference loop via \"$%s\" in value of \"%s\"",
			  cfg->entries[ref].key, key);
		return NO_ENTRY;
	case EXPAND_TODO:
		break;
	}
	/* Also bounds the recursion, which a hostile file could make as deep
	 * as it has lines. */
	if (depth >= MF_CONFIG_DEPTH_MAX) {
		entry_err(cfg, i, err, errlen,
			  "references nested too deeply (max %d) in value of \"%s\"",
			  MF_CONFIG_DEPTH_MAX, key);
		return NO_ENTRY;
	}
	if (expand_entry(cfg, ref, depth + 1, err, errlen) < 0)
		return NO_ENTRY;
	return ref;
}

/* Sets the expanded value of entry i (EXPAND_TODO), expanding what it
 * refers to first. No entries are added meanwhile, so pointers stay valid. */
static int expand_entry(struct mf_config *cfg, size_t i, unsigned int depth, char *err,
			size_t errlen)
{
	struct mf_config_entry *e = &cfg->entries[i];
	const char *p = e->value != NULL ? e->value : e->def;
	struct strbuf out = { 0 };
	const char *piece, *name;
	size_t piece_len, name_len, ref;

	e->state = EXPAND_BUSY;
	if (strbuf_append(&out, "", 0) < 0)
		goto nomem;
	while (*p != '\0') {
		if (*p != '$') {
			piece = p;
			piece_len = strcspn(p, "$");
			p += piece_len;
		} else if (p[1] == '$') {
			piece = "$";
			piece_len = 1;
			p += 2;
		} else {
			if ((p = parse_ref(cfg, i, p, &name, &name_len, err, errlen)) == NULL)
				goto fail;
			ref = resolve_ref(cfg, i, name, name_len, depth, err, errlen);
			if (ref == NO_ENTRY)
				goto fail;
			piece = cfg->entries[ref].expanded;
			piece_len = strlen(piece);
		}
		if (piece_len > MF_CONFIG_VALUE_MAX - out.len) {
			entry_err(cfg, i, err, errlen, "expanded value of \"%s\" too long (max %d)",
				  e->key, MF_CONFIG_VALUE_MAX);
			goto fail;
		}
		if (strbuf_append(&out, piece, piece_len) < 0)
			goto nomem;
	}
	if (out.len > MF_CONFIG_EXPAND_TOTAL_MAX - cfg->expand_total) {
		entry_err(cfg, i, err, errlen, "expanded values too large in total (max %d bytes)",
			  MF_CONFIG_EXPAND_TOTAL_MAX);
		goto fail;
	}
	cfg->expand_total += out.len;
	e->expanded = out.data;
	e->state = EXPAND_DONE;
	return 0;

nomem:
	entry_err(cfg, i, err, errlen, "out of memory");
fail:
	free(out.data);
	return -1;
}

static int load(struct mf_config *cfg, const char *name, const char *text, size_t len,
		char *err, size_t errlen)
{
	size_t i;

	if ((cfg->name = strdup(name)) == NULL) {
		mf_err_set(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (parse_text(cfg, text, len, err, errlen) < 0)
		return -1;
	for (i = 0; i < cfg->count; i++) {
		if (cfg->entries[i].state == EXPAND_TODO &&
		    expand_entry(cfg, i, 1, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* A second load would mix two files' line numbers under one name. */
static int check_unloaded(struct mf_config *cfg, const char *name, char *err, size_t errlen)
{
	if (!cfg->loaded) {
		cfg->loaded = true;
		return 0;
	}
	mf_err_set(err, errlen, "%s: configuration object already loaded from %s", name,
		cfg->name != NULL ? cfg->name : "(unknown)");
	return -1;
}

int mf_config_load_string(struct mf_config *cfg, const char *name, const char *text,
			  char *err, size_t errlen)
{
	size_t len = strlen(text);
	int rc;

	if (check_unloaded(cfg, name, err, errlen) < 0)
		return -1;
	if (len > MF_CONFIG_FILE_MAX) {
		mf_err_set(err, errlen, "%s: configuration too large (max %d bytes)", name,
			MF_CONFIG_FILE_MAX);
		rc = -1;
	} else {
		rc = load(cfg, name, text, len, err, errlen);
	}
	cfg->failed = rc < 0;
	return rc;
}

int mf_config_load_file(struct mf_config *cfg, const char *path, char *err, size_t errlen)
{
	struct strbuf buf = { 0 };
	char chunk[8192];
	ssize_t n;
	int fd, rc = -1;

	if (check_unloaded(cfg, path, err, errlen) < 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		mf_err_set(err, errlen, "open %s: %s", path, strerror(errno));
		cfg->failed = true;
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			mf_err_set(err, errlen, "read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((size_t)n > MF_CONFIG_FILE_MAX - buf.len) {
			mf_err_set(err, errlen, "%s: file too large (max %d bytes)", path,
				MF_CONFIG_FILE_MAX);
			goto out;
		}
		if (strbuf_append(&buf, chunk, (size_t)n) < 0) {
			mf_err_set(err, errlen, "%s: out of memory", path);
			goto out;
		}
	}
	rc = load(cfg, path, buf.data != NULL ? buf.data : "", buf.len, err, errlen);
out:
	close(fd);
	free(buf.data);
	cfg->failed = rc < 0;
	return rc;
}

static const struct mf_config_entry *lookup(const struct mf_config *cfg, const char *key)
{
	size_t i;

	if (!cfg->loaded || cfg->failed || key == NULL)
		return NULL;
	if ((i = find_entry(cfg, key, strlen(key))) == NO_ENTRY)
		return NULL;
	return &cfg->entries[i];
}

const char *mf_config_get(const struct mf_config *cfg, const char *key)
{
	const struct mf_config_entry *e = lookup(cfg, key);

	return e != NULL ? e->expanded : NULL;
}

unsigned int mf_config_line(const struct mf_config *cfg, const char *key)
{
	const struct mf_config_entry *e = lookup(cfg, key);

	return e != NULL ? e->line : 0;
}

unsigned int mf_config_overridden_line(const struct mf_config *cfg, const char *key)
{
	const struct mf_config_entry *e = lookup(cfg, key);

	return e != NULL ? e->prev_line : 0;
}

size_t mf_config_count(const struct mf_config *cfg)
{
	return cfg->loaded && !cfg->failed ? cfg->order_count : 0;
}

const char *mf_config_key_at(const struct mf_config *cfg, size_t i)
{
	if (i >= mf_config_count(cfg))
		return NULL;
	return cfg->entries[cfg->order[i]].key;
}

int mf_config_error(const struct mf_config *cfg, const char *key, char *err, size_t errlen,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	entry_verr(cfg, lookup(cfg, key), err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
