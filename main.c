/* main.c - the entry: parse the command line, resolve the jobs root, run
 * the command, print exactly one JSON object on stdout (the answer, or
 * {"ok":false,"type":"error",...} with exit status 1). Usage errors print
 * a message on stderr only and exit 2. The commands: cmd.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_check.h"
#include "cli_human.h"
#include "cmd.h"
#include "mcp.h"
#include "lib/sig.h"

static int run_tool_command(int argc, char **argv);

static int dispatch(struct cli *cli)
{
	switch (cli->args.command->id) {
	case CMD_RUN:
		return cmd_run(cli);
	case CMD_STATUS:
		return cmd_status(cli);
	case CMD_TAIL:
		return cmd_tail(cli);
	case CMD_WAIT:
		return cmd_wait(cli);
	case CMD_KILL:
		return cmd_kill(cli);
	case CMD_LIST:
		return cmd_list(cli);
	case CMD_CREATE:
		return cmd_create(cli);
	case CMD_START:
		return cmd_start(cli);
	case CMD_RESTART:
		return cmd_restart(cli);
	case CMD_TAG_SET:
		return cmd_tag_set(cli);
	case CMD_NOTIFY_SET:
		return cmd_notify_set(cli);
	case CMD_WRITE:
		return cmd_write(cli);
	case CMD_LOG:
		return cmd_log(cli);
	case CMD_EVENTS:
		return cmd_events(cli);
	case CMD_NOTIFY_REDELIVER:
		return cmd_notify_redeliver(cli);
	case CMD_GC:
		return cmd_gc(cli);
	case CMD_DELETE:
		return cmd_delete(cli);
	case CMD_SCHEMA:
		return cmd_schema(cli);
	case CMD_INSTALL_SKILLS:
		return cmd_install_skills(cli);
	case CMD_SUMMARY:
		return cmd_summary(cli);
	case CMD_MCP:
		return mcp_serve(cli, run_tool_command);
	default:
		return error_set(&cli->error, "internal_error", "unknown command");
	}
}

/* The arguments, copied to the heap; the originals are blanked and the
 * process shows "agent-exec" instead: an --env value must not stay on a
 * command line for as long as the command runs (run --wait). NULL when
 * out of memory. */
static char **arguments_take(struct cli *cli, int argc, char **argv)
{
	char **copy = (char **)strv_keep(&cli->owned,
					 calloc((size_t)argc + 1,
						sizeof(*copy)));

	if (!copy)
		return NULL;
	for (int i = 0; i < argc; i++)
		if (!(copy[i] = strv_keep(&cli->owned, strdup(argv[i]))))
			return NULL;
	proc_title_init(argv, argc);
	proc_title_set("agent-exec");
	return copy;
}

/* Whether the command's stdout is a stream, not one answer: events, and
 * tail --follow (its errors are the usual JSON error all the same). */
static int streams(const struct cli *cli)
{
	return cli->args.command->id == CMD_EVENTS ||
	       cli->args.command->id == CMD_MCP ||
	       (cli->args.command->id == CMD_TAIL &&
		cli->args.seen[O_FOLLOW]);
}

/* A usage error: on stderr for a person (exit 2), or as the JSON error
 * invalid_argument for a tool call of the MCP server. */
static int usage_failed(struct cli *cli, int own_argv, const char *usage)
{
	if (!own_argv) {
		error_set(&cli->error, "invalid_argument", "%s", usage);
		print_error(cli);
		(void)answer_finish(cli);
		return 1;
	}
	write_str(2, "agent-exec: ");
	write_str(2, usage);
	write_str(2, "\nTry 'agent-exec help");
	if (cli->args.command && cli->args.command->id != CMD_HELP) {
		write_str(2, " ");
		write_str(2, cli->args.command->name);
	}
	write_str(2, "' for more information.\n");
	return 2;
}

/* --human: the answer rendered for a person on stdout, or an error as
 * one line on stderr ("agent-exec: MESSAGE (CODE)"); still failed. */
static int human_answer(struct cli *cli, int failed)
{
	if (failed || cli->out.error) {
		write_str(2, "agent-exec: ");
		write_str(2, cli->error.message);
		write_str(2, " (");
		write_str(2, cli->error.code);
		write_str(2, ")\n");
		return 1;
	}
	if (human_render(cli->out.buf, cli->out.len, 1) < 0)
		return answer_finish(cli) < 0;
	return 0;
}

/* Run one command line: the process's whole life (own_argv: its own
 * argv, copied and blanked), or one tool call of the MCP server in a
 * child forked for it. The answer goes to fd 1; the exit status is
 * returned. */
static int run_command_line(int argc, char **argv, int own_argv)
{
	static struct cli cli;
	char usage[512];
	int parsed, failed;

	memset(&cli, 0, sizeof(cli));
	cli.started_ms = clock_mono_ms();
	/* our files are 0600 and directories 0700 whatever the umask; the
	 * job gets the caller's umask back */
	cli.launch.old_umask = umask(077);
	/* a tool call is ended with SIGTERM (cancelled, or the server
	 * ending): held off while a run makes and launches its job, so none
	 * is left half made (cmd_run lets it in then) */
	cli.tool_call = !own_argv;
	if (cli.tool_call)
		sig_hold(SIGTERM, 1);
	if (own_argv)
		argv = arguments_take(&cli, argc, argv);
	if (!argv) {
		write_str(2, "agent-exec: out of memory\n");
		return 2;
	}
	/* the answer is built in memory and written whole at the end; a
	 * usage error of a tool call is an answer too */
	jw_init_mem(&cli.out, ANSWER_MAX, 0);
	parsed = cli_parse(argc, argv, &cli.args, usage, sizeof(usage));
	if (parsed == 0)
		parsed = cli_check(&cli.args, usage, sizeof(usage));
	if (parsed > 0)
		return 0;
	if (parsed < 0)
		return usage_failed(&cli, own_argv, usage);
	failed = store_root_resolve(cli.args.value[O_ROOT], &cli.root,
				    &cli.error) < 0;
	if (!failed) {
		diag(&cli, 1, "jobs root %s", cli.root.abs);
		failed = dispatch(&cli) < 0;
	}
	if (failed)
		print_error(&cli);
	else if (!streams(&cli))
		jw_object_end(&cli.out);
	if (cli.args.seen[O_HUMAN])
		failed = human_answer(&cli, failed);
	/* an answer the caller cannot have is a failure too */
	else if ((failed || !streams(&cli)) && answer_finish(&cli) < 0) {
		write_str(2, "agent-exec: cannot write the answer: ");
		write_str(2, strerror(errno));
		write_str(2, "\n");
		failed = 1;
	}
	if (!failed && cli.gc_after)
		cmd_gc_auto(&cli);
	jw_free(&cli.out);
	store_root_free(&cli.root);
	cli_args_free(&cli.args);
	strv_free_all(&cli.owned);
	return failed ? 1 : cli.exit_status;
}

/* The MCP server's way to run a tool call's command line (in a child). */
static int run_tool_command(int argc, char **argv)
{
	return run_command_line(argc, argv, 0);
}

int main(int argc, char **argv)
{
	/* a descriptor 0-2 the caller closed must not become a record */
	if (stdio_guard() < 0) {
		write_str(2, "agent-exec: cannot fill the closed descriptors "
			  "0-2\n");
		return 1;
	}
	/* a closed reader and a file-size limit are errors to report, not
	 * reasons to die (the job and the sinks get the defaults back) */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	return run_command_line(argc, argv, 1);
}
