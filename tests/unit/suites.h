/* The check suites of the unit tests, one per module. */
#ifndef AE_TEST_SUITES_H
#define AE_TEST_SUITES_H

#include <check.h>

Suite *json_suite(void);
Suite *sys_suite(void);
Suite *store_suite(void);
Suite *cli_suite(void);
Suite *config_suite(void);
Suite *notify_suite(void);
Suite *pattern_suite(void);
Suite *redact_suite(void);

#endif
