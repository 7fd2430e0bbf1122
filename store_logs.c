/* store_logs.c - a job's logs read back: tails, reads from an offset (the
 * cursor), pages of lines, their sizes and paths. */
#include "store_logs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_spec.h"

#define TAIL_CHUNK 65536

/* The logs of a job: stdout's and stderr's (by stream), then full.log. */
static const char *const log_names[] = {
	"stdout.log", "stderr.log", "full.log"
};

void store_write_log_paths(struct json_writer *w, const struct job *job)
{
	char *out_path = store_job_path(job, "stdout.log");
	char *err_path = store_job_path(job, "stderr.log");

	jw_kv_str(w, "stdout_log_path", out_path);
	jw_kv_str(w, "stderr_log_path", err_path);
	free(out_path);
	free(err_path);
}

int store_create_logs(const struct job *job, struct error *e)
{
	for (size_t i = 0; i < 3; i++) {
		int fd = openat(job->dir_fd, log_names[i],
				O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
				O_NOFOLLOW, 0600);

		if (fd < 0)
			return error_errno(e, NULL, errno, "cannot create %s/%s",
					  job->dir, log_names[i]);
		close(fd);
	}
	return 0;
}

/* Where the last `lines` lines of [window_start, end) begin, reading
 * backwards a block at a time. *cut tells whether earlier lines exist. */
static int tail_line_start(int fd, off_t window_start, off_t end,
			   uint64_t lines, off_t *start, int *cut)
{
	char buf[TAIL_CHUNK];
	uint64_t seen = 0;
	off_t pos = end;

	*start = window_start;
	*cut = 0;
	while (pos > window_start) {
		size_t block = (size_t)(pos - window_start) < sizeof(buf) ?
			       (size_t)(pos - window_start) : sizeof(buf);
		ssize_t got;
		size_t len;

		pos -= (off_t)block;
		got = pread_full(fd, buf, block, pos);
		if (got < 0)
			return -1;
		len = (size_t)got;
		while (len > 0) {
			char *newline = memrchr(buf, '\n', len);

			if (!newline)
				break;
			len = (size_t)(newline - buf);
			if (++seen == lines) {
				*start = pos + (off_t)len + 1;
				*cut = 1;
				return 0;
			}
		}
	}
	return 0;
}

/* Stream [start, end) into the open string, dropping each CR that comes
 * right before an LF when crlf is set (the LF at `end` included). */
static void tail_stream(struct json_writer *w, struct jw_stream *st, int fd,
			off_t start, off_t end, int crlf, int lf_at_end)
{
	char buf[TAIL_CHUNK];
	int held_cr = 0;

	for (off_t pos = start; pos < end;) {
		size_t want = (size_t)(end - pos) < sizeof(buf) ?
			      (size_t)(end - pos) : sizeof(buf);
		ssize_t got = pread_full(fd, buf, want, pos);
		size_t from = 0, len;

		if (got <= 0)
			break;	/* the file shrank under us */
		len = (size_t)got;
		pos += got;
		if (!crlf) {
			jw_string_chunk(w, st, buf, len);
			continue;
		}
		if (held_cr && buf[0] != '\n')
			jw_string_chunk(w, st, "\r", 1);
		held_cr = 0;
		for (char *cr; (cr = memchr(buf + from, '\r', len - from));) {
			size_t at = (size_t)(cr - buf);

			if (at + 1 == len) {
				jw_string_chunk(w, st, buf + from, at - from);
				from = len;
				held_cr = 1;
				break;
			}
			if (buf[at + 1] == '\n') {
				jw_string_chunk(w, st, buf + from, at - from);
				from = at + 1;
			} else {
				jw_string_chunk(w, st, buf + from,
						at + 1 - from);
				from = at + 1;
			}
		}
		jw_string_chunk(w, st, buf + from, len - from);
	}
	if (held_cr && !lf_at_end)
		jw_string_chunk(w, st, "\r", 1);
}

int log_tail_write(struct json_writer *w, int fd, uint64_t tail_lines,
		   uint64_t max_bytes, struct tail_info *info)
{
	struct jw_stream st;
	struct stat sb;
	off_t size = 0, window_start, start, end;
	int line_cut = 0, lf_at_end = 0;
	char last;

	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		size = sb.st_size;
	info->observed_bytes = (uint64_t)size;
	window_start = (uint64_t)size > max_bytes ? size - (off_t)max_bytes : 0;
	start = window_start;
	end = size;
	if (tail_lines > 0 && end > window_start &&
	    pread_full(fd, &last, 1, end - 1) == 1 && last == '\n') {
		end--;		/* a final newline ends a line, starts none */
		lf_at_end = 1;
	}
	if (tail_lines > 0 &&
	    tail_line_start(fd, window_start, end, tail_lines, &start,
			    &line_cut) < 0)
		start = end;
	jw_string_begin(w, &st);
	tail_stream(w, &st, fd, start, end, tail_lines > 0, lf_at_end);
	jw_string_end(w, &st);
	info->truncated = window_start > 0 || line_cut;
	info->included_bytes = st.out_bytes;
	return 0;
}

/* [start, end of file) of fd, at most max_bytes, as a JSON string. An
 * incomplete UTF-8 sequence at the end is held back unless final (the
 * job is over): returns where the next read begins. */
static uint64_t range_write(struct json_writer *w, int fd, uint64_t start,
			    uint64_t max_bytes, int final,
			    struct tail_info *info)
{
	char buf[TAIL_CHUNK];
	struct jw_stream st;
	struct stat sb;
	uint64_t size = 0, end, pos;

	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		size = (uint64_t)sb.st_size;
	if (start > size)
		start = size;
	end = size - start > max_bytes ? start + max_bytes : size;
	info->observed_bytes = size;
	info->truncated = end < size;
	jw_string_begin(w, &st);
	for (pos = start; pos < end;) {
		size_t want = end - pos < sizeof(buf) ? (size_t)(end - pos)
						      : sizeof(buf);
		ssize_t got = pread_full(fd, buf, want, (off_t)pos);

		if (got <= 0)
			break;
		jw_string_chunk(w, &st, buf, (size_t)got);
		pos += (uint64_t)got;
	}
	/* a window too small for even one whole character takes the rest
	 * of it (a few bytes over max_bytes): every read makes progress */
	while (st.npending > 0 && st.npending == pos - start && pos < size) {
		char byte;

		if (pread_full(fd, &byte, 1, (off_t)pos) != 1)
			break;
		jw_string_chunk(w, &st, &byte, 1);
		pos++;
	}
	if (final && pos == size)
		jw_string_end(w, &st);
	else
		pos -= jw_string_end_partial(w, &st);
	info->included_bytes = st.out_bytes;
	return pos;
}

void store_log_sizes(const struct job *job, uint64_t sizes[2])
{
	struct stat st;

	for (int i = 0; i < 2; i++)
		sizes[i] = fstatat(job->dir_fd, log_names[i], &st,
				   AT_SYMLINK_NOFOLLOW) == 0
			   ? (uint64_t)st.st_size : 0;
}

int store_logs_grew(const struct job *job, const uint64_t since[2])
{
	uint64_t sizes[2];

	store_log_sizes(job, sizes);
	return sizes[0] > since[0] || sizes[1] > since[1];
}

int store_logs_wait(const struct job *job, struct dir_watch *watch,
		    const uint64_t since[2], int64_t deadline)
{
	int rc = 0;

	/* the watch first (the caller's), then the sizes: nothing is missed
	 * between */
	while (rc == 0 && !store_logs_grew(job, since)) {
		int64_t left = deadline < 0 ? -1 : deadline - clock_mono_ms();

		if (deadline >= 0 && left <= 0)
			break;
		rc = dir_watch_wait(watch, left);
	}
	return rc < 0 ? -1 : rc > 0 || store_logs_grew(job, since);
}

int store_log_copy(const struct job *job, int stream, uint64_t *offset,
		   int out_fd)
{
	int fd = openat(job->dir_fd, log_names[stream], O_RDONLY | O_CLOEXEC |
							   O_NOFOLLOW);
	char buf[TAIL_CHUNK];
	ssize_t got;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	while ((got = pread(fd, buf, sizeof(buf), (off_t)*offset)) > 0 ||
	       (got < 0 && errno == EINTR)) {
		if (got < 0)
			continue;
		if (write_all(out_fd, buf, (size_t)got) < 0) {
			close(fd);
			return -1;
		}
		*offset += (uint64_t)got;
	}
	close(fd);
	return got < 0 ? -1 : 0;
}

#define LOG_LINE_MAX 65536	/* longer lines are cut in log pages */

/* Lines in [0, size): newlines, plus a last line without one. */
static uint64_t count_lines(int fd, uint64_t size)
{
	char buf[TAIL_CHUNK];
	uint64_t lines = 0, pos = 0;
	char last = '\n';

	while (pos < size) {
		ssize_t got = pread_full(fd, buf, sizeof(buf), (off_t)pos);

		if (got <= 0)
			break;
		for (char *p = buf; (p = memchr(p, '\n', (size_t)got -
						(size_t)(p - buf))); p++)
			lines++;
		last = buf[got - 1];
		pos += (uint64_t)got;
	}
	return lines + (size > 0 && last != '\n');
}

/* The byte offset where line number first starts: scanning forwards, or
 * backwards from the end when that is nearer. */
static uint64_t line_start(int fd, uint64_t size, uint64_t total,
			   uint64_t first)
{
	char buf[TAIL_CHUNK];
	uint64_t pos = 0, seen = 0;
	off_t start;
	int cut;

	if (first == 0)
		return 0;
	if (first >= total)
		return size;
	if (first > total / 2) {
		/* the last (total - first) lines begin after this newline */
		char last = 0;
		uint64_t end = size;

		if (size > 0 &&
		    pread_full(fd, &last, 1, (off_t)size - 1) == 1 &&
		    last == '\n')
			end--;
		tail_line_start(fd, 0, (off_t)end, total - first, &start, &cut);
		return (uint64_t)start;
	}
	while (pos < size) {
		ssize_t got = pread_full(fd, buf, sizeof(buf), (off_t)pos);
		char *p = buf;

		if (got <= 0)
			break;
		while ((p = memchr(p, '\n', (size_t)got - (size_t)(p - buf)))) {
			p++;
			if (++seen == first)
				return pos + (uint64_t)(p - buf);
		}
		pos += (uint64_t)got;
	}
	return size;
}

struct line_page {
	struct json_writer *w;
	char *line;		/* LOG_LINE_MAX + 1 bytes */
	size_t len;
	int cut;		/* this line was longer than LOG_LINE_MAX */
	uint64_t left, written, truncated;
};

static void page_add(struct line_page *pg, const char *p, size_t n)
{
	size_t room = LOG_LINE_MAX + 1 - pg->len;

	if (n > room) {
		n = room;
		pg->cut = 1;
	}
	memcpy(pg->line + pg->len, p, n);
	pg->len += n;
}

static void page_emit(struct line_page *pg)
{
	size_t len = pg->len;

	if (len > 0 && pg->line[len - 1] == '\r')
		len--;		/* CRLF reads as LF */
	if (len > LOG_LINE_MAX) {
		len = LOG_LINE_MAX;
		pg->cut = 1;
	}
	jw_string_n(pg->w, pg->line, len);
	pg->truncated += pg->cut;
	pg->written++;
	pg->left--;
	pg->len = 0;
	pg->cut = 0;
}

/* Write up to pg->left lines from byte offset pos on. */
static void page_lines(struct line_page *pg, int fd, uint64_t pos,
		       uint64_t size)
{
	char buf[TAIL_CHUNK];

	while (pos < size && pg->left > 0) {
		ssize_t got = pread_full(fd, buf, sizeof(buf), (off_t)pos);
		char *p = buf, *end, *newline;

		if (got <= 0)
			break;
		end = buf + got;
		pos += (uint64_t)got;
		while (pg->left > 0 && p < end &&
		       (newline = memchr(p, '\n', (size_t)(end - p)))) {
			page_add(pg, p, (size_t)(newline - p));
			page_emit(pg);
			p = newline + 1;
		}
		if (pg->left > 0 && p < end)
			page_add(pg, p, (size_t)(end - p));
	}
	if (pg->left > 0 && pg->len > 0)
		page_emit(pg);	/* a last line without its newline */
}

int store_log_page(struct json_writer *w, const struct job *job,
		   const char *path, int64_t offset, int64_t limit,
		   struct error *e)
{
	struct line_page pg = { .w = w };
	struct stat st;
	uint64_t size, total, first, count;
	/* a job's own log by name; a --log PATH as given */
	int fd = open_regular(path[0] == '/' ? AT_FDCWD : job->dir_fd, path,
			      O_RDONLY, 0);

	size = fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	pg.line = malloc(LOG_LINE_MAX + 1);
	if (!pg.line) {
		if (fd >= 0)
			close(fd);
		return error_errno(e, NULL, ENOMEM, "log");
	}
	total = fd >= 0 ? count_lines(fd, size) : 0;
	count = limit >= 0 ? (uint64_t)limit : 200;
	if (offset >= 0)
		first = (uint64_t)offset < total ? (uint64_t)offset : total;
	else
		first = total > count ? total - count : 0;
	if (offset >= 0 && limit < 0)
		count = total - first;	/* from offset to the end */
	pg.left = count;
	jw_kv_array_begin(w, "lines");
	if (fd >= 0 && count > 0)
		page_lines(&pg, fd, line_start(fd, size, total, first), size);
	jw_array_end(w);
	jw_kv_u64(w, "total_lines", total);
	jw_kv_u64(w, "offset", first);
	jw_kv_u64(w, "next_offset", first + pg.written);
	jw_kv_bool(w, "has_more", first + pg.written < total);
	jw_kv_u64(w, "truncated_lines", pg.truncated);
	free(pg.line);
	if (fd >= 0)
		close(fd);
	return 0;
}

void store_write_outputs(struct json_writer *w, const struct job *job,
			 const struct output_read *how,
			 struct tail_info info[2], uint64_t next[2])
{
	static const char *const keys[2] = { "stdout_tail", "stderr_tail" };

	for (int i = 0; i < 2; i++) {
		int fd = openat(job->dir_fd, log_names[i], O_RDONLY | O_CLOEXEC |
						       O_NOFOLLOW);

		jw_key(w, keys[i]);
		if (how->since) {
			next[i] = range_write(w, fd, how->since[i],
					      how->max_bytes, how->final,
					      &info[i]);
		} else {
			log_tail_write(w, fd, how->tail_lines, how->max_bytes,
				       &info[i]);
			next[i] = info[i].observed_bytes;
		}
		if (fd >= 0)
			close(fd);
	}
}

char *store_log_file(const struct job *job, const char *stream,
		     struct error *e)
{
	char name[16];
	struct json_doc meta;
	const char *log_path;
	char *path;

	snprintf(name, sizeof(name), "%s.log", stream);
	if (strcmp(stream, "full") != 0)
		return strdup(name);
	if (store_read_meta(job, &meta, e) < 0)
		return NULL;
	log_path = json_get_str(meta.root, "log_path");
	path = strdup(log_path && log_path[0] == '/' ? log_path : name);
	json_doc_free(&meta);
	return path;
}
