/* cmd.h - the commands, one function each (cmd_run.c, cmd_job.c,
 * cmd_many.c, cmd_admin.c): parse, call the wings, render one answer. */
#ifndef AE_CMD_H
#define AE_CMD_H

#include <stdint.h>

#include "cli.h"
#include "config.h"
#include "events.h"
#include "exec.h"
#include "exec_signal.h"
#include "exec_input.h"
#include "json.h"
#include "notify_redeliver.h"
#include "notify_sink.h"
#include "skills.h"
#include "store_logs.h"
#include "store_attempt.h"
#include "store_scan.h"
#include "store_spec.h"
#include "store_state.h"

#define ANSWER_MAX (1u << 30)	/* the largest answer we build */

struct cli {
	struct args args;
	struct store_root root;
	struct json_writer out;
	struct error error;
	int64_t started_ms;
	struct launch_context launch;
	struct queue queue;	/* the job's (launch.queue points here) */
	char error_job[JOB_ID_MAX + 1];	/* the job an error leaves behind */
	int exit_status;	/* of the process when it answers (--exit-status) */
	struct strv owned;	/* heap strings freed at exit */
	struct config_gc gc;	/* [gc] of config.toml (run, create, start,
				 * restart) */
	int gc_after;		/* a job launched and [gc] auto: collect
				 * once the answer is out */
	int tool_call;		/* a tool call of the MCP server, which ends
				 * it with SIGTERM: held off until a run's
				 * job is launched */
};

/* A diagnostic line on stderr when --verbose is at least level. */
void diag(const struct cli *cli, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The number given with option id, else fallback. */
uint64_t number_or(const struct cli *cli, enum opt_id id, uint64_t fallback);
/* {"schema_version":"0.1","ok":true,"type":type, ... (left open). */
void envelope_begin(struct json_writer *w, const char *type);
/* envelope_begin, then "job_id":id: the answer about one job. */
void envelope_job(struct json_writer *w, const char *type, const char *id);
/* "state": the status's name. */
void write_state(struct json_writer *w, enum job_status status);
/* "key": json, a value that is JSON text already. */
void write_json(struct json_writer *w, const char *key, const char *json);
/* Whether the job is queued now. */
int job_queued(struct cli *cli, struct job *job);
/* A queued job's queue and place: "queue" (any job that has one), and
 * while queued "waiting_for" and, in line for a slot and with job given,
 * "queue_position". */
void write_queue_place(struct json_writer *w, const struct job *job,
		       const struct job_state *st);
/* "key":{"code":...,"message":...,"retryable":... (left open): the error
 * e as the answers give it. */
void write_error_begin(struct json_writer *w, const char *key,
		       const struct error *e);
/* The error envelope of cli->error. */
int print_error(struct cli *cli);
/* Write the answer and its newline, whole (a write that fails for a
 * reason that may pass is tried again): 0, or -1/errno when the caller
 * cannot have it. */
int answer_finish(struct cli *cli);

void write_tail_figures(struct json_writer *w, const struct tail_info info[2]);
void write_offsets(struct json_writer *w, const uint64_t next[2]);
void write_snapshot(struct json_writer *w, const char *key,
		    const struct job *job, uint64_t tail_lines,
		    uint64_t max_bytes);
/* timed_out (the job's --timeout fired), then write_end_extras. */
void write_state_extras(struct json_writer *w, const struct job_state *st);
/* signal and signal_name, error, exec_error, leftovers. */
void write_end_extras(struct json_writer *w, const struct job_state *st);
/* exit_code, created_at, started_at, finished_at and updated_at, as
 * status and list give them (st NULL: the state is unreadable). */
void write_times(struct json_writer *w, const char *created_at,
		 const struct job_state *st);
/* A terminal job's exit_code, finished_at and duration_ms. */
void write_job_end(struct json_writer *w, const struct job_state *st);
void write_tags(struct json_writer *w, const struct strv *tags);
/* "elapsed_ms" of a running job, to the second (started_at's grain). */
void write_elapsed(struct json_writer *w, const struct job_state *st);
/* "short_job_id" (what a person types), after the 0.1 keys. */
void write_short_id(struct json_writer *w, const char *id);

/* --exit-status: the job's end as a shell tells it: its exit code, 128+N
 * for signal N, 127 or 126 when its command could not be executed, 125
 * for any other failure, 124 when it is not over (a wait's deadline). */
int job_exit_status(const struct job_state *st);
/* The job named by the first positional argument. */
int open_job(struct cli *cli, struct job *job);
/* The job's true state; a finished job whose completion event nobody is
 * delivering (its supervisor died) gets delivered on the way. An earlier
 * attempt (store_attempt_open): its record. */
int read_job_state(struct cli *cli, struct job *job,
		   struct job_state *st);
/* Until the job is terminal or the deadline (monotonic ms, 0: none)
 * passes: block on its lock while it runs, poll while it is only created.
 * 1 terminal, 0 deadline passed, -1 error. */
int await_terminal(struct cli *cli, struct job *job, struct job_state *st,
		   int64_t deadline);
#define DEADLINE_PASSED 1	/* a monotonic time long gone: look once */
/* wait's deadline: --timeout-ms MS (0: none), or --until D (0: look once
 * and answer). */
int64_t wait_deadline(const struct cli *cli);
/* A path the supervisor (whose cwd is "/") finds: absolute, kept until
 * exit. "" stays "" (no sink). */
const char *owned_path(struct cli *cli, const char *given);
/* A file whose bytes go to a job, open for reading; -1 with an
 * invalid_input error naming the option and the file. */
int open_input_file(struct cli *cli, const char *option, const char *file);
/* The signal --signal names (TERM when not given; *name: as given), or
 * -1 with an invalid_signal error. */
int signal_option(struct cli *cli, const char **name);
/* Send signo to the job (exec_signal_job), saying so with --verbose. */
int signal_job(struct cli *cli, const struct job *job,
	       const struct job_state *st, int signo);

/* The commands: 0 with the answer written (left open), or -1 with
 * cli->error set. */
int cmd_run(struct cli *cli);
int cmd_create(struct cli *cli);
int cmd_start(struct cli *cli);
int cmd_restart(struct cli *cli);
int cmd_status(struct cli *cli);
int cmd_tail(struct cli *cli);
int cmd_wait(struct cli *cli);
int cmd_kill(struct cli *cli);
int cmd_log(struct cli *cli);
int cmd_write(struct cli *cli);
int cmd_tag_set(struct cli *cli);
int cmd_notify_set(struct cli *cli);
int cmd_notify_redeliver(struct cli *cli);
int cmd_list(struct cli *cli);
/* After a launch's answer, with [gc] auto = true: gc as [gc] says, in a
 * detached process (store_gc_auto). */
void cmd_gc_auto(struct cli *cli);
int cmd_gc(struct cli *cli);
int cmd_delete(struct cli *cli);
int cmd_events(struct cli *cli);
int cmd_schema(struct cli *cli);
int cmd_install_skills(struct cli *cli);
int cmd_summary(struct cli *cli);
/* wait on several jobs, or on those a selector names (cmd_many.c); a
 * single id keeps wait's own answer (cmd_job.c). */
int cmd_wait_many(struct cli *cli);

#endif
