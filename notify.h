/* notify.h - events about jobs: the notification settings, notify set, and
 * the payloads of job.finished and job.output.matched (notify.c). */
#ifndef AE_NOTIFY_H
#define AE_NOTIFY_H

#include <stdint.h>
#include <sys/types.h>

#include "json.h"
#include "lib/pattern.h"
#include "store_spec.h"
#include "store_state.h"

#define NOTIFY_TIMEOUT_DEFAULT 60000
#define NOTIFY_RETRIES_DEFAULT 3
#define EVENT_MAX (1u << 20)	/* largest event we build or read */

enum match_stream { MATCH_STDOUT = 1, MATCH_STDERR = 2, MATCH_EITHER = 3 };

/* meta.json's "notification", parsed; strings borrowed from the record. */
struct notify_settings {
	const char *command;	/* job.finished command sink */
	const char *file;	/* job.finished file sink */
	int on;			/* COMPLETION_ON_*: the ends they want */
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
/* The ends job.finished's sinks want (COMPLETION_ON_*, store_state.h;
 * --notify-on), 0 without a sink. */
int notify_finished_wanted(const struct notify_settings *settings);
/* Whether the end st records is due to job.finished's sinks. */
int notify_finished_due(const struct notify_settings *settings,
			const struct job_state *st);
/* --notify-on's word (finished, success, failure) as COMPLETION_ON_*;
 * 0 for another. */
int notify_on_parse(const char *word);
/* Whether a line of stream (MATCH_STDOUT or MATCH_STDERR) matches. */
int notify_line_matches(const struct notify_settings *settings,
			enum match_stream stream, const char *line, size_t len);

/* notify set: NULL leaves a setting as it is, "" clears it. The five
 * output flags follow agent-exec 0.1: given any, the rule is rebuilt from
 * the current one (or contains/either), and an empty pattern removes it. */
struct notify_change {
	const char *command, *file;
	const char *pattern, *match_type, *stream, *match_command, *match_file;
	const char *on;		/* --notify-on, or NULL */
	int has_timeout, has_retries;
	uint64_t timeout_ms, retries;
	char *result;		/* the resulting "notification", compact (heap) */
};
int notify_set(const struct job *job, struct notify_change *change,
	       struct error *e);
/* A rule's regex compiles (invalid_regex otherwise): 0, or -1. */
int notify_rule_check(const struct notification_spec *rule,
		      struct error *e);

/* Who a job's events are for and how its command sinks run: the job, the
 * shell wrapper, the cwd, the masked keys, the callback metadata. */
struct notifier_config {
	const struct job *job;
	const struct strv *wrapper;	/* shell wrapper for command sinks */
	const char *cwd;		/* where command sinks run */
	const struct strv *mask;	/* left out of their environment */
	const char *callback_session, *callback_agent;	/* NULL if none */
	uint32_t attempt;	/* the job's run it is (1: the first) */
};

/* The config for a job's spec (wrapper, cwd, masks, callback metadata),
 * for its first attempt. */
void notifier_config_init(struct notifier_config *config,
			  const struct job *job, const struct job_spec *spec);
/* job.finished, the reference's keys then ours, built from the terminal
 * state and meta.json (with the tails of the logs); matches_dropped: the
 * output matches no sink was given so far (written when not 0). */
void notify_write_finished(struct json_writer *w,
			   const struct notifier_config *config,
			   const char *event_id, const struct job_state *st,
			   const struct json_value *meta,
			   uint64_t matches_dropped);
/* job.output.matched for one line of stream. */
void notify_write_matched(struct json_writer *w,
			  const struct notifier_config *config,
			  const char *event_id,
			  const struct notify_settings *settings,
			  const struct json_value *meta,
			  enum match_stream stream, const char *line,
			  size_t len);
/* job.output.dropped: count matches, from first_seq on, that found the
 * queue of matches waiting for their sinks full. */
void notify_write_dropped(struct json_writer *w,
			  const struct notifier_config *config,
			  uint64_t first_seq, uint64_t count);
/* An event's id: "ID:job.finished", or for seq > 0 the seq-th match,
 * "ID:job.output.matched:SEQ"; "-aN" after it for attempt N > 1. */
void notify_event_id(char *id, size_t size, const struct job *job,
		     uint32_t attempt, uint64_t seq);

#endif
