/* exec_leftovers.h - what a job leaves running when its main process ends,
 * seen from its supervisor, their reaper (exec_leftovers.c). */
#ifndef AE_EXEC_LEFTOVERS_H
#define AE_EXEC_LEFTOVERS_H

#include <stdint.h>

#include "store_state.h"

/* --kill-leftovers' grace between SIGTERM and SIGKILL without --kill-after */
#define LEFTOVERS_GRACE_MS 1000

struct leftovers_watch {
	int live;		/* the job left processes, not all reaped */
	int64_t kill_at;	/* --kill-leftovers' SIGKILL (monotonic ms),
				   0 = none due */
};

/* Make the supervisor the reaper of every orphan of its job, whatever
 * process group or session it moved to (Linux: a child subreaper; where
 * the system cannot, orphans go to init, and the leftovers seen are those
 * whose parents live). */
void leftovers_adopt(void);
/* As the main process ends (reaped): what still runs, notify commands
 * aside, goes into st->leftovers; with kill, each gets SIGTERM now and
 * SIGKILL grace_ms later (leftovers_tick), and st->leftovers_killed says
 * how many. */
void leftovers_note(struct leftovers_watch *watch, struct job_state *st,
		    int kill, uint64_t grace_ms);
/* Whether the leftovers noted are all gone (every child reaped): 1 once,
 * when they just went. */
int leftovers_gone(struct leftovers_watch *watch);
/* The SIGKILL of --kill-leftovers, when due at now. */
void leftovers_tick(struct leftovers_watch *watch, int64_t now);

#endif
