/* lib/owner.c - who owns what, no product knowledge: the user and group
 * databases, and whether a file is the caller's alone to change. */
#include "lib/owner.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/sys.h"

char *colon_field(char *line, int index)
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

char *user_db_line(const char *path, uint64_t id)
{
	char *text, *line, *next, *found = NULL;
	size_t len;

	if (read_file_at(AT_FDCWD, path, 1 << 20, &text, &len) < 0)
		return NULL;
	for (line = text; line && !found; line = next) {
		char *copy = NULL, *field;
		uint64_t value;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		copy = strdup(line);
		field = copy ? colon_field(copy, 2) : NULL;
		if (field && parse_u64(field, &value) == 0 && value == id)
			found = strdup(line);
		free(copy);
	}
	free(text);
	return found;
}

/* A user private group (the Debian convention, as ssh allows): named as
 * the user, and with no member listed but the user. */
static int group_is_users_own(gid_t gid)
{
	char *group = user_db_line("/etc/group", gid);
	char *user = user_db_line("/etc/passwd", geteuid());
	char *group_name = group ? strdup(group) : NULL;
	char *members = group ? colon_field(group, 3) : NULL;
	char *user_name = user ? colon_field(user, 0) : NULL;
	int own = group_name && user_name && members &&
		  strcmp(colon_field(group_name, 0), user_name) == 0 &&
		  (!*members || strcmp(members, user_name) == 0);

	free(group);
	free(group_name);
	free(user);
	return own;
}

int stat_private(const struct stat *st)
{
	if (st->st_uid != geteuid() || (st->st_mode & S_IWOTH))
		return 0;
	return !(st->st_mode & S_IWGRP) || group_is_users_own(st->st_gid);
}

int fd_private(int fd, struct stat *st)
{
	if (fstat(fd, st) < 0)
		return -1;
	return stat_private(st);
}

const char *private_why(const struct stat *st, char *buf, size_t size)
{
	if (st->st_uid != geteuid())
		snprintf(buf, size, "is owned by uid %u, not by you (uid %u)",
			 (unsigned)st->st_uid, (unsigned)geteuid());
	else
		snprintf(buf, size, "is writable by %s (mode %04o)",
			 st->st_mode & S_IWOTH ? "everyone" : "its group",
			 (unsigned)(st->st_mode & 07777));
	return buf;
}

