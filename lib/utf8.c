/* lib/utf8.c - UTF-8 as Rust's String::from_utf8_lossy reads it: maximal
 * invalid subparts become U+FFFD; and the encoding of one code point. */
#include "lib/utf8.h"

#include <stdlib.h>
#include <string.h>


/* Classify the sequence at s[0]: its length if valid, -k if its first k
 * bytes are a maximal invalid subpart, 0 if it is a valid prefix cut short
 * by the end of s. The second-byte ranges exclude overlongs, surrogates and
 * code points beyond U+10FFFF, which is what makes the subparts maximal. */
int utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char lo, hi;
	int width, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return -1;
	width = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	lo = s[0] == 0xe0 ? 0xa0 : s[0] == 0xf0 ? 0x90 : 0x80;
	hi = s[0] == 0xed ? 0x9f : s[0] == 0xf4 ? 0x8f : 0xbf;
	for (i = 1; i < width; i++) {
		if ((size_t)i >= n)
			return 0;
		if (s[i] < lo || s[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return width;
}

size_t utf8_lossy(const char *s, size_t n, char *out, int final,
		  size_t *consumed)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t pos = 0, written = 0, start;
	int seq;

	while (pos < n) {
		start = pos;
		/* ASCII eight bytes at a time: logs are mostly ASCII */
		for (uint64_t word; n - pos >= 8; pos += 8) {
			memcpy(&word, in + pos, 8);
			if (word & 0x8080808080808080ULL)
				break;
		}
		while (pos < n && in[pos] < 0x80)
			pos++;
		memcpy(out + written, in + start, pos - start);
		written += pos - start;
		if (pos == n)
			break;
		seq = utf8_sequence(in + pos, n - pos);
		if (seq == 0 && !final)
			break;
		if (seq > 0) {
			memcpy(out + written, in + pos, (size_t)seq);
			written += (size_t)seq;
			pos += (size_t)seq;
			continue;
		}
		memcpy(out + written, UTF8_REPLACEMENT, 3);
		written += 3;
		pos += seq < 0 ? (size_t)-seq : n - pos;
	}
	if (consumed)
		*consumed = pos;
	return written;
}

size_t utf8_encode(uint32_t code, char *out)
{
	static const unsigned char lead[] = { 0x00, 0xc0, 0xe0, 0xf0 };
	size_t extra, i;

	extra = code < 0x80 ? 0 : code < 0x800 ? 1 : code < 0x10000 ? 2 : 3;

	out[0] = (char)(lead[extra] | code >> (6 * extra));
	for (i = 1; i <= extra; i++)
		out[i] = (char)(0x80 | (code >> (6 * (extra - i)) & 0x3f));
	return extra + 1;
}

int utf8_valid(const char *text)
{
	size_t len = strlen(text);
	char *decoded = malloc(3 * len + 1);
	size_t out;
	int valid;

	if (!decoded)
		return 0;
	out = utf8_lossy(text, len, decoded, 1, NULL);
	valid = out == len && memcmp(decoded, text, len) == 0;
	free(decoded);
	return valid;
}
