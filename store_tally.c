/* store_tally.c - the store counted by state: a finished job by its line
 * of list's index, any other by its state.json, the careful path
 * (liveness, meta.json) only for the running ones. */
#include "store_tally.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/owner.h"
#include "store_index.h"

/* A job whose record says running: its true state, and its summary (for
 * the command) while it runs. */
static void tally_running(struct store_tally *tally,
			  const struct store_root *root, int root_fd,
			  const char *name, const struct job_hooks *hooks,
			  struct job_state *st)
{
	struct job_summary *summary = NULL;
	struct error ignored;
	struct job job;

	st->status = JOB_UNKNOWN;
	if (store_job_at_name(root, root_fd, name, &job) < 0)
		return;
	if (state_observe(&job, st, &ignored) < 0) {
		st->status = JOB_UNKNOWN;
	} else if (job_status_live(st->status) &&
		   store_summary(&job, &summary, &ignored) == 0) {
		summary->state = *st;
		summary->state_ok = 1;
		if (job_list_add(st->status == JOB_QUEUED ? &tally->queued
							  : &tally->running,
				 summary) < 0)
			job_summary_free(summary);
	} else if (job_status_terminal(st->status) && hooks &&
		   hooks->finished) {
		hooks->finished(&job, st);	/* its loss, just recorded */
	}
	store_job_close(&job);
}

/* One more job of queue name in state status (the queue is added when
 * new; without memory it goes uncounted). */
static void queue_count(struct store_tally *tally, const char *name,
			enum job_status status)
{
	struct queue_tally *q = NULL, *grown;

	for (size_t i = 0; !q && i < tally->queue_count; i++)
		if (strcmp(tally->queues[i].name, name) == 0)
			q = &tally->queues[i];
	if (!q) {
		grown = realloc(tally->queues, (tally->queue_count + 1) *
						       sizeof(*grown));
		if (!grown)
			return;
		tally->queues = grown;
		q = &grown[tally->queue_count++];
		*q = (struct queue_tally){ 0 };
		copy_str(q->name, sizeof(q->name), name);
	}
	q->counts[status]++;
}

/* One directory of the root, counted: by its line in list's index when
 * the line is trusted (a settled job: its state and queue are final),
 * else by its state.json. */
static void tally_one(struct store_tally *tally, const struct store_root *root,
		      int root_fd, const char *name,
		      const struct job_hooks *hooks, struct list_index *index)
{
	struct job_state st = { .status = JOB_UNKNOWN };
	struct index_fields line;
	struct stat dir;

	if (fstatat(root_fd, name, &dir, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(dir.st_mode))
		return;
	if (!stat_private(&dir)) {
		tally->skipped++;	/* as list skips it */
		return;
	}
	if (index_lookup(index, name, &dir, &line)) {
		st.status = line.status;
		snprintf(st.queue, sizeof(st.queue), "%.*s",
			 (int)line.queue_len, line.queue);
	} else if (store_state_at_name(root, root_fd, name, &st) < 0) {
		st.status = JOB_UNKNOWN;
	}
	if (job_status_live(st.status))
		tally_running(tally, root, root_fd, name, hooks, &st);
	tally->counts[st.status]++;
	if (st.queue[0])
		queue_count(tally, st.queue, st.status);
}

/* First created first (queued: in order of submission); ties by id. */
static int created_order(const void *a, const void *b)
{
	const struct job_summary *x = *(struct job_summary *const *)a;
	const struct job_summary *y = *(struct job_summary *const *)b;
	int order = strcmp(x->created_at, y->created_at);

	return order ? order : strcmp(x->id, y->id);
}

/* Longest running first; ties by id. */
static int running_order(const void *a, const void *b)
{
	const struct job_summary *x = *(struct job_summary *const *)a;
	const struct job_summary *y = *(struct job_summary *const *)b;
	int order = strcmp(x->state.started_at, y->state.started_at);

	return order ? order : strcmp(x->id, y->id);
}

int store_tally(const struct store_root *root, const struct job_hooks *hooks,
		struct store_tally *tally, struct error *e)
{
	struct list_index index;
	struct dirent *entry;
	DIR *dir;
	int opened;

	*tally = (struct store_tally){ 0 };
	opened = store_root_listing(root, &dir, e);
	if (opened <= 0)
		return opened;
	index_load(dirfd(dir), &index);
	while ((entry = readdir(dir)))
		if (store_entry_may_be_job(entry))
			tally_one(tally, root, dirfd(dir), entry->d_name, hooks,
				  &index);
	index_free(&index);
	closedir(dir);
	if (tally->running.count > 1)
		qsort(tally->running.jobs, tally->running.count,
		      sizeof(*tally->running.jobs), running_order);
	if (tally->queued.count > 1)
		qsort(tally->queued.jobs, tally->queued.count,
		      sizeof(*tally->queued.jobs), created_order);
	return 0;
}

void store_tally_free(struct store_tally *tally)
{
	job_list_free(&tally->running);
	job_list_free(&tally->queued);
	free(tally->queues);
}
