/* exec.h - running a job: its launch under a supervisor of its own, the
 * supervisor and its loop (exec.c), and signalling the job. */
#ifndef AE_EXEC_H
#define AE_EXEC_H

#include <sys/types.h>

#include "store_spec.h"
#include "store_state.h"

/* What the launching process hands over to the supervisor it forks. */
struct launch_context {
	mode_t old_umask;	/* the caller's umask, given to the job */
	int log_created;	/* a new job (run): job.created goes to the
				   event log once the caller has its answer */
};

/* Start the supervisor of job, whose ALIVE lock the caller holds in
 * job->lock_fd (the supervisor inherits it; the caller's descriptor is
 * closed here). Returns once the supervisor has recorded the job as
 * running with the child's pid, or as failed with the reason; a failure to
 * even start the supervisor is recorded as failed too. -1 only when nothing
 * could be recorded. */
int exec_launch(struct job *job, const struct job_spec *spec,
		const struct launch_context *context, struct error *e);

/* Whether signo's default action ends a process (kill waits for the job's
 * end only after those). */
int signal_ends_job(int signo);
/* Send signo to the job's process group (or its main process, when the
 * group is gone), once its session is vouched for; for a job that is no
 * longer running (its supervisor lost), to every process left of its
 * session. 0 when sent, or when there is nothing (left) to signal; -1
 * with e set. */
int exec_signal_job(const struct job *job, const struct job_state *st,
		    int signo, struct error *e);

#endif
