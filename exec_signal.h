/* exec_signal.h - signalling a job from outside: its process group, its
 * leftovers, a queued job's supervisor (exec_signal.c). */
#ifndef AE_EXEC_SIGNAL_H
#define AE_EXEC_SIGNAL_H

#include "store_state.h"

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
