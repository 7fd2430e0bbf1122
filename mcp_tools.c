/* mcp_tools.c - the tools of the MCP server: each one a command of the CLI
 * (run, status, tail, wait, kill, list, write), its arguments those of the
 * Rust agent-exec's MCP server where it has them (seconds for timeout and
 * until), the answer the command's own envelope. */
#include "mcp_tools.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum arg_kind {
	ARG_STRING,	/* --option VALUE */
	ARG_COUNT,	/* a non-negative integer: --option N */
	ARG_SECONDS,	/* a non-negative integer of seconds: --option Ns */
	ARG_FLAG,	/* a boolean: --option when true */
	ARG_STRINGS,	/* an array of strings: --option each */
	ARG_PAIRS,	/* an object of strings: --option KEY=VALUE each */
	ARG_COMMAND,	/* argv array, or one string (a shell script) */
	ARG_JOB,	/* the job id: the positional argument */
	ARG_UNTIL,	/* seconds to wait: the tool's own option */
};

/* packed: 25 bytes an entry rather than 32 (the tables have 44) */
struct __attribute__((packed)) tool_arg {
	const char *name;
	unsigned char kind;	/* enum arg_kind */
	const char *option;
	const char *description;
};

struct __attribute__((packed)) tool_def {	/* 33 bytes, not 40 */
	const char *name;
	const char *description;
	const struct tool_arg *args;
	const char *until_option;	/* what until becomes, or NULL */
	unsigned char until_default;	/* seconds */
};

#define JOB_ARG { "job_id", ARG_JOB, NULL, "the job: its id, an " \
	"unambiguous prefix of it, or its short id (last 6 characters)" }
#define END_ARGS { NULL, ARG_STRING, NULL, NULL }

static const struct tool_arg run_args[] = {
	{ "command", ARG_COMMAND, NULL, "the command: an argv array (run "
	  "as is), or one string (a shell script, run with sh -c)" },
	{ "cwd", ARG_STRING, "--cwd", "working directory [the server's]" },
	{ "env", ARG_PAIRS, "--env", "variables to set, {\"KEY\":\"VALUE\"}" },
	{ "timeout", ARG_SECONDS, "--timeout", "seconds after which the job "
	  "is sent SIGTERM (0: never) [0]" },
	{ "kill_after", ARG_SECONDS, "--kill-after", "seconds from that "
	  "SIGTERM to SIGKILL [0: at once]" },
	{ "until", ARG_UNTIL, NULL, "seconds to wait for the job to end "
	  "before answering (it runs on after) [10]" },
	{ "stdin", ARG_STRING, "--stdin", "the job's standard input" },
	{ "tags", ARG_STRINGS, "--tag", "tags, e.g. [\"ci.build\"]" },
	{ "meta", ARG_PAIRS, "--meta", "caller metadata, {\"KEY\":\"VALUE\"}" },
	{ "callback_session", ARG_STRING, "--callback-session", "the session "
	  "whose agent gets the result [this server's session]" },
	{ "callback_agent", ARG_STRING, "--callback-agent", "the caller's "
	  "agent id" },
	{ "mask", ARG_STRINGS, "--mask", "names of env variables whose "
	  "values show as *** (in the output too)" },
	{ "interactive", ARG_FLAG, "--interactive", "keep stdin open for the "
	  "write tool" },
	{ "pty", ARG_FLAG, "--pty", "run on a terminal (implies interactive)" },
	{ "tail_lines", ARG_COUNT, "--tail-lines", "lines per stream in the "
	  "output snapshot (0: all) [50]" },
	{ "max_bytes", ARG_COUNT, "--max-bytes", "bytes per stream in the "
	  "output snapshot [65536]" },
	END_ARGS
};
static const struct tool_arg status_args[] = { JOB_ARG, END_ARGS };
static const struct tool_arg tail_args[] = {
	JOB_ARG,
	{ "lines", ARG_COUNT, "--tail-lines", "last lines per stream (0: "
	  "all) [50]" },
	{ "max_bytes", ARG_COUNT, "--max-bytes", "bytes per stream [65536]" },
	{ "cursor", ARG_STRING, "--cursor", "only what came after this cursor "
	  "(from an earlier answer)" },
	{ "until", ARG_UNTIL, NULL, "with cursor: seconds to wait for new "
	  "output or the job's end [0]" },
	END_ARGS
};
static const struct tool_arg wait_args[] = {
	JOB_ARG,
	{ "until", ARG_UNTIL, NULL, "seconds to wait at most; the answer "
	  "says timed_out when the job runs on [30]" },
	{ "tail_lines", ARG_COUNT, "--tail-lines", "lines per stream in the "
	  "snapshot (0: all) [50]" },
	{ "max_bytes", ARG_COUNT, "--max-bytes", "bytes per stream in the "
	  "snapshot [65536]" },
	END_ARGS
};
static const struct tool_arg kill_args[] = {
	JOB_ARG,
	{ "signal", ARG_STRING, "--signal", "TERM, INT, KILL, HUP, ... or a "
	  "number [TERM]" },
	{ "no_wait", ARG_FLAG, "--no-wait", "answer at once, not waiting up "
	  "to 1 s for the job's end" },
	END_ARGS
};
static const struct tool_arg list_args[] = {
	{ "all", ARG_FLAG, "--all", "jobs of every directory, not only the "
	  "server's working directory" },
	{ "cwd", ARG_STRING, "--cwd", "jobs started in this directory" },
	{ "state", ARG_STRING, "--state", "created, running, exited, killed "
	  "or failed" },
	{ "tag", ARG_STRING, "--tag", "jobs with this tag, or ns.* for a "
	  "namespace" },
	{ "limit", ARG_COUNT, "--limit", "at most this many jobs (0: all)" },
	END_ARGS
};
static const struct tool_arg write_args[] = {
	JOB_ARG,
	{ "data", ARG_STRING, "--data", "the text to write to the job's stdin "
	  "(a job run with interactive or pty)" },
	{ "eof", ARG_FLAG, "--eof", "then close its stdin (^D on a pty)" },
	END_ARGS
};

static const struct tool_def tools[] = {
	{ "run", "Start a command as a durable background job; answers when "
	  "it ends or after until seconds, with its output so far. When the "
	  "job ends later, its result is pushed into this session.",
	  run_args, "--until", 10 },
	{ "status", "A job's state, command, exit code or signal, times and "
	  "notification delivery.", status_args, NULL, 0 },
	{ "tail", "The end of a job's stdout and stderr, or (cursor) what "
	  "came after an earlier read, waiting up to until seconds for it.",
	  tail_args, "--wait-ms", 0 },
	{ "wait", "Wait at most until seconds for a job to end; answers with "
	  "its output.", wait_args, "--timeout-ms", 30 },
	{ "kill", "Signal a job's process group (SIGTERM by default) and "
	  "report the state it ended in.", kill_args, NULL, 0 },
	{ "list", "The jobs, newest first, with their state and command.",
	  list_args, NULL, 0 },
	{ "write", "Write to the stdin of a job started with interactive or "
	  "pty.", write_args, NULL, 0 },
};

#define TOOL_COUNT (sizeof(tools) / sizeof(*tools))

/* ---- tools/list --------------------------------------------------------- */

/* key: a JSON literal as its value. */
static void kv_raw(struct json_writer *w, const char *key, const char *json)
{
	jw_key(w, key);
	jw_raw(w, json, strlen(json));
}

static void write_arg_schema(struct json_writer *w, const struct tool_arg *a)
{
	jw_kv_object_begin(w, a->name);
	switch (a->kind) {
	case ARG_COMMAND:
		kv_raw(w, "anyOf", "[{\"type\":\"array\",\"items\":{\"type\":"
		       "\"string\"},\"minItems\":1},{\"type\":\"string\","
		       "\"minLength\":1}]");
		break;
	case ARG_COUNT:
	case ARG_SECONDS:
	case ARG_UNTIL:
		jw_kv_str(w, "type", "integer");
		jw_kv_u64(w, "minimum", 0);
		break;
	case ARG_FLAG:
		jw_kv_str(w, "type", "boolean");
		break;
	case ARG_STRINGS:
		jw_kv_str(w, "type", "array");
		kv_raw(w, "items", "{\"type\":\"string\"}");
		break;
	case ARG_PAIRS:
		jw_kv_str(w, "type", "object");
		kv_raw(w, "additionalProperties", "{\"type\":\"string\"}");
		break;
	default:
		jw_kv_str(w, "type", "string");
	}
	jw_kv_str(w, "description", a->description);
	jw_object_end(w);
}

static void write_input_schema(struct json_writer *w,
			       const struct tool_def *tool)
{
	jw_kv_object_begin(w, "inputSchema");
	jw_kv_str(w, "type", "object");
	jw_kv_object_begin(w, "properties");
	for (const struct tool_arg *a = tool->args; a->name; a++)
		write_arg_schema(w, a);
	jw_object_end(w);
	jw_kv_array_begin(w, "required");
	for (const struct tool_arg *a = tool->args; a->name; a++)
		if (a->kind == ARG_JOB || a->kind == ARG_COMMAND)
			jw_string(w, a->name);
	jw_array_end(w);
	jw_kv_bool(w, "additionalProperties", 0);
	jw_object_end(w);
}

/* The answer is the CLI's envelope, its keys described by `agent-exec
 * schema`; an error envelope is an answer too (isError). */
static void write_output_schema(struct json_writer *w,
				const struct tool_def *tool)
{
	jw_kv_object_begin(w, "outputSchema");
	jw_kv_str(w, "type", "object");
	jw_kv_object_begin(w, "properties");
	kv_raw(w, "schema_version", "{\"type\":\"string\"}");
	kv_raw(w, "ok", "{\"type\":\"boolean\"}");
	jw_kv_object_begin(w, "type");
	jw_kv_array_begin(w, "enum");
	jw_string(w, tool->name);
	jw_string(w, "error");
	jw_array_end(w);
	jw_object_end(w);
	jw_object_end(w);
	kv_raw(w, "required", "[\"schema_version\",\"ok\",\"type\"]");
	jw_kv_str(w, "description", "the envelope `agent-exec` prints for "
		  "this command (`agent-exec schema` describes every key); "
		  "on failure {\"ok\":false,\"type\":\"error\",\"error\":"
		  "{\"code\",\"message\",\"retryable\"}}");
	jw_object_end(w);
}

void mcp_tools_write(struct json_writer *w)
{
	jw_kv_array_begin(w, "tools");
	for (size_t i = 0; i < TOOL_COUNT; i++) {
		jw_object_begin(w);
		jw_kv_str(w, "name", tools[i].name);
		jw_kv_str(w, "description", tools[i].description);
		write_input_schema(w, &tools[i]);
		write_output_schema(w, &tools[i]);
		jw_object_end(w);
	}
	jw_array_end(w);
}

/* ---- a tools/call's command line ---------------------------------------- */

static const struct tool_def *tool_find(const char *name)
{
	for (size_t i = 0; i < TOOL_COUNT; i++)
		if (strcmp(tools[i].name, name) == 0)
			return &tools[i];
	return NULL;
}

static const struct tool_arg *arg_find(const struct tool_def *tool,
				       const char *name)
{
	for (const struct tool_arg *a = tool->args; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* Append a copy of s to the command line: 0, or -1 (ENOMEM). */
static int push_copy(struct mcp_command *cmd, const char *s)
{
	return strv_keep(&cmd->argv, strdup(s)) ? 0 : -1;
}

/* option, then a copy of value. */
static int push_option(struct mcp_command *cmd, const char *option,
		       const char *value)
{
	return push_copy(cmd, option) < 0 ? -1 : push_copy(cmd, value);
}

/* option, then "key=value". */
static int push_pair(struct mcp_command *cmd, const char *option,
		     const char *key, const char *value)
{
	size_t size = strlen(key) + strlen(value) + 2;
	char *text;

	if (push_copy(cmd, option) < 0 ||
	    !(text = strv_keep(&cmd->argv, malloc(size))))
		return -1;
	snprintf(text, size, "%s=%s", key, value);
	return 0;
}

/* option, then the number n and its unit ("s", or "" for a count). */
static int push_number(struct mcp_command *cmd, const char *option,
		       uint64_t n, const char *unit)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu%s", (unsigned long long)n, unit);
	return push_option(cmd, option, text);
}

/* Whether v has the JSON type the argument's schema says. */
static int arg_type_ok(const struct tool_arg *a, const struct json_value *v)
{
	uint64_t ignored;

	switch (a->kind) {
	case ARG_COUNT:
	case ARG_SECONDS:
	case ARG_UNTIL:
		return v->type == JSON_NUMBER && json_value_u64(v, &ignored) == 0;
	case ARG_FLAG:
		return v->type == JSON_BOOL;
	case ARG_STRINGS:
	case ARG_PAIRS:
		if (v->type != (a->kind == ARG_STRINGS ? JSON_ARRAY : JSON_OBJECT))
			return 0;
		for (const struct json_value *c = v->u.children.first; c;
		     c = c->next)
			if (c->type != JSON_STRING)
				return 0;
		return 1;
	case ARG_COMMAND:
		if (v->type == JSON_STRING)
			return v->u.string.len > 0;
		return v->type == JSON_ARRAY && arg_type_ok(&(struct tool_arg){
			.kind = ARG_STRINGS }, v) && v->u.children.count > 0;
	default:
		return v->type == JSON_STRING;
	}
}

static const char *kind_text(enum arg_kind kind)
{
	switch (kind) {
	case ARG_COUNT:
	case ARG_SECONDS:
	case ARG_UNTIL:
		return "a non-negative integer";
	case ARG_FLAG:
		return "a boolean";
	case ARG_STRINGS:
		return "an array of strings";
	case ARG_PAIRS:
		return "an object of strings";
	case ARG_COMMAND:
		return "a non-empty array of strings, or a non-empty string";
	default:
		return "a string";
	}
}

/* Every argument known and of its type, the required ones there: 0, or -1
 * with message. */
static int args_check(const struct tool_def *tool,
		      const struct json_value *args, char *message, size_t size)
{
	if (args && args->type != JSON_OBJECT) {
		snprintf(message, size, "arguments must be an object");
		return -1;
	}
	for (const struct json_value *v = args ? args->u.children.first : NULL;
	     v; v = v->next) {
		const struct tool_arg *a = arg_find(tool, v->key);

		if (!a) {
			snprintf(message, size, "tool %s has no argument \"%s\"",
				 tool->name, v->key);
			return -1;
		}
		if (!arg_type_ok(a, v)) {
			snprintf(message, size, "argument %s of tool %s must be "
				 "%s", a->name, tool->name, kind_text(a->kind));
			return -1;
		}
	}
	for (const struct tool_arg *a = tool->args; a->name; a++)
		if ((a->kind == ARG_JOB || a->kind == ARG_COMMAND) &&
		    !json_get(args, a->name)) {
			snprintf(message, size, "tool %s needs the argument %s",
				 tool->name, a->name);
			return -1;
		}
	return 0;
}

/* until: the call's own value, else the server's default, else the
 * tool's; lowered to the cap (said in clamped_until). */
static uint64_t until_of(const struct tool_def *tool,
			 const struct json_value *args,
			 const struct mcp_limits *limits, int64_t *clamped)
{
	uint64_t until = limits->default_until >= 0
			 ? (uint64_t)limits->default_until
			 : (uint64_t)tool->until_default;
	const struct json_value *v = json_get(args, "until");

	*clamped = -1;
	if (v)
		json_value_u64(v, &until);
	if (until > limits->max_until) {
		until = limits->max_until;
		*clamped = (int64_t)until;
	}
	return until;
}

/* One argument as options; -2 with message for a value the tool refuses. */
static int push_arg(struct mcp_command *cmd, const struct tool_arg *a,
		    const struct json_value *v, char *message, size_t size)
{
	uint64_t n = 0;

	switch (a->kind) {
	case ARG_COUNT:
	case ARG_SECONDS:
		json_value_u64(v, &n);
		return push_number(cmd, a->option, n,
				   a->kind == ARG_SECONDS ? "s" : "");
	case ARG_FLAG:
		return v->u.boolean ? push_copy(cmd, a->option) : 0;
	case ARG_STRINGS:
		for (const struct json_value *c = v->u.children.first; c;
		     c = c->next)
			if (push_option(cmd, a->option, c->u.string.ptr) < 0)
				return -1;
		return 0;
	case ARG_PAIRS:
		for (const struct json_value *c = v->u.children.first; c;
		     c = c->next) {
			if (!*c->key || strchr(c->key, '=')) {
				snprintf(message, size, "%s: \"%s\" is not a "
					 "name (empty, or holds '=')", a->name,
					 c->key);
				return -2;
			}
			if (push_pair(cmd, a->option, c->key,
				      c->u.string.ptr) < 0)
				return -1;
		}
		return 0;
	case ARG_STRING:
		if (strcmp(a->option, "--stdin") == 0 &&
		    strcmp(v->u.string.ptr, "-") == 0) {
			cmd->stdin_text = "-";	/* "-" itself, on stdin */
			return push_option(cmd, a->option, "-");
		}
		return push_option(cmd, a->option, v->u.string.ptr);
	default:
		return 0;	/* placed by the caller */
	}
}

/* The wait the command makes, from until: run --until, wait --timeout-ms
 * (0 there is "forever": 1 ms is at once), tail --wait-ms (with a
 * cursor; none when 0). */
static int push_until(struct mcp_command *cmd, const struct tool_def *tool,
		      const struct json_value *args)
{
	if (strcmp(tool->name, "tail") == 0)
		return !json_get(args, "until") || cmd->until == 0 ? 0
		       : push_number(cmd, tool->until_option, cmd->until, "s");
	if (strcmp(tool->name, "wait") == 0 && cmd->until == 0)
		return push_option(cmd, tool->until_option, "1");
	return push_number(cmd, tool->until_option, cmd->until, "s");
}

/* The command's words: run's after "--", or the job id. */
static int push_operands(struct mcp_command *cmd, const struct tool_def *tool,
			 const struct json_value *args)
{
	const struct json_value *command = json_get(args, "command");
	const char *job = json_get_str(args, "job_id");

	if (job)
		return push_option(cmd, "--", job);
	if (!command)
		return 0;
	if (push_copy(cmd, "--") < 0)
		return -1;
	if (command->type == JSON_STRING)
		return push_copy(cmd, command->u.string.ptr);
	for (const struct json_value *c = command->u.children.first; c;
	     c = c->next)
		if (push_copy(cmd, c->u.string.ptr) < 0)
			return -1;
	(void)tool;
	return 0;
}

static int build_argv(struct mcp_command *cmd, const struct tool_def *tool,
		      const struct json_value *args,
		      const struct mcp_limits *limits, char *message,
		      size_t size)
{
	int rc = 0;

	if (push_copy(cmd, "agent-exec") < 0 || push_copy(cmd, "--root") < 0 ||
	    push_copy(cmd, limits->root) < 0 || push_copy(cmd, tool->name) < 0)
		return -1;
	for (const struct json_value *v = args ? args->u.children.first : NULL;
	     v && rc == 0; v = v->next)
		rc = push_arg(cmd, arg_find(tool, v->key), v, message, size);
	if (rc == 0 && strcmp(tool->name, "run") == 0 &&
	    !json_get(args, "callback_session") && limits->session)
		rc = push_option(cmd, "--callback-session", limits->session);
	if (rc == 0 && tool->until_option)
		rc = push_until(cmd, tool, args);
	if (rc == 0)
		rc = push_operands(cmd, tool, args);
	if (rc == 0 && strv_push(&cmd->argv, NULL) < 0)
		rc = -1;
	if (rc == -1)
		snprintf(message, size, "out of memory");
	return rc;
}

int mcp_tool_command(const struct json_value *params,
		     const struct mcp_limits *limits, struct mcp_command *cmd,
		     char *message, size_t size)
{
	const char *name = json_get_str(params, "name");
	const struct json_value *args = json_get(params, "arguments");
	const struct tool_def *tool = name ? tool_find(name) : NULL;

	memset(cmd, 0, sizeof(*cmd));
	cmd->clamped_until = -1;
	if (!tool) {
		snprintf(message, size, name ? "unknown tool \"%s\" (tools: "
			 "run, status, tail, wait, kill, list, write)"
			 : "tools/call needs the tool's name%s", name ? name : "");
		return -1;
	}
	if (args && args->type == JSON_NULL)
		args = NULL;
	if (args_check(tool, args, message, size) < 0)
		return -1;
	if (tool->until_option)
		cmd->until = until_of(tool, args, limits, &cmd->clamped_until);
	cmd->launches = strcmp(tool->name, "run") == 0;
	return build_argv(cmd, tool, args, limits, message, size);
}

void mcp_command_free(struct mcp_command *cmd)
{
	strv_free_all(&cmd->argv);
}
