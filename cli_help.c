/* cli_help.c - the help text and the nearest name to a slip. The text is
 * cli-help.txt: a section "@name" a command, "%other" includes section
 * "@other", a line "$ ..." is an example, and a line "LEFT<tab>RIGHT" a
 * row of an option table, laid out here. */
#include "cli_help.h"

#include "lib/fmt.h"
#include "lib/sys.h"

#include <stdio.h>
#include <string.h>

/* The first line of the section "@name", or NULL. */
static const char *section_find(const char *name)
{
	size_t len = strlen(name);
	const char *line = embedded_help;

	while (line && !(line[0] == '@' && strncmp(line + 1, name, len) == 0 &&
			 line[len + 1] == '\n'))
		line = (line = strchr(line, '\n')) ? line + 1 : NULL;
	return line ? line + len + 2 : NULL;
}

#define TABLE_COLUMN 24	/* where an option's description starts */

/* A row "LEFT\tRIGHT": RIGHT at TABLE_COLUMN, or two spaces after a longer
 * LEFT ("\tRIGHT" goes on under the row above). */
static void print_line(int fd, const char *line, size_t n)
{
	static const char blanks[TABLE_COLUMN] = "                        ";
	const char *tab = memchr(line, '\t', n);
	size_t left = tab ? (size_t)(tab - line) : n;

	write_all(fd, line, left);
	if (!tab)
		return;
	write_all(fd, blanks, left < TABLE_COLUMN ? TABLE_COLUMN - left : 2);
	write_all(fd, tab + 1, n - left - 1);
}

static void print_section(int fd, const char *name, int depth, int examples)
{
	const char *line = section_find(name);

	while (line && *line && *line != '@') {
		const char *end = strchrnul(line, '\n');
		size_t n = (size_t)(end - line) + (*end == '\n');

		if (*line == '%' && depth < 2) {	/* two deep at most */
			char other[64];

			snprintf(other, sizeof(other), "%.*s",
				 (int)(end - line) - 1, line + 1);
			print_section(fd, other, depth + 1, examples);
		} else if ((line[0] == '$' && line[1] == ' ') == examples) {
			print_line(fd, line, n);
		}
		line += n;
	}
}

void help_print(int fd, const char *name, int examples)
{
	print_section(fd, name, 0, examples);
}

void help_summary(int fd, const char *name)
{
	const char *about = section_find(name);
	char line[128];

	snprintf(line, sizeof(line), "  %-17s%.*s\n", name,
		 about ? (int)strcspn(about, "\n") : 0, about ? about : "");
	write_str(fd, line);
}

int help_nearer(const char *typo, const char *candidate,
		unsigned *best_distance)
{
	unsigned distance = edit_distance(typo, candidate);

	if (distance >= *best_distance ||
	    (distance == 2 && strlen(typo) < 5))
		return 0;
	*best_distance = distance;
	return 1;
}
