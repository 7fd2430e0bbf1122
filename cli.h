/* cli.h - the command line parsed: argv against per-command option tables
 * into struct args, and the help text (cli.c). */
#ifndef AE_CLI_H
#define AE_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "lib/sys.h"

enum opt_id {
	/* global */
	O_ROOT, O_VERBOSE, O_HELP, O_VERSION,
	/* run and friends */
	O_SNAPSHOT_AFTER, O_TAIL_LINES, O_MAX_BYTES, O_TIMEOUT, O_KILL_AFTER,
	O_CWD, O_ENV, O_ENV_FILE, O_NO_INHERIT_ENV, O_INHERIT_ENV, O_MASK,
	O_TAG, O_LOG, O_PROGRESS_EVERY, O_WAIT, O_WAIT_POLL_MS, O_EXIT_STATUS,
	O_NOTIFY_COMMAND, O_NOTIFY_FILE, O_NOTIFY_TIMEOUT, O_NOTIFY_RETRIES,
	O_CONFIG, O_SHELL_WRAPPER,
	O_META, O_CALLBACK_SESSION, O_CALLBACK_AGENT,
	/* wait, kill, list, gc, delete, install-skills */
	O_TIMEOUT_MS, O_POLL_MS, O_SIGNAL, O_LIMIT, O_STATE, O_ALL,
	O_OLDER_THAN, O_DRY_RUN, O_FORCE, O_SOURCE, O_GLOBAL,
	/* notify set */
	O_COMMAND, O_FILE, O_OUTPUT_PATTERN, O_OUTPUT_MATCH_TYPE,
	O_OUTPUT_STREAM, O_OUTPUT_COMMAND, O_OUTPUT_FILE,
	/* input, terminals, incremental output, events */
	O_STDIN, O_STDIN_FILE, O_STDIN_MAX_BYTES, O_INTERACTIVE, O_PTY,
	O_PTY_SIZE, O_DATA, O_STDIN_FLAG, O_EOF, O_SINCE_STDOUT,
	O_SINCE_STDERR, O_CURSOR, O_STREAM, O_OFFSET, O_FOLLOW, O_SINCE,
	O_JOB, O_TYPE, O_KILL_LEFTOVERS, O_WRITE_TIMEOUT, O_WAIT_MS, O_NO_WAIT,
	O_UNTIL, O_SESSION, O_ANY, O_QUEUE, O_SLOTS, O_NO_QUEUE_WAIT,
	O_AFTER, O_AFTER_OK, O_ATTEMPT, O_FOREVER, O_STDIN_AUTO, O_MAX_JOBS, O_ALL_DIRS, O_HUMAN, O_CLAUDE, O_NOTIFY_ON,
	O_COUNT
};

/* OPT_DURATION: milliseconds, or a number and a unit (lib/fmt.h);
 * OPT_SECONDS, the newer tool's options (--until, --poll): the same, but
 * a bare number is seconds, as there */
enum opt_kind {
	OPT_FLAG, OPT_VALUE, OPT_LIST, OPT_NUMBER, OPT_DURATION, OPT_SECONDS
};

/* packed: 10 bytes an entry rather than 16 (the table has 87) */
struct __attribute__((packed)) opt_def {
	const char *name;	/* long name without "--" */
	unsigned char id;	/* enum opt_id */
	unsigned char kind;	/* enum opt_kind */
};

enum command_id {
	CMD_RUN, CMD_CREATE, CMD_START, CMD_STATUS, CMD_TAIL, CMD_WAIT,
	CMD_KILL, CMD_LIST, CMD_TAG_SET, CMD_NOTIFY_SET, CMD_NOTIFY_REDELIVER,
	CMD_GC, CMD_DELETE, CMD_SCHEMA, CMD_INSTALL_SKILLS, CMD_WRITE, CMD_LOG,
	CMD_EVENTS, CMD_MCP, CMD_SUMMARY, CMD_RESTART, CMD_HELP, CMD_NONE
};

struct __attribute__((packed)) command_def {	/* 27 bytes, not 32 */
	const char *name;	/* "tag set" for a two-word command */
	unsigned char id;	/* enum command_id */
	/* exact count of positional args; -1: job ids or a selector
	 * (wait: any number of ids; kill, delete: one id) */
	signed char positionals;
	char trailing_command;	/* takes CMD... after its options */
	const unsigned char *opts;	/* enum opt_id values; ends with O_COUNT */
	const char *usage;	/* one line; the rest of its help is the
				 * section "@<name>" of cli-help.txt */
};

struct args {
	const struct command_def *command;
	const char *value[O_COUNT];	/* last value of VALUE/NUMBER opts */
	uint64_t number[O_COUNT];
	int seen[O_COUNT];
	struct strv list[O_COUNT];	/* every value of LIST opts */
	struct strv positional;
	char **trailing;	/* the command words of run/create */
	size_t trailing_count;
	int verbose;
	const char *alias;	/* the command as typed when another's
				 * name: "ps" (list), "rm" (delete) */
};

/* Parse argv (cli_check.c then checks the options together). 0: go on
 * with args->command; 1: help or version was printed, exit 0; -1: usage
 * error, message in usage[size], exit 2. */
int cli_parse(int argc, char **argv, struct args *args, char *usage,
	      size_t usage_size);
void cli_args_free(struct args *args);
/* usage[size] = fmt with detail: -1. */
int usage_error(char *usage, size_t size, const char *fmt,
		const char *detail);
/* A tail cursor, "<stdout offset>:<stderr offset>": 0, or -1. */
int parse_cursor(const char *text, uint64_t offsets[2]);
/* "COLSxROWS" (each 1..65535): 0, or -1 when malformed. */
int parse_pty_size(const char *text, unsigned *cols, unsigned *rows);

#endif
