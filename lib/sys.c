/* lib/sys.c - what every module needs from the system: EINTR-safe I/O,
 * whole files, clocks, paths, descriptors (/dev/null or what stands for
 * it) and processes, string vectors, and the error record. */
#include "lib/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/fmt.h"

DIR *dir_open_at(int dir_fd, const char *path, int flags)
{
	int fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			flags);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);

	if (!dir && fd >= 0)
		close(fd);
	return dir;
}

/* A listing with a file position of its own (a dup() would share
 * dir_fd's, and a second listing would start where the first ended). */
DIR *dir_list(int dir_fd)
{
	return dir_open_at(dir_fd, ".", 0);
}

int error_set(struct error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	e->retryable = 0;
	e->details[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

int error_may_pass(int err)
{
	return err == EINTR || err == EIO || err == EAGAIN || err == EMFILE ||
	       err == ENFILE || err == ENOMEM;
}

static int errno_is_transient(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EAGAIN ||
	       err == EINTR || err == EBUSY || err == ENOMEM ||
	       err == EMFILE || err == ENFILE;
}

/* The message, then ": <strerror(err)>". */
static void format_errno(char *text, size_t size, int err, const char *fmt,
			 va_list ap)
{
	size_t used;

	vsnprintf(text, size, fmt, ap);
	used = strlen(text);
	snprintf(text + used, size - used, ": %s", strerror(err));
}

int error_errno(struct error *e, const char *code, int err,
	       const char *fmt, ...)
{
	va_list ap;

	e->code = code ? code : "io_error";
	e->retryable = errno_is_transient(err);
	e->details[0] = '\0';
	va_start(ap, fmt);
	format_errno(e->message, sizeof(e->message), err, fmt, ap);
	va_end(ap);
	return -1;
}

void why_errno(char *why, size_t size, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_errno(why, size, err, fmt, ap);
	va_end(ap);
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t time_after(int64_t base, uint64_t ms)
{
	if (ms > (uint64_t)(INT64_MAX - base))
		return INT64_MAX;
	return base + (int64_t)ms;
}

int64_t clock_real_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t written = write(fd, p, n);

		if (written < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += written;
		n -= (size_t)written;
	}
	return 0;
}

/* read(2) when offset < 0, else pread(2) from offset, until n bytes or
 * end of file. */
static ssize_t read_until(int fd, void *buf, size_t n, off_t offset)
{
	char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = offset < 0 ? read(fd, p + got, n - got)
				       : pread(fd, p + got, n - got,
					       offset + (off_t)got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int exists_at(int dir_fd, const char *name)
{
	struct stat st;

	return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int write_str(int fd, const char *s)
{
	return write_all(fd, s, strlen(s));
}

ssize_t read_full(int fd, void *buf, size_t n)
{
	return read_until(fd, buf, n, -1);
}

ssize_t pread_full(int fd, void *buf, size_t n, off_t offset)
{
	return read_until(fd, buf, n, offset < 0 ? 0 : offset);
}

/* The rest of a file whose first `have` bytes are in first: its size
 * from fstat, then one read past it (more than the size tells us the file
 * grew meanwhile). */
static char *read_rest(int fd, const char *first, size_t have,
		       size_t max_len, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t got;

	if (fstat(fd, &st) < 0)
		return NULL;
	if ((uint64_t)st.st_size > max_len) {
		errno = EFBIG;
		return NULL;
	}
	if ((size_t)st.st_size < have)
		st.st_size = (off_t)have;
	buf = malloc((size_t)st.st_size + 2);
	if (!buf)
		return NULL;
	memcpy(buf, first, have);
	got = read_full(fd, buf + have, (size_t)st.st_size + 1 - have);
	if (got < 0 || have + (size_t)got > max_len) {
		if (got >= 0)
			errno = EFBIG;
		free(buf);
		return NULL;
	}
	*len = have + (size_t)got;
	return buf;
}

int open_regular(int dir_fd, const char *path, int flags, mode_t mode)
{
	int follow = dir_fd == AT_FDCWD ? 0 : O_NOFOLLOW;
	int fd = openat(dir_fd, path, flags | follow | O_NONBLOCK | O_CLOEXEC,
			mode);
	struct stat st;
	int err;

	if (fd < 0) {
		if (errno == ENXIO)	/* a FIFO with no reader, a socket */
			errno = EINVAL;
		return -1;
	}
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (S_ISDIR(st.st_mode))
		err = EISDIR;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL;
	else
		return fd;	/* O_NONBLOCK changes nothing for a file */
	close(fd);
	errno = err;
	return -1;
}

const char *file_strerror(int err)
{
	return err == EINVAL ? "not a regular file" : strerror(err);
}

/* One try of read_file_at. A record of the store is opened without
 * blocking and without following a symlink, and with no fstat (a listing
 * reads thousands); a path the user gave must be a regular file. */
static int read_file_once(int dir_fd, const char *name, size_t max_len,
			  char **out, size_t *out_len)
{
	char first[4096], *buf = NULL;
	ssize_t got;
	size_t len = 0;
	int fd, err;

	fd = dir_fd == AT_FDCWD ? open_regular(dir_fd, name, O_RDONLY, 0)
	     : openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		      O_NONBLOCK);
	if (fd < 0)
		return -1;
	/* records are small: one read, and a short one is the end of the
	 * file (no fstat, no second read); larger files take read_rest */
	do
		got = read(fd, first, sizeof(first));
	while (got < 0 && errno == EINTR);
	if (got < 0)
		goto fail;
	if ((size_t)got < sizeof(first)) {
		len = (size_t)got;
		errno = EFBIG;
		buf = len <= max_len ? malloc(len + 1) : NULL;
		if (buf)
			memcpy(buf, first, len);
	} else {
		buf = read_rest(fd, first, (size_t)got, max_len, &len);
	}
	if (!buf)
		goto fail;
	buf[len] = '\0';
	close(fd);
	*out = buf;
	*out_len = len;
	return 0;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int read_file_at(int dir_fd, const char *name, size_t max_len,
		 char **out, size_t *out_len)
{
	int attempts = 3;

	while (read_file_once(dir_fd, name, max_len, out, out_len) < 0)
		if (--attempts == 0 || !error_may_pass(errno))
			return -1;
	return 0;
}

void sleep_ms(int64_t ms)
{
	struct timespec left = { .tv_sec = ms / 1000,
				 .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		errno = len ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = saved;
		if (saved == '\0')
			break;
	}
	return 0;
}

char *path_join(const char *base, const char *name)
{
	size_t base_len = strlen(base), name_len = strlen(name);
	int slash = base_len > 0 && base[base_len - 1] != '/';
	char *out = malloc(base_len + (size_t)slash + name_len + 1);

	if (!out)
		return NULL;
	memcpy(out, base, base_len);
	if (slash)
		out[base_len] = '/';
	memcpy(out + base_len + slash, name, name_len + 1);
	return out;
}

char *path_absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	return path_join(cwd, path);
}

char *path_real_dir(const char *path)
{
	int here;
	char *real = NULL;

	if (strcmp(path, ".") == 0)	/* the kernel's name for where we are */
		return getcwd(NULL, 0);
	here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (here < 0)
		return NULL;
	if (chdir(path) == 0) {
		real = getcwd(NULL, 0);
		/* a process that cannot get back to its directory must not go
		 * on with relative paths */
		if (fchdir(here) < 0)
			abort();
	}
	close(here);
	return real;
}

char *path_effective(const char *path)
{
	char *real = path_real_dir(path);

	return real ? real : path_absolute(path);
}

static int fd_is_kept(int fd, const int *keep, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

/* close_range(2) over [from, to]: -1/ENOSYS on kernels (and emulators)
 * without it. */
static int close_span(unsigned from, unsigned to)
{
#ifdef SYS_close_range
	return syscall(SYS_close_range, from, to, 0) == 0 ? 0 : -1;
#else
	(void)from;
	(void)to;
	errno = ENOSYS;
	return -1;
#endif
}

/* Close everything but keep with a few close_range calls: the gaps
 * between the kept descriptors, in increasing order. */
static int close_spans_except(const int *keep, size_t count)
{
	unsigned from = 0;

	for (;;) {
		unsigned next = UINT_MAX;	/* the lowest kept fd >= from */

		for (size_t i = 0; i < count; i++)
			if (keep[i] >= 0 && (unsigned)keep[i] >= from &&
			    (unsigned)keep[i] < next)
				next = (unsigned)keep[i];
		if (next == UINT_MAX)
			return close_span(from, UINT_MAX);
		if (next > from && close_span(from, next - 1) < 0)
			return -1;
		from = next + 1;
	}
}

/* Without close_range: the descriptors /proc/self/fd lists. -1 when it
 * cannot be read. */
static int close_listed_except(const int *keep, size_t count)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	int listing_fd, more = 1;

	if (!dir)
		return -1;
	listing_fd = dirfd(dir);
	/* collect first: closing while reading the directory would disturb
	 * the listing */
	while (more) {
		int fds[256];
		size_t nfds = 0;

		rewinddir(dir);
		while ((entry = readdir(dir)) && nfds < 256) {
			uint64_t fd;
			size_t n = scan_u64(entry->d_name, &fd);

			if (n && !entry->d_name[n] && fd <= INT_MAX &&
			    (int)fd != listing_fd &&
			    !fd_is_kept((int)fd, keep, count))
				fds[nfds++] = (int)fd;
		}
		more = entry != NULL;
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
	}
	closedir(dir);
	return 0;
}

void close_fds_except(const int *keep, size_t count)
{
	if (close_spans_except(keep, count) == 0 ||
	    close_listed_except(keep, count) == 0)
		return;
	/* a kernel before 5.9 without /proc: the usual first 1024 */
	for (int fd = 0; fd < 1024; fd++)
		if (!fd_is_kept(fd, keep, count))
			close(fd);
}

int open_null(int flags)
{
	int fd = open("/dev/null", flags | O_CLOEXEC), fds[2];

	if (fd >= 0)
		return fd;
	/* a root without /dev/null (a bare chroot, a container): an empty
	 * pipe reads as end of file and refuses writes (EBADF, no signal) */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	close(fds[1]);
	return fds[0];
}

int stdio_guard(void)
{
	for (int fd = 0; fd < 3; fd++) {
		int ends[2];

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* a closed one goes on refusing: the read end of an empty
		 * pipe (end of file, writes fail) lands on it, the lowest
		 * free descriptor */
		if (pipe(ends) < 0)
			return -1;
		close(ends[1]);
		if (ends[0] != fd && (dup2(ends[0], fd) < 0 ||
				      close(ends[0]) < 0))
			return -1;
	}
	return 0;
}

int daemon_detach(const int *keep, size_t count)
{
	int null_fd;

	close_fds_except(keep, count);
	null_fd = open_null(O_RDWR);
	if (null_fd < 0)
		return -1;
	for (int fd = 0; fd < 3; fd++)
		if (null_fd != fd && dup2(null_fd, fd) < 0)
			return -1;
	if (null_fd > 2)
		close(null_fd);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	return chdir("/");
}

/* The memory of the process's arguments, where its title goes: set once,
 * at start (proc_title_init), then only written. */
static char *title_area;
static size_t title_size;

void proc_title_init(char **argv, int argc)
{
	char *end;

	if (argc < 1 || !argv[0])
		return;
	title_area = end = argv[0];
	for (int i = 0; i < argc; i++) {
		char *arg = argv[i];

		if (arg != end)		/* not contiguous: blank it alone */
			memset(arg, 0, strlen(arg));
		else
			end = arg + strlen(arg) + 1;
	}
	title_size = (size_t)(end - title_area);
	memset(title_area, 0, title_size);
}

void proc_title_set(const char *title)
{
	if (!title_area || title_size == 0)
		return;
	memset(title_area, 0, title_size);
	copy_str(title_area, title_size, title);
}

void random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	if (got == n)
		return;
	/* no getrandom (old kernel, seccomp): clock and pid still make ids
	 * unique enough together with the mkdir(O_EXCL) retry */
	uint64_t seed = (uint64_t)clock_real_ms() * 6364136223846793005ULL ^
			(uint64_t)getpid() << 17 ^ (uint64_t)clock_mono_ms();
	for (; got < n; got++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		p[got] = (unsigned char)(seed >> 56);
	}
}

int fork_detached(void (*fn)(void *ctx), void *ctx)
{
	pid_t middle = fork();
	int status = 0;

	if (middle < 0)
		return -1;
	if (middle == 0) {
		pid_t worker;

		/* its exit status is the errno of what failed, or 0 */
		if (setsid() < 0)
			_exit(errno > 0 && errno < 256 ? errno : EPERM);
		worker = fork();
		if (worker == 0) {
			fn(ctx);
			_exit(0);
		}
		_exit(worker >= 0 ? 0 : errno > 0 && errno < 256 ? errno
								 : EAGAIN);
	}
	while (waitpid(middle, &status, 0) < 0)
		if (errno != EINTR)
			return 0;	/* reaped elsewhere: cannot tell */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	errno = WIFEXITED(status) ? WEXITSTATUS(status) : EAGAIN;
	return -1;
}

void test_stop_at(const char *stage)
{
	const char *wanted = getenv("AGENT_EXEC_TEST_STOP_AT");

	if (wanted && strcmp(wanted, stage) == 0)
		raise(SIGSTOP);
}

int array_room(void *array, size_t *cap, size_t need, size_t size)
{
	void **items = array, *grown;
	size_t more = need * 2;

	if (need <= *cap)
		return 0;
	grown = realloc(*items, more * size);
	if (!grown)
		return -1;
	*items = grown;
	*cap = more;
	return 0;
}

int strv_push(struct strv *sv, char *s)
{
	/* capacity is implied by n: 4, then doubling at each power of two */
	if (sv->n == 0 || (sv->n >= 4 && (sv->n & (sv->n - 1)) == 0)) {
		size_t cap = sv->n ? sv->n * 2 : 4;
		char **grown = realloc(sv->v, (cap + 1) * sizeof(*grown));

		if (!grown)
			return -1;
		sv->v = grown;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

char *strv_keep(struct strv *owned, char *s)
{
	if (s && strv_push(owned, s) == 0)
		return s;
	free(s);
	return NULL;
}

void strv_free(struct strv *sv)
{
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

void strv_free_all(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	strv_free(sv);
}

int strv_setenv(struct strv *env, char *entry)
{
	size_t key_len = strcspn(entry, "=");

	for (size_t i = 0; i < env->n; i++) {
		if (strncmp(env->v[i], entry, key_len) == 0 &&
		    env->v[i][key_len] == '=') {
			env->v[i] = entry;
			return 0;
		}
	}
	return strv_push(env, entry);
}

int lock_byte(int fd, int cmd, short type, off_t byte)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = byte, .l_len = 1 };
	int waits = cmd == F_SETLKW || cmd == F_OFD_SETLKW, rc;

	while ((rc = fcntl(fd, cmd, &fl)) < 0 && errno == EINTR && !waits)
		;
	return rc;
}

int append_whole(int fd, const void *buf, size_t n)
{
	struct stat st;
	int err;

	if (fstat(fd, &st) < 0)
		return -1;
	if (write_all(fd, buf, n) == 0)
		return 0;
	err = errno;
	/* a short write (full disk, file size limit) is taken back */
	while (ftruncate(fd, st.st_size) < 0 && errno == EINTR)
		;
	errno = err;
	return -1;
}

int append_line(int dir_fd, const char *path, const char *text, size_t len)
{
	struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char *line = malloc(len + 1);
	int fd, rc = -1, err;

	if (!line)
		return -1;
	memcpy(line, text, len);
	line[len] = '\n';
	fd = open_regular(dir_fd, path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd >= 0 && fcntl(fd, F_OFD_SETLKW, &lock) == 0 &&
	    append_whole(fd, line, len + 1) == 0 && fsync(fd) == 0)
		rc = 0;
	err = errno;
	if (fd >= 0)
		close(fd);
	free(line);
	errno = err;
	return rc;
}
