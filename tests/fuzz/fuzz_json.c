/* libFuzzer harness for json.c: the parser must never crash or leak; what
 * it accepts must survive a write and a second parse unchanged; any bytes
 * written as a string (whole or in chunks) must come back as valid JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../json.h"
#include "../../json_parse.h"

static void must(int condition)
{
	if (!condition)
		abort();
}

/* parse -> write -> parse -> write: the two writes are identical */
static void check_round_trip(const struct json_value *root, int pretty)
{
	struct json_writer first, second;
	struct json_doc again;
	char err[128];

	jw_init_mem(&first, 1u << 26, pretty);
	jw_value(&first, root);
	must(!first.error);
	must(json_parse(&again, first.buf, first.len, 64, err, sizeof(err)) == 0);
	jw_init_mem(&second, 1u << 26, pretty);
	jw_value(&second, again.root);
	must(!second.error);
	must(first.len == second.len &&
	     memcmp(first.buf, second.buf, first.len) == 0);
	json_doc_free(&again);
	jw_free(&first);
	jw_free(&second);
}

/* bytes as a JSON string, whole and in chunks of every size up to 7 */
static void check_string(const char *data, size_t size)
{
	struct json_writer w;
	struct json_doc doc;
	struct jw_stream st;
	char err[128];
	size_t chunk = size % 7 + 1;

	jw_init_mem(&w, 1u << 26, 0);
	jw_string_n(&w, data, size);
	must(!w.error);
	must(json_parse(&doc, w.buf, w.len, 4, err, sizeof(err)) == 0);
	must(doc.root->type == JSON_STRING);
	json_doc_free(&doc);
	jw_free(&w);
	jw_init_mem(&w, 1u << 26, 0);
	jw_string_begin(&w, &st);
	for (size_t at = 0; at < size; at += chunk)
		jw_string_chunk(&w, &st, data + at,
				size - at < chunk ? size - at : chunk);
	jw_string_end(&w, &st);
	must(!w.error);
	must(json_parse(&doc, w.buf, w.len, 4, err, sizeof(err)) == 0);
	must(doc.root->u.string.len == st.out_bytes);
	json_doc_free(&doc);
	jw_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc doc;
	char err[128];

	if (json_parse(&doc, (const char *)data, size, 64, err,
		       sizeof(err)) == 0) {
		check_round_trip(doc.root, 0);
		check_round_trip(doc.root, 1);
		json_get(doc.root, "job");
		json_get_str(doc.root, "id");
	}
	json_doc_free(&doc);
	check_string((const char *)data, size);
	return 0;
}
