/* store_logs.h - a job's logs, created empty and read back: tails, reads
 * from a cursor, pages of lines (store_logs.c). */
#ifndef AE_STORE_LOGS_H
#define AE_STORE_LOGS_H

#include <stdint.h>

#include "lib/dirwatch.h"
#include "store.h"

/* Create the three log files, empty, 0600 (they exist once run returns). */
int store_create_logs(const struct job *job, struct error *e);
/* The "stdout_log_path" and "stderr_log_path" members. */
void store_write_log_paths(struct json_writer *w, const struct job *job);

/* Log tails, streamed into a JSON string without reading the whole file:
 * the last max_bytes bytes, then (tail_lines > 0) the last tail_lines lines
 * of those, CRLF as LF, no final newline. */
struct tail_info {
	int truncated;
	uint64_t observed_bytes, included_bytes;
};
int log_tail_write(struct json_writer *w, int fd, uint64_t tail_lines,
		   uint64_t max_bytes, struct tail_info *info);
/* The "stdout_tail" and "stderr_tail" members: the tail of each log, or
 * (since set) the bytes after those offsets, incomplete UTF-8 at the end
 * held back unless final. next[] gets where a next read would begin. */
struct output_read {
	const uint64_t *since;	/* two offsets, or NULL for the tails */
	uint64_t tail_lines, max_bytes;
	int final;		/* the job is over: nothing more will come */
};
void store_write_outputs(struct json_writer *w, const struct job *job,
			 const struct output_read *how,
			 struct tail_info info[2], uint64_t next[2]);
/* The current sizes of stdout.log and stderr.log. */
void store_log_sizes(const struct job *job, uint64_t sizes[2]);
/* The log that log --stream reads (stdout, stderr, full): the name of the
 * job's own file ("stdout.log"), or for full the --log PATH the job was
 * given, absolute (its own full.log then stays empty). Heap; NULL with e
 * set. */
char *store_log_file(const struct job *job, const char *stream,
		     struct error *e);
/* log: lines of one log file (a name in the job directory, e.g.
 * "stdout.log", or an absolute path: a --log PATH), from line offset (or
 * the last limit lines when offset < 0), as the members "lines",
 * "total_lines", "offset", "next_offset", "has_more", "truncated_lines". */
int store_log_page(struct json_writer *w, const struct job *job,
		   const char *path, int64_t offset, int64_t limit,
		   struct error *e);

/* Whether a log holds more than since[] (stdout, stderr bytes) says. */
int store_logs_grew(const struct job *job, const uint64_t since[2]);
/* Until a log grows past since[] (stdout, stderr bytes) or something in
 * the job's directory changes (a state transition: the caller looks
 * again), or the deadline (monotonic ms; < 0: none) passes; watch is on
 * job->dir (dir_watch_open), opened before the caller last looked. 1
 * woken, 0 the deadline passed, -1/errno. */
int store_logs_wait(const struct job *job, struct dir_watch *watch,
		    const uint64_t since[2], int64_t deadline);
/* Copy a log (0 stdout, 1 stderr) from *offset to its end into out_fd,
 * raw, *offset moved on: 0, or -1/errno (out_fd's too). */
int store_log_copy(const struct job *job, int stream, uint64_t *offset,
		   int out_fd);

#endif
