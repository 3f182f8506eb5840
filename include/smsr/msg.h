/* SPDX-License-Identifier: MIT */
/*
 * Messages, results and status events.
 *
 * A host describes a message with struct smsr_msg (all pointers borrowed for
 * the duration of the submit call: the router copies what it keeps) and gets
 * back a struct smsr_result per message: the assigned id, or a stable
 * rejection reason. From then on the router reports the message's life as
 * status events; every accepted message ends in exactly one final event
 * (delivered, failed or expired).
 */
#ifndef SMSR_MSG_H
#define SMSR_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

enum smsr_class {
	SMSR_CLASS_AUTO = 0, /* let the classifier decide (submit only) */
	SMSR_CLASS_VERIFICATION = 1,
	SMSR_CLASS_NOTICE = 2,
	SMSR_CLASS_MARKETING = 3,
};
#define SMSR_NCLASS 3 /* lanes: index = class - 1 */

enum smsr_carrier {
	SMSR_CARRIER_UNKNOWN = 0,
	SMSR_CARRIER_CMCC = 1, /* China Mobile */
	SMSR_CARRIER_CUCC = 2, /* China Unicom */
	SMSR_CARRIER_CTCC = 3, /* China Telecom */
	SMSR_CARRIER_CBN = 4,  /* China Broadnet */
	SMSR_CARRIER_INTL = 5, /* any number outside mainland China */
};
#define SMSR_NCARRIER 6

/* Limits on what a message may carry (bytes, excluding the NUL). */
#define SMSR_REF_MAX	     64
#define SMSR_SENDER_MAX	     64
#define SMSR_TAGS_MAX	     128
#define SMSR_TEXT_MAX	     2048
#define SMSR_SEGMENTS_MAX    10
#define SMSR_E164_MAX	     16 /* '+' and up to 15 digits */
#define SMSR_VALIDITY_MAX_MS (7u * 24 * 3600 * 1000)

struct smsr_msg {
	const char *recipient;	/* any common form; normalized to E.164 */
	const char *sender;	/* signature, e.g. "淘宝网"; NULL: none */
	const char *text;	/* UTF-8, not necessarily NUL-terminated */
	size_t text_len;	/* bytes of @text */
	const char *client_ref; /* host's own reference, NULL: none */
	const char *tags;	/* free-form, e.g. "campaign=x,team=y"; NULL: none */
	enum smsr_class cls;	/* SMSR_CLASS_AUTO: classify the text */
	uint32_t validity_ms;	/* 0: the class default */
};

struct smsr_result {
	uint64_t id;	  /* assigned id when status == 0, else 0 */
	int status;	  /* 0 accepted, else -SMSR_E* (the reason) */
	uint8_t cls;	  /* enum smsr_class the router settled on */
	uint8_t carrier;  /* enum smsr_carrier of the recipient */
	uint8_t segments; /* billable segments */
	uint8_t pad;
	int32_t channel; /* channel index it was queued on, -1 if none */
	/* With a journal: durable once smsr_router_durable_seq() >= this
	 * (router.h, "Durability"); 0 without one. */
	uint64_t durable_seq;
};

enum smsr_event_type {
	SMSR_EV_ACCEPTED = 0,
	SMSR_EV_QUEUED = 1,    /* on a channel lane (with a reason: resent, see below) */
	SMSR_EV_SUBMITTED = 2, /* carrier accepted the submit: carrier_msgid set */
	SMSR_EV_DELIVERED = 3, /* final */
	SMSR_EV_FAILED = 4,    /* final: reason, op_code */
	SMSR_EV_EXPIRED = 5,   /* final */
	SMSR_EV_REJECTED = 6,  /* not accepted: reason (also the submit result) */
	SMSR_EV_HANDOFF = 7,   /* handed to the channel driver (before the carrier answers) */
	SMSR_EV_CHANNEL =
	    8, /* not a message's: a channel changed state (id 0, chan_state, reason) */
	SMSR_EV_COUNT
};
#define SMSR_EV_MASK(t) (1u << (t))
#define SMSR_EV_ALL	((1u << SMSR_EV_COUNT) - 1)
#define SMSR_EV_FINAL                                                     \
	(SMSR_EV_MASK(SMSR_EV_DELIVERED) | SMSR_EV_MASK(SMSR_EV_FAILED) | \
	 SMSR_EV_MASK(SMSR_EV_EXPIRED))

/*
 * A status event. Pointers are lent for the duration of the callback only;
 * copy what you keep.
 *
 * carrier_msgid: in SUBMITTED, every part's id joined with ',' in part
 * order; in DELIVERED or FAILED by a receipt, the part that receipt named.
 * A QUEUED event with a reason (< 0) is a resend after a failed receipt
 * (router.retry.resend_undelivered): reason, op_code and carrier_msgid are
 * the receipt's, channel and attempt where the message goes now; when that
 * channel is on another worker a plain QUEUED follows. Not final.
 */
struct smsr_event {
	uint64_t id;		   /* message id (0 for REJECTED without id) */
	uint64_t ts_ns;		   /* CLOCK_MONOTONIC when it happened */
	uint64_t accepted_ns;	   /* CLOCK_MONOTONIC when it was accepted */
	uint8_t type;		   /* enum smsr_event_type */
	uint8_t cls;		   /* enum smsr_class */
	uint8_t carrier;	   /* enum smsr_carrier */
	uint8_t attempt;	   /* 1 on the first try */
	int32_t channel;	   /* channel index, -1 when none */
	int32_t reason;		   /* -SMSR_E* for failed/expired/rejected, else 0 */
	int32_t op_code;	   /* operator's code for failed/delivered, else 0 */
	const char *carrier_msgid; /* submitted/delivered/failed: may be NULL */
	const char *client_ref;	   /* NULL when none */
	const char *tags;	   /* NULL when none */
	const char *recipient;	   /* E.164 */
	uint32_t segments;	   /* billable segments */
	uint8_t chan_state;	   /* CHANNEL: the new enum smsr_chan_state (reason: why) */
	/*
	 * The host's own value for this message, 0 until set: during the
	 * ACCEPTED callback @tag_out points at it and the host may store
	 * anything there (an index into its own tables, say); every later
	 * event of the message carries it in @tag. NULL in other events.
	 */
	uint64_t tag;
	uint64_t *tag_out;
};

/* Now on CLOCK_MONOTONIC, in nanoseconds: the clock of an event's ts_ns and
 * accepted_ns, and of a driver's now_ns. Any thread. */
SMSR_API uint64_t smsr_now_ns(void);

SMSR_API const char *smsr_class_name(enum smsr_class cls);    /* "verification", ... */
SMSR_API int smsr_class_parse(const char *name);	      /* class or -SMSR_EBADCLASS */
SMSR_API const char *smsr_carrier_name(enum smsr_carrier c);  /* "cmcc", ... */
SMSR_API const char *smsr_event_name(enum smsr_event_type t); /* "queued", ... */

/*
 * Normalize @in to E.164 into @out (at least SMSR_E164_MAX + 1 bytes).
 * Accepts "+8613812345678", "8613812345678", "008613812345678",
 * "13812345678" (a bare 11-digit 1[3-9]… number is taken as a mainland
 * mobile), with spaces, dashes, dots and parentheses. +86 landlines are
 * accepted with a valid area code and length; trunk forms ("010…") and
 * bare foreign numbers without "+" or "00" are rejected.
 * Returns the length written or -SMSR_EBADNUMBER. Pure, thread-safe.
 */
SMSR_API int smsr_e164_normalize(const char *in, char *out);

/*
 * Classify @text (UTF-8, @len bytes) as verification, notice or marketing.
 * Never fails: unknown text is a notice. Pure, thread-safe, no allocation.
 */
SMSR_API enum smsr_class smsr_classify(const char *text, size_t len);

#ifdef __cplusplus
}
#endif
#endif
