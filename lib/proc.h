/* lib/proc.h - other processes seen through /proc, no product knowledge:
 * command lines, open files, sessions (lib/proc.c). */
#ifndef AE_LIB_PROC_H
#define AE_LIB_PROC_H

#include <sys/types.h>

/* 1 when process pid's command line starts with the string text (a
 * process title, see proc_title_set), else 0. */
int proc_cmdline_is(pid_t pid, const char *text);

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

#endif
