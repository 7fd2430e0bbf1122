/* cli_help.h - the help text the binary carries (cli-help.txt) printed by
 * section, and the nearness of a slip to a known name (cli_help.c). */
#ifndef AE_CLI_HELP_H
#define AE_CLI_HELP_H

/* The help text (cli-help.txt, NUL-terminated; build/embed.c). */
extern const char embedded_help[];

/* Print the section "@name" to fd: its examples (its lines "$ ...")
 * when examples is 1, else all but them. */
void help_print(int fd, const char *name, int examples);
/* Print name, padded, and the first line of its section: its line in
 * the overview. */
void help_summary(int fd, const char *name);
/* Whether candidate is the nearest to typo so far (then *best_distance
 * is its distance) and near enough to be a slip: one edit, or two in a
 * word of five letters or more. Start with *best_distance = 3. */
int help_nearer(const char *typo, const char *candidate,
		unsigned *best_distance);

#endif
