/* lib/sig.c - the one way this program waits for signals and time: a
 * watcher descriptor (signalfd, or the self-pipe with SELFPIPE=1) for
 * poll() loops, and an interval timer for the one wait that cannot be
 * polled. */
#include "lib/sig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>
#ifndef AE_SELFPIPE
#include <sys/signalfd.h>
#endif

#include "lib/sys.h"

static int set_of(const int *signals, size_t count, sigset_t *set)
{
	if (sigemptyset(set) < 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (sigaddset(set, signals[i]) < 0)
			return -1;
	return 0;
}

#ifdef AE_SELFPIPE
/* The portable path: handlers write the signal number into a pipe that
 * the caller polls. Its write end is the one piece of global state, set
 * once per process. */
static int self_pipe_write_fd = -1;

static void on_signal(int signo)
{
	int saved = errno;
	unsigned char byte = (unsigned char)signo;

	if (write(self_pipe_write_fd, &byte, 1) < 0) {
		/* pipe full: a wakeup is already pending */
	}
	errno = saved;
}

int sig_watch(const int *signals, size_t count)
{
	struct sigaction action = { .sa_handler = on_signal };
	sigset_t set;
	int fds[2];

	if (set_of(signals, count, &set) < 0 ||
	    pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	self_pipe_write_fd = fds[1];
	action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigfillset(&action.sa_mask);
	for (size_t i = 0; i < count; i++)
		if (sigaction(signals[i], &action, NULL) < 0)
			return -1;
	/* they may have been blocked by whoever started us */
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return fds[0];
}

int sig_next(int watch_fd)
{
	unsigned char byte;

	return read(watch_fd, &byte, 1) == 1 ? byte : 0;
}

void sig_unwatch(int watch_fd, const int *signals, size_t count)
{
	for (size_t i = 0; i < count; i++)
		signal(signals[i], SIG_DFL);
	close(watch_fd);
	close(self_pipe_write_fd);
	self_pipe_write_fd = -1;
}
#else
/* The signals stay blocked, so they arrive only through the descriptor. */
int sig_watch(const int *signals, size_t count)
{
	sigset_t set;

	if (set_of(signals, count, &set) < 0 ||
	    sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int sig_next(int watch_fd)
{
	struct signalfd_siginfo info;

	return read(watch_fd, &info, sizeof(info)) == (ssize_t)sizeof(info)
		       ? (int)info.ssi_signo : 0;
}

void sig_unwatch(int watch_fd, const int *signals, size_t count)
{
	sigset_t set;

	while (sig_next(watch_fd) > 0)
		;	/* what arrived was for the watcher */
	close(watch_fd);
	if (set_of(signals, count, &set) == 0)
		sigprocmask(SIG_UNBLOCK, &set, NULL);
}
#endif

int sig_wait(int watch_fd, int64_t timeout_ms)
{
	struct pollfd pfd = { .fd = watch_fd, .events = POLLIN };
	int ready = sig_poll(&pfd, 1, timeout_ms);

	return ready > 0 ? 1 : ready;
}

int sig_poll(struct pollfd *fds, size_t count, int64_t timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1
			   : time_after(clock_mono_ms(), (uint64_t)timeout_ms);

	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - clock_mono_ms();
		int ready;

		if (deadline >= 0 && left < 0)
			left = 0;
		ready = poll(fds, count, left > 86400000 ? 86400000 : (int)left);
		if (ready > 0)
			return ready;
		if (ready < 0 && errno != EINTR)
			return -1;
		if (ready == 0 && deadline >= 0 && left < 86400000)
			return 0;
		/* interrupted, or a day passed: wait on */
	}
}

static void on_alarm(int signo)
{
	(void)signo;
}

/* A repeating interval timer interrupts the blocking call, so a signal
 * that fires just before the call starts cannot make it miss the
 * deadline. */
int sig_call_until(int64_t deadline_ms, int (*call)(void *ctx), void *ctx)
{
	struct sigaction action = { .sa_handler = on_alarm }, saved;
	struct itimerval timer = { .it_interval = { 0, 10000 } }, off = { 0 };
	struct timespec no_wait = { 0, 0 };
	sigset_t alarm_only, saved_mask;
	int rc = 0, err = 0;

	sigemptyset(&action.sa_mask);
	if (sigaction(SIGALRM, &action, &saved) < 0)
		return -1;
	for (;;) {
		int64_t left = deadline_ms - clock_mono_ms();

		if (left <= 0)
			break;
		if (left > 86400000)
			left = 86400000;	/* re-armed each day */
		timer.it_value.tv_sec = left / 1000;
		timer.it_value.tv_usec = (left % 1000) * 1000;
		setitimer(ITIMER_REAL, &timer, NULL);
		if (call(ctx) == 0) {
			rc = 1;
			break;
		}
		if (errno != EINTR) {
			rc = -1;
			err = errno;	/* the cleanup below may change it */
			break;
		}
	}
	/* an alarm may be pending already: block, disarm, discard it, and
	 * only then give SIGALRM its old disposition back */
	sigemptyset(&alarm_only);
	sigaddset(&alarm_only, SIGALRM);
	sigprocmask(SIG_BLOCK, &alarm_only, &saved_mask);
	setitimer(ITIMER_REAL, &off, NULL);
	while (sigtimedwait(&alarm_only, NULL, &no_wait) > 0)
		;
	sigaction(SIGALRM, &saved, NULL);
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	errno = err;
	return rc;
}

void sig_reset(void)
{
	sigset_t none;

	for (int signo = 1; signo < _NSIG; signo++)
		signal(signo, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void sig_hold(int signo, int hold)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, signo);
	sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}
