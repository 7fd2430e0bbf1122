/* lib/dirwatch.c - a directory's changes as a wakeup: dnotify with its
 * signal through lib/sig, or inotify where the kernel has no dnotify. */
#include "lib/dirwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/sig.h"

static const int notify_signal[1] = { SIGIO };

/* dnotify: the signal is watched (blocked, or caught) before the
 * directory is, so its default action (the end of the process) never
 * runs. */
static int dnotify_open(struct dir_watch *watch, const char *path)
{
	watch->wake_fd = sig_watch(notify_signal, 1);
	if (watch->wake_fd < 0)
		return -1;
	watch->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (watch->dir_fd >= 0 &&
	    fcntl(watch->dir_fd, F_NOTIFY, DN_MODIFY | DN_CREATE | DN_DELETE |
					    DN_RENAME | DN_MULTISHOT) == 0)
		return 0;
	if (watch->dir_fd >= 0)
		close(watch->dir_fd);
	sig_unwatch(watch->wake_fd, notify_signal, 1);
	watch->dir_fd = watch->wake_fd = -1;
	return -1;
}

static int inotify_open(struct dir_watch *watch, const char *path)
{
	watch->dir_fd = -1;
	watch->wake_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (watch->wake_fd < 0)
		return -1;
	if (inotify_add_watch(watch->wake_fd, path, IN_MODIFY | IN_CREATE |
			      IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM |
			      IN_DELETE_SELF | IN_MOVE_SELF) >= 0)
		return 0;
	close(watch->wake_fd);
	watch->wake_fd = -1;
	return -1;
}

int dir_watch_open(struct dir_watch *watch, const char *path)
{
	if (dnotify_open(watch, path) == 0)
		return 0;
	return inotify_open(watch, path);
}

int dir_watch_wait(struct dir_watch *watch, int64_t timeout_ms)
{
	char events[4096];
	int ready = sig_wait(watch->wake_fd, timeout_ms);

	if (ready <= 0)
		return ready;
	if (watch->dir_fd >= 0)
		while (sig_next(watch->wake_fd) > 0)
			;
	else
		while (read(watch->wake_fd, events, sizeof(events)) > 0)
			;
	return 1;
}

void dir_watch_close(struct dir_watch *watch)
{
	if (watch->dir_fd >= 0) {
		/* the directory first: no signal comes after the watcher */
		close(watch->dir_fd);
		sig_unwatch(watch->wake_fd, notify_signal, 1);
	} else if (watch->wake_fd >= 0) {
		close(watch->wake_fd);
	}
	watch->dir_fd = watch->wake_fd = -1;
}
