/* lib/proc.c - other processes seen through /proc, no product knowledge:
 * command lines, open files, sessions. */
#include "lib/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/sys.h"

#define ENVIRON_MAX (8u << 20)	/* larger environments are not read */
#define SIGNAL_ROUNDS 5		/* for members forked while we signal */

int proc_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

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
	fds = dir_open_at(AT_FDCWD, path, 0);
	if (!fds)
		return 0;
	dir_fd = dirfd(fds);
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

/* The parent and the session of a live process, from /proc/<pid>/stat:
 * 0, or -1 when it is gone or a zombie (dead already). */
static int proc_family(pid_t pid, pid_t *parent, pid_t *session)
{
	size_t len;
	char *stat = proc_file(pid, "stat", 4096, &len);
	char *after = stat ? strrchr(stat, ')') : NULL;	/* comm may hold ')' */
	char *field;
	uint64_t numbers[3];
	int rc = -1;

	/* after the name: state, parent, group, session */
	if (after && after[1] == ' ' && after[2] && after[2] != 'Z' &&
	    after[2] != 'X') {
		field = after + 3;
		for (int i = 0; i < 3 && field; i++) {
			size_t digits = *field == ' '
					? scan_u64(field + 1, &numbers[i]) : 0;

			field = digits ? field + 1 + digits : NULL;
		}
		if (field && *field != ' ')
			field = NULL;
		if (field) {
			*parent = (pid_t)numbers[0];
			*session = (pid_t)numbers[2];
			rc = 0;
		}
	}
	free(stat);
	return rc;
}

static int proc_session(pid_t pid, pid_t *session)
{
	pid_t parent;

	return proc_family(pid, &parent, session);
}

/* Whether process pid's environment holds an entry starting with
 * prefix. */
static int environ_has_prefix(pid_t pid, const char *prefix)
{
	size_t len, prefix_len = strlen(prefix);
	char *env = proc_file(pid, "environ", ENVIRON_MAX, &len);
	int found = 0;

	for (size_t at = 0; env && !found && at < len;
	     at += strlen(env + at) + 1)
		found = strncmp(env + at, prefix, prefix_len) == 0;
	free(env);
	return found;
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

/* The pid a /proc entry names, 0 for the entries that are not
 * processes. */
static pid_t entry_pid(const struct dirent *entry)
{
	uint64_t number = 0;
	size_t digits = scan_u64(entry->d_name, &number);

	return digits && !entry->d_name[digits] && number <= INT_MAX
	       ? (pid_t)number : 0;
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
		pid_t pid = entry_pid(entry), session;

		if (pid <= 0 || pid == getpid() ||
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
		pid_t pid = entry_pid(entry), session;

		if (pid > 0 && proc_session(pid, &session) == 0 &&
		    session == sid)
			vouched = environ_has(pid, env_entries);
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

/* ---- descendants ------------------------------------------------------- */

struct family {
	pid_t pid, parent;
	int taken;	/* 1 a descendant, -1 skipped (with its subtree) */
};

/* Every live process (but the caller) with its parent, in a heap array;
 * -1 when /proc cannot be read. */
static int family_table(struct family **table, size_t *count)
{
	DIR *all = opendir("/proc");
	struct dirent *entry;
	size_t cap = 0;

	*table = NULL;
	*count = 0;
	if (!all)
		return -1;
	while ((entry = readdir(all))) {
		pid_t pid = entry_pid(entry), parent, session;

		if (pid <= 0 || pid == getpid() ||
		    proc_family(pid, &parent, &session) < 0)
			continue;
		if (array_room(table, &cap, *count + 1, sizeof(**table)) < 0) {
			closedir(all);
			free(*table);
			*table = NULL;
			errno = ENOMEM;
			return -1;
		}
		(*table)[(*count)++] = (struct family){ pid, parent, 0 };
	}
	closedir(all);
	return 0;
}

/* Whether pid is ancestor or one of the descendants taken so far. */
static int family_taken(const struct family *table, size_t count,
			pid_t ancestor, pid_t pid)
{
	if (pid == ancestor)
		return 1;
	for (size_t i = 0; i < count; i++)
		if (table[i].pid == pid)
			return table[i].taken == 1;
	return 0;
}

/* The pids of the table's entries taken (1) into out; the table freed.
 * -1/ENOMEM. */
static int family_keep(struct family *table, size_t count,
		       struct pid_list *out)
{
	size_t kept = 0;

	for (size_t i = 0; i < count; i++)
		kept += table[i].taken == 1;
	out->pids = kept ? malloc(kept * sizeof(*out->pids)) : NULL;
	if (kept && !out->pids) {
		free(table);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		if (table[i].taken == 1)
			out->pids[out->count++] = table[i].pid;
	free(table);
	return 0;
}

int proc_descendants(pid_t ancestor, const char *skip_env_prefix,
		     struct pid_list *out)
{
	struct family *table;
	size_t count, grown = 1;

	*out = (struct pid_list){ 0 };
	if (family_table(&table, &count) < 0)
		return -1;
	/* a generation per round, until one adds nobody */
	while (grown) {
		grown = 0;
		for (size_t i = 0; i < count; i++) {
			if (table[i].taken ||
			    !family_taken(table, count, ancestor,
					  table[i].parent))
				continue;
			table[i].taken = skip_env_prefix &&
					 environ_has_prefix(table[i].pid,
							    skip_env_prefix)
					 ? -1 : 1;
			grown++;
		}
	}
	return family_keep(table, count, out);
}

int proc_with_environ(const char *const *env_entries,
		      const char *skip_env_prefix, struct pid_list *out)
{
	struct family *table;
	size_t count;

	*out = (struct pid_list){ 0 };
	if (family_table(&table, &count) < 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		table[i].taken = environ_has(table[i].pid, env_entries) &&
				 !(skip_env_prefix &&
				   environ_has_prefix(table[i].pid,
						      skip_env_prefix));
	return family_keep(table, count, out);
}

void pid_list_free(struct pid_list *list)
{
	free(list->pids);
	*list = (struct pid_list){ 0 };
}

int proc_become_subreaper(void)
{
#ifdef PR_SET_CHILD_SUBREAPER
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}
