/* Unit tests of lib/redact.c: a secret in one chunk, split across two and
 * three chunks at every point, overlapping secrets (the longest wins),
 * prefixes that turn out not to be secrets, the flush, the set's rules,
 * and many secrets against a plain whole-text reference under random
 * cuts. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/redact.h"
#include "suites.h"

/* What a redactor emitted, gathered. */
struct sink {
	char *data;
	size_t len;
	size_t pieces;
};

static void sink_take(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;

	ck_assert_uint_gt(len, 0);
	s->data = realloc(s->data, s->len + len + 1);
	ck_assert_ptr_nonnull(s->data);
	memcpy(s->data + s->len, data, len);
	s->len += len;
	s->data[s->len] = '\0';
	s->pieces++;
}

static void sink_clear(struct sink *s)
{
	free(s->data);
	memset(s, 0, sizeof(*s));
}

static void set_of(struct redact_set *set, const char *const *secrets)
{
	memset(set, 0, sizeof(*set));
	for (; *secrets; secrets++)
		ck_assert_int_ge(redact_set_add(set, *secrets,
						strlen(*secrets)), 0);
}

/* The text redacted with the stream cut at the given points (ascending
 * offsets, count of them), then flushed; a NUL-terminated heap string. */
static char *redact_cut(const struct redact_set *set, const char *text,
			size_t len, const size_t *cuts, size_t count)
{
	struct redactor *r = redactor_new(set);
	struct sink out = { 0 };
	size_t from = 0;

	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i <= count; i++) {
		size_t to = i < count ? cuts[i] : len;

		redact_feed(r, text + from, to - from, sink_take, &out);
		from = to;
	}
	redact_flush(r, sink_take, &out);
	redactor_free(r);
	if (!out.data)
		out.data = calloc(1, 1);
	return out.data;
}

static char *redact_whole(const struct redact_set *set, const char *text)
{
	return redact_cut(set, text, strlen(text), NULL, 0);
}

/* The plain reference: the whole text at once, left to right, the
 * longest secret at each position. */
static char *reference(const char *const *secrets, const char *text)
{
	size_t len = strlen(text), out_len = 0;
	char *out = malloc(3 * len + 1);

	ck_assert_ptr_nonnull(out);
	for (size_t pos = 0; pos < len;) {
		size_t best = 0;

		for (const char *const *s = secrets; *s; s++) {
			size_t n = strlen(*s);

			if (n > best && n <= len - pos &&
			    memcmp(text + pos, *s, n) == 0)
				best = n;
		}
		if (best) {
			memcpy(out + out_len, "***", 3);
			out_len += 3;
			pos += best;
		} else {
			out[out_len++] = text[pos++];
		}
	}
	out[out_len] = '\0';
	return out;
}

static void check_redacts(const char *const *secrets, const char *text,
			  const char *want)
{
	struct redact_set set;
	char *got;

	set_of(&set, secrets);
	got = redact_whole(&set, text);
	ck_assert_str_eq(got, want);
	free(got);
	redact_set_free(&set);
}

START_TEST(test_one_chunk)
{
	static const char *const token[] = { "s3cr3t", NULL };

	check_redacts(token, "token is s3cr3t\n", "token is ***\n");
	check_redacts(token, "s3cr3t", "***");
	check_redacts(token, "s3cr3ts3cr3t and s3cr3t", "****** and ***");
	check_redacts(token, "no secret here", "no secret here");
	check_redacts(token, "s3cr3", "s3cr3");
	check_redacts(token, "ss3cr3tt", "s***t");
	check_redacts(token, "", "");
}
END_TEST

static void check_cut_twice(const struct redact_set *set, const char *text,
			    size_t a, size_t b, const char *want)
{
	size_t cuts[2] = { a, b };
	char *got = redact_cut(set, text, strlen(text), cuts, 2);

	ck_assert_msg(strcmp(got, want) == 0, "\"%s\" cut at %zu and %zu: "
		      "\"%s\", want \"%s\"", text, a, b, got, want);
	free(got);
}

/* Every split of the text in two, and every split in three: the same
 * output as the whole. */
START_TEST(test_split_everywhere)
{
	static const char *const token[] = { "s3cr3t", NULL };
	static const char *const texts[] = {
		"token is s3cr3t\n", "s3cr3t", "s3cs3cr3t s3cr3ts3cr3t s3c",
		"xs3cr3", "s3cr3t!",
	};
	struct redact_set set;

	set_of(&set, token);
	for (size_t t = 0; t < sizeof(texts) / sizeof(*texts); t++) {
		const char *text = texts[t];
		size_t len = strlen(text);
		char *want = reference(token, text);

		for (size_t a = 0; a <= len; a++) {
			char *got = redact_cut(&set, text, len, &a, 1);

			ck_assert_msg(strcmp(got, want) == 0, "\"%s\" cut at "
				      "%zu: \"%s\", want \"%s\"", text, a, got,
				      want);
			free(got);
			for (size_t b = a; b <= len; b++)
				check_cut_twice(&set, text, a, b, want);
		}
		free(want);
	}
	redact_set_free(&set);
}
END_TEST

/* One byte at a time: nothing of a secret comes out before it is
 * replaced. */
START_TEST(test_byte_by_byte)
{
	static const char *const token[] = { "s3cr3t", NULL };
	const char *text = "token is s3cr3t\n";
	struct redact_set set;
	struct redactor *r;
	struct sink out = { 0 };

	set_of(&set, token);
	r = redactor_new(&set);
	for (size_t i = 0; text[i]; i++) {
		redact_feed(r, text + i, 1, sink_take, &out);
		ck_assert_ptr_null(out.data ? strstr(out.data, "s3") : NULL);
	}
	ck_assert_str_eq(out.data, "token is ***\n");
	redact_flush(r, sink_take, &out);
	ck_assert_str_eq(out.data, "token is ***\n");
	redactor_free(r);
	sink_clear(&out);
	redact_set_free(&set);
}
END_TEST

START_TEST(test_overlapping)
{
	static const char *const nested[] = { "abc", "abcdef", NULL };
	static const char *const crossing[] = { "abc", "bcd", NULL };
	static const char *const inner[] = { "abcd", "bc", NULL };

	/* the longest secret starting at a position wins */
	check_redacts(nested, "xabcdefx", "x***x");
	check_redacts(nested, "xabcdex", "x***dex");
	check_redacts(nested, "abcabcdef", "******");
	/* the leftmost one wins; the scan goes on after it */
	check_redacts(crossing, "abcd", "***d");
	check_redacts(crossing, "xbcdabc", "x******");
	/* a shorter secret inside a longer one that did not match */
	check_redacts(inner, "abce", "a***e");
	check_redacts(inner, "abcd", "***");
	check_redacts(inner, "abc", "a***");
}
END_TEST

/* The longest secret is waited for, even when a shorter one is complete:
 * "abc" is not emitted while "abcdef" may still come. */
START_TEST(test_longest_waits)
{
	static const char *const nested[] = { "abc", "abcdef", NULL };
	struct redact_set set;
	struct redactor *r;
	struct sink out = { 0 };

	set_of(&set, nested);
	r = redactor_new(&set);
	redact_feed(r, "x abcde", 7, sink_take, &out);
	ck_assert_str_eq(out.data, "x ");
	redact_feed(r, "f y", 3, sink_take, &out);
	ck_assert_str_eq(out.data, "x *** y");
	redact_feed(r, "abcd", 4, sink_take, &out);
	ck_assert_str_eq(out.data, "x *** y");
	redact_feed(r, "!", 1, sink_take, &out);
	ck_assert_str_eq(out.data, "x *** y***d!");
	redactor_free(r);
	sink_clear(&out);
	redact_set_free(&set);
}
END_TEST

/* A held prefix that turns out to be something else is emitted as it
 * was, on the next feed. */
START_TEST(test_prefix_not_secret)
{
	static const char *const token[] = { "s3cr3t", NULL };
	struct redact_set set;
	struct redactor *r;
	struct sink out = { 0 };

	set_of(&set, token);
	r = redactor_new(&set);
	redact_feed(r, "it says s3c", 11, sink_take, &out);
	ck_assert_str_eq(out.data, "it says ");
	redact_feed(r, "ond", 3, sink_take, &out);
	ck_assert_str_eq(out.data, "it says s3cond");
	/* held, then released by a byte that cannot continue it */
	redact_feed(r, " s3cr3", 6, sink_take, &out);
	ck_assert_str_eq(out.data, "it says s3cond ");
	redact_feed(r, "s3cr3t", 6, sink_take, &out);
	ck_assert_str_eq(out.data, "it says s3cond s3cr3***");
	redactor_free(r);
	sink_clear(&out);
	redact_set_free(&set);
}
END_TEST

/* The flush emits what is held: at the end of the stream a prefix is
 * only a prefix; a shorter secret inside it is still replaced. */
START_TEST(test_flush)
{
	static const char *const inner[] = { "abcd", "bc", NULL };
	static const char *const token[] = { "s3cr3t", NULL };
	struct redact_set set;
	struct redactor *r;
	struct sink out = { 0 };

	set_of(&set, token);
	r = redactor_new(&set);
	redact_feed(r, "last: s3cr3", 11, sink_take, &out);
	ck_assert_str_eq(out.data, "last: ");
	redact_flush(r, sink_take, &out);
	ck_assert_str_eq(out.data, "last: s3cr3");
	/* the redactor is as new after a flush */
	redact_flush(r, sink_take, &out);
	redact_feed(r, "s3cr3t", 6, sink_take, &out);
	ck_assert_str_eq(out.data, "last: s3cr3***");
	redactor_free(r);
	sink_clear(&out);
	redact_set_free(&set);

	set_of(&set, inner);
	r = redactor_new(&set);
	redact_feed(r, "abc", 3, sink_take, &out);
	ck_assert_ptr_null(out.data);
	redact_flush(r, sink_take, &out);
	ck_assert_str_eq(out.data, "a***");
	redactor_free(r);
	sink_clear(&out);
	redact_set_free(&set);
}
END_TEST

START_TEST(test_set_rules)
{
	static const char *const none[] = { NULL };
	struct redact_set set = { 0 };
	char *big = malloc(REDACT_SECRET_MAX + 1);

	ck_assert_int_eq(redact_set_add(&set, "", 0), 0);
	ck_assert_uint_eq(set.count, 0);
	ck_assert_int_eq(redact_set_add(&set, "k", 1), 1);
	ck_assert_int_eq(redact_set_add(&set, "k", 1), 0);
	ck_assert_uint_eq(set.count, 1);
	/* bytes, not strings: a NUL is part of a secret */
	ck_assert_int_eq(redact_set_add(&set, "a\0b", 3), 1);
	ck_assert_uint_eq(set.longest, 3);
	memset(big, 'x', REDACT_SECRET_MAX + 1);
	errno = 0;
	ck_assert_int_eq(redact_set_add(&set, big, REDACT_SECRET_MAX + 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(redact_set_add(&set, big, REDACT_SECRET_MAX), 1);
	ck_assert_uint_eq(set.longest, REDACT_SECRET_MAX);
	redact_set_free(&set);
	ck_assert_uint_eq(set.count, 0);
	free(big);
	/* no secrets: everything passes unchanged */
	check_redacts(none, "anything at all", "anything at all");
}
END_TEST

/* A secret held at the end of one feed, completed far into a large next
 * feed; large runs come out in few pieces. */
START_TEST(test_large_chunks)
{
	static const char *const token[] = { "0123456789abcdef", NULL };
	size_t len = 200000;
	char *text = malloc(len + 1), *want;
	struct redact_set set;
	struct redactor *r;
	struct sink out = { 0 };

	memset(text, '.', len);
	text[len] = '\0';
	memcpy(text + 99990, token[0], 16);	/* across the first cut */
	memcpy(text + 150000, token[0], 16);
	want = reference(token, text);
	set_of(&set, token);
	r = redactor_new(&set);
	redact_feed(r, text, 100000, sink_take, &out);
	redact_feed(r, text + 100000, len - 100000, sink_take, &out);
	redact_flush(r, sink_take, &out);
	ck_assert_str_eq(out.data, want);
	ck_assert_uint_eq(out.len, len - 2 * 16 + 2 * 3);
	ck_assert_uint_le(out.pieces, 12);
	redactor_free(r);
	sink_clear(&out);
	redact_set_free(&set);
	free(want);
	free(text);
}
END_TEST

static int offset_order(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Many secrets that share prefixes, on text made of their pieces, under
 * random cuts: always the reference's answer. */
START_TEST(test_many_secrets)
{
	enum { SECRETS = 60, ROUNDS = 300 };
	static const char alphabet[] = "ab01";
	char *secrets[SECRETS + 1];
	char text[400];
	struct redact_set set = { 0 };

	srand(14);
	for (size_t i = 0; i < SECRETS; i++) {
		size_t n = 1 + (size_t)rand() % 9;

		secrets[i] = calloc(1, n + 2);	/* room for the z */
		for (size_t j = 0; j < n; j++)
			secrets[i][j] = alphabet[rand() % 4];
		/* no one-byte secrets, or everything is one */
		if (n == 1)
			secrets[i][1] = 'z';
		ck_assert_int_ge(redact_set_add(&set, secrets[i],
						strlen(secrets[i])), 0);
	}
	secrets[SECRETS] = NULL;
	for (int round = 0; round < ROUNDS; round++) {
		size_t len = (size_t)rand() % (sizeof(text) - 1), cuts[8];
		size_t count = (size_t)rand() % 8;
		char *want, *got;

		for (size_t i = 0; i < len; i++)
			text[i] = "ab01z."[rand() % 6];
		text[len] = '\0';
		for (size_t i = 0; i < count; i++)
			cuts[i] = len ? (size_t)rand() % (len + 1) : 0;
		qsort(cuts, count, sizeof(*cuts), offset_order);
		want = reference((const char *const *)secrets, text);
		got = redact_cut(&set, text, len, cuts, count);
		ck_assert_msg(strcmp(got, want) == 0, "round %d: \"%s\" gave "
			      "\"%s\", want \"%s\"", round, text, got, want);
		free(got);
		free(want);
	}
	redact_set_free(&set);
	for (size_t i = 0; i < SECRETS; i++)
		free(secrets[i]);
}
END_TEST

Suite *redact_suite(void)
{
	Suite *s = suite_create("redact");
	TCase *tc = tcase_create("redact");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_one_chunk);
	tcase_add_test(tc, test_split_everywhere);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_overlapping);
	tcase_add_test(tc, test_longest_waits);
	tcase_add_test(tc, test_prefix_not_secret);
	tcase_add_test(tc, test_flush);
	tcase_add_test(tc, test_set_rules);
	tcase_add_test(tc, test_large_chunks);
	tcase_add_test(tc, test_many_secrets);
	suite_add_tcase(s, tc);
	return s;
}
