/* Unit tests of json.c: escaping, lossy UTF-8 (whole and streamed), the
 * compact and pretty layouts, fd and memory output, and the strict parser. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "json_parse.h"
#include "lib/utf8.h"
#include "suites.h"

/* A literal and its length, embedded NULs included. */
#define TEXT(s) s, sizeof(s) - 1

/* ---- helpers ---------------------------------------------------------- */

static void assert_json_string(const char *in, size_t n, const char *want)
{
	struct json_writer w;

	jw_init_mem(&w, 1 << 16, 0);
	jw_string_n(&w, in, n);
	ck_assert_int_eq(w.error, 0);
	ck_assert_str_eq(w.buf, want);
	ck_assert_uint_eq(w.len, strlen(want));
	jw_free(&w);
}

static void assert_lossy(const char *in, size_t n, const char *want)
{
	char *out = malloc(3 * n + 1);
	size_t consumed = 12345, len;

	ck_assert_ptr_nonnull(out);
	len = utf8_lossy(in, n, out, 1, &consumed);
	out[len] = '\0';
	ck_assert_uint_eq(consumed, n);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(out, want);
	free(out);
}

/* Parse text that must be valid and write it back (compact or pretty). */
static void assert_rewrite(const char *text, int pretty, const char *want)
{
	struct json_doc doc;
	struct json_writer w;
	char err[128];

	ck_assert_msg(json_parse(&doc, text, strlen(text), 64, err,
				 sizeof(err)) == 0, "%s: %s", text, err);
	jw_init_mem(&w, 1 << 16, pretty);
	jw_value(&w, doc.root);
	ck_assert_int_eq(w.error, 0);
	ck_assert_str_eq(w.buf, want);
	jw_free(&w);
	json_doc_free(&doc);
}

static int parse_str(struct json_doc *doc, const char *text, char *err,
		     size_t errlen)
{
	return json_parse(doc, text, strlen(text), 64, err, errlen);
}

/* ---- escaping and lossy UTF-8 ----------------------------------------- */

START_TEST(test_escape_classes)
{
	assert_json_string(TEXT("plain text 123"), "\"plain text 123\"");
	assert_json_string(TEXT("a\"b"), "\"a\\\"b\"");
	assert_json_string(TEXT("a\\b"), "\"a\\\\b\"");
	assert_json_string(TEXT("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
	assert_json_string(TEXT("\x01"), "\"\\u0001\"");
	assert_json_string(TEXT("\x1b[0m"), "\"\\u001b[0m\"");
	assert_json_string(TEXT("\x1f\x0b"), "\"\\u001f\\u000b\"");
	assert_json_string(TEXT("a\0b"), "\"a\\u0000b\"");
	assert_json_string(TEXT("\x7f"), "\"\x7f\"");
	assert_json_string(TEXT("a/b</script>"), "\"a/b</script>\"");
	assert_json_string(TEXT(""), "\"\"");
}
END_TEST

START_TEST(test_lossy_invalid)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ TEXT("\xf0\x9f\x98" "A"), "\xef\xbf\xbd" "A" },
		{ TEXT("\x80"), "\xef\xbf\xbd" },
		{ TEXT("\xc0\x80"), "\xef\xbf\xbd\xef\xbf\xbd" },
		{ TEXT("\xed\xa0\x80"),
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ TEXT("\xf5"), "\xef\xbf\xbd" },
		{ TEXT("\xff\xfe"), "\xef\xbf\xbd\xef\xbf\xbd" },
		{ TEXT("\xe0\x80\x80"),
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ TEXT("\xf4\x90\x80\x80"),
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ TEXT("\xe2\x82" "x"), "\xef\xbf\xbd" "x" },
		{ TEXT("\xc3"), "\xef\xbf\xbd" },
		{ TEXT("\xf0\x9f\x98"), "\xef\xbf\xbd" },
		{ TEXT("a\xc3\xa9\x80" "b"), "a\xc3\xa9\xef\xbf\xbd" "b" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_lossy(cases[i].in, cases[i].len, cases[i].want);
	/* The same replacement inside a JSON string, next to escapes. */
	assert_json_string(TEXT("\xf0\x9f\x98" "A\n"),
			   "\"\xef\xbf\xbd" "A\\n\"");
	assert_json_string(TEXT("\xc0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_json_string(TEXT("\xed\xa0\x80"),
			   "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_json_string(TEXT("\xff"), "\"\xef\xbf\xbd\"");
}
END_TEST

START_TEST(test_lossy_valid)
{
	static const char *const chars[] = {
		"\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe0\xa0\x80",
		"\xe2\x82\xac", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
		"\xf0\x90\x80\x80", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
	};
	char quoted[16];
	size_t i;

	for (i = 0; i < sizeof(chars) / sizeof(chars[0]); i++) {
		assert_lossy(chars[i], strlen(chars[i]), chars[i]);
		strcpy(quoted, "\"");
		strcat(quoted, chars[i]);
		strcat(quoted, "\"");
		assert_json_string(chars[i], strlen(chars[i]), quoted);
	}
}
END_TEST

START_TEST(test_lossy_incomplete_tail)
{
	char out[32];
	size_t consumed, len;

	/* Not final: a valid prefix at the end waits for more input. */
	len = utf8_lossy(TEXT("ab\xe2\x82"), out, 0, &consumed);
	ck_assert_uint_eq(len, 2);
	ck_assert_uint_eq(consumed, 2);
	len = utf8_lossy(TEXT("ab\xf0"), out, 0, &consumed);
	ck_assert_uint_eq(consumed, 2);
	/* An invalid sequence is replaced even when not final. */
	len = utf8_lossy(TEXT("\xe2(x"), out, 0, &consumed);
	ck_assert_uint_eq(consumed, 3);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(memcmp(out, "\xef\xbf\xbd(x", 5), 0);
	/* Final: the prefix becomes one U+FFFD. */
	len = utf8_lossy(TEXT("ab\xe2\x82"), out, 1, &consumed);
	ck_assert_uint_eq(consumed, 4);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(memcmp(out, "ab\xef\xbf\xbd", 5), 0);
	ck_assert_uint_eq(utf8_lossy("", 0, out, 1, NULL), 0);
}
END_TEST

/* ---- streamed strings ------------------------------------------------- */

/* Stream in[0..n) cut at the given offsets; returns the JSON text. */
static char *stream_pieces(const char *in, size_t n, const size_t *cuts,
			   size_t ncuts, uint64_t *out_bytes)
{
	struct json_writer w;
	struct jw_stream st;
	size_t i, from = 0, to;

	jw_init_mem(&w, 1 << 16, 0);
	jw_string_begin(&w, &st);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : n;
		jw_string_chunk(&w, &st, in + from, to - from);
		from = to;
	}
	jw_string_end(&w, &st);
	ck_assert_int_eq(w.error, 0);
	*out_bytes = st.out_bytes;
	return w.buf;
}

START_TEST(test_stream_every_split)
{
	static const char in[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
		"\xf0\x9f\x98" "A\x80\xed\xa0\x80\"\n\xe0\xa0" "z\xf4\x8f\xbf";
	size_t n = sizeof(in) - 1, cuts[2], i, j, decoded_len;
	char want[256], decoded[3 * sizeof(in)], *got;
	struct json_writer w;
	uint64_t out_bytes;

	jw_init_mem(&w, sizeof(want) - 1, 0);
	jw_string_n(&w, in, n);
	ck_assert_int_eq(w.error, 0);
	strcpy(want, w.buf);
	jw_free(&w);
	decoded_len = utf8_lossy(in, n, decoded, 1, NULL);
	for (i = 0; i <= n; i++) {
		for (j = i; j <= n; j++) {
			cuts[0] = i;
			cuts[1] = j;
			got = stream_pieces(in, n, cuts, 2, &out_bytes);
			ck_assert_msg(strcmp(got, want) == 0,
				      "cuts %zu,%zu: %s", i, j, got);
			ck_assert_uint_eq(out_bytes, decoded_len);
			free(got);
		}
	}
}
END_TEST

START_TEST(test_stream_byte_by_byte)
{
	static const char in[] = "\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9!";
	size_t cuts[sizeof(in)], i;
	uint64_t out_bytes;
	char *got;

	for (i = 1; i < sizeof(in) - 1; i++)
		cuts[i - 1] = i;
	got = stream_pieces(in, sizeof(in) - 1, cuts, sizeof(in) - 2,
			    &out_bytes);
	ck_assert_str_eq(got, "\"\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9!\"");
	ck_assert_uint_eq(out_bytes, 10);
	free(got);
}
END_TEST

START_TEST(test_stream_out_bytes)
{
	static const size_t none[1];
	uint64_t out_bytes;
	char *got;

	got = stream_pieces(TEXT("\xc3\xa9\n\""), none, 0, &out_bytes);
	ck_assert_str_eq(got, "\"\xc3\xa9\\n\\\"\"");
	ck_assert_uint_eq(out_bytes, 4);
	free(got);
	/* A truncated character at the end becomes one U+FFFD. */
	got = stream_pieces(TEXT("A\xf0\x9f\x98"), none, 0, &out_bytes);
	ck_assert_str_eq(got, "\"A\xef\xbf\xbd\"");
	ck_assert_uint_eq(out_bytes, 4);
	free(got);
	got = stream_pieces(TEXT("\xff\x01"), none, 0, &out_bytes);
	ck_assert_str_eq(got, "\"\xef\xbf\xbd\\u0001\"");
	ck_assert_uint_eq(out_bytes, 4);
	free(got);
	got = stream_pieces("", 0, none, 0, &out_bytes);
	ck_assert_str_eq(got, "\"\"");
	ck_assert_uint_eq(out_bytes, 0);
	free(got);
}
END_TEST

START_TEST(test_stream_as_member)
{
	struct json_writer w;
	struct jw_stream st;

	jw_init_mem(&w, 1024, 0);
	jw_object_begin(&w);
	jw_kv_u64(&w, "n", 1);
	jw_key(&w, "log");
	jw_string_begin(&w, &st);
	jw_string_chunk(&w, &st, "ab\xe2", 3);
	jw_string_chunk(&w, &st, "\x82", 1);
	jw_string_chunk(&w, &st, "\xac" "cd", 3);
	jw_string_end(&w, &st);
	jw_kv_bool(&w, "more", 0);
	jw_object_end(&w);
	ck_assert_str_eq(w.buf, "{\"n\":1,\"log\":\"ab\xe2\x82\xac" "cd\","
			 "\"more\":false}");
	ck_assert_uint_eq(st.out_bytes, 7);
	jw_free(&w);
}
END_TEST

/* ---- layout ----------------------------------------------------------- */

static void write_sample(struct json_writer *w)
{
	jw_object_begin(w);
	jw_kv_u64(w, "a", 1);
	jw_key(w, "b");
	jw_array_begin(w);
	jw_bool(w, 1);
	jw_null(w);
	jw_array_begin(w);
	jw_i64(w, -2);
	jw_array_end(w);
	jw_array_end(w);
	jw_key(w, "c");
	jw_object_begin(w);
	jw_object_end(w);
	jw_key(w, "d");
	jw_array_begin(w);
	jw_array_end(w);
	jw_key(w, "e");
	jw_object_begin(w);
	jw_kv_str(w, "f", "g");
	jw_kv_str(w, "h", NULL);
	jw_object_end(w);
	jw_object_end(w);
}

static const char sample_compact[] =
	"{\"a\":1,\"b\":[true,null,[-2]],\"c\":{},\"d\":[],"
	"\"e\":{\"f\":\"g\",\"h\":null}}";

static const char sample_pretty[] =
	"{\n"
	"  \"a\": 1,\n"
	"  \"b\": [\n"
	"    true,\n"
	"    null,\n"
	"    [\n"
	"      -2\n"
	"    ]\n"
	"  ],\n"
	"  \"c\": {},\n"
	"  \"d\": [],\n"
	"  \"e\": {\n"
	"    \"f\": \"g\",\n"
	"    \"h\": null\n"
	"  }\n"
	"}";

START_TEST(test_compact_nested)
{
	struct json_writer w;

	jw_init_mem(&w, 4096, 0);
	write_sample(&w);
	ck_assert_int_eq(w.error, 0);
	ck_assert_str_eq(w.buf, sample_compact);
	ck_assert_int_eq(w.depth, 0);
	jw_free(&w);
}
END_TEST

START_TEST(test_pretty_nested)
{
	struct json_writer w;

	jw_init_mem(&w, 4096, 1);
	write_sample(&w);
	ck_assert_int_eq(w.error, 0);
	ck_assert_str_eq(w.buf, sample_pretty);
	jw_free(&w);
}
END_TEST

START_TEST(test_pretty_scalars_and_empty)
{
	struct json_writer w;

	jw_init_mem(&w, 4096, 1);
	jw_array_begin(&w);
	jw_array_end(&w);
	ck_assert_str_eq(w.buf, "[]");
	jw_free(&w);
	jw_init_mem(&w, 4096, 1);
	jw_string(&w, "x");
	ck_assert_str_eq(w.buf, "\"x\"");
	jw_free(&w);
	jw_init_mem(&w, 4096, 1);
	jw_array_begin(&w);
	jw_object_begin(&w);
	jw_object_end(&w);
	jw_raw(&w, "{\"r\":1}", 7);
	jw_array_end(&w);
	ck_assert_str_eq(w.buf, "[\n  {},\n  {\"r\":1}\n]");
	jw_free(&w);
}
END_TEST

START_TEST(test_numbers_and_raw)
{
	struct json_writer w;

	jw_init_mem(&w, 4096, 0);
	jw_array_begin(&w);
	jw_u64(&w, 0);
	jw_u64(&w, UINT64_MAX);
	jw_i64(&w, INT64_MIN);
	jw_i64(&w, INT64_MAX);
	jw_i64(&w, -1);
	jw_i64(&w, 0);
	jw_raw(&w, "1.5e3", 5);
	jw_raw(&w, "[1,2]", 5);
	jw_array_end(&w);
	ck_assert_int_eq(w.error, 0);
	ck_assert_str_eq(w.buf, "[0,18446744073709551615,-9223372036854775808,"
			 "9223372036854775807,-1,0,1.5e3,[1,2]]");
	jw_free(&w);
}
END_TEST

START_TEST(test_kv_shorthands)
{
	struct json_writer w;

	jw_init_mem(&w, 4096, 0);
	jw_object_begin(&w);
	jw_kv_str(&w, "s", "v\"");
	jw_kv_str(&w, "n", NULL);
	jw_kv_u64(&w, "u", 42);
	jw_kv_i64(&w, "i", -42);
	jw_kv_bool(&w, "t", 1);
	jw_kv_bool(&w, "f", 0);
	jw_key(&w, "k\n");
	jw_raw(&w, "\"raw\"", 5);
	jw_object_end(&w);
	ck_assert_str_eq(w.buf, "{\"s\":\"v\\\"\",\"n\":null,\"u\":42,"
			 "\"i\":-42,\"t\":true,\"f\":false,\"k\\n\":\"raw\"}");
	jw_free(&w);
}
END_TEST

START_TEST(test_writer_depth_limit)
{
	struct json_writer w;
	size_t len_at_limit;
	int i;

	jw_init_mem(&w, 4096, 0);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		jw_array_begin(&w);
	ck_assert_int_eq(w.error, 0);
	ck_assert_int_eq(w.depth, JSON_MAX_DEPTH);
	len_at_limit = w.len;
	jw_array_begin(&w);
	ck_assert_int_eq(w.error, EINVAL);
	jw_array_end(&w);
	jw_u64(&w, 1);
	ck_assert_uint_eq(w.len, len_at_limit);
	ck_assert_int_eq(jw_flush(&w), -1);
	ck_assert_int_eq(errno, EINVAL);
	jw_free(&w);

	jw_init_mem(&w, 4096, 0);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		jw_array_begin(&w);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		jw_array_end(&w);
	ck_assert_int_eq(w.error, 0);
	ck_assert_uint_eq(w.len, 2 * JSON_MAX_DEPTH);
	jw_array_end(&w);
	ck_assert_int_eq(w.error, EINVAL);
	jw_free(&w);
}
END_TEST

/* ---- output targets --------------------------------------------------- */

static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t got;

	while (len < cap && (got = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)got;
	return len;
}

START_TEST(test_fd_small_buffer)
{
	static const char tail[] =
		"\"a string much longer than the seven byte buffer\"";
	struct json_writer w;
	char buf[7], back[1024];
	int fds[2];
	size_t len;

	ck_assert_int_eq(pipe(fds), 0);
	jw_init_fd(&w, fds[1], buf, sizeof(buf), 1);
	write_sample(&w);
	jw_string(&w, "a string much longer than the seven byte buffer");
	ck_assert_int_eq(w.error, 0);
	ck_assert_uint_lt(w.len, sizeof(buf) + 1);
	ck_assert_int_eq(jw_flush(&w), 0);
	ck_assert_uint_eq(w.len, 0);
	jw_free(&w);	/* fd mode: must leave the caller's buffer alone */
	ck_assert_ptr_eq(w.buf, buf);
	close(fds[1]);
	len = read_all(fds[0], back, sizeof(back) - 1);
	close(fds[0]);
	back[len] = '\0';
	ck_assert_uint_eq(len, strlen(sample_pretty) + strlen(tail));
	ck_assert_int_eq(strncmp(back, sample_pretty, strlen(sample_pretty)),
			 0);
	ck_assert_str_eq(back + strlen(sample_pretty), tail);
}
END_TEST

START_TEST(test_fd_error_is_sticky)
{
	struct json_writer w;
	char buf[8];
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	jw_init_fd(&w, fd, buf, sizeof(buf), 0);
	jw_string(&w, "abc");
	ck_assert_int_eq(w.error, 0);	/* "abc" fits, nothing written */
	jw_string(&w, "def");
	ck_assert_int_eq(w.error, EBADF);
	jw_string(&w, "ghi");
	ck_assert_int_eq(w.error, EBADF);
	errno = 0;
	ck_assert_int_eq(jw_flush(&w), -1);
	ck_assert_int_eq(errno, EBADF);
	close(fd);
}
END_TEST

static void ignore_signal(int signo)
{
	(void)signo;
}

/* Read /proc/<pid>/<name> into buf, NUL-terminated; 0 when unavailable. */
static size_t read_proc(pid_t pid, const char *name, char *buf, size_t cap)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, cap - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

/* Whether pid sleeps (here: blocked in write() on a full pipe). Without
 * /proc we cannot tell, and say yes so as not to wait. */
static int process_sleeping(pid_t pid)
{
	char stat[512], *end;

	if (!read_proc(pid, "stat", stat, sizeof(stat)))
		return 1;
	end = strrchr(stat, ')');
	return !end || end[1] == '\0' || end[2] == 'S';
}

/* Whether pid has taken our SIGUSR1, i.e. it is no longer pending. */
static int signal_taken(pid_t pid)
{
	static const char *const fields[] = { "\nSigPnd:", "\nShdPnd:" };
	char status[4096], *field;
	size_t i;

	if (!read_proc(pid, "status", status, sizeof(status)))
		return 1;
	for (i = 0; i < 2; i++) {
		field = strstr(status, fields[i]);
		if (field && strtoull(field + 8, NULL, 16) >> (SIGUSR1 - 1) & 1)
			return 0;
	}
	return 1;
}

/* Poll for a condition of a process, giving up after 5 seconds. */
static void wait_until(int (*condition)(pid_t), pid_t pid)
{
	struct timespec now, deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 5;
	do
		clock_gettime(CLOCK_MONOTONIC, &now);
	while (!condition(pid) && now.tv_sec < deadline.tv_sec);
}

/* Signal pid once it is blocked, and let it act on the signal before we
 * change anything: the outcome of its write() is settled by then. */
static void interrupt_when_sleeping(pid_t pid)
{
	wait_until(process_sleeping, pid);
	kill(pid, SIGUSR1);
	wait_until(signal_taken, pid);
}

/* 0 when fd delivers exactly want[0..len) and then EOF. */
static int read_and_compare(int fd, const char *want, size_t len)
{
	char piece[4096];
	size_t got = 0;
	ssize_t n;

	while ((n = read(fd, piece, sizeof(piece))) > 0) {
		if ((size_t)n > len - got || memcmp(piece, want + got, n))
			return 1;
		got += (size_t)n;
	}
	return n == 0 && got == len ? 0 : 1;
}

/* The reader of test_fd_interrupted_writes. The pipe starts full, so the
 * writer's first write() blocks: a signal then makes it fail with EINTR.
 * Reading one page lets 4096 bytes through and the writer blocks again:
 * a signal now makes for a short write. Then the rest must arrive whole. */
static int read_interrupting(pid_t writer, int fd, const char *want,
			     size_t len)
{
	char page[4096];

	interrupt_when_sleeping(writer);
	if (read(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
		return 1;
	interrupt_when_sleeping(writer);
	return read_and_compare(fd, want + sizeof(page), len - sizeof(page));
}

/* Fill the pipe until it takes no more, and append what went in to want. */
static void fill_pipe(int fd, struct json_writer *want)
{
	char page[4096];

	memset(page, 'p', sizeof(page));
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	while (write(fd, page, sizeof(page)) == (ssize_t)sizeof(page))
		jw_raw(want, page, sizeof(page));
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(fcntl(fd, F_SETFL, 0), 0);
}

/* Signals without SA_RESTART while writing to a full pipe: write_all must
 * retry after EINTR and carry on after a short write. */
START_TEST(test_fd_interrupted_writes)
{
	struct sigaction action = { .sa_handler = ignore_signal }, saved;
	struct json_writer want, w;
	char chunk[1000], buf[65536];
	int fds[2], status, i;
	pid_t reader;

	memset(chunk, 'y', sizeof(chunk));
	ck_assert_int_eq(pipe(fds), 0);
	jw_init_mem(&want, 8 << 20, 0);
	fill_pipe(fds[1], &want);
	for (i = 0; i < 1000; i++)
		jw_string_n(&want, chunk, sizeof(chunk));
	ck_assert_int_eq(want.error, 0);
	ck_assert_int_eq(sigaction(SIGUSR1, &action, &saved), 0);
	reader = fork();
	ck_assert_int_ge(reader, 0);
	if (reader == 0) {
		close(fds[1]);
		status = read_interrupting(getppid(), fds[0], want.buf,
					   want.len);
		jw_free(&want);
		_exit(status);
	}
	close(fds[0]);
	jw_init_fd(&w, fds[1], buf, sizeof(buf), 0);
	for (i = 0; i < 1000; i++)
		jw_string_n(&w, chunk, sizeof(chunk));
	jw_flush(&w);
	close(fds[1]);
	while (waitpid(reader, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	sigaction(SIGUSR1, &saved, NULL);
	ck_assert_int_eq(w.error, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	jw_free(&want);
}
END_TEST

START_TEST(test_mem_limit)
{
	static const char want[] = "[\"0123456789\",true]";
	struct json_writer w;

	/* Exactly the length fits. */
	jw_init_mem(&w, sizeof(want) - 1, 0);
	jw_array_begin(&w);
	jw_string(&w, "0123456789");
	jw_bool(&w, 1);
	jw_array_end(&w);
	ck_assert_int_eq(w.error, 0);
	ck_assert_str_eq(w.buf, want);
	ck_assert_int_eq(jw_flush(&w), 0);
	jw_free(&w);
	ck_assert_ptr_null(w.buf);

	/* One byte less does not, and the error stays. */
	jw_init_mem(&w, sizeof(want) - 2, 0);
	jw_array_begin(&w);
	jw_string(&w, "0123456789");
	jw_bool(&w, 1);
	jw_array_end(&w);
	ck_assert_int_eq(w.error, ENOBUFS);
	ck_assert_uint_le(w.len, sizeof(want) - 2);
	ck_assert_uint_eq(strlen(w.buf), w.len);
	ck_assert_int_eq(jw_flush(&w), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	jw_free(&w);
}
END_TEST

START_TEST(test_mem_growth)
{
	struct json_writer w;
	char *chunk = malloc(100000);
	size_t i;

	ck_assert_ptr_nonnull(chunk);
	memset(chunk, 'x', 100000);
	jw_init_mem(&w, 1 << 20, 0);
	jw_array_begin(&w);
	for (i = 0; i < 5; i++)
		jw_string_n(&w, chunk, 100000);
	jw_array_end(&w);
	ck_assert_int_eq(w.error, 0);
	ck_assert_uint_eq(w.len, 2 + 5 * 100002 + 4);
	ck_assert_uint_eq(strlen(w.buf), w.len);
	ck_assert_uint_le(w.cap, (1 << 20) + 1);
	jw_free(&w);
	free(chunk);
}
END_TEST

/* ---- parser ----------------------------------------------------------- */

START_TEST(test_parse_valid)
{
	static const char *const valid[] = {
		"0", "-0", "1.5e+10", "-1E-2", "0.25", "true", "false", "null",
		"\"\"", "[]", "{}", " [ 1 , 2 ] ", "\t\n\r 7 \t\n\r",
		"{\"a\":{\"b\":[1,{\"c\":null}]}}", "\"\\u0000\"",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
		"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "{\"a\":1,\"a\":2}",
		"123456789012345678901234567890", "\"\x7f\"", "[[[]]]",
		"{ \"k\" : [ true , false ] }", "1e5", "[-0.0e-0]",
	};
	struct json_doc doc;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		ck_assert_msg(parse_str(&doc, valid[i], err, sizeof(err)) == 0,
			      "rejected %s: %s", valid[i], err);
		ck_assert_ptr_nonnull(doc.root);
		json_doc_free(&doc);
		ck_assert_ptr_null(doc.arena);
	}
}
END_TEST

START_TEST(test_parse_invalid)
{
	static const struct {
		const char *text;
		size_t len;
	} invalid[] = {
		{ TEXT("") }, { TEXT(" ") }, { TEXT("[1,]") },
		{ TEXT("{\"a\":1,}") }, { TEXT("[1 2]") },
		{ TEXT("{\"a\" 1}") },
		{ TEXT("{a:1}") }, { TEXT("{\"a\":1") }, { TEXT("[") },
		{ TEXT("]") }, { TEXT("01") }, { TEXT("-01") }, { TEXT("+1") },
		{ TEXT(".5") }, { TEXT("1.") }, { TEXT("1e") }, { TEXT("1e+") },
		{ TEXT("-") }, { TEXT("NaN") }, { TEXT("Infinity") },
		{ TEXT("-Infinity") }, { TEXT("nul") }, { TEXT("tru") },
		{ TEXT("True") }, { TEXT("// c\n1") }, { TEXT("/* c */1") },
		{ TEXT("1 2") }, { TEXT("[1]x") }, { TEXT("\"abc") },
		{ TEXT("\"a\x01\"") }, { TEXT("\"\t\"") }, { TEXT("\"\\x\"") },
		{ TEXT("\"\\u12\"") }, { TEXT("\"\\u12G4\"") },
		{ TEXT("\"\\ud800\"") }, { TEXT("\"\\udc00\"") },
		{ TEXT("\"\\ud800\\u0041\"") }, { TEXT("\"\\ud800x\"") },
		{ TEXT("\"\xff\"") }, { TEXT("\"\xc0\x80\"") },
		{ TEXT("\"\xed\xa0\x80\"") }, { TEXT("\"\xe2\x82\"") },
		{ TEXT("\"\xf0\x9f\x98") }, { TEXT("'a'") },
		{ TEXT("{\"a\":1 \"b\":2}") }, { TEXT("[,1]") },
		{ TEXT("{,}") },
		{ TEXT("\"a\"\"b\"") }, { TEXT("\xef\xbb\xbf{}") },
		{ TEXT("1\0") }, { TEXT("[1,,2]") }, { TEXT("{\"a\"}") },
		{ TEXT("{1:2}") }, { TEXT("\"\\") }, { TEXT("0x10") },
		{ TEXT("1e5.0") }, { TEXT("[1]]") }, { TEXT("\"\n\"") },
	};
	struct json_doc doc;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		err[0] = '\0';
		doc.root = (struct json_value *)&doc;
		ck_assert_msg(json_parse(&doc, invalid[i].text, invalid[i].len,
					 64, err, sizeof(err)) == -1,
			      "accepted case %zu: %s", i, invalid[i].text);
		ck_assert_msg(strstr(err, " at offset ") != NULL,
			      "case %zu: message \"%s\"", i, err);
		ck_assert_ptr_null(doc.root);
		json_doc_free(&doc);
		json_doc_free(&doc);
	}
}
END_TEST

START_TEST(test_parse_messages)
{
	struct json_doc doc;
	char err[128], small[8];

	ck_assert_int_eq(parse_str(&doc, "[1,x]", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unexpected character 'x' at offset 3");
	ck_assert_int_eq(parse_str(&doc, "[1,", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unexpected end of input at offset 3");
	ck_assert_int_eq(parse_str(&doc, "", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unexpected end of input at offset 0");
	ck_assert_int_eq(parse_str(&doc, "\"a\xff\"", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid UTF-8 in string at offset 2");
	ck_assert_int_eq(parse_str(&doc, "\"a\x01\"", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "control character in string at offset 2");
	ck_assert_int_eq(parse_str(&doc, "[\"\\ud800\"]", err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "unpaired surrogate at offset 2");
	ck_assert_int_eq(parse_str(&doc, "{} \x01", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unexpected byte 0x01 at offset 3");
	/* Truncated to the buffer, still terminated. */
	ck_assert_int_eq(parse_str(&doc, "[1,x]", small, sizeof(small)), -1);
	ck_assert_str_eq(small, "unexpec");
	/* No buffer at all is fine too. */
	ck_assert_int_eq(parse_str(&doc, "[1,x]", NULL, 0), -1);
}
END_TEST

/* n nested arrays around a 1. */
static char *nested_arrays(int n)
{
	char *text = malloc(2 * (size_t)n + 2);
	int i;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i < n; i++) {
		text[i] = '[';
		text[n + 1 + i] = ']';
	}
	text[n] = '1';
	text[2 * n + 1] = '\0';
	return text;
}

START_TEST(test_parse_depth)
{
	struct json_doc doc;
	char err[128], *text;

	ck_assert_int_eq(json_parse(&doc, "1", 1, 0, err, sizeof(err)), 0);
	json_doc_free(&doc);
	ck_assert_int_eq(json_parse(&doc, "[]", 2, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "depth"));
	ck_assert_int_eq(json_parse(&doc, "[[1]]", 5, 2, err, sizeof(err)), 0);
	json_doc_free(&doc);
	ck_assert_int_eq(json_parse(&doc, "[[1]]", 5, 1, err, sizeof(err)), -1);
	ck_assert_int_eq(json_parse(&doc, TEXT("{\"a\":{\"b\":{}}}"), 3, err,
				    sizeof(err)), 0);
	json_doc_free(&doc);
	ck_assert_int_eq(json_parse(&doc, TEXT("{\"a\":{\"b\":{}}}"), 2, err,
				    sizeof(err)), -1);

	text = nested_arrays(64);
	ck_assert_int_eq(parse_str(&doc, text, err, sizeof(err)), 0);
	json_doc_free(&doc);
	free(text);
	text = nested_arrays(65);
	ck_assert_int_eq(parse_str(&doc, text, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "nesting deeper than max depth 64 at offset 64");
	free(text);
}
END_TEST

START_TEST(test_parse_unicode_escapes)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "\"\\u0041\"", "A" },
		{ "\"\\u00e9\"", "\xc3\xa9" },
		{ "\"\\u00E9\"", "\xc3\xa9" },
		{ "\"\\u07ff\"", "\xdf\xbf" },
		{ "\"\\u20ac\"", "\xe2\x82\xac" },
		{ "\"\\uffff\"", "\xef\xbf\xbf" },
		{ "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80" },
		{ "\"\\uD800\\uDC00\"", "\xf0\x90\x80\x80" },
		{ "\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf" },
		{ "\"x\\\"\\\\\\/\\b\\f\\n\\r\\ty\"", "x\"\\/\b\f\n\r\ty" },
	};
	struct json_doc doc;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(parse_str(&doc, cases[i].text, err,
					sizeof(err)) == 0, "%s", err);
		ck_assert_int_eq(doc.root->type, JSON_STRING);
		ck_assert_str_eq(doc.root->u.string.ptr, cases[i].want);
		ck_assert_uint_eq(doc.root->u.string.len,
				  strlen(cases[i].want));
		json_doc_free(&doc);
	}
}
END_TEST

START_TEST(test_parse_nul_escape)
{
	struct json_doc doc;
	const struct json_value *v;
	char err[128];

	ck_assert_int_eq(parse_str(&doc, "{\"k\\u0000\":\"a\\u0000b\"}", err,
				   sizeof(err)), 0);
	v = doc.root->u.children.first;
	ck_assert_uint_eq(v->key_len, 2);
	ck_assert_int_eq(memcmp(v->key, "k\0", 3), 0);
	ck_assert_uint_eq(v->u.string.len, 3);
	ck_assert_int_eq(memcmp(v->u.string.ptr, "a\0b\0", 4), 0);
	/* "k" is not the key "k\0". */
	ck_assert_ptr_null(json_get(doc.root, "k"));
	json_doc_free(&doc);
}
END_TEST

START_TEST(test_parse_tree)
{
	struct json_doc doc;
	const struct json_value *v, *arr;
	char err[128];

	ck_assert_int_eq(parse_str(&doc, "{\"b\":1,\"a\":[true,\"x\",null],"
				   "\"b\":2,\"n\":1.50}", err, sizeof(err)), 0);
	ck_assert_int_eq(doc.root->type, JSON_OBJECT);
	ck_assert_uint_eq(doc.root->u.children.count, 4);
	v = doc.root->u.children.first;
	ck_assert_str_eq(v->key, "b");
	ck_assert_str_eq(v->next->key, "a");
	ck_assert_str_eq(v->next->next->key, "b");
	ck_assert_ptr_null(v->next->next->next->next);
	/* Duplicate keys: the first wins. */
	ck_assert_ptr_eq(json_get(doc.root, "b"), v);
	arr = json_get(doc.root, "a");
	ck_assert_int_eq(arr->type, JSON_ARRAY);
	ck_assert_uint_eq(arr->u.children.count, 3);
	ck_assert_int_eq(arr->u.children.first->type, JSON_BOOL);
	ck_assert_int_eq(arr->u.children.first->u.boolean, 1);
	ck_assert_ptr_null(arr->u.children.first->key);
	ck_assert_str_eq(arr->u.children.first->next->u.string.ptr, "x");
	ck_assert_int_eq(arr->u.children.first->next->next->type, JSON_NULL);
	ck_assert_str_eq(json_get(doc.root, "n")->u.number.text, "1.50");
	ck_assert_uint_eq(json_get(doc.root, "n")->u.number.len, 4);
	/* Misses. */
	ck_assert_ptr_null(json_get(doc.root, "missing"));
	ck_assert_ptr_null(json_get(doc.root, ""));
	ck_assert_ptr_null(json_get(arr, "a"));
	ck_assert_ptr_null(json_get(NULL, "a"));
	ck_assert_ptr_null(json_get_str(doc.root, "b"));
	ck_assert_ptr_null(json_get_str(doc.root, "missing"));
	ck_assert_ptr_null(json_get_str(NULL, "b"));
	json_doc_free(&doc);

	ck_assert_int_eq(parse_str(&doc, "{\"s\":\"v\"}", err, sizeof(err)), 0);
	ck_assert_str_eq(json_get_str(doc.root, "s"), "v");
	json_doc_free(&doc);
}
END_TEST

START_TEST(test_get_integers)
{
	struct json_doc doc;
	int64_t i64 = 7;
	uint64_t u64 = 7;
	char err[128];

	ck_assert_int_eq(parse_str(&doc, "{\"min\":-9223372036854775808,"
		"\"max\":9223372036854775807,\"over\":9223372036854775808,"
		"\"under\":-9223372036854775809,\"umax\":18446744073709551615,"
		"\"uover\":18446744073709551616,\"big\":99999999999999999999,"
		"\"mz\":-0,\"frac\":1.0,\"exp\":1e2,\"neg\":-1,\"s\":\"1\","
		"\"zero\":0}", err, sizeof(err)), 0);
	ck_assert_int_eq(json_get_i64(doc.root, "min", &i64), 0);
	ck_assert(i64 == INT64_MIN);
	ck_assert_int_eq(json_get_i64(doc.root, "max", &i64), 0);
	ck_assert(i64 == INT64_MAX);
	ck_assert_int_eq(json_get_i64(doc.root, "over", &i64), -1);
	ck_assert_int_eq(json_get_i64(doc.root, "under", &i64), -1);
	ck_assert_int_eq(json_get_i64(doc.root, "mz", &i64), 0);
	ck_assert(i64 == 0);
	ck_assert_int_eq(json_get_i64(doc.root, "neg", &i64), 0);
	ck_assert(i64 == -1);
	ck_assert_int_eq(json_get_i64(doc.root, "frac", &i64), -1);
	ck_assert_int_eq(json_get_i64(doc.root, "exp", &i64), -1);
	ck_assert_int_eq(json_get_i64(doc.root, "s", &i64), -1);
	ck_assert_int_eq(json_get_i64(doc.root, "missing", &i64), -1);
	ck_assert_int_eq(json_get_i64(doc.root, "umax", &i64), -1);

	ck_assert_int_eq(json_get_u64(doc.root, "umax", &u64), 0);
	ck_assert(u64 == UINT64_MAX);
	ck_assert_int_eq(json_get_u64(doc.root, "over", &u64), 0);
	ck_assert(u64 == 9223372036854775808u);
	ck_assert_int_eq(json_get_u64(doc.root, "zero", &u64), 0);
	ck_assert(u64 == 0);
	ck_assert_int_eq(json_get_u64(doc.root, "uover", &u64), -1);
	ck_assert_int_eq(json_get_u64(doc.root, "big", &u64), -1);
	ck_assert_int_eq(json_get_u64(doc.root, "neg", &u64), -1);
	ck_assert_int_eq(json_get_u64(doc.root, "min", &u64), -1);
	ck_assert_int_eq(json_get_u64(doc.root, "frac", &u64), -1);
	ck_assert_int_eq(json_get_u64(doc.root, "exp", &u64), -1);
	ck_assert_int_eq(json_get_u64(doc.root, "s", &u64), -1);

	ck_assert_int_eq(json_value_u64(json_get(doc.root, "zero"), &u64), 0);
	ck_assert_int_eq(json_value_i64(doc.root, &i64), -1);
	ck_assert_int_eq(json_value_i64(NULL, &i64), -1);
	json_doc_free(&doc);
}
END_TEST

START_TEST(test_round_trip)
{
	static const char *const canonical[] = {
		"{\"a\":1,\"b\":[true,false,null],"
		"\"c\":\"x\\\"y\\\\z\\n\\u001b\","
		"\"d\":{},\"e\":[],\"f\":-1.5e-7,"
		"\"g\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		"[]", "{}", "\"\\u0000\"", "123", "null",
		"[{\"k\":[{\"k\":[]}]}]", "{\"\":\"\"}", "[1,[2,[3,[4]]]]",
		"{\"a\":1,\"a\":2}", "\"\x7f/\"",
	};
	size_t i;

	for (i = 0; i < sizeof(canonical) / sizeof(canonical[0]); i++)
		assert_rewrite(canonical[i], 0, canonical[i]);
	/* Non-canonical input comes out canonical. */
	assert_rewrite(" [ 1 , \"\\/\\u0041\\u00e9\" ] ", 0,
		       "[1,\"/A\xc3\xa9\"]");
	assert_rewrite(sample_compact, 1, sample_pretty);
	assert_rewrite(sample_pretty, 0, sample_compact);
}
END_TEST

START_TEST(test_doc_free_zeroed)
{
	struct json_doc doc;

	memset(&doc, 0, sizeof(doc));
	json_doc_free(&doc);
	ck_assert_ptr_null(doc.root);
	ck_assert_ptr_null(doc.arena);
}
END_TEST

START_TEST(test_parse_large)
{
	/* Enough nodes and string bytes to span several arena blocks. */
	size_t count = 20000, i, len = 0, cap = count * 16 + 16;
	char *text = malloc(cap), err[128];
	const struct json_value *v;
	struct json_doc doc;

	ck_assert_ptr_nonnull(text);
	text[len++] = '[';
	for (i = 0; i < count; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s\"s%zu\"",
					i ? "," : "", i);
	text[len++] = ']';
	ck_assert_int_eq(json_parse(&doc, text, len, 64, err, sizeof(err)), 0);
	ck_assert_uint_eq(doc.root->u.children.count, count);
	for (i = 0, v = doc.root->u.children.first; v; v = v->next, i++) {
		snprintf(err, sizeof(err), "s%zu", i);
		ck_assert_str_eq(v->u.string.ptr, err);
	}
	ck_assert_uint_eq(i, count);
	json_doc_free(&doc);
	free(text);
}
END_TEST

Suite *json_suite(void)
{
	Suite *suite = suite_create("json");
	TCase *writer = tcase_create("writer");
	TCase *parser = tcase_create("parser");

	tcase_add_test(writer, test_escape_classes);
	tcase_add_test(writer, test_lossy_invalid);
	tcase_add_test(writer, test_lossy_valid);
	tcase_add_test(writer, test_lossy_incomplete_tail);
	tcase_add_test(writer, test_stream_every_split);
	tcase_add_test(writer, test_stream_byte_by_byte);
	tcase_add_test(writer, test_stream_out_bytes);
	tcase_add_test(writer, test_stream_as_member);
	tcase_add_test(writer, test_compact_nested);
	tcase_add_test(writer, test_pretty_nested);
	tcase_add_test(writer, test_pretty_scalars_and_empty);
	tcase_add_test(writer, test_numbers_and_raw);
	tcase_add_test(writer, test_kv_shorthands);
	tcase_add_test(writer, test_writer_depth_limit);
	tcase_add_test(writer, test_fd_small_buffer);
	tcase_add_test(writer, test_fd_error_is_sticky);
	tcase_add_test(writer, test_fd_interrupted_writes);
	tcase_add_test(writer, test_mem_limit);
	tcase_add_test(writer, test_mem_growth);
	suite_add_tcase(suite, writer);

	tcase_add_test(parser, test_parse_valid);
	tcase_add_test(parser, test_parse_invalid);
	tcase_add_test(parser, test_parse_messages);
	tcase_add_test(parser, test_parse_depth);
	tcase_add_test(parser, test_parse_unicode_escapes);
	tcase_add_test(parser, test_parse_nul_escape);
	tcase_add_test(parser, test_parse_tree);
	tcase_add_test(parser, test_get_integers);
	tcase_add_test(parser, test_round_trip);
	tcase_add_test(parser, test_doc_free_zeroed);
	tcase_add_test(parser, test_parse_large);
	suite_add_tcase(suite, parser);
	return suite;
}
