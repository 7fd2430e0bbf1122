/* cli_human.c - --human (-H): the answer of list, status and summary
 * rendered for a person, from the JSON answer itself (one source of
 * truth): aligned tables of jobs, a status as "key  value" lines, the
 * counts on one line. Control characters of the job's words are shown as
 * '?': what a job named never drives the terminal. */
#include "cli_human.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"
#include "lib/sys.h"

#define COLUMNS 5
#define CELL_MAX 120

/* One row of a table: its cells, each printable and bounded. */
struct row {
	char cell[COLUMNS][CELL_MAX];
};

/* text, its control characters as '?', cut to CELL_MAX - 1 bytes. */
static void cell_set(char *cell, const char *text)
{
	size_t n = 0;

	for (; text && *text && n + 1 < CELL_MAX; text++)
		cell[n++] = (unsigned char)*text < 0x20 || *text == 0x7f
			    ? '?' : *text;
	cell[n] = '\0';
}

/* A value as a person reads it: strings as they are, string arrays
 * joined by blanks, numbers and the rest as JSON text ("-" for none). */
static void value_text(const struct json_value *v, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	if (!v || v->type == JSON_NULL) {
		snprintf(out, size, "-");
	} else if (v->type == JSON_STRING) {
		snprintf(out, size, "%s", v->u.string.ptr);
	} else if (v->type == JSON_NUMBER) {
		snprintf(out, size, "%.*s", (int)v->u.number.len,
			 v->u.number.text);
	} else if (v->type == JSON_BOOL) {
		snprintf(out, size, "%s", v->u.boolean ? "true" : "false");
	} else if (v->type == JSON_ARRAY) {
		for (const struct json_value *e = v->u.children.first;
		     e && n + 1 < size; e = e->next) {
			char item[CELL_MAX];

			value_text(e, item, sizeof(item));
			n += (size_t)snprintf(out + n, size - n, "%s%s",
					      n ? " " : "", item);
		}
		if (!v->u.children.count)
			snprintf(out, size, "-");
	} else {
		snprintf(out, size, "{%zu keys}", v->u.children.count);
	}
}

/* A job's row: short id, state, how it ended (exit code or signal),
 * start, command. */
static void row_of(const struct json_value *job, struct row *row)
{
	static const char *const keys[COLUMNS] = {
		"short_job_id", "state", "exit_code", "started_at", "command"
	};
	char text[CELL_MAX];

	for (int c = 0; c < COLUMNS; c++) {
		const struct json_value *v = json_get(job, keys[c]);

		if (!v && c == 2)
			v = json_get(job, "signal_name");
		value_text(v, text, sizeof(text));
		cell_set(row->cell[c], text);
	}
}

/* The jobs as a table under a header, every column as wide as its
 * widest cell. */
static void print_table(int fd, const struct json_value *jobs)
{
	static const char *const titles[COLUMNS] = {
		"ID", "STATE", "EXIT", "STARTED", "COMMAND"
	};
	/* list's "jobs" is an array; anything else has no rows */
	size_t count = jobs && jobs->type == JSON_ARRAY
		       ? jobs->u.children.count : 0, width[COLUMNS];
	struct row *rows = calloc(count + 1, sizeof(*rows));
	const struct json_value *job = jobs ? jobs->u.children.first : NULL;
	char line[COLUMNS * (CELL_MAX + 2) + 2];

	if (!rows)
		return;
	for (int c = 0; c < COLUMNS; c++)
		cell_set(rows[0].cell[c], titles[c]);
	for (size_t r = 1; job && r <= count; r++, job = job->next)
		row_of(job, &rows[r]);
	for (int c = 0; c < COLUMNS; c++) {
		width[c] = 0;
		for (size_t r = 0; r <= count; r++)
			if (strlen(rows[r].cell[c]) > width[c])
				width[c] = strlen(rows[r].cell[c]);
	}
	for (size_t r = 0; r <= count; r++) {
		size_t n = 0;

		for (int c = 0; c < COLUMNS; c++)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      "%-*s  ", c < COLUMNS - 1
					      ? (int)width[c] : 0,
					      rows[r].cell[c]);
		while (n > 0 && line[n - 1] == ' ')
			n--;
		line[n++] = '\n';
		line[n] = '\0';
		write_str(fd, line);
	}
	free(rows);
}

/* Each member as "key  value" (an object's as "key.member  value"),
 * the envelope left out. */
static void print_members(int fd, const struct json_value *object,
			  const char *prefix)
{
	char value[CELL_MAX], cell[CELL_MAX], line[2 * CELL_MAX + 8];

	for (const struct json_value *m = object->u.children.first; m;
	     m = m->next) {
		char key[CELL_MAX];

		if (!*prefix && (!strcmp(m->key, "schema_version") ||
				 !strcmp(m->key, "ok") ||
				 !strcmp(m->key, "type")))
			continue;
		snprintf(key, sizeof(key), "%s%s%.*s", prefix,
			 *prefix ? "." : "", (int)m->key_len, m->key);
		if (m->type == JSON_OBJECT && !*prefix) {
			print_members(fd, m, key);
			continue;
		}
		value_text(m, value, sizeof(value));
		cell_set(cell, value);
		snprintf(line, sizeof(line), "%-24s%s\n", key, cell);
		write_str(fd, line);
	}
}

/* summary's counts on one line: only the states some jobs are in. */
static void print_counts(int fd, const struct json_value *counts)
{
	char line[256] = "jobs:";
	size_t n = strlen(line);

	for (const struct json_value *m = counts ? counts->u.children.first
						 : NULL; m; m = m->next) {
		uint64_t count;

		if (json_value_u64(m, &count) == 0 && count)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      " %llu %.*s,",
					      (unsigned long long)count,
					      (int)m->key_len, m->key);
	}
	if (line[n - 1] == ',')
		n--;
	else
		n += (size_t)snprintf(line + n, sizeof(line) - n, " none");
	snprintf(line + n, sizeof(line) - n, "\n");
	write_str(fd, line);
}

int human_render(const char *answer, size_t len, int fd)
{
	const struct json_value *jobs;
	struct json_doc doc;
	char why[96];
	const char *type;

	if (json_parse(&doc, answer, len, 64, why, sizeof(why)) < 0)
		return -1;
	type = json_get_str(doc.root, "type");
	if (type && !strcmp(type, "list")) {
		print_table(fd, json_get(doc.root, "jobs"));
	} else if (type && !strcmp(type, "summary")) {
		jobs = json_get(doc.root, "jobs");
		print_counts(fd, json_get(doc.root, "counts"));
		if (jobs && jobs->type == JSON_ARRAY && jobs->u.children.count)
			print_table(fd, jobs);
	} else {
		print_members(fd, doc.root, "");
	}
	json_doc_free(&doc);
	return 0;
}
