/* config.c - a strict TOML-subset reader and the shell wrapper setting.
 * Anything outside the subset (floats, dates, inline tables, arrays of
 * tables, multi-line strings) is an error naming its line, never a guess. */
#include "config.h"
#include "lib/fmt.h"
#include "lib/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_MAX (1u << 20)
#define KEY_MAX 256

struct toml_parser {
	const char *text;
	size_t len, pos;
	int line;
	char table[KEY_MAX];	/* current [table], "" at the top */
	struct strv seen;	/* keys and tables defined so far (heap) */
	char *err;
	size_t err_size;
};

static int parse_error(struct toml_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int parse_error(struct toml_parser *p, const char *fmt, ...)
{
	int used = snprintf(p->err, p->err_size, "line %d: ", p->line);
	va_list ap;

	va_start(ap, fmt);
	if (used >= 0 && (size_t)used < p->err_size)
		vsnprintf(p->err + used, p->err_size - (size_t)used, fmt, ap);
	va_end(ap);
	return -1;
}

static int peek(const struct toml_parser *p)
{
	return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static void skip_blanks(struct toml_parser *p)
{
	while (peek(p) == ' ' || peek(p) == '\t')
		p->pos++;
}

static void skip_comment(struct toml_parser *p)
{
	if (peek(p) != '#')
		return;
	while (p->pos < p->len && p->text[p->pos] != '\n')
		p->pos++;
}

/* Blanks, maybe a comment, then a newline: 1 when one was taken. */
static int take_line_end(struct toml_parser *p)
{
	skip_blanks(p);
	skip_comment(p);
	if (peek(p) == '\r' && p->pos + 1 < p->len &&
	    p->text[p->pos + 1] == '\n')
		p->pos++;
	if (peek(p) != '\n')
		return 0;
	p->pos++;
	p->line++;
	return 1;
}

/* The end of a line: blanks, maybe a comment, then a newline or the end. */
static int expect_line_end(struct toml_parser *p)
{
	if (take_line_end(p) || peek(p) < 0)
		return 0;
	return parse_error(p, "unexpected '%c' after the value", peek(p));
}

/* Blanks, comments and newlines (inside arrays). */
static void skip_space_lines(struct toml_parser *p)
{
	while (take_line_end(p))
		;
}

static int append_utf8(char *out, size_t *len, unsigned long code)
{
	if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
		return -1;
	*len += utf8_encode((uint32_t)code, out + *len);
	return 0;
}

/* One escape of a basic string, after the backslash. */
static int parse_escape(struct toml_parser *p, char *out, size_t *len)
{
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	int c = peek(p);
	const char *hit = c > 0 ? strchr(from, c) : NULL;
	unsigned long code = 0;
	int digits;

	p->pos++;
	if (hit) {
		out[(*len)++] = to[hit - from];
		return 0;
	}
	if (c != 'u' && c != 'U')
		return parse_error(p, "invalid escape in a string");
	digits = c == 'u' ? 4 : 8;
	for (int i = 0; i < digits; i++) {
		int h = peek(p);

		if (h < 0 || !strchr("0123456789abcdefABCDEF", h))
			return parse_error(p, "invalid \\%c escape", c);
		code = code * 16 + (unsigned long)(h <= '9' ? h - '0'
						   : (h | 0x20) - 'a' + 10);
		p->pos++;
	}
	if (append_utf8(out, len, code) < 0)
		return parse_error(p, "invalid code point in \\%c escape", c);
	return 0;
}

/* A "basic" or 'literal' string on one line, into a heap copy. */
static int parse_string(struct toml_parser *p, char **out)
{
	int quote = peek(p);
	size_t len = 0;
	char *buf;

	if (p->pos + 2 < p->len && p->text[p->pos + 1] == quote &&
	    p->text[p->pos + 2] == quote)
		return parse_error(p, "multi-line strings are not supported");
	p->pos++;
	/* escapes never grow: a 4- or 8-digit escape makes at most 4 bytes */
	buf = malloc(p->len - p->pos + 1);
	if (!buf)
		return parse_error(p, "out of memory");
	for (;;) {
		int c = peek(p);

		if (c < 0 || c == '\n' || c == '\r') {
			free(buf);
			return parse_error(p, "unterminated string");
		}
		p->pos++;
		if (c == quote)
			break;
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			free(buf);
			return parse_error(p, "control character in a string");
		}
		if (c == '\\' && quote == '"') {
			if (parse_escape(p, buf, &len) < 0) {
				free(buf);
				return -1;
			}
			continue;
		}
		buf[len++] = (char)c;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static int is_bare_key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* A dotted key (bare or quoted parts), appended to name[KEY_MAX]. */
static int parse_key(struct toml_parser *p, char *name)
{
	size_t used = strlen(name);

	for (;;) {
		char part[KEY_MAX];
		char *quoted = NULL;
		size_t part_len = 0;

		skip_blanks(p);
		if (peek(p) == '"' || peek(p) == '\'') {
			if (parse_string(p, &quoted) < 0)
				return -1;
			copy_str(part, sizeof(part), quoted);
			part_len = strlen(part);
			free(quoted);
		} else {
			while (is_bare_key_char(peek(p)) &&
			       part_len + 1 < sizeof(part))
				part[part_len++] = p->text[p->pos++];
			part[part_len] = '\0';
			if (part_len == 0)
				return peek(p) < 0 || peek(p) == '\n'
				       ? parse_error(p, "expected a key")
				       : parse_error(p, "unexpected '%c' in a "
						     "key", peek(p));
		}
		if (used + part_len + 2 > KEY_MAX)
			return parse_error(p, "key too long");
		if (used)
			name[used++] = '.';
		memcpy(name + used, part, part_len + 1);
		used += part_len;
		skip_blanks(p);
		if (peek(p) != '.')
			return 0;
		p->pos++;
	}
}

static int remember(struct toml_parser *p, const char *name, const char *what)
{
	for (size_t i = 0; i < p->seen.n; i++)
		if (strcmp(p->seen.v[i], name) == 0)
			return parse_error(p, "%s \"%s\" defined twice", what,
					   name);
	if (!strv_keep(&p->seen, strdup(name)))
		return parse_error(p, "out of memory");
	return 0;
}

static int parse_table_header(struct toml_parser *p)
{
	char name[KEY_MAX] = "";

	p->pos++;
	if (peek(p) == '[')
		return parse_error(p, "arrays of tables are not supported");
	if (parse_key(p, name) < 0)
		return -1;
	if (peek(p) != ']')
		return parse_error(p, "expected ']' after the table name");
	p->pos++;
	if (remember(p, name, "table") < 0)
		return -1;
	memcpy(p->table, name, sizeof(p->table));
	return expect_line_end(p);
}

static int parse_integer(struct toml_parser *p)
{
	size_t start = p->pos;
	int digits = 0;

	if (peek(p) == '+' || peek(p) == '-')
		p->pos++;
	while ((peek(p) >= '0' && peek(p) <= '9') ||
	       (peek(p) == '_' && digits)) {
		digits += peek(p) != '_';
		p->pos++;
	}
	if (!digits || p->text[p->pos - 1] == '_' ||
	    (p->text[start + (p->text[start] == '+' ||
			      p->text[start] == '-')] == '0' && digits > 1))
		return parse_error(p, "invalid integer");
	if (peek(p) == '.' || peek(p) == 'e' || peek(p) == 'E' ||
	    peek(p) == ':' || peek(p) == '-')
		return parse_error(p, "only strings, integers, booleans and "
				   "arrays are supported");
	return 0;
}

static int word_at(const struct toml_parser *p, const char *word)
{
	size_t len = strlen(word);

	return p->len - p->pos >= len &&
	       memcmp(p->text + p->pos, word, len) == 0 &&
	       !is_bare_key_char(p->pos + len < p->len
					 ? (unsigned char)p->text[p->pos + len]
					 : 0);
}

/* The text from start to the parser's place, its '_' left out: an
 * integer or a boolean as written. */
static int keep_text(struct toml_parser *p, size_t start, char **string)
{
	size_t len = 0;

	*string = malloc(p->pos - start + 1);
	if (!*string)
		return parse_error(p, "out of memory");
	for (size_t i = start; i < p->pos; i++)
		if (p->text[i] != '_')
			(*string)[len++] = p->text[i];
	(*string)[len] = '\0';
	return 0;
}

/* A scalar: string, integer or boolean; *string is its value (integers
 * and booleans as written: "1000", "true"). */
static int parse_scalar(struct toml_parser *p, enum toml_type *type,
			char **string)
{
	size_t start = p->pos;
	int c = peek(p);

	*string = NULL;
	if (c == '"' || c == '\'') {
		*type = TOML_STRING;
		return parse_string(p, string);
	}
	if (word_at(p, "true") || word_at(p, "false")) {
		*type = TOML_BOOLEAN;
		p->pos += word_at(p, "true") ? 4 : 5;
		return keep_text(p, start, string);
	}
	if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
		*type = TOML_INTEGER;
		return parse_integer(p) < 0 ? -1 : keep_text(p, start, string);
	}
	if (c == '{')
		return parse_error(p, "inline tables are not supported");
	if (c < 0 || c == '\n' || c == '#')
		return parse_error(p, "expected a value");
	return parse_error(p, "unexpected '%c' in a value", c);
}

static int parse_array(struct toml_parser *p, struct toml_entry *entry)
{
	p->pos++;
	entry->type = TOML_ARRAY;
	entry->all_strings = 1;
	for (;;) {
		enum toml_type type;
		char *string;

		skip_space_lines(p);
		if (peek(p) == ']')
			break;
		if (peek(p) == '[')
			return parse_error(p, "nested arrays are not supported");
		if (parse_scalar(p, &type, &string) < 0)
			return -1;
		if (type != TOML_STRING) {
			entry->all_strings = 0;
			free(string);
		} else if (!strv_keep(&entry->strings, string))
			return parse_error(p, "out of memory");
		skip_space_lines(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) != ']')
			return parse_error(p, "expected ',' or ']' in an array");
	}
	p->pos++;
	return 0;
}

static void entry_free(struct toml_entry *entry)
{
	free((char *)entry->string);
	strv_free_all(&entry->strings);
}

static int parse_key_value(struct toml_parser *p, toml_visitor visit,
			   void *ctx)
{
	struct toml_entry entry = { .line = p->line };
	char name[KEY_MAX];
	char *string = NULL;
	int rc = -1;

	copy_str(name, sizeof(name), p->table);
	if (parse_key(p, name) < 0)
		return -1;
	if (peek(p) != '=')
		return parse_error(p, "expected '=' after the key");
	p->pos++;
	skip_blanks(p);
	if (remember(p, name, "key") < 0)
		return -1;
	entry.key = name;
	if (peek(p) == '[') {
		if (parse_array(p, &entry) < 0)
			goto out;
	} else {
		if (parse_scalar(p, &entry.type, &string) < 0)
			goto out;
		entry.string = string;
	}
	if (expect_line_end(p) < 0)
		goto out;
	rc = visit(ctx, &entry) < 0 ? parse_error(p, "rejected") : 0;
out:
	entry_free(&entry);
	return rc;
}

int toml_parse(const char *text, size_t len, toml_visitor visit, void *ctx,
	       char *err, size_t err_size)
{
	struct toml_parser p = {
		.text = text, .len = len, .line = 1, .err = err,
		.err_size = err_size,
	};
	int rc = 0;

	if (memchr(text, '\0', len)) {
		snprintf(err, err_size, "the file contains a NUL byte");
		return -1;
	}
	while (rc == 0) {
		skip_space_lines(&p);
		if (peek(&p) < 0)
			break;
		rc = peek(&p) == '[' ? parse_table_header(&p)
				     : parse_key_value(&p, visit, ctx);
	}
	strv_free_all(&p.seen);
	return rc;
}

/* ---- the settings: the shell wrapper, [gc] ------------------------------ */

struct config_search {
	struct strv *wrapper, *owned;	/* wrapper NULL: not wanted */
	struct config_gc *gc;
	int found, line, empty_string;
	int not_strings;
	int bad_line;		/* of a [gc] key that is wrong */
	char bad_key[40];	/* that key, as written */
};

static int take_strings(struct config_search *search,
			const struct toml_entry *entry)
{
	for (size_t i = 0; i < entry->strings.n; i++) {
		char *copy = strv_keep(search->owned,
				       strdup(entry->strings.v[i]));

		if (!copy || strv_push(search->wrapper, copy) < 0)
			return -1;
		if (!*copy)
			search->empty_string = 1;
	}
	return 0;
}

/* A number of [gc]: a whole TOML integer, not negative. */
static int gc_number(const struct toml_entry *entry, int *has,
		     uint64_t *number)
{
	const char *digits = entry->string + (*entry->string == '+');
	size_t n = entry->type == TOML_INTEGER ? scan_u64(digits, number) : 0;

	*has = 1;
	return n && !digits[n] ? 0 : -1;
}

/* One key of [gc]: 0, or -1 when it is not one or its value is wrong. */
static int gc_setting(struct config_gc *gc, const struct toml_entry *entry)
{
	const char *key = entry->key + 3;
	uint64_t seconds;

	if (strcmp(key, "auto") == 0 && entry->type == TOML_BOOLEAN) {
		gc->on = *entry->string == 't';
		return 0;
	}
	if (strcmp(key, "older_than") == 0 && entry->type < TOML_BOOLEAN &&
	    parse_duration(entry->string, &seconds) == 0 &&
	    strlen(entry->string) < sizeof(gc->older_than)) {
		copy_str(gc->older_than, sizeof(gc->older_than),
			 entry->string);
		return 0;
	}
	if (strcmp(key, "max_jobs") == 0)
		return gc_number(entry, &gc->has_max_jobs, &gc->max_jobs);
	if (strcmp(key, "max_bytes") == 0)
		return gc_number(entry, &gc->has_max_bytes, &gc->max_bytes);
	return -1;
}

static int visit_setting(void *ctx, const struct toml_entry *entry)
{
	struct config_search *search = ctx;

	if (strncmp(entry->key, "gc.", 3) == 0 && !search->bad_line &&
	    gc_setting(search->gc, entry) < 0) {
		search->bad_line = entry->line;
		copy_str(search->bad_key, sizeof(search->bad_key),
			 entry->key + 3);
	}
	if (!search->wrapper || strcmp(entry->key, "shell.unix") != 0)
		return 0;	/* unknown keys are left alone */
	search->found = 1;
	search->line = entry->line;
	if (entry->type != TOML_ARRAY || !entry->all_strings) {
		search->not_strings = 1;
		return 0;
	}
	return take_strings(search, entry);
}

static char *default_config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		return path_join(xdg, "agent-exec/config.toml");
	if (home && *home)
		return path_join(home, ".config/agent-exec/config.toml");
	return NULL;
}

static int push_default(struct strv *wrapper)
{
	/* not a login shell: a profile would replace the caller's PATH */
	static char *sh_c[] = { "sh", "-c" };

	return strv_push(wrapper, sh_c[0]) < 0 ||
	       strv_push(wrapper, sh_c[1]) < 0 ? -1 : 0;
}

/* --shell-wrapper "prog flags": words split on ASCII white space. */
static int split_flag(const char *flag, struct strv *wrapper,
		      struct strv *owned, struct error *e)
{
	const char *blanks = " \t\n\r\f\v";

	for (const char *p = flag + strspn(flag, blanks); *p;
	     p += strspn(p, blanks)) {
		size_t len = strcspn(p, blanks);
		char *word = strv_keep(owned, strndup(p, len));

		if (!word || strv_push(wrapper, word) < 0)
			return error_errno(e, NULL, ENOMEM, "--shell-wrapper");
		p += len;
	}
	if (wrapper->n == 0)
		return error_set(e, "invalid_config",
				 "--shell-wrapper must not be empty");
	return 0;
}

static int settings_from_file(const char *path, struct config_search *search,
			      struct error *e)
{
	char parse_err[256];
	char *text;
	size_t len;
	int rc;

	if (read_file_at(AT_FDCWD, path, CONFIG_MAX, &text, &len) < 0)
		return error_set(e, "invalid_config",
				 "cannot read config file %s: %s", path,
				 file_strerror(errno));
	rc = toml_parse(text, len, visit_setting, search, parse_err,
			sizeof(parse_err));
	free(text);
	if (rc < 0)
		return error_set(e, "invalid_config",
				 "parse config file %s: %s", path, parse_err);
	if (search->bad_line)
		return error_set(e, "invalid_config", "parse config file %s: "
				 "line %d: %s: [gc] takes auto = true or false, "
				 "older_than = \"30d\" (or 24h, ...), max_jobs "
				 "= N, max_bytes = N", path,
				 search->bad_line, search->bad_key);
	if (search->found && search->not_strings)
		return error_set(e, "invalid_config", "parse config file %s: "
				 "line %d: [shell] unix must be an array of "
				 "strings", path, search->line);
	if (search->found &&
	    (search->wrapper->n == 0 || search->empty_string))
		return error_set(e, "invalid_config", "config file shell "
				 "wrapper must not be empty (from %s)", path);
	return 0;
}

int config_load(const char *flag, const char *config_path,
		struct strv *wrapper, struct config_gc *gc,
		struct strv *owned, struct error *e)
{
	struct config_search search = {
		.wrapper = flag ? NULL : wrapper, .owned = owned, .gc = gc,
	};
	char *path;
	int rc = 0;

	*gc = (struct config_gc){ 0 };
	if (flag && split_flag(flag, wrapper, owned, e) < 0)
		return -1;
	path = config_path ? strdup(config_path) : default_config_path();
	if (config_path && !path)
		return error_errno(e, NULL, ENOMEM, "--config");
	/* an explicit --config must exist; the default file may not */
	if (path && (config_path || access(path, F_OK) == 0))
		rc = settings_from_file(path, &search, e);
	free(path);
	/* where the wrapper is not the file's (--shell-wrapper, start), a
	 * broken file only means no automatic gc: 0.1 did not read it */
	if (rc < 0 && !search.wrapper) {
		*gc = (struct config_gc){ 0 };
		return 0;
	}
	if (rc == 0 && search.wrapper && !search.found &&
	    push_default(wrapper) < 0)
		return error_errno(e, NULL, ENOMEM, "shell wrapper");
	return rc;
}
