/* inflate.c - a small, bounds-checked gzip/deflate decoder: canonical
 * Huffman codes decoded a bit at a time (speed does not matter for a few
 * kilobytes read once; size does), stored, fixed and dynamic blocks, and
 * the gzip wrapper's header, CRC-32 and length. */
#include "inflate.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CODE_BITS 15
#define LITERALS 288
#define DISTANCES 30

struct bit_reader {
	const unsigned char *in;
	size_t len, pos;
	uint32_t pending;	/* bits not yet used, lowest first */
	int count;
	int overrun;		/* read past the end: the stream is bad */
};

struct output {
	unsigned char *buf;
	size_t len, capacity;
};

struct huffman {
	unsigned short count[MAX_CODE_BITS + 1];	/* codes per length */
	unsigned short symbol[LITERALS];	/* in canonical order */
};

static unsigned get_bits(struct bit_reader *br, int need)
{
	unsigned value;

	while (br->count < need) {
		if (br->pos == br->len) {
			br->overrun = 1;
			return 0;
		}
		br->pending |= (uint32_t)br->in[br->pos++] << br->count;
		br->count += 8;
	}
	value = br->pending & ((1u << need) - 1);
	br->pending >>= need;
	br->count -= need;
	return value;
}

/* The canonical code of the given lengths: 0, or -1 when the lengths
 * over-subscribe the code space (incomplete codes are allowed). */
static int huffman_build(struct huffman *h, const unsigned char *length,
			 int n)
{
	unsigned short offset[MAX_CODE_BITS + 1];
	int left = 1;

	memset(h->count, 0, sizeof(h->count));
	for (int i = 0; i < n; i++)
		h->count[length[i]]++;
	for (int len = 1; len <= MAX_CODE_BITS; len++) {
		left = left * 2 - h->count[len];
		if (left < 0)
			return -1;
	}
	offset[1] = 0;
	for (int len = 1; len < MAX_CODE_BITS; len++)
		offset[len + 1] = (unsigned short)(offset[len] + h->count[len]);
	for (int i = 0; i < n; i++)
		if (length[i])
			h->symbol[offset[length[i]]++] = (unsigned short)i;
	return 0;
}

/* The next symbol: codes of each length are consecutive integers, so one
 * comparison per length finds it. -1 on a code that is not in h. */
static int huffman_decode(struct bit_reader *br, const struct huffman *h)
{
	int code = 0, first = 0, index = 0;

	for (int len = 1; len <= MAX_CODE_BITS; len++) {
		code |= (int)get_bits(br, 1);
		if (code - first < h->count[len])
			return h->symbol[index + code - first];
		index += h->count[len];
		first = (first + h->count[len]) << 1;
		code <<= 1;
	}
	return -1;
}

static int put_byte(struct output *out, unsigned char c)
{
	if (out->len == out->capacity)
		return -1;
	out->buf[out->len++] = c;
	return 0;
}

static int inflate_stored(struct bit_reader *br, struct output *out)
{
	unsigned len, check;

	br->pending = 0;	/* to the byte boundary */
	br->count = 0;
	len = get_bits(br, 16);
	check = get_bits(br, 16);
	if (br->overrun || len != (~check & 0xffff) ||
	    br->len - br->pos < len || out->capacity - out->len < len)
		return -1;
	memcpy(out->buf + out->len, br->in + br->pos, len);
	out->len += len;
	br->pos += len;
	return 0;
}

/* A back-reference of symbol 257..285 (length) and its distance code. */
static int copy_match(struct bit_reader *br, struct output *out, int symbol,
		      const struct huffman *distances)
{
	static const unsigned short length_base[29] = {
		3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35,
		43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
	static const unsigned char length_extra[29] = {
		0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
		4, 4, 4, 4, 5, 5, 5, 5, 0 };
	static const unsigned short distance_base[DISTANCES] = {
		1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
		257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193,
		12289, 16385, 24577 };
	size_t len, distance;
	int code;

	symbol -= 257;
	if (symbol >= 29)
		return -1;
	len = length_base[symbol] + get_bits(br, length_extra[symbol]);
	code = huffman_decode(br, distances);
	if (code < 0 || code >= DISTANCES)
		return -1;
	/* distance codes 4..29 carry code / 2 - 1 extra bits */
	distance = distance_base[code] + get_bits(br, code < 4 ? 0
						  : code / 2 - 1);
	if (br->overrun || distance > out->len)
		return -1;
	while (len--)
		if (put_byte(out, out->buf[out->len - distance]) < 0)
			return -1;
	return 0;
}

static int inflate_codes(struct bit_reader *br, struct output *out,
			 const struct huffman *literals,
			 const struct huffman *distances)
{
	for (;;) {
		int symbol = huffman_decode(br, literals);

		if (symbol < 0 || br->overrun)
			return -1;
		if (symbol == 256)
			return 0;
		if (symbol < 256 ? put_byte(out, (unsigned char)symbol)
				 : copy_match(br, out, symbol, distances))
			return -1;
	}
}

static int inflate_fixed(struct bit_reader *br, struct output *out)
{
	struct huffman literals, distances;
	unsigned char length[LITERALS];
	int i = 0;

	for (; i < 144; i++)
		length[i] = 8;
	for (; i < 256; i++)
		length[i] = 9;
	for (; i < 280; i++)
		length[i] = 7;
	for (; i < LITERALS; i++)
		length[i] = 8;
	huffman_build(&literals, length, LITERALS);
	memset(length, 5, DISTANCES);
	huffman_build(&distances, length, DISTANCES);
	return inflate_codes(br, out, &literals, &distances);
}

/* The literal and distance code lengths of a dynamic block, themselves
 * coded with a code-length code (with repeats: 16, 17, 18). */
static int read_lengths(struct bit_reader *br, unsigned char *length,
			int total)
{
	static const unsigned char order[19] = {
		16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1,
		15 };
	unsigned char code_length[19] = { 0 };
	struct huffman lengths;
	int count = (int)get_bits(br, 4) + 4, n = 0;

	for (int i = 0; i < count; i++)
		code_length[order[i]] = (unsigned char)get_bits(br, 3);
	if (huffman_build(&lengths, code_length, 19) < 0)
		return -1;
	while (n < total) {
		int symbol = huffman_decode(br, &lengths), repeat;
		unsigned char value = 0;

		if (symbol < 0 || br->overrun)
			return -1;
		if (symbol < 16) {
			length[n++] = (unsigned char)symbol;
			continue;
		}
		if (symbol == 16) {
			if (n == 0)
				return -1;
			value = length[n - 1];
			repeat = 3 + (int)get_bits(br, 2);
		} else {
			repeat = symbol == 17 ? 3 + (int)get_bits(br, 3)
					      : 11 + (int)get_bits(br, 7);
		}
		if (n + repeat > total)
			return -1;
		while (repeat--)
			length[n++] = value;
	}
	return 0;
}

static int inflate_dynamic(struct bit_reader *br, struct output *out)
{
	unsigned char length[LITERALS + DISTANCES];
	struct huffman literals, distances;
	int n_literals = (int)get_bits(br, 5) + 257;
	int n_distances = (int)get_bits(br, 5) + 1;

	if (n_literals > 286 || n_distances > DISTANCES ||
	    read_lengths(br, length, n_literals + n_distances) < 0 ||
	    length[256] == 0 ||
	    huffman_build(&literals, length, n_literals) < 0 ||
	    huffman_build(&distances, length + n_literals, n_distances) < 0)
		return -1;
	return inflate_codes(br, out, &literals, &distances);
}

static int inflate_blocks(struct bit_reader *br, struct output *out)
{
	int last;

	do {
		int type, rc;

		last = (int)get_bits(br, 1);
		type = (int)get_bits(br, 2);
		rc = type == 0 ? inflate_stored(br, out)
		     : type == 1 ? inflate_fixed(br, out)
		     : type == 2 ? inflate_dynamic(br, out) : -1;
		if (rc < 0 || br->overrun)
			return -1;
	} while (!last);
	return 0;
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return crc ^ 0xffffffffu;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Where the deflate data of a gzip member starts: past the fixed header
 * and the optional extra field, name, comment and header CRC. 0 when the
 * header is not gzip's. */
static size_t gzip_header_end(const unsigned char *gz, size_t len)
{
	size_t at = 10;
	unsigned flags;

	if (len < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8)
		return 0;
	flags = gz[3];
	if (flags & 4) {	/* FEXTRA */
		if (len - at < 2)
			return 0;
		at += 2 + ((size_t)gz[at] | (size_t)gz[at + 1] << 8);
	}
	for (unsigned bit = 8; bit <= 16; bit <<= 1)	/* FNAME, FCOMMENT */
		if (flags & bit) {
			while (at < len && gz[at])
				at++;
			at++;
		}
	if (flags & 2)		/* FHCRC */
		at += 2;
	return at <= len - 8 ? at : 0;
}

int gunzip(const unsigned char *gz, size_t gz_len, unsigned char *out,
	   size_t out_len)
{
	size_t start = gzip_header_end(gz, gz_len);
	struct bit_reader br = { gz, gz_len - 8, start, 0, 0, 0 };
	struct output o = { out, 0, out_len };
	const unsigned char *trailer = gz + gz_len - 8;

	if (!start || inflate_blocks(&br, &o) < 0 || o.len != out_len ||
	    le32(trailer + 4) != (uint32_t)out_len ||
	    le32(trailer) != crc32_of(out, out_len))
		return -1;
	return 0;
}

char *embedded_text(const struct embedded *file, size_t *len)
{
	char *text = malloc((size_t)file->len + 1);

	if (!text)
		return NULL;
	if (gunzip(file->gz, file->gz_len, (unsigned char *)text,
		   file->len) < 0) {
		free(text);
		errno = EIO;
		return NULL;
	}
	text[file->len] = '\0';
	if (len)
		*len = file->len;
	return text;
}
