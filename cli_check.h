/* cli_check.h - the checks of parsed options against each other and of
 * the values that have a form (cli_check.c). */
#ifndef AE_CLI_CHECK_H
#define AE_CLI_CHECK_H

#include <stddef.h>

struct args;

/* After cli_parse: 0, or -1 with the usage error in usage[size]. */
int cli_check(const struct args *args, char *usage, size_t size);

#endif
