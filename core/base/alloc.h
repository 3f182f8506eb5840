/* SPDX-License-Identifier: MIT */
/*
 * The engine's one allocation boundary.
 *
 * Message records and other hot-path memory come from a jemalloc arena of the
 * router's own (extended API: mallocx/sdallocx with MALLOCX_ARENA), so the
 * host's malloc is never replaced or disturbed. Sanitizer builds use libc so
 * ASan sees every allocation. Cold paths (config, tables) use plain malloc.
 */
#ifndef SMSR_ALLOC_H
#define SMSR_ALLOC_H

#include <stddef.h>

struct smsr__arena {
	unsigned index; /* jemalloc arena index; unused without jemalloc */
	int flags;	/* mallocx flags */
};

/* Create the router's arena. 0 or -SMSR_ENOMEM. */
int smsr__arena_init(struct smsr__arena *a);
/* Release the arena; every block must have been freed. */
void smsr__arena_fini(struct smsr__arena *a);

void *smsr__alloc(const struct smsr__arena *a, size_t size);
void smsr__free(const struct smsr__arena *a, void *p, size_t size);

/*
 * The bytes an allocation of @size really takes: jemalloc's size class
 * (16-byte steps to 128, then four classes per doubling), which
 * smsr__free() also accepts as the size. What the memory budget charges;
 * under libc (sanitizer builds) a close estimate.
 */
static inline size_t smsr__alloc_charge(size_t size)
{
	size_t step;

	if (size <= 128)
		return (size + 15) & ~(size_t)15;
	step = (size_t)1 << (61 - __builtin_clzll((unsigned long long)size - 1));
	return (size + step - 1) & ~(step - 1);
}

#endif
