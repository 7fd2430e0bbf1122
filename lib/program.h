/* lib/program.h - where a shell would find a program on PATH, and the
 * exec of it (lib/program.c). */
#ifndef AE_LIB_PROGRAM_H
#define AE_LIB_PROGRAM_H

#include <stddef.h>

/* The value of name in an environment (its last entry), or NULL. */
const char *env_value(char **envp, const char *name);
/* Each place a shell looks for name, in order: name itself when it holds a
 * '/', else dir/name for each directory of path_var, a PATH value (NULL:
 * /usr/local/bin:/bin:/usr/bin; an empty entry is the current directory).
 * visit returns nonzero to stop the search: that value is returned; 0 once
 * every place was visited. */
int path_search(const char *name, const char *path_var,
		int (*visit)(const char *candidate, void *ctx), void *ctx);
/* Where a shell would find the program name (a '/' in it: name itself,
 * from the cwd; else the first executable regular file name in a directory
 * of path_var, as path_search visits them, directories passed over): 0
 * with its path in found[size]; or -1 with errno ENOENT (nowhere; found
 * holds name), EISDIR (name is a directory) or EACCES (only a file that
 * may not be executed, or a directory that may not be searched: its path
 * in found). Runs in a vfork child: system calls and memcpy only. */
int program_find(const char *name, const char *path_var, char *found,
		 size_t size);
/* execve the program argv[0] names, found by program_find on envp's PATH.
 * Returns only on failure: -1 with errno (program_find's, or execve's),
 * and the path at fault in at_fault[size]. */
int exec_search(char **argv, char **envp, char *at_fault, size_t size);

#endif
