/* lib/proc.c - other processes seen through /proc, no product knowledge:
 * command lines, open files, sessions. */
#include "lib/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/sys.h"

#define ENVIRON_MAX (8u << 20)	/* larger environments are not read */
#define SIGNAL_ROUNDS 5		/* for members forked while we signal */

/* The whole of /proc/<pid>/<name> (heap, NUL-terminated), at most max
 * bytes; NULL when it cannot be read. */
static char *proc_file(pid_t pid, const char *name, size_t max, size_t *len)
{
	char path[64], *buf = NULL;
	size_t cap = 0;
	int fd;

	*len = 0;
	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t got;

		if (*len + 4096 + 1 > cap) {
			char *grown;

			cap = cap ? cap * 2 : 8192;
			grown = cap <= max + 4097 ? realloc(buf, cap) : NULL;
			if (!grown)
				break;
			buf = grown;
		}
		got = read(fd, buf + *len, 4096);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			close(fd);
			if (got < 0) {
				free(buf);
				return NULL;
			}
			buf[*len] = '\0';
			return buf;
		}
		*len += (size_t)got;
	}
	close(fd);
	free(buf);
	return NULL;
}

int proc_cmdline_is(pid_t pid, const char *text)
{
	size_t len;
	char *cmdline = proc_file(pid, "cmdline", 4096, &len);
	int same = cmdline && strncmp(cmdline, text, strlen(text)) == 0;

	free(cmdline);
	return same;
}

int proc_holds_open(pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	struct dirent *entry;
	DIR *fds;
	int held = 0, dir_fd;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return 0;
	fds = fdopendir(dir_fd);
	if (!fds) {
		close(dir_fd);
		return 0;
	}
	while (!held && (entry = readdir(fds))) {
		struct stat st;

		/* following the link reaches the open file itself */
		if (entry->d_name[0] != '.' &&
		    fstatat(dir_fd, entry->d_name, &st, 0) == 0)
			held = st.st_dev == dev && st.st_ino == ino;
	}
	closedir(fds);
	return held;
}

/* The session of a live process, from /proc/<pid>/stat: 0, or -1 when
 * it is gone or a zombie (dead already). */
static int proc_session(pid_t pid, pid_t *session)
{
	size_t len;
	char *stat = proc_file(pid, "stat", 4096, &len);
	char *after = stat ? strrchr(stat, ')') : NULL;	/* comm may hold ')' */
	char *field;
	long number = 0;
	int rc = -1;

	/* after the name: state, parent, group, session */
	if (after && after[1] == ' ' && after[2] && after[2] != 'Z' &&
	    after[2] != 'X') {
		field = after + 3;
		for (int i = 0; i < 3 && field; i++) {
			number = strtol(field, &field, 10);
			if (*field != ' ')
				field = NULL;
		}
		if (field) {
			*session = (pid_t)number;
			rc = 0;
		}
	}
	free(stat);
	return rc;
}

/* Whether process pid's environment holds every one of entries (a NULL
 * terminated list of "NAME=value"). */
static int environ_has(pid_t pid, const char *const *entries)
{
	size_t len, found = 0, wanted = 0;
	char *env = proc_file(pid, "environ", ENVIRON_MAX, &len);

	while (entries[wanted])
		wanted++;
	for (size_t at = 0; env && at < len; at += strlen(env + at) + 1)
		for (size_t i = 0; i < wanted; i++)
			if (strcmp(env + at, entries[i]) == 0)
				found++;
	free(env);
	return env && found >= wanted;
}

/* One round: signal the members of session sid (all of them once it is
 * vouched for). The number signalled. */
static int signal_round(pid_t sid, const char *const *env_entries, int signo,
			int *vouched)
{
	DIR *all = opendir("/proc");
	struct dirent *entry;
	int signalled = 0;

	if (!all)
		return 0;
	while ((entry = readdir(all))) {
		char *end;
		long number = strtol(entry->d_name, &end, 10);
		pid_t pid = (pid_t)number, session;

		if (*end || number <= 0 || pid == getpid() ||
		    proc_session(pid, &session) < 0 || session != sid)
			continue;
		if (!*vouched)
			*vouched = environ_has(pid, env_entries);
		if (*vouched && kill(pid, signo) == 0)
			signalled++;
	}
	closedir(all);
	return signalled;
}

int proc_session_vouched(pid_t sid, const char *const *env_entries)
{
	DIR *all = opendir("/proc");
	struct dirent *entry;
	int vouched = 0;

	if (!all)
		return -1;
	while (!vouched && (entry = readdir(all))) {
		char *end;
		long number = strtol(entry->d_name, &end, 10);
		pid_t session;

		if (!*end && number > 0 &&
		    proc_session((pid_t)number, &session) == 0 &&
		    session == sid)
			vouched = environ_has((pid_t)number, env_entries);
	}
	closedir(all);
	return vouched;
}

int proc_session_signal(pid_t sid, const char *const *env_entries, int signo)
{
	int vouched = 0, total = 0;

	if (sid <= 1)
		return 0;
	for (int round = 0; round < SIGNAL_ROUNDS; round++) {
		int signalled = signal_round(sid, env_entries, signo, &vouched);

		if (signalled == 0 && (round > 0 || !vouched))
			break;
		total += signalled;
		if (signo != SIGKILL)
			break;	/* only a kill can be sure to be done */
	}
	return total;
}
