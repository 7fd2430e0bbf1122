/* mcp_push.c - the session's results pushed: an `events --follow` child
 * reads the event log (sleeping on it, no polling of ours), the server
 * keeps the session's job.finished and job.output.matched events, and
 * sends each once as notifications/claude/channel (Claude Code's channels)
 * and, when the client asked for log messages, notifications/message. With
 * a session key of the caller's, what was pushed is kept in
 * <root>/.mcp/session-<hash>.json, so a server started again with the same
 * key pushes what ended meanwhile, and nothing twice. */
#include "mcp_push.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "json.h"
#include "json_parse.h"
#include "lib/fmt.h"
#include "mcp_call.h"
#include "store.h"

#define LINE_CAP (2u << 20)		/* an event line is at most this */
#define TAIL_SHOWN 2000			/* bytes of each output tail shown */
#define RESTART_MS 1000
#define STATE_MAX (64u << 10)

static const char levels[][10] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert",
	"emergency",
};
#define NOTICE 2
#define NO_LEVEL 8

/* ---- what was pushed ---------------------------------------------------- */

static int was_pushed(const struct mcp_push *push, const char *event_id)
{
	for (size_t i = 0; i < MCP_PUSHED_KEPT; i++)
		if (strcmp(push->pushed[i], event_id) == 0)
			return 1;
	return 0;
}

static void note_pushed(struct mcp_push *push, const char *event_id)
{
	copy_str(push->pushed[push->next_pushed], sizeof(push->pushed[0]),
		 event_id);
	push->next_pushed = (push->next_pushed + 1) % MCP_PUSHED_KEPT;
}

/* FNV-1a: a file name for any key. */
static uint64_t key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ull;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ull;
	return h;
}

/* {"session":KEY,"cursor":C,"pushed":[ids, oldest first]} */
static void state_save(const struct mcp_push *push)
{
	struct json_writer w;
	char tmp[4096];
	int fd;

	if (!push->state_path)
		return;
	jw_init_mem(&w, STATE_MAX, 0);
	jw_object_begin(&w);
	jw_kv_str(&w, "session", push->session);
	jw_kv_str(&w, "cursor", push->cursor);
	jw_kv_array_begin(&w, "pushed");
	for (size_t i = 0; i < MCP_PUSHED_KEPT; i++) {
		const char *id = push->pushed[(push->next_pushed + i) %
					      MCP_PUSHED_KEPT];
		if (*id)
			jw_string(&w, id);
	}
	jw_array_end(&w);
	jw_object_end(&w);
	snprintf(tmp, sizeof(tmp), "%s.tmp", push->state_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd >= 0 && !w.error && write_all(fd, w.buf, w.len) == 0 &&
	    close(fd) == 0)
		fd = rename(tmp, push->state_path) == 0 ? -2 : -1;
	else if (fd >= 0)
		close(fd);
	if (fd != -2)
		unlink(tmp);	/* kept as it was: pushed again at worst */
	jw_free(&w);
}

/* What an earlier server of this key pushed: its cursor and ids. */
static void state_load(struct mcp_push *push)
{
	struct json_doc doc = { 0 };
	const struct json_value *ids;
	char err[96], *text = NULL;
	size_t len;

	if (read_file_at(AT_FDCWD, push->state_path, STATE_MAX, &text,
			 &len) < 0)
		return;
	if (json_parse(&doc, text, len, 8, err, sizeof(err)) == 0 &&
	    json_get_str(doc.root, "session") &&
	    strcmp(json_get_str(doc.root, "session"), push->session) == 0) {
		copy_str(push->cursor, sizeof(push->cursor),
			 json_get_str(doc.root, "cursor"));
		ids = json_get(doc.root, "pushed");
		for (const struct json_value *v = ids && ids->type == JSON_ARRAY
						  ? ids->u.children.first : NULL;
		     v; v = v->next)
			if (v->type == JSON_STRING)
				note_pushed(push, v->u.string.ptr);
	}
	json_doc_free(&doc);
	free(text);
}

int mcp_push_open(struct mcp_push *push, const char *root,
		  const char *session, int persist, mcp_runner run)
{
	char name[64];

	memset(push, 0, sizeof(*push));
	push->root = root;
	push->session = session;
	push->run = run;
	push->fd = -1;
	push->log_level = NO_LEVEL;
	push->line = malloc(LINE_CAP + 1);
	if (!push->line)
		return -1;
	/* a new key has no past: follow from the newest event, found now,
	 * before any job can carry the key (else from the log's start) */
	if (!persist) {
		if (events_last_cursor(root, push->cursor,
				       sizeof(push->cursor)) < 0)
			push->cursor[0] = '\0';
		return 0;
	}
	snprintf(name, sizeof(name), ".mcp/session-%016llx.json",
		 (unsigned long long)key_hash(session));
	push->state_path = path_join(root, name);
	if (!push->state_path)
		return -1;
	state_load(push);
	return 0;
}

/* ---- following the log -------------------------------------------------- */

void mcp_push_start(struct mcp_push *push)
{
	char *argv[12] = {
		"agent-exec", "--root", (char *)push->root, "events",
		"--follow", "--type", "job.*",
	};
	size_t argc = 7;
	char dir[4096];

	if (push->follower)
		return;
	if (push->state_path) {	/* where the record of pushes lives */
		snprintf(dir, sizeof(dir), "%s/.mcp", push->root);
		mkdir_parents(dir, 0700);
	}
	if (*push->cursor) {
		argv[argc++] = "--since";
		argv[argc++] = push->cursor;
	}
	argv[argc] = NULL;
	push->len = 0;
	push->overlong = 0;
	push->follower = mcp_spawn(push->run, argv, argc, NULL, &push->fd);
	if (push->follower < 0) {
		push->follower = 0;
		push->restart_ms = clock_mono_ms() + RESTART_MS;
	} else {
		push->restart_ms = 0;
	}
}

int mcp_push_reaped(struct mcp_push *push, pid_t pid)
{
	if (!push->follower || pid != push->follower)
		return 0;
	push->follower = 0;
	if (push->fd >= 0) {
		mcp_push_read(push);	/* its last lines */
		if (push->fd >= 0)
			close(push->fd);
	}
	push->fd = -1;
	push->restart_ms = clock_mono_ms() + RESTART_MS;
	return 1;
}

int64_t mcp_push_tick(struct mcp_push *push, int64_t now)
{
	if (!push->restart_ms)
		return -1;
	if (now < push->restart_ms)
		return push->restart_ms;
	mcp_push_start(push);
	return push->restart_ms ? push->restart_ms : -1;
}

int mcp_push_log_level(struct mcp_push *push, const char *level)
{
	for (int i = 0; i < NO_LEVEL; i++)
		if (strcmp(levels[i], level) == 0) {
			push->log_level = i;
			return 0;
		}
	return -1;
}

void mcp_push_close(struct mcp_push *push)
{
	if (push->follower && kill(push->follower, SIGKILL) == 0)
		waitpid(push->follower, NULL, 0);
	if (push->fd >= 0)
		close(push->fd);
	state_save(push);
	free(push->state_path);
	free(push->line);
	memset(push, 0, sizeof(*push));
	push->fd = -1;
}

/* ---- one event pushed --------------------------------------------------- */

/* The summary: a JSON string written in pieces, the event's own text as
 * it is. */
struct summary {
	struct json_writer *w;
	struct jw_stream stream;
};

static void say(struct summary *s, const char *text)
{
	jw_string_chunk(s->w, &s->stream, text, strlen(text));
}

/* The end of an output tail, at most TAIL_SHOWN bytes from a line start. */
static void say_tail(struct summary *s, const char *name, const char *tail)
{
	size_t len = tail ? strlen(tail) : 0;
	const char *newline;

	if (!len)
		return;
	say(s, "\n");
	say(s, name);
	if (len > TAIL_SHOWN) {
		tail += len - TAIL_SHOWN;
		newline = strchr(tail, '\n');
		tail = newline ? newline + 1 : tail;
		say(s, " (its last lines)");
	}
	say(s, ":\n");
	say(s, tail);
}

/* How the job ended, in words. */
static void say_ending(struct summary *s, const struct json_value *ev)
{
	const char *state = json_get_str(ev, "state");
	const char *signal = json_get_str(ev, "signal_name");
	const char *error = json_get_str(ev, "error");
	char text[48];
	int64_t code;

	if (json_get_i64(ev, "exit_code", &code) == 0) {
		snprintf(text, sizeof(text), "exited with code %lld",
			 (long long)code);
		say(s, text);
		return;
	}
	if (!signal)
		signal = json_get_str(ev, "signal");
	say(s, state ? state : "ended");
	if (signal || error) {
		say(s, signal ? " by " : ": ");
		say(s, signal ? signal : error);
	}
}

/* The human summary, as the string value of the member just keyed: the
 * content of the channel message. */
static void write_summary(struct json_writer *w, const struct json_value *ev,
			  const char *type, const char *job)
{
	const struct json_value *command = json_get(ev, "command");
	const char *pattern = json_get_str(ev, "pattern");
	const char *stream = json_get_str(ev, "stream");
	struct summary s = { .w = w };
	char short_id[SHORT_ID_LEN + 1], after[48];
	uint64_t ms;

	job_short_id(job, short_id, sizeof(short_id));
	jw_string_begin(w, &s.stream);
	say(&s, "agent-exec job ");
	say(&s, short_id);
	say(&s, " ");
	if (strcmp(type, "job.finished") == 0) {
		say_ending(&s, ev);
		if (json_get_u64(ev, "duration_ms", &ms) == 0) {
			snprintf(after, sizeof(after), " after %llu.%01llu s",
				 (unsigned long long)(ms / 1000),
				 (unsigned long long)(ms % 1000 / 100));
			say(&s, after);
		}
	} else {
		say(&s, "printed a line matching \"");
		say(&s, pattern ? pattern : "");
		say(&s, "\" on ");
		say(&s, stream ? stream : "its output");
	}
	say(&s, " (job_id ");
	say(&s, job);
	say(&s, ")");
	if (command && command->type == JSON_ARRAY) {
		say(&s, "\ncommand:");
		for (const struct json_value *word = command->u.children.first;
		     word; word = word->next)
			if (word->type == JSON_STRING) {
				say(&s, " ");
				say(&s, word->u.string.ptr);
			}
	}
	say_tail(&s, "line", json_get_str(ev, "line"));
	say_tail(&s, "stdout", json_get_str(ev, "stdout_tail"));
	say_tail(&s, "stderr", json_get_str(ev, "stderr_tail"));
	jw_string_end(w, &s.stream);
}

/* The event's facts as string members (channel meta keys are letters,
 * digits and underscores; values strings). */
static void write_facts(struct json_writer *w, const struct json_value *ev,
			const char *type, const char *job)
{
	static const char *const keys[] = {
		"state", "signal", "signal_name", "error", "stream", "pattern",
	};
	static const char *const number_keys[] = { "exit_code", "duration_ms" };
	char number[32], short_id[SHORT_ID_LEN + 1];
	int64_t value;

	job_short_id(job, short_id, sizeof(short_id));
	jw_kv_str(w, "event_type", type);
	jw_kv_str(w, "event_id", json_get_str(ev, "event_id"));
	jw_kv_str(w, "job_id", job);
	jw_kv_str(w, "short_job_id", short_id);
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (json_get_str(ev, keys[i]))
			jw_kv_str(w, keys[i], json_get_str(ev, keys[i]));
	for (size_t i = 0; i < 2; i++)
		if (json_get_i64(ev, number_keys[i], &value) == 0) {
			snprintf(number, sizeof(number), "%lld",
				 (long long)value);
			jw_kv_str(w, number_keys[i], number);
		}
}

static void push_event(struct mcp_push *push, const struct json_value *ev,
		       const char *type, const char *job)
{
	int64_t code = 0;
	int failed = strcmp(type, "job.finished") == 0 &&
		     (json_get_i64(ev, "exit_code", &code) < 0 || code != 0);
	int level = failed ? NOTICE + 1 : NOTICE;
	struct json_writer w;

	mcp_message_begin(&w, 2 * LINE_CAP, "notifications/claude/channel",
			  NULL, "params");
	jw_key(&w, "content");
	write_summary(&w, ev, type, job);
	jw_kv_object_begin(&w, "meta");
	write_facts(&w, ev, type, job);
	jw_object_end(&w);
	mcp_send(&w);
	if (level >= push->log_level) {
		mcp_message_begin(&w, 2 * LINE_CAP, "notifications/message",
				  NULL, "params");
		jw_kv_str(&w, "level", levels[level]);
		jw_kv_str(&w, "logger", "agent-exec");
		jw_kv_object_begin(&w, "data");
		write_facts(&w, ev, type, job);
		jw_key(&w, "summary");
		write_summary(&w, ev, type, job);
		jw_object_end(&w);
		mcp_send(&w);
	}
}

/* One line of the log: the session's results pushed, once. */
static void event_line(struct mcp_push *push, const char *line, size_t len)
{
	struct json_doc doc;
	char err[96];
	const char *type, *session, *event_id, *job, *cursor;

	if (json_parse(&doc, line, len, JSON_MAX_DEPTH, err, sizeof(err)) < 0) {
		json_doc_free(&doc);
		return;
	}
	cursor = json_get_str(doc.root, "cursor");
	type = json_get_str(doc.root, "event_type");
	session = json_get_str(doc.root, "callback_session");
	event_id = json_get_str(doc.root, "event_id");
	job = json_get_str(doc.root, "job_id");
	if (cursor)
		copy_str(push->cursor, sizeof(push->cursor), cursor);
	if (type && session && event_id && job &&
	    strcmp(session, push->session) == 0 &&
	    (strcmp(type, "job.finished") == 0 ||
	     strcmp(type, "job.output.matched") == 0) &&
	    strlen(event_id) < MCP_EVENT_ID_MAX &&
	    !was_pushed(push, event_id)) {
		push_event(push, doc.root, type, job);
		note_pushed(push, event_id);
		state_save(push);
	}
	json_doc_free(&doc);
}

void mcp_push_read(struct mcp_push *push)
{
	char buf[65536];
	ssize_t got;

	while ((got = read(push->fd, buf, sizeof(buf))) > 0 ||
	       (got < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] != '\n') {
				if (push->len < LINE_CAP)
					push->line[push->len++] = buf[i];
				else
					push->overlong = 1;
				continue;
			}
			if (!push->overlong)
				event_line(push, push->line, push->len);
			push->len = 0;
			push->overlong = 0;
		}
	}
	if (got == 0 && push->fd >= 0) {	/* the follower ended */
		close(push->fd);
		push->fd = -1;
	}
}
