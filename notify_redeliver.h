/* notify_redeliver.h - job.finished delivered outside the supervisor: a
 * lost job's, and notify redeliver's (notify_redeliver.c). */
#ifndef AE_NOTIFY_REDELIVER_H
#define AE_NOTIFY_REDELIVER_H

#include "store_state.h"

/* For readers (status, wait, ...): a finished job whose job.finished is due
 * and not delivered, with nobody delivering it (its supervisor died), gets
 * a detached process that delivers it. */
void notify_ensure_delivered(const struct job *job,
			     const struct job_state *state);
/* "delivery_pending" when the finished job's job.finished was due and is
 * not delivered yet (pending, or never written), else NULL: gc keeps
 * such a job. */
const char *notify_undelivered(const struct job *job,
			       const struct job_state *state);

/* notify redeliver: deliver job.finished now, from this process (the
 * record on file, or one built from the terminal state when the
 * supervisor died before writing it); force: even when it was delivered.
 * invalid_state when the job is not finished, when another process is
 * delivering, when it was delivered (without force), when there is no
 * sink. */
struct redelivery {
	char event_id[128];
	int delivered;
	char *results;		/* the delivery_results array (heap) */
	uint64_t omitted;	/* attempts no longer listed in it */
};
int notify_redeliver_now(const struct job *job, const struct job_state *st,
			 int force, struct redelivery *out, struct error *e);

#endif
