/* store_spec.c - a job's definition on disk: meta.json (and env.json, the
 * real --env values of a job started later), written once, read back,
 * updated member by member under a lock; the job's stdin file. */
#include "store_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/utf8.h"
#include "store_index.h"

int spec_env_masked(const struct strv *mask, const char *entry)
{
	size_t key_len = strcspn(entry, "=");

	for (size_t i = 0; mask && i < mask->n; i++)
		if (strlen(mask->v[i]) == key_len &&
		    strncmp(mask->v[i], entry, key_len) == 0)
			return 1;
	return 0;
}

char *spec_env_display(const struct job_spec *spec, const char *entry)
{
	size_t key_len = strcspn(entry, "=");
	char *shown;

	if (!spec_env_masked(&spec->mask, entry))
		return strdup(entry);
	shown = malloc(key_len + 5);
	if (shown) {
		memcpy(shown, entry, key_len);
		memcpy(shown + key_len, "=***", 5);
	}
	return shown;
}

void spec_write_env_vars(struct json_writer *w, const struct job_spec *spec)
{
	if (spec->env.n == 0)
		return;
	jw_kv_array_begin(w, "env_vars");
	for (size_t i = 0; i < spec->env.n; i++) {
		char *shown = spec_env_display(spec, spec->env.v[i]);

		jw_string(w, shown ? shown : "");
		free(shown);
	}
	jw_array_end(w);
}

static void write_env_members(struct json_writer *w,
			      const struct job_spec *spec)
{
	jw_kv_array_begin(w, "env_keys");
	for (size_t i = 0; i < spec->env.n; i++)
		jw_string_n(w, spec->env.v[i], strcspn(spec->env.v[i], "="));
	jw_array_end(w);
	spec_write_env_vars(w, spec);
	if (spec->mask.n)
		jw_kv_strings(w, "mask", spec->mask.v, spec->mask.n);
}

/* The spec's lists, with the member of meta.json that holds each as an
 * array of strings (env is env.json's, meta an object: read apart). */
static const struct __attribute__((packed)) {	/* 10 bytes, not 16 */
	unsigned short offset;
	const char *key;
} spec_lists[] = {
	{ offsetof(struct job_spec, command), "command" },
	{ offsetof(struct job_spec, wrapper), "shell_wrapper" },
	{ offsetof(struct job_spec, env_files), "env_files" },
	{ offsetof(struct job_spec, mask), "mask" },
	{ offsetof(struct job_spec, tags), "tags" },
	{ offsetof(struct job_spec, after), "after" },
	{ offsetof(struct job_spec, after_ok), "after_ok" },
	{ offsetof(struct job_spec, env), NULL },
	{ offsetof(struct job_spec, meta), NULL },
};
#define SPEC_LISTS (sizeof(spec_lists) / sizeof(*spec_lists))

static struct strv *spec_list(struct job_spec *spec, size_t i)
{
	return (struct strv *)((char *)spec + spec_lists[i].offset);
}

void spec_free(struct job_spec *spec)
{
	for (size_t i = 0; i < SPEC_LISTS; i++)
		strv_free(spec_list(spec, i));
	free(spec->cwd);
	free(spec->full_log);
	spec->cwd = spec->full_log = NULL;
}

/* A list of its own (copies of the strings) in place of a borrowed one. */
static int strv_own(struct strv *list)
{
	struct strv own = { 0 };

	for (size_t i = 0; i < list->n; i++) {
		if (!strv_keep(&own, strdup(list->v[i])))
			return -1;
	}
	*list = own;
	return 0;
}

int spec_copy(struct job_spec *to, const struct job_spec *from)
{
	*to = *from;
	to->cwd = strdup(from->cwd);
	to->full_log = from->full_log ? strdup(from->full_log) : NULL;
	if (!to->cwd || (from->full_log && !to->full_log) ||
	    (from->queue && !(to->queue = strdup(from->queue))))
		return -1;
	for (size_t i = 0; i < SPEC_LISTS; i++)
		if (strv_own(spec_list(to, i)) < 0)
			return -1;
	return 0;
}

void spec_write_caller_meta(struct json_writer *w,
			    const struct job_spec *spec)
{
	jw_kv_object_begin(w, "meta");
	for (size_t i = 0; i < spec->meta.n; i++) {
		const char *entry = spec->meta.v[i];
		size_t key_len = strcspn(entry, "=");
		char key[160];

		copy_str(key, key_len + 1 < sizeof(key) ? key_len + 1
							 : sizeof(key), entry);
		jw_kv_str(w, key, entry[key_len] ? entry + key_len + 1 : "");
	}
	jw_object_end(w);
}

/* JSON holds text, not bytes: a string that is not UTF-8 is stored as its
 * lossy text where it is shown, and exactly, in hex, under "raw". */
static void jw_hex(struct json_writer *w, const char *text)
{
	char *hex = hex_encode(text);

	jw_string(w, hex);	/* null when out of memory */
	free(hex);
}

static int strv_all_utf8(const struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!utf8_valid(sv->v[i]))
			return 0;
	return 1;
}

static void jw_hex_strv(struct json_writer *w, const char *key,
			const struct strv *sv)
{
	jw_kv_array_begin(w, key);
	for (size_t i = 0; i < sv->n; i++)
		jw_hex(w, sv->v[i]);
	jw_array_end(w);
}

/* "raw": the exact bytes of what start needs and JSON cannot hold. */
static void write_raw_spec(struct json_writer *w, const struct job_spec *spec)
{
	int command = !strv_all_utf8(&spec->command);
	int cwd = !utf8_valid(spec->cwd);
	int files = !strv_all_utf8(&spec->env_files);
	int log = spec->full_log && !utf8_valid(spec->full_log);

	if (!command && !cwd && !files && !log)
		return;
	jw_kv_object_begin(w, "raw");
	if (command)
		jw_hex_strv(w, "command", &spec->command);
	if (cwd) {
		jw_key(w, "cwd");
		jw_hex(w, spec->cwd);
	}
	if (files)
		jw_hex_strv(w, "env_files", &spec->env_files);
	if (log) {
		jw_key(w, "log_path");
		jw_hex(w, spec->full_log);
	}
	jw_object_end(w);
}

void spec_read_notification(const struct json_value *notification,
			    struct notification_spec *out)
{
	const struct json_value *match = json_get(notification,
						  "on_output_match");

	memset(out, 0, sizeof(*out));
	out->command = json_get_str(notification, "notify_command");
	out->file = json_get_str(notification, "notify_file");
	out->on = json_get_str(notification, "notify_on");
	out->has_timeout = json_get_u64(notification, "notify_timeout_ms",
					&out->timeout_ms) == 0;
	out->has_retries = json_get_u64(notification, "notify_retries",
					&out->retries) == 0;
	out->pattern = json_get_str(match, "pattern");
	out->match_type = json_get_str(match, "match_type");
	out->stream = json_get_str(match, "stream");
	out->match_command = json_get_str(match, "command");
	out->match_file = json_get_str(match, "file");
}

void spec_write_notification(struct json_writer *w,
			     const struct notification_spec *n)
{
	jw_object_begin(w);
	if (n->command)
		jw_kv_str(w, "notify_command", n->command);
	if (n->file)
		jw_kv_str(w, "notify_file", n->file);
	if (n->on && strcmp(n->on, "finished"))
		jw_kv_str(w, "notify_on", n->on);
	if (n->has_timeout)
		jw_kv_u64(w, "notify_timeout_ms", n->timeout_ms);
	if (n->has_retries)
		jw_kv_u64(w, "notify_retries", n->retries);
	if (n->pattern) {
		jw_kv_object_begin(w, "on_output_match");
		jw_kv_str(w, "pattern", n->pattern);
		jw_kv_str(w, "match_type", n->match_type ? n->match_type
							 : "contains");
		jw_kv_str(w, "stream", n->stream ? n->stream : "either");
		if (n->match_command)
			jw_kv_str(w, "command", n->match_command);
		if (n->match_file)
			jw_kv_str(w, "file", n->match_file);
		jw_object_end(w);
	}
	jw_object_end(w);
}

static const char *const stdin_modes[] = { "null", "file", "interactive" };

/* How the job gets its input: stdin_mode, and pty when on a terminal. */
static void write_input_spec(struct json_writer *w,
			     const struct job_spec *spec)
{
	jw_kv_str(w, "stdin_mode", stdin_modes[spec->stdin_mode]);
	if (spec->stdin_mode == STDIN_FILE)
		jw_kv_u64(w, "stdin_bytes", spec->stdin_bytes);
	if (!spec->pty)
		return;
	jw_kv_object_begin(w, "pty");
	jw_kv_u64(w, "cols", spec->pty_cols);
	jw_kv_u64(w, "rows", spec->pty_rows);
	jw_object_end(w);
}

static void read_input_spec(const struct json_value *meta,
			    struct job_spec *spec)
{
	const char *mode = json_get_str(meta, "stdin_mode");
	const struct json_value *pty = json_get(meta, "pty");
	uint64_t number;

	for (size_t i = 0; mode && i < 3; i++)
		if (strcmp(mode, stdin_modes[i]) == 0)
			spec->stdin_mode = (enum stdin_mode)i;
	if (json_get_u64(meta, "stdin_bytes", &number) == 0)
		spec->stdin_bytes = number;
	if (!pty || pty->type != JSON_OBJECT)
		return;
	spec->pty = 1;
	spec->pty_cols = json_get_u64(pty, "cols", &number) == 0 ?
			 (unsigned)number : 80;
	spec->pty_rows = json_get_u64(pty, "rows", &number) == 0 ?
			 (unsigned)number : 24;
}

/* env.json: the real --env entries, for start and restart. */
static int write_env_record(const struct job *job, const struct job_spec *spec)
{
	struct json_writer w;

	jw_init_mem(&w, RECORD_MAX, 1);
	jw_object_begin(&w);
	jw_kv_strings(&w, "env", spec->env.v, spec->env.n);
	if (!strv_all_utf8(&spec->env))
		jw_hex_strv(&w, "env_hex", &spec->env);
	jw_object_end(&w);
	return store_write_json(job->dir_fd, "env.json", &w, DURABLE_FULL);
}

int store_write_meta(const struct job *job, const struct store_root *root,
		     const struct job_spec *spec, const char *created_at,
		     struct error *e)
{
	struct json_writer w;

	jw_init_mem(&w, RECORD_MAX, 1);
	jw_object_begin(&w);
	jw_kv_object_begin(&w, "job");
	jw_kv_str(&w, "id", job->id);
	jw_object_end(&w);
	jw_kv_str(&w, "schema_version", SCHEMA_VERSION);
	jw_kv_strings(&w, "command", spec->command.v, spec->command.n);
	jw_kv_str(&w, "created_at", created_at);
	jw_kv_str(&w, "root", root->path);
	write_env_members(&w, spec);
	jw_kv_str(&w, "cwd", spec->cwd);
	jw_kv_strings(&w, "tags", spec->tags.v, spec->tags.n);
	jw_kv_bool(&w, "inherit_env", spec->inherit_env);
	if (spec->env_files.n)
		jw_kv_strings(&w, "env_files", spec->env_files.v,
			      spec->env_files.n);
	jw_kv_u64(&w, "timeout_ms", spec->timeout_ms);
	jw_kv_u64(&w, "kill_after_ms", spec->kill_after_ms);
	if (spec->kill_leftovers)
		jw_kv_bool(&w, "kill_leftovers", 1);
	jw_kv_u64(&w, "progress_every_ms", spec->progress_every_ms);
	jw_kv_strings(&w, "shell_wrapper", spec->wrapper.v, spec->wrapper.n);
	if (spec->queue)
		jw_kv_str(&w, "queue", spec->queue);
	if (spec->after.n)
		jw_kv_strings(&w, "after", spec->after.v, spec->after.n);
	if (spec->after_ok.n)
		jw_kv_strings(&w, "after_ok", spec->after_ok.v,
			      spec->after_ok.n);
	if (spec->full_log)
		jw_kv_str(&w, "log_path", spec->full_log);
	write_input_spec(&w, spec);
	if (spec->meta.n)
		spec_write_caller_meta(&w, spec);
	if (spec->has_notification) {
		jw_key(&w, "notification");
		spec_write_notification(&w, &spec->notification);
	}
	write_raw_spec(&w, spec);
	jw_object_end(&w);
	if (spec->env.n && write_env_record(job, spec) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/env.json",
				   job->dir);
	if (store_write_json(job->dir_fd, "meta.json", &w, 0) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/meta.json",
				   job->dir);
	return 0;
}

int meta_complete(const struct json_value *meta)
{
	const struct json_value *command = json_get(meta, "command");
	const struct json_value *env_keys = json_get(meta, "env_keys");

	return json_get_str(json_get(meta, "job"), "id") &&
	       json_get_str(meta, "schema_version") &&
	       command && command->type == JSON_ARRAY &&
	       json_get_str(meta, "created_at") &&
	       json_get_str(meta, "root") &&
	       env_keys && env_keys->type == JSON_ARRAY;
}

int store_read_meta(const struct job *job, struct json_doc *doc,
		    struct error *e)
{
	if (store_read_record(job->dir_fd, job->dir, "meta.json", doc, e) < 0)
		return -1;
	if (!meta_complete(doc->root)) {
		json_doc_free(doc);
		errno = EINVAL;
		return error_set(e, "corrupt_record",
			    "%s/meta.json lacks required keys", job->dir);
	}
	return 0;
}

static int strv_from_json(struct strv *sv, const struct json_value *array)
{
	if (!array || array->type != JSON_ARRAY)
		return 0;
	for (const struct json_value *item = array->u.children.first; item;
	     item = item->next)
		if (item->type == JSON_STRING &&
		    strv_push(sv, (char *)item->u.string.ptr) < 0)
			return -1;
	return 0;
}

/* Caller metadata back as KEY=VALUE entries; the strings are built here
 * and owned by the records. */
static int meta_entries_from_json(struct strv *sv, struct spec_records *rec,
				  const struct json_value *object)
{
	if (!object || object->type != JSON_OBJECT)
		return 0;
	for (const struct json_value *member = object->u.children.first;
	     member; member = member->next) {
		size_t key_len = member->key_len, value_len;
		char *entry;

		if (member->type != JSON_STRING)
			continue;
		value_len = member->u.string.len;
		entry = strv_keep(&rec->owned, malloc(key_len + value_len + 2));
		if (!entry)
			return -1;
		memcpy(entry, member->key, key_len);
		entry[key_len] = '=';
		memcpy(entry + key_len + 1, member->u.string.ptr, value_len);
		entry[key_len + 1 + value_len] = '\0';
		if (strv_push(sv, entry) < 0)
			return -1;
	}
	return 0;
}

static uint64_t json_u64_or(const struct json_value *obj, const char *key,
			    uint64_t fallback)
{
	uint64_t value;

	return json_get_u64(obj, key, &value) == 0 ? value : fallback;
}

/* Exact bytes from "raw" (hex), replacing the lossy text read before. */
static int strv_from_hex(struct strv *sv, struct spec_records *rec,
			 const struct json_value *array)
{
	struct strv exact = { 0 };

	if (!array || array->type != JSON_ARRAY)
		return 0;
	for (const struct json_value *item = array->u.children.first; item;
	     item = item->next) {
		char *bytes = item->type == JSON_STRING
			      ? hex_decode(item->u.string.ptr) : NULL;

		if (!strv_keep(&rec->owned, bytes) ||
		    strv_push(&exact, bytes) < 0) {
			strv_free(&exact);
			return -1;
		}
	}
	strv_free(sv);
	*sv = exact;
	return 0;
}

static int string_from_hex(char **out, const char *hex)
{
	char *bytes;

	if (!hex)
		return 0;
	bytes = hex_decode(hex);
	if (!bytes)
		return -1;
	free(*out);
	*out = bytes;
	return 0;
}

static int read_raw_spec(const struct json_value *meta,
			 struct spec_records *rec, struct job_spec *spec)
{
	const struct json_value *raw = json_get(meta, "raw");

	if (!raw)
		return 0;
	return strv_from_hex(&spec->command, rec, json_get(raw, "command")) ||
	       strv_from_hex(&spec->env_files, rec,
			     json_get(raw, "env_files")) ||
	       string_from_hex(&spec->cwd, json_get_str(raw, "cwd")) ||
	       string_from_hex(&spec->full_log, json_get_str(raw, "log_path"))
	       ? -1 : 0;
}

/* The --env values of a created job. The reference's records carry them
 * in env_vars_runtime; ours keep them in env.json, because meta.json shows
 * masked values as KEY=***. A job with --env entries and neither is
 * corrupt: the mask must never silently become the value. */
static int read_env_entries(const struct job *job, struct spec_records *rec,
			    struct job_spec *spec, struct error *e)
{
	const struct json_value *meta = rec->meta.root;
	const struct json_value *shown = json_get(meta, "env_vars");
	const struct json_value *env;

	if (json_get(meta, "env_vars_runtime"))
		return strv_from_json(&spec->env,
				      json_get(meta, "env_vars_runtime")) < 0 ?
		       error_errno(e, NULL, errno, "out of memory") : 0;
	if (!shown || shown->type != JSON_ARRAY || shown->u.children.count == 0)
		return 0;
	if (store_read_record(job->dir_fd, job->dir, "env.json", &rec->env,
			      e) < 0)
		return -1;
	env = json_get(rec->env.root, "env");
	if (env && env->type == JSON_ARRAY &&
	    strv_from_json(&spec->env, env) == 0 &&
	    !strv_from_hex(&spec->env, rec,
			   json_get(rec->env.root, "env_hex")) &&
	    spec->env.n == shown->u.children.count)
		return 0;
	return error_set(e, "corrupt_record", "%s/env.json does not hold the "
			 "--env values meta.json shows: they are lost; delete "
			 "the job and make it again", job->dir);
}

int store_read_spec(const struct job *job, struct job_spec *spec,
		    struct spec_records *rec, struct error *e)
{
	const struct json_value *meta;
	const char *cwd, *log_path;
	static char *default_wrapper[] = { "sh", "-lc" };

	memset(spec, 0, sizeof(*spec));
	memset(rec, 0, sizeof(*rec));
	if (store_read_meta(job, &rec->meta, e) < 0)
		return -1;
	meta = rec->meta.root;
	cwd = json_get_str(meta, "cwd");
	log_path = json_get_str(meta, "log_path");
	spec->inherit_env = json_get_bool(meta, "inherit_env", 1);
	read_input_spec(meta, spec);
	spec->timeout_ms = json_u64_or(meta, "timeout_ms", 0);
	spec->kill_after_ms = json_u64_or(meta, "kill_after_ms", 0);
	spec->kill_leftovers = json_get_bool(meta, "kill_leftovers", 0);
	spec->progress_every_ms = json_u64_or(meta, "progress_every_ms", 0);
	spec->cwd = cwd ? strdup(cwd) : path_effective(".");
	spec->full_log = log_path ? strdup(log_path) : NULL;
	spec->queue = json_get_str(meta, "queue");
	for (size_t i = 0; i < SPEC_LISTS && spec_lists[i].key; i++)
		if (strv_from_json(spec_list(spec, i),
				   json_get(meta, spec_lists[i].key)) < 0)
			goto no_memory;
	if (!spec->cwd || (log_path && !spec->full_log) ||
	    meta_entries_from_json(&spec->meta, rec,
				   json_get(meta, "meta")) < 0 ||
	    read_raw_spec(meta, rec, spec) < 0)
		goto no_memory;
	if (read_env_entries(job, rec, spec, e) < 0)
		goto fail;
	if (spec->wrapper.n == 0)
		for (size_t i = 0; i < 2; i++)
			if (strv_push(&spec->wrapper, default_wrapper[i]) < 0)
				goto no_memory;
	if (spec->command.n)
		return 0;
	error_set(e, "corrupt_record", "%s/meta.json has an empty command",
		  job->dir);
	goto fail;
no_memory:
	error_errno(e, NULL, ENOMEM, "cannot read the job %s", job->id);
fail:
	spec_free(spec);
	spec_records_free(rec);
	return -1;
}

void spec_records_free(struct spec_records *rec)
{
	json_doc_free(&rec->meta);
	json_doc_free(&rec->env);
	strv_free_all(&rec->owned);
}

/* The caller metadata object of a meta.json record ({} when none). */
void write_caller_meta_value(struct json_writer *w,
				    const struct json_value *meta_record)
{
	const struct json_value *meta = json_get(meta_record, "meta");

	if (meta && meta->type == JSON_OBJECT) {
		jw_value(w, meta);
	} else {
		jw_object_begin(w);
		jw_object_end(w);
	}
}

void store_write_caller_meta(struct json_writer *w,
			     const struct json_value *meta_record)
{
	jw_key(w, "meta");
	write_caller_meta_value(w, meta_record);
}

int store_meta_update(const struct job *job, const char *key,
		      meta_member_builder build, void *ctx, struct error *e)
{
	int lock_fd = store_claim_meta(job), rc = -1, keep;
	const struct json_value *old;
	struct json_writer w, value;
	struct json_doc meta, parsed;
	char parse_error[128];

	if (lock_fd < 0) {
		error_errno(e, NULL, errno, "cannot lock %s", job->dir);
		goto out;
	}
	if (store_read_meta(job, &meta, e) < 0)
		goto out;
	old = json_get(meta.root, key);
	jw_init_mem(&value, RECORD_MAX, 0);
	keep = build(old, &value, ctx, e);
	if (keep < 0 || value.error) {
		if (keep >= 0)
			error_errno(e, NULL, value.error, "cannot update %s",
				    job->dir);
		jw_free(&value);
		json_doc_free(&meta);
		goto out;
	}
	/* the new value goes through the record's writer, which indents it
	 * at its depth */
	if (keep && json_parse(&parsed, value.buf, value.len, 32, parse_error,
			       sizeof(parse_error)) < 0) {
		error_set(e, "internal_error", "cannot update %s: %s", job->dir,
			  parse_error);
		jw_free(&value);
		json_doc_free(&meta);
		goto out;
	}
	jw_init_mem(&w, RECORD_MAX, 1);
	jw_object_begin(&w);
	for (const struct json_value *member = meta.root->u.children.first;
	     member; member = member->next) {
		if (member == old) {
			if (keep) {
				jw_key(&w, key);
				jw_value(&w, parsed.root);
			}
		} else {
			jw_key(&w, member->key);
			jw_value(&w, member);
		}
	}
	if (!old && keep) {
		jw_key(&w, key);
		jw_value(&w, parsed.root);
	}
	jw_object_end(&w);
	if (keep)
		json_doc_free(&parsed);
	jw_free(&value);
	json_doc_free(&meta);
	if (store_write_json(job->dir_fd, "meta.json", &w, 1) < 0)
		error_errno(e, NULL, errno, "cannot write %s/meta.json",
			    job->dir);
	else
		rc = 0;
out:
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}

static int build_tags(const struct json_value *old, struct json_writer *w,
		      void *ctx, struct error *e)
{
	const struct strv *tags = ctx;

	(void)old;
	(void)e;
	jw_array_begin(w);
	for (size_t i = 0; i < tags->n; i++)
		jw_string(w, tags->v[i]);
	jw_array_end(w);
	return 1;
}

int store_set_tags(const struct job *job, const struct strv *tags,
		   struct error *e)
{
	int rc;

	index_touch(job);	/* list's index has the old tags */
	rc = store_meta_update(job, "tags", build_tags, (void *)tags, e);
	index_touch(job);
	return rc;
}

static int build_true(const struct json_value *old,
		      struct json_writer *w, void *ctx, struct error *e)
{
	(void)old;
	(void)ctx;
	(void)e;
	jw_bool(w, 1);
	return 1;
}

static int build_string(const struct json_value *old,
			struct json_writer *w, void *ctx, struct error *e)
{
	(void)old;
	(void)e;
	jw_string(w, ctx);
	return 1;
}

int store_set_queue(const struct job *job, const char *queue,
		    struct error *e)
{
	return store_meta_update(job, "queue", build_string, (void *)queue, e);
}

int store_set_kill_leftovers(const struct job *job, struct error *e)
{
	return store_meta_update(job, "kill_leftovers", build_true, NULL, e);
}

int meta_wants_completion(const struct json_value *meta)
{
	struct notification_spec n;

	spec_read_notification(json_get(meta, "notification"), &n);
	return (n.command && *n.command) || (n.file && *n.file);
}

int store_write_stdin(const struct job *job, int fd, uint64_t max_bytes,
		      uint64_t *bytes, struct error *e)
{
	char buf[65536];
	int out = openat(job->dir_fd, "stdin", O_WRONLY | O_CREAT | O_EXCL |
			 O_CLOEXEC | O_NOFOLLOW, 0600);
	ssize_t got;

	*bytes = 0;
	if (out < 0)
		return error_errno(e, NULL, errno, "cannot create %s/stdin",
				   job->dir);
	while ((got = read_full(fd, buf, sizeof(buf))) > 0) {
		if (*bytes + (uint64_t)got > max_bytes) {
			close(out);
			return error_set(e, "input_too_large", "the job's input "
					 "is larger than --stdin-max-bytes "
					 "(%llu)", (unsigned long long)max_bytes);
		}
		if (write_all(out, buf, (size_t)got) < 0)
			break;
		*bytes += (uint64_t)got;
	}
	if (got < 0 || close(out) < 0)
		return error_errno(e, NULL, errno, "cannot copy the job's input "
				   "to %s/stdin", job->dir);
	return 0;
}
