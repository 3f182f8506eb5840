/* SPDX-License-Identifier: MIT */
/*
 * Route table: which channels may carry a message.
 *
 * Rules come from the configuration, in order; the first rule whose class,
 * carrier and number prefix match the message wins and gives an ordered set
 * of channel groups (tried in order, weights within a group). The table is
 * immutable once built and is published inside the router's snapshot, so
 * lookups from any thread take no lock. For speed, the rules that can match
 * each (class, carrier) pair are listed ahead of time; a lookup usually
 * checks one rule.
 */
#ifndef SMSR_ROUTE_TABLE_H
#define SMSR_ROUTE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"

struct smsr__route_table {
	struct smsr__route_cfg *rules;
	size_t nrules;
	/* match[cls - 1][carrier]: rule indices that can match, in order */
	uint16_t *match[SMSR_NCLASS][SMSR_NCARRIER];
	uint16_t nmatch[SMSR_NCLASS][SMSR_NCARRIER];
};

/* Build from @cfg (borrowed). 0 or -SMSR_ENOMEM. */
int smsr__route_table_build(struct smsr__route_table **out, const struct smsr_config *cfg);

/* First rule matching; NULL if none. @e164 is NUL-terminated. */
const struct smsr__route_cfg *smsr__route_find(const struct smsr__route_table *t, int cls,
					       int carrier, const char *e164);

void smsr__route_table_destroy(struct smsr__route_table *t);

#endif
