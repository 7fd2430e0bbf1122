/* sys.c - EINTR-safe I/O, clocks, timestamps, paths and number parsing. */
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int error_set(struct error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	e->retryable = 0;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

static int errno_is_transient(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EAGAIN ||
	       err == EINTR || err == EBUSY || err == ENOMEM ||
	       err == EMFILE || err == ENFILE;
}

int error_errno(struct error *e, const char *code, int err,
	       const char *fmt, ...)
{
	va_list ap;
	size_t used;

	e->code = code ? code : "io_error";
	e->retryable = errno_is_transient(err);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	used = strlen(e->message);
	snprintf(e->message + used, sizeof(e->message) - used, ": %s",
		 strerror(err));
	return -1;
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

static void put_digits(char *out, unsigned value, int width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + value % 10);
		value /= 10;
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (the
 * civil-from-days algorithms of H. Hinnant): no libc time zone code. */
static int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
	int64_t era;
	unsigned year_of_era, day_of_year, day_of_era;

	year -= month <= 2;
	era = (year >= 0 ? year : year - 399) / 400;
	year_of_era = (unsigned)(year - era * 400);
	day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 +
		     day_of_year;
	return era * 146097 + (int64_t)day_of_era - 719468;
}

static void civil_from_days(int64_t days, int64_t *year, unsigned *month,
			    unsigned *day)
{
	int64_t era;
	unsigned day_of_era, year_of_era, day_of_year, mp;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	day_of_era = (unsigned)(days - era * 146097);
	year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
		       day_of_era / 146096) / 365;
	day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 -
				    year_of_era / 100);
	mp = (5 * day_of_year + 2) / 153;
	*day = day_of_year - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int64_t)year_of_era + era * 400 + (*month <= 2);
}

void format_utc(time_t t, char out[TIMESTAMP_LEN + 1])
{
	int64_t days = (int64_t)t / 86400, seconds = (int64_t)t % 86400, year;
	unsigned month, day;

	if (seconds < 0) {
		seconds += 86400;
		days--;
	}
	civil_from_days(days, &year, &month, &day);
	put_digits(out, (unsigned)year, 4);
	out[4] = '-';
	put_digits(out + 5, month, 2);
	out[7] = '-';
	put_digits(out + 8, day, 2);
	out[10] = 'T';
	put_digits(out + 11, (unsigned)(seconds / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (unsigned)(seconds / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (unsigned)(seconds % 60), 2);
	out[19] = 'Z';
	out[20] = '\0';
}

static int digits_at(const char *text, int count, unsigned *value)
{
	*value = 0;
	for (int i = 0; i < count; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		*value = *value * 10 + (unsigned)(text[i] - '0');
	}
	return 0;
}

int parse_utc(const char *text, time_t *out)
{
	unsigned year, month, day, hour, minute, second;

	if (!text || strlen(text) < TIMESTAMP_LEN || text[4] != '-' ||
	    text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
	    text[16] != ':' || digits_at(text, 4, &year) < 0 ||
	    digits_at(text + 5, 2, &month) < 0 ||
	    digits_at(text + 8, 2, &day) < 0 ||
	    digits_at(text + 11, 2, &hour) < 0 ||
	    digits_at(text + 14, 2, &minute) < 0 ||
	    digits_at(text + 17, 2, &second) < 0 || month < 1 || month > 12 ||
	    day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
		return -1;
	*out = (time_t)(days_from_civil(year, month, day) * 86400 +
			hour * 3600 + minute * 60 + second);
	return 0;
}

void format_utc_now(char out[TIMESTAMP_LEN + 1])
{
	format_utc((time_t)(clock_real_ms() / 1000), out);
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

ssize_t read_full(int fd, void *buf, size_t n)
{
	return read_until(fd, buf, n, -1);
}

ssize_t pread_full(int fd, void *buf, size_t n, off_t offset)
{
	return read_until(fd, buf, n, offset < 0 ? 0 : offset);
}

int read_file_at(int dir_fd, const char *name, size_t max_len,
		 char **out, size_t *out_len)
{
	struct stat st;
	char *buf = NULL;
	ssize_t got;
	int fd, err;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	errno = EFBIG;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max_len) {
		if (!S_ISREG(st.st_mode))
			errno = EINVAL;
		goto fail;
	}
	/* one byte more than the size tells us the file grew meanwhile */
	buf = malloc((size_t)st.st_size + 2);
	if (!buf)
		goto fail;
	got = read_full(fd, buf, (size_t)st.st_size + 1);
	if (got < 0)
		goto fail;
	errno = EFBIG;
	if ((size_t)got > max_len)
		goto fail;
	buf[got] = '\0';
	close(fd);
	*out = buf;
	*out_len = (size_t)got;
	return 0;
fail:
	err = errno;
	free(buf);
	close(fd);
	errno = err;
	return -1;
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

char *path_effective(const char *path)
{
	char *real = realpath(path, NULL);

	return real ? real : path_absolute(path);
}

static int fd_is_kept(int fd, const int *keep, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

void close_fds_except(const int *keep, size_t count)
{
	DIR *dir = opendir("/proc/self/fd");
	struct rlimit limit;
	struct dirent *entry;
	int max_fd = 1024;

	if (dir) {
		int listing_fd = dirfd(dir);
		int fds[256];
		size_t nfds = 0;
		int more = 1;

		/* collect first: closing while reading the directory would
		 * disturb the listing */
		while (more) {
			nfds = 0;
			rewinddir(dir);
			while ((entry = readdir(dir)) && nfds < 256) {
				int fd = atoi(entry->d_name);

				if (entry->d_name[0] < '0' ||
				    entry->d_name[0] > '9')
					continue;
				if (fd != listing_fd &&
				    !fd_is_kept(fd, keep, count))
					fds[nfds++] = fd;
			}
			more = entry != NULL;
			for (size_t i = 0; i < nfds; i++)
				close(fds[i]);
		}
		closedir(dir);
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
	    limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 65536)
		max_fd = (int)limit.rlim_cur;
	for (int fd = 0; fd < max_fd; fd++)
		if (!fd_is_kept(fd, keep, count))
			close(fd);
}

void signals_reset(void)
{
	sigset_t none;

	for (int signo = 1; signo < _NSIG; signo++)
		signal(signo, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int daemon_detach(const int *keep, size_t count)
{
	int null_fd;

	close_fds_except(keep, count);
	null_fd = open("/dev/null", O_RDWR);
	if (null_fd < 0)
		return -1;
	for (int fd = 0; fd < 3; fd++)
		if (null_fd != fd && dup2(null_fd, fd) < 0)
			return -1;
	if (null_fd > 2)
		close(null_fd);
	signal(SIGPIPE, SIG_IGN);
	return chdir("/");
}

int fork_detached(void (*fn)(void *ctx), void *ctx)
{
	pid_t middle = fork();
	int status;

	if (middle < 0)
		return -1;
	if (middle == 0) {
		pid_t worker;

		if (setsid() < 0)
			_exit(1);
		worker = fork();
		if (worker == 0) {
			fn(ctx);
			_exit(0);
		}
		_exit(worker < 0 ? 1 : 0);
	}
	while (waitpid(middle, &status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

void test_stop_at(const char *stage)
{
	const char *wanted = getenv("AGENT_EXEC_TEST_STOP_AT");

	if (wanted && strcmp(wanted, stage) == 0)
		raise(SIGSTOP);
}

int parse_u64(const char *s, uint64_t *out)
{
	uint64_t value = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		unsigned digit = (unsigned)(*s - '0');

		if (digit > 9)
			return -1;
		if (value > (UINT64_MAX - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*out = value;
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

void strv_free(struct strv *sv)
{
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}
