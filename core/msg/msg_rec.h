/* SPDX-License-Identifier: MIT */
/*
 * The message record: what the router keeps of an accepted message from
 * acceptance to its final state.
 *
 * One allocation per message: the fixed header below, then the text and the
 * short strings (sender, client reference, tags), each NUL-terminated. The
 * header stays well under the 256-byte budget per queued message; the
 * worker that owns the message's channel frees it after the final event.
 * @next links it into the hand-off chain, then into its lane.
 */
#ifndef SMSR_MSG_REC_H
#define SMSR_MSG_REC_H

#include <stdint.h>

#include "smsr/msg.h"

enum smsr__rec_state {
	SMSR__REC_HANDOFF = 0, /* on its way to the worker */
	SMSR__REC_QUEUED,      /* in a lane */
	SMSR__REC_INFLIGHT,    /* submitted, awaiting the carrier's answer */
	SMSR__REC_AWAIT_DLR,   /* accepted by the carrier, awaiting the report */
	SMSR__REC_RETRY,       /* waiting out a backoff before it is sent again */
};

struct smsr__rec {
	struct smsr__rec *next;
	uint64_t id;
	uint64_t accepted_ns; /* CLOCK_MONOTONIC at acceptance */
	uint64_t deadline_ns; /* in flight: submit or report timeout; retry: when due */
	uint64_t tag;	      /* the host's, set at its ACCEPTED event */
	uint64_t jlsn;	      /* its ACCEPT record in the journal, 0 none */
	uint64_t jhand;	      /* a HANDOFF recorded ahead of the send, 0 none */
	uint32_t validity_ms; /* from acceptance: see smsr__rec_expires() */
	uint32_t alloc_size;  /* bytes of this allocation: its size class */
	uint32_t text_len;
	uint32_t slot;	 /* in-flight table slot */
	uint16_t chan;	 /* channel index */
	uint8_t cls;	 /* enum smsr_class */
	uint8_t carrier; /* enum smsr_carrier */
	uint8_t segments;
	uint8_t coding;
	uint8_t attempt;
	uint8_t state; /* enum smsr__rec_state */
	uint8_t sender_len;
	uint8_t ref_len;
	uint8_t tags_len;
	uint8_t has_ref;
	uint8_t maybe_sent;  /* an earlier attempt may have reached a carrier */
	uint8_t jskip;	     /* the event being emitted is already in the journal */
	uint8_t redelivered; /* resent once already after a failed receipt */
	uint8_t parts_left;  /* awaiting its report: parts not yet reported delivered */
	char recipient[SMSR_E164_MAX + 1];
	/* The first part's carrier id, cut to fit (the receipt index keeps
	 * every part's whole id; events name the whole ones). */
	char carrier_msgid[24];
	char data[]; /* text\0 sender\0 client_ref\0 tags\0 */
};

/* CLOCK_MONOTONIC time at which @r's validity ends. */
static inline uint64_t smsr__rec_expires(const struct smsr__rec *r)
{
	return r->accepted_ns + (uint64_t)r->validity_ms * 1000000u;
}

static inline const char *smsr__rec_text(const struct smsr__rec *r)
{
	return r->data;
}

static inline const char *smsr__rec_sender(const struct smsr__rec *r)
{
	return r->data + r->text_len + 1;
}

static inline const char *smsr__rec_ref(const struct smsr__rec *r)
{
	return r->has_ref ? smsr__rec_sender(r) + r->sender_len + 1 : NULL;
}

static inline const char *smsr__rec_tags(const struct smsr__rec *r)
{
	return smsr__rec_sender(r) + r->sender_len + 1 + r->ref_len + 1;
}

#endif
