/* skills.h - what the binary carries for agents: its JSON Schema (schema)
 * and its SKILL.md (install-skills, with its lock file) (skills.c). */
#ifndef AE_SKILLS_H
#define AE_SKILLS_H

#include <stddef.h>

#include "json.h"
#include "json_parse.h"
#include "lib/sys.h"

/* What the binary carries (build/embed.c, made by tools/embed.sh from
 * schema/agent-exec.schema.json and skills/agent-exec/SKILL.md),
 * NUL-terminated. */
extern const char embedded_schema[], embedded_skill[];
extern const size_t embedded_schema_len, embedded_skill_len;

struct skill_install {
	char name[256];
	char source_type[4096 + 8];	/* "self" or "local:<path as given>" */
	char *path;			/* where it was installed (heap) */
	char *lock_file_path;		/* heap */
};

/* install-skills --source SOURCE [--global] [--claude]: "self" writes our
 * SKILL.md to <base>/skills/agent-exec/SKILL.md; "local:PATH" links (or
 * copies) the skill directory PATH to <base>/skills/<its name>. base is
 * ./.agents, or $HOME/.agents when global (.claude, where Claude Code
 * reads skills, with claude). Errors: unknown_source_scheme,
 * invalid_source, io_error. */
int skills_install(const char *source, int global, int claude,
		   struct skill_install *out, struct error *e);
void skill_install_free(struct skill_install *out);

/* The schema command: the embedded schema, parsed (internal_error if it
 * does not parse), and the answer's members "schema_format", "schema"
 * and "generated_at" (its $comment). */
int skills_schema(struct json_doc *schema, struct error *e);
void skills_write_schema(struct json_writer *w, const struct json_doc *schema);

#endif
