/* trees-ostream.c - encrypting ostream for TREES v1/v2 (trees-ostream.h). */
#include "lib.h"
#include "buffer.h"
#include "ostream-private.h"

#include "trees-codec.h"
#include "trees-ostream.h"

struct trees_ostream {
	struct ostream_private ostream;
	struct trees_encoder *enc;
	struct trees_ostream_tee *tee;
	bool final_written:1; /* the final chunk is out of the encoder */
};

static int trees_ostream_encoder_error(struct trees_ostream *tstream)
{
	io_stream_set_error(&tstream->ostream.iostream, "[trees] %s",
			    trees_encoder_error(tstream->enc));
	tstream->ostream.ostream.stream_errno = EIO;
	return -1;
}

/* Hand the encoder's pending output to the parent: 1 all of it, 0 the
   parent is full, -1 error. */
static int trees_ostream_send_pending(struct trees_ostream *tstream)
{
	const unsigned char *out;
	size_t len;
	ssize_t ret;

	out = trees_encoder_output(tstream->enc, &len);
	while (len > 0) {
		ret = o_stream_send(tstream->ostream.parent, out, len);
		if (ret < 0) {
			o_stream_copy_error_from_parent(&tstream->ostream);
			return -1;
		}
		trees_encoder_consume(tstream->enc, (size_t)ret);
		if ((size_t)ret < len)
			return 0;
		out = trees_encoder_output(tstream->enc, &len);
	}
	return 1;
}

static void trees_ostream_tee(struct trees_ostream_tee *tee, const unsigned char *data,
			     size_t size)
{
	size_t room;

	if (tee == NULL || tee->truncated)
		return;
	room = tee->limit - tee->buf->used;
	if (size > room) {
		size = room;
		tee->truncated = TRUE;
	}
	buffer_append(tee->buf, data, size);
}

static ssize_t trees_ostream_sendv(struct ostream_private *stream, const struct const_iovec *iov,
				   unsigned int iov_count)
{
	struct trees_ostream *tstream = (struct trees_ostream *)stream;
	const unsigned char *data;
	size_t pos, used, total = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < iov_count; i++) {
		data = iov[i].iov_base;
		for (pos = 0; pos < iov[i].iov_len; pos += used) {
			if ((ret = trees_ostream_send_pending(tstream)) < 0)
				return -1;
			if (ret == 0)
				goto out;
			if (trees_encoder_feed(tstream->enc, data + pos, iov[i].iov_len - pos,
					       &used) < 0)
				return trees_ostream_encoder_error(tstream);
			trees_ostream_tee(tstream->tee, data + pos, used);
			total += used;
		}
	}
	if (trees_ostream_send_pending(tstream) < 0)
		return -1;
out:
	/* Plaintext bytes: maildir names the file S=<offset>. */
	stream->ostream.offset += total;
	return (ssize_t)total;
}

static int trees_ostream_flush(struct ostream_private *stream)
{
	struct trees_ostream *tstream = (struct trees_ostream *)stream;
	int ret;

	for (;;) {
		if ((ret = trees_ostream_send_pending(tstream)) <= 0)
			return ret;
		if (!stream->finished || tstream->final_written)
			break;
		ret = trees_encoder_finish(tstream->enc);
		if (ret < 0)
			return trees_ostream_encoder_error(tstream);
		if (ret > 0)
			tstream->final_written = TRUE;
	}
	return o_stream_flush_parent(stream);
}

static size_t trees_ostream_get_buffer_used_size(const struct ostream_private *stream)
{
	struct trees_ostream *tstream = (struct trees_ostream *)stream;
	size_t pending;

	(void)trees_encoder_output(tstream->enc, &pending);
	return pending + o_stream_get_buffer_used_size(stream->parent);
}

static void trees_ostream_destroy(struct iostream_private *stream)
{
	struct trees_ostream *tstream = (struct trees_ostream *)stream;

	trees_encoder_free(&tstream->enc);
	o_stream_unref(&tstream->ostream.parent);
}

struct ostream *trees_ostream_create(struct ostream *output, unsigned int version,
				     const unsigned char *public_key,
				     struct trees_ostream_tee *tee, const char **error_r)
{
	struct trees_ostream *tstream;
	struct trees_encoder *enc;

	if (version != 1 && version != 2) {
		*error_r = t_strdup_printf("unsupported trees_version %u", version);
		return NULL;
	}
	enc = trees_encoder_new(version, public_key);
	if (enc == NULL) {
		*error_r = "cannot start the encryption (out of locked memory?)";
		return NULL;
	}
	tstream = i_new(struct trees_ostream, 1);
	tstream->enc = enc;
	tstream->tee = tee;
	tstream->ostream.iostream.destroy = trees_ostream_destroy;
	tstream->ostream.sendv = trees_ostream_sendv;
	tstream->ostream.flush = trees_ostream_flush;
	tstream->ostream.get_buffer_used_size = trees_ostream_get_buffer_used_size;
	tstream->ostream.max_buffer_size = output->real_stream->max_buffer_size;
	return o_stream_create(&tstream->ostream, output, o_stream_get_fd(output));
}
