/* SPDX-License-Identifier: MIT */
/*
 * Description: smsr_e164_normalize() turns every common spelling of one
 * number into the same E.164 string and rejects anything it cannot place
 * for certain: bare foreign numbers, trunk forms, bad lengths, stray
 * characters. Table-driven; each row names the input and the exact result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smsr/msg.h"

struct norm_case {
	const char *in;
	const char *want; /* NULL: must be rejected */
};

static void check_cases(const struct norm_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char out[SMSR_E164_MAX + 1];
		int rc;

		memset(out, 'x', sizeof(out));
		rc = smsr_e164_normalize(c[i].in, out);
		if (!c[i].want) {
			if (rc != -SMSR_EBADNUMBER)
				fail_msg("\"%s\" accepted as %d \"%.*s\"", c[i].in, rc,
					 rc > 0 ? rc : 0, out);
			continue;
		}
		if (rc < 0)
			fail_msg("\"%s\" rejected (%d), want \"%s\"", c[i].in, rc, c[i].want);
		assert_int_equal(rc, (int)strlen(c[i].want));
		assert_string_equal(out, c[i].want);
	}
}

static void test_phone_mainland_mobile_spellings_normalize_to_one(void **state)
{
	static const struct norm_case cases[] = {
	    {"+8613812345678", "+8613812345678"},    {"8613812345678", "+8613812345678"},
	    {"008613812345678", "+8613812345678"},   {"13812345678", "+8613812345678"},
	    {"+86 138-1234-5678", "+8613812345678"}, {"(+86) 138 1234 5678", "+8613812345678"},
	    {"+86.138.1234.5678", "+8613812345678"}, {"0086 (138) 1234-5678", "+8613812345678"},
	    {"  13812345678  ", "+8613812345678"},   {"\t138 1234 5678", "+8613812345678"},
	    {"86 138 1234 5678", "+8613812345678"},  {"19912345678", "+8619912345678"},
	    {"16612345678", "+8616612345678"},	     {"+8619212345678", "+8619212345678"},
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_phone_international_numbers_need_a_prefix(void **state)
{
	static const struct norm_case cases[] = {
	    {"+14155550123", "+14155550123"},
	    {"0014155550123", "+14155550123"},
	    {"+1 (415) 555-0123", "+14155550123"},
	    {"+44 20 7946 0958", "+442079460958"},
	    {"0044 20 7946 0958", "+442079460958"},
	    {"+852 9123 4567", "+85291234567"},
	    {"+81 90-1234-5678", "+819012345678"},
	    {"4155550123", NULL},     /* bare: no country code */
	    {"442079460958", NULL},   /* bare foreign number */
	    {"85291234567", NULL},    /* bare: 852 is not 86 */
	    {"14155550123x", NULL},   /* letter */
	    {"+0014155550123", NULL}, /* '+' then "00": country code 0 */
	    {"000014155550123", NULL},
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_phone_length_limits_are_8_to_15_digits(void **state)
{
	static const struct norm_case cases[] = {
	    {"+4412345", NULL},			       /* 7 digits */
	    {"+44123456", "+44123456"},		       /* 8 digits */
	    {"+441234567890123", "+441234567890123"},  /* 15 digits */
	    {"+4412345678901234", NULL},	       /* 16 digits */
	    {"00441234567890123", "+441234567890123"}, /* 00 + 15 */
	    {"004412345678901234", NULL},	       /* 00 + 16 */
	    {"+1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0", NULL},
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_phone_plus86_requires_mobile_or_valid_landline(void **state)
{
	static const struct norm_case cases[] = {
	    {"+86 0138 1234 5678", NULL},	   /* trunk 0 after the country code */
	    {"+86 12812345678", NULL},		   /* 12x is not a mobile range */
	    {"+86 1381234567", NULL},		   /* mobile one digit short */
	    {"+86 138123456789", NULL},		   /* mobile one digit long */
	    {"+86 10 6552 9988", "+861065529988"}, /* Beijing, 8-digit subscriber */
	    {"+86 21 5012 3456", "+862150123456"}, /* Shanghai */
	    {"+86 755 8888 9999", "+8675588889999"},
	    {"+86 571 888 9999", "+865718889999"}, /* 3-digit area, 7 digits */
	    {"+86 571 888 999", NULL},		   /* 3-digit area, 6 digits */
	    {"+86 755 8888 99999", NULL},	   /* 3-digit area, 9 digits */
	    {"+86 10 1234 5678", NULL},		   /* subscriber starts with 1 */
	    {"+86 10 652 9988", NULL},		   /* 2-digit area needs 8 digits */
	    {"+86 26 5012 3456", NULL},		   /* 26 is unassigned */
	    {"+86 27 5012 3456", "+862750123456"}, /* Wuhan */
	    {"+86 20 5012 34567", NULL},	   /* too long for a 2-digit area */
	    {"+86 290 5012 3456", NULL},	   /* 29 is 2-digit: too long */
	    {"010 6552 9988", NULL},		   /* domestic trunk form */
	    {"861065529988", NULL},		   /* bare 86 + landline */
	    {"8612812345678", NULL},		   /* bare 86 + non-mobile */
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_phone_bare_number_must_be_mainland_mobile(void **state)
{
	static const struct norm_case cases[] = {
	    {"12812345678", NULL},  /* 12x */
	    {"10812345678", NULL},  /* 10x */
	    {"1381234567", NULL},   /* 10 digits */
	    {"138123456789", NULL}, /* 12 digits */
	    {"23812345678", NULL},  /* 11 digits, not 1x */
	    {"13012345678", "+8613012345678"},
	    {"19812345678", "+8619812345678"},
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_phone_garbage_is_rejected(void **state)
{
	static const struct norm_case cases[] = {
	    {"", NULL},
	    {"   ", NULL},
	    {"+", NULL},
	    {"()", NULL},
	    {"++8613812345678", NULL},
	    {"+86+13812345678", NULL},
	    {"86+13812345678", NULL},
	    {"138+12345678", NULL},
	    {"1381234567８", NULL}, /* full-width digit */
	    {"13812345678#", NULL},
	    {"tel:+8613812345678", NULL},
	    {"+86_13812345678", NULL},
	    {"1", NULL},
	    {"00", NULL},
	    {"86", NULL},
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_phone_null_input_is_rejected(void **state)
{
	char out[SMSR_E164_MAX + 1];

	assert_int_equal(smsr_e164_normalize(NULL, out), -SMSR_EBADNUMBER);
	assert_int_equal(smsr_e164_normalize("+8613812345678", NULL), -SMSR_EBADNUMBER);
}

static void test_phone_longest_result_fits_declared_buffer(void **state)
{
	char out[SMSR_E164_MAX + 2];

	out[SMSR_E164_MAX + 1] = 'G'; /* guard byte just past the declared size */
	assert_int_equal(smsr_e164_normalize("+999123456789012", out), SMSR_E164_MAX);
	assert_int_equal(out[SMSR_E164_MAX], '\0');
	assert_int_equal(out[SMSR_E164_MAX + 1], 'G');
}

static void test_phone_result_is_a_fixed_point(void **state)
{
	static const char *inputs[] = {"13812345678", "0014155550123", "+86 10 6552 9988",
				       "(+852) 9123-4567"};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char a[SMSR_E164_MAX + 1], b[SMSR_E164_MAX + 1];
		int na = smsr_e164_normalize(inputs[i], a);

		assert_true(na > 0);
		assert_int_equal(smsr_e164_normalize(a, b), na);
		assert_string_equal(a, b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_phone_mainland_mobile_spellings_normalize_to_one),
	    cmocka_unit_test(test_phone_international_numbers_need_a_prefix),
	    cmocka_unit_test(test_phone_length_limits_are_8_to_15_digits),
	    cmocka_unit_test(test_phone_plus86_requires_mobile_or_valid_landline),
	    cmocka_unit_test(test_phone_bare_number_must_be_mainland_mobile),
	    cmocka_unit_test(test_phone_garbage_is_rejected),
	    cmocka_unit_test(test_phone_null_input_is_rejected),
	    cmocka_unit_test(test_phone_longest_result_fits_declared_buffer),
	    cmocka_unit_test(test_phone_result_is_a_fixed_point),
	};

	return cmocka_run_group_tests_name("phone", tests, NULL, NULL);
}
