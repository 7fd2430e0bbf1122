/* store.c - the job store: the root, one directory per job named by its
 * id, records written atomically, and the lock file whose locks say who is
 * alive. */
#include "store.h"

#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/proc.h"
#include "lib/sig.h"
#include "store_record.h"

/* Open file description locks belong to the open file, not the process:
 * the launching CLI takes the ALIVE lock and the supervisor it forks keeps
 * it, with no gap. Classic POSIX locks are the fallback elsewhere. */
#ifdef F_OFD_SETLK
#define LOCK_SET F_OFD_SETLK
#define LOCK_SETW F_OFD_SETLKW
#define LOCK_GET F_OFD_GETLK
#else
#define LOCK_SET F_SETLK
#define LOCK_SETW F_SETLKW
#define LOCK_GET F_GETLK
#endif

#define LOCK_FILE "lock"

/* ---- the lock file ----------------------------------------------------
 * <job>/lock carries four locks, a byte each, and only this file names
 * them:
 *   ALIVE     held exclusively from the moment the job directory exists
 *             until its terminal record is on disk: by the launching CLI,
 *             then by the supervisor, which inherits the open file
 *             description (an open-file lock: it passes to the forked
 *             supervisor with no gap, and the kernel drops it however the
 *             supervisor dies). Free while state.json says running: the
 *             supervisor is gone. A start and a delete take it too, so
 *             neither can race a launch. Waiters ask for it shared: a
 *             shared request never looks like a live supervisor.
 *   RECOVER   serialises the recording of a lost supervisor;
 *   META      serialises read-modify-writes of meta.json;
 *   DELIVERY  held by whoever delivers job.finished: the supervisor for
 *             its whole life, or the process finishing what it could not.
 */
enum lock_byte { LOCK_ALIVE, LOCK_RECOVER, LOCK_META, LOCK_DELIVERY };

static int lock_file_open(int dir_fd, int create)
{
	if (!create)
		return openat(dir_fd, LOCK_FILE, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	return openat(dir_fd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC |
					 O_NOFOLLOW, 0600);
}

/* Take byte at once (0, or -1 with EAGAIN/EACCES when held), or waiting
 * for it. */
static int lock_take(int lock_fd, enum lock_byte byte, int exclusive,
		     int wait)
{
	short type = exclusive ? F_WRLCK : F_RDLCK;

	if (!wait)
		return lock_byte(lock_fd, LOCK_SET, type, byte);
	while (lock_byte(lock_fd, LOCK_SETW, type, byte) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

struct lock_wait {
	int fd;
	enum lock_byte byte;
	short type;
	const volatile sig_atomic_t *stop;	/* set: give up (ECANCELED) */
};

/* A classic lock here: it conflicts with the supervisor's open-file lock
 * all the same, and every tool (valgrind) knows a signal interrupts it. */
static int lock_wait_call(void *ctx)
{
	const struct lock_wait *wait = ctx;

	if (wait->stop && *wait->stop) {
		errno = ECANCELED;
		return -1;
	}
	return lock_byte(wait->fd, F_SETLKW, wait->type, wait->byte);
}

/* lock_take waiting at most timeout_ms (< 0: no limit): 1 taken, 0 timed
 * out, -1 on error. */
static int lock_take_timed(int lock_fd, enum lock_byte byte, int exclusive,
			   int64_t timeout_ms, const volatile sig_atomic_t *stop)
{
	struct lock_wait wait = { lock_fd, byte, exclusive ? F_WRLCK : F_RDLCK,
				  stop };

	if (timeout_ms < 0)
		return lock_take(lock_fd, byte, exclusive, 1) == 0 ? 1 : -1;
	return sig_call_until(time_after(clock_mono_ms(), (uint64_t)timeout_ms),
			      lock_wait_call, &wait);
}

/* byte exclusively on job->lock_fd (opened here when need be), at once
 * or within timeout_ms: 1 taken, 0 held by another, -1 on error. */
static int claim_held(struct job *job, enum lock_byte byte,
		      int64_t timeout_ms)
{
	if (job->lock_fd < 0)
		job->lock_fd = lock_file_open(job->dir_fd, 1);
	if (job->lock_fd < 0)
		return -1;
	if (timeout_ms > 0)
		return lock_take_timed(job->lock_fd, byte, 1, timeout_ms, NULL);
	if (lock_take(job->lock_fd, byte, 1, 0) == 0)
		return 1;
	return errno == EAGAIN || errno == EACCES ? 0 : -1;
}

static int claim_alive(struct job *job, int64_t timeout_ms)
{
	return claim_held(job, LOCK_ALIVE, timeout_ms);
}

/* ---- the reserve ------------------------------------------------------ */

int store_hold_reserve(struct job *job, struct error *e)
{
	if (job->reserve_fd >= 0)
		return 0;
	job->reserve_fd = store_reserve_open(job->dir_fd);
	if (job->reserve_fd < 0)
		return error_errno(e, NULL, errno, "cannot set aside room for "
				   "the records of job %s", job->id);
	return 0;
}

void store_release_reserve(struct job *job)
{
	store_reserve_remove(job->dir_fd);
	if (job->reserve_fd >= 0)
		close(job->reserve_fd);
	job->reserve_fd = -1;
}

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void job_id_generate(char out[JOB_ID_LEN + 1])
{
	uint64_t ms = (uint64_t)clock_real_ms();
	unsigned char rnd[10];

	for (int i = 0; i < 10; i++)
		out[i] = crockford[(ms >> (45 - 5 * i)) & 31];
	random_bytes(rnd, sizeof(rnd));
	for (int i = 0; i < 16; i++) {
		int bit = i * 5;
		unsigned value = (unsigned)rnd[bit / 8] << 8;

		if (bit / 8 + 1 < 10)
			value |= rnd[bit / 8 + 1];
		out[10 + i] = crockford[(value >> (11 - bit % 8)) & 31];
	}
	out[JOB_ID_LEN] = '\0';
}

int job_id_valid(const char *text)
{
	size_t len = strlen(text);

	if (len == 0 || len > JOB_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
	}
	return 1;
}

/* The root as a job names it: the absolute path without a trailing '/'
 * (heap). */
static char *root_of(const char *abs)
{
	size_t len = strlen(abs);

	while (len > 1 && abs[len - 1] == '/')
		len--;
	return strndup(abs, len);
}

int store_job_at(struct job *job, const struct store_root *root,
		    const char *name, int dir_fd)
{
	copy_str(job->id, sizeof(job->id), name);
	job->dir = path_join(root->abs, name);
	job->root = root_of(root->abs);
	job->dir_fd = dir_fd;
	job->lock_fd = job->reserve_fd = -1;
	job->attempt = 0;
	if (!job->dir || !job->root) {
		free(job->dir);
		free(job->root);
		job->dir = job->root = NULL;
		close(dir_fd);
		return -1;
	}
	return 0;
}

static void job_dir_remove(int root_fd, const char *id, int dir_fd)
{
	static const char *const names[] = {
		"meta.json", "state.json", "stdout.log", "stderr.log",
		"full.log", "env.json", "stdin", ".reserve", LOCK_FILE
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		unlinkat(dir_fd, names[i], 0);
	unlinkat(root_fd, id, AT_REMOVEDIR);
}

/* mkdir a fresh id; a clash within the same millisecond retries */
static int make_job_dir(int root_fd, char id[JOB_ID_LEN + 1])
{
	for (int attempt = 0; attempt < 8; attempt++) {
		job_id_generate(id);
		if (mkdirat(root_fd, id, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int store_root_made(const struct store_root *root, struct error *e)
{
	int root_fd = store_root_open_trusted(root, e);

	if (root_fd < 0 && errno == ENOENT) {	/* the first job */
		if (mkdir_parents(root->abs, 0700) < 0)
			return error_errno(e, NULL, errno, "cannot create jobs "
					   "root %s", root->abs);
		root_fd = store_root_open_trusted(root, e);
	}
	if (root_fd < 0)
		return errno == ENOENT || errno == ENOTDIR
		       ? error_errno(e, NULL, errno, "cannot open jobs root %s",
				     root->abs)
		       : -1;
	return root_fd;
}

int store_job_new(const struct store_root *root, struct job *job,
		  struct error *e)
{
	char id[JOB_ID_LEN + 1];
	int root_fd, dir_fd, lock_fd, reserve_fd, err;

	root_fd = store_root_made(root, e);
	if (root_fd < 0)
		return -1;
	if (make_job_dir(root_fd, id) < 0) {
		err = errno;
		close(root_fd);
		return error_errno(e, NULL, err,
				  "cannot create a job directory in %s",
				  root->abs);
	}
	dir_fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				      O_CLOEXEC);
	lock_fd = dir_fd < 0 ? -1 : lock_file_open(dir_fd, 1);
	if (lock_fd < 0 || lock_take(lock_fd, LOCK_ALIVE, 1, 0) < 0) {
		err = errno;
		if (lock_fd >= 0)
			close(lock_fd);
		if (dir_fd >= 0) {
			job_dir_remove(root_fd, id, dir_fd);
			close(dir_fd);
		} else {
			unlinkat(root_fd, id, AT_REMOVEDIR);	/* still empty */
		}
		close(root_fd);
		return error_errno(e, NULL, err, "cannot lock job %s", id);
	}
	/* the room for the terminal record comes first: a job whose end
	 * could not be recorded is refused now */
	reserve_fd = store_reserve_open(dir_fd);
	if (reserve_fd < 0) {
		err = errno;
		close(lock_fd);
		job_dir_remove(root_fd, id, dir_fd);
		close(dir_fd);
		close(root_fd);
		return error_errno(e, NULL, err, "cannot set aside room for the "
				   "records of job %s in %s", id, root->abs);
	}
	close(root_fd);
	if (store_job_at(job, root, id, dir_fd) < 0) {
		close(lock_fd);
		close(reserve_fd);
		return error_errno(e, NULL, ENOMEM, "cannot open job %s", id);
	}
	job->lock_fd = lock_fd;
	job->reserve_fd = reserve_fd;
	return 0;
}

/* job_not_found names the root searched: a job "lost" is most often one
 * under another HOME (cron, another user). */
static int job_not_found(struct error *e, const struct store_root *root,
			 const char *id)
{
	return error_set(e, "job_not_found", "job not found: %.80s (in root %s)",
			 id, root->abs);
}

/* The jobs a text names, by prefix or by short id, at most
 * CANDIDATES_SHOWN of them by name. */
struct id_matches {
	size_t count;
	char names[CANDIDATES_SHOWN][JOB_ID_MAX + 1];
};

static void match_add(struct id_matches *m, const char *name)
{
	if (m->count < CANDIDATES_SHOWN)
		copy_str(m->names[m->count], sizeof(m->names[0]), name);
	m->count++;
}

/* Whether name ends with suffix (any case). */
static int ends_with(const char *name, const char *suffix, size_t len)
{
	size_t name_len = strlen(name);

	return name_len >= len &&
	       ascii_case_equal(name + name_len - len, suffix, len);
}

/* ambiguous_job_id, its candidates in e->details. */
static int ambiguous(const char *text, const char *how,
		     const struct id_matches *m, struct error *e)
{
	size_t shown = m->count < CANDIDATES_SHOWN ? m->count
						   : CANDIDATES_SHOWN;
	size_t used;

	error_set(e, "ambiguous_job_id", "job id %s \"%s\" matches %zu jobs "
		  "(%s, %s%s): give more of the id", how, text, m->count,
		  m->names[0], m->names[1], m->count > 2 ? ", ..." : "");
	used = (size_t)snprintf(e->details, sizeof(e->details),
				"{\"candidates\":[");
	for (size_t i = 0; i < shown && used < sizeof(e->details); i++)
		used += (size_t)snprintf(e->details + used,
					 sizeof(e->details) - used,
					 "%s\"%s\"", i ? "," : "",
					 m->names[i]);
	if (used < sizeof(e->details))
		snprintf(e->details + used, sizeof(e->details) - used,
			 "],\"count\":%zu,\"truncated\":%s}", m->count,
			 m->count > shown ? "true" : "false");
	return -1;
}

/* Find the one job directory a text names: its id's prefix (any case),
 * or, when no id starts with it, a short id (the end of an id, at least
 * SHORT_ID_MIN characters). */
static int find_job(const struct store_root *root, int root_fd,
		    const char *text, char *found, size_t found_size,
		    struct error *e)
{
	size_t len = strlen(text);
	struct id_matches prefix = { 0 }, suffix = { 0 };
	const struct id_matches *m;
	DIR *dir = dir_list(root_fd);
	struct dirent *entry;

	if (!dir)
		return error_errno(e, NULL, errno, "cannot read jobs root");
	while ((entry = readdir(dir))) {
		if (entry->d_name[0] == '.' || !job_id_valid(entry->d_name) ||
		    (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN))
			continue;
		if (ascii_case_equal(entry->d_name, text, len))
			match_add(&prefix, entry->d_name);
		else if (len >= SHORT_ID_MIN &&
			 ends_with(entry->d_name, text, len))
			match_add(&suffix, entry->d_name);
	}
	closedir(dir);
	m = prefix.count ? &prefix : &suffix;
	if (m->count == 0)
		return job_not_found(e, root, text);
	if (m->count > 1)
		return ambiguous(text, m == &prefix ? "prefix" : "short id", m,
				 e);
	copy_str(found, found_size, m->names[0]);
	return 0;
}

void job_short_id(const char *id, char *out, size_t size)
{
	size_t len = strlen(id);

	copy_str(out, size, len > SHORT_ID_LEN ? id + len - SHORT_ID_LEN : id);
}

int store_job_open(const struct store_root *root, const char *id,
		   struct job *job, struct error *e)
{
	char name[JOB_ID_MAX + 1];
	int root_fd, dir_fd, err;

	if (!job_id_valid(id))
		return error_set(e, "invalid_job_id",
			    "invalid job id \"%.80s\": expected a job id or "
			    "prefix (letters, digits, '-', '_'; at most %d)",
			    id, JOB_ID_MAX);
	root_fd = store_root_open_trusted(root, e);
	if (root_fd < 0)
		return errno == ENOENT || errno == ENOTDIR
		       ? job_not_found(e, root, id)
		       : -1;
	copy_str(name, sizeof(name), id);
	dir_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC);
	if (dir_fd < 0 && errno == ENOENT) {
		if (find_job(root, root_fd, id, name, sizeof(name), e) < 0) {
			close(root_fd);
			return -1;
		}
		dir_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY |
						O_NOFOLLOW | O_CLOEXEC);
	}
	err = errno;
	close(root_fd);
	if (dir_fd < 0) {
		if (err == ENOENT || err == ENOTDIR || err == ELOOP)
			return job_not_found(e, root, id);
		return error_errno(e, NULL, err, "cannot open job %s", id);
	}
	if (store_job_at(job, root, name, dir_fd) < 0)
		return error_errno(e, NULL, ENOMEM, "cannot open job %s", id);
	if (store_trusted(dir_fd, job->dir, e) < 0) {
		store_job_close(job);
		return -1;
	}
	return 0;
}

int store_state_refused(struct error *e, const struct job *job,
			const char *fmt, ...)
{
	size_t used;
	va_list ap;

	error_set(e, "invalid_state", "invalid job state: job %s ", job->id);
	used = strlen(e->message);
	va_start(ap, fmt);
	vsnprintf(e->message + used, sizeof(e->message) - used, fmt, ap);
	va_end(ap);
	return -1;
}

void store_job_close(struct job *job)
{
	if (job->dir_fd >= 0)
		close(job->dir_fd);
	if (job->lock_fd >= 0)
		close(job->lock_fd);
	if (job->reserve_fd >= 0)
		close(job->reserve_fd);
	free(job->dir);
	free(job->root);
	job->dir = job->root = NULL;
	job->dir_fd = job->lock_fd = job->reserve_fd = -1;
}

void store_job_discard(const struct store_root *root, struct job *job)
{
	int root_fd = store_root_open(root);

	if (root_fd >= 0 && job->dir_fd >= 0)
		job_dir_remove(root_fd, job->id, job->dir_fd);
	if (root_fd >= 0)
		close(root_fd);
	store_job_close(job);
}

char *store_job_path(const struct job *job, const char *name)
{
	return path_join(job->dir, name);
}

/* ---- the lock file: its verbs ----------------------------------------- */

int store_claim_start(struct job *job, struct error *e)
{
	int taken = claim_alive(job, 0);

	if (taken > 0)
		return store_hold_reserve(job, e);
	if (taken == 0)
		return store_state_refused(e, job, "is already being started "
					   "or is running");
	return error_errno(e, NULL, errno, "cannot lock job %s", job->id);
}

static const struct __attribute__((packed)) {	/* 9 bytes, not 16 */
	unsigned char byte;	/* enum lock_byte */
	const char *doing;
} claims[] = {
	{ LOCK_ALIVE, "being started" },
	{ LOCK_RECOVER, "being recovered" },
	{ LOCK_META, "being updated (tag set, notify set)" },
	{ LOCK_DELIVERY, "delivering its job.finished" },
};

/* claims[first..count), each at once (an open-file lock) or within wait_ms
 * (a classic one: lock_take_timed); on failure none is held. */
static int claim_each(struct job *job, size_t first, size_t count,
		      int64_t wait_ms, struct error *e)
{
	for (size_t i = first; i < count; i++) {
		int taken = claim_held(job, claims[i].byte, wait_ms);

		if (taken > 0)
			continue;
		store_release_claims(job);
		if (taken == 0)
			return error_set(e, "invalid_state", "job %s is %s; "
					 "try again", job->id, claims[i].doing);
		return error_errno(e, NULL, errno, "cannot lock %s/lock",
				   job->dir);
	}
	return 0;
}

int store_claim_removal(struct job *job, int64_t wait_ms, int delivery,
			struct error *e)
{
	return claim_each(job, 0, delivery ? 4 : 3, wait_ms, e);
}

int store_claim_restart(struct job *job, struct error *e)
{
	/* DELIVERY before RECOVER: a supervisor that lingers (it holds
	 * DELIVERY for life) may need RECOVER to record the end of what its
	 * job left, before it can exit */
	if (claim_each(job, 0, 1, 0, e) < 0 ||
	    claim_each(job, 3, 4, REMOVAL_WAIT_MS, e) < 0)
		return -1;
	return claim_each(job, 1, 3, REMOVAL_WAIT_MS, e);
}

void store_release_claims(struct job *job)
{
	if (job->lock_fd >= 0)
		close(job->lock_fd);	/* every lock it held goes with it */
	job->lock_fd = -1;
}

void store_release_claims_but_alive(struct job *job)
{
	/* the classic locks claim_each waited for */
	for (int byte = LOCK_RECOVER; byte <= LOCK_DELIVERY; byte++)
		lock_byte(job->lock_fd, F_SETLK, F_UNLCK, byte);
}

void store_release_alive(const struct job *job)
{
	if (job->lock_fd >= 0)
		lock_byte(job->lock_fd, LOCK_SET, F_UNLCK, LOCK_ALIVE);
}

/* A new descriptor of the lock file holding byte exclusively (waiting
 * for it without limit, or not at all); -1/errno. */
static int claim_byte(const struct job *job, enum lock_byte byte, int wait)
{
	int fd = lock_file_open(job->dir_fd, 1);

	if (fd >= 0 && lock_take(fd, byte, 1, wait) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int store_claim_delivery(const struct job *job, int64_t wait_ms)
{
	int fd, taken;

	if (wait_ms <= 0)
		return claim_byte(job, LOCK_DELIVERY, 0);
	fd = lock_file_open(job->dir_fd, 1);
	if (fd < 0)
		return -1;
	taken = lock_take_timed(fd, LOCK_DELIVERY, 1, wait_ms, NULL);
	if (taken > 0)
		return fd;
	close(fd);
	errno = taken == 0 ? EAGAIN : errno;
	return -1;
}

int store_claim_meta(const struct job *job)
{
	return claim_byte(job, LOCK_META, 1);
}

int store_lock_open(const struct job *job, int create)
{
	return lock_file_open(job->dir_fd, create);
}

int store_alive(int lock_fd)
{
	/* asking for a read lock reports only exclusive holders, so readers
	 * blocked in wait never look like a live supervisor */
	struct flock fl = {
		.l_type = F_RDLCK, .l_whence = SEEK_SET,
		.l_start = LOCK_ALIVE, .l_len = 1, .l_pid = 0,
	};

	int rc;

	while ((rc = fcntl(lock_fd, LOCK_GET, &fl)) < 0 && errno == EINTR)
		;
	return rc < 0 ? -1 : fl.l_type != F_UNLCK;
}

int store_claim_recovery(int lock_fd)
{
	return lock_take(lock_fd, LOCK_RECOVER, 1, 1);
}

void store_release_recovery(int lock_fd)
{
	lock_byte(lock_fd, LOCK_SET, F_UNLCK, LOCK_RECOVER);
}

int store_job_marks(struct job_marks *marks, const struct job *job)
{
	size_t root_size = strlen(job->root) + sizeof("AGENT_EXEC_ROOT=");

	snprintf(marks->id, sizeof(marks->id), "AGENT_EXEC_JOB_ID=%s",
		 job->id);
	marks->root = malloc(root_size);
	if (!marks->root)
		return -1;
	snprintf(marks->root, root_size, "AGENT_EXEC_ROOT=%s", job->root);
	marks->list[0] = marks->id;
	marks->list[1] = marks->root;
	marks->list[2] = NULL;
	return 0;
}

void store_job_marks_free(struct job_marks *marks)
{
	free(marks->root);
	marks->root = NULL;
}

void store_supervisor_title(char *title, size_t size, const char *id)
{
	snprintf(title, size, "agent-exec supervisor %s", id);
}

int store_supervisor_vouched(const struct job *job, int64_t pid)
{
	char title[JOB_ID_MAX + 32];
	struct stat dir;

	if (pid <= 1 || fstat(job->dir_fd, &dir) < 0)
		return 0;
	store_supervisor_title(title, sizeof(title), job->id);
	/* its title names the job, and it holds this very directory open
	 * (a copy of the directory elsewhere is not its job) */
	return proc_cmdline_is((pid_t)pid, title) &&
	       proc_holds_open((pid_t)pid, dir.st_dev, dir.st_ino);
}

int store_supervisor_holds(const struct job *job, int64_t pid)
{
	int lock_fd = lock_file_open(job->dir_fd, 0), held;
	struct stat dir;

	if (lock_fd < 0)
		return 0;
	held = store_alive(lock_fd) == 1;
	close(lock_fd);
	return held && pid > 1 && fstat(job->dir_fd, &dir) == 0 &&
	       proc_holds_open((pid_t)pid, dir.st_dev, dir.st_ino);
}

int store_supervisor_watch(const struct job *job, int64_t pid, int *vouched)
{
	int fd = pid > 1 ? proc_pidfd((pid_t)pid) : -1;

	*vouched = fd >= 0 && store_supervisor_vouched(job, pid);
	return fd;
}

int store_lock_watch(const struct job *job)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char *path = store_job_path(job, LOCK_FILE);

	/* an unlink changes the file's link count: IN_ATTRIB */
	if (fd >= 0 && (!path || inotify_add_watch(fd, path, IN_ATTRIB) < 0)) {
		close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

int store_lock_changed(struct job *job, int *watch_fd, int *delivery_fd)
{
	char events[4096];
	int renewed;

	while (read(*watch_fd, events, sizeof(events)) > 0)
		;
	renewed = store_relock(job, delivery_fd);
	if (renewed > 0) {
		close(*watch_fd);
		*watch_fd = store_lock_watch(job);
	}
	return renewed;
}

int store_relock(struct job *job, int *delivery_fd)
{
	struct stat held;
	int fd, delivery;

	if (job->lock_fd < 0 || fstat(job->lock_fd, &held) < 0 ||
	    held.st_nlink > 0)
		return 0;
	/* the file was removed (a tmp cleaner): a new one, locked as the
	 * old, so readers and waiters find the supervisor again */
	fd = lock_file_open(job->dir_fd, 1);
	if (fd < 0 || lock_take(fd, LOCK_ALIVE, 1, 0) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	delivery = *delivery_fd >= 0 ? claim_byte(job, LOCK_DELIVERY, 0) : -1;
	if (*delivery_fd >= 0 && delivery >= 0) {
		close(*delivery_fd);
		*delivery_fd = delivery;
	}
	/* waiters on the old file wake, and find the new one */
	lock_byte(job->lock_fd, LOCK_SET, F_UNLCK, LOCK_ALIVE);
	close(job->lock_fd);
	job->lock_fd = fd;
	return 1;
}

int store_wait_ended(const struct job *job, int64_t timeout_ms)
{
	return store_wait_ended_unless(job, timeout_ms, NULL);
}

int store_wait_ended_unless(const struct job *job, int64_t timeout_ms,
			    const volatile sig_atomic_t *stop)
{
	int fd = lock_file_open(job->dir_fd, 0);
	int rc;

	if (fd < 0)
		return errno == ENOENT ? 2 : -1;
	rc = lock_take(fd, LOCK_ALIVE, 0, 0) == 0 ? 2
	     : lock_take_timed(fd, LOCK_ALIVE, 0, timeout_ms, stop);
	close(fd);		/* closing drops the lock we took */
	return rc;
}
