/* Unit tests of inflate.c: the embedded files expand to exactly the files
 * they were built from; damaged, truncated or resized data is refused. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "../../inflate.h"
#include "../../sys.h"
#include "suites.h"

START_TEST(test_embedded_files_expand)
{
	char *text, *source;
	size_t len, source_len;

	text = embedded_text(&embedded_skill, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(read_file_at(AT_FDCWD, "skills/agent-exec/SKILL.md",
				      1 << 20, &source, &source_len), 0);
	ck_assert_uint_eq(len, source_len);
	ck_assert(memcmp(text, source, len) == 0);
	ck_assert_int_eq(text[len], '\0');
	free(text);
	free(source);
	text = embedded_text(&embedded_schema, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, embedded_schema.len);
	ck_assert(strstr(text, "\"$schema\"") != NULL);
	free(text);
	text = embedded_text(&embedded_help, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert(strncmp(text, "@run\n", 5) == 0);
	ck_assert(strstr(text, "\n# ") == NULL);	/* comments dropped */
	free(text);
}
END_TEST

/* Any damage to a compressed file (a bit flipped anywhere, a truncation)
 * is refused, or (a header byte gzip ignores, padding bits) changes
 * nothing: the output is never wrong, and nothing is read or written out
 * of bounds (the sanitizer build checks). */
START_TEST(test_damage_is_refused)
{
	const struct embedded *file = &embedded_skill;
	unsigned char *gz = malloc(file->gz_len), *out = malloc(file->len);
	char *original = embedded_text(file, NULL);
	size_t refused = 0;

	ck_assert_ptr_nonnull(gz);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(original);
	memcpy(gz, file->gz, file->gz_len);
	ck_assert_int_eq(gunzip(gz, file->gz_len, out, file->len - 1), -1);
	for (size_t at = 0; at < file->gz_len; at++)
		for (unsigned bit = 0; bit < 8; bit++) {
			gz[at] ^= (unsigned char)(1u << bit);
			if (gunzip(gz, file->gz_len, out, file->len) < 0)
				refused++;
			else
				ck_assert_msg(memcmp(out, original,
						     file->len) == 0,
					      "byte %zu bit %u: wrong output",
					      at, bit);
			gz[at] ^= (unsigned char)(1u << bit);
		}
	/* all but a handful of the flips are caught */
	ck_assert_uint_gt(refused, (size_t)file->gz_len * 8 - 64);
	for (size_t cut = 0; cut < file->gz_len; cut += 7)
		ck_assert_int_eq(gunzip(gz, cut, out, file->len), -1);
	free(original);
	free(gz);
	free(out);
}
END_TEST

/* Stored and fixed-Huffman blocks, which gzip -9 rarely writes for text:
 * hand-made members. */
START_TEST(test_block_types)
{
	/* "hi\n" stored: header, BFINAL=1 BTYPE=00, LEN 3, NLEN, data, CRC,
	 * ISIZE */
	static const unsigned char stored[] = {
		0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
		0x01, 0x03, 0x00, 0xfc, 0xff, 'h', 'i', '\n',
		0x7a, 0x7a, 0x6f, 0xed, 3, 0, 0, 0 };
	/* "a" with a fixed-Huffman block (python: zlib, wbits=31, level 1) */
	static const unsigned char fixed[] = {
		0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
		0x4b, 0x04, 0x00, 0x43, 0xbe, 0xb7, 0xe8, 1, 0, 0, 0 };
	char out[4];

	ck_assert_int_eq(gunzip(stored, sizeof(stored), (unsigned char *)out,
				3), 0);
	ck_assert(memcmp(out, "hi\n", 3) == 0);
	ck_assert_int_eq(gunzip(fixed, sizeof(fixed), (unsigned char *)out,
				1), 0);
	ck_assert_int_eq(out[0], 'a');
}
END_TEST

Suite *inflate_suite(void)
{
	Suite *s = suite_create("inflate");
	TCase *tc = tcase_create("inflate");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_embedded_files_expand);
	tcase_add_test(tc, test_damage_is_refused);
	tcase_add_test(tc, test_block_types);
	suite_add_tcase(s, tc);
	return s;
}
