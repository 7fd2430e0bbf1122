/* lib/redact.c - secrets replaced in a stream of bytes. The stream is
 * read as a whole would be, left to right: where a secret starts, the
 * longest one starting there becomes "***" and the scan goes on after it;
 * elsewhere the byte is kept. Fed in chunks, a position is decided only
 * once enough bytes have come to tell every secret that could start there
 * from what follows; the rest of the chunk from the first undecided
 * position is held (it is shorter than some secret, so the held bytes
 * never outgrow the longest one). The output is the same however the
 * stream is cut. */
#include "lib/redact.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BYTES 8192		/* small pieces gather here before emit */

struct redactor {
	const struct redact_set *set;
	size_t held_len, held_size;	/* held_size: 2 * the longest */
	size_t out_len;
	char out[OUT_BYTES];
	char held[];
};

/* Where emitted bytes go during one feed or flush. */
struct emitter {
	redact_emit emit;
	void *ctx;
};

static int set_find(const struct redact_set *set, const char *value,
		    size_t len)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->lens[i] == len &&
		    memcmp(set->values[i], value, len) == 0)
			return 1;
	return 0;
}

int redact_set_add(struct redact_set *set, const char *value, size_t len)
{
	unsigned char first;
	char **values;
	size_t *lens;
	char *copy;

	if (len == 0 || set_find(set, value, len))
		return 0;
	if (len > REDACT_SECRET_MAX) {
		errno = EINVAL;
		return -1;
	}
	values = realloc(set->values, (set->count + 1) * sizeof(*values));
	if (!values)
		return -1;
	set->values = values;
	lens = realloc(set->lens, (set->count + 1) * sizeof(*lens));
	if (!lens)
		return -1;
	set->lens = lens;
	copy = malloc(len);
	if (!copy)
		return -1;
	memcpy(copy, value, len);
	set->values[set->count] = copy;
	set->lens[set->count++] = len;
	if (len > set->longest)
		set->longest = len;
	first = (unsigned char)value[0];
	set->first[first / 8] |= (unsigned char)(1u << (first % 8));
	return 1;
}

void redact_set_free(struct redact_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		explicit_bzero(set->values[i], set->lens[i]);
		free(set->values[i]);
	}
	free(set->values);
	free(set->lens);
	memset(set, 0, sizeof(*set));
}

struct redactor *redactor_new(const struct redact_set *set)
{
	size_t held_size = 2 * set->longest;
	struct redactor *r = malloc(sizeof(*r) + held_size);

	if (!r)
		return NULL;
	r->set = set;
	r->held_len = r->out_len = 0;
	r->held_size = held_size;
	return r;
}

void redactor_free(struct redactor *r)
{
	if (!r)
		return;
	explicit_bzero(r->held, r->held_size);
	explicit_bzero(r->out, sizeof(r->out));
	free(r);
}

/* ---- output ------------------------------------------------------------- */

static void out_flush(struct redactor *r, const struct emitter *to)
{
	if (r->out_len > 0)
		to->emit(to->ctx, r->out, r->out_len);
	r->out_len = 0;
}

/* Emit len bytes after those before: long runs at once, short ones (and
 * the marks) gathered, so the receiver sees few pieces. */
static void out_add(struct redactor *r, const struct emitter *to,
		    const char *data, size_t len)
{
	int direct = len >= OUT_BYTES / 2;

	if (len == 0)
		return;
	if (direct || r->out_len + len > OUT_BYTES)
		out_flush(r, to);
	if (direct) {
		to->emit(to->ctx, data, len);
		return;
	}
	memcpy(r->out + r->out_len, data, len);
	r->out_len += len;
}

/* ---- matching ----------------------------------------------------------- */

enum verdict { NO_SECRET, SECRET, UNDECIDED };

static int may_start(const struct redact_set *set, unsigned char byte)
{
	return set->first[byte / 8] & (1u << (byte % 8));
}

/* Whether a secret starts at text, given avail bytes from there: the
 * longest one (its length in *len), none, or not known yet (the bytes so
 * far begin a secret longer than them). At the end of the stream (final)
 * nothing more comes, so a secret that does not fit does not start here. */
static enum verdict secret_at(const struct redact_set *set, const char *text,
			      size_t avail, int final, size_t *len)
{
	size_t best = 0;

	for (size_t i = 0; i < set->count; i++) {
		size_t n = set->lens[i];

		if (n > avail) {
			if (!final && memcmp(text, set->values[i], avail) == 0)
				return UNDECIDED;
		} else if (n > best && memcmp(text, set->values[i], n) == 0) {
			best = n;
		}
	}
	*len = best;
	return best ? SECRET : NO_SECRET;
}

/* Redact text[0..len), deciding each position before limit (a secret
 * starting there may end past it, within len). Returns where it stopped:
 * at or past limit, or at the first position that needs more bytes. */
static size_t scan(struct redactor *r, const struct emitter *to,
		   const char *text, size_t len, size_t limit, int final)
{
	size_t pos = 0, run = 0, found;

	while (pos < limit) {
		enum verdict verdict = NO_SECRET;

		if (may_start(r->set, (unsigned char)text[pos]))
			verdict = secret_at(r->set, text + pos, len - pos,
					    final, &found);
		if (verdict == UNDECIDED)
			break;
		if (verdict == NO_SECRET) {
			pos++;
			continue;
		}
		out_add(r, to, text + run, pos - run);
		out_add(r, to, REDACT_MARK, sizeof(REDACT_MARK) - 1);
		pos += found;
		run = pos;
	}
	if (run < pos)
		out_add(r, to, text + run, pos - run);
	return pos;
}

/* Hold text[from..len) for the next feed (fewer bytes than a secret). */
static void hold_rest(struct redactor *r, const char *text, size_t len,
		      size_t from)
{
	memmove(r->held, text + from, len - from);
	r->held_len = len - from;
}

/* The held bytes and the first of data, together: positions in the held
 * part are decided with enough bytes after them. Returns how many bytes
 * of data were used (all of them when they fitted beside the held ones).
 */
static size_t feed_held(struct redactor *r, const struct emitter *to,
			const char *data, size_t len)
{
	size_t held = r->held_len, room = r->held_size - held;
	size_t take = len < room ? len : room, done;

	memcpy(r->held + held, data, take);
	r->held_len += take;
	if (take == len) {
		done = scan(r, to, r->held, r->held_len, r->held_len, 0);
		hold_rest(r, r->held, r->held_len, done);
		return len;
	}
	/* at least the longest secret's length follows each held byte, so
	 * every one is decided; a secret may reach into data */
	done = scan(r, to, r->held, r->held_len, held, 0);
	r->held_len = 0;
	return done - held;
}

void redact_feed(struct redactor *r, const char *data, size_t len,
		 redact_emit emit, void *ctx)
{
	struct emitter to = { emit, ctx };
	size_t used = 0, done;

	if (r->held_len > 0)
		used = feed_held(r, &to, data, len);
	if (used < len) {
		data += used;
		len -= used;
		done = scan(r, &to, data, len, len, 0);
		hold_rest(r, data, len, done);
	}
	out_flush(r, &to);
}

void redact_flush(struct redactor *r, redact_emit emit, void *ctx)
{
	struct emitter to = { emit, ctx };

	scan(r, &to, r->held, r->held_len, r->held_len, 1);
	explicit_bzero(r->held, r->held_len);
	r->held_len = 0;
	out_flush(r, &to);
}
