/* exec_input.c - the write channel: <job>/input.sock, through which a write
 * command hands the supervisor bytes for the job's stdin (or its terminal).
 * Both ends live here. The protocol: the command sends 'w' (or 'e': end of
 * input after the bytes), its bytes, and shuts its side; the supervisor
 * passes them on at the job's pace (reading more only once the last ones
 * went to the job) and answers "ok <bytes taken>" or "error <why>". */
#include "exec_input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/fmt.h"

#define INPUT_SOCKET "input.sock"

/* Listen on <job>/input.sock. It is bound by its name relative to the job
 * directory: a socket's path is limited to about 100 bytes. */
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
	    fchmodat(ch->job->dir_fd, INPUT_SOCKET, 0600, 0) == 0 &&
	    listen(fd, 16) == 0)
		rc = 0;
	if (chdir("/") < 0)
		rc = -1;
out:
	if (rc < 0) {
		snprintf(why, why_size, "cannot open the job's input socket: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ch->listen_fd = fd;
	return 0;
}

/* Answer the write command and let the next one in. */
static void client_finish(struct channel *ch)
{
	char reply[200];
	int len;

	if (ch->client_error[0])
		len = snprintf(reply, sizeof(reply), "error %s\n",
			       ch->client_error);
	else
		len = snprintf(reply, sizeof(reply), "ok %llu\n",
			       (unsigned long long)ch->client_bytes);
	if (write(ch->client_fd, reply, (size_t)len) < 0) {
		/* the write command is gone; nothing to tell */
	}
	close(ch->client_fd);
	ch->client_fd = -1;
	ch->client_mode = ch->client_eof = 0;
	ch->client_deadline = 0;
	ch->client_bytes = 0;
	ch->client_error[0] = '\0';
	ch->input_len = ch->input_off = 0;
}

static void client_fail(struct channel *ch, const char *why)
{
	snprintf(ch->client_error, sizeof(ch->client_error), "%s", why);
	client_finish(ch);
}

/* The command's bytes cannot reach the job: read them to their end (so
 * its request completes and it can read the answer), then say why. */
static void client_refuse(struct channel *ch, const char *why)
{
	if (!ch->client_error[0])
		snprintf(ch->client_error, sizeof(ch->client_error), "%s", why);
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
			snprintf(ch->client_error, sizeof(ch->client_error),
				 "cannot send ^D: %s", strerror(errno));
		return;
	}
	close(ch->input_fd);
	ch->input_fd = -1;
}

/* Done when the command has sent everything and the job has taken it. */
static void client_progress(struct channel *ch)
{
	if (ch->client_fd < 0)
		return;
	if (ch->client_deadline && clock_mono_ms() >= ch->client_deadline) {
		client_fail(ch, "the job has ended");
		return;
	}
	if (!ch->client_eof || ch->input_off < ch->input_len)
		return;
	if (ch->client_mode == 'e' && !ch->client_error[0] &&
	    ch->input_fd >= 0)
		input_end(ch);
	client_finish(ch);
}

/* Read more of the command's bytes, only once the last ones went to the
 * job: the job's pace sets the command's, and memory stays fixed. */
static void client_read(struct channel *ch)
{
	ssize_t got;

	if (!ch->client_mode) {
		char mode;

		got = read(ch->client_fd, &mode, 1);
		if (got == 1 && (mode == 'w' || mode == 'e'))
			ch->client_mode = mode;
		else if (got >= 0)
			client_fail(ch, "bad request");
		return;
	}
	got = read(ch->client_fd, ch->input_buf, CHANNEL_BUF_BYTES);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got <= 0) {
		ch->client_eof = 1;
		return;
	}
	if (ch->client_error[0] || ch->input_fd < 0) {
		client_refuse(ch, "the job has ended");	/* read, dropped */
		return;
	}
	ch->input_len = (size_t)got;
	ch->input_off = 0;
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
	return ch->client_deadline;
}

int channel_busy(const struct channel *ch)
{
	return ch->client_fd >= 0;
}

/* ---- the write command's end ------------------------------------------ */

/* Connect to <job>/input.sock by its name relative to the job directory
 * (a socket's path is limited to about 100 bytes). */
static int connect_input(const struct job *job)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX,
				    .sun_path = INPUT_SOCKET };
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

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

/* Send mode and bytes, then read the supervisor's verdict. */
static int send_input(int sock, int source, char mode, uint64_t *bytes,
		      struct error *e)
{
	char buf[65536], reply[256];
	ssize_t got;
	uint64_t taken;

	if (write_all(sock, &mode, 1) < 0)
		got = -1;
	else
		while ((got = read_full(source, buf, sizeof(buf))) > 0)
			if (write_all(sock, buf, (size_t)got) < 0)
				break;	/* the verdict says why */
	shutdown(sock, SHUT_WR);
	got = read_full(sock, reply, sizeof(reply) - 1);
	reply[got > 0 ? got : 0] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	if (strncmp(reply, "ok ", 3) == 0 && scan_u64(reply + 3, &taken)) {
		*bytes = taken;
		return 0;
	}
	return error_set(e, "invalid_state", "cannot write to the job: %s",
			 strncmp(reply, "error ", 6) == 0
			 ? reply + 6 : "no answer from its supervisor");
}

int exec_input_send(const struct job *job, int source_fd, int eof,
		    uint64_t *bytes, struct error *e)
{
	int sock = connect_input(job), rc;

	if (sock < 0)
		return error_set(e, "invalid_state", "job %s does not take "
				 "input: run it with --interactive or --pty",
				 job->id);
	rc = send_input(sock, source_fd, eof ? 'e' : 'w', bytes, e);
	close(sock);
	return rc;
}
