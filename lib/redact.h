/* lib/redact.h - secret byte strings replaced by "***" in a stream fed in
 * chunks, even when one is split between chunks (lib/redact.c). */
#ifndef AE_LIB_REDACT_H
#define AE_LIB_REDACT_H

#include <stddef.h>

#define REDACT_MARK "***"	/* what each secret becomes */
/* The longest secret taken: the kernel's own bound on one environment
 * string (MAX_ARG_STRLEN), so any value a job can be given fits. */
#define REDACT_SECRET_MAX (128 * 1024)

/* The secrets to hide, copied in; { 0 } is an empty set. */
struct redact_set {
	char **values;
	size_t *lens;
	size_t count;
	size_t longest;
	unsigned char first[32];	/* bit b: some secret starts with b */
};

/* Add a secret: 1 when added, 0 when skipped (empty, or there already),
 * -1/EINVAL when longer than REDACT_SECRET_MAX, -1/ENOMEM. */
int redact_set_add(struct redact_set *set, const char *value, size_t len);
/* Forget every secret, its bytes wiped first. */
void redact_set_free(struct redact_set *set);

/* Where redacted bytes go, in order, in pieces. */
typedef void (*redact_emit)(void *ctx, const char *data, size_t len);

/* One stream's state: the bytes held back because they may begin a
 * secret. Its memory is fixed when made (twice the longest secret and
 * 8 KiB), whatever it is fed. */
struct redactor;

/* A redactor for one stream; set must outlive it. NULL/ENOMEM. */
struct redactor *redactor_new(const struct redact_set *set);
/* Wipe and free (NULL is fine). */
void redactor_free(struct redactor *r);
/* Feed the next bytes of the stream: what can be decided is emitted
 * (every secret, the longest one where several start at the same byte,
 * as REDACT_MARK); the end of data that is a proper prefix of a secret is
 * held back until the next feed or the flush. */
void redact_feed(struct redactor *r, const char *data, size_t len,
		 redact_emit emit, void *ctx);
/* The stream ended: emit what is held back (it can no longer become a
 * secret); the redactor is then as new. */
void redact_flush(struct redactor *r, redact_emit emit, void *ctx);

#endif
