/* events.c - the event log: one append-only NDJSON stream of every job's
 * lifecycle (job.created, job.started, job.finished, job.output.matched,
 * delivery.attempted) under <root>/.events/. Writers append whole lines
 * under a lock; the log rotates into segments and keeps the newest, so it
 * stays bounded. Each line starts with its cursor, the byte offset of its
 * start in the whole stream, so a reader resumes exactly where it left.
 * Segments are named by the stream offset of their first byte (20 digits,
 * so names sort as offsets), which makes a line's cursor its segment's base
 * plus its position in the segment. */
#include "events.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/inotify.h>
#endif

#include "json_parse.h"
#include "lib/fmt.h"
#include "lib/owner.h"
#include "lib/sig.h"

#define EVENTS_DIR ".events"
#define SEGMENT_MAX (4u << 20)	/* a new segment beyond this size */
#define SEGMENTS_KEPT 8		/* the log holds at most ~36 MiB */
#define SEGMENTS_SEEN 64
#define LINE_MAX_BYTES (2u << 20)	/* longer lines are not events */
#define FOLLOW_POLL_MS 1000	/* where inotify cannot watch */

struct segment {
	uint64_t base;
	char name[32];
};

static int segment_name(const char *name, uint64_t *base)
{
	/* 20 digits, then .ndjson */
	if (scan_u64(name, base) != 20 || strcmp(name + 20, ".ndjson") != 0)
		return -1;
	return 0;
}

/* The segments, oldest first; *count of them. */
static int segments_list(int dir_fd, struct segment *segs, size_t *count)
{
	DIR *dir = dir_list(dir_fd);
	struct dirent *entry;

	*count = 0;
	if (!dir)
		return -1;
	while ((entry = readdir(dir))) {
		struct segment seg;
		size_t at;

		if (segment_name(entry->d_name, &seg.base) < 0)
			continue;
		memcpy(seg.name, entry->d_name, 28);	/* 27 chars, checked */
		/* insertion keeps them sorted; keep the newest when full */
		at = *count;
		while (at > 0 && segs[at - 1].base > seg.base)
			at--;
		if (*count == SEGMENTS_SEEN) {
			if (at == 0)
				continue;
			memmove(segs, segs + 1, (at - 1) * sizeof(*segs));
			at--;
		} else {
			memmove(segs + at + 1, segs + at,
				(*count - at) * sizeof(*segs));
			(*count)++;
		}
		segs[at] = seg;
	}
	closedir(dir);
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

static int root_private(const char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	int private = fd >= 0 && fd_private(fd, &st) == 1;

	if (fd >= 0)
		close(fd);
	return private;
}

static int open_events_dir(const char *root, int create)
{
	char path[PATH_MAX];

	int fd;

	struct stat st;

	snprintf(path, sizeof(path), "%s/" EVENTS_DIR, root);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	/* created once: every later append finds it */
	if (fd < 0 && errno == ENOENT && create &&
	    mkdir_parents(path, 0700) == 0)
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
				O_NOFOLLOW);
	/* another user's, or writable by others (it or the root): not ours
	 * to trust */
	if (fd >= 0 && (fd_private(fd, &st) != 1 || !root_private(root))) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* The segment starting at base, opened to append (made when missing). */
static int segment_open(int dir_fd, uint64_t base)
{
	char name[32];

	snprintf(name, sizeof(name), "%020llu.ndjson",
		 (unsigned long long)base);
	return openat(dir_fd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				    O_NOFOLLOW, 0600);
}

/* The segment to append to, rotating (and trimming) when it is full. */
static int segment_for_append(int dir_fd, uint64_t *base, uint64_t *size)
{
	struct segment segs[SEGMENTS_SEEN];
	size_t count;
	struct stat st;
	int fd;

	if (segments_list(dir_fd, segs, &count) < 0)
		return -1;
	*base = count ? segs[count - 1].base : 0;
	fd = segment_open(dir_fd, *base);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	*size = (uint64_t)st.st_size;
	if (*size < SEGMENT_MAX)
		return fd;
	close(fd);
	*base += *size;
	*size = 0;
	fd = segment_open(dir_fd, *base);
	/* the oldest go: the log stays bounded */
	for (size_t i = 0; count + 1 > SEGMENTS_KEPT && i + SEGMENTS_KEPT <
						      count + 1; i++)
		unlinkat(dir_fd, segs[i].name, 0);
	return fd;
}

void events_append(const char *root, const char *object, size_t len)
{
	struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char head[96], stamp[TIMESTAMP_LEN + 1];
	int dir_fd, lock_fd = -1, fd = -1;
	uint64_t base, size;
	size_t head_len;
	char *line;

	if (len < 2 || object[0] != '{')
		return;
	dir_fd = open_events_dir(root, 1);
	if (dir_fd < 0)
		return;
	lock_fd = openat(dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC |
					 O_NOFOLLOW, 0600);
	line = malloc(len + sizeof(head) + 1);
	if (lock_fd < 0 || !line || fcntl(lock_fd, F_OFD_SETLKW, &lock) < 0)
		goto out;
	fd = segment_for_append(dir_fd, &base, &size);
	if (fd < 0)
		goto out;
	format_utc_now(stamp);
	head_len = (size_t)snprintf(head, sizeof(head),
				    "{\"cursor\":\"%llu\",\"time\":\"%s\"%s",
				    (unsigned long long)(base + size), stamp,
				    len > 2 ? "," : "");
	memcpy(line, head, head_len);
	memcpy(line + head_len, object + 1, len - 1);
	line[head_len + len - 1] = '\n';
	/* one whole line, under the lock, or nothing: the log is a
	 * convenience, the records are the truth */
	(void)append_whole(fd, line, head_len + len);
out:
	free(line);
	if (fd >= 0)
		close(fd);
	if (lock_fd >= 0)
		close(lock_fd);
	close(dir_fd);
}

void events_line_begin(struct json_writer *w, size_t cap, const char *type,
		       const char *job_id)
{
	jw_init_mem(w, cap, 0);
	jw_object_begin(w);
	jw_kv_str(w, "event_type", type);
	jw_kv_str(w, "job_id", job_id);
}

void events_line_append(const char *root, struct json_writer *w)
{
	jw_object_end(w);
	if (!w->error)
		events_append(root, w->buf, w->len);
	jw_free(w);
}

/* ---- reading ---------------------------------------------------------- */

struct reader {
	const struct events_query *query;
	int dir_fd;
	uint64_t base;		/* of the segment being read */
	int fd;
	uint64_t pos;		/* in that segment: the next unread byte */
	int skip_line;		/* drop the line at pos (it is --since's) */
	char *line;		/* a line being assembled */
	size_t line_len;
	int stopped;		/* stdout closed */
};

static int prefix_match(const char *pattern, const char *value)
{
	size_t len = strlen(pattern);

	if (len >= 2 && strcmp(pattern + len - 2, ".*") == 0)
		return value && strncmp(value, pattern, len - 1) == 0;
	return value && strcmp(value, pattern) == 0;
}

int events_type_valid(const char *pattern)
{
	size_t len = strlen(pattern);
	const char *type = EVENT_TYPES;

	if (len < 2 || strcmp(pattern + len - 2, ".*") != 0)
		return word_index(pattern, EVENT_TYPES) >= 0;
	for (; *type; type += strcspn(type, " "), type += *type == ' ')
		if (strncmp(type, pattern, len - 1) == 0)
			return 1;
	return 0;
}

static int event_wanted(const struct events_query *q, const char *line,
			size_t len)
{
	struct json_doc doc;
	char err[64];
	int wanted;
	const char *job, *type;

	if (!q->job_id && !q->type)
		return 1;
	if (json_parse(&doc, line, len, 32, err, sizeof(err)) < 0)
		return 0;
	job = json_get_str(doc.root, "job_id");
	type = json_get_str(doc.root, "event_type");
	wanted = (!q->type || prefix_match(q->type, type)) &&
		 (!q->job_id || (job && strcmp(job, q->job_id) == 0));
	json_doc_free(&doc);
	return wanted;
}

static void line_done(struct reader *r)
{
	if (r->skip_line)
		r->skip_line = 0;
	else if (r->line_len <= LINE_MAX_BYTES &&
		 event_wanted(r->query, r->line, r->line_len)) {
		r->line[r->line_len] = '\n';
		if (write_all(1, r->line, r->line_len + 1) < 0)
			r->stopped = 1;
	}
	r->line_len = 0;
}

static void line_add(struct reader *r, const char *p, size_t n)
{
	if (r->line_len + n > LINE_MAX_BYTES) {
		r->line_len = LINE_MAX_BYTES + 1;	/* too long: dropped */
		return;
	}
	memcpy(r->line + r->line_len, p, n);
	r->line_len += n;
}

/* Print the complete lines of the current segment from pos on; pos only
 * ever moves past whole lines, so one being written is read again later,
 * whole. */
static void read_segment(struct reader *r)
{
	char buf[65536];
	uint64_t pending = 0;	/* bytes of an unfinished line, in r->line */
	ssize_t got;

	r->line_len = 0;
	while (!r->stopped &&
	       (got = pread_full(r->fd, buf, sizeof(buf),
				 (off_t)(r->pos + pending))) > 0) {
		char *p = buf, *end = buf + got, *newline;

		while (!r->stopped &&
		       (newline = memchr(p, '\n', (size_t)(end - p)))) {
			line_add(r, p, (size_t)(newline - p));
			line_done(r);
			r->pos += pending + (uint64_t)(newline + 1 - p);
			pending = 0;
			p = newline + 1;
		}
		if (r->stopped)
			break;
		line_add(r, p, (size_t)(end - p));
		pending += (uint64_t)(end - p);
		if ((size_t)got < sizeof(buf))
			break;
	}
	r->line_len = 0;
}

static int open_segment(struct reader *r, const struct segment *seg,
			uint64_t pos)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = openat(r->dir_fd, seg->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	r->base = seg->base;
	r->pos = pos;
	return r->fd < 0 ? -1 : 0;
}

/* Where reading starts: the oldest event, the end, or after a cursor. */
static void reader_start(struct reader *r, const struct segment *segs,
			 size_t count, struct error *e)
{
	const char *since = r->query->since;
	uint64_t cursor;
	size_t i;
	struct stat st;

	if (count == 0)
		return;
	if (!since) {
		open_segment(r, &segs[0], 0);
		return;
	}
	if (strcmp(since, "end") == 0) {
		open_segment(r, &segs[count - 1], 0);
		if (r->fd >= 0 && fstat(r->fd, &st) == 0)
			r->pos = (uint64_t)st.st_size;
		return;
	}
	if (parse_u64(since, &cursor) < 0)
		goto invalid;
	for (i = count; i > 1 && segs[i - 1].base > cursor; i--)
		;
	if (cursor < segs[0].base) {
		open_segment(r, &segs[0], 0);	/* trimmed away: oldest on */
		return;
	}
	open_segment(r, &segs[i - 1], cursor - segs[i - 1].base);
	r->skip_line = 1;
	/* past the end: another root's cursor, or of a log since removed;
	 * read from there, the events to come would be lost */
	if (r->fd < 0 || fstat(r->fd, &st) < 0 ||
	    r->pos <= (uint64_t)st.st_size)
		return;
invalid:
	error_set(e, "invalid_cursor", "invalid --since \"%.40s\": expected "
		  "a cursor from an event of this root, or \"end\"", since);
}

/* The segment after the one being read, if the writer rotated. */
static int next_segment(struct reader *r)
{
	struct segment segs[SEGMENTS_SEEN];
	size_t count;

	if (segments_list(r->dir_fd, segs, &count) < 0)
		return 0;
	for (size_t i = 0; i < count; i++) {
		if (segs[i].base > r->base ||
		    (r->fd < 0 && segs[i].base >= r->base)) {
			/* a newer segment means this one is complete: its
			 * last lines may have landed since we read it */
			if (r->fd >= 0)
				read_segment(r);
			return open_segment(r, &segs[i], 0) == 0;
		}
	}
	return 0;
}

/* Sleep until the log changes (inotify), a stop signal arrives, or the
 * reader of our stdout goes away (a pipe reports POLLERR): no timer while
 * the watch works (an idle follower costs nothing), a second without it.
 * Returns 0, or -1 when it is time to stop. */
static int follow_wait(int notify_fd, int stop_fd)
{
	struct pollfd pfds[3] = {
		{ .fd = 1, .events = 0 },
		{ .fd = notify_fd, .events = POLLIN },
		{ .fd = stop_fd, .events = POLLIN },
	};
	char drain[4096];

	if (poll(pfds, 3, notify_fd >= 0 ? -1 : FOLLOW_POLL_MS) <= 0)
		return 0;
	if (pfds[2].revents && sig_next(stop_fd) > 0)
		return -1;	/* taken: the command ends with 0 */
	if (pfds[0].revents & (POLLERR | POLLHUP | POLLNVAL))
		return -1;
	if (pfds[1].revents)
		while (read(notify_fd, drain, sizeof(drain)) > 0)
			;
	return 0;
}

static int watch_dir(const char *root)
{
#ifdef __linux__
	char path[PATH_MAX];
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	snprintf(path, sizeof(path), "%s/" EVENTS_DIR, root);
	if (fd >= 0 && inotify_add_watch(fd, path, IN_MODIFY | IN_CREATE |
					 IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
#else
	(void)root;
	return -1;
#endif
}

/* SIGINT, SIGTERM and SIGHUP end --follow cleanly: they arrive through a
 * watcher, polled with the log. */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

int events_read(const char *root, const struct events_query *query,
		struct error *e)
{
	struct reader r = { .query = query, .fd = -1 };
	struct segment segs[SEGMENTS_SEEN];
	size_t count = 0;
	int notify_fd = -1, stop_fd = -1;

	r.dir_fd = open_events_dir(root, query->follow);
	if (r.dir_fd < 0 && errno == EPERM)
		return error_set(e, "unsafe_permissions", "%s or its "
				 EVENTS_DIR " is not yours alone (another user "
				 "owns it or can write to it): chmod go-w it, "
				 "or use a jobs root of your own", root);
	if (r.dir_fd < 0)
		return errno == ENOENT ? 0 : error_errno(e, NULL, errno,
				"cannot open %s/" EVENTS_DIR, root);
	r.line = malloc(LINE_MAX_BYTES + 1);
	if (!r.line) {
		close(r.dir_fd);
		return error_errno(e, NULL, ENOMEM, "events");
	}
	if (query->follow) {
		stop_fd = sig_watch(stop_signals, 3);
		notify_fd = watch_dir(root);	/* before reading: no gap */
	}
	segments_list(r.dir_fd, segs, &count);
	e->code = NULL;
	reader_start(&r, segs, count, e);
	while (!e->code && !r.stopped) {
		if (r.fd >= 0)
			read_segment(&r);
		if (next_segment(&r))
			continue;
		if (!query->follow || follow_wait(notify_fd, stop_fd) < 0)
			break;
	}
	if (r.fd >= 0)
		close(r.fd);
	if (notify_fd >= 0)
		close(notify_fd);
	/* the stop signals stay watched: the command ends here, and a late
	 * one must not end it with another status */
	free(r.line);
	close(r.dir_fd);
	return e->code ? -1 : 0;
}

/* Where the last whole line of a segment starts: 0 and *start, or -1 when
 * it holds none (empty, or one line being written). */
static int last_line_start(int fd, uint64_t size, uint64_t *start)
{
	char buf[4096];
	uint64_t end = size, pos = size;
	int seen_end = 0;

	/* backwards, at most a line's length: the last LF, then the one
	 * before it */
	while (pos > 0 && size - pos <= LINE_MAX_BYTES + sizeof(buf)) {
		size_t n = pos < sizeof(buf) ? (size_t)pos : sizeof(buf);

		pos -= n;
		if (pread_full(fd, buf, n, (off_t)pos) != (ssize_t)n)
			return -1;
		for (size_t i = n; i-- > 0;) {
			if (buf[i] != '\n' || pos + i >= end)
				continue;
			if (seen_end) {
				*start = pos + i + 1;
				return 0;
			}
			seen_end = 1;
			end = pos + i;
		}
	}
	if (!seen_end || pos > 0)
		return -1;
	*start = 0;
	return 0;
}

int events_last_cursor(const char *root, char *cursor, size_t size)
{
	struct segment segs[SEGMENTS_SEEN];
	size_t count = 0;
	int dir_fd = open_events_dir(root, 0), found = -1;

	cursor[0] = '\0';
	if (dir_fd < 0)
		return errno == ENOENT ? 0 : -1;
	segments_list(dir_fd, segs, &count);
	while (count-- > 0 && found < 0) {
		int fd = openat(dir_fd, segs[count].name,
				O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		struct stat st;
		uint64_t start;

		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 &&
		    last_line_start(fd, (uint64_t)st.st_size, &start) == 0) {
			snprintf(cursor, size, "%llu", (unsigned long long)
				 (segs[count].base + start));
			found = 0;
		}
		close(fd);
	}
	close(dir_fd);
	return 0;
}
