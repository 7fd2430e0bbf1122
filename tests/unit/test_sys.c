/* Unit tests of sys.c: timestamps, strict numbers, paths, whole-file
 * reads, string vectors. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/dirwatch.h"
#include "../../lib/program.h"
#include "../../lib/sys.h"
#include "../../lib/fmt.h"
#include "suites.h"

START_TEST(test_format_utc)
{
	char out[TIMESTAMP_LEN + 1];

	format_utc(0, out);
	ck_assert_str_eq(out, "1970-01-01T00:00:00Z");
	format_utc(1700000000, out);
	ck_assert_str_eq(out, "2023-11-14T22:13:20Z");
	format_utc(951782400, out);	/* a leap day */
	ck_assert_str_eq(out, "2000-02-29T00:00:00Z");
	format_utc(4102444799, out);
	ck_assert_str_eq(out, "2099-12-31T23:59:59Z");
}
END_TEST

START_TEST(test_parse_utc_round_trip)
{
	static const time_t samples[] = {
		0, 59, 86399, 86400, 951782400, 951868799, 1700000000,
		4102444799, 1234567890, 978307200, 946684800,
	};
	char text[TIMESTAMP_LEN + 1];
	time_t back;

	for (size_t i = 0; i < sizeof(samples) / sizeof(*samples); i++) {
		format_utc(samples[i], text);
		ck_assert_int_eq(parse_utc(text, &back), 0);
		ck_assert_msg(back == samples[i], "%s -> %lld, want %lld", text,
			      (long long)back, (long long)samples[i]);
	}
	/* every day of a leap and a common year, both ways */
	for (time_t t = 946684800; t < 946684800 + 2 * 366 * 86400; t += 86400) {
		struct tm tm;
		char want[TIMESTAMP_LEN + 1];

		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		format_utc(t, text);
		ck_assert_str_eq(text, want);
	}
	ck_assert_int_eq(parse_utc("2026-13-01T00:00:00Z", &back), -1);
	ck_assert_int_eq(parse_utc("2026-01-01 00:00:00Z", &back), -1);
	ck_assert_int_eq(parse_utc("garbage", &back), -1);
	ck_assert_int_eq(parse_utc(NULL, &back), -1);
}
END_TEST

START_TEST(test_parse_u64)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1.5", "0x10", "abc",
		"18446744073709551616", "99999999999999999999",
	};
	uint64_t value;

	ck_assert_int_eq(parse_u64("0", &value), 0);
	ck_assert_uint_eq(value, 0);
	ck_assert_int_eq(parse_u64("000123", &value), 0);
	ck_assert_uint_eq(value, 123);
	ck_assert_int_eq(parse_u64("18446744073709551615", &value), 0);
	ck_assert(value == UINT64_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ck_assert_msg(parse_u64(bad[i], &value) < 0, "accepted \"%s\"",
			      bad[i]);
	ck_assert_int_eq(parse_u64(NULL, &value), -1);
}
END_TEST

START_TEST(test_path_join)
{
	char *path = path_join("/a/b", "c");

	ck_assert_str_eq(path, "/a/b/c");
	free(path);
	path = path_join("/a/b/", "c");
	ck_assert_str_eq(path, "/a/b/c");
	free(path);
	path = path_absolute("/x/y");
	ck_assert_str_eq(path, "/x/y");
	free(path);
	path = path_absolute("rel");
	ck_assert(path[0] == '/');
	ck_assert(strcmp(path + strlen(path) - 4, "/rel") == 0);
	free(path);
}
END_TEST

START_TEST(test_read_file_at_limits)
{
	char dir[] = "/tmp/ae-unit-XXXXXX";
	char *text;
	size_t len;
	int dir_fd, fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY);
	fd = openat(dir_fd, "f", O_WRONLY | O_CREAT, 0600);
	ck_assert_int_eq(write_all(fd, "hello", 5), 0);
	close(fd);
	ck_assert_int_eq(read_file_at(dir_fd, "f", 5, &text, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(text, "hello");
	free(text);
	ck_assert_int_eq(read_file_at(dir_fd, "f", 4, &text, &len), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(read_file_at(dir_fd, "missing", 4, &text, &len), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* around the 4 KiB first read: exactly it, and well past it */
	for (size_t size = 4095; size <= 12000; size += size < 4097 ? 1 : 7903) {
		char *big = malloc(size);

		ck_assert_ptr_nonnull(big);
		for (size_t i = 0; i < size; i++)
			big[i] = (char)('a' + i % 26);
		fd = openat(dir_fd, "g", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_eq(write_all(fd, big, size), 0);
		close(fd);
		ck_assert_int_eq(read_file_at(dir_fd, "g", size, &text, &len),
				 0);
		ck_assert_uint_eq(len, size);
		ck_assert(memcmp(text, big, size) == 0 && text[size] == '\0');
		free(text);
		ck_assert_int_eq(read_file_at(dir_fd, "g", size - 1, &text,
					      &len), -1);
		ck_assert_int_eq(errno, EFBIG);
		free(big);
	}
	unlinkat(dir_fd, "g", 0);
	unlinkat(dir_fd, "f", 0);
	close(dir_fd);
	rmdir(dir);
}
END_TEST

START_TEST(test_mkdir_parents)
{
	char dir[] = "/tmp/ae-unit-XXXXXX";
	char deep[128];
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(deep, sizeof(deep), "%s/a/b/c", dir);
	ck_assert_int_eq(mkdir_parents(deep, 0700), 0);
	ck_assert_int_eq(stat(deep, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(mkdir_parents(deep, 0700), 0);	/* exists: fine */
	rmdir(deep);
	snprintf(deep, sizeof(deep), "%s/a/b", dir);
	rmdir(deep);
	snprintf(deep, sizeof(deep), "%s/a", dir);
	rmdir(deep);
	rmdir(dir);
}
END_TEST

START_TEST(test_strv_grows)
{
	struct strv sv = { 0 };
	char *words[100];

	for (int i = 0; i < 100; i++) {
		words[i] = (char *)"w";
		ck_assert_int_eq(strv_push(&sv, words[i]), 0);
		ck_assert_ptr_null(sv.v[sv.n]);
	}
	ck_assert_uint_eq(sv.n, 100);
	strv_free(&sv);
	ck_assert_uint_eq(sv.n, 0);
}
END_TEST

START_TEST(test_fail_messages)
{
	struct error e;

	ck_assert_int_eq(error_set(&e, "job_not_found", "job not found: %s", "X"),
			 -1);
	ck_assert_str_eq(e.code, "job_not_found");
	ck_assert_str_eq(e.message, "job not found: X");
	ck_assert_int_eq(error_errno(&e, NULL, ENOSPC, "cannot write %s", "f"),
			 -1);
	ck_assert_str_eq(e.code, "io_error");
	ck_assert_int_eq(e.retryable, 1);
	ck_assert_str_eq(e.message, "cannot write f: No space left on device");
	error_errno(&e, "corrupt_record", ENOENT, "cannot read %s", "g");
	ck_assert_str_eq(e.code, "corrupt_record");
	ck_assert_int_eq(e.retryable, 0);
}
END_TEST

START_TEST(test_small_helpers)
{
	uint64_t v = 99;
	char dir[] = "/tmp/ae-sys-XXXXXX", *real;
	char *argv[] = { (char *)"ae-no-such-program-here", NULL };
	char *envp[] = { (char *)"PATH=/nonexistent:/also/none", NULL };
	char at_fault[64];

	ck_assert_uint_eq(scan_u64("123x", &v), 3);
	ck_assert_uint_eq(v, 123);
	ck_assert_uint_eq(scan_u64("x", &v), 0);
	ck_assert_uint_eq(v, 123);
	ck_assert_uint_eq(scan_u64("99999999999999999999", &v), 0);
	ck_assert_uint_eq(scan_u64("18446744073709551615", &v), 20);
	ck_assert(v == UINT64_MAX);

	ck_assert_int_eq(word_index("sh", "sh bash dash"), 0);
	ck_assert_int_eq(word_index("dash", "sh bash dash"), 2);
	ck_assert_int_eq(word_index("as", "sh bash dash"), -1);
	ck_assert_int_eq(word_index("sh bash", "sh bash dash"), -1);
	ck_assert_int_eq(word_index("", "sh bash"), -1);

	ck_assert(ascii_case_equal("SIGterm", "sigTERM", SIZE_MAX));
	ck_assert(!ascii_case_equal("TERM", "TERMS", SIZE_MAX));
	ck_assert(ascii_case_equal("01abcz", "01ABCD", 5));
	ck_assert(!ascii_case_equal("01abcz", "01ABCD", 6));

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert(exists_at(AT_FDCWD, dir));
	ck_assert(!exists_at(AT_FDCWD, "/nonexistent/ae"));
	real = path_real_dir(dir);
	ck_assert_ptr_nonnull(real);
	ck_assert_str_eq(real, dir);	/* /tmp is no symlink here */
	free(real);
	ck_assert_ptr_null(path_real_dir("/nonexistent/ae"));
	ck_assert_int_eq(rmdir(dir), 0);

	errno = 0;
	ck_assert_int_eq(exec_search(argv, envp, at_fault, sizeof(at_fault)),
			 -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(at_fault, "ae-no-such-program-here");
}
END_TEST

START_TEST(test_edit_distance)
{
	ck_assert_uint_eq(edit_distance("status", "status"), 0);
	ck_assert_uint_eq(edit_distance("stauts", "status"), 1);
	ck_assert_uint_eq(edit_distance("wiat", "wait"), 1);
	ck_assert_uint_eq(edit_distance("tail-line", "tail-lines"), 1);
	ck_assert_uint_eq(edit_distance("", "kill"), 4);
	ck_assert_uint_eq(edit_distance("list", "gc"), 4);
}
END_TEST

START_TEST(test_parse_duration_ms)
{
	uint64_t ms = 7;

	ck_assert_int_eq(parse_duration_ms("250", 1, &ms), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(parse_duration_ms("250ms", 1, &ms), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(parse_duration_ms("10s", 1, &ms), 0);
	ck_assert_uint_eq(ms, 10000);
	ck_assert_int_eq(parse_duration_ms("2m", 1, &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(parse_duration_ms("1h", 1, &ms), 0);
	ck_assert_uint_eq(ms, 3600000);
	ck_assert_int_eq(parse_duration_ms("1d", 1, &ms), 0);
	ck_assert_uint_eq(ms, 86400000);
	ck_assert_int_eq(parse_duration_ms("0", 1, &ms), 0);
	ck_assert_uint_eq(ms, 0);
	ms = 7;
	ck_assert_int_eq(parse_duration_ms("", 1, &ms), -1);
	ck_assert_int_eq(parse_duration_ms("s", 1, &ms), -1);
	ck_assert_int_eq(parse_duration_ms("-1", 1, &ms), -1);
	ck_assert_int_eq(parse_duration_ms(" 5s", 1, &ms), -1);
	ck_assert_int_eq(parse_duration_ms("5 s", 1, &ms), -1);
	ck_assert_int_eq(parse_duration_ms("5sec", 1, &ms), -1);
	ck_assert_int_eq(parse_duration_ms("1.5s", 1, &ms), -1);
	ck_assert_int_eq(parse_duration_ms("5S", 1, &ms), -1);
	ck_assert_int_eq(parse_duration_ms("18446744073709551615", 1, &ms), 0);
	ck_assert_int_eq(parse_duration_ms("18446744073709551615s", 1, &ms), -1);
	ck_assert_int_eq(parse_duration_ms("18446744073709551616", 1, &ms), -1);
	ck_assert_int_eq(parse_duration_ms(NULL, 1, &ms), -1);
	/* the newer tool's options: a bare number is seconds */
	ck_assert_int_eq(parse_duration_ms("30", 1000, &ms), 0);
	ck_assert_uint_eq(ms, 30000);
	ck_assert_int_eq(parse_duration_ms("30ms", 1000, &ms), 0);
	ck_assert_uint_eq(ms, 30);
	ck_assert_int_eq(parse_duration_ms("2m", 1000, &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(parse_duration_ms("18446744073709552", 1000, &ms), -1);
}
END_TEST

/* Where a shell finds a program: the first executable file on PATH,
 * directories passed over; else why not (with the path at fault). */
START_TEST(test_program_find)
{
	char dir[] = "/tmp/ae-unit-find-XXXXXX", path_var[256], found[256];
	char one[128], two[128], file[160];
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(one, sizeof(one), "%s/one", dir);
	snprintf(two, sizeof(two), "%s/two", dir);
	ck_assert_int_eq(mkdir(one, 0700), 0);
	ck_assert_int_eq(mkdir(two, 0700), 0);
	snprintf(path_var, sizeof(path_var), "%s:%s", one, two);
	/* one/prog is a directory, two/prog a file without execute bits */
	snprintf(file, sizeof(file), "%s/prog", one);
	ck_assert_int_eq(mkdir(file, 0700), 0);
	snprintf(file, sizeof(file), "%s/prog", two);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(program_find("prog", path_var, found, sizeof(found)),
			 -1);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_str_eq(found, file);
	/* executable now: found */
	ck_assert_int_eq(chmod(file, 0700), 0);
	ck_assert_int_eq(program_find("prog", path_var, found, sizeof(found)),
			 0);
	ck_assert_str_eq(found, file);
	/* a path: itself; a directory is EISDIR */
	ck_assert_int_eq(program_find(file, "/nonexistent", found,
				      sizeof(found)), 0);
	snprintf(file, sizeof(file), "%s/prog", one);
	ck_assert_int_eq(program_find(file, path_var, found, sizeof(found)),
			 -1);
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_str_eq(found, file);
	ck_assert_int_eq(program_find("none", path_var, found, sizeof(found)),
			 -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(found, "none");
	snprintf(file, sizeof(file), "%s/prog", two);
	unlink(file);
	snprintf(file, sizeof(file), "%s/prog", one);
	rmdir(file);
	rmdir(one);
	rmdir(two);
	rmdir(dir);
}
END_TEST

/* dir_watch: a write, a new file, a rename and a removal in the directory
 * each wake it; with nothing changed it times out; it ends cleanly (a
 * change after the close ends nothing: no SIGIO left to kill us). */
static void touch_in(const char *dir, const char *name, const char *text)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(test_dir_watch)
{
	char dir[] = "/tmp/ae-unit-watch.XXXXXX", from[512], to[512];
	struct dir_watch watch;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(dir_watch_open(&watch, dir), 0);
	ck_assert_int_eq(dir_watch_wait(&watch, 10), 0);
	touch_in(dir, "log", "a");	/* made and written */
	ck_assert_int_eq(dir_watch_wait(&watch, 5000), 1);
	ck_assert_int_eq(dir_watch_wait(&watch, 10), 0);	/* drained */
	touch_in(dir, "log", "b");	/* written */
	ck_assert_int_eq(dir_watch_wait(&watch, 5000), 1);
	snprintf(from, sizeof(from), "%s/log", dir);
	snprintf(to, sizeof(to), "%s/log.old", dir);
	ck_assert_int_eq(rename(from, to), 0);
	ck_assert_int_eq(dir_watch_wait(&watch, 5000), 1);
	ck_assert_int_eq(unlink(to), 0);
	ck_assert_int_eq(dir_watch_wait(&watch, 5000), 1);
	dir_watch_close(&watch);
	ck_assert_int_eq(watch.wake_fd, -1);
	touch_in(dir, "after", "c");
	ck_assert_int_eq(unlink(from) < 0 ? 0 : 1, 0);
	snprintf(to, sizeof(to), "%s/after", dir);
	ck_assert_int_eq(unlink(to), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *sys_suite(void)
{
	Suite *suite = suite_create("sys");
	TCase *tc = tcase_create("sys");

	tcase_add_test(tc, test_format_utc);
	tcase_add_test(tc, test_parse_u64);
	tcase_add_test(tc, test_parse_utc_round_trip);
	tcase_add_test(tc, test_path_join);
	tcase_add_test(tc, test_read_file_at_limits);
	tcase_add_test(tc, test_mkdir_parents);
	tcase_add_test(tc, test_program_find);
	tcase_add_test(tc, test_parse_duration_ms);
	tcase_add_test(tc, test_edit_distance);
	tcase_add_test(tc, test_strv_grows);
	tcase_add_test(tc, test_fail_messages);
	tcase_add_test(tc, test_small_helpers);
	tcase_add_test(tc, test_dir_watch);
	suite_add_tcase(suite, tc);
	return suite;
}
