/* exec_leftovers.c - what a job leaves running when its main process
 * ends. The supervisor is the reaper of its job's orphans, so every
 * process the job left is its descendant: found through /proc, signalled
 * by pid, and known to be gone once the supervisor has no child left. */
#include "exec_leftovers.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/proc.h"

void leftovers_adopt(void)
{
	proc_become_subreaper();	/* -1 where the system cannot */
}

/* Whether the supervisor has a child: its job's orphans are reparented
 * to it, and its notify commands are its children too. */
static int children_left(void)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/* The processes the job left: every descendant of the supervisor but its
 * notify commands. -1 when /proc cannot be read. */
static int leftovers_list(struct pid_list *left)
{
	return proc_descendants(getpid(), HELPER_ENV_MARK, left);
}

static void signal_each(const struct pid_list *left, int signo)
{
	for (size_t i = 0; i < left->count; i++)
		kill(left->pids[i], signo);
}

void leftovers_note(struct leftovers_watch *watch, struct job_state *st,
		    int kill, uint64_t grace_ms)
{
	struct pid_list left;

	if (!children_left() || leftovers_list(&left) < 0)
		return;
	if (left.count) {
		state_set_leftovers(st, left.pids, left.count);
		watch->live = 1;
	}
	if (left.count && kill) {
		signal_each(&left, SIGTERM);
		st->leftovers_killed = st->leftovers.count;
		watch->kill_at = time_after(clock_mono_ms(), grace_ms);
	}
	pid_list_free(&left);
}

int leftovers_gone(struct leftovers_watch *watch)
{
	if (!watch->live || children_left())
		return 0;
	watch->live = 0;
	watch->kill_at = 0;
	return 1;
}

void leftovers_tick(struct leftovers_watch *watch, int64_t now)
{
	struct pid_list left;

	if (!watch->kill_at || now < watch->kill_at)
		return;
	watch->kill_at = 0;
	if (leftovers_list(&left) == 0) {
		signal_each(&left, SIGKILL);
		pid_list_free(&left);
	}
}
