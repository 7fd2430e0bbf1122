/* exec_output.h - output capture in fixed memory: the job's pipes, masked
 * values replaced, to its three logs and line by line to output matches. */
#ifndef AE_EXEC_OUTPUT_H
#define AE_EXEC_OUTPUT_H

#include <stddef.h>
#include <time.h>

#include "lib/fmt.h"
#include "lib/redact.h"
#include "notify.h"
#include "store.h"

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
	char *partial;		/* LINE_MAX_BYTES */
	struct redactor *redactor;	/* NULL when nothing is masked */
};

/* Each complete line (or piece of an over-long one) of a stream. */
typedef void (*line_observer)(void *ctx, enum match_stream stream,
			      const char *line, size_t len);

struct capture {
	struct stream out, err;
	int full_fd;
	int log_error;		/* errno of a failed log write, 0 if none */
	time_t stamp_second;
	char stamp[TIMESTAMP_LEN + 1];
	size_t full_len;
	char *full_buf;		/* FULL_BUF_BYTES */
	line_observer observe;
	void *observer_ctx;
};

/* A capture with no descriptors yet, using the caller's buffers (the
 * supervisor keeps them at the end of its state, so that pages of them
 * become resident only once used). */
void capture_init(struct capture *c, char *full_buf, char *out_partial,
		  char *err_partial, line_observer observe, void *ctx);
/* The job's output descriptors (read ends, non-blocking; err_fd -1 on a
 * terminal), which the capture takes over. */
void capture_attach(struct capture *c, int out_fd, int err_fd);
/* Open the three logs for appending (full_log: a --log path, or NULL for
 * <job>/full.log, which then stays empty). -1 with why filled. */
int capture_open_logs(struct capture *c, const struct job *job,
		      const char *full_log, char *why, size_t why_size);
/* From now on, replace each of secrets (which must outlive the capture)
 * with "***" in what the job prints, before anything sees it: the logs,
 * the lines, the output-match rules. Nothing to do for an empty set. -1
 * with why filled. */
int capture_redact(struct capture *c, const struct redact_set *secrets,
		   char *why, size_t why_size);
/* Read what the job printed on s (a few chunks at most, then back to the
 * caller's poll); end of file closes s. */
void capture_read(struct capture *c, struct stream *s);
/* Whether a stream is still open. */
int capture_open(const struct capture *c);

#endif
