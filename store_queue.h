/* store_queue.h - a queue: <root>/.queues/<name>/, its slot count, the
 * locks that are its slots, its line of waiting jobs and its doorbell. */
#ifndef AE_STORE_QUEUE_H
#define AE_STORE_QUEUE_H

#include <signal.h>
#include <stdint.h>

#include "store.h"

#define QUEUE_NAME_MAX 64
#define QUEUE_SLOTS_MAX 1024
#define QUEUE_SLOTS_DEFAULT 1

/* 1 if name may name a queue: 1..QUEUE_NAME_MAX letters, digits, '.', '_'
 * or '-', not starting with '.'. */
int queue_name_valid(const char *name);

/* An open queue. The kernel's locks are the truth: slot i is taken while
 * someone holds byte i of the lock file (the holder's death frees it), and
 * a place in line is an entry of line/ held locked by the job waiting. */
struct queue {
	int dir_fd;		/* <root>/.queues/<name>, -1 when closed */
	int lock_fd;		/* its lock file: byte 0 hands out tickets,
				   byte 1 + i is slot i */
	int slot;		/* the slot held, -1 */
	int entry_fd;		/* our place in line (locked), -1 */
	uint64_t ticket;	/* its number: the line's order */
	char entry[24 + JOB_ID_MAX + 2];	/* its name in line/ */
};

/* Open the queue (made, with the root, when create is set): 0, or -1
 * with e set. */
int queue_open(const struct store_root *root, const char *name, int create,
	       struct queue *q, struct error *e);
/* Let go of everything held (a slot, a place in line) and close. */
void queue_close(struct queue *q);
/* The slot count (--slots), durable: 0, or -1 with e set. */
int queue_set_slots(struct queue *q, uint64_t slots, struct error *e);
uint64_t queue_slot_count(const struct queue *q);
/* Take a free slot at once: 1 taken, 0 none free, -1 on error. */
int queue_try_slot(struct queue *q);
/* Whether no job waits in line. */
int queue_line_empty(const struct queue *q);
/* Take a ticket and a place at the end of the line for job_id: 0, -1. */
int queue_join(struct queue *q, const char *job_id);
/* Wait until no one is ahead in line, then until a slot is free, and
 * take it, leaving the line: 0. -1 with ECANCELED as soon as *stop is
 * set (a signal's handler sets it), or another errno. */
int queue_await_slot(struct queue *q, const volatile sig_atomic_t *stop);
/* Leave the line (a job taken out of it). */
void queue_leave(struct queue *q);
/* Free the slot held and ring the doorbell for the head of the line. */
void queue_release_slot(struct queue *q);

/* How many wait in line ahead of job_id in queue name: -1 when it is not
 * in line. */
int64_t queue_position(const char *root, const char *name,
		       const char *job_id);
/* For summary: the slot count and how many slots are taken. 0, or -1
 * when the queue does not exist. */
int queue_usage(const struct store_root *root, const char *name,
		uint64_t *slots, uint64_t *taken);

#endif
