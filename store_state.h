/* store_state.h - the job's state: state.json, as a fixed-size value, and
 * the true state of a job whose supervisor may be gone (store_state.c). */
#ifndef AE_STORE_STATE_H
#define AE_STORE_STATE_H

#include <stdint.h>

#include "store.h"

enum job_status {
	JOB_CREATED, JOB_RUNNING, JOB_EXITED, JOB_KILLED, JOB_FAILED,
	JOB_UNKNOWN
};

const char *job_status_name(enum job_status status);
int job_status_parse(const char *name, enum job_status *out);
int job_status_terminal(enum job_status status);

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
	uint64_t user_cpu_ms, sys_cpu_ms, max_rss_kib;
};

/* Write state.json atomically (store_write_record's durability); on a
 * full disk, into the reserve. */
int store_write_state(int dir_fd, const struct job_state *state,
		      int durable);
/* Read state.json as it is on disk (errno ENOENT when missing). */
int store_read_state(const struct job *job, struct job_state *state,
		     struct error *e);
/* The job's true state: state.json, except that a job whose supervisor is
 * gone is recorded (once, under LOCK_RECOVER) as failed/supervisor_lost. */
int store_job_state(const struct job *job, struct job_state *state,
		    struct error *e);
/* Parse a state record already read (for listings). 0, or -1. */
int state_parse(const struct json_value *root, struct job_state *state);

#endif
