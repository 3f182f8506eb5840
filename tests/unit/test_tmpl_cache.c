/* SPDX-License-Identifier: MIT */
/*
 * Description: the template cache (core/classify/tmpl_cache.c). Masking turns
 * exactly the ASCII digits into '0'; what the cache keeps — text scan and
 * class — is the same for a text and its template on every corpus text and
 * on every random redraw of its digits (the cache's premise, checked rather
 * than assumed); a template gets an entry from its second sight; lookups
 * find a template whatever its digits, never a different text, keep
 * entries apart per thread, and refuse empty and over-long texts.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smsr/msg.h"
#include "msg/msg_text.h"
#include "classify/tmpl_cache.h"

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_tmpl_mask_turns_exactly_ascii_digits_to_zero(void **state)
{
	char in[300], out[300];
	uint64_t rng = 0x1234567ull;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t len = 1 + xs(&rng) % sizeof(in);

		for (size_t i = 0; i < len; i++)
			in[i] = (char)(xs(&rng) & 0xff);
		smsr__tmpl_mask(in, len, out);
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)in[i];

			assert_int_equal((unsigned char)out[i], c >= '0' && c <= '9' ? '0' : c);
		}
	}
}

/* @text with each ASCII digit redrawn at random. */
static void redraw_digits(const char *text, size_t len, char *out, uint64_t *rng)
{
	for (size_t i = 0; i < len; i++)
		out[i] = text[i] >= '0' && text[i] <= '9' ? (char)('0' + xs(rng) % 10) : text[i];
}

static void check_same(const char *a, const char *b, size_t len)
{
	struct smsr__text_info ia, ib;
	int ra = smsr__text_scan(a, len, &ia), rb = smsr__text_scan(b, len, &ib);

	assert_int_equal(ra, rb);
	if (ra == 0) {
		assert_int_equal(ia.units, ib.units);
		assert_int_equal(ia.segments, ib.segments);
		assert_int_equal(ia.coding, ib.coding);
	}
	if (smsr_classify(a, len) != smsr_classify(b, len))
		fail_msg("class differs from its template's: %.*s", (int)len, a);
}

/* Every text of @path (class<TAB>text lines): returns how many. */
static unsigned check_corpus(const char *path, uint64_t *rng)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, masked[4096], redrawn[4096];
	size_t cap = 0;
	ssize_t n;
	unsigned count = 0;

	if (!f)
		return 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		char *tab = strchr(line, '\t'), *text;
		size_t len;

		if (!tab)
			continue;
		text = tab + 1;
		len = strcspn(text, "\r\n");
		if (len == 0 || len > sizeof(masked))
			continue;
		smsr__tmpl_mask(text, len, masked);
		check_same(text, masked, len);
		redraw_digits(text, len, redrawn, rng);
		check_same(text, redrawn, len);
		count++;
	}
	free(line);
	fclose(f);
	return count;
}

static void test_tmpl_scan_and_class_hold_for_the_whole_template(void **state)
{
	static const char *const files[] = {
	    SMSR_SHARED_DIR "/corpus/classify-dev.tsv", SMSR_TEST_DATA "/classify-train.tsv",
	    SMSR_TEST_DATA "/classify-train2.tsv",	SMSR_TEST_DATA "/classify-holdout.tsv",
	    SMSR_TEST_DATA "/classify-eval.tsv",	SMSR_TEST_DATA "/classify-eval2.tsv",
	    SMSR_TEST_DATA "/classify-eval3.tsv"};
	uint64_t rng = 0xfeedull;
	unsigned total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		total += check_corpus(files[i], &rng);
	print_message("%u corpus texts: same scan and class as their templates\n", total);
	assert_true(total > 3000);
}

static void test_tmpl_lookup_finds_the_template_not_another_text(void **state)
{
	const char *a = "Your code is 123456. It expires in 5 minutes.";
	const char *b = "Your code is 987654. It expires in 9 minutes.";
	const char *c = "Your code is 123456. It expires in 5 minutez.";
	struct smsr__tmpl *t;
	char big[SMSR__TMPL_TEXT_MAX + 1];

	(void)state;
	assert_null(smsr__tmpl_lookup(a, strlen(a))); /* first sight: only noted */
	t = smsr__tmpl_lookup(a, strlen(a));
	assert_non_null(t);
	assert_int_equal(t->have, 0); /* claimed: for the caller to fill */
	t->cls = SMSR_CLASS_VERIFICATION;
	t->have = SMSR__TMPL_CLS;
	t = smsr__tmpl_lookup(b, strlen(b));
	assert_non_null(t);
	assert_int_equal(t->have, SMSR__TMPL_CLS);
	assert_int_equal(t->cls, SMSR_CLASS_VERIFICATION);
	/* One letter apart: another template, seen for the first time. */
	assert_null(smsr__tmpl_lookup(c, strlen(c)));
	t = smsr__tmpl_lookup(c, strlen(c));
	assert_non_null(t);
	assert_int_equal(t->have, 0);
	/* Same text, one byte shorter: another template too. */
	assert_null(smsr__tmpl_lookup(a, strlen(a) - 1));
	assert_int_equal(smsr__tmpl_lookup(a, strlen(a) - 1)->have, 0);
	assert_null(smsr__tmpl_lookup(a, 0));
	assert_null(smsr__tmpl_lookup(NULL, 3));
	memset(big, 'x', sizeof(big));
	assert_null(smsr__tmpl_lookup(big, sizeof(big)));
	assert_null(smsr__tmpl_lookup(big, sizeof(big)));
	assert_null(smsr__tmpl_lookup(big, sizeof(big) - 1));
	assert_non_null(smsr__tmpl_lookup(big, sizeof(big) - 1));
}

/*
 * Thousands of templates through a 512-entry cache: whatever is found must
 * be what was stored for that very template.
 */
static void test_tmpl_replacement_never_mixes_templates(void **state)
{
	char text[64];
	uint64_t rng = 99;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		unsigned k = (unsigned)(xs(&rng) % 3000);
		int len =
		    snprintf(text, sizeof(text), "tmpl %c%c%c code %u", 'a' + k % 26,
			     'a' + k / 26 % 26, 'a' + k / 676 % 26, (unsigned)(xs(&rng) % 1000000));
		struct smsr__tmpl *t = smsr__tmpl_lookup(text, (size_t)len);

		if (!t)
			continue; /* first sight */
		if (t->have) {
			assert_int_equal(t->text.units, k); /* what was stored for k */
		} else {
			t->text.units = k;
			t->have = SMSR__TMPL_TEXT;
		}
	}
}

static void *other_thread(void *arg)
{
	const char *a = arg;
	struct smsr__tmpl *t = smsr__tmpl_lookup(a, strlen(a)); /* first sight here too */

	if (!t)
		t = smsr__tmpl_lookup(a, strlen(a));

	return (void *)(uintptr_t)(t ? t->have + 1 : 0);
}

static void test_tmpl_caches_are_per_thread(void **state)
{
	static char a[] = "Parcel 7731 is at the front desk.";
	struct smsr__tmpl *t;
	pthread_t th;
	void *ret;

	(void)state;
	smsr__tmpl_lookup(a, strlen(a));
	t = smsr__tmpl_lookup(a, strlen(a));
	t->have = SMSR__TMPL_TEXT;
	assert_int_equal(pthread_create(&th, NULL, other_thread, a), 0);
	pthread_join(th, &ret);
	assert_int_equal((uintptr_t)ret, 1); /* a fresh, empty entry there */
	assert_int_equal(smsr__tmpl_lookup(a, strlen(a))->have, SMSR__TMPL_TEXT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tmpl_mask_turns_exactly_ascii_digits_to_zero),
	    cmocka_unit_test(test_tmpl_scan_and_class_hold_for_the_whole_template),
	    cmocka_unit_test(test_tmpl_lookup_finds_the_template_not_another_text),
	    cmocka_unit_test(test_tmpl_replacement_never_mixes_templates),
	    cmocka_unit_test(test_tmpl_caches_are_per_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
