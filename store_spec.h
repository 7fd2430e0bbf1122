/* store_spec.h - a job's definition on disk: meta.json and env.json written,
 * read back, updated under a lock; tags; its stdin file (store_spec.c). */
#ifndef AE_STORE_SPEC_H
#define AE_STORE_SPEC_H

#include <stdint.h>

#include "store.h"
#include "store_tags.h"

/* meta.json's "notification", as recorded: the sinks of job.finished, how
 * to deliver, the output-match rule; NULL strings and has_* = 0 stand for
 * absent members. Read and written here only; what it means (defaults,
 * regexes, merging) is notify.c's. */
struct notification_spec {
	const char *command, *file;
	int has_timeout, has_retries;
	uint64_t timeout_ms, retries;
	const char *pattern, *match_type, *stream, *match_command, *match_file;
	const char *on;		/* --notify-on: "success" or "failure" */
};
/* The members of a "notification" value (NULL: none). */
void spec_read_notification(const struct json_value *notification,
			    struct notification_spec *out);
/* The "notification" value: the strings given, the numbers had, and the
 * output-match rule when it has a pattern (match_type "contains" and
 * stream "either" unless given). */
void spec_write_notification(struct json_writer *w,
			     const struct notification_spec *n);

/* A job's definition: what run/create record in meta.json, what start
 * reads back, what the supervisor launches. The spec owns its arrays and
 * its cwd and full_log (spec_free); the strings in the arrays are borrowed
 * (from argv, or from the parsed records of struct spec_records). */
struct job_spec {
	struct strv command;	/* argv as given */
	struct strv wrapper;	/* shell wrapper argv, e.g. sh -lc */
	char *cwd;		/* effective working directory */
	struct strv env;	/* KEY=VALUE from --env, real values */
	struct strv env_files;	/* absolute paths, read when the job starts */
	struct strv mask;	/* keys whose values are never shown */
	struct strv tags;
	struct strv meta;	/* caller metadata KEY=VALUE, keys unique */
	int inherit_env;
	int kill_leftovers;	/* end what the job leaves when it ends */
	uint64_t timeout_ms, kill_after_ms, progress_every_ms;
	char *full_log;		/* --log: absolute, NULL = <job>/full.log */
	enum stdin_mode {
		STDIN_NULL, STDIN_FILE, STDIN_INTERACTIVE
	} stdin_mode;
	uint64_t stdin_bytes;	/* STDIN_FILE: the size of <job>/stdin */
	int pty;		/* on a pseudo-terminal (takes input too) */
	unsigned pty_cols, pty_rows;
	const char *queue;	/* --queue, NULL = none */
	struct strv after, after_ok;	/* full ids of the jobs it comes after */
	struct notification_spec notification;	/* strings borrowed */
	int has_notification;	/* written to meta.json */
};
void spec_free(struct job_spec *spec);
/* A copy of from that owns all its strings (the supervisor's: the
 * originals live in the caller's argv, which it blanks). -1 when out of
 * memory, with what was copied left to the process's exit. */
int spec_copy(struct job_spec *to, const struct job_spec *from);

/* Caller metadata keys set by --callback-session / --callback-agent. */
#define META_CALLBACK_SESSION "callback_session"
#define META_CALLBACK_AGENT "callback_agent"

/* Whether the KEY of a "KEY=VALUE" entry (or of "KEY") is one of mask
 * (NULL: none is). */
int spec_env_masked(const struct strv *mask, const char *entry);
/* "KEY=VALUE" as shown to users: "KEY=***" when KEY is masked. */
char *spec_env_display(const struct job_spec *spec, const char *entry);
/* The "env_vars" member (shown form), when there are --env entries. */
void spec_write_env_vars(struct json_writer *w, const struct job_spec *spec);

/* The "meta" member: the caller metadata of a spec, its KEY=VALUE
 * entries as an object. */
void spec_write_caller_meta(struct json_writer *w,
			    const struct job_spec *spec);

/* Write meta.json (and, with --env entries, env.json: their real values,
 * which start and restart need, in a file of its own, 0600). */
int store_write_meta(const struct job *job, const struct store_root *root,
		     const struct job_spec *spec, const char *created_at,
		     struct error *e);
/* The parsed records a spec read back from disk borrows its strings from. */
struct spec_records {
	struct json_doc meta, env;
	struct strv owned;	/* strings built for the spec */
};
/* Rebuild a job's spec from meta.json and env.json (start, restart). */
int store_read_spec(const struct job *job, struct job_spec *spec,
		    struct spec_records *records, struct error *e);
void spec_records_free(struct spec_records *records);
/* Parse meta.json (corrupt_record when unreadable or missing required
 * keys). */
int store_read_meta(const struct job *job, struct json_doc *doc,
		    struct error *e);
/* Whether a parsed meta.json has the keys every record must have. */
int meta_complete(const struct json_value *meta);
/* Write the "meta" member: the caller metadata of meta.json ({} if none). */
void store_write_caller_meta(struct json_writer *w,
			     const struct json_value *meta_record);
/* The caller metadata object alone ({} when none). */
void write_caller_meta_value(struct json_writer *w,
			     const struct json_value *meta_record);
/* Whether meta.json configures a job.finished sink. */
int meta_wants_completion(const struct json_value *meta);

/* Replace the tags in meta.json, under LOCK_META. */
int store_set_tags(const struct job *job, const struct strv *tags,
		   struct error *e);
/* Read-modify-write one member of meta.json under LOCK_META: build gets
 * the member's current value (NULL if absent) and writes the new one into
 * value; it returns 1 to set it, 0 to remove the member, -1 to give up
 * (with e filled). Every other member is kept as it is. */
typedef int (*meta_member_builder)(const struct json_value *old,
				   struct json_writer *value, void *ctx,
				   struct error *e);
int store_meta_update(const struct job *job, const char *key,
		      meta_member_builder build, void *ctx, struct error *e);

/* start --queue: meta.json's queue set. */
int store_set_queue(const struct job *job, const char *queue,
		    struct error *e);
/* start --kill-leftovers: meta.json's kill_leftovers set, for this and
 * every later look at the job's definition. */
int store_set_kill_leftovers(const struct job *job, struct error *e);

/* <job>/stdin, the bytes a job reads as its standard input: copied from
 * fd until end of file, at most max_bytes (more is an error). */
int store_write_stdin(const struct job *job, int fd, uint64_t max_bytes,
		      uint64_t *bytes, struct error *e);

#endif
