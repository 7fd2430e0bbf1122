/* config.h - config.toml: a strict TOML-subset reader (errors name the
 * line) and the settings it holds: shell wrapper, [gc] (config.c). */
#ifndef AE_CONFIG_H
#define AE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

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

/* [gc] of config.toml: collection after each run and start (off unless
 * auto = true). */
struct config_gc {
	int on;
	char older_than[32];	/* a gc retention, "" when not set */
	int has_max_jobs, has_max_bytes;
	uint64_t max_jobs, max_bytes;
};

/* The settings of config.toml (config_path, or
 * $XDG_CONFIG_HOME/agent-exec/config.toml, or ~/.config/agent-exec/...;
 * one that does not exist sets nothing, but an explicit config_path must
 * exist). The shell wrapper argv for new jobs (wrapper NULL: not wanted):
 * --shell-wrapper "prog flags" (flag, split on white space), else [shell]
 * unix of the file, else sh -c; its strings are heap copies, also listed
 * in *owned for the caller to free. And *gc, from [gc]. Errors:
 * invalid_config, naming the file and the line, only where the wrapper
 * comes from the file: elsewhere (flag given, wrapper NULL) a broken file
 * leaves *gc off. */
int config_load(const char *flag, const char *config_path,
		struct strv *wrapper, struct config_gc *gc,
		struct strv *owned, struct error *e);

#endif
