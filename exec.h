/* exec.h - running a job: its launch under a supervisor of its own, the
 * supervisor and its loop (exec.c). */
#ifndef AE_EXEC_H
#define AE_EXEC_H

#include <sys/types.h>

#include "store_queue.h"
#include "store_spec.h"
#include "store_state.h"

/* What the launching process hands over to the supervisor it forks. */
struct launch_context {
	mode_t old_umask;	/* the caller's umask, given to the job */
	int log_created;	/* a new job (run): job.created goes to the
				   event log once the caller has its answer */
	struct queue *queue;	/* the job's queue, open (a slot held for
				   --no-queue-wait); NULL: none */
};

/* Start the supervisor of job, whose ALIVE lock the caller holds in
 * job->lock_fd (the supervisor inherits it, and the queue's descriptors;
 * the caller's are closed here). Returns once the supervisor has recorded
 * the job as running with the child's pid, as queued (waiting for the
 * jobs it comes after, or for a slot), or as failed with the reason; a
 * failure to even start the supervisor is recorded as failed too. -1 only when nothing
 * could be recorded. */
int exec_launch(struct job *job, const struct job_spec *spec,
		const struct launch_context *context, struct error *e);

#endif
