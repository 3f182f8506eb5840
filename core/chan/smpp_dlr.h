/* SPDX-License-Identifier: MIT */
/*
 * SMPP delivery receipts: the text receipt in a deliver_sm's short_message,
 * the receipt states and what they mean for a message, and the carrier
 * message id in one form both the submit_sm_resp and the receipt agree on.
 *
 * Invariant: a receipt state maps to exactly one router outcome, delivered
 * (0), a failure (-SMSR_E*), or SMSR__SMPP_NOT_FINAL (an intermediate
 * report, to acknowledge and ignore); the text's stat and the
 * message_state TLV map the same way. Pure functions, no allocation,
 * thread-safe.
 *
 * A driver takes the state from the message_state TLV when present, else
 * from the text's stat; the operator code from the network_error_code TLV
 * when present, else from the text's err; the id from the
 * receipted_message_id TLV when present, else from the text's id.
 */
#ifndef SMSR_CHAN_SMPP_DLR_H
#define SMSR_CHAN_SMPP_DLR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Receipt states; 1..9 are the message_state TLV's values. */
enum smsr__smpp_stat {
	SMSR__SMPP_STAT_NONE = 0, /* absent or not recognized */
	SMSR__SMPP_STAT_ENROUTE = 1,
	SMSR__SMPP_STAT_DELIVERED = 2,
	SMSR__SMPP_STAT_EXPIRED = 3,
	SMSR__SMPP_STAT_DELETED = 4,
	SMSR__SMPP_STAT_UNDELIVERABLE = 5,
	SMSR__SMPP_STAT_ACCEPTED = 6,
	SMSR__SMPP_STAT_UNKNOWN = 7,
	SMSR__SMPP_STAT_REJECTED = 8,
	SMSR__SMPP_STAT_SKIPPED = 9,	/* SMPP 5.0: accepted, deliberately not sent */
	SMSR__SMPP_STAT_SCHEDULED = 10, /* SMPP 5.0's message_state 0 */
	SMSR__SMPP_STAT_BUFFERED = 11,	/* text only: BUFFRED, BUFFERD, ACKED */
};

struct smsr__smpp_date {
	uint8_t year; /* two digits, as sent */
	uint8_t month, day, hour, minute, second;
};

struct smsr__smpp_receipt {
	const char *id; /* into the parsed text, @id_len bytes; NULL if none */
	size_t id_len;
	const char *text; /* after "text:", to the end; NULL if none */
	size_t text_len;
	int err;      /* the err field, when @has_err */
	uint16_t sub; /* the sub and dlvrd fields, when present */
	uint16_t dlvrd;
	uint8_t stat; /* enum smsr__smpp_stat */
	bool has_err, has_sub, has_dlvrd, has_submit, has_done;
	struct smsr__smpp_date submit, done;
};

/*
 * Parse the text receipt @sm (@len bytes, borrowed: @r's pointers point
 * into it) of the form
 *   id:I sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
 *   stat:DDDDDDD err:E text:...
 * Keys in any case and order, any of them missing, spaces around ':',
 * "submit_date" for "submit date", dates with seconds (12 digits) or a
 * four-digit year (14). A field that does not parse is left out (its has_
 * flag false, stat NONE). err is decimal when all digits, hex when it has
 * a 0x prefix or a letter a-f ("00B" is 11, "010" is 10). Returns 0, or
 * -SMSR_EBADPDU when neither id nor stat is there (not a receipt) or the
 * id is longer than SMSR_CARRIER_ID_MAX (64).
 */
int smsr__smpp_receipt_parse(const char *sm, size_t len, struct smsr__smpp_receipt *r);

/* The receipt state named @s (@len bytes, any case: DELIVRD, UNDELIV,
 * ACCEPTD... and their long forms); SMSR__SMPP_STAT_NONE if unknown. */
uint8_t smsr__smpp_stat_from_text(const char *s, size_t len);

/* The receipt state of message_state TLV value @v; NONE if out of range. */
uint8_t smsr__smpp_stat_from_state(uint8_t v);

#define SMSR__SMPP_NOT_FINAL 1 /* an intermediate state: ignore the receipt */
/* Flag: ACCEPTED is final and delivered (SMPP 3.4's reading). */
#define SMSR__SMPP_ACCEPTED_DELIVERED 0x1u

/*
 * What receipt state @stat means for the message: 0 delivered;
 * -SMSR_EUNDELIVERED (UNDELIVERABLE, SKIPPED), -SMSR_EREJECTED,
 * -SMSR_ECARRIEREXPIRED, -SMSR_ECARRIERDELETED, -SMSR_EDLRUNKNOWN
 * (UNKNOWN, and NONE: a receipt whose state cannot be read is a final
 * report of an unknown outcome, so it still counts as a report for the
 * channel's health instead of ending in dlr_timeout); or
 * SMSR__SMPP_NOT_FINAL for ENROUTE, SCHEDULED, BUFFERED and ACCEPTED.
 *
 * ACCEPTED: SMPP 3.4 calls it final ("read on behalf of the subscriber by
 * customer service"), but SMSCs and aggregators send ACCEPTD as "taken by
 * the next hop" before the real final receipt; Kannel treats it as
 * buffered (intermediate) for that reason, and so do we unless @flags has
 * SMSR__SMPP_ACCEPTED_DELIVERED, for a channel whose SMSC sends ACCEPTD as
 * its only final receipt.
 */
int smsr__smpp_stat_outcome(uint8_t stat, unsigned flags);

/*
 * The network_error_code TLV's value @v (@len octets: network type, then
 * a 16-bit error code): returns the code (the operator code to report) and
 * the type in *@type if @type is not NULL; -SMSR_EBADPDU unless @len is 3.
 */
int smsr__smpp_net_error(const uint8_t *v, size_t len, uint8_t *type);

/*
 * Carrier message ids: one channel setting (dlr_id_format) says how its
 * SMSC's submit_sm_resp id and receipt id differ; smsr__smpp_id_norm()
 * turns each side into the same key.
 *  - as_is: the id exactly.
 *  - hex_to_dec: the response's id is hex, the receipt's decimal; the key
 *    is decimal without leading zeros (an optional 0x is allowed).
 *  - dec_to_hex: the response's id is decimal, the receipt's hex; the key
 *    is decimal, as above.
 *  - case_insensitive: the id in lower case (ASCII).
 *  - strip_zeros: the id without leading '0's ("000" is "0").
 */
enum smsr__smpp_id_format {
	SMSR__SMPP_ID_AS_IS = 0,
	SMSR__SMPP_ID_HEX_TO_DEC,
	SMSR__SMPP_ID_DEC_TO_HEX,
	SMSR__SMPP_ID_CASE_INSENSITIVE,
	SMSR__SMPP_ID_STRIP_ZEROS,
};

enum smsr__smpp_id_side {
	SMSR__SMPP_ID_RESP = 0, /* the message_id of a submit_sm_resp */
	SMSR__SMPP_ID_RECEIPT,	/* the id of a receipt (text or TLV) */
};

/*
 * The key of id @in (@len bytes, borrowed) seen on @side under format
 * @fmt, NUL-terminated in @out (@cap bytes; SMSR_CARRIER_ID_MAX + 1 always
 * suffices). Returns the key's length, or -SMSR_EBADPDU (empty, longer
 * than SMSR_CARRIER_ID_MAX, a NUL byte, not a number where the format
 * wants one, or a key over SMSR_CARRIER_ID_MAX), -ENOSPC, -SMSR_EINVAL
 * (unknown @fmt or @side). Pure.
 */
int smsr__smpp_id_norm(int fmt, int side, const char *in, size_t len, char *out, size_t cap);

/* "as_is", "hex_to_dec", ... -> enum smsr__smpp_id_format; -SMSR_ECONFIG otherwise. */
int smsr__smpp_id_format_parse(const char *name);

#endif
