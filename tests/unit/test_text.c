/* SPDX-License-Identifier: MIT */
/*
 * Description: message text scan. Strict UTF-8 (overlongs, surrogates,
 * > U+10FFFF, truncated sequences and NUL bytes rejected, also inside the
 * 8-byte ASCII fast path); GSM 03.38 detection with every non-ASCII member
 * of the basic alphabet and the two-septet extension table; UCS-2 counted
 * in UTF-16 units; segment boundaries 160/161, 153*k, 70/71, 67*k; escape
 * and surrogate pairs kept whole across parts; no read past @len (guard
 * page). A randomized test compares against a naive per-character model;
 * set SMSR_TEST_SEED to replay a printed seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "smsr/channel.h"
#include "smsr/errors.h"
#include "msg/msg_text.h"

#define GSM  SMSR_CODING_GSM7
#define UCS2 SMSR_CODING_UCS2

static char buf[8192];

/* @n copies of @piece in the static buffer; returns its length. */
static size_t repeat(const char *piece, size_t n)
{
	size_t pl = strlen(piece), len = 0;

	assert_true(pl * n < sizeof(buf));
	for (size_t i = 0; i < n; i++, len += pl)
		memcpy(buf + len, piece, pl);
	return len;
}

static size_t append(size_t len, const char *piece, size_t n)
{
	size_t pl = strlen(piece);

	assert_true(len + pl * n < sizeof(buf));
	for (size_t i = 0; i < n; i++, len += pl)
		memcpy(buf + len, piece, pl);
	return len;
}

static void expect_scan(const char *s, size_t len, int coding, uint32_t units, uint32_t segs)
{
	struct smsr__text_info ti;
	int rc = smsr__text_scan(s, len, &ti);

	if (rc != 0)
		fail_msg("scan of %zu bytes failed: %d", len, rc);
	if (ti.coding != coding || ti.units != units || ti.segments != segs)
		fail_msg("%zu bytes: got coding %u units %u segs %u, want %d %u %u", len, ti.coding,
			 ti.units, ti.segments, coding, units, segs);
	assert_int_equal(smsr__utf8_check(s, len), 0);
}

static void expect_str(const char *s, int coding, uint32_t units, uint32_t segs)
{
	expect_scan(s, strlen(s), coding, units, segs);
}

static void test_text_ascii_is_gsm7_one_septet_each(void **state)
{
	expect_str("Your code is 123456.", GSM, 20, 1);
	expect_str("@$_!\"#%&'()*+,-./:;<=>?\r\n", GSM, 25, 1);
	/* Every length around the 8-byte fast path. */
	for (size_t n = 1; n <= 40; n++)
		expect_scan(buf, repeat("a", n), GSM, (uint32_t)n, 1);
}

static void test_text_gsm7_segment_boundaries(void **state)
{
	expect_scan(buf, repeat("a", 160), GSM, 160, 1);
	expect_scan(buf, repeat("a", 161), GSM, 161, 2);
	expect_scan(buf, repeat("a", 306), GSM, 306, 2);
	expect_scan(buf, repeat("a", 307), GSM, 307, 3);
	expect_scan(buf, repeat("a", 1530), GSM, 1530, 10);
	expect_scan(buf, repeat("a", 1531), GSM, 1531, 11);
}

static void test_text_extension_chars_cost_two_septets(void **state)
{
	static const char *ext[] = {"^", "{", "}", "\\", "[", "~", "]", "|", "€", "\f"};

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		expect_str(ext[i], GSM, 2, 1);
	expect_scan(buf, repeat("{", 80), GSM, 160, 1);
	expect_scan(buf, repeat("€", 80), GSM, 160, 1);
	expect_scan(buf, repeat("]", 81), GSM, 162, 2);
	expect_str("aaaa{aaa", GSM, 9, 1); /* inside one 8-byte chunk */
	expect_str("Price: 5€ [50% off]", GSM, 22, 1);
}

static void test_text_escape_pair_is_never_split_across_parts(void **state)
{
	size_t len;

	/* 152 + 2 + 152 = 306 septets: fits 2 x 153 only if '{' were split. */
	len = append(repeat("a", 152), "{", 1);
	len = append(len, "a", 152);
	expect_scan(buf, len, GSM, 306, 3);
	/* 151 + 2: the pair ends exactly at 153, so 2 parts stay 2. */
	len = append(repeat("a", 151), "{", 1);
	len = append(len, "a", 153);
	expect_scan(buf, len, GSM, 306, 2);
	/* The same with the non-ASCII extension character. */
	len = append(repeat("a", 152), "€", 1);
	len = append(len, "a", 152);
	expect_scan(buf, len, GSM, 306, 3);
	/* Single-part texts never split: 158 + 2 = 160. */
	len = append(repeat("a", 158), "~", 1);
	expect_scan(buf, len, GSM, 160, 1);
}

static void test_text_gsm_basic_non_ascii_members_are_gsm7(void **state)
{
	static const char *basic[] = {"£", "¥", "è", "é", "ù", "ì", "ò", "Ç", "Ø", "ø",
				      "Å", "å", "Δ", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ",
				      "Θ", "Ξ", "Æ", "æ", "ß", "É", "Ä", "Ö", "Ñ", "Ü",
				      "§", "¿", "ä", "ö", "ñ", "ü", "à", "¤", "¡"};

	for (size_t i = 0; i < sizeof(basic) / sizeof(basic[0]); i++)
		expect_str(basic[i], GSM, 1, 1);
	expect_str("Æble på ½ pris", UCS2, 14, 1); /* ½ is not GSM */
	expect_str("Ærø åbner kl. 9 - £5, ¥5, §3, ¿Qué?", GSM, 35, 1);
}

static void test_text_near_misses_force_ucs2(void **state)
{
	static const char *near[] = {"ç", "`", "\t", "\x7f", "\x1b", "¢",	 "©",
				     "α", "Α", "ÿ",  "á",    "Ã",    "\xc2\x80", "€€€\x01"};

	for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
		struct smsr__text_info ti;

		assert_int_equal(smsr__text_scan(near[i], strlen(near[i]), &ti), 0);
		if (ti.coding != UCS2)
			fail_msg("\"%s\" scanned as GSM-7", near[i]);
	}
}

/* Encode @cp (a BMP scalar value) as UTF-8 into @out; returns the length. */
static size_t encode_bmp(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | cp >> 12);
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* GSM 03.38 as Unicode, straight from the spec's table (ESC excluded). */
static unsigned spec_septets(uint32_t cp)
{
	/* clang-format off */
	static const uint16_t basic[] = {
		'@', 0xa3, '$', 0xa5, 0xe8, 0xe9, 0xf9, 0xec,        /* 0x00 */
		0xf2, 0xc7, '\n', 0xd8, 0xf8, '\r', 0xc5, 0xe5,
		0x394, '_', 0x3a6, 0x393, 0x39b, 0x3a9, 0x3a0, 0x3a8, /* 0x10 */
		0x3a3, 0x398, 0x39e, 0xc6, 0xe6, 0xdf, 0xc9,        /* 0x1b is ESC */
		' ', '!', '"', '#', 0xa4, '%', '&', '\'', '(', ')',  /* 0x20 */
		'*', '+', ',', '-', '.', '/', ':', ';', '<', '=', '>', '?',
		0xa1, 0xc4, 0xd6, 0xd1, 0xdc, 0xa7,                 /* 0x40, 0x5b-0x5f */
		0xbf, 0xe4, 0xf6, 0xf1, 0xfc, 0xe0,                 /* 0x60, 0x7b-0x7f */
	};
	/* clang-format on */
	static const uint16_t ext[] = {'\f', '^', '{', '}', '\\', '[', '~', ']', '|', 0x20ac};

	if ((cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z'))
		return 1;
	for (size_t i = 0; i < sizeof(basic) / sizeof(basic[0]); i++)
		if (basic[i] == cp)
			return 1;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (ext[i] == cp)
			return 2;
	return 0;
}

static void test_text_every_bmp_char_is_classified_as_the_spec_says(void **state)
{
	for (uint32_t cp = 1; cp <= 0xffff; cp++) {
		unsigned want = spec_septets(cp);
		struct smsr__text_info ti;
		char s[4];
		size_t len;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		len = encode_bmp(cp, s);
		assert_int_equal(smsr__text_scan(s, len, &ti), 0);
		if (ti.coding != (want ? GSM : UCS2) || ti.units != (want ? want : 1))
			fail_msg("U+%04X: coding %u units %u, want %u septets", cp, ti.coding,
				 ti.units, want);
	}
}

static void test_text_ucs2_counts_utf16_units_and_boundaries(void **state)
{
	expect_str("【淘宝网】您的验证码是123456，5分钟内有效。", UCS2, 25, 1);
	expect_scan(buf, repeat("中", 70), UCS2, 70, 1);
	expect_scan(buf, repeat("中", 71), UCS2, 71, 2);
	expect_scan(buf, repeat("中", 134), UCS2, 134, 2);
	expect_scan(buf, repeat("中", 135), UCS2, 135, 3);
	/* GSM characters before the first CJK one still count one unit each. */
	expect_str("{}[]€abc中", UCS2, 9, 1);
	expect_scan(buf, append(repeat("a", 69), "中", 1), UCS2, 70, 1);
	expect_scan(buf, append(repeat("a", 70), "中", 1), UCS2, 71, 2);
}

static void test_text_emoji_count_two_units_and_stay_whole(void **state)
{
	size_t len;

	expect_str("😀", UCS2, 2, 1);
	expect_str("\xf4\x8f\xbf\xbf", UCS2, 2, 1); /* U+10FFFF */
	expect_scan(buf, repeat("😀", 35), UCS2, 70, 1);
	expect_scan(buf, repeat("😀", 36), UCS2, 72, 2);
	/* 66 + 2 + 66 = 134 units: 2 x 67 only if the pair were split. */
	len = append(repeat("中", 66), "😀", 1);
	len = append(len, "中", 66);
	expect_scan(buf, len, UCS2, 134, 3);
	len = append(repeat("中", 65), "😀", 1);
	len = append(len, "中", 67);
	expect_scan(buf, len, UCS2, 134, 2);
}

static const struct {
	const char *s;
	size_t len;
	const char *what;
} bad_utf8[] = {
    {"\xc0\xaf", 2, "overlong '/' (2 bytes)"},
    {"\xc1\xbf", 2, "overlong U+007F"},
    {"\xe0\x80\xaf", 3, "overlong '/' (3 bytes)"},
    {"\xe0\x9f\xbf", 3, "overlong U+07FF"},
    {"\xf0\x80\x80\xaf", 4, "overlong '/' (4 bytes)"},
    {"\xf0\x8f\xbf\xbf", 4, "overlong U+FFFF"},
    {"\xed\xa0\x80", 3, "surrogate U+D800"},
    {"\xed\xbf\xbf", 3, "surrogate U+DFFF"},
    {"\xed\xa0\xbd\xed\xb8\x80", 6, "CESU-8 surrogate pair"},
    {"\xf4\x90\x80\x80", 4, "U+110000"},
    {"\xf5\x80\x80\x80", 4, "lead F5"},
    {"\xff", 1, "byte FF"},
    {"\xfe", 1, "byte FE"},
    {"\x80", 1, "lone continuation"},
    {"a\xbf", 2, "stray continuation"},
    {"\xe4\xb8", 2, "truncated 3-byte"},
    {"\xf0\x9f\x98", 3, "truncated 4-byte"},
    {"\xc3", 1, "truncated 2-byte"},
    {"\xe4\x41\xad", 3, "ASCII inside a sequence"},
    {"\xc3\xa9\xc3", 3, "truncated after a valid char"},
    {"a\0b", 3, "NUL"},
    {"\0", 1, "NUL alone"},
    {"abcdefg\0hijklmno", 16, "NUL inside an 8-byte chunk"},
    {"\xe4\xb8\xad\0", 4, "NUL after a CJK char"},
    {"abcdefg\0\xe4\xb8\xad", 11, "NUL in a chunk, then CJK"},
    {"abcdefg\0\xf0\x9f\x98\x80", 12, "NUL in a chunk, then emoji"},
    {"\xe4\xb8\xad abcdefghijklmnop\xf4\x90\x80\x80", 24, "U+110000 after UCS-2"},
    {"\xe4\xb8\xad\xc0\xaf", 5, "overlong after UCS-2"},
    {"\xe4\xb8\xad\xf0\x9f\x98", 6, "truncated emoji after UCS-2"},
    {"abcdefghijklmnopqrs\xc0\xaf", 21, "overlong after the fast path"},
    {"\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xed\xa0\x80", 12, "surrogate after CJK"},
};

static void test_text_invalid_utf8_corpus_is_rejected(void **state)
{
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		struct smsr__text_info ti = {7, 7, 7};

		if (smsr__text_scan(bad_utf8[i].s, bad_utf8[i].len, &ti) != -SMSR_EBADUTF8)
			fail_msg("scan accepted %s", bad_utf8[i].what);
		if (smsr__utf8_check(bad_utf8[i].s, bad_utf8[i].len) != -SMSR_EBADUTF8)
			fail_msg("utf8_check accepted %s", bad_utf8[i].what);
		/* A failed call changes nothing. */
		assert_int_equal(ti.units, 7);
		assert_int_equal(ti.segments, 7);
		assert_int_equal(ti.coding, 7);
	}
}

static void test_text_utf8_range_edges_are_valid(void **state)
{
	static const struct {
		const char *s;
		uint32_t units;
	} edges[] = {
	    {"\xc2\x80", 1},	     {"\xdf\xbf", 1},	      {"\xe0\xa0\x80", 1},
	    {"\xed\x9f\xbf", 1},     {"\xee\x80\x80", 1},     {"\xef\xbf\xbf", 1},
	    {"\xf0\x90\x80\x80", 2}, {"\xf4\x8f\xbf\xbf", 2},
	};

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		expect_str(edges[i].s, UCS2, edges[i].units, 1);
}

static void test_text_empty_is_rejected(void **state)
{
	struct smsr__text_info ti;

	assert_int_equal(smsr__text_scan("", 0, &ti), -SMSR_EEMPTY);
	assert_int_equal(smsr__text_scan(NULL, 0, &ti), -SMSR_EEMPTY);
	assert_int_equal(smsr__utf8_check("", 0), 0);
	assert_int_equal(smsr__utf8_check(NULL, 0), 0);
}

static void test_text_scan_reads_only_len_bytes(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static const char *texts[] = {"abcdefghijklm", "中文短信", "a€", "abcdefg\xe4\xb8\xad",
				      "\xe4\xb8"};

	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t len = strlen(texts[i]);
		char *s = map + page - len; /* the text ends at the guard page */
		struct smsr__text_info ti;
		int want = i == 4 ? -SMSR_EBADUTF8 : 0;

		memcpy(s, texts[i], len);
		assert_int_equal(smsr__text_scan(s, len, &ti), want);
		assert_int_equal(smsr__utf8_check(s, len), want);
	}
	/* Not NUL-terminated, @len short of the bytes that follow. */
	assert_int_equal(smsr__text_scan("abc\xff", 3, &(struct smsr__text_info){0}), 0);
	munmap(map, (size_t)page * 2);
}

/* ---- reference model ---------------------------------------------------- */

struct piece {
	const char *s;
	unsigned septets; /* 0: not GSM */
	unsigned units;
};

static const struct piece pieces[] = {
    {"a", 1, 1},  {"Z", 1, 1}, {" ", 1, 1}, {"7", 1, 1},  {"\n", 1, 1}, {"{", 2, 1},
    {"\\", 2, 1}, {"€", 2, 1}, {"é", 1, 1}, {"Ω", 1, 1},  {"¡", 1, 1},	{"中", 0, 1},
    {"，", 0, 1}, {"😀", 0, 2}, {"ç", 0, 1}, {"\t", 0, 1},
};

/* Greedy packing, character by character: the definition of a part. */
static uint32_t model_segments(const size_t *idx, size_t n, int gsm)
{
	unsigned total = 0, fill = 0, parts = 1, per = gsm ? 153 : 67;

	for (size_t i = 0; i < n; i++) {
		unsigned c = gsm ? pieces[idx[i]].septets : pieces[idx[i]].units;

		total += c;
		if (fill + c > per) {
			parts++;
			fill = c;
		} else {
			fill += c;
		}
	}
	return total <= (gsm ? 160u : 70u) ? 1 : parts;
}

static unsigned test_seed(void)
{
	const char *env = getenv("SMSR_TEST_SEED");

	return env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
}

static void test_text_scan_matches_per_character_model(void **state)
{
	static size_t idx[1200];
	unsigned seed = test_seed();

	printf("test_text_scan_matches_per_character_model: SMSR_TEST_SEED=%u\n", seed);
	srand(seed);
	for (int round = 0; round < 3000; round++) {
		/* Mostly GSM texts; some rounds allow every piece. */
		size_t npieces = round % 3 ? 11 : sizeof(pieces) / sizeof(pieces[0]);
		size_t n = 1 + (size_t)rand() % (round % 2 ? 400 : 1200), len = 0;
		uint32_t septets = 0, units = 0;
		int gsm = 1;

		for (size_t i = 0; i < n; i++) {
			idx[i] = (size_t)rand() % npieces;
			if (rand() % 4)
				idx[i] = (size_t)rand() % 5; /* long ASCII runs */
			len = append(len, pieces[idx[i]].s, 1);
			septets += pieces[idx[i]].septets;
			units += pieces[idx[i]].units;
			gsm &= pieces[idx[i]].septets != 0;
		}
		if (len == 0)
			continue;
		expect_scan(buf, len, gsm ? GSM : UCS2, gsm ? septets : units,
			    model_segments(idx, n, gsm));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_ascii_is_gsm7_one_septet_each),
	    cmocka_unit_test(test_text_gsm7_segment_boundaries),
	    cmocka_unit_test(test_text_extension_chars_cost_two_septets),
	    cmocka_unit_test(test_text_escape_pair_is_never_split_across_parts),
	    cmocka_unit_test(test_text_gsm_basic_non_ascii_members_are_gsm7),
	    cmocka_unit_test(test_text_near_misses_force_ucs2),
	    cmocka_unit_test(test_text_every_bmp_char_is_classified_as_the_spec_says),
	    cmocka_unit_test(test_text_ucs2_counts_utf16_units_and_boundaries),
	    cmocka_unit_test(test_text_emoji_count_two_units_and_stay_whole),
	    cmocka_unit_test(test_text_invalid_utf8_corpus_is_rejected),
	    cmocka_unit_test(test_text_utf8_range_edges_are_valid),
	    cmocka_unit_test(test_text_empty_is_rejected),
	    cmocka_unit_test(test_text_scan_reads_only_len_bytes),
	    cmocka_unit_test(test_text_scan_matches_per_character_model),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
