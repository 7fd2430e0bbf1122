/* exec_input.c - the write channel: <job>/input.sock, through which write
 * commands hand bytes to the supervisor for the job's stdin. */
#include "exec_supervisor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define INPUT_SOCKET "input.sock"

/* Listen on <job>/input.sock. It is bound by its name relative to the job
 * directory: a socket's path is limited to about 100 bytes. */
int input_listen(struct supervisor *sv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0);
	int rc = -1;

	memcpy(addr.sun_path, INPUT_SOCKET, sizeof(INPUT_SOCKET));
	if (fd < 0 || fchdir(sv->job->dir_fd) < 0)
		goto out;
	unlinkat(sv->job->dir_fd, INPUT_SOCKET, 0);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    fchmodat(sv->job->dir_fd, INPUT_SOCKET, 0600, 0) == 0 &&
	    listen(fd, 16) == 0)
		rc = 0;
	if (chdir("/") < 0)
		rc = -1;
out:
	if (rc < 0) {
		snprintf(sv->state.error, sizeof(sv->state.error),
			 "cannot open the job's input socket: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	sv->listen_fd = fd;
	return 0;
}

/* Answer the write command and let the next one in. */
static void client_finish(struct supervisor *sv)
{
	char reply[200];
	int len;

	if (sv->client_error[0])
		len = snprintf(reply, sizeof(reply), "error %s\n",
			       sv->client_error);
	else
		len = snprintf(reply, sizeof(reply), "ok %llu\n",
			       (unsigned long long)sv->client_bytes);
	if (write(sv->client_fd, reply, (size_t)len) < 0) {
		/* the write command is gone; nothing to tell */
	}
	close(sv->client_fd);
	sv->client_fd = -1;
	sv->client_mode = sv->client_eof = 0;
	sv->client_deadline = 0;
	sv->client_bytes = 0;
	sv->client_error[0] = '\0';
	sv->input_len = sv->input_off = 0;
}

static void client_fail(struct supervisor *sv, const char *why)
{
	snprintf(sv->client_error, sizeof(sv->client_error), "%s", why);
	client_finish(sv);
}

/* The command's bytes cannot reach the job: read them to their end (so
 * its request completes and it can read the answer), then say why. */
static void client_refuse(struct supervisor *sv, const char *why)
{
	if (!sv->client_error[0])
		snprintf(sv->client_error, sizeof(sv->client_error), "%s", why);
	sv->input_len = sv->input_off = 0;
}

void input_accept(struct supervisor *sv)
{
	int fd = accept4(sv->listen_fd, NULL, NULL,
			 SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	sv->client_fd = fd;
	if (sv->input_fd < 0)
		client_refuse(sv, "the job's stdin is closed");
}

/* The job's stdin reached its end (--eof): close it; a terminal gets its
 * end-of-file character instead. */
static void input_end(struct supervisor *sv)
{
	if (sv->input_is_pty) {
		/* ^D ends input at the start of a line; after a partial line
		 * the first one only sends that line */
		char eof[2] = { 4, 4 };
		size_t count = sv->input_line_open ? 2 : 1;

		if (write(sv->input_fd, eof, count) < 0)
			snprintf(sv->client_error, sizeof(sv->client_error),
				 "cannot send ^D: %s", strerror(errno));
		return;
	}
	close(sv->input_fd);
	sv->input_fd = -1;
}

/* Done when the command has sent everything and the job has taken it. */
void client_progress(struct supervisor *sv)
{
	if (sv->client_fd < 0)
		return;
	if (sv->client_deadline && clock_mono_ms() >= sv->client_deadline) {
		client_fail(sv, "the job has ended");
		return;
	}
	if (!sv->client_eof || sv->input_off < sv->input_len)
		return;
	if (sv->client_mode == 'e' && !sv->client_error[0] &&
	    sv->input_fd >= 0)
		input_end(sv);
	client_finish(sv);
}

/* Read more of the command's bytes, only once the last ones went to the
 * job: the job's pace sets the command's, and memory stays fixed. */
void client_read(struct supervisor *sv)
{
	ssize_t got;

	if (!sv->client_mode) {
		char mode;

		got = read(sv->client_fd, &mode, 1);
		if (got == 1 && (mode == 'w' || mode == 'e'))
			sv->client_mode = mode;
		else if (got >= 0)
			client_fail(sv, "bad request");
		return;
	}
	got = read(sv->client_fd, sv->input_buf, sizeof(sv->input_buf));
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got <= 0) {
		sv->client_eof = 1;
		return;
	}
	if (sv->client_error[0] || sv->input_fd < 0) {
		client_refuse(sv, "the job has ended");	/* read, dropped */
		return;
	}
	sv->input_len = (size_t)got;
	sv->input_off = 0;
}

void input_write(struct supervisor *sv)
{
	ssize_t put = write(sv->input_fd, sv->input_buf + sv->input_off,
			    sv->input_len - sv->input_off);

	if (put > 0) {
		sv->input_off += (size_t)put;
		sv->client_bytes += (uint64_t)put;
		sv->input_line_open = sv->input_buf[sv->input_off - 1] != '\n';
		return;
	}
	if (put < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* the job closed its stdin (EPIPE) or left its terminal (EIO) */
	if (!sv->input_is_pty)
		close(sv->input_fd);
	sv->input_fd = -1;
	client_refuse(sv, "the job does not read its stdin any more");
}

#define CLIENT_GRACE_MS 2000

/* The job is over: no more input. A write command being served may have
 * delivered everything already and be about to say it is done: it gets a
 * moment to finish, and its answer. */
void input_shutdown(struct supervisor *sv)
{
	if (sv->client_fd >= 0) {
		if (sv->input_off < sv->input_len)
			client_refuse(sv, "the job has ended");
		sv->client_deadline = clock_mono_ms() + CLIENT_GRACE_MS;
	}
	if (sv->listen_fd >= 0) {
		close(sv->listen_fd);
		unlinkat(sv->job->dir_fd, INPUT_SOCKET, 0);
		sv->listen_fd = -1;
	}
	if (sv->input_fd >= 0 && !sv->input_is_pty)
		close(sv->input_fd);
	sv->input_fd = -1;
}
