/* cli_human.h - the answer of list, status and summary as a person reads
 * it: tables and "key  value" lines, for --human (cli_human.c). */
#ifndef AE_CLI_HUMAN_H
#define AE_CLI_HUMAN_H

#include <stddef.h>

/* Render the JSON answer[len] on fd: 0, or -1 when it does not parse. */
int human_render(const char *answer, size_t len, int fd);

#endif
