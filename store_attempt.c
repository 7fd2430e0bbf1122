/* store_attempt.c - a job's earlier attempts: restart archives the files
 * of the attempt that ended into <job>/attempts/N/ (renames in one file
 * system: cheap, each atomic), and readers open them as a job. */
#include "store_attempt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_index.h"

/* What belongs to one attempt (full.log: the job's own, not --log's). */
static const char *const attempt_files[] = {
	"stdout.log", "stderr.log", "full.log", COMPLETION_FILE, MATCH_FILE,
	KILL_MARK
};

/* <job>/attempts/N (name: that path in the job), open; made first when
 * create. -1/errno. */
static int attempt_dir_open(const struct job *job, uint32_t attempt,
			    char *name, size_t size, int create)
{
	snprintf(name, size, "attempts/%u", (unsigned)attempt);
	if (create && ((mkdirat(job->dir_fd, "attempts", 0700) < 0 &&
			errno != EEXIST) ||
		       (mkdirat(job->dir_fd, name, 0700) < 0 &&
			errno != EEXIST)))
		return -1;
	return openat(job->dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
}

/* Move the attempt's files from from_fd to to_fd (one missing is no
 * error): 0, or -1/errno with those before the failure moved. */
static int move_files(int from_fd, int to_fd)
{
	for (size_t i = 0; i < sizeof(attempt_files) / sizeof(*attempt_files);
	     i++)
		if (renameat(from_fd, attempt_files[i], to_fd,
			     attempt_files[i]) < 0 && errno != ENOENT)
			return -1;
	return 0;
}

int store_attempt_archive(const struct job *job, uint32_t attempt,
			  struct error *e)
{
	char name[32];
	int fd, err;

	index_touch(job);	/* the attempt list's index may hold goes */
	fd = attempt_dir_open(job, attempt, name, sizeof(name), 1);
	/* state.json linked, not moved: the job has one throughout, until
	 * the next attempt's replaces it (a restart that failed before may
	 * have left its link) */
	if (fd >= 0 &&
	    (unlinkat(fd, "state.json", 0) == 0 || errno == ENOENT) &&
	    linkat(job->dir_fd, "state.json", fd, "state.json", 0) == 0 &&
	    move_files(job->dir_fd, fd) == 0) {
		close(fd);
		return 0;
	}
	err = errno;
	if (fd >= 0) {
		close(fd);
		store_attempt_restore(job, attempt);
	}
	return error_errno(e, NULL, err, "cannot archive %s/%s", job->dir,
			   name);
}

void store_attempt_restore(const struct job *job, uint32_t attempt)
{
	char name[32];
	int fd = attempt_dir_open(job, attempt, name, sizeof(name), 0);

	if (fd < 0)
		return;
	move_files(fd, job->dir_fd);
	unlinkat(fd, "state.json", 0);
	close(fd);
}

int store_attempt_open(const struct job *job, uint32_t attempt,
		       struct job *view, struct error *e)
{
	struct store_root in_job = { .abs = job->dir };
	char name[32];
	int fd = attempt_dir_open(job, attempt, name, sizeof(name), 0);

	/* its root is the job's directory: a view is only read */
	if (fd < 0 || store_job_at(view, &in_job, name, fd) < 0)
		return error_errno(e, NULL, errno, "cannot open %s/%s",
				   job->dir, name);
	copy_str(view->id, sizeof(view->id), job->id);
	view->attempt = attempt;
	return 0;
}
