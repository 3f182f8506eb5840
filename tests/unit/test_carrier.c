/* SPDX-License-Identifier: MIT */
/*
 * Description: carrier lookup. The built-in mainland ranges map to the
 * carrier MIIT allocated them to (this file keeps its own copy of the
 * 2024 list, so a change to either shows up here); +86 numbers outside
 * every range are unknown and other country codes international;
 * configured prefixes override built-in ones (longest prefix wins, equal
 * length: config wins); ported numbers beat every prefix. A randomized
 * test checks the trie and the ported hash against a linear scan over the
 * same entries; set SMSR_TEST_SEED to replay a printed seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "msg/carrier.h"

#define CMCC SMSR_CARRIER_CMCC
#define CUCC SMSR_CARRIER_CUCC
#define CTCC SMSR_CARRIER_CTCC
#define CBN  SMSR_CARRIER_CBN

struct ref_entry {
	const char *digits; /* after "+86" */
	uint8_t carrier;
};

/* The MIIT 2024 allocation, written out independently of core/msg/carrier.c. */
static const struct ref_entry miit_2024[] = {
    {"134", CMCC}, /* 1340-1348; 1349 is Telecom's, below */
    {"135", CMCC},  {"136", CMCC},  {"137", CMCC},  {"138", CMCC},  {"139", CMCC},  {"147", CMCC},
    {"148", CMCC},  {"150", CMCC},  {"151", CMCC},  {"152", CMCC},  {"157", CMCC},  {"158", CMCC},
    {"159", CMCC},  {"165", CMCC},  {"172", CMCC},  {"178", CMCC},  {"182", CMCC},  {"183", CMCC},
    {"184", CMCC},  {"187", CMCC},  {"188", CMCC},  {"195", CMCC},  {"197", CMCC},  {"198", CMCC},
    {"1440", CMCC}, {"1703", CMCC}, {"1705", CMCC}, {"1706", CMCC}, {"130", CUCC},  {"131", CUCC},
    {"132", CUCC},  {"145", CUCC},  {"146", CUCC},  {"155", CUCC},  {"156", CUCC},  {"166", CUCC},
    {"167", CUCC},  {"171", CUCC},  {"175", CUCC},  {"176", CUCC},  {"185", CUCC},  {"186", CUCC},
    {"196", CUCC},  {"1704", CUCC}, {"1707", CUCC}, {"1708", CUCC}, {"1709", CUCC}, {"133", CTCC},
    {"1349", CTCC}, {"149", CTCC},  {"153", CTCC},  {"162", CTCC},  {"173", CTCC},  {"1740", CTCC},
    {"1741", CTCC}, {"1742", CTCC}, {"1743", CTCC}, {"1744", CTCC}, {"1745", CTCC}, {"177", CTCC},
    {"180", CTCC},  {"181", CTCC},  {"189", CTCC},  {"190", CTCC},  {"191", CTCC},  {"193", CTCC},
    {"199", CTCC},  {"1700", CTCC}, {"1701", CTCC}, {"1702", CTCC}, {"192", CBN},
};
#define NMIIT (sizeof(miit_2024) / sizeof(miit_2024[0]))

static enum smsr_carrier lookup(const struct smsr__carrier_table *t, const char *e164)
{
	return smsr__carrier_lookup(t, e164, strlen(e164));
}

static struct smsr__carrier_table *builtin_only(void)
{
	struct smsr__carrier_table *t = NULL;

	assert_int_equal(smsr__carrier_table_create(&t, NULL, 0, NULL, 0), 0);
	assert_non_null(t);
	return t;
}

static struct smsr__carrier_entry entry(const char *key, uint8_t carrier)
{
	struct smsr__carrier_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(e.key, sizeof(e.key), "%s", key);
	e.carrier = carrier;
	return e;
}

static void test_carrier_builtin_ranges_match_miit_2024(void **state)
{
	struct smsr__carrier_table *t = builtin_only();

	for (size_t i = 0; i < NMIIT; i++) {
		char num[SMSR_E164_MAX + 1];

		/* Pad the range to a full 11-digit mobile number. */
		snprintf(num, sizeof(num), "+86%s%.*s", miit_2024[i].digits,
			 (int)(11 - strlen(miit_2024[i].digits)), "0123456789");
		if (lookup(t, num) != miit_2024[i].carrier)
			fail_msg("%s: got %d, want %d", num, lookup(t, num), miit_2024[i].carrier);
	}
	smsr__carrier_table_destroy(t);
}

static void test_carrier_four_digit_ranges_refine_three_digit_ones(void **state)
{
	static const struct {
		const char *num;
		enum smsr_carrier want;
	} cases[] = {
	    {"+8613481234567", CMCC}, {"+8613491234567", CTCC}, /* 1349 satellite */
	    {"+8617451234567", CTCC}, {"+8617461234567", SMSR_CARRIER_UNKNOWN},
	    {"+8617001234567", CTCC}, {"+8617031234567", CMCC},
	    {"+8617041234567", CUCC}, {"+8617091234567", CUCC},
	    {"+8614401234567", CMCC}, {"+8614411234567", SMSR_CARRIER_UNKNOWN},
	};
	struct smsr__carrier_table *t = builtin_only();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (lookup(t, cases[i].num) != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].num, lookup(t, cases[i].num),
				 cases[i].want);
	smsr__carrier_table_destroy(t);
}

static void test_carrier_unallocated_mainland_is_unknown_foreign_is_intl(void **state)
{
	static const char *unknown[] = {"+8614012345678", "+8615412345678", "+8616012345678",
					"+8616812345678", "+8617912345678", "+8619412345678",
					"+861065529988",  "+8612812345678", "+86"};
	static const char *intl[] = {"+14155550123",  "+85291234567", "+442079460958",
				     "+819012345678", "+8",	      "+87012345678",
				     "+6512345678"};
	struct smsr__carrier_table *t = builtin_only();

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		if (lookup(t, unknown[i]) != SMSR_CARRIER_UNKNOWN)
			fail_msg("%s: got %d, want unknown", unknown[i], lookup(t, unknown[i]));
	for (size_t i = 0; i < sizeof(intl) / sizeof(intl[0]); i++)
		if (lookup(t, intl[i]) != SMSR_CARRIER_INTL)
			fail_msg("%s: got %d, want intl", intl[i], lookup(t, intl[i]));
	smsr__carrier_table_destroy(t);
}

static void test_carrier_lookup_uses_len_and_rejects_unnormalized(void **state)
{
	struct smsr__carrier_table *t = builtin_only();

	/* Only the first @len bytes count: "+86138" is China Mobile's range. */
	assert_int_equal(smsr__carrier_lookup(t, "+8613812345678", 6), CMCC);
	assert_int_equal(smsr__carrier_lookup(t, "+8613012345678", 6), CUCC);
	assert_int_equal(lookup(t, "8613812345678"), SMSR_CARRIER_UNKNOWN);
	assert_int_equal(lookup(t, "+86 13812345678"), SMSR_CARRIER_UNKNOWN);
	assert_int_equal(lookup(t, "+"), SMSR_CARRIER_UNKNOWN);
	assert_int_equal(lookup(t, ""), SMSR_CARRIER_UNKNOWN);
	assert_int_equal(lookup(t, "+86138123456789012"), SMSR_CARRIER_UNKNOWN);
	assert_int_equal(smsr__carrier_lookup(t, NULL, 5), SMSR_CARRIER_UNKNOWN);
	assert_int_equal(smsr__carrier_lookup(NULL, "+8613812345678", 14), SMSR_CARRIER_UNKNOWN);
	smsr__carrier_table_destroy(t);
}

static void test_carrier_config_prefix_longest_wins_equal_length_config_wins(void **state)
{
	const struct smsr__carrier_entry cfg[] = {
	    entry("+86138", CUCC),  /* same length as built-in 138: config wins */
	    entry("+861391", CTCC), /* longer than built-in 139 */
	    entry("+8614", CBN),    /* shorter than built-in 147: built-in stays */
	    entry("+852", CMCC),    /* China Mobile Hong Kong, say */
	    entry("+8619", CMCC),   /* shorter than 199: 199 stays Telecom */
	    entry("+86150", CTCC),  /* duplicate key: the last one wins */
	    entry("+86150", CUCC),
	};
	struct smsr__carrier_table *t = NULL;

	assert_int_equal(smsr__carrier_table_create(&t, cfg, 7, NULL, 0), 0);
	assert_int_equal(lookup(t, "+8613812345678"), CUCC);
	assert_int_equal(lookup(t, "+8613912345678"), CTCC);
	assert_int_equal(lookup(t, "+8613922345678"), CMCC);
	assert_int_equal(lookup(t, "+8614712345678"), CMCC);
	assert_int_equal(lookup(t, "+8614112345678"), CBN);
	assert_int_equal(lookup(t, "+85291234567"), CMCC);
	assert_int_equal(lookup(t, "+85391234567"), SMSR_CARRIER_INTL);
	assert_int_equal(lookup(t, "+8619912345678"), CTCC);
	assert_int_equal(lookup(t, "+8619412345678"), CMCC);
	assert_int_equal(lookup(t, "+8615012345678"), CUCC);
	smsr__carrier_table_destroy(t);
}

static void test_carrier_ported_number_beats_every_prefix(void **state)
{
	const struct smsr__carrier_entry cfg[] = {entry("+8613812", CTCC)};
	const struct smsr__carrier_entry ported[] = {
	    entry("+8613812345678", CUCC), entry("+8613912345678", CBN),
	    entry("+14155550123", CMCC),
	    entry("+8613912345678", CTCC), /* the same number again: last wins */
	};
	struct smsr__carrier_table *t = NULL;

	assert_int_equal(smsr__carrier_table_create(&t, cfg, 1, ported, 4), 0);
	assert_int_equal(lookup(t, "+8613812345678"), CUCC);
	assert_int_equal(lookup(t, "+8613812345679"), CTCC); /* config prefix */
	assert_int_equal(lookup(t, "+8613912345678"), CTCC);
	assert_int_equal(lookup(t, "+8613912345679"), CMCC); /* built-in */
	assert_int_equal(lookup(t, "+14155550123"), CMCC);
	assert_int_equal(lookup(t, "+1415555012"), SMSR_CARRIER_INTL); /* a prefix of it */
	assert_int_equal(lookup(t, "+141555501234"), SMSR_CARRIER_INTL);
	smsr__carrier_table_destroy(t);
}

static void test_carrier_many_ported_numbers_all_found(void **state)
{
	enum {
		N = 20000
	};
	struct smsr__carrier_entry *ported = calloc(N, sizeof(*ported));
	struct smsr__carrier_table *t = NULL;
	char num[SMSR_E164_MAX + 1];

	assert_non_null(ported);
	/* Consecutive numbers in one China Mobile range: worst case for a weak hash. */
	for (int i = 0; i < N; i++) {
		snprintf(ported[i].key, sizeof(ported[i].key), "+86138%08d", i * 2);
		ported[i].carrier = (uint8_t)(1 + i % 4);
	}
	assert_int_equal(smsr__carrier_table_create(&t, NULL, 0, ported, N), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(lookup(t, ported[i].key), 1 + i % 4);
		snprintf(num, sizeof(num), "+86138%08d", i * 2 + 1);
		assert_int_equal(lookup(t, num), CMCC);
	}
	smsr__carrier_table_destroy(t);
	free(ported);
}

static void test_carrier_invalid_entries_are_rejected(void **state)
{
	static const char *bad_keys[] = {"",	 "+",	 "86138",   "+86a38",
					 "+086", "++86", "+86 138", "+86-138"};
	struct smsr__carrier_table *t = NULL;
	struct smsr__carrier_entry e = entry("+86138", CMCC);

	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		struct smsr__carrier_entry b = entry(bad_keys[i], CMCC);

		assert_int_equal(smsr__carrier_table_create(&t, &b, 1, NULL, 0), -SMSR_EINVAL);
		assert_int_equal(smsr__carrier_table_create(&t, NULL, 0, &b, 1), -SMSR_EINVAL);
	}
	memset(e.key, '1', sizeof(e.key)); /* no terminating NUL */
	e.key[0] = '+';
	assert_int_equal(smsr__carrier_table_create(&t, &e, 1, NULL, 0), -SMSR_EINVAL);
	e = entry("+86138", SMSR_NCARRIER);
	assert_int_equal(smsr__carrier_table_create(&t, &e, 1, NULL, 0), -SMSR_EINVAL);
	assert_int_equal(smsr__carrier_table_create(&t, NULL, 1, NULL, 0), -SMSR_EINVAL);
	assert_int_equal(smsr__carrier_table_create(&t, NULL, 0, NULL, 1), -SMSR_EINVAL);
	assert_int_equal(smsr__carrier_table_create(NULL, NULL, 0, NULL, 0), -SMSR_EINVAL);
	assert_null(t); /* a failed call changes nothing */
	smsr__carrier_table_destroy(NULL);
}

/* ---- reference model ---------------------------------------------------- */

struct model {
	char keys[512][SMSR_E164_MAX + 1]; /* digits after '+'; built-in first */
	uint8_t carriers[512];
	size_t n;
	char ported[256][SMSR_E164_MAX + 1];
	uint8_t ported_carrier[256];
	size_t nported;
};

/* Linear scan: exact ported match (last wins), else longest prefix (later wins). */
static enum smsr_carrier model_lookup(const struct model *m, const char *e164)
{
	const char *d = e164 + 1;
	size_t best_len = 0;
	int best = -1;

	for (size_t i = m->nported; i-- > 0;)
		if (strcmp(m->ported[i], e164) == 0)
			return m->ported_carrier[i];
	for (size_t i = 0; i < m->n; i++) {
		size_t kl = strlen(m->keys[i]);

		if (kl >= best_len && strncmp(d, m->keys[i], kl) == 0) {
			best_len = kl;
			best = m->carriers[i];
		}
	}
	if (best >= 0)
		return best;
	return strncmp(d, "86", 2) == 0 ? SMSR_CARRIER_UNKNOWN : SMSR_CARRIER_INTL;
}

static void random_digits(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('0' + rand() % 10);
	s[n] = '\0';
}

/* A random E.164 string: mostly mainland mobile-like, sometimes foreign. */
static void random_number(char *out, size_t max_digits)
{
	size_t len = 1 + (size_t)rand() % max_digits;
	char d[SMSR_E164_MAX + 1];

	random_digits(d, len);
	if (rand() % 4 != 0 && len >= 4) {
		d[0] = '8';
		d[1] = '6';
		d[2] = '1';
	}
	if (d[0] == '0')
		d[0] = '1';
	out[0] = '+';
	memcpy(out + 1, d, len + 1); /* len <= 15: fits SMSR_E164_MAX + 1 */
}

static void model_fill(struct model *m, struct smsr__carrier_entry *cfg, size_t ncfg,
		       struct smsr__carrier_entry *ported, size_t nported)
{
	m->n = 0;
	for (size_t i = 0; i < NMIIT; i++) {
		snprintf(m->keys[m->n], sizeof(m->keys[0]), "86%s", miit_2024[i].digits);
		m->carriers[m->n++] = miit_2024[i].carrier;
	}
	for (size_t i = 0; i < ncfg; i++) {
		random_number(cfg[i].key, 8);
		cfg[i].carrier = (uint8_t)(rand() % SMSR_NCARRIER);
		memcpy(m->keys[m->n], cfg[i].key + 1, sizeof(cfg[i].key) - 1);
		m->carriers[m->n++] = cfg[i].carrier;
	}
	for (size_t i = 0; i < nported; i++) {
		random_number(ported[i].key, 15);
		ported[i].carrier = (uint8_t)(rand() % SMSR_NCARRIER);
		memcpy(m->ported[i], ported[i].key, sizeof(m->ported[0]));
		m->ported_carrier[i] = ported[i].carrier;
	}
	m->nported = nported;
}

static unsigned test_seed(void)
{
	const char *env = getenv("SMSR_TEST_SEED");

	return env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
}

static void test_carrier_lookup_matches_linear_scan_model(void **state)
{
	static struct model m;
	static struct smsr__carrier_entry cfg[300], ported[200];
	unsigned seed = test_seed();

	printf("test_carrier_lookup_matches_linear_scan_model: SMSR_TEST_SEED=%u\n", seed);
	srand(seed);
	for (int round = 0; round < 50; round++) {
		size_t ncfg = (size_t)rand() % 300, nported = (size_t)rand() % 200;
		struct smsr__carrier_table *t = NULL;

		model_fill(&m, cfg, ncfg, ported, nported);
		assert_int_equal(smsr__carrier_table_create(&t, cfg, ncfg, ported, nported), 0);
		for (int q = 0; q < 4000; q++) {
			char num[SMSR_E164_MAX + 1];

			if (nported && q % 8 == 0)
				snprintf(num, sizeof(num), "%s",
					 ported[(size_t)rand() % nported].key);
			else
				random_number(num, 15);
			if (lookup(t, num) != model_lookup(&m, num))
				fail_msg("seed %u round %d: %s got %d, model %d", seed, round, num,
					 lookup(t, num), model_lookup(&m, num));
		}
		smsr__carrier_table_destroy(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_carrier_builtin_ranges_match_miit_2024),
	    cmocka_unit_test(test_carrier_four_digit_ranges_refine_three_digit_ones),
	    cmocka_unit_test(test_carrier_unallocated_mainland_is_unknown_foreign_is_intl),
	    cmocka_unit_test(test_carrier_lookup_uses_len_and_rejects_unnormalized),
	    cmocka_unit_test(test_carrier_config_prefix_longest_wins_equal_length_config_wins),
	    cmocka_unit_test(test_carrier_ported_number_beats_every_prefix),
	    cmocka_unit_test(test_carrier_many_ported_numbers_all_found),
	    cmocka_unit_test(test_carrier_invalid_entries_are_rejected),
	    cmocka_unit_test(test_carrier_lookup_matches_linear_scan_model),
	};

	return cmocka_run_group_tests_name("carrier", tests, NULL, NULL);
}
