/* main.c - the commands. Each one resolves the root, calls the store and
 * exec modules, and prints exactly one JSON object on stdout: the answer,
 * or {"ok":false,"type":"error",...} with exit status 1. Usage errors
 * print a message on stderr only and exit 2. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "exec.h"
#include "json.h"
#include "store.h"

#define SNAPSHOT_MAX_MS 10000
#define KILL_SETTLE_MS 1000

struct cli {
	struct args args;
	struct store_root root;
	struct json_writer out;
	struct error error;
	int64_t started_ms;
	struct launch_context launch;
	char out_buf[65536];
};

static void diag(const struct cli *cli, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void diag(const struct cli *cli, int level, const char *fmt, ...)
{
	va_list ap;

	if (cli->args.verbose < level)
		return;
	fputs("agent-exec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t number_or(const struct cli *cli, enum opt_id id,
			  uint64_t fallback)
{
	return cli->args.seen[id] ? cli->args.number[id] : fallback;
}

static void envelope_begin(struct json_writer *w, const char *type)
{
	jw_object_begin(w);
	jw_kv_str(w, "schema_version", SCHEMA_VERSION);
	jw_kv_bool(w, "ok", 1);
	jw_kv_str(w, "type", type);
}

/* Finish the answer (or the error): one line on stdout. */
static int answer_finish(struct cli *cli)
{
	if (jw_flush(&cli->out) < 0 || write_all(1, "\n", 1) < 0)
		return -1;
	return 0;
}

static int print_error(struct cli *cli)
{
	struct json_writer *w = &cli->out;

	diag(cli, 1, "error %s: %s", cli->error.code, cli->error.message);
	jw_object_begin(w);
	jw_kv_str(w, "schema_version", SCHEMA_VERSION);
	jw_kv_bool(w, "ok", 0);
	jw_kv_str(w, "type", "error");
	jw_key(w, "error");
	jw_object_begin(w);
	jw_kv_str(w, "code", cli->error.code);
	jw_kv_str(w, "message", cli->error.message);
	jw_kv_bool(w, "retryable", cli->error.retryable);
	jw_object_end(w);
	jw_object_end(w);
	return 1;
}

static void write_log_paths(struct json_writer *w, const struct job *job)
{
	char *out_path = store_job_path(job, "stdout.log");
	char *err_path = store_job_path(job, "stderr.log");

	jw_kv_str(w, "stdout_log_path", out_path);
	jw_kv_str(w, "stderr_log_path", err_path);
	free(out_path);
	free(err_path);
}

static void write_tail_figures(struct json_writer *w,
			       const struct tail_info info[2])
{
	jw_kv_u64(w, "stdout_observed_bytes", info[0].observed_bytes);
	jw_kv_u64(w, "stderr_observed_bytes", info[1].observed_bytes);
	jw_kv_u64(w, "stdout_included_bytes", info[0].included_bytes);
	jw_kv_u64(w, "stderr_included_bytes", info[1].included_bytes);
}

static void write_snapshot(struct json_writer *w, const char *key,
			   const struct job *job, uint64_t tail_lines,
			   uint64_t max_bytes)
{
	struct tail_info info[2];

	jw_key(w, key);
	jw_object_begin(w);
	store_write_tails(w, job, tail_lines, max_bytes, info);
	jw_kv_bool(w, "truncated", info[0].truncated || info[1].truncated);
	jw_kv_str(w, "encoding", "utf-8-lossy");
	write_tail_figures(w, info);
	jw_object_end(w);
}

/* What we add to the reference's keys: how the job ended, truthfully. */
static void write_state_extras(struct json_writer *w,
			       const struct job_state *st)
{
	if (st->signal[0])
		jw_kv_str(w, "signal", st->signal);
	if (st->timed_out)
		jw_kv_bool(w, "timed_out", 1);
	if (st->error[0])
		jw_kv_str(w, "error", st->error);
}

static int open_job(struct cli *cli, struct job *job)
{
	if (store_job_open(&cli->root, cli->args.positional.v[0], job,
			   &cli->error) < 0)
		return -1;
	diag(cli, 1, "job directory %s", job->dir);
	return 0;
}

/* ---- run -------------------------------------------------------------- */

static int spec_build(struct cli *cli, struct job_spec *spec)
{
	const struct args *args = &cli->args;
	const char *cwd = args->value[O_CWD] ? args->value[O_CWD] : ".";
	static char *default_wrapper[] = { "sh", "-lc", NULL };

	memset(spec, 0, sizeof(*spec));
	spec->command.v = args->trailing;
	spec->command.n = args->trailing_count;
	spec->wrapper.v = default_wrapper;
	spec->wrapper.n = 2;
	spec->env = args->list[O_ENV];
	spec->inherit_env = !args->seen[O_NO_INHERIT_ENV];
	spec->timeout_ms = number_or(cli, O_TIMEOUT, 0);
	spec->kill_after_ms = number_or(cli, O_KILL_AFTER, 0);
	spec->progress_every_ms = number_or(cli, O_PROGRESS_EVERY, 0);
	spec->cwd = path_effective(cwd);
	if (!spec->cwd && args->value[O_CWD])
		return error_errno(&cli->error, "invalid_cwd", errno,
				   "cannot resolve --cwd \"%s\"", cwd);
	if (!spec->cwd)
		return error_errno(&cli->error, "invalid_cwd", errno,
				   "cannot resolve the current directory");
	if (args->value[O_LOG]) {
		spec->full_log = path_absolute(args->value[O_LOG]);
		if (!spec->full_log)
			return error_errno(&cli->error, NULL, errno,
					  "cannot resolve --log \"%s\"",
					  args->value[O_LOG]);
	}
	return 0;
}

static void spec_free(struct job_spec *spec)
{
	free(spec->cwd);
	free(spec->full_log);
}

/* Make the job directory, meta.json and the logs, then the supervisor. */
static int launch_new_job(struct cli *cli, const struct job_spec *spec,
			  struct job *job)
{
	char created_at[TIMESTAMP_LEN + 1];

	if (store_job_new(&cli->root, job, &cli->error) < 0)
		return -1;
	diag(cli, 1, "job directory %s", job->dir);
	format_utc_now(created_at);
	if (store_write_meta(job, &cli->root, spec, created_at,
			     &cli->error) < 0 ||
	    store_create_logs(job, &cli->error) < 0) {
		store_job_discard(&cli->root, job);
		return -1;
	}
	return exec_launch(job, spec, &cli->launch, &cli->error);
}

/* Wait as run/start do: until the job ends (--wait), or at most the
 * snapshot delay. Returns the milliseconds spent. */
static uint64_t observe_job(struct cli *cli, const struct job *job,
			    uint64_t snapshot_ms)
{
	int64_t begin = clock_mono_ms();

	if (cli->args.seen[O_WAIT])
		store_wait_alive_free(job, -1);
	else if (snapshot_ms > 0)
		store_wait_alive_free(job, (int64_t)snapshot_ms);
	else
		return 0;
	return (uint64_t)(clock_mono_ms() - begin);
}

static void write_run_answer(struct cli *cli, const char *type,
			     const struct job *job, const struct job_spec *spec,
			     const struct job_state *st, uint64_t snapshot_ms,
			     uint64_t waited_ms)
{
	struct json_writer *w = &cli->out;
	int waited = cli->args.seen[O_WAIT];
	uint64_t tail_lines = number_or(cli, O_TAIL_LINES, 50);
	uint64_t max_bytes = number_or(cli, O_MAX_BYTES, 65536);

	envelope_begin(w, type);
	jw_kv_str(w, "job_id", job->id);
	jw_kv_str(w, "state", job_status_name(st->status));
	jw_key(w, "tags");
	jw_array_begin(w);
	for (size_t i = 0; i < spec->tags.n; i++)
		jw_string(w, spec->tags.v[i]);
	jw_array_end(w);
	spec_write_env_vars(w, spec);
	if (!waited && snapshot_ms > 0)
		write_snapshot(w, "snapshot", job, tail_lines, max_bytes);
	write_log_paths(w, job);
	jw_kv_u64(w, "waited_ms", waited_ms);
	jw_kv_u64(w, "elapsed_ms",
		  (uint64_t)(clock_mono_ms() - cli->started_ms));
	if (waited && st->has_exit_code)
		jw_kv_i64(w, "exit_code", st->exit_code);
	if (waited && st->finished_at[0])
		jw_kv_str(w, "finished_at", st->finished_at);
	if (waited)
		write_snapshot(w, "final_snapshot", job, tail_lines, max_bytes);
	write_state_extras(w, st);
}

static int cmd_run(struct cli *cli)
{
	uint64_t snapshot_ms = number_or(cli, O_SNAPSHOT_AFTER, 10000);
	struct job_spec spec;
	struct job_state st;
	struct job job;
	uint64_t waited_ms;
	int rc = -1;

	if (snapshot_ms > SNAPSHOT_MAX_MS)
		snapshot_ms = SNAPSHOT_MAX_MS;
	if (cli->args.seen[O_WAIT])
		snapshot_ms = 0;
	if (spec_build(cli, &spec) < 0)
		goto out;
	if (launch_new_job(cli, &spec, &job) < 0)
		goto out;
	waited_ms = observe_job(cli, &job, snapshot_ms);
	if (store_job_state(&job, &st, &cli->error) == 0) {
		diag(cli, 1, "job %s is %s", job.id,
		     job_status_name(st.status));
		write_run_answer(cli, "run", &job, &spec, &st, snapshot_ms,
				 waited_ms);
		rc = 0;
	}
	store_job_close(&job);
out:
	spec_free(&spec);
	return rc;
}

/* ---- status, tail, wait, kill ----------------------------------------- */

static int read_created_at(struct cli *cli, const struct job *job,
			   char out[TIMESTAMP_LEN + 1])
{
	struct json_doc meta;

	if (store_read_meta(job, &meta, &cli->error) < 0)
		return -1;
	snprintf(out, TIMESTAMP_LEN + 1, "%s",
		 json_get_str(meta.root, "created_at"));
	json_doc_free(&meta);
	return 0;
}

static int cmd_status(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	char created_at[TIMESTAMP_LEN + 1];
	struct job_state st;
	struct job job;
	int rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	if (read_created_at(cli, &job, created_at) < 0 ||
	    store_job_state(&job, &st, &cli->error) < 0)
		goto out;
	envelope_begin(w, "status");
	jw_kv_str(w, "job_id", job.id);
	jw_kv_str(w, "state", job_status_name(st.status));
	if (st.has_exit_code)
		jw_kv_i64(w, "exit_code", st.exit_code);
	jw_kv_str(w, "created_at", created_at);
	if (st.started_at[0])
		jw_kv_str(w, "started_at", st.started_at);
	if (st.finished_at[0])
		jw_kv_str(w, "finished_at", st.finished_at);
	jw_kv_str(w, "updated_at", st.updated_at);
	if (st.has_pid)
		jw_kv_i64(w, "pid", st.pid);
	if (st.has_duration)
		jw_kv_u64(w, "duration_ms", st.duration_ms);
	write_state_extras(w, &st);
	rc = 0;
out:
	store_job_close(&job);
	return rc;
}

static int cmd_tail(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct tail_info info[2];
	struct job job;

	if (open_job(cli, &job) < 0)
		return -1;
	envelope_begin(w, "tail");
	jw_kv_str(w, "job_id", job.id);
	store_write_tails(w, &job, number_or(cli, O_TAIL_LINES, 50),
			  number_or(cli, O_MAX_BYTES, 65536), info);
	jw_kv_bool(w, "truncated", info[0].truncated || info[1].truncated);
	jw_kv_str(w, "encoding", "utf-8-lossy");
	write_log_paths(w, &job);
	write_tail_figures(w, info);
	store_job_close(&job);
	return 0;
}

static void write_wait_answer(struct cli *cli, const struct job *job,
			      const struct job_state *st, int timed_out)
{
	struct json_writer *w = &cli->out;

	envelope_begin(w, "wait");
	jw_kv_str(w, "job_id", job->id);
	jw_kv_str(w, "state", job_status_name(st->status));
	if (!timed_out && st->has_exit_code)
		jw_kv_i64(w, "exit_code", st->exit_code);
	jw_kv_bool(w, "timed_out", timed_out);
	if (st->finished_at[0])
		jw_kv_str(w, "finished_at", st->finished_at);
	write_state_extras(w, st);
}

/* Until the job is terminal: block on its lock while it runs, poll while
 * it is only created. 1 terminal, 0 deadline passed, -1 error. */
static int await_terminal(struct cli *cli, const struct job *job,
			  struct job_state *st, int64_t deadline)
{
	int64_t poll_ms = (int64_t)number_or(cli, O_POLL_MS, 200);

	if (poll_ms < 1)
		poll_ms = 1;
	for (;;) {
		int64_t left = deadline ? deadline - clock_mono_ms() : -1;

		if (store_job_state(job, st, &cli->error) < 0)
			return -1;
		if (job_status_terminal(st->status))
			return 1;
		if (deadline && left <= 0)
			return 0;
		if (st->status == JOB_RUNNING) {
			diag(cli, 2, "waiting on the lock of job %s", job->id);
			if (store_wait_alive_free(job, left) < 0)
				return error_errno(&cli->error, NULL, errno,
						  "cannot wait for job %s",
						  job->id);
		} else {
			sleep_ms(deadline && left < poll_ms ? left : poll_ms);
		}
	}
}

static int cmd_wait(struct cli *cli)
{
	uint64_t timeout_ms = number_or(cli, O_TIMEOUT_MS, 0);
	int64_t deadline = timeout_ms ? time_after(clock_mono_ms(), timeout_ms)
				      : 0;
	struct job_state st;
	struct job job;
	int ended;

	if (open_job(cli, &job) < 0)
		return -1;
	ended = await_terminal(cli, &job, &st, deadline);
	if (ended >= 0)
		write_wait_answer(cli, &job, &st, ended == 0);
	store_job_close(&job);
	return ended < 0 ? -1 : 0;
}

static void uppercase_copy(char *out, size_t size, const char *text)
{
	size_t i = 0;

	for (; text[i] && i + 1 < size; i++)
		out[i] = (char)(text[i] >= 'a' && text[i] <= 'z'
					? text[i] - 'a' + 'A' : text[i]);
	out[i] = '\0';
}

/* Signals whose default action does not end a process: kill does not
 * wait for the job to end after sending them. */
static int signal_ends_job(int signo)
{
	return signo != SIGCONT && signo != SIGSTOP && signo != SIGTSTP &&
	       signo != SIGTTIN && signo != SIGTTOU && signo != SIGWINCH &&
	       signo != SIGCHLD && signo != SIGURG;
}

static int signal_job(struct cli *cli, const struct job *job,
		      const struct job_state *st, int signo)
{
	if (!st->has_pid)
		return 0;	/* still launching: nothing to signal yet */
	diag(cli, 1, "sending signal %d to process group %lld", signo,
	     (long long)st->pid);
	if (kill(-(pid_t)st->pid, signo) == 0)
		return 0;
	if (errno == ESRCH && (kill((pid_t)st->pid, signo) == 0 ||
			       errno == ESRCH))
		return 0;	/* already gone: the record will say so */
	return error_errno(&cli->error, NULL, errno,
			  "cannot signal job %s (pid %lld)", job->id,
			  (long long)st->pid);
}

static int cmd_kill(struct cli *cli)
{
	const char *name = cli->args.value[O_SIGNAL] ?
			   cli->args.value[O_SIGNAL] : "TERM";
	int signo = signal_parse(name);
	struct json_writer *w = &cli->out;
	char shown[32];
	struct job_state st;
	struct job job;
	int rc = -1;

	if (signo < 0)
		return error_set(&cli->error, "invalid_signal",
			    "invalid signal \"%.64s\": expected TERM, INT, "
			    "KILL, HUP, QUIT, USR1, USR2 (with or without SIG) "
			    "or a number", name);
	if (open_job(cli, &job) < 0)
		return -1;
	if (store_job_state(&job, &st, &cli->error) < 0)
		goto out;
	if (st.status == JOB_CREATED) {
		error_set(&cli->error, "invalid_state", "invalid job state: job %s "
		     "is in 'created' state and has not been started; cannot "
		     "send signal", job.id);
		goto out;
	}
	if (st.status == JOB_RUNNING) {
		if (signal_job(cli, &job, &st, signo) < 0)
			goto out;
		if (signal_ends_job(signo))
			store_wait_alive_free(&job, KILL_SETTLE_MS);
		if (store_job_state(&job, &st, &cli->error) < 0)
			goto out;
	}
	uppercase_copy(shown, sizeof(shown), name);
	envelope_begin(w, "kill");
	jw_kv_str(w, "job_id", job.id);
	jw_kv_str(w, "signal", shown);
	jw_kv_str(w, "state", job_status_name(st.status));
	if (st.has_exit_code)
		jw_kv_i64(w, "exit_code", st.exit_code);
	if (st.error[0])
		jw_kv_str(w, "error", st.error);
	rc = 0;
out:
	store_job_close(&job);
	return rc;
}

/* ---- list ------------------------------------------------------------- */

struct listing {
	const char *cwd;	/* filter, NULL = all */
	const char *state;	/* filter, NULL = all */
	struct job_summary **jobs;
	size_t count, cap;
};

static const char *summary_state(const struct job_summary *summary)
{
	return summary->state_ok ? job_status_name(summary->state.status)
				 : "unknown";
}

static int listing_add(void *ctx, struct job_summary *summary)
{
	struct listing *listing = ctx;

	if ((listing->cwd && (!summary->cwd ||
			      strcmp(summary->cwd, listing->cwd) != 0)) ||
	    (listing->state &&
	     strcmp(summary_state(summary), listing->state) != 0)) {
		job_summary_free(summary);
		return 0;
	}
	if (listing->count == listing->cap) {
		size_t cap = listing->cap ? listing->cap * 2 : 64;
		struct job_summary **grown = realloc(listing->jobs,
						     cap * sizeof(*grown));

		if (!grown) {
			job_summary_free(summary);
			return -1;
		}
		listing->jobs = grown;
		listing->cap = cap;
	}
	listing->jobs[listing->count++] = summary;
	return 0;
}

/* Newest started first; never-started jobs last; ties by id, newest
 * first. */
static int summary_compare(const void *a, const void *b)
{
	const struct job_summary *x = *(struct job_summary *const *)a;
	const struct job_summary *y = *(struct job_summary *const *)b;
	const char *x_started = x->state_ok ? x->state.started_at : "";
	const char *y_started = y->state_ok ? y->state.started_at : "";
	int order;

	if (!*x_started != !*y_started)
		return *x_started ? -1 : 1;
	order = strcmp(y_started, x_started);
	return order ? order : strcmp(y->id, x->id);
}

static void write_summary(struct json_writer *w,
			  const struct job_summary *summary)
{
	const struct job_state *st = &summary->state;

	jw_object_begin(w);
	jw_kv_str(w, "job_id", summary->id);
	jw_kv_str(w, "state", summary_state(summary));
	if (summary->state_ok && st->has_exit_code)
		jw_kv_i64(w, "exit_code", st->exit_code);
	jw_kv_str(w, "created_at", summary->created_at);
	if (summary->state_ok && st->started_at[0])
		jw_kv_str(w, "started_at", st->started_at);
	if (summary->state_ok && st->finished_at[0])
		jw_kv_str(w, "finished_at", st->finished_at);
	if (summary->state_ok)
		jw_kv_str(w, "updated_at", st->updated_at);
	jw_key(w, "tags");
	jw_array_begin(w);
	for (size_t i = 0; i < summary->tags.n; i++)
		jw_string(w, summary->tags.v[i]);
	jw_array_end(w);
	if (summary->state_ok && st->error[0])
		jw_kv_str(w, "error", st->error);
	jw_object_end(w);
}

static void write_listing(struct cli *cli, struct listing *listing,
			  uint64_t skipped)
{
	struct json_writer *w = &cli->out;
	uint64_t limit = number_or(cli, O_LIMIT, 0);
	int truncated = limit > 0 && listing->count > limit;
	size_t shown = truncated ? (size_t)limit : listing->count;

	qsort(listing->jobs, listing->count, sizeof(*listing->jobs),
	      summary_compare);
	envelope_begin(w, "list");
	jw_kv_str(w, "root", cli->root.path);
	jw_key(w, "jobs");
	jw_array_begin(w);
	for (size_t i = 0; i < shown; i++)
		write_summary(w, listing->jobs[i]);
	jw_array_end(w);
	jw_kv_bool(w, "truncated", truncated);
	jw_kv_u64(w, "skipped", skipped);
}

static int cmd_list(struct cli *cli)
{
	struct listing listing = { .state = cli->args.value[O_STATE] };
	char *cwd = NULL;
	uint64_t skipped;
	int rc = -1;

	if (!cli->args.seen[O_ALL]) {
		const char *given = cli->args.value[O_CWD];

		cwd = path_effective(given ? given : ".");
		if (!cwd)
			return error_errno(&cli->error, NULL, errno,
					  "cannot resolve the directory to "
					  "list");
		listing.cwd = cwd;
	}
	if (store_list(&cli->root, listing_add, &listing, &skipped,
		       &cli->error) == 0) {
		write_listing(cli, &listing, skipped);
		rc = 0;
	}
	for (size_t i = 0; i < listing.count; i++)
		job_summary_free(listing.jobs[i]);
	free(listing.jobs);
	free(cwd);
	return rc;
}

/* ---- main ------------------------------------------------------------- */

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
	default:
		return error_set(&cli->error, "internal_error", "unknown command");
	}
}

int main(int argc, char **argv)
{
	static struct cli cli;
	char usage[512];
	int parsed, failed;

	cli.started_ms = clock_mono_ms();
	/* our files are 0600 and directories 0700 whatever the umask; the
	 * job gets the caller's umask back */
	cli.launch.old_umask = umask(077);
	cli.launch.argv = argv;
	cli.launch.argc = argc;
	signal(SIGPIPE, SIG_IGN);
	parsed = cli_parse(argc, argv, &cli.args, usage, sizeof(usage));
	if (parsed != 0) {
		if (parsed < 0)
			fprintf(stderr, "agent-exec: %s\nTry 'agent-exec "
				"--help' for more information.\n", usage);
		fflush(stdout);
		return parsed < 0 ? 2 : 0;
	}
	jw_init_fd(&cli.out, 1, cli.out_buf, sizeof(cli.out_buf), 0);
	failed = store_root_resolve(cli.args.value[O_ROOT], &cli.root,
				    &cli.error) < 0;
	if (!failed) {
		diag(&cli, 1, "jobs root %s", cli.root.abs);
		failed = dispatch(&cli) < 0;
	}
	if (failed)
		print_error(&cli);
	else
		jw_object_end(&cli.out);
	answer_finish(&cli);
	store_root_free(&cli.root);
	cli_args_free(&cli.args);
	return failed ? 1 : 0;
}
