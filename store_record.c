/* store_record.c - records written atomically (a temp file, fsync,
 * rename, fsync of the directory) and read back whole; and the reserve,
 * the room set aside for a job's terminal record. */
#include "store_record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/sys.h"

#define RESERVE_FILE ".reserve"

static const char temp_chars[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* One try of store_write_record. */
static int write_record_once(int dir_fd, const char *name, const char *data,
			     size_t len, int durable)
{
	char tmp[16];
	unsigned char rnd[6];
	int fd = -1, err;

	for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
		random_bytes(rnd, sizeof(rnd));
		memcpy(tmp, ".tmp-", 5);
		for (int i = 0; i < 6; i++)
			tmp[5 + i] = temp_chars[rnd[i] & 31];
		tmp[11] = '\0';
		fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL |
					  O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST)
			return -1;
	}
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0))
		goto fail;
	test_stop_at("record-written");
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dir_fd, tmp, dir_fd, name) < 0)
		goto fail;
	if (durable == DURABLE_FULL)
		fsync(dir_fd);
	return 0;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dir_fd, tmp, 0);
	errno = err;
	return -1;
}

int store_write_record(int dir_fd, const char *name, const char *data,
		       size_t len, int durable)
{
	int attempts = 3;

	while (write_record_once(dir_fd, name, data, len, durable) < 0)
		if (--attempts == 0 || !error_may_pass(errno))
			return -1;
	return 0;
}

int store_write_json(int dir_fd, const char *name,
			     struct json_writer *w, int durable)
{
	int rc;

	if (w->error) {
		errno = w->error;
		jw_free(w);
		return -1;
	}
	rc = store_write_record(dir_fd, name, w->buf, w->len, durable);
	jw_free(w);
	return rc;
}

/* Whether the directory open as dir_fd is no longer at path: deleted
 * (or being deleted) while we read it. */
static int dir_vanished(int dir_fd, const char *path)
{
	struct stat open_dir, named;

	if (fstat(dir_fd, &open_dir) < 0)
		return 0;
	return stat(path, &named) < 0 || named.st_ino != open_dir.st_ino ||
	       named.st_dev != open_dir.st_dev;
}

/* Read and parse a record of the job directory: corrupt_record when it is
 * missing, not a file, too large or not a JSON object; io_error when it
 * could not be read; each naming the file and the cause. */
int store_read_record(int dir_fd, const char *dir, const char *name,
		       struct json_doc *doc, struct error *e)
{
	char parse_error[160];
	char *text;
	size_t len;
	int rc;

	doc->root = NULL;
	doc->arena = NULL;
	if (read_file_at(dir_fd, name, RECORD_MAX, &text, &len) < 0) {
		int err = errno;

		if (err == ENOENT && dir_vanished(dir_fd, dir)) {
			error_set(e, "job_not_found", "job not found: %s was "
				  "deleted", dir);
			errno = ENOENT;
			return -1;
		}
		error_errno(e, err == ENOENT || err == ENOTDIR || err == ELOOP ||
			    err == EISDIR || err == EINVAL || err == EFBIG
			    ? "corrupt_record" : "io_error", err,
			    "cannot read %s/%s", dir, name);
		errno = err;
		return -1;
	}
	rc = json_parse(doc, text, len, 32, parse_error, sizeof(parse_error));
	free(text);
	if (rc < 0) {
		json_doc_free(doc);
		errno = EINVAL;
		return error_set(e, "corrupt_record", "cannot parse %s/%s: %s",
			    dir, name, parse_error);
	}
	if (doc->root->type != JSON_OBJECT) {
		json_doc_free(doc);
		errno = EINVAL;
		return error_set(e, "corrupt_record",
			    "cannot parse %s/%s: not a JSON object", dir, name);
	}
	return 0;
}

int store_reserve_open(int dir_fd)
{
	int fd = openat(dir_fd, RESERVE_FILE, O_RDWR | O_CREAT | O_CLOEXEC |
			O_NOFOLLOW, 0600);
	int rc;

	if (fd < 0)
		return -1;
	rc = posix_fallocate(fd, 0, RESERVE_BYTES);
	if (rc != 0) {
		close(fd);
		unlinkat(dir_fd, RESERVE_FILE, 0);
		errno = rc;
		return -1;
	}
	return fd;
}

void store_reserve_remove(int dir_fd)
{
	unlinkat(dir_fd, RESERVE_FILE, 0);
}

/* Whether the held reserve fd is still the directory's .reserve (a
 * reserve renamed into place is a record, which must not be written
 * over in place). */
static int reserve_still_named(int dir_fd, int fd)
{
	struct stat held, named;

	return fstat(fd, &held) == 0 &&
	       fstatat(dir_fd, RESERVE_FILE, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	       held.st_ino == named.st_ino && held.st_dev == named.st_dev;
}

int store_write_reserved(int dir_fd, int reserve_fd, const char *name,
			 const char *data, size_t len, int durable)
{
	int fd = reserve_fd >= 0 ? reserve_fd
		 : openat(dir_fd, RESERVE_FILE, O_WRONLY | O_CLOEXEC |
			  O_NOFOLLOW);
	int rc = -1, err;

	if (fd < 0)
		return -1;
	if (len > RESERVE_BYTES)
		errno = EFBIG;
	else if (fd == reserve_fd && !reserve_still_named(dir_fd, fd))
		errno = ESTALE;	/* renamed into place already: never touched */
	else if (pwrite(fd, data, len, 0) == (ssize_t)len &&
		 ftruncate(fd, (off_t)len) == 0 && fsync(fd) == 0 &&
		 renameat(dir_fd, RESERVE_FILE, dir_fd, name) == 0)
		rc = 0;
	err = errno;
	if (fd != reserve_fd)
		close(fd);
	if (rc == 0 && durable == DURABLE_FULL)
		fsync(dir_fd);
	errno = err;
	return rc;
}
