/* Unit tests of alloc.c, the static build's allocator, compiled here
 * under other names (test_malloc...) beside the C library's: random
 * allocations, growths and frees keep every byte, alignment holds, and a
 * double free aborts instead of corrupting the heap. */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define AE_OWN_MALLOC
#define ALLOC_NAME(name) test_##name
void *test_malloc(size_t n);
void test_free(void *p);
void *test_realloc(void *p, size_t n);
void *test_calloc(size_t count, size_t size);
#include "../../alloc.c"

#include "suites.h"

struct block {
	unsigned char *p;
	size_t len;
	unsigned char fill;
};

static void check_fill(const struct block *b)
{
	size_t i = 0;

	while (i < b->len && b->p[i] == b->fill)
		i++;
	ck_assert_msg(i == b->len, "byte %zu of %zu changed", i, b->len);
}

static size_t random_size(unsigned *seed)
{
	unsigned r = (unsigned)rand_r(seed);

	/* mostly small, some up to 64 KiB, a few up to 1 MiB (mappings) */
	return r % 16 ? r % 300 : r % 64 ? r % 70000 : r % (1 << 20);
}

START_TEST(test_random_use_keeps_contents)
{
	struct block blocks[256] = { { 0 } };
	unsigned seed = 12345;

	for (int round = 0; round < 20000; round++) {
		struct block *b = &blocks[rand_r(&seed) % 256];
		int action = rand_r(&seed) % 3;

		if (b->p)
			check_fill(b);
		if (action == 0 && b->p) {
			test_free(b->p);
			b->p = NULL;
			continue;
		}
		if (action == 1 && b->p) {
			size_t len = random_size(&seed);
			unsigned char *grown = test_realloc(b->p, len);

			ck_assert_ptr_nonnull(grown);
			b->p = grown;
			b->len = len < b->len ? len : b->len;
			check_fill(b);
		} else {
			test_free(b->p);
			b->len = random_size(&seed);
			b->p = action == 2 ? test_calloc(1, b->len)
					   : test_malloc(b->len);
			ck_assert_ptr_nonnull(b->p);
			b->fill = 0;
			if (action == 2)
				check_fill(b);
		}
		ck_assert_uint_eq((uintptr_t)b->p % 16, 0);
		b->fill = (unsigned char)rand_r(&seed);
		memset(b->p, b->fill, b->len);
	}
	for (int i = 0; i < 256; i++)
		test_free(blocks[i].p);
}
END_TEST

START_TEST(test_edges)
{
	void *p = test_malloc(0), *q;

	ck_assert_ptr_nonnull(p);
	test_free(p);
	test_free(NULL);
	ck_assert_ptr_null(test_calloc(SIZE_MAX / 2, 4));
	ck_assert_ptr_null(test_malloc(SIZE_MAX - 8));
	p = test_realloc(NULL, 100);
	ck_assert_ptr_nonnull(p);
	memset(p, 7, 100);
	q = test_realloc(p, 10);	/* shrinking keeps the block */
	ck_assert_ptr_eq(p, q);
	q = test_realloc(q, 200000);	/* into a mapping of its own */
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(((unsigned char *)q)[99], 7);
	test_free(q);
}
END_TEST

static int dies_of_abort(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		fn();
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void free_twice(void)
{
	void *p = test_malloc(40);

	test_free(p);
	test_free(p);
}

static void free_foreign(void)
{
	static char not_ours[64] __attribute__((aligned(16)));

	test_free(not_ours + 32);
}

START_TEST(test_misuse_aborts)
{
	ck_assert(dies_of_abort(free_twice));
	ck_assert(dies_of_abort(free_foreign));
}
END_TEST

Suite *alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("alloc");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_random_use_keeps_contents);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_misuse_aborts);
	suite_add_tcase(s, tc);
	return s;
}
