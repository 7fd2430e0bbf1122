/* notify_sink.h - the delivery engine: each attempt of a sink a child of the
 * caller's loop, timed out, retried with backoff, recorded (notify_sink.c). */
#ifndef AE_NOTIFY_SINK_H
#define AE_NOTIFY_SINK_H

#include <stdint.h>
#include <sys/types.h>

#include "notify.h"

struct notifier;

struct notifier *notifier_new(const struct notifier_config *config);
void notifier_free(struct notifier *n);

/* Build job.finished from the terminal state and meta.json; when the
 * settings have sinks, write it to completion_event.json (atomic, fsynced,
 * "delivery_status":"pending") and queue its delivery. Returns the event's
 * text, for the event log (heap, its length in *len; NULL when out of
 * memory). */
char *notifier_job_finished(struct notifier *n, const struct job_state *state,
			    const struct json_value *meta,
			    const struct notify_settings *settings,
			    size_t *len);
/* Queue delivery of the pending completion_event.json (redelivery). */
int notifier_redeliver(struct notifier *n,
		       const struct notify_settings *settings,
		       struct error *e);
/* A matching line: queue a job.output.matched event to the match sinks;
 * its record is appended to notification_events.ndjson once delivered. */
void notifier_output_matched(struct notifier *n,
			     const struct notify_settings *settings,
			     const struct json_value *meta,
			     enum match_stream stream, const char *line,
			     size_t len);

/* For the caller's loop: the next moment something is due (monotonic ms,
 * 0 = nothing), work that is due now, a child that ended (1 if it was a
 * sink), and whether anything is still pending. */
int64_t notifier_deadline(const struct notifier *n);
void notifier_tick(struct notifier *n, int64_t now);
int notifier_child_exited(struct notifier *n, pid_t pid, int status);
int notifier_busy(const struct notifier *n);
/* Run until nothing is pending (for a process with no other work). */
void notifier_drain(struct notifier *n);
/* The delivery results of this notifier's completion event, as JSON array
 * text, whether delivery succeeded, and how many attempts the record no
 * longer lists (for notify redeliver's answer). */
const char *notifier_results(const struct notifier *n, int *delivered,
			     uint64_t *omitted);

#endif
