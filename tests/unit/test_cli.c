/* Unit tests of the argument parser (cli.c, cli_check.c) and signal names (exec.c). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli.h"
#include "../../cli_check.h"
#include "../../exec.h"
#include "../../lib/fmt.h"
#include "suites.h"

/* Parse a NULL-terminated word list; the usage message lands in usage. */
static int parse_words(struct args *args, char *usage, char **words)
{
	int argc = 0;

	while (words[argc])
		argc++;
	int rc = cli_parse(argc, words, args, usage, 256);

	return rc == 0 ? cli_check(args, usage, 256) : rc;
}

#define PARSE(args, usage, ...) \
	parse_words(args, usage, (char *[]){ "agent-exec", __VA_ARGS__, NULL })

START_TEST(test_global_options_anywhere)
{
	struct args args;
	char usage[256];

	ck_assert_int_eq(PARSE(&args, usage, "--root", "/r", "status", "X"), 0);
	ck_assert_str_eq(args.value[O_ROOT], "/r");
	ck_assert_str_eq(args.positional.v[0], "X");
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "status", "X", "--root=/s", "-vv"),
			 0);
	ck_assert_str_eq(args.value[O_ROOT], "/s");
	ck_assert_int_eq(args.verbose, 2);
	cli_args_free(&args);
	/* given before and after the command, the later one wins */
	ck_assert_int_eq(PARSE(&args, usage, "--root", "/a", "list", "--root",
			       "/b"), 0);
	ck_assert_str_eq(args.value[O_ROOT], "/b");
	cli_args_free(&args);
}
END_TEST

START_TEST(test_run_trailing_command)
{
	struct args args;
	char usage[256];

	ck_assert_int_eq(PARSE(&args, usage, "run", "--timeout", "5", "echo",
			       "--root", "-v"), 0);
	ck_assert_uint_eq(args.number[O_TIMEOUT], 5);
	ck_assert_uint_eq(args.trailing_count, 3);
	ck_assert_str_eq(args.trailing[0], "echo");
	ck_assert_str_eq(args.trailing[1], "--root");
	ck_assert_ptr_null(args.value[O_ROOT]);
	ck_assert_int_eq(args.verbose, 0);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "run", "--", "-weird", "x"), 0);
	ck_assert_str_eq(args.trailing[0], "-weird");
	ck_assert_uint_eq(args.trailing_count, 2);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "run", "--env", "A=1", "--env",
			       "B=2", "true"), 0);
	ck_assert_uint_eq(args.list[O_ENV].n, 2);
	ck_assert_str_eq(args.list[O_ENV].v[1], "B=2");
	cli_args_free(&args);
}
END_TEST

START_TEST(test_durations_and_slips)
{
	struct args args;
	char usage[256];

	ck_assert_int_eq(PARSE(&args, usage, "run", "--timeout", "2m",
			       "--snapshot-after", "1500", "true"), 0);
	ck_assert_uint_eq(args.number[O_TIMEOUT], 120000);
	ck_assert_uint_eq(args.number[O_SNAPSHOT_AFTER], 1500);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "wait", "--timeout-ms", "5x",
			       "J"), -1);
	ck_assert_ptr_nonnull(strstr(usage, "invalid duration"));
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "stauts", "J"), -1);
	ck_assert_ptr_nonnull(strstr(usage, "did you mean \"status\"?"));
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "run", "--wiat", "true"), -1);
	ck_assert_ptr_nonnull(strstr(usage, "did you mean --wait?"));
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "ls"), -1);
	ck_assert_ptr_null(strstr(usage, "did you mean"));
	cli_args_free(&args);
}
END_TEST

START_TEST(test_usage_errors)
{
	struct args args;
	char usage[256];

	ck_assert_int_eq(PARSE(&args, usage, "run"), -1);
	ck_assert_ptr_nonnull(strstr(usage, "COMMAND"));
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "bogus"), -1);
	ck_assert_ptr_nonnull(strstr(usage, "bogus"));
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "status"), -1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "status", "a", "b"), -1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "run", "--timeout", "1",
			       "--timeout", "2", "true"), -1);
	ck_assert_ptr_nonnull(strstr(usage, "more than once"));
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "run", "--timeout", "-1", "true"),
			 -1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "tail", "--tail-lines", "x", "J"),
			 -1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "run", "--inherit-env",
			       "--no-inherit-env", "true"), -1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "list", "--all", "--cwd", "/"),
			 -1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "list", "--state", "done"), -1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "status", "--signal", "X", "J"),
			 -1);	/* an option of another command */
	ck_assert_ptr_nonnull(strstr(usage, "--signal"));
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "kill", "J", "--signal"), -1);
	ck_assert_ptr_nonnull(strstr(usage, "needs a value"));
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "run", "--wait=yes", "true"), -1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "status", "-x", "J"), -1);
	cli_args_free(&args);
	/* --exit-status: with --wait on run and start, on wait */
	ck_assert_int_eq(PARSE(&args, usage, "run", "--exit-status", "true"),
			 -1);
	ck_assert_ptr_nonnull(strstr(usage, "needs --wait"));
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "start", "--exit-status", "J"),
			 -1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "run", "--wait", "--exit-status",
			       "true"), 0);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "wait", "--exit-status", "J"), 0);
	ck_assert_int_eq(args.seen[O_EXIT_STATUS], 1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "create", "--exit-status", "x"),
			 -1);
	cli_args_free(&args);
}
END_TEST

/* --env NAME takes the caller's value, which must be there; no empty name */
START_TEST(test_env_names)
{
	struct args args;
	char usage[256];

	unsetenv("AE_UNIT_ENV_NAME");
	ck_assert_int_eq(PARSE(&args, usage, "run", "--env", "AE_UNIT_ENV_NAME",
			       "true"), -1);
	ck_assert_ptr_nonnull(strstr(usage, "AE_UNIT_ENV_NAME=VALUE"));
	cli_args_free(&args);
	setenv("AE_UNIT_ENV_NAME", "", 1);
	ck_assert_int_eq(PARSE(&args, usage, "create", "--env",
			       "AE_UNIT_ENV_NAME", "true"), 0);
	cli_args_free(&args);
	unsetenv("AE_UNIT_ENV_NAME");
	ck_assert_int_eq(PARSE(&args, usage, "run", "--env", "=x", "true"), -1);
	ck_assert_ptr_nonnull(strstr(usage, "name is empty"));
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "run", "--env", "", "true"), -1);
	cli_args_free(&args);
	ck_assert_int_eq(PARSE(&args, usage, "run", "--env", "a.b=", "true"), 0);
	cli_args_free(&args);
}
END_TEST

START_TEST(test_list_states_accepted)
{
	static const char *const states[] = {
		"created", "running", "exited", "killed", "failed", "unknown"
	};
	struct args args;
	char usage[256];

	for (size_t i = 0; i < 6; i++) {
		ck_assert_int_eq(PARSE(&args, usage, "list", "--state",
				       (char *)states[i]), 0);
		cli_args_free(&args);
	}
}
END_TEST

START_TEST(test_signal_names)
{
	ck_assert_int_eq(signal_parse("TERM"), SIGTERM);
	ck_assert_int_eq(signal_parse("SIGTERM"), SIGTERM);
	ck_assert_int_eq(signal_parse("term"), SIGTERM);
	ck_assert_int_eq(signal_parse("sigint"), SIGINT);
	ck_assert_int_eq(signal_parse("KILL"), SIGKILL);
	ck_assert_int_eq(signal_parse("HUP"), SIGHUP);
	ck_assert_int_eq(signal_parse("QUIT"), SIGQUIT);
	ck_assert_int_eq(signal_parse("USR1"), SIGUSR1);
	ck_assert_int_eq(signal_parse("SIGUSR2"), SIGUSR2);
	ck_assert_int_eq(signal_parse("9"), 9);
	ck_assert_int_eq(signal_parse("15"), 15);
	ck_assert_int_eq(signal_parse("0"), -1);
	ck_assert_int_eq(signal_parse("65"), -1);
	ck_assert_int_eq(signal_parse("TERN"), -1);
	ck_assert_int_eq(signal_parse("SIG"), -1);
	ck_assert_int_eq(signal_parse(""), -1);
	ck_assert_int_eq(signal_parse("-9"), -1);
	ck_assert_int_eq(signal_parse("SEGV"), SIGSEGV);
	ck_assert_int_eq(signal_parse("vtalrm"), SIGVTALRM);
}
END_TEST

START_TEST(test_signal_name_of_number)
{
	char name[12];

	ck_assert_int_eq(signal_name(SIGTERM, name), 0);
	ck_assert_str_eq(name, "SIGTERM");
	ck_assert_int_eq(signal_name(SIGHUP, name), 0);
	ck_assert_str_eq(name, "SIGHUP");
	ck_assert_int_eq(signal_name(SIGSYS, name), 0);
	ck_assert_str_eq(name, "SIGSYS");
	ck_assert_int_eq(signal_name(SIGVTALRM, name), 0);
	ck_assert_str_eq(name, "SIGVTALRM");
	ck_assert_int_eq(signal_name(0, name), -1);
	ck_assert_int_eq(signal_name(SIGRTMIN, name), -1);
}
END_TEST

Suite *cli_suite(void)
{
	Suite *suite = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, test_global_options_anywhere);
	tcase_add_test(tc, test_run_trailing_command);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_durations_and_slips);
	tcase_add_test(tc, test_env_names);
	tcase_add_test(tc, test_list_states_accepted);
	tcase_add_test(tc, test_signal_names);
	tcase_add_test(tc, test_signal_name_of_number);
	suite_add_tcase(suite, tc);
	return suite;
}
