/* store_scan.h - the store as a whole: every job as list shows it, and
 * the hooks list and gc call (store_scan.c; gc: store_gc.h). */
#ifndef AE_STORE_SCAN_H
#define AE_STORE_SCAN_H

#include <dirent.h>
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
	/* its list entry, from list's index (the list's index_text), or
	 * NULL: then the fields above are all there */
	const char *entry;
	size_t entry_len;
	int in_slab;		/* one of the list's slab: not freed alone */
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
	int finished;			/* terminal jobs only */
	uint64_t limit;			/* only the newest N are wanted (0:
					 * all): the list holds them, and one
					 * more when there are more */
};
struct job_list {
	struct job_summary **jobs;
	size_t count, cap;
	uint64_t skipped;	/* job directories that could not be read */
	char *index_text;	/* list's index, which entries point into */
	struct job_summary *slab;	/* the summaries read from it */
	size_t slab_used, slab_size;
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
	/* list: write the job's entry (what list's index keeps of it) */
	void (*entry)(struct json_writer *w, const struct job_summary *summary);
};
/* The jobs of the root that pass filter (a missing root has none),
 * newest started first, never-started ones last, ties by id, newest
 * first. hooks->finished is called for each finished job whose
 * job.finished was due. */
int store_list(const struct store_root *root, const struct job_filter *filter,
	       const struct job_hooks *hooks, struct job_list *list,
	       struct error *e);
void job_list_free(struct job_list *list);
/* The walks of the root (list, gc, summary): whether an entry of its
 * listing may be a job directory (not hidden; a directory, or of a type
 * the listing does not say). */
int store_entry_may_be_job(const struct dirent *entry);
/* The directory name of the root open as root_fd as job (no symlink
 * followed): 0, or -1 with errno. */
int store_job_at_name(const struct store_root *root, int root_fd,
		      const char *name, struct job *job);
/* The state.json of job directory name, read by its path from the root
 * (no liveness checked): 0, or -1 when unreadable. */
int store_state_at_name(const struct store_root *root, int root_fd,
			const char *name, struct job_state *st);
/* Add a summary to the list, which then owns it: 0, or -1/ENOMEM. */
int job_list_add(struct job_list *list, struct job_summary *summary);

#endif
