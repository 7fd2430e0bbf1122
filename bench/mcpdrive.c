/* mcpdrive: the MCP client of the agent-exec benchmarks (bench/mcp.sh).
 *
 * It starts an MCP stdio server (SERVER: e.g. agent-exec --root R mcp) on
 * two pipes of its own, keeps them open for the whole session, completes
 * the handshake (initialize, then notifications/initialized) and then:
 *
 *   mcpdrive calls N W OUTFILE [--timeout-ms T] -- SERVER...
 *       W + N tools/call requests of the tool run (command ["true"],
 *       until 0), back to back: each written as soon as the answer to the
 *       one before has been read. Each is timed with CLOCK_MONOTONIC from
 *       just before the write of the request line to the return of the
 *       read() that brought the answer's newline; the last N go to OUTFILE
 *       in microseconds, one a line, in order.
 *   mcpdrive pushes N SCRIPT PREFIX [--timeout-ms T] -- SERVER...
 *       N jobs, one at a time: tools/call run of ["sh","-c",SCRIPT,"sh",I]
 *       (I = 1..N; until 0); once its answer names the job, wait for the
 *       notifications/claude/channel line whose params.meta.job_id is that
 *       job, and stamp PREFIX.I with CLOCK_REALTIME (ns) taken when the
 *       read() that brought that line returned. SCRIPT stamps the job's end
 *       itself ("...; exec benchtool stamp END.$1").
 *   mcpdrive hold SCRIPT [--timeout-ms T] -- SERVER...
 *       run sh -c SCRIPT sh PID (PID: the server's; stdio inherited) while
 *       the session stays open and the driver sends nothing; exit with its
 *       status. Lines the server wrote meanwhile are counted on stderr.
 *
 * At the end the server's stdin is closed, its stdout read to the end and
 * the server waited for (killed after T ms). Any other line the server
 * writes (notifications of other jobs) is read and skipped. The server's
 * stderr is the driver's. T (default 30000) bounds every wait.
 *
 * C99 + POSIX, libc only; every system call is checked; no global state.
 * The JSON reading is the least this needs: members looked up by key in
 * the lines the server writes, strings without escapes for ids.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 30000L
#define LINE_MAX_BYTES (16L << 20)	/* a longer line is an error */
#define ID_MAX 128

/* ---- errors and small helpers -------------------------------------- */

static int fail(const char *what, const char *arg)
{
	if (arg)
		fprintf(stderr, "mcpdrive: %s: %s: %s\n", what, arg,
			strerror(errno));
	else
		fprintf(stderr, "mcpdrive: %s: %s\n", what, strerror(errno));
	return 1;
}

static int failx(const char *what)
{
	fprintf(stderr, "mcpdrive: %s\n", what);
	return 1;
}

static int usage(const char *msg)
{
	fprintf(stderr, "mcpdrive: %s (see the comment at the top of "
		"bench/mcpdrive.c)\n", msg);
	return 2;
}

static int parse_long(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* The time of CLOCK_ID in ns; -1 (reported) when the clock fails. */
static long long clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0) {
		fail("clock_gettime", NULL);
		return -1;
	}
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
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

/* TEXT to PATH through PATH.tmp.<pid> and a rename (as benchtool does). */
static int write_file_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	int fd;

	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return fail("path", path);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail("open", tmp);
	if (write_all(fd, text, strlen(text)) != 0) {
		fail("write", tmp);
		close(fd);
		unlink(tmp);
		return 1;
	}
	if (close(fd) != 0)
		return fail("close", tmp);
	if (rename(tmp, path) != 0)
		return fail("rename", path);
	return 0;
}

/* ---- just enough JSON ---------------------------------------------- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* Past the string at P (at its opening quote); NULL if unterminated. */
static const char *skip_string(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && !*++p)
			return NULL;
	return *p ? p + 1 : NULL;
}

/* Past the value at P; NULL if malformed (nesting is counted, not
 * checked: the server's lines are valid JSON). */
static const char *skip_value(const char *p)
{
	long depth = 0;

	p = skip_ws(p);
	do {
		if (*p == '"') {
			p = skip_string(p);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (!*p)
			return NULL;
		else if (depth == 0) {	/* a number or a literal */
			while (*p && !strchr(",}] \t\r\n", *p))
				p++;
			return p;
		}
		p++;
	} while (depth > 0);
	return depth == 0 ? p : NULL;
}

/* The value of member KEY of the object at OBJ, or NULL. */
static const char *member(const char *obj, const char *key)
{
	size_t klen = strlen(key);
	const char *p;

	if (!obj || *(p = skip_ws(obj)) != '{')
		return NULL;
	for (p = skip_ws(p + 1); *p == '"'; p = skip_ws(p + 1)) {
		const char *name = p + 1, *end = skip_string(p);

		if (!end || *(p = skip_ws(end)) != ':')
			return NULL;
		p = skip_ws(p + 1);
		if ((size_t)(end - 1 - name) == klen &&
		    memcmp(name, key, klen) == 0)
			return p;
		p = skip_value(p);
		if (!p || *(p = skip_ws(p)) != ',')
			return NULL;
	}
	return NULL;
}

/* The string at V, without escapes, into OUT; -1 when it is not one. */
static int string_of(const char *v, char *out, size_t size)
{
	size_t n = 0;

	if (!v || *v != '"')
		return -1;
	for (v++; *v != '"'; v++) {
		if (!*v || *v == '\\' || n + 1 >= size)
			return -1;
		out[n++] = *v;
	}
	out[n] = '\0';
	return 0;
}

/* Whether the value at V is the literal LIT (true, false, a number). */
static int is_literal(const char *v, const char *lit)
{
	size_t n = strlen(lit);

	return v && strncmp(v, lit, n) == 0 && strchr(",}] \t\r\n", v[n]);
}

/* S as a JSON string (quotes included) into OUT; -1 when too long. */
static int json_quote(const char *s, char *out, size_t size)
{
	size_t n = 0;

	if (size < 3)
		return -1;
	out[n++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t len;

		if (c == '"' || c == '\\')
			len = (size_t)snprintf(esc, sizeof esc, "\\%c", c);
		else if (c < 0x20)
			len = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
		else
			len = (size_t)snprintf(esc, sizeof esc, "%c", c);
		if (n + len + 2 > size)
			return -1;
		memcpy(out + n, esc, len);
		n += len;
	}
	out[n++] = '"';
	out[n] = '\0';
	return 0;
}

/* ---- the server and its lines -------------------------------------- */

/* What the lines read so far said that a caller waits for. */
struct seen {
	long answer_id;			/* the last answer's id, or -1 */
	long long answer_mono;		/* its arrival, CLOCK_MONOTONIC */
	int answer_ok;			/* a result, not an error or isError */
	char answer_job[ID_MAX];	/* its structuredContent.job_id */
	char pushed_job[ID_MAX];	/* the last channel line's job */
	long long pushed_real;		/* its arrival, CLOCK_REALTIME */
	long lines;			/* every line */
};

struct server {
	pid_t pid;
	int in_fd;			/* the server's stdin: we write */
	int out_fd;			/* its stdout: we read */
	char *buf;			/* read, not yet a whole line */
	size_t len, cap;
	long timeout_ms;
	struct seen seen;
};

/* One whole line (NUL-terminated) that arrived at MONO / REAL. */
static void line_seen(struct seen *s, const char *line, long long mono,
		      long long real)
{
	const char *id = member(line, "id"), *result = member(line, "result");
	const char *method = member(line, "method");
	char text[ID_MAX];

	s->lines++;
	if (id && !method) {
		const char *sc = member(result, "structuredContent");

		s->answer_id = strtol(id, NULL, 10);
		s->answer_mono = mono;
		s->answer_ok = result && !is_literal(member(result, "isError"),
						     "true");
		if (string_of(member(sc, "job_id"), s->answer_job,
			      sizeof s->answer_job) != 0)
			s->answer_job[0] = '\0';
		return;
	}
	if (string_of(method, text, sizeof text) == 0 &&
	    strcmp(text, "notifications/claude/channel") == 0 &&
	    string_of(member(member(member(line, "params"), "meta"),
			     "job_id"), text, sizeof text) == 0) {
		memcpy(s->pushed_job, text, sizeof text);
		s->pushed_real = real;
	}
}

/* Read once what the server wrote (waiting up to WAIT_MS) and take in
 * every whole line: 1; 0 when nothing came; 2 at its end; -1 on failure. */
static int pump(struct server *sv, int wait_ms)
{
	struct pollfd pfd = { sv->out_fd, POLLIN, 0 };
	long long mono, real;
	size_t start = 0;
	ssize_t n;
	char *nl;
	int r = poll(&pfd, 1, wait_ms);

	if (r < 0 && errno == EINTR)
		return 0;
	if (r < 0) {
		fail("poll", NULL);
		return -1;
	}
	if (r == 0)
		return 0;
	if (sv->cap - sv->len < 65536) {
		size_t cap = sv->cap ? 2 * sv->cap : 1 << 17;
		char *grown = cap <= (size_t)LINE_MAX_BYTES
			      ? realloc(sv->buf, cap) : NULL;

		if (!grown) {
			failx("a line of the server is too long (or out of "
			      "memory)");
			return -1;
		}
		sv->buf = grown;
		sv->cap = cap;
	}
	n = read(sv->out_fd, sv->buf + sv->len, sv->cap - sv->len - 1);
	mono = clock_ns(CLOCK_MONOTONIC);
	real = clock_ns(CLOCK_REALTIME);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0) {
		fail("read from the server", NULL);
		return -1;
	}
	if (n == 0)
		return 2;
	if (mono < 0 || real < 0)
		return -1;
	sv->len += (size_t)n;
	sv->buf[sv->len] = '\0';
	while ((nl = memchr(sv->buf + start, '\n', sv->len - start))) {
		*nl = '\0';
		line_seen(&sv->seen, sv->buf + start, mono, real);
		start = (size_t)(nl - sv->buf) + 1;
	}
	memmove(sv->buf, sv->buf + start, sv->len - start);
	sv->len -= start;
	return 1;
}

/* Pump until DONE(SV, ARG) holds: 0, or -1 (end, failure, timeout). */
static int pump_until(struct server *sv, int (*done)(struct server *, void *),
		      void *arg, const char *what)
{
	long long deadline = clock_ns(CLOCK_MONOTONIC) +
		sv->timeout_ms * 1000000LL;

	while (!done(sv, arg)) {
		long long left = deadline - clock_ns(CLOCK_MONOTONIC);
		int r;

		if (left <= 0) {
			fprintf(stderr, "mcpdrive: no %s after %ld ms\n", what,
				sv->timeout_ms);
			return -1;
		}
		r = pump(sv, (int)(left / 1000000LL) + 1);
		if (r == 2)
			fprintf(stderr, "mcpdrive: the server ended before "
				"%s\n", what);
		if (r < 0 || r == 2)
			return -1;
	}
	return 0;
}

static int answered(struct server *sv, void *id)
{
	return sv->seen.answer_id == *(long *)id;
}

static int pushed(struct server *sv, void *job)
{
	return strcmp(sv->seen.pushed_job, job) == 0;
}

/* Write one request line; its start (CLOCK_MONOTONIC) in *SENT. */
static int send_line(struct server *sv, const char *text, long long *sent)
{
	size_t len = strlen(text);
	char *line = malloc(len + 2);
	int r;

	if (!line)
		return fail("malloc", NULL);
	memcpy(line, text, len);
	memcpy(line + len, "\n", 2);
	*sent = clock_ns(CLOCK_MONOTONIC);
	r = *sent < 0 || write_all(sv->in_fd, line, len + 1) != 0;
	if (r && *sent >= 0)
		fail("write to the server", NULL);
	free(line);
	return r;
}

/* A request with id ID and params PARAMS (JSON), answered: 0, or 1. */
static int request(struct server *sv, long id, const char *method,
		   const char *params, long long *sent)
{
	size_t size = strlen(params) + strlen(method) + 96;
	char *text = malloc(size);
	int r;

	if (!text)
		return fail("malloc", NULL);
	snprintf(text, size, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":"
		 "\"%s\",\"params\":%s}", id, method, params);
	r = send_line(sv, text, sent);
	free(text);
	if (r || pump_until(sv, answered, &id, "answer") != 0)
		return 1;
	if (!sv->seen.answer_ok) {
		fprintf(stderr, "mcpdrive: request %ld (%s) failed\n", id,
			method);
		return 1;
	}
	return 0;
}

static int server_start(struct server *sv, char **argv, long timeout_ms)
{
	int in[2], out[2];
	long long sent;

	memset(sv, 0, sizeof *sv);
	sv->pid = -1;
	sv->in_fd = sv->out_fd = -1;
	sv->timeout_ms = timeout_ms;
	sv->seen.answer_id = -1;
	if (pipe(in) != 0)
		return fail("pipe", NULL);
	if (pipe(out) != 0) {
		fail("pipe", NULL);
		close(in[0]);
		close(in[1]);
		return 1;
	}
	sv->in_fd = in[1];
	sv->out_fd = out[0];
	/* only the server's stdin and stdout reach it (dup2 clears the flag) */
	for (int i = 0; i < 2; i++)
		if (fcntl(in[i], F_SETFD, FD_CLOEXEC) != 0 ||
		    fcntl(out[i], F_SETFD, FD_CLOEXEC) != 0) {
			fail("fcntl", NULL);
			close(in[0]);
			close(out[1]);
			return 1;
		}
	sv->pid = fork();
	if (sv->pid < 0) {
		fail("fork", NULL);
		close(in[0]);
		close(out[1]);
		return 1;
	}
	if (sv->pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(126);
		execvp(argv[0], argv);
		fprintf(stderr, "mcpdrive: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	if (close(in[0]) != 0 || close(out[1]) != 0)
		return fail("close", NULL);
	if (request(sv, 0, "initialize", "{\"protocolVersion\":\"2025-06-18\","
		    "\"capabilities\":{},\"clientInfo\":{\"name\":\"mcpdrive\","
		    "\"version\":\"1\"}}", &sent) != 0)
		return 1;
	return send_line(sv, "{\"jsonrpc\":\"2.0\",\"method\":"
			 "\"notifications/initialized\"}", &sent);
}

/* Close its stdin, read its stdout to the end, wait for it (killed
 * after the timeout). 0 when it exited with 0. */
static int server_end(struct server *sv)
{
	long long deadline = clock_ns(CLOCK_MONOTONIC) +
		sv->timeout_ms * 1000000LL;
	int status = 0, r = 0;

	if (sv->in_fd >= 0 && close(sv->in_fd) != 0)
		r = fail("close", NULL);
	sv->in_fd = -1;
	while (sv->out_fd >= 0) {
		long long left = deadline - clock_ns(CLOCK_MONOTONIC);
		int p = left > 0 ? pump(sv, (int)(left / 1000000LL) + 1) : -1;

		if (p < 0 || p == 2) {
			if (p < 0)
				r = failx("the server's stdout did not end");
			if (close(sv->out_fd) != 0)
				r = fail("close", NULL);
			sv->out_fd = -1;
		}
	}
	if (sv->pid > 0) {
		pid_t w;

		while ((w = waitpid(sv->pid, &status, WNOHANG)) == 0 &&
		       clock_ns(CLOCK_MONOTONIC) < deadline) {
			struct timespec ts = { 0, 2000000L };

			if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
				r = fail("nanosleep", NULL);
		}
		if (w == 0) {
			r = failx("the server did not exit: killed");
			if (kill(sv->pid, SIGKILL) != 0)
				r = fail("kill", NULL);
			w = waitpid(sv->pid, &status, 0);
		}
		if (w < 0)
			r = fail("waitpid", NULL);
		else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			r = failx("the server did not exit with 0");
	}
	free(sv->buf);
	sv->buf = NULL;
	return r;
}

/* ---- the subcommands ----------------------------------------------- */

#define RUN_TRUE "{\"name\":\"run\",\"arguments\":{\"command\":[\"true\"]," \
	"\"until\":0}}"

static int cmd_calls(struct server *sv, long n, long warmup, const char *out)
{
	FILE *f = fopen(out, "w");
	int r = 0;

	if (!f)
		return fail("open", out);
	for (long i = 1; i <= warmup + n && r == 0; i++) {
		long long sent;

		r = request(sv, i, "tools/call", RUN_TRUE, &sent);
		if (r == 0 && i > warmup &&
		    fprintf(f, "%.1f\n",
			    (double)(sv->seen.answer_mono - sent) / 1000.0) < 0)
			r = fail("write", out);
	}
	if (fclose(f) != 0 && r == 0)
		r = fail("close", out);
	return r;
}

static int cmd_pushes(struct server *sv, long n, const char *script,
		      const char *prefix)
{
	size_t size = 6 * strlen(script) + 256;	/* quoted: 6 bytes a byte */
	char *quoted = malloc(size), *params = malloc(size + 128);
	char path[PATH_MAX], stamp[32];
	int r = 0;

	if (!quoted || !params || json_quote(script, quoted, size) != 0) {
		free(quoted);
		free(params);
		return failx("out of memory");
	}
	for (long i = 1; i <= n && r == 0; i++) {
		long long sent;
		char job[ID_MAX];

		snprintf(params, size + 128, "{\"name\":\"run\",\"arguments\":"
			 "{\"command\":[\"sh\",\"-c\",%s,\"sh\",\"%ld\"],"
			 "\"until\":0}}", quoted, i);
		r = request(sv, i, "tools/call", params, &sent);
		if (r != 0)
			break;
		if (!sv->seen.answer_job[0]) {
			r = failx("the run answer names no job_id");
			break;
		}
		memcpy(job, sv->seen.answer_job, sizeof job);
		if (pump_until(sv, pushed, job, "channel notification") != 0) {
			r = 1;
			break;
		}
		snprintf(stamp, sizeof stamp, "%lld\n", sv->seen.pushed_real);
		if (snprintf(path, sizeof path, "%s.%ld", prefix, i) >=
		    (int)sizeof path) {
			errno = ENAMETOOLONG;
			r = fail("path", prefix);
		} else {
			r = write_file_atomic(path, stamp);
		}
	}
	free(quoted);
	free(params);
	return r;
}

static int cmd_hold(struct server *sv, const char *script)
{
	char pid[32];
	pid_t child;
	int status, p;
	long before = sv->seen.lines;

	snprintf(pid, sizeof pid, "%ld", (long)sv->pid);
	child = fork();
	if (child < 0)
		return fail("fork", NULL);
	if (child == 0) {
		execl("/bin/sh", "sh", "-c", script, "sh", pid, (char *)NULL);
		fprintf(stderr, "mcpdrive: exec /bin/sh: %s\n",
			strerror(errno));
		_exit(127);
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return fail("waitpid", NULL);
	while ((p = pump(sv, 0)) == 1)
		;	/* what the server wrote meanwhile */
	if (p < 0)
		return 1;
	if (sv->seen.lines > before || sv->len)
		fprintf(stderr, "mcpdrive: the server wrote %ld line(s)%s "
			"while held\n", sv->seen.lines - before,
			sv->len ? " and a part" : "");
	if (!WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}

/* Parse "[--timeout-ms T] -- SERVER..." at ARGV[I]: the index of SERVER
 * or -1. */
static int parse_tail(int argc, char **argv, int i, long *timeout_ms)
{
	if (i + 1 < argc && strcmp(argv[i], "--timeout-ms") == 0) {
		if (parse_long(argv[i + 1], timeout_ms) != 0 || *timeout_ms < 1)
			return -1;
		i += 2;
	}
	if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc)
		return -1;
	return i + 1;
}

int main(int argc, char **argv)
{
	static const char *const use = "calls N W OUTFILE | pushes N SCRIPT "
		"PREFIX | hold SCRIPT, then [--timeout-ms T] -- SERVER...";
	struct server sv;
	long n = 0, warmup = 0, timeout_ms = DEFAULT_TIMEOUT_MS;
	int first, r, end;

	if (argc < 3)
		return usage(use);
	if (strcmp(argv[1], "calls") == 0 && argc > 5 &&
	    parse_long(argv[2], &n) == 0 && n > 0 &&
	    parse_long(argv[3], &warmup) == 0)
		first = parse_tail(argc, argv, 5, &timeout_ms);
	else if (strcmp(argv[1], "pushes") == 0 && argc > 5 &&
		 parse_long(argv[2], &n) == 0 && n > 0)
		first = parse_tail(argc, argv, 5, &timeout_ms);
	else if (strcmp(argv[1], "hold") == 0)
		first = parse_tail(argc, argv, 3, &timeout_ms);
	else
		first = -1;
	if (first < 0)
		return usage(use);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return fail("signal", NULL);
	r = server_start(&sv, argv + first, timeout_ms);
	if (r == 0 && strcmp(argv[1], "calls") == 0)
		r = cmd_calls(&sv, n, warmup, argv[4]);
	else if (r == 0 && strcmp(argv[1], "pushes") == 0)
		r = cmd_pushes(&sv, n, argv[3], argv[4]);
	else if (r == 0)
		r = cmd_hold(&sv, argv[2]);
	end = server_end(&sv);
	return r ? r : end;
}
