/* exec_input.h - the write channel, <job>/input.sock: the supervisor's end
 * (struct channel) and the write command's (exec_input.c). */
#ifndef AE_EXEC_INPUT_H
#define AE_EXEC_INPUT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CHANNEL_BUF_BYTES 16384

struct channel {
	const struct job *job;
	int input_fd;		/* the job's stdin (write end), -1 when none */
	int input_is_pty;	/* input_fd is (a copy of) its terminal */
	int input_line_open;	/* the last byte written was not a newline */
	int listen_fd;		/* <job>/input.sock, -1 when none */
	int client_fd;		/* the write command being served, -1 */
	int client_mode;	/* 'w'/'W' or 'e'/'E' (then EOF), 0 until known */
	int client_eof;		/* it sent all its bytes */
	int client_started;	/* 'W'/'E': its timeout line was read */
	int client_timed_out;	/* its timeout passed before its bytes went */
	size_t client_line_len;
	char client_line[24];	/* 'W'/'E': the timeout line so far */
	int64_t client_deadline;	/* after the job's end: answer by */
	int64_t client_timeout_at;	/* its timeout (monotonic ms), 0: none */
	uint64_t client_bytes;
	char client_error[160];
	size_t input_len, input_off;
	char *input_buf;	/* CHANNEL_BUF_BYTES */
};

/* A channel for job, using the caller's buffer; no input yet. */
void channel_init(struct channel *ch, const struct job *job, char *buf);
/* The job's stdin (or a copy of its terminal), which the channel takes
 * over; -1: the job takes no input. */
void channel_attach(struct channel *ch, int input_fd, int input_is_pty);
/* Listen on <job>/input.sock. -1 with why filled. */
int channel_listen(struct channel *ch, char *why, size_t why_size);
/* The three descriptors the loop polls for the channel now, and what to
 * do when they are ready. */
void channel_poll_fds(const struct channel *ch, struct pollfd fds[3]);
void channel_handle(struct channel *ch, const struct pollfd fds[3]);
/* When a command being answered must be done (monotonic ms, 0 = none),
 * and whether one is being served. */
int64_t channel_deadline(const struct channel *ch);
int channel_busy(const struct channel *ch);
/* The job is over: no more input; a command being served gets a moment
 * to finish, and its answer. */
void channel_shutdown(struct channel *ch);

/* What a write command achieved: the bytes the job took, and whether its
 * timeout passed before all of them went (then no end of input was sent). */
struct input_sent {
	uint64_t bytes;
	int timed_out;
};
/* The command's end: send the bytes of source_fd (eof: then end the job's
 * input) to the job's supervisor, for at most timeout_ms (0: no limit),
 * reading source_fd included. invalid_state when the job takes no input or
 * refused it, or its supervisor did not answer. */
int exec_input_send(const struct job *job, int source_fd, int eof,
		    uint64_t timeout_ms, struct input_sent *sent,
		    struct error *e);

#endif
