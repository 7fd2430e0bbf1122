/* libFuzzer harness for config.c's TOML reader: any text is parsed or
 * refused with a line-numbered message, never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../config.h"

static int count_entry(void *ctx, const struct toml_entry *entry)
{
	size_t *count = ctx;

	if (!entry->key || (entry->type == TOML_STRING && !entry->string))
		abort();
	(*count)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t count = 0;

	if (toml_parse((const char *)data, size, count_entry, &count, err,
		       sizeof(err)) < 0 && strncmp(err, "line ", 5) != 0 &&
	    strstr(err, "NUL") == NULL)
		abort();	/* every refusal names its line */
	return 0;
}
