/* trees-crypt.c - mail_crypt keys and CRYPTED streams (trees-crypt.h). */
#include "lib.h"
#include "array.h"
#include "base64.h"
#include "buffer.h"
#include "hex-binary.h"
#include "str.h"
#include "istream.h"
#include "istream-seekable.h"
#include "istream-decrypt.h"
#include "dcrypt.h"
#include "dcrypt-iostream.h"
#include "mail-user.h"

#include "trees-crypt.h"
#include "trees-settings.h"

struct trees_crypt_key {
	struct dcrypt_private_key *key;
	const char *id, *old_id; /* hex key digests, as CRYPTED headers name them */
};

struct trees_crypt_keys {
	pool_t pool;
	ARRAY(struct trees_crypt_key) keys;
};

bool trees_crypt_is_crypted(const unsigned char *data, size_t size)
{
	return size >= sizeof(IOSTREAM_CRYPT_MAGIC) &&
	       memcmp(data, IOSTREAM_CRYPT_MAGIC, sizeof(IOSTREAM_CRYPT_MAGIC)) == 0;
}

/* mail_crypt accepts PEM or base64-encoded PEM. */
static const char *trees_crypt_key_data(const char *value)
{
	buffer_t *buf;

	if (strncmp(value, "-----BEGIN", 10) == 0)
		return value;
	buf = t_base64_decode_str(value);
	if (buf->used == 0)
		return value; /* let dcrypt say what is wrong with it */
	return str_c(buf);
}

static int trees_crypt_key_add(struct trees_crypt_keys *keys, const char *name,
			       const char *value, const char *password, const char **error_r)
{
	struct trees_crypt_key *k;
	struct dcrypt_private_key *key;
	buffer_t *id = t_buffer_create(64);
	const char *error;

	if (!dcrypt_key_load_private(&key, trees_crypt_key_data(value), password, NULL, &error)) {
		*error_r = t_strdup_printf("%s: cannot load: %s", name, error);
		return -1;
	}
	k = array_append_space(&keys->keys);
	k->key = key;
	if (dcrypt_key_id_private(key, "sha256", id, &error))
		k->id = p_strdup(keys->pool, binary_to_hex(id->data, id->used));
	buffer_set_used_size(id, 0);
	if (dcrypt_key_id_private_old(key, id, &error))
		k->old_id = p_strdup(keys->pool, binary_to_hex(id->data, id->used));
	if (k->id == NULL && k->old_id == NULL) {
		*error_r = t_strdup_printf("%s: cannot compute the key id: %s", name, error);
		return -1;
	}
	return 0;
}

static int trees_crypt_key_found(void *context, const char *name, const char *value,
				 const char *password, const char **error_r)
{
	struct trees_crypt_keys **keysp = context;
	const char *error;

	if (*keysp == NULL) {
		if (!dcrypt_initialize("openssl", NULL, &error)) {
			*error_r = t_strdup_printf("dcrypt_initialize: %s", error);
			return -1;
		}
		pool_t pool = pool_alloconly_create("trees crypt keys", 1024);
		*keysp = p_new(pool, struct trees_crypt_keys, 1);
		(*keysp)->pool = pool;
		p_array_init(&(*keysp)->keys, pool, 4);
	}
	return trees_crypt_key_add(*keysp, name, value, password, error_r);
}

int trees_crypt_keys_load(struct mail_user *user, struct trees_crypt_keys **keys_r,
			  const char **error_r)
{
	struct trees_crypt_keys *keys = NULL;

	*keys_r = NULL;
	if (trees_crypt_settings_keys(user, trees_crypt_key_found, &keys, error_r) < 0) {
		trees_crypt_keys_free(&keys);
		return -1;
	}
	*keys_r = keys;
	return 0;
}

void trees_crypt_keys_free(struct trees_crypt_keys **keysp)
{
	struct trees_crypt_keys *keys = *keysp;
	struct trees_crypt_key *k;

	if (keys == NULL)
		return;
	*keysp = NULL;
	array_foreach_modifiable(&keys->keys, k)
		dcrypt_key_unref_private(&k->key);
	pool_unref(&keys->pool);
}

static int trees_crypt_get_key(const char *pubkey_digest, struct dcrypt_private_key **priv_key_r,
			       const char **error_r, void *context)
{
	struct trees_crypt_keys *keys = context;
	const struct trees_crypt_key *k;

	array_foreach(&keys->keys, k) {
		if ((k->id != NULL && strcasecmp(k->id, pubkey_digest) == 0) ||
		    (k->old_id != NULL && strcasecmp(k->old_id, pubkey_digest) == 0)) {
			/* The stream unrefs the key it is given. */
			dcrypt_key_ref_private(k->key);
			*priv_key_r = k->key;
			return 1;
		}
	}
	*error_r = t_strdup_printf("no mail_crypt private key with id %s", pubkey_digest);
	return 0;
}

struct istream *trees_crypt_istream_create(struct istream *input, struct trees_crypt_keys *keys,
					   struct mail_user *user)
{
	struct istream *inputs[2];
	string_t *temp_prefix = t_str_new(128);
	struct istream *output;

	inputs[0] = i_stream_create_decrypt_callback(input, trees_crypt_get_key, keys);
	inputs[1] = NULL;
	mail_user_set_get_temp_prefix(temp_prefix, user->set);
	output = i_stream_create_seekable_path(inputs, i_stream_get_max_buffer_size(inputs[0]),
					       str_c(temp_prefix));
	i_stream_unref(&inputs[0]);
	return output;
}
