/* mcp_wire - the bytes side of the MCP test client (mcp_client.c): lines
 * read into a buffer that grows to a cap, and the top-level members of a
 * JSON-RPC message found without parsing the rest. */
#ifndef MCP_WIRE_H
#define MCP_WIRE_H

#include <stddef.h>
#include <sys/types.h>

#define LINE_CAP (16u << 20)	/* longest line read, server's or script's */

/* A growing buffer of bytes read, split at newlines. */
struct linebuf {
	char *data;
	size_t start;		/* first byte not yet taken */
	size_t len;		/* bytes held from start */
	size_t cap;
};

int linebuf_take(struct linebuf *lb, char **line, size_t *len);
int linebuf_reserve(struct linebuf *lb);
ssize_t linebuf_read(struct linebuf *lb, int fd);
int member_find(const char *p, const char *end, const char *key,
		const char **value, size_t *value_len);

#endif
