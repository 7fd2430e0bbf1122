/* events.h - the event log, <root>/.events/: one bounded NDJSON stream of
 * every job's lifecycle, appended a whole line at a time, read by cursor. */
#ifndef AE_EVENTS_H
#define AE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "lib/sys.h"

/* Append one event, given as a compact JSON object text that holds at
 * least "event_type" and "job_id": it is stored with "cursor" and "time"
 * in front. root is the jobs root (absolute). Failures are silent: the
 * log is a convenience, the job's records are the truth. */
void events_append(const char *root, const char *object, size_t len);
/* An event built in w (in memory, at most cap bytes): begun with its
 * type and job, then (the caller's members written) closed, appended to
 * the event log of root, and w freed. */
void events_line_begin(struct json_writer *w, size_t cap, const char *type,
		       const char *job_id);
void events_line_append(const char *root, struct json_writer *w);

struct events_query {
	const char *since;	/* a cursor, "end", or NULL: from the start */
	const char *job_id;	/* a job id or prefix, or NULL */
	const char *type;	/* a type, or a prefix as "job.*", or NULL */
	int follow;		/* keep reading new events until stopped */
};

/* The event types the log holds, separated by spaces. */
#define EVENT_TYPES "job.created job.started job.finished job.output.matched " \
	"job.output.dropped delivery.attempted"
/* Whether pattern names a type, or is a prefix "ns.*" of one. */
int events_type_valid(const char *pattern);

/* The cursor of the newest event, "" when the log holds none: reading
 * --since it gives every event appended from now on. 0, or -1/errno. */
int events_last_cursor(const char *root, char *cursor, size_t size);

/* Print the matching events to fd 1, one line each. Returns 0 when done
 * (end of the log, or interrupted by SIGINT/SIGTERM/SIGHUP, or stdout
 * closed while following); -1 with e filled on error. */
int events_read(const char *root, const struct events_query *query,
		struct error *e);

#endif
