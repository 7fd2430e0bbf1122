/* cli_help.c - the help text and the nearest name to a slip. The text is
 * cli-help.txt: a section "@name" a command, "%other" includes section
 * "@other", a line "$ ..." is an example. */
#include "cli_help.h"

#include "lib/fmt.h"

#include <stdio.h>
#include <string.h>

#ifndef AE_VERSION
#error "AE_VERSION must be defined (make passes -DAE_VERSION)"
#endif

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

/* Print the section "@name" to fd: its examples only, or all but them. */
static void print_section(int fd, const char *name, int depth, int examples)
{
	const char *line = section_find(name);

	while (line && *line && *line != '@') {
		const char *end = strchrnul(line, '\n');
		size_t n = (size_t)(end - line) + (*end == '\n');

		if (*line == '%' && depth == 0) {
			char other[64];

			snprintf(other, sizeof(other), "%.*s",
				 (int)(end - line) - 1, line + 1);
			print_section(fd, other, 1, examples);
		} else if ((line[0] == '$' && line[1] == ' ') == examples) {
			write_all(fd, line, n);
		}
		line += n;
	}
}

void help_overview(int fd, const struct command_def *commands, size_t count)
{
	write_str(fd, "agent-exec " AE_VERSION
		  " - run commands as durable background jobs; every answer "
		  "is\none JSON object on stdout.\n\nUsage: agent-exec "
		  "[GLOBAL OPTIONS] COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < count; i++) {
		const char *about = section_find(commands[i].name);
		char line[128];

		snprintf(line, sizeof(line), "  %-17s%.*s\n", commands[i].name,
			 about ? (int)strcspn(about, "\n") : 0, about);
		write_str(fd, line);
	}
	write_str(fd, "\nOptions: agent-exec help COMMAND.\n\n");
	print_section(fd, "global", 0, 0);
}

void help_command(const struct command_def *command)
{
	write_str(1, "Usage: agent-exec ");
	write_str(1, command->usage);
	write_str(1, "\n\n");
	print_section(1, command->name, 0, 0);
	write_str(1, "\n");
	print_section(1, "global", 0, 0);
	write_str(1, "\nExamples:\n");
	print_section(1, command->name, 0, 1);
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

const char *help_command_nearest(const char *typo,
				 const struct command_def *commands,
				 size_t count, char *nearest, size_t size)
{
	unsigned best_distance = 3;
	char word[24];

	*nearest = '\0';
	for (size_t i = 0; i < count; i++) {
		const char *name = commands[i].name;

		snprintf(word, sizeof(word), "%.*s", (int)strcspn(name, " "),
			 name);
		if (help_nearer(typo, name, &best_distance))
			copy_str(nearest, size, name);
		if (help_nearer(typo, word, &best_distance))
			copy_str(nearest, size, word);
	}
	return *nearest ? nearest : NULL;
}
