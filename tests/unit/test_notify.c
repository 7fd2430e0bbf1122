/* Unit tests of notify.c: settings, line matching, notify set's merge. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../notify.h"
#include "suites.h"

static struct json_doc parse_meta(const char *text)
{
	struct json_doc doc;
	char err[128];

	ck_assert_msg(json_parse(&doc, text, strlen(text), 32, err,
				 sizeof(err)) == 0, "%s", err);
	return doc;
}

START_TEST(test_settings_defaults_and_values)
{
	struct json_doc doc = parse_meta("{\"notification\":{"
		"\"notify_command\":\"cb\",\"notify_file\":\"\","
		"\"notify_retries\":7}}");
	struct notify_settings s;
	struct error e;

	ck_assert_int_eq(notify_settings_read(doc.root, &s, &e), 0);
	ck_assert_str_eq(s.command, "cb");
	ck_assert_ptr_null(s.file);	/* empty means none */
	ck_assert_uint_eq(s.retries, 7);
	ck_assert_uint_eq(s.timeout_ms, NOTIFY_TIMEOUT_DEFAULT);
	ck_assert(notify_finished_wanted(&s));
	ck_assert(!s.match);
	notify_settings_free(&s);
	json_doc_free(&doc);
	doc = parse_meta("{}");
	ck_assert_int_eq(notify_settings_read(doc.root, &s, &e), 0);
	ck_assert(!notify_finished_wanted(&s));
	ck_assert_uint_eq(s.retries, NOTIFY_RETRIES_DEFAULT);
	json_doc_free(&doc);
}
END_TEST

START_TEST(test_line_matching)
{
	struct json_doc doc = parse_meta("{\"notification\":{\"on_output_match\""
		":{\"pattern\":\"^ERR [0-9]+$\",\"match_type\":\"regex\","
		"\"stream\":\"stderr\"}}}");
	struct notify_settings s;
	struct error e;

	ck_assert_int_eq(notify_settings_read(doc.root, &s, &e), 0);
	ck_assert(s.match);
	ck_assert(notify_line_matches(&s, MATCH_STDERR, "ERR 42", 6));
	ck_assert(!notify_line_matches(&s, MATCH_STDOUT, "ERR 42", 6));
	ck_assert(!notify_line_matches(&s, MATCH_STDERR, "ERR 42x", 7));
	/* the line is not NUL-terminated where it ends */
	ck_assert(notify_line_matches(&s, MATCH_STDERR, "ERR 4 trailing", 5));
	notify_settings_free(&s);
	json_doc_free(&doc);
	doc = parse_meta("{\"notification\":{\"on_output_match\":{"
			 "\"pattern\":\"needle\"}}}");
	ck_assert_int_eq(notify_settings_read(doc.root, &s, &e), 0);
	ck_assert_int_eq(s.stream, MATCH_EITHER);
	ck_assert(notify_line_matches(&s, MATCH_STDOUT, "a needle here", 13));
	ck_assert(notify_line_matches(&s, MATCH_STDERR, "needle", 6));
	ck_assert(!notify_line_matches(&s, MATCH_STDOUT, "needl", 5));
	notify_settings_free(&s);
	json_doc_free(&doc);
	doc = parse_meta("{\"notification\":{\"on_output_match\":{"
			 "\"pattern\":\"a(\",\"match_type\":\"regex\"}}}");
	ck_assert_int_eq(notify_settings_read(doc.root, &s, &e), -1);
	ck_assert_str_eq(e.code, "invalid_regex");
	json_doc_free(&doc);
}
END_TEST

/* A job directory with a meta.json, for notify_set. */
static char job_dir[64];

static struct job scratch_job(const char *meta)
{
	struct job job = { .lock_fd = -1, .reserve_fd = -1 };
	int fd;

	snprintf(job_dir, sizeof(job_dir), "/tmp/ae-notify-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(job_dir));
	job.dir = strdup(job_dir);
	job.dir_fd = open(job_dir, O_RDONLY | O_DIRECTORY);
	snprintf(job.id, sizeof(job.id), "01TEST");
	fd = openat(job.dir_fd, "meta.json", O_WRONLY | O_CREAT, 0600);
	ck_assert_int_eq(write_all(fd, meta, strlen(meta)), 0);
	close(fd);
	return job;
}

static void scratch_free(struct job *job)
{
	char command[96];

	store_job_close(job);
	snprintf(command, sizeof(command), "rm -rf %s", job_dir);
	ck_assert_int_eq(system(command), 0);
}

#define META_BASE "{\"job\":{\"id\":\"01TEST\"},\"schema_version\":\"0.1\"," \
	"\"command\":[\"true\"],\"created_at\":\"t\",\"root\":\"/r\"," \
	"\"env_keys\":[],\"tags\":[\"keep\"]"

static char *set(struct job *job, struct notify_change change, int *rc)
{
	struct error e;

	*rc = notify_set(job, &change, &e);
	return change.result;
}

START_TEST(test_notify_set_merge_rules)
{
	struct job job = scratch_job(META_BASE "}");
	char *result;
	int rc;

	result = set(&job, (struct notify_change){ .command = "cb" }, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(result, "{\"notify_command\":\"cb\"}");
	free(result);
	/* an output flag alone starts from contains/either */
	result = set(&job, (struct notify_change){ .pattern = "x" }, &rc);
	ck_assert_str_eq(result, "{\"notify_command\":\"cb\",\"on_output_match\":"
			 "{\"pattern\":\"x\",\"match_type\":\"contains\","
			 "\"stream\":\"either\"}}");
	free(result);
	/* overlay keeps the pattern */
	result = set(&job, (struct notify_change){ .stream = "stdout",
			     .match_command = "m" }, &rc);
	ck_assert_str_eq(result, "{\"notify_command\":\"cb\",\"on_output_match\":"
			 "{\"pattern\":\"x\",\"match_type\":\"contains\","
			 "\"stream\":\"stdout\",\"command\":\"m\"}}");
	free(result);
	/* a bad regex changes nothing */
	result = set(&job, (struct notify_change){ .pattern = "(",
			     .match_type = "regex" }, &rc);
	ck_assert_int_eq(rc, -1);
	free(result);
	/* empty values clear; an empty pattern removes the rule */
	result = set(&job, (struct notify_change){ .pattern = "",
			     .command = "" }, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(result, "{}");
	free(result);
	scratch_free(&job);
}
END_TEST

/* An event's id is unique per attempt; the first attempt's is as in 0.1. */
START_TEST(test_event_ids)
{
	struct job job = { .id = "01J0ABC" };
	char id[64];

	notify_event_id(id, sizeof(id), &job, 1, 0);
	ck_assert_str_eq(id, "01J0ABC:job.finished");
	notify_event_id(id, sizeof(id), &job, 0, 7);
	ck_assert_str_eq(id, "01J0ABC:job.output.matched:7");
	notify_event_id(id, sizeof(id), &job, 2, 0);
	ck_assert_str_eq(id, "01J0ABC:job.finished-a2");
	notify_event_id(id, sizeof(id), &job, 12, 3);
	ck_assert_str_eq(id, "01J0ABC:job.output.matched:3-a12");
	notify_event_id(id, 22, &job, 2, 0);	/* cut, never overrun */
	ck_assert_str_eq(id, "01J0ABC:job.finished-");
}
END_TEST

Suite *notify_suite(void)
{
	Suite *suite = suite_create("notify");
	TCase *tc = tcase_create("notify");

	tcase_add_test(tc, test_settings_defaults_and_values);
	tcase_add_test(tc, test_line_matching);
	tcase_add_test(tc, test_notify_set_merge_rules);
	tcase_add_test(tc, test_event_ids);
	suite_add_tcase(suite, tc);
	return suite;
}
