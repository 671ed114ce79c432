/*
 * mf-config.h - "key = value" files in Postfix main.cf style.
 *
 * Contract: set defaults, then load one file (or string) per mf_config.
 * Lines starting with whitespace continue the previous one, '#' as the first
 * non-blank character starts a comment line, the last definition of a key
 * wins. "$name", "${name}" (other keys or defaults) and "$$" are expanded
 * once, at load time, so every value handed out is final. Errors are
 * Postfix-style text, "FILE, line N: message", written to the caller's
 * buffer with a -1 return; nothing here prints or keeps global state.
 * After a failed load the object only answers "not set" and must be freed.
 */
#ifndef MF_CONFIG_H
#define MF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define MF_CONFIG_LINE_MAX 4096		/* one physical line, without '\n' */
#define MF_CONFIG_VALUE_MAX 65536	/* a logical line; an expanded value */
#define MF_CONFIG_FILE_MAX (1024 * 1024)
#define MF_CONFIG_DEPTH_MAX 100		/* nested $references */

struct mf_config;

/* NULL when out of memory. */
struct mf_config *mf_config_new(void);
void mf_config_free(struct mf_config *cfg);

/* A value that mf_config_get() returns and references see when the file
 * does not set key; it may contain references itself. Call before loading.
 * -1 for a bad key name, out of memory, or after a load. */
int mf_config_set_default(struct mf_config *cfg, const char *key, const char *value);

/* Parses and expands; name is used in messages in place of a file name.
 * Only one load per mf_config. To use defaults alone, load "". */
int mf_config_load_file(struct mf_config *cfg, const char *path, char *err, size_t errlen);
int mf_config_load_string(struct mf_config *cfg, const char *name, const char *text,
			  char *err, size_t errlen);

/* The expanded value, or NULL when neither the file nor a default sets key. */
const char *mf_config_get(const struct mf_config *cfg, const char *key);
/* Line of the key's last definition in the file; 0 if the file lacks it. */
unsigned int mf_config_line(const struct mf_config *cfg, const char *key);
/* Line of the definition that the last one overrode, so that callers can
 * warn about duplicates; 0 when key is defined at most once. */
unsigned int mf_config_overridden_line(const struct mf_config *cfg, const char *key);

/* Keys set by the file (not defaults), in order of first appearance. */
size_t mf_config_count(const struct mf_config *cfg);
const char *mf_config_key_at(const struct mf_config *cfg, size_t i);

/* Writes "FILE, line N: <message>" for key into err ("FILE: default value of
 * "key": " when only a default sets it, "FILE: " when nothing does); returns
 * -1, for "return mf_config_error(...)". */
int mf_config_error(const struct mf_config *cfg, const char *key, char *err, size_t errlen,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Typed getters: *out = def when key is not set; 0, or -1 with an error
 * naming file and line. Booleans: yes/no, true/false, on/off, 1/0 in any
 * case. Numbers: decimal digits only, within [min, max]. */
int mf_config_get_bool(const struct mf_config *cfg, const char *key, bool def, bool *out,
		       char *err, size_t errlen);
int mf_config_get_uint(const struct mf_config *cfg, const char *key, unsigned long def,
		       unsigned long min, unsigned long max, unsigned long *out,
		       char *err, size_t errlen);

/* Splits a Postfix-style list (items separated by whitespace and/or commas)
 * into a NULL-terminated array; NULL value gives an empty list. NULL only
 * when out of memory. count_r may be NULL. Free with mf_config_free_list(). */
char **mf_config_split_list(const char *value, size_t *count_r);
void mf_config_free_list(char **list);

#endif
