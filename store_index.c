/* store_index.c - list's index of finished jobs (store_index.h). A first
 * line "#agent-exec list-index 2 ROOT_S ROOT_NS" followed by " NAME" for
 * each entry of the root that is not indexed (running, unsettled,
 * unreadable): the root's mtime when those and the lines were all its
 * entries (0 0: unknown). Then one line a job, newest started first (as
 * list sorts):
 *   ID STARTED|- INO CTIME_S CTIME_NS STATE QUEUE|- TAGS|-<tab>CWD<tab>ENTRY
 * TAGS joined by commas; ENTRY the job's list entry, compact JSON. A job
 * whose cwd holds a tab or a newline is not indexed. A line that does not
 * read so is ignored, and the index is written again without it. A
 * last line "#lines N" says the file is whole. It lives in <root>/.list/,
 * so that writing it moves no mtime of the root. */
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

#define INDEX_DIR ".list"
#define INDEX_FILE "index"
#define TOUCH "../.list-touch"	/* from a job directory */
#define HEADER "#agent-exec list-index 2 "
#define TRAILER "#lines "	/* the last line: how many came before */
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

/* The header's figures after HEADER: ROOT_S ROOT_NS, then the names
 * not indexed (index->careful). 0, or -1. */
static int header_parse(const char *p, struct list_index *index)
{
	size_t n;

	for (int i = 0; i < 2; i++) {
		if (!(n = scan_u64(p, &index->root_mtime[i])) ||
		    (p[n] && p[n] != ' '))
			return -1;
		p += n + (p[n] == ' ');
	}
	index->careful = p;
	return 0;
}

/* .list/ of the root, open (made when make): its descriptor, or -1. */
static int index_dir(int root_fd, int make)
{
	if (make && mkdirat(root_fd, INDEX_DIR, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(root_fd, INDEX_DIR, O_RDONLY | O_DIRECTORY |
		      O_NOFOLLOW | O_CLOEXEC);
}

void index_load(int root_fd, struct list_index *index)
{
	int dir_fd = index_dir(root_fd, 0);
	uint64_t lines_said = UINT64_MAX;
	size_t len = 0, cap = 0;
	char *line, *end;
	struct stat st;

	*index = (struct list_index){ .changed = 1 };
	jw_init_mem(&index->fresh, INDEX_MAX, 0);
	jw_init_mem(&index->careful_now, INDEX_MAX, 0);
	/* .list/ is the private root's: none but us replaces the file
	 * between this look and the read (which follows no symlink) */
	if (dir_fd >= 0 &&
	    fstatat(dir_fd, INDEX_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    stat_private(&st) && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size <= INDEX_MAX &&
	    read_file_at(dir_fd, INDEX_FILE, INDEX_MAX, &index->text,
			 &len) == 0 && (line = memchr(index->text, '\n', len)) &&
	    len > strlen(HEADER) && !memcmp(index->text, HEADER,
					     strlen(HEADER))) {
		*line = '\0';
		index->ordered = header_parse(index->text + strlen(HEADER),
					      index) == 0;
		line++;
	} else {
		line = NULL;	/* none, or not ours */
	}
	for (; line && (end = memchr(line, '\n', len - (size_t)(line -
							      index->text)));
	     line = end + 1) {
		*end = '\0';
		if (array_room(&index->lines, &cap, index->count + 1,
			       sizeof(*index->lines)) < 0)
			break;
		/* the id, and room for the STARTED a sort compares */
		if (end - line > JOB_ID_LEN + TIMESTAMP_LEN + 1 &&
		    line[JOB_ID_LEN] == ' ')
			index->lines[index->count++] = line;
		else if (!strncmp(line, TRAILER, strlen(TRAILER)))
			scan_u64(line + strlen(TRAILER), &lines_said);
	}
	/* a file cut short (no fsync, then a crash) lost lines: the root's
	 * entries are not known from it */
	index->ordered &= lines_said == index->count;
	index->changed = !index->ordered;
	index->kept = calloc(index->count + 1, 1);
	if (!index->kept || index->count > UINT32_MAX / 2)
		index->count = 0;
	index_hash(index);
	if (dir_fd >= 0)
		close(dir_fd);
}

int index_root_unchanged(struct list_index *index, int root_fd)
{
	struct stat root;

	if (fstat(root_fd, &root) < 0)
		return 0;
	/* a name added within the same tick of the clock as the last
	 * change would leave the mtime as it was: a recent one is not
	 * recorded */
	if (time(NULL) - root.st_mtim.tv_sec >= SETTLED_S) {
		index->seen_mtime[0] = (uint64_t)root.st_mtim.tv_sec;
		index->seen_mtime[1] = (uint64_t)root.st_mtim.tv_nsec;
	}
	if (memcmp(index->seen_mtime, index->root_mtime,
		   sizeof(index->seen_mtime)) != 0) {
		index->changed = 1;
		return 0;
	}
	return index->ordered && index->root_mtime[0];
}

void index_careful(struct list_index *index, const char *name)
{
	/* a name a header cannot hold: the root's names go unrecorded */
	if (strpbrk(name, " \n"))
		index->seen_mtime[0] = 0;
	jw_raw(&index->careful_now, " ", 1);
	jw_raw(&index->careful_now, name, strlen(name));
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

/* A line's fields (its stamp unchecked): 0, or -1 when it does not read
 * as a line. */
static int line_parse(const char *line, struct index_fields *f)
{
	const char *p = line + JOB_ID_LEN + 1, *w;
	size_t n, len;
	char state[16];

	if (field(&p, ' ', &f->started, &f->started_len) < 0)
		return -1;
	/* INO CTIME_S CTIME_NS: the directory's when the line was made */
	for (int i = 0; i < 3; i++, p += n + 1)
		if (!(n = scan_u64(p, &f->stamp[i])) || p[n] != ' ')
			return -1;
	if (field(&p, ' ', &w, &len) < 0 || len >= sizeof(state))
		return -1;
	snprintf(state, sizeof(state), "%.*s", (int)len, w);
	if (job_status_parse(state, &f->status) < 0 ||
	    !job_status_terminal(f->status) ||
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

/* Whether the line's stamp is dir's (the job directory's stat). */
static int index_matches(const struct index_fields *f, const struct stat *dir)
{
	return f->stamp[0] == (uint64_t)dir->st_ino &&
	       f->stamp[1] == (uint64_t)dir->st_ctim.tv_sec &&
	       f->stamp[2] == (uint64_t)dir->st_ctim.tv_nsec;
}

int index_lookup(struct list_index *index, const char *id,
		 const struct stat *dir, struct index_fields *out)
{
	char **found = index_find(index, id);

	if (!found)
		return 0;
	index->kept[found - index->lines] =
		line_parse(*found, out) == 0 && index_matches(out, dir)
		? LINE_TRUSTED : LINE_STALE;
	index->changed |= index->kept[found - index->lines] == LINE_STALE;
	return index->kept[found - index->lines] == LINE_TRUSTED;
}

void index_touch(const struct job *job)
{
	/* best effort, as a cache is: an entry made and removed; one a crash
	 * left behind is removed all the same */
	(void)mkdirat(job->dir_fd, TOUCH, 0700);
	(void)unlinkat(job->dir_fd, TOUCH, AT_REMOVEDIR);
}

int index_add(struct list_index *index, const char *id,
	      const struct stat *dir, const struct index_fields *f)
{
	char head[256];
	int n;

	if (index->fresh.error || strlen(id) != JOB_ID_LEN ||
	    !job_status_terminal(f->status) || !f->cwd || !*f->cwd ||
	    strpbrk(f->cwd, "\t\n") || strchr(f->entry, '\n') ||
	    time(NULL) - dir->st_ctim.tv_sec < SETTLED_S ||
	    (*f->started && strlen(f->started) != TIMESTAMP_LEN))
		return 0;
	n = snprintf(head, sizeof(head), "%s %s %llu %lld %ld %s %s ", id,
		     *f->started ? f->started : "-",
		     (unsigned long long)dir->st_ino,
		     (long long)dir->st_ctim.tv_sec, (long)dir->st_ctim.tv_nsec,
		     job_status_name(f->status), *f->queue ? f->queue : "-");
	if (n < 0 || (size_t)n >= sizeof(head))
		return 0;
	jw_raw(&index->fresh, head, (size_t)n);
	jw_raw(&index->fresh, *f->tags ? f->tags : "-",
	       *f->tags ? strlen(f->tags) : 1);
	jw_raw(&index->fresh, "\t", 1);
	jw_raw(&index->fresh, f->cwd, strlen(f->cwd));
	jw_raw(&index->fresh, "\t", 1);
	jw_raw(&index->fresh, f->entry, f->entry_len);
	jw_raw(&index->fresh, "\n", 1);
	index->changed = 1;
	return !index->fresh.error;
}

/* list's order of two lines: newest started first (STARTED, a
 * timestamp or "-", leads each), never started last, ties by id, newest
 * first. */
static int line_newer(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	const char *x_started = x + JOB_ID_LEN + 1, *y_started = y + JOB_ID_LEN + 1;
	int order = (*x_started == '-') - (*y_started == '-');

	if (!order && *x_started != '-')
		order = memcmp(y_started, x_started, TIMESTAMP_LEN);
	return order ? order : memcmp(y, x, JOB_ID_LEN);
}

void index_save(int root_fd, struct list_index *index)
{
	size_t n = 0, most = index->count + 1;
	struct json_writer w;
	char header[96];
	char **order;
	int dir_fd;

	if (!index->changed || index->fresh.error)
		return;
	for (size_t i = 0; i < index->fresh.len; i++)
		most += index->fresh.buf[i] == '\n';
	order = calloc(most, sizeof(*order));
	if (!order)
		return;
	/* a line of the file stays when checked now, or, after a look at
	 * the newest alone, when not looked at */
	for (size_t i = 0; i < index->count; i++)
		if (index->kept[i] == LINE_TRUSTED ||
		    (index->partial && index->kept[i] == LINE_UNCHECKED))
			order[n++] = index->lines[i];
	for (char *line = index->fresh.buf; line && line < index->fresh.buf +
	     index->fresh.len; line = strchr(line, '\n') + 1)
		order[n++] = line;
	qsort(order, n, sizeof(*order), line_newer);
	jw_init_mem(&w, INDEX_MAX, 0);
	if (!index->seen_mtime[0] || index->careful_now.error)
		index->seen_mtime[0] = index->seen_mtime[1] = 0;
	jw_raw(&w, header, (size_t)snprintf(header, sizeof(header), HEADER
					    "%llu %llu", (unsigned long long)
					    index->seen_mtime[0],
					    (unsigned long long)
					    index->seen_mtime[1]));
	if (index->seen_mtime[0])
		jw_raw(&w, index->careful_now.buf, index->careful_now.len);
	jw_raw(&w, "\n", 1);
	for (size_t i = 0; i < n; i++) {
		/* a line read ends at its NUL, one added at its newline */
		jw_raw(&w, order[i], strcspn(order[i], "\n"));
		jw_raw(&w, "\n", 1);
	}
	jw_raw(&w, header, (size_t)snprintf(header, sizeof(header), TRAILER
					    "%zu\n", n));
	/* a cache: no fsync; a torn file is ignored line by line (one torn
	 * in its header, whole) */
	dir_fd = index_dir(root_fd, 1);
	if (!w.error && dir_fd >= 0)
		store_write_record(dir_fd, INDEX_FILE, w.buf, w.len,
				   DURABLE_NONE);
	if (dir_fd >= 0)
		close(dir_fd);
	jw_free(&w);
	free(order);
}

void index_free(struct list_index *index)
{
	free(index->text);
	free(index->lines);
	free(index->kept);
	free(index->slots);
	jw_free(&index->fresh);
	jw_free(&index->careful_now);
	*index = (struct list_index){ 0 };
}
