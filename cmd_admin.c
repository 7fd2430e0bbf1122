/* cmd_admin.c - the commands about the store and the program: list, gc,
 * events, schema, install-skills. */
#include "cmd.h"
#include "store_gc.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void write_summary(struct json_writer *w,
			  const struct job_summary *summary)
{
	const struct job_state *st = &summary->state;

	if (summary->entry) {	/* as list's index keeps it */
		jw_raw(w, summary->entry, summary->entry_len);
		return;
	}
	jw_object_begin(w);
	jw_kv_str(w, "job_id", summary->id);
	jw_kv_str(w, "name", summary->name);
	jw_kv_str(w, "state", summary_state(summary));
	write_times(w, summary->created_at, summary->state_ok ? st : NULL);
	jw_key(w, "tags");
	jw_array_begin(w);
	for (size_t i = 0; i < summary->tags.n; i++)
		jw_string(w, summary->tags.v[i]);
	jw_array_end(w);
	write_json(w, "command", summary->command_json);
	if (summary->state_ok) {
		state_write_signal(w, "signal", st->signal);
		if (st->error[0])
			jw_kv_str(w, "error", st->error);
		if (st->exec_error)
			jw_kv_str(w, "exec_error",
				  exec_error_name(st->exec_error));
		state_write_leftovers(w, st);
		write_queue_place(w, NULL, st);
	}
	write_json(w, "meta", summary->meta_json);
	write_short_id(w, summary->id);
	jw_object_end(w);
}

/* cwd_scope: the directory listed, or null (--all). */
static void write_listing(struct cli *cli, const struct job_list *list,
			  const char *cwd_scope)
{
	struct json_writer *w = &cli->out;
	uint64_t limit = number_or(cli, O_LIMIT, 0);
	int truncated = limit > 0 && list->count > limit;
	size_t shown = truncated ? (size_t)limit : list->count;

	envelope_begin(w, "list");
	jw_kv_str(w, "root", cli->root.path);
	jw_key(w, "cwd_scope");
	if (cwd_scope)
		jw_string(w, cwd_scope);
	else
		jw_null(w);
	jw_key(w, "jobs");
	jw_array_begin(w);
	for (size_t i = 0; i < shown; i++)
		write_summary(w, list->jobs[i]);
	jw_array_end(w);
	jw_kv_bool(w, "truncated", truncated);
	jw_kv_u64(w, "skipped", list->skipped);
}

/* list and gc finish the deliveries a dead supervisor left, and gc keeps
 * a job until its job.finished is delivered. */
static const struct job_hooks finished_hooks = {
	.finished = notify_ensure_delivered,
	.keep = notify_undelivered,
	.entry = write_summary,
};

int cmd_list(struct cli *cli)
{
	struct job_filter filter = { .state = cli->args.value[O_STATE],
				     .queue = cli->args.value[O_QUEUE],
				     .tags = &cli->args.list[O_TAG],
				     .limit = number_or(cli, O_LIMIT, 0) };
	struct job_list list;
	char *cwd = NULL;
	int rc = -1;

	if (!cli->args.seen[O_ALL]) {
		const char *given = cli->args.value[O_CWD];

		cwd = path_effective(given ? given : ".");
		/* the code run and create give for the same cause */
		if (!cwd && given)
			return error_errno(&cli->error, "invalid_cwd", errno,
					   "cannot resolve --cwd \"%s\"", given);
		if (!cwd)
			return error_errno(&cli->error, "invalid_cwd", errno,
					   "cannot resolve the current "
					   "directory");
		filter.cwd = cwd;
	}
	if (store_list(&cli->root, &filter, &finished_hooks, &list,
		       &cli->error) == 0) {
		write_listing(cli, &list, cwd);
		job_list_free(&list);
		rc = 0;
	}
	free(cwd);
	return rc;
}

/* gc's jobs array is written while the root is scanned; the totals that
 * come before it in the answer are known only at the end. */
static int gc_collect(void *ctx, const struct gc_entry *entry)
{
	struct json_writer *jobs = ctx;

	jw_object_begin(jobs);
	jw_kv_str(jobs, "job_id", entry->job_id);
	jw_kv_str(jobs, "state", entry->state);
	jw_kv_str(jobs, "action", entry->action);
	jw_kv_str(jobs, "reason", entry->reason);
	jw_kv_u64(jobs, "bytes", entry->bytes);
	jw_object_end(jobs);
	return jobs->error ? -1 : 0;
}

/* The cutoff of --older-than D in cutoff[]; NULL with the error set when
 * D is no duration. */
static const char *gc_cutoff(struct cli *cli, const char *older_than,
			     char cutoff[TIMESTAMP_LEN + 1])
{
	int64_t now = clock_real_ms() / 1000;
	uint64_t seconds;

	if (parse_duration(older_than, &seconds) < 0) {
		error_set(&cli->error, "invalid_duration", "invalid duration: "
			  "%s; expected formats: 30d, 24h, 60m, 3600s",
			  older_than);
		return NULL;
	}
	format_utc(seconds > (uint64_t)now ? 0
					   : (time_t)(now - (int64_t)seconds),
		   cutoff);
	diag(cli, 1, "gc cutoff %s", cutoff);
	return cutoff;
}

/* gc's request, from its options or from [gc] of config.toml: the
 * retention given (older_than; NULL: none), else 30 days unless a limit
 * is given. 0, or -1 with the error set. */
static int gc_request_init(struct cli *cli, const char *older_than,
			   const struct config_gc *limits,
			   struct gc_request *req,
			   char cutoff[TIMESTAMP_LEN + 1])
{
	int limited = limits->has_max_jobs || limits->has_max_bytes;

	*req = (struct gc_request){
		.older_than = older_than ? older_than
			      : limited ? "none" : "30d",
		.has_max_jobs = limits->has_max_jobs,
		.max_jobs = limits->max_jobs,
		.has_max_bytes = limits->has_max_bytes,
		.max_bytes = limits->max_bytes,
		.hooks = &finished_hooks,
	};
	if (older_than || !limited)
		req->cutoff = gc_cutoff(cli, req->older_than, cutoff);
	return req->cutoff || !(older_than || !limited) ? 0 : -1;
}

void cmd_gc_auto(struct cli *cli)
{
	char cutoff[TIMESTAMP_LEN + 1];
	struct gc_request req;

	if (gc_request_init(cli, cli->gc.older_than[0] ? cli->gc.older_than
						       : NULL,
			    &cli->gc, &req, cutoff) == 0)
		store_gc_auto(&cli->root, &req);
}

int cmd_gc(struct cli *cli)
{
	const struct args *args = &cli->args;
	const struct config_gc limits = {
		.has_max_jobs = args->seen[O_MAX_JOBS],
		.max_jobs = args->number[O_MAX_JOBS],
		.has_max_bytes = args->seen[O_MAX_BYTES],
		.max_bytes = args->number[O_MAX_BYTES],
	};
	struct gc_request req;
	char cutoff[TIMESTAMP_LEN + 1];
	struct json_writer *w = &cli->out, jobs;
	struct gc_totals totals;
	int rc;

	if (gc_request_init(cli, args->value[O_OLDER_THAN], &limits, &req,
			    cutoff) < 0)
		return -1;
	req.dry_run = args->seen[O_DRY_RUN];
	jw_init_mem(&jobs, 64u << 20, 0);
	jw_array_begin(&jobs);
	rc = store_gc(&cli->root, &req, gc_collect, &jobs, &totals,
		      &cli->error);
	jw_array_end(&jobs);
	if (rc == 0) {
		envelope_begin(w, "gc");
		jw_kv_str(w, "root", cli->root.path);
		jw_kv_bool(w, "dry_run", req.dry_run);
		jw_kv_str(w, "older_than", req.older_than);
		jw_kv_str(w, "older_than_source", args->value[O_OLDER_THAN]
			  ? "flag" : req.cutoff ? "default" : "none");
		if (req.has_max_jobs)
			jw_kv_u64(w, "max_jobs", req.max_jobs);
		if (req.has_max_bytes)
			jw_kv_u64(w, "max_bytes", req.max_bytes);
		jw_kv_u64(w, "deleted", totals.deleted);
		jw_kv_u64(w, "skipped", totals.skipped);
		jw_kv_u64(w, "freed_bytes", totals.freed_bytes);
		if (req.dry_run) {
			jw_kv_u64(w, "would_delete", totals.would_delete);
			jw_kv_u64(w, "would_free_bytes",
				  totals.would_free_bytes);
		}
		jw_key(w, "jobs");
		jw_raw(w, jobs.buf, jobs.len);
	}
	jw_free(&jobs);
	return rc;
}

/* The one command whose stdout is a stream: NDJSON lines of the event
 * log, until its end (or, with --follow, until a signal or a closed pipe).
 * Errors before the first line are the usual JSON error. */
int cmd_events(struct cli *cli)
{
	struct events_query query = {
		.since = cli->args.value[O_SINCE],
		.job_id = cli->args.value[O_JOB],
		.type = cli->args.value[O_TYPE],
		.follow = cli->args.seen[O_FOLLOW],
	};
	struct job job;
	int rc;

	/* --job as every command takes an id (a prefix, the short id, any
	 * case): a job that is not there is an error, not an empty stream
	 * that --follow would wait on forever */
	if (query.job_id) {
		if (store_job_open(&cli->root, query.job_id, &job,
				   &cli->error) < 0)
			return -1;
		query.job_id = job.id;
	}
	rc = events_read(cli->root.abs, &query, &cli->error);
	if (query.job_id)
		store_job_close(&job);
	return rc;
}

int cmd_schema(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct json_doc schema;

	if (skills_schema(&schema, &cli->error) < 0)
		return -1;
	envelope_begin(w, "schema");
	skills_write_schema(w, &schema);
	json_doc_free(&schema);
	return 0;
}

int cmd_install_skills(struct cli *cli)
{
	const char *source = cli->args.value[O_SOURCE];
	struct json_writer *w = &cli->out;
	struct skill_install installed;

	/* skills are the user's files: the user's umask applies */
	umask(cli->launch.old_umask);
	if (skills_install(source ? source : "self", cli->args.seen[O_GLOBAL],
			   cli->args.seen[O_CLAUDE], &installed,
			   &cli->error) < 0)
		return -1;
	envelope_begin(w, "install_skills");
	jw_key(w, "skills");
	jw_array_begin(w);
	jw_object_begin(w);
	jw_kv_str(w, "name", installed.name);
	jw_kv_str(w, "source_type", installed.source_type);
	jw_kv_str(w, "path", installed.path);
	jw_object_end(w);
	jw_array_end(w);
	jw_kv_bool(w, "global", cli->args.seen[O_GLOBAL]);
	if (cli->args.seen[O_CLAUDE])
		jw_kv_bool(w, "claude", 1);
	jw_kv_str(w, "lock_file_path", installed.lock_file_path);
	skill_install_free(&installed);
	return 0;
}
