/* exec.c - the supervisor. run forks twice (the middle process calls
 * setsid and exits), so the supervisor belongs to no terminal and to none
 * of the caller's process groups. It forks the job into a process group of
 * its own, records "running" with the job's pid and only then tells the
 * caller it is ready. One poll() loop then copies the job's output to the
 * logs, reaps it, enforces the timeout and writes the terminal record. */
#include "exec.h"
#include "events.h"
#include "notify.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AE_SELFPIPE
#include <sys/signalfd.h>
#endif

extern char **environ;

#define READ_CHUNK (128 * 1024)
#define LINE_MAX_BYTES 16384	/* longer lines are split in full.log */
/* full.log lines gather here between writes; a line takes at most 3 bytes
 * a byte (invalid UTF-8 becomes U+FFFD) */
#define FULL_BUF_BYTES (256 * 1024)
#define PIPE_BIG (1024 * 1024)	/* a job's pipe once it prints a lot */
#define LINGER_MS 1000		/* the 1-second rule for descendants */
#define READY_BYTE 'R'
#define ENV_FILE_MAX (1u << 20)

/* ---- signals ---------------------------------------------------------- */

int signal_parse(const char *text)
{
	static const unsigned char numbers[] = {
		SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGUSR1, SIGUSR2, SIGPIPE,
		SIGALRM, SIGTERM, SIGCONT, SIGSTOP, SIGTSTP, SIGWINCH,
	};
	char upper[8] = "";
	uint64_t number;
	int index;

	if (parse_u64(text, &number) == 0)
		return number >= 1 && number < (uint64_t)_NSIG ? (int)number
							       : -1;
	if (ascii_case_equal(text, "SIG", 3))
		text += 3;
	for (size_t i = 0; text[i]; i++) {
		if (i == sizeof(upper) - 1)
			return -1;
		upper[i] = text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32
							    : text[i];
	}
	index = word_index(upper, "HUP INT QUIT KILL USR1 USR2 PIPE ALRM "
				  "TERM CONT STOP TSTP WINCH");
	return index < 0 ? -1 : numbers[index];
}

/* Signals the supervisor reacts to: SIGCHLD, and the ones it passes on to
 * the job's process group. */
static const int forwarded_signals[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2
};

static void handled_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(int); i++)
		sigaddset(set, forwarded_signals[i]);
}

#ifdef AE_SELFPIPE
/* The portable path: handlers write the signal number into a pipe that
 * the loop polls. The write end is the one piece of global state, and
 * only the supervisor sets it. */
static int self_pipe_write_fd = -1;

static void on_signal(int signo)
{
	int saved = errno;
	unsigned char byte = (unsigned char)signo;

	if (write(self_pipe_write_fd, &byte, 1) < 0) {
		/* pipe full: a wakeup is already pending */
	}
	errno = saved;
}

static int signals_open(void)
{
	struct sigaction action = { .sa_handler = on_signal };
	sigset_t set;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	self_pipe_write_fd = fds[1];
	handled_set(&set);
	action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigfillset(&action.sa_mask);
	for (int signo = 1; signo < _NSIG; signo++)
		if (sigismember(&set, signo) == 1 &&
		    sigaction(signo, &action, NULL) < 0)
			return -1;
	return fds[0];
}

/* The next pending signal number, 0 when none. */
static int signals_next(int fd)
{
	unsigned char byte;

	return read(fd, &byte, 1) == 1 ? byte : 0;
}
#else
static int signals_open(void)
{
	sigset_t set;

	handled_set(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int signals_next(int fd)
{
	struct signalfd_siginfo info;

	return read(fd, &info, sizeof(info)) == (ssize_t)sizeof(info)
		       ? (int)info.ssi_signo : 0;
}
#endif

/* ---- the supervisor's state ------------------------------------------- */

struct stream {
	const char *tag;	/* "[STDOUT]" */
	enum match_stream id;	/* for output-match rules */
	int pipe_fd;		/* -1 after end of file */
	int log_fd;
	int widened;		/* its pipe was made PIPE_BIG */
	size_t partial_len;	/* bytes of the current, unfinished line */
	char *partial;		/* LINE_MAX_BYTES, at the supervisor's end */
};

struct supervisor {
	const struct job *job;
	const struct job_spec *spec;	/* = &own_spec */
	struct job_spec own_spec;	/* owns its strings (not argv's) */
	const struct launch_context *context;
	struct job_state state;
	int ready_fd;		/* to the launching CLI; -1 once told */
	int signal_fd;
	int full_fd;
	int log_error;		/* errno of a failed log write, 0 if none */
	struct stream out, err;
	pid_t child;
	int child_reaped, child_status;
	struct rusage usage;
	int64_t started_ms, exited_ms;
	int64_t timeout_at, kill_at;	/* monotonic ms, 0 = not armed */
	int64_t progress_at;
	int terminal;		/* terminal record written, lock released */
	int created_logged;	/* the launch's job.created is in the log */
	struct notifier *notifier;
	/* input: the job's stdin (or PTY master) and the write channel */
	int input_fd;		/* write end, -1 when none or closed */
	int input_is_pty;
	int input_line_open;	/* the last byte written was not a newline */
	int listen_fd;		/* <job>/input.sock, -1 when none */
	int client_fd;		/* the write command being served, -1 */
	int client_mode;	/* 'w' or 'e' (then EOF), 0 until known */
	int client_eof;		/* it sent all its bytes */
	int64_t client_deadline;	/* after the job's end: answer by */
	uint64_t client_bytes;
	char client_error[160];
	size_t input_len, input_off;
	struct json_doc meta;	/* meta.json as last read */
	struct stat meta_seen;	/* its identity then: inode and mtime */
	struct notify_settings settings;
	time_t stamp_second;
	char stamp[TIMESTAMP_LEN + 1];
	size_t full_len;
	/* the buffers last: a page of them becomes resident only once used,
	 * and the fields above share as few pages as they can */
	char input_buf[16384];
	char full_buf[FULL_BUF_BYTES];
	char out_partial[LINE_MAX_BYTES], err_partial[LINE_MAX_BYTES];
};

/* ---- notification settings ------------------------------------------ */

/* Re-read meta.json only when it was replaced (notify set renames a new
 * one into place): one fstatat per read chunk, never a parse per line. */
static void meta_refresh(struct supervisor *sv)
{
	struct notify_settings settings;
	struct json_doc meta;
	struct error ignored;
	struct stat now;

	if (fstatat(sv->job->dir_fd, "meta.json", &now, 0) < 0 ||
	    (now.st_ino == sv->meta_seen.st_ino &&
	     now.st_mtim.tv_sec == sv->meta_seen.st_mtim.tv_sec &&
	     now.st_mtim.tv_nsec == sv->meta_seen.st_mtim.tv_nsec &&
	     now.st_size == sv->meta_seen.st_size))
		return;
	sv->meta_seen = now;
	if (store_read_meta(sv->job, &meta, &ignored) < 0)
		return;		/* keep what we had */
	if (notify_settings_read(meta.root, &settings, &ignored) < 0) {
		json_doc_free(&meta);
		return;
	}
	notify_settings_free(&sv->settings);
	json_doc_free(&sv->meta);
	sv->meta = meta;
	sv->settings = settings;
}

static void line_check(struct supervisor *sv, const struct stream *s,
		       const char *line, size_t len)
{
	if (sv->settings.match &&
	    notify_line_matches(&sv->settings, s->id, line, len))
		notifier_output_matched(sv->notifier, &sv->settings,
					sv->meta.root, s->id, line, len);
}

/* ---- output capture --------------------------------------------------- */

static void log_write(struct supervisor *sv, int fd, const char *data,
		      size_t len)
{
	/* a full disk must not stop the job: note it and drop output */
	if (!sv->log_error && write_all(fd, data, len) < 0)
		sv->log_error = errno;
}

static void full_flush(struct supervisor *sv)
{
	log_write(sv, sv->full_fd, sv->full_buf, sv->full_len);
	sv->full_len = 0;
}

static void stamp_refresh(struct supervisor *sv)
{
	time_t now = (time_t)(clock_real_ms() / 1000);

	if (now != sv->stamp_second) {
		sv->stamp_second = now;
		format_utc(now, sv->stamp);
	}
}

/* Append one full.log line for text (lossily decoded). Unless final, an
 * incomplete UTF-8 sequence at the end is left for the next piece; returns
 * the bytes of text used. */
static size_t full_add_line(struct supervisor *sv, const char *tag,
			    const char *text, size_t len, int final)
{
	size_t used, needed = TIMESTAMP_LEN + 12 + 3 * len;
	char *out;

	if (sv->full_len + needed > sizeof(sv->full_buf))
		full_flush(sv);
	out = sv->full_buf + sv->full_len;
	memcpy(out, sv->stamp, TIMESTAMP_LEN);
	out[TIMESTAMP_LEN] = ' ';
	out += TIMESTAMP_LEN + 1;
	memcpy(out, tag, 8);
	out[8] = ' ';
	out += 9;
	out += utf8_lossy(text, len, out, final, &used);
	*out++ = '\n';
	sv->full_len = (size_t)(out - sv->full_buf);
	return final ? len : used;
}

static void line_emit(struct supervisor *sv, struct stream *s, int final)
{
	size_t used = full_add_line(sv, s->tag, s->partial, s->partial_len,
				    final);

	line_check(sv, s, s->partial, used);
	memmove(s->partial, s->partial + used, s->partial_len - used);
	s->partial_len -= used;
}

/* Add bytes to the stream's unfinished line; a line that outgrows the
 * buffer is written out in pieces, so memory stays bounded. */
static void line_add(struct supervisor *sv, struct stream *s,
		     const char *data, size_t len)
{
	while (len > 0) {
		size_t room = LINE_MAX_BYTES - s->partial_len;
		size_t take = len < room ? len : room;

		memcpy(s->partial + s->partial_len, data, take);
		s->partial_len += take;
		data += take;
		len -= take;
		if (s->partial_len == LINE_MAX_BYTES)
			line_emit(sv, s, 0);
	}
}

static void stream_lines(struct supervisor *sv, struct stream *s,
			 const char *data, size_t len)
{
	while (len > 0) {
		const char *newline = memchr(data, '\n', len);
		size_t segment = newline ? (size_t)(newline - data) : len;

		if (!newline) {
			/* whole pieces of a long line go out from here, not
			 * through the partial buffer */
			while (s->partial_len == 0 && segment >= LINE_MAX_BYTES) {
				size_t used = full_add_line(sv, s->tag, data,
							    LINE_MAX_BYTES, 0);

				if (!used)
					break;
				line_check(sv, s, data, used);
				data += used;
				segment -= used;
			}
			line_add(sv, s, data, segment);
			return;
		}
		if (s->partial_len == 0 && segment <= LINE_MAX_BYTES) {
			full_add_line(sv, s->tag, data, segment, 1);
			line_check(sv, s, data, segment);
		} else {
			line_add(sv, s, data, segment);
			line_emit(sv, s, 1);
		}
		data += segment + 1;
		len -= segment + 1;
	}
}

static void stream_close(struct supervisor *sv, struct stream *s)
{
	if (s->partial_len > 0)
		line_emit(sv, s, 1);	/* the unterminated last line */
	if (s->pipe_fd == sv->input_fd)
		sv->input_fd = -1;	/* a PTY's master is both */
	close(s->pipe_fd);
	s->pipe_fd = -1;
}

/* Read what the job printed: up to 8 chunks while they come full, then
 * back to poll. A stream that fills its pipe gets a 1 MiB one, so a job
 * that prints a lot is woken (and wakes us) less often. */
static void stream_read(struct supervisor *sv, struct stream *s)
{
	char buf[READ_CHUNK];
	ssize_t got;

	stamp_refresh(sv);
	meta_refresh(sv);
	for (int round = 0; round < 8; round++) {
		got = read(s->pipe_fd, buf, sizeof(buf));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			break;
		if (got <= 0) {
			stream_close(sv, s);
			break;
		}
		log_write(sv, s->log_fd, buf, (size_t)got);
		stream_lines(sv, s, buf, (size_t)got);
		/* a full default pipe (64 KiB) says the job outruns us */
		if (got >= 65536 && !s->widened) {
			s->widened = 1;
			fcntl(s->pipe_fd, F_SETPIPE_SZ, PIPE_BIG);
		}
		if ((size_t)got < sizeof(buf))
			break;
	}
	full_flush(sv);
}

/* ---- the job child ---------------------------------------------------- */

enum launch_stage { STAGE_CWD = 1, STAGE_STDIO, STAGE_EXEC };

struct launch_failure {
	int stage;
	int err;
};

/* Report why the child could not become the job, then exit. */
static void child_fail(int report_fd, int stage)
{
	struct launch_failure failure = { stage, errno };

	if (write(report_fd, &failure, sizeof(failure)) < 0) {
		/* the supervisor sees a short report and says so */
	}
	_exit(127);
}

/* What the child's stdin, stdout and stderr become. With a PTY the child
 * opens the terminal's slave itself, so it becomes its controlling
 * terminal. */
struct child_stdio {
	int in, out, err;	/* descriptors to dup2, when no pty */
	char pty_name[64];	/* the slave's path, "" when no pty */
};

static int child_open_pty(const char *name)
{
	int fd = open(name, O_RDWR);

	if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
		return -1;
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		return -1;
	if (fd > 2)
		close(fd);
	return 0;
}

static void child_run(const struct supervisor *sv, char **argv,
		      char **envp, const struct child_stdio *io,
		      int report_fd)
{
	signals_reset();
	setsid();
	umask(sv->context->old_umask);
	if (chdir(sv->spec->cwd) < 0)
		child_fail(report_fd, STAGE_CWD);
	if (io->pty_name[0] ? child_open_pty(io->pty_name) < 0
			    : (dup2(io->in, 0) < 0 || dup2(io->out, 1) < 0 ||
			       dup2(io->err, 2) < 0))
		child_fail(report_fd, STAGE_STDIO);
	exec_search(argv, envp);	/* PATH from the job's environment */
	child_fail(report_fd, STAGE_EXEC);
}

/* Start the child with vfork: it borrows our memory until it execs, so
 * nothing is copied (half the time of fork and exec here) and we resume
 * once it has exec'd or failed. Every signal stays blocked across the
 * vfork, so no handler of ours runs in the child before it resets them;
 * the child only makes system calls and never returns. */
static int spawn_job(struct supervisor *sv, char **argv, char **envp,
		     const struct child_stdio *io, int report_fd)
{
	sigset_t all, saved;
	pid_t child;

	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &saved) < 0)
		return -1;
	child = vfork();
	if (child == 0)
		child_run(sv, argv, envp, io, report_fd);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	sv->child = child;
	return child < 0 ? -1 : 0;
}

/* argv of the job: the command itself, or a single word given to the
 * shell wrapper as a script. */
static char **job_argv(const struct job_spec *spec)
{
	struct strv argv = { 0 };

	if (spec->command.n == 1) {
		for (size_t i = 0; i < spec->wrapper.n; i++)
			if (strv_push(&argv, spec->wrapper.v[i]) < 0)
				goto fail;
	}
	for (size_t i = 0; i < spec->command.n; i++)
		if (strv_push(&argv, spec->command.v[i]) < 0)
			goto fail;
	return argv.v;
fail:
	strv_free(&argv);
	return NULL;
}

/* Keep s in owned (freed once the job is forked); NULL if out of memory. */
static char *own(struct strv *owned, char *s)
{
	if (s && strv_push(owned, s) == 0)
		return s;
	free(s);
	return NULL;
}

/* "KEY" alone means KEY with an empty value. */
static char *env_entry_complete(char *entry, struct strv *owned)
{
	size_t len;
	char *full;

	if (strchr(entry, '='))
		return entry;
	len = strlen(entry);
	full = malloc(len + 2);
	if (full) {
		memcpy(full, entry, len);
		memcpy(full + len, "=", 2);
	}
	return own(owned, full);
}

static char *trim(char *text)
{
	char *end;

	while (*text == ' ' || *text == '\t' || *text == '\r')
		text++;
	end = text + strlen(text);
	while (end > text && (end[-1] == ' ' || end[-1] == '\t' ||
			      end[-1] == '\r'))
		*--end = '\0';
	return text;
}

/* An env file: one KEY=VALUE a line, trimmed; blank lines and lines
 * starting with '#' skipped; split at the first '='; no quoting, no
 * expansion (as agent-exec 0.1). Its text is owned: envp points in it. */
static int env_file_apply(struct strv *env, struct strv *owned,
			  const char *path, char *why, size_t why_size)
{
	char *text, *line, *next;
	size_t len;

	if (read_file_at(AT_FDCWD, path, ENV_FILE_MAX, &text, &len) < 0) {
		snprintf(why, why_size, "cannot read env file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (!own(owned, text))
		goto no_memory;
	for (line = text; line; line = next) {
		char *entry;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		entry = trim(line);
		if (!*entry || *entry == '#')
			continue;
		entry = env_entry_complete(entry, owned);
		if (!entry || strv_setenv(env, entry) < 0)
			goto no_memory;
	}
	return 0;
no_memory:
	snprintf(why, why_size, "cannot read env file %s: %s", path,
		 strerror(ENOMEM));
	return -1;
}

/* What every job can rely on: AGENT_EXEC=1, its id and its root. */
static int env_add_agent_exec(struct strv *env, struct strv *owned,
			      const struct job *job)
{
	size_t root_len = strlen(job->dir) - strlen(job->id) - 1;
	char *id = own(owned, malloc(strlen(job->id) + 19));
	char *root = own(owned, malloc(root_len + 17));

	if (!id || !root)
		return -1;
	snprintf(id, strlen(job->id) + 19, "AGENT_EXEC_JOB_ID=%s", job->id);
	snprintf(root, root_len + 17, "AGENT_EXEC_ROOT=%.*s", (int)root_len,
	       job->dir);
	return strv_setenv(env, (char *)"AGENT_EXEC=1") < 0 ||
	       strv_setenv(env, id) < 0 || strv_setenv(env, root) < 0 ? -1 : 0;
}

/* The job's environment: inherited (or empty), then the env files, then
 * --env, in order (later wins), then AGENT_EXEC*. The strings made here
 * are listed in owned. NULL with why[] filled on failure. */
static char **job_env(const struct job_spec *spec, const struct job *job,
		      struct strv *owned, char *why, size_t why_size)
{
	struct strv env = { 0 };

	if (spec->inherit_env)
		for (char **var = environ; *var; var++)
			if (strv_push(&env, *var) < 0)
				goto no_memory;
	for (size_t i = 0; i < spec->env_files.n; i++)
		if (env_file_apply(&env, owned, spec->env_files.v[i], why,
				   why_size) < 0)
			goto fail;
	for (size_t i = 0; i < spec->env.n; i++) {
		char *entry = env_entry_complete(spec->env.v[i], owned);

		if (!entry || strv_setenv(&env, entry) < 0)
			goto no_memory;
	}
	if (env_add_agent_exec(&env, owned, job) < 0)
		goto no_memory;
	if (!env.v)
		env.v = calloc(1, sizeof(*env.v));	/* an empty one */
	if (env.v)
		return env.v;
no_memory:
	snprintf(why, why_size, "cannot build the job's environment: %s",
		 strerror(ENOMEM));
fail:
	strv_free(&env);
	return NULL;
}

/* A word with no shell syntax: a shell would just look it up and run it. */
static int word_is_plain(const char *word)
{
	if (!*word)
		return 0;
	for (; *word; word++)
		if (!isalnum((unsigned char)*word) && !strchr("_-./+,:@%", *word))
			return 0;
	return 1;
}

static int word_is_shell_builtin(const char *word)
{
	return word_index(word, ". alias bg break cd command continue echo "
			   "eval exec exit export false fc fg getopts hash "
			   "jobs kill local printf pwd read readonly return "
			   "set shift source test times trap true type ulimit "
			   "umask unalias unset wait") >= 0;
}

static int wrapper_is_posix_shell(const struct strv *wrapper)
{
	const char *program = wrapper->n ? wrapper->v[0] : "";
	const char *base = strrchr(program, '/');

	base = base ? base + 1 : program;
	return word_index(base, "sh bash dash ash ksh mksh zsh") >= 0;
}

static int executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* dir/name, with a relative dir taken from the job's cwd. */
static int executable_in(const char *dir, size_t dir_len, const char *cwd,
			 const char *name)
{
	char path[4096];

	if (dir_len == 0)
		snprintf(path, sizeof(path), "%s/%s", cwd, name);
	else if (dir[0] == '/')
		snprintf(path, sizeof(path), "%.*s/%s", (int)dir_len, dir, name);
	else
		snprintf(path, sizeof(path), "%s/%.*s/%s", cwd, (int)dir_len,
			 dir, name);
	return executable_file(path);
}

/* Whether a shell started with envp would find program (as execvp). */
static int program_found(const char *program, char **envp, const char *cwd)
{
	const char *path = "/usr/local/bin:/bin:/usr/bin";

	if (program[0] == '/')
		return executable_file(program);
	if (strchr(program, '/'))
		return executable_in("", 0, cwd, program);
	for (char **var = envp; *var; var++)
		if (strncmp(*var, "PATH=", 5) == 0)
			path = *var + 5;
	for (;;) {
		size_t len = strcspn(path, ":");

		if (executable_in(path, len, cwd, program))
			return 1;
		if (!path[len])
			return 0;
		path += len + 1;
	}
}

/* A single plain word for a POSIX shell that names no program: say so,
 * instead of letting the shell run and exit 127. */
static int command_missing(const struct job_spec *spec, char **envp)
{
	const char *word = spec->command.n == 1 ? spec->command.v[0] : NULL;

	return word && wrapper_is_posix_shell(&spec->wrapper) &&
	       word_is_plain(word) && !word_is_shell_builtin(word) &&
	       !program_found(word, envp, spec->cwd);
}

static void describe_failure(struct supervisor *sv, const char **argv,
			     const struct launch_failure *failure)
{
	char *text = sv->state.error;
	size_t size = sizeof(sv->state.error);

	switch (failure->stage) {
	case STAGE_CWD:
		snprintf(text, size, "cannot change directory to \"%s\": %s",
			 sv->spec->cwd, strerror(failure->err));
		break;
	case STAGE_EXEC:
		if (failure->err == ENOENT)
			snprintf(text, size, "command not found: \"%s\"",
				 argv[0]);
		else
			snprintf(text, size, "cannot execute \"%s\": %s",
				 argv[0], strerror(failure->err));
		break;
	default:
		snprintf(text, size, "cannot set up the job's stdio: %s",
			 strerror(failure->err));
		break;
	}
}

/* ---- input: write commands to the job's stdin ----------------------- */

#define INPUT_SOCKET "input.sock"

/* Listen on <job>/input.sock. It is bound by its name relative to the job
 * directory: a socket's path is limited to about 100 bytes. */
static int input_listen(struct supervisor *sv)
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

static void input_accept(struct supervisor *sv)
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
static void client_progress(struct supervisor *sv)
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
static void client_read(struct supervisor *sv)
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

static void input_write(struct supervisor *sv)
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
static void input_shutdown(struct supervisor *sv)
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

/* ---- records ---------------------------------------------------------- */

static void tell_ready(struct supervisor *sv)
{
	char byte = READY_BYTE;

	if (sv->ready_fd < 0)
		return;
	if (write(sv->ready_fd, &byte, 1) < 0) {
		/* the caller is gone; the job goes on */
	}
	close(sv->ready_fd);
	sv->ready_fd = -1;
}

static void state_stamp(struct job_state *st)
{
	format_utc_now(st->updated_at);
}

/* Record a launch that did not happen; the job never ran. */
static void notifications_open(struct supervisor *sv);
static void log_created(struct supervisor *sv);

static void record_failed(struct supervisor *sv)
{
	struct error ignored;

	/* a job that never ran still has its (empty) logs and its events */
	store_create_logs(sv->job, &ignored);
	log_created(sv);
	if (!sv->notifier && sv->signal_fd >= 0)
		notifications_open(sv);
	sv->state.status = JOB_FAILED;
	state_stamp(&sv->state);
	memcpy(sv->state.finished_at, sv->state.updated_at,
	       sizeof(sv->state.finished_at));
	sv->state.has_duration = 1;
	sv->state.duration_ms = 0;
	if (sv->notifier) {
		meta_refresh(sv);
		sv->state.completion_event =
			notify_finished_wanted(&sv->settings);
	}
	store_write_state(sv->job->dir_fd, &sv->state, 1);
	store_release_reserve(sv->job->dir_fd);
	job_lock_release(sv->job->lock_fd, LOCK_ALIVE);
	sv->terminal = 1;
	tell_ready(sv);
	if (sv->notifier &&
	    notifier_job_finished(sv->notifier, &sv->state, sv->meta.root,
				  &sv->settings, 1) == 0)
		notifier_drain(sv->notifier);
}

static void usage_fill(struct job_state *st, const struct rusage *ru)
{
	st->has_usage = 1;
	st->user_cpu_ms = (uint64_t)ru->ru_utime.tv_sec * 1000 +
			  (uint64_t)ru->ru_utime.tv_usec / 1000;
	st->sys_cpu_ms = (uint64_t)ru->ru_stime.tv_sec * 1000 +
			 (uint64_t)ru->ru_stime.tv_usec / 1000;
	st->max_rss_kib = (uint64_t)ru->ru_maxrss;
}

/* The job is over: write the truth durably, then let waiters go. */
static void record_terminal(struct supervisor *sv)
{
	struct job_state *st = &sv->state;
	int status = sv->child_status;

	if (WIFSIGNALED(status)) {
		st->status = JOB_KILLED;
		snprintf(st->signal, sizeof(st->signal), "%d",
			 WTERMSIG(status));
	} else {
		st->status = JOB_EXITED;
		st->has_exit_code = 1;
		st->exit_code = WEXITSTATUS(status);
	}
	st->has_duration = 1;
	st->duration_ms = (uint64_t)(clock_mono_ms() - sv->started_ms);
	state_stamp(st);
	memcpy(st->finished_at, st->updated_at, sizeof(st->finished_at));
	usage_fill(st, &sv->usage);
	if (sv->log_error)
		snprintf(st->error, sizeof(st->error),
			 "output cut: cannot write logs: %s",
			 strerror(sv->log_error));
	/* the sinks are those configured when the job ends */
	meta_refresh(sv);
	st->completion_event = notify_finished_wanted(&sv->settings);
	test_stop_at("job-ended");
	/* with a completion event, its record's directory fsync follows
	 * and covers this rename too */
	if (store_write_state(sv->job->dir_fd, st,
			      sv->notifier && st->completion_event
			      ? DURABLE_DATA : DURABLE_FULL) < 0)
		store_write_state(sv->job->dir_fd, st, DURABLE_NONE);
	store_release_reserve(sv->job->dir_fd);
	/* the event log has job.finished (and completion_event.json is on
	 * disk) before any waiter is let go */
	if (sv->notifier)
		notifier_job_finished(sv->notifier, st, sv->meta.root,
				      &sv->settings, 1);
	job_lock_release(sv->job->lock_fd, LOCK_ALIVE);
	sv->terminal = 1;
	input_shutdown(sv);
}

/* ---- the loop --------------------------------------------------------- */

static void group_signal(struct supervisor *sv, int signo)
{
	if (kill(-sv->child, signo) < 0 && !sv->child_reaped)
		kill(sv->child, signo);
}

static void reap_children(struct supervisor *sv)
{
	struct rusage usage;
	int status;
	pid_t pid;

	while ((pid = wait4(-1, &status, WNOHANG, &usage)) > 0) {
		if (pid != sv->child) {
			if (sv->notifier)
				notifier_child_exited(sv->notifier, pid,
						      status);
			continue;
		}
		sv->child_reaped = 1;
		sv->child_status = status;
		sv->usage = usage;
		sv->exited_ms = clock_mono_ms();
	}
}

static void handle_signals(struct supervisor *sv)
{
	int signo;

	while ((signo = signals_next(sv->signal_fd)) > 0) {
		if (signo == SIGCHLD)
			reap_children(sv);
		else if (!sv->child_reaped)
			group_signal(sv, signo);
	}
}

static void handle_timers(struct supervisor *sv, int64_t now)
{
	if (sv->timeout_at && now >= sv->timeout_at) {
		sv->timeout_at = 0;
		if (!sv->child_reaped) {
			sv->state.timed_out = 1;
			group_signal(sv, SIGTERM);
			if (sv->spec->kill_after_ms == 0)
				group_signal(sv, SIGKILL);
			else
				sv->kill_at = time_after(
					now, sv->spec->kill_after_ms);
		}
	}
	if (sv->kill_at && now >= sv->kill_at) {
		sv->kill_at = 0;
		if (!sv->terminal)
			group_signal(sv, SIGKILL);
	}
	if (sv->notifier)
		notifier_tick(sv->notifier, now);
	if (sv->progress_at && now >= sv->progress_at) {
		sv->progress_at = time_after(now, sv->spec->progress_every_ms);
		if (!sv->terminal) {
			state_stamp(&sv->state);
			store_write_state(sv->job->dir_fd, &sv->state, 0);
		}
	}
}

static int64_t earliest(int64_t a, int64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

/* Milliseconds until the next timer, -1 for none. */
static int poll_timeout(const struct supervisor *sv, int64_t now)
{
	int64_t next = earliest(sv->timeout_at, sv->kill_at);

	if (!sv->terminal) {
		next = earliest(next, sv->progress_at);
		if (sv->child_reaped)
			next = earliest(next, sv->exited_ms + LINGER_MS);
	}
	if (sv->notifier)
		next = earliest(next, notifier_deadline(sv->notifier));
	next = earliest(next, sv->client_deadline);
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now > 60000 ? 60000
							  : next - now);
}

static int streams_open(const struct supervisor *sv)
{
	return sv->out.pipe_fd >= 0 || sv->err.pipe_fd >= 0;
}

static void supervise_loop(struct supervisor *sv)
{
	while (!sv->terminal || streams_open(sv) || sv->client_fd >= 0 ||
	       (sv->notifier && notifier_busy(sv->notifier))) {
		int client_wants = sv->client_fd >= 0 && !sv->client_eof &&
				   sv->input_off == sv->input_len;
		struct pollfd fds[6] = {
			{ .fd = sv->signal_fd, .events = POLLIN },
			{ .fd = sv->out.pipe_fd, .events = POLLIN },
			{ .fd = sv->err.pipe_fd, .events = POLLIN },
			{ .fd = sv->client_fd < 0 ? sv->listen_fd : -1,
			  .events = POLLIN },
			{ .fd = client_wants ? sv->client_fd : -1,
			  .events = POLLIN },
			{ .fd = sv->input_off < sv->input_len ? sv->input_fd
							       : -1,
			  .events = POLLOUT },
		};
		int64_t now = clock_mono_ms();
		int ready = poll(fds, 6, poll_timeout(sv, now));

		if (ready < 0 && errno != EINTR)
			break;
		if (ready > 0 && fds[0].revents)
			handle_signals(sv);
		if (ready > 0 && fds[1].revents)
			stream_read(sv, &sv->out);
		if (ready > 0 && fds[2].revents)
			stream_read(sv, &sv->err);
		if (ready > 0 && fds[3].revents)
			input_accept(sv);
		if (ready > 0 && fds[4].revents && sv->client_fd >= 0)
			client_read(sv);
		if (ready > 0 && fds[5].revents && sv->input_fd >= 0)
			input_write(sv);
		client_progress(sv);
		now = clock_mono_ms();
		handle_timers(sv, now);
		if (!sv->terminal && sv->child_reaped &&
		    (!streams_open(sv) || now >= sv->exited_ms + LINGER_MS))
			record_terminal(sv);
	}
}

/* ---- starting the job ------------------------------------------------- */

static int open_full_log(const struct supervisor *sv)
{
	const char *path = sv->spec->full_log;
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;

	if (!path)
		return openat(sv->job->dir_fd, "full.log", flags | O_NOFOLLOW,
			      0600);
	char *slash = strrchr(path, '/');

	if (slash && slash != path) {
		char *parent = strndup(path, (size_t)(slash - path));

		if (!parent)
			return -1;
		mkdir_parents(parent, 0700);
		free(parent);
	}
	return open(path, flags, 0600);
}

static int open_logs(struct supervisor *sv)
{
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;

	const char *failed = NULL;

	sv->out.log_fd = openat(sv->job->dir_fd, "stdout.log", flags, 0600);
	if (sv->out.log_fd < 0)
		failed = "stdout.log";
	sv->err.log_fd = openat(sv->job->dir_fd, "stderr.log", flags, 0600);
	if (!failed && sv->err.log_fd < 0)
		failed = "stderr.log";
	sv->full_fd = failed ? -1 : open_full_log(sv);
	if (sv->spec->full_log) {	/* the job's own stays, empty */
		int fd = openat(sv->job->dir_fd, "full.log", flags, 0600);

		if (fd >= 0)
			close(fd);
	}
	if (!failed && sv->full_fd < 0)
		failed = sv->spec->full_log ? sv->spec->full_log : "full.log";
	if (failed)
		snprintf(sv->state.error, sizeof(sv->state.error),
			 "cannot open the log %s: %s", failed, strerror(errno));
	return failed ? -1 : 0;
}

static int pipe_nonblocking_read(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	return fcntl(fds[0], F_SETFL, O_NONBLOCK);
}

/* Read the child's launch report: 0 when exec succeeded (end of file). */
static int await_exec(int report_fd, struct launch_failure *failure)
{
	ssize_t got = read_full(report_fd, failure, sizeof(*failure));

	if (got == 0)
		return 0;
	if (got != (ssize_t)sizeof(*failure)) {
		failure->stage = STAGE_EXEC;
		failure->err = got < 0 ? errno : EIO;
	}
	return -1;
}

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* A new PTY master, unlocked, and its slave's name. */
static int open_pty_master(char *name, size_t size)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0 &&
	    ptsname_r(master, name, size) == 0)
		return master;
	if (master >= 0)
		close(master);
	return -1;
}

/* A PTY: the supervisor keeps the master (output and input), the child
 * gets the slave's name. */
static int open_pty(struct supervisor *sv, struct child_stdio *io)
{
	struct winsize size = { .ws_col = (unsigned short)sv->spec->pty_cols,
				.ws_row = (unsigned short)sv->spec->pty_rows };
	int master = open_pty_master(io->pty_name, sizeof(io->pty_name));

	if (master < 0 || ioctl(master, TIOCSWINSZ, &size) < 0 ||
	    set_nonblocking(master) < 0) {
		if (master >= 0)
			close(master);
		return -1;
	}
	sv->out.pipe_fd = master;
	sv->input_fd = master;
	sv->input_is_pty = 1;
	return 0;
}

/* The job's stdin when it is not interactive: nothing, or <job>/stdin. */
static int open_stdin(const struct supervisor *sv)
{
	if (sv->spec->stdin_mode == STDIN_FILE)
		return openat(sv->job->dir_fd, "stdin", O_RDONLY | O_CLOEXEC |
			      O_NOFOLLOW);
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Pipes or a PTY for the child; the supervisor's ends go into sv. */
static int prepare_stdio(struct supervisor *sv, struct child_stdio *io)
{
	int out[2], err[2], in[2];

	*io = (struct child_stdio){ -1, -1, -1, "" };
	if (sv->spec->pty)
		return open_pty(sv, io);
	if (pipe_nonblocking_read(out) < 0)
		return -1;
	sv->out.pipe_fd = out[0];
	io->out = out[1];
	if (pipe_nonblocking_read(err) < 0)
		return -1;
	sv->err.pipe_fd = err[0];
	io->err = err[1];
	if (sv->spec->stdin_mode != STDIN_INTERACTIVE) {
		io->in = open_stdin(sv);
		return io->in < 0 ? -1 : 0;
	}
	if (pipe2(in, O_CLOEXEC) < 0 || set_nonblocking(in[1]) < 0)
		return -1;
	io->in = in[0];
	sv->input_fd = in[1];
	return 0;
}

static void close_child_ends(struct child_stdio *io)
{
	if (io->in >= 0)
		close(io->in);
	if (io->out >= 0)
		close(io->out);
	if (io->err >= 0)
		close(io->err);
	io->in = io->out = io->err = -1;
}

/* Fork the job; 0 once it runs, -1 with state.error set. */
static int spawn_child(struct supervisor *sv)
{
	char **argv = job_argv(sv->spec), **envp;
	int report[2] = { -1, -1 };
	struct launch_failure failure;
	struct child_stdio io = { -1, -1, -1, "" };
	struct strv owned = { 0 };
	int rc = -1;

	envp = job_env(sv->spec, sv->job, &owned, sv->state.error,
		       sizeof(sv->state.error));
	if (!envp)
		goto out;
	if (!argv || prepare_stdio(sv, &io) < 0 ||
	    pipe2(report, O_CLOEXEC) < 0) {
		snprintf(sv->state.error, sizeof(sv->state.error),
			 "cannot prepare the job: %s", strerror(errno));
		goto out;
	}
	if (command_missing(sv->spec, envp)) {
		snprintf(sv->state.error, sizeof(sv->state.error),
			 "command not found: \"%s\"", sv->spec->command.v[0]);
		goto out;
	}
	if (spawn_job(sv, argv, envp, &io, report[1]) < 0) {
		snprintf(sv->state.error, sizeof(sv->state.error),
			 "cannot fork the job: %s", strerror(errno));
		goto out;
	}
	sv->started_ms = clock_mono_ms();
	close_child_ends(&io);
	close(report[1]);
	report[1] = -1;
	/* the launching CLI creates the logs meanwhile: usually they exist */
	if (open_logs(sv) < 0) {
		kill(sv->child, SIGKILL);
		waitpid(sv->child, NULL, 0);
		goto out;
	}
	if (await_exec(report[0], &failure) < 0) {
		describe_failure(sv, (const char **)argv, &failure);
		waitpid(sv->child, NULL, 0);
		goto out;
	}
	rc = 0;
out:
	close_child_ends(&io);
	if (report[0] >= 0)
		close(report[0]);
	if (report[1] >= 0)
		close(report[1]);
	free(argv);
	free(envp);
	for (size_t i = 0; i < owned.n; i++)
		free(owned.v[i]);
	strv_free(&owned);
	return rc;
}

static void record_running(struct supervisor *sv)
{
	struct job_state *st = &sv->state;

	st->status = JOB_RUNNING;
	st->has_pid = 1;
	st->pid = sv->child;
	state_stamp(st);
	store_write_state(sv->job->dir_fd, st, 0);
}

/* The job.created event the launching CLI left us, logged once: after
 * the answer, before job.started (or job.finished). */
static void log_created(struct supervisor *sv)
{
	char root[4096];

	if (!sv->context->created_event || sv->created_logged)
		return;
	sv->created_logged = 1;
	events_root_of(sv->job->dir, root, sizeof(root));
	events_append(root, sv->context->created_event,
		      sv->context->created_len);
}

static void log_started(const struct supervisor *sv)
{
	struct json_writer w;
	char root[4096];

	jw_init_mem(&w, 4096, 0);
	jw_object_begin(&w);
	jw_kv_str(&w, "event_type", "job.started");
	jw_kv_str(&w, "job_id", sv->job->id);
	jw_kv_i64(&w, "pid", sv->child);
	jw_kv_str(&w, "started_at", sv->state.started_at);
	jw_object_end(&w);
	events_root_of(sv->job->dir, root, sizeof(root));
	if (!w.error)
		events_append(root, w.buf, w.len);
	jw_free(&w);
}

static void arm_timers(struct supervisor *sv)
{
	if (sv->spec->timeout_ms)
		sv->timeout_at = time_after(sv->started_ms,
					    sv->spec->timeout_ms);
	if (sv->spec->progress_every_ms)
		sv->progress_at = time_after(sv->started_ms,
					     sv->spec->progress_every_ms);
}

/* The supervisor's own copies of the spec's strings: the originals live in
 * the caller's argv, which it blanks. */
static int strv_copy(struct strv *to, const struct strv *from)
{
	*to = (struct strv){ 0 };
	for (size_t i = 0; i < from->n; i++) {
		char *copy = strdup(from->v[i]);

		if (!copy || strv_push(to, copy) < 0) {
			free(copy);
			return -1;
		}
	}
	return 0;
}

static int spec_copy(struct job_spec *to, const struct job_spec *from)
{
	*to = *from;
	to->cwd = strdup(from->cwd);
	to->full_log = from->full_log ? strdup(from->full_log) : NULL;
	if (!to->cwd || (from->full_log && !to->full_log) ||
	    strv_copy(&to->command, &from->command) < 0 ||
	    strv_copy(&to->wrapper, &from->wrapper) < 0 ||
	    strv_copy(&to->env, &from->env) < 0 ||
	    strv_copy(&to->env_files, &from->env_files) < 0 ||
	    strv_copy(&to->mask, &from->mask) < 0 ||
	    strv_copy(&to->tags, &from->tags) < 0)
		return -1;	/* the process exits soon: no cleanup */
	return 0;
}

/* Overwrite the caller's argv (what ps and /proc/PID/cmdline show) with a
 * title: the job's command and --env values are not to linger there. */
static void argv_blank(const struct launch_context *context,
		       const char *job_id)
{
	char *start, *end;

	if (context->argc < 1 || !context->argv[0])
		return;
	start = end = context->argv[0];
	for (int i = 0; i < context->argc; i++) {
		char *arg = context->argv[i];

		if (arg != end)		/* not contiguous: blank it alone */
			memset(arg, 0, strlen(arg));
		else
			end = arg + strlen(arg) + 1;
	}
	memset(start, 0, (size_t)(end - start));
	snprintf(start, (size_t)(end - start), "agent-exec supervisor %s",
		 job_id);
}

/* Hold LOCK_DELIVERY for life (a delivery cut short by our death is then
 * seen, and finished, by the next reader), and load the settings. */
static void notifications_open(struct supervisor *sv)
{
	struct notifier_config config;

	job_lock_take(sv->job->lock_fd, LOCK_DELIVERY, 1, 0);
	notifier_config_init(&config, sv->job, sv->spec);
	sv->notifier = notifier_new(&config);
	meta_refresh(sv);
}

static void supervise(struct job *job, const struct job_spec *spec,
		      int ready_fd, const struct launch_context *context)
{
	/* lives as long as the process; its buffers are touched only when
	 * used, which keeps the supervisor's resident memory small */
	static struct supervisor sv;

	sv.job = job;
	sv.context = context;
	sv.spec = &sv.own_spec;
	sv.ready_fd = ready_fd;
	/* field by field: assigning whole streams would write (and so make
	 * resident) their 16 KiB line buffers */
	sv.out.partial = sv.out_partial;
	sv.err.partial = sv.err_partial;
	sv.out.tag = "[STDOUT]";
	sv.out.id = MATCH_STDOUT;
	sv.out.pipe_fd = -1;
	sv.err.tag = "[STDERR]";
	sv.err.id = MATCH_STDERR;
	sv.err.pipe_fd = -1;
	sv.input_fd = sv.listen_fd = sv.client_fd = sv.signal_fd = -1;
	snprintf(sv.state.id, sizeof(sv.state.id), "%s", job->id);
	sv.state.supervisor_pid = getpid();
	format_utc_now(sv.state.started_at);
	if (spec_copy(&sv.own_spec, spec) < 0) {
		snprintf(sv.state.error, sizeof(sv.state.error),
			 "cannot copy the job's definition: %s",
			 strerror(errno));
		record_failed(&sv);
		return;
	}
	argv_blank(context, job->id);
	if (daemon_detach((int[]){ ready_fd, job->dir_fd, job->lock_fd },
			  3) < 0) {
		snprintf(sv.state.error, sizeof(sv.state.error),
			 "cannot detach the supervisor: %s", strerror(errno));
		record_failed(&sv);
		return;
	}
	sv.signal_fd = signals_open();
	if (sv.signal_fd < 0) {
		snprintf(sv.state.error, sizeof(sv.state.error),
			 "cannot set up signal handling: %s", strerror(errno));
		record_failed(&sv);
		return;
	}
	test_stop_at("supervisor-start");
	if (spawn_child(&sv) < 0 ||
	    (sv.input_fd >= 0 && input_listen(&sv) < 0)) {
		record_failed(&sv);
		return;
	}
	record_running(&sv);
	tell_ready(&sv);
	/* what the caller need not wait for */
	log_created(&sv);
	notifications_open(&sv);
	/* room for the terminal record, even if the output fills the disk */
	store_reserve_record(job->dir_fd);
	log_started(&sv);
	test_stop_at("job-running");
	arm_timers(&sv);
	supervise_loop(&sv);
}

/* ---- the caller's side ------------------------------------------------ */

/* No supervisor could start: the caller logs job.created itself. */
static void log_created_here(const struct job *job,
			     const struct launch_context *context)
{
	char root[4096];

	if (!context->created_event)
		return;
	events_root_of(job->dir, root, sizeof(root));
	events_append(root, context->created_event, context->created_len);
}

/* Nothing could start: record it ourselves, as the supervisor would. */
static int launch_failed(struct job *job, const char *what, int err,
			 struct error *e)
{
	struct job_state st = { .status = JOB_FAILED, .has_duration = 1 };

	snprintf(st.id, sizeof(st.id), "%s", job->id);
	format_utc_now(st.updated_at);
	memcpy(st.started_at, st.updated_at, sizeof(st.started_at));
	memcpy(st.finished_at, st.updated_at, sizeof(st.finished_at));
	snprintf(st.error, sizeof(st.error), "cannot %s: %s", what,
		 strerror(err));
	if (store_write_state(job->dir_fd, &st, 1) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/state.json",
				  job->dir);
	return 0;
}

static int wait_ready(int ready_fd)
{
	char byte = 0;

	return read_full(ready_fd, &byte, 1) == 1 && byte == READY_BYTE;
}

struct supervise_args {
	struct job *job;
	const struct job_spec *spec;
	const struct launch_context *context;
	int ready[2];
};

static void supervise_detached(void *ctx)
{
	struct supervise_args *args = ctx;

	close(args->ready[0]);
	supervise(args->job, args->spec, args->ready[1], args->context);
}

int exec_launch(struct job *job, const struct job_spec *spec,
		const struct launch_context *context, struct error *e)
{
	struct supervise_args args = { job, spec, context, { -1, -1 } };
	struct error ignored;
	int rc = 0;

	if (pipe2(args.ready, O_CLOEXEC) < 0) {
		int err = errno;

		log_created_here(job, context);
		return launch_failed(job, "create the readiness pipe", err, e);
	}
	if (fork_detached(supervise_detached, &args) < 0) {
		int err = errno;

		log_created_here(job, context);
		rc = launch_failed(job, "fork the supervisor", err, e);
		close(args.ready[0]);
		close(args.ready[1]);
		return rc;
	}
	close(args.ready[1]);
	/* while the supervisor starts the job: its logs, which it opens
	 * (and would create) after the job's exec */
	store_create_logs(job, &ignored);
	/* without the ready byte the supervisor died early; the lock it
	 * held is free now and readers record the loss */
	wait_ready(args.ready[0]);
	close(args.ready[0]);
	close(job->lock_fd);
	job->lock_fd = -1;
	return rc;
}
