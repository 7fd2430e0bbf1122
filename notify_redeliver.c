/* notify_redeliver.c - job.finished delivered outside the supervisor: a
 * lost job's, by a detached process that a reader starts, and notify
 * redeliver's, by the command itself. Both claim DELIVERY first, so no
 * event is delivered by two processes at once. */
#include "notify_redeliver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify_record.h"
#include "notify_sink.h"

/* how long notify redeliver waits for another process's delivery */
#define REDELIVER_WAIT_MS 2000

/* A notifier for job from its records: its settings (in *settings) and
 * what its sinks run with. NULL with e set. */
static struct notifier *notifier_for(const struct job *job,
				     struct job_spec *spec,
				     struct spec_records *records,
				     struct notify_settings *settings,
				     struct error *e)
{
	struct notifier_config config;
	struct notifier *n;

	if (store_read_spec(job, spec, records, e) < 0)
		return NULL;
	if (notify_settings_read(records->meta.root, settings, e) < 0) {
		spec_free(spec);
		spec_records_free(records);
		return NULL;
	}
	notifier_config_init(&config, job, spec);
	n = notifier_new(&config);
	if (!n) {
		notify_settings_free(settings);
		spec_free(spec);
		spec_records_free(records);
		error_errno(e, NULL, ENOMEM, "cannot deliver");
	}
	return n;
}

/* Queue job.finished: the record on file again, or, when the supervisor
 * died before writing it, one built from the terminal state. */
static int queue_finished(struct notifier *n, const struct job *job,
			  const struct job_state *st,
			  const struct json_value *meta,
			  const struct notify_settings *settings,
			  struct error *e)
{
	size_t len;
	char *line;

	if (record_completion_found(job, NULL) != COMPLETION_MISSING)
		return notifier_redeliver(n, settings, e);
	if (!notify_finished_due(settings, st))
		return error_set(e, "invalid_state", "job %s has no "
				 "completion event and no notify sink for "
				 "its end (see --notify-on)", job->id);
	line = notifier_job_finished(n, st, meta, settings, &len);
	if (!line)
		return error_errno(e, NULL, ENOMEM, "cannot deliver");
	free(line);		/* the event log had job.finished already */
	return 0;
}

struct deliverer {
	const struct job *job;
	int delivery_fd;
};

/* The detached process: holds DELIVERY (inherited), delivers, ends. */
static void deliver_detached(void *ctx)
{
	struct deliverer *d = ctx;
	struct spec_records records;
	struct notify_settings settings;
	struct job_spec spec;
	struct job_state st;
	struct notifier *n;
	struct error e;
	char title[JOB_ID_MAX + 32];

	snprintf(title, sizeof(title), "agent-exec deliver %s", d->job->id);
	proc_title_set(title);
	daemon_detach((int[]){ d->job->dir_fd, d->delivery_fd }, 2);
	if (state_read(d->job, &st, &e) < 0)
		return;
	n = notifier_for(d->job, &spec, &records, &settings, &e);
	if (n && queue_finished(n, d->job, &st, records.meta.root, &settings,
				&e) == 0)
		notifier_drain(n);
}

/* Whether completion_event.json still waits for delivery (or is missing:
 * the supervisor died before writing it). */
static int completion_pending(const struct job *job)
{
	enum completion_found found = record_completion_found(job, NULL);

	return found == COMPLETION_MISSING || found == COMPLETION_PENDING;
}

const char *notify_undelivered(const struct job *job,
			       const struct job_state *state)
{
	if (!job_status_terminal(state->status) || !state->completion_event)
		return NULL;
	return completion_pending(job) ? "delivery_pending" : NULL;
}

void notify_ensure_delivered(const struct job *job,
			     const struct job_state *state)
{
	struct deliverer d = { job, -1 };

	if (!job_status_terminal(state->status) || !state->completion_event)
		return;
	/* a live holder is delivering it; our claim passes to our child */
	d.delivery_fd = store_claim_delivery(job, 0);
	if (d.delivery_fd >= 0 && completion_pending(job))
		fork_detached(deliver_detached, &d);
	if (d.delivery_fd >= 0)
		close(d.delivery_fd);
}

int notify_redeliver_now(const struct job *job, const struct job_state *st,
			 int force, struct redelivery *out, struct error *e)
{
	struct spec_records records;
	struct notify_settings settings;
	struct job_spec spec;
	struct notifier *n;
	int delivery_fd, rc = -1;

	memset(out, 0, sizeof(*out));
	if (!job_status_terminal(st->status))
		return store_state_refused(e, job, "is %s; only finished jobs "
					   "have a completion event",
					   job_status_name(st->status));
	/* a supervisor that has just settled a delivery lets go of it as
	 * it ends: a redelivery typed right after waits for that */
	delivery_fd = store_claim_delivery(job, REDELIVER_WAIT_MS);
	if (delivery_fd < 0) {
		error_set(e, "invalid_state", "the completion event of job %s "
			  "is being delivered right now; try again when that "
			  "delivery has settled", job->id);
		e->retryable = 1;
		return -1;
	}
	if (!force && record_completion_found(job, NULL) == COMPLETION_DELIVERED) {
		error_set(e, "invalid_state", "the completion event of job %s "
			  "was delivered; use --force to deliver it again",
			  job->id);
		goto out;
	}
	n = notifier_for(job, &spec, &records, &settings, e);
	if (!n)
		goto out;
	if (queue_finished(n, job, st, records.meta.root, &settings, e) == 0) {
		notifier_drain(n);
		out->results = strdup(notifier_results(n, &out->delivered,
						       &out->omitted));
		rc = out->results ? 0 : error_errno(e, NULL, ENOMEM,
						    "notify redeliver");
	}
	notify_event_id(out->event_id, sizeof(out->event_id), job, st->attempt,
			0);
	notifier_free(n);
	notify_settings_free(&settings);
	spec_free(&spec);
	spec_records_free(&records);
out:
	close(delivery_fd);
	return rc;
}
