/* mf-config-value.c - typed values and lists (see mf-config.h), built on
 * the public mf-config API only. */
#include "mailfruit-config.h"

#include "mf-config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* How much of a value an error message quotes. */
#define QUOTE_MAX 100
#define LIST_SEP " \t\r\n\v\f,"

static const char *quote_more(const char *value)
{
	return strlen(value) > QUOTE_MAX ? "..." : "";
}

/* ASCII case-insensitive equality, immune to the locale. */
static bool word_eq(const char *s, const char *lower)
{
	char c;

	for (; *s != '\0' && *lower != '\0'; s++, lower++) {
		c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
		if (c != *lower)
			return false;
	}
	return *s == *lower;
}

int mf_config_get_bool(const struct mf_config *cfg, const char *key, bool def, bool *out,
		       char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	const char *v = mf_config_get(cfg, key);
	size_t i;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (word_eq(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (word_eq(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return mf_config_error(cfg, key, err, errlen,
			       "bad boolean value \"%.*s%s\" for parameter \"%s\" (use yes or no)",
			       QUOTE_MAX, v, quote_more(v), key);
}

int mf_config_get_uint(const struct mf_config *cfg, const char *key, unsigned long def,
		       unsigned long min, unsigned long max, unsigned long *out,
		       char *err, size_t errlen)
{
	const char *v = mf_config_get(cfg, key);
	unsigned long val = 0;
	unsigned int digit;
	size_t i, len;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	len = strlen(v);
	/* strtoul() would accept "-1", " 1", "0x1" and "1 "; none is a number here. */
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			break;
		digit = (unsigned int)(v[i] - '0');
		if (val > (ULONG_MAX - digit) / 10)
			break;
		val = val * 10 + digit;
	}
	if (len == 0 || i < len) {
		return mf_config_error(cfg, key, err, errlen,
				       "bad numerical value \"%.*s%s\" for parameter \"%s\"",
				       QUOTE_MAX, v, quote_more(v), key);
	}
	if (val < min || val > max) {
		return mf_config_error(cfg, key, err, errlen,
				       "value %lu for parameter \"%s\" out of range (min %lu, max %lu)",
				       val, key, min, max);
	}
	*out = val;
	return 0;
}

char **mf_config_split_list(const char *value, size_t *count_r)
{
	const char *p;
	size_t count = 0, len, head, i;
	char **list;
	char *copy;

	if (value == NULL)
		value = "";
	for (p = value + strspn(value, LIST_SEP); *p != '\0'; p += strspn(p, LIST_SEP)) {
		p += strcspn(p, LIST_SEP);
		count++;
	}
	/* One block: the pointer array, then a copy of the text, so that
	 * mf_config_free_list() is a single free(). */
	len = strlen(value);
	if (count >= SIZE_MAX / sizeof(char *) - 1)
		return NULL;
	head = (count + 1) * sizeof(char *);
	if (len >= SIZE_MAX - head || (list = malloc(head + len + 1)) == NULL)
		return NULL;
	copy = (char *)list + head;
	memcpy(copy, value, len + 1);
	i = 0;
	for (copy += strspn(copy, LIST_SEP); *copy != '\0'; copy += strspn(copy, LIST_SEP)) {
		list[i++] = copy;
		copy += strcspn(copy, LIST_SEP);
		if (*copy != '\0')
			*copy++ = '\0';
	}
	list[i] = NULL;
	if (count_r != NULL)
		*count_r = count;
	return list;
}

void mf_config_free_list(char **list)
{
	free(list);
}
