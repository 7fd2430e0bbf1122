/* lib/dirwatch.h - wake when something in a directory changes (a file
 * written, made, renamed or removed), for a reader that waits on it. */
#ifndef AE_LIB_DIRWATCH_H
#define AE_LIB_DIRWATCH_H

#include <stddef.h>
#include <stdint.h>

/* dnotify (F_NOTIFY, its SIGIO read through lib/sig's watcher) when the
 * kernel has it, else inotify. dnotify first because ending it costs
 * nothing, where closing an inotify instance waits for the kernel's SRCU
 * grace period (0 to 20 ms measured on 6.x): a reader that answers the
 * moment output arrives would spend longer letting go of its watch than
 * waiting on it. The dnotify path takes SIGIO for the watch's lifetime
 * (lib/sig allows one watcher per process). */
struct dir_watch {
	int dir_fd;	/* the dnotify descriptor, or -1 */
	int wake_fd;	/* the signal watcher, or the inotify instance */
};

/* Watch the directory at path: 0, or -1/errno. */
int dir_watch_open(struct dir_watch *watch, const char *path);
/* Until a change since the last wait (or the open), or timeout_ms
 * (< 0: no limit): 1 changed, 0 timed out, -1/errno. */
int dir_watch_wait(struct dir_watch *watch, int64_t timeout_ms);
void dir_watch_close(struct dir_watch *watch);

/* Many directories and processes at once, for a waiter on the first of
 * many ends: a file renamed into a watched directory (a record replaced)
 * or the directory going, through one inotify instance (dnotify would
 * wake for every byte written there, and its signal names no directory);
 * a process ending, through a descriptor that becomes readable then (a
 * pidfd). Each is added with a number of the caller's, which
 * wake_set_wait hands back. */
struct pollfd;
struct wake_set {
	struct pollfd *fds;	/* [0]: the inotify instance (-1: none) */
	size_t *fd_tags, fd_count, fd_cap;
	size_t *wd_tags, wd_cap;	/* by inotify watch descriptor */
};
/* What wake_set_wait hands back when the kernel dropped events: any. */
#define WAKE_ANY ((size_t)-1)
typedef void (*wake_seen)(void *ctx, size_t tag, int process_ended);

/* 0, or -1/errno (no memory). Without inotify no directory is watched. */
int wake_set_init(struct wake_set *set);
/* Watch the directory at path: 0, or -1/errno. */
int wake_set_dir(struct wake_set *set, const char *path, size_t tag);
/* Watch fd (which the set takes, and closes once it was readable): 0, or
 * -1/errno (fd closed). */
int wake_set_fd(struct wake_set *set, int fd, size_t tag);
/* Until something happened or timeout_ms (< 0: no limit): seen(ctx, tag,
 * process_ended) for each thing. 1 woken, 0 timed out, -1/errno. */
int wake_set_wait(struct wake_set *set, int64_t timeout_ms, wake_seen seen,
		  void *ctx);
void wake_set_free(struct wake_set *set);

#endif
