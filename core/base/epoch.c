/* SPDX-License-Identifier: MIT */
/*
 * Leased epoch records (see epoch.h).
 */
#include <sched.h>
#include <stdint.h>

#include "epoch.h"

void smsr__epoch_init(struct smsr__epoch *e)
{
	ck_epoch_init(&e->epoch);
	for (unsigned i = 0; i < SMSR__EPOCH_SLOTS; i++)
		ck_epoch_register(&e->epoch, &e->slots[i].rec, NULL);
}

ck_epoch_record_t *smsr__epoch_lease(struct smsr__epoch *e, unsigned *slot)
{
	unsigned start = (unsigned)((uintptr_t)&slot >> 12) % SMSR__EPOCH_SLOTS;

	for (;;) {
		for (unsigned k = 0; k < SMSR__EPOCH_SLOTS; k++) {
			unsigned i = (start + k) % SMSR__EPOCH_SLOTS;
			int expect = 0;

			if (atomic_load_explicit(&e->slots[i].busy, memory_order_relaxed) == 0 &&
			    atomic_compare_exchange_strong(&e->slots[i].busy, &expect, 1)) {
				*slot = i;
				return &e->slots[i].rec;
			}
		}
		sched_yield();
	}
}

void smsr__epoch_release(struct smsr__epoch *e, unsigned slot)
{
	atomic_store_explicit(&e->slots[slot].busy, 0, memory_order_release);
}

/* ck_epoch_barrier() is ck_epoch_synchronize() then ck_epoch_reclaim()
 * (libck 0.7.1); the acquire sits between them, before any callback frees. */
void smsr__epoch_barrier(struct smsr__epoch *e, ck_epoch_record_t *rec)
{
	ck_epoch_synchronize(rec);
	SMSR__TSAN_ACQUIRE(e);
	ck_epoch_reclaim(rec);
}

void smsr__epoch_reclaim_all(struct smsr__epoch *e)
{
	SMSR__TSAN_ACQUIRE(e);
	for (unsigned i = 0; i < SMSR__EPOCH_SLOTS; i++)
		ck_epoch_reclaim(&e->slots[i].rec);
}
