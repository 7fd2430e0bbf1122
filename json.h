/* json.h - a small JSON writer (compact or pretty, lossy UTF-8) and a strict
 * parser for reading our own records back. No global state: every function
 * works on the writer or document it is given. */
#ifndef AE_JSON_H
#define AE_JSON_H

#include <stddef.h>
#include <stdint.h>

/* ---- UTF-8 ------------------------------------------------------------ */

/* Copy n bytes of s to out as valid UTF-8: every maximal invalid subpart
 * becomes U+FFFD (EF BF BD), exactly as Rust's String::from_utf8_lossy does.
 * out must hold 3*n bytes. With final == 0 an incomplete but so far valid
 * sequence at the very end of s is left unconverted: *consumed (if not NULL)
 * receives the number of input bytes used, and the caller presents the rest
 * again with more data. With final != 0 everything is consumed. Returns the
 * number of bytes written to out. */
size_t utf8_lossy(const char *s, size_t n, char *out, int final,
		  size_t *consumed);
/* The UTF-8 bytes of code point code (at most 0x10ffff) in out[0..3]:
 * how many. */
size_t utf8_encode(uint32_t code, char *out);

/* ---- Writer ----------------------------------------------------------- */

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
/* key and an array of n strings. */
void jw_kv_strings(struct json_writer *w, const char *key,
		   char *const *strings, size_t n);

/* ---- Parser ----------------------------------------------------------- */

enum json_type {
	JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT
};

struct json_value {
	enum json_type type;
	const char *key;	/* member name inside an object, else NULL */
	size_t key_len;
	struct json_value *next;	/* next sibling in the container */
	union {
		int boolean;
		struct { const char *text; size_t len; } number; /* raw text */
		/* decoded, NUL-terminated */
		struct { const char *ptr; size_t len; } string;
		struct { struct json_value *first; size_t count; } children;
	} u;
};

struct json_doc {
	struct json_value *root;
	void *arena;		/* everything the document owns */
};

/* Parse len bytes of text (RFC 8259, strictly: no trailing commas, no
 * comments, no leading zeros, no control characters or invalid UTF-8 in
 * strings, nothing but whitespace after the value, nesting at most
 * max_depth). 0 on success; -1 with a message such as
 * "unexpected character 'x' at offset 12" in err[errlen]. Memory is O(len)
 * and released by json_doc_free (also safe after a failed parse). */
int json_parse(struct json_doc *doc, const char *text, size_t len,
	       int max_depth, char *err, size_t errlen);
void json_doc_free(struct json_doc *doc);

/* Member lookup: the first member named key, or NULL (also when obj is NULL
 * or not an object). */
const struct json_value *json_get(const struct json_value *obj,
				  const char *key);
/* The string value of member key, or NULL if absent or not a string. */
const char *json_get_str(const struct json_value *obj, const char *key);
/* Integer member values: 0, or -1 when absent, not a number, not an integer
 * (fraction/exponent) or out of range. */
int json_get_i64(const struct json_value *obj, const char *key, int64_t *out);
int json_get_u64(const struct json_value *obj, const char *key, uint64_t *out);
/* The same conversions for a value itself. */
int json_value_i64(const struct json_value *v, int64_t *out);
int json_value_u64(const struct json_value *v, uint64_t *out);

/* Serialize a parsed value (recursively) into a writer. */
void jw_value(struct json_writer *w, const struct json_value *v);

#endif
