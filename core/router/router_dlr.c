/* SPDX-License-Identifier: MIT */
/*
 * The receipt index (see router_dlr.h): carrier message id -> the part of
 * a message awaiting its report, per channel, on the owning worker only.
 *
 * The invariant: an entry is in the table exactly while its part awaits a
 * report; the table never holds an entry whose message has moved on, so a
 * lookup needs no generation check beyond an assertion.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "smsr/channel.h"
#include "router_dlr.h"

#define DLR_PENDING_MAX SMSR__DLR_LAZY_MAX /* flush when this many wait to be hashed in */
#define DLR_TABLE_MIN	64u

enum ent_state {
	ENT_FREE = 0,
	ENT_PENDING, /* copied, not yet hashed in */
	ENT_DEAD,    /* pending, but its message moved on: freed at the flush */
	ENT_INDEXED, /* in the table */
	ENT_DONE,    /* reported delivered: out of the table, still in its chain */
};

struct smsr__dlr_ent {
	uint32_t slot, gen; /* the message's in-flight slot and its generation */
	uint32_t next;	    /* free or pending list, entry + 1 */
	uint32_t next_part; /* the message's next part, entry + 1 */
	uint32_t hash;
	uint8_t part, len, state;
	char id[SMSR_CARRIER_ID_MAX + 1];
};

/* A 32-bit hash of @n bytes at @p, eight at a time (multiply-xorshift). */
static uint32_t id_hash(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	for (; n >= 8; p += 8, n -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	if (n) {
		uint64_t v = 0;

		memcpy(&v, p, n);
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
	}
	h *= 0xff51afd7ed558ccdull;
	return (uint32_t)(h ^ h >> 32);
}

void smsr__dlr_fini(struct smsr__dlr_index *x)
{
	free(x->ents);
	free(x->table);
	free(x->joined);
	free(x->lazy);
	memset(x, 0, sizeof(*x));
}

/* Make room for @n more entries in the pool. 0 or -SMSR_ENOMEM. */
static int pool_reserve(struct smsr__dlr_index *x, unsigned n)
{
	uint32_t have = x->nents - x->live;
	uint32_t size;
	struct smsr__dlr_ent *e;

	if (have >= n)
		return 0;
	size = x->nents ? x->nents : 256;
	while (size - x->live < n)
		size *= 2;
	e = realloc(x->ents, (size_t)size * sizeof(*e));
	if (!e)
		return -SMSR_ENOMEM;
	x->ents = e;
	x->nents = size;
	return 0;
}

static uint32_t ent_alloc(struct smsr__dlr_index *x)
{
	uint32_t e = x->free;

	if (e)
		x->free = x->ents[e - 1].next;
	else
		e = ++x->used;
	x->live++;
	return e;
}

static void ent_free(struct smsr__dlr_index *x, uint32_t e)
{
	x->ents[e - 1].state = ENT_FREE;
	x->ents[e - 1].next = x->free;
	x->free = e;
	x->live--;
}

static void table_put(uint64_t *t, uint32_t mask, uint64_t v)
{
	uint32_t i = (uint32_t)(v >> 32) & mask;

	while (t[i])
		i = (i + 1) & mask;
	t[i] = v;
}

/* Room for one more in the table at load <= 1/2. 0 or -SMSR_ENOMEM. */
static int table_reserve(struct smsr__dlr_index *x)
{
	uint32_t size = x->mask ? x->mask + 1 : 0;
	uint32_t nsize;
	uint64_t *t;

	if ((uint64_t)(x->count + 1) * 2 <= size)
		return 0;
	nsize = size ? size * 2 : DLR_TABLE_MIN;
	t = calloc(nsize, sizeof(*t));
	if (!t)
		return -SMSR_ENOMEM;
	for (uint32_t i = 0; i < size; i++)
		if (x->table[i])
			table_put(t, nsize - 1, x->table[i]);
	free(x->table);
	x->table = t;
	x->mask = nsize - 1;
	return 0;
}

/* Remove entry @e (+ 1) from the table, shifting its followers back. */
static void table_del(struct smsr__dlr_index *x, uint32_t e)
{
	uint64_t *t = x->table;
	uint32_t mask = x->mask;
	uint32_t i = x->ents[e - 1].hash & mask;

	while ((uint32_t)t[i] != e) {
		assert(t[i]);
		i = (i + 1) & mask;
	}
	t[i] = 0;
	for (uint32_t j = (i + 1) & mask; t[j]; j = (j + 1) & mask) {
		uint32_t home = (uint32_t)(t[j] >> 32) & mask;

		/* Leave t[j] where it is if its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		t[i] = t[j];
		t[j] = 0;
		i = j;
	}
	x->count--;
}

void smsr__dlr_flush(struct smsr__dlr_index *x)
{
	while (x->pending) {
		uint32_t e = x->pending;
		struct smsr__dlr_ent *p = &x->ents[e - 1];

		if (p->state == ENT_PENDING && table_reserve(x) < 0)
			return; /* out of memory: they stay pending */
		x->pending = p->next;
		x->npending--;
		if (p->state == ENT_DEAD) {
			ent_free(x, e);
			continue;
		}
		p->hash = id_hash(p->id, p->len);
		p->state = ENT_INDEXED;
		table_put(x->table, x->mask, (uint64_t)p->hash << 32 | e);
		x->count++;
	}
}

int smsr__dlr_add(struct smsr__dlr_index *x, uint32_t slot, uint32_t gen, const char *const *ids,
		  unsigned n, uint32_t *head)
{
	uint32_t first = 0, prev = 0;

	for (unsigned k = 0; k < n; k++) {
		size_t len = ids[k] ? strnlen(ids[k], SMSR_CARRIER_ID_MAX + 1) : 0;

		if (len == 0 || len > SMSR_CARRIER_ID_MAX)
			return -SMSR_ECHANERR;
	}
	if (x->npending + n > DLR_PENDING_MAX)
		smsr__dlr_flush(x);
	if (pool_reserve(x, n) < 0)
		return -SMSR_ENOMEM;
	for (unsigned k = 0; k < n; k++) {
		uint32_t e = ent_alloc(x);
		struct smsr__dlr_ent *p = &x->ents[e - 1];
		size_t len = strlen(ids[k]);

		p->slot = slot;
		p->gen = gen;
		p->part = (uint8_t)k;
		p->len = (uint8_t)len;
		p->state = ENT_PENDING;
		memcpy(p->id, ids[k], len + 1);
		p->next_part = 0;
		p->next = x->pending;
		x->pending = e;
		x->npending++;
		if (prev)
			x->ents[prev - 1].next_part = e;
		else
			first = e;
		prev = e;
	}
	*head = first;
	return 0;
}

void smsr__dlr_drop(struct smsr__dlr_index *x, uint32_t head)
{
	while (head) {
		struct smsr__dlr_ent *p = &x->ents[head - 1];
		uint32_t next = p->next_part;

		if (p->state == ENT_PENDING) {
			p->state = ENT_DEAD; /* on the pending list: the flush frees it */
		} else {
			if (p->state == ENT_INDEXED)
				table_del(x, head);
			ent_free(x, head);
		}
		head = next;
	}
}

uint32_t smsr__dlr_find(struct smsr__dlr_index *x, const char *id, size_t len, uint32_t *slot,
			uint32_t *gen, unsigned *part)
{
	uint32_t h, i;

	smsr__dlr_flush(x);
	if (!x->count)
		return 0;
	h = id_hash(id, len);
	for (i = h & x->mask; x->table[i]; i = (i + 1) & x->mask) {
		uint32_t e = (uint32_t)x->table[i];
		const struct smsr__dlr_ent *p = &x->ents[e - 1];

		if ((uint32_t)(x->table[i] >> 32) != h || p->len != len || memcmp(p->id, id, len))
			continue;
		*slot = p->slot;
		*gen = p->gen;
		*part = p->part;
		return e;
	}
	return 0;
}

void smsr__dlr_done(struct smsr__dlr_index *x, uint32_t e)
{
	table_del(x, e);
	x->ents[e - 1].state = ENT_DONE;
}

const char *smsr__dlr_id(const struct smsr__dlr_index *x, uint32_t e)
{
	return x->ents[e - 1].id;
}

const char *smsr__dlr_joined(struct smsr__dlr_index *x, uint32_t head)
{
	size_t n = 0;

	for (uint32_t e = head; e; e = x->ents[e - 1].next_part)
		n += x->ents[e - 1].len + 1u;
	if (n > x->joined_cap) {
		char *b = realloc(x->joined, n);

		if (!b)
			return NULL;
		x->joined = b;
		x->joined_cap = n;
	}
	n = 0;
	for (uint32_t e = head; e; e = x->ents[e - 1].next_part) {
		const struct smsr__dlr_ent *p = &x->ents[e - 1];

		if (n)
			x->joined[n++] = ',';
		memcpy(x->joined + n, p->id, p->len);
		n += p->len;
	}
	x->joined[n] = '\0';
	return x->joined;
}
