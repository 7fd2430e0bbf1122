/* store_tags.c - a job's tags: what a tag is, how a list filter matches
 * them, and a set kept in order. */
#include "store_tags.h"

#include <ctype.h>
#include <string.h>

const char *tag_invalid(const char *text, int pattern)
{
	size_t len = strlen(text);
	int segment_len = 0;

	if (len == 0)
		return "a tag must not be empty";
	if (len >= 2 && strcmp(text + len - 2, ".*") == 0) {
		if (!pattern)
			return "'.*' is only allowed in list --tag filters";
		len -= 2;
		if (len == 0)
			return "the namespace before '.*' must not be empty";
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '.') {
			if (segment_len == 0)
				return "empty segment (leading, trailing or "
				       "double '.')";
			segment_len = 0;
		} else if (isalnum(c) || c == '-') {
			segment_len++;
		} else {
			return "only ASCII letters, digits, '-' and '.' are "
			       "allowed";
		}
	}
	return segment_len ? NULL
			   : "empty segment (leading, trailing or double '.')";
}

int tags_match(const struct strv *tags, const char *pattern)
{
	size_t len = strlen(pattern);
	int prefix = len >= 2 && strcmp(pattern + len - 2, ".*") == 0;

	if (prefix)
		len -= 2;
	for (size_t i = 0; i < tags->n; i++) {
		const char *tag = tags->v[i];

		if (!prefix && strcmp(tag, pattern) == 0)
			return 1;
		if (prefix && strncmp(tag, pattern, len) == 0 &&
		    (tag[len] == '\0' || tag[len] == '.'))
			return 1;
	}
	return 0;
}

int tags_add(struct strv *tags, char *tag)
{
	for (size_t i = 0; i < tags->n; i++)
		if (strcmp(tags->v[i], tag) == 0)
			return 0;
	return strv_push(tags, tag);
}
