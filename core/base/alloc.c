/* SPDX-License-Identifier: MIT */
/*
 * Engine allocation: a jemalloc arena per router, or libc under sanitizers.
 * The size passed to smsr__free() must be the size allocated (sized
 * deallocation skips jemalloc's size lookup).
 */
#include <stdlib.h>

#include "smsr/errors.h"
#include "alloc.h"

#ifdef SMSR_USE_JEMALLOC
#include <jemalloc/jemalloc.h>

int smsr__arena_init(struct smsr__arena *a)
{
	unsigned idx;
	size_t sz = sizeof(idx);

	if (mallctl("arenas.create", &idx, &sz, NULL, 0) != 0)
		return -SMSR_ENOMEM;
	a->index = idx;
	a->flags = MALLOCX_ARENA(idx);
	return 0;
}

void smsr__arena_fini(struct smsr__arena *a)
{
	/* jemalloc 5.3 can destroy an arena, but only when no thread cache
	 * holds its memory; leaving it is cheaper and safe (it is reused by
	 * nothing else and its pages are purged by decay). */
	(void)a;
}

void *smsr__alloc(const struct smsr__arena *a, size_t size)
{
	return mallocx(size, a->flags);
}

void smsr__free(const struct smsr__arena *a, void *p, size_t size)
{
	if (p)
		sdallocx(p, size, a->flags);
}
#else
int smsr__arena_init(struct smsr__arena *a)
{
	a->index = 0;
	a->flags = 0;
	return 0;
}

void smsr__arena_fini(struct smsr__arena *a)
{
	(void)a;
}

void *smsr__alloc(const struct smsr__arena *a, size_t size)
{
	(void)a;
	return malloc(size);
}

void smsr__free(const struct smsr__arena *a, void *p, size_t size)
{
	(void)a;
	(void)size;
	free(p);
}
#endif
