/* exec.h - launching a job: the double fork, the supervisor's event loop
 * (signals, output pipes, timers), the child's environment, cwd and process
 * group, timeout and kill-after, and output capture into the logs. */
#ifndef AE_EXEC_H
#define AE_EXEC_H

#include <sys/types.h>

#include "store_spec.h"

/* What the launching process hands over to the supervisor it forks. */
struct launch_context {
	mode_t old_umask;	/* the caller's umask, given to the job */
	char **argv;		/* the caller's argv: the supervisor blanks it,
				   so no argument (an --env value) stays
				   visible in ps for the life of the job */
	int argc;
	/* the job.created event, for the supervisor to log once it has
	 * answered (NULL: logged already) */
	char *created_event;
	size_t created_len;
};

/* Start the supervisor of job, whose ALIVE lock the caller holds in
 * job->lock_fd (the supervisor inherits it; the caller's descriptor is
 * closed here). Returns once the supervisor has recorded the job as
 * running with the child's pid, or as failed with the reason; a failure to
 * even start the supervisor is recorded as failed too. -1 only when nothing
 * could be recorded. */
int exec_launch(struct job *job, const struct job_spec *spec,
		const struct launch_context *context, struct error *e);

/* Parse a signal given as TERM, SIGTERM, term or a number; -1 if unknown. */
int signal_parse(const char *text);

#endif
