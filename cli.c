/* cli.c - argument parsing: global options anywhere before a trailing
 * command, long options as --opt value or --opt=value, -v/-vv counted,
 * single-valued options at most once, numbers strictly unsigned decimal,
 * durations in ms or with a unit. Every mistake is a usage error (exit 2,
 * empty stdout); a slip of a name gets the nearest one (cli_help.c). */
#include "cli.h"
#include "cli_help.h"

#include "lib/fmt.h"
#include "events.h"
#include "store_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the version is written once, in the Makefile (VERSION) */
#ifndef AE_VERSION
#error "AE_VERSION must be defined (make passes -DAE_VERSION)"
#endif

static const struct opt_def opt_defs[] = {
	{ "root", O_ROOT, OPT_VALUE },
	{ "verbose", O_VERBOSE, OPT_FLAG },
	{ "help", O_HELP, OPT_FLAG },
	{ "version", O_VERSION, OPT_FLAG },
	{ "snapshot-after", O_SNAPSHOT_AFTER, OPT_DURATION },
	{ "until", O_UNTIL, OPT_SECONDS },
	{ "session", O_SESSION, OPT_VALUE },
	{ "tail-lines", O_TAIL_LINES, OPT_NUMBER },
	{ "lines", O_TAIL_LINES, OPT_NUMBER },	/* the newer spelling */
	{ "max-bytes", O_MAX_BYTES, OPT_NUMBER },
	{ "timeout", O_TIMEOUT, OPT_DURATION },
	{ "kill-after", O_KILL_AFTER, OPT_DURATION },
	{ "cwd", O_CWD, OPT_VALUE },
	{ "env", O_ENV, OPT_LIST },
	{ "env-file", O_ENV_FILE, OPT_LIST },
	{ "no-inherit-env", O_NO_INHERIT_ENV, OPT_FLAG },
	{ "inherit-env", O_INHERIT_ENV, OPT_FLAG },
	{ "mask", O_MASK, OPT_LIST },
	{ "tag", O_TAG, OPT_LIST },
	{ "log", O_LOG, OPT_VALUE },
	{ "progress-every", O_PROGRESS_EVERY, OPT_DURATION },
	{ "wait", O_WAIT, OPT_FLAG },
	{ "wait-poll-ms", O_WAIT_POLL_MS, OPT_DURATION },
	{ "exit-status", O_EXIT_STATUS, OPT_FLAG },
	{ "notify-command", O_NOTIFY_COMMAND, OPT_VALUE },
	{ "notify-file", O_NOTIFY_FILE, OPT_VALUE },
	{ "notify-timeout", O_NOTIFY_TIMEOUT, OPT_DURATION },
	{ "notify-retries", O_NOTIFY_RETRIES, OPT_NUMBER },
	{ "notify-on", O_NOTIFY_ON, OPT_VALUE },
	{ "command", O_COMMAND, OPT_VALUE },
	{ "file", O_FILE, OPT_VALUE },
	{ "output-pattern", O_OUTPUT_PATTERN, OPT_VALUE },
	{ "output-match-type", O_OUTPUT_MATCH_TYPE, OPT_VALUE },
	{ "output-stream", O_OUTPUT_STREAM, OPT_VALUE },
	{ "output-command", O_OUTPUT_COMMAND, OPT_VALUE },
	{ "output-file", O_OUTPUT_FILE, OPT_VALUE },
	{ "stdin", O_STDIN, OPT_VALUE },
	{ "stdin", O_STDIN_FLAG, OPT_FLAG },	/* write --stdin */
	{ "stdin-file", O_STDIN_FILE, OPT_VALUE },
	{ "stdin-auto", O_STDIN_AUTO, OPT_FLAG },
	{ "stdin-max-bytes", O_STDIN_MAX_BYTES, OPT_NUMBER },
	{ "interactive", O_INTERACTIVE, OPT_FLAG },
	{ "pty", O_PTY, OPT_FLAG },
	{ "pty-size", O_PTY_SIZE, OPT_VALUE },
	{ "data", O_DATA, OPT_VALUE },
	{ "eof", O_EOF, OPT_FLAG },
	{ "timeout", O_WRITE_TIMEOUT, OPT_DURATION },	/* write's */
	{ "since-stdout", O_SINCE_STDOUT, OPT_NUMBER },
	{ "since-stderr", O_SINCE_STDERR, OPT_NUMBER },
	{ "cursor", O_CURSOR, OPT_VALUE },
	{ "stream", O_STREAM, OPT_VALUE },
	{ "offset", O_OFFSET, OPT_NUMBER },
	{ "follow", O_FOLLOW, OPT_FLAG },
	{ "since", O_SINCE, OPT_VALUE },
	{ "job", O_JOB, OPT_VALUE },
	{ "type", O_TYPE, OPT_VALUE },
	{ "config", O_CONFIG, OPT_VALUE },
	{ "shell-wrapper", O_SHELL_WRAPPER, OPT_VALUE },
	{ "timeout-ms", O_TIMEOUT_MS, OPT_DURATION },
	{ "poll-ms", O_POLL_MS, OPT_DURATION },
	{ "poll", O_POLL_MS, OPT_SECONDS },
	{ "signal", O_SIGNAL, OPT_VALUE },
	{ "limit", O_LIMIT, OPT_NUMBER },
	{ "state", O_STATE, OPT_VALUE },
	{ "all", O_ALL, OPT_FLAG },
	{ "meta", O_META, OPT_LIST },
	{ "callback-session", O_CALLBACK_SESSION, OPT_VALUE },
	{ "callback-agent", O_CALLBACK_AGENT, OPT_VALUE },
	{ "older-than", O_OLDER_THAN, OPT_VALUE },
	{ "dry-run", O_DRY_RUN, OPT_FLAG },
	{ "force", O_FORCE, OPT_FLAG },
	{ "source", O_SOURCE, OPT_VALUE },
	{ "global", O_GLOBAL, OPT_FLAG },
	{ "kill-leftovers", O_KILL_LEFTOVERS, OPT_FLAG },
	{ "wait-ms", O_WAIT_MS, OPT_DURATION },
	{ "no-wait", O_NO_WAIT, OPT_FLAG },
	{ "any", O_ANY, OPT_FLAG },
	{ "queue", O_QUEUE, OPT_VALUE },
	{ "slots", O_SLOTS, OPT_NUMBER },
	{ "no-queue-wait", O_NO_QUEUE_WAIT, OPT_FLAG },
	{ "after", O_AFTER, OPT_LIST },
	{ "after-ok", O_AFTER_OK, OPT_LIST },
	{ "attempt", O_ATTEMPT, OPT_NUMBER },
	{ "forever", O_FOREVER, OPT_FLAG },
	{ "max-jobs", O_MAX_JOBS, OPT_NUMBER },
	{ "all-dirs", O_ALL_DIRS, OPT_FLAG },
	{ "human", O_HUMAN, OPT_FLAG },
	{ "claude", O_CLAUDE, OPT_FLAG },
};

#define DEFINITION_OPTS \
	O_TIMEOUT, O_KILL_AFTER, O_CWD, O_ENV, O_ENV_FILE, O_NO_INHERIT_ENV, \
	O_INHERIT_ENV, O_MASK, O_TAG, O_LOG, O_PROGRESS_EVERY, O_CONFIG, \
	O_SHELL_WRAPPER, O_META, O_CALLBACK_SESSION, O_CALLBACK_AGENT, \
	O_NOTIFY_COMMAND, O_NOTIFY_FILE, O_NOTIFY_TIMEOUT, O_NOTIFY_RETRIES, \
	O_NOTIFY_ON, \
	O_STDIN, O_STDIN_FILE, O_STDIN_AUTO, O_STDIN_MAX_BYTES, O_INTERACTIVE, \
	O_PTY, O_PTY_SIZE, O_KILL_LEFTOVERS, O_AFTER, O_AFTER_OK, O_QUEUE, \
	O_SLOTS, O_OUTPUT_PATTERN, O_OUTPUT_MATCH_TYPE, O_OUTPUT_STREAM, \
	O_OUTPUT_COMMAND, O_OUTPUT_FILE
/* --no-queue-wait where the job starts: run and start */
#define QUEUE_OPTS O_QUEUE, O_SLOTS, O_NO_QUEUE_WAIT
#define OBSERVE_OPTS \
	O_SNAPSHOT_AFTER, O_UNTIL, O_TAIL_LINES, O_MAX_BYTES, O_WAIT, \
	O_WAIT_POLL_MS, O_EXIT_STATUS, O_NO_WAIT, O_FOREVER

static const unsigned char run_opts[] = {
	DEFINITION_OPTS, OBSERVE_OPTS, O_NO_QUEUE_WAIT, O_COUNT
};
static const unsigned char create_opts[] = { DEFINITION_OPTS, O_COUNT };
static const unsigned char start_opts[] = {
	OBSERVE_OPTS, O_KILL_LEFTOVERS, QUEUE_OPTS, O_CONFIG, O_COUNT
};
static const unsigned char restart_opts[] = {
	OBSERVE_OPTS, O_KILL_LEFTOVERS, O_SIGNAL, O_KILL_AFTER, O_CONFIG,
	O_COUNT
};
static const unsigned char no_opts[] = { O_COUNT };
static const unsigned char tail_opts[] = {
	O_TAIL_LINES, O_MAX_BYTES, O_SINCE_STDOUT, O_SINCE_STDERR, O_CURSOR,
	O_WAIT_MS, O_FOLLOW, O_ATTEMPT, O_COUNT
};
static const unsigned char write_opts[] = {
	O_DATA, O_FILE, O_STDIN_FLAG, O_EOF, O_WRITE_TIMEOUT, O_COUNT
};
static const unsigned char log_opts[] = {
	O_STREAM, O_OFFSET, O_LIMIT, O_ATTEMPT, O_COUNT
};
static const unsigned char events_opts[] = {
	O_FOLLOW, O_SINCE, O_JOB, O_TYPE, O_COUNT
};
/* the selector of wait, kill and delete */
#define SELECTOR_OPTS O_TAG, O_META, O_STATE, O_QUEUE
static const unsigned char wait_opts[] = {
	O_TIMEOUT_MS, O_UNTIL, O_FOREVER, O_POLL_MS, O_EXIT_STATUS,
	O_TAIL_LINES, O_MAX_BYTES, O_ANY, SELECTOR_OPTS, O_COUNT
};
static const unsigned char mcp_opts[] = { O_SESSION, O_COUNT };
static const unsigned char kill_opts[] = {
	O_SIGNAL, O_NO_WAIT, SELECTOR_OPTS, O_COUNT
};
static const unsigned char list_opts[] = {
	O_LIMIT, O_STATE, O_CWD, O_ALL, O_TAG, O_QUEUE, O_HUMAN, O_COUNT
};
static const unsigned char human_opts[] = { O_HUMAN, O_COUNT };
static const unsigned char tag_opts[] = { O_TAG, O_COUNT };
static const unsigned char notify_set_opts[] = {
	O_COMMAND, O_FILE, O_OUTPUT_PATTERN, O_OUTPUT_MATCH_TYPE,
	O_OUTPUT_STREAM, O_OUTPUT_COMMAND, O_OUTPUT_FILE, O_NOTIFY_TIMEOUT,
	O_NOTIFY_RETRIES, O_NOTIFY_ON, O_COUNT
};
static const unsigned char redeliver_opts[] = { O_FORCE, O_COUNT };
static const unsigned char gc_opts[] = {
	O_OLDER_THAN, O_MAX_JOBS, O_MAX_BYTES, O_DRY_RUN, O_COUNT
};
static const unsigned char delete_opts[] = {
	O_FORCE, O_ALL, O_ALL_DIRS, O_DRY_RUN, SELECTOR_OPTS, O_COUNT
};
static const unsigned char skills_opts[] = {
	O_SOURCE, O_GLOBAL, O_CLAUDE, O_COUNT
};

static const struct command_def commands[] = {
	{ "run", CMD_RUN, 0, 1, run_opts,
	  "run [OPTIONS] [--] COMMAND..." },
	{ "create", CMD_CREATE, 0, 1, create_opts,
	  "create [OPTIONS] [--] COMMAND..." },
	{ "start", CMD_START, 1, 0, start_opts, "start [OPTIONS] JOB_ID" },
	{ "restart", CMD_RESTART, 1, 0, restart_opts,
	  "restart [OPTIONS] JOB_ID" },
	{ "status", CMD_STATUS, 1, 0, human_opts, "status [--human] JOB_ID" },
	{ "tail", CMD_TAIL, 1, 0, tail_opts, "tail [OPTIONS] JOB_ID" },
	{ "write", CMD_WRITE, 1, 0, write_opts,
	  "write [--data TEXT | --file PATH | --stdin] [--eof] [--timeout D] "
	  "JOB_ID" },
	{ "log", CMD_LOG, 1, 0, log_opts,
	  "log [--stream S] [--offset N] [--limit M] [--attempt N] JOB_ID" },
	{ "events", CMD_EVENTS, 0, 0, events_opts,
	  "events [--follow] [--since CURSOR] [--job ID] [--type TYPE]" },
	{ "mcp", CMD_MCP, 0, 0, mcp_opts, "mcp [--session KEY]" },
	{ "wait", CMD_WAIT, -1, 0, wait_opts,
	  "wait [OPTIONS] (JOB_ID... | SELECTOR)" },
	{ "kill", CMD_KILL, -1, 0, kill_opts,
	  "kill [OPTIONS] (JOB_ID | SELECTOR)" },
	{ "list", CMD_LIST, 0, 0, list_opts, "list [OPTIONS]" },
	{ "tag set", CMD_TAG_SET, 1, 0, tag_opts,
	  "tag set JOB_ID [--tag TAG]..." },
	{ "notify set", CMD_NOTIFY_SET, 1, 0, notify_set_opts,
	  "notify set JOB_ID [OPTIONS]" },
	{ "notify redeliver", CMD_NOTIFY_REDELIVER, 1, 0, redeliver_opts,
	  "notify redeliver [--force] JOB_ID" },
	{ "gc", CMD_GC, 0, 0, gc_opts,
	  "gc [--older-than D] [--max-jobs N] [--max-bytes B] [--dry-run]" },
	{ "delete", CMD_DELETE, -1, 0, delete_opts,
	  "delete [--force] [--dry-run] (JOB_ID | SELECTOR | --all)" },
	{ "summary", CMD_SUMMARY, 0, 0, human_opts, "summary [--human]" },
	{ "schema", CMD_SCHEMA, 0, 0, no_opts, "schema" },
	{ "install-skills", CMD_INSTALL_SKILLS, 0, 0, skills_opts,
	  "install-skills [--source self|local:PATH] [--global] [--claude]" },
	{ "help", CMD_HELP, -1, 0, no_opts, "help [COMMAND]" },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(*commands))

/* Commands under the newer tool's names: ps is list --state running. */
static const char *const aliases[][2] = {
	{ "ps", "list" }, { "rm", "delete" }
};

static const struct command_def *cli_command(const char *name)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(*aliases); i++)
		if (strcmp(name, aliases[i][0]) == 0)
			name = aliases[i][1];
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* The command (or the first word of a two-word one) typo is a slip for,
 * in nearest[size]; NULL when none is near. */
static const char *command_nearest(const char *typo, char *nearest,
				   size_t size)
{
	unsigned best_distance = 3;
	char word[24];

	*nearest = '\0';
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		const char *name = commands[i].name;

		snprintf(word, sizeof(word), "%.*s", (int)strcspn(name, " "),
			 name);
		if (help_nearer(typo, name, &best_distance))
			copy_str(nearest, size, name);
		if (help_nearer(typo, word, &best_distance))
			copy_str(nearest, size, word);
	}
	return *nearest ? nearest : NULL;
}

/* The overview: each command with the first line of its help. */
static void print_overview(int fd)
{
	write_str(fd, "agent-exec " AE_VERSION
		  " - run commands as durable background jobs; every answer "
		  "is\none JSON object on stdout.\n\nUsage: agent-exec "
		  "[GLOBAL OPTIONS] COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		help_summary(fd, commands[i].name);
	for (size_t i = 0; i < sizeof(aliases) / sizeof(*aliases); i++)
		help_summary(fd, aliases[i][0]);
	write_str(fd, "\nOptions: agent-exec help COMMAND.\n\n");
	help_print(fd, "global", 0);
}

/* A command's help: usage, its section, the global options, examples. */
static void print_command_help(const struct command_def *command)
{
	write_str(1, "Usage: agent-exec ");
	write_str(1, command->usage);
	write_str(1, "\n\n");
	help_print(1, command->name, 0);
	write_str(1, "\n");
	help_print(1, "global", 0);
	write_str(1, "\nExamples:\n");
	help_print(1, command->name, 1);
}

/* Whether word starts a two-word command ("tag" of "tag set"). */
static int command_group(const char *word)
{
	size_t len = strlen(word);

	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strncmp(commands[i].name, word, len) == 0 &&
		    commands[i].name[len] == ' ')
			return 1;
	return 0;
}

static int opt_allowed(const struct command_def *command, enum opt_id id);

/* The definition of --name for this command (one name can mean a value
 * for one command and a flag for another: --stdin). */
static const struct opt_def *opt_find(const struct command_def *command,
				      const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(opt_defs) / sizeof(*opt_defs); i++)
		if (strlen(opt_defs[i].name) == len &&
		    strncmp(opt_defs[i].name, name, len) == 0 &&
		    opt_allowed(command, opt_defs[i].id))
			return &opt_defs[i];
	return NULL;
}

static int opt_allowed(const struct command_def *command, enum opt_id id)
{
	if (id <= O_VERSION)
		return 1;
	for (const unsigned char *opt = command ? command->opts : NULL;
	     opt && *opt != O_COUNT; opt++)
		if (*opt == id)
			return 1;
	return 0;
}

int usage_error(char *usage, size_t size, const char *fmt,
		const char *detail)
{
	snprintf(usage, size, fmt, detail);
	return -1;
}

/* The option of this command typo (without "--" and "=value") is a slip
 * for, or NULL. */
static const char *option_nearest(const struct command_def *command,
				  const char *typo)
{
	const char *best = NULL;
	unsigned best_distance = 3;

	for (size_t i = 0; i < sizeof(opt_defs) / sizeof(*opt_defs); i++)
		if (opt_allowed(command, opt_defs[i].id) &&
		    help_nearer(typo, opt_defs[i].name, &best_distance))
			best = opt_defs[i].name;
	return best;
}

/* "unknown option --x" or "unknown command "x"", with the nearest known
 * name when there is one. */
static int unknown_error(char *usage, size_t size, const char *what,
			 const char *typo, const char *nearest)
{
	int dashes = what[0] == 'o';

	snprintf(usage, size, "unknown %s %s%.64s%s", what,
		 dashes ? "--" : "\"", typo, dashes ? "" : "\"");
	if (nearest)
		snprintf(usage + strlen(usage), size - strlen(usage),
			 " (did you mean %s%s%s?)", dashes ? "--" : "\"",
			 nearest, dashes ? "" : "\"");
	return -1;
}

/* A bare number below 1000 for a limit on a job means milliseconds here
 * and seconds in the newer tool: said on stderr, the answer unchanged. */
static void hint_milliseconds(const struct opt_def *def, const char *value,
			      uint64_t ms)
{
	char hint[128];

	if ((def->id == O_TIMEOUT || def->id == O_KILL_AFTER ||
	     def->id == O_PROGRESS_EVERY || def->id == O_WRITE_TIMEOUT) &&
	    ms > 0 && ms < 1000 && value[strspn(value, "0123456789")] == '\0') {
		snprintf(hint, sizeof(hint), "agent-exec: --%s %s is %s ms; "
			 "write %ss for seconds\n", def->name, value, value,
			 value);
		write_str(2, hint);
	}
}

static int store_value(struct args *args, const struct opt_def *def,
		       char *value, char *usage, size_t size)
{
	if (def->kind == OPT_LIST)
		return strv_push(&args->list[def->id], value) < 0
			       ? usage_error(usage, size, "%s", "out of memory")
			       : 0;
	/* --root may come before and after the command: the later wins */
	if (args->seen[def->id] > 1 && def->id != O_ROOT)
		return usage_error(usage, size,
				   "option --%s given more than once",
				   def->name);
	args->value[def->id] = value;
	if (def->kind >= OPT_DURATION &&
	    parse_duration_ms(value, def->kind == OPT_SECONDS ? 1000 : 1,
			      &args->number[def->id]) < 0) {
		snprintf(usage, size, "--%s: invalid duration \"%.40s\" "
			 "(%sseconds, or a number and ms, s, m, h or d: "
			 "500ms, 10s, 2m)", def->name, value,
			 def->kind == OPT_SECONDS ? "" : "milli");
		return -1;
	}
	if (def->kind == OPT_DURATION)
		hint_milliseconds(def, value, args->number[def->id]);
	if (def->kind == OPT_NUMBER &&
	    parse_u64(value, &args->number[def->id]) < 0) {
		char text[160];

		snprintf(text, sizeof(text), "--%s: invalid number \"%.80s\"",
			 def->name, value);
		return usage_error(usage, size, "%s (expected an unsigned "
				   "decimal integer)", text);
	}
	return 0;
}

/* One "--name[=value]" at argv[*i]: 1 when a flag, 0 when it took a
 * value, -1 on a usage error. */
static int parse_long(int argc, char **argv, int *i, struct args *args,
		      char *usage, size_t size)
{
	char *arg = argv[*i] + 2, *value = NULL;
	size_t name_len = strcspn(arg, "=");
	const struct opt_def *def = opt_find(args->command, arg, name_len);

	if (!def) {
		char typo[40];

		snprintf(typo, sizeof(typo), "%.*s", (int)name_len, arg);
		return unknown_error(usage, size, "option", typo,
				     option_nearest(args->command, typo));
	}
	args->seen[def->id]++;
	if (def->kind == OPT_FLAG) {
		if (arg[name_len] == '=')
			return usage_error(usage, size,
					   "option --%s takes no value",
					   def->name);
		if (args->seen[def->id] > 1 && def->id != O_VERBOSE)
			return usage_error(usage, size,
					   "option --%s given more than once",
					   def->name);
		if (def->id == O_VERBOSE)
			args->verbose++;
		return 1;
	}
	if (arg[name_len] == '=')
		value = arg + name_len + 1;
	else if (*i + 1 < argc)
		value = argv[++*i];
	else
		return usage_error(usage, size, "option --%s needs a value",
				   def->name);
	return store_value(args, def, value, usage, size);
}

/* Short options: -v (counted, also -vv), -h. */
static int parse_short(const char *arg, struct args *args, char *usage,
		       size_t size)
{
	for (const char *c = arg + 1; *c; c++) {
		if (*c == 'v') {
			args->verbose++;
		} else if (*c == 'h') {
			args->seen[O_HELP]++;
		} else if (*c == 'V') {
			args->seen[O_VERSION]++;
		} else if (*c == 'H' && opt_allowed(args->command, O_HUMAN)) {
			args->seen[O_HUMAN]++;
		} else {
			char text[4] = { '-', *c, 0 };

			return usage_error(usage, size, "unknown option %s",
					   text);
		}
	}
	return 0;
}

static int is_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0';
}

static int parse_option(int argc, char **argv, int *i, struct args *args,
			char *usage, size_t size)
{
	if (argv[*i][1] == '-')
		return parse_long(argc, argv, i, args, usage, size);
	return parse_short(argv[*i], args, usage, size);
}

static int take_positional(int argc, char **argv, int i, struct args *args,
			   char *usage, size_t size)
{
	if (args->command->trailing_command) {
		args->trailing = argv + i;
		args->trailing_count = (size_t)(argc - i);
		return argc;
	}
	if (strv_push(&args->positional, argv[i]) < 0)
		return usage_error(usage, size, "%s", "out of memory");
	return i + 1;
}

/* help, --help, --version: print and report 1. */
static int answer_help(const struct args *args, char *usage, size_t size)
{
	const struct command_def *topic = args->command;

	if (args->seen[O_VERSION] && !args->seen[O_HELP]) {
		write_str(1, "agent-exec " AE_VERSION "\n");
		return 1;
	}
	if (topic && topic->id == CMD_HELP) {
		char name[64] = "", near[24];

		if (args->positional.n > 2)
			return usage_error(usage, size, "unexpected argument "
					   "\"%s\"", args->positional.v[2]);
		for (size_t i = 0; i < args->positional.n; i++)
			snprintf(name + strlen(name),
				 sizeof(name) - strlen(name), "%s%s",
				 i ? " " : "", args->positional.v[i]);
		topic = args->positional.n ? cli_command(name) : NULL;
		if (args->positional.n && !topic && !command_group(name))
			return unknown_error(usage, size, "command", name,
					     command_nearest(name, near,
							     sizeof(near)));
		if (!topic && args->positional.n) {
			snprintf(name + strlen(name),
				 sizeof(name) - strlen(name), " set");
			topic = cli_command(name);
		}
	}
	if (topic)
		print_command_help(topic);
	else
		print_overview(1);
	return 1;
}

/* The command named at argv[*i] (one word, or two as in "tag set");
 * *i moves past it. */
static const struct command_def *command_at(int argc, char **argv, int *i,
					    struct args *args, char *usage,
					    size_t size)
{
	const struct command_def *command = cli_command(argv[*i]);
	const char *second;
	char two_words[64];

	if (command) {
		if (strcmp(command->name, argv[*i]) != 0)
			args->alias = argv[*i];
		(*i)++;
		return command;
	}
	if (*i + 1 < argc) {
		/* "tag --help": the help of the group's one subcommand */
		second = strcmp(argv[*i + 1], "-h") == 0 ||
			 strcmp(argv[*i + 1], "--help") == 0
			 ? "set" : argv[*i + 1];
		snprintf(two_words, sizeof(two_words), "%s %s", argv[*i],
			 second);
		command = cli_command(two_words);
		if (command) {
			*i += second == argv[*i + 1] ? 2 : 1;
			return command;
		}
	}
	if (command_group(argv[*i]) && *i + 1 < argc)
		snprintf(usage, size, "%s: unknown subcommand \"%s\"",
			 argv[*i], argv[*i + 1]);
	else if (command_group(argv[*i]))
		snprintf(usage, size, "%s: a subcommand is required (e.g. '%s "
			 "set')", argv[*i], argv[*i]);
	else
		unknown_error(usage, size, "command", argv[*i],
			      command_nearest(argv[*i], two_words,
					      sizeof(two_words)));
	return NULL;
}

/* After a flag, a word that reads as the flag's value ("--wait false")
 * with more words after it: the newer tool takes such values, here the
 * word would start the command ("false -- echo hi"). A usage error, not
 * a job that runs something else. */
static int value_misread(int argc, char **argv, int i, char *usage,
			 size_t size)
{
	static const char *const values[] = {
		"true", "false", "yes", "no", "on", "off"
	};

	if (i + 1 >= argc)
		return 0;	/* "run --wait true": the command true */
	for (size_t v = 0; v < sizeof(values) / sizeof(*values); v++)
		if (strcmp(argv[i], values[v]) == 0) {
			snprintf(usage, size, "%s takes no value: \"%s\" would "
				 "start the command; give the flag alone (or "
				 "leave it out), the command after --",
				 argv[i - 1], argv[i]);
			return 1;
		}
	return 0;
}

/* The newer tool's spellings, said in 0.1's words for what follows: ps
 * is list --state running; run, start and restart take --no-wait for
 * --snapshot-after 0 and --forever for --wait; wait takes --until D
 * (kept: cmd.c's wait_deadline reads it; 0 answers at once) and
 * --forever, its default. */
static int resolve_spellings(struct args *args, char *usage, size_t size)
{
	int observes = opt_allowed(args->command, O_SNAPSHOT_AFTER);

	if (args->alias && strcmp(args->alias, "ps") == 0) {
		if (args->value[O_STATE])
			return usage_error(usage, size, "%s", "ps lists running "
					   "jobs: it takes no --state (list "
					   "--state does)");
		args->value[O_STATE] = "running";
	}
	if (observes && args->seen[O_NO_WAIT]) {
		if (args->seen[O_SNAPSHOT_AFTER] || args->seen[O_UNTIL] ||
		    args->seen[O_WAIT] || args->seen[O_FOREVER])
			return usage_error(usage, size, "%s", "--no-wait answers "
					   "at once: it takes no --snapshot-"
					   "after, --until, --wait or --forever");
		args->seen[O_SNAPSHOT_AFTER] = 1;
		args->value[O_SNAPSHOT_AFTER] = "0";
		args->number[O_SNAPSHOT_AFTER] = 0;
	}
	if (args->seen[O_FOREVER] && (args->seen[O_WAIT] ||
				      args->seen[O_UNTIL] ||
				      args->seen[O_TIMEOUT_MS]))
		return usage_error(usage, size, "%s", "--forever cannot be used "
				   "with --wait, --until or --timeout-ms");
	if (args->seen[O_UNTIL] && args->seen[O_TIMEOUT_MS])
		return usage_error(usage, size, "%s", "--until and --timeout-ms "
				   "cannot be used together");
	if (observes && args->seen[O_FOREVER])
		args->seen[O_WAIT] = 1;
	return 0;
}

int cli_parse(int argc, char **argv, struct args *args, char *usage,
	      size_t size)
{
	int i = 1, options_done = 0, flag = 0;

	memset(args, 0, sizeof(*args));
	/* global options before the command name */
	for (; i < argc && is_option(argv[i]) && strcmp(argv[i], "--"); i++)
		if (parse_option(argc, argv, &i, args, usage, size) < 0)
			return -1;
	if (i < argc && strcmp(argv[i], "--") != 0) {
		args->command = command_at(argc, argv, &i, args, usage, size);
		if (!args->command)
			return -1;
	}
	if (!args->command) {
		if (args->seen[O_HELP] || args->seen[O_VERSION])
			return answer_help(args, usage, size);
		print_overview(2);
		return usage_error(usage, size, "%s", "a command is required");
	}
	while (i < argc) {
		if (!options_done && strcmp(argv[i], "--") == 0) {
			options_done = 1;
			i++;
		} else if (!options_done && is_option(argv[i])) {
			flag = parse_option(argc, argv, &i, args, usage, size);
			if (flag < 0)
				return -1;
			i++;
			continue;
		} else {
			if (flag && value_misread(argc, argv, i, usage, size))
				return -1;
			i = take_positional(argc, argv, i, args, usage, size);
			if (i < 0)
				return -1;
		}
		flag = 0;
	}
	if (args->seen[O_HELP] || args->seen[O_VERSION] ||
	    args->command->id == CMD_HELP)
		return answer_help(args, usage, size);
	return resolve_spellings(args, usage, size);
}

void cli_args_free(struct args *args)
{
	for (int id = 0; id < O_COUNT; id++)
		strv_free(&args->list[id]);
	strv_free(&args->positional);
}
