/* store_state.c - the job's state: state.json and every transition of it
 * (created, running, exited or killed, failed, lost), each with its line
 * in the event log. No other file writes state.json.
 *
 * A terminal transition keeps one order: the state record (fsynced), then
 * the completion record (the notifier's, through the completion it is
 * given) and the job.finished line, and only then the release of ALIVE,
 * so a waiter let go finds all of them on disk. */
#include "store_state.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "lib/fmt.h"
#include "lib/proc.h"
#include "store_index.h"

/* Whether the end st records is one job.finished's sinks want. */
static int completion_due(const struct job_state *st,
			  const struct state_completion *completion)
{
	int success = st->status == JOB_EXITED && st->exit_code == 0;

	return completion && (completion->wanted &
			      (success ? COMPLETION_ON_SUCCESS
				       : COMPLETION_ON_FAILURE));
}

/* The one writer of state.json: atomic, durable as asked. A terminal
 * state goes into the blocks set aside for it (the reserve, renamed into
 * place, which a terminal job no longer needs) when they are there; any
 * other first into a new file, and into the reserve on a full disk.
 * Using the reserve makes no new file and deletes none: on ext4 without
 * a journal every file deleted in the last minutes is stepped over when
 * the next one is made, which made back-to-back launches slower. */
static int write_state(struct job *job, const struct job_state *st,
		       int durable)
{
	int terminal = job_status_terminal(st->status);
	struct json_writer w;
	int rc = -1;

	jw_init_mem(&w, RECORD_MAX, 1);
	state_format(&w, st);
	if (w.error) {
		errno = w.error;
		jw_free(&w);
		return -1;
	}
	if (terminal && durable != DURABLE_NONE)
		rc = store_write_reserved(job->dir_fd, job->reserve_fd,
					  "state.json", w.buf, w.len, durable);
	if (rc < 0)
		rc = store_write_record(job->dir_fd, "state.json", w.buf,
					w.len, durable);
	if (rc < 0 && !terminal &&
	    (errno == ENOSPC || errno == EDQUOT || errno == EFBIG ||
	     errno == EMFILE || errno == ENFILE))
		rc = store_write_reserved(job->dir_fd, job->reserve_fd,
					  "state.json", w.buf, w.len,
					  durable == DURABLE_NONE ? DURABLE_DATA
								  : durable);
	jw_free(&w);
	return rc;
}

int state_read(const struct job *job, struct job_state *st,
	       struct error *e)
{
	struct json_doc doc;
	int rc;

	if (store_read_record(job->dir_fd, job->dir, "state.json", &doc, e) < 0)
		return -1;
	rc = state_parse(doc.root, st);
	json_doc_free(&doc);
	if (rc < 0) {
		errno = EINVAL;
		return error_set(e, "corrupt_record",
			    "%s/state.json lacks required keys or has an "
			    "unknown status", job->dir);
	}
	return 0;
}

/* ---- the event log's lines of a job's life ----------------------------- */

void state_log_created(const struct job *job, const struct job_spec *spec)
{
	struct json_writer w;

	events_line_begin(&w, RECORD_MAX, "job.created", job->id);
	jw_kv_strings(&w, "command", spec->command.v, spec->command.n);
	jw_kv_str(&w, "cwd", spec->cwd);
	jw_kv_strings(&w, "tags", spec->tags.v, spec->tags.n);
	spec_write_caller_meta(&w, spec);
	events_line_append(job->root, &w);
}

void state_log_started(const struct job *job, const struct job_state *st)
{
	struct json_writer w;

	events_line_begin(&w, 4096, "job.started", job->id);
	jw_kv_u64(&w, "attempt", st->attempt);
	jw_kv_i64(&w, "pid", st->pid);
	jw_kv_str(&w, "started_at", st->started_at);
	events_line_append(job->root, &w);
}

/* job.finished as the event log gets it when no notifier builds the
 * whole event: how the job ended, and why when it failed. */
static void log_finished_short(const struct job *job,
			       const struct job_state *st)
{
	struct json_writer w;

	events_line_begin(&w, 4096, "job.finished", job->id);
	jw_kv_u64(&w, "attempt", st->attempt);
	jw_kv_str(&w, "state", job_status_name(st->status));
	jw_kv_str(&w, "finished_at", st->finished_at);
	if (st->error[0])
		jw_kv_str(&w, "error", st->error);
	events_line_append(job->root, &w);
}

/* ---- transitions --------------------------------------------------------- */

static void stamp(struct job_state *st)
{
	format_utc_now(st->updated_at);
}

int state_created(struct job *job, const struct job_spec *spec,
		  const char *created_at, struct error *e)
{
	struct job_state st = { .status = JOB_CREATED, .attempt = 1 };

	copy_str(st.id, sizeof(st.id), job->id);
	copy_str(st.queue, sizeof(st.queue), spec->queue);
	copy_str(st.updated_at, sizeof(st.updated_at), created_at);
	if (write_state(job, &st, DURABLE_FULL) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/state.json",
				   job->dir);
	state_log_created(job, spec);
	return 0;
}

int state_launching(struct job *job, uint32_t attempt, struct error *e)
{
	struct job_state st = { .status = JOB_RUNNING, .attempt = attempt };

	copy_str(st.id, sizeof(st.id), job->id);
	format_utc_now(st.started_at);
	memcpy(st.updated_at, st.started_at, sizeof(st.updated_at));
	if (write_state(job, &st, DURABLE_NONE) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/state.json",
				   job->dir);
	if (attempt > 1)	/* list's index may hold it as it ended */
		index_touch(job);
	return 0;
}

void state_begin(struct job_state *st, const struct job *job,
		 int64_t supervisor_pid)
{
	struct error ignored;
	uint32_t attempt = state_read(job, st, &ignored) == 0 ? st->attempt : 1;

	memset(st, 0, sizeof(*st));
	st->attempt = attempt;
	copy_str(st->id, sizeof(st->id), job->id);
	st->supervisor_pid = supervisor_pid;
	format_utc_now(st->started_at);
	memcpy(st->updated_at, st->started_at, sizeof(st->updated_at));
}

void state_queued(struct job *job, struct job_state *st,
		  const char *waiting_for)
{
	st->status = JOB_QUEUED;
	st->started_at[0] = '\0';	/* until it runs */
	copy_str(st->waiting_for, sizeof(st->waiting_for), waiting_for);
	stamp(st);
	write_state(job, st, DURABLE_NONE);
}

void state_running(struct job *job, struct job_state *st, int64_t pid)
{
	if (st->status == JOB_QUEUED)	/* it starts now */
		format_utc_now(st->started_at);
	st->waiting_for[0] = '\0';
	st->status = JOB_RUNNING;
	st->has_pid = 1;
	st->pid = pid;
	stamp(st);
	write_state(job, st, DURABLE_NONE);
}

void state_progress(struct job *job, struct job_state *st)
{
	stamp(st);
	write_state(job, st, DURABLE_NONE);
}

/* A terminal record: written (as durable as asked, else at least
 * written), the reserve it no longer needs given back, then job.finished:
 * completion_event.json persisted and the whole event logged by the
 * completion, else the short line. A record that could not be written is
 * not announced: the job stays running on disk, with ALIVE about to be
 * free, and the next reader records the loss. */
static int record_final(struct job *job, const struct job_state *st,
			int durable, const struct state_completion *completion)
{
	int rc = write_state(job, st, durable);
	char *line = NULL;
	size_t len = 0;

	if (rc < 0 && durable != DURABLE_NONE)
		rc = write_state(job, st, DURABLE_NONE);
	store_release_reserve(job);
	if (rc < 0)
		return -1;
	if (completion && completion->complete)
		line = completion->complete(completion->ctx, st, &len);
	if (line)
		events_append(job->root, line, len);
	else
		log_finished_short(job, st);
	free(line);
	return 0;
}

/* The supervisor's (or its launcher's) terminal record: a terminal state
 * is final, so when one is on disk already (a reader recorded the loss of
 * a supervisor it could not see) it stays, and no second job.finished is
 * told. Under RECOVER, against a reader recording the loss right now. */
static int record_own_final(struct job *job, const struct job_state *st,
			    int durable,
			    const struct state_completion *completion)
{
	int guarded = job->lock_fd >= 0 &&
		      store_claim_recovery(job->lock_fd) == 0;
	struct job_state on_disk;
	struct error ignored;
	int rc = 0;

	if (state_read(job, &on_disk, &ignored) == 0 &&
	    job_status_terminal(on_disk.status))
		store_release_reserve(job);
	else
		rc = record_final(job, st, durable, completion);
	if (guarded)
		store_release_recovery(job->lock_fd);
	return rc;
}

static void usage_fill(struct job_state *st, const struct rusage *ru)
{
	st->has_usage = 1;
	st->user_cpu_ms = (uint64_t)ru->ru_utime.tv_sec * 1000 +
			  (uint64_t)ru->ru_utime.tv_usec / 1000;
	st->sys_cpu_ms = (uint64_t)ru->ru_stime.tv_sec * 1000 +
			 (uint64_t)ru->ru_stime.tv_usec / 1000;
	st->max_rss_kib = (uint64_t)ru->ru_maxrss;
}

/* Who ended a job its main process's end says: its timeout, agent-exec
 * (its mark is there), another process's signal, or the job itself (an
 * exit, or a signal of its own faults). */
static const char *ender(const struct job *job, const struct job_state *st,
			 int wait_status)
{
	static const int own[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
				   SIGSYS, SIGTRAP, SIGXCPU, SIGXFSZ };

	if (st->timed_out)
		return "timeout";
	if (!WIFSIGNALED(wait_status))
		return "self";
	if (exists_at(job->dir_fd, KILL_MARK))
		return "kill";
	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++)
		if (WTERMSIG(wait_status) == own[i])
			return "self";
	return "signal";
}

void state_ended(struct job *job, struct job_state *st,
		 const struct job_end *end,
		 const struct state_completion *completion)
{
	copy_str(st->ended_by, sizeof(st->ended_by),
		 ender(job, st, end->wait_status));
	if (WIFSIGNALED(end->wait_status)) {
		st->status = JOB_KILLED;
		snprintf(st->signal, sizeof(st->signal), "%d",
			 WTERMSIG(end->wait_status));
	} else {
		st->status = JOB_EXITED;
		st->has_exit_code = 1;
		st->exit_code = WEXITSTATUS(end->wait_status);
	}
	st->has_duration = 1;
	st->duration_ms = end->duration_ms;
	stamp(st);
	memcpy(st->finished_at, st->updated_at, sizeof(st->finished_at));
	usage_fill(st, &end->usage);
	if (end->log_error)
		why_errno(st->error, sizeof(st->error), end->log_error,
			  "output cut: cannot write logs");
	st->completion_event = completion_due(st, completion);
	test_stop_at("job-ended");
	/* with a completion record to write, its directory fsync follows
	 * and covers this rename too */
	record_own_final(job, st, st->completion_event && completion->complete
				  ? DURABLE_DATA : DURABLE_FULL, completion);
	store_release_alive(job);
}

int state_failed(struct job *job, struct job_state *st,
		 const struct state_completion *completion)
{
	int rc;

	st->status = JOB_FAILED;
	copy_str(st->ended_by, sizeof(st->ended_by),
		 st->dependency[0] ? "dependency" : "self");
	stamp(st);
	memcpy(st->finished_at, st->updated_at, sizeof(st->finished_at));
	st->has_duration = 1;
	st->duration_ms = 0;
	st->completion_event = completion_due(st, completion);
	rc = record_own_final(job, st, DURABLE_FULL, completion);
	store_release_alive(job);
	return rc;
}

/* ---- the loss of a supervisor ----------------------------------------- */

/* A job without state.json: its launch is under way (ALIVE held) and
 * running will be recorded in a moment, or it died (then a loss). */
static void state_being_launched(const struct job *job, struct job_state *st)
{
	memset(st, 0, sizeof(*st));
	copy_str(st->id, sizeof(st->id), job->id);
	st->status = JOB_RUNNING;
	st->attempt = 1;
	format_utc_now(st->updated_at);
}

static void mark_lost(const struct job *job, struct job_state *st,
		      int had_state)
{
	if (!had_state)
		state_being_launched(job, st);
	st->status = JOB_FAILED;
	st->has_exit_code = 0;
	st->signal[0] = '\0';
	st->has_duration = 0;
	format_utc_now(st->finished_at);
	memcpy(st->updated_at, st->finished_at, sizeof(st->updated_at));
	copy_str(st->error, sizeof(st->error), "supervisor_lost");
	copy_str(st->ended_by, sizeof(st->ended_by), "supervisor_lost");
}

/* Whether the job's meta.json configures a job.finished sink: a lost job
 * that has one gets its event from whoever records the loss. */
static int job_wants_completion(const struct job *job)
{
	struct json_doc meta;
	struct error ignored;
	int wanted;

	if (store_read_meta(job, &meta, &ignored) < 0)
		return 0;
	wanted = meta_wants_completion(meta.root);
	json_doc_free(&meta);
	return wanted;
}

/* Whether the supervisor lives: ALIVE held, or, when nobody holds it on
 * the file there is (a tmp cleaner may have removed the one it holds),
 * its recorded pid vouched for. 1, 0, or -1 on error. */
static int supervisor_alive(const struct job *job, int lock_fd,
			    const struct job_state *st)
{
	int held = lock_fd >= 0 ? store_alive(lock_fd) : 0;

	if (held != 0)
		return held;
	return store_supervisor_vouched(job, st->supervisor_pid);
}

int job_lost(const struct job_state *st)
{
	return st->status == JOB_FAILED &&
	       strcmp(st->error, "supervisor_lost") == 0;
}

/* ---- what a job leaves behind ----------------------------------------- */

/* The live processes the job left: while its supervisor lives, every
 * descendant of it (it reaps their orphans) but its notify commands; once
 * it is gone, every process that carries the job's marks. *vouched says
 * which. -1 when /proc cannot be read. */
static int leftovers_find(const struct job *job, const struct job_state *st,
			  struct pid_list *left, int *vouched)
{
	struct job_marks marks;
	int rc;

	*vouched = store_supervisor_vouched(job, st->supervisor_pid);
	if (*vouched)
		return proc_descendants((pid_t)st->supervisor_pid,
					HELPER_ENV_MARK, left);
	if (store_job_marks(&marks, job) < 0)
		return -1;
	rc = proc_with_environ(marks.list, HELPER_ENV_MARK, left);
	store_job_marks_free(&marks);
	return rc;
}

void state_set_leftovers(struct job_state *st, const pid_t *pids,
			 size_t count)
{
	memset(&st->leftovers, 0, sizeof(st->leftovers));
	st->leftovers.count = count > UINT32_MAX ? UINT32_MAX
						 : (uint32_t)count;
	for (size_t i = 0; i < count && i < LEFTOVER_PIDS_SHOWN; i++)
		st->leftovers.pids[i] = (int32_t)pids[i];
}

/* A terminal record still says leftovers that nobody tracks any more (its
 * supervisor was killed, and they are gone): it says so no more. Under
 * RECOVER, against the supervisor's own update. */
static void leftovers_forget(struct job *job)
{
	int lock_fd = store_lock_open(job, 0);
	struct job_state on_disk;
	struct error ignored;

	if (lock_fd < 0 || store_claim_recovery(lock_fd) < 0) {
		if (lock_fd >= 0)
			close(lock_fd);
		return;
	}
	if (state_read(job, &on_disk, &ignored) == 0 &&
	    job_status_terminal(on_disk.status) && on_disk.leftovers.count) {
		state_set_leftovers(&on_disk, NULL, 0);
		stamp(&on_disk);
		write_state(job, &on_disk, DURABLE_NONE);
	}
	close(lock_fd);
}

/* The terminal record said the job left processes: which live now. */
static void leftovers_refresh(struct job *job, struct job_state *st)
{
	struct pid_list left;
	int vouched;

	if (leftovers_find(job, st, &left, &vouched) < 0)
		return;		/* the record's word, then */
	state_set_leftovers(st, left.pids, left.count);
	if (!left.count && !vouched)
		leftovers_forget(job);
	pid_list_free(&left);
}

int state_kill_leftovers(const struct job *job, const struct job_state *st,
			 int signo)
{
	struct job_marks marks;
	struct pid_list left;
	int signalled = 0, vouched = 0;

	if (leftovers_find(job, st, &left, &vouched) == 0) {
		for (size_t i = 0; i < left.count; i++)
			signalled += kill(left.pids[i], signo) == 0;
		pid_list_free(&left);
	}
	/* with no supervisor to know them: the session the job's main
	 * process led, even what no longer carries its marks */
	if (vouched || !st->has_pid)
		return signalled;
	if (store_job_marks(&marks, job) < 0)
		return -1;
	signalled += proc_session_signal((pid_t)st->pid, marks.list, signo);
	store_job_marks_free(&marks);
	return signalled;
}

int state_leftovers_settle(struct job *job, int64_t timeout_ms)
{
	int64_t deadline = time_after(clock_mono_ms(), (uint64_t)timeout_ms);
	struct job_state st;
	struct error ignored;

	for (;;) {
		if (state_read(job, &st, &ignored) < 0 || !st.leftovers.count ||
		    !store_supervisor_vouched(job, st.supervisor_pid))
			return 0;
		if (clock_mono_ms() >= deadline)
			return -1;
		sleep_ms(20);
	}
}

void state_leftovers_ended(struct job *job, struct job_state *st)
{
	int guarded = job->lock_fd >= 0 &&
		      store_claim_recovery(job->lock_fd) == 0;

	state_set_leftovers(st, NULL, 0);
	stamp(st);
	write_state(job, st, DURABLE_NONE);
	if (guarded)
		store_release_recovery(job->lock_fd);
}

/* Under RECOVER: read again (someone may have recovered or finished
 * meanwhile) and record the loss if it still stands. */
static int recover_lost_job(struct job *job, int lock_fd,
			    struct job_state *st, struct error *e)
{
	int had_state = state_read(job, st, e) == 0;

	if (!had_state && errno != ENOENT)
		return -1;
	if (had_state && !job_status_live(st->status))
		return 0;
	if (had_state ? supervisor_alive(job, lock_fd, st) == 1
		      : store_alive(lock_fd) == 1) {
		if (!had_state) {	/* a moment: ask again */
			error_set(e, "corrupt_record",
				  "job %s is still being launched", job->id);
			e->retryable = 1;
			return -1;
		}
		return 0;
	}
	/* the job dies with its supervisor: nothing of it runs on unseen */
	if (had_state)
		state_kill_leftovers(job, st, SIGKILL);
	mark_lost(job, st, had_state);
	st->completion_event = job_wants_completion(job);
	if (record_final(job, st, DURABLE_FULL, NULL) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/state.json",
				  job->dir);
	st->recovered = 1;
	return 0;
}

int state_observe(struct job *job, struct job_state *st,
		  struct error *e)
{
	int missing, lock_fd, alive, rc;

	if (state_read(job, st, e) == 0) {
		if (!job_status_live(st->status)) {
			if (st->leftovers.count)
				leftovers_refresh(job, st);
			return 0;
		}
		missing = 0;
	} else if (errno == ENOENT) {
		missing = 1;
	} else {
		return -1;
	}
	/* a reader never makes the lock file */
	lock_fd = store_lock_open(job, 0);
	if (lock_fd < 0 && (errno != ENOENT || missing))
		/* without state.json nor a lock file the job was not made by
		 * a launch of ours (hand-written or foreign): report it */
		return missing ? -1 : error_errno(e, NULL, errno,
						 "cannot open %s/lock", job->dir);
	alive = missing ? store_alive(lock_fd) : supervisor_alive(job, lock_fd, st);
	if (alive == 1 && missing)
		state_being_launched(job, st);
	if (alive != 0) {
		if (lock_fd >= 0)
			close(lock_fd);
		return alive < 0 ? error_errno(e, NULL, errno, "cannot test "
					      "%s/lock", job->dir) : 0;
	}
	/* lost: the loss is recorded once, under RECOVER */
	if (lock_fd < 0)
		lock_fd = store_lock_open(job, 1);
	if (lock_fd < 0 || store_claim_recovery(lock_fd) < 0) {
		rc = error_errno(e, NULL, errno, "cannot lock %s/lock",
				 job->dir);
		if (lock_fd >= 0)
			close(lock_fd);
		return rc;
	}
	rc = recover_lost_job(job, lock_fd, st, e);
	close(lock_fd);
	return rc;
}
