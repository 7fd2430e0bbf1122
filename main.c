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
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "events.h"
#include "exec.h"
#include "json.h"
#include "notify.h"
#include "skills.h"
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
	struct strv owned;	/* heap strings freed at exit */
	char out_buf[65536];
};

static void diag(const struct cli *cli, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void diag(const struct cli *cli, int level, const char *fmt, ...)
{
	char line[1024] = "agent-exec: ";
	size_t used = strlen(line);
	va_list ap;

	if (cli->args.verbose < level)
		return;
	va_start(ap, fmt);
	vsnprintf(line + used, sizeof(line) - used - 1, fmt, ap);
	va_end(ap);
	used = strlen(line);
	line[used] = '\n';
	write_all(2, line, used + 1);
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

static void write_tail_figures(struct json_writer *w,
			       const struct tail_info info[2])
{
	jw_kv_u64(w, "stdout_observed_bytes", info[0].observed_bytes);
	jw_kv_u64(w, "stderr_observed_bytes", info[1].observed_bytes);
	jw_kv_u64(w, "stdout_included_bytes", info[0].included_bytes);
	jw_kv_u64(w, "stderr_included_bytes", info[1].included_bytes);
}

static void write_offsets(struct json_writer *w, const uint64_t next[2])
{
	char cursor[48];

	snprintf(cursor, sizeof(cursor), "%llu:%llu",
		 (unsigned long long)next[0], (unsigned long long)next[1]);
	jw_kv_u64(w, "stdout_next_offset", next[0]);
	jw_kv_u64(w, "stderr_next_offset", next[1]);
	jw_kv_str(w, "cursor", cursor);
}

static void write_snapshot(struct json_writer *w, const char *key,
			   const struct job *job, uint64_t tail_lines,
			   uint64_t max_bytes)
{
	struct tail_info info[2];
	uint64_t next[2];

	jw_key(w, key);
	jw_object_begin(w);
	store_write_outputs(w, job, &(struct output_read){
				    .tail_lines = tail_lines,
				    .max_bytes = max_bytes }, info, next);
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

/* The job's true state; a finished job whose completion event nobody is
 * delivering (its supervisor died) gets delivered on the way. */
static int read_job_state(struct cli *cli, const struct job *job,
			  struct job_state *st)
{
	if (store_job_state(job, st, &cli->error) < 0)
		return -1;
	notify_ensure_delivered(job, st);
	return 0;
}

static int open_job(struct cli *cli, struct job *job)
{
	if (store_job_open(&cli->root, cli->args.positional.v[0], job,
			   &cli->error) < 0)
		return -1;
	diag(cli, 1, "job directory %s", job->dir);
	return 0;
}

/* ---- run, create, start ------------------------------------------------ */

/* "key=value" in a string the cli keeps until exit. */
static char *owned_entry(struct cli *cli, const char *key, const char *value)
{
	size_t key_len = strlen(key), value_len = strlen(value);
	char *entry = malloc(key_len + value_len + 2);

	if (!entry || strv_push(&cli->owned, entry) < 0) {
		free(entry);
		return NULL;
	}
	memcpy(entry, key, key_len);
	entry[key_len] = '=';
	memcpy(entry + key_len + 1, value, value_len + 1);
	return entry;
}

static int spec_add_meta(struct cli *cli, struct job_spec *spec)
{
	const struct args *args = &cli->args;
	const char *session = args->value[O_CALLBACK_SESSION];
	const char *agent = args->value[O_CALLBACK_AGENT];
	char *entry;

	for (size_t i = 0; i < args->list[O_META].n; i++)
		if (strv_setenv(&spec->meta, args->list[O_META].v[i]) < 0)
			return -1;
	if (session) {
		entry = owned_entry(cli, META_CALLBACK_SESSION, session);
		if (!entry || strv_setenv(&spec->meta, entry) < 0)
			return -1;
	}
	if (agent) {
		entry = owned_entry(cli, META_CALLBACK_AGENT, agent);
		if (!entry || strv_setenv(&spec->meta, entry) < 0)
			return -1;
	}
	return 0;
}

/* Absolute env-file paths: a created job starts from anywhere. */
static int spec_add_env_files(struct cli *cli, struct job_spec *spec)
{
	const struct strv *files = &cli->args.list[O_ENV_FILE];

	for (size_t i = 0; i < files->n; i++) {
		char *path = path_absolute(files->v[i]);

		if (!path || strv_push(&cli->owned, path) < 0 ||
		    strv_push(&spec->env_files, path) < 0) {
			free(path);
			return -1;
		}
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
		if (strv_push(&spec->env, args->list[O_ENV].v[i]) < 0)
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

/* A path the supervisor (whose cwd is "/") finds: absolute, kept until
 * exit. "" stays "" (no sink). */
static const char *owned_path(struct cli *cli, const char *given)
{
	char *path;

	if (!given || !*given)
		return given;
	path = path_absolute(given);
	if (!path || strv_push(&cli->owned, path) < 0) {
		free(path);
		return NULL;
	}
	return path;
}

#define STDIN_MAX_DEFAULT (64ull << 20)

static int spec_add_input(struct cli *cli, struct job_spec *spec)
{
	const struct args *args = &cli->args;

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

/* A file whose bytes go to a job (--stdin-file, write --file), open for
 * reading; -1 with an invalid_input error naming the option and the file. */
static int open_input_file(struct cli *cli, const char *option,
			   const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		error_errno(&cli->error, "invalid_input", errno,
			    "cannot read %s %s", option, file);
	return fd;
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

static int spec_add_notify(struct cli *cli, struct job_spec *spec)
{
	const struct args *args = &cli->args;

	spec->notify_command = args->value[O_NOTIFY_COMMAND];
	spec->notify_file = owned_path(cli, args->value[O_NOTIFY_FILE]);
	if (args->value[O_NOTIFY_FILE] && !spec->notify_file)
		return error_errno(&cli->error, NULL, errno, "--notify-file");
	spec->notify_timeout_ms = number_or(cli, O_NOTIFY_TIMEOUT,
					    NOTIFY_TIMEOUT_DEFAULT);
	spec->notify_retries = number_or(cli, O_NOTIFY_RETRIES,
					 NOTIFY_RETRIES_DEFAULT);
	spec->notify_delivery_set = args->seen[O_NOTIFY_TIMEOUT] ||
				    args->seen[O_NOTIFY_RETRIES];
	return 0;
}

/* The definition of a new job, from run's or create's options. The shell
 * wrapper comes first: a broken config fails before anything exists. */
static int spec_build(struct cli *cli, struct job_spec *spec)
{
	const struct args *args = &cli->args;
	const char *cwd = args->value[O_CWD] ? args->value[O_CWD] : ".";

	memset(spec, 0, sizeof(*spec));
	if (config_shell_wrapper(args->value[O_SHELL_WRAPPER],
				 args->value[O_CONFIG], &spec->wrapper,
				 &cli->owned, &cli->error) < 0)
		return -1;
	if (spec_copy_lists(cli, spec) < 0)
		return error_errno(&cli->error, NULL, ENOMEM,
				   "cannot build the job's definition");
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
	if (spec_add_input(cli, spec) < 0)
		return -1;
	return spec_add_notify(cli, spec);
}

/* job.created in the event log: what the job is, who asked for it. */
static void log_created(struct cli *cli, const struct job *job,
			const struct job_spec *spec, int deferred)
{
	struct json_writer w;

	jw_init_mem(&w, RECORD_MAX, 0);
	jw_object_begin(&w);
	jw_kv_str(&w, "event_type", "job.created");
	jw_kv_str(&w, "job_id", job->id);
	jw_kv_strings(&w, "command", spec->command.v, spec->command.n);
	jw_kv_str(&w, "cwd", spec->cwd);
	jw_kv_strings(&w, "tags", spec->tags.v, spec->tags.n);
	jw_key(&w, "meta");
	jw_object_begin(&w);
	for (size_t i = 0; i < spec->meta.n; i++) {
		const char *entry = spec->meta.v[i];
		size_t key_len = strcspn(entry, "=");
		char key[160];

		snprintf(key, sizeof(key), "%.*s", (int)key_len, entry);
		jw_kv_str(&w, key, entry + key_len + 1);
	}
	jw_object_end(&w);
	jw_object_end(&w);
	if (w.error) {
		jw_free(&w);
	} else if (deferred) {	/* the supervisor logs it, off our path */
		cli->launch.created_event = w.buf;
		cli->launch.created_len = w.len;
	} else {
		events_append(cli->root.abs, w.buf, w.len);
		jw_free(&w);
	}
}

/* Make the job directory, its records and logs; the ALIVE lock stays
 * held in job->lock_fd. created jobs keep their --env values in env.json
 * and are recorded as created. */
static int make_job(struct cli *cli, struct job_spec *spec,
		    struct job *job, int created)
{
	char created_at[TIMESTAMP_LEN + 1];
	struct job_state st = { .status = JOB_CREATED };

	if (store_job_new(&cli->root, job, &cli->error) < 0)
		return -1;
	diag(cli, 1, "job directory %s", job->dir);
	format_utc_now(created_at);
	snprintf(st.id, sizeof(st.id), "%s", job->id);
	memcpy(st.updated_at, created_at, sizeof(st.updated_at));
	/* a job run now gets its logs from its supervisor */
	if (store_input(cli, job, spec) < 0 ||
	    store_write_meta(job, &cli->root, spec, created_at, created,
			     &cli->error) < 0 ||
	    (created && store_create_logs(job, &cli->error) < 0))
		goto fail;
	if (created && store_write_state(job->dir_fd, &st, 1) < 0) {
		error_errno(&cli->error, NULL, errno,
			    "cannot write %s/state.json", job->dir);
		goto fail;
	}
	log_created(cli, job, spec, !created);
	return 0;
fail:
	store_job_discard(&cli->root, job);
	return -1;
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

static void write_tags(struct json_writer *w, const struct strv *tags)
{
	jw_kv_strings(w, "tags", tags->v, tags->n);
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
	write_tags(w, &spec->tags);
	spec_write_env_vars(w, spec);
	if (!waited && snapshot_ms > 0)
		write_snapshot(w, "snapshot", job, tail_lines, max_bytes);
	store_write_log_paths(w, job);
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

static uint64_t snapshot_delay(const struct cli *cli)
{
	uint64_t snapshot_ms = number_or(cli, O_SNAPSHOT_AFTER, 10000);

	if (cli->args.seen[O_WAIT])
		return 0;
	return snapshot_ms > SNAPSHOT_MAX_MS ? SNAPSHOT_MAX_MS : snapshot_ms;
}

/* Launch (the ALIVE lock is held), observe, answer: run and start. */
static int launch_and_answer(struct cli *cli, const char *type,
			     struct job *job, const struct job_spec *spec)
{
	uint64_t snapshot_ms = snapshot_delay(cli), waited_ms;
	struct job_state st;

	if (exec_launch(job, spec, &cli->launch, &cli->error) < 0)
		return -1;
	waited_ms = observe_job(cli, job, snapshot_ms);
	if (read_job_state(cli, job, &st) < 0)
		return -1;
	diag(cli, 1, "job %s is %s", job->id, job_status_name(st.status));
	write_run_answer(cli, type, job, spec, &st, snapshot_ms, waited_ms);
	return 0;
}

static int cmd_run(struct cli *cli)
{
	struct job_spec spec;
	struct job job;
	int rc = -1;

	if (spec_build(cli, &spec) == 0 && make_job(cli, &spec, &job, 0) == 0) {
		rc = launch_and_answer(cli, "run", &job, &spec);
		store_job_close(&job);
	}
	free(cli->launch.created_event);
	cli->launch.created_event = NULL;
	spec_free(&spec);
	return rc;
}

static int cmd_create(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct job_spec spec;
	struct job job;
	int rc = -1;

	if (spec_build(cli, &spec) == 0 && make_job(cli, &spec, &job, 1) == 0) {
		envelope_begin(w, "create");
		jw_kv_str(w, "job_id", job.id);
		jw_kv_str(w, "state", "created");
		store_write_log_paths(w, &job);
		write_tags(w, &spec.tags);
		spec_write_env_vars(w, &spec);
		store_job_close(&job);	/* releases the lock */
		rc = 0;
	}
	spec_free(&spec);
	return rc;
}

/* The ALIVE lock of a created job: whoever holds it starts it, so two
 * starts never launch two supervisors. */
static int take_start_lock(struct cli *cli, struct job *job)
{
	job->lock_fd = job_lock_open(job->dir_fd);
	if (job->lock_fd >= 0 &&
	    job_lock_take(job->lock_fd, LOCK_ALIVE, 1, 0) == 0)
		return 0;
	if (job->lock_fd >= 0 && (errno == EAGAIN || errno == EACCES))
		return error_set(&cli->error, "invalid_state", "invalid job "
				 "state: job %s is already being started or "
				 "is running", job->id);
	return error_errno(&cli->error, NULL, errno, "cannot lock job %s",
			   job->id);
}

static int check_startable(struct cli *cli, const struct job *job)
{
	struct job_state st;

	if (store_read_state(job, &st, &cli->error) < 0)
		return -1;
	if (st.status != JOB_CREATED)
		return error_set(&cli->error, "invalid_state", "invalid job "
				 "state: job %s is in '%s' state; only "
				 "'created' jobs can be started", job->id,
				 job_status_name(st.status));
	return 0;
}

/* From here the job is no longer "created": should its supervisor die
 * before it records running, readers find running with a free lock and
 * record the loss (instead of a job that looks never started). */
static int mark_launching(struct cli *cli, const struct job *job)
{
	struct job_state st = { .status = JOB_RUNNING };

	snprintf(st.id, sizeof(st.id), "%s", job->id);
	format_utc_now(st.started_at);
	memcpy(st.updated_at, st.started_at, sizeof(st.updated_at));
	if (store_write_state(job->dir_fd, &st, 0) < 0)
		return error_errno(&cli->error, NULL, errno,
				   "cannot write %s/state.json", job->dir);
	return 0;
}

static int cmd_start(struct cli *cli)
{
	struct spec_records records = { 0 };
	struct job_spec spec = { 0 };
	struct job job;
	int rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	if (take_start_lock(cli, &job) == 0 && check_startable(cli, &job) == 0
	    && store_read_spec(&job, &spec, &records, &cli->error) == 0 &&
	    mark_launching(cli, &job) == 0)
		rc = launch_and_answer(cli, "start", &job, &spec);
	spec_free(&spec);
	spec_records_free(&records);
	store_job_close(&job);
	return rc;
}

/* ---- status, tail, wait, kill ----------------------------------------- */

static void write_json_strings(struct json_writer *w, const char *key,
			       const struct json_value *array)
{
	jw_key(w, key);
	jw_array_begin(w);
	for (const struct json_value *item = array && array->type == JSON_ARRAY
					     ? array->u.children.first : NULL;
	     item; item = item->next)
		if (item->type == JSON_STRING)
			jw_string(w, item->u.string.ptr);
	jw_array_end(w);
}

static int cmd_status(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	uint64_t sizes[2];
	struct json_doc meta;
	struct job_state st;
	struct job job;
	int rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	if (store_read_meta(&job, &meta, &cli->error) < 0)
		goto out;
	if (read_job_state(cli, &job, &st) < 0)
		goto out_meta;
	envelope_begin(w, "status");
	jw_kv_str(w, "job_id", job.id);
	jw_kv_str(w, "state", job_status_name(st.status));
	if (st.has_exit_code)
		jw_kv_i64(w, "exit_code", st.exit_code);
	jw_kv_str(w, "created_at", json_get_str(meta.root, "created_at"));
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
	write_json_strings(w, "tags", json_get(meta.root, "tags"));
	store_write_caller_meta(w, meta.root);
	store_log_sizes(&job, sizes);
	write_offsets(w, sizes);
	rc = 0;
out_meta:
	json_doc_free(&meta);
out:
	store_job_close(&job);
	return rc;
}


static int tail_since(const struct cli *cli, uint64_t since[2])
{
	const struct args *args = &cli->args;

	if (args->value[O_CURSOR])
		return parse_cursor(args->value[O_CURSOR], since) == 0;
	since[0] = args->number[O_SINCE_STDOUT];
	since[1] = args->number[O_SINCE_STDERR];
	return args->seen[O_SINCE_STDOUT] || args->seen[O_SINCE_STDERR];
}

/* tail: the end of the logs, or (--since-*, --cursor) what came after an
 * earlier read. The state is read first: when it says the job is over,
 * the bytes returned are all there will be. */
static int cmd_tail(struct cli *cli)
{
	uint64_t max_bytes = number_or(cli, O_MAX_BYTES, 65536);
	struct json_writer *w = &cli->out;
	struct tail_info info[2];
	uint64_t since[2], next[2];
	struct job_state st;
	struct job job;
	int incremental = tail_since(cli, since), known;

	if (open_job(cli, &job) < 0)
		return -1;
	known = read_job_state(cli, &job, &st) == 0;
	envelope_begin(w, "tail");
	jw_kv_str(w, "job_id", job.id);
	store_write_outputs(w, &job, &(struct output_read){
				    .since = incremental ? since : NULL,
				    .tail_lines = number_or(cli, O_TAIL_LINES,
							    50),
				    .max_bytes = max_bytes,
				    .final = known &&
					     job_status_terminal(st.status) },
			    info, next);
	jw_kv_bool(w, "truncated", info[0].truncated || info[1].truncated);
	jw_kv_str(w, "encoding", "utf-8-lossy");
	store_write_log_paths(w, &job);
	write_tail_figures(w, info);
	write_offsets(w, next);
	jw_kv_str(w, "state", known ? job_status_name(st.status) : "unknown");
	if (known && st.has_exit_code)
		jw_kv_i64(w, "exit_code", st.exit_code);
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

		if (read_job_state(cli, job, st) < 0)
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
	if (read_job_state(cli, &job, &st) < 0)
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
		if (read_job_state(cli, &job, &st) < 0)
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
	const struct strv *tag_patterns;	/* all must match */
	const struct store_root *root;
	struct job_summary **jobs;
	size_t count, cap;
};

static const char *summary_state(const struct job_summary *summary)
{
	return summary->state_ok ? job_status_name(summary->state.status)
				 : "unknown";
}

static int listing_wants(const struct listing *listing,
			 const struct job_summary *summary)
{
	if (listing->cwd &&
	    (!summary->cwd || strcmp(summary->cwd, listing->cwd) != 0))
		return 0;
	if (listing->state &&
	    strcmp(summary_state(summary), listing->state) != 0)
		return 0;
	for (size_t i = 0; i < listing->tag_patterns->n; i++)
		if (!tags_match(&summary->tags, listing->tag_patterns->v[i]))
			return 0;
	return 1;
}

/* A job list just recorded as lost: its completion event is due now. */
static void deliver_recovered(const struct store_root *root,
			      const struct job_summary *summary)
{
	struct error ignored;
	struct job job;

	if (!summary->state_ok || !summary->state.recovered ||
	    store_job_open(root, summary->id, &job, &ignored) < 0)
		return;
	notify_ensure_delivered(&job, &summary->state);
	store_job_close(&job);
}

static int listing_add(void *ctx, struct job_summary *summary)
{
	struct listing *listing = ctx;

	deliver_recovered(listing->root, summary);
	if (!listing_wants(listing, summary)) {
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
static int summary_compare(const struct job_summary *x,
			   const struct job_summary *y)
{
	const char *x_started = x->state_ok ? x->state.started_at : "";
	const char *y_started = y->state_ok ? y->state.started_at : "";
	int order;

	if (!*x_started != !*y_started)
		return *x_started ? -1 : 1;
	order = strcmp(y_started, x_started);
	return order ? order : strcmp(y->id, x->id);
}

static int summary_order(const void *a, const void *b)
{
	return summary_compare(*(struct job_summary *const *)a,
			       *(struct job_summary *const *)b);
}

static void sort_summaries(struct job_summary **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), summary_order);
}

static void write_summary(struct json_writer *w,
			  const struct job_summary *summary)
{
	const struct job_state *st = &summary->state;

	jw_object_begin(w);
	jw_kv_str(w, "job_id", summary->id);
	jw_kv_str(w, "name", summary->name);
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
	jw_key(w, "meta");
	jw_raw(w, summary->meta_json, strlen(summary->meta_json));
	jw_object_end(w);
}

static void write_listing(struct cli *cli, struct listing *listing,
			  uint64_t skipped)
{
	struct json_writer *w = &cli->out;
	uint64_t limit = number_or(cli, O_LIMIT, 0);
	int truncated = limit > 0 && listing->count > limit;
	size_t shown = truncated ? (size_t)limit : listing->count;

	sort_summaries(listing->jobs, listing->count);
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
	struct listing listing = { .state = cli->args.value[O_STATE],
				   .tag_patterns = &cli->args.list[O_TAG],
				   .root = &cli->root };
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

/* ---- tag set, gc, delete ----------------------------------------------- */

static int cmd_tag_set(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct strv tags = { 0 };
	struct job job;
	int rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	for (size_t i = 0; i < cli->args.list[O_TAG].n; i++)
		if (tags_add(&tags, cli->args.list[O_TAG].v[i]) < 0) {
			error_errno(&cli->error, NULL, ENOMEM, "tag set");
			goto out;
		}
	if (store_set_tags(&job, &tags, &cli->error) < 0)
		goto out;
	envelope_begin(w, "tag_set");
	jw_kv_str(w, "job_id", job.id);
	write_tags(w, &tags);
	rc = 0;
out:
	strv_free(&tags);
	store_job_close(&job);
	return rc;
}

/* gc's jobs array is written while the root is scanned; the totals that
 * come before it in the answer are known only at the end. */
static int gc_collect(void *ctx, const struct gc_entry *entry)
{
	struct json_writer *jobs = ctx;

	if (entry->job && entry->st && entry->st->recovered)
		notify_ensure_delivered(entry->job, entry->st);
	jw_object_begin(jobs);
	jw_kv_str(jobs, "job_id", entry->job_id);
	jw_kv_str(jobs, "state", entry->state);
	jw_kv_str(jobs, "action", entry->action);
	jw_kv_str(jobs, "reason", entry->reason);
	jw_kv_u64(jobs, "bytes", entry->bytes);
	jw_object_end(jobs);
	return jobs->error ? -1 : 0;
}

static int cmd_gc(struct cli *cli)
{
	const char *older_than = cli->args.value[O_OLDER_THAN];
	int dry_run = cli->args.seen[O_DRY_RUN];
	char cutoff[TIMESTAMP_LEN + 1];
	struct json_writer *w = &cli->out, jobs;
	struct gc_totals totals;
	uint64_t seconds;
	int64_t now = clock_real_ms() / 1000;
	int rc;

	if (parse_duration(older_than ? older_than : "30d", &seconds) < 0)
		return error_set(&cli->error, "invalid_duration",
				 "invalid duration: %s; expected formats: 30d, "
				 "24h, 60m, 3600s", older_than);
	format_utc(seconds > (uint64_t)now ? 0
					   : (time_t)(now - (int64_t)seconds),
		   cutoff);
	diag(cli, 1, "gc cutoff %s", cutoff);
	jw_init_mem(&jobs, 64u << 20, 0);
	jw_array_begin(&jobs);
	rc = store_gc(&cli->root, cutoff, older_than ? older_than : "30d",
		      dry_run, gc_collect, &jobs, &totals, &cli->error);
	jw_array_end(&jobs);
	if (rc == 0) {
		envelope_begin(w, "gc");
		jw_kv_str(w, "root", cli->root.path);
		jw_kv_bool(w, "dry_run", dry_run);
		jw_kv_str(w, "older_than", older_than ? older_than : "30d");
		jw_kv_str(w, "older_than_source", older_than ? "flag" : "default");
		jw_kv_u64(w, "deleted", totals.deleted);
		jw_kv_u64(w, "skipped", totals.skipped);
		jw_kv_u64(w, "freed_bytes", totals.freed_bytes);
		jw_key(w, "jobs");
		jw_raw(w, jobs.buf, jobs.len);
	}
	jw_free(&jobs);
	return rc;
}

#define DELETE_FORCE_WAIT_MS 10000

/* delete --force on a running job: kill its group, wait for its end. */
static int stop_for_delete(struct cli *cli, const struct job *job,
			   struct job_state *st)
{
	if (!cli->args.seen[O_FORCE])
		return error_set(&cli->error, "invalid_state", "invalid job "
				 "state: job %s is running; kill it first or "
				 "use delete --force", job->id);
	if (signal_job(cli, job, st, SIGKILL) < 0)
		return -1;
	store_wait_alive_free(job, DELETE_FORCE_WAIT_MS);
	if (store_job_state(job, st, &cli->error) < 0)
		return -1;
	if (st->status == JOB_RUNNING)
		return error_set(&cli->error, "invalid_state", "job %s did not "
				 "end within %d s of SIGKILL", job->id,
				 DELETE_FORCE_WAIT_MS / 1000);
	return 0;
}

static int cmd_delete(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct job_state st;
	struct job job;
	uint64_t bytes = 0;
	int rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	if (store_job_state(&job, &st, &cli->error) < 0)
		goto out;
	if (st.status == JOB_RUNNING && stop_for_delete(cli, &job, &st) < 0)
		goto out;
	/* holding ALIVE keeps a concurrent start from launching it */
	job.lock_fd = job_lock_open(job.dir_fd);
	if (job.lock_fd < 0) {
		error_errno(&cli->error, NULL, errno, "cannot open %s/lock",
			    job.dir);
		goto out;
	}
	if (job_lock_take_timed(job.lock_fd, LOCK_ALIVE, 1, 2000) != 1) {
		error_set(&cli->error, "invalid_state",
			  "job %s is being started; try again", job.id);
		goto out;
	}
	if (store_job_remove(&cli->root, &job, &bytes, &cli->error) < 0)
		goto out;
	envelope_begin(w, "delete");
	jw_kv_str(w, "job_id", job.id);
	jw_kv_str(w, "state", job_status_name(st.status));
	jw_kv_bool(w, "deleted", 1);
	jw_kv_u64(w, "freed_bytes", bytes);
	rc = 0;
out:
	store_job_close(&job);
	return rc;
}

/* ---- log -------------------------------------------------------------- */

/* The file log ID --stream reads: <job>/<stream>.log, but for full the
 * --log PATH the job was given instead (the job's full.log stays empty). */
static char *log_file(struct cli *cli, const struct job *job,
		      const char *stream)
{
	char name[16];
	struct json_doc meta;
	const char *log_path;
	char *path;

	snprintf(name, sizeof(name), "%s.log", stream);
	if (strcmp(stream, "full") != 0)
		return strdup(name);
	if (store_read_meta(job, &meta, &cli->error) < 0)
		return NULL;
	log_path = json_get_str(meta.root, "log_path");
	path = strdup(log_path && log_path[0] == '/' ? log_path : name);
	json_doc_free(&meta);
	return path;
}

static int cmd_log(struct cli *cli)
{
	const char *stream = cli->args.value[O_STREAM] ?
			     cli->args.value[O_STREAM] : "stdout";
	struct json_writer *w = &cli->out;
	char *file, *path;
	struct job job;
	int rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	file = log_file(cli, &job, stream);
	if (!file)
		goto out;
	path = file[0] == '/' ? strdup(file) : store_job_path(&job, file);
	envelope_begin(w, "log");
	jw_kv_str(w, "job_id", job.id);
	jw_kv_str(w, "stream", stream);
	jw_kv_str(w, "path", path);
	rc = store_log_page(w, &job, file,
			    cli->args.seen[O_OFFSET]
			    ? (int64_t)cli->args.number[O_OFFSET] : -1,
			    cli->args.seen[O_LIMIT]
			    ? (int64_t)cli->args.number[O_LIMIT] : -1,
			    &cli->error);
	free(path);
	free(file);
out:
	store_job_close(&job);
	return rc;
}

/* ---- write ------------------------------------------------------------ */

/* The bytes to send: --data, --file, --stdin, or none (only --eof). */
static int write_source(struct cli *cli)
{
	const char *data = cli->args.value[O_DATA];
	const char *file = cli->args.value[O_FILE];
	int fd;

	if (file)
		return open_input_file(cli, "--file", file);
	if (cli->args.seen[O_STDIN_FLAG])
		return dup(0);
	fd = memfd_create("agent-exec-write", MFD_CLOEXEC);
	if (fd < 0 || (data && write_all(fd, data, strlen(data)) < 0) ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		if (fd >= 0)
			close(fd);
		return error_errno(&cli->error, NULL, errno, "write --data");
	}
	return fd;
}

/* Connect to <job>/input.sock by its name relative to the job directory
 * (a socket's path is limited to about 100 bytes). */
static int connect_input(const struct job *job)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX,
				    .sun_path = "input.sock" };
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd >= 0 && (fchdir(job->dir_fd) < 0 ||
			connect(fd, (struct sockaddr *)&addr,
				sizeof(addr)) < 0)) {
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	err = errno;
	if (cwd >= 0) {
		if (fchdir(cwd) < 0) {
			/* nothing later needs the old directory */
		}
		close(cwd);
	}
	errno = err;
	return fd;
}

/* Send mode and bytes, then read the supervisor's verdict. */
static int send_input(struct cli *cli, int sock, int source, char mode,
		      uint64_t *bytes)
{
	char buf[65536], reply[256];
	ssize_t got;
	uint64_t taken;

	if (write_all(sock, &mode, 1) < 0)
		got = -1;
	else
		while ((got = read_full(source, buf, sizeof(buf))) > 0)
			if (write_all(sock, buf, (size_t)got) < 0)
				break;	/* the verdict says why */
	shutdown(sock, SHUT_WR);
	got = read_full(sock, reply, sizeof(reply) - 1);
	reply[got > 0 ? got : 0] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	if (strncmp(reply, "ok ", 3) == 0 && scan_u64(reply + 3, &taken)) {
		*bytes = taken;
		return 0;
	}
	return error_set(&cli->error, "invalid_state", "cannot write to the "
			 "job: %s", strncmp(reply, "error ", 6) == 0
			 ? reply + 6 : "no answer from its supervisor");
}

static int cmd_write(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct job_state st;
	struct job job;
	uint64_t bytes = 0;
	int source = -1, sock = -1, rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	if (read_job_state(cli, &job, &st) < 0)
		goto out;
	if (st.status != JOB_RUNNING) {
		error_set(&cli->error, "invalid_state", "invalid job state: "
			  "job %s is %s; only running jobs take input", job.id,
			  job_status_name(st.status));
		goto out;
	}
	source = write_source(cli);
	if (source < 0)
		goto out;
	sock = connect_input(&job);
	if (sock < 0) {
		error_set(&cli->error, "invalid_state", "job %s does not take "
			  "input: run it with --interactive or --pty", job.id);
		goto out;
	}
	if (send_input(cli, sock, source, cli->args.seen[O_EOF] ? 'e' : 'w',
		       &bytes) < 0)
		goto out;
	envelope_begin(w, "write");
	jw_kv_str(w, "job_id", job.id);
	jw_kv_u64(w, "bytes", bytes);
	jw_kv_bool(w, "eof", cli->args.seen[O_EOF]);
	rc = 0;
out:
	if (source >= 0)
		close(source);
	if (sock >= 0)
		close(sock);
	store_job_close(&job);
	return rc;
}

/* ---- events ----------------------------------------------------------- */

/* The one command whose stdout is a stream: NDJSON lines of the event
 * log, until its end (or, with --follow, until a signal or a closed pipe).
 * Errors before the first line are the usual JSON error. */
static int cmd_events(struct cli *cli)
{
	struct events_query query = {
		.since = cli->args.value[O_SINCE],
		.job_id = cli->args.value[O_JOB],
		.type = cli->args.value[O_TYPE],
		.follow = cli->args.seen[O_FOLLOW],
	};

	if (query.job_id && !job_id_valid(query.job_id))
		return error_set(&cli->error, "invalid_job_id", "invalid job "
				 "id \"%.80s\"", query.job_id);
	return events_read(cli->root.abs, &query, &cli->error);
}

/* ---- notify set, notify redeliver ---------------------------------------- */

static int cmd_notify_set(struct cli *cli)
{
	const struct args *args = &cli->args;
	struct json_writer *w = &cli->out;
	struct notify_change change = {
		.command = args->value[O_COMMAND],
		.file = owned_path(cli, args->value[O_FILE]),
		.pattern = args->value[O_OUTPUT_PATTERN],
		.match_type = args->value[O_OUTPUT_MATCH_TYPE],
		.stream = args->value[O_OUTPUT_STREAM],
		.match_command = args->value[O_OUTPUT_COMMAND],
		.match_file = owned_path(cli, args->value[O_OUTPUT_FILE]),
		.has_timeout = args->seen[O_NOTIFY_TIMEOUT],
		.timeout_ms = args->number[O_NOTIFY_TIMEOUT],
		.has_retries = args->seen[O_NOTIFY_RETRIES],
		.retries = args->number[O_NOTIFY_RETRIES],
	};
	struct job job;
	int rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	if (notify_set(&job, &change, &cli->error) == 0) {
		envelope_begin(w, "notify.set");
		jw_kv_str(w, "job_id", job.id);
		jw_key(w, "notification");
		jw_raw(w, change.result, strlen(change.result));
		rc = 0;
	}
	free(change.result);
	store_job_close(&job);
	return rc;
}

/* Whether completion_event.json says it was delivered. */
static int completion_delivered(const struct job *job)
{
	struct json_doc record;
	char *text, err[64];
	size_t len;
	const char *status;
	int delivered = 0;

	if (read_file_at(job->dir_fd, "completion_event.json", RECORD_MAX,
			 &text, &len) < 0)
		return 0;
	if (json_parse(&record, text, len, 32, err, sizeof(err)) == 0) {
		status = json_get_str(record.root, "delivery_status");
		delivered = status && strcmp(status, "delivered") == 0;
		json_doc_free(&record);
	}
	free(text);
	return delivered;
}

/* Deliver now, from this process: the event on file, or one built from
 * the terminal state when the supervisor died before writing it. */
static int redeliver(struct cli *cli, const struct job *job,
		     const struct job_state *st, struct notifier **out)
{
	struct spec_records records;
	struct notify_settings settings;
	struct notifier_config config;
	struct job_spec spec;
	int rc = -1;

	*out = NULL;
	if (store_read_spec(job, &spec, &records, &cli->error) < 0)
		return -1;
	if (notify_settings_read(records.meta.root, &settings,
				 &cli->error) < 0)
		goto out;
	notifier_config_init(&config, job, &spec);
	*out = notifier_new(&config);
	if (!*out) {
		error_errno(&cli->error, NULL, ENOMEM, "notify redeliver");
	} else if (exists_at(job->dir_fd, "completion_event.json")) {
		rc = notifier_redeliver(*out, &settings, &cli->error);
	} else if (!notify_finished_wanted(&settings)) {
		error_set(&cli->error, "invalid_state", "job %s has no "
			  "completion event and no notify sink", job->id);
	} else {
		rc = notifier_job_finished(*out, st, records.meta.root,
					   &settings, 0);
	}
	if (rc == 0)
		notifier_drain(*out);
	notify_settings_free(&settings);
out:
	spec_free(&spec);
	spec_records_free(&records);
	return rc;
}

static int cmd_notify_redeliver(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct notifier *notifier = NULL;
	struct job_state st;
	struct job job;
	const char *results;
	char event_id[128];
	int delivered, rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	if (store_job_state(&job, &st, &cli->error) < 0)
		goto out;
	if (!job_status_terminal(st.status)) {
		error_set(&cli->error, "invalid_state", "invalid job state: "
			  "job %s is %s; only finished jobs have a completion "
			  "event", job.id, job_status_name(st.status));
		goto out;
	}
	job.lock_fd = job_lock_open(job.dir_fd);
	if (job.lock_fd < 0 ||
	    job_lock_take(job.lock_fd, LOCK_DELIVERY, 1, 0) < 0) {
		error_set(&cli->error, "invalid_state", "the completion event "
			  "of job %s is being delivered right now", job.id);
		goto out;
	}
	if (completion_delivered(&job) && !cli->args.seen[O_FORCE]) {
		error_set(&cli->error, "invalid_state", "the completion event "
			  "of job %s was delivered; use --force to deliver it "
			  "again", job.id);
		goto out;
	}
	if (redeliver(cli, &job, &st, &notifier) < 0)
		goto out;
	results = notifier_results(notifier, &delivered);
	snprintf(event_id, sizeof(event_id), "%s:job.finished", job.id);
	envelope_begin(w, "notify.redeliver");
	jw_kv_str(w, "job_id", job.id);
	jw_kv_str(w, "event_id", event_id);
	jw_kv_bool(w, "delivered", delivered);
	jw_key(w, "delivery_results");
	jw_raw(w, results, strlen(results));
	rc = 0;
out:
	notifier_free(notifier);
	store_job_close(&job);
	return rc;
}

/* ---- schema, install-skills ------------------------------------------- */

static int cmd_schema(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct json_doc schema;
	char err[160];
	const char *comment;

	if (json_parse(&schema, embedded_schema, embedded_schema_len, 64, err,
		       sizeof(err)) < 0)
		return error_set(&cli->error, "internal_error",
				 "the embedded schema is broken: %s", err);
	comment = json_get_str(schema.root, "$comment");
	envelope_begin(w, "schema");
	jw_kv_str(w, "schema_format", "json-schema-draft-07");
	jw_key(w, "schema");
	jw_value(w, schema.root);
	jw_kv_str(w, "generated_at", comment ? comment : "unknown");
	json_doc_free(&schema);
	return 0;
}

static int cmd_install_skills(struct cli *cli)
{
	const char *source = cli->args.value[O_SOURCE];
	struct json_writer *w = &cli->out;
	struct skill_install installed;

	/* skills are the user's files: the user's umask applies */
	umask(cli->launch.old_umask);
	if (skills_install(source ? source : "self", cli->args.seen[O_GLOBAL],
			   &installed, &cli->error) < 0)
		return -1;
	envelope_begin(w, "install_skills");
	jw_key(w, "skills");
	jw_array_begin(w);
	jw_object_begin(w);
	jw_kv_str(w, "name", installed.name);
	jw_kv_str(w, "source_type", installed.source_type);
	jw_kv_str(w, "path", installed.path);
	jw_object_end(w);
	jw_array_end(w);
	jw_kv_bool(w, "global", cli->args.seen[O_GLOBAL]);
	jw_kv_str(w, "lock_file_path", installed.lock_file_path);
	skill_install_free(&installed);
	return 0;
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
	case CMD_CREATE:
		return cmd_create(cli);
	case CMD_START:
		return cmd_start(cli);
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
		if (parsed < 0) {
			write_str(2, "agent-exec: ");
			write_str(2, usage);
			write_str(2, "\nTry 'agent-exec --help' for more "
				  "information.\n");
		}
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
	else if (cli.args.command->id != CMD_EVENTS)
		jw_object_end(&cli.out);
	if (failed || cli.args.command->id != CMD_EVENTS)
		answer_finish(&cli);
	store_root_free(&cli.root);
	cli_args_free(&cli.args);
	for (size_t i = 0; i < cli.owned.n; i++)
		free(cli.owned.v[i]);
	strv_free(&cli.owned);
	return failed ? 1 : 0;
}
