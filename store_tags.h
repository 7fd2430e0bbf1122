/* store_tags.h - a job's tags: the rule a tag follows, list filters
 * (store_tags.c). */
#ifndef AE_STORE_TAGS_H
#define AE_STORE_TAGS_H

#include "lib/sys.h"

/* Tags: segments of ASCII letters, digits and '-' joined by single dots.
 * NULL when text is a valid tag (pattern == 0) or list filter (pattern ==
 * 1: a tag, or a tag followed by ".*"), else why not. */
const char *tag_invalid(const char *text, int pattern);
/* Whether a job's tags match a filter: equal, or for "ns.*" equal to ns or
 * starting with "ns.". */
int tags_match(const struct strv *tags, const char *pattern);
/* Append tag unless already present (first occurrence kept). */
int tags_add(struct strv *tags, char *tag);

#endif
