/* libFuzzer harness for pattern.c: the first line of the input is a
 * pattern, the rest a line to match. Any pattern compiles or is refused
 * with a reason, never a crash, a hang or a leak; a compiled pattern
 * answers the same twice, and a plain word matches exactly where the
 * text contains it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/pattern.h"

static int is_plain(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *newline = memchr(data, '\n', size);
	size_t source_len = newline ? (size_t)(newline - data) : size;
	const char *text = newline ? (const char *)newline + 1 : "";
	size_t text_len = newline ? size - source_len - 1 : 0;
	char *source = malloc(source_len + 1), why[128] = "";
	struct pattern *p;
	int found;

	if (!source)
		return 0;
	memcpy(source, data, source_len);
	source[source_len] = '\0';
	p = pattern_compile(source, why, sizeof(why));
	if (!p) {
		if (!*why)
			abort();
		free(source);
		return 0;
	}
	found = pattern_match(p, text, text_len);
	if (pattern_match(p, text, text_len) != found)
		abort();
	if (is_plain(source) && found != (memmem(text, text_len, source,
					strlen(source)) != NULL))
		abort();
	pattern_free(p);
	free(source);
	return 0;
}
