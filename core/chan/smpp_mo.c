/* SPDX-License-Identifier: MIT */
/*
 * SMPP MO concatenation: UDH parsing and the reassembly table (see
 * smpp_mo.h for the contracts).
 *
 * Invariant: every slot is either on the free list or on exactly one used
 * entry's part list, which is sorted by sequence number without repeats;
 * an entry's @have counts its list and @bytes sums its lengths. So a
 * complete message is its list in order, and freeing an entry returns all
 * its slots. Lookups scan the entries: MO traffic is light and the table
 * small, and a scan of a few hundred keys costs less than keeping a hash.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smsr/errors.h"
#include "chan/smpp_mo.h"

#define IE_CONCAT8  0x00
#define IE_CONCAT16 0x08
#define NIL	    UINT16_MAX

/* --- UDH ----------------------------------------------------------------- */

static void take_concat(const uint8_t *d, bool ref16, struct smsr__smpp_concat_info *out)
{
	uint16_t ref = ref16 ? (uint16_t)(d[0] << 8 | d[1]) : d[0];
	uint8_t total = d[1 + ref16], seq = d[2 + ref16];

	if (total == 0 || seq == 0 || seq > total)
		return; /* 23.040: ignore the element */
	out->ref = ref;
	out->total = total;
	out->seq = seq;
	out->ref16 = ref16;
}

int smsr__smpp_udh_concat(const uint8_t *sm, size_t len, struct smsr__smpp_concat_info *out)
{
	size_t udhl, i = 1;

	if (!sm || !out || len < 1)
		return -SMSR_EBADPDU;
	memset(out, 0, sizeof(*out));
	udhl = sm[0];
	if (udhl + 1 > len)
		return -SMSR_EBADPDU;
	while (i < udhl + 1) {
		uint8_t iei, iel;

		if (udhl + 1 - i < 2)
			return -SMSR_EBADPDU;
		iei = sm[i];
		iel = sm[i + 1];
		i += 2;
		if (iel > udhl + 1 - i)
			return -SMSR_EBADPDU;
		if (iei == IE_CONCAT8 || iei == IE_CONCAT16) {
			if (iel != (iei == IE_CONCAT8 ? 3 : 4))
				return -SMSR_EBADPDU;
			take_concat(sm + i, iei == IE_CONCAT16, out);
		}
		i += iel;
	}
	return (int)(udhl + 1);
}

/* --- reassembly ---------------------------------------------------------- */

struct smsr__smpp_mo_asm_slot {
	uint16_t next; /* next part of the entry, or next free slot */
	uint16_t len;
	uint8_t seq;
	char data[SMSR__SMPP_ASM_PART_MAX];
};

struct smsr__smpp_mo_asm_entry {
	uint64_t since_ns; /* first part's arrival */
	size_t bytes;	   /* text held */
	uint16_t head;	   /* part list, by seq */
	uint16_t ref;
	uint8_t total, have;
	bool used;
	uint8_t from_len;
	char from[SMSR__SMPP_ASM_FROM_MAX];
};

int smsr__smpp_mo_asm_init(struct smsr__smpp_mo_asm *a, unsigned max_entries, size_t max_bytes,
			   uint64_t timeout_ns)
{
	size_t nslots = max_bytes / SMSR__SMPP_ASM_PART_MAX;

	if (!a || max_entries < 1 || max_entries > 4096)
		return -SMSR_EINVAL;
	nslots = nslots < 1 ? 1 : nslots > NIL ? NIL : nslots;
	memset(a, 0, sizeof(*a));
	a->entries = calloc(max_entries, sizeof(*a->entries));
	a->slots = calloc(nslots, sizeof(*a->slots));
	if (!a->entries || !a->slots) {
		free(a->entries);
		free(a->slots);
		return -SMSR_ENOMEM;
	}
	a->nentries = max_entries;
	a->nslots = a->free_slots = (unsigned)nslots;
	for (size_t i = 0; i < nslots; i++)
		a->slots[i].next = i + 1 < nslots ? (uint16_t)(i + 1) : NIL;
	a->free_head = 0;
	a->timeout_ns = timeout_ns;
	return 0;
}

void smsr__smpp_mo_asm_fini(struct smsr__smpp_mo_asm *a)
{
	free(a->entries);
	free(a->slots);
	memset(a, 0, sizeof(*a));
}

static void free_entry(struct smsr__smpp_mo_asm *a, struct smsr__smpp_mo_asm_entry *e)
{
	uint16_t s = e->head;

	while (s != NIL) {
		uint16_t next = a->slots[s].next;

		a->slots[s].next = a->free_head;
		a->free_head = s;
		a->free_slots++;
		s = next;
	}
	e->used = false;
	a->used_entries--;
}

static struct smsr__smpp_mo_asm_entry *find(struct smsr__smpp_mo_asm *a, const char *from,
					    size_t from_len, uint16_t ref, uint8_t total)
{
	for (unsigned i = 0; i < a->nentries; i++) {
		struct smsr__smpp_mo_asm_entry *e = &a->entries[i];

		if (e->used && e->ref == ref && e->total == total && e->from_len == from_len &&
		    memcmp(e->from, from, from_len) == 0)
			return e;
	}
	return NULL;
}

/* Drop the oldest incomplete message other than @keep; false if none. */
static bool evict_oldest(struct smsr__smpp_mo_asm *a, const struct smsr__smpp_mo_asm_entry *keep)
{
	struct smsr__smpp_mo_asm_entry *old = NULL;

	for (unsigned i = 0; i < a->nentries; i++) {
		struct smsr__smpp_mo_asm_entry *e = &a->entries[i];

		if (e->used && e != keep && (!old || e->since_ns < old->since_ns))
			old = e;
	}
	if (!old)
		return false;
	free_entry(a, old);
	a->stats.evicted++;
	return true;
}

static struct smsr__smpp_mo_asm_entry *new_entry(struct smsr__smpp_mo_asm *a)
{
	if (a->used_entries == a->nentries)
		evict_oldest(a, NULL);
	for (unsigned i = 0; i < a->nentries; i++)
		if (!a->entries[i].used)
			return &a->entries[i];
	return NULL; /* not reached: eviction freed one */
}

/* Where part @seq goes in @e's list: the link to rewrite; NULL if held. */
static uint16_t *link_for(struct smsr__smpp_mo_asm *a, struct smsr__smpp_mo_asm_entry *e,
			  uint8_t seq)
{
	uint16_t *at = &e->head;

	while (*at != NIL && a->slots[*at].seq < seq)
		at = &a->slots[*at].next;
	if (*at != NIL && a->slots[*at].seq == seq)
		return NULL;
	return at;
}

static void join(const struct smsr__smpp_mo_asm *a, const struct smsr__smpp_mo_asm_entry *e,
		 char *out)
{
	size_t pos = 0;

	for (uint16_t s = e->head; s != NIL; s = a->slots[s].next) {
		memcpy(out + pos, a->slots[s].data, a->slots[s].len);
		pos += a->slots[s].len;
	}
}

static int check_add(const char *from, uint8_t total, uint8_t seq, size_t len)
{
	if (total == 0 || seq == 0 || seq > total)
		return -SMSR_EBADPDU;
	if (!from || strnlen(from, SMSR__SMPP_ASM_FROM_MAX + 1) > SMSR__SMPP_ASM_FROM_MAX)
		return -SMSR_EINVAL;
	if (len > SMSR__SMPP_ASM_PART_MAX)
		return -SMSR_ETOOLONG;
	return 0;
}

static int add_single(const char *utf8, size_t len, char *out, size_t cap, size_t *out_len)
{
	if (len > cap)
		return -ENOSPC;
	if (len)
		memcpy(out, utf8, len);
	*out_len = len;
	return 1;
}

/* A free slot, evicting another message if need be; NIL if @e holds them all. */
static uint16_t take_slot(struct smsr__smpp_mo_asm *a, const struct smsr__smpp_mo_asm_entry *e)
{
	uint16_t s;

	if (!a->free_slots && !evict_oldest(a, e))
		return NIL;
	s = a->free_head;
	a->free_head = a->slots[s].next;
	a->free_slots--;
	return s;
}

int smsr__smpp_mo_asm_add(struct smsr__smpp_mo_asm *a, const char *from, uint16_t ref,
			  uint8_t total, uint8_t seq, const char *utf8, size_t len, uint64_t now_ns,
			  char *out, size_t cap, size_t *out_len)
{
	struct smsr__smpp_mo_asm_entry *e;
	size_t from_len;
	uint16_t *at, s;
	int rc = check_add(from, total, seq, len);

	if (rc < 0)
		return rc;
	if (total == 1)
		return add_single(utf8, len, out, cap, out_len);
	from_len = strlen(from);
	e = find(a, from, from_len, ref, total);
	if (e && !(at = link_for(a, e, seq))) {
		a->stats.duplicates++;
		return 0;
	}
	if (e && e->have + 1 == total && e->bytes + len > cap)
		return -ENOSPC;
	s = take_slot(a, e);
	if (s == NIL)
		return -SMSR_EBUSY;
	if (!e) {
		e = new_entry(a);
		*e = (struct smsr__smpp_mo_asm_entry){.since_ns = now_ns,
						      .head = NIL,
						      .ref = ref,
						      .total = total,
						      .used = true,
						      .from_len = (uint8_t)from_len};
		memcpy(e->from, from, from_len);
		a->used_entries++;
		at = &e->head;
	} else {
		at = link_for(a, e, seq); /* eviction never touches @e's list */
	}
	a->slots[s] =
	    (struct smsr__smpp_mo_asm_slot){.next = *at, .len = (uint16_t)len, .seq = seq};
	if (len)
		memcpy(a->slots[s].data, utf8, len);
	*at = s;
	e->have++;
	e->bytes += len;
	if (e->have < total)
		return 0;
	join(a, e, out);
	*out_len = e->bytes;
	free_entry(a, e);
	a->stats.completed++;
	return 1;
}

unsigned smsr__smpp_mo_asm_expire(struct smsr__smpp_mo_asm *a, uint64_t now_ns)
{
	unsigned n = 0;

	for (unsigned i = 0; i < a->nentries && a->used_entries; i++) {
		struct smsr__smpp_mo_asm_entry *e = &a->entries[i];

		if (e->used && now_ns >= e->since_ns && now_ns - e->since_ns >= a->timeout_ns) {
			free_entry(a, e);
			n++;
		}
	}
	a->stats.expired += n;
	return n;
}

uint64_t smsr__smpp_mo_asm_next_expiry(const struct smsr__smpp_mo_asm *a)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < a->nentries; i++) {
		const struct smsr__smpp_mo_asm_entry *e = &a->entries[i];
		uint64_t at = e->since_ns + a->timeout_ns;

		if (at < e->since_ns)
			at = UINT64_MAX;
		if (e->used && at < next)
			next = at;
	}
	return next;
}

unsigned smsr__smpp_mo_asm_pending(const struct smsr__smpp_mo_asm *a)
{
	return a->used_entries;
}
