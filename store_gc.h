/* store_gc.h - taking jobs out of the store: a job removed whole (delete)
 * and gc over the root, by age and by limits (store_gc.c). */
#ifndef AE_STORE_GC_H
#define AE_STORE_GC_H

#include <stdint.h>

#include "store_scan.h"

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
/* freed_bytes: really freed; would_*: what a dry run would delete. */
struct gc_totals {
	uint64_t deleted, skipped, freed_bytes, would_delete, would_free_bytes;
};
typedef int (*gc_visitor)(void *ctx, const struct gc_entry *entry);
/* What gc is asked to do: a job goes when any rule given says so. */
struct gc_request {
	const char *cutoff;	/* a timestamp: finished before it goes;
				 * NULL: age is no reason */
	const char *older_than;	/* the retention as given, for the reasons */
	int has_max_jobs, has_max_bytes;
	uint64_t max_jobs;	/* the newest N finished jobs stay */
	uint64_t max_bytes;	/* the newest finished jobs within B bytes
				 * stay, the older ones go */
	int dry_run;		/* only say what would go */
	int64_t deadline;	/* monotonic ms after which gc stops where
				 * it is (0: none) */
	const struct job_hooks *hooks;
};
/* Collect finished jobs the request's rules let go (finished_at, else
 * updated_at, is before the cutoff; or they are beyond a limit, counted
 * newest first). Running jobs are never touched (a lost one is recorded
 * as failed first) and never counted, nor a job whose job.finished is
 * not delivered yet (hooks->keep; its delivery is started), nor one
 * another command holds a lock of ("busy"); symlinks are not followed. */
int store_gc(const struct store_root *root, const struct gc_request *req,
	     gc_visitor visit, void *ctx, struct gc_totals *totals,
	     struct error *e);
/* Collect as req says, in a detached process (its own session, stdio on
 * /dev/null), so that the caller's answer and exit wait for nothing: at
 * most one at a time and one a minute (<root>/.gc-auto: its mtime when
 * the last began, a line of JSON what it did), stopped after 5 s where
 * it is. Best effort: nothing is reported. */
void store_gc_auto(const struct store_root *root,
		   const struct gc_request *req);
/* The bytes of the regular files of a job directory. */
uint64_t store_job_bytes(const struct job *job);
/* Remove a job directory (no symlink followed); *bytes gets what it held. */
int store_job_remove(const struct store_root *root, struct job *job,
		     uint64_t *bytes, struct error *e);

#endif
