/* mcp_wire - lines read into a growing buffer, and the top level of a JSON
 * object, for the MCP test client (see mcp_wire.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcp_wire.h"

#define FIRST_CAP 65536

/* ---- lines ------------------------------------------------------------ */

/* Take the next complete line: its bytes, with the newline at line[len]. */
int linebuf_take(struct linebuf *lb, char **line, size_t *len)
{
	char *begin = lb->data + lb->start;
	char *newline = lb->len ? memchr(begin, '\n', lb->len) : NULL;

	if (!newline)
		return 0;
	*line = begin;
	*len = (size_t)(newline - begin);
	lb->start += *len + 1;
	lb->len -= *len + 1;
	return 1;
}

/* Room for one more byte after the data: the buffer grows up to a line of
 * LINE_CAP bytes and its newline. 0, or -1 with errno (EMSGSIZE: a line
 * longer than that). */
int linebuf_reserve(struct linebuf *lb)
{
	size_t cap = lb->cap ? lb->cap * 2 : FIRST_CAP;
	char *data;

	if (lb->start > 0) {
		memmove(lb->data, lb->data + lb->start, lb->len);
		lb->start = 0;
	}
	if (lb->len < lb->cap)
		return 0;
	if (lb->cap >= LINE_CAP + 1) {
		errno = EMSGSIZE;
		return -1;
	}
	if (cap > LINE_CAP + 1)
		cap = LINE_CAP + 1;
	data = realloc(lb->data, cap);
	if (!data)
		return -1;
	lb->data = data;
	lb->cap = cap;
	return 0;
}

/* One read() into the buffer: the bytes read, 0 at end of file, -1 on
 * error. */
ssize_t linebuf_read(struct linebuf *lb, int fd)
{
	ssize_t n;

	if (linebuf_reserve(lb) < 0)
		return -1;
	do
		n = read(fd, lb->data + lb->len, lb->cap - lb->len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		lb->len += (size_t)n;
	return n;
}

/* ---- the top level of a JSON object -------------------------------------- */

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* p at a quote: past the string's closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Past the value at p (brackets counted, not checked), or NULL. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;
	const char *start = p;

	while (p < end) {
		if (*p == '"') {
			p = skip_string(p, end);
			if (!p)
				return NULL;
			if (depth == 0)
				return p;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (depth == 0)
				break;
			if (--depth == 0)
				return p + 1;
		} else if (depth == 0 && strchr(", \t\r\n", *p))
			break;
		p++;
	}
	return depth == 0 && p > start ? p : NULL;
}

/* The raw value of the top-level member KEY of the object in [p, end):
 * 1 and its span, or 0 (no such member, or not an object). */
int member_find(const char *p, const char *end, const char *key,
		const char **value, size_t *value_len)
{
	size_t key_len = strlen(key);

	p = skip_space(p, end);
	if (p == end || *p != '{')
		return 0;
	p = skip_space(p + 1, end);
	while (p < end && *p == '"') {
		const char *name = p + 1, *name_end = skip_string(p, end);
		const char *after;

		if (!name_end)
			return 0;
		p = skip_space(name_end, end);
		if (p == end || *p != ':')
			return 0;
		p = skip_space(p + 1, end);
		after = skip_value(p, end);
		if (!after)
			return 0;
		if ((size_t)(name_end - 1 - name) == key_len &&
		    memcmp(name, key, key_len) == 0) {
			*value = p;
			*value_len = (size_t)(after - p);
			return 1;
		}
		p = skip_space(after, end);
		if (p == end || *p != ',')
			return 0;
		p = skip_space(p + 1, end);
	}
	return 0;
}
