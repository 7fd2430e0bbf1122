/* store_state_text.h - a job's state as a value, and its text in
 * state.json: names, format, parsing (store_state_text.c). */
#ifndef AE_STORE_STATE_TEXT_H
#define AE_STORE_STATE_TEXT_H

#include <stdint.h>

#include "json.h"
#include "json_parse.h"
#include "store.h"
#include "store_queue.h"

enum job_status {
	JOB_CREATED, JOB_RUNNING, JOB_EXITED, JOB_KILLED, JOB_FAILED,
	JOB_UNKNOWN, JOB_QUEUED
};
#define JOB_STATUS_COUNT (JOB_QUEUED + 1)

const char *job_status_name(enum job_status status);
int job_status_parse(const char *name, enum job_status *out);
int job_status_terminal(enum job_status status);
/* Whether a supervisor answers for the job: running or queued. */
int job_status_live(enum job_status status);

/* The processes a job left behind when its main process ended, at most
 * LEFTOVER_PIDS_SHOWN of them by pid. */
#define LEFTOVER_PIDS_SHOWN 16
struct leftovers {
	uint32_t count;
	int32_t pids[LEFTOVER_PIDS_SHOWN];
};

/* Why a job's command (or its shell wrapper) could not be executed, as
 * state.json's "exec_error": a shell says 127 for the first, 126 for the
 * others. EXEC_OK: it was, or the job failed for another reason. */
enum exec_error {
	EXEC_OK, EXEC_NOT_FOUND, EXEC_PERMISSION_DENIED, EXEC_IS_A_DIRECTORY,
	EXEC_CANNOT_EXECUTE
};
/* "not_found", "permission_denied", "is_a_directory", "cannot_execute";
 * "" for EXEC_OK. */
const char *exec_error_name(enum exec_error error);

/* state.json, as a fixed-size value (no allocation). Empty strings and
 * has_* flags stand for absent or null fields. */
struct job_state {
	char id[JOB_ID_MAX + 1];
	enum job_status status;
	char started_at[TIMESTAMP_LEN + 1];
	char finished_at[TIMESTAMP_LEN + 1];
	char updated_at[TIMESTAMP_LEN + 1];
	int has_exit_code, has_duration, has_pid, has_usage;
	int exit_code;
	char signal[16];	/* number as text, "" = null */
	uint64_t duration_ms;
	int64_t pid;		/* the job's main process = its group id */
	int64_t supervisor_pid;	/* 0 = unknown */
	int timed_out;
	int completion_event;	/* job.finished was due when the job ended */
	int recovered;		/* not stored: this read recorded the loss */
	char error[ERROR_TEXT_MAX];	/* "" = no error */
	enum exec_error exec_error;	/* failed: the command's exec */
	uint64_t user_cpu_ms, sys_cpu_ms, max_rss_kib;
	struct leftovers leftovers;	/* live, once state_observe read it */
	uint32_t leftovers_killed;	/* by --kill-leftovers */
	uint32_t attempt;	/* 1 for the first run; each restart adds 1 */
	char queue[QUEUE_NAME_MAX + 1];	/* "" = none */
	char waiting_for[16];	/* queued: "dependencies" or "slot" */
	char dependency[JOB_ID_MAX + 1];	/* the one that failed it */
	/* who ended it: self, timeout, kill (agent-exec), signal (another
	 * process), dependency, supervisor_lost; "" until it ended */
	char ended_by[16];
};

/* "leftovers":{"count":N,"pids":[...]} when the job left processes that
 * still live, and "leftovers_killed":N when --kill-leftovers ended some. */
void state_write_leftovers(struct json_writer *w, const struct job_state *st);
/* key: text, a string of the state, when it is not empty (an empty one
 * is absent from the record and the answers). */
void state_write_text(struct json_writer *w, const char *key,
		      const char *text);
/* key:number (a signal, as text) and key_name: its name ("signal",
 * "signal_name"); nothing for "" (no signal). */
void state_write_signal(struct json_writer *w, const char *key,
			const char *number);
/* The "usage" member, when the job's resource usage is known. */
void state_write_usage(struct json_writer *w, const struct job_state *st);
/* The state.json text of st (the one format; state_parse reads it). */
void state_format(struct json_writer *w, const struct job_state *st);
/* Parse a state record already read (for listings). 0, or -1. */
int state_parse(const struct json_value *root, struct job_state *st);
#endif
