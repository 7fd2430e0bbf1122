/* Unit tests of pattern.c: the regex syntax (POSIX ERE and the Rust-style
 * escapes), UTF-8 handling, the errors, linear time on the patterns that
 * make backtracking engines explode, and agreement with the C library's
 * POSIX regex on patterns both understand. */
#include <check.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/pattern.h"
#include "suites.h"

struct sample {
	const char *pattern;
	const char *text;
	int matches;
};

static int matches(const char *source, const char *text)
{
	char why[128] = "";
	struct pattern *p = pattern_compile(source, why, sizeof(why));
	int found;

	ck_assert_msg(p != NULL, "%s does not compile: %s", source, why);
	found = pattern_match(p, text, strlen(text));
	pattern_free(p);
	return found;
}

static void check_samples(const struct sample *samples, size_t count)
{
	for (size_t i = 0; i < count; i++)
		ck_assert_msg(matches(samples[i].pattern, samples[i].text) ==
			      samples[i].matches, "/%s/ on \"%s\": expected %d",
			      samples[i].pattern, samples[i].text,
			      samples[i].matches);
}

START_TEST(test_posix_ere)
{
	static const struct sample samples[] = {
		{ "", "", 1 }, { "", "anything", 1 },
		{ "ERR", "an ERR here", 1 }, { "ERR", "an Err here", 0 },
		{ "^ERR [0-9]", "ERR 2", 1 }, { "^ERR [0-9]", " ERR 2", 0 },
		{ "^ERR [0-9]", "ERR x", 0 }, { "done$", "all done", 1 },
		{ "done$", "done!", 0 }, { "^$", "", 1 }, { "^$", "x", 0 },
		{ "a.c", "abc", 1 }, { "a.c", "ac", 0 },
		{ "colou?r", "color", 1 }, { "colou?r", "colour", 1 },
		{ "colou?r", "colouur", 0 }, { "ab+c", "ac", 0 },
		{ "ab+c", "abbbc", 1 }, { "ab*c", "ac", 1 },
		{ "a{3}", "aa", 0 }, { "a{3}", "xaaay", 1 },
		{ "^a{2,3}$", "a", 0 }, { "^a{2,3}$", "aa", 1 },
		{ "^a{2,3}$", "aaa", 1 }, { "^a{2,3}$", "aaaa", 0 },
		{ "^a{2,}$", "aaaaaaa", 1 }, { "^a{2,}$", "a", 0 },
		{ "^a{0}b$", "b", 1 }, { "^(ab){2}$", "abab", 1 },
		{ "^(ab){2}$", "ab", 0 }, { "cat|dog", "hotdog", 1 },
		{ "cat|dog", "cow", 0 }, { "^(cat|dog)s?$", "dogs", 1 },
		{ "^(cat|dog)s?$", "cats!", 0 }, { "(^|,)x(,|$)", "a,x,b", 1 },
		{ "(^|,)x(,|$)", "a,xy", 0 }, { "[abc]", "zzbzz", 1 },
		{ "[abc]", "zzz", 0 }, { "[^abc]", "abc", 0 },
		{ "[^abc]", "abcd", 1 }, { "^[a-f0-9]+$", "deadbeef", 1 },
		{ "^[a-f0-9]+$", "deadbeeg", 0 }, { "[]]", "a]b", 1 },
		{ "[^]]", "]]]", 0 }, { "[a-]", "-", 1 },
		{ "[[:digit:]]+", "abc123", 1 }, { "[[:digit:]]", "abc", 0 },
		{ "^[[:alpha:]_][[:alnum:]_]*$", "_x9", 1 },
		{ "^[[:alpha:]_][[:alnum:]_]*$", "9x", 0 },
		{ "[[:space:]]", "a\tb", 1 }, { "[[:upper:]]", "abc", 0 },
		{ "[[:punct:]]", "a!", 1 }, { "[[:xdigit:]]{4}", "00fF", 1 },
		{ "\\.", "a.b", 1 }, { "\\.", "ab", 0 }, { "a\\*", "a*", 1 },
		{ "a\\*", "aa", 0 }, { "\\(x\\)", "(x)", 1 },
		{ "\\$5", "costs $5", 1 }, { "x{", "x{", 1 },
		{ "()", "a", 1 }, { "(a|)b", "b", 1 }, { "a||b", "b", 1 },
		{ "^(a*)*$", "aaaa", 1 }, { "^(a|b)*c$", "ababc", 1 },
		{ "^(a|b)*c$", "ababd", 0 }, { "a**", "x", 1 },
	};

	check_samples(samples, sizeof(samples) / sizeof(*samples));
}
END_TEST

START_TEST(test_rust_escapes)
{
	static const struct sample samples[] = {
		{ "\\d+", "port 8080", 1 }, { "\\d", "none", 0 },
		{ "^\\D+$", "none", 1 }, { "^\\D+$", "n0ne", 0 },
		{ "\\w+\\s\\w+", "hello world", 1 }, { "^\\W$", "!", 1 },
		{ "^\\W$", "a", 0 }, { "^\\S+$", "a b", 0 },
		{ "\\bcat\\b", "the cat sat", 1 }, { "\\bcat\\b", "concat", 0 },
		{ "\\Bcat", "concat", 1 }, { "\\Bcat", "cat", 0 },
		{ "\\Aab", "abc", 1 }, { "\\Aab", "cab", 0 },
		{ "ab\\z", "cab", 1 }, { "ab\\z", "abc", 0 },
		{ "a\\tb", "a\tb", 1 }, { "[\\d.]+", "1.5", 1 },
		{ "^[\\w-]+$", "a-b_c", 1 }, { "^[\\w-]+$", "a b", 0 },
		{ "(?:ab)+", "abab", 1 }, { "^a+?$", "aaa", 1 },
		{ "^a{1,2}?b", "aab", 1 }, { "(?i)error", "FATAL ERROR", 1 },
		{ "(?i)^[a-c]+$", "AbC", 1 }, { "(?i)x", "y", 0 },
		{ "error", "ERROR", 0 },
	};

	check_samples(samples, sizeof(samples) / sizeof(*samples));
}
END_TEST

START_TEST(test_utf8)
{
	static const struct sample samples[] = {
		{ "^.$", "\xc3\xa9", 1 },		/* é is one character */
		{ "^..$", "\xc3\xa9", 0 },
		{ "^.{3}$", "a\xe2\x82\xac" "b", 1 },	/* a€b */
		{ "^[^x]$", "\xf0\x9f\x98\x80", 1 },	/* one emoji */
		{ "^\\W$", "\xc3\xa9", 1 },
		{ "caf\xc3\xa9+$", "caf\xc3\xa9\xc3\xa9", 1 },
		{ "\xc3\xa9", "caf\xc3\xa9", 1 },
		{ "^\\S\\S$", "\xc3\xa9\xc3\xa9", 1 },
	};

	check_samples(samples, sizeof(samples) / sizeof(*samples));
}
END_TEST

START_TEST(test_errors)
{
	static const char *const bad[] = {
		"(", "(ab", ")", "a)", "[", "[a", "[[:nope:]]", "*a", "+",
		"?", "a{3,2}", "a{1001}", "a{2", "\\", "\\1", "(?=x)",
		"\\q", "[z-a]", "[\xc3\xa9]", "[[.a.]]", "(?i",
		"((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
		"((((((((((((((((((((((((((((((((((((((((((((((((((a))))))))"
		"))))))))))))))))))))))))))))))))))))))))))))))))))))))))))"
		"))))))))))))))))))))))))))))))))))",
		"(((a{1000}){1000}){1000})",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char why[128] = "";
		struct pattern *p;

		errno = 0;
		p = pattern_compile(bad[i], why, sizeof(why));
		ck_assert_msg(p == NULL, "/%s/ compiled", bad[i]);
		ck_assert_msg(*why != '\0', "/%s/: no reason", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
	}
}
END_TEST

/* The patterns that take exponential time in a backtracking engine take
 * a few milliseconds here: the check timeout (seconds) is the bound. */
START_TEST(test_linear_time)
{
	static const struct sample evil[] = {
		{ "^(a+)+$", NULL, 0 }, { "^(a*)*b$", NULL, 0 },
		{ "^(a|aa)+$", NULL, 0 }, { "(a|a)*c", NULL, 0 },
		{ "^(a?){30}a{30}$", NULL, 0 }, { "(x+x+)+y", NULL, 0 },
		{ "^(a|aa)+!$", NULL, 1 }, { "(a*)*(a*)*!", NULL, 1 },
	};
	static char text[16384 + 1];	/* a...a! */

	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 2] = '!';
	for (size_t i = 0; i < sizeof(evil) / sizeof(*evil); i++)
		for (int round = 0; round < 3; round++)
			ck_assert_msg(matches(evil[i].pattern, text) ==
				      evil[i].matches, "/%s/", evil[i].pattern);
}
END_TEST

/* Where the syntaxes agree, the answers agree with the C library's POSIX
 * regex (here glibc's), over every pattern and text of a small grid. */
START_TEST(test_agrees_with_posix)
{
	static const char *const patterns[] = {
		"a", "ab", "a|b", "a*", "a+b", "^a", "b$", "^(ab|a)b*$",
		"[ab]+c", "[^a]b", "a.c", "a{2}", "^(a|b){1,3}$", "(a|b)*abb",
		"^[[:alpha:]]+[[:digit:]]?$", "b(a|)c", "^$", "(^a|b$)",
		"x*y?z+", "[a-c][b-d]",
	};
	static const char *const texts[] = {
		"", "a", "b", "ab", "abb", "aab", "abab", "ba", "bc", "abc",
		"aabb", "zabbz", "bac", "bc", "a1", "ab12", "xyz", "zzz",
		"cb", "bd", "abbab", "ac", "b",
	};

	for (size_t i = 0; i < sizeof(patterns) / sizeof(*patterns); i++) {
		regex_t posix;

		ck_assert_int_eq(regcomp(&posix, patterns[i],
					 REG_EXTENDED | REG_NOSUB), 0);
		for (size_t j = 0; j < sizeof(texts) / sizeof(*texts); j++)
			ck_assert_msg(matches(patterns[i], texts[j]) ==
				      (regexec(&posix, texts[j], 0, NULL, 0)
				       == 0), "/%s/ on \"%s\" disagrees",
				      patterns[i], texts[j]);
		regfree(&posix);
	}
}
END_TEST

START_TEST(test_reuse)
{
	char why[128];
	struct pattern *p = pattern_compile("^w[aeiou]+rd$", why,
					    sizeof(why));

	ck_assert_ptr_nonnull(p);
	/* the scratch is reused: the stamp wraps long before this ends */
	for (int i = 0; i < 100000; i++) {
		ck_assert_int_eq(pattern_match(p, "weird", 5), 1);
		ck_assert_int_eq(pattern_match(p, "word!", 5), 0);
	}
	ck_assert_int_eq(pattern_match(p, "w\0rd", 4), 0);
	pattern_free(p);
	pattern_free(NULL);
}
END_TEST

Suite *pattern_suite(void)
{
	Suite *s = suite_create("pattern");
	TCase *tc = tcase_create("pattern");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_posix_ere);
	tcase_add_test(tc, test_rust_escapes);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_linear_time);
	tcase_add_test(tc, test_agrees_with_posix);
	tcase_add_test(tc, test_reuse);
	suite_add_tcase(s, tc);
	return s;
}
