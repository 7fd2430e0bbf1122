/* notify_record.h - the delivery records, completion_event.json and
 * notification_events.ndjson: written and read here only (notify_record.c). */
#ifndef AE_NOTIFY_RECORD_H
#define AE_NOTIFY_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "lib/fmt.h"
#include "store.h"

enum sink_type { SINK_COMMAND, SINK_FILE };

/* One attempt of one sink. */
struct delivery_result {
	enum sink_type type;
	char *target;
	int success;
	unsigned attempt;
	uint64_t duration_ms;
	char attempted_at[TIMESTAMP_LEN + 1];
	char error[200];
};

/* An event's attempts, in the order they are shown. At most RESULTS_MAX
 * are kept: the first attempt and the latest ones; those dropped between
 * are counted in omitted (written as "delivery_results_omitted"). */
struct delivery_results {
	struct delivery_result *v;
	size_t n;
	size_t settled;		/* the first ones, from earlier deliveries */
	uint64_t omitted;
};
/* A new, zeroed result at the end, dropping the second oldest when the
 * list is full (NULL when out of memory). */
struct delivery_result *record_result_add(struct delivery_results *results,
					  const char *target);
void record_results_free(struct delivery_results *results);
/* The "delivery_results" array. */
void record_write_results(struct json_writer *w,
			  const struct delivery_results *results);

/* dropped: an output match given to no sink (the queue was full). */
enum delivery_status {
	DELIVERY_PENDING, DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_DROPPED
};

/* The record of an event's delivery: the event's members, then
 * "delivery_results", "delivered" and "delivery_status". completion:
 * completion_event.json, replaced atomically and fsynced; else a line
 * appended to notification_events.ndjson. */
int record_write(const struct job *job, int completion, const char *event,
		 size_t len, const struct delivery_results *results,
		 enum delivery_status status);

/* The path of the record (heap): completion_event.json, or
 * notification_events.ndjson. */
char *record_path(const struct job *job, int completion);

/* completion_event.json as found: missing, unreadable, or its status. */
enum completion_found {
	COMPLETION_MISSING, COMPLETION_UNREADABLE, COMPLETION_PENDING,
	COMPLETION_DELIVERED, COMPLETION_FAILED
};
/* attempts (NULL: not wanted) grows by the attempts recorded. */
enum completion_found record_completion_found(const struct job *job,
					     uint64_t *attempts);
/* completion_event.json read back for another delivery: the event alone
 * (compact, heap), its id, and its earlier attempts appended to history.
 * invalid_state when there is none, corrupt_record when unreadable. */
int record_read_completion(const struct job *job, char **event, size_t *len,
			   char *event_id, size_t id_size,
			   struct delivery_results *history, struct error *e);

#endif
