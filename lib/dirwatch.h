/* lib/dirwatch.h - wake when something in a directory changes (a file
 * written, made, renamed or removed), for a reader that waits on it. */
#ifndef AE_LIB_DIRWATCH_H
#define AE_LIB_DIRWATCH_H

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

#endif
