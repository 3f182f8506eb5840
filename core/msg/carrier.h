/* SPDX-License-Identifier: MIT */
/*
 * Carrier lookup: which carrier serves an E.164 number.
 *
 * Mainland China (+86) mobile numbers map by their leading digits to China
 * Mobile, Unicom, Telecom or Broadnet, MVNO ranges (170/171/162/165/167)
 * included; every other country code is "international". A built-in table
 * covers the published number ranges; the configuration may add or
 * override prefixes, and an override table of whole numbers handles
 * numbers ported between carriers. The table is immutable once built, so
 * lookups from any thread need no locks.
 */
#ifndef SMSR_CARRIER_H
#define SMSR_CARRIER_H

#include <stddef.h>
#include <stdint.h>

#include "smsr/msg.h"

struct smsr__carrier_entry {
	char key[SMSR_E164_MAX + 1]; /* E.164 prefix (or whole number for ported) */
	uint8_t carrier;	     /* enum smsr_carrier */
};

struct smsr__carrier_table;

/*
 * Build a table (keys in '+'-digit form): the built-in ranges, then @prefixes (override or add,
 * longest prefix wins), then @ported (whole numbers, exact match, checked
 * first). Arrays are borrowed. Returns 0 or -SMSR_ENOMEM / -SMSR_EINVAL.
 */
int smsr__carrier_table_create(struct smsr__carrier_table **out,
			       const struct smsr__carrier_entry *prefixes, size_t nprefixes,
			       const struct smsr__carrier_entry *ported, size_t nported);

/*
 * Carrier of @e164 (normalized: '+' and digits, @len bytes; anything else
 * is SMSR_CARRIER_UNKNOWN). Numbers outside +86 are
 * SMSR_CARRIER_INTL; +86 numbers matching no range SMSR_CARRIER_UNKNOWN.
 * Thread-safe, no allocation.
 */
enum smsr_carrier smsr__carrier_lookup(const struct smsr__carrier_table *t, const char *e164,
				       size_t len);

void smsr__carrier_table_destroy(struct smsr__carrier_table *t);

/* Parse "cmcc" | "cucc" | "ctcc" | "cbn" | "intl" (also "mobile",
 * "unicom", "telecom", "broadnet"). Returns the carrier or -SMSR_EINVAL. */
int smsr__carrier_parse(const char *name);

#endif
