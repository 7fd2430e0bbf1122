/* json_parse.h - a strict JSON parser for reading records back, and
 * lookups in what it parsed (json_parse.c). */
#ifndef AE_JSON_PARSE_H
#define AE_JSON_PARSE_H

#include <stddef.h>
#include <stdint.h>

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
/* The boolean value of member key, or fallback when it is absent or not
 * a boolean. */
int json_get_bool(const struct json_value *obj, const char *key,
		  int fallback);
/* Integer member values: 0, or -1 when absent, not a number, not an integer
 * (fraction/exponent) or out of range. */
int json_get_i64(const struct json_value *obj, const char *key, int64_t *out);
int json_get_u64(const struct json_value *obj, const char *key, uint64_t *out);
/* The same conversions for a value itself. */
int json_value_i64(const struct json_value *v, int64_t *out);
int json_value_u64(const struct json_value *v, uint64_t *out);

#endif
