/* config.h - config.toml: a strict reader for the part of TOML we use, with
 * line-numbered errors, and the shell wrapper it sets (config.c). */
#ifndef AE_CONFIG_H
#define AE_CONFIG_H

#include <stddef.h>

#include "lib/sys.h"

enum toml_type { TOML_STRING, TOML_INTEGER, TOML_BOOLEAN, TOML_ARRAY };

/* One key = value of the file. The key is the full dotted name, table
 * included ("shell.unix"). */
struct toml_entry {
	const char *key;
	int line;
	enum toml_type type;
	const char *string;	/* TOML_STRING */
	struct strv strings;	/* TOML_ARRAY: its string elements */
	int all_strings;	/* TOML_ARRAY: no element of another type */
};

typedef int (*toml_visitor)(void *ctx, const struct toml_entry *entry);

/* Parse text, calling visit for every entry in file order. 0, or -1 with
 * "line N: <what went wrong>" in err. */
int toml_parse(const char *text, size_t len, toml_visitor visit, void *ctx,
	       char *err, size_t err_size);

/* The shell wrapper argv for new jobs: --shell-wrapper "prog flags" (split
 * on white space), else [shell] unix of the config file (config_path, or
 * $XDG_CONFIG_HOME/agent-exec/config.toml, or ~/.config/agent-exec/...),
 * else sh -lc. Its strings are heap copies, also listed in *owned for the
 * caller to free. Errors: invalid_config. */
int config_shell_wrapper(const char *flag, const char *config_path,
			 struct strv *wrapper, struct strv *owned,
			 struct error *e);

#endif
