/* json.c - a JSON writer: compact or pretty, into a descriptor or memory,
 * strings as lossy UTF-8, written whole or streamed in pieces. */
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "lib/sys.h"
#include "lib/utf8.h"

static void flush_buffer(struct json_writer *w)
{
	if (write_all(w->fd, w->buf, w->len) < 0)
		w->error = errno;
	w->len = 0;
}

/* Make room for extra more bytes plus the NUL, doubling so that appends
 * stay amortised O(1), but never beyond max_len + 1. */
static int reserve_mem(struct json_writer *w, size_t extra)
{
	size_t need = w->len + extra + 1, cap = w->cap ? w->cap : 64;
	char *grown;

	if (extra > w->max_len - w->len) {
		w->error = ENOBUFS;
		return -1;
	}
	if (need <= w->cap)
		return 0;
	while (cap < need && cap <= SIZE_MAX / 2)
		cap *= 2;
	if (cap < need || cap - 1 > w->max_len)
		cap = w->max_len + 1;
	grown = realloc(w->buf, cap);
	if (!grown) {
		w->error = ENOMEM;
		return -1;
	}
	w->buf = grown;
	w->cap = cap;
	return 0;
}

static void put_bytes(struct json_writer *w, const void *src, size_t n)
{
	const char *p = src;
	size_t room;

	if (w->error || n == 0)
		return;
	if (w->fd < 0) {
		if (reserve_mem(w, n) < 0)
			return;
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		w->buf[w->len] = '\0';
		return;
	}
	while (n > 0 && !w->error) {
		if (w->len == w->cap)
			flush_buffer(w);
		room = w->cap - w->len;
		room = room < n ? room : n;
		memcpy(w->buf + w->len, p, room);
		w->len += room;
		p += room;
		n -= room;
	}
}

static void put_char(struct json_writer *w, char c)
{
	put_bytes(w, &c, 1);
}

void jw_init_fd(struct json_writer *w, int fd, char *buf, size_t cap,
		int pretty)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->buf = buf;
	w->cap = cap;
	w->pretty = pretty;
	if (fd < 0)
		w->error = EBADF;
	else if (!buf || cap == 0)
		w->error = EINVAL;
}

void jw_init_mem(struct json_writer *w, size_t max_len, int pretty)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	/* max_len + 1 must not wrap: the NUL needs a byte too. */
	w->max_len = max_len < SIZE_MAX - 1 ? max_len : SIZE_MAX - 1;
	w->owns_buf = 1;
	w->pretty = pretty;
	if (reserve_mem(w, 0) == 0)
		w->buf[0] = '\0';
}

void jw_free(struct json_writer *w)
{
	if (!w->owns_buf)
		return;
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

int jw_flush(struct json_writer *w)
{
	if (!w->error && w->fd >= 0 && w->len > 0)
		flush_buffer(w);
	if (w->error) {
		errno = w->error;
		return -1;
	}
	return 0;
}

static uint64_t depth_bit(int depth)
{
	return (uint64_t)1 << (depth - 1);
}

static void put_newline_indent(struct json_writer *w)
{
	static const char spaces[] = "                                ";
	size_t left = 2 * (size_t)w->depth, n;

	put_char(w, '\n');
	while (left > 0) {
		n = left < sizeof(spaces) - 1 ? left : sizeof(spaces) - 1;
		put_bytes(w, spaces, n);
		left -= n;
	}
}

/* Everything that precedes a value or a key: the comma after a previous
 * item and, in pretty mode, the line break and indent. A value right after
 * its key needs none of it. 0, or -1 once the writer has failed. */
static int begin_item(struct json_writer *w)
{
	uint64_t bit;

	if (w->error)
		return -1;
	if (w->after_key) {
		w->after_key = 0;
		return 0;
	}
	if (w->depth > 0) {
		bit = depth_bit(w->depth);
		if (w->has_items & bit)
			put_char(w, ',');
		w->has_items |= bit;
		if (w->pretty)
			put_newline_indent(w);
	}
	return w->error ? -1 : 0;
}

static void open_container(struct json_writer *w, char bracket)
{
	if (begin_item(w) < 0)
		return;
	if (w->depth >= JSON_MAX_DEPTH) {
		w->error = EINVAL;
		return;
	}
	put_char(w, bracket);
	w->depth++;
}

static void close_container(struct json_writer *w, char bracket)
{
	uint64_t bit;

	if (w->error)
		return;
	if (w->depth == 0 || w->after_key) {
		w->error = EINVAL;
		return;
	}
	/* Clearing the bit here leaves it clear for the next container
	 * opened at this depth. */
	bit = depth_bit(w->depth);
	w->depth--;
	if (w->pretty && (w->has_items & bit))
		put_newline_indent(w);
	w->has_items &= ~bit;
	put_char(w, bracket);
}

void jw_object_begin(struct json_writer *w)
{
	open_container(w, '{');
}

void jw_object_end(struct json_writer *w)
{
	close_container(w, '}');
}

void jw_array_begin(struct json_writer *w)
{
	open_container(w, '[');
}

void jw_array_end(struct json_writer *w)
{
	close_container(w, ']');
}

/* The short escapes where JSON has them, \u00xx (lowercase, as serde_json
 * writes it) for the other control characters. */
static void put_escape(struct json_writer *w, unsigned char c)
{
	static const char bytes[] = "\"\\\b\f\n\r\t", names[] = "\"\\bfnrt";
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
	const char *hit = memchr(bytes, c, sizeof(bytes) - 1);

	if (!hit) {
		put_bytes(w, esc, sizeof(esc));
		return;
	}
	esc[1] = names[hit - bytes];
	put_bytes(w, esc, 2);
}

/* Write s[0..n) escaped and lossily decoded, without quotes; returns the
 * decoded UTF-8 byte count. Runs of bytes that go out unchanged (printable
 * ASCII and valid multi-byte characters) are copied in one piece. With
 * final == 0 an incomplete sequence at the end is left: *consumed says how
 * far we got. */
static size_t put_escaped(struct json_writer *w, const unsigned char *s,
			  size_t n, int final, size_t *consumed)
{
	size_t pos = 0, start = 0, decoded = 0;
	unsigned char c;
	int seq;

	while (pos < n) {
		c = s[pos];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			pos++;
			continue;
		}
		seq = c < 0x80 ? -1 : utf8_sequence(s + pos, n - pos);
		if (seq > 0) {
			pos += (size_t)seq;
			continue;
		}
		put_bytes(w, s + start, pos - start);
		decoded += pos - start;
		start = pos;
		if (seq == 0 && !final)
			break;
		if (c < 0x80) {
			put_escape(w, c);
			decoded++;
			pos++;
		} else {
			put_bytes(w, UTF8_REPLACEMENT, 3);
			decoded += 3;
			pos += seq < 0 ? (size_t)-seq : n - pos;
		}
		start = pos;
	}
	put_bytes(w, s + start, pos - start);
	decoded += pos - start;
	if (consumed)
		*consumed = pos;
	return decoded;
}

static void put_string(struct json_writer *w, const char *s, size_t n)
{
	put_char(w, '"');
	put_escaped(w, (const unsigned char *)s, n, 1, NULL);
	put_char(w, '"');
}

static void put_key(struct json_writer *w, const char *key, size_t n)
{
	if (begin_item(w) < 0)
		return;
	put_string(w, key, n);
	if (w->pretty)
		put_bytes(w, ": ", 2);
	else
		put_char(w, ':');
	w->after_key = 1;
}

void jw_key(struct json_writer *w, const char *key)
{
	put_key(w, key, strlen(key));
}

void jw_string(struct json_writer *w, const char *s)
{
	if (s)
		jw_string_n(w, s, strlen(s));
	else
		jw_null(w);
}

void jw_string_n(struct json_writer *w, const char *s, size_t n)
{
	if (begin_item(w) == 0)
		put_string(w, s, n);
}

void jw_string_begin(struct json_writer *w, struct jw_stream *st)
{
	memset(st, 0, sizeof(*st));
	if (begin_item(w) == 0)
		put_char(w, '"');
}

/* Complete the sequence held back from the previous chunk with the first
 * bytes of this one; returns how many bytes of s that used. */
static size_t finish_pending(struct json_writer *w, struct jw_stream *st,
			     const char *s, size_t n)
{
	unsigned char joined[4];
	size_t take = 4 - st->npending, used;

	take = take < n ? take : n;
	memcpy(joined, st->pending, st->npending);
	memcpy(joined + st->npending, s, take);
	st->out_bytes += put_escaped(w, joined, st->npending + take, 0, &used);
	/* A held-back prefix is valid so far, so it is either still
	 * incomplete (used == 0) or resolved as a whole (used >= npending). */
	if (used == 0) {
		memcpy(st->pending, joined, st->npending + take);
		st->npending += take;
		return take;
	}
	used -= st->npending;
	st->npending = 0;
	return used;
}

void jw_string_chunk(struct json_writer *w, struct jw_stream *st,
		     const char *s, size_t n)
{
	size_t skip = 0, used;

	if (w->error)
		return;
	if (st->npending > 0)
		skip = finish_pending(w, st, s, n);
	if (st->npending > 0 || skip == n)
		return;
	st->out_bytes += put_escaped(w, (const unsigned char *)s + skip,
				     n - skip, 0, &used);
	/* What is left is an incomplete sequence: at most 3 bytes. */
	st->npending = n - skip - used;
	memcpy(st->pending, s + skip + used, st->npending);
}

void jw_string_end(struct json_writer *w, struct jw_stream *st)
{
	if (w->error)
		return;
	st->out_bytes += put_escaped(w, (const unsigned char *)st->pending,
				     st->npending, 1, NULL);
	st->npending = 0;
	put_char(w, '"');
}

size_t jw_string_end_partial(struct json_writer *w, struct jw_stream *st)
{
	size_t held = st->npending;

	st->npending = 0;
	if (!w->error)
		put_char(w, '"');
	return held;
}

static void put_decimal(struct json_writer *w, int negative,
			uint64_t magnitude)
{
	char digits[21];
	size_t pos = sizeof(digits);

	do {
		digits[--pos] = (char)('0' + magnitude % 10);
		magnitude /= 10;
	} while (magnitude > 0);
	if (negative)
		digits[--pos] = '-';
	put_bytes(w, digits + pos, sizeof(digits) - pos);
}

void jw_u64(struct json_writer *w, uint64_t v)
{
	if (begin_item(w) == 0)
		put_decimal(w, 0, v);
}

void jw_i64(struct json_writer *w, int64_t v)
{
	/* Negate in unsigned arithmetic so that INT64_MIN does not overflow. */
	if (begin_item(w) == 0)
		put_decimal(w, v < 0, v < 0 ? -(uint64_t)v : (uint64_t)v);
}

void jw_bool(struct json_writer *w, int v)
{
	if (begin_item(w) == 0)
		put_bytes(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct json_writer *w)
{
	if (begin_item(w) == 0)
		put_bytes(w, "null", 4);
}

void jw_raw(struct json_writer *w, const char *json, size_t n)
{
	if (begin_item(w) == 0)
		put_bytes(w, json, n);
}

void jw_kv_str(struct json_writer *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_string(w, s);
}

void jw_kv_u64(struct json_writer *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_u64(w, v);
}

void jw_kv_i64(struct json_writer *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_i64(w, v);
}

void jw_kv_bool(struct json_writer *w, const char *key, int v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

void jw_kv_object_begin(struct json_writer *w, const char *key)
{
	jw_key(w, key);
	jw_object_begin(w);
}

void jw_kv_array_begin(struct json_writer *w, const char *key)
{
	jw_key(w, key);
	jw_array_begin(w);
}

void jw_kv_strings(struct json_writer *w, const char *key,
		   char *const *strings, size_t n)
{
	jw_kv_array_begin(w, key);
	for (size_t i = 0; i < n; i++)
		jw_string(w, strings[i]);
	jw_array_end(w);
}

void jw_value(struct json_writer *w, const struct json_value *v)
{
	const struct json_value *child;

	if (!v) {		/* a member the record lacks */
		jw_null(w);
		return;
	}
	switch (v->type) {
	case JSON_NULL: jw_null(w); break;
	case JSON_BOOL: jw_bool(w, v->u.boolean); break;
	case JSON_NUMBER: jw_raw(w, v->u.number.text, v->u.number.len); break;
	case JSON_STRING: jw_string_n(w, v->u.string.ptr, v->u.string.len);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		open_container(w, v->type == JSON_ARRAY ? '[' : '{');
		for (child = v->u.children.first; child; child = child->next) {
			if (v->type == JSON_OBJECT)
				put_key(w, child->key, child->key_len);
			jw_value(w, child);
		}
		close_container(w, v->type == JSON_ARRAY ? ']' : '}');
		break;
	}
}
