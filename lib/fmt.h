/* lib/fmt.h - text formats, no product knowledge: UTC timestamps, strict
 * decimals, hex, ASCII words, signal names, bounded copies (lib/fmt.c). */
#ifndef AE_LIB_FMT_H
#define AE_LIB_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TIMESTAMP_LEN 20	/* YYYY-MM-DDTHH:MM:SSZ */

/* t (seconds since the epoch) as YYYY-MM-DDTHH:MM:SSZ, NUL-terminated. */
void format_utc(time_t t, char out[TIMESTAMP_LEN + 1]);
void format_utc_now(char out[TIMESTAMP_LEN + 1]);
/* The seconds of a YYYY-MM-DDTHH:MM:SSZ timestamp: 0, or -1 if malformed. */
int parse_utc(const char *text, time_t *out);

/* The decimal digits at the start of text as *out: how many there were,
 * 0 when none or on overflow (then *out is untouched). */
size_t scan_u64(const char *text, uint64_t *out);
/* Strict unsigned decimal: digits only, no sign, no spaces, no overflow. */
int parse_u64(const char *s, uint64_t *out);
/* A duration in milliseconds: digits, then a unit (ms, s, m, h, d) or none
 * (bare_ms each: 1 for 0.1's options, as every --timeout, 1000 for the
 * newer tool's seconds); no sign, no spaces, no overflow. 0, or -1 when
 * malformed. */
int parse_duration_ms(const char *text, uint32_t bare_ms, uint64_t *ms);
/* A retention (gc's --older-than, [gc] older_than): "30d", "24h", "60m",
 * "3600s" or bare seconds (spaces around allowed). 0, or -1 when
 * malformed or too large. */
int parse_duration(const char *text, uint64_t *seconds);
/* Whether a and b agree in their first n bytes (or up to their common
 * end), ASCII letters compared without case: strncasecmp(a, b, n) == 0
 * without locales. */
int ascii_case_equal(const char *a, const char *b, size_t n);
/* The position of word among the words of list (separated by single
 * spaces), or -1 when it is not one of them. */
int word_index(const char *word, const char *list);
/* Parse a signal given as TERM, SIGTERM, term or a number; -1 if unknown. */
int signal_parse(const char *text);
/* "SIGTERM" for 15 in name; 0, or -1 for a signal without a name here. */
int signal_name(int signo, char name[12]);
/* The edit distance of a and b (insertions, deletions, substitutions and
 * swaps of two neighbours each count 1); words over 32 bytes are 99 apart. */
unsigned edit_distance(const char *a, const char *b);
/* text as pairs of lowercase hex digits, and back (the exact bytes of a
 * string JSON cannot hold): heap, NULL when out of memory, or when hex is
 * malformed or holds a 00 pair (no C string can). */
char *hex_encode(const char *text);
char *hex_decode(const char *hex);
/* Copy src into dst[size], cut short if need be, always NUL-terminated;
 * NULL copies as "". */
void copy_str(char *dst, size_t size, const char *src);

#endif
