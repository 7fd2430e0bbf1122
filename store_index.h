/* store_index.h - list's index of finished jobs, <root>/.list-index: what
 * list needs of each, trusted only while its directory is unchanged. */
#ifndef AE_STORE_INDEX_H
#define AE_STORE_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "json.h"
#include "store_state_text.h"

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
	char *kept;		/* per line: trusted, written again */
	size_t count;
	uint32_t *slots;	/* by the id's hash: line number + 1 */
	size_t slot_mask;
	struct json_writer fresh;	/* lines to add, "\n" ended (in
					 * memory; given up on error) */
	int changed;		/* a line is stale or new: write it again */
};

/* What a line says of its job; strings are not NUL-terminated (each
 * with its length) and point into the index. */
struct index_fields {
	enum job_status status;
	const char *started, *queue, *tags, *cwd, *entry;
	size_t started_len, queue_len, tags_len, cwd_len, entry_len;
};

/* Load the index of the root open as root_fd (none, an unreadable or a
 * foreign one: empty). Never fails: it is only a cache. */
void index_load(int root_fd, struct list_index *index);
/* The fields of job id from its line, when the line matches dir (the
 * job directory's stat): 1; 0 otherwise (the line is then dropped at
 * the next write). started, queue and tags are "" when none. */
int index_lookup(struct list_index *index, const char *id,
		 const struct stat *dir, struct index_fields *out);
/* Keep the line of a settled job read from its records (tags joined by
 * commas in f->tags, every string NUL-terminated); f->entry is its list
 * entry, compact JSON. */
void index_add(struct list_index *index, const char *id,
	       const struct stat *dir, const struct index_fields *f);
/* Write the index again when it changed: the lines of the jobs seen
 * (each marked when trusted or added); atomic, best effort. */
void index_save(int root_fd, struct list_index *index);
void index_free(struct list_index *index);

#endif
