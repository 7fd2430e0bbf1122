/* exec_output.c - output capture: the job's pipes (or terminal) copied to
 * stdout.log, stderr.log and full.log, line by line for full.log and the
 * output-match rules, in fixed memory. */
#include "exec_supervisor.h"

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

static void line_check(struct supervisor *sv, const struct stream *s,
		       const char *line, size_t len)
{
	if (sv->settings.match &&
	    notify_line_matches(&sv->settings, s->id, line, len))
		notifier_output_matched(sv->notifier, &sv->settings,
					sv->meta.root, s->id, line, len);
}

static void log_write(struct supervisor *sv, int fd, const char *data,
		      size_t len)
{
	/* a full disk must not stop the job: note it and drop output */
	if (!sv->log_error && write_all(fd, data, len) < 0)
		sv->log_error = errno;
}

static void full_flush(struct supervisor *sv)
{
	log_write(sv, sv->full_fd, sv->full_buf, sv->full_len);
	sv->full_len = 0;
}

static void stamp_refresh(struct supervisor *sv)
{
	time_t now = (time_t)(clock_real_ms() / 1000);

	if (now != sv->stamp_second) {
		sv->stamp_second = now;
		format_utc(now, sv->stamp);
	}
}

/* Append one full.log line for text (lossily decoded). Unless final, an
 * incomplete UTF-8 sequence at the end is left for the next piece; returns
 * the bytes of text used. */
static size_t full_add_line(struct supervisor *sv, const char *tag,
			    const char *text, size_t len, int final)
{
	size_t used, needed = TIMESTAMP_LEN + 12 + 3 * len;
	char *out;

	if (sv->full_len + needed > sizeof(sv->full_buf))
		full_flush(sv);
	out = sv->full_buf + sv->full_len;
	memcpy(out, sv->stamp, TIMESTAMP_LEN);
	out[TIMESTAMP_LEN] = ' ';
	out += TIMESTAMP_LEN + 1;
	memcpy(out, tag, 8);
	out[8] = ' ';
	out += 9;
	out += utf8_lossy(text, len, out, final, &used);
	*out++ = '\n';
	sv->full_len = (size_t)(out - sv->full_buf);
	return final ? len : used;
}

static void line_emit(struct supervisor *sv, struct stream *s, int final)
{
	size_t used = full_add_line(sv, s->tag, s->partial, s->partial_len,
				    final);

	line_check(sv, s, s->partial, used);
	memmove(s->partial, s->partial + used, s->partial_len - used);
	s->partial_len -= used;
}

/* Add bytes to the stream's unfinished line; a line that outgrows the
 * buffer is written out in pieces, so memory stays bounded. */
static void line_add(struct supervisor *sv, struct stream *s,
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
			line_emit(sv, s, 0);
	}
}

static void stream_lines(struct supervisor *sv, struct stream *s,
			 const char *data, size_t len)
{
	while (len > 0) {
		const char *newline = memchr(data, '\n', len);
		size_t segment = newline ? (size_t)(newline - data) : len;

		if (!newline) {
			/* whole pieces of a long line go out from here, not
			 * through the partial buffer */
			while (s->partial_len == 0 && segment >= LINE_MAX_BYTES) {
				size_t used = full_add_line(sv, s->tag, data,
							    LINE_MAX_BYTES, 0);

				if (!used)
					break;
				line_check(sv, s, data, used);
				data += used;
				segment -= used;
			}
			line_add(sv, s, data, segment);
			return;
		}
		if (s->partial_len == 0 && segment <= LINE_MAX_BYTES) {
			full_add_line(sv, s->tag, data, segment, 1);
			line_check(sv, s, data, segment);
		} else {
			line_add(sv, s, data, segment);
			line_emit(sv, s, 1);
		}
		data += segment + 1;
		len -= segment + 1;
	}
}

static void stream_close(struct supervisor *sv, struct stream *s)
{
	if (s->partial_len > 0)
		line_emit(sv, s, 1);	/* the unterminated last line */
	if (s->pipe_fd == sv->input_fd)
		sv->input_fd = -1;	/* a PTY's master is both */
	close(s->pipe_fd);
	s->pipe_fd = -1;
}

/* Read what the job printed: up to 8 chunks while they come full, then
 * back to poll. A stream that fills its pipe gets a 1 MiB one, so a job
 * that prints a lot is woken (and wakes us) less often. */
void stream_read(struct supervisor *sv, struct stream *s)
{
	char buf[READ_CHUNK];
	ssize_t got;

	stamp_refresh(sv);
	meta_refresh(sv);
	for (int round = 0; round < 8; round++) {
		got = read(s->pipe_fd, buf, sizeof(buf));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			break;
		if (got <= 0) {
			stream_close(sv, s);
			break;
		}
		log_write(sv, s->log_fd, buf, (size_t)got);
		stream_lines(sv, s, buf, (size_t)got);
		/* a full default pipe (64 KiB) says the job outruns us */
		if (got >= 65536 && !s->widened) {
			s->widened = 1;
			fcntl(s->pipe_fd, F_SETPIPE_SZ, PIPE_BIG);
		}
		if ((size_t)got < sizeof(buf))
			break;
	}
	full_flush(sv);
}

static int open_full_log(const struct supervisor *sv)
{
	const char *path = sv->spec->full_log;
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;

	if (!path)
		return openat(sv->job->dir_fd, "full.log", flags | O_NOFOLLOW,
			      0600);
	char *slash = strrchr(path, '/');

	if (slash && slash != path) {
		char *parent = strndup(path, (size_t)(slash - path));

		if (!parent)
			return -1;
		mkdir_parents(parent, 0700);
		free(parent);
	}
	return open(path, flags, 0600);
}

int open_logs(struct supervisor *sv)
{
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;

	const char *failed = NULL;

	sv->out.log_fd = openat(sv->job->dir_fd, "stdout.log", flags, 0600);
	if (sv->out.log_fd < 0)
		failed = "stdout.log";
	sv->err.log_fd = openat(sv->job->dir_fd, "stderr.log", flags, 0600);
	if (!failed && sv->err.log_fd < 0)
		failed = "stderr.log";
	sv->full_fd = failed ? -1 : open_full_log(sv);
	if (sv->spec->full_log) {	/* the job's own stays, empty */
		int fd = openat(sv->job->dir_fd, "full.log", flags, 0600);

		if (fd >= 0)
			close(fd);
	}
	if (!failed && sv->full_fd < 0)
		failed = sv->spec->full_log ? sv->spec->full_log : "full.log";
	if (failed)
		snprintf(sv->state.error, sizeof(sv->state.error),
			 "cannot open the log %s: %s", failed, strerror(errno));
	return failed ? -1 : 0;
}
