/* SPDX-License-Identifier: MIT */
/*
 * Description: SMPP text encoding and decoding (core/chan/smpp_text.c).
 * GSM 03.38 unpacked (and packed) with the extension table, each extension
 * character two septets and never split across parts; boundaries 160/161,
 * 153*2 and +1, 70/71 UTF-16 units, 67-unit parts; emoji as surrogate
 * pairs never split; 8-bit and 16-bit reference UDHs byte for byte; SAR
 * parts without UDH; payload as one PDU with its segment count; Latin-1
 * when asked and its fallback to UCS-2; max parts and output space. Every
 * split is checked by joining the parts and decoding them back. The coding
 * and part count agree with smsr__text_scan() for every BMP character, the
 * corpus texts (the tsv files in tests/data and the shared corpus) and
 * random mixes. Decoding: each data_coding, bad input as U+FFFD, binary as
 * UTF-8 or hex, exact-size buffers (ASan).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smsr/channel.h"
#include "smsr/errors.h"
#include "chan/smpp_text.h"
#include "msg/msg_text.h"

static uint8_t out[SMSR__SMPP_ENC_BOUND(65536)];
static struct smsr__smpp_enc enc;
static char text[65536];

static size_t rep(size_t len, const char *piece, size_t n)
{
	size_t pl = strlen(piece);

	assert_true(len + pl * n < sizeof(text));
	for (size_t i = 0; i < n; i++, len += pl)
		memcpy(text + len, piece, pl);
	text[len] = '\0';
	return len;
}

static int encode(const struct smsr__smpp_enc_opts *o, const char *s, size_t len, uint16_t ref)
{
	return smsr__smpp_text_encode(o, s, len, ref, out, sizeof(out), &enc);
}

/* Unpack @n octets of packed septets from bit @shift into @sept; returns septets. */
static size_t unpack7(const uint8_t *p, size_t n, unsigned shift, uint8_t *sept)
{
	size_t bits = n * 8, k = 0;

	for (size_t b = shift; b + 7 <= bits; b += 7) {
		unsigned v = (unsigned)(p[b / 8] | (b / 8 + 1 < n ? p[b / 8 + 1] << 8 : 0));

		sept[k++] = (uint8_t)(v >> (b % 8) & 0x7f);
	}
	return k;
}

/*
 * Every part well formed (UDH totals and sequence numbers, no surrogate or
 * escape cut at a part's end, sizes within one SMS), and the parts' texts
 * joined and decoded give back @s.
 */
static void check_parts(const struct smsr__smpp_enc_opts *o, const char *s, size_t len, int n)
{
	static uint8_t joined[sizeof(out)];
	static char back[SMSR__SMPP_DEC_BOUND(sizeof(out))];
	size_t jl = 0, hdr = enc.udh ? (o->ref16 ? 7 : 6) : 0;
	int bl;

	assert_int_equal(n, enc.nparts);
	for (int i = 0; i < n; i++) {
		const uint8_t *p = out + enc.part[i].off;
		size_t body = enc.part[i].len - hdr;

		if (hdr) {
			assert_int_equal(p[0], hdr - 1);
			assert_int_equal(p[1], o->ref16 ? 8 : 0);
			assert_int_equal(p[hdr - 2], n);
			assert_int_equal(p[hdr - 1], i + 1);
		}
		if (o->packed && enc.charset == SMSR__SMPP_CS_GSM7) {
			unsigned shift = hdr == 6 ? 1 : 0;
			size_t k = unpack7(p + hdr, body, shift, joined + jl);

			assert_true(enc.part[i].len <= 140);
			/* Seven spare bits hold a CR pad (no test text has a CR). */
			if ((body * 8 - shift) % 7 == 0 && joined[jl + k - 1] == 0x0d)
				k--;
			jl += k;
			continue;
		}
		if (enc.charset == SMSR__SMPP_CS_UCS2 && body >= 2)
			assert_false(p[hdr + body - 2] >= 0xd8 && p[hdr + body - 2] < 0xdc);
		if (enc.charset == SMSR__SMPP_CS_GSM7 && body)
			assert_int_not_equal(p[hdr + body - 1], 0x1b);
		if (o->concat != SMSR__SMPP_CONCAT_PAYLOAD)
			assert_true(enc.charset == SMSR__SMPP_CS_GSM7 ? body <= 160 : body <= 140);
		memcpy(joined + jl, p + hdr, body);
		jl += body;
	}
	bl = smsr__smpp_text_decode(enc.dcs, joined, jl, back, sizeof(back));
	assert_true(bl >= 0);
	if ((size_t)bl != len || memcmp(back, s, len) != 0)
		fail_msg("round trip: got %.*s want %.*s", bl, back, (int)len, s);
}

static int encode_checked(const struct smsr__smpp_enc_opts *o, const char *s, size_t len)
{
	int n = encode(o, s, len, 0x1234);

	assert_true(n > 0);
	check_parts(o, s, len, n);
	return n;
}

static const struct smsr__smpp_enc_opts udh8 = {0};
static const struct smsr__smpp_enc_opts udh16 = {.ref16 = true};
static const struct smsr__smpp_enc_opts sar = {.concat = SMSR__SMPP_CONCAT_SAR};
static const struct smsr__smpp_enc_opts payload = {.concat = SMSR__SMPP_CONCAT_PAYLOAD};

static void test_smpp_gsm7_is_one_septet_per_octet(void **state)
{
	static const uint8_t want[] = {'H', 'i', ' ', 0x00, 0x02, 0x11, 0x04, 0x10, 0x0a};

	const char *s = "Hi @$_\xc3\xa8\xce\x94\n";

	assert_int_equal(encode(&udh8, s, strlen(s), 7), 1);
	assert_int_equal(enc.dcs, 0);
	assert_int_equal(enc.charset, SMSR__SMPP_CS_GSM7);
	assert_false(enc.udh);
	assert_int_equal(enc.part[0].len, sizeof(want));
	assert_memory_equal(out + enc.part[0].off, want, sizeof(want));
	assert_int_equal(enc.units, 9);
	assert_int_equal(enc.segments, 1);
}

static void test_smpp_extension_chars_are_escape_pairs(void **state)
{
	static const char *s = "^{}\\[~]|\xe2\x82\xac\f";
	static const uint8_t want[] = {0x1b, 0x14, 0x1b, 0x28, 0x1b, 0x29, 0x1b, 0x2f, 0x1b, 0x3c,
				       0x1b, 0x3d, 0x1b, 0x3e, 0x1b, 0x40, 0x1b, 0x65, 0x1b, 0x0a};

	assert_int_equal(encode(&udh8, s, strlen(s), 0), 1);
	assert_int_equal(enc.units, 20);
	assert_int_equal(enc.part[0].len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	encode_checked(&udh8, s, strlen(s));
}

static void test_smpp_gsm7_boundaries_160_161_306_307(void **state)
{
	size_t len = rep(0, "a", 160);

	assert_int_equal(encode_checked(&udh8, text, len), 1);
	assert_int_equal(enc.part[0].len, 160);
	len = rep(0, "a", 161);
	assert_int_equal(encode_checked(&udh8, text, len), 2);
	assert_true(enc.udh);
	assert_int_equal(enc.part[0].len, 6 + 153);
	assert_int_equal(enc.part[1].len, 6 + 8);
	assert_memory_equal(out + enc.part[0].off, "\x05\x00\x03\x34\x02\x01", 6);
	assert_memory_equal(out + enc.part[1].off, "\x05\x00\x03\x34\x02\x02", 6);
	assert_int_equal(encode_checked(&udh8, text, rep(0, "a", 306)), 2);
	assert_int_equal(encode_checked(&udh8, text, rep(0, "a", 307)), 3);
	assert_int_equal(enc.part[2].len, 6 + 1);
}

static void test_smpp_escape_pair_is_never_split(void **state)
{
	size_t len = rep(rep(rep(0, "a", 152), "\xe2\x82\xac", 1), "b", 10);

	assert_int_equal(encode_checked(&udh8, text, len), 2);
	assert_int_equal(enc.part[0].len, 6 + 152);
	assert_memory_equal(out + enc.part[1].off + 6, "\x1b\x65", 2);
	/* All extension characters: 153 is odd, so every part holds 152. */
	len = rep(0, "{", 200);
	assert_int_equal(encode_checked(&udh8, text, len), 3);
	assert_int_equal(enc.part[0].len, 6 + 152);
	assert_int_equal(encode_checked(&sar, text, len), 3);
}

static void test_smpp_ucs2_boundaries_70_71_and_67_per_part(void **state)
{
	size_t len = rep(0, "\xd1\x8f", 70); /* я */

	assert_int_equal(encode_checked(&udh8, text, len), 1);
	assert_int_equal(enc.dcs, 8);
	assert_int_equal(enc.part[0].len, 140);
	assert_memory_equal(out, "\x04\x4f", 2);
	len = rep(0, "\xd1\x8f", 71);
	assert_int_equal(encode_checked(&udh8, text, len), 2);
	assert_int_equal(enc.part[0].len, 6 + 134);
	assert_int_equal(enc.part[1].len, 6 + 8);
	assert_int_equal(encode_checked(&udh8, text, rep(0, "\xd1\x8f", 134)), 2);
	assert_int_equal(encode_checked(&udh8, text, rep(0, "\xd1\x8f", 135)), 3);
	/* 16-bit reference: 66 units a part. */
	assert_int_equal(encode_checked(&udh16, text, rep(0, "\xd1\x8f", 132)), 2);
	assert_int_equal(enc.part[0].len, 7 + 132);
	assert_int_equal(encode_checked(&udh16, text, rep(0, "\xd1\x8f", 133)), 3);
}

static void test_smpp_emoji_are_surrogate_pairs_never_split(void **state)
{
	size_t len = rep(0, "\xf0\x9f\x98\x80", 1); /* U+1F600 */

	assert_int_equal(encode_checked(&udh8, text, len), 1);
	assert_memory_equal(out, "\xd8\x3d\xde\x00", 4);
	assert_int_equal(enc.units, 2);
	len = rep(rep(0, "x", 66), "\xf0\x9f\x98\x80", 3);
	assert_int_equal(encode_checked(&udh8, text, len), 2);
	assert_int_equal(enc.part[0].len, 6 + 132); /* 66 units: the pair moved on */
	assert_memory_equal(out + enc.part[1].off + 6, "\xd8\x3d\xde\x00", 4);
	len = rep(0, "\xf0\x9f\x91\x8d", 100);
	assert_int_equal(encode_checked(&udh8, text, len), 4); /* 33 pairs a part */
	assert_int_equal(encode_checked(&udh16, text, len), 4);
	assert_int_equal(encode_checked(&sar, text, len), 4);
}

static void test_smpp_ref16_udh_is_seven_octets_152_septets(void **state)
{
	size_t len = rep(0, "a", 161);

	assert_int_equal(encode(&udh16, text, len, 0xbeef), 2);
	assert_memory_equal(out + enc.part[0].off, "\x06\x08\x04\xbe\xef\x02\x01", 7);
	assert_int_equal(enc.part[0].len, 7 + 152);
	assert_int_equal(enc.ref, 0xbeef);
	check_parts(&udh16, text, len, 2);
	assert_int_equal(encode_checked(&udh16, text, rep(0, "a", 304)), 2);
	assert_int_equal(encode_checked(&udh16, text, rep(0, "a", 305)), 3);
	/* An 8-bit reference keeps the low byte only. */
	assert_int_equal(encode(&udh8, text, 161, 0xbeef), 2);
	assert_int_equal(enc.ref, 0xef);
	assert_int_equal(out[3], 0xef);
}

static void test_smpp_sar_parts_have_no_udh_and_udh_sizes(void **state)
{
	size_t len = rep(0, "a", 161);

	assert_int_equal(encode_checked(&sar, text, len), 2);
	assert_false(enc.udh);
	assert_int_equal(enc.part[0].len, 153);
	assert_int_equal(enc.part[1].len, 8);
	assert_int_equal(enc.part[1].off, 153);
	assert_int_equal(encode_checked(&sar, text, rep(0, "\xd1\x8f", 71)), 2);
	assert_int_equal(enc.part[0].len, 134);
}

static void test_smpp_payload_is_one_pdu_with_its_segment_count(void **state)
{
	size_t len = rep(0, "a", 500);

	assert_int_equal(encode_checked(&payload, text, len), 1);
	assert_false(enc.udh);
	assert_int_equal(enc.part[0].len, 500);
	assert_int_equal(enc.segments, 4);
	assert_int_equal(encode_checked(&payload, text, rep(0, "\xd1\x8f", 135)), 1);
	assert_int_equal(enc.part[0].len, 270);
	assert_int_equal(enc.segments, 3);
	assert_int_equal(encode_checked(&payload, "hi", 2), 1);
	assert_int_equal(enc.segments, 1);
}

static void test_smpp_latin1_when_asked_else_ucs2(void **state)
{
	struct smsr__smpp_enc_opts o = {.pref = SMSR__SMPP_PREF_LATIN1};
	size_t len;

	assert_int_equal(encode_checked(&o, "caf\xc3\xa9 `x`\t", 10), 1);
	assert_int_equal(enc.dcs, 3);
	assert_int_equal(enc.charset, SMSR__SMPP_CS_LATIN1);
	assert_memory_equal(out, "caf\xe9 `x`\t", 9);
	/* The euro sign is GSM but not Latin-1: UCS-2, not GSM-7. */
	assert_int_equal(encode_checked(&o, "5 \xe2\x82\xac", 5), 1);
	assert_int_equal(enc.dcs, 8);
	assert_int_equal(encode_checked(&o, "\xce\x94", 2), 1);
	assert_int_equal(enc.dcs, 8);
	len = rep(0, "\xc3\xbc", 140);
	assert_int_equal(encode_checked(&o, text, len), 1);
	assert_int_equal(enc.part[0].len, 140);
	len = rep(0, "\xc3\xbc", 141);
	assert_int_equal(encode_checked(&o, text, len), 2);
	assert_int_equal(enc.part[0].len, 6 + 134);
	o.ref16 = true;
	assert_int_equal(encode_checked(&o, text, rep(0, "e", 267)), 3);
	assert_int_equal(enc.part[0].len, 7 + 133);
}

static void test_smpp_ucs2_when_asked_and_gsm_dcs_setting(void **state)
{
	struct smsr__smpp_enc_opts o = {.pref = SMSR__SMPP_PREF_UCS2};

	assert_int_equal(encode_checked(&o, "Hi {x}", 6), 1);
	assert_int_equal(enc.dcs, 8);
	assert_int_equal(enc.units, 6);
	assert_memory_equal(out, "\x00H\x00i", 4);
	o = (struct smsr__smpp_enc_opts){.dcs_gsm = 1};
	assert_int_equal(encode(&o, "Hi", 2, 0), 1);
	assert_int_equal(enc.dcs, 1);
}

static void test_smpp_packed_gsm7(void **state)
{
	struct smsr__smpp_enc_opts o = {.packed = true};
	static const uint8_t hello[] = {0xe8, 0x32, 0x9b, 0xfd, 0x46, 0x97, 0xd9, 0xec, 0x37};
	size_t len;

	assert_int_equal(encode(&o, "hellohello", 10, 0), 1);
	assert_int_equal(enc.part[0].len, sizeof(hello));
	assert_memory_equal(out, hello, sizeof(hello));
	/* Eight septets fill seven octets; seven leave seven spare bits: CR there. */
	assert_int_equal(encode(&o, "1234567", 7, 0), 1);
	assert_int_equal(enc.part[0].len, 7);
	assert_int_equal(out[6] >> 1, 0x0d);
	assert_int_equal(encode_checked(&o, text, rep(0, "a", 160)), 1);
	assert_int_equal(enc.part[0].len, 140);
	len = rep(rep(0, "z", 300), "]", 5);
	assert_int_equal(encode_checked(&o, text, len), 3);
	assert_int_equal(enc.part[0].len, 140);
	o.ref16 = true;
	assert_int_equal(encode_checked(&o, text, len), 3);
	assert_int_equal(enc.part[0].len, 140);
}

static void test_smpp_max_parts_and_space(void **state)
{
	struct smsr__smpp_enc_opts o = {.max_parts = 3};
	size_t len = rep(0, "a", 153 * 3);
	uint8_t small[200];

	assert_int_equal(encode(&o, text, len, 0), 3);
	assert_int_equal(encode(&o, text, rep(len, "a", 1), 0), -SMSR_ETOOLONG);
	o.concat = SMSR__SMPP_CONCAT_PAYLOAD;
	assert_int_equal(encode(&o, text, len + 1, 0), -SMSR_ETOOLONG);
	len = rep(0, "a", 153 * 255);
	assert_int_equal(encode(&udh8, text, len, 0), 255);
	assert_int_equal(encode(&payload, text, len, 0), 1);
	assert_int_equal(enc.segments, 255);
	assert_int_equal(encode(&udh8, text, rep(len, "a", 1), 0), -SMSR_ETOOLONG);
	assert_int_equal(encode(&payload, text, len + 1, 0), -SMSR_ETOOLONG);
	assert_int_equal(smsr__smpp_text_encode(&udh8, text, 161, 0, small, 172, &enc), -ENOSPC);
	assert_int_equal(smsr__smpp_text_encode(&udh8, text, 161, 0, small, 173, &enc), 2);
	assert_int_equal(smsr__smpp_text_encode(&udh8, text, 160, 0, small, 159, &enc), -ENOSPC);
	assert_int_equal(smsr__smpp_text_encode(&udh8, text, 160, 0, small, 160, &enc), 1);
	assert_int_equal(encode(&udh8, "", 0, 0), -SMSR_EEMPTY);
	assert_int_equal(encode(&udh8, "a\xc3", 2, 0), -SMSR_EBADUTF8);
	assert_int_equal(encode(&udh8, "a\0b", 3, 0), -SMSR_EBADUTF8);
	o = (struct smsr__smpp_enc_opts){.concat = 7};
	assert_int_equal(encode(&o, "a", 1, 0), -SMSR_EINVAL);
}

/* --- agreement with the router's segment count --------------------------- */

static void expect_agreement(const char *s, size_t len)
{
	struct smsr__text_info ti;
	int n;

	if (smsr__text_scan(s, len, &ti) != 0)
		return;
	n = encode(&udh8, s, len, 1);
	if (ti.segments > 255) {
		assert_int_equal(n, -SMSR_ETOOLONG);
		return;
	}
	if (n != (int)ti.segments || (enc.dcs == 0) != (ti.coding == SMSR_CODING_GSM7))
		fail_msg("%.*s: %d parts dcs %u, scan %u segments coding %u", (int)len, s, n,
			 enc.dcs, ti.segments, ti.coding);
	assert_int_equal(enc.units, ti.units);
	check_parts(&udh8, s, len, n);
	assert_int_equal(encode(&sar, s, len, 1), n);
	assert_int_equal(encode(&payload, s, len, 1), 1);
	assert_int_equal(enc.segments, n);
}

/* @cp (BMP, not a surrogate) as UTF-8 in @s; returns its length. */
static size_t utf8_bmp(uint32_t cp, char *s)
{
	if (cp < 0x80) {
		s[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (char)(0xc0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	s[0] = (char)(0xe0 | cp >> 12);
	s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
	s[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

static void test_smpp_every_bmp_char_codes_as_the_scan_says(void **state)
{
	char s[8];
	unsigned gsm = 0;

	for (uint32_t cp = 1; cp < 0x10000; cp++) {
		struct smsr__text_info ti;
		size_t n;

		if (cp >= 0xd800 && cp < 0xe000)
			continue;
		n = utf8_bmp(cp, s);
		assert_int_equal(smsr__text_scan(s, n, &ti), 0);
		assert_int_equal(encode(&udh8, s, n, 0), 1);
		assert_int_equal(enc.dcs == 0, ti.coding == SMSR_CODING_GSM7);
		assert_int_equal(enc.units, ti.units);
		gsm += enc.dcs == 0;
		check_parts(&udh8, s, n, 1);
	}
	assert_int_equal(gsm, 95 - 1 + 3 + 29 + 10 + 1); /* printable ASCII less '`', LF CR FF,
							   Latin-1, Greek, euro */
}

static unsigned agree_corpus(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned count = 0;

	if (!f)
		return 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		char *tab = strchr(line, '\t');

		if (!tab)
			continue;
		expect_agreement(tab + 1, strcspn(tab + 1, "\r\n"));
		count++;
	}
	free(line);
	fclose(f);
	return count;
}

static void test_smpp_parts_agree_with_scan_segments(void **state)
{
	static const char *const files[] = {
	    SMSR_SHARED_DIR "/corpus/classify-dev.tsv", SMSR_TEST_DATA "/classify-train.tsv",
	    SMSR_TEST_DATA "/classify-train2.tsv",	SMSR_TEST_DATA "/classify-holdout.tsv",
	    SMSR_TEST_DATA "/classify-eval.tsv",	SMSR_TEST_DATA "/classify-eval2.tsv",
	    SMSR_TEST_DATA "/classify-eval3.tsv"};
	static const char *const pieces[] = {
	    "a",	"{",	    "\xe2\x82\xac", "\xc3\xa9",
	    "\xce\xa9", "\xd1\x8f", "\xe4\xbd\xa0", "\xf0\x9f\x98\x80",
	    " "};
	unsigned total = 0, seed = 12345;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		total += agree_corpus(files[i]);
	print_message("%u corpus texts: parts == scan segments\n", total);
	assert_true(total > 3000);
	for (int round = 0; round < 3000; round++) {
		size_t len = 0, n = (size_t)(rand_r(&seed) % 400) + 1;
		unsigned mix = (unsigned)rand_r(&seed) % 9;

		for (size_t i = 0; i < n; i++)
			len = rep(
			    len,
			    pieces[(unsigned)rand_r(&seed) % 4 ? 0 : rand_r(&seed) % (mix + 1)], 1);
		expect_agreement(text, len);
	}
}

/* --- decoding ------------------------------------------------------------ */

/* Decode into an exact-size heap copy of @in and an exact-size output. */
static void expect_decode(uint8_t dcs, const void *in, size_t len, const char *want)
{
	uint8_t *copy = malloc(len ? len : 1);
	size_t wl = strlen(want);
	char *o = malloc(wl ? wl : 1);
	int n;

	memcpy(copy, in, len);
	n = smsr__smpp_text_decode(dcs, copy, len, o, wl);
	if (n != (int)wl || memcmp(o, want, wl) != 0)
		fail_msg("dcs %u: got %d bytes %.*s, want %s", dcs, n, n > 0 ? n : 0, o, want);
	if (wl)
		assert_int_equal(smsr__smpp_text_decode(dcs, copy, len, o, wl - 1), -ENOSPC);
	free(o);
	free(copy);
}

static void test_smpp_decode_gsm7(void **state)
{
	expect_decode(0, "\x00\x02\x11Hi\x1b\x65\x1b\x28\x10", 10, "@$_Hi\xe2\x82\xac{\xce\x94");
	expect_decode(0, "a\x1b\x41", 3, "aA"); /* unknown extension: the basic char */
	expect_decode(0, "a\x1b", 2, "a ");	/* trailing escape: a space */
	expect_decode(0, "a\x80", 2, "a\xef\xbf\xbd");
	expect_decode(0xf0, "Hi", 2, "Hi"); /* class 0, GSM */
	expect_decode(0x10, "Hi", 2, "Hi"); /* general group, GSM */
	expect_decode(0, "", 0, "");
	/* Every septet and escape pair back and forth. */
	for (unsigned c = 0; c < 128; c++) {
		uint8_t in[2] = {(uint8_t)c, 0};
		char u[8], again[8];
		int n = smsr__smpp_text_decode(0, in, 1, u, sizeof(u));
		int m;

		assert_true(n > 0);
		if (c == 0x1b)
			continue;
		assert_int_equal(encode(&udh8, u, (size_t)n, 0), 1);
		assert_int_equal(enc.part[0].len, 1);
		assert_int_equal(out[0], c);
		in[0] = 0x1b, in[1] = (uint8_t)c;
		n = smsr__smpp_text_decode(0, in, 2, u, sizeof(u));
		m = encode(&udh8, u, (size_t)n, 0);
		assert_int_equal(m, 1);
		if (enc.part[0].len == 2)
			assert_memory_equal(out, in, 2);
		assert_int_equal(smsr__smpp_text_decode(0, out, enc.part[0].len, again, 8), n);
	}
}

static void test_smpp_decode_ia5_latin1_ucs2(void **state)
{
	expect_decode(1, "Hi\x80", 3, "Hi\xef\xbf\xbd");
	expect_decode(3, "caf\xe9\xff", 5, "caf\xc3\xa9\xc3\xbf");
	expect_decode(3, "a\0b", 3,
		      "a\xef\xbf\xbd"
		      "b");
	expect_decode(8, "\x04\x4f\xd8\x3d\xde\x00", 6, "\xd1\x8f\xf0\x9f\x98\x80");
	expect_decode(8, "\x00H\x00", 3, "H\xef\xbf\xbd");     /* odd length */
	expect_decode(8, "\xd8\x3d\x00H", 4, "\xef\xbf\xbdH"); /* lone high */
	expect_decode(8, "\xde\x00\x00H", 4, "\xef\xbf\xbdH"); /* lone low */
	expect_decode(8, "\x00H\xd8\x3d", 4, "H\xef\xbf\xbd"); /* high at the end */
	expect_decode(8, "\xd8\x3d\xd8\x3d\xde\x00", 6, "\xef\xbf\xbd\xf0\x9f\x98\x80");
	expect_decode(8, "\x00\x00", 2, "\xef\xbf\xbd");
	expect_decode(0x18, "\x00H", 2, "H"); /* general group, UCS-2 */
	expect_decode(0xe0, "\x00H", 2, "H"); /* message waiting, UCS-2 */
}

static void test_smpp_decode_binary_is_utf8_or_hex(void **state)
{
	uint8_t o[8];

	expect_decode(4, "h\xc3\xa9", 3, "h\xc3\xa9");
	expect_decode(2, "\x01\xff", 2, "01FF");
	expect_decode(4, "a\0", 2, "6100");
	expect_decode(0xf4, "\xc3", 1, "C3");
	assert_int_equal(smsr__smpp_text_decode(5, (const uint8_t *)"x", 1, (char *)o, 8),
			 -ENOTSUP);
	assert_int_equal(smsr__smpp_text_decode(0x0e, (const uint8_t *)"x", 1, (char *)o, 8),
			 -ENOTSUP);
	assert_int_equal(smsr__smpp_text_decode(0x20, (const uint8_t *)"x", 1, (char *)o, 8),
			 -ENOTSUP); /* compressed */
}

static void test_smpp_decode_round_trips_each_coding(void **state)
{
	static const char *const texts[] = {
	    "Your code is 123456.", "[{~}] \xe2\x82\xac 5 \xc3\xa9\xc3\xa8 \xce\xa9",
	    "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80\xf0\x9f\x91\x8d", "na\xc3\xafve `x`"};
	static const struct smsr__smpp_enc_opts prefs[] = {
	    {.pref = SMSR__SMPP_PREF_AUTO},
	    {.pref = SMSR__SMPP_PREF_LATIN1},
	    {.pref = SMSR__SMPP_PREF_UCS2},
	    {.concat = SMSR__SMPP_CONCAT_PAYLOAD, .packed = true}};

	for (size_t t = 0; t < 4; t++)
		for (size_t p = 0; p < 4; p++)
			encode_checked(&prefs[p], texts[t], strlen(texts[t]));
}

static void test_smpp_setting_names(void **state)
{
	assert_int_equal(smsr__smpp_concat_parse("udh"), SMSR__SMPP_CONCAT_UDH);
	assert_int_equal(smsr__smpp_concat_parse("sar"), SMSR__SMPP_CONCAT_SAR);
	assert_int_equal(smsr__smpp_concat_parse("payload"), SMSR__SMPP_CONCAT_PAYLOAD);
	assert_int_equal(smsr__smpp_concat_parse("UDH"), -SMSR_ECONFIG);
	assert_int_equal(smsr__smpp_coding_pref_parse("latin1"), SMSR__SMPP_PREF_LATIN1);
	assert_int_equal(smsr__smpp_coding_pref_parse("ucs2"), SMSR__SMPP_PREF_UCS2);
	assert_int_equal(smsr__smpp_coding_pref_parse("auto"), SMSR__SMPP_PREF_AUTO);
	assert_int_equal(smsr__smpp_coding_pref_parse(NULL), -SMSR_ECONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_smpp_gsm7_is_one_septet_per_octet),
	    cmocka_unit_test(test_smpp_extension_chars_are_escape_pairs),
	    cmocka_unit_test(test_smpp_gsm7_boundaries_160_161_306_307),
	    cmocka_unit_test(test_smpp_escape_pair_is_never_split),
	    cmocka_unit_test(test_smpp_ucs2_boundaries_70_71_and_67_per_part),
	    cmocka_unit_test(test_smpp_emoji_are_surrogate_pairs_never_split),
	    cmocka_unit_test(test_smpp_ref16_udh_is_seven_octets_152_septets),
	    cmocka_unit_test(test_smpp_sar_parts_have_no_udh_and_udh_sizes),
	    cmocka_unit_test(test_smpp_payload_is_one_pdu_with_its_segment_count),
	    cmocka_unit_test(test_smpp_latin1_when_asked_else_ucs2),
	    cmocka_unit_test(test_smpp_ucs2_when_asked_and_gsm_dcs_setting),
	    cmocka_unit_test(test_smpp_packed_gsm7),
	    cmocka_unit_test(test_smpp_max_parts_and_space),
	    cmocka_unit_test(test_smpp_every_bmp_char_codes_as_the_scan_says),
	    cmocka_unit_test(test_smpp_parts_agree_with_scan_segments),
	    cmocka_unit_test(test_smpp_decode_gsm7),
	    cmocka_unit_test(test_smpp_decode_ia5_latin1_ucs2),
	    cmocka_unit_test(test_smpp_decode_binary_is_utf8_or_hex),
	    cmocka_unit_test(test_smpp_decode_round_trips_each_coding),
	    cmocka_unit_test(test_smpp_setting_names),
	};

	return cmocka_run_group_tests_name("smpp_text", tests, NULL, NULL);
}
