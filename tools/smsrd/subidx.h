/* SPDX-License-Identifier: MIT */
/*
 * The subscription index: which subscriptions an event can match, found
 * without looking at the others.
 *
 * A subscription's filter has up to four parts (proto/PROTOCOL.md section
 * 8): a client_ref prefix, a set of channels, a set of classes, a set of
 * event types; each part that is set must match. The index files every
 * subscription under one part only, its key — the first set part in that
 * order, the most selective one first:
 *
 *   prefix   a byte trie of the prefixes in use; an event walks down it
 *            along its client_ref as far as some prefix goes, so prefixes
 *            that differ from it are never touched
 *   channel  one list per channel index (0..nchan_max-1), a subscription
 *            on each of its channels
 *   class    one list per class
 *   type     one list per event type
 *   all      no filter: every event matches
 *
 * An event visits the prefix buckets its client_ref falls in, the list of
 * its channel, of its class, of its type, and the match-all list: the
 * subscriptions found there (candidates) get the full check; nothing else
 * is looked at. So a subscription whose key does not match an event costs
 * that event nothing, however many there are; each subscription is visited
 * at most once per event. Adding and removing are O(parts + prefix length).
 *
 * Single-threaded: the smsrd loop owns it.
 */
#ifndef SMSRD_SUBIDX_H
#define SMSRD_SUBIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smsr/smsr.h"

#define SUBIDX_TYPES 32 /* bits of a type mask */

struct subidx_ent {
	struct subidx_ent *next, **pprev;
	struct subidx_filter *f;
};

/*
 * What a subscription matches; the caller fills the first part, the index
 * owns the rest between subidx_add() and subidx_del().
 */
struct subidx_filter {
	uint32_t types;	  /* SMSR_EV_MASK() bits; SMSR_EV_ALL: any */
	uint32_t classes; /* 1u << cls bits; ~0u: any */
	uint16_t *chans;  /* channel indexes, sorted, distinct; borrowed; NULL: any */
	uint32_t nchans;
	char ref[SMSR_REF_MAX + 1]; /* client_ref prefix; "": any */
	void *owner;		    /* the caller's, for the match callback */

	/* The index's. */
	uint8_t key; /* enum subidx_key */
	uint8_t ref_len;
	uint32_t nents;
	struct subidx_ent *ents;
	struct subidx_filter *next_all, **pprev_all;
};

struct subidx_pfx; /* a trie node (subidx.c) */

struct subidx {
	struct subidx_ent **by_chan; /* [nchan_max] */
	uint32_t nchan_max;
	struct subidx_ent *by_class[8];
	struct subidx_ent *by_type[SUBIDX_TYPES];
	struct subidx_ent *all;
	struct subidx_pfx *pfx;	     /* the trie's root: the empty prefix */
	uint32_t npfx;		     /* trie nodes below the root */
	struct subidx_filter *every; /* every subscription, for walks */
	uint32_t n;
	uint32_t type_count[SUBIDX_TYPES]; /* subscriptions wanting each type */
};

/* Set up @x for channel indexes below @nchan_max. 0 or -SMSR_ENOMEM. */
int subidx_init(struct subidx *x, uint32_t nchan_max);
/* Free @x's memory; the filters still in it are only forgotten. */
void subidx_fini(struct subidx *x);

/*
 * File @f (its caller part filled in; lent until subidx_del()) under its
 * key. Returns 0, -SMSR_EINVAL (a channel index at or over nchan_max, or
 * no type), or -SMSR_ENOMEM; a failed call changes nothing.
 */
int subidx_add(struct subidx *x, struct subidx_filter *f);
/* Take @f (added before) out of @x. Never fails. */
void subidx_del(struct subidx *x, struct subidx_filter *f);

/* True when every set part of @f (added to an index) matches @ev. Pure. */
bool subidx_filter_match(const struct subidx_filter *f, const struct smsr_event *ev);

typedef void subidx_match_cb(void *arg, struct subidx_filter *f);
/*
 * Call @cb once for every filter in @x that matches @ev (borrowed), in no
 * particular order; @cb must not add to or remove from @x. Returns how
 * many candidates were looked at (those calls, plus the candidates whose
 * other parts did not match).
 */
size_t subidx_match(struct subidx *x, const struct smsr_event *ev, subidx_match_cb *cb, void *arg);

/* The union of every filter's types: what the index can match at all. */
uint32_t subidx_types(const struct subidx *x);

#endif
