/* exec_supervisor.h - the supervisor's state, shared by the files of the
 * exec wing: exec.c (launch, the loop, the records), exec_child.c (the job
 * child), exec_output.c (capture), exec_input.c (the write channel). Not
 * for other wings: their face is exec.h. */
#ifndef AE_EXEC_SUPERVISOR_H
#define AE_EXEC_SUPERVISOR_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "exec.h"
#include "notify_sink.h"
#include "notify.h"
#include "store_state.h"

#define LINE_MAX_BYTES 16384	/* longer lines are split in full.log */

/* full.log lines gather here between writes; a line takes at most 3 bytes
 * a byte (invalid UTF-8 becomes U+FFFD) */
#define FULL_BUF_BYTES (256 * 1024)

struct stream {
	const char *tag;	/* "[STDOUT]" */
	enum match_stream id;	/* for output-match rules */
	int pipe_fd;		/* -1 after end of file */
	int log_fd;
	int widened;		/* its pipe was made PIPE_BIG */
	size_t partial_len;	/* bytes of the current, unfinished line */
	char *partial;		/* LINE_MAX_BYTES, at the supervisor's end */
};

struct supervisor {
	const struct job *job;
	const struct job_spec *spec;	/* = &own_spec */
	struct job_spec own_spec;	/* owns its strings (not argv's) */
	const struct launch_context *context;
	struct job_state state;
	int ready_fd;		/* to the launching CLI; -1 once told */
	int signal_fd;
	int full_fd;
	int log_error;		/* errno of a failed log write, 0 if none */
	struct stream out, err;
	pid_t child;
	int child_reaped, child_status;
	struct rusage usage;
	int64_t started_ms, exited_ms;
	int64_t timeout_at, kill_at;	/* monotonic ms, 0 = not armed */
	int64_t progress_at;
	int terminal;		/* terminal record written, lock released */
	int created_logged;	/* the launch's job.created is in the log */
	struct notifier *notifier;
	/* input: the job's stdin (or PTY master) and the write channel */
	int input_fd;		/* write end, -1 when none or closed */
	int input_is_pty;
	int input_line_open;	/* the last byte written was not a newline */
	int listen_fd;		/* <job>/input.sock, -1 when none */
	int client_fd;		/* the write command being served, -1 */
	int client_mode;	/* 'w' or 'e' (then EOF), 0 until known */
	int client_eof;		/* it sent all its bytes */
	int64_t client_deadline;	/* after the job's end: answer by */
	uint64_t client_bytes;
	char client_error[160];
	size_t input_len, input_off;
	struct json_doc meta;	/* meta.json as last read */
	struct stat meta_seen;	/* its identity then: inode and mtime */
	struct notify_settings settings;
	time_t stamp_second;
	char stamp[TIMESTAMP_LEN + 1];
	size_t full_len;
	/* the buffers last: a page of them becomes resident only once used,
	 * and the fields above share as few pages as they can */
	char input_buf[16384];
	char full_buf[FULL_BUF_BYTES];
	char out_partial[LINE_MAX_BYTES], err_partial[LINE_MAX_BYTES];
};

/* exec.c */
void meta_refresh(struct supervisor *sv);

/* exec_child.c: fork the job; 0 once it runs, -1 with state.error set. */
int spawn_child(struct supervisor *sv);

/* exec_output.c */
void stream_read(struct supervisor *sv, struct stream *s);
int open_logs(struct supervisor *sv);

/* exec_input.c */
int input_listen(struct supervisor *sv);
void input_accept(struct supervisor *sv);
void client_read(struct supervisor *sv);
void input_write(struct supervisor *sv);
void client_progress(struct supervisor *sv);
void input_shutdown(struct supervisor *sv);

#endif
