/* exec_queue.h - the supervisor's wait before its job may start: the jobs
 * it comes after (--after, --after-ok), then a slot of its queue. */
#ifndef AE_EXEC_QUEUE_H
#define AE_EXEC_QUEUE_H

#include "store_queue.h"
#include "store_spec.h"
#include "store_state.h"

enum turn { TURN_GO, TURN_STOPPED, TURN_DEPENDENCY_FAILED, TURN_ERROR };

struct turn_wait {
	struct job *job;
	const struct job_spec *spec;
	struct queue *queue;	/* NULL: the job has none */
	struct job_state *st;	/* recorded queued while it waits */
	void (*queued)(void *ctx);	/* once it is: the caller is told */
	void *ctx;
	int signo;		/* TURN_STOPPED: the signal that did it */
};

/* Wait for the job's turn: TURN_GO (a slot held when it has a queue),
 * TURN_STOPPED (a signal took it out of line; SIGTERM sent with sigqueue
 * carries the signal kill was asked for), TURN_DEPENDENCY_FAILED
 * (st->error and st->dependency say which), TURN_ERROR (st->error says
 * why). The termination signals are blocked on return, to be watched. */
enum turn exec_await_turn(struct turn_wait *t);

#endif
