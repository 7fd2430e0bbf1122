/* exec_signal.c - signalling a job from outside its supervisor (kill,
 * delete, restart): its process group once vouched for, what a finished
 * job left, and a queued job's supervisor, which takes it out of line. */
#include "exec_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "lib/proc.h"

int signal_ends_job(int signo)
{
	return signo != SIGCONT && signo != SIGSTOP && signo != SIGTSTP &&
	       signo != SIGTTIN && signo != SIGTTOU && signo != SIGWINCH &&
	       signo != SIGCHLD && signo != SIGURG;
}

/* A queued job has no process yet: its supervisor takes it out of line
 * and records it killed by signo (exec_queue.c), told by a SIGTERM that
 * carries signo. A signal that would not end a job changes nothing. */
static int dequeue(const struct job *job, const struct job_state *st,
		   int signo, struct error *e)
{
	union sigval value = { .sival_int = signo };

	if (!signal_ends_job(signo) ||
	    (!store_supervisor_vouched(job, st->supervisor_pid) &&
	     !store_supervisor_holds(job, st->supervisor_pid)))
		return 0;	/* its supervisor is gone: readers record it */
	if (sigqueue((pid_t)st->supervisor_pid, SIGTERM, value) == 0 ||
	    errno == ESRCH)
		return 0;
	return error_errno(e, NULL, errno, "cannot take job %s out of line "
			   "(supervisor pid %lld)", job->id,
			   (long long)st->supervisor_pid);
}

int exec_signal_job(const struct job *job, const struct job_state *st,
		    int signo, struct error *e)
{
	struct job_marks marks;
	int vouched, mark = -1;

	/* the job's end, if this ends it, is agent-exec's doing */
	if (st->status == JOB_QUEUED ||
	    (st->status == JOB_RUNNING && st->has_pid))
		mark = openat(job->dir_fd, KILL_MARK, O_WRONLY | O_CREAT |
			      O_NOFOLLOW | O_CLOEXEC, 0600);
	if (mark >= 0)
		close(mark);
	if (st->status == JOB_QUEUED)
		return dequeue(job, st, signo, e);
	if (!st->has_pid)
		return 0;	/* still launching: nothing to signal yet */
	if (st->status != JOB_RUNNING)
		return state_kill_leftovers(job, st, signo) < 0 ? -1 : 0;
	/* a pid is signalled only when it is vouched for: its session holds
	 * a process of this job (without /proc, the live supervisor's
	 * record is trusted) */
	if (store_job_marks(&marks, job) < 0)
		return error_errno(e, NULL, errno, "cannot signal job %s",
				   job->id);
	vouched = proc_session_vouched((pid_t)st->pid, marks.list);
	store_job_marks_free(&marks);
	if (vouched == 0)
		return 0;	/* nothing of the job is left */
	if (kill(-(pid_t)st->pid, signo) == 0)
		return 0;
	if (errno == ESRCH && (kill((pid_t)st->pid, signo) == 0 ||
			       errno == ESRCH))
		return 0;	/* already gone: the record will say so */
	return error_errno(e, NULL, errno, "cannot signal job %s (pid %lld)",
			   job->id, (long long)st->pid);
}

