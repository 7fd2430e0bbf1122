/* benchtool: the measuring helper of the agent-exec benchmarks (bench/).
 *
 * One spawner, one clock and one /proc reader for agent-exec and every
 * baseline, so that the figures compare like with like. C99 + POSIX, libc
 * only; every system call is checked; no global state.
 *
 *   benchtool repeat N [--warmup W] [--timeout-ms T] [--pause-ms P] -- CMD [ARG]...
 *       run CMD W + N times, one after the other (stdin, stdout and stderr
 *       on /dev/null); time each run from fork to waitpid with
 *       CLOCK_MONOTONIC; print "median_us min_us max_us" of the last N.
 *       Processes CMD leaves in the background are not waited for.
 *   benchtool stamp FILE
 *       write CLOCK_REALTIME in ns to FILE (a temporary file renamed into
 *       place: a reader never sees a partial file) and exit.
 *   benchtool timed OUTFILE [--timeout-ms T] -- CMD [ARG]...
 *       run CMD (stdio inherited); when it ends, stamp OUTFILE as above.
 *       Exits with CMD's status.
 *   benchtool bounded TIMEOUT_MS -- CMD [ARG]...
 *       run CMD (stdio inherited), killing it after TIMEOUT_MS (exit 124);
 *       else exit with its status.
 *   benchtool delta FILE_A FILE_B
 *       print (stamp in FILE_B - stamp in FILE_A) in microseconds.
 *   benchtool records ROOT FILE...
 *       read FILE of every directory of ROOT (openat, one read, close):
 *       the least any list of a job store must do (the floor of list).
 *   benchtool stats
 *       read numbers from stdin; print "median min max count".
 *   benchtool mem PID
 *       print "rss_kib pss_kib" of PID (smaps_rollup, else summed smaps).
 *   benchtool hwm PID INTERVAL_MS OUTFILE [--timeout-ms T]
 *       poll VmHWM of PID every INTERVAL_MS until PID is gone (or a
 *       zombie); write the last value seen (KiB) to OUTFILE.
 *   benchtool waitfiles TIMEOUT_MS FILE...
 *       wait until every FILE exists; exit 1 with a message on timeout.
 *   benchtool waitgone TIMEOUT_MS PID
 *       wait until PID is gone or a zombie; exit 1 on timeout.
 *   benchtool linkage FILE
 *       print "static" or "dynamic" (an ELF file with a PT_INTERP header).
 *
 * Invoked under the name "onfinish-stamp" (a symbolic link, for
 * task-spooler's TS_ONFINISH, which passes arguments of its own), it
 * stamps the file named by $BENCH_STAMP_FILE.
 */
#define _POSIX_C_SOURCE 200809L

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 600000L
#define POLL_MS 2L

/* ---- errors and small helpers -------------------------------------- */

static int fail(const char *what, const char *arg)
{
	if (arg)
		fprintf(stderr, "benchtool: %s: %s: %s\n", what, arg,
			strerror(errno));
	else
		fprintf(stderr, "benchtool: %s: %s\n", what, strerror(errno));
	return 1;
}

static int usage(const char *msg)
{
	fprintf(stderr, "benchtool: %s (see the comment at the top of "
		"bench/benchtool.c)\n", msg);
	return 2;
}

/* A non-negative decimal integer, the whole string. */
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

static long long clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0) {
		fail("clock_gettime", NULL);
		exit(1);
	}
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
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

/* Write TEXT to PATH through PATH.tmp.<pid> and a rename. */
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

static int stamp_file(const char *path)
{
	char text[32];

	snprintf(text, sizeof text, "%lld\n", clock_ns(CLOCK_REALTIME));
	return write_file_atomic(path, text);
}

/* Read up to CAP-1 bytes of PATH into BUF; -1 (errno set) on failure. */
static ssize_t read_small_file(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (got + 1 < cap) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (close(fd) != 0)
		return -1;
	return (ssize_t)got;
}

static int read_stamp(const char *path, long long *out)
{
	char buf[64];
	char *end;

	if (read_small_file(path, buf, sizeof buf) < 0)
		return fail("read", path);
	errno = 0;
	*out = strtoll(buf, &end, 10);
	if (errno || end == buf) {
		fprintf(stderr, "benchtool: %s: not a timestamp\n", path);
		return 1;
	}
	return 0;
}

/* ---- running children ---------------------------------------------- */

/* Options shared by repeat and timed. */
struct run_opts {
	long warmup;
	long timeout_ms;
	long pause_ms;		/* repeat: untimed idle time between runs */
	int quiet;		/* stdio on /dev/null */
};

static void child_exec(char **argv, int quiet)
{
	sigset_t none;

	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
		_exit(126);
	if (quiet) {
		int fd = open("/dev/null", O_RDWR);

		if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 ||
		    dup2(fd, 2) < 0)
			_exit(126);
		if (fd > 2 && close(fd) != 0)
			_exit(126);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "benchtool: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Wait for PID, at most TIMEOUT_MS (SIGCHLD must be blocked); on timeout
 * kill it and fail. */
static int wait_child(pid_t pid, long timeout_ms, int *status)
{
	long long deadline = clock_ns(CLOCK_MONOTONIC) +
		(long long)timeout_ms * 1000000LL;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		long long left = deadline - clock_ns(CLOCK_MONOTONIC);
		struct timespec ts;

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return fail("waitpid", NULL);
		if (left <= 0) {
			fprintf(stderr, "benchtool: command still running "
				"after %ld ms: killed\n", timeout_ms);
			if (kill(pid, SIGKILL) != 0 && errno != ESRCH)
				return fail("kill", NULL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return 124;
		}
		ts.tv_sec = (time_t)(left / 1000000000LL);
		ts.tv_nsec = (long)(left % 1000000000LL);
		if (sigtimedwait(&chld, NULL, &ts) < 0 && errno != EAGAIN &&
		    errno != EINTR)
			return fail("sigtimedwait", NULL);
	}
}

/* Run ARGV once; its duration in ns in *NS, its wait status in *STATUS. */
static int run_once(char **argv, const struct run_opts *o, long long *ns,
		    int *status)
{
	long long t0 = clock_ns(CLOCK_MONOTONIC);
	pid_t pid = fork();
	int r;

	if (pid < 0)
		return fail("fork", NULL);
	if (pid == 0)
		child_exec(argv, o->quiet);
	r = wait_child(pid, o->timeout_ms, status);
	if (r != 0)
		return r;
	*ns = clock_ns(CLOCK_MONOTONIC) - t0;
	return 0;
}

static int block_sigchld(void)
{
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) != 0)
		return fail("sigprocmask", NULL);
	return 0;
}

static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* Parse "[--warmup W] [--timeout-ms T] -- CMD..." from ARGV; returns the
 * index of CMD, or -1. */
static int parse_run_opts(int argc, char **argv, int i, struct run_opts *o)
{
	for (; i < argc; i += 2) {
		long *dst;

		if (strcmp(argv[i], "--") == 0)
			return i + 1 < argc ? i + 1 : -1;
		if (strcmp(argv[i], "--warmup") == 0)
			dst = &o->warmup;
		else if (strcmp(argv[i], "--timeout-ms") == 0)
			dst = &o->timeout_ms;
		else if (strcmp(argv[i], "--pause-ms") == 0)
			dst = &o->pause_ms;
		else
			return -1;
		if (i + 1 >= argc || parse_long(argv[i + 1], dst) != 0)
			return -1;
	}
	return -1;
}

/* ---- statistics ---------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts V in place. */
static double median_of(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	if (n % 2)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- subcommands --------------------------------------------------- */

static int cmd_repeat(int argc, char **argv)
{
	struct run_opts o = { 0, DEFAULT_TIMEOUT_MS, 0, 1 };
	long n, i;
	int cmd, status;
	double *us, med;

	if (argc < 3 || parse_long(argv[2], &n) != 0 || n < 1)
		return usage("repeat N [--warmup W] [--timeout-ms T] [--pause-ms P] -- CMD...");
	cmd = parse_run_opts(argc, argv, 3, &o);
	if (cmd < 0)
		return usage("repeat N [--warmup W] [--timeout-ms T] [--pause-ms P] -- CMD...");
	us = calloc((size_t)n, sizeof *us);
	if (!us)
		return fail("calloc", NULL);
	if (block_sigchld() != 0)
		return 1;
	for (i = -o.warmup; i < n; i++) {
		long long ns;

		if (run_once(argv + cmd, &o, &ns, &status) != 0) {
			free(us);
			return 1;
		}
		if (status != 0) {
			fprintf(stderr, "benchtool: %s exited with status %d\n",
				argv[cmd], exit_code_of(status));
			free(us);
			return 1;
		}
		if (i >= 0)
			us[i] = (double)ns / 1000.0;
		if (o.pause_ms > 0) {
			struct timespec pause = { o.pause_ms / 1000,
						  o.pause_ms % 1000 * 1000000L };

			while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
				;
		}
	}
	med = median_of(us, (size_t)n);
	printf("%.1f %.1f %.1f\n", med, us[0], us[n - 1]);
	free(us);
	return 0;
}

static int cmd_timed(int argc, char **argv)
{
	struct run_opts o = { 0, DEFAULT_TIMEOUT_MS, 0, 0 };
	long long ns;
	int cmd, status, r;

	if (argc < 4)
		return usage("timed OUTFILE [--timeout-ms T] -- CMD...");
	cmd = parse_run_opts(argc, argv, 3, &o);
	if (cmd < 0 || o.warmup)
		return usage("timed OUTFILE [--timeout-ms T] -- CMD...");
	if (block_sigchld() != 0)
		return 1;
	r = run_once(argv + cmd, &o, &ns, &status);
	if (r != 0)
		return r;
	if (stamp_file(argv[2]) != 0)
		return 1;
	return exit_code_of(status);
}

static int cmd_bounded(int argc, char **argv)
{
	struct run_opts o = { 0, 0, 0, 0 };
	long long ns;
	int status, r;

	if (argc < 5 || parse_long(argv[2], &o.timeout_ms) != 0 ||
	    o.timeout_ms == 0 ||
	    strcmp(argv[3], "--") != 0)
		return usage("bounded TIMEOUT_MS -- CMD...");
	if (block_sigchld() != 0)
		return 1;
	r = run_once(argv + 4, &o, &ns, &status);
	if (r != 0)
		return r;
	return exit_code_of(status);
}

static int cmd_delta(int argc, char **argv)
{
	long long a, b;

	if (argc != 4)
		return usage("delta FILE_A FILE_B");
	if (read_stamp(argv[2], &a) != 0 || read_stamp(argv[3], &b) != 0)
		return 1;
	printf("%.1f\n", (double)(b - a) / 1000.0);
	return 0;
}

static int cmd_stats(void)
{
	size_t n = 0, cap = 64;
	double *v = malloc(cap * sizeof *v), x, med;

	if (!v)
		return fail("malloc", NULL);
	while (scanf("%lf", &x) == 1) {
		if (n == cap) {
			double *nv = realloc(v, 2 * cap * sizeof *v);

			if (!nv) {
				free(v);
				return fail("realloc", NULL);
			}
			v = nv;
			cap *= 2;
		}
		v[n++] = x;
	}
	if (!feof(stdin) || n == 0) {
		fprintf(stderr, "benchtool: stats: %s\n",
			n ? "not a number in the input" : "no numbers");
		free(v);
		return 1;
	}
	med = median_of(v, n);
	printf("%.3f %.3f %.3f %zu\n", med, v[0], v[n - 1], n);
	free(v);
	return 0;
}

static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

/* The numbers on the lines "KEY:   N kB" of TEXT: the first one (ALL = 0)
 * or their sum (ALL = 1, for smaps: one line per mapping). -1 when no
 * line has KEY. */
static long field_kib(const char *text, const char *key, int all)
{
	size_t klen = strlen(key);
	const char *p;
	long sum = -1;

	for (p = text; p && *p; p = next_line(p)) {
		if (strncmp(p, key, klen) != 0 || p[klen] != ':')
			continue;
		sum = (sum < 0 ? 0 : sum) + strtol(p + klen + 1, NULL, 10);
		if (!all)
			break;
	}
	return sum;
}

static int read_proc(long pid, const char *name, char *buf, size_t cap)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%ld/%s", pid, name);
	if (read_small_file(path, buf, cap) < 0)
		return -1;
	return 0;
}

static int cmd_mem(int argc, char **argv)
{
	size_t cap = 1 << 20;
	char *buf;
	long pid;

	if (argc != 3 || parse_long(argv[2], &pid) != 0)
		return usage("mem PID");
	buf = malloc(cap);
	if (!buf)
		return fail("malloc", NULL);
	if (read_proc(pid, "smaps_rollup", buf, cap) == 0 &&
	    field_kib(buf, "Pss", 0) >= 0) {
		printf("%ld %ld\n", field_kib(buf, "Rss", 0),
		       field_kib(buf, "Pss", 0));
	} else if (read_proc(pid, "smaps", buf, cap) == 0 &&
		   field_kib(buf, "Pss", 1) >= 0) {
		printf("%ld %ld\n", field_kib(buf, "Rss", 1),
		       field_kib(buf, "Pss", 1));
	} else {
		free(buf);
		return fail("read /proc/PID/smaps", argv[2]);
	}
	free(buf);
	return 0;
}

/* 1 while PID exists and is not a zombie (or dead), 0 once it is gone. */
static int alive(long pid, char *buf, size_t cap)
{
	const char *st;

	if (read_proc(pid, "status", buf, cap) != 0)
		return 0;
	st = strstr(buf, "\nState:");
	if (!st)
		return 0;
	st += strlen("\nState:");
	st += strspn(st, " \t");
	return *st != 'Z' && *st != 'X';
}

static int cmd_hwm(int argc, char **argv)
{
	struct run_opts o = { 0, DEFAULT_TIMEOUT_MS, 0, 0 };
	long pid, interval, hwm = -1;
	long long deadline;
	char buf[4096], text[32];

	if ((argc != 5 && argc != 7) || parse_long(argv[2], &pid) != 0 ||
	    parse_long(argv[3], &interval) != 0 || interval < 1 ||
	    (argc == 7 && (strcmp(argv[5], "--timeout-ms") != 0 ||
			   parse_long(argv[6], &o.timeout_ms) != 0)))
		return usage("hwm PID INTERVAL_MS OUTFILE [--timeout-ms T]");
	deadline = clock_ns(CLOCK_MONOTONIC) + o.timeout_ms * 1000000LL;
	while (alive(pid, buf, sizeof buf)) {
		long v = field_kib(buf, "VmHWM", 0);

		if (v > hwm)
			hwm = v;
		if (clock_ns(CLOCK_MONOTONIC) > deadline) {
			fprintf(stderr, "benchtool: hwm: process %ld still "
				"alive after %ld ms\n", pid, o.timeout_ms);
			return 1;
		}
		sleep_ms(interval);
	}
	if (hwm < 0) {
		fprintf(stderr, "benchtool: hwm: no VmHWM read for %ld\n", pid);
		return 1;
	}
	snprintf(text, sizeof text, "%ld\n", hwm);
	return write_file_atomic(argv[4], text);
}

/* Poll READY(ARG) until it returns 1 or TIMEOUT_MS pass. */
static int poll_until(int (*ready)(void *), void *arg, long timeout_ms)
{
	long long deadline = clock_ns(CLOCK_MONOTONIC) +
		(long long)timeout_ms * 1000000LL;

	while (!ready(arg)) {
		if (clock_ns(CLOCK_MONOTONIC) > deadline)
			return 1;
		sleep_ms(POLL_MS);
	}
	return 0;
}

struct file_list {
	char **paths;
	int n;
};

static int files_exist(void *arg)
{
	struct file_list *fl = arg;
	struct stat st;

	while (fl->n > 0 && stat(fl->paths[0], &st) == 0) {
		fl->paths++;
		fl->n--;
	}
	return fl->n == 0;
}

static int cmd_waitfiles(int argc, char **argv)
{
	struct file_list fl = { argv + 3, argc - 3 };
	long timeout;

	if (argc < 4 || parse_long(argv[2], &timeout) != 0)
		return usage("waitfiles TIMEOUT_MS FILE...");
	if (poll_until(files_exist, &fl, timeout) != 0) {
		fprintf(stderr, "benchtool: waitfiles: %s (and %d more) still "
			"missing after %ld ms\n", fl.paths[0], fl.n - 1,
			timeout);
		return 1;
	}
	return 0;
}

static int pid_gone(void *arg)
{
	char buf[4096];

	return !alive(*(long *)arg, buf, sizeof buf);
}

static int cmd_waitgone(int argc, char **argv)
{
	long timeout, pid;

	if (argc != 4 || parse_long(argv[2], &timeout) != 0 ||
	    parse_long(argv[3], &pid) != 0)
		return usage("waitgone TIMEOUT_MS PID");
	if (poll_until(pid_gone, &pid, timeout) != 0) {
		fprintf(stderr, "benchtool: waitgone: process %ld still alive "
			"after %ld ms\n", pid, timeout);
		return 1;
	}
	return 0;
}

/* 1 when the program headers of the ELF file in FD have a PT_INTERP. */
static int has_interp(int fd, const unsigned char *ident, int *out)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int i;

	if (ident[EI_CLASS] != ELFCLASS64) {
		fprintf(stderr, "benchtool: linkage: not a 64-bit ELF file\n");
		return 1;
	}
	if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
		return fail("read ELF header", NULL);
	*out = 0;
	for (i = 0; i < eh.e_phnum; i++) {
		off_t at = (off_t)eh.e_phoff + (off_t)i * eh.e_phentsize;

		if (pread(fd, &ph, sizeof ph, at) != (ssize_t)sizeof ph)
			return fail("read program header", NULL);
		if (ph.p_type == PT_INTERP)
			*out = 1;
	}
	return 0;
}

static int cmd_linkage(int argc, char **argv)
{
	unsigned char ident[EI_NIDENT];
	int fd, dynamic = 0, r;

	if (argc != 3)
		return usage("linkage FILE");
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("open", argv[2]);
	if (pread(fd, ident, sizeof ident, 0) != (ssize_t)sizeof ident ||
	    memcmp(ident, ELFMAG, SELFMAG) != 0) {
		fprintf(stderr, "benchtool: %s: not an ELF file\n", argv[2]);
		close(fd);
		return 1;
	}
	r = has_interp(fd, ident, &dynamic);
	if (close(fd) != 0)
		return fail("close", argv[2]);
	if (r == 0)
		puts(dynamic ? "dynamic" : "static");
	return r;
}

/* records ROOT FILE...: read FILE of every directory of ROOT (openat from
 * the root, one read, close), the least any list of the store must do. */
static int cmd_records(int argc, char **argv)
{
	static char buf[65536];
	int root_fd, r = 0;
	DIR *dir;
	struct dirent *entry;
	char path[512];

	if (argc < 4)
		return usage("records ROOT FILE...");
	root_fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = root_fd < 0 ? NULL : fdopendir(dup(root_fd));
	if (!dir)
		return fail("open", argv[2]);
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		for (int i = 3; i < argc; i++) {
			int fd;

			snprintf(path, sizeof path, "%s/%s", entry->d_name, argv[i]);
			fd = openat(root_fd, path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (read(fd, buf, sizeof buf) < 0)
				r = fail("read", path);
			close(fd);
		}
	}
	closedir(dir);
	close(root_fd);
	return r;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc > 0 && strcmp(base_name(argv[0]), "onfinish-stamp") == 0) {
		const char *out = getenv("BENCH_STAMP_FILE");

		if (!out || !*out)
			return usage("onfinish-stamp: BENCH_STAMP_FILE unset");
		return stamp_file(out);
	}
	if (argc < 2)
		return usage("no subcommand");
	cmd = argv[1];
	if (strcmp(cmd, "repeat") == 0)
		return cmd_repeat(argc, argv);
	if (strcmp(cmd, "stamp") == 0)
		return argc == 3 ? stamp_file(argv[2]) : usage("stamp FILE");
	if (strcmp(cmd, "timed") == 0)
		return cmd_timed(argc, argv);
	if (strcmp(cmd, "delta") == 0)
		return cmd_delta(argc, argv);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats();
	if (strcmp(cmd, "mem") == 0)
		return cmd_mem(argc, argv);
	if (strcmp(cmd, "hwm") == 0)
		return cmd_hwm(argc, argv);
	if (strcmp(cmd, "waitfiles") == 0)
		return cmd_waitfiles(argc, argv);
	if (strcmp(cmd, "waitgone") == 0)
		return cmd_waitgone(argc, argv);
	if (strcmp(cmd, "bounded") == 0)
		return cmd_bounded(argc, argv);
	if (strcmp(cmd, "linkage") == 0)
		return cmd_linkage(argc, argv);
	if (strcmp(cmd, "records") == 0)
		return cmd_records(argc, argv);
	return usage("unknown subcommand");
}
