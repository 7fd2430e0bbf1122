/* lib/sys.h - the system, no product knowledge: EINTR-safe I/O, files,
 * clocks, paths, processes, string vectors, the error record (lib/sys.c). */
#ifndef AE_LIB_SYS_H
#define AE_LIB_SYS_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A failure the user sees: a stable code and a message naming the thing at
 * fault and the cause. */
struct error {
	const char *code;
	char message[512];
	int retryable;
	char details[1536];	/* a JSON object saying more, "" = none */
};

/* Fill e (code, printf-style message) and return -1, so callers can write
 * `return error_set(e, "job_not_found", "job not found: %s", id);`. */
int error_set(struct error *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, appending ": <strerror(err)>"; the code is io_error (retryable
 * for ENOSPC and friends) unless code is given. */
int error_errno(struct error *e, const char *code, int err,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same message, "<printf-style text>: <strerror(err)>", into a
 * plain buffer why[size] (a job's error, a launch's reason). */
void why_errno(char *why, size_t size, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Whether a failed call may succeed when tried again at once: an
 * interruption, a short-lived shortage of memory or descriptors, a device
 * error. Readers and writers of records try such a failure three times. */
int error_may_pass(int err);

int64_t clock_mono_ms(void);
/* base + ms, saturating at INT64_MAX: a huge duration means "never". */
int64_t time_after(int64_t base, uint64_t ms);
int64_t clock_real_ms(void);

/* Write all n bytes (retrying short writes and EINTR): 0, or -1/errno. */
int write_all(int fd, const void *buf, size_t n);
/* write_all of a NUL-terminated string. */
int write_str(int fd, const char *s);
/* Read until n bytes or end of file: the count, or -1/errno. */
ssize_t read_full(int fd, void *buf, size_t n);
ssize_t pread_full(int fd, void *buf, size_t n, off_t offset);
/* Open a regular file relative to dir_fd, never blocking (a FIFO, a device
 * or a socket is refused with EINVAL, a directory with EISDIR): a symlink
 * is followed only for AT_FDCWD (a path the user gave), never inside the
 * store. Close-on-exec. -1/errno. */
int open_regular(int dir_fd, const char *path, int flags, mode_t mode);
/* strerror, saying "not a regular file" for open_regular's EINVAL. */
const char *file_strerror(int err);
/* Read a whole file relative to dir_fd into a NUL-terminated heap buffer,
 * never blocking: a path the user gave (AT_FDCWD) must be a regular file
 * (open_regular), a record of the store is not followed if a symlink. A
 * file larger than max_len fails with EFBIG; an error that may pass
 * (error_may_pass) is tried again, up to three times. 0, or -1/errno. */
int read_file_at(int dir_fd, const char *name, size_t max_len,
		 char **out, size_t *out_len);
/* Sleep ms milliseconds, resuming after signals. */
void sleep_ms(int64_t ms);

/* Whether name exists in dir_fd (a symlink counts, not followed). Not
 * faccessat: musl's refuses AT_SYMLINK_NOFOLLOW. */
int exists_at(int dir_fd, const char *name);
/* A listing of the directory dir_fd refers to, with a file position of its
 * own (a dup() would share dir_fd's). NULL/errno on failure. */
DIR *dir_list(int dir_fd);
/* A listing of the directory path (relative to dir_fd), opened with
 * O_RDONLY | O_DIRECTORY | O_CLOEXEC and flags (O_NOFOLLOW); its
 * descriptor is dirfd()'s. NULL/errno on failure. */
DIR *dir_open_at(int dir_fd, const char *path, int flags);
/* Create path and its missing parents, each new directory with mode. */
int mkdir_parents(const char *path, mode_t mode);
/* base + "/" + name, heap-allocated (NULL on ENOMEM). */
char *path_join(const char *base, const char *name);
/* An absolute form of path: itself, or the process cwd joined with it (no
 * symlink resolution). Heap-allocated, NULL/errno on failure. */
char *path_absolute(const char *path);
/* The canonical path of a directory (symlinks resolved), heap-allocated:
 * the kernel's answer after entering it, so no /proc is needed. NULL/errno
 * when path is not a directory we may enter. */
char *path_real_dir(const char *path);
/* path_real_dir(path) when that works, else path_absolute(path). */
char *path_effective(const char *path);
/* /dev/null opened with flags (close-on-exec); where there is none (a bare
 * chroot), the read end of an empty pipe: reads give end of file, writes
 * fail with EBADF (no signal). -1/errno when neither can be had. */
int open_null(int flags);
/* At start: each of descriptors 0-2 that is closed gets the read end of an
 * empty pipe (reads end of file, writes still fail), so no file opened
 * later lands there and is taken for stdio. 0, or -1/errno. */
int stdio_guard(void);
/* Close every descriptor but those listed (in a child, after forking). */
void close_fds_except(const int *keep, size_t count);
/* Become a background process: only the listed descriptors (none of them
 * 0-2) kept, stdio on open_null(), cwd "/", SIGPIPE and SIGXFSZ ignored.
 * 0, or -1/errno. */
int daemon_detach(const int *keep, size_t count);
/* Blank the memory of the process's arguments (what ps and
 * /proc/PID/cmdline show), once, at start: the strings argv points to are
 * gone, so copy what is needed first. */
void proc_title_init(char **argv, int argc);
/* Show title as the process's command line, in that memory (forked copies
 * write their own). */
void proc_title_set(const char *title);
/* n random bytes: getrandom, else (no getrandom: an old kernel, seccomp)
 * a generator seeded from the clocks and the pid. */
void random_bytes(void *buf, size_t n);
/* Run fn(ctx) in a grandchild in a new session: the middle process calls
 * setsid, forks and exits, and is reaped here, so the grandchild belongs
 * to no terminal, to none of our process groups, and is not our child. fn
 * must not return to the caller's code: the grandchild exits after it.
 * 0 once the middle process is reaped, -1/errno if it could not fork (or
 * the middle process could not). */
int fork_detached(void (*fn)(void *ctx), void *ctx);

/* For the fault tests: when $AGENT_EXEC_TEST_STOP_AT names this stage,
 * stop (SIGSTOP) here, so a test can kill the process at exactly this
 * point. Without the variable, nothing happens. */
void test_stop_at(const char *stage);

/* Room for need elements of size bytes in the heap array *array of *cap
 * (grown to twice need when short): 0, or -1/ENOMEM with *array kept. */
int array_room(void *array, size_t *cap, size_t need, size_t size);

/* A growable array of strings (pointers are borrowed unless stated). */
struct strv {
	char **v;
	size_t n;
};
int strv_push(struct strv *sv, char *s);
void strv_free(struct strv *sv);	/* frees the array, not the strings */
void strv_free_all(struct strv *sv);	/* frees the strings too */
/* Push the heap string s (NULL: out of memory) onto owned, a list that
 * frees what it holds (strv_free_all): s, or NULL with s freed. */
char *strv_keep(struct strv *owned, char *s);
/* Set "KEY=VALUE" entry (borrowed) in a list of such entries (an
 * environment, the caller metadata): replace KEY's entry or append; a
 * later value for a key wins. 0, or -1/ENOMEM. */
int strv_setenv(struct strv *env, char *entry);

/* fcntl(fd, cmd) for a lock of type (F_RDLCK, F_WRLCK, F_UNLCK) on one
 * byte: a call that does not wait is retried after EINTR; one that waits
 * (F_SETLKW, F_OFD_SETLKW) returns it to its caller (a deadline's
 * timer). */
int lock_byte(int fd, int cmd, short type, off_t byte);

/* Append n bytes to fd (opened O_APPEND, under the caller's lock) whole or
 * not at all: a failed or short write is cut back off (full disk, file size
 * limit), so the next append is not glued to half a line. 0, or -1/errno. */
int append_whole(int fd, const void *buf, size_t n);
/* Append text and a newline as one whole line under a lock, fsynced:
 * concurrent writers never interleave, readers never see half a line, and
 * a failed append leaves the file as it was.
 * path is relative to dir_fd; a symlink is followed only for AT_FDCWD (a
 * path the user gave). 0, or -1/errno. */
int append_line(int dir_fd, const char *path, const char *text, size_t len);

#endif
