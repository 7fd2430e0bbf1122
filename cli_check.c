/* cli_check.c - what the parsed options must be together: the pairs that
 * conflict, the ids or selector a command needs, the values of options
 * that have a form (cursors, terminal sizes, --env entries, queue names). */
#include "cli.h"
#include "cli_check.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "notify.h"
#include "lib/fmt.h"
#include "store_queue.h"
#include "store_spec.h"
#include "store_state.h"

static int check_queue(const struct args *args, char *usage, size_t size)
{
	const char *queue = args->value[O_QUEUE];

	if (queue && !queue_name_valid(queue))
		return usage_error(usage, size, "--queue: invalid name \"%.70s\" "
				   "(1 to 64 letters, digits, '.', '_' or '-', "
				   "not starting with '.')", queue);
	/* start finds the job's own queue in its definition */
	if (!queue && args->command->id != CMD_START &&
	    (args->seen[O_SLOTS] || args->seen[O_NO_QUEUE_WAIT]))
		return usage_error(usage, size, "--%s needs --queue",
				   args->seen[O_SLOTS] ? "slots"
						       : "no-queue-wait");
	if (args->seen[O_SLOTS] &&
	    (args->number[O_SLOTS] < 1 ||
	     args->number[O_SLOTS] > QUEUE_SLOTS_MAX))
		return usage_error(usage, size, "--slots: %s is out of range "
				   "(1 to 1024)", args->value[O_SLOTS]);
	return 0;
}

/* Options that go together only so: ONE_OF: at most one of them;
 * EXCLUDES: the first with none of the others; NEEDS: the first with one
 * of the others. O_ROOT (0), never in a rule, ends a short list. */
enum rule_kind { ONE_OF, EXCLUDES, NEEDS };

/* packed: 14 bytes a rule rather than 16 */
static const struct __attribute__((packed)) option_rule {
	unsigned char kind;
	unsigned char opts[5];
	const char *message;
} option_rules[] = {
	{ ONE_OF, { O_INHERIT_ENV, O_NO_INHERIT_ENV },
	  "--inherit-env and --no-inherit-env cannot be used together" },
	{ NEEDS, { O_ALL_DIRS, O_ALL },
	  "--all-dirs goes with --all (delete --all --all-dirs)" },
	{ EXCLUDES, { O_ALL, O_CWD },
	  "--all and --cwd cannot be used together" },
	{ ONE_OF, { O_STDIN, O_STDIN_FILE, O_STDIN_AUTO, O_INTERACTIVE },
	  "--stdin, --stdin-file, --stdin-auto and --interactive cannot be "
	  "used together" },
	/* notify set's --file is alone: it takes neither of the others */
	{ ONE_OF, { O_DATA, O_FILE, O_STDIN_FLAG },
	  "write takes one of --data, --file and --stdin" },
	{ EXCLUDES, { O_UNTIL, O_SNAPSHOT_AFTER, O_WAIT },
	  "--until, --snapshot-after and --wait cannot be used together" },
	{ NEEDS, { O_WAIT_MS, O_CURSOR, O_SINCE_STDOUT, O_SINCE_STDERR },
	  "tail --wait-ms waits for output after a point: give --cursor or "
	  "--since-stdout/--since-stderr" },
	/* events --follow takes none of them */
	{ EXCLUDES, { O_FOLLOW, O_WAIT_MS, O_TAIL_LINES, O_MAX_BYTES },
	  "tail --follow streams the whole output: it takes no --wait-ms, "
	  "--tail-lines or --max-bytes" },
	{ EXCLUDES, { O_CURSOR, O_SINCE_STDOUT, O_SINCE_STDERR },
	  "--cursor and --since-* cannot be used together" },
	{ EXCLUDES, { O_PTY, O_STDIN, O_STDIN_FILE, O_STDIN_AUTO },
	  "--pty takes its input from write, not --stdin, --stdin-file or "
	  "--stdin-auto" },
	{ NEEDS, { O_PTY_SIZE, O_PTY }, "--pty-size needs --pty" },
};

static int rule_broken(const struct args *args,
		       const struct option_rule *rule)
{
	int first = args->seen[rule->opts[0]] > 0, others = 0;

	for (size_t i = 1; i < sizeof(rule->opts) && rule->opts[i]; i++)
		others += args->seen[rule->opts[i]] > 0;
	if (rule->kind == ONE_OF)
		return first + others > 1;
	return first && (rule->kind == NEEDS ? !others : others);
}

/* The options whose value is one of a few words. */
/* packed: 33 bytes an option rather than 40 */
static const struct __attribute__((packed)) word_option {
	unsigned char id;
	const char *name;
	const char *words[3];
} word_options[] = {
	{ O_OUTPUT_MATCH_TYPE, "output-match-type", { "contains", "regex" } },
	{ O_OUTPUT_STREAM, "output-stream", { "stdout", "stderr", "either" } },
	{ O_STREAM, "stream", { "stdout", "stderr", "full" } },
	{ O_NOTIFY_ON, "notify-on", { "finished", "failure", "success" } },
};

/* A value of such an option that is none of its words: "--stream:
 * invalid value "x" (stdout, stderr or full)". */
static int word_invalid(const struct args *args, const struct word_option *o,
			char *usage, size_t size)
{
	const char *value = args->value[o->id];
	size_t n;

	if (!value)
		return 0;
	for (n = 0; n < 3 && o->words[n]; n++)
		if (!strcmp(value, o->words[n]))
			return 0;
	snprintf(usage, size, "--%s: invalid value \"%.64s\" (%s%s%s or %s)",
		 o->name, value, o->words[0], n > 2 ? ", " : "",
		 n > 2 ? o->words[1] : "", o->words[n - 1]);
	return 1;
}

static int check_conflicts(const struct args *args, char *usage, size_t size)
{

	for (size_t i = 0; i < sizeof(option_rules) / sizeof(*option_rules);
	     i++)
		if (rule_broken(args, &option_rules[i]))
			return usage_error(usage, size, "%s",
					   option_rules[i].message);
	for (size_t i = 0; i < sizeof(word_options) / sizeof(*word_options);
	     i++)
		if (word_invalid(args, &word_options[i], usage, size))
			return -1;
	if (args->value[O_CURSOR] &&
	    parse_cursor(args->value[O_CURSOR], NULL) < 0) {
		snprintf(usage, size, "--cursor: invalid value \"%.40s\" (a "
			 "cursor from an earlier answer)", args->value[O_CURSOR]);
		return -1;
	}
	/* run and create: sinks of a rule they do not define */
	if (args->command->trailing_command && !args->value[O_OUTPUT_PATTERN] &&
	    (args->value[O_OUTPUT_MATCH_TYPE] || args->value[O_OUTPUT_STREAM] ||
	     args->value[O_OUTPUT_COMMAND] || args->value[O_OUTPUT_FILE]))
		return usage_error(usage, size, "%s", "--output-match-type, "
				   "--output-stream, --output-command and "
				   "--output-file need --output-pattern");
	/* without --wait the answer comes while the job may still run: an
	 * exit status then would depend on a race */
	if (args->seen[O_EXIT_STATUS] && !args->seen[O_WAIT] &&
	    args->command->id != CMD_WAIT)
		return usage_error(usage, size, "--exit-status needs --wait "
				   "(a job still running has no exit status; "
				   "%s)", "wait --exit-status ID waits for it");
	if (args->value[O_STATE] &&
	    job_status_parse(args->value[O_STATE], &(enum job_status){ 0 }) < 0)
		return usage_error(usage, size, "--state: invalid value \"%s\" "
				   "(created, queued, running, exited, killed, "
				   "failed or unknown)", args->value[O_STATE]);
	return check_queue(args, usage, size);
}

static int check_arity(const struct args *args, char *usage, size_t size)
{
	const struct command_def *command = args->command;
	size_t ids = args->positional.n;
	int selector = args->list[O_TAG].n || args->list[O_META].n ||
		       args->value[O_STATE] || args->value[O_QUEUE] ||
		       (command->id == CMD_DELETE && args->seen[O_ALL]);

	if (command->trailing_command && args->trailing_count == 0)
		return usage_error(usage, size, "%s: a COMMAND is required",
				   command->name);
	if (command->positionals >= 0 &&
	    args->positional.n != (size_t)command->positionals) {
		if (args->positional.n < (size_t)command->positionals)
			return usage_error(usage, size, "%s: JOB_ID is required",
					   command->name);
		return usage_error(usage, size, "unexpected argument \"%s\"",
				   args->positional.v[command->positionals]);
	}
	/* never "every job": an id, or a selector that says which */
	if (command->positionals < 0 && !ids && !selector) {
		snprintf(usage, size, "%s: give a JOB_ID or a selector (--tag, "
			 "--meta, --state, --queue%s)", command->name,
			 command->id == CMD_DELETE ? ", --all" : "");
		return -1;
	}
	if (command->positionals < 0 && ids && selector)
		return usage_error(usage, size, "%s: give job ids or a "
				   "selector, not both", command->name);
	if (ids > 1 && command->id != CMD_WAIT)
		return usage_error(usage, size, "unexpected argument \"%s\"",
				   args->positional.v[1]);
	return 0;
}

int parse_cursor(const char *text, uint64_t offsets[2])
{
	uint64_t values[2];

	/* each number at most 23 digits, the second ending the text */
	for (int i = 0; i < 2; i++) {
		size_t n = scan_u64(text, &values[i]);

		if (!n || n > 23 || text[n] != (i ? '\0' : ':'))
			return -1;
		text += n + 1;
	}
	if (offsets) {
		offsets[0] = values[0];
		offsets[1] = values[1];
	}
	return 0;
}

int parse_pty_size(const char *text, unsigned *cols, unsigned *rows)
{
	uint64_t c = 0, r = 0;
	size_t n = scan_u64(text, &c);

	if (!n || text[n] != 'x' || c < 1 || c > 65535)
		return -1;
	text += n + 1;
	n = scan_u64(text, &r);
	if (!n || text[n] || r < 1 || r > 65535)
		return -1;
	if (cols)
		*cols = (unsigned)c;
	if (rows)
		*rows = (unsigned)r;
	return 0;
}

/* --env NAME=VALUE, or NAME alone: the caller's value (as docker run -e
 * NAME), which must be there. A name is anything before the first '=',
 * never empty. */
static int check_env(const struct strv *env, char *usage, size_t size)
{
	for (size_t i = 0; i < env->n; i++) {
		const char *entry = env->v[i];
		size_t name_len = strcspn(entry, "=");

		if (name_len == 0) {
			snprintf(usage, size, "--env \"%.64s\": the variable "
				 "name is empty (expected NAME=VALUE, or NAME "
				 "for the value agent-exec has)", entry);
			return -1;
		}
		if (!entry[name_len] && !getenv(entry)) {
			snprintf(usage, size, "--env %.64s: agent-exec has no "
				 "%.64s in its environment to pass on; give "
				 "--env %.64s=VALUE", entry, entry, entry);
			return -1;
		}
	}
	return 0;
}

/* Values checked as they are parsed (as the reference does): tags and
 * list filters, caller metadata, --env. */
static int check_values(const struct args *args, char *usage, size_t size)
{
	/* list and the selectors take patterns (ns.*) */
	int pattern = args->command->id == CMD_LIST ||
		      args->command->positionals < 0;
	const struct strv *tags = &args->list[O_TAG];
	const struct strv *meta = &args->list[O_META];

	for (size_t i = 0; i < tags->n; i++) {
		const char *why = tag_invalid(tags->v[i], pattern);

		if (why) {
			snprintf(usage, size, "invalid tag \"%.64s\": %s",
				 tags->v[i], why);
			return -1;
		}
	}
	if (args->value[O_TYPE] && !events_type_valid(args->value[O_TYPE])) {
		snprintf(usage, size, "--type: unknown event type \"%.40s\" "
			 "(one of %s, or a prefix as job.*)",
			 args->value[O_TYPE], EVENT_TYPES);
		return -1;
	}
	if (args->value[O_PTY_SIZE] &&
	    parse_pty_size(args->value[O_PTY_SIZE], NULL, NULL) < 0) {
		snprintf(usage, size, "--pty-size: invalid value \"%.40s\" "
			 "(COLSxROWS, e.g. 120x40)", args->value[O_PTY_SIZE]);
		return -1;
	}
	for (size_t i = 0; i < meta->n; i++) {
		const char *entry = meta->v[i];
		size_t key_len = 0;

		while (isalnum((unsigned char)entry[key_len]) ||
		       (entry[key_len] && strchr("_.-", entry[key_len])))
			key_len++;
		if (entry[key_len] != '=' || key_len == 0 || key_len > 128) {
			snprintf(usage, size, "invalid --meta \"%.64s\": "
				 "expected KEY=VALUE, KEY of letters, digits, "
				 "'_', '.' or '-'", entry);
			return -1;
		}
	}
	return check_env(&args->list[O_ENV], usage, size);
}

int cli_check(const struct args *args, char *usage, size_t size)
{
	if (check_conflicts(args, usage, size) < 0 ||
	    check_arity(args, usage, size) < 0 ||
	    check_values(args, usage, size) < 0)
		return -1;
	return 0;
}
