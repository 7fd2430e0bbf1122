/* json.c - JSON writer (compact or pretty, lossy UTF-8, fd or memory) and a
 * strict recursive-descent parser whose documents live in one arena. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "sys.h"

#define REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */

/* ---- UTF-8 ------------------------------------------------------------ */

/* Classify the sequence at s[0]: its length if valid, -k if its first k
 * bytes are a maximal invalid subpart, 0 if it is a valid prefix cut short
 * by the end of s. The second-byte ranges exclude overlongs, surrogates and
 * code points beyond U+10FFFF, which is what makes the subparts maximal. */
static int utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char lo, hi;
	int width, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return -1;
	width = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	lo = s[0] == 0xe0 ? 0xa0 : s[0] == 0xf0 ? 0x90 : 0x80;
	hi = s[0] == 0xed ? 0x9f : s[0] == 0xf4 ? 0x8f : 0xbf;
	for (i = 1; i < width; i++) {
		if ((size_t)i >= n)
			return 0;
		if (s[i] < lo || s[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return width;
}

size_t utf8_lossy(const char *s, size_t n, char *out, int final,
		  size_t *consumed)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t pos = 0, written = 0, start;
	int seq;

	while (pos < n) {
		start = pos;
		/* ASCII eight bytes at a time: logs are mostly ASCII */
		for (uint64_t word; n - pos >= 8; pos += 8) {
			memcpy(&word, in + pos, 8);
			if (word & 0x8080808080808080ULL)
				break;
		}
		while (pos < n && in[pos] < 0x80)
			pos++;
		memcpy(out + written, in + start, pos - start);
		written += pos - start;
		if (pos == n)
			break;
		seq = utf8_sequence(in + pos, n - pos);
		if (seq == 0 && !final)
			break;
		if (seq > 0) {
			memcpy(out + written, in + pos, (size_t)seq);
			written += (size_t)seq;
			pos += (size_t)seq;
			continue;
		}
		memcpy(out + written, REPLACEMENT, 3);
		written += 3;
		pos += seq < 0 ? (size_t)-seq : n - pos;
	}
	if (consumed)
		*consumed = pos;
	return written;
}

/* ---- Writer: output --------------------------------------------------- */

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

/* ---- Writer: structure ------------------------------------------------ */

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

/* ---- Writer: strings -------------------------------------------------- */

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
			put_bytes(w, REPLACEMENT, 3);
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

/* ---- Writer: scalars -------------------------------------------------- */

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

void jw_kv_strings(struct json_writer *w, const char *key,
		   char *const *strings, size_t n)
{
	jw_key(w, key);
	jw_array_begin(w);
	for (size_t i = 0; i < n; i++)
		jw_string(w, strings[i]);
	jw_array_end(w);
}

void jw_value(struct json_writer *w, const struct json_value *v)
{
	const struct json_value *child;

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

/* ---- Parser: arena ---------------------------------------------------- */

/* Blocks double in size (up to ARENA_BLOCK_MAX) so that a document costs a
 * handful of mallocs and at most about twice its own size. */
struct arena_block {
	struct arena_block *next;
	size_t used, cap;
};

#define ARENA_ALIGN _Alignof(max_align_t)
#define ARENA_HEADER ((sizeof(struct arena_block) + ARENA_ALIGN - 1) & \
		      ~(ARENA_ALIGN - 1))
#define ARENA_BLOCK_MIN 4096
#define ARENA_BLOCK_MAX (1u << 20)

static void *arena_alloc(struct arena_block **head, size_t size)
{
	struct arena_block *block = *head;
	size_t cap;
	char *mem;

	if (size > SIZE_MAX - ARENA_HEADER - ARENA_ALIGN)
		return NULL;
	size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (!block || block->cap - block->used < size) {
		cap = block ? block->cap * 2 : ARENA_BLOCK_MIN;
		cap = cap < ARENA_BLOCK_MAX ? cap : ARENA_BLOCK_MAX;
		cap = cap > size ? cap : size;
		block = malloc(ARENA_HEADER + cap);
		if (!block)
			return NULL;
		block->next = *head;
		block->used = 0;
		block->cap = cap;
		*head = block;
	}
	mem = (char *)block + ARENA_HEADER + block->used;
	block->used += size;
	return mem;
}

static void arena_free(struct arena_block *block)
{
	struct arena_block *next;

	for (; block; block = next) {
		next = block->next;
		free(block);
	}
}

void json_doc_free(struct json_doc *doc)
{
	arena_free(doc->arena);
	doc->arena = NULL;
	doc->root = NULL;
}

/* ---- Parser: scanning ------------------------------------------------- */

struct parser {
	const unsigned char *text;
	size_t len, pos;
	int depth, max_depth;
	struct arena_block *arena;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int parse_fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err && p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The byte at the current position, or -1 at the end of input. */
static int peek(const struct parser *p)
{
	return p->pos < p->len ? p->text[p->pos] : -1;
}

static int fail_unexpected(struct parser *p)
{
	int c = peek(p);

	if (c < 0)
		return parse_fail(p, "unexpected end of input at offset %zu",
				 p->pos);
	if (c >= 0x20 && c < 0x7f)
		return parse_fail(p, "unexpected character '%c' at offset %zu",
				 c, p->pos);
	return parse_fail(p, "unexpected byte 0x%02x at offset %zu", c, p->pos);
}

static void skip_space(struct parser *p)
{
	int c;

	while ((c = peek(p)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		p->pos++;
}

/* Step over c if it comes next; 1 if it did. */
static int accept_char(struct parser *p, char c)
{
	if (peek(p) != c)
		return 0;
	p->pos++;
	return 1;
}

static size_t skip_digits(struct parser *p)
{
	size_t start = p->pos;

	while (p->pos < p->len && p->text[p->pos] >= '0' &&
	       p->text[p->pos] <= '9')
		p->pos++;
	return p->pos - start;
}

static struct json_value *new_value(struct parser *p)
{
	struct json_value *v = arena_alloc(&p->arena, sizeof(*v));

	if (!v) {
		parse_fail(p, "out of memory");
		return NULL;
	}
	memset(v, 0, sizeof(*v));
	return v;
}

/* ---- Parser: strings -------------------------------------------------- */

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code unit of a \uXXXX escape at offset at, or -1 if there is none. */
static long unit_at(const struct parser *p, size_t at)
{
	long unit = 0;
	int digit;
	size_t i;

	if (p->len - at < 6 || p->text[at] != '\\' || p->text[at + 1] != 'u')
		return -1;
	for (i = 2; i < 6; i++) {
		digit = hex_digit(p->text[at + i]);
		if (digit < 0)
			return -1;
		unit = unit * 16 + digit;
	}
	return unit;
}

size_t utf8_encode(uint32_t code, char *out)
{
	static const unsigned char lead[] = { 0x00, 0xc0, 0xe0, 0xf0 };
	size_t extra, i;

	extra = code < 0x80 ? 0 : code < 0x800 ? 1 : code < 0x10000 ? 2 : 3;

	out[0] = (char)(lead[extra] | code >> (6 * extra));
	for (i = 1; i <= extra; i++)
		out[i] = (char)(0x80 | (code >> (6 * (extra - i)) & 0x3f));
	return extra + 1;
}

/* A \u escape; a high surrogate counts only with a low one right after. */
static int parse_unicode_escape(struct parser *p, char *dst, size_t *n)
{
	size_t at = p->pos;
	long unit = unit_at(p, at), low;
	uint32_t code = (uint32_t)unit;

	if (unit < 0)
		return parse_fail(p, "invalid \\u escape at offset %zu", at);
	if (unit >= 0xd800 && unit <= 0xdbff) {
		low = unit_at(p, at + 6);
		if (low < 0xdc00 || low > 0xdfff)
			return parse_fail(p, "unpaired surrogate at "
					 "offset %zu", at);
		code = 0x10000 + ((uint32_t)(unit - 0xd800) << 10) +
		       (uint32_t)(low - 0xdc00);
		p->pos += 6;
	} else if (unit >= 0xdc00 && unit <= 0xdfff) {
		return parse_fail(p, "unpaired surrogate at offset %zu", at);
	}
	p->pos += 6;
	*n += utf8_encode(code, dst + *n);
	return 0;
}

static int parse_escape(struct parser *p, char *dst, size_t *n)
{
	static const char names[] = "\"\\/bfnrt", bytes[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	int c;

	if (p->len - p->pos < 2) {
		p->pos = p->len;
		return fail_unexpected(p);
	}
	c = p->text[p->pos + 1];
	if (c == 'u')
		return parse_unicode_escape(p, dst, n);
	hit = memchr(names, c, sizeof(names) - 1);
	if (!hit)
		return parse_fail(p, "invalid escape at offset %zu", p->pos);
	dst[(*n)++] = bytes[hit - names];
	p->pos += 2;
	return 0;
}

/* Decode the string whose opening quote is at the current position into
 * the arena. Decoding never lengthens the text, so the distance to the
 * closing quote bounds the space needed. */
static int parse_string(struct parser *p, const char **out, size_t *out_len)
{
	size_t end = p->pos + 1, n = 0;
	char *dst;
	int c, seq;

	while (end < p->len && p->text[end] != '"')
		end += p->text[end] == '\\' ? 2 : 1;
	dst = arena_alloc(&p->arena, end - p->pos);
	if (!dst)
		return parse_fail(p, "out of memory");
	for (p->pos++; (c = peek(p)) != '"'; ) {
		size_t plain = p->pos;

		/* a run of plain ASCII is copied at once */
		while (plain < p->len && (unsigned char)p->text[plain] >= 0x20 &&
		       (unsigned char)p->text[plain] < 0x80 &&
		       p->text[plain] != '"' && p->text[plain] != '\\')
			plain++;
		if (plain > p->pos) {
			memcpy(dst + n, p->text + p->pos, plain - p->pos);
			n += plain - p->pos;
			p->pos = plain;
			continue;
		}
		if (c < 0)
			return fail_unexpected(p);
		if (c == '\\') {
			if (parse_escape(p, dst, &n) < 0)
				return -1;
			continue;
		}
		if (c < 0x20)
			return parse_fail(p, "control character in string at "
					 "offset %zu", p->pos);
		seq = utf8_sequence(p->text + p->pos, p->len - p->pos);
		if (seq <= 0)
			return parse_fail(p, "invalid UTF-8 in string at "
					 "offset %zu", p->pos);
		memcpy(dst + n, p->text + p->pos, (size_t)seq);
		n += (size_t)seq;
		p->pos += (size_t)seq;
	}
	p->pos++;
	dst[n] = '\0';
	*out = dst;
	*out_len = n;
	return 0;
}

/* ---- Parser: values --------------------------------------------------- */

/* The grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, kept as text
 * so that no precision is lost before the caller decides what it needs. */
static int parse_number(struct parser *p, struct json_value *v)
{
	size_t start = p->pos;
	char *text;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0')
		p->pos++;
	else if (skip_digits(p) == 0)
		return fail_unexpected(p);
	if (peek(p) == '.') {
		p->pos++;
		if (skip_digits(p) == 0)
			return fail_unexpected(p);
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (skip_digits(p) == 0)
			return fail_unexpected(p);
	}
	text = arena_alloc(&p->arena, p->pos - start + 1);
	if (!text)
		return parse_fail(p, "out of memory");
	memcpy(text, p->text + start, p->pos - start);
	text[p->pos - start] = '\0';
	v->type = JSON_NUMBER;
	v->u.number.text = text;
	v->u.number.len = p->pos - start;
	return 0;
}

static int parse_literal(struct parser *p, const char *word)
{
	for (; *word; word++, p->pos++)
		if (peek(p) != *word)
			return fail_unexpected(p);
	return 0;
}

static int parse_value(struct parser *p, struct json_value *v);

static int parse_member_key(struct parser *p, struct json_value *member)
{
	skip_space(p);
	if (peek(p) != '"')
		return fail_unexpected(p);
	if (parse_string(p, &member->key, &member->key_len) < 0)
		return -1;
	skip_space(p);
	return accept_char(p, ':') ? 0 : fail_unexpected(p);
}

/* An array or object: the same list of items, objects add a key to each. */
static int parse_container(struct parser *p, struct json_value *v)
{
	int is_object = peek(p) == '{';
	int close = is_object ? '}' : ']';
	struct json_value **tail = &v->u.children.first, *child;
	int more;

	if (p->depth >= p->max_depth)
		return parse_fail(p, "nesting deeper than max depth %d at "
				 "offset %zu", p->max_depth, p->pos);
	p->depth++;
	p->pos++;
	v->type = is_object ? JSON_OBJECT : JSON_ARRAY;
	skip_space(p);
	for (more = peek(p) != close; more; more = accept_char(p, ',')) {
		child = new_value(p);
		if (!child)
			return -1;
		if (is_object && parse_member_key(p, child) < 0)
			return -1;
		if (parse_value(p, child) < 0)
			return -1;
		*tail = child;
		tail = &child->next;
		v->u.children.count++;
		skip_space(p);
	}
	p->depth--;
	return accept_char(p, (char)close) ? 0 : fail_unexpected(p);
}

static int parse_value(struct parser *p, struct json_value *v)
{
	skip_space(p);
	switch (peek(p)) {
	case '{':
	case '[':
		return parse_container(p, v);
	case '"':
		v->type = JSON_STRING;
		return parse_string(p, &v->u.string.ptr, &v->u.string.len);
	case 't':
	case 'f':
		v->type = JSON_BOOL;
		v->u.boolean = peek(p) == 't';
		return parse_literal(p, v->u.boolean ? "true" : "false");
	case 'n':
		v->type = JSON_NULL;
		return parse_literal(p, "null");
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(p, v);
	default:
		return fail_unexpected(p);
	}
}

int json_parse(struct json_doc *doc, const char *text, size_t len,
	       int max_depth, char *err, size_t errlen)
{
	struct parser p = {
		.text = (const unsigned char *)text, .len = len,
		.max_depth = max_depth > 0 ? max_depth : 0,
		.err = err, .errlen = errlen,
	};
	struct json_value *root;

	doc->root = NULL;
	doc->arena = NULL;
	if (err && errlen > 0)
		err[0] = '\0';
	root = new_value(&p);
	if (!root || parse_value(&p, root) < 0)
		goto fail;
	skip_space(&p);
	if (p.pos != p.len) {
		fail_unexpected(&p);
		goto fail;
	}
	doc->root = root;
	doc->arena = p.arena;
	return 0;
fail:
	arena_free(p.arena);
	return -1;
}

/* ---- Parser: lookup --------------------------------------------------- */

const struct json_value *json_get(const struct json_value *obj,
				  const char *key)
{
	const struct json_value *member;
	size_t key_len;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	key_len = strlen(key);
	for (member = obj->u.children.first; member; member = member->next)
		if (member->key_len == key_len &&
		    memcmp(member->key, key, key_len) == 0)
			return member;
	return NULL;
}

const char *json_get_str(const struct json_value *obj, const char *key)
{
	const struct json_value *v = json_get(obj, key);

	return v && v->type == JSON_STRING ? v->u.string.ptr : NULL;
}

/* The magnitude of an integer number (sign separate), or -1 when v is not
 * an integer or does not fit in 64 bits. */
static int integer_magnitude(const struct json_value *v, int *negative,
			     uint64_t *magnitude)
{
	const char *digit, *end;
	uint64_t sum = 0;
	unsigned next;

	if (!v || v->type != JSON_NUMBER)
		return -1;
	digit = v->u.number.text;
	end = digit + v->u.number.len;
	*negative = digit < end && *digit == '-';
	digit += *negative;
	if (digit == end)
		return -1;
	for (; digit < end; digit++) {
		if (*digit < '0' || *digit > '9')
			return -1;
		next = (unsigned)(*digit - '0');
		if (sum > (UINT64_MAX - next) / 10)
			return -1;
		sum = sum * 10 + next;
	}
	*magnitude = sum;
	return 0;
}

int json_value_i64(const struct json_value *v, int64_t *out)
{
	uint64_t magnitude;
	int negative;

	if (integer_magnitude(v, &negative, &magnitude) < 0)
		return -1;
	if (magnitude > (uint64_t)INT64_MAX + negative)
		return -1;
	/* -(INT64_MAX) - 1 spelled so that no intermediate overflows. */
	if (negative)
		*out = magnitude ? -(int64_t)(magnitude - 1) - 1 : 0;
	else
		*out = (int64_t)magnitude;
	return 0;
}

int json_value_u64(const struct json_value *v, uint64_t *out)
{
	uint64_t magnitude;
	int negative;

	if (integer_magnitude(v, &negative, &magnitude) < 0 || negative)
		return -1;
	*out = magnitude;
	return 0;
}

int json_get_i64(const struct json_value *obj, const char *key, int64_t *out)
{
	return json_value_i64(json_get(obj, key), out);
}

int json_get_u64(const struct json_value *obj, const char *key, uint64_t *out)
{
	return json_value_u64(json_get(obj, key), out);
}
