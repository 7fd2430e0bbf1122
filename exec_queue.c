/* exec_queue.c - the supervisor's wait before its job may start. First the
 * jobs it comes after: it sleeps on the ALIVE lock of one still going
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

#include "lib/sig.h"

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

static void stop_signals_act(struct sigaction *action)
{
	sigemptyset(&action->sa_mask);
	for (size_t i = 0; i < STOP_SIGNALS; i++)
		sigaction(stop_signals[i], action, NULL);
}

/* Caught, and let in: whoever started us may have held them off. */
static void stop_signals_catch(void)
{
	struct sigaction action = { .sa_sigaction = on_stop,
				    .sa_flags = SA_SIGINFO };

	stop_signals_act(&action);
	for (size_t i = 0; i < STOP_SIGNALS; i++)
		sig_hold(stop_signals[i], 0);
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
	stop_signals_act(&dfl);
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
 * ended, how is not known. */
static int dependency_ended(struct turn_wait *t, const char *id, int *ok)
{
	struct store_root root = { t->job->root, t->job->root };
	struct error e = { 0 };
	struct job_state st;
	struct job dep;
	int ended;

	*ok = 0;
	if (store_job_open(&root, id, &dep, &e) < 0)
		return e.code && strcmp(e.code, "job_not_found") == 0;
	ended = state_observe(&dep, &st, &e) == 0 &&
		job_status_terminal(st.status);
	*ok = ended && st.status == JOB_EXITED && st.has_exit_code &&
	      st.exit_code == 0;
	store_job_close(&dep);
	return ended;
}

/* Asleep on job id's ALIVE lock, a second at most (one not started yet
 * has no holder: a second), or until a stop signal. */
static void dependency_sleep(struct turn_wait *t, const char *id)
{
	struct store_root root = { t->job->root, t->job->root };
	struct error ignored;
	struct job dep;
	int rc = 2;

	if (store_job_open(&root, id, &dep, &ignored) == 0) {
		rc = store_wait_ended_unless(&dep, RECHECK_MS, &stop_signal);
		store_job_close(&dep);
	}
	if (rc == 2 && !stop_signal)
		poll(NULL, 0, RECHECK_MS);	/* a signal cuts it short */
}

/* Each round looks at every job it comes after: one of --after-ok that
 * ended otherwise than exit 0 fails this job at once, whatever the others
 * do; until all have ended it sleeps on the first still going. */
static enum turn await_dependencies(struct turn_wait *t)
{
	const struct strv *lists[2] = { &t->spec->after_ok, &t->spec->after };

	while (!stop_signal) {
		const char *going = NULL;

		for (size_t l = 0; l < 2; l++) {
			for (size_t i = 0; i < lists[l]->n; i++) {
				const char *id = lists[l]->v[i];
				int ok;

				if (!dependency_ended(t, id, &ok)) {
					going = going ? going : id;
				} else if (l == 0 && !ok) {
					copy_str(t->st->error,
						 sizeof(t->st->error),
						 "dependency_failed");
					copy_str(t->st->dependency,
						 sizeof(t->st->dependency), id);
					t->st->started_at[0] = '\0';	/* never ran */
					return TURN_DEPENDENCY_FAILED;
				}
			}
		}
		if (!going)
			return TURN_GO;
		mark_queued(t, "dependencies");
		dependency_sleep(t, going);
	}
	return TURN_STOPPED;
}

/* ---- a slot ------------------------------------------------------------- */

static enum turn await_slot(struct turn_wait *t)
{
	struct queue *q = t->queue;

	if (q->slot >= 0 || (queue_line_empty(q) && queue_try_slot(q) == 1))
		return TURN_GO;
	if (queue_join(q, t->job->id) < 0) {
		why_errno(t->st->error, sizeof(t->st->error), errno,
			  "cannot join the line of queue %s", t->spec->queue);
		return TURN_ERROR;
	}
	mark_queued(t, "slot");
	if (queue_await_slot(q, &stop_signal) == 0)
		return TURN_GO;
	if (errno == ECANCELED)
		return TURN_STOPPED;
	why_errno(t->st->error, sizeof(t->st->error), errno,
		  "cannot wait for a slot of queue %s", t->spec->queue);
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
