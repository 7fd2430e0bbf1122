/* store.c - the job store: one directory per job under the root, records
 * written atomically, a lock file whose locks say who is alive. */
#include "store.h"
#include "events.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* Open file description locks belong to the open file, not the process:
 * the launching CLI takes the ALIVE lock and the supervisor it forks keeps
 * it, with no gap. Classic POSIX locks are the fallback elsewhere. */
#ifdef F_OFD_SETLK
#define LOCK_SET F_OFD_SETLK
#define LOCK_SETW F_OFD_SETLKW
#define LOCK_GET F_OFD_GETLK
#else
#define LOCK_SET F_SETLK
#define LOCK_SETW F_SETLKW
#define LOCK_GET F_GETLK
#endif

#define LOCK_FILE "lock"
#define RESERVE_FILE ".reserve"
#define RESERVE_BYTES 16384	/* more than any state record needs */
#define TAIL_CHUNK 65536

static const char *const status_names[] = {
	"created", "running", "exited", "killed", "failed", "unknown"
};

const char *job_status_name(enum job_status status)
{
	return status_names[status];
}

int job_status_parse(const char *name, enum job_status *out)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(*status_names);
	     i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum job_status)i;
			return 0;
		}
	}
	return -1;
}

int job_status_terminal(enum job_status status)
{
	return status == JOB_EXITED || status == JOB_KILLED ||
	       status == JOB_FAILED;
}

/* Bounded copy; NULL copies as "". */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t len = src ? strnlen(src, size - 1) : 0;

	if (len)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

static int utf8_valid(const char *text)
{
	size_t len = strlen(text);
	char *decoded = malloc(3 * len + 1);
	size_t out;
	int valid;

	if (!decoded)
		return 0;
	out = utf8_lossy(text, len, decoded, 1, NULL);
	valid = out == len && memcmp(decoded, text, len) == 0;
	free(decoded);
	return valid;
}

/* ---- root and ids ----------------------------------------------------- */

/* Field index (0-based) of a colon-separated /etc/passwd line, in place:
 * the field's text, NUL-terminated, or NULL when the line is shorter. */
static char *passwd_field(char *line, int index)
{
	char *end;

	for (; index > 0; index--) {
		line = strchr(line, ':');
		if (!line)
			return NULL;
		line++;
	}
	end = strchr(line, ':');
	if (end)
		*end = '\0';
	return line;
}

/* The home directory /etc/passwd gives uid (heap), as getpwuid would say
 * without name services; NULL when there is none. */
static char *passwd_home(uid_t uid)
{
	char *text, *line, *next, *home = NULL;
	size_t len;

	if (read_file_at(AT_FDCWD, "/etc/passwd", 1 << 20, &text, &len) < 0)
		return NULL;
	for (line = text; line && !home; line = next) {
		char *uid_text, *dir;
		uint64_t id;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		uid_text = passwd_field(line, 2);
		if (!uid_text || parse_u64(uid_text, &id) < 0 || id != uid)
			continue;
		dir = passwd_field(uid_text + strlen(uid_text) + 1, 2);
		if (dir && *dir)
			home = strdup(dir);
	}
	free(text);
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

		store_root_free(root);
		return error_errno(e, NULL, err, "cannot resolve the jobs root");
	}
	return 0;
}

void store_root_free(struct store_root *root)
{
	free(root->path);
	free(root->abs);
	root->path = root->abs = NULL;
}

static void random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	if (got == n)
		return;
	/* no getrandom (old kernel, seccomp): clock and pid still make ids
	 * unique enough together with the mkdir(O_EXCL) retry */
	uint64_t seed = (uint64_t)clock_real_ms() * 6364136223846793005ULL ^
			(uint64_t)getpid() << 17 ^ (uint64_t)clock_mono_ms();
	for (; got < n; got++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		p[got] = (unsigned char)(seed >> 56);
	}
}

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void job_id_generate(char out[JOB_ID_LEN + 1])
{
	uint64_t ms = (uint64_t)clock_real_ms();
	unsigned char rnd[10];

	for (int i = 0; i < 10; i++)
		out[i] = crockford[(ms >> (45 - 5 * i)) & 31];
	random_bytes(rnd, sizeof(rnd));
	for (int i = 0; i < 16; i++) {
		int bit = i * 5;
		unsigned value = (unsigned)rnd[bit / 8] << 8;

		if (bit / 8 + 1 < 10)
			value |= rnd[bit / 8 + 1];
		out[10 + i] = crockford[(value >> (11 - bit % 8)) & 31];
	}
	out[JOB_ID_LEN] = '\0';
}

int job_id_valid(const char *text)
{
	size_t len = strlen(text);

	if (len == 0 || len > JOB_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
	}
	return 1;
}

/* A listing of the directory dir_fd refers to, with a file position of
 * its own (a dup() would share dir_fd's, and a second listing would start
 * where the first ended). */
static DIR *dir_list(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);

	if (!dir && fd >= 0)
		close(fd);
	return dir;
}

/* ---- job directories -------------------------------------------------- */

static int open_root_dir(const struct store_root *root)
{
	return open(root->abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The listing of the jobs root (its descriptor: dirfd(*dir)): 1, or 0 when
 * there is no root yet (nothing to list), or -1 with e set. */
static int root_listing(const struct store_root *root, DIR **dir,
			struct error *e)
{
	int fd = open_root_dir(root), err;

	*dir = fd < 0 ? NULL : fdopendir(fd);
	if (*dir)
		return 1;
	err = errno;
	if (fd < 0 && err == ENOENT)
		return 0;
	if (fd >= 0)
		close(fd);
	return error_errno(e, NULL, err, "cannot %s jobs root %s",
			   fd < 0 ? "open" : "read", root->abs);
}

static int job_fill(struct job *job, const struct store_root *root,
		    const char *name, int dir_fd)
{
	copy_str(job->id, sizeof(job->id), name);
	job->dir = path_join(root->abs, name);
	job->dir_fd = dir_fd;
	job->lock_fd = -1;
	if (!job->dir) {
		close(dir_fd);
		return -1;
	}
	return 0;
}

static void job_dir_remove(int root_fd, const char *id, int dir_fd)
{
	static const char *const names[] = {
		"meta.json", "state.json", "stdout.log", "stderr.log",
		"full.log", "env.json", "stdin", RESERVE_FILE, LOCK_FILE
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		unlinkat(dir_fd, names[i], 0);
	unlinkat(root_fd, id, AT_REMOVEDIR);
}

/* mkdir a fresh id; a clash within the same millisecond retries */
static int make_job_dir(int root_fd, char id[JOB_ID_LEN + 1])
{
	for (int attempt = 0; attempt < 8; attempt++) {
		job_id_generate(id);
		if (mkdirat(root_fd, id, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int store_job_new(const struct store_root *root, struct job *job,
		  struct error *e)
{
	char id[JOB_ID_LEN + 1];
	int root_fd, dir_fd, lock_fd, err;

	root_fd = open_root_dir(root);
	if (root_fd < 0 && errno == ENOENT) {	/* the first job */
		if (mkdir_parents(root->abs, 0700) < 0)
			return error_errno(e, NULL, errno, "cannot create jobs "
					   "root %s", root->abs);
		root_fd = open_root_dir(root);
	}
	if (root_fd < 0)
		return error_errno(e, NULL, errno, "cannot open jobs root %s",
				  root->abs);
	if (make_job_dir(root_fd, id) < 0) {
		err = errno;
		close(root_fd);
		return error_errno(e, NULL, err,
				  "cannot create a job directory in %s",
				  root->abs);
	}
	dir_fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				      O_CLOEXEC);
	lock_fd = dir_fd < 0 ? -1 : job_lock_open(dir_fd);
	if (lock_fd < 0 || job_lock_take(lock_fd, LOCK_ALIVE, 1, 0) < 0) {
		err = errno;
		if (lock_fd >= 0)
			close(lock_fd);
		if (dir_fd >= 0) {
			job_dir_remove(root_fd, id, dir_fd);
			close(dir_fd);
		}
		close(root_fd);
		return error_errno(e, NULL, err, "cannot lock job %s", id);
	}
	close(root_fd);
	if (job_fill(job, root, id, dir_fd) < 0) {
		close(lock_fd);
		return error_errno(e, NULL, ENOMEM, "cannot open job %s", id);
	}
	job->lock_fd = lock_fd;
	return 0;
}

/* Find the one directory whose name starts with prefix (any case). */
static int find_by_prefix(int root_fd, const char *prefix, char *found,
			  size_t found_size, struct error *e)
{
	size_t prefix_len = strlen(prefix), matches = 0;
	DIR *dir = dir_list(root_fd);
	struct dirent *entry;
	char first[2][JOB_ID_MAX + 1];

	if (!dir)
		return error_errno(e, NULL, errno, "cannot read jobs root");
	while ((entry = readdir(dir))) {
		if (entry->d_name[0] == '.' ||
		    !ascii_case_equal(entry->d_name, prefix, prefix_len) ||
		    !job_id_valid(entry->d_name))
			continue;
		if (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN)
			continue;
		if (matches < 2)
			copy_str(first[matches], sizeof(first[0]),
				 entry->d_name);
		matches++;
	}
	closedir(dir);
	if (matches == 0)
		return error_set(e, "job_not_found", "job not found: %s", prefix);
	if (matches > 1)
		return error_set(e, "ambiguous_job_id",
			    "job id prefix \"%s\" matches %zu jobs (%s, %s%s)",
			    prefix, matches, first[0], first[1],
			    matches > 2 ? ", ..." : "");
	copy_str(found, found_size, first[0]);
	return 0;
}

int store_job_open(const struct store_root *root, const char *id,
		   struct job *job, struct error *e)
{
	char name[JOB_ID_MAX + 1];
	int root_fd, dir_fd, err;

	if (!job_id_valid(id))
		return error_set(e, "invalid_job_id",
			    "invalid job id \"%.80s\": expected a job id or "
			    "prefix (letters, digits, '-', '_'; at most %d)",
			    id, JOB_ID_MAX);
	root_fd = open_root_dir(root);
	if (root_fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return error_set(e, "job_not_found", "job not found: %s",
				    id);
		return error_errno(e, NULL, errno, "cannot open jobs root %s",
				  root->abs);
	}
	copy_str(name, sizeof(name), id);
	dir_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC);
	if (dir_fd < 0 && errno == ENOENT) {
		if (find_by_prefix(root_fd, id, name, sizeof(name), e) < 0) {
			close(root_fd);
			return -1;
		}
		dir_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY |
						O_NOFOLLOW | O_CLOEXEC);
	}
	err = errno;
	close(root_fd);
	if (dir_fd < 0) {
		if (err == ENOENT || err == ENOTDIR || err == ELOOP)
			return error_set(e, "job_not_found", "job not found: %s",
				    id);
		return error_errno(e, NULL, err, "cannot open job %s", id);
	}
	if (job_fill(job, root, name, dir_fd) < 0)
		return error_errno(e, NULL, ENOMEM, "cannot open job %s", id);
	return 0;
}

void store_job_close(struct job *job)
{
	if (job->dir_fd >= 0)
		close(job->dir_fd);
	if (job->lock_fd >= 0)
		close(job->lock_fd);
	free(job->dir);
	job->dir = NULL;
	job->dir_fd = job->lock_fd = -1;
}

void store_job_discard(const struct store_root *root, struct job *job)
{
	int root_fd = open_root_dir(root);

	if (root_fd >= 0 && job->dir_fd >= 0)
		job_dir_remove(root_fd, job->id, job->dir_fd);
	if (root_fd >= 0)
		close(root_fd);
	store_job_close(job);
}

char *store_job_path(const struct job *job, const char *name)
{
	return path_join(job->dir, name);
}

void store_write_log_paths(struct json_writer *w, const struct job *job)
{
	char *out_path = store_job_path(job, "stdout.log");
	char *err_path = store_job_path(job, "stderr.log");

	jw_kv_str(w, "stdout_log_path", out_path);
	jw_kv_str(w, "stderr_log_path", err_path);
	free(out_path);
	free(err_path);
}

/* ---- records ---------------------------------------------------------- */

int store_write_record(int dir_fd, const char *name, const char *data,
		       size_t len, int durable)
{
	char tmp[16];
	unsigned char rnd[6];
	int fd = -1, err;

	for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
		random_bytes(rnd, sizeof(rnd));
		memcpy(tmp, ".tmp-", 5);
		for (int i = 0; i < 6; i++)
			tmp[5 + i] = crockford[rnd[i] & 31];
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

static int write_json_record(int dir_fd, const char *name,
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

static int env_key_masked(const struct job_spec *spec, const char *entry)
{
	size_t key_len = strcspn(entry, "=");

	for (size_t i = 0; i < spec->mask.n; i++)
		if (strlen(spec->mask.v[i]) == key_len &&
		    strncmp(spec->mask.v[i], entry, key_len) == 0)
			return 1;
	return 0;
}

char *spec_env_display(const struct job_spec *spec, const char *entry)
{
	size_t key_len = strcspn(entry, "=");
	char *shown;

	if (!env_key_masked(spec, entry))
		return strdup(entry);
	shown = malloc(key_len + 5);
	if (shown) {
		memcpy(shown, entry, key_len);
		memcpy(shown + key_len, "=***", 5);
	}
	return shown;
}

void spec_write_env_vars(struct json_writer *w, const struct job_spec *spec)
{
	if (spec->env.n == 0)
		return;
	jw_key(w, "env_vars");
	jw_array_begin(w);
	for (size_t i = 0; i < spec->env.n; i++) {
		char *shown = spec_env_display(spec, spec->env.v[i]);

		jw_string(w, shown ? shown : "");
		free(shown);
	}
	jw_array_end(w);
}

static void write_env_members(struct json_writer *w,
			      const struct job_spec *spec)
{
	jw_key(w, "env_keys");
	jw_array_begin(w);
	for (size_t i = 0; i < spec->env.n; i++)
		jw_string_n(w, spec->env.v[i], strcspn(spec->env.v[i], "="));
	jw_array_end(w);
	spec_write_env_vars(w, spec);
	if (spec->mask.n)
		jw_kv_strings(w, "mask", spec->mask.v, spec->mask.n);
}

void spec_free(struct job_spec *spec)
{
	strv_free(&spec->command);
	strv_free(&spec->wrapper);
	strv_free(&spec->env);
	strv_free(&spec->env_files);
	strv_free(&spec->mask);
	strv_free(&spec->tags);
	strv_free(&spec->meta);
	free(spec->cwd);
	free(spec->full_log);
	spec->cwd = spec->full_log = NULL;
}

static void write_caller_meta_spec(struct json_writer *w,
				   const struct job_spec *spec)
{
	jw_key(w, "meta");
	jw_object_begin(w);
	for (size_t i = 0; i < spec->meta.n; i++) {
		const char *entry = spec->meta.v[i];
		size_t key_len = strcspn(entry, "=");
		char key[160];

		copy_str(key, key_len + 1 < sizeof(key) ? key_len + 1
							 : sizeof(key), entry);
		jw_kv_str(w, key, entry[key_len] ? entry + key_len + 1 : "");
	}
	jw_object_end(w);
}

/* ---- strings that are not UTF-8 ------------------------------------- */

/* JSON holds text, not bytes: a string that is not UTF-8 is stored as its
 * lossy text where it is shown, and exactly, in hex, under "raw". */
static void jw_hex(struct json_writer *w, const char *text)
{
	static const char digits[] = "0123456789abcdef";
	size_t len = strlen(text);
	char *hex = malloc(2 * len + 1);

	if (!hex) {
		jw_null(w);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[(unsigned char)text[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)text[i] & 15];
	}
	jw_string_n(w, hex, 2 * len);
	free(hex);
}

static char *hex_decode(const char *hex)
{
	size_t len = strlen(hex);
	char *out = malloc(len / 2 + 1);

	if (!out || len % 2)
		goto bad;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned value = 0;

		for (int k = 0; k < 2; k++) {
			char c = hex[2 * i + k];

			value = value * 16 +
				(unsigned)(c >= '0' && c <= '9' ? c - '0'
					   : c >= 'a' && c <= 'f' ? c - 'a' + 10
					   : 16);
		}
		if (value > 255 || value == 0)
			goto bad;
		out[i] = (char)value;
	}
	out[len / 2] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static int strv_all_utf8(const struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!utf8_valid(sv->v[i]))
			return 0;
	return 1;
}

static void jw_hex_strv(struct json_writer *w, const char *key,
			const struct strv *sv)
{
	jw_key(w, key);
	jw_array_begin(w);
	for (size_t i = 0; i < sv->n; i++)
		jw_hex(w, sv->v[i]);
	jw_array_end(w);
}

/* "raw": the exact bytes of what start needs and JSON cannot hold. */
static void write_raw_spec(struct json_writer *w, const struct job_spec *spec)
{
	int command = !strv_all_utf8(&spec->command);
	int cwd = !utf8_valid(spec->cwd);
	int files = !strv_all_utf8(&spec->env_files);
	int log = spec->full_log && !utf8_valid(spec->full_log);

	if (!command && !cwd && !files && !log)
		return;
	jw_key(w, "raw");
	jw_object_begin(w);
	if (command)
		jw_hex_strv(w, "command", &spec->command);
	if (cwd) {
		jw_key(w, "cwd");
		jw_hex(w, spec->cwd);
	}
	if (files)
		jw_hex_strv(w, "env_files", &spec->env_files);
	if (log) {
		jw_key(w, "log_path");
		jw_hex(w, spec->full_log);
	}
	jw_object_end(w);
}

/* meta.json's notification: the job.finished sinks of run/create and how
 * to deliver (output-match rules come only from notify set). */
static void write_notification_spec(struct json_writer *w,
				    const struct job_spec *spec)
{
	jw_key(w, "notification");
	jw_object_begin(w);
	if (spec->notify_command)
		jw_kv_str(w, "notify_command", spec->notify_command);
	if (spec->notify_file)
		jw_kv_str(w, "notify_file", spec->notify_file);
	jw_kv_u64(w, "notify_timeout_ms", spec->notify_timeout_ms);
	jw_kv_u64(w, "notify_retries", spec->notify_retries);
	jw_object_end(w);
}

static const char *const stdin_modes[] = { "null", "file", "interactive" };

/* How the job gets its input: stdin_mode, and pty when on a terminal. */
static void write_input_spec(struct json_writer *w,
			     const struct job_spec *spec)
{
	jw_kv_str(w, "stdin_mode", stdin_modes[spec->stdin_mode]);
	if (spec->stdin_mode == STDIN_FILE)
		jw_kv_u64(w, "stdin_bytes", spec->stdin_bytes);
	if (!spec->pty)
		return;
	jw_key(w, "pty");
	jw_object_begin(w);
	jw_kv_u64(w, "cols", spec->pty_cols);
	jw_kv_u64(w, "rows", spec->pty_rows);
	jw_object_end(w);
}

static void read_input_spec(const struct json_value *meta,
			    struct job_spec *spec)
{
	const char *mode = json_get_str(meta, "stdin_mode");
	const struct json_value *pty = json_get(meta, "pty");
	uint64_t number;

	for (size_t i = 0; mode && i < 3; i++)
		if (strcmp(mode, stdin_modes[i]) == 0)
			spec->stdin_mode = (enum stdin_mode)i;
	if (json_get_u64(meta, "stdin_bytes", &number) == 0)
		spec->stdin_bytes = number;
	if (!pty || pty->type != JSON_OBJECT)
		return;
	spec->pty = 1;
	spec->pty_cols = json_get_u64(pty, "cols", &number) == 0 ?
			 (unsigned)number : 80;
	spec->pty_rows = json_get_u64(pty, "rows", &number) == 0 ?
			 (unsigned)number : 24;
}

/* env.json: the real --env entries of a job that starts later. */
static int write_env_record(const struct job *job, const struct job_spec *spec)
{
	struct json_writer w;

	jw_init_mem(&w, RECORD_MAX, 1);
	jw_object_begin(&w);
	jw_kv_strings(&w, "env", spec->env.v, spec->env.n);
	if (!strv_all_utf8(&spec->env))
		jw_hex_strv(&w, "env_hex", &spec->env);
	jw_object_end(&w);
	return write_json_record(job->dir_fd, "env.json", &w, 0);
}

int store_write_meta(const struct job *job, const struct store_root *root,
		     const struct job_spec *spec, const char *created_at,
		     int keep_env, struct error *e)
{
	struct json_writer w;

	jw_init_mem(&w, RECORD_MAX, 1);
	jw_object_begin(&w);
	jw_key(&w, "job");
	jw_object_begin(&w);
	jw_kv_str(&w, "id", job->id);
	jw_object_end(&w);
	jw_kv_str(&w, "schema_version", SCHEMA_VERSION);
	jw_kv_strings(&w, "command", spec->command.v, spec->command.n);
	jw_kv_str(&w, "created_at", created_at);
	jw_kv_str(&w, "root", root->path);
	write_env_members(&w, spec);
	jw_kv_str(&w, "cwd", spec->cwd);
	jw_kv_strings(&w, "tags", spec->tags.v, spec->tags.n);
	jw_kv_bool(&w, "inherit_env", spec->inherit_env);
	if (spec->env_files.n)
		jw_kv_strings(&w, "env_files", spec->env_files.v,
			      spec->env_files.n);
	jw_kv_u64(&w, "timeout_ms", spec->timeout_ms);
	jw_kv_u64(&w, "kill_after_ms", spec->kill_after_ms);
	jw_kv_u64(&w, "progress_every_ms", spec->progress_every_ms);
	jw_kv_strings(&w, "shell_wrapper", spec->wrapper.v, spec->wrapper.n);
	if (spec->full_log)
		jw_kv_str(&w, "log_path", spec->full_log);
	write_input_spec(&w, spec);
	if (spec->meta.n)
		write_caller_meta_spec(&w, spec);
	if (spec->notify_command || spec->notify_file ||
	    spec->notify_delivery_set)
		write_notification_spec(&w, spec);
	write_raw_spec(&w, spec);
	jw_object_end(&w);
	if (keep_env && spec->env.n && write_env_record(job, spec) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/env.json",
				   job->dir);
	if (write_json_record(job->dir_fd, "meta.json", &w, 0) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/meta.json",
				   job->dir);
	return 0;
}

static int meta_complete(const struct json_value *meta)
{
	const struct json_value *command = json_get(meta, "command");
	const struct json_value *env_keys = json_get(meta, "env_keys");

	return json_get_str(json_get(meta, "job"), "id") &&
	       json_get_str(meta, "schema_version") &&
	       command && command->type == JSON_ARRAY &&
	       json_get_str(meta, "created_at") &&
	       json_get_str(meta, "root") &&
	       env_keys && env_keys->type == JSON_ARRAY;
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

/* Read and parse a record of the job directory; corrupt_record on any
 * failure, naming the file and the cause. */
static int read_record(int dir_fd, const char *dir, const char *name,
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
		return error_errno(e, "corrupt_record", err,
				   "cannot read %s/%s", dir, name);
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

int store_read_meta(const struct job *job, struct json_doc *doc,
		    struct error *e)
{
	if (read_record(job->dir_fd, job->dir, "meta.json", doc, e) < 0)
		return -1;
	if (!meta_complete(doc->root)) {
		json_doc_free(doc);
		errno = EINVAL;
		return error_set(e, "corrupt_record",
			    "%s/meta.json lacks required keys", job->dir);
	}
	return 0;
}

/* ---- reading a spec back ---------------------------------------------- */

static int strv_from_json(struct strv *sv, const struct json_value *array)
{
	if (!array || array->type != JSON_ARRAY)
		return 0;
	for (const struct json_value *item = array->u.children.first; item;
	     item = item->next)
		if (item->type == JSON_STRING &&
		    strv_push(sv, (char *)item->u.string.ptr) < 0)
			return -1;
	return 0;
}

/* Caller metadata back as KEY=VALUE entries; the strings are built here
 * and owned by the records. */
static int meta_entries_from_json(struct strv *sv, struct spec_records *rec,
				  const struct json_value *object)
{
	if (!object || object->type != JSON_OBJECT)
		return 0;
	for (const struct json_value *member = object->u.children.first;
	     member; member = member->next) {
		size_t key_len = member->key_len, value_len;
		char *entry;

		if (member->type != JSON_STRING)
			continue;
		value_len = member->u.string.len;
		entry = malloc(key_len + value_len + 2);
		if (!entry || strv_push(&rec->owned, entry) < 0) {
			free(entry);
			return -1;
		}
		memcpy(entry, member->key, key_len);
		entry[key_len] = '=';
		memcpy(entry + key_len + 1, member->u.string.ptr, value_len);
		entry[key_len + 1 + value_len] = '\0';
		if (strv_push(sv, entry) < 0)
			return -1;
	}
	return 0;
}

static uint64_t json_u64_or(const struct json_value *obj, const char *key,
			    uint64_t fallback)
{
	uint64_t value;

	return json_get_u64(obj, key, &value) == 0 ? value : fallback;
}

/* Exact bytes from "raw" (hex), replacing the lossy text read before. */
static int strv_from_hex(struct strv *sv, struct spec_records *rec,
			 const struct json_value *array)
{
	struct strv exact = { 0 };

	if (!array || array->type != JSON_ARRAY)
		return 0;
	for (const struct json_value *item = array->u.children.first; item;
	     item = item->next) {
		char *bytes = item->type == JSON_STRING
			      ? hex_decode(item->u.string.ptr) : NULL;

		if (!bytes || strv_push(&rec->owned, bytes) < 0 ||
		    strv_push(&exact, bytes) < 0) {
			free(bytes);
			strv_free(&exact);
			return -1;
		}
	}
	strv_free(sv);
	*sv = exact;
	return 0;
}

static int string_from_hex(char **out, const char *hex)
{
	char *bytes;

	if (!hex)
		return 0;
	bytes = hex_decode(hex);
	if (!bytes)
		return -1;
	free(*out);
	*out = bytes;
	return 0;
}

static int read_raw_spec(const struct json_value *meta,
			 struct spec_records *rec, struct job_spec *spec)
{
	const struct json_value *raw = json_get(meta, "raw");

	if (!raw)
		return 0;
	return strv_from_hex(&spec->command, rec, json_get(raw, "command")) ||
	       strv_from_hex(&spec->env_files, rec,
			     json_get(raw, "env_files")) ||
	       string_from_hex(&spec->cwd, json_get_str(raw, "cwd")) ||
	       string_from_hex(&spec->full_log, json_get_str(raw, "log_path"))
	       ? -1 : 0;
}

/* The --env values of a created job: env.json, else what meta.json shows
 * (records written by other tools). */
static int read_env_entries(const struct job *job, struct spec_records *rec,
			    struct job_spec *spec)
{
	struct error ignored;
	const struct json_value *meta = rec->meta.root;

	if (read_record(job->dir_fd, job->dir, "env.json", &rec->env,
			&ignored) == 0)
		return strv_from_json(&spec->env, json_get(rec->env.root, "env")) ||
		       strv_from_hex(&spec->env, rec,
				     json_get(rec->env.root, "env_hex")) ? -1 : 0;
	if (json_get(meta, "env_vars_runtime"))
		return strv_from_json(&spec->env,
				      json_get(meta, "env_vars_runtime"));
	return strv_from_json(&spec->env, json_get(meta, "env_vars"));
}

int store_read_spec(const struct job *job, struct job_spec *spec,
		    struct spec_records *rec, struct error *e)
{
	const struct json_value *meta, *inherit;
	const char *cwd, *log_path;
	static char *default_wrapper[] = { "sh", "-lc" };

	memset(spec, 0, sizeof(*spec));
	memset(rec, 0, sizeof(*rec));
	if (store_read_meta(job, &rec->meta, e) < 0)
		return -1;
	meta = rec->meta.root;
	cwd = json_get_str(meta, "cwd");
	log_path = json_get_str(meta, "log_path");
	inherit = json_get(meta, "inherit_env");
	spec->inherit_env = !inherit || inherit->type != JSON_BOOL ||
			    inherit->u.boolean;
	read_input_spec(meta, spec);
	spec->timeout_ms = json_u64_or(meta, "timeout_ms", 0);
	spec->kill_after_ms = json_u64_or(meta, "kill_after_ms", 0);
	spec->progress_every_ms = json_u64_or(meta, "progress_every_ms", 0);
	spec->cwd = cwd ? strdup(cwd) : path_effective(".");
	spec->full_log = log_path ? strdup(log_path) : NULL;
	if (!spec->cwd || (log_path && !spec->full_log) ||
	    strv_from_json(&spec->command, json_get(meta, "command")) < 0 ||
	    strv_from_json(&spec->wrapper, json_get(meta, "shell_wrapper")) < 0 ||
	    strv_from_json(&spec->env_files, json_get(meta, "env_files")) < 0 ||
	    strv_from_json(&spec->mask, json_get(meta, "mask")) < 0 ||
	    strv_from_json(&spec->tags, json_get(meta, "tags")) < 0 ||
	    meta_entries_from_json(&spec->meta, rec,
				   json_get(meta, "meta")) < 0 ||
	    read_env_entries(job, rec, spec) < 0 ||
	    read_raw_spec(meta, rec, spec) < 0)
		goto fail;
	if (spec->wrapper.n == 0)
		for (size_t i = 0; i < 2; i++)
			if (strv_push(&spec->wrapper, default_wrapper[i]) < 0)
				goto fail;
	if (spec->command.n == 0) {
		spec_free(spec);
		spec_records_free(rec);
		return error_set(e, "corrupt_record",
				 "%s/meta.json has an empty command", job->dir);
	}
	return 0;
fail:
	spec_free(spec);
	spec_records_free(rec);
	return error_errno(e, NULL, ENOMEM, "cannot read the job %s", job->id);
}

void spec_records_free(struct spec_records *rec)
{
	json_doc_free(&rec->meta);
	json_doc_free(&rec->env);
	for (size_t i = 0; i < rec->owned.n; i++)
		free(rec->owned.v[i]);
	strv_free(&rec->owned);
}

/* The caller metadata object of a meta.json record ({} when none). */
static void write_caller_meta_value(struct json_writer *w,
				    const struct json_value *meta_record)
{
	const struct json_value *meta = json_get(meta_record, "meta");

	if (meta && meta->type == JSON_OBJECT) {
		jw_value(w, meta);
	} else {
		jw_object_begin(w);
		jw_object_end(w);
	}
}

void store_write_caller_meta(struct json_writer *w,
			     const struct json_value *meta_record)
{
	jw_key(w, "meta");
	write_caller_meta_value(w, meta_record);
}

/* ---- meta.json updates ------------------------------------------------ */

int store_meta_update(const struct job *job, const char *key,
		      meta_member_builder build, void *ctx, struct error *e)
{
	int lock_fd = job_lock_open(job->dir_fd), rc = -1, keep;
	const struct json_value *old;
	struct json_writer w, value;
	struct json_doc meta, parsed;
	char parse_error[128];

	if (lock_fd < 0 || job_lock_take(lock_fd, LOCK_META, 1, 1) < 0) {
		error_errno(e, NULL, errno, "cannot lock %s", job->dir);
		goto out;
	}
	if (store_read_meta(job, &meta, e) < 0)
		goto out;
	old = json_get(meta.root, key);
	jw_init_mem(&value, RECORD_MAX, 0);
	keep = build(old, &value, ctx, e);
	if (keep < 0 || value.error) {
		if (keep >= 0)
			error_errno(e, NULL, value.error, "cannot update %s",
				    job->dir);
		jw_free(&value);
		json_doc_free(&meta);
		goto out;
	}
	/* the new value goes through the record's writer, which indents it
	 * at its depth */
	if (keep && json_parse(&parsed, value.buf, value.len, 32, parse_error,
			       sizeof(parse_error)) < 0) {
		error_set(e, "internal_error", "cannot update %s: %s", job->dir,
			  parse_error);
		jw_free(&value);
		json_doc_free(&meta);
		goto out;
	}
	jw_init_mem(&w, RECORD_MAX, 1);
	jw_object_begin(&w);
	for (const struct json_value *member = meta.root->u.children.first;
	     member; member = member->next) {
		if (member == old) {
			if (keep) {
				jw_key(&w, key);
				jw_value(&w, parsed.root);
			}
		} else {
			jw_key(&w, member->key);
			jw_value(&w, member);
		}
	}
	if (!old && keep) {
		jw_key(&w, key);
		jw_value(&w, parsed.root);
	}
	jw_object_end(&w);
	if (keep)
		json_doc_free(&parsed);
	jw_free(&value);
	json_doc_free(&meta);
	if (write_json_record(job->dir_fd, "meta.json", &w, 1) < 0)
		error_errno(e, NULL, errno, "cannot write %s/meta.json",
			    job->dir);
	else
		rc = 0;
out:
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}

static int build_tags(const struct json_value *old, struct json_writer *w,
		      void *ctx, struct error *e)
{
	const struct strv *tags = ctx;

	(void)old;
	(void)e;
	jw_array_begin(w);
	for (size_t i = 0; i < tags->n; i++)
		jw_string(w, tags->v[i]);
	jw_array_end(w);
	return 1;
}

int store_set_tags(const struct job *job, const struct strv *tags,
		   struct error *e)
{
	return store_meta_update(job, "tags", build_tags, (void *)tags, e);
}

int meta_wants_completion(const struct json_value *meta)
{
	const struct json_value *notification = json_get(meta, "notification");
	const char *command = json_get_str(notification, "notify_command");
	const char *file = json_get_str(notification, "notify_file");

	return (command && *command) || (file && *file);
}

int store_write_stdin(const struct job *job, int fd, uint64_t max_bytes,
		      uint64_t *bytes, struct error *e)
{
	char buf[65536];
	int out = openat(job->dir_fd, "stdin", O_WRONLY | O_CREAT | O_EXCL |
			 O_CLOEXEC | O_NOFOLLOW, 0600);
	ssize_t got;

	*bytes = 0;
	if (out < 0)
		return error_errno(e, NULL, errno, "cannot create %s/stdin",
				   job->dir);
	while ((got = read_full(fd, buf, sizeof(buf))) > 0) {
		if (*bytes + (uint64_t)got > max_bytes) {
			close(out);
			return error_set(e, "input_too_large", "the job's input "
					 "is larger than --stdin-max-bytes "
					 "(%llu)", (unsigned long long)max_bytes);
		}
		if (write_all(out, buf, (size_t)got) < 0)
			break;
		*bytes += (uint64_t)got;
	}
	if (got < 0 || close(out) < 0)
		return error_errno(e, NULL, errno, "cannot copy the job's input "
				   "to %s/stdin", job->dir);
	return 0;
}

/* The command's words, or a single shell string's own words. */
static size_t command_words(const struct json_value *command,
			    const char *words[8], char *split, size_t size)
{
	const struct json_value *first = command && command->type == JSON_ARRAY
					 ? command->u.children.first : NULL;
	size_t count = 0;

	if (first && !first->next && first->type == JSON_STRING) {
		/* a script is named by its first command */
		snprintf(split, size, "%s", first->u.string.ptr);
		split[strcspn(split, ";&|\n()")] = '\0';
		for (char *at = split; count < 8;) {
			while (*at == ' ' || *at == '\t')
				at++;
			if (!*at)
				break;
			words[count++] = at;
			while (*at && *at != ' ' && *at != '\t')
				at++;
			if (*at)
				*at++ = '\0';
		}
		return count;
	}
	for (const struct json_value *w = first; w && count < 8; w = w->next)
		if (w->type == JSON_STRING)
			words[count++] = w->u.string.ptr;
	return count;
}

void job_name(const struct json_value *command, char *name, size_t size)
{
	const char *words[8];
	char split[256];
	size_t count = command_words(command, words, split, sizeof(split));
	size_t used = 0, parts = 0;

	name[0] = '\0';
	for (size_t i = 0; i < count && parts < 3; i++) {
		const char *word = words[i];
		const char *base = strrchr(word, '/');

		if (strcmp(word, "&&") == 0 || strcmp(word, "||") == 0 ||
		    strcmp(word, ";") == 0 || strcmp(word, "|") == 0)
			break;	/* the first command of a script names it */
		if (i > 0 && word[0] == '-')
			continue;	/* options say little */
		if (i == 0 && base && base[1])
			word = base + 1;	/* the verb, not its path */
		used += (size_t)snprintf(name + used, size > used ? size - used
					 : 0, "%s%s", used ? " " : "", word);
		if (used >= size)
			break;
		parts++;
	}
	if (used >= size && size > 4)
		memcpy(name + size - 4, "...", 4);
}

int store_create_logs(const struct job *job, struct error *e)
{
	static const char *const names[] = {
		"stdout.log", "stderr.log", "full.log"
	};

	for (size_t i = 0; i < 3; i++) {
		int fd = openat(job->dir_fd, names[i],
				O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
				O_NOFOLLOW, 0600);

		if (fd < 0)
			return error_errno(e, NULL, errno, "cannot create %s/%s",
					  job->dir, names[i]);
		close(fd);
	}
	return 0;
}

static void write_result(struct json_writer *w, const struct job_state *st)
{
	jw_key(w, "result");
	jw_object_begin(w);
	jw_key(w, "exit_code");
	if (st->has_exit_code)
		jw_i64(w, st->exit_code);
	else
		jw_null(w);
	jw_key(w, "signal");
	jw_string(w, st->signal[0] ? st->signal : NULL);
	jw_key(w, "duration_ms");
	if (st->has_duration)
		jw_u64(w, st->duration_ms);
	else
		jw_null(w);
	jw_object_end(w);
}


int store_reserve_record(int dir_fd)
{
	int fd = openat(dir_fd, RESERVE_FILE, O_WRONLY | O_CREAT | O_CLOEXEC |
			O_NOFOLLOW, 0600);
	int rc;

	if (fd < 0)
		return -1;
	rc = posix_fallocate(fd, 0, RESERVE_BYTES);
	close(fd);
	if (rc != 0)
		unlinkat(dir_fd, RESERVE_FILE, 0);
	return rc == 0 ? 0 : -1;
}

void store_release_reserve(int dir_fd)
{
	unlinkat(dir_fd, RESERVE_FILE, 0);
}

/* The disk is full: write the record into the blocks of the reserve and
 * rename that into place. Needs no new space. */
static int write_into_reserve(int dir_fd, const char *name, const char *data,
			      size_t len)
{
	int fd = openat(dir_fd, RESERVE_FILE, O_WRONLY | O_CLOEXEC |
			O_NOFOLLOW);
	int err;

	if (fd < 0)
		return -1;
	if (len > RESERVE_BYTES || pwrite(fd, data, len, 0) != (ssize_t)len ||
	    ftruncate(fd, (off_t)len) < 0 || fsync(fd) < 0) {
		err = errno;
		close(fd);
		errno = len > RESERVE_BYTES ? EFBIG : err;
		return -1;
	}
	close(fd);
	if (renameat(dir_fd, RESERVE_FILE, dir_fd, name) < 0)
		return -1;
	fsync(dir_fd);
	return 0;
}

int store_write_state(int dir_fd, const struct job_state *st, int durable)
{
	struct json_writer w;
	int rc;

	jw_init_mem(&w, RECORD_MAX, 1);
	jw_object_begin(&w);
	jw_key(&w, "job");
	jw_object_begin(&w);
	jw_kv_str(&w, "id", st->id);
	jw_kv_str(&w, "status", job_status_name(st->status));
	if (st->started_at[0])
		jw_kv_str(&w, "started_at", st->started_at);
	jw_object_end(&w);
	write_result(&w, st);
	if (st->has_pid)
		jw_kv_i64(&w, "pid", st->pid);
	if (st->finished_at[0])
		jw_kv_str(&w, "finished_at", st->finished_at);
	jw_kv_str(&w, "updated_at", st->updated_at);
	if (st->supervisor_pid)
		jw_kv_i64(&w, "supervisor_pid", st->supervisor_pid);
	if (st->timed_out)
		jw_kv_bool(&w, "timed_out", 1);
	if (st->completion_event)
		jw_kv_bool(&w, "completion_event", 1);
	if (st->error[0])
		jw_kv_str(&w, "error", st->error);
	if (st->has_usage) {
		jw_key(&w, "usage");
		jw_object_begin(&w);
		jw_kv_u64(&w, "user_cpu_ms", st->user_cpu_ms);
		jw_kv_u64(&w, "sys_cpu_ms", st->sys_cpu_ms);
		jw_kv_u64(&w, "max_rss_kib", st->max_rss_kib);
		jw_object_end(&w);
	}
	jw_object_end(&w);
	if (w.error) {
		errno = w.error;
		jw_free(&w);
		return -1;
	}
	rc = store_write_record(dir_fd, "state.json", w.buf, w.len, durable);
	if (rc < 0 && (errno == ENOSPC || errno == EDQUOT))
		rc = write_into_reserve(dir_fd, "state.json", w.buf, w.len);
	jw_free(&w);
	return rc;
}


static void parse_usage(const struct json_value *usage, struct job_state *st)
{
	if (!usage || usage->type != JSON_OBJECT)
		return;
	st->has_usage = json_get_u64(usage, "user_cpu_ms",
				     &st->user_cpu_ms) == 0;
	json_get_u64(usage, "sys_cpu_ms", &st->sys_cpu_ms);
	json_get_u64(usage, "max_rss_kib", &st->max_rss_kib);
}

static int parse_state(const struct json_value *root, struct job_state *st)
{
	const struct json_value *job = json_get(root, "job");
	const struct json_value *result = json_get(root, "result");
	const struct json_value *timed_out = json_get(root, "timed_out");
	const char *status = json_get_str(job, "status");
	int64_t number;

	memset(st, 0, sizeof(*st));
	if (!json_get_str(job, "id") || !status ||
	    job_status_parse(status, &st->status) < 0 ||
	    st->status == JOB_UNKNOWN || !result ||
	    result->type != JSON_OBJECT || !json_get_str(root, "updated_at"))
		return -1;
	copy_str(st->id, sizeof(st->id), json_get_str(job, "id"));
	copy_str(st->started_at, sizeof(st->started_at),
		 json_get_str(job, "started_at"));
	copy_str(st->finished_at, sizeof(st->finished_at),
		 json_get_str(root, "finished_at"));
	copy_str(st->updated_at, sizeof(st->updated_at),
		 json_get_str(root, "updated_at"));
	if (json_get_i64(result, "exit_code", &number) == 0 &&
	    number >= INT32_MIN && number <= INT32_MAX) {
		st->has_exit_code = 1;
		st->exit_code = (int)number;
	}
	copy_str(st->signal, sizeof(st->signal),
		 json_get_str(result, "signal"));
	st->has_duration = json_get_u64(result, "duration_ms",
					&st->duration_ms) == 0;
	st->has_pid = json_get_i64(root, "pid", &st->pid) == 0;
	json_get_i64(root, "supervisor_pid", &st->supervisor_pid);
	st->timed_out = timed_out && timed_out->type == JSON_BOOL &&
			timed_out->u.boolean;
	st->completion_event = json_get(root, "completion_event") &&
			       json_get(root, "completion_event")->type ==
			       JSON_BOOL &&
			       json_get(root, "completion_event")->u.boolean;
	copy_str(st->error, sizeof(st->error), json_get_str(root, "error"));
	parse_usage(json_get(root, "usage"), st);
	return 0;
}

int store_read_state(const struct job *job, struct job_state *st,
		     struct error *e)
{
	struct json_doc doc;
	int rc;

	if (read_record(job->dir_fd, job->dir, "state.json", &doc, e) < 0)
		return -1;
	rc = parse_state(doc.root, st);
	json_doc_free(&doc);
	if (rc < 0) {
		errno = EINVAL;
		return error_set(e, "corrupt_record",
			    "%s/state.json lacks required keys or has an "
			    "unknown status", job->dir);
	}
	return 0;
}

/* ---- locks and liveness ----------------------------------------------- */

int job_lock_open(int dir_fd)
{
	return openat(dir_fd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC |
					 O_NOFOLLOW, 0600);
}

static int lock_byte(int fd, int cmd, short type, enum job_lock_byte byte)
{
	struct flock fl = {
		.l_type = type, .l_whence = SEEK_SET,
		.l_start = byte, .l_len = 1, .l_pid = 0,
	};

	return fcntl(fd, cmd, &fl);
}

int job_lock_take(int lock_fd, enum job_lock_byte byte, int exclusive,
		  int wait)
{
	short type = exclusive ? F_WRLCK : F_RDLCK;

	if (!wait)
		return lock_byte(lock_fd, LOCK_SET, type, byte);
	while (lock_byte(lock_fd, LOCK_SETW, type, byte) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int job_lock_release(int lock_fd, enum job_lock_byte byte)
{
	return lock_byte(lock_fd, LOCK_SET, F_UNLCK, byte);
}

int job_lock_held(int lock_fd, enum job_lock_byte byte)
{
	/* asking for a read lock reports only exclusive holders, so readers
	 * blocked in wait never look like a live supervisor */
	struct flock fl = {
		.l_type = F_RDLCK, .l_whence = SEEK_SET,
		.l_start = byte, .l_len = 1, .l_pid = 0,
	};

	if (fcntl(lock_fd, LOCK_GET, &fl) < 0)
		return -1;
	return fl.l_type != F_UNLCK;
}

static void on_alarm(int signo)
{
	(void)signo;
}

/* Take a lock on byte, giving up after timeout_ms: a repeating interval
 * timer interrupts the blocking fcntl, so a signal that fires just before
 * the call cannot make us miss the deadline. */
static int lock_timed(int fd, enum job_lock_byte byte, short type,
		      int64_t timeout_ms)
{
	struct sigaction action = { .sa_handler = on_alarm }, saved;
	struct itimerval timer = { .it_interval = { 0, 10000 } }, off = { 0 };
	struct timespec no_wait = { 0, 0 };
	sigset_t alarm_only, saved_mask;
	int64_t deadline = time_after(clock_mono_ms(), (uint64_t)timeout_ms);
	int rc = 0;

	sigemptyset(&action.sa_mask);
	if (sigaction(SIGALRM, &action, &saved) < 0)
		return -1;
	for (;;) {
		int64_t left = deadline - clock_mono_ms();

		if (left <= 0)
			break;
		if (left > 86400000)
			left = 86400000;	/* re-armed each day */
		timer.it_value.tv_sec = left / 1000;
		timer.it_value.tv_usec = (left % 1000) * 1000;
		setitimer(ITIMER_REAL, &timer, NULL);
		/* a classic lock here: it conflicts with the supervisor's
		 * open-file lock all the same, and every tool (valgrind)
		 * knows a signal interrupts it */
		if (lock_byte(fd, F_SETLKW, type, byte) == 0) {
			rc = 1;
			break;
		}
		if (errno != EINTR) {
			rc = -1;
			break;
		}
	}
	/* an alarm may be pending already: block, disarm, discard it, and
	 * only then give SIGALRM its old disposition back */
	sigemptyset(&alarm_only);
	sigaddset(&alarm_only, SIGALRM);
	sigprocmask(SIG_BLOCK, &alarm_only, &saved_mask);
	setitimer(ITIMER_REAL, &off, NULL);
	while (sigtimedwait(&alarm_only, NULL, &no_wait) > 0)
		;
	sigaction(SIGALRM, &saved, NULL);
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	return rc;
}

int job_lock_take_timed(int lock_fd, enum job_lock_byte byte, int exclusive,
			int64_t timeout_ms)
{
	if (timeout_ms < 0)
		return job_lock_take(lock_fd, byte, exclusive, 1) == 0 ? 1 : -1;
	return lock_timed(lock_fd, byte, exclusive ? F_WRLCK : F_RDLCK,
			  timeout_ms);
}

int store_wait_alive_free(const struct job *job, int64_t timeout_ms)
{
	int fd = openat(job->dir_fd, LOCK_FILE, O_RDWR | O_CLOEXEC |
						O_NOFOLLOW);
	int rc;

	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	rc = job_lock_take_timed(fd, LOCK_ALIVE, 0, timeout_ms);
	close(fd);		/* closing drops the lock we took */
	return rc;
}

static void state_mark_lost(const struct job *job, struct job_state *st,
			    int had_state)
{
	if (!had_state) {
		memset(st, 0, sizeof(*st));
		copy_str(st->id, sizeof(st->id), job->id);
	}
	st->status = JOB_FAILED;
	st->has_exit_code = 0;
	st->signal[0] = '\0';
	st->has_duration = 0;
	format_utc_now(st->finished_at);
	memcpy(st->updated_at, st->finished_at, sizeof(st->updated_at));
	copy_str(st->error, sizeof(st->error), "supervisor_lost");
}

/* Whether the job's meta.json configures a job.finished sink: a lost job
 * that has one gets its event from whoever records the loss. */
static int job_wants_completion(const struct job *job)
{
	struct json_doc meta;
	struct error ignored;
	int wanted;

	if (store_read_meta(job, &meta, &ignored) < 0)
		return 0;
	wanted = meta_wants_completion(meta.root);
	json_doc_free(&meta);
	return wanted;
}

/* The event log learns of the loss as a job.finished. */
static void log_lost(const struct job *job, const struct job_state *st)
{
	struct json_writer w;
	char root[4096];

	jw_init_mem(&w, 4096, 0);
	jw_object_begin(&w);
	jw_kv_str(&w, "event_type", "job.finished");
	jw_kv_str(&w, "job_id", job->id);
	jw_kv_str(&w, "state", job_status_name(st->status));
	jw_kv_str(&w, "finished_at", st->finished_at);
	jw_kv_str(&w, "error", st->error);
	jw_object_end(&w);
	events_root_of(job->dir, root, sizeof(root));
	if (!w.error)
		events_append(root, w.buf, w.len);
	jw_free(&w);
}

/* Under LOCK_RECOVER: read again (someone may have recovered or finished
 * meanwhile) and record the loss if it still stands. */
static int recover_lost_job(const struct job *job, int lock_fd,
			    struct job_state *st, struct error *e)
{
	int had_state = store_read_state(job, st, e) == 0;

	if (!had_state && errno != ENOENT)
		return -1;
	if (had_state && st->status != JOB_RUNNING)
		return 0;
	if (job_lock_held(lock_fd, LOCK_ALIVE) == 1) {
		if (!had_state) {	/* a moment: ask again */
			error_set(e, "corrupt_record",
				  "job %s is still being launched", job->id);
			e->retryable = 1;
			return -1;
		}
		return 0;
	}
	state_mark_lost(job, st, had_state);
	st->completion_event = job_wants_completion(job);
	if (store_write_state(job->dir_fd, st, 1) < 0)
		return error_errno(e, NULL, errno, "cannot write %s/state.json",
				  job->dir);
	st->recovered = 1;
	store_release_reserve(job->dir_fd);
	log_lost(job, st);
	return 0;
}

/* state.json is missing while the ALIVE lock is held: the launch is under
 * way and running will be recorded in a moment. */
static void state_launching(const struct job *job, struct job_state *st)
{
	memset(st, 0, sizeof(*st));
	copy_str(st->id, sizeof(st->id), job->id);
	st->status = JOB_RUNNING;
	format_utc_now(st->updated_at);
}

int store_job_state(const struct job *job, struct job_state *st,
		    struct error *e)
{
	int missing, lock_fd, held, rc;

	if (store_read_state(job, st, e) == 0) {
		if (st->status != JOB_RUNNING)
			return 0;
		missing = 0;
	} else if (errno == ENOENT) {
		missing = 1;
	} else {
		return -1;
	}
	/* without a lock file the record was not made by a launch of ours
	 * (hand-written or foreign): report it, do not recover it */
	lock_fd = openat(job->dir_fd, LOCK_FILE,
			 O_RDWR | O_CLOEXEC | O_NOFOLLOW |
			 (missing ? 0 : O_CREAT), 0600);
	if (lock_fd < 0)
		return missing ? -1 : error_errno(e, NULL, errno,
						 "cannot open %s/%s", job->dir,
						 LOCK_FILE);
	held = job_lock_held(lock_fd, LOCK_ALIVE);
	if (held == 1 && missing)
		state_launching(job, st);
	if (held != 0) {
		close(lock_fd);
		return held < 0 ? error_errno(e, NULL, errno, "cannot test %s/%s",
					     job->dir, LOCK_FILE) : 0;
	}
	if (job_lock_take(lock_fd, LOCK_RECOVER, 1, 1) < 0) {
		close(lock_fd);
		return error_errno(e, NULL, errno, "cannot lock %s/%s", job->dir,
				  LOCK_FILE);
	}
	rc = recover_lost_job(job, lock_fd, st, e);
	close(lock_fd);
	return rc;
}

/* ---- listing ---------------------------------------------------------- */

void job_summary_free(struct job_summary *summary)
{
	free(summary->cwd);
	free(summary->meta_json);
	for (size_t i = 0; i < summary->tags.n; i++)
		free(summary->tags.v[i]);
	strv_free(&summary->tags);
	free(summary);
}

/* The caller metadata as compact JSON, so list can print it later. */
static int summary_copy_meta(struct job_summary *summary,
			     const struct json_value *meta)
{
	struct json_writer w;

	jw_init_mem(&w, RECORD_MAX, 0);
	write_caller_meta_value(&w, meta);
	if (w.error) {
		jw_free(&w);
		return -1;
	}
	summary->meta_json = w.buf;	/* the writer's buffer is ours now */
	return 0;
}

static struct job_summary *summary_from_meta(const struct json_value *meta)
{
	struct job_summary *summary = calloc(1, sizeof(*summary));
	const struct json_value *tags = json_get(meta, "tags");
	const char *cwd = json_get_str(meta, "cwd");
	const char *raw_cwd = json_get_str(json_get(meta, "raw"), "cwd");

	if (!summary)
		return NULL;
	copy_str(summary->id, sizeof(summary->id),
		 json_get_str(json_get(meta, "job"), "id"));
	copy_str(summary->created_at, sizeof(summary->created_at),
		 json_get_str(meta, "created_at"));
	job_name(json_get(meta, "command"), summary->name,
		 sizeof(summary->name));
	if (raw_cwd)
		summary->cwd = hex_decode(raw_cwd);	/* the exact bytes */
	else if (cwd && !(summary->cwd = strdup(cwd)))
		goto fail;
	if (summary_copy_meta(summary, meta) < 0)
		goto fail;
	if (tags && tags->type == JSON_ARRAY) {
		for (const struct json_value *tag = tags->u.children.first;
		     tag; tag = tag->next) {
			char *copy;

			if (tag->type != JSON_STRING)
				continue;
			copy = strdup(tag->u.string.ptr);
			if (!copy || strv_push(&summary->tags, copy) < 0) {
				free(copy);
				goto fail;
			}
		}
	}
	return summary;
fail:
	job_summary_free(summary);
	return NULL;
}

/* One directory of the root: 1 visited, 0 not a job, -1 unreadable. */
/* The common case, a job that is not running: both records read by
 * their paths from the root, no directory opened (no liveness to check).
 * 1 with *out; 0 when the job needs the careful path. */
static int list_settled(const struct store_root *root, int root_fd,
			const char *name, struct job_summary **out)
{
	char path[JOB_ID_MAX + 16];
	struct json_doc doc;
	struct job_state st;
	struct error ignored;
	int settled;

	snprintf(path, sizeof(path), "%s/state.json", name);
	if (read_record(root_fd, root->abs, path, &doc, &ignored) < 0)
		return 0;
	settled = parse_state(doc.root, &st) == 0 &&
		  st.status != JOB_RUNNING;
	json_doc_free(&doc);
	snprintf(path, sizeof(path), "%s/meta.json", name);
	if (!settled || read_record(root_fd, root->abs, path, &doc,
				    &ignored) < 0)
		return 0;
	*out = meta_complete(doc.root) ? summary_from_meta(doc.root) : NULL;
	json_doc_free(&doc);
	if (!*out)
		return 0;
	(*out)->state = st;
	(*out)->state_ok = 1;
	return 1;
}

static int list_one(const struct store_root *root, int root_fd,
		    const char *name, struct job_summary **out)
{
	struct job job = { .dir_fd = -1, .lock_fd = -1 };
	struct json_doc meta;
	struct error ignored;
	int dir_fd;

	*out = NULL;
	if (list_settled(root, root_fd, name, out))
		return 1;
	dir_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				       O_CLOEXEC);
	if (dir_fd < 0)	/* deleted meanwhile, or not a directory */
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP
		       ? 0 : -1;
	if (job_fill(&job, root, name, dir_fd) < 0)
		return -1;
	if (store_read_meta(&job, &meta, &ignored) < 0) {
		store_job_close(&job);
		return strcmp(ignored.code, "job_not_found") == 0 ? 0 : -1;
	}
	*out = summary_from_meta(meta.root);
	json_doc_free(&meta);
	if (*out)
		(*out)->state_ok = store_job_state(&job, &(*out)->state,
						   &ignored) == 0;
	store_job_close(&job);
	if (*out && !(*out)->state_ok &&
	    strcmp(ignored.code, "job_not_found") == 0) {
		job_summary_free(*out);	/* deleted while we read it */
		*out = NULL;
		return 0;
	}
	return *out ? 1 : -1;
}

int store_list(const struct store_root *root, job_visitor visit, void *ctx,
	       uint64_t *skipped, struct error *e)
{
	struct dirent *entry;
	DIR *dir;
	int root_fd, opened;

	*skipped = 0;
	opened = root_listing(root, &dir, e);
	if (opened <= 0)
		return opened;
	root_fd = dirfd(dir);
	while ((entry = readdir(dir))) {
		struct job_summary *summary;
		int rc;

		if (entry->d_name[0] == '.' ||
		    (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN))
			continue;
		rc = list_one(root, root_fd, entry->d_name, &summary);
		if (rc < 0)
			(*skipped)++;
		if (rc > 0 && visit(ctx, summary) < 0) {
			closedir(dir);
			return error_errno(e, NULL, ENOMEM, "cannot list jobs");
		}
	}
	closedir(dir);
	return 0;
}

/* ---- tags and durations ----------------------------------------------- */

const char *tag_invalid(const char *text, int pattern)
{
	size_t len = strlen(text);
	int segment_len = 0;

	if (len == 0)
		return "a tag must not be empty";
	if (len >= 2 && strcmp(text + len - 2, ".*") == 0) {
		if (!pattern)
			return "'.*' is only allowed in list --tag filters";
		len -= 2;
		if (len == 0)
			return "the namespace before '.*' must not be empty";
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '.') {
			if (segment_len == 0)
				return "empty segment (leading, trailing or "
				       "double '.')";
			segment_len = 0;
		} else if (isalnum(c) || c == '-') {
			segment_len++;
		} else {
			return "only ASCII letters, digits, '-' and '.' are "
			       "allowed";
		}
	}
	return segment_len ? NULL
			   : "empty segment (leading, trailing or double '.')";
}

int tags_match(const struct strv *tags, const char *pattern)
{
	size_t len = strlen(pattern);
	int prefix = len >= 2 && strcmp(pattern + len - 2, ".*") == 0;

	if (prefix)
		len -= 2;
	for (size_t i = 0; i < tags->n; i++) {
		const char *tag = tags->v[i];

		if (!prefix && strcmp(tag, pattern) == 0)
			return 1;
		if (prefix && strncmp(tag, pattern, len) == 0 &&
		    (tag[len] == '\0' || tag[len] == '.'))
			return 1;
	}
	return 0;
}

int tags_add(struct strv *tags, char *tag)
{
	for (size_t i = 0; i < tags->n; i++)
		if (strcmp(tags->v[i], tag) == 0)
			return 0;
	return strv_push(tags, tag);
}

int parse_duration(const char *text, uint64_t *seconds)
{
	static const struct { char suffix; uint64_t unit; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	char digits[32];
	uint64_t unit = 1, value;
	size_t len;

	while (isspace((unsigned char)*text))
		text++;
	len = strlen(text);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	for (size_t i = 0; len > 0 && i < 4; i++) {
		if (text[len - 1] == units[i].suffix) {
			unit = units[i].unit;
			len--;
			break;
		}
	}
	if (len == 0 || len >= sizeof(digits))
		return -1;
	memcpy(digits, text, len);
	digits[len] = '\0';
	if (parse_u64(digits, &value) < 0 || value > UINT64_MAX / unit)
		return -1;
	*seconds = value * unit;
	return 0;
}

/* ---- removing job directories ----------------------------------------- */

#define TREE_DEPTH_MAX 16

/* Size of the regular files under dir_fd (symlinks not followed). */
static uint64_t tree_bytes(int dir_fd, int depth)
{
	DIR *dir = dir_list(dir_fd);
	struct dirent *entry;
	uint64_t total = 0;

	if (!dir)
		return 0;
	while ((entry = readdir(dir))) {
		struct stat st;

		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0 ||
		    fstatat(dir_fd, entry->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
		else if (S_ISDIR(st.st_mode) && depth < TREE_DEPTH_MAX) {
			int sub = openat(dir_fd, entry->d_name, O_RDONLY |
					 O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0) {
				total += tree_bytes(sub, depth + 1);
				close(sub);
			}
		}
	}
	closedir(dir);
	return total;
}

/* Remove everything under dir_fd: entries are unlinked, never followed. */
static int tree_empty(int dir_fd, int depth)
{
	DIR *dir = dir_list(dir_fd);
	struct dirent *entry;
	int rc = 0;

	if (!dir)
		return -1;
	while ((entry = readdir(dir))) {
		struct stat st;
		int sub;

		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0)
			continue;
		if (fstatat(dir_fd, entry->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0
		    && S_ISDIR(st.st_mode)) {
			sub = depth < TREE_DEPTH_MAX ?
			      openat(dir_fd, entry->d_name, O_RDONLY |
				     O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
			if (sub < 0 || tree_empty(sub, depth + 1) < 0)
				rc = -1;
			if (sub >= 0)
				close(sub);
			if (unlinkat(dir_fd, entry->d_name, AT_REMOVEDIR) < 0)
				rc = -1;
		} else if (unlinkat(dir_fd, entry->d_name, 0) < 0) {
			rc = -1;
		}
	}
	closedir(dir);
	return rc;
}

#define DELETED_PREFIX ".deleted-"

/* Take the job out of sight in one rename, then empty and remove it:
 * readers find the whole job or no job, never half of one. A crash
 * midway leaves a hidden .deleted-* directory that gc removes. */
static int remove_job_dir(int root_fd, const char *name, int dir_fd)
{
	char hidden[sizeof(DELETED_PREFIX) + 256];

	snprintf(hidden, sizeof(hidden), DELETED_PREFIX "%s", name);
	if (renameat(root_fd, name, root_fd, hidden) < 0)
		return -1;
	if (tree_empty(dir_fd, 0) < 0)
		return -1;
	return unlinkat(root_fd, hidden, AT_REMOVEDIR);
}

/* What an interrupted removal left behind. */
static void remove_leftover(int root_fd, const char *name)
{
	int dir_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY |
					   O_NOFOLLOW | O_CLOEXEC);

	if (dir_fd < 0)
		return;
	if (tree_empty(dir_fd, 0) == 0)
		unlinkat(root_fd, name, AT_REMOVEDIR);
	close(dir_fd);
}

int store_job_remove(const struct store_root *root, struct job *job,
		     uint64_t *bytes, struct error *e)
{
	int root_fd = open_root_dir(root), rc;

	if (root_fd < 0)
		return error_errno(e, NULL, errno, "cannot open jobs root %s",
				   root->abs);
	*bytes = tree_bytes(job->dir_fd, 0);
	rc = remove_job_dir(root_fd, job->id, job->dir_fd);
	close(root_fd);
	if (rc < 0)
		return error_errno(e, NULL, errno, "cannot remove %s",
				   job->dir);
	return 0;
}

/* ---- gc --------------------------------------------------------------- */


static int meta_unreadable(const struct job *job)
{
	struct json_doc meta;
	struct error e;

	if (!exists_at(job->dir_fd, "meta.json"))
		return 0;
	if (store_read_meta(job, &meta, &e) < 0)
		return 1;
	json_doc_free(&meta);
	return 0;
}

/* Decide (and do) what gc does with one job directory. */
static int gc_one(const struct store_root *root, int root_fd,
		  const char *name, const char *cutoff, const char *reason_old,
		  int dry_run, struct gc_entry *entry, char *reason_buf,
		  size_t reason_size, gc_visitor visit, void *ctx)
{
	struct job job = { .dir_fd = -1, .lock_fd = -1 };
	struct job_state st;
	struct error e;
	const char *stamp;
	int dir_fd, rc;

	*entry = (struct gc_entry){ .job_id = name, .state = "unknown",
				    .action = "skipped",
				    .reason = "state_unreadable" };
	dir_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				       O_CLOEXEC);
	if (dir_fd < 0 || job_fill(&job, root, name, dir_fd) < 0)
		return visit(ctx, entry);
	entry->job = &job;
	/* a job without meta.json may be collected (as agent-exec 0.1 does);
	 * one whose meta.json is there but unreadable is left alone */
	if (meta_unreadable(&job)) {
		entry->reason = "meta_unreadable";
		goto out;
	}
	if (store_job_state(&job, &st, &e) < 0)
		goto out;
	entry->st = &st;
	entry->state = job_status_name(st.status);
	stamp = st.finished_at[0] ? st.finished_at : st.updated_at;
	if (st.status == JOB_RUNNING)
		entry->reason = "running";
	else if (st.status == JOB_CREATED)
		entry->reason = "non_terminal_status";
	else if (!stamp[0])
		entry->reason = "no_timestamp";
	else if (strncmp(stamp, cutoff, 19) >= 0)
		entry->reason = "too_recent";
	else {
		entry->reason = reason_old;
		entry->bytes = tree_bytes(dir_fd, 0);
		if (dry_run) {
			entry->action = "would_delete";
		} else if (remove_job_dir(root_fd, name, dir_fd) == 0) {
			entry->action = "deleted";
		} else {
			snprintf(reason_buf, reason_size, "delete_failed: %s",
				 strerror(errno));
			entry->reason = reason_buf;
		}
	}
out:
	rc = visit(ctx, entry);
	store_job_close(&job);
	return rc;
}

int store_gc(const struct store_root *root, const char *cutoff,
	     const char *older_than, int dry_run, gc_visitor visit, void *ctx,
	     struct gc_totals *totals, struct error *e)
{
	char reason_old[96], reason_failed[160];
	struct dirent *entry;
	DIR *dir;
	int root_fd, opened;

	*totals = (struct gc_totals){ 0 };
	opened = root_listing(root, &dir, e);
	if (opened <= 0)
		return opened;
	root_fd = dirfd(dir);
	snprintf(reason_old, sizeof(reason_old), "older_than_%s", older_than);
	while ((entry = readdir(dir))) {
		struct gc_entry decision;
		int rc;

		if (!dry_run && strncmp(entry->d_name, DELETED_PREFIX,
					strlen(DELETED_PREFIX)) == 0) {
			remove_leftover(root_fd, entry->d_name);
			continue;
		}
		if (entry->d_name[0] == '.' ||
		    (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN))
			continue;
		if (!utf8_valid(entry->d_name)) {
			totals->skipped++;
			continue;
		}
		rc = gc_one(root, root_fd, entry->d_name, cutoff, reason_old,
			    dry_run, &decision, reason_failed,
			    sizeof(reason_failed), visit, ctx);
		if (strcmp(decision.action, "skipped") == 0)
			totals->skipped++;
		else
			totals->freed_bytes += decision.bytes;
		if (strcmp(decision.action, "deleted") == 0)
			totals->deleted++;
		if (rc < 0) {
			closedir(dir);
			return error_errno(e, NULL, ENOMEM, "cannot run gc");
		}
	}
	closedir(dir);
	return 0;
}

/* ---- log tails -------------------------------------------------------- */

/* Where the last `lines` lines of [window_start, end) begin, reading
 * backwards a block at a time. *cut tells whether earlier lines exist. */
static int tail_line_start(int fd, off_t window_start, off_t end,
			   uint64_t lines, off_t *start, int *cut)
{
	char buf[TAIL_CHUNK];
	uint64_t seen = 0;
	off_t pos = end;

	*start = window_start;
	*cut = 0;
	while (pos > window_start) {
		size_t block = (size_t)(pos - window_start) < sizeof(buf) ?
			       (size_t)(pos - window_start) : sizeof(buf);
		ssize_t got;
		size_t len;

		pos -= (off_t)block;
		got = pread_full(fd, buf, block, pos);
		if (got < 0)
			return -1;
		len = (size_t)got;
		while (len > 0) {
			char *newline = memrchr(buf, '\n', len);

			if (!newline)
				break;
			len = (size_t)(newline - buf);
			if (++seen == lines) {
				*start = pos + (off_t)len + 1;
				*cut = 1;
				return 0;
			}
		}
	}
	return 0;
}

/* Stream [start, end) into the open string, dropping each CR that comes
 * right before an LF when crlf is set (the LF at `end` included). */
static void tail_stream(struct json_writer *w, struct jw_stream *st, int fd,
			off_t start, off_t end, int crlf, int lf_at_end)
{
	char buf[TAIL_CHUNK];
	int held_cr = 0;

	for (off_t pos = start; pos < end;) {
		size_t want = (size_t)(end - pos) < sizeof(buf) ?
			      (size_t)(end - pos) : sizeof(buf);
		ssize_t got = pread_full(fd, buf, want, pos);
		size_t from = 0, len;

		if (got <= 0)
			break;	/* the file shrank under us */
		len = (size_t)got;
		pos += got;
		if (!crlf) {
			jw_string_chunk(w, st, buf, len);
			continue;
		}
		if (held_cr && buf[0] != '\n')
			jw_string_chunk(w, st, "\r", 1);
		held_cr = 0;
		for (char *cr; (cr = memchr(buf + from, '\r', len - from));) {
			size_t at = (size_t)(cr - buf);

			if (at + 1 == len) {
				jw_string_chunk(w, st, buf + from, at - from);
				from = len;
				held_cr = 1;
				break;
			}
			if (buf[at + 1] == '\n') {
				jw_string_chunk(w, st, buf + from, at - from);
				from = at + 1;
			} else {
				jw_string_chunk(w, st, buf + from,
						at + 1 - from);
				from = at + 1;
			}
		}
		jw_string_chunk(w, st, buf + from, len - from);
	}
	if (held_cr && !lf_at_end)
		jw_string_chunk(w, st, "\r", 1);
}

int log_tail_write(struct json_writer *w, int fd, uint64_t tail_lines,
		   uint64_t max_bytes, struct tail_info *info)
{
	struct jw_stream st;
	struct stat sb;
	off_t size = 0, window_start, start, end;
	int line_cut = 0, lf_at_end = 0;
	char last;

	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		size = sb.st_size;
	info->observed_bytes = (uint64_t)size;
	window_start = (uint64_t)size > max_bytes ? size - (off_t)max_bytes : 0;
	start = window_start;
	end = size;
	if (tail_lines > 0 && end > window_start &&
	    pread_full(fd, &last, 1, end - 1) == 1 && last == '\n') {
		end--;		/* a final newline ends a line, starts none */
		lf_at_end = 1;
	}
	if (tail_lines > 0 &&
	    tail_line_start(fd, window_start, end, tail_lines, &start,
			    &line_cut) < 0)
		start = end;
	jw_string_begin(w, &st);
	tail_stream(w, &st, fd, start, end, tail_lines > 0, lf_at_end);
	jw_string_end(w, &st);
	info->truncated = window_start > 0 || line_cut;
	info->included_bytes = st.out_bytes;
	return 0;
}

/* [start, end of file) of fd, at most max_bytes, as a JSON string. An
 * incomplete UTF-8 sequence at the end is held back unless final (the
 * job is over): returns where the next read begins. */
static uint64_t range_write(struct json_writer *w, int fd, uint64_t start,
			    uint64_t max_bytes, int final,
			    struct tail_info *info)
{
	char buf[TAIL_CHUNK];
	struct jw_stream st;
	struct stat sb;
	uint64_t size = 0, end, pos;

	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		size = (uint64_t)sb.st_size;
	if (start > size)
		start = size;
	end = size - start > max_bytes ? start + max_bytes : size;
	info->observed_bytes = size;
	info->truncated = end < size;
	jw_string_begin(w, &st);
	for (pos = start; pos < end;) {
		size_t want = end - pos < sizeof(buf) ? (size_t)(end - pos)
						      : sizeof(buf);
		ssize_t got = pread_full(fd, buf, want, (off_t)pos);

		if (got <= 0)
			break;
		jw_string_chunk(w, &st, buf, (size_t)got);
		pos += (uint64_t)got;
	}
	/* a window too small for even one whole character takes the rest
	 * of it (a few bytes over max_bytes): every read makes progress */
	while (st.npending > 0 && st.npending == pos - start && pos < size) {
		char byte;

		if (pread_full(fd, &byte, 1, (off_t)pos) != 1)
			break;
		jw_string_chunk(w, &st, &byte, 1);
		pos++;
	}
	if (final && pos == size)
		jw_string_end(w, &st);
	else
		pos -= jw_string_end_partial(w, &st);
	info->included_bytes = st.out_bytes;
	return pos;
}

void store_log_sizes(const struct job *job, uint64_t sizes[2])
{
	static const char *const names[2] = { "stdout.log", "stderr.log" };
	struct stat st;

	for (int i = 0; i < 2; i++)
		sizes[i] = fstatat(job->dir_fd, names[i], &st,
				   AT_SYMLINK_NOFOLLOW) == 0
			   ? (uint64_t)st.st_size : 0;
}

#define LOG_LINE_MAX 65536	/* longer lines are cut in log pages */

/* Lines in [0, size): newlines, plus a last line without one. */
static uint64_t count_lines(int fd, uint64_t size)
{
	char buf[TAIL_CHUNK];
	uint64_t lines = 0, pos = 0;
	char last = '\n';

	while (pos < size) {
		ssize_t got = pread_full(fd, buf, sizeof(buf), (off_t)pos);

		if (got <= 0)
			break;
		for (char *p = buf; (p = memchr(p, '\n', (size_t)got -
						(size_t)(p - buf))); p++)
			lines++;
		last = buf[got - 1];
		pos += (uint64_t)got;
	}
	return lines + (size > 0 && last != '\n');
}

/* The byte offset where line number first starts: scanning forwards, or
 * backwards from the end when that is nearer. */
static uint64_t line_start(int fd, uint64_t size, uint64_t total,
			   uint64_t first)
{
	char buf[TAIL_CHUNK];
	uint64_t pos = 0, seen = 0;
	off_t start;
	int cut;

	if (first == 0)
		return 0;
	if (first >= total)
		return size;
	if (first > total / 2) {
		/* the last (total - first) lines begin after this newline */
		char last = 0;
		uint64_t end = size;

		if (size > 0 &&
		    pread_full(fd, &last, 1, (off_t)size - 1) == 1 &&
		    last == '\n')
			end--;
		tail_line_start(fd, 0, (off_t)end, total - first, &start, &cut);
		return (uint64_t)start;
	}
	while (pos < size) {
		ssize_t got = pread_full(fd, buf, sizeof(buf), (off_t)pos);
		char *p = buf;

		if (got <= 0)
			break;
		while ((p = memchr(p, '\n', (size_t)got - (size_t)(p - buf)))) {
			p++;
			if (++seen == first)
				return pos + (uint64_t)(p - buf);
		}
		pos += (uint64_t)got;
	}
	return size;
}

struct line_page {
	struct json_writer *w;
	char *line;		/* LOG_LINE_MAX + 1 bytes */
	size_t len;
	int cut;		/* this line was longer than LOG_LINE_MAX */
	uint64_t left, written, truncated;
};

static void page_add(struct line_page *pg, const char *p, size_t n)
{
	size_t room = LOG_LINE_MAX + 1 - pg->len;

	if (n > room) {
		n = room;
		pg->cut = 1;
	}
	memcpy(pg->line + pg->len, p, n);
	pg->len += n;
}

static void page_emit(struct line_page *pg)
{
	size_t len = pg->len;

	if (len > 0 && pg->line[len - 1] == '\r')
		len--;		/* CRLF reads as LF */
	if (len > LOG_LINE_MAX) {
		len = LOG_LINE_MAX;
		pg->cut = 1;
	}
	jw_string_n(pg->w, pg->line, len);
	pg->truncated += pg->cut;
	pg->written++;
	pg->left--;
	pg->len = 0;
	pg->cut = 0;
}

/* Write up to pg->left lines from byte offset pos on. */
static void page_lines(struct line_page *pg, int fd, uint64_t pos,
		       uint64_t size)
{
	char buf[TAIL_CHUNK];

	while (pos < size && pg->left > 0) {
		ssize_t got = pread_full(fd, buf, sizeof(buf), (off_t)pos);
		char *p = buf, *end, *newline;

		if (got <= 0)
			break;
		end = buf + got;
		pos += (uint64_t)got;
		while (pg->left > 0 && p < end &&
		       (newline = memchr(p, '\n', (size_t)(end - p)))) {
			page_add(pg, p, (size_t)(newline - p));
			page_emit(pg);
			p = newline + 1;
		}
		if (pg->left > 0 && p < end)
			page_add(pg, p, (size_t)(end - p));
	}
	if (pg->left > 0 && pg->len > 0)
		page_emit(pg);	/* a last line without its newline */
}

int store_log_page(struct json_writer *w, const struct job *job,
		   const char *path, int64_t offset, int64_t limit,
		   struct error *e)
{
	struct line_page pg = { .w = w };
	struct stat st;
	uint64_t size, total, first, count;
	/* a job's own log by name; a --log PATH as given */
	int fd = path[0] == '/' ? open(path, O_RDONLY | O_CLOEXEC) :
		 openat(job->dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	size = fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	pg.line = malloc(LOG_LINE_MAX + 1);
	if (!pg.line) {
		if (fd >= 0)
			close(fd);
		return error_errno(e, NULL, ENOMEM, "log");
	}
	total = fd >= 0 ? count_lines(fd, size) : 0;
	count = limit >= 0 ? (uint64_t)limit : 200;
	if (offset >= 0)
		first = (uint64_t)offset < total ? (uint64_t)offset : total;
	else
		first = total > count ? total - count : 0;
	if (offset >= 0 && limit < 0)
		count = total - first;	/* from offset to the end */
	pg.left = count;
	jw_key(w, "lines");
	jw_array_begin(w);
	if (fd >= 0 && count > 0)
		page_lines(&pg, fd, line_start(fd, size, total, first), size);
	jw_array_end(w);
	jw_kv_u64(w, "total_lines", total);
	jw_kv_u64(w, "offset", first);
	jw_kv_u64(w, "next_offset", first + pg.written);
	jw_kv_bool(w, "has_more", first + pg.written < total);
	jw_kv_u64(w, "truncated_lines", pg.truncated);
	free(pg.line);
	if (fd >= 0)
		close(fd);
	return 0;
}

void store_write_outputs(struct json_writer *w, const struct job *job,
			 const struct output_read *how,
			 struct tail_info info[2], uint64_t next[2])
{
	static const char *const names[2] = { "stdout.log", "stderr.log" };
	static const char *const keys[2] = { "stdout_tail", "stderr_tail" };

	for (int i = 0; i < 2; i++) {
		int fd = openat(job->dir_fd, names[i], O_RDONLY | O_CLOEXEC |
						       O_NOFOLLOW);

		jw_key(w, keys[i]);
		if (how->since) {
			next[i] = range_write(w, fd, how->since[i],
					      how->max_bytes, how->final,
					      &info[i]);
		} else {
			log_tail_write(w, fd, how->tail_lines, how->max_bytes,
				       &info[i]);
			next[i] = info[i].observed_bytes;
		}
		if (fd >= 0)
			close(fd);
	}
}
