/* notify.h - events about jobs (job.finished, job.output.matched) and their
 * delivery to sinks: a command (run through the shell wrapper, the event
 * JSON on its stdin) or a file (one NDJSON line per event). Every attempt
 * is a child process of the caller's event loop, so delivery never blocks
 * it; a hanging attempt is killed at its timeout, a failed one retried with
 * backoff, and each attempt is recorded. */
#ifndef AE_NOTIFY_H
#define AE_NOTIFY_H

#include <stdint.h>
#include <sys/types.h>

#include "json.h"
#include "pattern.h"
#include "store.h"

#define NOTIFY_TIMEOUT_DEFAULT 60000
#define NOTIFY_RETRIES_DEFAULT 3

enum match_stream { MATCH_STDOUT = 1, MATCH_STDERR = 2, MATCH_EITHER = 3 };

/* meta.json's "notification", parsed; strings borrowed from the record. */
struct notify_settings {
	const char *command;	/* job.finished command sink */
	const char *file;	/* job.finished file sink */
	uint64_t timeout_ms;	/* one attempt of a sink, at most */
	uint64_t retries;	/* attempts after the first failure */
	int match;		/* on_output_match configured */
	const char *pattern;
	int match_regex;	/* 0: contains, 1: POSIX ERE */
	enum match_stream stream;
	const char *match_command, *match_file;
	struct pattern *compiled;	/* when match_regex; notify_settings_free */
};

/* Read the settings from a parsed meta.json (defaults when absent); a
 * regex is compiled (invalid_regex when it does not compile). */
int notify_settings_read(const struct json_value *meta,
			 struct notify_settings *settings, struct error *e);
void notify_settings_free(struct notify_settings *settings);
/* Whether job.finished has a sink. */
int notify_finished_wanted(const struct notify_settings *settings);
/* Whether a line of stream (MATCH_STDOUT or MATCH_STDERR) matches. */
int notify_line_matches(const struct notify_settings *settings,
			enum match_stream stream, const char *line, size_t len);

/* notify set: NULL leaves a setting as it is, "" clears it. The five
 * output flags follow agent-exec 0.1: given any, the rule is rebuilt from
 * the current one (or contains/either), and an empty pattern removes it. */
struct notify_change {
	const char *command, *file;
	const char *pattern, *match_type, *stream, *match_command, *match_file;
	int has_timeout, has_retries;
	uint64_t timeout_ms, retries;
	char *result;		/* the resulting "notification", compact (heap) */
};
int notify_set(const struct job *job, struct notify_change *change,
	       struct error *e);

/* The delivery engine. */
struct notifier;

/* What sink children need to know: the job, how to run commands. */
struct notifier_config {
	const struct job *job;
	const struct strv *wrapper;	/* shell wrapper for command sinks */
	const char *cwd;		/* where command sinks run */
	const char *callback_session, *callback_agent;	/* NULL if none */
};

/* The config for a job's spec (wrapper, cwd, callback metadata). */
void notifier_config_init(struct notifier_config *config,
			  const struct job *job, const struct job_spec *spec);
struct notifier *notifier_new(const struct notifier_config *config);
void notifier_free(struct notifier *n);

/* Build job.finished from the terminal state and meta.json (and add it
 * to the event log when logged); when the settings have sinks, write it to
 * completion_event.json (atomic, fsynced, "delivery_status":"pending")
 * and queue its delivery. */
int notifier_job_finished(struct notifier *n, const struct job_state *state,
			  const struct json_value *meta,
			  const struct notify_settings *settings, int logged);
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
 * text, and whether delivery succeeded (for notify redeliver's answer). */
const char *notifier_results(const struct notifier *n, int *delivered);

/* For readers (status, wait, ...): a finished job whose job.finished is due
 * and not delivered, with nobody delivering it (its supervisor died), gets
 * a detached process that delivers it. */
void notify_ensure_delivered(const struct job *job,
			     const struct job_state *state);

#endif
