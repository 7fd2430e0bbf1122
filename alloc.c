/* alloc.c - the memory allocator of the static build (make defines
 * AE_OWN_MALLOC; the sanitizer, valgrind and unit-test builds keep their C
 * library's). musl's allocator is a quarter of what the rest of libc
 * brings into the binary; agent-exec needs far less: it has no threads,
 * its commands live for milliseconds, and its supervisor's allocations
 * are small and few.
 *
 * Blocks of 32 B to 64 KiB (header included) come in power-of-two size
 * classes, carved from mappings of 256 KiB (untouched pages cost no
 * memory) and kept on a free list per class once freed; larger blocks
 * are mappings of their own, returned to the system when freed. Each
 * block starts with a 16-byte header (so payloads keep malloc's 16-byte
 * alignment): its class, or its mapping's length, and a check word that
 * turns a double free, or a free of what we never allocated, into an
 * abort rather than a corrupted heap. Not thread-safe. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifdef AE_OWN_MALLOC
#ifndef ALLOC_NAME	/* the unit tests rename the functions */
#define ALLOC_NAME(name) name
#endif

#define HEADER 16
#define SMALLEST_SHIFT 5	/* 32 bytes */
#define CLASSES 12		/* 32 B .. 64 KiB */
#define ARENA (256 * 1024)
#define CHECK_SMALL 0x5a11b10cUL
#define CHECK_LARGE 0x1a76eb10UL
#define CHECK_FREE 0xf7eeb10cUL

struct header {
	size_t size;	/* small: the class; large: the mapping's length */
	size_t check;	/* CHECK_SMALL, CHECK_LARGE or (freed) CHECK_FREE */
};

struct free_block {
	struct free_block *next;
};

/* The allocator's state: the one global of agent-exec outside a
 * supervisor loop, as malloc's always is. */
static struct {
	struct free_block *free[CLASSES];
	char *arena_next, *arena_end;
} heap;

static struct header *header_of(void *payload)
{
	struct header *h = (struct header *)((char *)payload - HEADER);

	if (h->check != CHECK_SMALL && h->check != CHECK_LARGE)
		abort();	/* not ours, freed twice, or a corrupted heap */
	return h;
}

static int class_of(size_t n)
{
	int c = 0;

	while (((size_t)1 << (c + SMALLEST_SHIFT)) - HEADER < n)
		c++;
	return c;
}

static void *map_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void *large_alloc(size_t n)
{
	size_t len = (n + HEADER + 4095) & ~(size_t)4095;
	struct header *h;

	if (len < n) {		/* overflow */
		errno = ENOMEM;
		return NULL;
	}
	h = map_pages(len);
	if (!h)
		return NULL;
	h->size = len;
	h->check = CHECK_LARGE;
	return (char *)h + HEADER;
}

/* A fresh block of class c from the current arena (a new one when it is
 * used up: the rest of the old one is left unused). */
static struct header *carve(int c)
{
	size_t size = (size_t)1 << (c + SMALLEST_SHIFT);
	struct header *h;

	if ((size_t)(heap.arena_end - heap.arena_next) < size) {
		char *arena = map_pages(ARENA);

		if (!arena)
			return NULL;
		heap.arena_next = arena;
		heap.arena_end = arena + ARENA;
	}
	h = (struct header *)heap.arena_next;
	heap.arena_next += size;
	return h;
}

void *ALLOC_NAME(malloc)(size_t n)
{
	struct header *h;
	int c;

	if (n > ((size_t)1 << (CLASSES - 1 + SMALLEST_SHIFT)) - HEADER)
		return large_alloc(n);
	c = class_of(n);
	if (heap.free[c]) {
		h = (struct header *)((char *)heap.free[c] - HEADER);
		heap.free[c] = heap.free[c]->next;
	} else {
		h = carve(c);
		if (!h)
			return NULL;
	}
	h->size = (size_t)c;
	h->check = CHECK_SMALL;
	return (char *)h + HEADER;
}

void ALLOC_NAME(free)(void *p)
{
	struct header *h;
	struct free_block *block = p;

	if (!p)
		return;
	h = header_of(p);
	if (h->check == CHECK_LARGE) {
		munmap(h, h->size);
		return;
	}
	h->check = CHECK_FREE;
	block->next = heap.free[h->size];
	heap.free[h->size] = block;
}

/* What the block at p can hold. */
static size_t capacity_of(struct header *h)
{
	return h->check == CHECK_LARGE ? h->size - HEADER
	       : ((size_t)1 << (h->size + SMALLEST_SHIFT)) - HEADER;
}

void *ALLOC_NAME(realloc)(void *p, size_t n)
{
	struct header *h;
	void *moved;

	if (!p)
		return ALLOC_NAME(malloc)(n);
	h = header_of(p);
	if (n <= capacity_of(h))
		return p;
	moved = ALLOC_NAME(malloc)(n);
	if (!moved)
		return NULL;
	memcpy(moved, p, capacity_of(h));
	ALLOC_NAME(free)(p);
	return moved;
}

void *ALLOC_NAME(calloc)(size_t count, size_t size)
{
	void *p;

	if (size && count > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	p = ALLOC_NAME(malloc)(count * size);
	/* fresh mappings are zero already: only recycled blocks are not */
	if (p && header_of(p)->check == CHECK_SMALL)
		memset(p, 0, count * size);
	return p;
}
#endif
