/* mcp_call.h - the MCP server's tool calls, each in a child of its own (a
 * wait never stops the server): answers, progress and cancellation. */
#ifndef AE_MCP_CALL_H
#define AE_MCP_CALL_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "mcp_tools.h"

/* How a tool call's command line runs: main.c's own command runner, given
 * an argv ("agent-exec", "--root", ..., the command and its options); it
 * answers on fd 1 and returns the exit status. */
typedef int (*mcp_runner)(int argc, char **argv);

#define MCP_CALLS_MAX 64		/* calls running at once */
#define MCP_QUEUE_MAX 1024		/* more wait their turn */
#define MCP_QUEUE_BYTES (64 << 20)	/* the most their arguments hold */

struct mcp_call {
	pid_t pid;			/* 0: a free slot */
	int fd;				/* the answer's pipe; -1 once at its end */
	int exited;			/* the child was reaped */
	int status;			/* its wait status */
	int cancelled;			/* no answer is sent */
	int launches;			/* a run: a cancel leaves it be */
	char *id;			/* the request's id, as JSON */
	char *progress_token;		/* as JSON, or NULL */
	char *answer;			/* what the child printed */
	size_t len, cap;
	int64_t started_ms, progress_ms;	/* the next progress */
	uint64_t until;			/* seconds: the progress' total */
	int64_t clamped_until;
};

/* A call waiting for a free slot. */
struct mcp_queued {
	struct mcp_command cmd;
	char *id;			/* NULL: cancelled meanwhile */
	char *progress_token;
	size_t bytes;			/* of its command line */
};

struct mcp_calls {
	struct mcp_call slot[MCP_CALLS_MAX];
	struct mcp_queued queue[MCP_QUEUE_MAX];	/* a ring */
	size_t queue_head, queued, queued_bytes;
	mcp_runner run;
};

/* Fork a child that runs argv (argc words) with run: stdin /dev/null (or
 * a pipe holding stdin_text), stdout a pipe whose read end (nonblocking)
 * is *out_fd, nothing else of the server's open. Its pid, or -1/errno. */
pid_t mcp_spawn(mcp_runner run, char *const *argv, size_t argc,
		const char *stdin_text, int *out_fd);

/* Write one message and its newline on stdout, whole: 0, or -1/errno. */
int mcp_write_line(const char *text, size_t len);
/* Begin a JSON-RPC message in w (in memory, at most cap bytes):
 * {"jsonrpc":"2.0", then "method":method for a notification, or "id":id
 * (JSON text; NULL: null) for an answer, then member ("params", "result"
 * or "error") opened as an object, for the caller to fill. */
void mcp_message_begin(struct json_writer *w, size_t cap,
		       const char *method, const char *id, const char *member);
/* Close the member and the message, write it (unless it failed), and
 * free w. */
void mcp_send(struct json_writer *w);

/* The answer to request id (JSON) that is an agent-exec envelope: its
 * text as content, itself as structuredContent, isError when not ok. */
void mcp_answer_envelope(const char *id, const char *envelope, size_t len,
			 int ok);
/* {"schema_version":"0.1","ok":false,"type":"error","error":{...}} */
void mcp_error_envelope(struct json_writer *w, const char *code,
			const char *message);
/* A JSON-RPC error answer to request id (JSON; NULL: null). */
void mcp_answer_error(const char *id, int code, const char *message);
/* Start cmd in a child for the request id (JSON), or queue it (its
 * command then moved out of cmd) while every slot is taken: 0; -1 with
 * message[size] when it cannot be (the queue full too, no fork). */
int mcp_call_start(struct mcp_calls *calls, struct mcp_command *cmd,
		   const char *id, const char *progress_token, char *message,
		   size_t size);
/* The pipes to poll, into fds (at most max): their count. */
size_t mcp_calls_poll_fds(const struct mcp_calls *calls, struct pollfd *fds,
			  size_t max);
/* Read what the polled pipes hold. */
void mcp_calls_read(struct mcp_calls *calls, const struct pollfd *fds,
		    size_t count);
/* Whether pid was one of the calls (its status noted). */
int mcp_calls_reaped(struct mcp_calls *calls, pid_t pid, int status);
/* How many calls are pending. */
size_t mcp_calls_pending(const struct mcp_calls *calls);
/* Answer the calls that are done, and free their slots. */
void mcp_calls_answer(struct mcp_calls *calls);
/* Send the progress notifications that are due at now (monotonic ms):
 * the time of the next one, or -1 when none is waited for. */
int64_t mcp_calls_progress(struct mcp_calls *calls, int64_t now);
/* notifications/cancelled for the request id (JSON): no answer will be
 * sent; a waiting child is ended, a run's goes on (its job is launched). */
void mcp_calls_cancel(struct mcp_calls *calls, const char *id);
/* At the server's end: end the waiting children, let the runs be. */
void mcp_calls_end(struct mcp_calls *calls);

#endif
