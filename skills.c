/* skills.c - what the binary carries for agents: the schema command's
 * answer, and install-skills (the embedded SKILL.md or a local skill
 * folder) with its lock file, .agents/.skill-lock.json. */
#include "skills.h"


#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "json_parse.h"
#include "lib/fmt.h"

#define LOCK_FILE_MAX (4u << 20)
#define COPY_DEPTH_MAX 16

/* <cwd>/FOLDER, or $HOME/FOLDER with --global (.agents, or .claude,
 * where Claude Code reads skills). */
static char *skills_base(int global, const char *folder, struct error *e)
{
	const char *home = getenv("HOME");
	char *base;

	if (!global)
		base = path_absolute(folder);
	else if (home && *home)
		base = path_join(home, folder);
	else {
		error_set(e, "invalid_source",
			  "--global needs $HOME to be set");
		return NULL;
	}
	if (!base)
		error_errno(e, NULL, errno, "cannot resolve the skills folder");
	return base;
}

/* Write data to dir/name through a temporary file and a rename. */
static int write_file_atomic(const char *dir, const char *name,
			     const char *data, size_t len)
{
	char *path = path_join(dir, name), *tmp = path_join(dir, ".tmp-skill");
	int fd = -1, rc = -1, err;

	if (!path || !tmp)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0666);
	if (fd < 0 || write_all(fd, data, len) < 0 || close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	rc = rename(tmp, path);
out:
	err = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp)
		unlink(tmp);
	free(path);
	free(tmp);
	errno = err;
	return rc;
}

/* Remove path whatever it is (a symlink is removed, never followed). */
static int remove_any(int dir_fd, const char *name, int depth)
{
	struct stat st;
	struct dirent *entry;
	DIR *dir;
	int fd, rc = 0;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dir_fd, name, 0);
	if (depth > COPY_DEPTH_MAX)
		return -1;
	dir = dir_open_at(dir_fd, name, O_NOFOLLOW);
	if (!dir)
		return -1;
	fd = dirfd(dir);
	while ((entry = readdir(dir)))
		if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..") &&
		    remove_any(fd, entry->d_name, depth + 1) < 0)
			rc = -1;
	closedir(dir);
	return rc < 0 ? -1 : unlinkat(dir_fd, name, AT_REMOVEDIR);
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	ssize_t got = -1;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	while (out >= 0 && (got = read_full(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)got) < 0)
			goto out;
	rc = out >= 0 && got == 0 ? 0 : -1;
out:
	close(in);
	if (out >= 0 && close(out) < 0)
		rc = -1;
	return rc;
}

/* Copy the tree at from to the new directory to (symlinks not followed;
 * only directories and regular files are copied). */
static int copy_tree(const char *from, const char *to, int depth)
{
	DIR *dir;
	struct dirent *entry;
	int rc = 0;

	if (depth > COPY_DEPTH_MAX || mkdir(to, 0777) < 0)
		return -1;
	dir = opendir(from);
	if (!dir)
		return -1;
	while (rc == 0 && (entry = readdir(dir))) {
		char *src, *dst;
		struct stat st;

		if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
			continue;
		src = path_join(from, entry->d_name);
		dst = path_join(to, entry->d_name);
		if (!src || !dst || lstat(src, &st) < 0)
			rc = -1;
		else if (S_ISDIR(st.st_mode))
			rc = copy_tree(src, dst, depth + 1);
		else if (S_ISREG(st.st_mode))
			rc = copy_file(src, dst);
		free(src);
		free(dst);
	}
	closedir(dir);
	return rc;
}

static int install_self(const char *skills_dir, struct skill_install *out,
			struct error *e)
{
	char *dir = path_join(skills_dir, "agent-exec");

	snprintf(out->name, sizeof(out->name), "agent-exec");
	snprintf(out->source_type, sizeof(out->source_type), "self");
	if (!dir || mkdir_parents(dir, 0777) < 0 ||
	    write_file_atomic(dir, "SKILL.md", embedded_skill,
			      embedded_skill_len) < 0) {
		error_errno(e, NULL, errno, "cannot install SKILL.md in %s",
			    dir ? dir : skills_dir);
		free(dir);
		return -1;
	}
	out->path = dir;
	return 0;
}

/* Whether the source is (or is inside) what installing would replace:
 * removing the destination would destroy the source. */
static int source_in_destination(const char *source, const char *dest)
{
	struct stat st;
	char *real_dest;
	size_t len;
	int inside;

	/* our own link is removed, never followed: nothing is destroyed */
	if (lstat(dest, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	real_dest = path_real_dir(dest);
	len = real_dest ? strlen(real_dest) : 0;
	inside = real_dest && strncmp(source, real_dest, len) == 0 &&
		 (source[len] == '\0' || source[len] == '/');
	free(real_dest);
	return inside;
}

static int has_skill_file(const char *dir)
{
	char *path = path_join(dir, "SKILL.md");
	struct stat st;
	int found = path && stat(path, &st) == 0 && S_ISREG(st.st_mode);

	free(path);
	return found;
}

static int install_local(const char *skills_dir, const char *given,
			 struct skill_install *out, struct error *e)
{
	char *source = path_real_dir(given), *dest = NULL;
	const char *name;
	int skills_fd = -1, rc = -1;
	struct stat st;

	if (!source || stat(source, &st) < 0 || !S_ISDIR(st.st_mode)) {
		error_errno(e, "invalid_source", source ? ENOTDIR : errno,
			    "cannot use local skill \"%s\"", given);
		goto out;
	}
	if (!has_skill_file(source)) {
		error_set(e, "invalid_source", "local skill \"%s\" has no "
			  "SKILL.md", given);
		goto out;
	}
	name = strrchr(source, '/');
	name = name && name[1] ? name + 1 : source;
	copy_str(out->name, sizeof(out->name), name);
	snprintf(out->source_type, sizeof(out->source_type), "local:%s",
		 given);
	dest = path_join(skills_dir, out->name);
	if (!dest || mkdir_parents(skills_dir, 0777) < 0)
		goto io_error;
	if (source_in_destination(source, dest)) {
		error_set(e, "invalid_source", "local skill \"%s\" is the "
			  "installed skill itself (%s)", given, dest);
		goto out;
	}
	skills_fd = open(skills_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (skills_fd < 0 || remove_any(skills_fd, out->name, 0) < 0)
		goto io_error;
	/* a link keeps the skill current; a copy where links cannot be */
	if (symlink(source, dest) < 0 && copy_tree(source, dest, 0) < 0)
		goto io_error;
	out->path = dest;
	dest = NULL;
	rc = 0;
	goto out;
io_error:
	error_errno(e, NULL, errno, "cannot install skill %s into %s",
		    out->name, skills_dir);
out:
	if (skills_fd >= 0)
		close(skills_fd);
	free(source);
	free(dest);
	return rc;
}

/* ---- the lock file ---------------------------------------------------- */

static void write_lock_entry(struct json_writer *w, const char *name,
			     const char *source_type, const char *installed_at,
			     const char *path)
{
	jw_object_begin(w);
	jw_kv_str(w, "name", name);
	jw_kv_str(w, "source_type", source_type);
	jw_kv_str(w, "installed_at", installed_at);
	jw_kv_str(w, "path", path);
	jw_object_end(w);
}

/* Existing entries other than name, from {"skills":[...]} or the legacy
 * {"skills":{name:{...}}}; any other shape counts as empty. */
static void write_kept_entries(struct json_writer *w,
			       const struct json_value *skills,
			       const char *name)
{
	if (!skills || (skills->type != JSON_ARRAY &&
			skills->type != JSON_OBJECT))
		return;
	for (const struct json_value *item = skills->u.children.first; item;
	     item = item->next) {
		const char *item_name = skills->type == JSON_OBJECT
					? item->key
					: json_get_str(item, "name");

		if (!item_name || strcmp(item_name, name) == 0 ||
		    item->type != JSON_OBJECT)
			continue;
		write_lock_entry(w, item_name,
				 json_get_str(item, "source_type"),
				 json_get_str(item, "installed_at"),
				 json_get_str(item, "path"));
	}
}

static int update_lock_file(const char *base, const struct skill_install *in,
			    struct error *e)
{
	char installed_at[TIMESTAMP_LEN + 1], err[128];
	struct json_doc old = { 0 };
	struct json_writer w;
	char *text = NULL;
	size_t len;
	int rc;

	if (read_file_at(AT_FDCWD, in->lock_file_path, LOCK_FILE_MAX, &text,
			 &len) == 0 &&
	    json_parse(&old, text, len, 32, err, sizeof(err)) < 0)
		old.root = NULL;	/* unreadable: start afresh */
	free(text);
	format_utc_now(installed_at);
	jw_init_mem(&w, LOCK_FILE_MAX, 1);
	jw_object_begin(&w);
	jw_kv_array_begin(&w, "skills");
	write_kept_entries(&w, json_get(old.root, "skills"), in->name);
	write_lock_entry(&w, in->name, in->source_type, installed_at, in->path);
	jw_array_end(&w);
	jw_object_end(&w);
	json_doc_free(&old);
	rc = w.error ? -1 : write_file_atomic(base, ".skill-lock.json", w.buf,
					       w.len);
	if (w.error)
		errno = w.error;
	jw_free(&w);
	if (rc < 0)
		return error_errno(e, NULL, errno, "cannot write %s",
				   in->lock_file_path);
	return 0;
}

int skills_install(const char *source, int global, int claude,
		   struct skill_install *out, struct error *e)
{
	char *base, *skills_dir = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (strcmp(source, "self") != 0 && strncmp(source, "local:", 6) != 0)
		return error_set(e, "unknown_source_scheme",
				 "unknown_source_scheme: \"%s\" (supported: "
				 "self, local:<path>)", source);
	base = skills_base(global, claude ? ".claude" : ".agents", e);
	if (!base)
		return -1;
	skills_dir = path_join(base, "skills");
	out->lock_file_path = path_join(base, ".skill-lock.json");
	if (!skills_dir || !out->lock_file_path) {
		error_errno(e, NULL, ENOMEM, "install-skills");
		goto out;
	}
	if (strcmp(source, "self") == 0)
		rc = install_self(skills_dir, out, e);
	else
		rc = install_local(skills_dir, source + 6, out, e);
	if (rc == 0)
		rc = update_lock_file(base, out, e);
out:
	free(base);
	free(skills_dir);
	if (rc < 0)
		skill_install_free(out);
	return rc;
}

void skill_install_free(struct skill_install *out)
{
	free(out->path);
	free(out->lock_file_path);
	out->path = out->lock_file_path = NULL;
}

int skills_schema(struct json_doc *schema, struct error *e)
{
	char err[160];

	if (json_parse(schema, embedded_schema, embedded_schema_len, 64, err,
		       sizeof(err)) < 0)
		return error_set(e, "internal_error",
				 "the embedded schema is broken: %s", err);
	return 0;
}

void skills_write_schema(struct json_writer *w, const struct json_doc *schema)
{
	const char *comment = json_get_str(schema->root, "$comment");

	jw_kv_str(w, "schema_format", "json-schema-draft-07");
	jw_key(w, "schema");
	jw_value(w, schema->root);
	jw_kv_str(w, "generated_at", comment ? comment : "unknown");
}
