/* store_queue.c - a queue, without a daemon: <root>/.queues/<name>/ holds
 *   slots     the slot count, as text (1 when missing);
 *   lock      byte 0 serialises the handing out of tickets, byte 1 + i is
 *             slot i: held by the supervisor whose job runs in it (an
 *             open-file lock, so a dead supervisor's slot is free);
 *   tickets   the last ticket handed out;
 *   line/     one entry a waiting job, "<ticket>-<job id>", locked by its
 *             supervisor for as long as it waits (an entry found unlocked
 *             is a dead waiter's, removed by the one behind it);
 *   doorbell  a FIFO: a freed slot writes a byte to it, which wakes the
 *             head of the line.
 * Each waiter sleeps on the lock of the entry just ahead of it, so a
 * place freed in line wakes exactly one process; only the head waits for
 * a slot. */
#include "store_queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/sig.h"

#define QUEUES_DIR ".queues"
#define TICKET_BYTE 0
#define SLOT_BYTE(i) (1 + (i))
#define WAKE_CHECK_MS 1000	/* a slot a dead supervisor freed, or a
				   signal that came just before a wait */

int queue_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > QUEUE_NAME_MAX || name[0] == '.')
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
			    "WXYZ0123456789._-") == len;
}

/* ---- opening ------------------------------------------------------------ */

static int dir_at(int parent_fd, const char *name, int create)
{
	if (create && mkdirat(parent_fd, name, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
					O_NOFOLLOW);
}

static int queue_dir_open(const char *root, const char *name, int create)
{
	int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int queues_fd = root_fd < 0 ? -1 : dir_at(root_fd, QUEUES_DIR, create);
	int fd = queues_fd < 0 ? -1 : dir_at(queues_fd, name, create);
	int err = errno;

	if (root_fd >= 0)
		close(root_fd);
	if (queues_fd >= 0)
		close(queues_fd);
	errno = err;
	return fd;
}

int queue_open(const struct store_root *root, const char *name, int create,
	       struct queue *q, struct error *e)
{
	int root_fd = create ? store_root_made(root, e) : 0, line_fd;

	*q = (struct queue){ .dir_fd = -1, .lock_fd = -1, .slot = -1,
			     .entry_fd = -1 };
	if (root_fd < 0)
		return -1;
	if (create)
		close(root_fd);
	q->dir_fd = queue_dir_open(root->abs, name, create);
	if (q->dir_fd >= 0)
		q->lock_fd = openat(q->dir_fd, "lock", (create ? O_CREAT : 0) |
				    O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
	line_fd = q->lock_fd < 0 ? -1 : dir_at(q->dir_fd, "line", create);
	if (line_fd < 0 ||
	    (create && mkfifoat(q->dir_fd, "doorbell", 0600) < 0 &&
	     errno != EEXIST)) {
		error_errno(e, NULL, errno, "cannot open the queue \"%s\" in "
			    "%s/" QUEUES_DIR, name, root->abs);
		if (line_fd >= 0)
			close(line_fd);
		queue_close(q);
		return -1;
	}
	close(line_fd);
	return 0;
}

void queue_close(struct queue *q)
{
	queue_leave(q);
	if (q->lock_fd >= 0)
		close(q->lock_fd);	/* a slot held is freed with it */
	if (q->dir_fd >= 0)
		close(q->dir_fd);
	q->lock_fd = q->dir_fd = -1;
	q->slot = -1;
}

/* ---- slots -------------------------------------------------------------- */

/* Written aside under a name of this process's, then renamed into place:
 * concurrent launches each write a whole file. Unchanged: not written. */
int queue_set_slots(struct queue *q, uint64_t slots, struct error *e)
{
	char text[24], aside[32];
	int len = snprintf(text, sizeof(text), "%" PRIu64 "\n", slots), fd;

	if (queue_slot_count(q) == slots && exists_at(q->dir_fd, "slots"))
		return 0;
	snprintf(aside, sizeof(aside), ".slots.%ld", (long)getpid());
	fd = openat(q->dir_fd, aside, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
				      O_NOFOLLOW, 0600);
	if (fd < 0 || write_all(fd, text, (size_t)len) < 0 || fsync(fd) < 0 ||
	    close(fd) < 0 || renameat(q->dir_fd, aside, q->dir_fd, "slots") < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		unlinkat(q->dir_fd, aside, 0);
		return error_errno(e, NULL, err, "cannot record the slot count "
				   "of a queue");
	}
	return 0;
}

uint64_t queue_slot_count(const struct queue *q)
{
	char *text = NULL;
	size_t len;
	uint64_t slots = QUEUE_SLOTS_DEFAULT;

	if (read_file_at(q->dir_fd, "slots", 32, &text, &len) == 0) {
		uint64_t n = 0;

		if (scan_u64(text, &n) && n >= 1 && n <= QUEUE_SLOTS_MAX)
			slots = n;
	}
	free(text);
	return slots;
}

int queue_try_slot(struct queue *q)
{
	uint64_t slots = queue_slot_count(q);

	if (q->slot >= 0)
		return 1;
	for (uint64_t i = 0; i < slots; i++) {
		if (lock_byte(q->lock_fd, F_OFD_SETLK, F_WRLCK,
			      SLOT_BYTE((off_t)i)) == 0) {
			q->slot = (int)i;
			return 1;
		}
		if (errno != EAGAIN && errno != EACCES)
			return -1;
	}
	return 0;
}

void queue_release_slot(struct queue *q)
{
	int bell;

	if (q->slot < 0)
		return;
	lock_byte(q->lock_fd, F_OFD_SETLK, F_UNLCK, SLOT_BYTE((off_t)q->slot));
	q->slot = -1;
	/* no reader (ENXIO): no one waits for a slot; a full pipe: the head
	 * has been rung already */
	bell = openat(q->dir_fd, "doorbell", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (bell >= 0) {
		if (write(bell, "", 1) < 0) {
			/* EAGAIN: rung already */
		}
		close(bell);
	}
}

/* ---- the line ----------------------------------------------------------- */

static int line_open(const struct queue *q)
{
	return dir_at(q->dir_fd, "line", 0);
}

/* The ticket of an entry's name, 0 when it is not one. */
static uint64_t entry_ticket(const char *name)
{
	uint64_t ticket = 0;
	size_t digits = scan_u64(name, &ticket);

	return digits && name[digits] == '-' ? ticket : 0;
}

int queue_line_empty(const struct queue *q)
{
	int line_fd = line_open(q);
	DIR *dir = line_fd < 0 ? NULL : dir_list(line_fd);
	struct dirent *d;
	int empty = 1;

	while (dir && empty && (d = readdir(dir)))
		empty = entry_ticket(d->d_name) == 0;
	if (dir)
		closedir(dir);
	if (line_fd >= 0)
		close(line_fd);
	return empty;
}

static int ticket_next(struct queue *q, uint64_t *ticket)
{
	char text[24] = "";
	uint64_t last = 0;
	int fd, rc = -1;

	if (lock_byte(q->lock_fd, F_OFD_SETLKW, F_WRLCK, TICKET_BYTE) < 0)
		return -1;
	fd = openat(q->dir_fd, "tickets", O_RDWR | O_CREAT | O_CLOEXEC |
					  O_NOFOLLOW, 0600);
	if (fd >= 0 && pread_full(fd, text, sizeof(text) - 1, 0) >= 0) {
		scan_u64(text, &last);
		*ticket = last + 1;
		snprintf(text, sizeof(text), "%020" PRIu64, *ticket);
		rc = pwrite(fd, text, 20, 0) == 20 ? 0 : -1;
	}
	if (fd >= 0)
		close(fd);
	lock_byte(q->lock_fd, F_OFD_SETLK, F_UNLCK, TICKET_BYTE);
	return rc;
}

/* The entry appears in line/ already locked: made aside, locked, renamed
 * into place. */
int queue_join(struct queue *q, const char *job_id)
{
	char *name = q->entry, aside[sizeof(q->entry) + 1];
	int line_fd = line_open(q), rc = -1;

	if (line_fd < 0 || ticket_next(q, &q->ticket) < 0)
		goto out;
	snprintf(name, sizeof(q->entry), "%020" PRIu64 "-%s", q->ticket,
		 job_id);
	snprintf(aside, sizeof(aside), ".%s", name);
	q->entry_fd = openat(line_fd, aside, O_RDWR | O_CREAT | O_EXCL |
					     O_CLOEXEC | O_NOFOLLOW, 0600);
	if (q->entry_fd >= 0 &&
	    lock_byte(q->entry_fd, F_OFD_SETLK, F_WRLCK, 0) == 0 &&
	    renameat(line_fd, aside, line_fd, name) == 0)
		rc = 0;
	else
		unlinkat(line_fd, aside, 0);
out:
	if (rc < 0 && q->entry_fd >= 0) {
		close(q->entry_fd);
		q->entry_fd = -1;
	}
	if (line_fd >= 0)
		close(line_fd);
	return rc;
}

void queue_leave(struct queue *q)
{
	int line_fd;

	if (q->entry_fd < 0)
		return;
	line_fd = line_open(q);
	if (line_fd >= 0) {
		unlinkat(line_fd, q->entry, 0);
		close(line_fd);
	}
	close(q->entry_fd);	/* wakes the one behind */
	q->entry_fd = -1;
}

/* The entry just ahead of ticket (name into out): 1, or 0 at the head. */
static int entry_ahead(int line_fd, uint64_t ticket, char *out, size_t size)
{
	DIR *dir = dir_list(line_fd);
	struct dirent *d;
	uint64_t best = 0;

	while (dir && (d = readdir(dir))) {
		uint64_t t = entry_ticket(d->d_name);

		if (t && t < ticket && t > best) {
			best = t;
			copy_str(out, size, d->d_name);
		}
	}
	if (dir)
		closedir(dir);
	return best != 0;
}

struct lock_call {
	int fd;
	const volatile sig_atomic_t *stop;
};

/* A classic lock (it conflicts with the owner's open-file lock all the
 * same): shared, so a waiter never looks like a live owner. */
static int ahead_gone(void *ctx)
{
	const struct lock_call *call = ctx;

	if (*call->stop) {
		errno = ECANCELED;
		return -1;
	}
	return lock_byte(call->fd, F_SETLKW, F_RDLCK, 0);
}

static int bell_rung(void *ctx)
{
	const struct lock_call *call = ctx;
	char bytes[64];

	if (*call->stop) {
		errno = ECANCELED;
		return -1;
	}
	return read(call->fd, bytes, sizeof(bytes)) > 0 ? 0 : -1;
}

/* Sleep until the one ahead has left the line (or died: its entry is
 * removed here): 0, -1/errno. Each check interval only *stop is looked
 * at again. */
static int await_ahead(int line_fd, const char *name,
		       const volatile sig_atomic_t *stop)
{
	struct lock_call call = { openat(line_fd, name, O_RDONLY | O_CLOEXEC |
							O_NOFOLLOW), stop };
	int rc;

	if (call.fd < 0)
		return errno == ENOENT ? 0 : -1;
	do
		rc = sig_call_until(time_after(clock_mono_ms(), WAKE_CHECK_MS),
				    ahead_gone, &call);
	while (rc == 0);
	if (rc == 1)	/* its owner is gone: a dead one leaves its entry */
		unlinkat(line_fd, name, 0);
	close(call.fd);
	return rc < 0 ? -1 : 0;
}

static int await_head(struct queue *q, const volatile sig_atomic_t *stop)
{
	char ahead[24 + JOB_ID_MAX + 2];
	int line_fd = line_open(q), rc = 0;

	if (line_fd < 0)
		return -1;
	while (rc == 0 && entry_ahead(line_fd, q->ticket, ahead, sizeof(ahead)))
		rc = await_ahead(line_fd, ahead, stop);
	close(line_fd);
	return rc;
}

int queue_await_slot(struct queue *q, const volatile sig_atomic_t *stop)
{
	struct lock_call call = { -1, stop };
	int rc;

	if (await_head(q, stop) < 0)
		return -1;
	/* read and write: the FIFO never sees its last writer go */
	call.fd = openat(q->dir_fd, "doorbell", O_RDWR | O_CLOEXEC);
	if (call.fd < 0)
		return -1;
	while ((rc = queue_try_slot(q)) == 0 &&
	       sig_call_until(time_after(clock_mono_ms(), WAKE_CHECK_MS),
			      bell_rung, &call) >= 0)
		;
	close(call.fd);
	if (rc == 0 && !*stop)
		rc = -1;
	if (rc == 0)
		errno = ECANCELED;
	if (rc == 1)
		queue_leave(q);
	return rc == 1 ? 0 : -1;
}

/* ---- for readers -------------------------------------------------------- */

/* The ticket of job_id's entry in the listing (0: none); the listing is
 * read again from its start afterwards. */
static uint64_t own_ticket(DIR *dir, const char *job_id)
{
	size_t id_len = strlen(job_id);
	uint64_t own = 0;
	struct dirent *d;

	while (!own && (d = readdir(dir))) {
		size_t len = strlen(d->d_name);

		if (len > id_len && strcmp(d->d_name + len - id_len, job_id) == 0)
			own = entry_ticket(d->d_name);
	}
	rewinddir(dir);
	return own;
}

int64_t queue_position(const char *root, const char *name,
		       const char *job_id)
{
	int fd = queue_dir_open(root, name, 0);
	int line_fd = fd < 0 ? -1 : dir_at(fd, "line", 0);
	DIR *dir = line_fd < 0 ? NULL : dir_list(line_fd);
	uint64_t own = dir ? own_ticket(dir, job_id) : 0;
	int64_t ahead = 0;
	struct dirent *d;

	while (own && (d = readdir(dir))) {
		uint64_t t = entry_ticket(d->d_name);

		ahead += t && t < own;
	}
	if (dir)
		closedir(dir);
	if (line_fd >= 0)
		close(line_fd);
	if (fd >= 0)
		close(fd);
	return own ? ahead : -1;
}

int queue_usage(const struct store_root *root, const char *name,
		uint64_t *slots, uint64_t *taken)
{
	struct error ignored;
	struct queue q;

	if (queue_open(root, name, 0, &q, &ignored) < 0)
		return -1;
	*slots = queue_slot_count(&q);
	*taken = 0;
	/* each answer is the next slot held, from the one after the last */
	for (off_t from = SLOT_BYTE(0);;) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
				    .l_start = from, .l_len = 0 };

		if (fcntl(q.lock_fd, F_OFD_GETLK, &fl) < 0 ||
		    fl.l_type == F_UNLCK)
			break;
		*taken += (uint64_t)fl.l_len;
		from = fl.l_start + fl.l_len;
	}
	queue_close(&q);
	return 0;
}
