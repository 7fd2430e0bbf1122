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
	char *created_at;	/* heap */
	char *cwd;		/* heap, NULL if absent */
	struct strv tags;	/* heap strings */
	char *meta_json;	/* the caller metadata object, compact JSON */
	char *command_json;	/* the command's argv, compact JSON */
	char name[48];		/* derived from the command */
	int state_ok;		/* 0: state.json unreadable -> "unknown" */
	struct job_state state;
};
void job_summary_free(struct job_summary *summary);

/* The state list shows: the job's, or "unknown" when unreadable. */
const char *summary_state(const struct job_summary *summary);
/* A job's summary from its meta.json alone (state not read). */
int store_summary(const struct job *job, struct job_summary **out,
		  struct error *e);

/* Which jobs list shows: all filters must pass (NULL: any). */
struct job_filter {
	const char *cwd;		/* the job's cwd, exactly */
	const char *state;		/* a state name, or "unknown" */
	const struct strv *tags;	/* each must match (tags_match) */
	const struct strv *meta;	/* KEY=VALUE: each must be the
					 * job's caller metadata */
	const char *queue;		/* the job's queue */
};
struct job_list {
	struct job_summary **jobs;
	size_t count, cap;
	uint64_t skipped;	/* job directories that could not be read */
};
/* What list and gc ask of the wings above about a finished job whose
 * job.finished was due (the store knows nothing of notifications). */
struct job_hooks {
	/* deliver job.finished when it is not delivered and nobody is
	 * delivering it (its supervisor died) */
	void (*finished)(const struct job *job, const struct job_state *st);
	/* a reason gc must keep the job (job.finished not delivered yet),
	 * or NULL */
	const char *(*keep)(const struct job *job, const struct job_state *st);
};
/* The jobs of the root that pass filter (a missing root has none),
 * newest started first, never-started ones last, ties by id, newest
 * first. hooks->finished is called for each finished job whose
 * job.finished was due. */
int store_list(const struct store_root *root, const struct job_filter *filter,
	       const struct job_hooks *hooks, struct job_list *list,
	       struct error *e);
void job_list_free(struct job_list *list);
/* Add a summary to the list, which then owns it: 0, or -1/ENOMEM. */
int job_list_add(struct job_list *list, struct job_summary *summary);

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
/* freed_bytes: really freed; would_*: what a dry run would delete. */
struct gc_totals {
	uint64_t deleted, skipped, freed_bytes, would_delete, would_free_bytes;
};
typedef int (*gc_visitor)(void *ctx, const struct gc_entry *entry);
/* What gc is asked to do. */
struct gc_request {
	const char *cutoff;	/* a timestamp: finished before it goes */
	const char *older_than;	/* the retention as given, for the reasons */
	int dry_run;		/* only say what would go */
	const struct job_hooks *hooks;
};
/* Collect finished jobs whose finished_at (else updated_at) is before
 * the cutoff. Running jobs are never touched (a lost one is recorded as
 * failed first), nor a job whose job.finished is not delivered yet
 * (hooks->keep; its delivery is started), nor one another command holds
 * a lock of ("busy"); symlinks are not followed. */
int store_gc(const struct store_root *root, const struct gc_request *req,
	     gc_visitor visit, void *ctx, struct gc_totals *totals,
	     struct error *e);
/* Remove a job directory (no symlink followed); *bytes gets what it held. */
int store_job_remove(const struct store_root *root, struct job *job,
		     uint64_t *bytes, struct error *e);

#endif
