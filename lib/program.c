/* lib/program.c - where a shell would find a program (the one PATH
 * search), and its exec; nothing here but system calls and memcpy, so a
 * vfork child may call it. */
#include "lib/program.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *env_value(char **envp, const char *name)
{
	size_t len = strlen(name);
	const char *value = NULL;

	for (char **var = envp; *var; var++)
		if (strncmp(*var, name, len) == 0 && (*var)[len] == '=')
			value = *var + len + 1;	/* the last one wins */
	return value;
}

int path_search(const char *name, const char *path_var,
		int (*visit)(const char *candidate, void *ctx), void *ctx)
{
	const char *path = path_var ? path_var : "/usr/local/bin:/bin:/usr/bin";
	size_t name_len = strlen(name);

	if (strchr(name, '/'))
		return visit(name, ctx);
	for (;;) {
		size_t len = strcspn(path, ":");
		char candidate[4096];
		int stop;

		if (len + name_len + 2 <= sizeof(candidate)) {
			/* an empty entry is the current directory */
			memcpy(candidate, path, len);
			candidate[len] = '/';
			memcpy(candidate + len + (len > 0), name, name_len + 1);
			stop = visit(candidate, ctx);
			if (stop)
				return stop;
		}
		if (!path[len])
			return 0;
		path += len + 1;
	}
}

/* Where a shell finds a program: the first executable regular file, and
 * else the first file it could not run (and why). */
struct program_search {
	char *found;
	size_t size;
	int err;	/* why the first candidate that exists fails */
};

/* Copy a path into a bounded buffer with no library call but memcpy:
 * this runs in a vfork child too. */
static void copy_path(char *out, size_t size, const char *path)
{
	size_t len = strlen(path);

	if (size == 0)
		return;
	if (len >= size)
		len = size - 1;
	memcpy(out, path, len);
	out[len] = '\0';
}

/* One place a shell would look: 1 (stop) when it holds a program we may
 * run. A directory is passed over, as a shell passes it over. */
static int program_candidate(const char *candidate, void *ctx)
{
	struct program_search *search = ctx;
	struct stat st;
	int err = EACCES;	/* a file that is not an executable one */

	if (stat(candidate, &st) < 0)
		err = errno == ENOENT || errno == ENOTDIR ? 0 : errno;
	else if (S_ISDIR(st.st_mode))
		err = 0;
	else if (S_ISREG(st.st_mode) && access(candidate, X_OK) == 0) {
		copy_path(search->found, search->size, candidate);
		return 1;
	}
	if (err && !search->err) {
		search->err = err;
		copy_path(search->found, search->size, candidate);
	}
	return 0;
}

int program_find(const char *name, const char *path_var, char *found,
		 size_t size)
{
	struct program_search search = { found, size, 0 };
	struct stat st;

	copy_path(found, size, name);
	if (strchr(name, '/') && stat(name, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	if (path_search(name, path_var, program_candidate, &search) == 1)
		return 0;
	errno = search.err ? search.err : ENOENT;
	return -1;
}

int exec_search(char **argv, char **envp, char *at_fault, size_t size)
{
	char program[4096];

	if (program_find(argv[0], env_value(envp, "PATH"), program,
			 sizeof(program)) == 0)
		execve(program, argv, envp);
	copy_path(at_fault, size, program);
	return -1;
}
