/* mcp_client - drive an MCP stdio server (agent-exec mcp) from a script of
 * directives, for the end-to-end tests (tests/e2e/t_mcp*.sh).
 *
 *   mcp_client [--timeout-ms N] -- CMD [ARG]...
 *
 * Starts CMD with its stdin and stdout on pipes (stderr inherited) and
 * reads directives from its own stdin, one a line; blank lines and lines
 * starting with '#' are ignored:
 *   send JSON            write JSON and a newline to the server
 *   send-file PATH       write the file's bytes as they are, then a newline
 *   expect-id ID [MS]    until a response (no "method") whose "id" is ID,
 *                        compared as the raw JSON token (3, "abc", null)
 *   expect-method M [MS] until a message whose "method" is M
 *   no-message MS        no line at all arrives within MS
 *   close                close the server's stdin
 *   expect-exit MS       the server exits within MS: prints "# exit N" or
 *                        "# signal N"
 *   print-pid            prints "# pid N" (the server's pid)
 *   echo TEXT            prints "# TEXT" (a mark for a script fed live)
 * Every line the server writes is printed to stdout as it is, the moment
 * it is read, also while the client waits for its next directive (so a
 * script may be fed through a FIFO, step by step). An expect is met by a
 * message read earlier and not yet claimed by another expect, or by one
 * that arrives before its deadline (MS, else --timeout-ms, else 10000).
 * The first directive that fails prints why on stderr; the rest of the
 * script is read but not run. At the end of the script the server's stdin
 * is closed, the server is given --timeout-ms to exit, then killed
 * (SIGKILL). Exit status: 0 every directive passed, 1 one failed, 2 usage
 * (bad arguments, an unknown directive, the server could not start). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mcp_wire.h"

#define CHUNK 65536
#define QUEUE_SIZE 4096		/* messages read and not yet claimed */
#define TOKEN_SIZE 128		/* longest id or method an expect can match */
#define SHOWN 300		/* bytes of a line quoted in a message */

enum { FAIL = 1, USAGE = 2 };
enum message_kind { MSG_RESPONSE, MSG_METHOD };

struct message {
	enum message_kind kind;
	char token[TOKEN_SIZE];
};

struct client {
	pid_t server_pid;
	int server_ended;
	int server_status;
	int to_server;		/* -1 once closed */
	int from_server;	/* -1 at end of file */
	int script_eof;
	long timeout_ms;
	struct linebuf out;	/* the server's stdout */
	struct linebuf script;	/* our stdin */
	struct message queue[QUEUE_SIZE];
	size_t queue_len;
	unsigned long lines_read;
	char last_line[SHOWN + 1];
};

static struct client client;
static int child_pipe[2] = { -1, -1 };	/* SIGCHLD wakes poll through it */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_child(int sig)
{
	int saved = errno;
	ssize_t n;

	(void)sig;
	n = write(child_pipe[1], "c", 1);
	(void)n;		/* full: a wake-up is pending already */
	errno = saved;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A "# ..." note on stdout, between the server's lines. */
static void print_note(const char *fmt, long value)
{
	char note[64];
	int n = snprintf(note, sizeof note, fmt, value);

	if (write_all(1, note, (size_t)n) < 0) {
		perror("mcp_client: cannot write to stdout");
		exit(FAIL);
	}
}

/* ---- messages read, waiting to be claimed -------------------------------- */

static void queue_add(struct client *c, enum message_kind kind,
		      const char *token, size_t len)
{
	struct message *m;

	if (len >= TOKEN_SIZE)
		return;		/* longer than any expect can name */
	if (c->queue_len == QUEUE_SIZE) {
		memmove(c->queue, c->queue + 1,
			(QUEUE_SIZE - 1) * sizeof c->queue[0]);
		c->queue_len--;
	}
	m = &c->queue[c->queue_len++];
	m->kind = kind;
	memcpy(m->token, token, len);
	m->token[len] = '\0';
}

/* Remove the oldest message of KIND and TOKEN: 1 if there was one. */
static int queue_claim(struct client *c, enum message_kind kind,
		       const char *token)
{
	size_t i;

	for (i = 0; i < c->queue_len; i++) {
		if (c->queue[i].kind != kind || strcmp(c->queue[i].token, token))
			continue;
		memmove(c->queue + i, c->queue + i + 1,
			(c->queue_len - i - 1) * sizeof c->queue[0]);
		c->queue_len--;
		return 1;
	}
	return 0;
}

/* A message with "method" is queued by its method (the string's bytes),
 * one without by its raw "id"; anything else is only printed. */
static void classify_line(struct client *c, const char *line, size_t len)
{
	const char *value;
	size_t value_len;

	if (member_find(line, line + len, "method", &value, &value_len)) {
		if (value_len >= 2 && value[0] == '"')
			queue_add(c, MSG_METHOD, value + 1, value_len - 2);
	} else if (member_find(line, line + len, "id", &value, &value_len)) {
		queue_add(c, MSG_RESPONSE, value, value_len);
	}
}

/* Print and queue every complete line the server sent. */
static void take_server_lines(struct client *c)
{
	char *line;
	size_t len, shown;

	while (linebuf_take(&c->out, &line, &len)) {
		if (write_all(1, line, len + 1) < 0) {
			perror("mcp_client: cannot write to stdout");
			exit(FAIL);
		}
		shown = len < SHOWN ? len : SHOWN;
		memcpy(c->last_line, line, shown);
		c->last_line[shown] = '\0';
		c->lines_read++;
		classify_line(c, line, len);
	}
}

/* ---- the server process --------------------------------------------------- */

static void server_reap(struct client *c)
{
	int status;
	pid_t pid;

	if (c->server_ended)
		return;
	do
		pid = waitpid(c->server_pid, &status, WNOHANG);
	while (pid < 0 && errno == EINTR);
	if (pid == c->server_pid) {
		c->server_ended = 1;
		c->server_status = status;
	}
}

static void server_close_stdin(struct client *c)
{
	if (c->to_server >= 0)
		close(c->to_server);
	c->to_server = -1;
}

static void read_server(struct client *c)
{
	ssize_t n = linebuf_read(&c->out, c->from_server);

	if (n > 0) {
		take_server_lines(c);
		return;
	}
	if (n < 0) {
		fprintf(stderr, "mcp_client: cannot read the server's output: %s\n",
			errno == EMSGSIZE ? "a line over 16 MiB" : strerror(errno));
		exit(FAIL);
	}
	if (c->out.len > 0)	/* a last line without its newline */
		fprintf(stderr, "mcp_client: the server's output ends in an"
			" unfinished line of %zu bytes\n", c->out.len);
	close(c->from_server);
	c->from_server = -1;
}

static void read_script(struct client *c)
{
	ssize_t n = linebuf_read(&c->script, 0);

	if (n < 0) {
		fprintf(stderr, "mcp_client: cannot read the script: %s\n",
			errno == EMSGSIZE ? "a line over 16 MiB" : strerror(errno));
		exit(USAGE);
	}
	if (n == 0)
		c->script_eof = 1;
}

/* Wait until DEADLINE (-1: none) for something: the server's output (its
 * lines printed and queued), the server's end, the script's input (with
 * WANT_SCRIPT), room in the server's stdin (with WANT_WRITE). 1 when
 * something happened, 0 at the deadline. */
static int pump(struct client *c, long long deadline, int want_script,
		int want_write)
{
	struct pollfd fds[4];
	int nfds = 0, timeout = -1, ready, i;

	fds[nfds++] = (struct pollfd){ .fd = child_pipe[0], .events = POLLIN };
	if (c->from_server >= 0)
		fds[nfds++] = (struct pollfd){ .fd = c->from_server, .events = POLLIN };
	if (want_script && !c->script_eof)
		fds[nfds++] = (struct pollfd){ .fd = 0, .events = POLLIN };
	if (want_write && c->to_server >= 0)
		fds[nfds++] = (struct pollfd){ .fd = c->to_server, .events = POLLOUT };
	if (deadline >= 0) {
		long long left = deadline - now_ms();

		if (left <= 0)
			return 0;
		timeout = left > 60000 ? 60000 : (int)left;
	}
	ready = poll(fds, (nfds_t)nfds, timeout);
	if (ready < 0 && errno == EINTR)
		return 1;
	if (ready < 0) {
		perror("mcp_client: poll");
		exit(FAIL);
	}
	for (i = 0; i < nfds; i++) {
		if (!fds[i].revents)
			continue;
		if (fds[i].fd == child_pipe[0]) {
			char drain[64];

			while (read(child_pipe[0], drain, sizeof drain) > 0)
				;
			server_reap(c);
		} else if (fds[i].fd == c->from_server) {
			read_server(c);
		} else if (fds[i].fd == 0) {
			read_script(c);
		}
	}
	server_reap(c);
	return ready > 0 || deadline < 0 || now_ms() < deadline;
}

/* Write to the server by DEADLINE, reading its output meanwhile (it may
 * answer while we write): 0, or -1 with errno (ETIMEDOUT, EPIPE, ...). */
static int server_write(struct client *c, const char *buf, size_t len,
			long long deadline)
{
	while (len > 0) {
		ssize_t n;

		if (c->to_server < 0) {
			errno = EPIPE;
			return -1;
		}
		n = write(c->to_server, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n < 0 && errno == EAGAIN && !pump(c, deadline, 0, 1)) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

static void child_exec(int stdin_fd, int stdout_fd, int report_fd,
		       char **argv)
{
	sigset_t none;
	int err;

	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(stdin_fd, 0) >= 0 && dup2(stdout_fd, 1) >= 0)
		execvp(argv[0], argv);
	err = errno;
	if (write(report_fd, &err, sizeof err) < 0)
		_exit(127);
	_exit(127);
}

/* Start the server; its exec failing is reported back through a
 * close-on-exec pipe (end of file: it ran). 0 or -1 (said on stderr). */
static int server_start(struct client *c, char **argv)
{
	int in[2], out[2], report[2], err = 0;
	ssize_t n;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(report, O_CLOEXEC) < 0) {
		perror("mcp_client: pipe");
		return -1;
	}
	c->server_pid = fork();
	if (c->server_pid < 0) {
		perror("mcp_client: fork");
		return -1;
	}
	if (c->server_pid == 0)
		child_exec(in[0], out[1], report[1], argv);
	close(in[0]);
	close(out[1]);
	close(report[1]);
	do
		n = read(report[0], &err, sizeof err);
	while (n < 0 && errno == EINTR);
	close(report[0]);
	c->to_server = in[1];
	c->from_server = out[0];
	if (n > 0) {
		fprintf(stderr, "mcp_client: cannot run %s: %s\n", argv[0],
			strerror(err));
		return -1;
	}
	if (fcntl(c->to_server, F_SETFL, O_NONBLOCK) < 0) {
		perror("mcp_client: fcntl");
		return -1;
	}
	return 0;
}

/* Close the server's stdin, give it TIMEOUT_MS to exit, then kill it. */
static void server_finish(struct client *c, long timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	server_close_stdin(c);
	while (!c->server_ended && pump(c, deadline, 0, 0))
		;
	if (!c->server_ended) {
		fprintf(stderr, "mcp_client: the server still ran after %ld ms:"
			" killed\n", timeout_ms);
		kill(c->server_pid, SIGKILL);
		while (!c->server_ended)
			pump(c, -1, 0, 0);
	}
	/* what it wrote before it ended */
	while (c->from_server >= 0 && pump(c, now_ms() + 100, 0, 0))
		;
}

/* ---- directives ------------------------------------------------------------- */

/* MS as a duration in milliseconds: 0, or -1 (said on stderr). */
static int parse_ms(const char *text, long *ms)
{
	char *end;

	errno = 0;
	*ms = strtol(text, &end, 10);
	if (errno || end == text || *end || *ms < 0 || *ms > 86400000L) {
		fprintf(stderr, "mcp_client: invalid milliseconds \"%s\"\n", text);
		return -1;
	}
	return 0;
}

/* "TOKEN [MS]": the token (NUL-terminated in place) and the deadline. */
static int parse_expect(struct client *c, char *arg, char **token,
			long *ms)
{
	char *space = strchr(arg, ' ');

	*token = arg;
	*ms = c->timeout_ms;
	if (space) {
		*space = '\0';
		if (parse_ms(space + 1, ms) < 0)
			return -USAGE;
	}
	if (!**token || strlen(*token) >= TOKEN_SIZE) {
		fprintf(stderr, "mcp_client: expect what? \"%s\"\n", *token);
		return -USAGE;
	}
	return 0;
}

static int do_expect(struct client *c, enum message_kind kind, char *arg)
{
	const char *what = kind == MSG_RESPONSE ? "response with id" :
		"message with method";
	long long deadline;
	char *token;
	long ms;
	int rc = parse_expect(c, arg, &token, &ms);

	if (rc < 0)
		return -rc;
	deadline = now_ms() + ms;
	for (;;) {
		if (queue_claim(c, kind, token))
			return 0;
		if (c->from_server < 0) {
			fprintf(stderr, "mcp_client: the server closed its stdout;"
				" awaited a %s %s\n", what, token);
			return FAIL;
		}
		if (!pump(c, deadline, 0, 0)) {
			fprintf(stderr, "mcp_client: no %s %s within %ld ms\n",
				what, token, ms);
			return FAIL;
		}
	}
}

static int do_no_message(struct client *c, const char *arg)
{
	unsigned long before = c->lines_read;
	long long deadline;
	long ms;

	if (parse_ms(arg, &ms) < 0)
		return USAGE;
	deadline = now_ms() + ms;
	while (c->lines_read == before && c->from_server >= 0 &&
	       pump(c, deadline, 0, 0))
		;
	if (c->lines_read == before)
		return 0;
	fprintf(stderr, "mcp_client: a line arrived within %ld ms: %s\n", ms,
		c->last_line);
	return FAIL;
}

static int do_expect_exit(struct client *c, const char *arg)
{
	long long deadline;
	long ms;

	if (parse_ms(arg, &ms) < 0)
		return USAGE;
	deadline = now_ms() + ms;
	while (!c->server_ended && pump(c, deadline, 0, 0))
		;
	if (!c->server_ended) {
		fprintf(stderr, "mcp_client: the server still runs after %ld ms\n",
			ms);
		return FAIL;
	}
	if (WIFEXITED(c->server_status))
		print_note("# exit %ld\n", WEXITSTATUS(c->server_status));
	else
		print_note("# signal %ld\n", WTERMSIG(c->server_status));
	return 0;
}

static int send_failed(const char *what)
{
	fprintf(stderr, "mcp_client: cannot send %s to the server: %s\n", what,
		strerror(errno));
	return FAIL;
}

static int do_send(struct client *c, char *json, size_t len)
{
	json[len] = '\n';	/* the byte after it is ours: one write */
	if (server_write(c, json, len + 1, now_ms() + c->timeout_ms) == 0)
		return 0;
	return send_failed("a message");
}

static int do_send_file(struct client *c, const char *path)
{
	long long deadline = now_ms() + c->timeout_ms;
	char chunk[CHUNK];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		fprintf(stderr, "mcp_client: cannot open %s: %s\n", path,
			strerror(errno));
		return USAGE;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "mcp_client: cannot read %s: %s\n", path,
				strerror(errno));
			rc = USAGE;
		} else if (n == 0) {
			if (server_write(c, "\n", 1, deadline) < 0)
				rc = send_failed(path);
		} else if (server_write(c, chunk, (size_t)n, deadline) < 0) {
			rc = send_failed(path);
		} else {
			continue;
		}
		break;
	}
	close(fd);
	return rc;
}

/* Run one directive (a line without its newline, which the buffer still
 * holds at line[len]): 0, FAIL or USAGE. */
static int run_directive(struct client *c, char *line, size_t len)
{
	char *verb, *arg;

	while (len > 0 && strchr(" \t\r", line[len - 1]))
		len--;
	line[len] = '\0';
	verb = line + strspn(line, " \t");
	if (!*verb || *verb == '#')
		return 0;
	arg = verb + strcspn(verb, " \t");
	if (*arg) {
		*arg++ = '\0';
		arg += strspn(arg, " \t");
	}
	if (!strcmp(verb, "send"))
		return do_send(c, arg, (size_t)(line + len - arg));
	if (!strcmp(verb, "send-file"))
		return do_send_file(c, arg);
	if (!strcmp(verb, "expect-id"))
		return do_expect(c, MSG_RESPONSE, arg);
	if (!strcmp(verb, "expect-method"))
		return do_expect(c, MSG_METHOD, arg);
	if (!strcmp(verb, "no-message"))
		return do_no_message(c, arg);
	if (!strcmp(verb, "expect-exit"))
		return do_expect_exit(c, arg);
	if (!strcmp(verb, "close")) {
		server_close_stdin(c);
		return 0;
	}
	if (!strcmp(verb, "print-pid")) {
		print_note("# pid %ld\n", (long)c->server_pid);
		return 0;
	}
	if (!strcmp(verb, "echo")) {
		line[len] = '\n';
		if (write_all(1, "# ", 2) < 0 ||
		    write_all(1, arg, (size_t)(line + len + 1 - arg)) < 0) {
			perror("mcp_client: cannot write to stdout");
			exit(FAIL);
		}
		return 0;
	}
	fprintf(stderr, "mcp_client: unknown directive \"%s\"\n", verb);
	return USAGE;
}

/* The next line of the script (0 at its end), printing what the server
 * says while we wait for it. */
static int next_directive(struct client *c, char **line, size_t *len)
{
	for (;;) {
		if (linebuf_take(&c->script, line, len))
			return 1;
		if (c->script_eof && c->script.len == 0)
			return 0;
		if (c->script_eof) {
			/* a last line without a newline: give it one */
			if (linebuf_reserve(&c->script) < 0) {
				fprintf(stderr, "mcp_client: a script line over 16 MiB\n");
				exit(USAGE);
			}
			c->script.data[c->script.start + c->script.len++] = '\n';
			continue;
		}
		pump(c, -1, 1, 0);
	}
}

static int setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	if (pipe2(child_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    sigaction(SIGCHLD, &sa, NULL) < 0 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		perror("mcp_client: cannot set up signals");
		return -1;
	}
	return 0;
}

/* Descriptors 0, 1 and 2 open (on /dev/null if they were not), so the
 * pipes we make never take their numbers. */
static int open_std_fds(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return -1;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: mcp_client [--timeout-ms N] -- CMD [ARG]..."
		" <SCRIPT\n");
	return USAGE;
}

int main(int argc, char **argv)
{
	struct client *c = &client;
	int arg = 1, status = 0;
	char *line;
	size_t len;

	c->timeout_ms = 10000;
	if (arg + 1 < argc && !strcmp(argv[arg], "--timeout-ms")) {
		if (parse_ms(argv[arg + 1], &c->timeout_ms) < 0)
			return usage();
		arg += 2;
	}
	if (arg >= argc || strcmp(argv[arg], "--") || arg + 1 >= argc)
		return usage();
	c->to_server = c->from_server = -1;
	if (open_std_fds() < 0 || setup_signals() < 0 ||
	    server_start(c, argv + arg + 1) < 0)
		return USAGE;
	while (next_directive(c, &line, &len)) {
		if (status == 0)
			status = run_directive(c, line, len);
	}
	server_finish(c, c->timeout_ms);
	return status;
}
