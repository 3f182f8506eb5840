/* SPDX-License-Identifier: MIT */
/*
 * The opt-out list: numbers that replied STOP / 退订 and get no more
 * marketing.
 *
 * A ck_hs set of E.164 numbers (as integers) in SPMC mode: submitters look
 * numbers up without a lock, inside the epoch section they already hold;
 * writers (MO replies, the admin API) are serialized by a mutex, and a
 * table the set outgrows is freed through the epoch the writer passes
 * once no reader can see it.
 */
#ifndef SMSR_OPTOUT_H
#define SMSR_OPTOUT_H

#include <ck_hs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct smsr__epoch;

struct smsr__optout {
	ck_hs_t hs;
	pthread_mutex_t lock;
	_Atomic uint64_t n; /* numbers in the set; 0 lets submit skip the lookup */
	bool ready;
};

int smsr__optout_init(struct smsr__optout *o);
void smsr__optout_fini(struct smsr__optout *o);
/* Add (@out) or remove @e164 ("+..."). 1 changed, 0 already so, or -SMSR_E*. */
int smsr__optout_set(struct smsr__epoch *ep, struct smsr__optout *o, const char *e164, bool out);
/*
 * As smsr__optout_set, for a router worker: never blocks. -SMSR_EBUSY when
 * another writer holds the list (nothing changed; try again later). A
 * worker must not wait for readers: a submitter inside its epoch section
 * may be waiting for that very worker to take a hand-off.
 */
int smsr__optout_try_set(struct smsr__epoch *ep, struct smsr__optout *o, const char *e164,
			 bool out);
/* Is @e164 opted out? Lock-free; call inside an epoch section. */
bool smsr__optout_has(struct smsr__optout *o, const char *e164);

/* What an MO reply's text asks for: 1 opt out, 2 opt back in, 0 neither. */
int smsr__mo_keyword(const char *text, size_t len);

#endif
