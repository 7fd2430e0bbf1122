/* notify.c - events about jobs: the notification settings of meta.json
 * and what notify set does to them, and the payloads of job.finished and
 * job.output.matched. Their delivery is notify_sink.c's. */
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "json_parse.h"
#include "lib/fmt.h"
#include "store_logs.h"

#define EVENT_TAIL_LINES 40
#define EVENT_TAIL_BYTES 4096

static const char *nonempty(const char *text)
{
	return text && *text ? text : NULL;
}

static enum match_stream stream_parse(const char *name)
{
	if (name && strcmp(name, "stdout") == 0)
		return MATCH_STDOUT;
	if (name && strcmp(name, "stderr") == 0)
		return MATCH_STDERR;
	return MATCH_EITHER;
}

int notify_settings_read(const struct json_value *meta,
			 struct notify_settings *out, struct error *e)
{
	struct notification_spec n;
	char why[128];

	spec_read_notification(json_get(meta, "notification"), &n);
	memset(out, 0, sizeof(*out));
	out->command = nonempty(n.command);
	out->file = nonempty(n.file);
	out->on = n.on ? notify_on_parse(n.on) : 0;
	if (!out->on)
		out->on = COMPLETION_ON_SUCCESS | COMPLETION_ON_FAILURE;
	out->timeout_ms = n.has_timeout ? n.timeout_ms : NOTIFY_TIMEOUT_DEFAULT;
	out->retries = n.has_retries ? n.retries : NOTIFY_RETRIES_DEFAULT;
	out->pattern = nonempty(n.pattern);
	if (!out->pattern)
		return 0;
	out->match = 1;
	out->match_regex = n.match_type && strcmp(n.match_type, "regex") == 0;
	out->stream = stream_parse(n.stream);
	out->match_command = nonempty(n.match_command);
	out->match_file = nonempty(n.match_file);
	if (!out->match_regex)
		return 0;
	out->compiled = pattern_compile(out->pattern, why, sizeof(why));
	if (!out->compiled) {
		out->match = 0;
		if (errno == ENOMEM)
			return error_errno(e, NULL, ENOMEM, "compile regex");
		return error_set(e, "invalid_regex", "invalid regex \"%.100s\": "
				 "%s", out->pattern, why);
	}
	return 0;
}

void notify_settings_free(struct notify_settings *settings)
{
	pattern_free(settings->compiled);
	settings->compiled = NULL;
	settings->match = 0;
}

int notify_finished_wanted(const struct notify_settings *settings)
{
	return settings->command || settings->file ? settings->on : 0;
}

int notify_finished_due(const struct notify_settings *settings,
			const struct job_state *st)
{
	int success = st->status == JOB_EXITED && st->exit_code == 0;

	return notify_finished_wanted(settings) &
	       (success ? COMPLETION_ON_SUCCESS : COMPLETION_ON_FAILURE);
}

int notify_on_parse(const char *word)
{
	return !strcmp(word, "finished")
	       ? COMPLETION_ON_SUCCESS | COMPLETION_ON_FAILURE
	       : !strcmp(word, "success") ? COMPLETION_ON_SUCCESS
	       : !strcmp(word, "failure") ? COMPLETION_ON_FAILURE : 0;
}

/* Whether text[0..len) contains needle. */
static int contains(const char *text, size_t len, const char *needle)
{
	return memmem(text, len, needle, strlen(needle)) != NULL;
}

int notify_line_matches(const struct notify_settings *settings,
			enum match_stream stream, const char *line, size_t len)
{
	if (!settings->match || !(settings->stream & stream))
		return 0;
	if (!settings->match_regex)
		return contains(line, len, settings->pattern);
	return settings->compiled &&
	       pattern_match(settings->compiled, line, len);
}

static const char *pick(const char *change, const char *current)
{
	return change ? change : current;
}

/* The notification after a change: the recorded one with what was given
 * replacing it; any output flag rebuilds the rule from the current one
 * (or contains/either); an empty string clears. */
static void fields_merge(struct notification_spec *f,
			 const struct json_value *old,
			 const struct notify_change *c)
{
	int match_given = c->pattern || c->match_type || c->stream ||
			  c->match_command || c->match_file;

	spec_read_notification(old, f);
	f->command = nonempty(pick(c->command, f->command));
	f->file = nonempty(pick(c->file, f->file));
	f->on = pick(c->on, f->on);
	if (c->has_timeout) {
		f->has_timeout = 1;
		f->timeout_ms = c->timeout_ms;
	}
	if (c->has_retries) {
		f->has_retries = 1;
		f->retries = c->retries;
	}
	if (match_given) {
		f->pattern = pick(c->pattern, f->pattern);
		f->match_type = pick(c->match_type, f->match_type
				     ? f->match_type : "contains");
		f->stream = pick(c->stream, f->stream ? f->stream : "either");
		f->match_command = pick(c->match_command, f->match_command);
		f->match_file = pick(c->match_file, f->match_file);
	}
	f->pattern = nonempty(f->pattern);
	f->match_command = nonempty(f->match_command);
	f->match_file = nonempty(f->match_file);
}

/* Delivery settings without a sink or a rule mean nothing: empty. */
static int fields_empty(const struct notification_spec *f)
{
	return !f->command && !f->file && !f->pattern;
}

static int check_regex(const struct notification_spec *f, struct error *e)
{
	struct pattern *compiled;
	char why[128];

	if (!f->pattern || !f->match_type ||
	    strcmp(f->match_type, "regex") != 0)
		return 0;
	compiled = pattern_compile(f->pattern, why, sizeof(why));
	if (compiled) {
		pattern_free(compiled);
		return 0;
	}
	if (errno == ENOMEM)
		return error_errno(e, NULL, ENOMEM, "compile regex");
	return error_set(e, "invalid_regex", "invalid regex \"%.100s\": %s",
			 f->pattern, why);
}

int notify_rule_check(const struct notification_spec *rule,
		      struct error *e)
{
	return check_regex(rule, e);
}

static int build_notification(const struct json_value *old,
			      struct json_writer *value, void *ctx,
			      struct error *e)
{
	struct notify_change *change = ctx;
	struct notification_spec fields;
	struct json_writer compact;

	fields_merge(&fields, old, change);
	if (check_regex(&fields, e) < 0)
		return -1;
	jw_init_mem(&compact, RECORD_MAX, 0);
	spec_write_notification(&compact, &fields);
	free(change->result);
	change->result = compact.error ? NULL : compact.buf;
	if (!change->result) {
		jw_free(&compact);
		return error_errno(e, NULL, ENOMEM, "notify set");
	}
	if (fields_empty(&fields)) {
		/* nothing left: the key goes, the answer says {} */
		memcpy(change->result, "{}", 3);
		return 0;
	}
	spec_write_notification(value, &fields);
	return 1;
}

int notify_set(const struct job *job, struct notify_change *change,
	       struct error *e)
{
	change->result = NULL;
	return store_meta_update(job, "notification", build_notification,
				 change, e);
}

static const char *meta_value(const struct job_spec *spec, const char *key)
{
	size_t key_len = strlen(key);

	for (size_t i = 0; i < spec->meta.n; i++)
		if (!strncmp(spec->meta.v[i], key, key_len) &&
		    spec->meta.v[i][key_len] == '=')
			return spec->meta.v[i] + key_len + 1;
	return NULL;
}

void notifier_config_init(struct notifier_config *config,
			  const struct job *job, const struct job_spec *spec)
{
	config->job = job;
	config->wrapper = &spec->wrapper;
	config->cwd = spec->cwd;
	config->mask = &spec->mask;
	config->callback_session = meta_value(spec, META_CALLBACK_SESSION);
	config->callback_agent = meta_value(spec, META_CALLBACK_AGENT);
	config->attempt = 1;
}

/* The caller's metadata, and its callback keys at the top level too. */
static void write_caller(struct json_writer *w,
			 const struct notifier_config *config,
			 const struct json_value *meta)
{
	if (config->callback_session)
		jw_kv_str(w, "callback_session", config->callback_session);
	if (config->callback_agent)
		jw_kv_str(w, "callback_agent", config->callback_agent);
	store_write_caller_meta(w, meta);
}

/* The job's duration; for a job whose supervisor was lost, the span
 * between the recorded start and the moment the loss was found. */
static uint64_t event_duration(const struct job_state *st)
{
	time_t started, finished;

	if (st->has_duration)
		return st->duration_ms;
	if (parse_utc(st->started_at, &started) < 0 ||
	    parse_utc(st->finished_at, &finished) < 0 || finished < started)
		return 0;
	return (uint64_t)(finished - started) * 1000;
}

/* Where the job ran: its tags (as meta.json has them now) and the host. */
static void write_origin(struct json_writer *w, const struct json_value *meta)
{
	const struct json_value *tags = json_get(meta, "tags");
	struct utsname host;

	jw_key(w, "tags");
	if (tags)
		jw_value(w, tags);
	else
		jw_raw(w, "[]", 2);
	if (uname(&host) == 0)
		jw_kv_str(w, "host", host.nodename);
}

/* The members every event starts with. */
static void event_begin(struct json_writer *w, const char *type,
			const char *job_id)
{
	jw_object_begin(w);
	jw_kv_str(w, "schema_version", SCHEMA_VERSION);
	jw_kv_str(w, "event_type", type);
	jw_kv_str(w, "job_id", job_id);
}

/* job.finished: the reference's keys, then ours. */
void notify_write_finished(struct json_writer *w,
			   const struct notifier_config *config,
			   const char *event_id,
				 const struct job_state *st,
				 const struct json_value *meta,
				 uint64_t matches_dropped)
{
	const struct job *job = config->job;
	struct tail_info tails[2];
	uint64_t next[2];

	event_begin(w, "job.finished", job->id);
	jw_kv_str(w, "state", job_status_name(st->status));
	jw_key(w, "command");
	jw_value(w, json_get(meta, "command"));
	if (json_get_str(meta, "cwd"))
		jw_kv_str(w, "cwd", json_get_str(meta, "cwd"));
	state_write_text(w, "started_at", st->started_at);
	jw_kv_str(w, "finished_at", st->finished_at);
	jw_kv_u64(w, "duration_ms", event_duration(st));
	if (st->has_exit_code)
		jw_kv_i64(w, "exit_code", st->exit_code);
	state_write_signal(w, "signal", st->signal);
	store_write_log_paths(w, job);
	jw_kv_str(w, "event_id", event_id);
	store_write_outputs(w, job, &(struct output_read){
				    .tail_lines = EVENT_TAIL_LINES,
				    .max_bytes = EVENT_TAIL_BYTES },
			    tails, next);
	jw_kv_bool(w, "timed_out", st->timed_out);
	state_write_text(w, "ended_by", st->ended_by);
	state_write_text(w, "error", st->error);
	state_write_text(w, "dependency", st->dependency);
	if (st->exec_error)
		jw_kv_str(w, "exec_error", exec_error_name(st->exec_error));
	state_write_usage(w, st);
	state_write_leftovers(w, st);	/* as the main process ended */
	write_origin(w, meta);
	jw_kv_u64(w, "attempt", st->attempt);
	if (matches_dropped)
		jw_kv_u64(w, "output_matches_dropped", matches_dropped);
	write_caller(w, config, meta);
	jw_object_end(w);
}

void notify_event_id(char *id, size_t size, const struct job *job,
		     uint32_t attempt, uint64_t seq)
{
	int len = seq ? snprintf(id, size, "%s:job.output.matched:%llu",
				 job->id, (unsigned long long)seq)
		      : snprintf(id, size, "%s:job.finished", job->id);

	if (attempt > 1 && len > 0 && (size_t)len < size)
		snprintf(id + len, size - (size_t)len, "-a%u",
			 (unsigned)attempt);
}

void notify_write_dropped(struct json_writer *w,
			  const struct notifier_config *config,
			  uint64_t first_seq, uint64_t count)
{
	char id[JOB_ID_MAX + 64];

	event_begin(w, "job.output.dropped", config->job->id);
	jw_kv_u64(w, "dropped", count);
	notify_event_id(id, sizeof(id), config->job, config->attempt,
			first_seq);
	jw_kv_str(w, "first_event_id", id);
	notify_event_id(id, sizeof(id), config->job, config->attempt,
			first_seq + count - 1);
	jw_kv_str(w, "last_event_id", id);
	jw_kv_str(w, "reason", "queue_full");
	jw_object_end(w);
}

void notify_write_matched(struct json_writer *w,
			  const struct notifier_config *config,
			  const char *event_id,
				const struct notify_settings *settings,
				const struct json_value *meta,
				enum match_stream stream, const char *line,
				size_t len)
{
	char at[TIMESTAMP_LEN + 1];

	event_begin(w, "job.output.matched", config->job->id);
	jw_kv_str(w, "pattern", settings->pattern);
	jw_kv_str(w, "match_type", settings->match_regex ? "regex"
							 : "contains");
	jw_kv_str(w, "stream", stream == MATCH_STDOUT ? "stdout" : "stderr");
	jw_key(w, "line");
	jw_string_n(w, line, len);
	format_utc_now(at);
	jw_kv_str(w, "matched_at", at);
	store_write_log_paths(w, config->job);
	jw_kv_str(w, "event_id", event_id);
	write_caller(w, config, meta);
	jw_object_end(w);
}
