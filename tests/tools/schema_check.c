/* schema_check - validate JSON documents against our JSON Schema, so the
 * tests can hold every answer and record the binary emits to the schema
 * it prints. It knows the draft-07 keywords that schema uses: $ref (local),
 * type, enum, const, required, properties, additionalProperties, items,
 * oneOf, allOf, minimum, pattern, and the schemas true and false.
 *
 *   schema_check SCHEMA DEFINITION [--lines] FILE...
 *
 * DEFINITION is a name under "definitions", or "-" for the schema itself.
 * Each FILE ("-": stdin) is one document, or with --lines one document per
 * non-empty line. Prints what does not match; exits 0 when all match. */
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../json.h"
#include "../../json_parse.h"
#include "../../lib/sys.h"
#include "../../lib/fmt.h"

#define PATH_SIZE 512

struct checker {
	const struct json_value *root;	/* the schema */
	int quiet;			/* inside oneOf: count, don't print */
	int errors;
};

static int check(struct checker *c, const struct json_value *schema,
		 const struct json_value *value, const char *path);

static void report(struct checker *c, const char *path, const char *what,
		   const char *detail)
{
	c->errors++;
	if (!c->quiet)
		printf("  %s: %s%s%s\n", path[0] ? path : "/", what,
		       detail ? " " : "", detail ? detail : "");
}

static const struct json_value *resolve_ref(const struct checker *c,
					    const char *ref)
{
	const char *prefix = "#/definitions/";

	if (strncmp(ref, prefix, strlen(prefix)) != 0)
		return NULL;
	return json_get(json_get(c->root, "definitions"), ref + strlen(prefix));
}

static const char *type_name(const struct json_value *value)
{
	static const char *const names[] = {
		"null", "boolean", "number", "string", "array", "object"
	};
	int64_t integer;

	if (value->type == JSON_NUMBER && json_value_i64(value, &integer) == 0)
		return "integer";
	return names[value->type];
}

static int type_matches(const char *want, const struct json_value *value)
{
	const char *got = type_name(value);

	return strcmp(want, got) == 0 ||
	       (strcmp(want, "number") == 0 && strcmp(got, "integer") == 0);
}

static int values_equal(const struct json_value *a, const struct json_value *b)
{
	struct json_writer wa, wb;
	int equal;

	jw_init_mem(&wa, 1 << 20, 0);
	jw_init_mem(&wb, 1 << 20, 0);
	jw_value(&wa, a);
	jw_value(&wb, b);
	equal = wa.len == wb.len && memcmp(wa.buf, wb.buf, wa.len) == 0;
	jw_free(&wa);
	jw_free(&wb);
	return equal;
}

static void check_type(struct checker *c, const struct json_value *type,
		       const struct json_value *value, const char *path)
{
	if (type->type == JSON_STRING) {
		if (!type_matches(type->u.string.ptr, value))
			report(c, path, "is not of type", type->u.string.ptr);
		return;
	}
	for (const struct json_value *t = type->u.children.first; t;
	     t = t->next)
		if (type_matches(t->u.string.ptr, value))
			return;
	report(c, path, "is of none of the allowed types", NULL);
}

static void check_enum(struct checker *c, const struct json_value *options,
		       const struct json_value *value, const char *path)
{
	for (const struct json_value *o = options->u.children.first; o;
	     o = o->next)
		if (values_equal(o, value))
			return;
	report(c, path, "is not one of the enum values", NULL);
}

static void check_object(struct checker *c, const struct json_value *schema,
			 const struct json_value *value, const char *path)
{
	const struct json_value *required = json_get(schema, "required");
	const struct json_value *properties = json_get(schema, "properties");
	const struct json_value *additional = json_get(schema,
						       "additionalProperties");
	char sub[PATH_SIZE];

	if (value->type != JSON_OBJECT)
		return;
	for (const struct json_value *r = required ? required->u.children.first
						   : NULL; r; r = r->next)
		if (!json_get(value, r->u.string.ptr))
			report(c, path, "lacks required key", r->u.string.ptr);
	for (const struct json_value *m = value->u.children.first; m;
	     m = m->next) {
		const struct json_value *declared = json_get(properties, m->key);

		snprintf(sub, sizeof(sub), "%s/%s", path, m->key);
		if (declared)
			check(c, declared, m, sub);
		else if (additional && additional->type == JSON_BOOL &&
			 !additional->u.boolean)
			report(c, sub, "is not declared in the schema", NULL);
		else if (additional && additional->type == JSON_OBJECT)
			check(c, additional, m, sub);
	}
}

static void check_items(struct checker *c, const struct json_value *items,
			const struct json_value *value, const char *path)
{
	char sub[PATH_SIZE];
	int index = 0;

	if (value->type != JSON_ARRAY)
		return;
	for (const struct json_value *item = value->u.children.first; item;
	     item = item->next, index++) {
		snprintf(sub, sizeof(sub), "%s/%d", path, index);
		check(c, items, item, sub);
	}
}

/* Show why value fails the branch meant for it: the one whose "type"
 * property is the constant value->type. */
static void explain_branch(struct checker *c, const struct json_value *branches,
			   const struct json_value *value, const char *path)
{
	const char *type = json_get_str(value, "type");

	for (const struct json_value *b = branches->u.children.first;
	     b && type; b = b->next) {
		const char *ref = json_get_str(b, "$ref");
		const struct json_value *target = ref ? resolve_ref(c, ref) : b;
		const char *want = json_get_str(json_get(json_get(target,
			"properties"), "type"), "const");

		if (want && strcmp(want, type) == 0) {
			check(c, target, value, path);
			return;
		}
	}
}

/* Exactly one branch must match; the failures of the others are noise. */
static void check_one_of(struct checker *c, const struct json_value *branches,
			 const struct json_value *value, const char *path)
{
	int matches = 0, quiet = c->quiet, errors = c->errors;

	c->quiet = 1;
	for (const struct json_value *b = branches->u.children.first; b;
	     b = b->next) {
		int before = c->errors;

		check(c, b, value, path);
		matches += c->errors == before;
	}
	c->quiet = quiet;
	c->errors = errors;
	if (matches == 0 && !quiet)
		explain_branch(c, branches, value, path);
	if (matches != 1)
		report(c, path, matches ? "matches several oneOf branches"
					: "matches no oneOf branch", NULL);
}

static void check_scalar_rules(struct checker *c,
			       const struct json_value *schema,
			       const struct json_value *value, const char *path)
{
	const struct json_value *minimum = json_get(schema, "minimum");
	const char *pattern = json_get_str(schema, "pattern");
	int64_t number, floor;

	if (minimum && value->type == JSON_NUMBER &&
	    json_value_i64(minimum, &floor) == 0 &&
	    (json_value_i64(value, &number) < 0 || number < floor)) {
		uint64_t big;

		if (json_value_u64(value, &big) < 0)
			report(c, path, "is below the minimum", NULL);
	}
	if (pattern && value->type == JSON_STRING) {
		regex_t re;

		if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
			report(c, path, "has a pattern we cannot compile",
			       pattern);
			return;
		}
		if (regexec(&re, value->u.string.ptr, 0, NULL, 0) != 0)
			report(c, path, "does not match", pattern);
		regfree(&re);
	}
}

static int check(struct checker *c, const struct json_value *schema,
		 const struct json_value *value, const char *path)
{
	const char *ref = json_get_str(schema, "$ref");
	const struct json_value *keyword;

	if (schema->type == JSON_BOOL) {	/* true: anything; false: nothing */
		if (!schema->u.boolean)
			report(c, path, "is not allowed here", NULL);
		return 0;
	}
	if (ref) {
		const struct json_value *target = resolve_ref(c, ref);

		if (!target) {
			report(c, path, "has an unresolvable $ref", ref);
			return -1;
		}
		return check(c, target, value, path);
	}
	if ((keyword = json_get(schema, "type")))
		check_type(c, keyword, value, path);
	if ((keyword = json_get(schema, "enum")))
		check_enum(c, keyword, value, path);
	if ((keyword = json_get(schema, "const")) && !values_equal(keyword,
								   value))
		report(c, path, "is not the constant value", NULL);
	if ((keyword = json_get(schema, "oneOf")))
		check_one_of(c, keyword, value, path);
	if ((keyword = json_get(schema, "allOf")))
		for (const struct json_value *b = keyword->u.children.first; b;
		     b = b->next)
			check(c, b, value, path);
	if ((keyword = json_get(schema, "items")))
		check_items(c, keyword, value, path);
	check_object(c, schema, value, path);
	check_scalar_rules(c, schema, value, path);
	return 0;
}

static int check_text(struct checker *c, const struct json_value *schema,
		      const char *text, size_t len, const char *name)
{
	struct json_doc doc;
	char err[160];
	int before = c->errors;

	if (json_parse(&doc, text, len, 64, err, sizeof(err)) < 0) {
		printf("%s: not JSON: %s\n", name, err);
		return -1;
	}
	check(c, schema, doc.root, "");
	json_doc_free(&doc);
	if (c->errors != before)
		printf("%s: does not match the schema (%.200s)\n", name, text);
	return c->errors == before ? 0 : -1;
}

static int read_stdin(char **text, size_t *len)
{
	size_t cap = 1 << 16;
	ssize_t got;

	*len = 0;
	*text = malloc(cap + 1);
	while (*text && (got = read_full(0, *text + *len, cap - *len)) > 0) {
		*len += (size_t)got;
		if (*len == cap)
			*text = realloc(*text, (cap *= 2) + 1);
	}
	if (!*text)
		return -1;
	(*text)[*len] = '\0';
	return 0;
}

static int check_file(struct checker *c, const struct json_value *schema,
		      const char *name, int by_line)
{
	char *text;
	size_t len;
	int rc = 0, fd_dir = AT_FDCWD;

	if ((strcmp(name, "-") == 0 ? read_stdin(&text, &len)
				    : read_file_at(fd_dir, name, 64u << 20,
						   &text, &len)) < 0) {
		perror(name);
		return -1;
	}
	if (!by_line) {
		rc = check_text(c, schema, text, len, name);
	} else {
		for (char *line = text, *end; *line; line = end) {
			end = strchr(line, '\n');
			end = end ? end : line + strlen(line);
			if (end > line &&
			    check_text(c, schema, line, (size_t)(end - line),
				       name) < 0)
				rc = -1;
			if (*end)
				end++;
		}
	}
	free(text);
	return rc;
}

int main(int argc, char **argv)
{
	struct checker c = { 0 };
	const struct json_value *schema;
	struct json_doc doc;
	char *text, err[160];
	size_t len;
	int by_line = 0, failed = 0, first = 3;

	if (argc < 4) {
		fprintf(stderr, "usage: schema_check SCHEMA DEFINITION "
			"[--lines] FILE...\n");
		return 2;
	}
	if (read_file_at(AT_FDCWD, argv[1], 1 << 20, &text, &len) < 0 ||
	    json_parse(&doc, text, len, 64, err, sizeof(err)) < 0) {
		fprintf(stderr, "cannot load schema %s\n", argv[1]);
		return 2;
	}
	c.root = doc.root;
	schema = strcmp(argv[2], "-") ? json_get(json_get(doc.root,
							  "definitions"),
						 argv[2])
				       : doc.root;
	if (!schema) {
		fprintf(stderr, "no definition %s\n", argv[2]);
		return 2;
	}
	if (strcmp(argv[3], "--lines") == 0) {
		by_line = 1;
		first = 4;
	}
	for (int i = first; i < argc; i++)
		if (check_file(&c, schema, argv[i], by_line) < 0)
			failed = 1;
	json_doc_free(&doc);
	free(text);
	return failed;
}
