/* store_index.h - list's index of finished jobs, <root>/.list/index: what
 * list needs of each, trusted only while its directory is unchanged. */
#ifndef AE_STORE_INDEX_H
#define AE_STORE_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "json.h"
#include "store.h"
#include "store_state_text.h"

/* What list knows of a line: nothing yet; it is its job's (written
 * again); it is not (dropped). */
enum { LINE_UNCHECKED, LINE_TRUSTED, LINE_STALE };

/* The index as read: its lines, by job id. A line is trusted for a job
 * only when the job directory's inode and ctime are the ones it records:
 * every record of a job is replaced by a rename in its directory, which
 * moves the ctime, so a job changed since (tags set, restarted, deleted
 * and made again) is read from its records instead. A job goes into the
 * index only when it is settled (finished, no leftovers, nothing to
 * deliver) and its directory unchanged for 2 s, so that two changes
 * within one tick of the clock cannot share a ctime. */
struct list_index {
	char *text;		/* the file, its lines cut in place */
	char **lines;		/* as read */
	char *kept;		/* per line, what list knows of it (LINE_) */
	size_t count;
	uint32_t *slots;	/* by the id's hash: line number + 1 */
	size_t slot_mask;
	struct json_writer fresh;	/* lines to add, "\n" ended (in
					 * memory; given up on error) */
	int changed;		/* a line is stale or new: write it again */
	int ordered;		/* the lines are newest first */
	int partial;		/* only the newest were looked at: the lines
				 * not checked are written again too */
	uint64_t root_mtime[2];	/* the root's when its entries were the
				 * lines and careful (0: unknown) */
	const char *careful;	/* " NAME" for each entry the index does
				 * not hold, in text */
	uint64_t seen_mtime[2];	/* the root's before it was listed now,
				 * when settled (0: not) */
	struct json_writer careful_now;	/* " NAME" of each entry seen
					 * and not indexed now */
};

/* What a line says of its job; strings are not NUL-terminated (each
 * with its length) and point into the index. */
struct index_fields {
	enum job_status status;
	const char *started, *queue, *tags, *cwd, *entry;
	size_t started_len, queue_len, tags_len, cwd_len, entry_len;
	uint64_t stamp[3];	/* the directory's inode and ctime (s, ns) */
};

/* Load the index of the root open as root_fd (none, an unreadable or a
 * foreign one: empty). Never fails: it is only a cache. */
void index_load(int root_fd, struct list_index *index);
/* The fields of job id from its line, when the line matches dir (the
 * job directory's stat): 1; 0 otherwise (the line is then dropped at
 * the next write). started, queue and tags are "" when none. */
int index_lookup(struct list_index *index, const char *id,
		 const struct stat *dir, struct index_fields *out);
/* Before the root is listed: its mtime, recorded with the index once it
 * is settled (2 s old: no other change can share it). Whether the root
 * (open as root_fd) holds the entries it held when the index was
 * written: its mtime is the one recorded. */
int index_root_unchanged(struct list_index *index, int root_fd);
/* An entry of the root seen and not indexed (running, unsettled,
 * unreadable): recorded with the index, read from its records. */
void index_careful(struct list_index *index, const char *name);
/* Before and after a change to a job that list's index may hold as it
 * was (restart, tag set): the root's mtime moved (an entry made and
 * removed), so that list --limit lists the whole root again, and records
 * no mtime for 2 s. */
void index_touch(const struct job *job);
/* Keep the line of a settled job read from its records (tags joined by
 * commas in f->tags, every string NUL-terminated); f->entry is its list
 * entry, compact JSON. 1 kept; 0 not (not settled, or a cwd a line
 * cannot hold). */
int index_add(struct list_index *index, const char *id,
	      const struct stat *dir, const struct index_fields *f);
/* Write the index again when it changed, newest first: the lines of
 * the jobs seen (each marked when trusted or added; with partial, every
 * line not looked at) and the root's entries it saw;
 * atomic, best effort. */
void index_save(int root_fd, struct list_index *index);
void index_free(struct list_index *index);

#endif
