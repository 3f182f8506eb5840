/* SPDX-License-Identifier: MIT */
/*
 * The receipt index: from a carrier's message id to the message awaiting
 * its delivery report, one index per channel (a receipt may come on any
 * bind of the channel, and all of them are the one struct smsr_chan).
 *
 * Entries live in a pool (grown by doubling, never per message) and are
 * found through an open-addressing table (linear probing, backward-shift
 * deletion) of (hash << 32 | entry + 1). The entries of one message are
 * chained (next_part) from its in-flight slot, so every path that frees
 * the slot drops them: an entry never outlives its message's wait for a
 * report, and the pool holds what awaits a report and no more.
 *
 * Indexing is lazy. An answer with one id short enough for the record
 * (the common case) only notes its slot (@lazy); longer or several ids
 * are copied into the pool and put on a pending list. Both are hashed into
 * the table when a receipt by id arrives, at the sweep, or when a thousand
 * wait: a message reported by token (the sim driver) before that costs a
 * note and nothing more, and a pending entry whose message moved on is
 * only marked dead and freed at the next flush. The owning worker is the
 * only thread that touches an index.
 */
#ifndef SMSR_ROUTER_DLR_H
#define SMSR_ROUTER_DLR_H

#include <stddef.h>
#include <stdint.h>

#define SMSR__DLR_LAZY_MAX 1024u

struct smsr__dlr_ent;

struct smsr__dlr_index {
	struct smsr__dlr_ent *ents; /* the pool */
	uint32_t nents, used;	    /* allocated, ever handed out */
	uint32_t free;		    /* free list head, entry + 1; 0 none */
	uint32_t pending;	    /* pending list head, entry + 1; 0 none */
	uint32_t npending;
	uint32_t live;	 /* entries in use (pending, dead-pending, indexed, done) */
	uint64_t *table; /* hash << 32 | entry + 1; 0 empty */
	uint32_t mask;	 /* table size - 1; the table is NULL while 0 */
	uint32_t count;	 /* entries in the table */
	/* Answers whose one short id is only in the record yet (slot | gen
	 * << 32): indexed from the record by smsr__chan_index(). */
	uint64_t *lazy;
	uint32_t nlazy;
	char *joined; /* scratch: a message's ids joined with ',' */
	size_t joined_cap;
};

/* Free what @x holds and zero it. */
void smsr__dlr_fini(struct smsr__dlr_index *x);

/*
 * Index the @n ids @ids (each 1..SMSR_CARRIER_ID_MAX bytes, NUL-terminated,
 * copied) of the message in slot @slot, generation @gen: part k is
 * @ids[k]. *@head gets the chain's first entry (+ 1) for the slot. Returns
 * 0, -SMSR_ECHANERR when an id is empty or too long, -SMSR_ENOMEM; on
 * failure nothing changed.
 */
int smsr__dlr_add(struct smsr__dlr_index *x, uint32_t slot, uint32_t gen, const char *const *ids,
		  unsigned n, uint32_t *head);

/* Drop the chain from @head (+ 1): the message no longer awaits a report. */
void smsr__dlr_drop(struct smsr__dlr_index *x, uint32_t head);

/*
 * The entry (+ 1) indexed under @id (@len bytes), or 0. Hashes the pending
 * entries in first. *@slot, *@gen, *@part describe it.
 */
uint32_t smsr__dlr_find(struct smsr__dlr_index *x, const char *id, size_t len, uint32_t *slot,
			uint32_t *gen, unsigned *part);

/* Take entry @e (+ 1) out of the table: its part has its report. It stays
 * in its message's chain until dropped. */
void smsr__dlr_done(struct smsr__dlr_index *x, uint32_t e);

/* Hash the pending entries in and free the dead ones (the sweep). */
void smsr__dlr_flush(struct smsr__dlr_index *x);

/* Entry @e's (+ 1) id, NUL-terminated; lent until the entry is dropped. */
const char *smsr__dlr_id(const struct smsr__dlr_index *x, uint32_t e);

/*
 * The ids of the chain from @head joined with ',' in part order, in @x's
 * scratch buffer (lent until the next call); NULL if out of memory.
 */
const char *smsr__dlr_joined(struct smsr__dlr_index *x, uint32_t head);

#endif
