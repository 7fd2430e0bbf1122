/* exec_input.c - the write channel: <job>/input.sock, through which a write
 * command hands the supervisor bytes for the job's stdin (or its terminal).
 * Both ends live here. The protocol, one command at a time (others wait in
 * the listen queue):
 *   command:    'W' (or 'E': end of input after the bytes)
 *   supervisor: "go\n" once it serves this command (or "error <why>\n")
 *   command:    "<timeout ms>\n" (0: none), its bytes, then shuts its side
 *   supervisor: passes them on at the job's pace (reading more only once
 *               the last ones went to the job) and answers "ok <bytes
 *               taken>\n", "timeout <bytes taken>\n" when the timeout
 *               (counted from the line) passed first, or "error <why>\n".
 * The timeout starts only once the command is served, and the command
 * sends no byte before "go": one that gives up while it waits has given
 * the job nothing. A timed-out command's bytes not yet taken are dropped
 * and the job's stdin stays open. The first protocol, 'w' or 'e' then the
 * bytes and no timeout, is still served (a write command of an older
 * agent-exec). */
#include "exec_input.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/sig.h"

#define INPUT_SOCKET "input.sock"

/* Listen on <job>/input.sock. It is bound (and its mode set) by its name
 * relative to the job directory, entered for it: a socket's path is
 * limited to about 100 bytes. */
int channel_listen(struct channel *ch, char *why, size_t why_size)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0);
	int rc = -1;

	memcpy(addr.sun_path, INPUT_SOCKET, sizeof(INPUT_SOCKET));
	if (fd < 0 || fchdir(ch->job->dir_fd) < 0)
		goto out;
	unlinkat(ch->job->dir_fd, INPUT_SOCKET, 0);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    chmod(INPUT_SOCKET, 0600) == 0 &&
	    listen(fd, 16) == 0)
		rc = 0;
	if (chdir("/") < 0)
		rc = -1;
out:
	if (rc < 0) {
		why_errno(why, why_size, errno,
			  "cannot open the job's input socket");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ch->listen_fd = fd;
	return 0;
}

/* Answer the write command and let the next one in. An error says how
 * much the job took before it: a partial write tells its count. */
static void client_finish(struct channel *ch)
{
	unsigned long long bytes = ch->client_bytes;
	char reply[256];
	int len;

	if (ch->client_error[0] && bytes)
		len = snprintf(reply, sizeof(reply), "error %s (the job took "
			       "the first %llu bytes)\n", ch->client_error,
			       bytes);
	else if (ch->client_error[0])
		len = snprintf(reply, sizeof(reply), "error %s\n",
			       ch->client_error);
	else
		len = snprintf(reply, sizeof(reply), "%s %llu\n",
			       ch->client_timed_out ? "timeout" : "ok", bytes);
	if (send(ch->client_fd, reply, (size_t)len, MSG_NOSIGNAL) < 0) {
		/* the write command is gone; nothing to tell */
	}
	close(ch->client_fd);
	ch->client_fd = -1;
	ch->client_mode = ch->client_eof = 0;
	ch->client_started = ch->client_timed_out = 0;
	ch->client_line_len = 0;
	ch->client_deadline = ch->client_timeout_at = 0;
	ch->client_bytes = 0;
	ch->client_error[0] = '\0';
	ch->input_len = ch->input_off = 0;
}

static void client_fail(struct channel *ch, const char *why)
{
	copy_str(ch->client_error, sizeof(ch->client_error), why);
	client_finish(ch);
}

/* The command's bytes cannot reach the job: read them to their end (so
 * its request completes and it can read the answer), then say why. */
static void client_refuse(struct channel *ch, const char *why)
{
	if (!ch->client_error[0])
		copy_str(ch->client_error, sizeof(ch->client_error), why);
	ch->input_len = ch->input_off = 0;
}

static void input_accept(struct channel *ch)
{
	int fd = accept4(ch->listen_fd, NULL, NULL,
			 SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	ch->client_fd = fd;
	if (ch->input_fd < 0)
		client_refuse(ch, "the job's stdin is closed");
}

/* The job's stdin reached its end (--eof): close it; a terminal gets its
 * end-of-file character instead. */
static void input_end(struct channel *ch)
{
	if (ch->input_is_pty) {
		/* ^D ends input at the start of a line; after a partial line
		 * the first one only sends that line */
		char eof[2] = { 4, 4 };
		size_t count = ch->input_line_open ? 2 : 1;

		if (write(ch->input_fd, eof, count) < 0)
			why_errno(ch->client_error, sizeof(ch->client_error),
				  errno, "cannot send ^D");
		return;
	}
	close(ch->input_fd);
	ch->input_fd = -1;
}

/* Done when the command has sent everything and the job has taken it;
 * or when its timeout passed first (what was not taken is dropped, and
 * the job's input stays open). */
static void client_progress(struct channel *ch)
{
	int64_t now;
	int done;

	if (ch->client_fd < 0)
		return;
	now = clock_mono_ms();
	if (ch->client_deadline && now >= ch->client_deadline) {
		client_fail(ch, "the job has ended");
		return;
	}
	done = ch->client_eof && ch->input_off >= ch->input_len;
	if (!done && ch->client_timeout_at && now >= ch->client_timeout_at) {
		ch->client_timed_out = !ch->client_error[0];
		client_finish(ch);
		return;
	}
	if (!done)
		return;
	/* a timed command that left before its line (it gave up waiting
	 * for "go") sent nothing, and asks for no end of input */
	if ((ch->client_mode == 'W' || ch->client_mode == 'E') &&
	    !ch->client_started)
		client_refuse(ch, "bad request: no timeout");
	if ((ch->client_mode == 'e' || ch->client_mode == 'E') &&
	    !ch->client_error[0] && ch->input_fd >= 0)
		input_end(ch);
	client_finish(ch);
}

/* A timed command is served: tell it to send its line and bytes, or why
 * it cannot. */
static void client_serve(struct channel *ch)
{
	if (ch->client_error[0])
		client_finish(ch);	/* refused when it came in */
	else if (send(ch->client_fd, "go\n", 3, MSG_NOSIGNAL) != 3)
		client_fail(ch, "the command left");
}

/* The timeout line of a timed command ("<ms>\n"), at the start of what
 * was just read: its timeout counts from now; the bytes after it are the
 * first for the job. -1 when the line is bad (the command is answered). */
static int client_take_line(struct channel *ch)
{
	uint64_t timeout_ms;

	while (ch->input_off < ch->input_len) {
		char c = ch->input_buf[ch->input_off++];

		if (c == '\n')
			break;
		if (ch->client_line_len + 1 >= sizeof(ch->client_line)) {
			client_fail(ch, "bad request: a bad timeout");
			return -1;
		}
		ch->client_line[ch->client_line_len++] = c;
	}
	if (ch->input_buf[ch->input_off - 1] != '\n')
		return 0;	/* the rest of the line comes next */
	ch->client_line[ch->client_line_len] = '\0';
	if (parse_u64(ch->client_line, &timeout_ms) < 0) {
		client_fail(ch, "bad request: a bad timeout");
		return -1;
	}
	ch->client_started = 1;
	if (timeout_ms)
		ch->client_timeout_at = time_after(clock_mono_ms(), timeout_ms);
	return 0;
}

/* Read more of the command's bytes, only once the last ones went to the
 * job: the job's pace sets the command's, and memory stays fixed. */
static void client_read(struct channel *ch)
{
	ssize_t got;

	if (!ch->client_mode) {
		char mode;

		got = read(ch->client_fd, &mode, 1);
		if (got == 1 && mode && strchr("weWE", mode))
			ch->client_mode = mode;
		else if (got >= 0)
			client_fail(ch, "bad request");
		if (ch->client_mode == 'W' || ch->client_mode == 'E')
			client_serve(ch);
		return;
	}
	got = read(ch->client_fd, ch->input_buf, CHANNEL_BUF_BYTES);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got <= 0) {
		ch->client_eof = 1;
		return;
	}
	ch->input_len = (size_t)got;
	ch->input_off = 0;
	if ((ch->client_mode == 'W' || ch->client_mode == 'E') &&
	    !ch->client_started && client_take_line(ch) < 0)
		return;
	if (ch->client_error[0] || ch->input_fd < 0)
		client_refuse(ch, "the job has ended");	/* read, dropped */
}

static void input_write(struct channel *ch)
{
	ssize_t put = write(ch->input_fd, ch->input_buf + ch->input_off,
			    ch->input_len - ch->input_off);

	if (put > 0) {
		ch->input_off += (size_t)put;
		ch->client_bytes += (uint64_t)put;
		ch->input_line_open = ch->input_buf[ch->input_off - 1] != '\n';
		return;
	}
	if (put < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* the job closed its stdin (EPIPE) or left its terminal (EIO) */
	close(ch->input_fd);
	ch->input_fd = -1;
	client_refuse(ch, "the job does not read its stdin any more");
}

#define CLIENT_GRACE_MS 2000

/* The job is over: no more input. A write command being served may have
 * delivered everything already and be about to say it is done: it gets a
 * moment to finish, and its answer. */
void channel_shutdown(struct channel *ch)
{
	if (ch->client_fd >= 0) {
		if (ch->input_off < ch->input_len)
			client_refuse(ch, "the job has ended");
		ch->client_deadline = clock_mono_ms() + CLIENT_GRACE_MS;
	}
	if (ch->listen_fd >= 0) {
		close(ch->listen_fd);
		unlinkat(ch->job->dir_fd, INPUT_SOCKET, 0);
		ch->listen_fd = -1;
	}
	if (ch->input_fd >= 0)
		close(ch->input_fd);
	ch->input_fd = -1;
}

void channel_init(struct channel *ch, const struct job *job, char *buf)
{
	ch->job = job;
	ch->input_fd = ch->listen_fd = ch->client_fd = -1;
	ch->input_buf = buf;
}

void channel_attach(struct channel *ch, int input_fd, int input_is_pty)
{
	ch->input_fd = input_fd;
	ch->input_is_pty = input_is_pty;
}

void channel_poll_fds(const struct channel *ch, struct pollfd fds[3])
{
	int client_wants = ch->client_fd >= 0 && !ch->client_eof &&
			   ch->input_off == ch->input_len;

	fds[0] = (struct pollfd){ .fd = ch->client_fd < 0 ? ch->listen_fd : -1,
				  .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = client_wants ? ch->client_fd : -1,
				  .events = POLLIN };
	fds[2] = (struct pollfd){ .fd = ch->input_off < ch->input_len
					? ch->input_fd : -1,
				  .events = POLLOUT };
}

void channel_handle(struct channel *ch, const struct pollfd fds[3])
{
	if (fds[0].revents)
		input_accept(ch);
	if (fds[1].revents && ch->client_fd >= 0)
		client_read(ch);
	if (fds[2].revents && ch->input_fd >= 0)
		input_write(ch);
	client_progress(ch);
}

int64_t channel_deadline(const struct channel *ch)
{
	if (!ch->client_deadline || (ch->client_timeout_at &&
				     ch->client_timeout_at < ch->client_deadline))
		return ch->client_timeout_at;
	return ch->client_deadline;
}

int channel_busy(const struct channel *ch)
{
	return ch->client_fd >= 0;
}

/* ---- the write command's end ------------------------------------------ */

/* How long after its timeout a command waits for the supervisor's answer
 * (which comes at once unless the supervisor is stopped). */
#define ANSWER_GRACE_MS 2000

/* Connect to <job>/input.sock by its name relative to the job directory
 * (a socket's path is limited to about 100 bytes); non-blocking. */
static int connect_input(const struct job *job)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX,
				    .sun_path = INPUT_SOCKET };
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0), err;

	if (fd >= 0 && (fchdir(job->dir_fd) < 0 ||
			connect(fd, (struct sockaddr *)&addr,
				sizeof(addr)) < 0)) {
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	err = errno;
	if (cwd >= 0) {
		if (fchdir(cwd) < 0) {
			/* nothing later needs the old directory */
		}
		close(cwd);
	}
	errno = err;
	return fd;
}

/* Connect, trying again while the supervisor's queue of commands is full
 * (EAGAIN), until the deadline (0: none): -1/errno, ETIMEDOUT then. */
static int connect_until(const struct job *job, int64_t deadline)
{
	for (;;) {
		int fd = connect_input(job);

		if (fd >= 0 || errno != EAGAIN)
			return fd;
		if (deadline && clock_mono_ms() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		sleep_ms(10);
	}
}

/* poll(fds) until the deadline (0: none): its count, 0 when the deadline
 * passed, -1/errno. */
static int poll_until(struct pollfd *fds, nfds_t count, int64_t deadline)
{
	int64_t left = deadline ? deadline - clock_mono_ms() : -1;

	if (deadline && left <= 0)
		return 0;
	return sig_poll(fds, count, left);
}

/* One line of the supervisor's ("go", "ok 12", ...), newline cut, read a
 * byte at a time (nothing after it is taken): 1, 0 when the deadline (0:
 * none) passed first, -1/errno (EPIPE: it closed without one). */
static int read_line(int sock, int64_t deadline, char *line, size_t size)
{
	size_t len = 0;

	for (;;) {
		struct pollfd fd = { .fd = sock, .events = POLLIN };
		int ready = poll_until(&fd, 1, deadline);
		ssize_t got;

		if (ready <= 0)
			return ready;
		got = read(sock, line + len, 1);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got <= 0) {
			errno = got == 0 ? EPIPE : errno;
			return -1;
		}
		if (line[len] == '\n' || len + 2 >= size) {
			line[len + (line[len] != '\n')] = '\0';
			return 1;
		}
		len++;
	}
}

/* A write command under way: its bytes, from the source to the socket. */
struct writer {
	int sock, source;
	int64_t deadline;	/* the timeout, 0: none */
	int source_done;	/* its end was read, the socket's side shut */
	uint64_t sent;		/* bytes given to the socket */
	size_t len, off;
	char buf[65536];
};

/* Read the next chunk of the source (its end: shut our side). 0, or -1
 * with errno. */
static int writer_read(struct writer *w)
{
	ssize_t got = read(w->source, w->buf, sizeof(w->buf));

	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	w->len = (size_t)got;
	w->off = 0;
	if (got == 0) {
		w->source_done = 1;
		shutdown(w->sock, SHUT_WR);
	}
	return 0;
}

/* Hand the supervisor the source's bytes as it takes them, until they are
 * all sent or it answers (early: an error or its timeout). 1 when its
 * answer is to be read; 0 when the timeout and the grace after it passed
 * without one; -1 with errno when the source cannot be read. */
static int writer_send(struct writer *w)
{
	int64_t until = w->deadline ? time_after(w->deadline, ANSWER_GRACE_MS)
				    : 0;

	while (!w->source_done) {
		struct pollfd fds[2] = {
			{ .fd = w->off < w->len ? -1 : w->source,
			  .events = POLLIN },
			{ .fd = w->sock,
			  .events = POLLIN | (w->off < w->len ? POLLOUT : 0) },
		};
		int ready = poll_until(fds, 2, until);
		ssize_t put;

		if (ready <= 0)
			return ready;
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
			return 1;	/* answered before taking it all */
		if (fds[0].revents && writer_read(w) < 0)
			return -1;
		if (!(fds[1].revents & POLLOUT))
			continue;
		put = send(w->sock, w->buf + w->off, w->len - w->off,
			   MSG_NOSIGNAL | MSG_DONTWAIT);
		if (put > 0) {
			w->off += (size_t)put;
			w->sent += (uint64_t)put;
		} else if (errno != EAGAIN && errno != EINTR) {
			return 1;	/* it closed: its answer says why */
		}
	}
	return 1;
}

/* The supervisor's verdict on a command: ok, timeout, or error. */
static int read_verdict(struct writer *w, struct input_sent *sent,
			struct error *e)
{
	int64_t until = w->deadline ? time_after(w->deadline, ANSWER_GRACE_MS)
				    : 0;
	char line[256];
	int got = read_line(w->sock, until, line, sizeof(line));

	if (got == 0)
		return error_set(e, "invalid_state", "cannot write to the job: "
				 "its supervisor did not answer %d ms after "
				 "the timeout (stopped?); at most %llu bytes "
				 "went to it", ANSWER_GRACE_MS,
				 (unsigned long long)w->sent);
	if (got > 0 && strncmp(line, "ok ", 3) == 0 &&
	    scan_u64(line + 3, &sent->bytes))
		return 0;
	if (got > 0 && strncmp(line, "timeout ", 8) == 0 &&
	    scan_u64(line + 8, &sent->bytes)) {
		sent->timed_out = 1;
		return 0;
	}
	return error_set(e, "invalid_state", "cannot write to the job: %s",
			 got > 0 && strncmp(line, "error ", 6) == 0
			 ? line + 6 : "no answer from its supervisor");
}

/* Be served ("go"), then send the timeout line and the bytes, and read the
 * verdict. A command that is not served before its timeout gave nothing:
 * 0 bytes, timed out. */
static int send_input(struct writer *w, char mode, struct input_sent *sent,
		      struct error *e)
{
	char line[256];
	int64_t left;
	int got, len;

	if (send(w->sock, &mode, 1, MSG_NOSIGNAL) != 1)
		return error_errno(e, "invalid_state", errno, "cannot write to "
				   "the job");
	got = read_line(w->sock, w->deadline, line, sizeof(line));
	if (got == 0) {
		sent->timed_out = 1;	/* still waiting for its turn */
		return 0;
	}
	if (got < 0 || strcmp(line, "go") != 0)
		return error_set(e, "invalid_state", "cannot write to the job: "
				 "%s", got > 0 && strncmp(line, "error ", 6) == 0
				 ? line + 6 : "no answer from its supervisor");
	left = w->deadline ? w->deadline - clock_mono_ms() : 0;
	len = snprintf(line, sizeof(line), "%lld\n",
		       (long long)(w->deadline && left < 1 ? 1 : left));
	if (send(w->sock, line, (size_t)len, MSG_NOSIGNAL) != len)
		return error_errno(e, "invalid_state", errno, "cannot write to "
				   "the job");
	got = writer_send(w);
	if (got < 0)
		return error_errno(e, "invalid_input", errno, "cannot read the "
				   "bytes to write");
	return read_verdict(w, sent, e);
}

int exec_input_send(const struct job *job, int source_fd, int eof,
		    uint64_t timeout_ms, struct input_sent *sent,
		    struct error *e)
{
	struct writer w = {
		.source = source_fd,
		.deadline = timeout_ms ? time_after(clock_mono_ms(), timeout_ms)
				       : 0,
	};
	int rc;

	*sent = (struct input_sent){ 0 };
	w.sock = connect_until(job, w.deadline);
	if (w.sock < 0 && errno == ETIMEDOUT) {
		sent->timed_out = 1;	/* its queue stayed full */
		return 0;
	}
	if (w.sock < 0)
		return error_set(e, "invalid_state", "job %s does not take "
				 "input: run it with --interactive or --pty",
				 job->id);
	rc = send_input(&w, eof ? 'E' : 'W', sent, e);
	close(w.sock);
	return rc;
}
