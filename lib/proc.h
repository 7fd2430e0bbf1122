/* lib/proc.h - other processes seen through /proc, no product knowledge:
 * command lines, open files, sessions (lib/proc.c). */
#ifndef AE_LIB_PROC_H
#define AE_LIB_PROC_H

#include <sys/types.h>

/* 1 when process pid's command line starts with the string text (a
 * process title, see proc_title_set), else 0. */
int proc_cmdline_is(pid_t pid, const char *text);

/* A pidfd of process pid (close-on-exec; readable once it has ended),
 * or -1/errno (ENOSYS before Linux 5.3). */
int proc_pidfd(pid_t pid);

/* 1 when process pid holds a descriptor open on the file (dev, ino),
 * else 0. */
int proc_holds_open(pid_t pid, dev_t dev, ino_t ino);

/* 1 when a live process of session sid has every one of env_entries (a
 * NULL-terminated list of "NAME=value") in its environment, 0 when none
 * has, -1 when /proc cannot be read. */
int proc_session_vouched(pid_t sid, const char *const *env_entries);

/* Send signo to every process of session sid, provided one of them has
 * env_entries in its environment (as above): that vouches for the whole
 * session (a session id is not reused while any member lives). Members
 * forked meanwhile are caught by a few rounds. The number of processes
 * signalled (0: none, or the session was not vouched for). */
int proc_session_signal(pid_t sid, const char *const *env_entries, int signo);

/* A list of pids (heap). */
struct pid_list {
	pid_t *pids;
	size_t count;
};
void pid_list_free(struct pid_list *list);

/* Every live descendant of ancestor, as parents say now; a process whose
 * environment has an entry starting with skip_env_prefix (NULL: none) is
 * left out, with its own descendants. 0, or -1 when /proc cannot be
 * read. */
int proc_descendants(pid_t ancestor, const char *skip_env_prefix,
		     struct pid_list *out);
/* Every live process (but the caller) with every one of env_entries in
 * its environment, but those with an entry starting with skip_env_prefix
 * (NULL: none). 0, or -1 when /proc cannot be read. */
int proc_with_environ(const char *const *env_entries,
		      const char *skip_env_prefix, struct pid_list *out);

/* Make the caller the reaper of its orphaned descendants (Linux: a child
 * subreaper), so that every process its children leave stays its
 * descendant. 0, or -1/errno where the system cannot. */
int proc_become_subreaper(void);

#endif
