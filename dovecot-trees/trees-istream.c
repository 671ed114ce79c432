/* trees-istream.c - decrypting istream for TREES v1/v2 (trees-istream.h). */
#include "lib.h"
#include "safe-memset.h"
#include "istream-private.h"

#include "trees-codec.h"
#include "trees-istream.h"

struct trees_istream {
	struct istream_private istream;

	struct trees_decoder *dec; /* NULL once the plaintext is held */
	enum trees_format format;
	size_t buffer_max;
	char *log_context;
	trees_istream_verified_callback_t *verified_callback;
	void *context;

	/* The authenticated plaintext, when the message is small enough to
	   keep from the verification pass (then reads copy from here and
	   nothing is decrypted twice). plain_offset is the offset of the
	   first byte not yet handed to the stream's buffer. */
	unsigned char *plain;
	size_t plain_size, plain_used, plain_offset;

	bool verified:1;
	bool debug:1;
	bool buffered:1; /* reads are served from plain */
	bool finished:1; /* the decoder saw the end and authenticated it */
	bool failed:1;
};

static ssize_t trees_istream_fail(struct trees_istream *tstream, const char *error)
{
	struct istream_private *stream = &tstream->istream;

	if (!tstream->failed) {
		/* Logged here once, with the mail it belongs to; Dovecot's
		   own "read() failed" lines carry the same text. */
		i_error("[trees] %s: %s", tstream->log_context, error);
		tstream->failed = TRUE;
	}
	io_stream_set_error(&stream->iostream, "[trees] %s: %s", tstream->log_context, error);
	stream->istream.stream_errno = EINVAL;
	return -1;
}

static ssize_t trees_istream_parent_error(struct trees_istream *tstream)
{
	struct istream_private *stream = &tstream->istream;

	io_stream_set_error(&stream->iostream, "%s", i_stream_get_error(stream->parent));
	stream->istream.stream_errno = stream->parent->stream_errno;
	return -1;
}

/* Both formats have fixed chunk sizes, so the plaintext size follows from
   the stored size (docs/trees-v2-format.md): no decryption. 1 when known,
   0 when the stored size is one no well-formed file has, -1 on error. */
static int trees_istream_plain_size(struct trees_istream *tstream, bool exact, uoff_t *size_r)
{
	struct istream_private *stream = &tstream->istream;
	const struct stat *st;
	uint64_t plain;

	if (i_stream_stat(stream->parent, exact, &st) < 0) {
		trees_istream_parent_error(tstream);
		return -1;
	}
	if (st->st_size < 0 || (uoff_t)st->st_size < stream->parent_start_offset ||
	    trees_plain_size(tstream->format, (uint64_t)st->st_size - stream->parent_start_offset,
			     &plain) < 0)
		return 0;
	*size_r = plain;
	return 1;
}

static void trees_istream_drop_plain(struct trees_istream *tstream)
{
	if (tstream->plain == NULL)
		return;
	safe_memset(tstream->plain, 0, tstream->plain_used); /* mail text */
	i_free(tstream->plain);
	tstream->plain_size = tstream->plain_used = 0;
}

/* Start keeping the plaintext of the verification pass when the message
   is at most buffer_max bytes; its size follows from the stored size. A
   stat failure here only means two passes: reading will report it. */
static void trees_istream_plain_init(struct trees_istream *tstream)
{
	struct istream_private *stream = &tstream->istream;
	const struct stat *st;
	uint64_t size;

	if (tstream->buffer_max == 0 || i_stream_stat(stream->parent, TRUE, &st) < 0 ||
	    st->st_size < 0 || (uoff_t)st->st_size < stream->parent_start_offset ||
	    trees_plain_size(tstream->format, (uint64_t)st->st_size - stream->parent_start_offset,
			     &size) < 0 ||
	    size > tstream->buffer_max)
		return;
	/* +1: a 0-byte message still gets a buffer, so it counts as held. */
	tstream->plain = i_malloc(size + 1);
	tstream->plain_size = size;
	tstream->plain_used = 0;
}

/* Keep the decoder's pending output, or stop keeping when it does not fit
   the expected size (a file whose size lies: it will not authenticate). */
static void trees_istream_plain_take(struct trees_istream *tstream)
{
	const unsigned char *out;
	size_t olen;

	out = trees_decoder_output(tstream->dec, &olen);
	if (tstream->plain != NULL) {
		if (olen > tstream->plain_size - tstream->plain_used)
			trees_istream_drop_plain(tstream);
		else {
			memcpy(tstream->plain + tstream->plain_used, out, olen);
			tstream->plain_used += olen;
		}
	}
	trees_decoder_consume(tstream->dec, olen);
}

/* Authenticate the whole message without releasing anything. A message of
   at most buffer_max bytes keeps its plaintext and is read from it; a
   larger one rewinds for a second, reading pass. Memory is bounded by
   buffer_max plus the decoder's one chunk. */
static int trees_istream_verify_pass(struct trees_istream *tstream)
{
	struct istream_private *stream = &tstream->istream;
	const unsigned char *data;
	size_t size, used;
	int ret;

	trees_istream_plain_init(tstream);
	i_stream_seek(stream->parent, stream->parent_start_offset);
	for (;;) {
		trees_istream_plain_take(tstream);
		ret = i_stream_read_more(stream->parent, &data, &size);
		if (ret > 0) {
			if (trees_decoder_feed(tstream->dec, data, size, &used) < 0)
				return trees_istream_fail(tstream, trees_decoder_error(tstream->dec));
			i_stream_skip(stream->parent, used);
			continue;
		}
		if (ret == 0) {
			/* Mail files are read blocking; a non-blocking parent
			   would need the pass to be resumable. */
			return trees_istream_fail(tstream, "non-blocking input is not supported");
		}
		if (stream->parent->stream_errno != 0)
			return trees_istream_parent_error(tstream);
		while ((ret = trees_decoder_finish(tstream->dec)) == 0)
			trees_istream_plain_take(tstream);
		if (ret < 0)
			return trees_istream_fail(tstream, trees_decoder_error(tstream->dec));
		trees_istream_plain_take(tstream);
		return 0;
	}
}

static int trees_istream_verify(struct trees_istream *tstream)
{
	struct istream_private *stream = &tstream->istream;

	if (trees_istream_verify_pass(tstream) < 0) {
		trees_istream_drop_plain(tstream);
		return -1;
	}
	if (tstream->plain != NULL && tstream->plain_used == tstream->plain_size) {
		/* Everything is in memory: the decoder (and its locked
		   stream state) is done. */
		tstream->buffered = TRUE;
		tstream->plain_offset = stream->istream.v_offset + (stream->pos - stream->skip);
		trees_decoder_free(&tstream->dec);
		if (tstream->debug) {
			i_debug("[trees] %s: authenticated, %zu bytes read from memory",
				tstream->log_context, tstream->plain_size);
		}
	} else {
		trees_istream_drop_plain(tstream);
		trees_decoder_reset(tstream->dec);
		i_stream_seek(stream->parent, stream->parent_start_offset);
		stream->parent_expected_offset = stream->parent_start_offset;
		if (tstream->debug) {
			i_debug("[trees] %s: authenticated, not kept in memory "
				"(trees_read_buffer_max = %zu bytes): decrypted again for reading",
				tstream->log_context, tstream->buffer_max);
		}
	}
	tstream->verified = TRUE;
	if (tstream->verified_callback != NULL)
		tstream->verified_callback(tstream->context);
	return 0;
}

int trees_istream_check(struct istream *input)
{
	struct trees_istream *tstream = (struct trees_istream *)input->real_stream;

	if (tstream->failed)
		return -1;
	return tstream->verified ? 0 : trees_istream_verify(tstream);
}

/* Copy the next part of the held plaintext into the stream's buffer. */
static ssize_t trees_istream_read_plain(struct trees_istream *tstream)
{
	struct istream_private *stream = &tstream->istream;
	size_t size, avail;

	if (tstream->plain_offset >= tstream->plain_size) {
		stream->istream.eof = TRUE;
		return -1;
	}
	size = tstream->plain_size - tstream->plain_offset;
	if (!i_stream_try_alloc(stream, size, &avail))
		return -2;
	size = I_MIN(size, avail);
	memcpy(stream->w_buffer + stream->pos, tstream->plain + tstream->plain_offset, size);
	stream->pos += size;
	tstream->plain_offset += size;
	return (ssize_t)size;
}

static ssize_t trees_istream_read(struct istream_private *stream)
{
	struct trees_istream *tstream = (struct trees_istream *)stream;
	const unsigned char *data, *out;
	size_t size, used, olen, avail;
	ssize_t ret;
	int fret;

	if (tstream->failed) {
		stream->istream.stream_errno = EINVAL;
		return -1;
	}
	if (!tstream->verified && trees_istream_verify(tstream) < 0)
		return -1;
	if (tstream->buffered)
		return trees_istream_read_plain(tstream);
	/* The parent may have been moved (verification pass, restart after a
	   backward seek, another reader of the same file stream). */
	if (stream->parent->v_offset != stream->parent_expected_offset)
		i_stream_seek(stream->parent, stream->parent_expected_offset);
	for (;;) {
		out = trees_decoder_output(tstream->dec, &olen);
		if (olen > 0) {
			if (!i_stream_try_alloc(stream, olen, &avail))
				return -2;
			size = I_MIN(olen, avail);
			memcpy(stream->w_buffer + stream->pos, out, size);
			trees_decoder_consume(tstream->dec, size);
			stream->pos += size;
			return (ssize_t)size;
		}
		if (tstream->finished) {
			stream->istream.eof = TRUE;
			return -1;
		}
		ret = i_stream_read_memarea(stream->parent);
		data = i_stream_get_data(stream->parent, &size);
		if (size > 0) {
			if (trees_decoder_feed(tstream->dec, data, size, &used) < 0)
				return trees_istream_fail(tstream, trees_decoder_error(tstream->dec));
			i_stream_skip(stream->parent, used);
			stream->parent_expected_offset = stream->parent->v_offset;
			continue;
		}
		if (ret == 0)
			return 0;
		if (ret == -2)
			i_unreached(); /* we always drain the parent */
		if (stream->parent->stream_errno != 0)
			return trees_istream_parent_error(tstream);
		fret = trees_decoder_finish(tstream->dec);
		if (fret < 0)
			return trees_istream_fail(tstream, trees_decoder_error(tstream->dec));
		if (fret > 0)
			tstream->finished = TRUE;
	}
}

static void trees_istream_restart(struct trees_istream *tstream)
{
	struct istream_private *stream = &tstream->istream;

	trees_decoder_reset(tstream->dec);
	tstream->finished = FALSE;
	stream->skip = stream->pos = stream->high_pos = 0;
	stream->istream.v_offset = 0;
	stream->istream.eof = FALSE;
	/* Seek the parent itself: after our seek() returns, istream.c sets
	   parent_expected_offset from the parent's offset. */
	i_stream_seek(stream->parent, stream->parent_start_offset);
	stream->parent_expected_offset = stream->parent_start_offset;
}

static void trees_istream_seek(struct istream_private *stream, uoff_t v_offset, bool mark)
{
	struct trees_istream *tstream = (struct trees_istream *)stream;
	uoff_t buffer_start = stream->istream.v_offset - stream->skip;

	if (v_offset >= buffer_start && v_offset - buffer_start <= stream->pos) {
		/* Still in the buffer: no decryption needed. */
		stream->skip = v_offset - buffer_start;
		stream->istream.v_offset = v_offset;
		return;
	}
	if (tstream->buffered) {
		/* Anywhere in the held plaintext, at no cost. */
		stream->skip = stream->pos = stream->high_pos = 0;
		stream->istream.v_offset = v_offset;
		tstream->plain_offset = v_offset < tstream->plain_size ? v_offset : tstream->plain_size;
		return;
	}
	if (v_offset < stream->istream.v_offset)
		trees_istream_restart(tstream);
	i_stream_default_seek_nonseekable(stream, v_offset, mark);
}

static int trees_istream_stat(struct istream_private *stream, bool exact)
{
	struct trees_istream *tstream = (struct trees_istream *)stream;
	uoff_t size;
	int ret;

	if ((ret = trees_istream_plain_size(tstream, exact, &size)) < 0)
		return -1;
	stream->statbuf = stream->parent->real_stream->statbuf;
	/* A size no well-formed file has: reading will report the damage. */
	stream->statbuf.st_size = ret > 0 ? (off_t)size : -1;
	return 0;
}

static int trees_istream_get_size(struct istream_private *stream, bool exact, uoff_t *size_r)
{
	return trees_istream_plain_size((struct trees_istream *)stream, exact, size_r);
}

static void trees_istream_destroy(struct iostream_private *stream)
{
	struct trees_istream *tstream = (struct trees_istream *)stream;

	trees_decoder_free(&tstream->dec);
	trees_istream_drop_plain(tstream);
	i_free(tstream->log_context);
	/* What the default destroy would do, which this one replaces. */
	i_stream_free_buffer(&tstream->istream);
	i_stream_unref(&tstream->istream.parent);
}

struct istream *trees_istream_create(struct istream *input, enum trees_format format,
				     const struct trees_istream_settings *set)
{
	struct trees_istream *tstream;

	tstream = i_new(struct trees_istream, 1);
	tstream->dec = trees_decoder_new(set->keys);
	if (tstream->dec == NULL)
		i_fatal_status(FATAL_OUTOFMEM, "[trees] out of (locked) memory");
	tstream->format = format;
	tstream->buffer_max = set->buffer_max;
	tstream->log_context = i_strdup(set->log_context);
	tstream->verified = set->verified;
	tstream->debug = set->debug;
	tstream->verified_callback = set->verified_callback;
	tstream->context = set->context;

	tstream->istream.iostream.destroy = trees_istream_destroy;
	tstream->istream.read = trees_istream_read;
	tstream->istream.seek = trees_istream_seek;
	tstream->istream.stat = trees_istream_stat;
	tstream->istream.get_size = trees_istream_get_size;
	tstream->istream.max_buffer_size = input->real_stream->max_buffer_size;

	tstream->istream.istream.readable_fd = FALSE;
	tstream->istream.istream.blocking = input->blocking;
	tstream->istream.istream.seekable = input->seekable;
	return i_stream_create(&tstream->istream, input, i_stream_get_fd(input), 0);
}
