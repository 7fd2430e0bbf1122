/* libFuzzer harness for cli.c: the input, split at NUL bytes, is an argv;
 * parsing must end in a command, help, or a usage message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli.h"

#define WORDS_MAX 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* help texts go to stdout: keep them out of the fuzzer's report
	 * (libFuzzer writes to stderr, which stays) */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *words[WORDS_MAX + 2];
	char usage[512];
	struct args args;
	int argc = 1, rc;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	words[0] = "agent-exec";
	for (char *word = copy; word < copy + size + 1 && argc <= WORDS_MAX;
	     word += strlen(word) + 1)
		words[argc++] = word;
	words[argc] = NULL;
	rc = cli_parse(argc, words, &args, usage, sizeof(usage));
	if (rc < 0 && usage[0] == '\0')
		abort();	/* a usage error always says why */
	if (rc == 0 && !args.command)
		abort();
	cli_args_free(&args);
	free(copy);
	return 0;
}
