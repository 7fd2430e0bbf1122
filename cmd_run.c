/* cmd_run.c - run, create, start and restart: a job's definition from the
 * options, its directory and records, the launch and the answer. */
#include "cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/sig.h"

#define SNAPSHOT_MAX_MS 10000

/* "key=value" in a string the cli keeps until exit. */
static char *owned_entry(struct cli *cli, const char *key, const char *value)
{
	size_t key_len = strlen(key), value_len = strlen(value);
	char *entry = strv_keep(&cli->owned, malloc(key_len + value_len + 2));

	if (!entry)
		return NULL;
	memcpy(entry, key, key_len);
	entry[key_len] = '=';
	memcpy(entry + key_len + 1, value, value_len + 1);
	return entry;
}

static int spec_add_meta(struct cli *cli, struct job_spec *spec)
{
	static const struct { unsigned char opt; const char *key; } callback[] = {
		{ O_CALLBACK_SESSION, META_CALLBACK_SESSION },
		{ O_CALLBACK_AGENT, META_CALLBACK_AGENT },
	};
	const struct args *args = &cli->args;

	for (size_t i = 0; i < args->list[O_META].n; i++)
		if (strv_setenv(&spec->meta, args->list[O_META].v[i]) < 0)
			return -1;
	for (size_t i = 0; i < 2; i++) {
		const char *value = args->value[callback[i].opt];
		char *entry;

		if (!value)
			continue;
		entry = owned_entry(cli, callback[i].key, value);
		if (!entry || strv_setenv(&spec->meta, entry) < 0)
			return -1;
	}
	return 0;
}

/* --env NAME=VALUE as given; NAME alone takes the value agent-exec has
 * (cli.c made sure there is one), now: a created job keeps it. */
static int spec_add_env(struct cli *cli, struct job_spec *spec, char *entry)
{
	const char *value = strchr(entry, '=') ? NULL : getenv(entry);

	if (value)
		entry = owned_entry(cli, entry, value);
	return entry && strchr(entry, '=') ? strv_push(&spec->env, entry) : -1;
}

/* Absolute env-file paths: a created job starts from anywhere. */
static int spec_add_env_files(struct cli *cli, struct job_spec *spec)
{
	const struct strv *files = &cli->args.list[O_ENV_FILE];

	for (size_t i = 0; i < files->n; i++) {
		char *path = strv_keep(&cli->owned, path_absolute(files->v[i]));

		if (!path || strv_push(&spec->env_files, path) < 0)
			return -1;
	}
	return 0;
}

static int spec_copy_lists(struct cli *cli, struct job_spec *spec)
{
	const struct args *args = &cli->args;

	for (size_t i = 0; i < args->trailing_count; i++)
		if (strv_push(&spec->command, args->trailing[i]) < 0)
			return -1;
	for (size_t i = 0; i < args->list[O_ENV].n; i++)
		if (spec_add_env(cli, spec, args->list[O_ENV].v[i]) < 0)
			return -1;
	for (size_t i = 0; i < args->list[O_MASK].n; i++)
		if (strv_push(&spec->mask, args->list[O_MASK].v[i]) < 0)
			return -1;
	for (size_t i = 0; i < args->list[O_TAG].n; i++)
		if (tags_add(&spec->tags, args->list[O_TAG].v[i]) < 0)
			return -1;
	if (spec_add_env_files(cli, spec) < 0 || spec_add_meta(cli, spec) < 0)
		return -1;
	return 0;
}

#define STDIN_MAX_DEFAULT (64ull << 20)

/* Whether this command's stdin can be read to its end: not a terminal
 * (a person would have to type ^D; stdin_required instead) nor a stdin
 * that is closed or the null device. --stdin - needs one; --stdin-auto
 * (AGENT_EXEC_STDIN=auto) takes it when there is one. */
static int stdin_readable(void)
{
	struct stat st;

	if (isatty(0) || fstat(0, &st) < 0)
		return 0;
	return !S_ISCHR(st.st_mode);
}

/* --stdin-auto, or AGENT_EXEC_STDIN=auto when no input is given: 1 when
 * asked, 0 when not, -1 on a value of AGENT_EXEC_STDIN it does not know. */
static int stdin_auto(struct cli *cli)
{
	const char *mode = getenv("AGENT_EXEC_STDIN");

	if (cli->args.seen[O_STDIN_AUTO])
		return 1;
	if (!mode || !*mode || strcmp(mode, "none") == 0)
		return 0;
	if (strcmp(mode, "auto") == 0)
		return 1;
	return error_set(&cli->error, "invalid_config", "AGENT_EXEC_STDIN: "
			 "invalid value \"%.40s\" (auto, or none)", mode);
}

static int spec_add_input(struct cli *cli, struct job_spec *spec)
{
	struct args *args = &cli->args;
	int given = args->value[O_STDIN] || args->value[O_STDIN_FILE] ||
		    args->seen[O_INTERACTIVE] || args->seen[O_PTY];
	int forward = given ? 0 : stdin_auto(cli);

	if (forward < 0)
		return -1;
	if (forward && stdin_readable())
		args->value[O_STDIN] = "-";
	if (args->value[O_STDIN] && strcmp(args->value[O_STDIN], "-") == 0 &&
	    isatty(0))
		return error_set(&cli->error, "stdin_required", "--stdin -: "
				 "stdin is a terminal (read until ^D): pipe "
				 "the input in, or give --stdin-file PATH");
	if (args->value[O_STDIN] || args->value[O_STDIN_FILE])
		spec->stdin_mode = STDIN_FILE;
	else if (args->seen[O_INTERACTIVE] || args->seen[O_PTY])
		spec->stdin_mode = STDIN_INTERACTIVE;	/* a terminal is */
	spec->pty = args->seen[O_PTY];
	spec->pty_cols = 80;
	spec->pty_rows = 24;
	if (args->value[O_PTY_SIZE])
		parse_pty_size(args->value[O_PTY_SIZE], &spec->pty_cols,
			       &spec->pty_rows);
	return 0;
}

/* The bytes of --stdin TEXT, --stdin - or --stdin-file, as a descriptor
 * to copy from. */
static int input_source(struct cli *cli)
{
	const char *text = cli->args.value[O_STDIN];
	const char *file = cli->args.value[O_STDIN_FILE];
	int fds[2], fd;

	if (file)
		return open_input_file(cli, "--stdin-file", file);
	if (strcmp(text, "-") == 0)
		return dup(0);
	/* --stdin TEXT: through an anonymous file, like every other source */
	fd = memfd_create("agent-exec-stdin", MFD_CLOEXEC);
	if (fd < 0 && pipe2(fds, O_CLOEXEC) == 0) {
		if (write_all(fds[1], text, strlen(text)) < 0) {
			close(fds[0]);
			fds[0] = -1;
		}
		close(fds[1]);
		return fds[0];
	}
	if (fd >= 0 && (write_all(fd, text, strlen(text)) < 0 ||
			lseek(fd, 0, SEEK_SET) < 0)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		error_errno(&cli->error, NULL, errno, "--stdin");
	return fd;
}

/* Copy the job's input into <job>/stdin, where start finds it too. */
static int store_input(struct cli *cli, const struct job *job,
		       struct job_spec *spec)
{
	uint64_t max = number_or(cli, O_STDIN_MAX_BYTES, STDIN_MAX_DEFAULT);
	int fd, rc;

	if (spec->stdin_mode != STDIN_FILE)
		return 0;
	fd = input_source(cli);
	if (fd < 0)
		return -1;
	rc = store_write_stdin(job, fd, max, &spec->stdin_bytes, &cli->error);
	close(fd);
	return rc;
}

/* The job.finished sinks and how to deliver: recorded when any is given,
 * with the delivery defaults then. */
static int spec_add_notify(struct cli *cli, struct job_spec *spec)
{
	const struct args *args = &cli->args;
	struct notification_spec *n = &spec->notification;

	n->command = args->value[O_NOTIFY_COMMAND];
	n->on = args->value[O_NOTIFY_ON];
	n->file = owned_path(cli, args->value[O_NOTIFY_FILE]);
	if (args->value[O_NOTIFY_FILE] && !n->file)
		return error_errno(&cli->error, NULL, errno, "--notify-file");
	/* the output-match rule, from the job's first line on */
	n->pattern = args->value[O_OUTPUT_PATTERN];
	if (n->pattern && !*n->pattern)
		n->pattern = NULL;
	n->match_type = args->value[O_OUTPUT_MATCH_TYPE];
	n->stream = args->value[O_OUTPUT_STREAM];
	n->match_command = args->value[O_OUTPUT_COMMAND];
	n->match_file = owned_path(cli, args->value[O_OUTPUT_FILE]);
	if (args->value[O_OUTPUT_FILE] && !n->match_file)
		return error_errno(&cli->error, NULL, errno, "--output-file");
	if (notify_rule_check(n, &cli->error) < 0)
		return -1;
	n->has_timeout = n->has_retries = 1;
	n->timeout_ms = number_or(cli, O_NOTIFY_TIMEOUT,
				  NOTIFY_TIMEOUT_DEFAULT);
	n->retries = number_or(cli, O_NOTIFY_RETRIES, NOTIFY_RETRIES_DEFAULT);
	spec->has_notification = n->command || n->file || n->pattern || n->on ||
				 args->seen[O_NOTIFY_TIMEOUT] ||
				 args->seen[O_NOTIFY_RETRIES];
	return 0;
}

/* --after/--after-ok: each job must exist now; its full id is kept. */
static int spec_add_after(struct cli *cli, struct strv *ids,
			  const struct strv *given, const char *option)
{
	struct error *e = &cli->error;

	for (size_t i = 0; i < given->n; i++) {
		char why[sizeof(e->message)];
		struct job dep;
		char *id;

		if (store_job_open(&cli->root, given->v[i], &dep, e) < 0) {
			/* which option named it */
			copy_str(why, sizeof(why), e->message);
			snprintf(e->message, sizeof(e->message), "%s: %.480s",
				 option, why);
			return -1;
		}
		id = strv_keep(&cli->owned, strdup(dep.id));
		store_job_close(&dep);
		if (!id || strv_push(ids, id) < 0)
			return error_errno(&cli->error, NULL, ENOMEM,
					   "cannot build the job's definition");
	}
	return 0;
}

/* The job's queue, open for its supervisor: made when new, its slot count
 * set by --slots, and with --no-queue-wait a slot taken now or a refusal
 * before anything of the job exists. */
static int queue_prepare(struct cli *cli, const char *name)
{
	const struct args *args = &cli->args;
	struct queue *q = &cli->queue;

	if (!name)
		return 0;
	if (queue_open(&cli->root, name, 1, q, &cli->error) < 0)
		return -1;
	cli->launch.queue = q;
	if (args->seen[O_SLOTS] &&
	    queue_set_slots(q, args->number[O_SLOTS], &cli->error) < 0)
		return -1;
	if (!args->seen[O_NO_QUEUE_WAIT] ||
	    (queue_line_empty(q) && queue_try_slot(q) == 1))
		return 0;
	error_set(&cli->error, "queue_full", "queue %s has no free slot (%llu "
		  "of them) and --no-queue-wait was given: try again later, "
		  "or wait in line without it", name,
		  (unsigned long long)queue_slot_count(q));
	cli->error.retryable = 1;
	return -1;
}

/* The definition of a new job, from run's or create's options. The shell
 * wrapper comes first: a broken config fails before anything exists. */
static int spec_build(struct cli *cli, struct job_spec *spec)
{
	const struct args *args = &cli->args;
	const char *cwd = args->value[O_CWD] ? args->value[O_CWD] : ".";

	memset(spec, 0, sizeof(*spec));
	if (config_load(args->value[O_SHELL_WRAPPER], args->value[O_CONFIG],
			&spec->wrapper, &cli->gc, &cli->owned,
			&cli->error) < 0)
		return -1;
	if (spec_copy_lists(cli, spec) < 0)
		return error_errno(&cli->error, NULL, ENOMEM,
				   "cannot build the job's definition");
	spec->inherit_env = !args->seen[O_NO_INHERIT_ENV];
	spec->timeout_ms = number_or(cli, O_TIMEOUT, 0);
	spec->kill_after_ms = number_or(cli, O_KILL_AFTER, 0);
	spec->kill_leftovers = args->seen[O_KILL_LEFTOVERS];
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
	spec->queue = args->value[O_QUEUE];
	if (spec_add_input(cli, spec) < 0 ||
	    spec_add_after(cli, &spec->after, &args->list[O_AFTER],
			   "--after") < 0 ||
	    spec_add_after(cli, &spec->after_ok, &args->list[O_AFTER_OK],
			   "--after-ok") < 0)
		return -1;
	return spec_add_notify(cli, spec);
}

/* run and create: the job's definition (spec_free it either way), its
 * queue ready, then its directory, records and logs made; the ALIVE lock
 * stays held in job->lock_fd. Their --env values are kept in env.json
 * (start and restart read them); created jobs are recorded as created. */
static int make_job(struct cli *cli, struct job_spec *spec,
		    struct job *job, int created)
{
	char created_at[TIMESTAMP_LEN + 1];

	if (spec_build(cli, spec) < 0 || queue_prepare(cli, spec->queue) < 0 ||
	    store_job_new(&cli->root, job, &cli->error) < 0)
		return -1;
	diag(cli, 1, "job directory %s", job->dir);
	format_utc_now(created_at);
	/* a job run now gets its logs from its supervisor, and its
	 * job.created once we have answered */
	if (store_input(cli, job, spec) < 0 ||
	    store_write_meta(job, &cli->root, spec, created_at,
			     &cli->error) < 0 ||
	    (created && (store_create_logs(job, &cli->error) < 0 ||
			 state_created(job, spec, created_at,
				       &cli->error) < 0)))
		goto fail;
	return 0;
fail:
	store_job_discard(&cli->root, job);
	return -1;
}

/* Wait as run/start do: until the job ends (--wait), or at most the
 * snapshot delay. Returns the milliseconds spent. */
static uint64_t observe_job(struct cli *cli, struct job *job,
			    uint64_t snapshot_ms)
{
	int64_t begin = clock_mono_ms();
	struct job_state st;

	if (cli->args.seen[O_WAIT])
		await_terminal(cli, job, &st, 0);
	else if (job_queued(cli, job) && !cli->args.seen[O_UNTIL])
		return 0;	/* no output to show before its turn */
	else if (snapshot_ms > 0)
		await_terminal(cli, job, &st, time_after(begin, snapshot_ms));
	else
		return 0;
	return (uint64_t)(clock_mono_ms() - begin);
}

/* A value taken smaller than asked says so: "clamped":{"<key>":value}. */
static void write_clamped(struct cli *cli)
{
	if (cli->args.seen[O_WAIT] || !cli->args.seen[O_SNAPSHOT_AFTER] ||
	    cli->args.number[O_SNAPSHOT_AFTER] <= SNAPSHOT_MAX_MS)
		return;
	jw_key(&cli->out, "clamped");
	jw_object_begin(&cli->out);
	jw_kv_u64(&cli->out, "snapshot_after_ms", SNAPSHOT_MAX_MS);
	jw_object_end(&cli->out);
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

	envelope_job(w, type, job->id);
	write_state(w, st->status);
	if (strcmp(type, "restart") == 0)
		jw_kv_u64(w, "attempt", st->attempt);
	write_tags(w, &spec->tags);
	spec_write_env_vars(w, spec);
	if (!waited && snapshot_ms > 0)
		write_snapshot(w, "snapshot", job, tail_lines, max_bytes);
	store_write_log_paths(w, job);
	jw_kv_u64(w, "waited_ms", waited_ms);
	jw_kv_u64(w, "elapsed_ms",
		  (uint64_t)(clock_mono_ms() - cli->started_ms));
	/* --wait, or a job that ended inside the snapshot window */
	write_job_end(w, st);
	if (waited)
		write_snapshot(w, "final_snapshot", job, tail_lines, max_bytes);
	write_state_extras(w, st);
	write_queue_place(w, job, st);
	write_clamped(cli);
	write_short_id(w, job->id);
}

/* A job of a queue is answered once it is started or in line, unless
 * asked otherwise: the answer does not depend on whether a slot happened
 * to be free, and a batch is submitted at the pace of its launches. */
static uint64_t snapshot_delay(const struct cli *cli,
			       const struct job_spec *spec)
{
	uint64_t snapshot_ms = number_or(cli, O_SNAPSHOT_AFTER,
					 spec->queue ? 0 : 10000);

	if (cli->args.seen[O_WAIT])
		return 0;
	if (cli->args.seen[O_UNTIL])	/* the uncapped form */
		return cli->args.number[O_UNTIL];
	return snapshot_ms > SNAPSHOT_MAX_MS ? SNAPSHOT_MAX_MS : snapshot_ms;
}

/* Launch (the ALIVE lock is held), observe, answer: run and start. */
static int launch_and_answer(struct cli *cli, const char *type,
			     struct job *job, const struct job_spec *spec)
{
	uint64_t snapshot_ms = snapshot_delay(cli, spec), waited_ms;
	struct job_state st;
	int launched = exec_launch(job, spec, &cli->launch, &cli->error);

	if (cli->launch.queue)	/* the supervisor holds what it needs */
		queue_close(cli->launch.queue);
	if (cli->tool_call)	/* launched, or nothing was made */
		sig_hold(SIGTERM, 0);
	if (launched < 0)
		return -1;
	/* from here the job exists: an error still names it */
	copy_str(cli->error_job, sizeof(cli->error_job), job->id);
	waited_ms = observe_job(cli, job, snapshot_ms);
	if (read_job_state(cli, job, &st) < 0)
		return -1;
	diag(cli, 1, "job %s is %s", job->id, job_status_name(st.status));
	write_run_answer(cli, type, job, spec, &st, snapshot_ms, waited_ms);
	cli->gc_after = cli->gc.on;
	if (cli->args.seen[O_EXIT_STATUS])
		cli->exit_status = job_exit_status(&st);
	return 0;
}

int cmd_run(struct cli *cli)
{
	struct job_spec spec;
	struct job job;
	int rc = -1;

	if (make_job(cli, &spec, &job, 0) == 0) {
		cli->launch.log_created = 1;
		rc = launch_and_answer(cli, "run", &job, &spec);
		store_job_close(&job);
	}
	spec_free(&spec);
	return rc;
}

int cmd_create(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct job_spec spec;
	struct job job;
	int rc = -1;

	/* --slots is the queue's now; the queue is made with the job */
	if (make_job(cli, &spec, &job, 1) == 0) {
		envelope_job(w, "create", job.id);
		jw_kv_str(w, "state", "created");
		store_write_log_paths(w, &job);
		write_tags(w, &spec.tags);
		spec_write_env_vars(w, &spec);
		write_short_id(w, job.id);
		store_job_close(&job);	/* releases the lock */
		rc = 0;
	}
	spec_free(&spec);
	return rc;
}

static int check_startable(struct cli *cli, const struct job *job)
{
	struct job_state st;

	if (state_read(job, &st, &cli->error) < 0)
		return -1;
	if (st.status != JOB_CREATED)
		return store_state_refused(&cli->error, job, "is in '%s' "
					   "state; only 'created' jobs can "
					   "be started",
					   job_status_name(st.status));
	return 0;
}

/* start --queue: the queue this launch (and every later look at the
 * job) goes through; else the one it was created with. */
static int start_queue(struct cli *cli, struct job *job, struct job_spec *spec)
{
	const char *given = cli->args.value[O_QUEUE];

	if (!given && !spec->queue &&
	    (cli->args.seen[O_SLOTS] || cli->args.seen[O_NO_QUEUE_WAIT]))
		return error_set(&cli->error, "invalid_argument", "job %s has "
				 "no queue: --slots and --no-queue-wait need "
				 "--queue", job->id);
	if (queue_prepare(cli, given ? given : spec->queue) < 0 ||
	    (given && store_set_queue(job, given, &cli->error) < 0))
		return -1;
	if (given)
		spec->queue = given;
	return 0;
}

/* start and restart. A created job (ended 0): ALIVE taken, as whoever
 * holds it starts the job (two starts never launch two supervisors), and
 * its state made sure of; restart's ALIVE is held already, and the
 * attempt that ended (ended > 0) is archived. Then --kill-leftovers
 * recorded, the definition read, its queue made ready (a slot taken for
 * --no-queue-wait), running recorded as the next attempt, the launch
 * answered as type. */
static int launch_recorded(struct cli *cli, struct job *job, const char *type,
			   uint32_t ended)
{
	struct spec_records records = { 0 };
	struct job_spec spec = { 0 };
	struct error *e = &cli->error;
	int rc = -1;

	if (!ended && (store_claim_start(job, e) < 0 ||
		       check_startable(cli, job) < 0))
		return -1;
	/* from state_launching on, a supervisor that dies before it records
	 * running leaves a job readers record as lost */
	if (store_hold_reserve(job, e) == 0 &&
	    (!cli->args.seen[O_KILL_LEFTOVERS] ||
	     store_set_kill_leftovers(job, e) == 0) &&
	    store_read_spec(job, &spec, &records, e) == 0 &&
	    start_queue(cli, job, &spec) == 0 &&
	    (!ended || store_attempt_archive(job, ended, e) == 0)) {
		if (state_launching(job, ended + 1, e) == 0)
			rc = launch_and_answer(cli, type, job, &spec);
		else if (ended)
			store_attempt_restore(job, ended);
	}
	spec_free(&spec);
	spec_records_free(&records);
	return rc;
}

/* start and restart read config.toml for its [gc] alone, first: a
 * broken one changes nothing. */
static int read_gc_settings(struct cli *cli)
{
	return config_load(NULL, cli->args.value[O_CONFIG], NULL, &cli->gc,
			   &cli->owned, &cli->error);
}

int cmd_start(struct cli *cli)
{
	struct job job;
	int rc;

	if (read_gc_settings(cli) < 0 || open_job(cli, &job) < 0)
		return -1;
	rc = launch_recorded(cli, &job, "start", 0);
	store_job_close(&job);
	return rc;
}

#define RESTART_GRACE_MS 10000	/* to SIGKILL, and from it to the end */

/* restart of a running job: signo to its process group, SIGKILL after
 * --kill-after, until it has ended. */
static int stop_attempt(struct cli *cli, struct job *job,
			struct job_state *st, int signo)
{
	uint64_t grace = number_or(cli, O_KILL_AFTER, RESTART_GRACE_MS);
	int ended = 0;

	for (int round = 0; ended == 0 && round < 2; round++) {
		if (signal_job(cli, job, st, round ? SIGKILL : signo) < 0)
			return -1;
		ended = await_terminal(cli, job, st, time_after(clock_mono_ms(),
				       round ? RESTART_GRACE_MS : grace));
	}
	if (ended == 0)
		error_set(&cli->error, "invalid_state", "job %s did not end "
			  "within %d s of SIGKILL", job->id,
			  RESTART_GRACE_MS / 1000);
	return ended > 0 ? 0 : -1;
}

/* The attempt that ended is all gone before its files move, or nothing
 * changes: what it left running killed, every lock taken (its supervisor,
 * which records their end and delivers job.finished, waited for) and the
 * record read again under them (another start or restart may have come
 * first); all but ALIVE are let go for the launch. */
static int claim_ended(struct cli *cli, struct job *job, struct job_state *st)
{
	uint32_t ended = st->attempt;

	if ((st->leftovers.count || job_lost(st)) &&
	    state_kill_leftovers(job, st, SIGKILL) < 0)
		return error_errno(&cli->error, NULL, errno, "cannot end what "
				   "job %s left running", job->id);
	if (store_claim_restart(job, &cli->error) < 0)
		return -1;
	if (state_read(job, st, &cli->error) == 0 && st->attempt == ended &&
	    job_status_terminal(st->status)) {
		store_release_claims_but_alive(job);
		return 0;
	}
	store_release_claims(job);
	return error_set(&cli->error, "invalid_state", "job %s was started "
			 "again meanwhile; try again", job->id);
}

/* Whether the job's definition can be read back: checked before a
 * running job is stopped, so a restart that cannot launch changes nothing. */
static int definition_readable(struct cli *cli, struct job *job)
{
	struct spec_records records;
	struct job_spec spec;
	int rc = store_read_spec(job, &spec, &records, &cli->error);

	spec_free(&spec);
	spec_records_free(&records);
	return rc;
}

/* The same job again: a created one started; a running one stopped
 * first; the attempt that ended archived (tail and log --attempt read it)
 * and the next one launched, answered as start answers. */
int cmd_restart(struct cli *cli)
{
	const char *name;
	struct job_state st;
	struct job job;
	int signo = signal_option(cli, &name), rc = -1;

	if (signo < 0 || read_gc_settings(cli) < 0 || open_job(cli, &job) < 0)
		return -1;
	if (read_job_state(cli, &job, &st) == 0 &&
	    definition_readable(cli, &job) == 0 &&
	    (st.status == JOB_CREATED ||
	     ((!job_status_live(st.status) ||
	       stop_attempt(cli, &job, &st, signo) == 0) &&
	      claim_ended(cli, &job, &st) == 0)))
		rc = launch_recorded(cli, &job, "restart",
				     st.status == JOB_CREATED ? 0 : st.attempt);
	store_job_close(&job);
	return rc;
}
