/* exec.c - launching and supervising a job. run forks twice (the middle
 * process calls setsid and exits), so the supervisor belongs to no
 * terminal and to none of the caller's process groups. It starts the job
 * in a process group of its own (exec_child.c), has it recorded running
 * with its pid and only then tells the caller it is ready. One poll() loop
 * then copies the job's output (exec_output.c), serves write commands
 * (exec_input.c), reaps the job, enforces its timeout, has its end
 * recorded (store_state.c) and drives the delivery of its events
 * (notify_sink.c) until all of that is done. As the reaper of every
 * orphan of its job, it also knows what the job leaves behind when its
 * main process ends, and lives until those leftovers are gone. */
#include "exec.h"

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

#include "exec_child.h"
#include "exec_input.h"
#include "exec_leftovers.h"
#include "exec_output.h"
#include "exec_queue.h"
#include "lib/fmt.h"
#include "lib/proc.h"
#include "lib/sig.h"
#include "notify_redeliver.h"
#include "notify_sink.h"
#include "store_logs.h"

#define LINGER_MS 1000		/* the 1-second rule for descendants */
#define READY_BYTE 'R'

/* What the supervisor watches: SIGCHLD, and the signals it passes on to
 * the job's process group. */
static const int watched_signals[] = {
	SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2
};

/* ---- the supervisor's state ------------------------------------------- */

/* Where the supervisor is in the job's life. Each phase is entered at one
 * place: RUNNING in record_running, EXITED in reap_children, ENDED in
 * record_terminal (or record_failed, from STARTING). */
enum phase {
	PHASE_STARTING,	/* launching the job */
	PHASE_RUNNING,	/* its main process runs */
	PHASE_EXITED,	/* its main process was reaped; descendants may
			   hold its pipes open, for at most LINGER_MS */
	PHASE_ENDED,	/* the terminal record is on disk and the waiters
			   let go; left to do: the pipes' last output, a
			   write command's answer, deliveries, the wait
			   for the job's leftovers */
};

struct supervisor {
	struct job *job;
	const struct job_spec *spec;	/* = &own_spec once copied */
	struct job_spec own_spec;	/* owns its strings (not argv's) */
	const struct launch_context *context;
	enum phase phase;
	struct job_state state;
	int ready_fd;		/* to the launching CLI; -1 once told */
	int created_logged;	/* job.created is in the event log */
	int stop_signal;	/* the signal that took it out of line */
	int signal_fd;
	int delivery_fd;	/* holds DELIVERY for the supervisor's life */
	int lock_watch_fd;	/* tells when the lock file is removed */
	struct child child;
	int child_status;
	struct rusage usage;
	int64_t started_ms, exited_ms;
	int64_t timeout_at, kill_at;	/* monotonic ms, 0 = not armed */
	struct leftovers_watch leftovers;
	int64_t progress_at;
	struct notifier *notifier;
	struct json_doc meta;	/* meta.json as last read */
	struct stat meta_seen;	/* its identity then: inode and mtime */
	struct notify_settings settings;
	struct capture capture;
	struct channel channel;
	/* the buffers last: a page of them becomes resident only once used,
	 * and the fields above share as few pages as they can */
	char input_buf[CHANNEL_BUF_BYTES];
	char full_buf[FULL_BUF_BYTES];
	char out_partial[LINE_MAX_BYTES], err_partial[LINE_MAX_BYTES];
};

/* ---- notifications ------------------------------------------------------ */

/* Re-read meta.json only when it was replaced (notify set renames a new
 * one into place): one fstatat per read chunk, never a parse per line. */
static void meta_refresh(struct supervisor *sv)
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
	if (store_read_meta(sv->job, &meta, &ignored) < 0)
		return;		/* keep what we had; try again next time */
	sv->meta_seen = now;
	if (notify_settings_read(meta.root, &settings, &ignored) < 0) {
		json_doc_free(&meta);
		return;
	}
	notify_settings_free(&sv->settings);
	json_doc_free(&sv->meta);
	sv->meta = meta;
	sv->settings = settings;
}

/* A line of output: an output-match event when the rule matches it. */
static void line_seen(void *ctx, enum match_stream stream, const char *line,
		      size_t len)
{
	struct supervisor *sv = ctx;

	if (sv->notifier && sv->settings.match &&
	    notify_line_matches(&sv->settings, stream, line, len))
		notifier_output_matched(sv->notifier, &sv->settings,
					sv->meta.root, stream, line, len);
}

/* Hold DELIVERY for life (a delivery cut short by our death is then
 * seen, and finished, by the next reader), and load the settings. */
static void notifications_open(struct supervisor *sv)
{
	struct notifier_config config;

	meta_refresh(sv);
	sv->delivery_fd = store_claim_delivery(sv->job, 0);
	if (sv->delivery_fd < 0)
		return;		/* whoever reads the job delivers, then */
	notifier_config_init(&config, sv->job, sv->spec);
	config.attempt = sv->state.attempt;
	sv->notifier = notifier_new(&config);
}

/* job.finished, for the terminal transition: built from the terminal
 * state and meta.json, persisted and queued when it has sinks. */
static char *finished_event(void *ctx, const struct job_state *st,
			    size_t *len)
{
	struct supervisor *sv = ctx;

	return notifier_job_finished(sv->notifier, st, sv->meta.root,
				     &sv->settings, len);
}

/* What the terminal transition asks of notifications: the sinks are
 * those configured when the job ends. */
static void completion_of(struct supervisor *sv, struct state_completion *c)
{
	c->wanted = notify_finished_wanted(&sv->settings);
	c->complete = sv->notifier ? finished_event : NULL;
	c->ctx = sv;
}

/* ---- records ------------------------------------------------------------ */

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

static void log_created(struct supervisor *sv)
{
	if (sv->context->log_created && !sv->created_logged)
		state_log_created(sv->job, sv->spec);
	sv->created_logged = 1;
}

/* The job's slot goes to the next in line as soon as its end is on disk. */
static void slot_release(struct supervisor *sv)
{
	if (sv->context->queue)
		queue_release_slot(sv->context->queue);
}

/* The job is recorded queued: the caller is told, and then the log. */
static void queued_told(void *ctx)
{
	struct supervisor *sv = ctx;

	tell_ready(sv);
	log_created(sv);
}

/* The job runs: recorded with its pid, then the caller is told. */
static void record_running(struct supervisor *sv)
{
	state_running(sv->job, &sv->state, sv->child.pid);
	sv->phase = PHASE_RUNNING;
	tell_ready(sv);
}

/* The job could not be launched (state.error says why): recorded failed,
 * then the caller is told. A job that never ran still has its (empty)
 * logs and its events. */
static void record_failed(struct supervisor *sv)
{
	struct state_completion completion;
	struct error ignored;

	store_create_logs(sv->job, &ignored);
	log_created(sv);
	if (sv->signal_fd >= 0)
		notifications_open(sv);
	else
		meta_refresh(sv);	/* no loop to deliver from: readers do */
	completion_of(sv, &completion);
	state_failed(sv->job, &sv->state, &completion);
	slot_release(sv);
	sv->phase = PHASE_ENDED;
	channel_shutdown(&sv->channel);
	tell_ready(sv);
}

/* Every child reaped: what the job left has ended, and the record says
 * so. */
static void leftovers_check(struct supervisor *sv)
{
	if (sv->phase == PHASE_ENDED && leftovers_gone(&sv->leftovers))
		state_leftovers_ended(sv->job, &sv->state);
}

/* The job is over: its end recorded (exited or killed: store_state.c
 * decides), its completion, then its waiters let go. */
static void record_terminal(struct supervisor *sv)
{
	struct job_end end = {
		.wait_status = sv->child_status,
		.usage = sv->usage,
		.duration_ms = (uint64_t)(clock_mono_ms() - sv->started_ms),
		.log_error = sv->capture.log_error,
	};
	struct state_completion completion;

	leftovers_note(&sv->leftovers, &sv->state, sv->spec->kill_leftovers,
		       sv->spec->kill_after_ms ? sv->spec->kill_after_ms
					       : LEFTOVERS_GRACE_MS);
	meta_refresh(sv);
	completion_of(sv, &completion);
	state_ended(sv->job, &sv->state, &end, &completion);
	slot_release(sv);
	sv->phase = PHASE_ENDED;
	channel_shutdown(&sv->channel);
	leftovers_check(sv);
}

/* ---- the loop ----------------------------------------------------------- */

static void group_signal(struct supervisor *sv, int signo)
{
	pid_t pid = sv->child.pid;

	if (kill(-pid, signo) < 0 && sv->phase == PHASE_RUNNING)
		kill(pid, signo);
}

static void reap_children(struct supervisor *sv)
{
	struct rusage usage;
	int status;
	pid_t pid;

	while ((pid = wait4(-1, &status, WNOHANG, &usage)) > 0) {
		if (pid != sv->child.pid) {
			if (sv->notifier)
				notifier_child_exited(sv->notifier, pid,
						      status);
			continue;
		}
		sv->phase = PHASE_EXITED;
		sv->child_status = status;
		sv->usage = usage;
		sv->exited_ms = clock_mono_ms();
	}
	leftovers_check(sv);
}

static void handle_signals(struct supervisor *sv)
{
	int signo;

	while ((signo = sig_next(sv->signal_fd)) > 0) {
		if (signo == SIGCHLD)
			reap_children(sv);
		else if (sv->phase == PHASE_RUNNING)
			group_signal(sv, signo);
	}
}

static void handle_timers(struct supervisor *sv, int64_t now)
{
	if (sv->timeout_at && now >= sv->timeout_at) {
		sv->timeout_at = 0;
		if (sv->phase == PHASE_RUNNING) {
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
		if (sv->phase != PHASE_ENDED)
			group_signal(sv, SIGKILL);
	}
	leftovers_tick(&sv->leftovers, now);
	if (sv->notifier)
		notifier_tick(sv->notifier, now);
	if (sv->progress_at && now >= sv->progress_at) {
		sv->progress_at = time_after(now, sv->spec->progress_every_ms);
		if (sv->phase != PHASE_ENDED)
			state_progress(sv->job, &sv->state);
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
	int64_t next = earliest(earliest(sv->timeout_at, sv->kill_at),
				sv->leftovers.kill_at);

	if (sv->phase != PHASE_ENDED) {
		next = earliest(next, sv->progress_at);
		if (sv->phase == PHASE_EXITED)
			next = earliest(next, sv->exited_ms + LINGER_MS);
	}
	if (sv->notifier)
		next = earliest(next, notifier_deadline(sv->notifier));
	next = earliest(next, channel_deadline(&sv->channel));
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now > 60000 ? 60000
							  : next - now);
}

/* What the job printed; notify set may have changed the rules since the
 * last chunk. */
static void output_read(struct supervisor *sv, struct stream *s)
{
	meta_refresh(sv);
	capture_read(&sv->capture, s);
}

static int work_left(const struct supervisor *sv)
{
	return sv->phase != PHASE_ENDED || capture_open(&sv->capture) ||
	       channel_busy(&sv->channel) || sv->leftovers.live ||
	       (sv->notifier && notifier_busy(sv->notifier));
}

static void supervise_loop(struct supervisor *sv)
{
	while (work_left(sv)) {
		struct pollfd fds[7] = {
			{ .fd = sv->signal_fd, .events = POLLIN },
			{ .fd = sv->capture.out.pipe_fd, .events = POLLIN },
			{ .fd = sv->capture.err.pipe_fd, .events = POLLIN },
			[6] = { .fd = sv->lock_watch_fd, .events = POLLIN },
		};
		int64_t now = clock_mono_ms();
		int ready;

		channel_poll_fds(&sv->channel, fds + 3);
		ready = poll(fds, 7, poll_timeout(sv, now));
		if (ready < 0 && errno != EINTR)
			break;
		if (ready > 0 && fds[0].revents)
			handle_signals(sv);
		if (ready > 0 && fds[1].revents)
			output_read(sv, &sv->capture.out);
		if (ready > 0 && fds[2].revents)
			output_read(sv, &sv->capture.err);
		channel_handle(&sv->channel, fds + 3);
		if (ready > 0 && fds[6].revents)
			store_lock_changed(sv->job, &sv->lock_watch_fd,
					   &sv->delivery_fd);
		now = clock_mono_ms();
		handle_timers(sv, now);
		if (sv->phase == PHASE_EXITED &&
		    (!capture_open(&sv->capture) ||
		     now >= sv->exited_ms + LINGER_MS))
			record_terminal(sv);
	}
}

/* ---- starting the job --------------------------------------------------- */

static void arm_timers(struct supervisor *sv)
{
	if (sv->spec->timeout_ms)
		sv->timeout_at = time_after(sv->started_ms,
					    sv->spec->timeout_ms);
	if (sv->spec->progress_every_ms)
		sv->progress_at = time_after(sv->started_ms,
					     sv->spec->progress_every_ms);
}

/* Start the job: the child, its logs and the masking of its output while
 * it execs, its report, then the input channel when it takes input. 0
 * when the job runs; -1 with state.error set and nothing of the job left
 * running. */
static int launch_job(struct supervisor *sv)
{
	char *why = sv->state.error;
	size_t why_size = sizeof(sv->state.error);

	if (child_start(&sv->child, sv->job, sv->spec, sv->context->old_umask,
			why, why_size) < 0)
		return -1;
	sv->started_ms = clock_mono_ms();
	/* the launching CLI creates the logs meanwhile: usually they exist */
	if (capture_open_logs(&sv->capture, sv->job, sv->spec->full_log, why,
			      why_size) < 0 ||
	    capture_redact(&sv->capture, &sv->child.secrets, why,
			   why_size) < 0) {
		child_abort(&sv->child);
		return -1;
	}
	if (child_await(&sv->child, sv->spec, why, why_size,
			&sv->state.exec_error) < 0)
		return -1;
	channel_attach(&sv->channel, sv->child.input_fd,
		       sv->child.input_is_pty);
	sv->child.input_fd = -1;
	if (sv->spec->stdin_mode == STDIN_INTERACTIVE &&
	    channel_listen(&sv->channel, why, why_size) < 0) {
		child_abort(&sv->child);
		return -1;
	}
	capture_attach(&sv->capture, sv->child.out_fd, sv->child.err_fd);
	return 0;
}

/* What the caller need not wait for, once it has its answer. */
static void announce(struct supervisor *sv)
{
	log_created(sv);
	notifications_open(sv);
	state_log_started(sv->job, &sv->state);
}

/* Everything but the buffers, which stay untouched until used. */
static void supervisor_init(struct supervisor *sv, struct job *job,
			    const struct job_spec *spec, int ready_fd,
			    const struct launch_context *context)
{
	sv->job = job;
	sv->spec = spec;
	sv->context = context;
	sv->phase = PHASE_STARTING;
	sv->ready_fd = ready_fd;
	sv->signal_fd = sv->delivery_fd = sv->lock_watch_fd = -1;
	sv->child.pid = -1;
	state_begin(&sv->state, job, getpid());
	copy_str(sv->state.queue, sizeof(sv->state.queue), spec->queue);
	capture_init(&sv->capture, sv->full_buf, sv->out_partial,
		     sv->err_partial, line_seen, sv);
	channel_init(&sv->channel, job, sv->input_buf);
}

/* The descriptors the supervisor keeps: the job's, its queue's. */
static size_t keep_count(const struct supervisor *sv, int keep[6])
{
	const struct queue *q = sv->context->queue;

	keep[0] = sv->ready_fd;
	keep[1] = sv->job->dir_fd;
	keep[2] = sv->job->lock_fd;
	keep[3] = sv->job->reserve_fd;
	keep[4] = q ? q->dir_fd : -1;
	keep[5] = q ? q->lock_fd : -1;
	return 6;
}

/* Everything the supervisor needs before it can start the job: its own
 * copy of the definition, its title, a detached life, the signals it
 * watches. -1 with state.error set. */
static int supervisor_ready(struct supervisor *sv)
{
	char title[JOB_ID_MAX + 32];
	int keep[6];
	char *why = sv->state.error;
	size_t why_size = sizeof(sv->state.error);

	if (spec_copy(&sv->own_spec, sv->spec) < 0) {
		why_errno(why, why_size, errno,
			  "cannot copy the job's definition");
		return -1;
	}
	sv->spec = &sv->own_spec;
	leftovers_adopt();
	store_supervisor_title(title, sizeof(title), sv->job->id);
	proc_title_set(title);
	/* the reserve stays open: the terminal record needs no descriptor */
	if (daemon_detach(keep, keep_count(sv, keep)) < 0) {
		why_errno(why, why_size, errno,
			  "cannot detach the supervisor (its "
			  "stdio on /dev/null or an empty pipe, its cwd /)");
		return -1;
	}
	return 0;
}

/* The signals, once the job's turn has come (exec_queue.c catches them
 * while it waits). -1 with state.error set. */
static int signals_watch(struct supervisor *sv)
{
	sv->signal_fd = sig_watch(watched_signals, sizeof(watched_signals) /
						   sizeof(*watched_signals));
	if (sv->signal_fd < 0) {
		why_errno(sv->state.error, sizeof(sv->state.error), errno,
			  "cannot set up signal handling");
		return -1;
	}
	return 0;
}

/* The jobs it comes after, and its queue: TURN_GO at once without them. */
static enum turn await_turn(struct supervisor *sv)
{
	struct turn_wait t = { sv->job, sv->spec, sv->context->queue,
			       &sv->state, queued_told, sv, 0 };
	enum turn outcome;

	if (!t.queue && !sv->spec->after.n && !sv->spec->after_ok.n)
		return TURN_GO;
	outcome = exec_await_turn(&t);
	sv->stop_signal = t.signo;
	return outcome;
}

/* Taken out of line by a signal before it ran: killed by that signal. */
static void record_dequeued(struct supervisor *sv)
{
	sv->child_status = sv->stop_signal & 0x7f;
	sv->started_ms = clock_mono_ms();
	log_created(sv);
	notifications_open(sv);
	record_terminal(sv);
	tell_ready(sv);
}

static void supervise(struct job *job, const struct job_spec *spec,
		      int ready_fd, const struct launch_context *context)
{
	/* lives as long as the process; its buffers are touched only when
	 * used, which keeps the supervisor's resident memory small */
	static struct supervisor sv;
	enum turn turn;

	supervisor_init(&sv, job, spec, ready_fd, context);
	if (supervisor_ready(&sv) < 0) {
		record_failed(&sv);	/* without signals: no loop */
		return;
	}
	turn = await_turn(&sv);
	if (signals_watch(&sv) < 0) {
		record_failed(&sv);
		return;
	}
	test_stop_at("supervisor-start");
	if (turn == TURN_STOPPED) {
		record_dequeued(&sv);
	} else if (turn != TURN_GO || launch_job(&sv) < 0) {
		record_failed(&sv);
	} else {
		record_running(&sv);
		announce(&sv);
		/* last: a descriptor to spare, for the supervisor only */
		sv.lock_watch_fd = store_lock_watch(sv.job);
		test_stop_at("job-running");
		arm_timers(&sv);
	}
	supervise_loop(&sv);
}

/* ---- the caller's side -------------------------------------------------- */

/* Whether the job's job.finished has sinks, by its meta.json. */
static int completion_wanted(const struct job *job)
{
	struct notify_settings settings;
	struct json_doc meta;
	struct error ignored;
	int wanted = 0;

	if (store_read_meta(job, &meta, &ignored) < 0)
		return 0;
	if (notify_settings_read(meta.root, &settings, &ignored) == 0) {
		wanted = notify_finished_wanted(&settings);
		notify_settings_free(&settings);
	}
	json_doc_free(&meta);
	return wanted;
}

/* Nothing could start: record it here, as the supervisor would, and have
 * its job.finished delivered by a process of its own. */
static int launch_failed(struct job *job, const struct job_spec *spec,
			 const struct launch_context *context,
			 const char *what, int err, struct error *e)
{
	struct state_completion completion = { completion_wanted(job), NULL,
					       NULL };
	struct job_state st;
	struct error ignored;

	store_create_logs(job, &ignored);
	if (context->log_created)
		state_log_created(job, spec);
	state_begin(&st, job, 0);
	why_errno(st.error, sizeof(st.error), err, "cannot %s", what);
	if (state_failed(job, &st, &completion) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/state.json",
				  job->dir);
	notify_ensure_delivered(job, &st);
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
	int rc;

	if (pipe2(args.ready, O_CLOEXEC) < 0)
		return launch_failed(job, spec, context,
				     "create the readiness pipe", errno, e);
	if (fork_detached(supervise_detached, &args) < 0) {
		rc = launch_failed(job, spec, context, "fork the supervisor",
				   errno, e);
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
	close(job->reserve_fd);
	job->reserve_fd = -1;
	return 0;
}
