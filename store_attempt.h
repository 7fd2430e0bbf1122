/* store_attempt.h - a job's earlier attempts: restart moves the files of
 * the one that ended into <job>/attempts/N/; readers open it as a job. */
#ifndef AE_STORE_ATTEMPT_H
#define AE_STORE_ATTEMPT_H

#include <stdint.h>

#include "store.h"

/* The records of an attempt's events (notify_record.c writes them). */
#define COMPLETION_FILE "completion_event.json"
#define MATCH_FILE "notification_events.ndjson"

/* Archive attempt (the one that ended) into <job>/attempts/<attempt>/:
 * its logs and event records moved, one rename each, and state.json
 * linked, so the job has one throughout until the caller replaces it
 * (state_launching). The caller holds the job's locks and its supervisor
 * is gone. 0, or -1 with e set and nothing moved. */
int store_attempt_archive(const struct job *job, uint32_t attempt,
			  struct error *e);
/* Undo store_attempt_archive (the next attempt could not be recorded). */
void store_attempt_restore(const struct job *job, uint32_t attempt);
/* The archived attempt as a job of its own (view->dir its directory,
 * view->attempt set): logs and state.json read as the job's are. */
int store_attempt_open(const struct job *job, uint32_t attempt,
		       struct job *view, struct error *e);

#endif
