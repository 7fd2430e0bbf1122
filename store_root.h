/* store_root.h - the jobs root: where it is, and whether it can be trusted
 * (store_root.c). */
#ifndef AE_STORE_ROOT_H
#define AE_STORE_ROOT_H

#include <dirent.h>

#include "lib/sys.h"

/* The jobs root: path as resolved (shown to users), absolute form (used in
 * paths we print). */
struct store_root {
	char *path;
	char *abs;
};

/* --root, else AGENT_EXEC_ROOT, else $XDG_DATA_HOME/agent-exec/jobs, else
 * the home directory's .local/share/agent-exec/jobs. invalid_root for an
 * empty --root. */
int store_root_resolve(const char *flag_root, struct store_root *root,
		       struct error *e);
void store_root_free(struct store_root *root);
/* The root directory, open; -1/errno. */
int store_root_open(const struct store_root *root);
/* The root, open and trusted (store_trusted): its descriptor, or -1 with
 * errno ENOENT or ENOTDIR (no root yet) and e untouched, or with e set. */
int store_root_open_trusted(const struct store_root *root, struct error *e);
/* A directory of the store (the root, a job's) must be the caller's and
 * writable by nobody else, or another user could plant jobs or records
 * in it: 0, or -1 with e set (unsafe_permissions naming path and why). */
int store_trusted(int fd, const char *path, struct error *e);
/* The listing of the jobs root (its descriptor: dirfd(*dir)): 1, or 0 when
 * there is no root yet (nothing to list), or -1 with e set. */
int store_root_listing(const struct store_root *root, DIR **dir,
		       struct error *e);

#endif
