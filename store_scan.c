/* store_scan.c - the store as a whole: listing every job (gc and removal:
 * store_gc.c). */
#include "store_scan.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/owner.h"
#include "store_index.h"
#include "lib/utf8.h"

/* The command's words, or a single shell string's own words. */
static size_t command_words(const struct json_value *command,
			    const char *words[8], char *split, size_t size)
{
	const struct json_value *first = command && command->type == JSON_ARRAY
					 ? command->u.children.first : NULL;
	size_t count = 0;

	if (first && !first->next && first->type == JSON_STRING) {
		/* a script is named by its first command */
		snprintf(split, size, "%s", first->u.string.ptr);
		split[strcspn(split, ";&|\n()")] = '\0';
		for (char *at = split; count < 8;) {
			while (*at == ' ' || *at == '\t')
				at++;
			if (!*at)
				break;
			words[count++] = at;
			while (*at && *at != ' ' && *at != '\t')
				at++;
			if (*at)
				*at++ = '\0';
		}
		return count;
	}
	for (const struct json_value *w = first; w && count < 8; w = w->next)
		if (w->type == JSON_STRING)
			words[count++] = w->u.string.ptr;
	return count;
}

/* A derived short name for a job: its command's verb and target
 * ("npm run build", "pytest tests/"), at most size - 1 bytes. */
static void job_name(const struct json_value *command, char *name,
		     size_t size)
{
	const char *words[8];
	char split[256];
	size_t count = command_words(command, words, split, sizeof(split));
	size_t used = 0, parts = 0;

	name[0] = '\0';
	for (size_t i = 0; i < count && parts < 3; i++) {
		const char *word = words[i];
		const char *base = strrchr(word, '/');

		if (strcmp(word, "&&") == 0 || strcmp(word, "||") == 0 ||
		    strcmp(word, ";") == 0 || strcmp(word, "|") == 0)
			break;	/* the first command of a script names it */
		if (i > 0 && word[0] == '-')
			continue;	/* options say little */
		if (i == 0 && base && base[1])
			word = base + 1;	/* the verb, not its path */
		used += (size_t)snprintf(name + used, size > used ? size - used
					 : 0, "%s%s", used ? " " : "", word);
		if (used >= size)
			break;
		parts++;
	}
	if (used >= size && size > 4)
		memcpy(name + size - 4, "...", 4);
}

void job_summary_free(struct job_summary *summary)
{
	free(summary->created_at);
	free(summary->cwd);
	free(summary->meta_json);
	free(summary->command_json);
	strv_free_all(&summary->tags);
	if (!summary->in_slab)
		free(summary);
}

/* The caller metadata and the command as compact JSON, so list can print
 * them later. */
static int summary_copy_meta(struct job_summary *summary,
			     const struct json_value *meta)
{
	const struct json_value *command = json_get(meta, "command");
	struct json_writer w;

	jw_init_mem(&w, RECORD_MAX, 0);
	write_caller_meta_value(&w, meta);
	if (w.error) {
		jw_free(&w);
		return -1;
	}
	summary->meta_json = w.buf;	/* the writer's buffer is ours now */
	jw_init_mem(&w, RECORD_MAX, 0);
	if (command && command->type == JSON_ARRAY)
		jw_value(&w, command);
	else
		jw_raw(&w, "[]", 2);
	if (w.error) {
		jw_free(&w);
		return -1;
	}
	summary->command_json = w.buf;
	return 0;
}

static struct job_summary *summary_from_meta(const struct json_value *meta)
{
	struct job_summary *summary = calloc(1, sizeof(*summary));
	const struct json_value *tags = json_get(meta, "tags");
	const char *cwd = json_get_str(meta, "cwd");
	const char *raw_cwd = json_get_str(json_get(meta, "raw"), "cwd");

	if (!summary)
		return NULL;
	copy_str(summary->id, sizeof(summary->id),
		 json_get_str(json_get(meta, "job"), "id"));
	summary->created_at = strdup(json_get_str(meta, "created_at"));
	if (!summary->created_at)
		goto fail;
	job_name(json_get(meta, "command"), summary->name,
		 sizeof(summary->name));
	if (raw_cwd)
		summary->cwd = hex_decode(raw_cwd);	/* the exact bytes */
	else if (cwd && !(summary->cwd = strdup(cwd)))
		goto fail;
	if (summary_copy_meta(summary, meta) < 0)
		goto fail;
	if (tags && tags->type == JSON_ARRAY) {
		for (const struct json_value *tag = tags->u.children.first;
		     tag; tag = tag->next)
			if (tag->type == JSON_STRING &&
			    !strv_keep(&summary->tags,
				       strdup(tag->u.string.ptr)))
				goto fail;
	}
	return summary;
fail:
	job_summary_free(summary);
	return NULL;
}

int store_entry_may_be_job(const struct dirent *entry)
{
	return entry->d_name[0] != '.' &&
	       (entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN);
}

int store_job_at_name(const struct store_root *root, int root_fd,
		      const char *name, struct job *job)
{
	int dir_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY |
					   O_NOFOLLOW | O_CLOEXEC);

	/* store_job_at closes dir_fd when it fails */
	return dir_fd < 0 ? -1 : store_job_at(job, root, name, dir_fd);
}

/* <name>/<file> of the root, read by its path. */
static int read_job_record(const struct store_root *root, int root_fd,
			   const char *name, const char *file,
			   struct json_doc *doc)
{
	char path[JOB_ID_MAX + 16];
	struct error ignored;

	snprintf(path, sizeof(path), "%s/%s", name, file);
	return store_read_record(root_fd, root->abs, path, doc, &ignored);
}

int store_state_at_name(const struct store_root *root, int root_fd,
			const char *name, struct job_state *st)
{
	struct json_doc doc;
	int rc;

	if (read_job_record(root, root_fd, name, "state.json", &doc) < 0)
		return -1;
	rc = state_parse(doc.root, st);
	json_doc_free(&doc);
	return rc;
}

/* The common case, a job that is not running: both records read by
 * their paths from the root, no directory opened (no liveness to check).
 * 1 with *out; 0 when the job needs the careful path. */
static int list_settled(const struct store_root *root, int root_fd,
			const char *name, const struct stat *dir,
			const struct job_hooks *hooks,
			struct job_summary **out)
{
	struct json_doc doc;
	struct job_state st;

	/* a directory that is not private goes the careful way (skipped);
	 * so do a job.finished that was due, and leftovers (which live
	 * now?) */
	if (!stat_private(dir) ||
	    store_state_at_name(root, root_fd, name, &st) < 0 ||
	    job_status_live(st.status) || st.leftovers.count ||
	    (st.completion_event && hooks && hooks->finished) ||
	    read_job_record(root, root_fd, name, "meta.json", &doc) < 0)
		return 0;
	*out = meta_complete(doc.root) ? summary_from_meta(doc.root) : NULL;
	json_doc_free(&doc);
	if (!*out)
		return 0;
	(*out)->state = st;
	(*out)->state_ok = 1;
	return 1;
}

/* One directory of the root read from its records: 1 visited (*indexable
 * when list's index may keep it), 0 not a job, -1 unreadable. */
static int list_one(const struct store_root *root, int root_fd,
		    const char *name, const struct stat *dir,
		    const struct job_hooks *hooks, struct job_summary **out,
		    int *indexable)
{
	struct json_doc meta;
	struct error ignored;
	struct job job;

	*out = NULL;
	*indexable = 0;
	if (list_settled(root, root_fd, name, dir, hooks, out)) {
		*indexable = 1;
		return 1;
	}
	/* deleted meanwhile, or not a directory: not a job */
	if (store_job_at_name(root, root_fd, name, &job) < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP
		       ? 0 : -1;
	if (store_trusted(job.dir_fd, job.dir, &ignored) < 0) {
		store_job_close(&job);
		return -1;	/* another user's: skipped */
	}
	if (store_read_meta(&job, &meta, &ignored) < 0) {
		store_job_close(&job);
		return strcmp(ignored.code, "job_not_found") == 0 ? 0 : -1;
	}
	*out = summary_from_meta(meta.root);
	json_doc_free(&meta);
	if (*out)
		(*out)->state_ok = state_observe(&job, &(*out)->state,
						   &ignored) == 0;
	if (*out && (*out)->state_ok &&
	    job_status_terminal((*out)->state.status) && hooks &&
	    hooks->finished)
		hooks->finished(&job, &(*out)->state);
	/* a job.finished still to deliver: not settled yet */
	*indexable = *out && (*out)->state_ok && hooks && hooks->keep &&
		     !hooks->keep(&job, &(*out)->state);
	store_job_close(&job);
	if (*out && !(*out)->state_ok &&
	    strcmp(ignored.code, "job_not_found") == 0) {
		job_summary_free(*out);	/* deleted while we read it */
		*out = NULL;
		return 0;
	}
	return *out ? 1 : -1;
}

const char *summary_state(const struct job_summary *summary)
{
	return summary->state_ok ? job_status_name(summary->state.status)
				 : "unknown";
}

/* Each KEY=VALUE of want is in the job's caller metadata. */
static int meta_matches(const char *meta_json, const struct strv *want)
{
	struct json_doc doc;
	char why[64], key[136];
	int match = 1;

	if (!want || !want->n)
		return 1;
	if (json_parse(&doc, meta_json, strlen(meta_json), 4, why,
		       sizeof(why)) < 0)
		return 0;
	for (size_t i = 0; match && i < want->n; i++) {
		const char *entry = want->v[i], *value;
		size_t key_len = strcspn(entry, "=");

		snprintf(key, sizeof(key), "%.*s", (int)key_len, entry);
		value = json_get_str(doc.root, key);
		match = value && strcmp(value, entry + key_len + 1) == 0;
	}
	json_doc_free(&doc);
	return match;
}

static int filter_passes(const struct job_filter *filter,
			 const struct job_summary *summary)
{
	if (filter->cwd &&
	    (!summary->cwd || strcmp(summary->cwd, filter->cwd) != 0))
		return 0;
	if (filter->state &&
	    strcmp(summary_state(summary), filter->state) != 0)
		return 0;
	if (filter->queue && strcmp(summary->state.queue, filter->queue) != 0)
		return 0;
	if (filter->finished && !job_status_terminal(summary->state.status))
		return 0;
	for (size_t i = 0; filter->tags && i < filter->tags->n; i++)
		if (!tags_match(&summary->tags, filter->tags->v[i]))
			return 0;
	return meta_matches(summary->meta_json, filter->meta);
}

int job_list_add(struct job_list *list, struct job_summary *summary)
{
	if (array_room(&list->jobs, &list->cap, list->count + 1,
		       sizeof(*list->jobs)) < 0)
		return -1;
	list->jobs[list->count++] = summary;
	return 0;
}

/* What list sorts by, side by side (the summaries lie far apart). */
struct sort_key {
	char started[TIMESTAMP_LEN + 1];	/* "" when never started */
	char id[JOB_ID_MAX + 1];
	struct job_summary *summary;
};

/* Newest started first; never-started jobs last; ties by id, newest
 * first. */
static int key_order(const void *a, const void *b)
{
	const struct sort_key *x = *(struct sort_key *const *)a;
	const struct sort_key *y = *(struct sort_key *const *)b;
	int order;

	if (!*x->started != !*y->started)
		return *x->started ? -1 : 1;
	order = strcmp(y->started, x->started);
	return order ? order : strcmp(y->id, x->id);
}

/* Sort the list by its keys, copied side by side; unsorted when memory
 * is short (nothing is lost). */
static void list_sort(struct job_list *list)
{
	struct sort_key *keys = malloc(list->count * sizeof(*keys));
	struct sort_key **order = malloc(list->count * sizeof(*order));

	for (size_t i = 0; keys && order && i < list->count; i++) {
		struct job_summary *s = list->jobs[i];

		copy_str(keys[i].started, sizeof(keys[i].started),
			 s->state_ok ? s->state.started_at : "");
		copy_str(keys[i].id, sizeof(keys[i].id), s->id);
		keys[i].summary = s;
		order[i] = &keys[i];
	}
	if (keys && order) {
		qsort(order, list->count, sizeof(*order), key_order);
		for (size_t i = 0; i < list->count; i++)
			list->jobs[i] = order[i]->summary;
	}
	free(order);
	free(keys);
}

/* A job's summary from its line of list's index: its entry, what list
 * sorts by, and what filter asks of it (its cwd, its tags). */
static struct job_summary *summary_from_index(const char *id,
					      const struct index_fields *f,
					      const struct job_filter *filter,
					      struct job_list *list)
{
	/* one block for them all: thousands of small allocations of a
	 * large struct cost more than reading the index (and its pages
	 * not used cost nothing) */
	struct job_summary *s = list->slab_used < list->slab_size
				? &list->slab[list->slab_used++] : NULL;

	if (!s)
		return NULL;
	s->in_slab = 1;
	copy_str(s->id, sizeof(s->id), id);
	s->state.status = f->status;
	s->state_ok = 1;
	snprintf(s->state.started_at, sizeof(s->state.started_at), "%.*s",
		 (int)f->started_len, f->started);
	snprintf(s->state.queue, sizeof(s->state.queue), "%.*s",
		 (int)f->queue_len, f->queue);
	s->entry = f->entry;
	s->entry_len = f->entry_len;
	if (!filter->cwd && !(filter->tags && filter->tags->n))
		return s;
	s->cwd = strndup(f->cwd, f->cwd_len);
	for (const char *t = f->tags, *end = f->tags + f->tags_len;
	     s->cwd && t < end;) {
		const char *comma = memchr(t, ',', (size_t)(end - t));
		size_t len = (size_t)((comma ? comma : end) - t);
		if (!strv_keep(&s->tags, strndup(t, len)))
			break;
		t += len + 1;
	}
	if (!s->cwd || s->tags.n < (f->tags_len ? 1u : 0u)) {
		job_summary_free(s);
		return NULL;
	}
	return s;
}

/* Put a settled job read from its records into list's index: 1, or 0
 * when it cannot be. */
static int index_keep(struct list_index *index, const struct job_summary *s,
		      const struct stat *dir, const struct job_hooks *hooks)
{
	struct index_fields f = { .status = s->state.status,
				  .started = s->state.started_at,
				  .queue = s->state.queue, .cwd = s->cwd };
	struct json_writer tags, entry;
	int kept;

	jw_init_mem(&tags, RECORD_MAX, 0);
	jw_init_mem(&entry, RECORD_MAX, 0);
	for (size_t i = 0; i < s->tags.n; i++) {
		jw_raw(&tags, ",", i ? 1 : 0);
		jw_raw(&tags, s->tags.v[i], strlen(s->tags.v[i]));
	}
	hooks->entry(&entry, s);
	f.tags = tags.buf ? tags.buf : "";
	f.entry = entry.buf;
	f.entry_len = entry.len;
	kept = !tags.error && !entry.error && f.entry &&
	       index_add(index, s->id, dir, &f);
	jw_free(&tags);
	jw_free(&entry);
	return kept;
}

/* One job of the root: from list's index when its line is trusted, else
 * from its records (and then into the index when it is settled). */
static int list_entry(const struct store_root *root, int root_fd,
		      const char *name, const struct job_hooks *hooks,
		      const struct job_filter *filter,
		      struct list_index *index, uid_t index_uid,
		      struct job_list *list, struct job_summary **out)
{
	struct index_fields fields;
	struct stat dir;
	int rc = -1, indexable;

	/* only a directory as we make them (ours, 0700) is taken from the
	 * index; any other goes the careful way */
	if (fstatat(root_fd, name, &dir, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
	} else if (dir.st_uid == index_uid && (dir.st_mode & 0777) == 0700 &&
		   index_lookup(index, name, &dir, &fields) &&
		   (*out = summary_from_index(name, &fields, filter, list))) {
		return 1;
	} else {
		rc = list_one(root, root_fd, name, &dir, hooks, out,
			      &indexable);
		if (rc > 0 && indexable && hooks && hooks->entry &&
		    !(*out)->state.leftovers.count &&
		    index_keep(index, *out, &dir, hooks))
			return rc;
	}
	/* what is not indexed is read from its records next time too */
	if (rc)
		index_careful(index, name);
	return rc;
}

/* Read root entry name into the list when it passes filter: 0, or -1
 * out of memory. */
static int list_name(const struct store_root *root, int root_fd,
		     const char *name, const struct job_filter *filter,
		     const struct job_hooks *hooks, struct list_index *index,
		     uid_t index_uid, struct job_list *list)
{
	struct job_summary *summary;
	int rc = list_entry(root, root_fd, name, hooks, filter, index,
			    index_uid, list, &summary);

	if (rc < 0)
		list->skipped++;
	if (rc <= 0)
		return 0;
	if (!filter_passes(filter, summary)) {
		job_summary_free(summary);
		return 0;
	}
	if (job_list_add(list, summary) == 0)
		return 0;
	job_summary_free(summary);
	return -1;
}

/* list when the root holds the entries it held when list's index was
 * written: no listing of the root, and with --limit N only the newest of
 * what the index holds (restart and tag set move the root's mtime: what
 * they change is never served unchecked). The entries it did not hold
 * (running, unsettled, unreadable) are read from their records; then its
 * lines, newest first (so the list is nearly in order already), each
 * checked against its directory (a stale one read from the records),
 * until N + 1 pass the filter: an older one cannot be among the first
 * N + 1. 0, or -1 out of memory. */
static int list_newest(const struct store_root *root, int root_fd,
		       const struct job_filter *filter,
		       const struct job_hooks *hooks,
		       struct list_index *index, struct job_list *list)
{
	uid_t uid = geteuid();
	char name[NAME_MAX + 1];
	size_t taken = 0;

	index->partial = 1;
	for (const char *p = index->careful; *p; p += *p == ' ') {
		size_t len = strcspn(p, " ");

		copy_str(name, len < sizeof(name) ? len + 1 : sizeof(name), p);
		if (list_name(root, root_fd, name, filter, hooks, index, uid,
			      list) < 0)
			return -1;
		p += len;
	}
	for (size_t i = 0; i < index->count &&
	     (!filter->limit || taken <= filter->limit); i++) {
		size_t before = list->count;

		copy_str(name, JOB_ID_LEN + 1, index->lines[i]);
		if (list_name(root, root_fd, name, filter, hooks, index, uid,
			      list) < 0)
			return -1;
		taken += list->count - before;
	}
	return 0;
}

/* Every job of the root, from list's index when its line is trusted. */
static int list_all(const struct store_root *root, DIR *dir,
		    const struct job_filter *filter,
		    const struct job_hooks *hooks, struct list_index *index,
		    uid_t index_uid, struct job_list *list)
{
	struct dirent *entry;

	while ((entry = readdir(dir)))
		if (store_entry_may_be_job(entry) &&
		    list_name(root, dirfd(dir), entry->d_name, filter, hooks,
			      index, index_uid, list) < 0)
			return -1;
	return 0;
}

int store_list(const struct store_root *root, const struct job_filter *filter,
	       const struct job_hooks *hooks, struct job_list *list,
	       struct error *e)
{
	/* the index knows no caller metadata */
	int use_index = !filter->meta || !filter->meta->n;
	uid_t index_uid = use_index ? geteuid() : (uid_t)-1;
	struct list_index index;
	DIR *dir;
	int root_fd, opened, rc = 0;

	*list = (struct job_list){ 0 };
	opened = store_root_listing(root, &dir, e);
	if (opened <= 0)
		return opened;
	root_fd = dirfd(dir);
	index_load(root_fd, &index);
	/* untouched pages of the slab cost nothing */
	list->slab = calloc(index.count, sizeof(*list->slab));
	list->slab_size = list->slab ? index.count : 0;
	if (use_index && hooks && hooks->entry &&
	    index_root_unchanged(&index, root_fd))
		rc = list_newest(root, root_fd, filter, hooks, &index, list);
	else
		rc = list_all(root, dir, filter, hooks, &index, index_uid,
			      list);
	if (rc >= 0 && hooks && hooks->entry && use_index)
		index_save(root_fd, &index);
	list->index_text = index.text;	/* the entries point into it */
	index.text = NULL;
	index_free(&index);
	closedir(dir);
	if (rc < 0) {
		job_list_free(list);
		return error_errno(e, NULL, ENOMEM, "cannot list jobs");
	}
	if (list->count > 1)
		list_sort(list);
	return 0;
}

void job_list_free(struct job_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		job_summary_free(list->jobs[i]);
	free(list->jobs);
	free(list->index_text);
	free(list->slab);
	*list = (struct job_list){ 0 };
}

int store_summary(const struct job *job, struct job_summary **out,
		  struct error *e)
{
	struct json_doc meta;

	if (store_read_meta(job, &meta, e) < 0)
		return -1;
	*out = summary_from_meta(meta.root);
	json_doc_free(&meta);
	return *out ? 0 : error_errno(e, NULL, ENOMEM, "cannot read job %s",
				      job->id);
}
