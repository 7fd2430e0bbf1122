/* exec_queue.c - the supervisor's wait before its job may start. First the
 * jobs it comes after: it sleeps on each one's ALIVE lock until it ends
 * (a job not started yet is asked again each second); one of --after-ok
 * that did not exit 0 fails this job. Then its queue: a free slot at once
 * when no one waits, else a place at the end of the line and a wait for
 * the turn (store_queue.c). While it waits the job is recorded queued,
 * with what it waits for, and a termination signal takes it out of line:
 * the handler only notes it; every wait looks at the note before it
 * blocks and at least once a second. */
#include "exec_queue.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define RECHECK_MS 1000

/* The signals that end a waiting job, as the supervisor watches them. */
static const int stop_signals[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2
};
#define STOP_SIGNALS (sizeof(stop_signals) / sizeof(*stop_signals))

/* The one signal noted while the job waits (its handler's only word). */
static volatile sig_atomic_t stop_signal;

static void on_stop(int signo, siginfo_t *info, void *context)
{
	(void)context;
	/* kill asks with sigqueue: SIGTERM carrying the signal it was given */
	stop_signal = info && info->si_code == SI_QUEUE &&
			      info->si_value.sival_int > 0 &&
			      info->si_value.sival_int < 65
		      ? info->si_value.sival_int
		      : signo;
}

static void stop_signals_catch(void)
{
	struct sigaction action = { .sa_sigaction = on_stop,
				    .sa_flags = SA_SIGINFO };

	sigemptyset(&action.sa_mask);
	for (size_t i = 0; i < STOP_SIGNALS; i++)
		sigaction(stop_signals[i], &action, NULL);
}

/* Blocked first, so one that comes now waits for the supervisor's watch. */
static void stop_signals_block(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < STOP_SIGNALS; i++)
		sigaddset(&set, stop_signals[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&dfl.sa_mask);
	for (size_t i = 0; i < STOP_SIGNALS; i++)
		sigaction(stop_signals[i], &dfl, NULL);
}

/* Recorded queued, waiting for what (once for each): then the caller. */
static void mark_queued(struct turn_wait *t, const char *what)
{
	if (t->st->status == JOB_QUEUED &&
	    strcmp(t->st->waiting_for, what) == 0)
		return;
	state_queued(t->job, t->st, what);
	t->queued(t->ctx);
}

/* ---- the jobs it comes after ---------------------------------------- */

/* Whether job id has ended; *ok: it exited 0. A job deleted meanwhile has
 * ended, how is not known. Not ended: waited for, a second at most. */
static int dependency_ended(struct turn_wait *t, const char *id, int *ok)
{
	struct store_root root = { t->job->root, t->job->root };
	struct job dep;
	struct job_state st;
	struct error ignored;
	int ended = 1;

	*ok = 0;
	if (store_job_open(&root, id, &dep, &ignored) < 0)
		return errno == ENOENT || strcmp(ignored.code, "job_not_found")
			       == 0;
	if (state_observe(&dep, &st, &ignored) < 0 ||
	    !job_status_terminal(st.status)) {
		mark_queued(t, "dependencies");
		if (!stop_signal && store_wait_ended(&dep, RECHECK_MS) == 2 &&
		    !stop_signal)
			poll(NULL, 0, RECHECK_MS);	/* not started yet */
		ended = 0;
	} else {
		*ok = st.status == JOB_EXITED && st.has_exit_code &&
		      st.exit_code == 0;
	}
	store_job_close(&dep);
	return ended;
}

/* Each of --after-ok first, so one that failed fails this job early. */
static enum turn await_dependencies(struct turn_wait *t)
{
	const struct strv *lists[2] = { &t->spec->after_ok, &t->spec->after };

	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->n; i++) {
			const char *id = lists[l]->v[i];
			int ok;

			while (!dependency_ended(t, id, &ok))
				if (stop_signal)
					return TURN_STOPPED;
			if (l == 0 && !ok) {
				copy_str(t->st->error, sizeof(t->st->error),
					 "dependency_failed");
				copy_str(t->st->dependency,
					 sizeof(t->st->dependency), id);
				return TURN_DEPENDENCY_FAILED;
			}
		}
	}
	return TURN_GO;
}

/* ---- a slot ------------------------------------------------------------- */

static enum turn await_slot(struct turn_wait *t)
{
	struct queue *q = t->queue;

	if (q->slot >= 0 || (queue_line_empty(q) && queue_try_slot(q) == 1))
		return TURN_GO;
	if (queue_join(q, t->job->id) < 0) {
		snprintf(t->st->error, sizeof(t->st->error), "cannot join the "
			 "line of queue %s: %s", t->spec->queue,
			 strerror(errno));
		return TURN_ERROR;
	}
	mark_queued(t, "slot");
	if (queue_await_slot(q, &stop_signal) == 0)
		return TURN_GO;
	if (errno == ECANCELED)
		return TURN_STOPPED;
	snprintf(t->st->error, sizeof(t->st->error), "cannot wait for a slot "
		 "of queue %s: %s", t->spec->queue, strerror(errno));
	return TURN_ERROR;
}

enum turn exec_await_turn(struct turn_wait *t)
{
	enum turn outcome;

	stop_signals_catch();
	outcome = await_dependencies(t);
	if (outcome == TURN_GO && t->queue)
		outcome = await_slot(t);
	stop_signals_block();
	if (outcome == TURN_GO && stop_signal)
		outcome = TURN_STOPPED;	/* came as it got its turn */
	if (outcome == TURN_STOPPED && t->queue) {
		queue_leave(t->queue);
		queue_release_slot(t->queue);
	}
	t->signo = stop_signal;
	return outcome;
}
