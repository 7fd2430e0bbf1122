/* mcp_call.c - tool calls in children: each forked with its answer on a
 * pipe, read as it comes, answered once the child is reaped and the pipe
 * at its end. The child is only the caller of the command (run launches
 * the job under its own supervisor, in a session of its own), so ending
 * it never ends a job. */
#include "mcp_call.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json_parse.h"
#include "lib/sig.h"

#define ANSWER_CAP (64u << 20)	/* a larger answer is a failure */
#define PROGRESS_EVERY_MS 1000

int mcp_write_line(const char *text, size_t len)
{
	struct iovec parts[2] = {
		{ .iov_base = (void *)text, .iov_len = len },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	size_t done = 0, total = len + 1;

	while (done < total) {
		ssize_t n = writev(1, parts, 2);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
		/* move the parts on past what was written */
		for (int i = 0; i < 2 && n > 0; i++) {
			size_t step = (size_t)n < parts[i].iov_len
				      ? (size_t)n : parts[i].iov_len;

			parts[i].iov_base = (char *)parts[i].iov_base + step;
			parts[i].iov_len -= step;
			n -= (ssize_t)step;
		}
	}
	return 0;
}

void mcp_message_begin(struct json_writer *w, size_t cap,
		       const char *method, const char *id, const char *member)
{
	jw_init_mem(w, cap, 0);
	jw_object_begin(w);
	jw_kv_str(w, "jsonrpc", "2.0");
	if (method) {
		jw_kv_str(w, "method", method);
	} else {
		jw_key(w, "id");
		if (id)
			jw_raw(w, id, strlen(id));
		else
			jw_null(w);
	}
	jw_kv_object_begin(w, member);
}

void mcp_send(struct json_writer *w)
{
	jw_object_end(w);
	jw_object_end(w);
	if (!w->error)
		mcp_write_line(w->buf, w->len);
	jw_free(w);
}

/* ---- the child ---------------------------------------------------------- */

/* In the child: stdin /dev/null, or a pipe holding stdin_text; stdout the
 * answer pipe; nothing else of the server's (its stdin and stdout are the
 * client's); signals as a command expects them. Runs the command. */
static void spawned(mcp_runner run, char *const *argv, size_t argc,
		    const char *stdin_text, int out_fd)
{
	int input[2], keep[3] = { 0, 1, 2 }, in_fd;

	if (stdin_text && pipe(input) == 0) {
		if (write_all(input[1], stdin_text, strlen(stdin_text)) < 0)
			_exit(125);
		close(input[1]);
		in_fd = input[0];
	} else {
		in_fd = open_null(O_RDONLY);
	}
	if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0)
		_exit(125);
	close_fds_except(keep, 3);
	sig_reset();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	_exit(run((int)argc, (char **)argv));
}

pid_t mcp_spawn(mcp_runner run, char *const *argv, size_t argc,
		const char *stdin_text, int *out_fd)
{
	int ends[2];
	pid_t pid;

	/* only our end is non-blocking: O_NONBLOCK on the child's would make
	 * its writes fail (EAGAIN) once the pipe is full, cutting an answer
	 * or the follower's output at 64 KiB */
	if (pipe2(ends, O_CLOEXEC) < 0)
		return -1;
	if (fcntl(ends[0], F_SETFL, O_NONBLOCK) < 0) {
		close(ends[0]);
		close(ends[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(ends[0]);
		spawned(run, argv, argc, stdin_text, ends[1]);
	}
	close(ends[1]);
	if (pid < 0) {
		close(ends[0]);
		return -1;
	}
	*out_fd = ends[0];
	return pid;
}

static struct mcp_call *free_slot(struct mcp_calls *calls)
{
	for (size_t i = 0; i < MCP_CALLS_MAX; i++)
		if (!calls->slot[i].pid)
			return &calls->slot[i];
	return NULL;
}

static void call_release(struct mcp_call *call)
{
	if (call->fd >= 0)
		close(call->fd);
	free(call->id);
	free(call->progress_token);
	free(call->answer);
	memset(call, 0, sizeof(*call));
	call->fd = -1;
}

/* Start a call in a free slot: 0, or -1/errno. */
static int call_spawn(struct mcp_calls *calls, struct mcp_call *call,
		      const struct mcp_command *cmd, const char *id,
		      const char *progress_token)
{
	int fd = -1;
	pid_t pid;

	memset(call, 0, sizeof(*call));
	call->fd = -1;
	call->id = strdup(id);
	call->progress_token = progress_token ? strdup(progress_token) : NULL;
	pid = call->id && (!progress_token || call->progress_token)
	      ? mcp_spawn(calls->run, cmd->argv.v, cmd->argv.n - 1,
			  cmd->stdin_text, &fd)
	      : -1;
	if (pid < 0) {
		call_release(call);
		return -1;
	}
	call->pid = pid;
	call->fd = fd;
	call->launches = cmd->launches;
	call->until = cmd->until;
	call->clamped_until = cmd->clamped_until;
	call->started_ms = clock_mono_ms();
	call->progress_ms = call->started_ms + PROGRESS_EVERY_MS;
	return 0;
}

/* Every slot taken: the call waits its turn (its command moved in). */
static int call_queue(struct mcp_calls *calls, struct mcp_command *cmd,
		      const char *id, const char *progress_token)
{
	struct mcp_queued *q;

	size_t bytes = 0;

	for (size_t i = 0; i < cmd->argv.n && cmd->argv.v[i]; i++)
		bytes += strlen(cmd->argv.v[i]) + 1;
	if (calls->queued == MCP_QUEUE_MAX ||
	    calls->queued_bytes + bytes > MCP_QUEUE_BYTES)
		return -1;
	q = &calls->queue[(calls->queue_head + calls->queued) % MCP_QUEUE_MAX];
	memset(q, 0, sizeof(*q));
	q->id = strdup(id);
	q->progress_token = progress_token ? strdup(progress_token) : NULL;
	if (!q->id || (progress_token && !q->progress_token)) {
		free(q->id);
		free(q->progress_token);
		return -1;
	}
	q->cmd = *cmd;
	q->bytes = bytes;
	memset(&cmd->argv, 0, sizeof(cmd->argv));	/* the queue's now */
	calls->queued++;
	calls->queued_bytes += bytes;
	return 0;
}

static void queued_free(struct mcp_calls *calls, struct mcp_queued *q)
{
	calls->queued_bytes -= q->bytes;
	mcp_command_free(&q->cmd);
	free(q->id);
	free(q->progress_token);
	memset(q, 0, sizeof(*q));
}

int mcp_call_start(struct mcp_calls *calls, struct mcp_command *cmd,
		   const char *id, const char *progress_token, char *message,
		   size_t size)
{
	struct mcp_call *call = free_slot(calls);

	if (!call && call_queue(calls, cmd, id, progress_token) == 0)
		return 0;
	if (!call) {
		snprintf(message, size, "too many tool calls are pending "
			 "(%d at most, %d MiB of arguments): wait for some to be "
			 "answered", MCP_CALLS_MAX + MCP_QUEUE_MAX,
			 MCP_QUEUE_BYTES >> 20);
		return -1;
	}
	if (call_spawn(calls, call, cmd, id, progress_token) < 0) {
		why_errno(message, size, errno, "cannot start the call");
		return -1;
	}
	return 0;
}

/* Start the calls that waited, as slots free up. */
static void queue_run(struct mcp_calls *calls)
{
	struct mcp_call *call;
	char message[160];

	while (calls->queued && (call = free_slot(calls))) {
		struct mcp_queued *q = &calls->queue[calls->queue_head];

		calls->queue_head = (calls->queue_head + 1) % MCP_QUEUE_MAX;
		calls->queued--;
		if (q->id && call_spawn(calls, call, &q->cmd, q->id,
					q->progress_token) < 0) {
			why_errno(message, sizeof(message), errno,
				  "cannot start the call");
			mcp_answer_error(q->id, -32603, message);
		}
		queued_free(calls, q);
	}
}

/* ---- reading and answering ---------------------------------------------- */

size_t mcp_calls_poll_fds(const struct mcp_calls *calls, struct pollfd *fds,
			  size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < MCP_CALLS_MAX && n < max; i++)
		if (calls->slot[i].pid && calls->slot[i].fd >= 0)
			fds[n++] = (struct pollfd){ .fd = calls->slot[i].fd,
						    .events = POLLIN };
	return n;
}

/* Read what the pipe holds now; at its end (or past the cap), close it. */
static void call_read(struct mcp_call *call)
{
	for (;;) {
		ssize_t n;

		if (call->cap - call->len < 65536) {
			size_t cap = call->cap ? call->cap * 2 : 65536 * 2;
			char *grown = cap <= ANSWER_CAP
				      ? realloc(call->answer, cap) : NULL;

			if (!grown) {	/* too large: not an answer */
				kill(call->pid, SIGKILL);
				call->len = 0;
				break;
			}
			call->answer = grown;
			call->cap = cap;
		}
		n = read(call->fd, call->answer + call->len,
			 call->cap - call->len - 1);
		if (n > 0) {
			call->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break;	/* its end, or an error: what came is all */
	}
	close(call->fd);
	call->fd = -1;
}

void mcp_calls_read(struct mcp_calls *calls, const struct pollfd *fds,
		    size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (!fds[i].revents)
			continue;
		for (size_t j = 0; j < MCP_CALLS_MAX; j++)
			if (calls->slot[j].pid &&
			    calls->slot[j].fd == fds[i].fd)
				call_read(&calls->slot[j]);
	}
}

int mcp_calls_reaped(struct mcp_calls *calls, pid_t pid, int status)
{
	for (size_t i = 0; i < MCP_CALLS_MAX; i++)
		if (calls->slot[i].pid == pid) {
			calls->slot[i].exited = 1;
			calls->slot[i].status = status;
			/* what the child left in the pipe, if it still can */
			if (calls->slot[i].fd >= 0)
				call_read(&calls->slot[i]);
			return 1;
		}
	return 0;
}

/* The envelope the child printed, checked: its length (the newline cut
 * off) and whether it says ok; -1 when it is not one. */
static ssize_t envelope_of(struct mcp_call *call, int *ok)
{
	struct json_doc doc;
	const struct json_value *v;
	char err[96];
	size_t len = call->len;

	while (len && (call->answer[len - 1] == '\n'))
		len--;
	if (!len || json_parse(&doc, call->answer, len, JSON_MAX_DEPTH, err,
			       sizeof(err)) < 0) {
		json_doc_free(&doc);
		return -1;
	}
	v = json_get(doc.root, "ok");
	*ok = v && v->type == JSON_BOOL && v->u.boolean;
	if (!v || doc.root->type != JSON_OBJECT)
		len = 0;
	json_doc_free(&doc);
	return len ? (ssize_t)len : -1;
}

void mcp_error_envelope(struct json_writer *w, const char *code,
			const char *message)
{
	jw_object_begin(w);
	jw_kv_str(w, "schema_version", "0.1");
	jw_kv_bool(w, "ok", 0);
	jw_kv_str(w, "type", "error");
	jw_kv_object_begin(w, "error");
	jw_kv_str(w, "code", code);
	jw_kv_str(w, "message", message);
	jw_kv_bool(w, "retryable", 0);
	jw_object_end(w);
	jw_object_end(w);
}

/* The child's envelope, or the error envelope of a call that gave none;
 * with "clamped":{"until":N} when until was lowered. */
static void write_envelope(struct json_writer *w, struct mcp_call *call,
			   int *ok)
{
	ssize_t len = call->answer ? envelope_of(call, ok) : -1;
	char extra[64];

	if (len < 0) {
		*ok = 0;
		snprintf(extra, sizeof(extra), "the tool's command gave no "
			 "answer (wait status %d)", call->status);
		mcp_error_envelope(w, "internal_error", extra);
		return;
	}
	if (call->clamped_until < 0 || !*ok) {
		jw_raw(w, call->answer, (size_t)len);
		return;
	}
	/* the object reopened: one member more */
	snprintf(extra, sizeof(extra), ",\"clamped\":{\"until\":%lld}}",
		 (long long)call->clamped_until);
	if (call->cap < (size_t)len + strlen(extra) + 1) {
		jw_raw(w, call->answer, (size_t)len);
		return;
	}
	memcpy(call->answer + len - 1, extra, strlen(extra) + 1);
	jw_raw(w, call->answer, (size_t)len - 1 + strlen(extra));
}

void mcp_answer_error(const char *id, int code, const char *message)
{
	struct json_writer w;

	mcp_message_begin(&w, 65536, NULL, id, "error");
	jw_kv_i64(&w, "code", code);
	jw_kv_str(&w, "message", message);
	mcp_send(&w);
}

void mcp_answer_envelope(const char *id, const char *envelope, size_t len,
			 int ok)
{
	struct json_writer w;

	mcp_message_begin(&w, 2 * len + 4096, NULL, id, "result");
	jw_kv_array_begin(&w, "content");
	jw_object_begin(&w);
	jw_kv_str(&w, "type", "text");
	jw_key(&w, "text");
	jw_string_n(&w, envelope, len);
	jw_object_end(&w);
	jw_array_end(&w);
	jw_key(&w, "structuredContent");
	jw_raw(&w, envelope, len);
	jw_kv_bool(&w, "isError", !ok);
	mcp_send(&w);
}

static void call_answer(struct mcp_call *call)
{
	struct json_writer envelope;
	int ok = 0;

	jw_init_mem(&envelope, ANSWER_CAP + 4096, 0);
	write_envelope(&envelope, call, &ok);
	if (!envelope.error)
		mcp_answer_envelope(call->id, envelope.buf, envelope.len, ok);
	jw_free(&envelope);
}

size_t mcp_calls_pending(const struct mcp_calls *calls)
{
	size_t n = 0;

	for (size_t i = 0; i < MCP_CALLS_MAX; i++)
		n += calls->slot[i].pid != 0;
	return n + calls->queued;
}

void mcp_calls_answer(struct mcp_calls *calls)
{
	for (size_t i = 0; i < MCP_CALLS_MAX; i++) {
		struct mcp_call *call = &calls->slot[i];

		if (!call->pid || !call->exited || call->fd >= 0)
			continue;
		if (!call->cancelled)
			call_answer(call);
		call_release(call);
	}
	queue_run(calls);
}

/* ---- progress and cancellation ------------------------------------------ */

static void send_progress(struct mcp_call *call, int64_t now)
{
	struct json_writer w;
	uint64_t elapsed = (uint64_t)(now - call->started_ms) / 1000;
	char message[96];

	snprintf(message, sizeof(message), "waiting: %llu of %llu s",
		 (unsigned long long)elapsed, (unsigned long long)call->until);
	mcp_message_begin(&w, 65536, "notifications/progress", NULL, "params");
	jw_key(&w, "progressToken");
	jw_raw(&w, call->progress_token, strlen(call->progress_token));
	jw_kv_u64(&w, "progress", elapsed);
	if (call->until)
		jw_kv_u64(&w, "total", call->until);
	jw_kv_str(&w, "message", message);
	mcp_send(&w);
}

int64_t mcp_calls_progress(struct mcp_calls *calls, int64_t now)
{
	int64_t next = -1;

	for (size_t i = 0; i < MCP_CALLS_MAX; i++) {
		struct mcp_call *call = &calls->slot[i];

		if (!call->pid || !call->progress_token || call->cancelled ||
		    call->exited)
			continue;
		if (now >= call->progress_ms) {
			send_progress(call, now);
			while (call->progress_ms <= now)
				call->progress_ms += PROGRESS_EVERY_MS;
		}
		if (next < 0 || call->progress_ms < next)
			next = call->progress_ms;
	}
	return next;
}

/* How a call's child is ended: a run's with SIGTERM, which it holds off
 * until its job is launched (then its wait ends, the job runs on); the
 * others' at once. */
static int call_stop_signal(const struct mcp_call *call)
{
	return call->launches ? SIGTERM : SIGKILL;
}

void mcp_calls_cancel(struct mcp_calls *calls, const char *id)
{
	for (size_t i = 0; i < calls->queued; i++) {
		struct mcp_queued *q =
			&calls->queue[(calls->queue_head + i) % MCP_QUEUE_MAX];

		if (q->id && strcmp(q->id, id) == 0)
			queued_free(calls, q);	/* skipped when its turn comes */
	}
	for (size_t i = 0; i < MCP_CALLS_MAX; i++) {
		struct mcp_call *call = &calls->slot[i];

		if (!call->pid || call->cancelled || strcmp(call->id, id) != 0)
			continue;
		call->cancelled = 1;
		if (!call->exited)
			kill(call->pid, call_stop_signal(call));
	}
}

void mcp_calls_end(struct mcp_calls *calls)
{
	for (; calls->queued; calls->queued--) {
		queued_free(calls, &calls->queue[calls->queue_head]);
		calls->queue_head = (calls->queue_head + 1) % MCP_QUEUE_MAX;
	}
	for (size_t i = 0; i < MCP_CALLS_MAX; i++) {
		struct mcp_call *call = &calls->slot[i];

		if (!call->pid)
			continue;
		if (!call->exited && kill(call->pid, call_stop_signal(call)) == 0)
			waitpid(call->pid, NULL, 0);	/* at once: no zombie */
		call_release(call);
	}
}
