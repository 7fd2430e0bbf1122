/* exec.c - the supervisor. run forks twice (the middle process calls
 * setsid and exits), so the supervisor belongs to no terminal and to none
 * of the caller's process groups. It forks the job into a process group of
 * its own, records "running" with the job's pid and only then tells the
 * caller it is ready. One poll() loop then copies the job's output to the
 * logs, reaps it, enforces the timeout and writes the terminal record. */
#include "exec_supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifndef AE_SELFPIPE
#include <sys/signalfd.h>
#endif

#include "events.h"
#include "lib/fmt.h"
#include "store_logs.h"

#define LINGER_MS 1000		/* the 1-second rule for descendants */
#define READY_BYTE 'R'

int signal_parse(const char *text)
{
	static const unsigned char numbers[] = {
		SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGUSR1, SIGUSR2, SIGPIPE,
		SIGALRM, SIGTERM, SIGCONT, SIGSTOP, SIGTSTP, SIGWINCH,
	};
	char upper[8] = "";
	uint64_t number;
	int index;

	if (parse_u64(text, &number) == 0)
		return number >= 1 && number < (uint64_t)_NSIG ? (int)number
							       : -1;
	if (ascii_case_equal(text, "SIG", 3))
		text += 3;
	for (size_t i = 0; text[i]; i++) {
		if (i == sizeof(upper) - 1)
			return -1;
		upper[i] = text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32
							    : text[i];
	}
	index = word_index(upper, "HUP INT QUIT KILL USR1 USR2 PIPE ALRM "
				  "TERM CONT STOP TSTP WINCH");
	return index < 0 ? -1 : numbers[index];
}

/* Signals the supervisor reacts to: SIGCHLD, and the ones it passes on to
 * the job's process group. */
static const int forwarded_signals[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2
};

static void handled_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(int); i++)
		sigaddset(set, forwarded_signals[i]);
}

#ifdef AE_SELFPIPE

/* The portable path: handlers write the signal number into a pipe that
 * the loop polls. The write end is the one piece of global state, and
 * only the supervisor sets it. */
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

static int signals_open(void)
{
	struct sigaction action = { .sa_handler = on_signal };
	sigset_t set;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	self_pipe_write_fd = fds[1];
	handled_set(&set);
	action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigfillset(&action.sa_mask);
	for (int signo = 1; signo < _NSIG; signo++)
		if (sigismember(&set, signo) == 1 &&
		    sigaction(signo, &action, NULL) < 0)
			return -1;
	return fds[0];
}

/* The next pending signal number, 0 when none. */
static int signals_next(int fd)
{
	unsigned char byte;

	return read(fd, &byte, 1) == 1 ? byte : 0;
}

#else

static int signals_open(void)
{
	sigset_t set;

	handled_set(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int signals_next(int fd)
{
	struct signalfd_siginfo info;

	return read(fd, &info, sizeof(info)) == (ssize_t)sizeof(info)
		       ? (int)info.ssi_signo : 0;
}

#endif

/* Re-read meta.json only when it was replaced (notify set renames a new
 * one into place): one fstatat per read chunk, never a parse per line. */
void meta_refresh(struct supervisor *sv)
{
	struct notify_settings settings;
	struct json_doc meta;
	struct error ignored;
	struct stat now;

	if (fstatat(sv->job->dir_fd, "meta.json", &now, 0) < 0 ||
	    (now.st_ino == sv->meta_seen.st_ino &&
	     now.st_mtim.tv_sec == sv->meta_seen.st_mtim.tv_sec &&
	     now.st_mtim.tv_nsec == sv->meta_seen.st_mtim.tv_nsec &&
	     now.st_size == sv->meta_seen.st_size))
		return;
	sv->meta_seen = now;
	if (store_read_meta(sv->job, &meta, &ignored) < 0)
		return;		/* keep what we had */
	if (notify_settings_read(meta.root, &settings, &ignored) < 0) {
		json_doc_free(&meta);
		return;
	}
	notify_settings_free(&sv->settings);
	json_doc_free(&sv->meta);
	sv->meta = meta;
	sv->settings = settings;
}

static void tell_ready(struct supervisor *sv)
{
	char byte = READY_BYTE;

	if (sv->ready_fd < 0)
		return;
	if (write(sv->ready_fd, &byte, 1) < 0) {
		/* the caller is gone; the job goes on */
	}
	close(sv->ready_fd);
	sv->ready_fd = -1;
}

static void state_stamp(struct job_state *st)
{
	format_utc_now(st->updated_at);
}

/* Record a launch that did not happen; the job never ran. */
static void notifications_open(struct supervisor *sv);

static void log_created(struct supervisor *sv);

static void record_failed(struct supervisor *sv)
{
	struct error ignored;

	/* a job that never ran still has its (empty) logs and its events */
	store_create_logs(sv->job, &ignored);
	log_created(sv);
	if (!sv->notifier && sv->signal_fd >= 0)
		notifications_open(sv);
	sv->state.status = JOB_FAILED;
	state_stamp(&sv->state);
	memcpy(sv->state.finished_at, sv->state.updated_at,
	       sizeof(sv->state.finished_at));
	sv->state.has_duration = 1;
	sv->state.duration_ms = 0;
	if (sv->notifier) {
		meta_refresh(sv);
		sv->state.completion_event =
			notify_finished_wanted(&sv->settings);
	}
	store_write_state(sv->job->dir_fd, &sv->state, 1);
	store_release_reserve(sv->job->dir_fd);
	job_lock_release(sv->job->lock_fd, LOCK_ALIVE);
	sv->terminal = 1;
	tell_ready(sv);
	if (sv->notifier &&
	    notifier_job_finished(sv->notifier, &sv->state, sv->meta.root,
				  &sv->settings, 1) == 0)
		notifier_drain(sv->notifier);
}

static void usage_fill(struct job_state *st, const struct rusage *ru)
{
	st->has_usage = 1;
	st->user_cpu_ms = (uint64_t)ru->ru_utime.tv_sec * 1000 +
			  (uint64_t)ru->ru_utime.tv_usec / 1000;
	st->sys_cpu_ms = (uint64_t)ru->ru_stime.tv_sec * 1000 +
			 (uint64_t)ru->ru_stime.tv_usec / 1000;
	st->max_rss_kib = (uint64_t)ru->ru_maxrss;
}

/* The job is over: write the truth durably, then let waiters go. */
static void record_terminal(struct supervisor *sv)
{
	struct job_state *st = &sv->state;
	int status = sv->child_status;

	if (WIFSIGNALED(status)) {
		st->status = JOB_KILLED;
		snprintf(st->signal, sizeof(st->signal), "%d",
			 WTERMSIG(status));
	} else {
		st->status = JOB_EXITED;
		st->has_exit_code = 1;
		st->exit_code = WEXITSTATUS(status);
	}
	st->has_duration = 1;
	st->duration_ms = (uint64_t)(clock_mono_ms() - sv->started_ms);
	state_stamp(st);
	memcpy(st->finished_at, st->updated_at, sizeof(st->finished_at));
	usage_fill(st, &sv->usage);
	if (sv->log_error)
		snprintf(st->error, sizeof(st->error),
			 "output cut: cannot write logs: %s",
			 strerror(sv->log_error));
	/* the sinks are those configured when the job ends */
	meta_refresh(sv);
	st->completion_event = notify_finished_wanted(&sv->settings);
	test_stop_at("job-ended");
	/* with a completion event, its record's directory fsync follows
	 * and covers this rename too */
	if (store_write_state(sv->job->dir_fd, st,
			      sv->notifier && st->completion_event
			      ? DURABLE_DATA : DURABLE_FULL) < 0)
		store_write_state(sv->job->dir_fd, st, DURABLE_NONE);
	store_release_reserve(sv->job->dir_fd);
	/* the event log has job.finished (and completion_event.json is on
	 * disk) before any waiter is let go */
	if (sv->notifier)
		notifier_job_finished(sv->notifier, st, sv->meta.root,
				      &sv->settings, 1);
	job_lock_release(sv->job->lock_fd, LOCK_ALIVE);
	sv->terminal = 1;
	input_shutdown(sv);
}

static void group_signal(struct supervisor *sv, int signo)
{
	if (kill(-sv->child, signo) < 0 && !sv->child_reaped)
		kill(sv->child, signo);
}

static void reap_children(struct supervisor *sv)
{
	struct rusage usage;
	int status;
	pid_t pid;

	while ((pid = wait4(-1, &status, WNOHANG, &usage)) > 0) {
		if (pid != sv->child) {
			if (sv->notifier)
				notifier_child_exited(sv->notifier, pid,
						      status);
			continue;
		}
		sv->child_reaped = 1;
		sv->child_status = status;
		sv->usage = usage;
		sv->exited_ms = clock_mono_ms();
	}
}

static void handle_signals(struct supervisor *sv)
{
	int signo;

	while ((signo = signals_next(sv->signal_fd)) > 0) {
		if (signo == SIGCHLD)
			reap_children(sv);
		else if (!sv->child_reaped)
			group_signal(sv, signo);
	}
}

static void handle_timers(struct supervisor *sv, int64_t now)
{
	if (sv->timeout_at && now >= sv->timeout_at) {
		sv->timeout_at = 0;
		if (!sv->child_reaped) {
			sv->state.timed_out = 1;
			group_signal(sv, SIGTERM);
			if (sv->spec->kill_after_ms == 0)
				group_signal(sv, SIGKILL);
			else
				sv->kill_at = time_after(
					now, sv->spec->kill_after_ms);
		}
	}
	if (sv->kill_at && now >= sv->kill_at) {
		sv->kill_at = 0;
		if (!sv->terminal)
			group_signal(sv, SIGKILL);
	}
	if (sv->notifier)
		notifier_tick(sv->notifier, now);
	if (sv->progress_at && now >= sv->progress_at) {
		sv->progress_at = time_after(now, sv->spec->progress_every_ms);
		if (!sv->terminal) {
			state_stamp(&sv->state);
			store_write_state(sv->job->dir_fd, &sv->state, 0);
		}
	}
}

static int64_t earliest(int64_t a, int64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

/* Milliseconds until the next timer, -1 for none. */
static int poll_timeout(const struct supervisor *sv, int64_t now)
{
	int64_t next = earliest(sv->timeout_at, sv->kill_at);

	if (!sv->terminal) {
		next = earliest(next, sv->progress_at);
		if (sv->child_reaped)
			next = earliest(next, sv->exited_ms + LINGER_MS);
	}
	if (sv->notifier)
		next = earliest(next, notifier_deadline(sv->notifier));
	next = earliest(next, sv->client_deadline);
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now > 60000 ? 60000
							  : next - now);
}

static int streams_open(const struct supervisor *sv)
{
	return sv->out.pipe_fd >= 0 || sv->err.pipe_fd >= 0;
}

static void supervise_loop(struct supervisor *sv)
{
	while (!sv->terminal || streams_open(sv) || sv->client_fd >= 0 ||
	       (sv->notifier && notifier_busy(sv->notifier))) {
		int client_wants = sv->client_fd >= 0 && !sv->client_eof &&
				   sv->input_off == sv->input_len;
		struct pollfd fds[6] = {
			{ .fd = sv->signal_fd, .events = POLLIN },
			{ .fd = sv->out.pipe_fd, .events = POLLIN },
			{ .fd = sv->err.pipe_fd, .events = POLLIN },
			{ .fd = sv->client_fd < 0 ? sv->listen_fd : -1,
			  .events = POLLIN },
			{ .fd = client_wants ? sv->client_fd : -1,
			  .events = POLLIN },
			{ .fd = sv->input_off < sv->input_len ? sv->input_fd
							       : -1,
			  .events = POLLOUT },
		};
		int64_t now = clock_mono_ms();
		int ready = poll(fds, 6, poll_timeout(sv, now));

		if (ready < 0 && errno != EINTR)
			break;
		if (ready > 0 && fds[0].revents)
			handle_signals(sv);
		if (ready > 0 && fds[1].revents)
			stream_read(sv, &sv->out);
		if (ready > 0 && fds[2].revents)
			stream_read(sv, &sv->err);
		if (ready > 0 && fds[3].revents)
			input_accept(sv);
		if (ready > 0 && fds[4].revents && sv->client_fd >= 0)
			client_read(sv);
		if (ready > 0 && fds[5].revents && sv->input_fd >= 0)
			input_write(sv);
		client_progress(sv);
		now = clock_mono_ms();
		handle_timers(sv, now);
		if (!sv->terminal && sv->child_reaped &&
		    (!streams_open(sv) || now >= sv->exited_ms + LINGER_MS))
			record_terminal(sv);
	}
}

static void record_running(struct supervisor *sv)
{
	struct job_state *st = &sv->state;

	st->status = JOB_RUNNING;
	st->has_pid = 1;
	st->pid = sv->child;
	state_stamp(st);
	store_write_state(sv->job->dir_fd, st, 0);
}

/* The job.created event the launching CLI left us, logged once: after
 * the answer, before job.started (or job.finished). */
static void log_created(struct supervisor *sv)
{
	char root[4096];

	if (!sv->context->created_event || sv->created_logged)
		return;
	sv->created_logged = 1;
	events_root_of(sv->job->dir, root, sizeof(root));
	events_append(root, sv->context->created_event,
		      sv->context->created_len);
}

static void log_started(const struct supervisor *sv)
{
	struct json_writer w;
	char root[4096];

	jw_init_mem(&w, 4096, 0);
	jw_object_begin(&w);
	jw_kv_str(&w, "event_type", "job.started");
	jw_kv_str(&w, "job_id", sv->job->id);
	jw_kv_i64(&w, "pid", sv->child);
	jw_kv_str(&w, "started_at", sv->state.started_at);
	jw_object_end(&w);
	events_root_of(sv->job->dir, root, sizeof(root));
	if (!w.error)
		events_append(root, w.buf, w.len);
	jw_free(&w);
}

static void arm_timers(struct supervisor *sv)
{
	if (sv->spec->timeout_ms)
		sv->timeout_at = time_after(sv->started_ms,
					    sv->spec->timeout_ms);
	if (sv->spec->progress_every_ms)
		sv->progress_at = time_after(sv->started_ms,
					     sv->spec->progress_every_ms);
}

/* The supervisor's own copies of the spec's strings: the originals live in
 * the caller's argv, which it blanks. */
static int strv_copy(struct strv *to, const struct strv *from)
{
	*to = (struct strv){ 0 };
	for (size_t i = 0; i < from->n; i++) {
		char *copy = strdup(from->v[i]);

		if (!copy || strv_push(to, copy) < 0) {
			free(copy);
			return -1;
		}
	}
	return 0;
}

static int spec_copy(struct job_spec *to, const struct job_spec *from)
{
	*to = *from;
	to->cwd = strdup(from->cwd);
	to->full_log = from->full_log ? strdup(from->full_log) : NULL;
	if (!to->cwd || (from->full_log && !to->full_log) ||
	    strv_copy(&to->command, &from->command) < 0 ||
	    strv_copy(&to->wrapper, &from->wrapper) < 0 ||
	    strv_copy(&to->env, &from->env) < 0 ||
	    strv_copy(&to->env_files, &from->env_files) < 0 ||
	    strv_copy(&to->mask, &from->mask) < 0 ||
	    strv_copy(&to->tags, &from->tags) < 0)
		return -1;	/* the process exits soon: no cleanup */
	return 0;
}

/* Overwrite the caller's argv (what ps and /proc/PID/cmdline show) with a
 * title: the job's command and --env values are not to linger there. */
static void argv_blank(const struct launch_context *context,
		       const char *job_id)
{
	char *start, *end;

	if (context->argc < 1 || !context->argv[0])
		return;
	start = end = context->argv[0];
	for (int i = 0; i < context->argc; i++) {
		char *arg = context->argv[i];

		if (arg != end)		/* not contiguous: blank it alone */
			memset(arg, 0, strlen(arg));
		else
			end = arg + strlen(arg) + 1;
	}
	memset(start, 0, (size_t)(end - start));
	snprintf(start, (size_t)(end - start), "agent-exec supervisor %s",
		 job_id);
}

/* Hold LOCK_DELIVERY for life (a delivery cut short by our death is then
 * seen, and finished, by the next reader), and load the settings. */
static void notifications_open(struct supervisor *sv)
{
	struct notifier_config config;

	job_lock_take(sv->job->lock_fd, LOCK_DELIVERY, 1, 0);
	notifier_config_init(&config, sv->job, sv->spec);
	sv->notifier = notifier_new(&config);
	meta_refresh(sv);
}

static void supervise(struct job *job, const struct job_spec *spec,
		      int ready_fd, const struct launch_context *context)
{
	/* lives as long as the process; its buffers are touched only when
	 * used, which keeps the supervisor's resident memory small */
	static struct supervisor sv;

	sv.job = job;
	sv.context = context;
	sv.spec = &sv.own_spec;
	sv.ready_fd = ready_fd;
	/* field by field: assigning whole streams would write (and so make
	 * resident) their 16 KiB line buffers */
	sv.out.partial = sv.out_partial;
	sv.err.partial = sv.err_partial;
	sv.out.tag = "[STDOUT]";
	sv.out.id = MATCH_STDOUT;
	sv.out.pipe_fd = -1;
	sv.err.tag = "[STDERR]";
	sv.err.id = MATCH_STDERR;
	sv.err.pipe_fd = -1;
	sv.input_fd = sv.listen_fd = sv.client_fd = sv.signal_fd = -1;
	snprintf(sv.state.id, sizeof(sv.state.id), "%s", job->id);
	sv.state.supervisor_pid = getpid();
	format_utc_now(sv.state.started_at);
	if (spec_copy(&sv.own_spec, spec) < 0) {
		snprintf(sv.state.error, sizeof(sv.state.error),
			 "cannot copy the job's definition: %s",
			 strerror(errno));
		record_failed(&sv);
		return;
	}
	argv_blank(context, job->id);
	if (daemon_detach((int[]){ ready_fd, job->dir_fd, job->lock_fd },
			  3) < 0) {
		snprintf(sv.state.error, sizeof(sv.state.error),
			 "cannot detach the supervisor: %s", strerror(errno));
		record_failed(&sv);
		return;
	}
	sv.signal_fd = signals_open();
	if (sv.signal_fd < 0) {
		snprintf(sv.state.error, sizeof(sv.state.error),
			 "cannot set up signal handling: %s", strerror(errno));
		record_failed(&sv);
		return;
	}
	test_stop_at("supervisor-start");
	if (spawn_child(&sv) < 0 ||
	    (sv.input_fd >= 0 && input_listen(&sv) < 0)) {
		record_failed(&sv);
		return;
	}
	record_running(&sv);
	tell_ready(&sv);
	/* what the caller need not wait for */
	log_created(&sv);
	notifications_open(&sv);
	/* room for the terminal record, even if the output fills the disk */
	store_reserve_record(job->dir_fd);
	log_started(&sv);
	test_stop_at("job-running");
	arm_timers(&sv);
	supervise_loop(&sv);
}

/* No supervisor could start: the caller logs job.created itself. */
static void log_created_here(const struct job *job,
			     const struct launch_context *context)
{
	char root[4096];

	if (!context->created_event)
		return;
	events_root_of(job->dir, root, sizeof(root));
	events_append(root, context->created_event, context->created_len);
}

/* Nothing could start: record it ourselves, as the supervisor would. */
static int launch_failed(struct job *job, const char *what, int err,
			 struct error *e)
{
	struct job_state st = { .status = JOB_FAILED, .has_duration = 1 };

	snprintf(st.id, sizeof(st.id), "%s", job->id);
	format_utc_now(st.updated_at);
	memcpy(st.started_at, st.updated_at, sizeof(st.started_at));
	memcpy(st.finished_at, st.updated_at, sizeof(st.finished_at));
	snprintf(st.error, sizeof(st.error), "cannot %s: %s", what,
		 strerror(err));
	if (store_write_state(job->dir_fd, &st, 1) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/state.json",
				  job->dir);
	return 0;
}

static int wait_ready(int ready_fd)
{
	char byte = 0;

	return read_full(ready_fd, &byte, 1) == 1 && byte == READY_BYTE;
}

struct supervise_args {
	struct job *job;
	const struct job_spec *spec;
	const struct launch_context *context;
	int ready[2];
};

static void supervise_detached(void *ctx)
{
	struct supervise_args *args = ctx;

	close(args->ready[0]);
	supervise(args->job, args->spec, args->ready[1], args->context);
}

int exec_launch(struct job *job, const struct job_spec *spec,
		const struct launch_context *context, struct error *e)
{
	struct supervise_args args = { job, spec, context, { -1, -1 } };
	struct error ignored;
	int rc = 0;

	if (pipe2(args.ready, O_CLOEXEC) < 0) {
		int err = errno;

		log_created_here(job, context);
		return launch_failed(job, "create the readiness pipe", err, e);
	}
	if (fork_detached(supervise_detached, &args) < 0) {
		int err = errno;

		log_created_here(job, context);
		rc = launch_failed(job, "fork the supervisor", err, e);
		close(args.ready[0]);
		close(args.ready[1]);
		return rc;
	}
	close(args.ready[1]);
	/* while the supervisor starts the job: its logs, which it opens
	 * (and would create) after the job's exec */
	store_create_logs(job, &ignored);
	/* without the ready byte the supervisor died early; the lock it
	 * held is free now and readers record the loss */
	wait_ready(args.ready[0]);
	close(args.ready[0]);
	close(job->lock_fd);
	job->lock_fd = -1;
	return rc;
}
