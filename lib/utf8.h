/* lib/utf8.h - UTF-8 as Rust's from_utf8_lossy reads it (each invalid
 * subpart becomes U+FFFD), and the encoding of a code point (lib/utf8.c). */
#ifndef AE_LIB_UTF8_H
#define AE_LIB_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */

/* Classify the sequence at s[0]: its length if valid, -k if its first k
 * bytes are a maximal invalid subpart, 0 if it is a valid prefix cut short
 * by the end of s. */
int utf8_sequence(const unsigned char *s, size_t n);
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
/* Whether the NUL-terminated text is valid UTF-8. */
int utf8_valid(const char *text);

#endif
