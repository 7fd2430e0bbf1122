/* json_parse.c - a strict recursive-descent JSON parser whose documents
 * live in one arena, and lookups in what it parsed. */
#include "json_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"

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

int json_get_bool(const struct json_value *obj, const char *key,
		  int fallback)
{
	const struct json_value *v = json_get(obj, key);

	return v && v->type == JSON_BOOL ? v->u.boolean : fallback;
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
