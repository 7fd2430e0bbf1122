/* exec_child.c - the job child, from fork to exec: its argv, environment,
 * cwd and stdio (pipes or a terminal), in a session of its own; and the
 * report of a launch that failed, through a close-on-exec pipe. */
#include "exec_child.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/program.h"
#include "lib/sig.h"

extern char **environ;

#define ENV_FILE_MAX (1u << 20)

enum launch_stage { STAGE_CWD = 1, STAGE_STDIO, STAGE_LOOKUP, STAGE_EXEC };

struct launch_failure {
	int stage;
	int err;
	char path[1024];	/* what could not be opened or executed */
};

/* Report why the child could not become the job, then exit. No library
 * call but memcpy and strlen: this runs in a vfork child. */
static void child_fail(int report_fd, int stage, const char *path)
{
	struct launch_failure failure = { .stage = stage, .err = errno };
	size_t len = path ? strlen(path) : 0;

	if (len >= sizeof(failure.path))
		len = sizeof(failure.path) - 1;
	memcpy(failure.path, path ? path : "", len);
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

/* What the child is given to become the job. */
struct child_plan {
	const struct job_spec *spec;
	mode_t job_umask;
	char **argv, **envp;
	const struct child_stdio *io;
	int report_fd;
	pid_t supervisor;
	/* a plain word the shell wrapper would look up: looked up here
	 * first, so that a program it cannot run is a failed job, with the
	 * reason, rather than the shell's 127 or 126 */
	const char *look_up;
};

static void child_run(const struct child_plan *plan)
{
	const struct child_stdio *io = plan->io;
	char program[sizeof(((struct launch_failure *)0)->path)];

	sig_reset();
	setsid();
	/* the job dies with its supervisor (its own children are found by
	 * whoever records the loss): never a job that runs on unseen */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 &&
	    getppid() != plan->supervisor)
		_exit(127);	/* the supervisor died already */
	umask(plan->job_umask);
	if (chdir(plan->spec->cwd) < 0)
		child_fail(plan->report_fd, STAGE_CWD, plan->spec->cwd);
	if (io->pty_name[0] ? child_open_pty(io->pty_name) < 0
			    : (dup2(io->in, 0) < 0 || dup2(io->out, 1) < 0 ||
			       dup2(io->err, 2) < 0))
		child_fail(plan->report_fd, STAGE_STDIO, io->pty_name);
	/* PATH from the job's environment, relative paths from its cwd */
	if (plan->look_up &&
	    program_find(plan->look_up, env_value(plan->envp, "PATH"), program,
			 sizeof(program)) < 0)
		child_fail(plan->report_fd, STAGE_LOOKUP, program);
	exec_search(plan->argv, plan->envp, program, sizeof(program));
	child_fail(plan->report_fd, STAGE_EXEC, program);
}

/* Start the child with vfork: it borrows our memory until it execs, so
 * nothing is copied (half the time of fork and exec here) and we resume
 * once it has exec'd or failed. Every signal stays blocked across the
 * vfork, so no handler of ours runs in the child before it resets them;
 * the child only makes system calls and never returns. */
static pid_t spawn_job(const struct child_plan *plan)
{
	sigset_t all, saved;
	pid_t child;

	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &saved) < 0)
		return -1;
	child = vfork();
	if (child == 0)
		child_run(plan);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return child;
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
	return strv_keep(owned, full);
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
			 file_strerror(errno));
		return -1;
	}
	if (!strv_keep(owned, text))
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
	why_errno(why, why_size, ENOMEM, "cannot read env file %s", path);
	return -1;
}

/* What every job can rely on: AGENT_EXEC=1, its id and its root. */
static int env_add_agent_exec(struct strv *env, struct strv *owned,
			      const struct job *job)
{
	struct job_marks marks;
	char *id, *root;

	if (store_job_marks(&marks, job) < 0)
		return -1;
	root = strv_keep(owned, marks.root);	/* owned from here */
	id = strv_keep(owned, strdup(marks.id));
	if (!id || !root)
		return -1;
	/* the marks that vouch for the job's processes (store_job_marks) */
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
	why_errno(why, why_size, ENOMEM, "cannot build the job's environment");
fail:
	strv_free(&env);
	return NULL;
}

/* The values of the masked keys in envp, every entry of each (inherited,
 * from an env file or --env): what the job's output must never show. */
static int secrets_collect(struct redact_set *secrets,
			   const struct job_spec *spec, char **envp, char *why,
			   size_t why_size)
{
	for (char **var = envp; *var; var++) {
		size_t key_len = strcspn(*var, "=");
		const char *value = *var + key_len + ((*var)[key_len] == '=');

		if (!spec_env_masked(&spec->mask, *var) ||
		    redact_set_add(secrets, value, strlen(value)) >= 0)
			continue;
		if (errno == EINVAL)
			snprintf(why, why_size, "the value of the masked "
				 "variable %.*s is longer than %d bytes",
				 (int)key_len, *var, REDACT_SECRET_MAX);
		else
			why_errno(why, why_size, errno,
				  "cannot hide the value of %.*s",
				  (int)key_len, *var);
		return -1;
	}
	return 0;
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

/* The single plain word a POSIX shell wrapper would look up and run, or
 * NULL (several words, shell syntax, a builtin, another wrapper). */
static const char *word_to_look_up(const struct job_spec *spec)
{
	const char *word = spec->command.n == 1 ? spec->command.v[0] : NULL;

	if (word && wrapper_is_posix_shell(&spec->wrapper) &&
	    word_is_plain(word) && !word_is_shell_builtin(word))
		return word;
	return NULL;
}

/* The program the job's argv starts with (for messages). */
static const char *job_program(const struct job_spec *spec)
{
	if (spec->command.n == 1 && spec->wrapper.n > 0)
		return spec->wrapper.v[0];
	return spec->command.v[0];
}

static enum exec_error exec_error_of(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return EXEC_NOT_FOUND;
	case EACCES:
	case EPERM:
		return EXEC_PERMISSION_DENIED;
	case EISDIR:
		return EXEC_IS_A_DIRECTORY;
	default:
		return EXEC_CANNOT_EXECUTE;
	}
}

/* name could not be executed: not found (as a shell says it), or the
 * path at fault and the cause. */
static void describe_exec(const char *name,
			  const struct launch_failure *failure, char *why,
			  size_t why_size, enum exec_error *exec_error)
{
	const char *path = failure->path;

	*exec_error = exec_error_of(failure->err);
	if (*exec_error == EXEC_NOT_FOUND && strcmp(path, name) == 0)
		snprintf(why, why_size, "command not found: \"%s\"", name);
	else if (!path[0] || strcmp(path, name) == 0)
		why_errno(why, why_size, failure->err, "cannot execute \"%s\"",
			  name);
	else
		why_errno(why, why_size, failure->err,
			  "cannot execute \"%s\" (%s)", name, path);
}

static void describe_failure(const struct job_spec *spec,
			     const struct launch_failure *failure, char *why,
			     size_t why_size, enum exec_error *exec_error)
{
	switch (failure->stage) {
	case STAGE_CWD:
		why_errno(why, why_size, failure->err,
			  "cannot change directory to \"%s\"", spec->cwd);
		break;
	case STAGE_LOOKUP:
		describe_exec(spec->command.v[0], failure, why, why_size,
			      exec_error);
		break;
	case STAGE_EXEC:
		describe_exec(job_program(spec), failure, why, why_size,
			      exec_error);
		break;
	case STAGE_STDIO:
		if (failure->path[0]) {
			why_errno(why, why_size, failure->err,
				  "cannot open the job's terminal %s",
				  failure->path);
			break;
		}
		/* fall through */
	default:
		why_errno(why, why_size, failure->err,
			  "cannot set up the job's stdio");
		break;
	}
}

static int pipe_nonblocking_read(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	return fcntl(fds[0], F_SETFL, O_NONBLOCK);
}

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

#define PTY_MASTER "/dev/ptmx"

/* A new PTY master, unlocked, and its slave's name; -1 with why filled,
 * naming the path that could not be opened. */
static int open_pty_master(char *name, size_t size, char *why,
			   size_t why_size)
{
	int master = open(PTY_MASTER, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master < 0) {
		int err = errno;

		/* a /dev/ptmx without devpts mounted beside it fails with
		 * ENODEV, or ENOENT when /dev/pts is not even there */
		snprintf(why, why_size, "cannot open %s for the job's "
			 "terminal: %s%s", PTY_MASTER, strerror(err),
			 err == ENODEV || (err == ENOENT &&
					   exists_at(AT_FDCWD, PTY_MASTER))
			 ? " (no devpts mounted on /dev/pts)" : "");
		return -1;
	}
	if (grantpt(master) == 0 && unlockpt(master) == 0 &&
	    ptsname_r(master, name, size) == 0)
		return master;
	why_errno(why, why_size, errno, "cannot set up the job's terminal (%s)",
		  PTY_MASTER);
	close(master);
	return -1;
}

/* A PTY: the supervisor keeps the master (output, and a copy for input),
 * the child gets the slave's name. */
static int open_pty(struct child *c, const struct job_spec *spec,
		    struct child_stdio *io, char *why, size_t why_size)
{
	struct winsize size = { .ws_col = (unsigned short)spec->pty_cols,
				.ws_row = (unsigned short)spec->pty_rows };
	int master = open_pty_master(io->pty_name, sizeof(io->pty_name), why,
				     why_size);

	if (master < 0)
		return -1;
	c->out_fd = master;
	c->input_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	c->input_is_pty = 1;
	if (ioctl(master, TIOCSWINSZ, &size) < 0 || set_nonblocking(master) < 0 ||
	    c->input_fd < 0) {
		why_errno(why, why_size, errno,
			  "cannot set up the job's terminal %s", io->pty_name);
		return -1;
	}
	return 0;
}

/* The job's stdin when it is not interactive: nothing (/dev/null, or an
 * empty pipe where there is none), or <job>/stdin. */
static int open_stdin(const struct job *job, const struct job_spec *spec,
		      char *why, size_t why_size)
{
	int fd;

	if (spec->stdin_mode == STDIN_FILE)
		fd = openat(job->dir_fd, "stdin", O_RDONLY | O_CLOEXEC |
			    O_NOFOLLOW);
	else
		fd = open_null(O_RDONLY);
	if (fd < 0)
		why_errno(why, why_size, errno,
			  "cannot open the job's stdin (%s)",
			  spec->stdin_mode == STDIN_FILE
			  ? "<job>/stdin" : "/dev/null, or a pipe");
	return fd;
}

/* The pipes the supervisor reads the job's output from. */
static int open_output_pipes(struct child *c, struct child_stdio *io,
			     char *why, size_t why_size)
{
	int out[2], err[2];

	if (pipe_nonblocking_read(out) == 0) {
		c->out_fd = out[0];
		io->out = out[1];
		if (pipe_nonblocking_read(err) == 0) {
			c->err_fd = err[0];
			io->err = err[1];
			return 0;
		}
	}
	why_errno(why, why_size, errno, "cannot make the job's output pipes");
	return -1;
}

/* Pipes or a PTY for the child; the supervisor's ends go into c. -1 with
 * why filled. */
static int prepare_stdio(struct child *c, const struct job *job,
			 const struct job_spec *spec, struct child_stdio *io,
			 char *why, size_t why_size)
{
	int in[2];

	*io = (struct child_stdio){ -1, -1, -1, "" };
	if (spec->pty)
		return open_pty(c, spec, io, why, why_size);
	if (open_output_pipes(c, io, why, why_size) < 0)
		return -1;
	if (spec->stdin_mode != STDIN_INTERACTIVE) {
		io->in = open_stdin(job, spec, why, why_size);
		return io->in < 0 ? -1 : 0;
	}
	if (pipe2(in, O_CLOEXEC) == 0) {
		io->in = in[0];
		c->input_fd = in[1];
		if (set_nonblocking(in[1]) == 0)
			return 0;
	}
	why_errno(why, why_size, errno, "cannot make the job's input pipe");
	return -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_child_ends(struct child_stdio *io)
{
	close_fd(&io->in);
	close_fd(&io->out);
	close_fd(&io->err);
}

/* What the supervisor holds of the child, closed. */
static void child_close(struct child *c)
{
	close_fd(&c->report_fd);
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
	close_fd(&c->input_fd);
	redact_set_free(&c->secrets);
}

/* Build what the child needs and fork it; -1 with why filled. */
static int child_spawn(struct child *c, const struct job *job,
		       const struct job_spec *spec, mode_t job_umask,
		       struct strv *owned, char *why, size_t why_size)
{
	char **argv = job_argv(spec), **envp;
	int report[2] = { -1, -1 };
	struct child_stdio io = { -1, -1, -1, "" };
	int rc = -1;

	envp = job_env(spec, job, owned, why, why_size);
	if (!envp || secrets_collect(&c->secrets, spec, envp, why,
				     why_size) < 0)
		goto out;
	if (!argv || pipe2(report, O_CLOEXEC) < 0) {
		why_errno(why, why_size, argv ? errno : ENOMEM,
			  "cannot prepare the job");
		goto out;
	}
	if (prepare_stdio(c, job, spec, &io, why, why_size) < 0)
		goto out;
	c->pid = spawn_job(&(struct child_plan){
		.spec = spec, .job_umask = job_umask, .argv = argv,
		.envp = envp, .io = &io, .report_fd = report[1],
		.supervisor = getpid(), .look_up = word_to_look_up(spec) });
	if (c->pid < 0) {
		why_errno(why, why_size, errno, "cannot fork the job");
		goto out;
	}
	c->report_fd = report[0];
	report[0] = -1;
	rc = 0;
out:
	close_child_ends(&io);
	close_fd(&report[0]);
	close_fd(&report[1]);
	free(argv);
	free(envp);
	return rc;
}

int child_start(struct child *c, const struct job *job,
		const struct job_spec *spec, mode_t job_umask, char *why,
		size_t why_size)
{
	struct strv owned = { 0 };
	int rc;

	*c = (struct child){ .pid = -1, .report_fd = -1, .out_fd = -1,
			     .err_fd = -1, .input_fd = -1 };
	rc = child_spawn(c, job, spec, job_umask, &owned, why, why_size);
	strv_free_all(&owned);
	if (rc < 0)
		child_close(c);
	return rc;
}

int child_await(struct child *c, const struct job_spec *spec, char *why,
		size_t why_size, enum exec_error *exec_error)
{
	struct launch_failure failure;
	ssize_t got = read_full(c->report_fd, &failure, sizeof(failure));

	close_fd(&c->report_fd);
	if (got == 0)
		return 0;
	if (got == (ssize_t)sizeof(failure))
		describe_failure(spec, &failure, why, why_size, exec_error);
	else
		snprintf(why, why_size, "cannot read the job's launch report: "
			 "%s", got < 0 ? strerror(errno) : "cut short");
	waitpid(c->pid, NULL, 0);
	child_close(c);
	return -1;
}

void child_abort(struct child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	child_close(c);
}
