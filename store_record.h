/* store_record.h - records written atomically and read back whole, and
 * the room set aside for a job's terminal record (store_record.c). */
#ifndef AE_STORE_RECORD_H
#define AE_STORE_RECORD_H

#include <stddef.h>

#include "json.h"
#include "json_parse.h"
#include "lib/sys.h"

#define RECORD_MAX (8u << 20)	/* largest record we read */
#define RESERVE_BYTES 16384	/* more than any state record needs */

/* How durable a record write is: not at all, its data only (the caller
 * fsyncs the directory after a later write, which makes this rename
 * durable too: one journal commit fewer), or data and name. */
enum { DURABLE_NONE, DURABLE_FULL, DURABLE_DATA };

/* Atomic record write: temp file, fsync (DURABLE_FULL or DURABLE_DATA),
 * rename, fsync of the directory (DURABLE_FULL); a failure that may pass
 * (error_may_pass) is tried again, up to three times. 0, or -1/errno. */
int store_write_record(int dir_fd, const char *name, const char *data,
		       size_t len, int durable);
/* store_write_record of what a memory writer holds; frees the writer. */
int store_write_json(int dir_fd, const char *name, struct json_writer *w,
		     int durable);
/* Read and parse a record of the job directory dir (open as dir_fd); a
 * JSON object, else corrupt_record naming the file and the cause
 * (job_not_found when the directory was deleted meanwhile). */
int store_read_record(int dir_fd, const char *dir, const char *name,
		      struct json_doc *doc, struct error *e);

/* <job>/.reserve, open, with RESERVE_BYTES set aside on disk (made when
 * missing); -1/errno. */
int store_reserve_open(int dir_fd);
void store_reserve_remove(int dir_fd);
/* Write a record into the reserve's blocks (always fsynced) and rename
 * it into place, the directory fsynced under DURABLE_FULL: needs no new
 * space, no new file, and no new descriptor when reserve_fd (a held
 * reserve, left open) is given; -1 to open it by name. The reserve is
 * gone once this succeeds. */
int store_write_reserved(int dir_fd, int reserve_fd, const char *name,
			 const char *data, size_t len, int durable);

#endif
