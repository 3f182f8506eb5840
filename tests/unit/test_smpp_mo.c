/* SPDX-License-Identifier: MIT */
/*
 * Description: SMPP MO concatenation (core/chan/smpp_mo.c). UDH parsing:
 * 8-bit and 16-bit reference elements among others, no element, elements
 * 23.040 says to ignore, and malformed headers (UDHL past the end, an
 * element past UDHL, wrong element length) as -SMSR_EBADPDU, read from
 * exact-size buffers (ASan). Reassembly: in order, out of order,
 * duplicates, interleaved senders and references, single parts, timeout
 * and next expiry, entry and byte bounds (oldest dropped), errors that
 * change nothing, and a randomized run against a model (set
 * SMSR_TEST_SEED to replay a printed seed); every test ends with the table
 * empty.
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
#include <time.h>

#include <cmocka.h>

#include "smsr/errors.h"
#include "chan/smpp_mo.h"

#define SEC 1000000000ull

static int udh(const void *sm, size_t len, struct smsr__smpp_concat_info *ci)
{
	uint8_t *copy = calloc(1, len ? len : 1);
	int rc;

	memcpy(copy, sm, len);
	rc = smsr__smpp_udh_concat(copy, len, ci);
	free(copy);
	return rc;
}

static void test_smpp_udh_concat_8_and_16_bit(void **state)
{
	struct smsr__smpp_concat_info ci;

	assert_int_equal(udh("\x05\x00\x03\x2a\x03\x02hello", 11, &ci), 6);
	assert_int_equal(ci.ref, 0x2a);
	assert_int_equal(ci.total, 3);
	assert_int_equal(ci.seq, 2);
	assert_false(ci.ref16);
	assert_int_equal(udh("\x06\x08\x04\xbe\xef\x02\x01x", 8, &ci), 7);
	assert_int_equal(ci.ref, 0xbeef);
	assert_int_equal(ci.total, 2);
	assert_int_equal(ci.seq, 1);
	assert_true(ci.ref16);
	/* Among other elements (port addressing 0x05, 4 octets). */
	assert_int_equal(udh("\x0b\x05\x04\x0b\x84\x23\xf0\x00\x03\x07\x02\x02", 12, &ci), 12);
	assert_int_equal(ci.ref, 7);
	assert_int_equal(ci.seq, 2);
}

static void test_smpp_udh_without_usable_concat(void **state)
{
	struct smsr__smpp_concat_info ci;

	assert_int_equal(udh("\x00text", 5, &ci), 1);
	assert_int_equal(ci.total, 0);
	assert_int_equal(udh("\x04\x05\x02\x0b\x84", 5, &ci), 5);
	assert_int_equal(ci.total, 0);
	/* 23.040: total 0, seq 0 or seq past total: the element is ignored. */
	assert_int_equal(udh("\x05\x00\x03\x01\x00\x01", 6, &ci), 6);
	assert_int_equal(ci.total, 0);
	assert_int_equal(udh("\x05\x00\x03\x01\x02\x00", 6, &ci), 6);
	assert_int_equal(ci.total, 0);
	assert_int_equal(udh("\x05\x00\x03\x01\x02\x03", 6, &ci), 6);
	assert_int_equal(ci.total, 0);
	/* The last valid element wins. */
	assert_int_equal(udh("\x0a\x00\x03\x01\x02\x01\x00\x03\x09\x04\x04", 11, &ci), 11);
	assert_int_equal(ci.ref, 9);
	assert_int_equal(ci.seq, 4);
}

static void test_smpp_udh_malformed_is_bad_pdu(void **state)
{
	struct smsr__smpp_concat_info ci;

	assert_int_equal(udh("", 0, &ci), -SMSR_EBADPDU);
	assert_int_equal(udh("\x05\x00\x03\x01\x02", 5, &ci), -SMSR_EBADPDU); /* UDHL past end */
	assert_int_equal(udh("\x03\x00\x03\x01\x02\x01", 6, &ci), -SMSR_EBADPDU); /* IE past UDHL */
	assert_int_equal(udh("\x01\x00", 2, &ci), -SMSR_EBADPDU); /* half an element header */
	assert_int_equal(udh("\x04\x00\x02\x01\x02", 5, &ci), -SMSR_EBADPDU); /* IE 0 of length 2 */
	assert_int_equal(udh("\x05\x08\x03\x01\x02\x01", 6, &ci), -SMSR_EBADPDU);
	assert_int_equal(udh("\xff", 1, &ci), -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_udh_concat(NULL, 0, &ci), -SMSR_EBADPDU);
}

struct fix {
	struct smsr__smpp_mo_asm a;
	char out[16384];
	size_t len;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_int_equal(smsr__smpp_mo_asm_init(&f->a, 4, 8 * SMSR__SMPP_ASM_PART_MAX, 10 * SEC),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	assert_int_equal(smsr__smpp_mo_asm_pending(&f->a), 0);
	assert_int_equal(f->a.free_slots, f->a.nslots);
	smsr__smpp_mo_asm_fini(&f->a);
	free(f);
	return 0;
}

static int add(struct fix *f, const char *from, uint16_t ref, uint8_t total, uint8_t seq,
	       const char *s, uint64_t now)
{
	return smsr__smpp_mo_asm_add(&f->a, from, ref, total, seq, s, strlen(s), now, f->out,
				     sizeof(f->out), &f->len);
}

static void expect_text(struct fix *f, const char *want)
{
	if (f->len != strlen(want) || memcmp(f->out, want, f->len) != 0)
		fail_msg("got %.*s, want %s", (int)f->len, f->out, want);
}

static void test_smpp_mo_in_order_and_single(void **state)
{
	struct fix *f = *state;

	assert_int_equal(add(f, "+8613800000000", 1, 3, 1, "Hel", 0), 0);
	assert_int_equal(add(f, "+8613800000000", 1, 3, 2, "lo ", 0), 0);
	assert_int_equal(smsr__smpp_mo_asm_pending(&f->a), 1);
	assert_int_equal(add(f, "+8613800000000", 1, 3, 3, "TD", 0), 1);
	expect_text(f, "Hello TD");
	assert_int_equal(add(f, "+1", 9, 1, 1, "STOP", 0), 1);
	expect_text(f, "STOP");
	assert_int_equal(add(f, "+1", 9, 1, 1, "", 0), 1);
	assert_int_equal(f->len, 0);
	assert_int_equal(f->a.stats.completed, 1);
}

static void test_smpp_mo_out_of_order_and_duplicates(void **state)
{
	struct fix *f = *state;

	assert_int_equal(add(f, "a", 7, 4, 3, "C", 0), 0);
	assert_int_equal(add(f, "a", 7, 4, 1, "A", 0), 0);
	assert_int_equal(add(f, "a", 7, 4, 3, "X", 0), 0); /* duplicate: first copy wins */
	assert_int_equal(add(f, "a", 7, 4, 4, "D", 0), 0);
	assert_int_equal(add(f, "a", 7, 4, 1, "Y", 0), 0);
	assert_int_equal(add(f, "a", 7, 4, 2, "B", 0), 1);
	expect_text(f, "ABCD");
	assert_int_equal(f->a.stats.duplicates, 2);
}

static void test_smpp_mo_keys_are_sender_ref_and_total(void **state)
{
	struct fix *f = *state;

	assert_int_equal(add(f, "a", 1, 2, 1, "a1.", 0), 0);
	assert_int_equal(add(f, "b", 1, 2, 1, "b1.", 0), 0);
	assert_int_equal(add(f, "a", 2, 2, 1, "a2.", 0), 0);
	assert_int_equal(add(f, "a", 1, 3, 1, "a13.", 0), 0);
	assert_int_equal(smsr__smpp_mo_asm_pending(&f->a), 4);
	assert_int_equal(add(f, "b", 1, 2, 2, "end", 0), 1);
	expect_text(f, "b1.end");
	assert_int_equal(add(f, "a", 2, 2, 2, "end", 0), 1);
	expect_text(f, "a2.end");
	assert_int_equal(add(f, "a", 1, 2, 2, "end", 0), 1);
	expect_text(f, "a1.end");
	assert_int_equal(add(f, "a", 1, 3, 3, "!", 0), 0);
	assert_int_equal(add(f, "a", 1, 3, 2, "x", 0), 1);
	expect_text(f, "a13.x!");
}

static void test_smpp_mo_timeout(void **state)
{
	struct fix *f = *state;

	assert_int_equal(smsr__smpp_mo_asm_next_expiry(&f->a), UINT64_MAX);
	assert_int_equal(add(f, "a", 1, 2, 1, "x", 5 * SEC), 0);
	assert_int_equal(add(f, "b", 1, 2, 1, "y", 8 * SEC), 0);
	assert_int_equal(smsr__smpp_mo_asm_next_expiry(&f->a), 15 * SEC);
	assert_int_equal(smsr__smpp_mo_asm_expire(&f->a, 15 * SEC - 1), 0);
	assert_int_equal(smsr__smpp_mo_asm_expire(&f->a, 15 * SEC), 1);
	assert_int_equal(smsr__smpp_mo_asm_next_expiry(&f->a), 18 * SEC);
	/* A late part starts over and waits again. */
	assert_int_equal(add(f, "a", 1, 2, 2, "z", 16 * SEC), 0);
	assert_int_equal(smsr__smpp_mo_asm_expire(&f->a, 100 * SEC), 2);
	assert_int_equal(f->a.stats.expired, 3);
}

static void test_smpp_mo_bounds_drop_the_oldest(void **state)
{
	struct fix *f = *state;
	char big[SMSR__SMPP_ASM_PART_MAX + 1];

	/* Four entries: a fifth message drops the oldest. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(add(f, "s", (uint16_t)i, 2, 1, "p", (uint64_t)i), 0);
	assert_int_equal(add(f, "s", 9, 2, 1, "p", 10), 0);
	assert_int_equal(f->a.stats.evicted, 1);
	assert_int_equal(add(f, "s", 0, 2, 2, "q", 11), 0); /* ref 0 was dropped */
	assert_int_equal(f->a.stats.evicted, 2);
	assert_int_equal(smsr__smpp_mo_asm_expire(&f->a, UINT64_MAX), 4);
	/* Eight slots: one message of eight parts fills them; a ninth part is refused. */
	for (int i = 1; i <= 8; i++)
		assert_int_equal(add(f, "s", 5, 10, (uint8_t)i, "p", 0), 0);
	assert_int_equal(add(f, "s", 5, 10, 9, "p", 0), -SMSR_EBUSY);
	assert_int_equal(add(f, "t", 5, 2, 1, "p", 1), 0); /* another message takes over */
	assert_int_equal(smsr__smpp_mo_asm_pending(&f->a), 1);
	memset(big, 'x', sizeof(big));
	assert_int_equal(smsr__smpp_mo_asm_add(&f->a, "t", 5, 2, 2, big, sizeof(big), 0, f->out,
					       sizeof(f->out), &f->len),
			 -SMSR_ETOOLONG);
	assert_int_equal(smsr__smpp_mo_asm_add(&f->a, "t", 5, 2, 2, big, sizeof(big) - 1, 0, f->out,
					       sizeof(f->out), &f->len),
			 1);
	assert_int_equal(f->len, 1 + SMSR__SMPP_ASM_PART_MAX);
}

static void test_smpp_mo_errors_change_nothing(void **state)
{
	struct fix *f = *state;
	char longfrom[SMSR__SMPP_ASM_FROM_MAX + 2];

	memset(longfrom, '1', sizeof(longfrom) - 1);
	longfrom[sizeof(longfrom) - 1] = '\0';
	assert_int_equal(add(f, "a", 1, 0, 0, "x", 0), -SMSR_EBADPDU);
	assert_int_equal(add(f, "a", 1, 2, 0, "x", 0), -SMSR_EBADPDU);
	assert_int_equal(add(f, "a", 1, 2, 3, "x", 0), -SMSR_EBADPDU);
	assert_int_equal(add(f, longfrom, 1, 2, 1, "x", 0), -SMSR_EINVAL);
	assert_int_equal(smsr__smpp_mo_asm_add(&f->a, NULL, 1, 2, 1, "x", 1, 0, f->out, 9, &f->len),
			 -SMSR_EINVAL);
	assert_int_equal(smsr__smpp_mo_asm_pending(&f->a), 0);
	/* The last part would not fit @cap: refused, and the message still waits for it. */
	assert_int_equal(add(f, "a", 1, 2, 1, "hello", 0), 0);
	assert_int_equal(
	    smsr__smpp_mo_asm_add(&f->a, "a", 1, 2, 2, "world", 5, 0, f->out, 9, &f->len), -ENOSPC);
	assert_int_equal(smsr__smpp_mo_asm_pending(&f->a), 1);
	assert_int_equal(
	    smsr__smpp_mo_asm_add(&f->a, "a", 1, 2, 2, "world", 5, 0, f->out, 10, &f->len), 1);
	expect_text(f, "helloworld");
	assert_int_equal(
	    smsr__smpp_mo_asm_add(&f->a, "a", 1, 1, 1, "hello", 5, 0, f->out, 4, &f->len), -ENOSPC);
	assert_int_equal(smsr__smpp_mo_asm_init(&f->a, 0, 1, 1), -SMSR_EINVAL);
}

struct mo_part {
	uint8_t total, seq;
	uint16_t ref;
};

static void shuffle(struct mo_part *q, size_t n, unsigned *seed)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)rand_r(seed) % (i + 1);
		struct mo_part t = q[i];

		q[i] = q[j], q[j] = t;
	}
}

/* Parts of up to three messages, shuffled, some twice. */
static size_t make_round(struct mo_part *q, unsigned round, unsigned msgs, unsigned *seed)
{
	size_t n = 0;

	for (unsigned m = 0; m < msgs; m++) {
		uint8_t total = (uint8_t)(1 + rand_r(seed) % 8);

		for (uint8_t s = 1; s <= total; s++) {
			q[n++] = (struct mo_part){total, s, (uint16_t)(round * 4 + m)};
			if (rand_r(seed) % 4 == 0)
				q[n] = q[n - 1], n++;
		}
	}
	shuffle(q, n, seed);
	return n;
}

/*
 * The model: a message's parts seen so far, as bits; a part already seen
 * is a duplicate (0), the last missing one completes it (1) and clears the
 * bits, so a duplicate after completion starts the message over, as the
 * table does.
 */
static void test_smpp_mo_random_against_model(void **state)
{
	struct fix *f = *state;
	const char *env = getenv("SMSR_TEST_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	struct mo_part q[64];
	unsigned done = 0;

	printf("test_smpp_mo_random_against_model: SMSR_TEST_SEED=%u\n", seed);
	smsr__smpp_mo_asm_fini(&f->a);
	assert_int_equal(smsr__smpp_mo_asm_init(&f->a, 16, 64 * SMSR__SMPP_ASM_PART_MAX, SEC), 0);
	for (unsigned round = 0; round < 300; round++) {
		unsigned msgs = 1 + (unsigned)rand_r(&seed) % 3, open = 0;
		size_t n = make_round(q, round, msgs, &seed);
		uint32_t have[3] = {0, 0, 0};

		for (size_t i = 0; i < n; i++) {
			unsigned m = q[i].ref - round * 4;
			uint32_t bit = 1u << q[i].seq, full = ((1u << q[i].total) - 1) << 1;
			int want = 0, rc;
			char part[8], text[64] = "";

			snprintf(part, sizeof(part), "%u.", q[i].seq);
			rc = add(f, "x", q[i].ref, q[i].total, q[i].seq, part, round);
			if (!(have[m] & bit)) {
				have[m] |= bit;
				want = have[m] == full;
				have[m] = want ? 0 : have[m];
			}
			assert_int_equal(rc, want);
			if (!rc)
				continue;
			for (unsigned k = 1; k <= q[i].total; k++)
				snprintf(text + strlen(text), sizeof(text) - strlen(text), "%u.",
					 k);
			expect_text(f, text);
			done++;
		}
		for (unsigned m = 0; m < msgs; m++)
			open += have[m] != 0;
		assert_int_equal(smsr__smpp_mo_asm_pending(&f->a), open);
		assert_int_equal(smsr__smpp_mo_asm_expire(&f->a, UINT64_MAX), open);
	}
	assert_int_equal(f->a.stats.evicted, 0);
	assert_true(done >= 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_smpp_udh_concat_8_and_16_bit),
	    cmocka_unit_test(test_smpp_udh_without_usable_concat),
	    cmocka_unit_test(test_smpp_udh_malformed_is_bad_pdu),
	    cmocka_unit_test_setup_teardown(test_smpp_mo_in_order_and_single, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_smpp_mo_out_of_order_and_duplicates, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_smpp_mo_keys_are_sender_ref_and_total, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_smpp_mo_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_smpp_mo_bounds_drop_the_oldest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_smpp_mo_errors_change_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_smpp_mo_random_against_model, setup, teardown),
	};

	return cmocka_run_group_tests_name("smpp_mo", tests, NULL, NULL);
}
