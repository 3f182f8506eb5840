/* SPDX-License-Identifier: MIT */
/*
 * Epoch records for threads the library does not know.
 *
 * Read-mostly state (the router's snapshot, the opt-out set's tables) is
 * read inside a ck_epoch section and freed once no section can see it.
 * ck_epoch wants one record per reading thread, but host threads come and
 * go unannounced; so records live in a small fixed array and a caller
 * leases one for the length of its call (one CAS when uncontended). A
 * lease is never held across a blocking call, so a full array only means
 * a short spin.
 */
#ifndef SMSR_EPOCH_H
#define SMSR_EPOCH_H

#include <ck_epoch.h>
#include <stdatomic.h>

#include "tsan.h"

#define SMSR__EPOCH_SLOTS 32

struct smsr__epoch_slot {
	_Atomic int busy;
	ck_epoch_record_t rec;
	char pad[64];
};

struct smsr__epoch {
	ck_epoch_t epoch;
	struct smsr__epoch_slot slots[SMSR__EPOCH_SLOTS];
};

/* Set up @e (caller storage) and register its records. */
void smsr__epoch_init(struct smsr__epoch *e);

/*
 * Lease a record of @e; *@slot names it for the release. Spins (yielding)
 * while every record is leased. Any thread; returns at once when free.
 */
ck_epoch_record_t *smsr__epoch_lease(struct smsr__epoch *e, unsigned *slot);
void smsr__epoch_release(struct smsr__epoch *e, unsigned slot);

/*
 * ck_epoch_end() and ck_epoch_barrier() on @e, with the edge a grace
 * period creates stated for ThreadSanitizer (tsan.h): what a section read
 * happens before what a barrier after it frees. Every section on @e ends
 * with smsr__epoch_end; every reclaimer waits with smsr__epoch_barrier.
 * Without TSan they are their ck counterparts.
 */
static inline void smsr__epoch_end(struct smsr__epoch *e, ck_epoch_record_t *rec,
				   ck_epoch_section_t *section)
{
	SMSR__TSAN_RELEASE(e);
	ck_epoch_end(rec, section);
}
void smsr__epoch_barrier(struct smsr__epoch *e, ck_epoch_record_t *rec);

/* Run every deferred free of every record of @e: only once no thread can
 * read anything @e protects (teardown). */
void smsr__epoch_reclaim_all(struct smsr__epoch *e);

#endif
