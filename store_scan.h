/* store_scan.h - the store as a whole: every job as list shows it, gc's
 * decisions, and removing a job directory (store_scan.c). */
#ifndef AE_STORE_SCAN_H
#define AE_STORE_SCAN_H

#include <stdint.h>

#include "store_spec.h"
#include "store_state.h"

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

/* A derived short name for a job: its command's verb and target
 * ("npm run build", "pytest tests/"), at most name_size - 1 bytes. */
void job_name(const struct json_value *command, char *name, size_t name_size);

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

#endif
