/* inflate.h - gzip decompression (RFC 1952 around RFC 1951 deflate) for
 * the files the binary carries: they are compressed at build time by
 * tools/embed.sh with the system's gzip, and expanded only when a command
 * needs them (schema, install-skills, help). */
#ifndef AE_INFLATE_H
#define AE_INFLATE_H

#include <stddef.h>

/* Expand the gzip member gz[0..gz_len) into out[0..out_len): 0 when it
 * holds exactly out_len bytes and its CRC-32 matches, -1 when it is
 * corrupt, truncated or of another size. */
int gunzip(const unsigned char *gz, size_t gz_len, unsigned char *out,
	   size_t out_len);

/* A file the binary carries, gzip-compressed (build/embed.c). */
struct embedded {
	const unsigned char *gz;
	unsigned gz_len;
	unsigned len;		/* expanded */
};
/* schema/agent-exec.schema.json, skills/agent-exec/SKILL.md, cli-help.txt */
extern const struct embedded embedded_schema, embedded_skill, embedded_help;

/* The expanded text of an embedded file, NUL-terminated, on the heap
 * (free it); its length in *len when len is not NULL. NULL with errno
 * ENOMEM, or EIO when the data is corrupt. */
char *embedded_text(const struct embedded *file, size_t *len);

#endif
