/* cmd_job.c - the commands about one job: status, tail, wait, log, write,
 * tag set, notify set, notify redeliver. */
#include "cmd.h"
#include "notify_record.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* What became of job.finished's delivery: none (nothing was due, or not
 * yet), pending, delivered or failed, with the attempts made. */
static void write_delivery(struct json_writer *w, const struct job *job)
{
	uint64_t attempts = 0;
	enum completion_found found = record_completion_found(job, &attempts);

	if (found == COMPLETION_UNREADABLE)
		return;
	jw_kv_object_begin(w, "notification");
	/* delivered to no sink at all is none */
	jw_kv_str(w, "delivery", found == COMPLETION_PENDING ? "pending"
		  : found == COMPLETION_FAILED ? "failed"
		  : found == COMPLETION_DELIVERED && attempts ? "delivered"
		  : "none");
	jw_kv_u64(w, "attempts", attempts);
	jw_object_end(w);
}

/* Ours after the reference's keys: what the job is and where it stands. */
static void write_status_extras(struct json_writer *w, const struct job *job,
				const struct job_summary *summary,
				const struct job_state *st)
{
	write_json(w, "command", summary->command_json);
	if (summary->cwd)
		jw_kv_str(w, "cwd", summary->cwd);
	write_elapsed(w, st);
	write_delivery(w, job);
}

/* "attempts": how each earlier attempt ended, as it was archived. */
static void write_attempts(struct json_writer *w, const struct job *job,
			   uint32_t current)
{
	struct error ignored;
	struct job_state st;
	struct job view;

	if (current < 2)
		return;
	jw_kv_array_begin(w, "attempts");
	for (uint32_t attempt = 1; attempt < current; attempt++) {
		if (store_attempt_open(job, attempt, &view, &ignored) < 0)
			continue;
		if (state_read(&view, &st, &ignored) == 0) {
			jw_object_begin(w);
			jw_kv_u64(w, "attempt", attempt);
			write_state(w, st.status);
			state_write_text(w, "started_at", st.started_at);
			write_job_end(w, &st);
			st.leftovers.count = 0;	/* ended before the next */
			write_end_extras(w, &st);
			jw_object_end(w);
		}
		store_job_close(&view);
	}
	jw_array_end(w);
}

int cmd_status(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct job_summary *summary;
	uint64_t sizes[2];
	struct job_state st;
	struct job job;
	int rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	if (store_summary(&job, &summary, &cli->error) < 0)
		goto out;
	if (read_job_state(cli, &job, &st) < 0)
		goto out_summary;
	envelope_job(w, "status", job.id);
	write_state(w, st.status);
	write_times(w, summary->created_at, &st);
	if (st.has_pid)
		jw_kv_i64(w, "pid", st.pid);
	if (st.has_duration)
		jw_kv_u64(w, "duration_ms", st.duration_ms);
	write_state_extras(w, &st);
	write_queue_place(w, &job, &st);
	jw_kv_u64(w, "attempt", st.attempt);
	write_attempts(w, &job, st.attempt);
	write_tags(w, &summary->tags);
	write_json(w, "meta", summary->meta_json);
	write_status_extras(w, &job, summary, &st);
	store_log_sizes(&job, sizes);
	write_offsets(w, sizes);
	write_short_id(w, job.id);
	rc = 0;
out_summary:
	job_summary_free(summary);
out:
	store_job_close(&job);
	return rc;
}

/* --attempt N, not the job's current one: job becomes that archived
 * attempt (store_attempt_open); one the job does not have is an error. */
static int open_attempt(struct cli *cli, struct job *job)
{
	uint64_t wanted = cli->args.number[O_ATTEMPT];
	struct job_state st;
	struct job view;

	if (!cli->args.seen[O_ATTEMPT])
		return 0;
	if (read_job_state(cli, job, &st) < 0)
		return -1;
	if (wanted == st.attempt)
		return 0;
	if (wanted == 0 || wanted > st.attempt)
		return error_set(&cli->error, "invalid_argument", "job %s has "
				 "no attempt %llu: it has 1 to %u", job->id,
				 (unsigned long long)wanted,
				 (unsigned)st.attempt);
	if (store_attempt_open(job, (uint32_t)wanted, &view, &cli->error) < 0)
		return -1;
	store_job_close(job);
	*job = view;
	return 0;
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

/* A watch of the job's logs that could not be set up or waited on. */
static int watch_failed(struct cli *cli, const struct job *job)
{
	return error_errno(&cli->error, NULL, errno, "cannot watch the logs "
			   "of job %s", job->id);
}

/* tail --wait-ms: until output comes after since[], the job ends (and
 * what it left running too), or the wait's time is up. The job's state as
 * it stands then (known: read). */
static int tail_wait(struct cli *cli, struct job *job, struct job_state *st,
		     const uint64_t since[2])
{
	int64_t deadline = time_after(clock_mono_ms(),
				      cli->args.number[O_WAIT_MS]);
	struct dir_watch watch;
	int rc, woken;

	if (dir_watch_open(&watch, job->dir) < 0)
		return watch_failed(cli, job);
	/* the state again once watched: an end just before is not missed;
	 * what the job left running still writes to its logs */
	while ((rc = read_job_state(cli, job, st)) == 0 &&
	       (!job_status_terminal(st->status) || st->leftovers.count)) {
		woken = store_logs_wait(job, &watch, since, deadline);
		if (woken < 0) {
			rc = watch_failed(cli, job);
			break;
		}
		if (!woken || store_logs_grew(job, since)) {
			rc = read_job_state(cli, job, st);
			break;	/* time is up, or the output grew */
		}
	}
	dir_watch_close(&watch);
	return rc;
}

/* tail --follow: the job's output, raw (stdout to stdout, stderr to
 * stderr), from offsets[] (the start, or --cursor's), as it comes and
 * until the job has ended and its logs are read to their end. A reader
 * that goes away ends it. */
static int tail_follow(struct cli *cli, struct job *job, uint64_t offsets[2])
{
	struct dir_watch watch;
	struct job_state st;
	int ended = 0, rc = 0;

	if (dir_watch_open(&watch, job->dir) < 0)
		return watch_failed(cli, job);
	while (!ended && rc == 0) {
		if ((rc = read_job_state(cli, job, &st)) < 0)
			break;
		ended = job_status_terminal(st.status);
		if (store_log_copy(job, 0, &offsets[0], 1) < 0 ||
		    store_log_copy(job, 1, &offsets[1], 2) < 0)
			rc = errno == EPIPE ? 1 : error_errno(&cli->error,
					NULL, errno, "cannot follow job %s",
					job->id);
		else if (!ended &&
			 store_logs_wait(job, &watch, offsets, -1) < 0)
			rc = watch_failed(cli, job);
	}
	dir_watch_close(&watch);
	return rc < 0 ? -1 : 0;	/* a reader gone (EPIPE) ends it well */
}

/* tail: the end of the logs, or (--since-*, --cursor) what came after an
 * earlier read. The state is read first: when it says the job is over,
 * the bytes returned are all there will be. */
static int tail_job(struct cli *cli, struct job *job)
{
	uint64_t max_bytes = number_or(cli, O_MAX_BYTES, 65536);
	struct json_writer *w = &cli->out;
	struct tail_info info[2];
	uint64_t since[2], next[2];
	struct job_state st;
	int incremental = tail_since(cli, since), known;

	if (cli->args.seen[O_FOLLOW])
		return tail_follow(cli, job, since);
	known = read_job_state(cli, job, &st) == 0;
	if (known && incremental && cli->args.seen[O_WAIT_MS] &&
	    tail_wait(cli, job, &st, since) < 0)
		return -1;
	envelope_job(w, "tail", job->id);
	store_write_outputs(w, job, &(struct output_read){
				    .since = incremental ? since : NULL,
				    .tail_lines = number_or(cli, O_TAIL_LINES,
							    50),
				    .max_bytes = max_bytes,
				    .final = known &&
					     job_status_terminal(st.status) },
			    info, next);
	jw_kv_bool(w, "truncated", info[0].truncated || info[1].truncated);
	jw_kv_str(w, "encoding", "utf-8-lossy");
	store_write_log_paths(w, job);
	write_tail_figures(w, info);
	write_offsets(w, next);
	jw_kv_str(w, "state", known ? job_status_name(st.status) : "unknown");
	if (known && st.has_exit_code)
		jw_kv_i64(w, "exit_code", st.exit_code);
	if (known)	/* they may write more */
		state_write_leftovers(w, &st);
	return 0;
}

int cmd_tail(struct cli *cli)
{
	struct job job;
	int rc;

	if (open_job(cli, &job) < 0)
		return -1;
	rc = open_attempt(cli, &job) < 0 ? -1 : tail_job(cli, &job);
	store_job_close(&job);
	return rc;
}

/* timed_out: the wait's deadline passed; job_timed_out: the job's own
 * --timeout ended it. The output as it is then: final once ended. */
static void write_wait_answer(struct cli *cli, const struct job *job,
			      const struct job_state *st, int timed_out)
{
	struct json_writer *w = &cli->out;

	envelope_job(w, "wait", job->id);
	write_state(w, st->status);
	write_queue_place(w, job, st);
	write_job_end(w, st);
	jw_kv_bool(w, "timed_out", timed_out);
	if (st->timed_out)
		jw_kv_bool(w, "job_timed_out", 1);
	write_end_extras(w, st);
	write_snapshot(w, timed_out ? "snapshot" : "final_snapshot", job,
		       number_or(cli, O_TAIL_LINES, 50),
		       number_or(cli, O_MAX_BYTES, 65536));
}


int cmd_wait(struct cli *cli)
{
	int64_t deadline = wait_deadline(cli);
	struct job_state st;
	struct job job;
	int ended;

	/* several ids, a selector or --any: a list of jobs in the answer */
	if (cli->args.positional.n != 1 || cli->args.seen[O_ANY])
		return cmd_wait_many(cli);
	if (open_job(cli, &job) < 0)
		return -1;
	ended = await_terminal(cli, &job, &st, deadline);
	if (ended >= 0)
		write_wait_answer(cli, &job, &st, ended == 0);
	if (ended >= 0 && cli->args.seen[O_EXIT_STATUS])
		cli->exit_status = job_exit_status(&st);
	store_job_close(&job);
	return ended < 0 ? -1 : 0;
}

int cmd_tag_set(struct cli *cli)
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
	envelope_job(w, "tag_set", job.id);
	write_tags(w, &tags);
	rc = 0;
out:
	strv_free(&tags);
	store_job_close(&job);
	return rc;
}

int cmd_log(struct cli *cli)
{
	const char *stream = cli->args.value[O_STREAM] ?
			     cli->args.value[O_STREAM] : "stdout";
	struct json_writer *w = &cli->out;
	char *file, *path;
	struct job job;
	int rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	/* the job's own file names (meta.json says which), then --attempt's */
	file = store_log_file(&job, stream, &cli->error);
	if (!file || open_attempt(cli, &job) < 0)
		goto out;
	path = file[0] == '/' ? strdup(file) : store_job_path(&job, file);
	envelope_job(w, "log", job.id);
	jw_kv_str(w, "stream", stream);
	jw_kv_str(w, "path", path);
	rc = store_log_page(w, &job, file,
			    cli->args.seen[O_OFFSET]
			    ? (int64_t)cli->args.number[O_OFFSET] : -1,
			    cli->args.seen[O_LIMIT]
			    ? (int64_t)cli->args.number[O_LIMIT] : -1,
			    &cli->error);
	free(path);
out:
	free(file);
	store_job_close(&job);
	return rc;
}

/* The bytes to send: --data, --file, --stdin, or none (only --eof). */
static int write_source(struct cli *cli)
{
	const char *data = cli->args.value[O_DATA];
	const char *file = cli->args.value[O_FILE];
	int fd;

	if (file)
		return open_input_file(cli, "--file", file);
	if (cli->args.seen[O_STDIN_FLAG] && isatty(0))
		return error_set(&cli->error, "stdin_required", "write --stdin: "
				 "stdin is a terminal (read until ^D): pipe "
				 "the input in, or give --data or --file");
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

#define WRITE_TIMEOUT_MS 10000

int cmd_write(struct cli *cli)
{
	uint64_t timeout_ms = number_or(cli, O_WRITE_TIMEOUT,
					WRITE_TIMEOUT_MS);
	struct json_writer *w = &cli->out;
	struct input_sent sent;
	struct job_state st;
	struct job job;
	int source = -1, rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	if (read_job_state(cli, &job, &st) < 0)
		goto out;
	if (st.status != JOB_RUNNING) {
		store_state_refused(&cli->error, &job, "is %s; only running "
				    "jobs take input",
				    job_status_name(st.status));
		goto out;
	}
	source = write_source(cli);
	if (source < 0)
		goto out;
	if (exec_input_send(&job, source, cli->args.seen[O_EOF], timeout_ms,
			    &sent, &cli->error) < 0)
		goto out;
	envelope_job(w, "write", job.id);
	jw_kv_u64(w, "bytes", sent.bytes);
	/* a write that timed out sent no end of input */
	jw_kv_bool(w, "eof", cli->args.seen[O_EOF] && !sent.timed_out);
	jw_kv_bool(w, "timed_out", sent.timed_out);
	rc = 0;
out:
	if (source >= 0)
		close(source);
	store_job_close(&job);
	return rc;
}

int cmd_notify_set(struct cli *cli)
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
		.on = args->value[O_NOTIFY_ON],
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
		envelope_job(w, "notify.set", job.id);
		write_json(w, "notification", change.result);
		rc = 0;
	}
	free(change.result);
	store_job_close(&job);
	return rc;
}

int cmd_notify_redeliver(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct redelivery done;
	struct job_state st;
	struct job job;
	int rc = -1;

	if (open_job(cli, &job) < 0)
		return -1;
	if (state_observe(&job, &st, &cli->error) == 0 &&
	    notify_redeliver_now(&job, &st, cli->args.seen[O_FORCE], &done,
				 &cli->error) == 0) {
		envelope_job(w, "notify.redeliver", job.id);
		jw_kv_str(w, "event_id", done.event_id);
		jw_kv_bool(w, "delivered", done.delivered);
		write_json(w, "delivery_results", done.results);
		if (done.omitted)
			jw_kv_u64(w, "delivery_results_omitted", done.omitted);
		free(done.results);
		rc = 0;
	}
	store_job_close(&job);
	return rc;
}
