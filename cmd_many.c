/* cmd_many.c - the commands on many jobs: wait on several (or on those a
 * selector names), kill and delete (one job, or by selector), summary. */
#include "cmd.h"
#include "store_gc.h"
#include "store_tally.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirwatch.h"

#define KILL_SETTLE_MS 1000
#define DELETE_FORCE_WAIT_MS 10000
#define WAIT_JOBS_MAX 10000	/* jobs one wait watches */

/* The jobs a command names, by full id. */
struct selection {
	char (*ids)[JOB_ID_MAX + 1];
	size_t count;
};

static int selection_has(const struct selection *sel, const char *id)
{
	for (size_t i = 0; i < sel->count; i++)
		if (strcmp(sel->ids[i], id) == 0)
			return 1;
	return 0;
}

/* The job ids given (each resolved: an unknown one is an error and
 * nothing is done), or the jobs of the whole root the selector matches
 * (--tag, --meta, --state; --queue joins them when queues exist), newest
 * first as list orders them; at most max. */
static int select_jobs(struct cli *cli, struct selection *sel, size_t max)
{
	const struct args *args = &cli->args;
	/* delete --all: the finished jobs of this directory (--all-dirs:
	 * of every one) */
	int finished = args->command->id == CMD_DELETE && args->seen[O_ALL];
	struct job_filter filter = { .state = args->value[O_STATE],
				     .tags = &args->list[O_TAG],
				     .meta = &args->list[O_META],
				     .queue = args->value[O_QUEUE],
				     .finished = finished };
	struct job_list list = { 0 };
	size_t named = args->positional.n;
	char *cwd = NULL;
	struct job job;
	int rc = 0;

	*sel = (struct selection){ 0 };
	if (finished && !args->seen[O_ALL_DIRS] &&
	    !(filter.cwd = cwd = path_effective(".")))
		return error_errno(&cli->error, "invalid_cwd", errno, "cannot "
				   "resolve the current directory");
	rc = !named ? store_list(&cli->root, &filter, NULL, &list,
				 &cli->error) : 0;
	free(cwd);
	if (rc < 0)
		return -1;
	if (!named)
		named = list.count;
	if (named > max)
		rc = error_set(&cli->error, "too_many_jobs", "%zu jobs named, "
			       "%s takes at most %zu: narrow the selector",
			       named, args->command->name, max);
	else if (!(sel->ids = calloc(named + 1, sizeof(*sel->ids))))
		rc = error_errno(&cli->error, NULL, ENOMEM, "cannot select "
				 "jobs");
	for (size_t i = 0; rc == 0 && i < named; i++) {
		if (list.count) {
			copy_str(sel->ids[sel->count++], sizeof(*sel->ids),
				 list.jobs[i]->id);
			continue;
		}
		rc = store_job_open(&cli->root, args->positional.v[i], &job,
				    &cli->error);
		if (rc == 0 && !selection_has(sel, job.id))
			copy_str(sel->ids[sel->count++], sizeof(*sel->ids),
				 job.id);
		if (rc == 0)
			store_job_close(&job);
	}
	job_list_free(&list);
	if (rc < 0)
		free(sel->ids);
	return rc;
}

/* An entry of kill or delete by selector whose job the command could not
 * act on: the error the single-id command would have answered. */
static void write_failure(struct json_writer *w, const char *id,
			  const struct error *e)
{
	jw_kv_str(w, "job_id", id);
	write_error_begin(w, "failure", e);
	jw_object_end(w);
}

/* ---- wait on many ---------------------------------------------------- */

/* wait --any: where each job stands in the watch. */
enum { PID_UNWATCHED, PID_VOUCHED, PID_UNVOUCHED, PID_ENDED };
struct any_item {
	unsigned char dirty;		/* look at it again */
	unsigned char dir_watched;	/* its directory is watched */
	unsigned char pid_watch;	/* its supervisor's end: PID_... */
	unsigned char blind;		/* only a poll would see it end */
};
struct any_wait {
	struct cli *cli;
	const struct selection *sel;
	struct any_item *items;
	struct wake_set set;
};

static void any_seen(void *ctx, size_t tag, int process_ended)
{
	struct any_wait *aw = ctx;

	if (tag == WAKE_ANY) {
		for (size_t i = 0; i < aw->sel->count; i++)
			aw->items[i].dirty = 1;
	} else if (tag < aw->sel->count) {
		aw->items[tag].dirty = 1;
		if (process_ended)	/* its pidfd is spent */
			aw->items[tag].pid_watch = PID_ENDED;
	}
}

/* Watch the end of job's supervisor, its state st as read: 1 when it
 * ended meanwhile, else 0. Its pidfd is opened before its pid is vouched
 * for; one not vouched for (gone, a zombie, or dying: its memory is
 * released before its descriptors, ALIVE among them) is a reason to read
 * the state again, and, if still live, to keep the pidfd, backed by the
 * poll (the pid may be another's now). A pid whose pidfd woke us is not
 * watched again: the poll sees the rest. */
static int any_watch_pid(struct any_wait *aw, size_t i, struct job *job,
			 struct job_state *st)
{
	struct any_item *item = &aw->items[i];
	int vouched, fd;

	if (item->pid_watch != PID_UNWATCHED)
		return 0;
	test_stop_at("wait-watch");
	fd = store_supervisor_watch(job, st->supervisor_pid, &vouched);
	if (fd >= 0 && wake_set_fd(&aw->set, fd, i) == 0)
		item->pid_watch = vouched ? PID_VOUCHED : PID_UNVOUCHED;
	return !vouched && read_job_state(aw->cli, job, st) == 0 &&
	       job_status_terminal(st->status);
}

/* Look at job i again, its watches set up first (an end after them
 * wakes us, one before is read here): 1 ended, 0 not yet, -1 error. */
static int any_look(struct any_wait *aw, size_t i)
{
	struct any_item *item = &aw->items[i];
	struct job_state st;
	struct job job;
	int rc = 0;

	if (store_job_open(&aw->cli->root, aw->sel->ids[i], &job,
			   &aw->cli->error) < 0)
		return -1;
	if (!item->dir_watched)
		item->dir_watched = wake_set_dir(&aw->set, job.dir, i) == 0;
	if (read_job_state(aw->cli, &job, &st) < 0)
		rc = -1;
	else if (job_status_terminal(st.status))
		rc = 1;
	else if (job_status_live(st.status))
		rc = any_watch_pid(aw, i, &job, &st);
	item->blind = !item->dir_watched ||
		      (job_status_live(st.status) &&
		       item->pid_watch != PID_VOUCHED);
	store_job_close(&job);
	return rc;
}

/* wait --any: until the first of the jobs ends (1) or the deadline passes
 * (0). Not a poll: a job ends when its supervisor renames its terminal
 * state.json into place, or when the supervisor dies (state_observe then
 * records the loss). One inotify instance sees the renames in every job
 * directory (IN_MOVED_TO), a pidfd per running job its supervisor's
 * death (vouched for after it is opened: a reused pid is never watched),
 * and one poll() sleeps on all of them; whatever woke is looked at again.
 * A job none of that can watch (no inotify or pidfd in this kernel, a
 * supervisor still launching) is looked at every --poll-ms. */
static int wait_any(struct cli *cli, const struct selection *sel,
		    int64_t deadline)
{
	int64_t poll_ms = (int64_t)number_or(cli, O_POLL_MS, 200), left, nap;
	struct any_wait aw = { .cli = cli, .sel = sel,
			       .items = calloc(sel->count + 1,
					       sizeof(*aw.items)) };
	int rc = 0, blind, woken;

	if (poll_ms < 1)
		poll_ms = 1;
	if (!aw.items || wake_set_init(&aw.set) < 0) {
		free(aw.items);
		return error_errno(&cli->error, NULL, ENOMEM, "cannot wait");
	}
	any_seen(&aw, WAKE_ANY, 0);
	while (sel->count) {
		blind = 0;
		for (size_t i = 0; rc == 0 && i < sel->count; i++) {
			if (aw.items[i].dirty) {
				aw.items[i].dirty = 0;
				rc = any_look(&aw, i);
			}
			blind |= aw.items[i].blind;
		}
		left = deadline ? deadline - clock_mono_ms() : -1;
		if (rc || (deadline && left <= 0))
			break;
		nap = blind && (left < 0 || left > poll_ms) ? poll_ms : left;
		woken = wake_set_wait(&aw.set, nap, any_seen, &aw);
		if (woken < 0) {
			rc = error_errno(&cli->error, NULL, errno, "cannot wait "
					 "for jobs");
			break;
		}
		for (size_t i = 0; !woken && i < sel->count; i++)
			aw.items[i].dirty |= aw.items[i].blind;
	}
	wake_set_free(&aw.set);
	free(aw.items);
	return sel->count ? rc : 1;
}

/* One job of wait's list: how it ended, or where it stands. */
static void write_wait_entry(struct json_writer *w, const struct job *job,
			     const struct job_state *st)
{
	jw_object_begin(w);
	jw_kv_str(w, "job_id", job->id);
	write_short_id(w, job->id);
	write_state(w, st->status);
	write_queue_place(w, NULL, st);	/* no position: one read each */
	write_job_end(w, st);
	if (st->timed_out)
		jw_kv_bool(w, "job_timed_out", 1);
	write_end_extras(w, st);
	jw_object_end(w);
}

/* The answer on many jobs, up to its list: "jobs":[ (left open). */
static void envelope_jobs(struct json_writer *w, const char *type)
{
	envelope_begin(w, type);
	jw_kv_array_begin(w, "jobs");
}

static void write_counts(struct json_writer *w, const uint64_t *counts)
{
	jw_kv_object_begin(w, "counts");
	for (enum job_status s = JOB_CREATED; s < JOB_STATUS_COUNT; s++)
		jw_kv_u64(w, job_status_name(s), counts[s]);
	jw_object_end(w);
}

/* Every job in turn under the shared deadline (all of them must end), or
 * after wait_any, each as it stands. --exit-status: 124 when the deadline
 * passed first, else the first ended job's that did not exit 0, else 0. */
int cmd_wait_many(struct cli *cli)
{
	int64_t deadline = wait_deadline(cli);
	uint64_t counts[JOB_STATUS_COUNT] = { 0 };
	int any = cli->args.seen[O_ANY], status = 0, rc, done, timed_out;
	struct json_writer *w = &cli->out;
	struct selection sel;
	size_t ended = 0;

	if (select_jobs(cli, &sel, WAIT_JOBS_MAX) < 0)
		return -1;
	rc = any ? wait_any(cli, &sel, deadline) : 0;
	envelope_jobs(w, "wait");
	for (size_t i = 0; rc >= 0 && i < sel.count; i++) {
		struct job_state st;
		struct job job;

		rc = store_job_open(&cli->root, sel.ids[i], &job, &cli->error);
		if (rc < 0)
			break;
		done = await_terminal(cli, &job, &st,
				      any ? DEADLINE_PASSED : deadline);
		if (done >= 0) {
			write_wait_entry(w, &job, &st);
			counts[st.status]++;
		}
		if (done > 0 && !status)
			status = job_exit_status(&st);
		ended += done > 0;
		rc = done < 0 ? -1 : 0;
		store_job_close(&job);
	}
	jw_array_end(w);
	write_counts(w, counts);
	timed_out = any ? sel.count && !ended : ended < sel.count;
	jw_kv_bool(w, "timed_out", timed_out);
	if (cli->args.seen[O_EXIT_STATUS])
		cli->exit_status = timed_out ? 124 : status;
	free(sel.ids);
	return rc < 0 ? -1 : 0;
}

/* ---- kill ------------------------------------------------------------ */

/* What kill did to one job, between sending and reporting. */
struct kill_target {
	char id[JOB_ID_MAX + 1];
	int64_t sent_ms;	/* when it was done */
	int signalled;		/* its process group got the signal */
	int leftovers;		/* leftovers signalled, or -1 */
	struct error *failure;	/* why not (kill by selector), or NULL */
};

static void uppercase_copy(char *out, size_t size, const char *text)
{
	size_t i = 0;

	for (; text[i] && i + 1 < size; i++)
		out[i] = (char)toupper((unsigned char)text[i]);
	out[i] = '\0';
}

/* A finished job's leftovers (or what a lost supervisor left): each one
 * signalled, then, for a signal that ends them, a moment to go. The
 * number signalled, or -1. */
static int kill_leftovers(struct cli *cli, struct job *job,
			  struct job_state *st, int signo)
{
	int64_t deadline = time_after(clock_mono_ms(), KILL_SETTLE_MS);
	int signalled;

	diag(cli, 1, "sending signal %d to what job %s left running", signo,
	     job->id);
	signalled = state_kill_leftovers(job, st, signo);
	if (signalled < 0)
		return error_errno(&cli->error, NULL, errno, "cannot signal "
				   "what job %s left running", job->id);
	while (signalled && signal_ends_job(signo) && st->leftovers.count &&
	       clock_mono_ms() < deadline) {
		sleep_ms(20);
		if (read_job_state(cli, job, st) < 0)
			return -1;
	}
	return signalled;
}

/* Send the signal to the job: a running job's group; a finished job's
 * leftovers (or what its lost supervisor left). t->id becomes its full
 * id. 0, or -1 (a created job is invalid_state). */
static int kill_send(struct cli *cli, struct kill_target *t, int signo)
{
	struct job_state st;
	struct job job;
	int rc = -1;

	t->leftovers = -1;
	if (store_job_open(&cli->root, t->id, &job, &cli->error) < 0)
		return -1;
	copy_str(t->id, sizeof(t->id), job.id);
	if (read_job_state(cli, &job, &st) < 0)
		goto out;
	if (st.status == JOB_CREATED) {
		store_state_refused(&cli->error, &job, "is in 'created' state "
				    "and has not been started; cannot send "
				    "signal");
		goto out;
	}
	if (job_status_live(st.status)) {
		if (signal_job(cli, &job, &st, signo) < 0)
			goto out;
		t->signalled = 1;
	} else if (st.leftovers.count || job_lost(&st)) {
		t->leftovers = kill_leftovers(cli, &job, &st, signo);
		if (t->leftovers < 0)
			goto out;
	}
	rc = 0;
out:
	t->sent_ms = clock_mono_ms();
	store_job_close(&job);
	return rc;
}

/* The job as the signal left it (a signal that ends it given up to
 * KILL_SETTLE_MS from when it was sent, unless --no-wait): kill's keys. */
static int kill_report(struct cli *cli, const struct kill_target *t,
		       const char *name, int signo)
{
	int64_t settle = t->sent_ms + KILL_SETTLE_MS - clock_mono_ms();
	struct json_writer *w = &cli->out;
	char shown[32], sent[12];
	struct job_state st;
	struct job job;
	int rc;

	if (store_job_open(&cli->root, t->id, &job, &cli->error) < 0)
		return -1;
	if (t->signalled && signal_ends_job(signo) &&
	    !cli->args.seen[O_NO_WAIT])
		store_wait_ended(&job, settle > 0 ? settle : 0);
	rc = read_job_state(cli, &job, &st);
	store_job_close(&job);
	if (rc < 0)
		return -1;
	uppercase_copy(shown, sizeof(shown), name);
	jw_kv_str(w, "job_id", t->id);
	jw_kv_str(w, "signal", shown);
	if (signal_name(signo, sent) == 0)
		jw_kv_str(w, "signal_name", sent);
	write_state(w, st.status);
	/* a job nothing was sent to (it had ended) was read as it was */
	jw_kv_u64(w, "observed_within_ms", t->signalled || t->leftovers > 0
		  ? (uint64_t)(clock_mono_ms() - t->sent_ms) : 0);
	if (st.has_exit_code)
		jw_kv_i64(w, "exit_code", st.exit_code);
	state_write_signal(w, "ending_signal", st.signal);
	state_write_text(w, "error", st.error);
	if (t->leftovers >= 0)
		jw_kv_u64(w, "leftovers_signalled", (uint64_t)t->leftovers);
	state_write_leftovers(w, &st);
	return 0;
}

/* Keep the failure cli->error holds for its job's entry: 0, or -1 (no
 * memory: the command fails). */
static int keep_failure(struct cli *cli, struct error **failure)
{
	*failure = malloc(sizeof(**failure));
	if (!*failure)
		return error_errno(&cli->error, NULL, ENOMEM, "cannot kill");
	**failure = cli->error;
	return 0;
}

/* kill by selector: every job signalled first (a job that ignores the
 * signal holds up no other), then each reported as kill ID would answer,
 * or with the failure kill ID would have answered. */
static int id_queued(struct cli *cli, const char *id)
{
	struct job job;
	int queued;

	if (store_job_open(&cli->root, id, &job, &cli->error) < 0)
		return 0;
	queued = job_queued(cli, &job);
	store_job_close(&job);
	return queued;
}

static int kill_many(struct cli *cli, const char *name, int signo)
{
	struct json_writer *w = &cli->out;
	struct kill_target *targets;
	struct selection sel;
	uint64_t failures = 0;
	int rc = 0;

	if (select_jobs(cli, &sel, (size_t)-1) < 0)
		return -1;
	targets = calloc(sel.count + 1, sizeof(*targets));
	if (!targets)
		rc = error_errno(&cli->error, NULL, ENOMEM, "cannot kill");
	/* queued jobs first: a running one killed first would free its slot
	 * for the next in line, which could start before its signal came */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; rc == 0 && i < sel.count; i++) {
			if (targets[i].sent_ms || targets[i].failure ||
			    (pass == 0 && !id_queued(cli, sel.ids[i])))
				continue;
			copy_str(targets[i].id, sizeof(targets[i].id),
				 sel.ids[i]);
			if (kill_send(cli, &targets[i], signo) < 0)
				rc = keep_failure(cli, &targets[i].failure);
		}
	}
	envelope_jobs(w, "kill");
	for (size_t i = 0; rc == 0 && i < sel.count; i++) {
		jw_object_begin(w);
		if (!targets[i].failure &&
		    kill_report(cli, &targets[i], name, signo) < 0)
			rc = keep_failure(cli, &targets[i].failure);
		if (targets[i].failure)
			write_failure(w, targets[i].id, targets[i].failure);
		failures += targets[i].failure != NULL;
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_kv_u64(w, "failures", failures);
	for (size_t i = 0; targets && i < sel.count; i++)
		free(targets[i].failure);
	free(targets);
	free(sel.ids);
	return rc;
}

int cmd_kill(struct cli *cli)
{
	struct kill_target target = { 0 };
	const char *name;
	int signo = signal_option(cli, &name);

	if (signo < 0)
		return -1;
	if (!cli->args.positional.n)
		return kill_many(cli, name, signo);
	copy_str(target.id, sizeof(target.id), cli->args.positional.v[0]);
	if (kill_send(cli, &target, signo) < 0)
		return -1;
	envelope_begin(&cli->out, "kill");
	return kill_report(cli, &target, name, signo);
}

/* ---- delete ---------------------------------------------------------- */

/* delete --force on a running job: kill its group, wait for its end. */
static int stop_for_delete(struct cli *cli, struct job *job,
			   struct job_state *st)
{
	int queued = st->status == JOB_QUEUED;

	/* a queued job has nothing to lose: it leaves the line */
	if (!cli->args.seen[O_FORCE] && !queued)
		return store_state_refused(&cli->error, job, "is running; "
					   "kill it first or use delete "
					   "--force");
	if (signal_job(cli, job, st, queued ? SIGTERM : SIGKILL) < 0)
		return -1;
	store_wait_ended(job, DELETE_FORCE_WAIT_MS);
	if (state_observe(job, st, &cli->error) < 0)
		return -1;
	if (job_status_live(st->status))
		return error_set(&cli->error, "invalid_state", "job %s did not "
				 "end within %d s of SIGKILL", job->id,
				 DELETE_FORCE_WAIT_MS / 1000);
	return 0;
}

/* delete of a finished job that left processes running: refused, or
 * with --force they are killed first (its supervisor ends with them). */
static int leftovers_for_delete(struct cli *cli, struct job *job,
				struct job_state *st)
{
	if (!cli->args.seen[O_FORCE])
		return store_state_refused(&cli->error, job, "left %u "
					   "process(es) running (pid %d%s); "
					   "end them with kill %s, or use "
					   "delete --force",
					   (unsigned)st->leftovers.count,
					   (int)st->leftovers.pids[0],
					   st->leftovers.count > 1 ? ", ..."
					   : "", job->id);
	if (state_kill_leftovers(job, st, SIGKILL) < 0)
		return error_errno(&cli->error, NULL, errno, "cannot end what "
				   "job %s left running", job->id);
	/* its supervisor records their end, then has nothing left to do */
	if (state_leftovers_settle(job, DELETE_FORCE_WAIT_MS) < 0)
		return error_set(&cli->error, "invalid_state", "what job %s "
				 "left running did not end within %d s of "
				 "SIGKILL", job->id,
				 DELETE_FORCE_WAIT_MS / 1000);
	return 0;
}

/* delete --dry-run: what delete would do with the job, changing nothing:
 * its size, or the refusal delete would give. */
static int delete_preview(struct cli *cli, struct job *job,
			  const struct job_state *st, uint64_t *bytes)
{
	struct json_writer *w = &cli->out;
	const char *why = NULL;

	if (!cli->args.seen[O_FORCE])
		why = job_status_live(st->status) && st->status != JOB_QUEUED
		      ? "is running" : st->leftovers.count
		      ? "left processes running" : notify_undelivered(job, st)
		      ? "has a job.finished not delivered yet" : NULL;
	if (why)
		return store_state_refused(&cli->error, job, "%s: delete "
					   "would refuse it without --force",
					   why);
	jw_kv_str(w, "job_id", job->id);
	write_state(w, st->status);
	jw_kv_bool(w, "deleted", 0);
	jw_kv_bool(w, "would_delete", 1);
	jw_kv_u64(w, "freed_bytes", 0);
	*bytes = store_job_bytes(job);
	jw_kv_u64(w, "bytes", *bytes);
	return 0;
}

/* Remove the job named id, whole, answering delete's keys (with *bytes
 * freed), or fail changing nothing. */
static int delete_one(struct cli *cli, const char *id, uint64_t *bytes)
{
	struct json_writer *w = &cli->out;
	struct job_state st;
	struct job job;
	int force = cli->args.seen[O_FORCE], rc = -1;

	*bytes = 0;
	if (store_job_open(&cli->root, id, &job, &cli->error) < 0)
		return -1;
	/* --force takes a job whose state.json cannot be read too: its
	 * locks, claimed below, say whether a supervisor still has it */
	if (state_observe(&job, &st, &cli->error) < 0) {
		if (!force || strcmp(cli->error.code, "corrupt_record") != 0)
			goto out;
		memset(&st, 0, sizeof(st));
		st.status = JOB_UNKNOWN;
	}
	if (cli->args.seen[O_DRY_RUN]) {
		rc = delete_preview(cli, &job, &st, bytes);
		goto out;
	}
	if (job_status_live(st.status) && stop_for_delete(cli, &job, &st) < 0)
		goto out;
	if (st.leftovers.count && leftovers_for_delete(cli, &job, &st) < 0)
		goto out;
	/* the record of its process group goes: nothing of it may stay */
	if (job_lost(&st) && signal_job(cli, &job, &st, SIGKILL) < 0)
		goto out;
	/* every lock: no start, update, recovery (or, without --force,
	 * delivery) can touch the job while it goes */
	if (store_claim_removal(&job, REMOVAL_WAIT_MS, !force,
				&cli->error) < 0)
		goto out;
	if (!force && notify_undelivered(&job, &st)) {
		store_release_claims(&job);
		notify_ensure_delivered(&job, &st);
		error_set(&cli->error, "invalid_state", "job %s's job.finished "
			  "is not delivered yet (its delivery was started): "
			  "delete it once it is, or use delete --force",
			  job.id);
		goto out;
	}
	if (store_job_remove(&cli->root, &job, bytes, &cli->error) < 0)
		goto out;
	jw_kv_str(w, "job_id", job.id);
	write_state(w, st.status);
	jw_kv_bool(w, "deleted", 1);
	jw_kv_u64(w, "freed_bytes", *bytes);
	rc = 0;
out:
	store_job_close(&job);
	return rc;
}

/* delete by selector: each job in turn, as delete ID would go; the
 * entry of one that stays says why. */
static int delete_many(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	uint64_t freed = 0, bytes, failures = 0;
	int dry_run = cli->args.seen[O_DRY_RUN];
	struct selection sel;

	if (select_jobs(cli, &sel, (size_t)-1) < 0)
		return -1;
	envelope_jobs(w, "delete");
	for (size_t i = 0; i < sel.count; i++) {
		jw_object_begin(w);
		if (delete_one(cli, sel.ids[i], &bytes) < 0) {
			write_failure(w, sel.ids[i], &cli->error);
			failures++;
		}
		freed += bytes;
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_kv_u64(w, "failures", failures);
	/* a dry run frees nothing: what it would free is said apart */
	jw_kv_u64(w, "freed_bytes", dry_run ? 0 : freed);
	if (dry_run)
		jw_kv_u64(w, "would_free_bytes", freed);
	free(sel.ids);
	return 0;
}

int cmd_delete(struct cli *cli)
{
	uint64_t bytes;

	if (!cli->args.positional.n)
		return delete_many(cli);
	envelope_begin(&cli->out, "delete");
	return delete_one(cli, cli->args.positional.v[0], &bytes);
}

/* ---- summary --------------------------------------------------------- */

/* summary's listing finishes the deliveries a dead supervisor left, as
 * list does. */
static const struct job_hooks summary_hooks = {
	.finished = notify_ensure_delivered,
};

/* The running jobs, or the queued ones, as summary lists them. */
static void write_live(struct json_writer *w, const struct job_list *jobs)
{
	for (size_t i = 0; i < jobs->count; i++) {
		const struct job_summary *job = jobs->jobs[i];

		jw_object_begin(w);
		jw_kv_str(w, "job_id", job->id);
		write_short_id(w, job->id);
		write_state(w, job->state.status);
		write_json(w, "command", job->command_json);
		if (job->state.started_at[0])
			jw_kv_str(w, "started_at", job->state.started_at);
		write_elapsed(w, &job->state);
		write_queue_place(w, NULL, &job->state);
		jw_object_end(w);
	}
}

/* "NAME":{"slots":N,"slots_taken":N,"counts":{...}}: its slots as their
 * locks say, its jobs by state. */
static void write_queue_tally(struct json_writer *w, const struct cli *cli,
			      const struct queue_tally *q)
{
	uint64_t slots = 0, taken = 0;

	jw_kv_object_begin(w, q->name);
	if (queue_usage(&cli->root, q->name, &slots, &taken) == 0) {
		jw_kv_u64(w, "slots", slots);
		jw_kv_u64(w, "slots_taken", taken);
	}
	write_counts(w, q->counts);
	jw_object_end(w);
}

int cmd_summary(struct cli *cli)
{
	struct json_writer *w = &cli->out;
	struct store_tally tally;

	if (store_tally(&cli->root, &summary_hooks, &tally, &cli->error) < 0)
		return -1;
	envelope_begin(w, "summary");
	jw_kv_str(w, "root", cli->root.path);
	jw_kv_array_begin(w, "jobs");
	write_live(w, &tally.running);
	write_live(w, &tally.queued);
	jw_array_end(w);
	write_counts(w, tally.counts);
	jw_kv_object_begin(w, "queues");
	for (size_t i = 0; i < tally.queue_count; i++)
		write_queue_tally(w, cli, &tally.queues[i]);
	jw_object_end(w);
	jw_kv_u64(w, "skipped", tally.skipped);
	store_tally_free(&tally);
	return 0;
}
