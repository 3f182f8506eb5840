/* SPDX-License-Identifier: MIT */
/*
 * The payloads of the router's journal records (router_journal.c writes
 * them, router_recover.c reads them back). In the host's byte order: a
 * journal belongs to the machine and build that wrote it.
 */
#ifndef SMSR_ROUTER_JOURNAL_H
#define SMSR_ROUTER_JOURNAL_H

#include <stdint.h>

#include "smsr/msg.h"

/* ACCEPT: then text\0 sender\0 client_ref\0 tags\0, as in the record. */
struct smsr__jaccept {
	uint64_t accepted_unix_ns;
	uint32_t validity_ms;
	uint32_t text_len;
	uint8_t cls, carrier, segments, coding;
	uint8_t sender_len, ref_len, tags_len, has_ref;
	uint8_t attempt, maybe_sent, pad[6];
	char recipient[SMSR_E164_MAX + 1];
};

/* QUEUED, HANDOFF, SUBMITTED, FINAL: then the channel's name, then
 * (SUBMITTED) the carrier ids joined with ','. */
struct smsr__jstate {
	uint64_t ts_unix_ns; /* when it happened */
	int32_t reason, op_code;
	uint8_t type, attempt, name_len, pad;
};

#endif
