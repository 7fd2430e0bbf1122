/* Unit test runner: every module's suite, one summary line at the end that
 * tests/run.sh adds to the end-to-end figures. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *runner = srunner_create(json_suite());
	int run, failed;

	srunner_add_suite(runner, sys_suite());
	srunner_add_suite(runner, store_suite());
	srunner_add_suite(runner, cli_suite());
	srunner_add_suite(runner, config_suite());
	srunner_add_suite(runner, notify_suite());
	srunner_add_suite(runner, pattern_suite());
	srunner_add_suite(runner, redact_suite());
	srunner_run_all(runner, CK_NORMAL);
	run = srunner_ntests_run(runner);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	printf("unit: %d passed, %d failed\n", run - failed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
