/* store.h - the job store: root resolution, job ids, job directories,
 * atomic records (meta.json, state.json), the job lock that tells a live
 * supervisor from a dead one, listing, and bounded reads of log tails. */
#ifndef AE_STORE_H
#define AE_STORE_H

#include <stdint.h>
#include <sys/types.h>

#include "json.h"
#include "sys.h"

#define SCHEMA_VERSION "0.1"
#define JOB_ID_LEN 26		/* a ULID */
#define JOB_ID_MAX 64		/* longest id (or prefix) we accept */
#define RECORD_MAX (8u << 20)	/* largest meta.json/state.json we read */
#define ERROR_TEXT_MAX 512

/* Bytes of <job>/lock used as separate locks. ALIVE is write-locked from
 * the moment the job directory exists until its terminal record is written:
 * by the launching CLI, then by the supervisor that inherits the open file
 * description. A free ALIVE lock on a "running" job means it was lost. */
enum job_lock_byte {
	LOCK_ALIVE = 0,
	LOCK_RECOVER = 1,	/* serialises recovery of a lost job */
	LOCK_META = 2,		/* serialises read-modify-write of meta.json */
	LOCK_DELIVERY = 3,	/* held while job.finished is being delivered */
};

enum job_status {
	JOB_CREATED, JOB_RUNNING, JOB_EXITED, JOB_KILLED, JOB_FAILED,
	JOB_UNKNOWN
};

const char *job_status_name(enum job_status status);
int job_status_parse(const char *name, enum job_status *out);
int job_status_terminal(enum job_status status);

/* state.json, as a fixed-size value (no allocation). Empty strings and
 * has_* flags stand for absent or null fields. */
struct job_state {
	char id[JOB_ID_MAX + 1];
	enum job_status status;
	char started_at[TIMESTAMP_LEN + 1];
	char finished_at[TIMESTAMP_LEN + 1];
	char updated_at[TIMESTAMP_LEN + 1];
	int has_exit_code, has_duration, has_pid, has_usage;
	int exit_code;
	char signal[16];	/* number as text, "" = null */
	uint64_t duration_ms;
	int64_t pid;		/* the job's main process = its group id */
	int64_t supervisor_pid;	/* 0 = unknown */
	int timed_out;
	int completion_event;	/* job.finished was due when the job ended */
	int recovered;		/* not stored: this read recorded the loss */
	char error[ERROR_TEXT_MAX];	/* "" = no error */
	uint64_t user_cpu_ms, sys_cpu_ms, max_rss_kib;
};

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
	uint64_t timeout_ms, kill_after_ms, progress_every_ms;
	char *full_log;		/* --log: absolute, NULL = <job>/full.log */
	enum stdin_mode {
		STDIN_NULL, STDIN_FILE, STDIN_INTERACTIVE
	} stdin_mode;
	uint64_t stdin_bytes;	/* STDIN_FILE: the size of <job>/stdin */
	int pty;		/* on a pseudo-terminal (takes input too) */
	unsigned pty_cols, pty_rows;
	const char *notify_command;	/* job.finished sinks, NULL = none */
	const char *notify_file;	/* absolute */
	uint64_t notify_timeout_ms, notify_retries;
	int notify_delivery_set;	/* either was given */
};
void spec_free(struct job_spec *spec);

/* Caller metadata keys set by --callback-session / --callback-agent. */
#define META_CALLBACK_SESSION "callback_session"
#define META_CALLBACK_AGENT "callback_agent"

/* The jobs root: path as resolved (shown to users), absolute form (used in
 * paths we print). */
struct store_root {
	char *path;
	char *abs;
};

struct job {
	char id[JOB_ID_MAX + 1];
	char *dir;		/* absolute path of the job directory */
	int dir_fd;
	int lock_fd;		/* -1 unless this process holds a lock */
};

int store_root_resolve(const char *flag_root, struct store_root *root,
		       struct error *e);
void store_root_free(struct store_root *root);

/* A new ULID: 48-bit time in ms, 80 random bits, Crockford base32. */
void job_id_generate(char out[JOB_ID_LEN + 1]);
/* 1 if text may name a job (letters, digits, '-', '_'; 1..JOB_ID_MAX). */
int job_id_valid(const char *text);

/* Create the root (0700) if needed and a new job directory in it (0700),
 * holding its ALIVE lock in job->lock_fd. */
int store_job_new(const struct store_root *root, struct job *job,
		  struct error *e);
/* Open an existing job by id or unambiguous id prefix. Errors:
 * invalid_job_id, job_not_found, ambiguous_job_id. */
int store_job_open(const struct store_root *root, const char *id,
		   struct job *job, struct error *e);
void store_job_close(struct job *job);
/* Remove a job directory this process just made (a failed run/create
 * leaves nothing behind), and close it. */
void store_job_discard(const struct store_root *root, struct job *job);
/* Absolute path of a file in the job directory (heap). */
char *store_job_path(const struct job *job, const char *name);
/* The "stdout_log_path" and "stderr_log_path" members. */
void store_write_log_paths(struct json_writer *w, const struct job *job);

/* "KEY=VALUE" as shown to users: "KEY=***" when KEY is masked. */
char *spec_env_display(const struct job_spec *spec, const char *entry);
/* The "env_vars" member (shown form), when there are --env entries. */
void spec_write_env_vars(struct json_writer *w, const struct job_spec *spec);

/* Write meta.json (and, when keep_env is set, env.json: the real --env
 * values a job started later needs, in a file of its own, 0600). */
int store_write_meta(const struct job *job, const struct store_root *root,
		     const struct job_spec *spec, const char *created_at,
		     int keep_env, struct error *e);
/* The parsed records a spec read back from disk borrows its strings from. */
struct spec_records {
	struct json_doc meta, env;
	struct strv owned;	/* strings built for the spec */
};
/* Rebuild a job's spec from meta.json and env.json (for start). */
int store_read_spec(const struct job *job, struct job_spec *spec,
		    struct spec_records *records, struct error *e);
void spec_records_free(struct spec_records *records);
/* Write the "meta" member: the caller metadata of meta.json ({} if none). */
void store_write_caller_meta(struct json_writer *w,
			     const struct json_value *meta_record);
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
/* Whether meta.json configures a job.finished sink. */
int meta_wants_completion(const struct json_value *meta);
/* Parse meta.json (corrupt_record when unreadable or missing required
 * keys). */
int store_read_meta(const struct job *job, struct json_doc *doc,
		    struct error *e);
/* <job>/stdin, the bytes a job reads as its standard input: copied from
 * fd until end of file, at most max_bytes (more is an error). */
int store_write_stdin(const struct job *job, int fd, uint64_t max_bytes,
		      uint64_t *bytes, struct error *e);
/* A derived short name for a job: its command's verb and target
 * ("npm run build", "pytest tests/"), at most name_size - 1 bytes. */
void job_name(const struct json_value *command, char *name, size_t name_size);
/* Create the three log files, empty, 0600 (they exist once run returns). */
int store_create_logs(const struct job *job, struct error *e);

/* How durable a record write is: not at all, its data only (the caller
 * fsyncs the directory after a later write, which makes this rename
 * durable too: one journal commit fewer), or data and name. */
enum { DURABLE_NONE, DURABLE_FULL, DURABLE_DATA };

/* Atomic record write: temp file, fsync (DURABLE_FULL or DURABLE_DATA),
 * rename, fsync of the directory (DURABLE_FULL). 0, or -1/errno. */
int store_write_record(int dir_fd, const char *name, const char *data,
		       size_t len, int durable);
int store_write_state(int dir_fd, const struct job_state *state,
		      int durable);
/* Set aside space for one state record (<job>/.reserve), so the terminal
 * record can be written even when the job's output has filled the disk;
 * store_write_state falls back to it on ENOSPC. Release it when unused. */
int store_reserve_record(int dir_fd);
void store_release_reserve(int dir_fd);
/* Read state.json as it is on disk (errno ENOENT when missing). */
int store_read_state(const struct job *job, struct job_state *state,
		     struct error *e);
/* The job's true state: state.json, except that a job whose supervisor is
 * gone is recorded (once, under LOCK_RECOVER) as failed/supervisor_lost. */
int store_job_state(const struct job *job, struct job_state *state,
		    struct error *e);

/* Lock primitives on <job>/lock. */
int job_lock_open(int dir_fd);
int job_lock_take(int lock_fd, enum job_lock_byte byte, int exclusive,
		  int wait);
int job_lock_release(int lock_fd, enum job_lock_byte byte);
/* job_lock_take, waiting at most timeout_ms (< 0: no limit): 1 taken,
 * 0 timed out, -1 on error. */
int job_lock_take_timed(int lock_fd, enum job_lock_byte byte, int exclusive,
			int64_t timeout_ms);
/* 1 if another open file holds byte exclusively, 0 if free, -1 on error. */
int job_lock_held(int lock_fd, enum job_lock_byte byte);
/* Block until the job's ALIVE lock is free (the job ended or its
 * supervisor died) or timeout_ms passed (< 0: no limit). 1 ended, 0 timed
 * out, -1 on error. */
int store_wait_alive_free(const struct job *job, int64_t timeout_ms);

/* One job as list shows it. */
struct job_summary {
	char id[JOB_ID_MAX + 1];
	char created_at[TIMESTAMP_LEN + 1];
	char *cwd;		/* heap, NULL if absent */
	struct strv tags;	/* heap strings */
	char *meta_json;	/* the caller metadata object, compact JSON */
	char name[48];		/* derived from the command */
	int state_ok;		/* 0: state.json unreadable -> "unknown" */
	struct job_state state;
};
void job_summary_free(struct job_summary *summary);

/* Visit every job of the root whose meta.json parses (a missing root is
 * empty); *skipped counts unreadable ones. The visitor takes ownership of
 * the summary. */
typedef int (*job_visitor)(void *ctx, struct job_summary *summary);
int store_list(const struct store_root *root, job_visitor visit, void *ctx,
	       uint64_t *skipped, struct error *e);

/* Tags: segments of ASCII letters, digits and '-' joined by single dots.
 * NULL when text is a valid tag (pattern == 0) or list filter (pattern ==
 * 1: a tag, or a tag followed by ".*"), else why not. */
const char *tag_invalid(const char *text, int pattern);
/* Whether a job's tags match a filter: equal, or for "ns.*" equal to ns or
 * starting with "ns.". */
int tags_match(const struct strv *tags, const char *pattern);
/* Append tag unless already present (first occurrence kept). */
int tags_add(struct strv *tags, char *tag);

/* A gc retention: "30d", "24h", "60m", "3600s" or bare seconds (spaces
 * around allowed). 0, or -1 when malformed or too large. */
int parse_duration(const char *text, uint64_t *seconds);

/* gc: the decision for one job directory. */
struct gc_entry {
	const struct job *job;		/* NULL when it could not be opened */
	const struct job_state *st;	/* NULL when unreadable */
	const char *job_id;
	const char *state;
	const char *action;	/* "skipped", "deleted", "would_delete" */
	const char *reason;
	uint64_t bytes;
};
struct gc_totals {
	uint64_t deleted, skipped, freed_bytes;
};
typedef int (*gc_visitor)(void *ctx, const struct gc_entry *entry);
/* Collect finished jobs whose finished_at (else updated_at) is before
 * cutoff (a timestamp); dry_run only says what would go. Running jobs are
 * never touched (a lost one is recorded as failed first); symlinks are not
 * followed. older_than is the retention as given, for the reasons. */
int store_gc(const struct store_root *root, const char *cutoff,
	     const char *older_than, int dry_run, gc_visitor visit, void *ctx,
	     struct gc_totals *totals, struct error *e);
/* Remove a job directory (no symlink followed); *bytes gets what it held. */
int store_job_remove(const struct store_root *root, struct job *job,
		     uint64_t *bytes, struct error *e);

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
/* log: lines of one log file (a name in the job directory, e.g.
 * "stdout.log", or an absolute path: a --log PATH), from line offset (or
 * the last limit lines when offset < 0), as the members "lines",
 * "total_lines", "offset", "next_offset", "has_more", "truncated_lines". */
int store_log_page(struct json_writer *w, const struct job *job,
		   const char *path, int64_t offset, int64_t limit,
		   struct error *e);

#endif
