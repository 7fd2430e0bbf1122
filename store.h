/* store.h - the job store: ids, job directories, the reserve, and the lock
 * file whose locks say who is alive (store.c). */
#ifndef AE_STORE_H
#define AE_STORE_H

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "json.h"
#include "json_parse.h"
#include "lib/fmt.h"
#include "lib/sys.h"
#include "store_record.h"
#include "store_root.h"

#define SCHEMA_VERSION "0.1"
#define JOB_ID_LEN 26		/* a ULID */
#define JOB_ID_MAX 64		/* longest id (or prefix) we accept */
/* <job>/kill_request: left by agent-exec before it signals the job, so
 * that a job a signal ends was ended by agent-exec (ended_by "kill") */
#define KILL_MARK "kill_request"
#define ERROR_TEXT_MAX 512

struct job {
	char id[JOB_ID_MAX + 1];
	char *dir;		/* absolute path of the job directory */
	char *root;		/* absolute path of its jobs root */
	int dir_fd;
	int lock_fd;		/* -1 unless this process holds ALIVE */
	int reserve_fd;		/* <job>/.reserve while held, else -1 */
	uint32_t attempt;	/* a view of this earlier attempt's files
				   (store_attempt_open), else 0 */
};

/* A new ULID: 48-bit time in ms, 80 random bits, Crockford base32. */
void job_id_generate(char out[JOB_ID_LEN + 1]);
/* A job's short id: the last SHORT_ID_LEN characters of its id (random
 * in a ULID), which store_job_open accepts as it accepts a prefix; a
 * shorter end of an id works too, down to SHORT_ID_MIN characters. */
#define SHORT_ID_LEN 6
#define SHORT_ID_MIN 4
void job_short_id(const char *id, char *out, size_t size);
/* How many candidates an ambiguous_job_id error lists (error.details). */
#define CANDIDATES_SHOWN 20
/* 1 if text may name a job (letters, digits, '-', '_'; 1..JOB_ID_MAX). */
int job_id_valid(const char *text);

/* The root, trusted, made (0700) when missing: its descriptor, or -1
 * with e set. */
int store_root_made(const struct store_root *root, struct error *e);
/* Create the root (0700) if needed and a new job directory in it (0700),
 * holding its ALIVE lock in job->lock_fd and its reserve. */
int store_job_new(const struct store_root *root, struct job *job,
		  struct error *e);
/* Open an existing job by id or unambiguous id prefix. Errors:
 * invalid_job_id, job_not_found, ambiguous_job_id. */
int store_job_open(const struct store_root *root, const char *id,
		   struct job *job, struct error *e);
/* Fill job for the directory name of the root, open as dir_fd (which it
 * takes over): 0, or -1 (ENOMEM, dir_fd closed). */
int store_job_at(struct job *job, const struct store_root *root,
		 const char *name, int dir_fd);
void store_job_close(struct job *job);
/* The error invalid_state, "invalid job state: job ID " and the rest of
 * the message (printf-style): -1. */
int store_state_refused(struct error *e, const struct job *job,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Remove a job directory this process just made (a failed run/create
 * leaves nothing behind), and close it. */
void store_job_discard(const struct store_root *root, struct job *job);
/* Absolute path of a file in the job directory (heap). */
char *store_job_path(const struct job *job, const char *name);

/* <job>/.reserve (store_record.h), made with the job and held open by
 * whoever will write its terminal record (the launching CLI, then the
 * supervisor), so that record can be written on a full disk and without a
 * free descriptor. store_hold_reserve opens it (making it again if
 * missing): io_error with the real errno when there is no room. */
int store_hold_reserve(struct job *job, struct error *e);
void store_release_reserve(struct job *job);

/* The lock file, <job>/lock, whose locks say who is alive (the protocol:
 * store.c). ALIVE is held from the moment a job directory exists until its
 * terminal record is on disk, by the launching CLI and then by the
 * supervisor; free while state.json says running, it means the supervisor
 * is gone. */

/* ALIVE for start: whoever holds it launches the job, so two starts never
 * launch two supervisors (invalid_state when it is held); and the job's
 * reserve (store_hold_reserve). */
int store_claim_start(struct job *job, struct error *e);
/* Every lock for a removal (DELIVERY too when delivery is set), each
 * waited for at most wait_ms (0: taken at once or not at all): no start,
 * recovery, meta.json update or delivery can touch the job while they are
 * held. invalid_state naming what holds one, and nothing held, when one is
 * taken. */
#define REMOVAL_WAIT_MS 2000	/* a start under way ends its launch by then */
int store_claim_removal(struct job *job, int64_t wait_ms, int delivery,
			struct error *e);
/* For restart: ALIVE at once, as store_claim_start takes it (the launch
 * hands it on to the supervisor), then the others as a removal's, waited
 * for REMOVAL_WAIT_MS each: DELIVERY first, which a supervisor holds
 * until it exits (the one of the attempt that ended must be gone). */
int store_claim_restart(struct job *job, struct error *e);
/* Let go of the locks store_claim_removal or store_claim_restart took;
 * or, after store_claim_restart, of all but ALIVE (for the launch). */
void store_release_claims(struct job *job);
void store_release_claims_but_alive(struct job *job);
/* The terminal record is on disk: let the job's waiters go. */
void store_release_alive(const struct job *job);
/* A descriptor holding DELIVERY (delivering job.finished: closing it, or
 * the holder's death, ends the claim), taken at once or within wait_ms,
 * or -1 with EAGAIN when another process delivers. */
int store_claim_delivery(const struct job *job, int64_t wait_ms);
/* A descriptor holding META (waits for it): read-modify-writes of
 * meta.json happen one at a time. -1/errno. */
int store_claim_meta(const struct job *job);
/* Block until the job's ALIVE lock is free (the job ended or its
 * supervisor died) or timeout_ms passed (< 0: no limit). 1 released, 0
 * timed out, 2 nothing to wait on (free already, or no lock file: ask the
 * state again, and poll if it still says running), -1 on error. */
int store_wait_ended(const struct job *job, int64_t timeout_ms);
/* The same, given up (-1, ECANCELED) as soon as *stop is set (a signal's
 * handler sets it; looked at before each blocking wait). */
int store_wait_ended_unless(const struct job *job, int64_t timeout_ms,
			    const volatile sig_atomic_t *stop);

/* For the one who records a lost supervisor (store_state.c): the lock
 * file (create: make it when missing), whether ALIVE is held (1, 0, or -1
 * on error), and RECOVER, waited for, and let go. */
int store_lock_open(const struct job *job, int create);
int store_alive(int lock_fd);
int store_claim_recovery(int lock_fd);
void store_release_recovery(int lock_fd);

/* What every job's environment says of it, and so vouches for the
 * processes of its session: AGENT_EXEC_JOB_ID=ID and AGENT_EXEC_ROOT=ROOT
 * (list: both, NULL-terminated). 0, or -1/ENOMEM. */
struct job_marks {
	char id[JOB_ID_MAX + 24];
	char *root;
	const char *list[3];
};
int store_job_marks(struct job_marks *marks, const struct job *job);
/* What sets a process agent-exec runs for a job apart from the job's own
 * (a notify command: its environment holds the event's id). */
#define HELPER_ENV_MARK "AGENT_EXEC_EVENT_ID="
void store_job_marks_free(struct job_marks *marks);
/* The process title of the job's supervisor: "agent-exec supervisor ID". */
void store_supervisor_title(char *title, size_t size, const char *id);
/* 1 when process pid is this job's supervisor: its title names the job
 * and it holds the job's directory open (a live supervisor whose lock file
 * was removed is still alive), else 0. */
int store_supervisor_vouched(const struct job *job, int64_t pid);
/* Weaker, for where a process cannot set its title (under an emulator):
 * ALIVE is held and process pid holds this very job directory open. */
int store_supervisor_holds(const struct job *job, int64_t pid);
/* A descriptor that becomes readable when process pid (the job's
 * supervisor, as its record says) has ended, for a waiter on many jobs at
 * once: its pidfd, or -1 (gone, or no pidfd). *vouched: pid was vouched
 * for after the pidfd was opened, so the pidfd is the supervisor's; when
 * not, the caller reads the state again before trusting it. */
int store_supervisor_watch(const struct job *job, int64_t pid, int *vouched);
/* For the supervisor, now and then: when its lock file was removed, make
 * a new one and hold ALIVE on it (and DELIVERY on *delivery_fd, when
 * held). 1 renewed, 0 nothing to do, -1/errno. */
int store_relock(struct job *job, int *delivery_fd);
/* An inotify descriptor that becomes readable when the job's lock file is
 * removed (-1 when there is none to watch), and what the supervisor does
 * then: store_relock, and a watch on the new file in *watch_fd. */
int store_lock_watch(const struct job *job);
int store_lock_changed(struct job *job, int *watch_fd, int *delivery_fd);

#endif
