/* notify_record.c - what became of an event's delivery, on disk:
 * completion_event.json and notification_events.ndjson, written and read
 * back here only. */
#include "notify_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "lib/fmt.h"
#include "notify.h"
#include "store_attempt.h"

#define RESULTS_MAX 256		/* attempts recorded per event */

struct delivery_result *record_result_add(struct delivery_results *results,
					  const char *target)
{
	struct delivery_result *grown, *r;

	if (results->n == RESULTS_MAX) {
		/* the first attempt stays, and the latest: the one between
		 * goes, and is counted */
		free(results->v[1].target);
		memmove(&results->v[1], &results->v[2],
			(results->n - 2) * sizeof(*results->v));
		results->n--;
		results->omitted++;
		if (results->settled > 1)
			results->settled--;
	}
	grown = realloc(results->v, (results->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	results->v = grown;
	r = &results->v[results->n];
	memset(r, 0, sizeof(*r));
	r->target = strdup(target ? target : "");
	if (!r->target)
		return NULL;
	results->n++;
	return r;
}

void record_results_free(struct delivery_results *results)
{
	for (size_t i = 0; i < results->n; i++)
		free(results->v[i].target);
	free(results->v);
	memset(results, 0, sizeof(*results));
}

void record_write_results(struct json_writer *w,
			  const struct delivery_results *results)
{
	jw_array_begin(w);
	for (size_t i = 0; i < results->n; i++) {
		const struct delivery_result *r = &results->v[i];

		jw_object_begin(w);
		jw_kv_str(w, "sink_type", r->type == SINK_COMMAND ? "command"
								  : "file");
		jw_kv_str(w, "target", r->target);
		jw_kv_bool(w, "success", r->success);
		if (!r->success)
			jw_kv_str(w, "error", r->error);
		jw_kv_str(w, "attempted_at", r->attempted_at);
		jw_kv_u64(w, "attempt", r->attempt);
		jw_kv_u64(w, "duration_ms", r->duration_ms);
		jw_object_end(w);
	}
	jw_array_end(w);
}

static const char *const status_names[] = {
	"pending", "delivered", "failed", "dropped"
};

/* The event's members followed by what became of its delivery. */
static int format_record(struct json_writer *w, const char *event,
			 size_t len, const struct delivery_results *results,
			 enum delivery_status status)
{
	struct json_doc doc;
	char err[64];

	if (json_parse(&doc, event, len, 32, err, sizeof(err)) < 0)
		return -1;
	jw_object_begin(w);
	for (const struct json_value *m = doc.root->u.children.first; m;
	     m = m->next) {
		jw_key(w, m->key);
		jw_value(w, m);
	}
	jw_key(w, "delivery_results");
	record_write_results(w, results);
	if (results->omitted)
		jw_kv_u64(w, "delivery_results_omitted", results->omitted);
	jw_kv_bool(w, "delivered", status == DELIVERY_DELIVERED);
	jw_kv_str(w, "delivery_status", status_names[status]);
	jw_object_end(w);
	json_doc_free(&doc);
	return 0;
}

int record_write(const struct job *job, int completion, const char *event,
		 size_t len, const struct delivery_results *results,
		 enum delivery_status status)
{
	struct json_writer w;
	int rc = -1;

	jw_init_mem(&w, EVENT_MAX + 65536, completion);
	if (format_record(&w, event, len, results, status) == 0 && !w.error)
		rc = completion
		     ? store_write_record(job->dir_fd, COMPLETION_FILE, w.buf,
					  w.len, DURABLE_FULL)
		     : append_line(job->dir_fd, MATCH_FILE, w.buf, w.len);
	jw_free(&w);
	return rc;
}

char *record_path(const struct job *job, int completion)
{
	return store_job_path(job, completion ? COMPLETION_FILE : MATCH_FILE);
}

/* Parse completion_event.json: 0, or -1 with errno ENOENT (missing) or
 * EINVAL (unreadable, message in err). */
static int read_completion(const struct job *job, struct json_doc *doc,
			   char *err, size_t err_size)
{
	char *text;
	size_t len;
	int rc;

	if (read_file_at(job->dir_fd, COMPLETION_FILE, EVENT_MAX * 2, &text,
			 &len) < 0) {
		int saved = errno;

		copy_str(err, err_size, strerror(saved));
		errno = saved;
		return -1;
	}
	rc = json_parse(doc, text, len, 32, err, err_size);
	free(text);
	if (rc == 0 && doc->root->type != JSON_OBJECT) {
		json_doc_free(doc);
		snprintf(err, err_size, "not a JSON object");
		rc = -1;
	}
	if (rc < 0)
		errno = EINVAL;
	return rc;
}

enum completion_found record_completion_found(const struct job *job,
					     uint64_t *attempts)
{
	const struct json_value *results;
	uint64_t omitted;
	struct json_doc doc;
	enum completion_found found = COMPLETION_UNREADABLE;
	const char *status;
	char err[64];

	if (read_completion(job, &doc, err, sizeof(err)) < 0)
		return errno == ENOENT ? COMPLETION_MISSING
				       : COMPLETION_UNREADABLE;
	status = json_get_str(doc.root, "delivery_status");
	for (size_t i = 0; status && i < 3; i++)
		if (strcmp(status, status_names[i]) == 0)
			found = (enum completion_found)(COMPLETION_PENDING + i);
	results = json_get(doc.root, "delivery_results");
	if (attempts && results && results->type == JSON_ARRAY)
		*attempts += results->u.children.count;
	if (attempts && json_get_u64(doc.root, "delivery_results_omitted",
				     &omitted) == 0)
		*attempts += omitted;
	json_doc_free(&doc);
	return found;
}

/* The event part of a completion record: every member but the delivery
 * keys. */
static void event_from_record(const struct json_value *record,
			      struct json_writer *w)
{
	jw_object_begin(w);
	for (const struct json_value *m = record->u.children.first; m;
	     m = m->next) {
		if (!strcmp(m->key, "delivery_results") ||
		    !strcmp(m->key, "delivery_results_omitted") ||
		    !strcmp(m->key, "delivered") ||
		    !strcmp(m->key, "delivery_status"))
			continue;
		jw_key(w, m->key);
		jw_value(w, m);
	}
	jw_object_end(w);
}

/* Earlier attempts of a record, kept so the file stays the full story. */
static void results_from_record(struct delivery_results *history,
				const struct json_value *record)
{
	const struct json_value *results = json_get(record, "delivery_results");
	uint64_t omitted;

	if (json_get_u64(record, "delivery_results_omitted", &omitted) == 0)
		history->omitted = omitted;
	if (!results || results->type != JSON_ARRAY)
		return;
	for (const struct json_value *r = results->u.children.first; r;
	     r = r->next) {
		const char *type = json_get_str(r, "sink_type");
		struct delivery_result *out;
		uint64_t number;

		out = record_result_add(history, json_get_str(r, "target"));
		if (!out)
			return;
		out->type = type && !strcmp(type, "file") ? SINK_FILE
							  : SINK_COMMAND;
		out->success = json_get_bool(r, "success", 0);
		out->attempt = json_get_u64(r, "attempt", &number) == 0
			       ? (unsigned)number : 0;
		out->duration_ms = json_get_u64(r, "duration_ms", &number) == 0
				   ? number : 0;
		copy_str(out->attempted_at, sizeof(out->attempted_at),
			 json_get_str(r, "attempted_at"));
		copy_str(out->error, sizeof(out->error),
			 json_get_str(r, "error"));
	}
}

int record_read_completion(const struct job *job, char **event, size_t *len,
			   char *event_id, size_t id_size,
			   struct delivery_results *history, struct error *e)
{
	struct json_writer w;
	struct json_doc doc;
	const char *id;
	char err[128];

	if (read_completion(job, &doc, err, sizeof(err)) < 0) {
		if (errno != EINVAL)
			return error_set(e, "invalid_state", "job %s has no "
					 "completion event to deliver (%s/"
					 COMPLETION_FILE "): %s", job->id,
					 job->dir, err);
		return error_set(e, "corrupt_record", "cannot parse %s/"
				 COMPLETION_FILE ": %s", job->dir, err);
	}
	id = json_get_str(doc.root, "event_id");
	copy_str(event_id, id_size, id);
	jw_init_mem(&w, EVENT_MAX, 0);
	event_from_record(doc.root, &w);
	results_from_record(history, doc.root);
	json_doc_free(&doc);
	if (w.error) {
		jw_free(&w);
		return error_errno(e, NULL, ENOMEM, "cannot redeliver");
	}
	*event = w.buf;		/* the writer's buffer is the caller's now */
	*len = w.len;
	return 0;
}
