/* SPDX-License-Identifier: MIT */
/*
 * A bump arena behind protobuf-c's allocator: a request is unpacked and its
 * answer built in one arena, then everything is dropped at once. Blocks that
 * overflow the current chunk come from malloc and are freed on reset, so the
 * arena never limits a request's size; the chunk itself grows to fit the
 * largest request seen.
 */
#include <stdlib.h>
#include <string.h>

#include "smsrd.h"

#define ARENA_CHUNK (256u << 10)

struct big {
	struct big *next;
	max_align_t data[];
};

static struct big *bigs; /* the loop thread's only arena owns them */

static void *pa_alloc(void *data, size_t n)
{
	return arena_alloc(data, n);
}

static void pa_free(void *data, void *p)
{
	(void)data;
	(void)p; /* freed with the arena */
}

void arena_init(struct arena *a)
{
	memset(a, 0, sizeof(*a));
	a->pa.alloc = pa_alloc;
	a->pa.free = pa_free;
	a->pa.allocator_data = a;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = (n + 15) & ~(size_t)15;

	if (!a->buf) {
		a->buf = malloc(ARENA_CHUNK);
		if (!a->buf)
			return NULL;
		a->cap = ARENA_CHUNK;
	}
	if (a->len + need <= a->cap) {
		void *p = a->buf + a->len;

		a->len += need;
		return p;
	}
	struct big *b = malloc(sizeof(*b) + n);

	if (!b)
		return NULL;
	b->next = bigs;
	bigs = b;
	a->len = a->cap; /* remember that this request overflowed */
	return b->data;
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

void arena_reset(struct arena *a)
{
	bool grow = bigs != NULL;

	while (bigs) {
		struct big *b = bigs;

		bigs = b->next;
		free(b);
	}
	if (grow && a->cap < (64u << 20)) {
		/* A request did not fit: next time start with twice the room. */
		uint8_t *nb = malloc(a->cap * 2);

		if (nb) {
			free(a->buf);
			a->buf = nb;
			a->cap *= 2;
		}
	}
	a->len = 0;
}

void arena_fini(struct arena *a)
{
	arena_reset(a);
	free(a->buf);
	a->buf = NULL;
	a->cap = 0;
}
