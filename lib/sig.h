/* lib/sig.h - the one way to wait for signals and time: a watcher to poll
 * (signalfd, or a self-pipe), and a deadline for an unpollable call. */
#ifndef AE_LIB_SIG_H
#define AE_LIB_SIG_H

#include <stddef.h>
#include <stdint.h>

/* Watch the listed signals (at most one watcher per process): from now on
 * they arrive through the returned descriptor, never as interruptions.
 * -1/errno on failure. */
int sig_watch(const int *signals, size_t count);
/* The next signal that arrived, 0 when none is pending. */
int sig_next(int watch_fd);
/* Stop watching the signals sig_watch was given: they get their default
 * disposition back, unblocked. */
void sig_unwatch(int watch_fd, const int *signals, size_t count);
/* Wait until the watcher is readable or timeout_ms passed (< 0: no
 * limit): 1 readable, 0 timed out, -1 on error. */
int sig_wait(int watch_fd, int64_t timeout_ms);
/* The same for poll()'s fds[count]: the number ready (their revents
 * set), 0 timed out, -1 on error. */
struct pollfd;
int sig_poll(struct pollfd *fds, size_t count, int64_t timeout_ms);

/* Run call(ctx), a blocking call that returns 0 when done or -1 with
 * errno, retried after EINTR, until it is done or the deadline (monotonic
 * ms) passes: 1 done, 0 deadline passed, -1 failed (errno). */
int sig_call_until(int64_t deadline_ms, int (*call)(void *ctx), void *ctx);

/* In a child about to exec: every disposition back to default, nothing
 * blocked. */
void sig_reset(void);
/* Hold signo off (blocked: it waits) or, hold 0, let it in. */
void sig_hold(int signo, int hold);

#endif
