/* store_root.c - the jobs root: where it is (--root, AGENT_EXEC_ROOT, the
 * XDG data directory, the home directory), and whether it can be trusted. */
#include "store_root.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/owner.h"

/* The home directory /etc/passwd gives uid (heap), as getpwuid would say
 * without name services; NULL when there is none. */
static char *passwd_home(uid_t uid)
{
	char *line = user_db_line("/etc/passwd", uid);
	char *dir = line ? colon_field(line, 5) : NULL;
	char *home = dir && *dir ? strdup(dir) : NULL;

	free(line);
	return home;
}

static char *default_root(void)
{
	const char *home = getenv("HOME");
	const char *xdg = getenv("XDG_DATA_HOME");

	if (xdg && *xdg)
		return path_join(xdg, "agent-exec/jobs");
	if (!home || !*home) {
		char *found = passwd_home(getuid());
		char *root = found ? path_join(found,
			".local/share/agent-exec/jobs") : NULL;

		free(found);
		return root ? root : strdup("~/.local/share/agent-exec/jobs");
	}
	return path_join(home, ".local/share/agent-exec/jobs");
}

int store_root_resolve(const char *flag_root, struct store_root *root,
		       struct error *e)
{
	const char *env_root = getenv("AGENT_EXEC_ROOT");

	root->path = root->abs = NULL;
	if (flag_root && !*flag_root)
		return error_set(e, "invalid_root", "--root must not be empty");
	if (flag_root)
		root->path = strdup(flag_root);
	else if (env_root && *env_root)
		root->path = strdup(env_root);
	else
		root->path = default_root();
	if (root->path)
		root->abs = path_absolute(root->path);
	if (!root->abs) {
		int err = errno;
		/* a relative root under a deleted current directory */
		int cwd_gone = root->path && root->path[0] != '/' &&
			       err == ENOENT;

		store_root_free(root);
		return error_errno(e, cwd_gone ? "invalid_cwd" : NULL, err,
				   "cannot resolve the jobs root%s", cwd_gone
				   ? " (the current directory is gone)" : "");
	}
	return 0;
}

void store_root_free(struct store_root *root)
{
	free(root->path);
	free(root->abs);
	root->path = root->abs = NULL;
}

int store_root_open(const struct store_root *root)
{
	return open(root->abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int store_trusted(int fd, const char *path, struct error *e)
{
	char why[96];
	struct stat st;
	int private = fd_private(fd, &st);

	if (private > 0)
		return 0;
	if (private < 0)
		return error_errno(e, NULL, errno, "cannot stat %s", path);
	return error_set(e, "unsafe_permissions", "%s %s: another user could "
			 "plant jobs or read them there; use a jobs root of "
			 "your own, or chmod go-w it", path,
			 private_why(&st, why, sizeof(why)));
}

int store_root_open_trusted(const struct store_root *root, struct error *e)
{
	int fd = store_root_open(root), err;

	if (fd < 0) {
		err = errno;
		if (err != ENOENT && err != ENOTDIR)
			error_errno(e, NULL, err, "cannot open jobs root %s",
				    root->abs);
		errno = err;
		return -1;
	}
	if (store_trusted(fd, root->abs, e) < 0) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int store_root_listing(const struct store_root *root, DIR **dir,
			struct error *e)
{
	int fd = store_root_open_trusted(root, e), err;

	if (fd < 0 && errno == ENOTDIR)
		return error_errno(e, NULL, errno, "cannot open jobs root %s",
				   root->abs);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	*dir = fdopendir(fd);
	if (*dir)
		return 1;
	err = errno;
	close(fd);
	return error_errno(e, NULL, err, "cannot read jobs root %s",
			   root->abs);
}

