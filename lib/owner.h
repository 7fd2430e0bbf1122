/* lib/owner.h - who owns what, no product knowledge: the user and group
 * databases, and whether a file is the caller's alone (lib/owner.c). */
#ifndef AE_LIB_OWNER_H
#define AE_LIB_OWNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Field index (0-based) of a colon-separated line, in place: the
 * field's text, NUL-terminated, or NULL when the line is shorter. */
char *colon_field(char *line, int index);
/* The line of /etc/passwd or /etc/group (as path) whose id (field 2) is
 * id, as getpwuid/getgrgid would give it without name services (heap),
 * or NULL. */
char *user_db_line(const char *path, uint64_t id);
/* Whether the open file is the caller's alone to change: owned by the
 * effective user and writable by neither others nor a group but the
 * user's private one (what ssh asks of ~/.ssh). 1 yes, 0 no (st tells
 * why), -1/errno. */
int fd_private(int fd, struct stat *st);
int stat_private(const struct stat *st);
/* "is owned by uid N, not by you (uid M)" or "is writable by others":
 * why st is not private, for a message. */
const char *private_why(const struct stat *st, char *buf, size_t size);

#endif
