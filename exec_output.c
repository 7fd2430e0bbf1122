/* exec_output.c - output capture: the job's pipes (or terminal) copied to
 * stdout.log, stderr.log and full.log, line by line for full.log and the
 * output-match rules, in fixed memory. Masked values are replaced first,
 * each stream by a redactor of its own (lib/redact.c), so no reader of
 * the logs or of the lines ever sees one. */
#include "exec_output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/utf8.h"

#define READ_CHUNK (128 * 1024)

#define PIPE_BIG (1024 * 1024)	/* a job's pipe once it prints a lot */

static void log_write(struct capture *c, int fd, const char *data,
		      size_t len)
{
	/* a full disk must not stop the job: note it and drop output */
	if (!c->log_error && write_all(fd, data, len) < 0)
		c->log_error = errno;
}

static void full_flush(struct capture *c)
{
	log_write(c, c->full_fd, c->full_buf, c->full_len);
	c->full_len = 0;
}

static void stamp_refresh(struct capture *c)
{
	time_t now = (time_t)(clock_real_ms() / 1000);

	if (now != c->stamp_second) {
		c->stamp_second = now;
		format_utc(now, c->stamp);
	}
}

/* Append one full.log line for text (lossily decoded). Unless final, an
 * incomplete UTF-8 sequence at the end is left for the next piece; returns
 * the bytes of text used. */
static size_t full_add_line(struct capture *c, const char *tag,
			    const char *text, size_t len, int final)
{
	size_t used, needed = TIMESTAMP_LEN + 12 + 3 * len;
	char *out;

	if (c->full_len + needed > FULL_BUF_BYTES)
		full_flush(c);
	out = c->full_buf + c->full_len;
	memcpy(out, c->stamp, TIMESTAMP_LEN);
	out[TIMESTAMP_LEN] = ' ';
	out += TIMESTAMP_LEN + 1;
	memcpy(out, tag, 8);
	out[8] = ' ';
	out += 9;
	out += utf8_lossy(text, len, out, final, &used);
	*out++ = '\n';
	c->full_len = (size_t)(out - c->full_buf);
	return final ? len : used;
}

static void line_emit(struct capture *c, struct stream *s, int final)
{
	size_t used = full_add_line(c, s->tag, s->partial, s->partial_len,
				    final);

	c->observe(c->observer_ctx, s->id, s->partial, used);
	memmove(s->partial, s->partial + used, s->partial_len - used);
	s->partial_len -= used;
}

/* Add bytes to the stream's unfinished line; a line that outgrows the
 * buffer is written out in pieces, so memory stays bounded. */
static void line_add(struct capture *c, struct stream *s,
		     const char *data, size_t len)
{
	while (len > 0) {
		size_t room = LINE_MAX_BYTES - s->partial_len;
		size_t take = len < room ? len : room;

		memcpy(s->partial + s->partial_len, data, take);
		s->partial_len += take;
		data += take;
		len -= take;
		if (s->partial_len == LINE_MAX_BYTES)
			line_emit(c, s, 0);
	}
}

static void stream_lines(struct capture *c, struct stream *s,
			 const char *data, size_t len)
{
	while (len > 0) {
		const char *newline = memchr(data, '\n', len);
		size_t segment = newline ? (size_t)(newline - data) : len;

		if (!newline) {
			/* whole pieces of a long line go out from here, not
			 * through the partial buffer */
			while (s->partial_len == 0 && segment >= LINE_MAX_BYTES) {
				size_t used = full_add_line(c, s->tag, data,
							    LINE_MAX_BYTES, 0);

				if (!used)
					break;
				c->observe(c->observer_ctx, s->id, data, used);
				data += used;
				segment -= used;
			}
			line_add(c, s, data, segment);
			return;
		}
		if (s->partial_len == 0 && segment <= LINE_MAX_BYTES) {
			full_add_line(c, s->tag, data, segment, 1);
			c->observe(c->observer_ctx, s->id, data, segment);
		} else {
			line_add(c, s, data, segment);
			line_emit(c, s, 1);
		}
		data += segment + 1;
		len -= segment + 1;
	}
}

/* Bytes the job printed, once redacted: to the stream's log and lines. */
static void stream_take(struct capture *c, struct stream *s,
			const char *data, size_t len)
{
	log_write(c, s->log_fd, data, len);
	stream_lines(c, s, data, len);
}

struct redacted_to {
	struct capture *capture;
	struct stream *stream;
};

static void redacted_take(void *ctx, const char *data, size_t len)
{
	struct redacted_to *to = ctx;

	stream_take(to->capture, to->stream, data, len);
}

/* What the job printed, its masked values replaced; the end of data that
 * may begin one waits for the next read (or end of file). */
static void stream_output(struct capture *c, struct stream *s,
			  const char *data, size_t len)
{
	struct redacted_to to = { c, s };

	if (s->redactor)
		redact_feed(s->redactor, data, len, redacted_take, &to);
	else
		stream_take(c, s, data, len);
}

static void stream_close(struct capture *c, struct stream *s)
{
	struct redacted_to to = { c, s };

	if (s->redactor)
		redact_flush(s->redactor, redacted_take, &to);
	if (s->partial_len > 0)
		line_emit(c, s, 1);	/* the unterminated last line */
	close(s->pipe_fd);
	s->pipe_fd = -1;
}

/* Read what the job printed: up to 8 chunks while they come full, then
 * back to poll. A stream that fills its pipe gets a 1 MiB one, so a job
 * that prints a lot is woken (and wakes us) less often. */
void capture_read(struct capture *c, struct stream *s)
{
	char buf[READ_CHUNK];
	ssize_t got;

	stamp_refresh(c);
	for (int round = 0; round < 8; round++) {
		got = read(s->pipe_fd, buf, sizeof(buf));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			break;
		if (got <= 0) {
			stream_close(c, s);
			break;
		}
		stream_output(c, s, buf, (size_t)got);
		/* a full default pipe (64 KiB) says the job outruns us */
		if (got >= 65536 && !s->widened) {
			s->widened = 1;
			fcntl(s->pipe_fd, F_SETPIPE_SZ, PIPE_BIG);
		}
		if ((size_t)got < sizeof(buf))
			break;
	}
	full_flush(c);
}

int capture_open(const struct capture *c)
{
	return c->out.pipe_fd >= 0 || c->err.pipe_fd >= 0;
}

void capture_init(struct capture *c, char *full_buf, char *out_partial,
		  char *err_partial, line_observer observe, void *ctx)
{
	/* field by field: assigning whole streams would write (and so make
	 * resident) their line buffers */
	c->out.tag = "[STDOUT]";
	c->out.id = MATCH_STDOUT;
	c->out.pipe_fd = c->out.log_fd = -1;
	c->out.partial = out_partial;
	c->err.tag = "[STDERR]";
	c->err.id = MATCH_STDERR;
	c->err.pipe_fd = c->err.log_fd = -1;
	c->err.partial = err_partial;
	c->out.redactor = c->err.redactor = NULL;
	c->full_fd = -1;
	c->full_buf = full_buf;
	c->observe = observe;
	c->observer_ctx = ctx;
}

int capture_redact(struct capture *c, const struct redact_set *secrets,
		   char *why, size_t why_size)
{
	if (secrets->count == 0)
		return 0;
	c->out.redactor = redactor_new(secrets);
	c->err.redactor = redactor_new(secrets);
	if (c->out.redactor && c->err.redactor)
		return 0;
	redactor_free(c->out.redactor);
	redactor_free(c->err.redactor);
	c->out.redactor = c->err.redactor = NULL;
	why_errno(why, why_size, ENOMEM,
		  "cannot prepare the masking of the job's output");
	return -1;
}

void capture_attach(struct capture *c, int out_fd, int err_fd)
{
	c->out.pipe_fd = out_fd;
	c->err.pipe_fd = err_fd;
}

/* full.log, or the --log path (its directory made when missing). */
static int open_full_log(const struct job *job, const char *path)
{
	int flags = O_WRONLY | O_CREAT | O_APPEND;
	char *slash = path ? strrchr(path, '/') : NULL;

	if (!path)
		return openat(job->dir_fd, "full.log",
			      flags | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (slash && slash != path) {
		char *parent = strndup(path, (size_t)(slash - path));

		if (!parent)
			return -1;
		mkdir_parents(parent, 0700);
		free(parent);
	}
	return open_regular(AT_FDCWD, path, flags, 0600);
}

int capture_open_logs(struct capture *c, const struct job *job,
		      const char *full_log, char *why, size_t why_size)
{
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
	const char *failed = NULL;

	c->out.log_fd = openat(job->dir_fd, "stdout.log", flags, 0600);
	if (c->out.log_fd < 0)
		failed = "stdout.log";
	c->err.log_fd = openat(job->dir_fd, "stderr.log", flags, 0600);
	if (!failed && c->err.log_fd < 0)
		failed = "stderr.log";
	c->full_fd = failed ? -1 : open_full_log(job, full_log);
	if (full_log) {	/* the job's own stays, empty */
		int fd = openat(job->dir_fd, "full.log", flags, 0600);

		if (fd >= 0)
			close(fd);
	}
	if (!failed && c->full_fd < 0)
		failed = full_log ? full_log : "full.log";
	if (failed)
		snprintf(why, why_size, "cannot open the log %s: %s", failed,
			 file_strerror(errno));
	return failed ? -1 : 0;
}
