/* Unit tests of config.c: the TOML subset and the shell wrapper. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../config.h"
#include "suites.h"

/* Collects "key=value" (arrays as "key=[a,b]") of every entry. */
static int collect(void *ctx, const struct toml_entry *entry)
{
	char *out = ctx;
	size_t used = strlen(out);

	if (entry->type == TOML_STRING) {
		snprintf(out + used, 1024 - used, "%s=%s;", entry->key,
			 entry->string);
	} else if (entry->type == TOML_ARRAY) {
		used += (size_t)snprintf(out + used, 1024 - used, "%s=[",
					 entry->key);
		for (size_t i = 0; i < entry->strings.n; i++)
			used += (size_t)snprintf(out + used, 1024 - used,
						 "%s%s", i ? "," : "",
						 entry->strings.v[i]);
		snprintf(out + used, 1024 - used, "]%s;",
			 entry->all_strings ? "" : "+");
	} else {
		snprintf(out + used, 1024 - used, "%s=%s;", entry->key,
			 entry->type == TOML_BOOLEAN ? "bool" : "int");
	}
	return 0;
}

static int parse(const char *text, char *out, char *err)
{
	out[0] = '\0';
	return toml_parse(text, strlen(text), collect, out, err, 256);
}

START_TEST(test_toml_accepts_the_subset)
{
	char out[1024], err[256];

	ck_assert_int_eq(parse("# comment\n\n[shell]\nunix = [\"sh\", "
			       "\"-lc\"] # trailing\n", out, err), 0);
	ck_assert_str_eq(out, "shell.unix=[sh,-lc];");
	ck_assert_int_eq(parse("a = \"x\\ty\\u00e9\"\nb = 'c:\\\\path'\n"
			       "c = true\nd = -12_000\n[t.u]\ne = [\n  'p',\n"
			       "  \"q\", # note\n]\n", out, err), 0);
	ck_assert_str_eq(out, "a=x\ty\xc3\xa9;b=c:\\\\path;c=bool;d=int;"
			 "t.u.e=[p,q];");
	ck_assert_int_eq(parse("x = [1, \"a\"]\r\n", out, err), 0);
	ck_assert_str_eq(out, "x=[a]+;");
	ck_assert_int_eq(parse("", out, err), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(parse("\"quoted key\".bare = \"v\"", out, err), 0);
	ck_assert_str_eq(out, "quoted key.bare=v;");
}
END_TEST

START_TEST(test_toml_rejects_with_line_numbers)
{
	static const struct { const char *text; const char *want; } bad[] = {
		{ "[shell\nunix = []\n", "line 1: " },
		{ "\n\nunix = \n", "line 3: expected a value" },
		{ "a = 1.5\n", "line 1: " },
		{ "a = 1979-05-27\n", "line 1: " },
		{ "a = {x = 1}\n", "line 1: inline tables" },
		{ "[[t]]\n", "line 1: arrays of tables" },
		{ "a = \"\"\"x\"\"\"\n", "line 1: multi-line" },
		{ "a = \"open\n", "line 1: unterminated string" },
		{ "a = 1\na = 2\n", "line 2: key \"a\" defined twice" },
		{ "[s]\n[s]\n", "line 2: table \"s\" defined twice" },
		{ "a = [\"x\"\n\"y\"]\n", "line 2: expected ',' or ']'" },
		{ "a = 1 b\n", "line 1: unexpected 'b'" },
		{ "= 1\n", "line 1: " },
		{ "a = \"\\q\"\n", "line 1: invalid escape" },
		{ "a = 01\n", "line 1: invalid integer" },
		{ "a = [[\"x\"]]\n", "line 1: nested arrays" },
		{ "a = tru\n", "line 1: " },
	};
	char out[1024], err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		ck_assert_msg(parse(bad[i].text, out, err) == -1,
			      "accepted: %s", bad[i].text);
		ck_assert_msg(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0,
			      "%s: got \"%s\", want \"%s...\"", bad[i].text,
			      err, bad[i].want);
	}
}
END_TEST

static char config_dir[64];

static void write_config(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.toml", config_dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static int resolve(const char *flag, const char *config, char *joined)
{
	struct strv wrapper = { 0 }, owned = { 0 };
	struct config_gc gc;
	struct error e;
	int rc = config_load(flag, config, &wrapper, &gc, &owned, &e);

	joined[0] = '\0';
	if (rc == 0)
		for (size_t i = 0; i < wrapper.n; i++)
			snprintf(joined + strlen(joined), 256 - strlen(joined),
				 "%s%s", i ? " " : "", wrapper.v[i]);
	else
		snprintf(joined, 256, "%s: %.200s", e.code, e.message);
	for (size_t i = 0; i < owned.n; i++)
		free(owned.v[i]);
	strv_free(&owned);
	strv_free(&wrapper);
	return rc;
}

START_TEST(test_shell_wrapper_precedence)
{
	char path[128], got[256];

	snprintf(config_dir, sizeof(config_dir), "/tmp/ae-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(config_dir));
	snprintf(path, sizeof(path), "%s/config.toml", config_dir);
	write_config("[shell]\nunix = [\"bash\", \"-c\"]\n");
	ck_assert_int_eq(resolve(" zsh  -e -c ", path, got), 0);
	ck_assert_str_eq(got, "zsh -e -c");
	ck_assert_int_eq(resolve(NULL, path, got), 0);
	ck_assert_str_eq(got, "bash -c");
	write_config("[other]\nx = 1\n");
	ck_assert_int_eq(resolve(NULL, path, got), 0);
	ck_assert_str_eq(got, "sh -c");
	write_config("[shell]\nunix = []\n");
	ck_assert_int_eq(resolve(NULL, path, got), -1);
	ck_assert_ptr_nonnull(strstr(got, "must not be empty"));
	write_config("[shell]\nunix = \"sh\"\n");
	ck_assert_int_eq(resolve(NULL, path, got), -1);
	ck_assert_ptr_nonnull(strstr(got, "line 2"));
	write_config("[shell\n");
	ck_assert_int_eq(resolve(NULL, path, got), -1);
	ck_assert_ptr_nonnull(strstr(got, "invalid_config: parse config file"));
	ck_assert_int_eq(resolve("   ", NULL, got), -1);
	ck_assert_str_eq(got, "invalid_config: --shell-wrapper must not be "
			 "empty");
	unlink(path);
	ck_assert_int_eq(resolve(NULL, path, got), -1);	/* explicit, missing */
	ck_assert_ptr_nonnull(strstr(got, "cannot read config file"));
	rmdir(config_dir);
}
END_TEST

START_TEST(test_default_config_location)
{
	char got[256], dir[128];

	snprintf(config_dir, sizeof(config_dir), "/tmp/ae-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(config_dir));
	snprintf(dir, sizeof(dir), "%s/agent-exec", config_dir);
	mkdir(dir, 0700);
	setenv("XDG_CONFIG_HOME", config_dir, 1);
	ck_assert_int_eq(resolve(NULL, NULL, got), 0);	/* no file: default */
	ck_assert_str_eq(got, "sh -c");
	snprintf(dir, sizeof(dir), "%s/agent-exec/config.toml", config_dir);
	FILE *f = fopen(dir, "w");
	fputs("[shell]\nunix = ['dash', '-c']\n", f);
	fclose(f);
	ck_assert_int_eq(resolve(NULL, NULL, got), 0);
	ck_assert_str_eq(got, "dash -c");
	setenv("XDG_CONFIG_HOME", "relative/ignored", 1);
	setenv("HOME", config_dir, 1);	/* ~/.config/agent-exec: absent */
	ck_assert_int_eq(resolve(NULL, NULL, got), 0);
	ck_assert_str_eq(got, "sh -c");
	unlink(dir);
	snprintf(dir, sizeof(dir), "%s/agent-exec", config_dir);
	rmdir(dir);
	rmdir(config_dir);
}
END_TEST

Suite *config_suite(void)
{
	Suite *suite = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_toml_accepts_the_subset);
	tcase_add_test(tc, test_toml_rejects_with_line_numbers);
	tcase_add_test(tc, test_shell_wrapper_precedence);
	tcase_add_test(tc, test_default_config_location);
	suite_add_tcase(suite, tc);
	return suite;
}
