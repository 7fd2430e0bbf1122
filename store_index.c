/* store_index.c - list's index of finished jobs (store_index.h). One line
 * a job:
 *   ID INO CTIME_S CTIME_NS STATE STARTED|- QUEUE|- TAGS|-<tab>CWD<tab>ENTRY
 * TAGS joined by commas; ENTRY the job's list entry, compact JSON. A job
 * whose cwd holds a tab or a newline is not indexed. A line that does not
 * read so is ignored, and the index is written again without it. */
#include "store_index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/owner.h"
#include "store_record.h"

#define INDEX_FILE ".list-index"
#define INDEX_MAX (256u << 20)
#define SETTLED_S 2	/* a directory unchanged this long may be indexed */

/* FNV-1a of a job id. */
static uint32_t id_hash(const char *id)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < JOB_ID_LEN; i++)
		h = (h ^ (unsigned char)id[i]) * 16777619u;
	return h;
}

/* The table of lines by id (open addressing, at most half full). */
static void index_hash(struct list_index *index)
{
	size_t size = 64;

	while (size < index->count * 2)
		size *= 2;
	index->slots = calloc(size, sizeof(*index->slots));
	if (!index->slots) {
		index->count = 0;
		return;
	}
	index->slot_mask = size - 1;
	for (size_t i = 0; i < index->count; i++) {
		size_t s = id_hash(index->lines[i]) & index->slot_mask;

		while (index->slots[s])
			s = (s + 1) & index->slot_mask;
		index->slots[s] = (uint32_t)i + 1;
	}
}

/* The line of job id, or NULL. */
static char **index_find(const struct list_index *index, const char *id)
{
	size_t s;

	if (!index->count || strlen(id) != JOB_ID_LEN)
		return NULL;
	for (s = id_hash(id) & index->slot_mask; index->slots[s];
	     s = (s + 1) & index->slot_mask) {
		char **line = &index->lines[index->slots[s] - 1];

		if (memcmp(*line, id, JOB_ID_LEN) == 0)
			return line;
	}
	return NULL;
}

void index_load(int root_fd, struct list_index *index)
{
	struct stat st;
	size_t len = 0, cap = 0;
	char *line, *end;
	int fd;

	*index = (struct list_index){ 0 };
	jw_init_mem(&index->fresh, INDEX_MAX, 0);
	fd = openat(root_fd, INDEX_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fd_private(fd, &st) != 1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > INDEX_MAX ||
	    read_file_at(root_fd, INDEX_FILE, INDEX_MAX, &index->text,
			 &len) < 0) {
		close(fd);
		index->changed = 1;
		return;
	}
	close(fd);
	for (line = index->text; (end = memchr(line, '\n', len -
					       (size_t)(line - index->text)));
	     line = end + 1) {
		*end = '\0';
		if (array_room(&index->lines, &cap, index->count + 1,
			       sizeof(*index->lines)) < 0)
			break;
		if (end - line > JOB_ID_LEN && line[JOB_ID_LEN] == ' ')
			index->lines[index->count++] = line;
	}
	index->kept = calloc(index->count + 1, 1);
	if (!index->kept || index->count > UINT32_MAX / 2)
		index->count = 0;
	index_hash(index);
}

/* The next field of *p, up to stop (' ' or '\t'), "-" read as "":
 * *out and *len; *p moves past the stop. 0, or -1 when there is none. */
static int field(const char **p, int stop, const char **out, size_t *len)
{
	const char *end = strchr(*p, stop);

	if (!end)
		return -1;
	*out = *p;
	*len = (size_t)(end - *p);
	if (*len == 1 && **out == '-')
		*len = 0;
	*p = end + 1;
	return 0;
}

/* A line's fields, when its inode and ctime are dir's; -1 otherwise or
 * when it does not read as a line. */
static int line_parse(const char *line, const struct stat *dir,
		      struct index_fields *f)
{
	const uint64_t stamp[3] = { (uint64_t)dir->st_ino,
				    (uint64_t)dir->st_ctim.tv_sec,
				    (uint64_t)dir->st_ctim.tv_nsec };
	const char *p = line + JOB_ID_LEN + 1, *w;
	uint64_t number;
	size_t n, len;
	char state[16];

	/* INO CTIME_S CTIME_NS: the directory's */
	for (int i = 0; i < 3; i++, p += n + 1)
		if (!(n = scan_u64(p, &number)) || p[n] != ' ' ||
		    number != stamp[i])
			return -1;
	if (field(&p, ' ', &w, &len) < 0 || len >= sizeof(state))
		return -1;
	snprintf(state, sizeof(state), "%.*s", (int)len, w);
	if (job_status_parse(state, &f->status) < 0 ||
	    !job_status_terminal(f->status) ||
	    field(&p, ' ', &f->started, &f->started_len) < 0 ||
	    field(&p, ' ', &f->queue, &f->queue_len) < 0 ||
	    field(&p, '\t', &f->tags, &f->tags_len) < 0 ||
	    field(&p, '\t', &f->cwd, &f->cwd_len) < 0 || !f->cwd_len)
		return -1;
	/* the entry is this job's, and whole */
	n = strlen(p);
	if (n < 2 || strncmp(p, "{\"job_id\":\"", 11) != 0 ||
	    strncmp(p + 11, line, JOB_ID_LEN) != 0 || p[n - 1] != '}')
		return -1;
	f->entry = p;
	f->entry_len = n;
	return 0;
}

int index_lookup(struct list_index *index, const char *id,
		 const struct stat *dir, struct index_fields *out)
{
	char **found = index_find(index, id);

	if (!found)
		return 0;
	if (line_parse(*found, dir, out) == 0) {
		index->kept[found - index->lines] = 1;
		return 1;
	}
	index->changed = 1;	/* stale: dropped */
	return 0;
}

void index_add(struct list_index *index, const char *id,
	       const struct stat *dir, const struct index_fields *f)
{
	char head[256];
	int n;

	if (index->fresh.error || strlen(id) != JOB_ID_LEN ||
	    !job_status_terminal(f->status) || !f->cwd || !*f->cwd ||
	    strpbrk(f->cwd, "\t\n") || strchr(f->entry, '\n') ||
	    time(NULL) - dir->st_ctim.tv_sec < SETTLED_S)
		return;
	n = snprintf(head, sizeof(head), "%s %llu %lld %ld %s %s %s ", id,
		     (unsigned long long)dir->st_ino,
		     (long long)dir->st_ctim.tv_sec, (long)dir->st_ctim.tv_nsec,
		     job_status_name(f->status), *f->started ? f->started : "-",
		     *f->queue ? f->queue : "-");
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	jw_raw(&index->fresh, head, (size_t)n);
	jw_raw(&index->fresh, *f->tags ? f->tags : "-",
	       *f->tags ? strlen(f->tags) : 1);
	jw_raw(&index->fresh, "\t", 1);
	jw_raw(&index->fresh, f->cwd, strlen(f->cwd));
	jw_raw(&index->fresh, "\t", 1);
	jw_raw(&index->fresh, f->entry, f->entry_len);
	jw_raw(&index->fresh, "\n", 1);
	index->changed = 1;
}

void index_save(int root_fd, struct list_index *index)
{
	struct json_writer w;

	if (!index->changed || index->fresh.error)
		return;
	jw_init_mem(&w, INDEX_MAX, 0);
	for (size_t i = 0; i < index->count; i++) {
		if (!index->kept[i])
			continue;	/* stale, or its job was not seen */
		jw_raw(&w, index->lines[i], strlen(index->lines[i]));
		jw_raw(&w, "\n", 1);
	}
	jw_raw(&w, index->fresh.buf, index->fresh.len);
	/* a cache: no fsync; a torn file is ignored line by line */
	if (!w.error)
		store_write_record(root_fd, INDEX_FILE, w.buf, w.len,
				   DURABLE_NONE);
	jw_free(&w);
}

void index_free(struct list_index *index)
{
	free(index->text);
	free(index->lines);
	free(index->kept);
	free(index->slots);
	jw_free(&index->fresh);
	*index = (struct list_index){ 0 };
}
