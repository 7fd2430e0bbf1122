/* cmd.c - what every command shares: the answer envelope and the error
 * object, diagnostics, and the pieces of answers several commands print. */
#include "cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

void diag(const struct cli *cli, int level, const char *fmt, ...)
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

uint64_t number_or(const struct cli *cli, enum opt_id id,
			  uint64_t fallback)
{
	return cli->args.seen[id] ? cli->args.number[id] : fallback;
}

/* The keys every answer starts with, the error's too. */
static void envelope_open(struct json_writer *w, int ok, const char *type)
{
	jw_object_begin(w);
	jw_kv_str(w, "schema_version", SCHEMA_VERSION);
	jw_kv_bool(w, "ok", ok);
	jw_kv_str(w, "type", type);
}

void envelope_begin(struct json_writer *w, const char *type)
{
	envelope_open(w, 1, type);
}

void envelope_job(struct json_writer *w, const char *type, const char *id)
{
	envelope_begin(w, type);
	jw_kv_str(w, "job_id", id);
}

void write_state(struct json_writer *w, enum job_status status)
{
	jw_kv_str(w, "state", job_status_name(status));
}

void write_json(struct json_writer *w, const char *key, const char *json)
{
	jw_key(w, key);
	jw_raw(w, json, strlen(json));
}

/* Finish the answer (or the error): one line on stdout. */
int answer_finish(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	size_t done = 0;
	int attempts = 3;
	ssize_t put;

	jw_raw(w, "\n", 1);	/* the answer and its newline: one write */
	if (w->error) {
		errno = w->error;
		return -1;
	}
	while (done < w->len) {
		put = write(1, w->buf + done, w->len - done);
		if (put > 0)
			done += (size_t)put;
		else if (put < 0 && errno != EINTR &&
			 (--attempts == 0 || !error_may_pass(errno)))
			return -1;
	}
	return 0;
}

void write_error_begin(struct json_writer *w, const char *key,
		       const struct error *e)
{
	jw_kv_object_begin(w, key);
	jw_kv_str(w, "code", e->code);
	jw_kv_str(w, "message", e->message);
	jw_kv_bool(w, "retryable", e->retryable);
}

int print_error(struct cli *cli)
{
	struct json_writer *w = &cli->out;

	diag(cli, 1, "error %s: %s", cli->error.code, cli->error.message);
	/* an answer begun (wait on many jobs) gives way to the error */
	w->len = 0;
	w->depth = 0;
	w->has_items = 0;
	w->after_key = 0;
	envelope_open(w, 0, "error");
	/* the command made or started this job before it failed */
	if (cli->error_job[0])
		jw_kv_str(w, "job_id", cli->error_job);
	write_error_begin(w, "error", &cli->error);
	if (cli->error.details[0])
		write_json(w, "details", cli->error.details);
	jw_object_end(w);
	jw_object_end(w);
	return 1;
}

/* How long the job has run so far (to the second: started_at's grain). */
void write_elapsed(struct json_writer *w, const struct job_state *st)
{
	time_t started, now = time(NULL);

	if (st->status == JOB_RUNNING && st->started_at[0] &&
	    parse_utc(st->started_at, &started) == 0 && now >= started)
		jw_kv_u64(w, "elapsed_ms", (uint64_t)(now - started) * 1000);
}

void write_short_id(struct json_writer *w, const char *id)
{
	char short_id[SHORT_ID_LEN + 1];

	job_short_id(id, short_id, sizeof(short_id));
	jw_kv_str(w, "short_job_id", short_id);
}

void write_tail_figures(struct json_writer *w,
			       const struct tail_info info[2])
{
	jw_kv_u64(w, "stdout_observed_bytes", info[0].observed_bytes);
	jw_kv_u64(w, "stderr_observed_bytes", info[1].observed_bytes);
	jw_kv_u64(w, "stdout_included_bytes", info[0].included_bytes);
	jw_kv_u64(w, "stderr_included_bytes", info[1].included_bytes);
}

void write_offsets(struct json_writer *w, const uint64_t next[2])
{
	char cursor[48];

	snprintf(cursor, sizeof(cursor), "%llu:%llu",
		 (unsigned long long)next[0], (unsigned long long)next[1]);
	jw_kv_u64(w, "stdout_next_offset", next[0]);
	jw_kv_u64(w, "stderr_next_offset", next[1]);
	jw_kv_str(w, "cursor", cursor);
}

void write_snapshot(struct json_writer *w, const char *key,
			   const struct job *job, uint64_t tail_lines,
			   uint64_t max_bytes)
{
	struct tail_info info[2];
	uint64_t next[2];

	jw_kv_object_begin(w, key);
	store_write_outputs(w, job, &(struct output_read){
				    .tail_lines = tail_lines,
				    .max_bytes = max_bytes }, info, next);
	jw_kv_bool(w, "truncated", info[0].truncated || info[1].truncated);
	jw_kv_str(w, "encoding", "utf-8-lossy");
	write_tail_figures(w, info);
	jw_object_end(w);
}

void write_times(struct json_writer *w, const char *created_at,
		 const struct job_state *st)
{
	if (st && st->has_exit_code)
		jw_kv_i64(w, "exit_code", st->exit_code);
	jw_kv_str(w, "created_at", created_at);
	if (!st)
		return;
	state_write_text(w, "started_at", st->started_at);
	state_write_text(w, "finished_at", st->finished_at);
	jw_kv_str(w, "updated_at", st->updated_at);
}

/* A terminal job's exit_code, finished_at and duration_ms. */
void write_job_end(struct json_writer *w, const struct job_state *st)
{
	if (!job_status_terminal(st->status))
		return;
	if (st->has_exit_code)
		jw_kv_i64(w, "exit_code", st->exit_code);
	state_write_text(w, "finished_at", st->finished_at);
	if (st->has_duration)
		jw_kv_u64(w, "duration_ms", st->duration_ms);
}

/* What we add to the reference's keys: how the job ended, truthfully. */
void write_state_extras(struct json_writer *w,
			       const struct job_state *st)
{
	if (st->timed_out)
		jw_kv_bool(w, "timed_out", 1);
	write_end_extras(w, st);
}

int job_queued(struct cli *cli, struct job *job)
{
	struct job_state st;

	return state_observe(job, &st, &cli->error) == 0 &&
	       st.status == JOB_QUEUED;
}

void write_queue_place(struct json_writer *w, const struct job *job,
		       const struct job_state *st)
{
	int64_t position;

	state_write_text(w, "queue", st->queue);
	if (st->status != JOB_QUEUED)
		return;
	jw_kv_str(w, "waiting_for", st->waiting_for);
	position = job && st->queue[0] && strcmp(st->waiting_for, "slot") == 0
			   ? queue_position(job->root, st->queue, job->id)
			   : -1;
	if (position >= 0)
		jw_kv_i64(w, "queue_position", position);
}

void write_end_extras(struct json_writer *w, const struct job_state *st)
{
	state_write_signal(w, "signal", st->signal);
	state_write_text(w, "error", st->error);
	state_write_text(w, "dependency", st->dependency);
	if (st->exec_error)
		jw_kv_str(w, "exec_error", exec_error_name(st->exec_error));
	state_write_leftovers(w, st);
}

int job_exit_status(const struct job_state *st)
{
	uint64_t signo;

	switch (st->status) {
	case JOB_EXITED:
		return st->has_exit_code ? st->exit_code & 0xff : 125;
	case JOB_KILLED:
		return parse_u64(st->signal, &signo) == 0 && signo < 128
		       ? 128 + (int)signo : 125;
	case JOB_FAILED:
		if (st->exec_error == EXEC_OK)
			return 125;
		return st->exec_error == EXEC_NOT_FOUND ? 127 : 126;
	default:
		return 124;	/* still created or running */
	}
}

/* The job's true state; a finished job whose completion event nobody is
 * delivering (its supervisor died) gets delivered on the way. */
int read_job_state(struct cli *cli, struct job *job,
			  struct job_state *st)
{
	if (job->attempt)
		return state_read(job, st, &cli->error);
	if (state_observe(job, st, &cli->error) < 0)
		return -1;
	notify_ensure_delivered(job, st);
	return 0;
}

int64_t wait_deadline(const struct cli *cli)
{
	int until = cli->args.seen[O_UNTIL];
	uint64_t ms = number_or(cli, until ? O_UNTIL : O_TIMEOUT_MS, 0);

	if (!ms)
		return until ? DEADLINE_PASSED : 0;
	return time_after(clock_mono_ms(), ms);
}

#define TERMINAL_SETTLE_MS 1000

int await_terminal(struct cli *cli, struct job *job, struct job_state *st,
		   int64_t deadline)
{
	int64_t poll_ms = (int64_t)number_or(cli, O_POLL_MS, 200);
	int idle = 0;

	if (poll_ms < 1)
		poll_ms = 1;
	for (;;) {
		int64_t left = deadline ? deadline - clock_mono_ms() : -1;
		int64_t nap = deadline && left < poll_ms ? left : poll_ms;
		int waited;

		if (read_job_state(cli, job, st) < 0)
			return -1;
		if (job_status_terminal(st->status)) {
			/* its supervisor logs job.finished between the record
			 * and letting go of ALIVE: answer once that is done */
			if (!idle)
				store_wait_ended(job, TERMINAL_SETTLE_MS);
			return 1;
		}
		if (deadline && left <= 0)
			return 0;
		if (!job_status_live(st->status) || idle) {
			/* created, or running with no lock to block on (a
			 * supervisor renewing a removed lock file) */
			sleep_ms(nap);
			idle = 0;
			continue;
		}
		diag(cli, 2, "waiting on the lock of job %s", job->id);
		waited = store_wait_ended(job, left);
		if (waited < 0)
			return error_errno(&cli->error, NULL, errno,
					   "cannot wait for job %s", job->id);
		idle = waited == 2;
	}
}

int open_job(struct cli *cli, struct job *job)
{
	if (store_job_open(&cli->root, cli->args.positional.v[0], job,
			   &cli->error) < 0)
		return -1;
	diag(cli, 1, "job directory %s", job->dir);
	return 0;
}

/* A path the supervisor (whose cwd is "/") finds: absolute, kept until
 * exit. "" stays "" (no sink). */
const char *owned_path(struct cli *cli, const char *given)
{
	if (!given || !*given)
		return given;
	return strv_keep(&cli->owned, path_absolute(given));
}

/* A file whose bytes go to a job (--stdin-file, write --file), open for
 * reading; -1 with an invalid_input error naming the option and the file. */
int open_input_file(struct cli *cli, const char *option,
			   const char *file)
{
	int fd = open_regular(AT_FDCWD, file, O_RDONLY, 0);

	if (fd < 0)
		error_set(&cli->error, "invalid_input", "cannot read %s %s: %s",
			  option, file, file_strerror(errno));
	return fd;
}

void write_tags(struct json_writer *w, const struct strv *tags)
{
	jw_kv_strings(w, "tags", tags->v, tags->n);
}

int signal_option(struct cli *cli, const char **name)
{
	int signo;

	*name = cli->args.value[O_SIGNAL] ? cli->args.value[O_SIGNAL] : "TERM";
	signo = signal_parse(*name);
	if (signo < 0)
		error_set(&cli->error, "invalid_signal", "invalid signal "
			  "\"%.64s\": expected a signal name (TERM, KILL, "
			  "USR1, ...; SIG optional) or number", *name);
	return signo;
}

int signal_job(struct cli *cli, const struct job *job,
	       const struct job_state *st, int signo)
{
	if (st->has_pid)
		diag(cli, 1, "sending signal %d to process group %lld", signo,
		     (long long)st->pid);
	return exec_signal_job(job, st, signo, &cli->error);
}
