/* SPDX-License-Identifier: MIT */
/*
 * Message text scan: strict UTF-8, GSM 03.38 or UCS-2, billable segments.
 *
 * Invariant: a text that scans OK is valid UTF-8 without NUL bytes, and
 * @units/@segments are what a carrier will bill for it: GSM-7 if every
 * character is in the GSM 03.38 default alphabet or its extension table
 * (extension characters cost an escape plus the character, two septets),
 * otherwise UCS-2 in UTF-16 code units (characters above U+FFFF cost two).
 *
 * Splitting into parts: an escape pair (GSM-7) or a surrogate pair (UCS-2)
 * is never split across two parts, as handsets and SMSCs do it (Android's
 * fragmentText, for one), so a part may hold 152 septets or 66 units and
 * the count can exceed ceil(units / 153) or ceil(units / 67). The exact
 * greedy packing runs in a second pass, only for multipart texts that
 * contain such pairs; everything else is decided in the first pass, which
 * handles pure ASCII eight bytes at a time.
 *
 * Strictness: U+00C7 (Ç) is the GSM character at 0x09, not ç; tab, other
 * C0 controls, DEL and '`' are not in the alphabet and force UCS-2. Form
 * feed is in the extension table and costs two septets.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "smsr/channel.h"
#include "smsr/errors.h"
#include "msg_text.h"

#define GSM_SINGLE  160
#define GSM_PART    153
#define UCS2_SINGLE 70
#define UCS2_PART   67

/* ASCII classes: low two bits are the septet cost, the rest are flags. */
#define B      0x01 /* basic alphabet: one septet */
#define E      0x06 /* extension table: two septets, F_EXT */
#define X      0x10 /* not in GSM 03.38 */
#define Z      0x40 /* NUL: invalid */
#define F_EXT  0x04
#define F_UCS2 0x10
#define F_NUL  0x40
#define F_WIDE 0x80 /* a character above U+FFFF (a surrogate pair in UCS-2) */

static const uint8_t ascii_class[128] = {
    Z, X, X, X, X, X, X, X, X, X, B, X, E, B, X, X, /* 0x00: LF, FF, CR */
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, /* 0x10 */
    B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* 0x20: ' ' .. '/' */
    B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* 0x30: '0' .. '?' */
    B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* 0x40: '@' .. 'O' */
    B, B, B, B, B, B, B, B, B, B, B, E, E, E, E, B, /* 0x50: [ \ ] ^ */
    X, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* 0x60: '`' */
    B, B, B, B, B, B, B, B, B, B, B, E, E, E, E, X, /* 0x70: { | } ~ DEL */
};

/*
 * Basic-alphabet members in U+0080..U+00FF, one bit per code point:
 * ¡ £ ¤ ¥ § ¿ (low word); Ä Å Æ Ç É Ñ Ö Ø Ü ß à ä å æ è é ì ñ ò ö ø ù ü.
 */
static const uint64_t latin1_lo = 0x800000ba00000000ull; /* U+0080..U+00BF */
static const uint64_t latin1_hi = 0x13461371914202f0ull; /* U+00C0..U+00FF */
/* Γ Δ Θ Λ Ξ Π Σ Φ Ψ Ω, bit (cp - U+0390). */
static const uint32_t greek = 0x03494918u;

#define EURO 0x20ac /* the only non-ASCII extension character */

/* Septets for @cp in GSM-7, or 0 if it is not in the alphabet. */
static unsigned gsm_cost(uint32_t cp)
{
	if (cp < 0x80)
		return ascii_class[cp] & 3;
	if (cp < 0xc0)
		return (unsigned)(latin1_lo >> (cp - 0x80)) & 1;
	if (cp < 0x100)
		return (unsigned)(latin1_hi >> (cp - 0xc0)) & 1;
	if (cp >= 0x390 && cp < 0x3b0)
		return (greek >> (cp - 0x390)) & 1;
	return cp == EURO ? 2 : 0;
}

static bool is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/*
 * Decode the multi-byte sequence at @s (lead byte >= 0x80, @avail bytes
 * left). Returns its length and sets *@cp, or 0 if it is not strict UTF-8.
 * Range checks on the decoded value (rather than per-lead-byte bounds on
 * the second byte) reject overlongs, surrogates and > U+10FFFF with few
 * branches; leads C0, C1 and F5-FF can only produce such values or are
 * cut off by the lead test.
 */
static size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
	unsigned char b = s[0];
	uint32_t c;

	if (b < 0xc2 || b > 0xf4 || avail < 2 || !is_cont(s[1]))
		return 0;
	if (b < 0xe0) {
		*cp = (uint32_t)(b & 0x1f) << 6 | (s[1] & 0x3f);
		return 2;
	}
	if (avail < 3 || !is_cont(s[2]))
		return 0;
	c = (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	if (b < 0xf0) {
		c |= (uint32_t)(b & 0x0f) << 12;
		if (c < 0x800 || (c & 0xf800) == 0xd800)
			return 0;
		*cp = c;
		return 3;
	}
	if (avail < 4 || !is_cont(s[3]))
		return 0;
	c = (uint32_t)(b & 0x07) << 18 | c << 6 | (s[3] & 0x3f);
	if (c < 0x10000 || c > 0x10ffff)
		return 0;
	*cp = c;
	return 4;
}

#define HIGH_BITS 0x8080808080808080ull
#define LOW_BITS  0x0101010101010101ull

static uint64_t load8(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

struct scan {
	size_t septets; /* GSM-7 cost, meaningful while !(flags & F_UCS2) */
	size_t units;	/* UTF-16 code units */
	unsigned flags;
};

/*
 * Nonzero unless all eight bytes of @w (all < 0x80) are in 0x20-0x5a or
 * 0x61-0x7a: printable, one septet, not an extension character. Adding
 * (0x80 - n) to each byte sets its high bit iff the byte is >= n, without
 * carries between bytes since every byte is < 0x80.
 */
static uint64_t ascii8_not_plain(uint64_t w)
{
	uint64_t ge20 = w + 0x60 * LOW_BITS, ge5b = w + 0x25 * LOW_BITS;
	uint64_t ge61 = w + 0x1f * LOW_BITS, ge7b = w + 0x05 * LOW_BITS;

	return (~ge20 | ge7b | (ge5b & ~ge61)) & HIGH_BITS;
}

/* Eight ASCII bytes: one UTF-16 unit each, septets by table unless plain. */
static void scan_ascii8(struct scan *sc, const unsigned char *p, uint64_t w)
{
	unsigned sept = 0, fl = 0;

	sc->units += 8;
	if (!ascii8_not_plain(w)) {
		sc->septets += 8;
		return;
	}
	for (int k = 0; k < 8; k++) {
		unsigned c = ascii_class[p[k]];

		sept += c & 3;
		fl |= c;
	}
	sc->septets += sept;
	sc->flags |= fl;
}

/* One character of a text that is GSM-7 so far. */
static void scan_char(struct scan *sc, uint32_t cp)
{
	unsigned cost;

	if (cp > 0xffff) {
		sc->units += 2;
		sc->flags |= F_WIDE | F_UCS2;
		return;
	}
	sc->units++;
	if (cp < 0x80) {
		cost = ascii_class[cp];
		sc->septets += cost & 3;
		sc->flags |= cost;
		return;
	}
	cost = gsm_cost(cp);
	sc->septets += cost;
	sc->flags |= cost == 0 ? F_UCS2 : cost == 2 ? F_EXT : 0;
}

/*
 * Once a text is UCS-2, only validity and UTF-16 units matter: this loop
 * finishes the scan from byte @i without looking at GSM membership.
 */
static int scan_ucs2_rest(const unsigned char *s, size_t len, size_t i, struct scan *sc)
{
	size_t units = 0;
	uint32_t cp;

	while (i < len) {
		size_t n;

		if (s[i] < 0x80) {
			if (s[i] == 0)
				return -SMSR_EBADUTF8;
			units++;
			i++;
			continue;
		}
		if ((s[i] & 0xf0) == 0xe0 && len - i >= 3 && is_cont(s[i + 1]) &&
		    is_cont(s[i + 2])) {
			/* CJK: the common case, checked without a call. */
			uint32_t c = (uint32_t)(s[i] & 0x0f) << 12 |
				     (uint32_t)(s[i + 1] & 0x3f) << 6 | (s[i + 2] & 0x3f);

			if (c < 0x800 || (c & 0xf800) == 0xd800)
				return -SMSR_EBADUTF8;
			units++;
			i += 3;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (!n)
			return -SMSR_EBADUTF8;
		units += 1 + (n == 4);
		sc->flags |= n == 4 ? F_WIDE : 0;
		i += n;
	}
	sc->units += units;
	return 0;
}

/* The first pass: validity, coding and totals. 0 or -SMSR_EBADUTF8. */
static int scan_text(const unsigned char *s, size_t len, struct scan *sc)
{
	size_t i = 0;

	while (i < len && !(sc->flags & F_UCS2)) {
		uint32_t cp;
		size_t n;

		if (len - i >= 8) {
			uint64_t w = load8(s + i);

			if (!(w & HIGH_BITS)) {
				scan_ascii8(sc, s + i, w);
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			if (s[i] == 0)
				return -SMSR_EBADUTF8;
			cp = s[i];
			n = 1;
		} else {
			n = utf8_decode(s + i, len - i, &cp);
			if (!n)
				return -SMSR_EBADUTF8;
		}
		scan_char(sc, cp);
		i += n;
	}
	if (i < len && scan_ucs2_rest(s, len, i, sc) < 0)
		return -SMSR_EBADUTF8;
	return sc->flags & F_NUL ? -SMSR_EBADUTF8 : 0;
}

/*
 * Parts when pairs must stay whole: greedy packing of @s (already
 * validated) into parts of @per septets (GSM-7) or units (UCS-2).
 */
static size_t pack_parts(const unsigned char *s, size_t len, bool gsm)
{
	size_t per = gsm ? GSM_PART : UCS2_PART, parts = 1, fill = 0, i = 0;

	while (i < len) {
		uint32_t cp = s[i];
		size_t cost;

		i += cp < 0x80 ? 1 : utf8_decode(s + i, len - i, &cp);
		cost = gsm ? gsm_cost(cp) : cp > 0xffff ? 2 : 1;
		if (fill + cost > per) {
			parts++;
			fill = cost;
		} else {
			fill += cost;
		}
	}
	return parts;
}

static size_t segments(const unsigned char *s, size_t len, const struct scan *sc, bool gsm)
{
	size_t n = gsm ? sc->septets : sc->units;
	size_t single = gsm ? GSM_SINGLE : UCS2_SINGLE, per = gsm ? GSM_PART : UCS2_PART;
	bool pairs = sc->flags & (gsm ? F_EXT : F_WIDE);

	if (n <= single)
		return 1;
	if (!pairs)
		return (n + per - 1) / per;
	return pack_parts(s, len, gsm);
}

static uint32_t clamp32(size_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int smsr__text_scan(const char *text, size_t len, struct smsr__text_info *out)
{
	const unsigned char *s = (const unsigned char *)text;
	struct scan sc = {0, 0, 0};
	bool gsm;
	int rc;

	if (len == 0)
		return -SMSR_EEMPTY;
	if (!text || !out)
		return -SMSR_EINVAL;
	rc = scan_text(s, len, &sc);
	if (rc < 0)
		return rc;
	gsm = !(sc.flags & F_UCS2);
	out->units = clamp32(gsm ? sc.septets : sc.units);
	out->segments = clamp32(segments(s, len, &sc, gsm));
	out->coding = gsm ? SMSR_CODING_GSM7 : SMSR_CODING_UCS2;
	return 0;
}

/* True if the eight bytes of @w are all ASCII and none is NUL. */
static bool ascii8_no_nul(uint64_t w)
{
	return !(w & HIGH_BITS) && !((w - LOW_BITS) & ~w & HIGH_BITS);
}

int smsr__utf8_check(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (len && !s)
		return -SMSR_EBADUTF8;
	while (i < len) {
		uint32_t cp;
		size_t n;

		if (len - i >= 8 && ascii8_no_nul(load8(p + i))) {
			i += 8;
			continue;
		}
		if (p[i] == 0)
			return -SMSR_EBADUTF8;
		n = p[i] < 0x80 ? 1 : utf8_decode(p + i, len - i, &cp);
		if (!n)
			return -SMSR_EBADUTF8;
		i += n;
	}
	return 0;
}
