/* exec_child.h - the job child from fork to exec (argv, environment, cwd,
 * stdio, session) and the report of a launch that failed (exec_child.c). */
#ifndef AE_EXEC_CHILD_H
#define AE_EXEC_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/redact.h"
#include "store_spec.h"
#include "store_state.h"

/* What the supervisor keeps of a child it started. */
struct child {
	pid_t pid;		/* the job's main process = its group */
	int report_fd;		/* the launch report: end of file = exec'd */
	int out_fd, err_fd;	/* its output (out_fd: its terminal), or -1 */
	int input_fd;		/* its stdin's write end, a copy of its
				   terminal, or -1 when it takes no input */
	int input_is_pty;
	struct redact_set secrets;	/* its masked variables' values */
};

/* Start the job as spec says, in its own session, with the caller's umask
 * job_umask. 0 with c filled (the exec still to be confirmed; c->secrets:
 * the value of each masked key in the environment the job was given,
 * whatever its source), or -1 with why filled and nothing left open. */
int child_start(struct child *c, const struct job *job,
		const struct job_spec *spec, mode_t job_umask, char *why,
		size_t why_size);
/* Wait for the child's launch report: 0 when it is the job now; -1 with
 * why filled when it could not be (the child is reaped, its descriptors
 * closed), and exec_error set when its command could not be executed. */
int child_await(struct child *c, const struct job_spec *spec, char *why,
		size_t why_size, enum exec_error *exec_error);
/* A started child that must not run after all: killed, reaped, closed
 * (its secrets forgotten). */
void child_abort(struct child *c);

#endif
