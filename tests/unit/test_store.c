/* Unit tests of store.c: ids, tail extraction, records, locks and the
 * recovery of jobs whose supervisor is gone. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../store_logs.h"
#include "../../store_spec.h"
#include "../../store_state.h"
#include "suites.h"

/* A scratch directory per test. */
static char scratch[64];
static int scratch_fd = -1;

static void scratch_setup(void)
{
	snprintf(scratch, sizeof(scratch), "/tmp/ae-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(scratch));
	scratch_fd = open(scratch, O_RDONLY | O_DIRECTORY);
}

static void scratch_teardown(void)
{
	char command[128];

	close(scratch_fd);
	snprintf(command, sizeof(command), "rm -rf %s", scratch);
	ck_assert_int_eq(system(command), 0);
}

/* How many entries of the scratch directory start with prefix. */
static int scratch_count_prefix(const char *prefix)
{
	DIR *dir = opendir(scratch);
	struct dirent *entry;
	int count = 0;

	ck_assert_ptr_nonnull(dir);
	while ((entry = readdir(dir)))
		if (strncmp(entry->d_name, prefix, strlen(prefix)) == 0)
			count++;
	closedir(dir);
	return count;
}

static void put_file(const char *name, const char *data, size_t len)
{
	int fd = openat(scratch_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, data, len), 0);
	close(fd);
}

/* The tail of data as the JSON string log_tail_write produces. */
static char *tail_of(const char *data, size_t len, uint64_t lines,
		     uint64_t max_bytes, struct tail_info *info)
{
	struct json_writer w;
	char *text;
	int fd;

	put_file("log", data, len);
	fd = openat(scratch_fd, "log", O_RDONLY);
	jw_init_mem(&w, 1 << 20, 0);
	log_tail_write(&w, fd, lines, max_bytes, info);
	close(fd);
	ck_assert_int_eq(w.error, 0);
	text = strdup(w.buf);
	jw_free(&w);
	return text;
}

static void assert_tail(const char *data, uint64_t lines, uint64_t max_bytes,
			const char *want, int want_truncated)
{
	struct tail_info info;
	char *got = tail_of(data, strlen(data), lines, max_bytes, &info);

	ck_assert_msg(strcmp(got, want) == 0,
		      "tail(%s, %llu, %llu) = %s, want %s", data,
		      (unsigned long long)lines,
		      (unsigned long long)max_bytes, got, want);
	ck_assert_int_eq(info.truncated, want_truncated);
	ck_assert_uint_eq(info.observed_bytes, strlen(data));
	free(got);
}

START_TEST(test_job_id_format_and_order)
{
	char first[JOB_ID_LEN + 1], second[JOB_ID_LEN + 1];
	regex_t ulid;

	ck_assert_int_eq(regcomp(&ulid, "^[0-9A-HJKMNP-TV-Z]{26}$",
				 REG_EXTENDED | REG_NOSUB), 0);
	job_id_generate(first);
	usleep(2000);
	job_id_generate(second);
	ck_assert_int_eq(regexec(&ulid, first, 0, NULL, 0), 0);
	ck_assert_int_eq(regexec(&ulid, second, 0, NULL, 0), 0);
	ck_assert_int_lt(strcmp(first, second), 0);
	ck_assert(strcmp(first + 10, second + 10) != 0);	/* random part */
	regfree(&ulid);
}
END_TEST

START_TEST(test_job_id_valid)
{
	static const char *const good[] = {
		"01HZX3", "01M7XJC3QGE5GSEA7X22RH4JCC", "my-job_1", "a",
	};
	static const char *const bad[] = {
		"", "..", ".", "a/b", "../x", "a b", "a.b", "x\ny", "é",
		"0123456789012345678901234567890123456789012345678901234567890123X",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		ck_assert_msg(job_id_valid(good[i]), "rejected %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ck_assert_msg(!job_id_valid(bad[i]), "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_status_names)
{
	enum job_status status;

	ck_assert_int_eq(job_status_parse("exited", &status), 0);
	ck_assert_int_eq(status, JOB_EXITED);
	ck_assert_int_eq(job_status_parse("Exited", &status), -1);
	ck_assert_str_eq(job_status_name(JOB_FAILED), "failed");
	ck_assert(job_status_terminal(JOB_KILLED));
	ck_assert(!job_status_terminal(JOB_RUNNING));
	ck_assert(!job_status_terminal(JOB_CREATED));
}
END_TEST

START_TEST(test_tail_lines)
{
	assert_tail("a\nb\nc\n", 2, 65536, "\"b\\nc\"", 1);
	assert_tail("a\nb\nc\n", 3, 65536, "\"a\\nb\\nc\"", 0);
	assert_tail("a\nb\nc\n", 50, 65536, "\"a\\nb\\nc\"", 0);
	assert_tail("a\nb\nc", 1, 65536, "\"c\"", 1);
	assert_tail("a\n\n", 1, 65536, "\"\"", 1);
	assert_tail("a\n\n", 2, 65536, "\"a\\n\"", 0);
	assert_tail("", 5, 65536, "\"\"", 0);
	assert_tail("\n", 5, 65536, "\"\"", 0);
	assert_tail("only", 1, 65536, "\"only\"", 0);
}
END_TEST

START_TEST(test_tail_no_line_limit_keeps_text)
{
	assert_tail("a\r\nb\n", 0, 65536, "\"a\\r\\nb\\n\"", 0);
	assert_tail("abcdef", 0, 3, "\"def\"", 1);
	assert_tail("abcdef", 0, 0, "\"\"", 1);
}
END_TEST

START_TEST(test_tail_crlf)
{
	assert_tail("a\r\nb\r\n", 5, 65536, "\"a\\nb\"", 0);
	assert_tail("a\rb\r", 5, 65536, "\"a\\rb\\r\"", 0);
	assert_tail("x\r\n", 5, 65536, "\"x\"", 0);
}
END_TEST

START_TEST(test_tail_byte_window_first)
{
	/* the byte window is cut first, then lines are counted in it */
	assert_tail("line1\nline2\nline3\n", 50, 8, "\"2\\nline3\"", 1);
	assert_tail("line1\nline2\nline3\n", 50, 12, "\"line2\\nline3\"", 1);
	assert_tail("line1\nline2\nline3\n", 1, 12, "\"line3\"", 1);
}
END_TEST

START_TEST(test_tail_lossy_utf8)
{
	struct tail_info info;
	/* "é" is C3 A9; a 1-byte window starts inside it */
	char *got = tail_of("\xc3\xa9", 2, 5, 1, &info);

	ck_assert_str_eq(got, "\"\xef\xbf\xbd\"");
	ck_assert_uint_eq(info.included_bytes, 3);
	ck_assert_int_eq(info.truncated, 1);
	free(got);
	got = tail_of("ok \xff\n", 5, 5, 100, &info);
	ck_assert_str_eq(got, "\"ok \xef\xbf\xbd\"");
	ck_assert_uint_eq(info.included_bytes, 6);
	free(got);
}
END_TEST

START_TEST(test_tail_large_file_reads_blocks)
{
	size_t len = 300000;
	char *data = malloc(len);
	struct tail_info info;
	char *got;

	/* 100-byte lines; the last three span a block boundary of the
	 * backwards scan */
	for (size_t i = 0; i < len; i++)
		data[i] = (i % 100 == 99) ? '\n' : (char)('a' + (i / 100) % 26);
	got = tail_of(data, len, 3, 65536, &info);
	ck_assert_uint_eq(info.included_bytes, 3 * 99 + 2);
	ck_assert_uint_eq(info.observed_bytes, len);
	ck_assert_int_eq(info.truncated, 1);
	free(got);
	got = tail_of(data, len, 0, 1000000, &info);
	ck_assert_uint_eq(info.included_bytes, len);
	ck_assert_int_eq(info.truncated, 0);
	free(got);
	free(data);
}
END_TEST

START_TEST(test_tail_missing_file)
{
	struct json_writer w;
	struct tail_info info;

	jw_init_mem(&w, 1024, 0);
	log_tail_write(&w, -1, 50, 65536, &info);
	ck_assert_str_eq(w.buf, "\"\"");
	ck_assert_uint_eq(info.observed_bytes, 0);
	ck_assert_int_eq(info.truncated, 0);
	jw_free(&w);
}
END_TEST

START_TEST(test_record_write_is_atomic_and_private)
{
	struct stat st;
	char *text;
	size_t len;

	ck_assert_int_eq(store_write_record(scratch_fd, "r.json", "{}", 2, 1),
			 0);
	ck_assert_int_eq(store_write_record(scratch_fd, "r.json", "[1]", 3, 0),
			 0);
	ck_assert_int_eq(read_file_at(scratch_fd, "r.json", 100, &text, &len),
			 0);
	ck_assert_str_eq(text, "[1]");
	free(text);
	ck_assert_int_eq(fstatat(scratch_fd, "r.json", &st, 0), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(scratch_count_prefix(".tmp-"), 0);
}
END_TEST

static struct job scratch_job(void)
{
	struct job job = { .dir_fd = dup(scratch_fd), .lock_fd = -1,
			    .reserve_fd = -1 };

	snprintf(job.id, sizeof(job.id), "01TESTJOB");
	job.dir = strdup(scratch);
	job.root = strdup(scratch);	/* its event log goes with it */
	return job;
}

/* state.json as the store writes it, for a fixture. */
static void put_state(const struct job_state *st)
{
	struct json_writer w;

	jw_init_mem(&w, 1 << 16, 1);
	state_format(&w, st);
	ck_assert_int_eq(w.error, 0);
	put_file("state.json", w.buf, w.len);
	jw_free(&w);
}

static struct job_state running_state(void)
{
	struct job_state st = { .status = JOB_RUNNING, .has_pid = 1,
				.pid = 12345, .supervisor_pid = 12344 };

	snprintf(st.id, sizeof(st.id), "01TESTJOB");
	snprintf(st.started_at, sizeof(st.started_at), "2026-01-02T03:04:05Z");
	snprintf(st.updated_at, sizeof(st.updated_at), "2026-01-02T03:04:05Z");
	return st;
}

START_TEST(test_state_round_trip)
{
	struct job job = scratch_job();
	struct job_state st = running_state(), back;
	struct error e;

	st.status = JOB_KILLED;
	snprintf(st.signal, sizeof(st.signal), "15");
	st.has_duration = 1;
	st.duration_ms = 1234;
	st.timed_out = 1;
	st.has_usage = 1;
	st.user_cpu_ms = 7;
	snprintf(st.finished_at, sizeof(st.finished_at), "2026-01-02T03:04:07Z");
	snprintf(st.error, sizeof(st.error), "output cut: \"quoted\"");
	put_state(&st);
	ck_assert_int_eq(state_read(&job, &back, &e), 0);
	ck_assert_int_eq(back.status, JOB_KILLED);
	ck_assert_str_eq(back.signal, "15");
	ck_assert_int_eq(back.has_exit_code, 0);
	ck_assert_uint_eq(back.duration_ms, 1234);
	ck_assert_int_eq(back.pid, 12345);
	ck_assert_int_eq(back.timed_out, 1);
	ck_assert_uint_eq(back.user_cpu_ms, 7);
	ck_assert_str_eq(back.error, "output cut: \"quoted\"");
	ck_assert_str_eq(back.finished_at, "2026-01-02T03:04:07Z");
	store_job_close(&job);
}
END_TEST

START_TEST(test_corrupt_state_is_a_clear_error)
{
	struct job job = scratch_job();
	struct job_state st;
	struct error e;

	put_file("state.json", "{\"job\":", 7);
	ck_assert_int_eq(state_read(&job, &st, &e), -1);
	ck_assert_str_eq(e.code, "corrupt_record");
	ck_assert_ptr_nonnull(strstr(e.message, "state.json"));
	put_file("state.json", "{\"job\":{\"id\":\"x\",\"status\":\"bogus\"},"
		 "\"result\":{},\"updated_at\":\"t\"}", 60);
	ck_assert_int_eq(state_read(&job, &st, &e), -1);
	ck_assert_str_eq(e.code, "corrupt_record");
	store_job_close(&job);
}
END_TEST

START_TEST(test_lost_supervisor_is_recorded_once)
{
	struct job job = scratch_job(), holder = scratch_job();
	struct job_state st = running_state();
	struct error e;

	put_state(&st);
	/* a live holder of ALIVE: the job is running */
	ck_assert_int_eq(store_claim_start(&holder, &e), 0);
	ck_assert_int_eq(state_observe(&job, &st, &e), 0);
	ck_assert_int_eq(st.status, JOB_RUNNING);
	ck_assert_int_eq(store_wait_ended(&job, 100), 0);
	/* the holder is gone: failed/supervisor_lost, on disk too */
	store_job_close(&holder);
	ck_assert_int_eq(store_wait_ended(&job, 100), 2);	/* free already */
	ck_assert_int_eq(state_observe(&job, &st, &e), 0);
	ck_assert_int_eq(st.status, JOB_FAILED);
	ck_assert_str_eq(st.error, "supervisor_lost");
	ck_assert_int_eq(st.pid, 12345);
	ck_assert_str_eq(st.started_at, "2026-01-02T03:04:05Z");
	ck_assert_int_eq(state_read(&job, &st, &e), 0);
	ck_assert_int_eq(st.status, JOB_FAILED);
	store_job_close(&job);
}
END_TEST

START_TEST(test_missing_state_launching_or_lost)
{
	struct job job = scratch_job(), launcher = scratch_job();
	struct job_state st;
	struct error e;

	/* no state and no lock file: not our launch, reported as an error */
	ck_assert_int_eq(state_observe(&job, &st, &e), -1);
	ck_assert_str_eq(e.code, "corrupt_record");
	/* lock held: the launch is under way */
	ck_assert_int_eq(store_claim_start(&launcher, &e), 0);
	ck_assert_int_eq(state_observe(&job, &st, &e), 0);
	ck_assert_int_eq(st.status, JOB_RUNNING);
	ck_assert_int_eq(st.has_pid, 0);
	/* the launcher died before running was recorded */
	store_job_close(&launcher);
	ck_assert_int_eq(state_observe(&job, &st, &e), 0);
	ck_assert_int_eq(st.status, JOB_FAILED);
	ck_assert_str_eq(st.error, "supervisor_lost");
	store_job_close(&job);
}
END_TEST

/* A shared lock on ALIVE (byte 0 of <job>/lock), as a waiter holds it
 * while it blocks: taken here by hand, as the protocol says. */
static int take_shared_alive(int fd)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &fl);
}

START_TEST(test_waiters_do_not_look_alive)
{
	struct job probe_job = scratch_job(), supervisor = scratch_job();
	int waiter_fd = store_lock_open(&probe_job, 1);
	int probe_fd = store_lock_open(&probe_job, 1);
	struct error e;

	ck_assert_int_eq(store_alive(probe_fd), 0);
	ck_assert_int_eq(take_shared_alive(waiter_fd), 0);
	ck_assert_int_eq(store_alive(probe_fd), 0);
	ck_assert_int_eq(store_claim_start(&supervisor, &e), -1);
	ck_assert_str_eq(e.code, "invalid_state");
	close(waiter_fd);
	ck_assert_int_eq(store_claim_start(&supervisor, &e), 0);
	ck_assert_int_eq(store_alive(probe_fd), 1);
	store_release_alive(&supervisor);
	ck_assert_int_eq(store_alive(probe_fd), 0);
	store_job_close(&supervisor);
	store_job_close(&probe_job);
	close(probe_fd);
}
END_TEST

START_TEST(test_spec_env_display_masks)
{
	char *mask[] = { "SECRET", NULL };
	struct job_spec spec = { .mask = { mask, 1 } };
	char *shown = spec_env_display(&spec, "SECRET=hunter2");

	ck_assert_str_eq(shown, "SECRET=***");
	free(shown);
	shown = spec_env_display(&spec, "SECRETX=1");
	ck_assert_str_eq(shown, "SECRETX=1");
	free(shown);
	shown = spec_env_display(&spec, "SECRET");
	ck_assert_str_eq(shown, "SECRET=***");
	free(shown);
}
END_TEST

Suite *store_suite(void)
{
	Suite *suite = suite_create("store");
	TCase *ids = tcase_create("ids");
	TCase *tail = tcase_create("tail");
	TCase *records = tcase_create("records");

	tcase_add_test(ids, test_job_id_format_and_order);
	tcase_add_test(ids, test_job_id_valid);
	tcase_add_test(ids, test_status_names);
	tcase_add_test(ids, test_spec_env_display_masks);
	tcase_add_checked_fixture(tail, scratch_setup, scratch_teardown);
	tcase_add_test(tail, test_tail_lines);
	tcase_add_test(tail, test_tail_no_line_limit_keeps_text);
	tcase_add_test(tail, test_tail_crlf);
	tcase_add_test(tail, test_tail_byte_window_first);
	tcase_add_test(tail, test_tail_lossy_utf8);
	tcase_add_test(tail, test_tail_large_file_reads_blocks);
	tcase_add_test(tail, test_tail_missing_file);
	tcase_add_checked_fixture(records, scratch_setup, scratch_teardown);
	tcase_add_test(records, test_record_write_is_atomic_and_private);
	tcase_add_test(records, test_state_round_trip);
	tcase_add_test(records, test_corrupt_state_is_a_clear_error);
	tcase_add_test(records, test_lost_supervisor_is_recorded_once);
	tcase_add_test(records, test_missing_state_launching_or_lost);
	tcase_add_test(records, test_waiters_do_not_look_alive);
	suite_add_tcase(suite, ids);
	suite_add_tcase(suite, tail);
	suite_add_tcase(suite, records);
	return suite;
}
