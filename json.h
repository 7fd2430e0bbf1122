/* json.h - the JSON writer: compact or pretty, into a descriptor or memory,
 * strings as lossy UTF-8 (json.c); reading JSON is json_parse.h's. */
#ifndef AE_JSON_H
#define AE_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

struct json_writer {
	int fd;			/* flush target, or -1: accumulate in memory */
	char *buf;
	size_t len, cap;
	size_t max_len;		/* memory mode: fail beyond this size */
	int owns_buf;		/* memory mode: buf is heap, grown on demand */
	int pretty;		/* 2-space indent, ": " after keys */
	int depth;
	uint64_t has_items;	/* bit d: container at depth d has an item */
	int after_key;		/* a key was written, its value comes next */
	int error;		/* errno of the first failure; sticky */
};

/* Write to fd through buf[cap] (flushed when full and by jw_flush). */
void jw_init_fd(struct json_writer *w, int fd, char *buf, size_t cap,
		int pretty);
/* Accumulate in a heap buffer of at most max_len bytes (ENOBUFS beyond);
 * the text is w->buf[0..w->len), NUL-terminated. Release with jw_free. */
void jw_init_mem(struct json_writer *w, size_t max_len, int pretty);
void jw_free(struct json_writer *w);
/* Write out what is buffered (fd mode). 0, or -1 with errno = w->error. */
int jw_flush(struct json_writer *w);

void jw_object_begin(struct json_writer *w);
void jw_object_end(struct json_writer *w);
void jw_array_begin(struct json_writer *w);
void jw_array_end(struct json_writer *w);
void jw_key(struct json_writer *w, const char *key);
void jw_string(struct json_writer *w, const char *s);	/* NULL -> null */
void jw_string_n(struct json_writer *w, const char *s, size_t n);
void jw_u64(struct json_writer *w, uint64_t v);
void jw_i64(struct json_writer *w, int64_t v);
void jw_bool(struct json_writer *w, int v);
void jw_null(struct json_writer *w);
/* Insert an already serialized JSON value verbatim. */
void jw_raw(struct json_writer *w, const char *json, size_t n);

/* A string written in pieces (e.g. streamed from a log file). The input is
 * arbitrary bytes, decoded lossily across chunk boundaries; out_bytes counts
 * the UTF-8 bytes of the decoded string (before JSON escaping). */
struct jw_stream {
	char pending[4];
	size_t npending;
	uint64_t out_bytes;
};
void jw_string_begin(struct json_writer *w, struct jw_stream *st);
void jw_string_chunk(struct json_writer *w, struct jw_stream *st,
		     const char *s, size_t n);
void jw_string_end(struct json_writer *w, struct jw_stream *st);
/* End the string without the bytes of an incomplete UTF-8 sequence held
 * back at its end (more may still arrive); returns how many they were. */
size_t jw_string_end_partial(struct json_writer *w, struct jw_stream *st);

/* Shorthands for a key followed by its value. */
void jw_kv_str(struct json_writer *w, const char *key, const char *s);
void jw_kv_u64(struct json_writer *w, const char *key, uint64_t v);
void jw_kv_i64(struct json_writer *w, const char *key, int64_t v);
void jw_kv_bool(struct json_writer *w, const char *key, int v);
/* key with an object or an array as its value, opened. */
void jw_kv_object_begin(struct json_writer *w, const char *key);
void jw_kv_array_begin(struct json_writer *w, const char *key);
/* key and an array of n strings. */
void jw_kv_strings(struct json_writer *w, const char *key,
		   char *const *strings, size_t n);

struct json_value;

/* Serialize a parsed value (recursively) into a writer; NULL as null. */
void jw_value(struct json_writer *w, const struct json_value *v);

#endif
