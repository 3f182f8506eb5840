/* SPDX-License-Identifier: MIT */
/*
 * SMPP inbound (MO) concatenation: the UDH's concatenation element, and a
 * bounded table that puts a long MO back together from its parts.
 *
 * The table is keyed by (sender, reference, total). Parts may arrive in any
 * order and more than once; the first copy of a part wins. Its memory is
 * fixed when it is initialized (a pool of entries and one of part slots),
 * so a flood of never-finished messages cannot grow it: when a pool runs
 * dry the oldest incomplete message is dropped (and counted) to make room,
 * and incomplete messages are dropped @timeout after their first part.
 * Single-threaded: one table per channel, used on its worker only.
 */
#ifndef SMSR_CHAN_SMPP_MO_H
#define SMSR_CHAN_SMPP_MO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smsr__smpp_concat_info {
	uint16_t ref;  /* concatenation reference (8 bits unless @ref16) */
	uint8_t total; /* parts in the message; 0: no usable concatenation element */
	uint8_t seq;   /* this part, 1..@total */
	bool ref16;    /* from IE 0x08 (16-bit reference) rather than IE 0x00 */
};

/*
 * Read the UDH at the start of @sm (@len octets, borrowed; its first octet
 * is the UDH length, UDHL) and its concatenation element: IE 0x00 (8-bit
 * reference) or IE 0x08 (16-bit). Returns the octets to skip before the
 * text (1 + UDHL) and fills @out; @out->total is 0 when the UDH has no
 * concatenation element, or one whose total is 0 or whose sequence number
 * is 0 or past the total (23.040 says to ignore such an element; the last
 * valid one wins if there are several). -SMSR_EBADPDU when UDHL runs past
 * @len, an element runs past UDHL, or a concatenation element has the
 * wrong length. Pure; reads only @sm[0..@len).
 */
int smsr__smpp_udh_concat(const uint8_t *sm, size_t len, struct smsr__smpp_concat_info *out);

#define SMSR__SMPP_ASM_FROM_MAX 32  /* sender bytes (source_addr is at most 20) */
#define SMSR__SMPP_ASM_PART_MAX 768 /* UTF-8 bytes of one part: a decoded short_message */

struct smsr__smpp_mo_asm_entry;
struct smsr__smpp_mo_asm_slot;

struct smsr__smpp_mo_asm_stats {
	uint64_t completed;  /* messages put together */
	uint64_t duplicates; /* parts already held, ignored */
	uint64_t expired;    /* incomplete messages dropped at their timeout */
	uint64_t evicted;    /* incomplete messages dropped to make room */
};

struct smsr__smpp_mo_asm {
	struct smsr__smpp_mo_asm_entry *entries;
	struct smsr__smpp_mo_asm_slot *slots;
	unsigned nentries, nslots;
	unsigned used_entries, free_slots;
	uint16_t free_head; /* free slot list */
	uint64_t timeout_ns;
	struct smsr__smpp_mo_asm_stats stats;
};

/*
 * Set up @a (caller's storage) for at most @max_entries incomplete
 * messages (1..4096) holding at most @max_bytes of parts in all (rounded
 * down to whole part slots of SMSR__SMPP_ASM_PART_MAX bytes; at least one,
 * at most 65535); incomplete messages live @timeout_ns after their first
 * part. Allocates both pools once here, nothing after. Returns 0,
 * -SMSR_EINVAL or -SMSR_ENOMEM (then @a needs no _fini).
 */
int smsr__smpp_mo_asm_init(struct smsr__smpp_mo_asm *a, unsigned max_entries, size_t max_bytes,
			   uint64_t timeout_ns);

/* Free @a's pools, dropping what it holds. */
void smsr__smpp_mo_asm_fini(struct smsr__smpp_mo_asm *a);

/*
 * Add part @seq of @total of message @ref from @from (NUL-terminated,
 * copied), whose text is @utf8 (@len bytes, copied), at @now_ns. When it
 * completes the message, the whole text (parts in order) is written to
 * @out (@cap bytes), its length to *@out_len, the entry is freed, and 1 is
 * returned. 0: held, waiting for more (or a duplicate, ignored). A single
 * part (@total 1) completes at once. Errors change nothing:
 * -SMSR_EBADPDU (@total 0, @seq 0 or past @total), -SMSR_EINVAL (@from
 * NULL or longer than SMSR__SMPP_ASM_FROM_MAX), -SMSR_ETOOLONG (@len over
 * SMSR__SMPP_ASM_PART_MAX), -ENOSPC (the complete text would not fit
 * @cap), -SMSR_EBUSY (the message alone fills the part pool).
 */
int smsr__smpp_mo_asm_add(struct smsr__smpp_mo_asm *a, const char *from, uint16_t ref,
			  uint8_t total, uint8_t seq, const char *utf8, size_t len, uint64_t now_ns,
			  char *out, size_t cap, size_t *out_len);

/* Drop incomplete messages whose first part came @timeout_ns or more before
 * @now_ns. Returns how many were dropped. */
unsigned smsr__smpp_mo_asm_expire(struct smsr__smpp_mo_asm *a, uint64_t now_ns);

/* When the next incomplete message times out (ns), or UINT64_MAX if none. */
uint64_t smsr__smpp_mo_asm_next_expiry(const struct smsr__smpp_mo_asm *a);

/* Incomplete messages held now. */
unsigned smsr__smpp_mo_asm_pending(const struct smsr__smpp_mo_asm *a);

#endif
