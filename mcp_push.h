/* mcp_push.h - the MCP server's session: the results of its jobs (their
 * callback_session its key) pushed to the agent as they end. */
#ifndef AE_MCP_PUSH_H
#define AE_MCP_PUSH_H

#include <stdint.h>
#include <sys/types.h>

#include "mcp_call.h"

#define MCP_PUSHED_KEPT 64	/* event ids remembered against repeats */
#define MCP_EVENT_ID_MAX 96

struct mcp_push {
	const char *root;
	const char *session;
	char *state_path;		/* what was pushed, or NULL: not kept */
	mcp_runner run;
	pid_t follower;			/* the events --follow child, or 0 */
	int fd;				/* its output, or -1 */
	char *line;			/* a line being read */
	size_t len;
	int overlong;			/* the line is too long: skipped */
	char cursor[32];		/* the last event read, or "" */
	char pushed[MCP_PUSHED_KEPT][MCP_EVENT_ID_MAX];
	size_t next_pushed;
	int log_level;			/* notifications/message from this
					 * level up (0 debug .. 7 emergency);
					 * 8: none asked for */
	int64_t restart_ms;		/* when to start the follower again */
};

/* Set up the session (persist: remember what was pushed, across servers
 * of the same key, in <root>/.mcp/). 0, or -1/errno. */
int mcp_push_open(struct mcp_push *push, const char *root,
		  const char *session, int persist, mcp_runner run);
/* Start following (again): from after the last event read. */
void mcp_push_start(struct mcp_push *push);
/* Read the follower's new lines and push the session's events. */
void mcp_push_read(struct mcp_push *push);
/* Whether pid was the follower (to be started again later). */
int mcp_push_reaped(struct mcp_push *push, pid_t pid);
/* Start a follower that ended again when it is time: the time of the
 * next try (monotonic ms), or -1 when none is due. */
int64_t mcp_push_tick(struct mcp_push *push, int64_t now);
/* The level name logging/setLevel gave: 0, or -1 when unknown. */
int mcp_push_log_level(struct mcp_push *push, const char *level);
void mcp_push_close(struct mcp_push *push);

#endif
