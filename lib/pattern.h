/* lib/pattern.h - the regular expressions of output matching: compiled to a
 * Thompson NFA, run by a Pike VM in time linear in the line (pattern.c). */
#ifndef AE_PATTERN_H
#define AE_PATTERN_H

/* No backtracking, so no pattern can stall a supervisor.
 *
 * Syntax: POSIX extended regular expressions, plus the common escapes of
 * Rust's regex crate (the reference's syntax):
 *   literals, .  [...] [^...] with ranges and [:alpha:]-style classes,
 *   ^ $ \A \z \b \B, ( ) (?: ), |, * + ? {n} {n,} {n,m} (a trailing ?
 *   for laziness is accepted: it cannot change whether a line matches),
 *   \d \D \w \W \s \S, \n \t \r \f \v, a backslash before any punctuation,
 *   and (?i) at the very start for ASCII case-insensitive matching.
 * Matching is on UTF-8 bytes; . and negated classes take a whole UTF-8
 * character. Not supported (a compile error, never a silent mismatch):
 * backreferences, non-ASCII characters inside brackets, other (?...)
 * groups, repetition counts above 1000, patterns that compile to more
 * than PATTERN_MAX_PROGRAM instructions. */

#include <stddef.h>

#define PATTERN_MAX_PROGRAM 20000

struct pattern;

/* Compile source (NUL-terminated): the pattern, or NULL with the reason
 * in why (errno ENOMEM when out of memory, else EINVAL). */
struct pattern *pattern_compile(const char *source, char *why,
				size_t why_size);
/* 1 when text[0..len) contains a match, else 0. Uses the pattern's own
 * scratch space: one caller at a time. */
int pattern_match(struct pattern *pattern, const char *text, size_t len);
void pattern_free(struct pattern *pattern);

#endif
