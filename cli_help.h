/* cli_help.h - what the command line says besides its parse: the help
 * text (cli-help.txt, embedded) and the known name nearest a slip
 * (cli_help.c). */
#ifndef AE_CLI_HELP_H
#define AE_CLI_HELP_H

#include "cli.h"

/* The overview: each command with the first line of its help. */
void help_overview(int fd, const struct command_def *commands, size_t count);
/* A command's help on stdout: usage, its section, the global options,
 * then its examples (the section's lines starting with "$ "). */
void help_command(const struct command_def *command);
/* Whether candidate is the nearest to typo so far (then *best_distance
 * is its distance) and near enough to be a slip: one edit, or two in a
 * word of five letters or more. Start with *best_distance = 3. */
int help_nearer(const char *typo, const char *candidate,
		unsigned *best_distance);
/* The command (or first word of a two-word one) typo is a slip for, in
 * nearest[size]; NULL when none is near. */
const char *help_command_nearest(const char *typo,
				 const struct command_def *commands,
				 size_t count, char *nearest, size_t size);

#endif
