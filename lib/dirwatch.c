/* lib/dirwatch.c - a directory's changes as a wakeup: dnotify with its
 * signal through lib/sig, or inotify where the kernel has no dnotify. */
#include "lib/dirwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/sig.h"
#include "lib/sys.h"

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

/* Room for need descriptors and their tags (both arrays grow alike). */
static int fds_room(struct wake_set *set, size_t need)
{
	size_t cap = set->fd_cap;

	return array_room(&set->fds, &cap, need, sizeof(*set->fds)) < 0 ||
	       array_room(&set->fd_tags, &set->fd_cap, need, sizeof(size_t)) < 0
	       ? -1 : 0;
}

int wake_set_init(struct wake_set *set)
{
	*set = (struct wake_set){ 0 };
	if (fds_room(set, 1) < 0) {
		wake_set_free(set);
		return -1;
	}
	set->fds[0] = (struct pollfd){ .events = POLLIN,
		.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC) };
	set->fd_count = 1;
	return 0;
}

int wake_set_dir(struct wake_set *set, const char *path, size_t tag)
{
	int wd = set->fds[0].fd < 0 ? -1
		 : inotify_add_watch(set->fds[0].fd, path, IN_ONLYDIR |
				     IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF);

	if (wd < 0 || array_room(&set->wd_tags, &set->wd_cap, (size_t)wd + 1,
			   sizeof(size_t)) < 0)
		return -1;
	set->wd_tags[wd] = tag;
	return 0;
}

int wake_set_fd(struct wake_set *set, int fd, size_t tag)
{
	if (fds_room(set, set->fd_count + 1) < 0) {
		close(fd);
		return -1;
	}
	set->fds[set->fd_count] = (struct pollfd){ .fd = fd, .events = POLLIN };
	set->fd_tags[set->fd_count++] = tag;
	return 0;
}

/* The directories' events: the tag of each, or WAKE_ANY when the kernel's
 * queue overflowed (what was dropped is unknown). */
static void wake_set_drain(struct wake_set *set, wake_seen seen, void *ctx)
{
	char events[4096] __attribute__((aligned(8)));
	const struct inotify_event *event;
	ssize_t got;

	while ((got = read(set->fds[0].fd, events, sizeof(events))) > 0 ||
	       (got < 0 && errno == EINTR))
		for (char *at = events; got > 0 && at < events + got;
		     at += sizeof(*event) + event->len) {
			event = (const void *)at;
			if (event->mask & IN_Q_OVERFLOW)
				seen(ctx, WAKE_ANY, 0);
			else if (event->wd >= 0 &&
				 (size_t)event->wd < set->wd_cap)
				seen(ctx, set->wd_tags[event->wd], 0);
		}
}

int wake_set_wait(struct wake_set *set, int64_t timeout_ms, wake_seen seen,
		  void *ctx)
{
	int ready = sig_poll(set->fds, set->fd_count, timeout_ms);

	if (ready <= 0)
		return ready;
	if (set->fds[0].revents)
		wake_set_drain(set, seen, ctx);
	for (size_t i = 1; i < set->fd_count; i++)
		if (set->fds[i].revents) {
			/* readable for good once ended: not polled again */
			close(set->fds[i].fd);
			set->fds[i].fd = -1;
			seen(ctx, set->fd_tags[i], 1);
		}
	return 1;
}

void wake_set_free(struct wake_set *set)
{
	for (size_t i = 0; i < set->fd_count; i++)
		if (set->fds[i].fd >= 0)
			close(set->fds[i].fd);
	free(set->fds);
	free(set->fd_tags);
	free(set->wd_tags);
	*set = (struct wake_set){ 0 };
}
