/* notify_sink.c - delivery: each sink of an event is tried in a child
 * process (a command through the shell wrapper with the event on stdin, or
 * a file appended under a lock); the caller's loop only forks, reaps and
 * keeps time, so it never waits on a sink. A hanging attempt is killed at
 * its timeout, a failed one retried with backoff, each one recorded. */
#include "notify_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "json_parse.h"
#include "lib/fmt.h"
#include "lib/program.h"
#include "lib/sig.h"
#include "notify_record.h"

extern char **environ;

#define RUNNING_MAX 4		/* sink children at once */
#define QUEUED_MAX 256		/* output-match events waiting */
#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 60000

struct sink {
	enum sink_type type;
	char *target;
	unsigned attempts;	/* made by this process */
	unsigned numbered_after; /* the last attempt number of earlier ones */
	pid_t pid;		/* the running attempt, 0 if none */
	int64_t started_ms, due_ms, kill_at;
	int timed_out, done, success;
	char attempted_at[TIMESTAMP_LEN + 1];
};

struct event {
	struct event *next;
	int finished;		/* job.finished (else job.output.matched) */
	char id[128];
	const char *type;
	char *json;		/* the event, compact */
	size_t len;
	uint64_t timeout_ms, retries;
	size_t nsinks;
	struct sink sinks[2];
	struct delivery_results results;
};

struct notifier {
	struct notifier_config config;
	struct event *head;
	size_t queued, running;
	uint64_t match_seq;
	uint64_t dropped;		/* matches no sink was given */
	uint64_t dropping, dropping_from; /* a run of them, not yet told */
	char *last_results;	/* the completion event's results, as JSON */
	int last_delivered;
	uint64_t last_omitted;
};

struct notifier *notifier_new(const struct notifier_config *config)
{
	struct notifier *n = calloc(1, sizeof(*n));

	if (n)
		n->config = *config;
	return n;
}

static void event_free(struct event *ev)
{
	for (size_t i = 0; i < ev->nsinks; i++)
		free(ev->sinks[i].target);
	record_results_free(&ev->results);
	free(ev->json);
	free(ev);
}

void notifier_free(struct notifier *n)
{
	if (!n)
		return;
	while (n->head) {
		struct event *next = n->head->next;

		event_free(n->head);
		n->head = next;
	}
	free(n->last_results);
	free(n);
}

/* The number an attempt shows: after those of earlier processes. */
static unsigned attempt_number(const struct sink *s)
{
	return s->numbered_after + s->attempts;
}

static int sink_add(struct event *ev, enum sink_type type, const char *target)
{
	struct sink *s = &ev->sinks[ev->nsinks];

	if (!target)
		return 0;
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->target = strdup(target);
	if (!s->target)
		return -1;
	ev->nsinks++;
	return 0;
}

/* A new event holding the writer's text; NULL when out of memory. */
static struct event *event_new(struct json_writer *w, const char *id,
			       int finished,
			       const struct notify_settings *settings)
{
	struct event *ev;

	if (w->error)
		return NULL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->json = w->buf;	/* the writer's buffer is the event's now */
	ev->len = w->len;
	ev->finished = finished;
	ev->type = finished ? "job.finished" : "job.output.matched";
	ev->timeout_ms = settings->timeout_ms;
	ev->retries = settings->retries;
	copy_str(ev->id, sizeof(ev->id), id);
	return ev;
}

/* job.finished first, so output matches never delay it. */
static void enqueue(struct notifier *n, struct event *ev)
{
	struct event **at = &n->head;

	if (!ev->finished)
		while (*at)
			at = &(*at)->next;
	ev->next = *at;
	*at = ev;
	if (!ev->finished)
		n->queued++;
}

/* The event log of the job's root gets a copy of every event. */
static void log_event(const struct notifier *n, const char *json, size_t len)
{
	events_append(n->config.job->root, json, len);
}

static int event_delivered(const struct event *ev)
{
	for (size_t i = 0; i < ev->nsinks; i++)
		if (!ev->sinks[i].success)
			return 0;
	return 1;
}

static int event_done(const struct event *ev)
{
	for (size_t i = 0; i < ev->nsinks; i++)
		if (!ev->sinks[i].done)
			return 0;
	return 1;
}

/* Attempt by attempt, the command sink's before the file sink's (the
 * order of agent-exec 0.1), whatever order the children ended in. */
static int result_before(const struct delivery_result *a,
			 const struct delivery_result *b)
{
	if (a->attempt != b->attempt)
		return a->attempt < b->attempt;
	return a->type == SINK_COMMAND && b->type == SINK_FILE;
}

static void results_sort(struct event *ev)
{
	struct delivery_result *v = ev->results.v;

	for (size_t i = ev->results.settled + 1; i < ev->results.n; i++) {
		struct delivery_result moving = v[i];
		size_t j = i;

		for (; j > ev->results.settled && result_before(&moving, &v[j - 1]);
		     j--)
			v[j] = v[j - 1];
		v[j] = moving;
	}
}

static enum delivery_status delivery_status(const struct event *ev)
{
	if (!event_done(ev))
		return DELIVERY_PENDING;
	return event_delivered(ev) ? DELIVERY_DELIVERED : DELIVERY_FAILED;
}

/* completion_event.json after every attempt of job.finished; a line of
 * notification_events.ndjson once an output match is done. */
static int record_event(const struct notifier *n, const struct event *ev)
{
	return record_write(n->config.job, ev->finished, ev->json, ev->len,
			    &ev->results, delivery_status(ev));
}

/* The event on the sink's stdin: an anonymous file (nothing to block on,
 * whatever its size), or a pipe where there are none. */
static int event_stdin(const struct event *ev)
{
	int fds[2], fd = memfd_create("agent-exec-event", 0);

	if (fd >= 0) {
		if (write_all(fd, ev->json, ev->len) < 0 ||
		    lseek(fd, 0, SEEK_SET) < 0)
			return -1;
		return fd;
	}
	if (pipe(fds) < 0 || write_all(fds[1], ev->json, ev->len) < 0)
		return -1;
	close(fds[1]);
	return fds[0];
}

/* Set NAME=value in env; the entry is leaked: the child execs or exits
 * at once. */
static void put_env(struct strv *env, const char *name, const char *value)
{
	size_t len = strlen(name) + strlen(value) + 2;
	char *entry = malloc(len);

	if (!entry)
		_exit(126);
	snprintf(entry, len, "%s=%s", name, value);
	if (strv_setenv(env, entry) < 0)
		_exit(126);
}

static void command_child(const struct notifier *n, const struct event *ev,
			  const struct sink *s)
{
	const struct strv *wrapper = n->config.wrapper;
	char *event_path = record_path(n->config.job, ev->finished);
	struct strv env = { 0 };
	char *argv[16], attempt[24];
	size_t argc = 0;
	int stdin_fd = event_stdin(ev), null_fd;

	null_fd = open_null(O_RDWR);
	if (stdin_fd < 0 || null_fd < 0 || dup2(stdin_fd, 0) < 0 ||
	    dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
		_exit(126);
	if (!n->config.cwd || chdir(n->config.cwd) < 0)
		(void)!chdir("/");
	/* the caller's environment, but for the masked keys (it may have
	 * exported one) */
	for (char **var = environ; *var; var++)
		if (!spec_env_masked(n->config.mask, *var) &&
		    strv_push(&env, *var) < 0)
			_exit(126);
	snprintf(attempt, sizeof(attempt), "%llu",
	       (unsigned long long)attempt_number(s));
	put_env(&env, "AGENT_EXEC_EVENT_PATH", event_path ? event_path : "");
	put_env(&env, "AGENT_EXEC_JOB_ID", n->config.job->id);
	put_env(&env, "AGENT_EXEC_EVENT_TYPE", ev->type);
	/* also what tells this process from the job's (HELPER_ENV_MARK) */
	put_env(&env, "AGENT_EXEC_EVENT_ID", ev->id);
	put_env(&env, "AGENT_EXEC_DELIVERY_ATTEMPT", attempt);
	if (n->config.callback_session)
		put_env(&env, "AGENT_EXEC_CALLBACK_SESSION",
			n->config.callback_session);
	if (n->config.callback_agent)
		put_env(&env, "AGENT_EXEC_CALLBACK_AGENT",
			n->config.callback_agent);
	for (size_t i = 0; i < wrapper->n && argc < 14; i++)
		argv[argc++] = wrapper->v[i];
	argv[argc++] = s->target;
	argv[argc] = NULL;
	exec_search(argv, env.v, attempt, sizeof(attempt));
	_exit(127);
}

/* Append the event to the file sink; the exit status is 0 or the errno. */
static void file_child(const struct event *ev, const struct sink *s)
{
	char *slash = strrchr(s->target, '/');

	/* a file size limit fails the write (and the line is taken back)
	 * rather than killing the attempt */
	signal(SIGXFSZ, SIG_IGN);
	if (slash && slash != s->target) {
		*slash = '\0';
		mkdir_parents(s->target, 0700);
		*slash = '/';
	}
	if (append_line(AT_FDCWD, s->target, ev->json, ev->len) < 0)
		_exit(errno > 0 && errno < 256 ? errno : 255);
	_exit(0);
}

static void result_record(struct event *ev, const struct sink *s,
			  int success, const char *error, int64_t now)
{
	struct delivery_result *r = record_result_add(&ev->results, s->target);

	if (!r)
		return;
	r->type = s->type;
	r->success = success;
	r->attempt = attempt_number(s);
	r->duration_ms = (uint64_t)(now - s->started_ms);
	memcpy(r->attempted_at, s->attempted_at, sizeof(r->attempted_at));
	/* a longer reason is cut, and says so */
	if (snprintf(r->error, sizeof(r->error), "%s", error) >=
	    (int)sizeof(r->error))
		memcpy(r->error + sizeof(r->error) - 4, "...", 4);
	results_sort(ev);
}

static void describe_exit(const struct sink *s, const struct event *ev,
			  int status, char *why, size_t size)
{
	if (s->timed_out)
		snprintf(why, size, "timed out after %llu ms (killed)",
			 (unsigned long long)ev->timeout_ms);
	else if (WIFSIGNALED(status))
		snprintf(why, size, "killed by signal %d", WTERMSIG(status));
	else if (s->type == SINK_FILE)
		snprintf(why, size, "cannot append to %s: %s", s->target,
			 file_strerror(WEXITSTATUS(status)));
	else
		snprintf(why, size, "exited with status %d",
			 WEXITSTATUS(status));
}

static uint64_t backoff_ms(unsigned attempts)
{
	uint64_t delay = BACKOFF_FIRST_MS;

	while (--attempts > 0 && delay < BACKOFF_MAX_MS)
		delay *= 2;
	return delay < BACKOFF_MAX_MS ? delay : BACKOFF_MAX_MS;
}

static void remember_results(struct notifier *n, const struct event *ev)
{
	struct json_writer w;

	jw_init_mem(&w, 1 << 20, 0);
	record_write_results(&w, &ev->results);
	free(n->last_results);
	n->last_results = w.error ? NULL : w.buf;
	if (w.error)
		jw_free(&w);
	n->last_delivered = event_done(ev) && event_delivered(ev);
	n->last_omitted = ev->results.omitted;
}

/* Tell of a run of dropped matches: a job.output.dropped line in the
 * event log and in notification_events.ndjson. */
static void report_dropped(struct notifier *n)
{
	struct delivery_results none = { 0 };
	struct json_writer w;

	if (n->dropping == 0)
		return;
	jw_init_mem(&w, EVENT_MAX, 0);
	notify_write_dropped(&w, &n->config, n->dropping_from, n->dropping);
	if (!w.error) {
		log_event(n, w.buf, w.len);
		record_write(n->config.job, 0, w.buf, w.len, &none,
			     DELIVERY_DROPPED);
	}
	jw_free(&w);
	n->dropping = 0;
}

static void event_finish(struct notifier *n, struct event *ev)
{
	struct event **at = &n->head;

	if (!ev->finished)
		record_event(n, ev);
	while (*at != ev)
		at = &(*at)->next;
	*at = ev->next;
	if (!ev->finished)
		n->queued--;
	event_free(ev);
	report_dropped(n);	/* there is room again */
}

/* Record an attempt's outcome; retry later, or the sink is done. */
static void log_attempt(const struct notifier *n, const struct event *ev,
			const struct sink *s, int success, const char *why,
			int64_t now)
{
	struct json_writer w;

	events_line_begin(&w, 1 << 16, "delivery.attempted", n->config.job->id);
	jw_kv_str(&w, "event_id", ev->id);
	jw_kv_str(&w, "sink_type", s->type == SINK_COMMAND ? "command"
							   : "file");
	jw_kv_str(&w, "target", s->target);
	jw_kv_bool(&w, "success", success);
	if (!success)
		jw_kv_str(&w, "error", why);
	jw_kv_u64(&w, "attempt", attempt_number(s));
	jw_kv_u64(&w, "duration_ms", (uint64_t)(now - s->started_ms));
	events_line_append(n->config.job->root, &w);
}

static void attempt_settle(struct notifier *n, struct event *ev,
			   struct sink *s, int success, const char *why)
{
	int64_t now = clock_mono_ms();

	log_attempt(n, ev, s, success, why, now);
	result_record(ev, s, success, why, now);
	if (success || s->attempts > ev->retries) {
		s->done = 1;
		s->success = success;
	} else {
		s->due_ms = now + (int64_t)backoff_ms(s->attempts);
	}
	if (ev->finished) {
		record_event(n, ev);
		remember_results(n, ev);
	}
	if (event_done(ev))
		event_finish(n, ev);
}

static void attempt_failed(struct notifier *n, struct event *ev,
			   struct sink *s, const char *why)
{
	attempt_settle(n, ev, s, 0, why);
}

static void attempt_ended(struct notifier *n, struct event *ev,
			  struct sink *s, int status)
{
	int success = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	char why[200] = "";

	s->pid = 0;
	n->running--;
	if (!success)
		describe_exit(s, ev, status, why, sizeof(why));
	attempt_settle(n, ev, s, success, why);
}

static void attempt_start(struct notifier *n, struct event *ev,
			  struct sink *s, int64_t now)
{
	pid_t pid;

	s->attempts++;
	s->timed_out = 0;
	format_utc_now(s->attempted_at);
	pid = fork();
	if (pid == 0) {
		sig_reset();
		setsid();	/* its own group: a timeout kills it all */
		if (s->type == SINK_COMMAND)
			command_child(n, ev, s);
		file_child(ev, s);
	}
	s->started_ms = now;
	if (pid < 0) {
		char why[128];

		why_errno(why, sizeof(why), errno, "cannot fork");
		attempt_failed(n, ev, s, why);
		return;
	}
	s->pid = pid;
	/* --notify-timeout 0: no limit, as --timeout 0 is */
	s->kill_at = ev->timeout_ms ? time_after(now, ev->timeout_ms) : 0;
	n->running++;
	test_stop_at("sink-started");
}

int notifier_child_exited(struct notifier *n, pid_t pid, int status)
{
	for (struct event *ev = n->head; ev; ev = ev->next) {
		for (size_t i = 0; i < ev->nsinks; i++) {
			if (ev->sinks[i].pid == pid) {
				attempt_ended(n, ev, &ev->sinks[i], status);
				return 1;
			}
		}
	}
	return 0;
}

void notifier_tick(struct notifier *n, int64_t now)
{
	for (struct event *ev = n->head; ev; ev = ev->next) {
		for (size_t i = 0; i < ev->nsinks; i++) {
			struct sink *s = &ev->sinks[i];

			if (s->pid && !s->timed_out && s->kill_at &&
			    now >= s->kill_at) {
				s->timed_out = 1;
				kill(-s->pid, SIGKILL);
				kill(s->pid, SIGKILL);
			}
			if (!s->pid && !s->done && now >= s->due_ms &&
			    n->running < RUNNING_MAX)
				attempt_start(n, ev, s, now);
		}
	}
}

int64_t notifier_deadline(const struct notifier *n)
{
	int64_t next = 0;

	for (const struct event *ev = n->head; ev; ev = ev->next) {
		for (size_t i = 0; i < ev->nsinks; i++) {
			const struct sink *s = &ev->sinks[i];
			int64_t at = 0;

			if (s->pid && !s->timed_out)
				at = s->kill_at;
			else if (!s->pid && !s->done &&
				 n->running < RUNNING_MAX)
				at = s->due_ms ? s->due_ms : 1;
			if (at && (!next || at < next))
				next = at;
		}
	}
	return next;
}

int notifier_busy(const struct notifier *n)
{
	return n->head != NULL;
}

const char *notifier_results(const struct notifier *n, int *delivered,
			     uint64_t *omitted)
{
	*delivered = n->last_delivered;
	*omitted = n->last_omitted;
	return n->last_results ? n->last_results : "[]";
}

char *notifier_job_finished(struct notifier *n, const struct job_state *st,
			    const struct json_value *meta,
			    const struct notify_settings *settings,
			    size_t *len)
{
	char id[128], *text;
	struct json_writer w;
	struct event *ev;

	notify_event_id(id, sizeof(id), n->config.job, st->attempt, 0);
	jw_init_mem(&w, EVENT_MAX, 0);
	notify_write_finished(&w, &n->config, id, st, meta, n->dropped);
	text = w.error ? NULL : strndup(w.buf, w.len);
	*len = text ? w.len : 0;
	if (!notify_finished_due(settings, st)) {
		jw_free(&w);
		return text;
	}
	ev = event_new(&w, id, 1, settings);
	if (!ev) {
		jw_free(&w);
		return text;
	}
	if (sink_add(ev, SINK_COMMAND, settings->command) < 0 ||
	    sink_add(ev, SINK_FILE, settings->file) < 0) {
		event_free(ev);
		return text;
	}
	/* persisted before the first attempt: a crash cannot lose it */
	record_event(n, ev);
	if (ev->nsinks == 0) {
		event_free(ev);
		return text;
	}
	enqueue(n, ev);
	return text;
}

/* A delivery taken over from an earlier process numbers its attempts after
 * that process's, per sink type. */
static void continue_numbering(struct event *ev)
{
	for (size_t i = 0; i < ev->nsinks; i++)
		for (size_t r = 0; r < ev->results.n; r++)
			if (ev->results.v[r].type == ev->sinks[i].type &&
			    ev->results.v[r].attempt >
			    ev->sinks[i].numbered_after)
				ev->sinks[i].numbered_after =
					ev->results.v[r].attempt;
}

int notifier_redeliver(struct notifier *n,
		       const struct notify_settings *settings,
		       struct error *e)
{
	const struct job *job = n->config.job;
	struct delivery_results history = { 0 };
	struct json_writer w = { 0 };
	struct event *ev;
	char id[128], *event = NULL;
	size_t len = 0;

	if (record_read_completion(job, &event, &len, id, sizeof(id), &history,
				   e) < 0) {
		record_results_free(&history);
		return -1;
	}
	w.buf = event;
	w.len = len;
	ev = event_new(&w, id, 1, settings);
	if (!ev || sink_add(ev, SINK_COMMAND, settings->command) < 0 ||
	    sink_add(ev, SINK_FILE, settings->file) < 0) {
		if (ev)
			event_free(ev);
		else
			free(event);
		record_results_free(&history);
		return error_errno(e, NULL, ENOMEM, "cannot redeliver");
	}
	ev->results = history;
	ev->results.settled = history.n;
	continue_numbering(ev);
	if (ev->nsinks == 0) {
		event_free(ev);
		return error_set(e, "invalid_state", "job %s has no notify "
				 "sink configured (notify set --command or "
				 "--file)", job->id);
	}
	record_event(n, ev);
	enqueue(n, ev);
	return 0;
}

void notifier_output_matched(struct notifier *n,
			     const struct notify_settings *settings,
			     const struct json_value *meta,
			     enum match_stream stream, const char *line,
			     size_t len)
{
	struct json_writer w;
	struct event *ev;
	char id[160];

	n->match_seq++;
	if (n->queued >= QUEUED_MAX) {
		/* the job is never blocked: counted, and told of */
		if (n->dropping++ == 0)
			n->dropping_from = n->match_seq;
		n->dropped++;
		return;
	}
	notify_event_id(id, sizeof(id), n->config.job, n->config.attempt,
			n->match_seq);
	jw_init_mem(&w, EVENT_MAX, 0);
	notify_write_matched(&w, &n->config, id, settings, meta, stream,
			     line, len);
	if (!w.error)
		log_event(n, w.buf, w.len);
	ev = event_new(&w, id, 0, settings);
	if (!ev) {
		jw_free(&w);
		return;
	}
	if (sink_add(ev, SINK_COMMAND, settings->match_command) < 0 ||
	    sink_add(ev, SINK_FILE, settings->match_file) < 0 ||
	    ev->nsinks == 0) {
		/* no sink (or no memory): the record alone */
		record_event(n, ev);
		event_free(ev);
		return;
	}
	enqueue(n, ev);
}

void notifier_drain(struct notifier *n)
{
	static const int child_only[] = { SIGCHLD };
	int watch_fd = sig_watch(child_only, 1);

	while (notifier_busy(n)) {
		int64_t now = clock_mono_ms(), deadline, wait_ms;
		pid_t pid;
		int status;

		notifier_tick(n, now);
		deadline = notifier_deadline(n);
		wait_ms = deadline ? deadline - now : 1000;
		wait_ms = wait_ms < 0 ? 0 : wait_ms > 1000 ? 1000 : wait_ms;
		/* without a watcher, a second's poll at worst */
		if (watch_fd >= 0 && sig_wait(watch_fd, wait_ms) > 0)
			while (sig_next(watch_fd) > 0)
				;
		else if (watch_fd < 0)
			sleep_ms(wait_ms);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			notifier_child_exited(n, pid, status);
	}
	if (watch_fd >= 0)
		sig_unwatch(watch_fd, child_only, 1);
}
