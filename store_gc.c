/* store_gc.c - taking jobs out of the store: a job directory removed
 * whole or not at all (hidden by one rename, then emptied), and gc over
 * the root: by age, and by the limits that keep the newest finished jobs
 * (a first pass orders them, the second decides and removes). */
#include "store_gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/owner.h"
#include "lib/utf8.h"

#define TREE_DEPTH_MAX 16

static int name_in(const char *name, const char *const *names)
{
	for (size_t i = 0; names && names[i]; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* The tree under dir_fd, symlinks not followed: the size of its regular
 * files added to *bytes, and with remove set everything in it but the
 * entries named in spare (a NULL terminated list, or NULL) unlinked.
 * 0, or -1 when something could not be read or removed. */
static int tree_walk(int dir_fd, int depth, int remove,
		     const char *const *spare, uint64_t *bytes)
{
	DIR *dir = dir_list(dir_fd);
	struct dirent *entry;
	int rc = 0;

	if (!dir)
		return -1;
	while ((entry = readdir(dir))) {
		const char *name = entry->d_name;
		struct stat st;
		int sub;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    name_in(name, spare))
			continue;
		if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			st.st_mode = 0;	/* unknown: unlinked as a file */
		if (S_ISREG(st.st_mode))
			*bytes += (uint64_t)st.st_size;
		if (!S_ISDIR(st.st_mode)) {
			if (remove && unlinkat(dir_fd, name, 0) < 0)
				rc = -1;
			continue;
		}
		sub = depth < TREE_DEPTH_MAX ?
		      openat(dir_fd, name, O_RDONLY | O_DIRECTORY |
			     O_NOFOLLOW | O_CLOEXEC) : -1;
		if (sub < 0 || tree_walk(sub, depth + 1, remove, NULL,
					 bytes) < 0)
			rc = -1;
		if (sub >= 0)
			close(sub);
		if (remove && unlinkat(dir_fd, name, AT_REMOVEDIR) < 0)
			rc = -1;
	}
	closedir(dir);
	return rc;
}

/* The size of the regular files under dir_fd. */
static uint64_t tree_bytes(int dir_fd)
{
	uint64_t bytes = 0;

	tree_walk(dir_fd, 0, 0, NULL, &bytes);
	return bytes;
}

/* Remove everything under dir_fd but the entries named in spare. */
static int tree_empty(int dir_fd, const char *const *spare)
{
	uint64_t bytes = 0;

	return tree_walk(dir_fd, 0, 1, spare, &bytes);
}

#define DELETED_PREFIX ".deleted-"
#define REMOVE_ROUNDS 5	/* an emptied job directory, removed */

/* Empty a job directory, its records last and its lock file after them:
 * a removal that fails midway leaves a job that still reads as itself,
 * and until the records are gone a command that opened the job before it
 * was hidden meets the remover's locks (had the lock file gone first, it
 * would make a new one, free to take). */
static int job_dir_empty(int dir_fd)
{
	static const char *const records[] = { "meta.json", "state.json",
					       "lock", NULL };

	if (tree_empty(dir_fd, records) < 0)
		return -1;
	for (size_t i = 0; records[i]; i++)
		if (unlinkat(dir_fd, records[i], 0) < 0 && errno != ENOENT)
			return -1;
	return 0;
}

/* Take the job out of sight in one rename, then empty and remove it:
 * readers find the whole job or no job, never half of one. The caller
 * holds every lock of the job (store_claim_removal), so nothing writes
 * into it meanwhile. When it cannot be emptied the job is put back in
 * sight (errno kept); a crash midway leaves a hidden .deleted-* directory
 * that gc removes. */
static int remove_job_dir(int root_fd, const char *name, int dir_fd)
{
	char hidden[sizeof(DELETED_PREFIX) + 256];
	int err;

	snprintf(hidden, sizeof(hidden), DELETED_PREFIX "%s", name);
	if (renameat(root_fd, name, root_fd, hidden) < 0)
		return -1;
	if (job_dir_empty(dir_fd) == 0) {
		/* the job is gone; a command that opened it before it was
		 * hidden may just have made a lock file of its own in it */
		for (int round = 0; round < REMOVE_ROUNDS; round++) {
			if (unlinkat(root_fd, hidden, AT_REMOVEDIR) == 0)
				return 0;
			if (errno != ENOTEMPTY && errno != EEXIST)
				break;
			tree_empty(dir_fd, NULL);
		}
	}
	err = errno;
	(void)renameat(root_fd, hidden, root_fd, name);
	errno = err;
	return -1;
}

/* What an interrupted removal left behind. */
static void remove_leftover(int root_fd, const char *name)
{
	int dir_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY |
					   O_NOFOLLOW | O_CLOEXEC);

	if (dir_fd < 0)
		return;
	if (tree_empty(dir_fd, NULL) == 0)
		unlinkat(root_fd, name, AT_REMOVEDIR);
	close(dir_fd);
}

uint64_t store_job_bytes(const struct job *job)
{
	return tree_bytes(job->dir_fd);
}

int store_job_remove(const struct store_root *root, struct job *job,
		     uint64_t *bytes, struct error *e)
{
	int root_fd = store_root_open(root), rc;

	if (root_fd < 0)
		return error_errno(e, NULL, errno, "cannot open jobs root %s",
				   root->abs);
	*bytes = tree_bytes(job->dir_fd);
	rc = remove_job_dir(root_fd, job->id, job->dir_fd);
	close(root_fd);
	if (rc < 0)
		return error_errno(e, NULL, errno, "cannot remove %s",
				   job->dir);
	return 0;
}

static int meta_unreadable(const struct job *job)
{
	struct json_doc meta;
	struct error e;

	if (!exists_at(job->dir_fd, "meta.json"))
		return 0;
	if (store_read_meta(job, &meta, &e) < 0)
		return 1;
	json_doc_free(&meta);
	return 0;
}

/* A finished job gc may count against a limit. */
struct gc_candidate {
	char id[JOB_ID_MAX + 1];
	char stamp[TIMESTAMP_LEN + 1];	/* finished_at, else updated_at */
	uint64_t bytes;
	const char *over;	/* the limit it is beyond, or NULL */
};

/* One gc over the root. */
struct gc_pass {
	const struct store_root *root;
	int root_fd;
	const struct gc_request *req;
	char reason_old[96];	/* "older_than_30d" */
	char reason_jobs[48];	/* "max_jobs_100" */
	char reason_bytes[48];	/* "max_bytes_1048576" */
	char reason_failed[ERROR_TEXT_MAX + 16];
	struct gc_candidate *ranked;	/* by id, for the second pass */
	size_t ranked_count;
	gc_visitor visit;
	void *ctx;
};

static const char *gc_keep(const struct gc_pass *gc, const struct job *job,
			   const struct job_state *st)
{
	const struct job_hooks *hooks = gc->req->hooks;

	return hooks && hooks->keep ? hooks->keep(job, st) : NULL;
}

/* Remove an old job, holding every lock of it: entry->action becomes
 * "deleted", or entry->reason says why it stays. */
static void gc_remove(struct gc_pass *gc, struct job *job,
		      const struct job_state *st, struct gc_entry *entry)
{
	struct error e;
	const char *keep;

	if (store_claim_removal(job, 0, 1, &e) < 0) {
		/* another command holds a lock: next time */
		snprintf(gc->reason_failed, sizeof(gc->reason_failed),
			 "delete_failed: %s", e.message);
		entry->reason = strcmp(e.code, "invalid_state") == 0
				? "busy" : gc->reason_failed;
		return;
	}
	/* asked again under the locks: nothing can change it now */
	keep = gc_keep(gc, job, st);
	if (keep) {
		entry->reason = keep;
	} else if (remove_job_dir(gc->root_fd, job->id, job->dir_fd) == 0) {
		entry->action = "deleted";
	} else {
		snprintf(gc->reason_failed, sizeof(gc->reason_failed),
			 "delete_failed: %s", strerror(errno));
		entry->reason = gc->reason_failed;
	}
	store_release_claims(job);
}

/* Whether a finished job may be collected at all (and its stamp). */
static const char *gc_collectable(const struct job_state *st)
{
	const char *stamp = st->finished_at[0] ? st->finished_at
					       : st->updated_at;

	if (!job_status_terminal(st->status) || st->leftovers.count ||
	    !stamp[0])
		return NULL;
	return stamp;
}

static int candidate_by_id(const void *a, const void *b)
{
	return strcmp(((const struct gc_candidate *)a)->id,
		      ((const struct gc_candidate *)b)->id);
}

/* Newest first: the later stamp, then the later id. */
static int candidate_newest(const void *a, const void *b)
{
	const struct gc_candidate *x = a, *y = b;
	int order = strcmp(y->stamp, x->stamp);

	return order ? order : strcmp(y->id, x->id);
}

/* One finished job of the first pass, when it is collectable. */
static int rank_one(struct gc_pass *gc, const char *name, size_t *cap)
{
	struct gc_candidate *c;
	struct job_state st;
	struct error e;
	const char *stamp;
	struct job job;

	if (store_job_at_name(gc->root, gc->root_fd, name, &job) < 0)
		return 0;
	if (state_observe(&job, &st, &e) < 0 || !(stamp = gc_collectable(&st)))
		goto out;
	if (array_room(&gc->ranked, cap, gc->ranked_count + 1,
		       sizeof(*gc->ranked)) < 0) {
		store_job_close(&job);
		return -1;
	}
	c = &gc->ranked[gc->ranked_count++];
	copy_str(c->id, sizeof(c->id), name);
	copy_str(c->stamp, sizeof(c->stamp), stamp);
	c->bytes = tree_bytes(job.dir_fd);
	c->over = NULL;
out:
	store_job_close(&job);
	return 0;
}

/* The first pass, for --max-jobs and --max-bytes: every collectable job,
 * counted newest first; those beyond a limit are marked (and so is every
 * older one: the newest are what stays). */
static int rank_finished(struct gc_pass *gc, DIR *dir)
{
	const struct gc_request *req = gc->req;
	struct dirent *entry;
	uint64_t bytes = 0;
	const char *over = NULL;
	size_t cap = 0;

	while ((entry = readdir(dir)))
		if (store_entry_may_be_job(entry) && utf8_valid(entry->d_name) &&
		    rank_one(gc, entry->d_name, &cap) < 0)
			return -1;
	rewinddir(dir);
	qsort(gc->ranked, gc->ranked_count, sizeof(*gc->ranked),
	      candidate_newest);
	for (size_t i = 0; i < gc->ranked_count; i++) {
		bytes += gc->ranked[i].bytes;
		if (!over && req->has_max_jobs && i >= req->max_jobs)
			over = gc->reason_jobs;
		if (!over && req->has_max_bytes && bytes > req->max_bytes)
			over = gc->reason_bytes;
		gc->ranked[i].over = over;
	}
	qsort(gc->ranked, gc->ranked_count, sizeof(*gc->ranked),
	      candidate_by_id);
	return 0;
}

/* The rule that lets a collectable job go, or NULL when it stays. */
static const char *gc_due(const struct gc_pass *gc, const char *name,
			  const char *stamp)
{
	struct gc_candidate key, *c;

	if (gc->req->cutoff && strncmp(stamp, gc->req->cutoff, 19) < 0)
		return gc->reason_old;
	copy_str(key.id, sizeof(key.id), name);
	c = gc->ranked_count ? bsearch(&key, gc->ranked, gc->ranked_count,
				       sizeof(key), candidate_by_id)
			     : NULL;
	return c ? c->over : NULL;
}

/* Decide (and do) what gc does with one job directory. */
static int gc_one(struct gc_pass *gc, const char *name,
		  struct gc_entry *entry)
{
	const struct job_hooks *hooks = gc->req->hooks;
	const char *stamp, *keep, *due = NULL;
	struct job_state st;
	struct error e;
	struct job job;
	int rc;

	*entry = (struct gc_entry){ .job_id = name, .state = "unknown",
				    .action = "skipped",
				    .reason = "state_unreadable" };
	if (store_job_at_name(gc->root, gc->root_fd, name, &job) < 0)
		return gc->visit(gc->ctx, entry);
	entry->job = &job;
	if (store_trusted(job.dir_fd, job.dir, &e) < 0) {
		entry->reason = "unsafe_permissions";
		goto out;
	}
	/* a job without meta.json may be collected (as agent-exec 0.1 does);
	 * one whose meta.json is there but unreadable is left alone */
	if (meta_unreadable(&job)) {
		entry->reason = "meta_unreadable";
		goto out;
	}
	if (state_observe(&job, &st, &e) < 0)
		goto out;
	entry->st = &st;
	entry->state = job_status_name(st.status);
	if (job_status_terminal(st.status) && hooks && hooks->finished)
		hooks->finished(&job, &st);
	stamp = st.finished_at[0] ? st.finished_at : st.updated_at;
	if (job_status_live(st.status))
		entry->reason = job_status_name(st.status);
	else if (st.status == JOB_CREATED)
		entry->reason = "non_terminal_status";
	else if (st.leftovers.count)
		entry->reason = "leftovers";	/* processes of it still run */
	else if (!stamp[0])
		entry->reason = "no_timestamp";
	else if (!(due = gc_due(gc, name, stamp)))
		entry->reason = gc->req->cutoff ? "too_recent" : "within_limits";
	else if ((keep = gc_keep(gc, &job, &st)))
		entry->reason = keep;
	else {
		entry->reason = due;
		entry->bytes = tree_bytes(job.dir_fd);
		if (gc->req->dry_run)
			entry->action = "would_delete";
		else
			gc_remove(gc, &job, &st, entry);
	}
out:
	rc = gc->visit(gc->ctx, entry);
	store_job_close(&job);
	return rc;
}

int store_gc(const struct store_root *root, const struct gc_request *req,
	     gc_visitor visit, void *ctx, struct gc_totals *totals,
	     struct error *e)
{
	struct gc_pass gc = { .root = root, .req = req, .visit = visit,
			      .ctx = ctx };
	struct dirent *entry;
	DIR *dir;
	int opened, rc = 0;

	*totals = (struct gc_totals){ 0 };
	opened = store_root_listing(root, &dir, e);
	if (opened <= 0)
		return opened;
	gc.root_fd = dirfd(dir);
	snprintf(gc.reason_old, sizeof(gc.reason_old), "older_than_%s",
		 req->older_than);
	snprintf(gc.reason_jobs, sizeof(gc.reason_jobs), "max_jobs_%llu",
		 (unsigned long long)req->max_jobs);
	snprintf(gc.reason_bytes, sizeof(gc.reason_bytes), "max_bytes_%llu",
		 (unsigned long long)req->max_bytes);
	if (req->has_max_jobs || req->has_max_bytes)
		rc = rank_finished(&gc, dir);
	while (rc == 0 && (entry = readdir(dir)) &&
	       (!req->deadline || clock_mono_ms() < req->deadline)) {
		struct gc_entry decision;

		if (!req->dry_run && strncmp(entry->d_name, DELETED_PREFIX,
					     strlen(DELETED_PREFIX)) == 0) {
			remove_leftover(gc.root_fd, entry->d_name);
			continue;
		}
		if (!store_entry_may_be_job(entry))
			continue;
		if (!utf8_valid(entry->d_name)) {
			totals->skipped++;
			continue;
		}
		rc = gc_one(&gc, entry->d_name, &decision);
		if (strcmp(decision.action, "skipped") == 0)
			totals->skipped++;
		else if (strcmp(decision.action, "deleted") == 0) {
			totals->deleted++;
			totals->freed_bytes += decision.bytes;
		} else {
			totals->would_delete++;
			totals->would_free_bytes += decision.bytes;
		}
	}
	free(gc.ranked);
	closedir(dir);
	return rc < 0 ? error_errno(e, NULL, ENOMEM, "cannot run gc") : 0;
}

/* ---- automatic collection ([gc] auto = true) ----------------------------- */

#define GC_AUTO_FILE ".gc-auto"
#define GC_AUTO_EVERY_S 60	/* one collection a minute at the most */
#define GC_AUTO_BUDGET_MS 5000	/* each stops after 5 s where it is */

struct gc_auto_run {
	const struct store_root *root;
	struct gc_request req;
};

/* Whether the stamp says a collection began less than a minute ago. */
static int gc_auto_recent(const struct stat *stamp)
{
	int64_t age = clock_real_ms() / 1000 - (int64_t)stamp->st_mtime;

	return age >= 0 && age < GC_AUTO_EVERY_S;
}

static int gc_auto_skip(void *ctx, const struct gc_entry *entry)
{
	(void)ctx;
	(void)entry;
	return 0;
}

/* The detached collector: one at a time (the stamp's lock), a minute
 * apart (its mtime, set as it begins by emptying it; an empty stamp is a
 * collection that did not end); what it did goes into the stamp, one line
 * of JSON. */
static void gc_auto_detached(void *ctx)
{
	struct gc_auto_run *run = ctx;
	char at[TIMESTAMP_LEN + 1], line[256];
	struct gc_totals totals;
	struct error e = { 0 };
	struct stat st;
	int root_fd, fd = -1, n;

	proc_title_set("agent-exec gc (auto)");
	if (daemon_detach(NULL, 0) < 0 ||
	    (root_fd = store_root_open(run->root)) < 0)
		return;
	fd = open_regular(root_fd, GC_AUTO_FILE, O_RDWR | O_CREAT, 0600);
	close(root_fd);
	if (fd < 0 || lock_byte(fd, F_OFD_SETLK, F_WRLCK, 0) < 0 ||
	    fstat(fd, &st) < 0 || (st.st_size && gc_auto_recent(&st)) ||
	    ftruncate(fd, 0) < 0)	/* its mtime now (Linux: always) */
		return;
	test_stop_at("gc-auto");
	format_utc_now(at);
	run->req.deadline = clock_mono_ms() + GC_AUTO_BUDGET_MS;
	if (store_gc(run->root, &run->req, gc_auto_skip, NULL, &totals,
		     &e) < 0)
		return;
	n = snprintf(line, sizeof(line), "{\"at\":\"%s\",\"deleted\":%llu,"
		     "\"skipped\":%llu,\"freed_bytes\":%llu}\n", at,
		     (unsigned long long)totals.deleted,
		     (unsigned long long)totals.skipped,
		     (unsigned long long)totals.freed_bytes);
	(void)(pwrite(fd, line, (size_t)n, 0) == n);
}

void store_gc_auto(const struct store_root *root,
		   const struct gc_request *req)
{
	struct gc_auto_run run = { root, *req };
	struct stat stamp;
	int root_fd = store_root_open(root);

	if (root_fd < 0)
		return;
	/* most launches stop here: the last collection is recent */
	if (fstatat(root_fd, GC_AUTO_FILE, &stamp, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !gc_auto_recent(&stamp))
		fork_detached(gc_auto_detached, &run);
	close(root_fd);
}
