/* notify.h - events about jobs (job.finished, job.output.matched) and their
 * delivery to sinks. The supervisor calls in here once the terminal record
 * is on disk. Sinks (command, file), retries and delivery records arrive
 * with the notifications work; until then a job has no sinks. */
#ifndef AE_NOTIFY_H
#define AE_NOTIFY_H

#include "store.h"

/* Deliver job.finished for a job whose terminal record is written. Returns
 * when delivery is finished or given up. */
void notify_job_finished(const struct job *job, const struct job_spec *spec,
			 const struct job_state *state);

#endif
