/* store_state.h - the job's state: state.json and every transition of it,
 * each with its event-log line; no other file writes state.json. */
#ifndef AE_STORE_STATE_H
#define AE_STORE_STATE_H

#include <stdint.h>
#include <sys/resource.h>

#include "store.h"
#include "store_spec.h"
#include "store_state_text.h"

/* state.json as it is on disk (errno ENOENT when missing). */
int state_read(const struct job *job, struct job_state *st,
	       struct error *e);
/* Whether the job ended because its supervisor was lost. */
int job_lost(const struct job_state *st);
/* Signal every process a finished job left: the descendants of its
 * supervisor while it lives (notify commands aside), else those that carry
 * the job's marks and the session its main process led, vouched for by
 * the marks of one of them. The number signalled, or -1. */
int state_kill_leftovers(const struct job *job, const struct job_state *st,
			 int signo);
/* st->leftovers from a list of pids (the first LEFTOVER_PIDS_SHOWN). */
void state_set_leftovers(struct job_state *st, const pid_t *pids,
			 size_t count);
/* The supervisor's word that the processes its job left are all gone:
 * state.json without "leftovers". */
void state_leftovers_ended(struct job *job, struct job_state *st);
/* Until state.json no longer says the job left processes (or nobody is
 * left to say it), at most timeout_ms: 0, or -1 when the time ran out. */
int state_leftovers_settle(struct job *job, int64_t timeout_ms);
/* The job's true state: state.json, except that a job whose supervisor is
 * gone is recorded (once, under RECOVER) as failed/supervisor_lost, with
 * its job.finished line; st->recovered tells that this call recorded it.
 * A finished job's leftovers are those that live now. */
int state_observe(struct job *job, struct job_state *st,
		  struct error *e);

/* ---- transitions: each writes state.json, and its line of the event log
 * (job.created, job.started, job.finished) ---- */

/* create: the job exists and waits for start (updated at created_at, the
 * time meta.json gives); durable, then job.created. */
int state_created(struct job *job, const struct job_spec *spec,
		  const char *created_at, struct error *e);
/* start: running without a pid until the supervisor records it, so that
 * a supervisor that dies first leaves a job readers record as lost; the
 * attempt it is (1, or restart's next). */
int state_launching(struct job *job, uint32_t attempt, struct error *e);
/* The supervisor's record of its job: id, its own pid, started now, the
 * attempt state_launching recorded (1 when none: run). */
void state_begin(struct job_state *st, const struct job *job,
		 int64_t supervisor_pid);
/* queued: waiting for what ("dependencies", "slot"); not fsynced. */
void state_queued(struct job *job, struct job_state *st,
		  const char *waiting_for);
/* running with the job's pid: written before the launch is answered, not
 * fsynced (the answer waits on it). */
void state_running(struct job *job, struct job_state *st, int64_t pid);
/* The launch's lines, logged once the caller has its answer (run: both;
 * start: job.started). */
void state_log_created(const struct job *job, const struct job_spec *spec);
void state_log_started(const struct job *job, const struct job_state *st);
/* --progress-every: updated_at now. */
void state_progress(struct job *job, struct job_state *st);

/* What a terminal transition asks of the job's notifications: whether
 * job.finished has sinks (state.json's completion_event), and complete,
 * called after the state record is on disk and before the waiters are let
 * go: it persists completion_event.json, queues the delivery and returns
 * the job.finished line for the event log (heap; NULL: the short line). */
/* The ends job.finished's sinks want (--notify-on): both, the job's
 * success (it exited 0) or its failure (any other end). */
enum { COMPLETION_ON_SUCCESS = 1, COMPLETION_ON_FAILURE = 2 };
struct state_completion {
	int wanted;	/* COMPLETION_ON_* for the ends a sink wants */
	char *(*complete)(void *ctx, const struct job_state *st, size_t *len);
	void *ctx;
};
/* How the job's main process ended, as its supervisor saw it. */
struct job_end {
	int wait_status;
	struct rusage usage;
	uint64_t duration_ms;
	int log_error;		/* errno of a failed log write, 0 if none */
};
/* The job ended: exited or killed, decided here from the wait status;
 * recorded durably, then completion, then ALIVE released (by job->lock_fd,
 * which the caller holds). st keeps timed_out and the ids already set. */
void state_ended(struct job *job, struct job_state *st,
		 const struct job_end *end,
		 const struct state_completion *completion);
/* The job could not be launched: failed, with st->error saying why (set
 * by the caller); the same order, then ALIVE released. 0, or -1/errno
 * when the record could not be written. */
int state_failed(struct job *job, struct job_state *st,
		 const struct state_completion *completion);

#endif
