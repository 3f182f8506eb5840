/* SPDX-License-Identifier: MIT */
/*
 * SMPP delivery receipts (see smpp_dlr.h for the contracts).
 *
 * Invariant: the parser reads only @sm[0..@len) and keeps nothing: the id
 * and text it returns point into the caller's bytes. It is a tolerant
 * tokenizer, not a format: it looks for "key:value" pairs between spaces,
 * so fields in another order, missing or unknown ones, and stray spaces
 * cost nothing, and a value it cannot read is left out rather than failing
 * the whole receipt (the receipt still names its message).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "smsr/channel.h"
#include "smsr/errors.h"
#include "chan/smpp_dlr.h"

enum key {
	K_NONE,
	K_ID,
	K_SUB,
	K_DLVRD,
	K_SUBMIT,
	K_DONE,
	K_STAT,
	K_ERR,
	K_TEXT
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
}

/* @s (@n bytes) equals lower-case @word, ignoring case. */
static bool word_is(const char *s, size_t n, const char *word)
{
	size_t i = 0;

	for (; i < n && word[i]; i++)
		if (lower(s[i]) != word[i])
			return false;
	return i == n && !word[i];
}

static size_t span(const char *s, size_t len, bool (*pred)(char))
{
	size_t i = 0;

	while (i < len && pred(s[i]))
		i++;
	return i;
}

static bool is_date_sep(char c)
{
	return c == ' ' || c == '_';
}

static enum key key_of(const char *w, size_t n)
{
	static const char *const names[] = {"",		"id",	"sub", "dlvrd", "submitdate",
					    "donedate", "stat", "err", "text"};

	for (int k = K_ID; k <= K_TEXT; k++)
		if (word_is(w, n, names[k]))
			return (enum key)k;
	if (word_is(w, n, "submit"))
		return K_SUBMIT;
	if (word_is(w, n, "done"))
		return K_DONE;
	return K_NONE;
}

/*
 * A key at @s (@len bytes): its kind and, in *@used, the bytes up to and
 * including its ':'. K_NONE if @s does not start with a known key.
 */
static enum key match_key(const char *s, size_t len, size_t *used)
{
	size_t i = span(s, len, is_alpha), n;
	enum key k = key_of(s, i);

	if (k == K_NONE)
		return K_NONE;
	if ((k == K_SUBMIT || k == K_DONE) && (i == 6 || i == 4)) {
		i += span(s + i, len - i, is_date_sep);
		n = span(s + i, len - i, is_alpha);
		if (!word_is(s + i, n, "date"))
			return K_NONE;
		i += n;
	}
	i += span(s + i, len - i, is_space);
	if (i >= len || s[i] != ':')
		return K_NONE;
	*used = i + 1;
	return k;
}

/* @s (@n bytes) as a decimal number below 65536; false if it is not one. */
static bool parse_u16(const char *s, size_t n, uint16_t *v)
{
	uint32_t x = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		x = x * 10 + (uint32_t)(s[i] - '0');
	}
	if (x > UINT16_MAX)
		return false;
	*v = (uint16_t)x;
	return true;
}

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* err: decimal if all digits, else hex (0x prefix or a letter a-f). */
static bool parse_err(const char *s, size_t n, int *v)
{
	bool hex = n > 2 && s[0] == '0' && lower(s[1]) == 'x';
	uint32_t x = 0;

	if (hex)
		s += 2, n -= 2;
	for (size_t i = 0; i < n && !hex; i++)
		hex = !is_digit(s[i]);
	if (n == 0 || n > (hex ? 7u : 9u))
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = hexval(s[i]);

		if (d < 0 || (!hex && d > 9))
			return false;
		x = x * (hex ? 16 : 10) + (uint32_t)d;
	}
	*v = (int)x;
	return true;
}

static bool parse_date(const char *s, size_t n, struct smsr__smpp_date *d)
{
	uint8_t f[7] = {0};

	if (n != 10 && n != 12 && n != 14)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	if (n == 14) /* YYYYMMDDhhmmss: keep the year's last two digits */
		s += 2, n -= 2;
	for (size_t i = 0; i < n / 2; i++)
		f[i] = (uint8_t)((s[2 * i] - '0') * 10 + (s[2 * i + 1] - '0'));
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59)
		return false;
	*d = (struct smsr__smpp_date){f[0], f[1], f[2], f[3], f[4], f[5]};
	return true;
}

static void store(struct smsr__smpp_receipt *r, enum key k, const char *v, size_t n)
{
	switch (k) {
	case K_ID:
		r->id = n ? v : NULL;
		r->id_len = n;
		break;
	case K_SUB:
		r->has_sub = parse_u16(v, n, &r->sub);
		break;
	case K_DLVRD:
		r->has_dlvrd = parse_u16(v, n, &r->dlvrd);
		break;
	case K_SUBMIT:
		r->has_submit = parse_date(v, n, &r->submit);
		break;
	case K_DONE:
		r->has_done = parse_date(v, n, &r->done);
		break;
	case K_STAT:
		r->stat = smsr__smpp_stat_from_text(v, n);
		break;
	case K_ERR:
		r->has_err = parse_err(v, n, &r->err);
		break;
	default:
		break;
	}
}

static bool not_space(char c)
{
	return !is_space(c);
}

int smsr__smpp_receipt_parse(const char *sm, size_t len, struct smsr__smpp_receipt *r)
{
	bool seen_id = false, seen_stat = false;
	size_t i = 0;

	if (!r || (!sm && len))
		return -SMSR_EINVAL;
	memset(r, 0, sizeof(*r));
	while (i < len) {
		size_t used, n;
		enum key k;

		i += span(sm + i, len - i, is_space);
		k = i < len ? match_key(sm + i, len - i, &used) : K_NONE;
		if (k == K_NONE) { /* not a key: skip the word */
			i += span(sm + i, len - i, not_space);
			continue;
		}
		i += used;
		if (k == K_TEXT) {
			r->text = sm + i;
			r->text_len = len - i;
			break;
		}
		n = span(sm + i, len - i, is_space);
		if (i + n < len && match_key(sm + i + n, len - i - n, &used) == K_NONE)
			i += n; /* "id: 123": the value after the space */
		n = span(sm + i, len - i, not_space);
		store(r, k, sm + i, n);
		seen_id |= k == K_ID;
		seen_stat |= k == K_STAT;
		i += n;
	}
	if (!seen_id && !seen_stat)
		return -SMSR_EBADPDU;
	return r->id_len > SMSR_CARRIER_ID_MAX ? -SMSR_EBADPDU : 0;
}

/* --- states -------------------------------------------------------------- */

uint8_t smsr__smpp_stat_from_text(const char *s, size_t len)
{
	static const struct {
		const char *name;
		uint8_t stat;
	} names[] = {
	    {"delivrd", SMSR__SMPP_STAT_DELIVERED},
	    {"delivered", SMSR__SMPP_STAT_DELIVERED},
	    {"undeliv", SMSR__SMPP_STAT_UNDELIVERABLE},
	    {"undeliverable", SMSR__SMPP_STAT_UNDELIVERABLE},
	    {"undelivered", SMSR__SMPP_STAT_UNDELIVERABLE},
	    {"failed", SMSR__SMPP_STAT_UNDELIVERABLE},
	    {"rejectd", SMSR__SMPP_STAT_REJECTED},
	    {"rejected", SMSR__SMPP_STAT_REJECTED},
	    {"expired", SMSR__SMPP_STAT_EXPIRED},
	    {"deleted", SMSR__SMPP_STAT_DELETED},
	    {"unknown", SMSR__SMPP_STAT_UNKNOWN},
	    {"acceptd", SMSR__SMPP_STAT_ACCEPTED},
	    {"accepted", SMSR__SMPP_STAT_ACCEPTED},
	    {"enroute", SMSR__SMPP_STAT_ENROUTE},
	    {"skipped", SMSR__SMPP_STAT_SKIPPED},
	    {"scheduled", SMSR__SMPP_STAT_SCHEDULED},
	    {"buffred", SMSR__SMPP_STAT_BUFFERED},
	    {"bufferd", SMSR__SMPP_STAT_BUFFERED},
	    {"buffered", SMSR__SMPP_STAT_BUFFERED},
	    {"acked", SMSR__SMPP_STAT_BUFFERED},
	};

	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (word_is(s, len, names[i].name))
			return names[i].stat;
	return SMSR__SMPP_STAT_NONE;
}

uint8_t smsr__smpp_stat_from_state(uint8_t v)
{
	if (v == 0)
		return SMSR__SMPP_STAT_SCHEDULED;
	return v <= SMSR__SMPP_STAT_SKIPPED ? v : SMSR__SMPP_STAT_NONE;
}

int smsr__smpp_stat_outcome(uint8_t stat, unsigned flags)
{
	switch (stat) {
	case SMSR__SMPP_STAT_DELIVERED:
		return 0;
	case SMSR__SMPP_STAT_UNDELIVERABLE:
	case SMSR__SMPP_STAT_SKIPPED:
		return -SMSR_EUNDELIVERED;
	case SMSR__SMPP_STAT_REJECTED:
		return -SMSR_EREJECTED;
	case SMSR__SMPP_STAT_EXPIRED:
		return -SMSR_ECARRIEREXPIRED;
	case SMSR__SMPP_STAT_DELETED:
		return -SMSR_ECARRIERDELETED;
	case SMSR__SMPP_STAT_ACCEPTED:
		return flags & SMSR__SMPP_ACCEPTED_DELIVERED ? 0 : SMSR__SMPP_NOT_FINAL;
	case SMSR__SMPP_STAT_ENROUTE:
	case SMSR__SMPP_STAT_SCHEDULED:
	case SMSR__SMPP_STAT_BUFFERED:
		return SMSR__SMPP_NOT_FINAL;
	default: /* UNKNOWN, NONE */
		return -SMSR_EDLRUNKNOWN;
	}
}

int smsr__smpp_net_error(const uint8_t *v, size_t len, uint8_t *type)
{
	if (!v || len != 3)
		return -SMSR_EBADPDU;
	if (type)
		*type = v[0];
	return v[1] << 8 | v[2];
}

/* --- message ids --------------------------------------------------------- */

#define KEY_MAX SMSR_CARRIER_ID_MAX

/* Decimal digits of @s without leading zeros into @d; false if not decimal. */
static bool dec_key(const char *s, size_t n, char *d, size_t *dn)
{
	size_t i = 0;

	for (size_t j = 0; j < n; j++)
		if (!is_digit(s[j]))
			return false;
	while (i + 1 < n && s[i] == '0')
		i++;
	memcpy(d, s + i, n - i);
	*dn = n - i;
	return true;
}

/*
 * Hex @s (optional 0x) as a decimal key in @d: the decimal digits, least
 * significant first while converting, times 16 plus each hex digit.
 * False if not hex or the key would pass KEY_MAX.
 */
static bool hex_key(const char *s, size_t n, char *d, size_t *dn)
{
	uint8_t dig[KEY_MAX + 2];
	size_t nd = 1;

	if (n > 2 && s[0] == '0' && lower(s[1]) == 'x')
		s += 2, n -= 2;
	dig[0] = 0;
	for (size_t j = 0; j < n; j++) {
		int carry = hexval(s[j]);

		if (carry < 0)
			return false;
		for (size_t k = 0; k < nd; k++) {
			int v = dig[k] * 16 + carry;

			dig[k] = (uint8_t)(v % 10);
			carry = v / 10;
		}
		for (; carry; carry /= 10) {
			if (nd > KEY_MAX)
				return false;
			dig[nd++] = (uint8_t)(carry % 10);
		}
	}
	for (size_t k = 0; k < nd; k++)
		d[k] = (char)('0' + dig[nd - 1 - k]);
	*dn = nd;
	return true;
}

static bool key_of_fmt(int fmt, int side, const char *in, size_t len, char *d, size_t *dn)
{
	size_t i = 0;

	switch (fmt) {
	case SMSR__SMPP_ID_HEX_TO_DEC:
		return side == SMSR__SMPP_ID_RESP ? hex_key(in, len, d, dn)
						  : dec_key(in, len, d, dn);
	case SMSR__SMPP_ID_DEC_TO_HEX:
		return side == SMSR__SMPP_ID_RESP ? dec_key(in, len, d, dn)
						  : hex_key(in, len, d, dn);
	case SMSR__SMPP_ID_CASE_INSENSITIVE:
		for (size_t j = 0; j < len; j++)
			d[j] = lower(in[j]);
		*dn = len;
		return true;
	case SMSR__SMPP_ID_STRIP_ZEROS:
		while (i + 1 < len && in[i] == '0')
			i++;
		break;
	default:
		break;
	}
	memcpy(d, in + i, len - i);
	*dn = len - i;
	return true;
}

int smsr__smpp_id_norm(int fmt, int side, const char *in, size_t len, char *out, size_t cap)
{
	char key[KEY_MAX + 2];
	size_t n;

	if (fmt < SMSR__SMPP_ID_AS_IS || fmt > SMSR__SMPP_ID_STRIP_ZEROS ||
	    (side != SMSR__SMPP_ID_RESP && side != SMSR__SMPP_ID_RECEIPT) || (!in && len))
		return -SMSR_EINVAL;
	if (len == 0 || len > KEY_MAX || memchr(in, 0, len))
		return -SMSR_EBADPDU;
	if (!key_of_fmt(fmt, side, in, len, key, &n) || n > KEY_MAX)
		return -SMSR_EBADPDU;
	if (cap < n + 1)
		return -ENOSPC;
	memcpy(out, key, n);
	out[n] = '\0';
	return (int)n;
}

int smsr__smpp_id_format_parse(const char *name)
{
	static const char *const names[] = {"as_is", "hex_to_dec", "dec_to_hex", "case_insensitive",
					    "strip_zeros"};

	for (int i = 0; name && i < 5; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -SMSR_ECONFIG;
}
