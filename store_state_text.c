/* store_state_text.c - the text of state.json: the names of the states
 * and of exec errors, the one format of the record and its parsing. Pure:
 * what reads or writes the file is store_state.c. */
#include "store_state_text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/fmt.h"

static const char status_names[][8] = {
	"created", "running", "exited", "killed", "failed", "unknown",
	"queued"
};

const char *job_status_name(enum job_status status)
{
	return status_names[status];
}

int job_status_parse(const char *name, enum job_status *out)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(*status_names);
	     i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum job_status)i;
			return 0;
		}
	}
	return -1;
}

int job_status_terminal(enum job_status status)
{
	return status == JOB_EXITED || status == JOB_KILLED ||
	       status == JOB_FAILED;
}

int job_status_live(enum job_status status)
{
	return status == JOB_RUNNING || status == JOB_QUEUED;
}

static const char exec_error_names[][18] = {
	"", "not_found", "permission_denied", "is_a_directory",
	"cannot_execute"
};

const char *exec_error_name(enum exec_error error)
{
	return exec_error_names[error];
}

static enum exec_error exec_error_parse(const char *name)
{
	for (size_t i = 1; name && i < sizeof(exec_error_names) /
				     sizeof(*exec_error_names); i++)
		if (strcmp(name, exec_error_names[i]) == 0)
			return (enum exec_error)i;
	return EXEC_OK;
}

static void write_result(struct json_writer *w, const struct job_state *st)
{
	jw_kv_object_begin(w, "result");
	jw_key(w, "exit_code");
	if (st->has_exit_code)
		jw_i64(w, st->exit_code);
	else
		jw_null(w);
	jw_key(w, "signal");
	jw_string(w, st->signal[0] ? st->signal : NULL);
	jw_key(w, "duration_ms");
	if (st->has_duration)
		jw_u64(w, st->duration_ms);
	else
		jw_null(w);
	jw_object_end(w);
}

void state_write_text(struct json_writer *w, const char *key,
		      const char *text)
{
	if (text[0])
		jw_kv_str(w, key, text);
}

void state_write_signal(struct json_writer *w, const char *key,
			const char *number)
{
	uint64_t signo;
	char name[12], name_key[32];

	if (!number[0])
		return;
	jw_kv_str(w, key, number);
	snprintf(name_key, sizeof(name_key), "%s_name", key);
	if (parse_u64(number, &signo) == 0 && signo < 256 &&
	    signal_name((int)signo, name) == 0)
		jw_kv_str(w, name_key, name);
}

void state_write_usage(struct json_writer *w, const struct job_state *st)
{
	if (!st->has_usage)
		return;
	jw_kv_object_begin(w, "usage");
	jw_kv_u64(w, "user_cpu_ms", st->user_cpu_ms);
	jw_kv_u64(w, "sys_cpu_ms", st->sys_cpu_ms);
	jw_kv_u64(w, "max_rss_kib", st->max_rss_kib);
	jw_object_end(w);
}

void state_write_leftovers(struct json_writer *w, const struct job_state *st)
{
	const struct leftovers *left = &st->leftovers;
	uint32_t shown = left->count < LEFTOVER_PIDS_SHOWN ? left->count
							  : LEFTOVER_PIDS_SHOWN;

	if (left->count) {
		jw_kv_object_begin(w, "leftovers");
		jw_kv_u64(w, "count", left->count);
		jw_kv_array_begin(w, "pids");
		for (uint32_t i = 0; i < shown; i++)
			jw_i64(w, left->pids[i]);
		jw_array_end(w);
		jw_object_end(w);
	}
	if (st->leftovers_killed)
		jw_kv_u64(w, "leftovers_killed", st->leftovers_killed);
}

void state_format(struct json_writer *w, const struct job_state *st)
{
	jw_object_begin(w);
	jw_kv_object_begin(w, "job");
	jw_kv_str(w, "id", st->id);
	jw_kv_str(w, "status", job_status_name(st->status));
	state_write_text(w, "started_at", st->started_at);
	jw_object_end(w);
	write_result(w, st);
	if (st->has_pid)
		jw_kv_i64(w, "pid", st->pid);
	state_write_text(w, "finished_at", st->finished_at);
	jw_kv_str(w, "updated_at", st->updated_at);
	if (st->supervisor_pid)
		jw_kv_i64(w, "supervisor_pid", st->supervisor_pid);
	if (st->attempt > 1)
		jw_kv_u64(w, "attempt", st->attempt);
	if (st->timed_out)
		jw_kv_bool(w, "timed_out", 1);
	if (st->completion_event)
		jw_kv_bool(w, "completion_event", 1);
	state_write_text(w, "error", st->error);
	state_write_text(w, "dependency", st->dependency);
	state_write_text(w, "ended_by", st->ended_by);
	state_write_text(w, "queue", st->queue);
	if (st->status == JOB_QUEUED && st->waiting_for[0])
		jw_kv_str(w, "waiting_for", st->waiting_for);
	if (st->exec_error)
		jw_kv_str(w, "exec_error", exec_error_name(st->exec_error));
	state_write_usage(w, st);
	state_write_leftovers(w, st);
	jw_object_end(w);
}


static void parse_usage(const struct json_value *usage, struct job_state *st)
{
	if (!usage || usage->type != JSON_OBJECT)
		return;
	st->has_usage = json_get_u64(usage, "user_cpu_ms",
				     &st->user_cpu_ms) == 0;
	json_get_u64(usage, "sys_cpu_ms", &st->sys_cpu_ms);
	json_get_u64(usage, "max_rss_kib", &st->max_rss_kib);
}

static void parse_leftovers(const struct json_value *left,
			    struct job_state *st)
{
	const struct json_value *pids = json_get(left, "pids");
	uint32_t shown = 0;
	uint64_t count;
	int64_t pid;

	if (!left || left->type != JSON_OBJECT ||
	    json_get_u64(left, "count", &count) < 0 || count == 0 ||
	    count > UINT32_MAX)
		return;
	st->leftovers.count = (uint32_t)count;
	if (!pids || pids->type != JSON_ARRAY)
		return;
	for (const struct json_value *v = pids->u.children.first;
	     v && shown < LEFTOVER_PIDS_SHOWN; v = v->next)
		if (json_value_i64(v, &pid) == 0 && pid > 0 &&
		    pid <= INT32_MAX)
			st->leftovers.pids[shown++] = (int32_t)pid;
}

int state_parse(const struct json_value *root, struct job_state *st)
{
	const struct json_value *job = json_get(root, "job");
	const struct json_value *result = json_get(root, "result");
	const char *status = json_get_str(job, "status");
	uint64_t killed, attempt = 1;
	int64_t number;

	memset(st, 0, sizeof(*st));
	if (!json_get_str(job, "id") || !status ||
	    job_status_parse(status, &st->status) < 0 ||
	    st->status == JOB_UNKNOWN || !result ||
	    result->type != JSON_OBJECT || !json_get_str(root, "updated_at"))
		return -1;
	copy_str(st->id, sizeof(st->id), json_get_str(job, "id"));
	copy_str(st->started_at, sizeof(st->started_at),
		 json_get_str(job, "started_at"));
	copy_str(st->finished_at, sizeof(st->finished_at),
		 json_get_str(root, "finished_at"));
	copy_str(st->updated_at, sizeof(st->updated_at),
		 json_get_str(root, "updated_at"));
	if (json_get_i64(result, "exit_code", &number) == 0 &&
	    number >= INT32_MIN && number <= INT32_MAX) {
		st->has_exit_code = 1;
		st->exit_code = (int)number;
	}
	copy_str(st->signal, sizeof(st->signal),
		 json_get_str(result, "signal"));
	st->has_duration = json_get_u64(result, "duration_ms",
					&st->duration_ms) == 0;
	st->has_pid = json_get_i64(root, "pid", &st->pid) == 0;
	json_get_i64(root, "supervisor_pid", &st->supervisor_pid);
	st->timed_out = json_get_bool(root, "timed_out", 0);
	st->completion_event = json_get_bool(root, "completion_event", 0);
	json_get_u64(root, "attempt", &attempt);
	st->attempt = attempt && attempt <= UINT32_MAX ? (uint32_t)attempt : 1;
	copy_str(st->error, sizeof(st->error), json_get_str(root, "error"));
	copy_str(st->dependency, sizeof(st->dependency),
		 json_get_str(root, "dependency"));
	copy_str(st->ended_by, sizeof(st->ended_by),
		 json_get_str(root, "ended_by"));
	copy_str(st->queue, sizeof(st->queue), json_get_str(root, "queue"));
	if (st->status == JOB_QUEUED)
		copy_str(st->waiting_for, sizeof(st->waiting_for),
			 json_get_str(root, "waiting_for"));
	st->exec_error = exec_error_parse(json_get_str(root, "exec_error"));
	parse_usage(json_get(root, "usage"), st);
	parse_leftovers(json_get(root, "leftovers"), st);
	if (json_get_u64(root, "leftovers_killed", &killed) == 0 &&
	    killed <= UINT32_MAX)
		st->leftovers_killed = (uint32_t)killed;
	return 0;
}

