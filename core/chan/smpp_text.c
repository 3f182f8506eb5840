/* SPDX-License-Identifier: MIT */
/*
 * SMPP text encoding and decoding (see smpp_text.h for the contracts).
 *
 * Invariant: the encoder never decides GSM-7 against smsr__text_scan(): it
 * runs the scan first and takes its coding, validity and septet count, so
 * a message goes out in the coding and (with an 8-bit UDH or SAR) the
 * number of parts it was billed for. The character tables below are the
 * GSM 03.38 default alphabet and extension table; the unit test checks
 * them against the scan for every BMP code point and round-trips every
 * septet.
 *
 * Parts are written in one pass: each character is costed, and when it
 * would overflow the current part a new part (with its UDH, total still
 * unknown) is opened first, so pairs stay whole. Totals are patched at the
 * end; packing, when asked, squeezes each part in place afterwards.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "smsr/channel.h"
#include "smsr/errors.h"
#include "chan/smpp_text.h"
#include "msg/msg_text.h"

#define NONE 0xff /* not in the alphabet */
#define EXT  0x80 /* ESC + the low seven bits */
#define ESC  0x1b

/* ASCII to GSM 03.38: a septet, EXT | an extension code, or NONE. */
static const uint8_t ascii_gsm[128] = {
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, /* 0x00 */
    NONE, NONE, 0x0a, NONE, 0x8a, 0x0d, NONE, NONE, /* LF, FF, CR */
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, /* 0x10 */
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, /* 0x18 */
    0x20, 0x21, 0x22, 0x23, 0x02, 0x25, 0x26, 0x27, /* ' ' .. '\'': '$' is 0x02 */
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, /* '(' .. '/' */
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, /* '0' .. '7' */
    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, /* '8' .. '?' */
    0x00, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, /* '@' is 0x00 */
    0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, /* 'H' .. 'O' */
    0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, /* 'P' .. 'W' */
    0x58, 0x59, 0x5a, 0xbc, 0xaf, 0xbe, 0x94, 0x11, /* [ \ ] ^ extended, '_' 0x11 */
    NONE, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, /* '`' is not GSM */
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, /* 'h' .. 'o' */
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, /* 'p' .. 'w' */
    0x78, 0x79, 0x7a, 0xa8, 0xc0, 0xa9, 0xbd, NONE, /* { | } ~ extended, DEL */
};

/* U+00A0..U+00FF to GSM 03.38. */
static const uint8_t latin1_gsm[96] = {
    NONE, 0x40, NONE, 0x01, 0x24, 0x03, NONE, 0x5f, /* ¡ £ ¤ ¥ § */
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, /* 0xa8 */
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, /* 0xb0 */
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, 0x60, /* ¿ */
    NONE, NONE, NONE, NONE, 0x5b, 0x0e, 0x1c, 0x09, /* Ä Å Æ Ç */
    NONE, 0x1f, NONE, NONE, NONE, NONE, NONE, NONE, /* É */
    NONE, 0x5d, NONE, NONE, NONE, NONE, 0x5c, NONE, /* Ñ Ö */
    0x0b, NONE, NONE, NONE, 0x5e, NONE, NONE, 0x1e, /* Ø Ü ß */
    0x7f, NONE, NONE, NONE, 0x7b, 0x0f, 0x1d, NONE, /* à ä å æ */
    0x04, 0x05, NONE, NONE, 0x07, NONE, NONE, NONE, /* è é ì */
    NONE, 0x7d, 0x08, NONE, NONE, NONE, 0x7c, NONE, /* ñ ò ö */
    0x0c, 0x06, NONE, NONE, 0x7e, NONE, NONE, NONE, /* ø ù ü */
};

/* U+0390..U+03AF (capital Greek) to GSM 03.38. */
static const uint8_t greek_gsm[32] = {
    NONE, NONE, NONE, 0x13, 0x10, NONE, NONE, NONE, /* Γ Δ */
    0x19, NONE, NONE, 0x14, NONE, NONE, 0x1a, NONE, /* Θ Λ Ξ */
    0x16, NONE, NONE, 0x18, NONE, NONE, 0x12, NONE, /* Π Σ Φ */
    0x17, 0x15, NONE, NONE, NONE, NONE, NONE, NONE, /* Ψ Ω */
};

/* GSM 03.38 septet to Unicode; 0x1b (ESC) is handled by the decoder. */
static const uint16_t gsm_ucs[128] = {
    0x0040, 0x00a3, 0x0024, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec, /* @ £ $ ¥ è é ù ì */
    0x00f2, 0x00c7, 0x000a, 0x00d8, 0x00f8, 0x000d, 0x00c5, 0x00e5, /* ò Ç LF Ø ø CR Å å */
    0x0394, 0x005f, 0x03a6, 0x0393, 0x039b, 0x03a9, 0x03a0, 0x03a8, /* Δ _ Φ Γ Λ Ω Π Ψ */
    0x03a3, 0x0398, 0x039e, 0x0020, 0x00c6, 0x00e6, 0x00df, 0x00c9, /* Σ Θ Ξ ESC Æ æ ß É */
    0x0020, 0x0021, 0x0022, 0x0023, 0x00a4, 0x0025, 0x0026, 0x0027, /* ' ' ! " # ¤ % & ' */
    0x0028, 0x0029, 0x002a, 0x002b, 0x002c, 0x002d, 0x002e, 0x002f, 0x0030, 0x0031, 0x0032,
    0x0033, 0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003a, 0x003b, 0x003c, 0x003d,
    0x003e, 0x003f, 0x00a1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, /* ¡ A .. */
    0x0048, 0x0049, 0x004a, 0x004b, 0x004c, 0x004d, 0x004e, 0x004f, 0x0050, 0x0051, 0x0052,
    0x0053, 0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005a, 0x00c4, 0x00d6, 0x00d1,
    0x00dc, 0x00a7,						    /* .. Z Ä Ö Ñ Ü § */
    0x00bf, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, /* ¿ a .. */
    0x0068, 0x0069, 0x006a, 0x006b, 0x006c, 0x006d, 0x006e, 0x006f, 0x0070, 0x0071, 0x0072,
    0x0073, 0x0074, 0x0075, 0x0076, 0x0077, 0x0078, 0x0079, 0x007a, 0x00e4, 0x00f6, 0x00f1,
    0x00fc, 0x00e0, /* .. z ä ö ñ ü à */
};

#define EURO   0x20ac
#define FFFD   0xfffd
#define UD_MAX 140 /* octets of user data in one SMS */
#define UDH8   6   /* 05 00 03 ref total seq */
#define UDH16  7   /* 06 08 04 ref ref total seq */

/* The GSM code of @cp (EXT | code for the extension table), or NONE. */
static unsigned gsm_code(uint32_t cp)
{
	if (cp < 0x80)
		return ascii_gsm[cp];
	if (cp >= 0xa0 && cp < 0x100)
		return latin1_gsm[cp - 0xa0];
	if (cp >= 0x390 && cp < 0x3b0)
		return greek_gsm[cp - 0x390];
	return cp == EURO ? EXT | 0x65 : NONE;
}

/* Next code point of already validated UTF-8 at @s (lead byte >= 0x80). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0xe0) {
		*cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		return 2;
	}
	if (s[0] < 0xf0) {
		*cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		return 3;
	}
	*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	      (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	return 4;
}

/* --- encoding ------------------------------------------------------------ */

struct emit {
	uint8_t *out;
	size_t cap, pos;
	size_t per;   /* units per part; SIZE_MAX when the text fits one message */
	size_t fill;  /* units in the current part */
	unsigned max; /* most parts (segments in payload mode) */
	unsigned n;   /* parts (segments) opened */
	uint8_t hdr;  /* UDH octets heading each part: 0, UDH8 or UDH16 */
	bool pdus;    /* each part is its own PDU (not payload) */
	uint16_t ref;
	struct smsr__smpp_enc *enc;
};

static void put_udh(struct emit *e)
{
	uint8_t *p = e->out + e->pos;

	if (e->hdr == UDH8) {
		p[0] = 5, p[1] = 0x00, p[2] = 3, p[3] = (uint8_t)e->ref;
		p[4] = 0, p[5] = (uint8_t)e->n;
	} else {
		p[0] = 6, p[1] = 0x08, p[2] = 4, p[3] = (uint8_t)(e->ref >> 8);
		p[4] = (uint8_t)e->ref, p[5] = 0, p[6] = (uint8_t)e->n;
	}
	e->pos += e->hdr;
}

/* Close the current part (if any) and open the next. */
static int open_part(struct emit *e)
{
	struct smsr__smpp_part *pt = e->enc->part;

	if (e->n >= e->max)
		return -SMSR_ETOOLONG;
	e->n++;
	e->fill = 0;
	if (!e->pdus)
		return 0;
	if (e->n > 1)
		pt[e->n - 2].len = (uint16_t)(e->pos - pt[e->n - 2].off);
	pt[e->n - 1].off = (uint16_t)e->pos;
	if (!e->hdr)
		return 0;
	if (e->cap - e->pos < e->hdr)
		return -ENOSPC;
	put_udh(e);
	return 0;
}

/* Room for a character of @units units and @bytes bytes; opens a part if needed. */
static inline int make_room(struct emit *e, size_t units, size_t bytes)
{
	int rc;

	if (e->fill + units > e->per) {
		rc = open_part(e);
		if (rc < 0)
			return rc;
	}
	if (e->cap - e->pos < bytes)
		return -ENOSPC;
	e->fill += units;
	return 0;
}

static int emit_gsm(struct emit *e, const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp = s[i];
		unsigned g;
		int rc;

		i += cp < 0x80 ? 1 : utf8_next(s + i, &cp);
		g = gsm_code(cp);
		if (g == NONE) /* cannot happen after a GSM-7 scan */
			return -SMSR_EBADUTF8;
		rc = make_room(e, 1 + (g >> 7), 1 + (g >> 7));
		if (rc < 0)
			return rc;
		if (g & EXT)
			e->out[e->pos++] = ESC;
		e->out[e->pos++] = (uint8_t)(g & 0x7f);
	}
	return 0;
}

static int emit_ucs2(struct emit *e, const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp = s[i];
		uint8_t *p;
		int rc;

		i += cp < 0x80 ? 1 : utf8_next(s + i, &cp);
		if (cp < 0x10000) {
			rc = make_room(e, 1, 2);
			if (rc < 0)
				return rc;
			p = e->out + e->pos;
			p[0] = (uint8_t)(cp >> 8), p[1] = (uint8_t)cp;
			e->pos += 2;
			continue;
		}
		rc = make_room(e, 2, 4);
		if (rc < 0)
			return rc;
		cp -= 0x10000;
		p = e->out + e->pos;
		p[0] = (uint8_t)(0xd8 | cp >> 18), p[1] = (uint8_t)(cp >> 10);
		p[2] = (uint8_t)(0xdc | (cp >> 8 & 3)), p[3] = (uint8_t)cp;
		e->pos += 4;
	}
	return 0;
}

static int emit_latin1(struct emit *e, const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp = s[i];
		int rc;

		i += cp < 0x80 ? 1 : utf8_next(s + i, &cp);
		rc = make_room(e, 1, 1);
		if (rc < 0)
			return rc;
		e->out[e->pos++] = (uint8_t)cp;
	}
	return 0;
}

/*
 * The common case, one GSM-7 part: @units septets known from the scan, so
 * one space check and a loop on locals (stores through @o, a byte pointer,
 * would otherwise make the compiler reload a struct's fields each time).
 */
static void gsm_single(const unsigned char *s, size_t len, uint8_t *o)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp = s[i];
		unsigned g;

		if (cp < 0x80) {
			g = ascii_gsm[cp];
			i++;
		} else {
			i += utf8_next(s + i, &cp);
			g = gsm_code(cp);
		}
		if (g & EXT)
			*o++ = ESC;
		*o++ = (uint8_t)(g & 0x7f);
	}
}

/* One UCS-2 part of @units UTF-16 units (see gsm_single()). */
static void ucs2_single(const unsigned char *s, size_t len, uint8_t *o)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp = s[i];

		i += cp < 0x80 ? 1 : utf8_next(s + i, &cp);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			o[0] = (uint8_t)(0xd8 | cp >> 18), o[1] = (uint8_t)(cp >> 10);
			o[2] = (uint8_t)(0xdc | (cp >> 8 & 3)), o[3] = (uint8_t)cp;
			o += 4;
			continue;
		}
		o[0] = (uint8_t)(cp >> 8), o[1] = (uint8_t)cp;
		o += 2;
	}
}

/*
 * Code points of validated @s, and whether all are <= U+00FF (only lead
 * bytes C2 and C3 among the non-ASCII ones).
 */
static size_t count_chars(const unsigned char *s, size_t len, bool *latin1)
{
	size_t n = 0;
	bool l1 = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char b = s[i];

		if ((b & 0xc0) == 0x80)
			continue;
		n++;
		l1 &= b < 0x80 || b == 0xc2 || b == 0xc3;
	}
	*latin1 = l1;
	return n;
}

/* Units per part after a UDH of @hdr octets (SAR and payload count as UDH8). */
static size_t per_part(unsigned cs, size_t hdr)
{
	if (cs == SMSR__SMPP_CS_GSM7) /* 160 septets less the UDH's, rounded up */
		return UD_MAX * 8 / 7 - (hdr * 8 + 6) / 7;
	if (cs == SMSR__SMPP_CS_UCS2)
		return (UD_MAX - hdr) / 2;
	return UD_MAX - hdr;
}

static size_t single_max(unsigned cs)
{
	return per_part(cs, 0);
}

/* Charset and unit count of the text under @o. */
static void choose(const struct smsr__smpp_enc_opts *o, const unsigned char *s, size_t len,
		   const struct smsr__text_info *ti, struct smsr__smpp_enc *enc)
{
	bool gsm = ti->coding == SMSR_CODING_GSM7, latin1;
	size_t chars;

	if (o->pref == SMSR__SMPP_PREF_AUTO) {
		enc->charset = gsm ? SMSR__SMPP_CS_GSM7 : SMSR__SMPP_CS_UCS2;
		enc->units = ti->units;
		return;
	}
	chars = count_chars(s, len, &latin1);
	if (o->pref == SMSR__SMPP_PREF_LATIN1 && latin1) {
		enc->charset = SMSR__SMPP_CS_LATIN1;
		enc->units = (uint32_t)chars;
		return;
	}
	enc->charset = SMSR__SMPP_CS_UCS2;
	/* A GSM-7 text is all BMP: one unit a character. */
	enc->units = gsm ? (uint32_t)chars : ti->units;
}

static void set_dcs(const struct smsr__smpp_enc_opts *o, struct smsr__smpp_enc *enc)
{
	if (enc->charset == SMSR__SMPP_CS_GSM7)
		enc->dcs = o->dcs_gsm;
	else if (enc->charset == SMSR__SMPP_CS_LATIN1)
		enc->dcs = SMSR__SMPP_DCS_LATIN1;
	else
		enc->dcs = SMSR__SMPP_DCS_UCS2;
}

static void setup_emit(const struct smsr__smpp_enc_opts *o, struct emit *e)
{
	struct smsr__smpp_enc *enc = e->enc;
	unsigned cs = enc->charset;
	bool multi = enc->units > single_max(cs);

	e->max = o->max_parts ? o->max_parts : SMSR__SMPP_MAX_PARTS;
	e->pdus = o->concat != SMSR__SMPP_CONCAT_PAYLOAD;
	e->hdr = 0;
	if (multi && o->concat == SMSR__SMPP_CONCAT_UDH)
		e->hdr = o->ref16 ? UDH16 : UDH8;
	e->per = !multi ? SIZE_MAX : per_part(cs, e->hdr ? e->hdr : UDH8);
	enc->udh = e->hdr != 0;
}

/*
 * Pack the @n septets at @p in place, from bit @shift of @p[0] (the fill
 * bits that align them after a UDH stay zero). Writing never overtakes
 * reading: after septet i at most floor((shift + 7i + 7) / 8) <= i + 1
 * octets are out. Seven spare bits at the end hold a CR (23.038), so the
 * receiver does not read an '@' there. Returns the octets used.
 */
static size_t pack7(uint8_t *p, size_t n, unsigned shift)
{
	uint32_t acc = 0;
	unsigned bits = shift;
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		acc |= (uint32_t)(p[i] & 0x7f) << bits;
		bits += 7;
		while (bits >= 8) {
			p[w++] = (uint8_t)acc;
			acc >>= 8;
			bits -= 8;
		}
	}
	if (bits == 1)
		acc |= 0x0d << 1;
	if (bits)
		p[w++] = (uint8_t)acc;
	return w;
}

static void pack_parts(struct emit *e)
{
	struct smsr__smpp_enc *enc = e->enc;
	unsigned shift = e->hdr ? (unsigned)((e->hdr * 8 + 6) / 7 * 7 - e->hdr * 8) : 0;

	for (unsigned i = 0; i < enc->nparts; i++) {
		struct smsr__smpp_part *pt = &enc->part[i];
		size_t n = pt->len - e->hdr;

		pt->len = (uint16_t)(e->hdr + pack7(e->out + pt->off + e->hdr, n, shift));
	}
}

/* Close the last part, patch totals, pack. */
static int finish(const struct smsr__smpp_enc_opts *o, struct emit *e)
{
	struct smsr__smpp_enc *enc = e->enc;

	enc->segments = (uint8_t)e->n;
	if (!e->pdus) {
		if (e->pos > SMSR__SMPP_PAYLOAD_MAX)
			return -SMSR_ETOOLONG;
		enc->nparts = 1;
		enc->part[0].off = 0;
		enc->part[0].len = (uint16_t)e->pos;
	} else {
		enc->nparts = (uint8_t)e->n;
		enc->part[e->n - 1].len = (uint16_t)(e->pos - enc->part[e->n - 1].off);
	}
	for (unsigned i = 0; e->hdr && i < enc->nparts; i++)
		e->out[enc->part[i].off + e->hdr - 2] = (uint8_t)e->n;
	if (enc->charset == SMSR__SMPP_CS_GSM7 && o->packed)
		pack_parts(e);
	return enc->nparts;
}

int smsr__smpp_text_encode(const struct smsr__smpp_enc_opts *o, const char *utf8, size_t len,
			   uint16_t ref, uint8_t *out, size_t cap, struct smsr__smpp_enc *enc)
{
	const unsigned char *s = (const unsigned char *)utf8;
	struct emit e = {.out = out, .cap = cap, .enc = enc};
	struct smsr__text_info ti;
	int rc;

	if (!o || !enc || (!out && cap) || o->pref > SMSR__SMPP_PREF_UCS2 ||
	    o->concat > SMSR__SMPP_CONCAT_PAYLOAD)
		return -SMSR_EINVAL;
	rc = smsr__text_scan(utf8, len, &ti);
	if (rc < 0)
		return rc;
	enc->ref = o->ref16 ? ref : (uint8_t)ref;
	e.ref = enc->ref;
	choose(o, s, len, &ti, enc);
	set_dcs(o, enc);
	setup_emit(o, &e);
	rc = open_part(&e);
	if (rc < 0)
		return rc;
	if (e.per == SIZE_MAX && enc->charset != SMSR__SMPP_CS_LATIN1) {
		bool gsm = enc->charset == SMSR__SMPP_CS_GSM7;

		e.pos = gsm ? enc->units : 2 * (size_t)enc->units;
		if (e.pos > cap)
			return -ENOSPC;
		if (gsm)
			gsm_single(s, len, out);
		else
			ucs2_single(s, len, out);
	} else if (enc->charset == SMSR__SMPP_CS_GSM7)
		rc = emit_gsm(&e, s, len);
	else if (enc->charset == SMSR__SMPP_CS_UCS2)
		rc = emit_ucs2(&e, s, len);
	else
		rc = emit_latin1(&e, s, len);
	if (rc < 0)
		return rc;
	return finish(o, &e);
}

/* --- decoding ------------------------------------------------------------ */

enum alphabet {
	A_GSM,
	A_IA5,
	A_LATIN1,
	A_UCS2,
	A_BINARY,
	A_UNSUPPORTED
};

/* SMPP's own values below 0x10, then the 23.038 coding groups. */
static enum alphabet dcs_alphabet(uint8_t dcs)
{
	static const uint8_t low[16] = {
	    A_GSM,	   A_IA5,	  A_BINARY,	 A_LATIN1,
	    A_BINARY,	   A_UNSUPPORTED, A_UNSUPPORTED, A_UNSUPPORTED,
	    A_UCS2,	   A_UNSUPPORTED, A_UNSUPPORTED, A_UNSUPPORTED,
	    A_UNSUPPORTED, A_UNSUPPORTED, A_UNSUPPORTED, A_UNSUPPORTED,
	};
	static const uint8_t general[4] = {A_GSM, A_BINARY, A_UCS2, A_UNSUPPORTED};

	if (dcs < 0x10)
		return (enum alphabet)low[dcs];
	if (dcs < 0x80) /* general and auto-deletion groups; bit 5: compressed */
		return dcs & 0x20 ? A_UNSUPPORTED : (enum alphabet)general[dcs >> 2 & 3];
	if (dcs < 0xc0)
		return A_UNSUPPORTED;
	if (dcs < 0xe0) /* message waiting, GSM */
		return A_GSM;
	if (dcs < 0xf0) /* message waiting, UCS-2 */
		return A_UCS2;
	return dcs & 0x04 ? A_BINARY : A_GSM;
}

struct sink {
	char *out;
	size_t cap, pos;
};

/* Append @cp as UTF-8; U+0000 becomes U+FFFD. */
static int put_cp(struct sink *k, uint32_t cp)
{
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	unsigned char *p;

	if (cp == 0)
		cp = FFFD, n = 3;
	if (k->cap - k->pos < n)
		return -ENOSPC;
	p = (unsigned char *)k->out + k->pos;
	k->pos += n;
	if (n == 1) {
		p[0] = (unsigned char)cp;
		return 0;
	}
	p[n - 1] = (unsigned char)(0x80 | (cp & 0x3f));
	if (n == 2) {
		p[0] = (unsigned char)(0xc0 | cp >> 6);
		return 0;
	}
	p[n - 2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	if (n == 3) {
		p[0] = (unsigned char)(0xe0 | cp >> 12);
		return 0;
	}
	p[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	p[0] = (unsigned char)(0xf0 | cp >> 18);
	return 0;
}

/* The extension character for ESC + @c, or its basic character (23.038). */
static uint32_t gsm_ext_ucs(uint8_t c)
{
	switch (c) {
	case 0x0a:
		return 0x0c;
	case 0x14:
		return '^';
	case 0x28:
		return '{';
	case 0x29:
		return '}';
	case 0x2f:
		return '\\';
	case 0x3c:
		return '[';
	case 0x3d:
		return '~';
	case 0x3e:
		return ']';
	case 0x40:
		return '|';
	case 0x65:
		return EURO;
	default:
		return c < 0x80 ? gsm_ucs[c] : FFFD;
	}
}

static int dec_gsm(const uint8_t *in, size_t len, struct sink *k)
{
	for (size_t i = 0; i < len; i++) {
		uint32_t cp;
		int rc;

		if (in[i] >= 0x80)
			cp = FFFD;
		else if (in[i] != ESC)
			cp = gsm_ucs[in[i]];
		else if (i + 1 < len)
			cp = gsm_ext_ucs(in[++i]);
		else
			cp = ' ';
		rc = put_cp(k, cp);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* IA5 (@max 0x7f) or Latin-1 (@max 0xff): one code point per octet. */
static int dec_bytes(const uint8_t *in, size_t len, uint32_t max, struct sink *k)
{
	for (size_t i = 0; i < len; i++) {
		int rc = put_cp(k, in[i] <= max ? in[i] : FFFD);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int dec_ucs2(const uint8_t *in, size_t len, struct sink *k)
{
	size_t i = 0;

	while (i < len) {
		uint32_t u, lo;
		int rc;

		if (len - i < 2) {
			u = FFFD;
			i = len;
		} else {
			u = (uint32_t)in[i] << 8 | in[i + 1];
			i += 2;
		}
		if ((u & 0xf800) == 0xd800) {
			lo = len - i >= 2 ? (uint32_t)in[i] << 8 | in[i + 1] : 0;
			if (u < 0xdc00 && (lo & 0xfc00) == 0xdc00) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			} else {
				u = FFFD;
			}
		}
		rc = put_cp(k, u);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int dec_binary(const uint8_t *in, size_t len, struct sink *k)
{
	static const char hex[] = "0123456789ABCDEF";

	if (smsr__utf8_check((const char *)in, len) == 0) {
		if (k->cap < len)
			return -ENOSPC;
		if (len)
			memcpy(k->out, in, len);
		k->pos = len;
		return 0;
	}
	if (k->cap / 2 < len)
		return -ENOSPC;
	for (size_t i = 0; i < len; i++) {
		k->out[2 * i] = hex[in[i] >> 4];
		k->out[2 * i + 1] = hex[in[i] & 15];
	}
	k->pos = 2 * len;
	return 0;
}

int smsr__smpp_text_decode(uint8_t dcs, const uint8_t *in, size_t len, char *out, size_t cap)
{
	struct sink k = {out, cap, 0};
	int rc;

	if ((!in && len) || (!out && cap))
		return -SMSR_EINVAL;
	switch (dcs_alphabet(dcs)) {
	case A_GSM:
		rc = dec_gsm(in, len, &k);
		break;
	case A_IA5:
		rc = dec_bytes(in, len, 0x7f, &k);
		break;
	case A_LATIN1:
		rc = dec_bytes(in, len, 0xff, &k);
		break;
	case A_UCS2:
		rc = dec_ucs2(in, len, &k);
		break;
	case A_BINARY:
		rc = dec_binary(in, len, &k);
		break;
	default:
		return -ENOTSUP;
	}
	if (rc < 0)
		return rc;
	return k.pos > INT32_MAX ? -ENOSPC : (int)k.pos;
}

/* --- settings ------------------------------------------------------------ */

int smsr__smpp_coding_pref_parse(const char *name)
{
	static const char *const names[] = {"auto", "latin1", "ucs2"};

	for (int i = 0; name && i < 3; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -SMSR_ECONFIG;
}

int smsr__smpp_concat_parse(const char *name)
{
	static const char *const names[] = {"udh", "sar", "payload"};

	for (int i = 0; name && i < 3; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -SMSR_ECONFIG;
}
