/* SPDX-License-Identifier: MIT */
/*
 * SMPP message text: UTF-8 to short_message bytes and back, pure (no I/O).
 *
 * Encoding picks the data_coding the text allows: the GSM 03.38 default
 * alphabet (one septet per octet, or packed on request) whenever
 * smsr__text_scan() says GSM-7, else UCS-2 big-endian with surrogate
 * pairs; Latin-1 when the channel asks and every character is in it. A
 * text too long for one message is split into parts the way the router
 * billed it: 160/153 septets, 70/67 UTF-16 units (140/134 octets for
 * Latin-1), never splitting an escape or a surrogate pair, so with an
 * 8-bit-reference UDH or SAR the number of parts equals the segments
 * smsr__text_scan() counted. A 16-bit-reference UDH is an octet longer:
 * 152/66 per part, which can make one part more than billed.
 *
 * Decoding turns an MO's short_message (after its UDH) into UTF-8 that is
 * always valid and free of NUL bytes: what cannot be decoded becomes
 * U+FFFD, never an error, so one bad octet does not lose a message.
 */
#ifndef SMSR_CHAN_SMPP_TEXT_H
#define SMSR_CHAN_SMPP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SMPP data_coding values this file produces or reads. */
#define SMSR__SMPP_DCS_DEFAULT 0x00 /* SMSC default alphabet: GSM 03.38 here */
#define SMSR__SMPP_DCS_IA5     0x01
#define SMSR__SMPP_DCS_BINARY2 0x02
#define SMSR__SMPP_DCS_LATIN1  0x03
#define SMSR__SMPP_DCS_BINARY  0x04
#define SMSR__SMPP_DCS_UCS2    0x08

#define SMSR__SMPP_MAX_PARTS 255
/* The longest message_payload value (its TLV length is 16 bits). */
#define SMSR__SMPP_PAYLOAD_MAX 65535

enum smsr__smpp_coding_pref {
	SMSR__SMPP_PREF_AUTO = 0, /* GSM-7 if smsr__text_scan() says so, else UCS-2 */
	SMSR__SMPP_PREF_LATIN1,	  /* Latin-1 if every character is in it, else UCS-2 */
	SMSR__SMPP_PREF_UCS2,	  /* always UCS-2 */
};

enum smsr__smpp_concat {
	SMSR__SMPP_CONCAT_UDH = 0, /* parts start with a UDH: caller sets esm_class 0x40 */
	SMSR__SMPP_CONCAT_SAR,	   /* parts without UDH: caller sets the sar_* TLVs */
	SMSR__SMPP_CONCAT_PAYLOAD, /* one PDU, the whole text in message_payload */
};

/* What the encoded bytes are in (not the data_coding, which may differ). */
enum smsr__smpp_charset {
	SMSR__SMPP_CS_GSM7 = 0,
	SMSR__SMPP_CS_LATIN1,
	SMSR__SMPP_CS_UCS2,
};

/* A channel's settings, fixed while it runs. Zeroed is the common case. */
struct smsr__smpp_enc_opts {
	uint8_t pref;	   /* enum smsr__smpp_coding_pref */
	uint8_t concat;	   /* enum smsr__smpp_concat */
	uint8_t max_parts; /* most parts (or segments in payload mode); 0 is 255 */
	uint8_t dcs_gsm;   /* data_coding sent for GSM-7 (0, or 1 for SMSCs that want it) */
	bool ref16;	   /* UDH: 16-bit reference (IE 0x08, 7 octets) instead of IE 0x00 */
	bool packed;	   /* GSM-7: septets packed 8 to 7 octets, not one per octet (seven
			      spare bits at a part's end hold a CR, as 23.038 says) */
};

/* One part: @len bytes at @off in the output buffer, UDH included. */
struct smsr__smpp_part {
	uint16_t off;
	uint16_t len;
};

struct smsr__smpp_enc {
	uint8_t dcs;	  /* data_coding for every part */
	uint8_t charset;  /* enum smsr__smpp_charset */
	uint8_t nparts;	  /* PDUs to send: entries of @part */
	uint8_t segments; /* what the SMSC bills: nparts, or the split of a payload */
	bool udh;	  /* parts start with a UDH: set esm_class 0x40 (UDHI) */
	uint16_t ref;	  /* concatenation reference, as passed (8 bits unless ref16) */
	uint32_t units;	  /* septets, UTF-16 units or octets of the whole text */
	struct smsr__smpp_part part[SMSR__SMPP_MAX_PARTS];
};

/*
 * Output bytes enough for any text of @len UTF-8 bytes, any options: two
 * per input byte (an ASCII byte is two octets in UCS-2, an extension
 * character two septets) plus a 7-octet UDH per part.
 */
#define SMSR__SMPP_ENC_BOUND(len) (2 * (size_t)(len) + 7 * SMSR__SMPP_MAX_PARTS)

/*
 * Encode @utf8 (@len bytes, borrowed) for submit_sm under the channel's
 * @o, into @out (@cap bytes, borrowed); @ref is the concatenation
 * reference (only the low 8 bits unless @o->ref16). Fills @enc: part i is
 * @enc->part[i], ready for short_message (or message_payload), in order.
 * A text that fits one message is one part without UDH, whatever the
 * mode. Returns the number of parts, or -SMSR_EEMPTY, -SMSR_EBADUTF8
 * (not strict UTF-8, or a NUL byte), -SMSR_ETOOLONG (more parts than
 * @o->max_parts, or a payload over 65535 octets), -ENOSPC (@cap too small;
 * SMSR__SMPP_ENC_BOUND(@len) always suffices), -SMSR_EINVAL (bad @o).
 * On error @out and @enc hold garbage. Pure, thread-safe, no allocation.
 */
int smsr__smpp_text_encode(const struct smsr__smpp_enc_opts *o, const char *utf8, size_t len,
			   uint16_t ref, uint8_t *out, size_t cap, struct smsr__smpp_enc *enc);

/* UTF-8 bytes enough to decode any @len input octets. */
#define SMSR__SMPP_DEC_BOUND(len) (3 * (size_t)(len))

/*
 * Decode @in (@len octets, borrowed: a short_message or message_payload
 * after any UDH) sent with data_coding @dcs, into UTF-8 at @out (@cap
 * bytes). Returns the bytes written (no NUL terminator), -ENOSPC when
 * @cap is too small (SMSR__SMPP_DEC_BOUND(@len) always suffices), or
 * -ENOTSUP for an alphabet not decoded here (JIS, Cyrillic, Hebrew,
 * KS C 5601, pictograms, compressed text).
 *
 *  - 0 (and GSM data coding groups): GSM 03.38, one septet per octet
 *    (SMPP's form); ESC + code from the extension table; ESC + a code the
 *    table lacks is that code's basic character (23.038); a trailing ESC
 *    is a space; octets >= 0x80 are U+FFFD.
 *  - 1 IA5: ASCII; octets >= 0x80 are U+FFFD.
 *  - 3 Latin-1: one code point per octet.
 *  - 8 (and UCS-2 groups): UTF-16BE; an unpaired surrogate or an odd last
 *    octet is U+FFFD.
 *  - 2, 4 (and 8-bit groups): binary; copied if it is UTF-8, else written
 *    as upper-case hex digits, two per octet.
 * U+0000 always becomes U+FFFD. Never reads past @in + @len or writes past
 * @out + @cap. Pure, thread-safe.
 */
int smsr__smpp_text_decode(uint8_t dcs, const uint8_t *in, size_t len, char *out, size_t cap);

/* "auto", "latin1", "ucs2" -> enum smsr__smpp_coding_pref; -SMSR_ECONFIG otherwise. */
int smsr__smpp_coding_pref_parse(const char *name);
/* "udh", "sar", "payload" -> enum smsr__smpp_concat; -SMSR_ECONFIG otherwise. */
int smsr__smpp_concat_parse(const char *name);

#endif
