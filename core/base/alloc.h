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

#endif
