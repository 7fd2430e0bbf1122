/* store_tally.h - summary's counts by state: a job by its line of list's
 * index or its state.json; the running ones read (store_tally.c). */
#ifndef AE_STORE_TALLY_H
#define AE_STORE_TALLY_H

#include "store_scan.h"

/* A queue's jobs by state. */
struct queue_tally {
	char name[QUEUE_NAME_MAX + 1];
	uint64_t counts[JOB_STATUS_COUNT];
};
struct store_tally {
	uint64_t counts[JOB_STATUS_COUNT];	/* by enum job_status */
	uint64_t skipped;	/* directories not the caller's alone */
	struct job_list running;	/* longest running first */
	struct job_list queued;		/* first queued first */
	struct queue_tally *queues;	/* by name */
	size_t queue_count;
};
/* Count the jobs of the root by state (and by queue) from their lines
 * of list's index (a finished job whose directory is unchanged since) or
 * their state.json, but for a running or queued job, whose supervisor is
 * checked (a lost one is recorded as such: hooks->finished is called
 * then) and whose meta.json gives its command. A missing root has no
 * jobs. */
int store_tally(const struct store_root *root, const struct job_hooks *hooks,
		struct store_tally *tally, struct error *e);
void store_tally_free(struct store_tally *tally);

#endif
