/* SPDX-License-Identifier: MIT */
/*
 * Description: SMPP delivery receipts (core/chan/smpp_dlr.c). The text
 * receipt in its standard (Kannel-style) form and real-world variants:
 * key case, missing fields, extra spaces, 12- and 14-digit dates, long
 * ids, decimal and hex-looking err, no text, no id; garbage refused.
 * Every stat text and message_state value maps to its outcome, ACCEPTD
 * per the channel flag, and intermediate states are not final. The
 * network_error_code TLV. Carrier ids in each dlr_id_format give the same
 * key from the submit_sm_resp side and the receipt side; too long and
 * malformed ids are refused. Inputs are exact-size heap copies (ASan).
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
#include "chan/smpp_dlr.h"

static char *held;

/* Parse an exact-size heap copy of @s; the copy lives until the next call. */
static int parse(const char *s, struct smsr__smpp_receipt *r)
{
	size_t len = strlen(s);

	free(held);
	held = malloc(len ? len : 1);
	memcpy(held, s, len);
	return smsr__smpp_receipt_parse(held, len, r);
}

static int teardown(void **state)
{
	free(held);
	held = NULL;
	return 0;
}

static void expect_id(const struct smsr__smpp_receipt *r, const char *id)
{
	if (!id) {
		assert_null(r->id);
		assert_int_equal(r->id_len, 0);
		return;
	}
	if (r->id_len != strlen(id) || memcmp(r->id, id, r->id_len) != 0)
		fail_msg("id %.*s, want %s", (int)r->id_len, r->id ? r->id : "", id);
}

static void test_dlr_standard_receipt(void **state)
{
	struct smsr__smpp_receipt r;

	assert_int_equal(parse("id:0123456789 sub:001 dlvrd:001 submit date:2401311200 "
			       "done date:2401311201 stat:DELIVRD err:000 text:Your code is 1",
			       &r),
			 0);
	expect_id(&r, "0123456789");
	assert_int_equal(r.stat, SMSR__SMPP_STAT_DELIVERED);
	assert_true(r.has_sub && r.sub == 1 && r.has_dlvrd && r.dlvrd == 1);
	assert_true(r.has_err);
	assert_int_equal(r.err, 0);
	assert_true(r.has_submit && r.has_done);
	assert_int_equal(r.submit.year, 24);
	assert_int_equal(r.submit.month, 1);
	assert_int_equal(r.submit.day, 31);
	assert_int_equal(r.submit.hour, 12);
	assert_int_equal(r.submit.minute, 0);
	assert_int_equal(r.done.minute, 1);
	assert_int_equal(r.done.second, 0);
	assert_int_equal(r.text_len, 14);
	assert_memory_equal(r.text, "Your code is 1", 14);
	assert_int_equal(smsr__smpp_stat_outcome(r.stat, 0), 0);
}

static void test_dlr_variants_are_tolerated(void **state)
{
	struct smsr__smpp_receipt r;

	/* Lower-case keys, extra spaces, seconds in the dates, no text. */
	assert_int_equal(parse("  ID: 7f3a9c  Sub:1 DLVRD:0   submit_date:240131120005 "
			       "DONE  DATE : 240131120107 stat : undeliv  err:0B1",
			       &r),
			 0);
	expect_id(&r, "7f3a9c");
	assert_int_equal(r.stat, SMSR__SMPP_STAT_UNDELIVERABLE);
	assert_int_equal(r.submit.second, 5);
	assert_int_equal(r.done.second, 7);
	assert_int_equal(r.done.minute, 1);
	assert_true(r.has_err);
	assert_int_equal(r.err, 0xb1);
	assert_null(r.text);
	/* Fields in another order, unknown ones, a four-digit year. */
	assert_int_equal(parse("stat:REJECTD foo:bar err:010 id:abc done date:20240131120107", &r),
			 0);
	expect_id(&r, "abc");
	assert_int_equal(r.err, 10);
	assert_int_equal(r.done.year, 24);
	assert_false(r.has_submit);
	assert_false(r.has_sub);
	/* err as 0x, bad date and bad sub left out, not fatal. */
	assert_int_equal(parse("id:1 sub:abc submit date:2413011200 stat:EXPIRED err:0x1F", &r), 0);
	assert_false(r.has_sub);
	assert_false(r.has_submit);
	assert_int_equal(r.err, 31);
	assert_int_equal(r.stat, SMSR__SMPP_STAT_EXPIRED);
	/* A long id (64) and an id of one character. */
	assert_int_equal(
	    parse("id:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef "
		  "stat:DELIVRD",
		  &r),
	    0);
	assert_int_equal(r.id_len, 64);
	assert_int_equal(parse("id:9 stat:DELIVRD text:", &r), 0);
	expect_id(&r, "9");
	assert_int_equal(r.text_len, 0);
}

static void test_dlr_missing_id_and_garbage(void **state)
{
	struct smsr__smpp_receipt r;

	/* No id (it may come in receipted_message_id): parsed, id NULL. */
	assert_int_equal(parse("sub:001 dlvrd:001 stat:DELIVRD err:000", &r), 0);
	expect_id(&r, NULL);
	/* An empty id before the next key is no id, not "stat:DELIVRD". */
	assert_int_equal(parse("id: stat:DELIVRD", &r), 0);
	expect_id(&r, NULL);
	assert_int_equal(r.stat, SMSR__SMPP_STAT_DELIVERED);
	/* Unknown stat: read as NONE, a final unknown outcome. */
	assert_int_equal(parse("id:5 stat:WHATEVER", &r), 0);
	assert_int_equal(r.stat, SMSR__SMPP_STAT_NONE);
	assert_int_equal(smsr__smpp_stat_outcome(r.stat, 0), -SMSR_EDLRUNKNOWN);
	assert_int_equal(parse("Hello, your parcel is on its way", &r), -SMSR_EBADPDU);
	assert_int_equal(parse("", &r), -SMSR_EBADPDU);
	assert_int_equal(parse("identity:1 status:DELIVRD", &r), -SMSR_EBADPDU);
	assert_int_equal(parse("::::", &r), -SMSR_EBADPDU);
	assert_int_equal(
	    parse("id:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", &r),
	    -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_receipt_parse(NULL, 0, &r), -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_receipt_parse(NULL, 3, &r), -SMSR_EINVAL);
}

static void test_dlr_every_stat_text_maps(void **state)
{
	static const struct {
		const char *text;
		uint8_t stat;
		int outcome;
	} cases[] = {
	    {"DELIVRD", SMSR__SMPP_STAT_DELIVERED, 0},
	    {"delivered", SMSR__SMPP_STAT_DELIVERED, 0},
	    {"UNDELIV", SMSR__SMPP_STAT_UNDELIVERABLE, -SMSR_EUNDELIVERED},
	    {"UNDELIVERABLE", SMSR__SMPP_STAT_UNDELIVERABLE, -SMSR_EUNDELIVERED},
	    {"FAILED", SMSR__SMPP_STAT_UNDELIVERABLE, -SMSR_EUNDELIVERED},
	    {"REJECTD", SMSR__SMPP_STAT_REJECTED, -SMSR_EREJECTED},
	    {"EXPIRED", SMSR__SMPP_STAT_EXPIRED, -SMSR_ECARRIEREXPIRED},
	    {"DELETED", SMSR__SMPP_STAT_DELETED, -SMSR_ECARRIERDELETED},
	    {"UNKNOWN", SMSR__SMPP_STAT_UNKNOWN, -SMSR_EDLRUNKNOWN},
	    {"ACCEPTD", SMSR__SMPP_STAT_ACCEPTED, SMSR__SMPP_NOT_FINAL},
	    {"ENROUTE", SMSR__SMPP_STAT_ENROUTE, SMSR__SMPP_NOT_FINAL},
	    {"BUFFRED", SMSR__SMPP_STAT_BUFFERED, SMSR__SMPP_NOT_FINAL},
	    {"ACKED", SMSR__SMPP_STAT_BUFFERED, SMSR__SMPP_NOT_FINAL},
	    {"SCHEDULED", SMSR__SMPP_STAT_SCHEDULED, SMSR__SMPP_NOT_FINAL},
	    {"SKIPPED", SMSR__SMPP_STAT_SKIPPED, -SMSR_EUNDELIVERED},
	    {"DELIVRDX", SMSR__SMPP_STAT_NONE, -SMSR_EDLRUNKNOWN},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smsr__smpp_receipt r;
		char buf[64];

		snprintf(buf, sizeof(buf), "id:1 stat:%s err:000", cases[i].text);
		assert_int_equal(parse(buf, &r), 0);
		if (r.stat != cases[i].stat)
			fail_msg("%s: stat %u, want %u", cases[i].text, r.stat, cases[i].stat);
		assert_int_equal(smsr__smpp_stat_outcome(r.stat, 0), cases[i].outcome);
	}
	assert_int_equal(
	    smsr__smpp_stat_outcome(SMSR__SMPP_STAT_ACCEPTED, SMSR__SMPP_ACCEPTED_DELIVERED), 0);
	assert_int_equal(
	    smsr__smpp_stat_outcome(SMSR__SMPP_STAT_ENROUTE, SMSR__SMPP_ACCEPTED_DELIVERED),
	    SMSR__SMPP_NOT_FINAL);
}

static void test_dlr_message_state_tlv_maps_the_same(void **state)
{
	static const char *const names[] = {NULL,      "ENROUTE", "DELIVRD", "EXPIRED", "DELETED",
					    "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD", "SKIPPED"};
	uint8_t t;

	for (uint8_t v = 1; v <= 9; v++) {
		t = smsr__smpp_stat_from_state(v);
		assert_int_equal(t, smsr__smpp_stat_from_text(names[v], strlen(names[v])));
		assert_int_equal(smsr__smpp_stat_outcome(t, 0),
				 smsr__smpp_stat_outcome(
				     smsr__smpp_stat_from_text(names[v], strlen(names[v])), 0));
	}
	assert_int_equal(smsr__smpp_stat_from_state(0), SMSR__SMPP_STAT_SCHEDULED);
	assert_int_equal(smsr__smpp_stat_from_state(10), SMSR__SMPP_STAT_NONE);
	assert_int_equal(smsr__smpp_stat_from_state(255), SMSR__SMPP_STAT_NONE);
}

static void test_dlr_network_error_code_tlv(void **state)
{
	uint8_t type = 0;

	assert_int_equal(smsr__smpp_net_error((const uint8_t *)"\x03\x00\x0b", 3, &type), 11);
	assert_int_equal(type, 3);
	assert_int_equal(smsr__smpp_net_error((const uint8_t *)"\x01\x12\x34", 3, NULL), 0x1234);
	assert_int_equal(smsr__smpp_net_error((const uint8_t *)"\x03\x00", 2, &type),
			 -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_net_error(NULL, 3, &type), -SMSR_EBADPDU);
}

static void expect_key(int fmt, int side, const char *in, const char *want)
{
	char out[SMSR_CARRIER_ID_MAX + 1];
	size_t len = strlen(in);
	char *copy = malloc(len ? len : 1);
	int n;

	memcpy(copy, in, len);
	n = smsr__smpp_id_norm(fmt, side, copy, len, out, sizeof(out));
	free(copy);
	if (n < 0 || strcmp(out, want) != 0 || (size_t)n != strlen(want))
		fail_msg("fmt %d side %d %s: got %d %s, want %s", fmt, side, in, n,
			 n >= 0 ? out : "", want);
}

static void expect_same_key(int fmt, const char *resp, const char *receipt, const char *key)
{
	expect_key(fmt, SMSR__SMPP_ID_RESP, resp, key);
	expect_key(fmt, SMSR__SMPP_ID_RECEIPT, receipt, key);
}

static void test_dlr_id_formats_agree_on_one_key(void **state)
{
	expect_same_key(SMSR__SMPP_ID_AS_IS, "0A1b", "0A1b", "0A1b");
	expect_same_key(SMSR__SMPP_ID_HEX_TO_DEC, "1ae4e2f7", "451207927", "451207927");
	expect_same_key(SMSR__SMPP_ID_HEX_TO_DEC, "0x1AE4E2F7", "0451207927", "451207927");
	expect_same_key(SMSR__SMPP_ID_HEX_TO_DEC, "000", "0", "0");
	/* Past 64 bits: 2^64 and 2^128 - 1. */
	expect_same_key(SMSR__SMPP_ID_HEX_TO_DEC, "10000000000000000", "18446744073709551616",
			"18446744073709551616");
	expect_same_key(SMSR__SMPP_ID_HEX_TO_DEC, "ffffffffffffffffffffffffffffffff",
			"340282366920938463463374607431768211455",
			"340282366920938463463374607431768211455");
	expect_same_key(SMSR__SMPP_ID_DEC_TO_HEX, "00451207927", "1AE4E2F7", "451207927");
	expect_same_key(SMSR__SMPP_ID_CASE_INSENSITIVE, "AbC-12", "abc-12", "abc-12");
	expect_same_key(SMSR__SMPP_ID_STRIP_ZEROS, "000A1", "A1", "A1");
	expect_same_key(SMSR__SMPP_ID_STRIP_ZEROS, "0000", "0", "0");
}

static void test_dlr_bad_ids_are_refused(void **state)
{
	char out[SMSR_CARRIER_ID_MAX + 1], id[80];

	memset(id, '1', sizeof(id));
	assert_int_equal(smsr__smpp_id_norm(0, 0, id, 64, out, sizeof(out)), 64);
	assert_int_equal(smsr__smpp_id_norm(0, 0, id, 65, out, sizeof(out)), -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_id_norm(0, 0, id, 64, out, 64), -ENOSPC);
	assert_int_equal(smsr__smpp_id_norm(0, 0, id, 0, out, sizeof(out)), -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_id_norm(0, 0, "a\0b", 3, out, sizeof(out)), -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_id_norm(SMSR__SMPP_ID_HEX_TO_DEC, SMSR__SMPP_ID_RESP, "12g", 3,
					    out, sizeof(out)),
			 -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_id_norm(SMSR__SMPP_ID_HEX_TO_DEC, SMSR__SMPP_ID_RECEIPT, "1a",
					    2, out, sizeof(out)),
			 -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_id_norm(SMSR__SMPP_ID_HEX_TO_DEC, SMSR__SMPP_ID_RESP, "0x", 2,
					    out, sizeof(out)),
			 -SMSR_EBADPDU);
	/* 64 hex digits make a 78-digit key: longer than an id may be. */
	memset(id, 'f', 64);
	assert_int_equal(smsr__smpp_id_norm(SMSR__SMPP_ID_HEX_TO_DEC, SMSR__SMPP_ID_RESP, id, 64,
					    out, sizeof(out)),
			 -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_id_norm(9, 0, "1", 1, out, sizeof(out)), -SMSR_EINVAL);
	assert_int_equal(smsr__smpp_id_norm(0, 2, "1", 1, out, sizeof(out)), -SMSR_EINVAL);
}

static void test_dlr_id_format_names(void **state)
{
	assert_int_equal(smsr__smpp_id_format_parse("as_is"), SMSR__SMPP_ID_AS_IS);
	assert_int_equal(smsr__smpp_id_format_parse("hex_to_dec"), SMSR__SMPP_ID_HEX_TO_DEC);
	assert_int_equal(smsr__smpp_id_format_parse("dec_to_hex"), SMSR__SMPP_ID_DEC_TO_HEX);
	assert_int_equal(smsr__smpp_id_format_parse("case_insensitive"),
			 SMSR__SMPP_ID_CASE_INSENSITIVE);
	assert_int_equal(smsr__smpp_id_format_parse("strip_zeros"), SMSR__SMPP_ID_STRIP_ZEROS);
	assert_int_equal(smsr__smpp_id_format_parse("hex"), -SMSR_ECONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_dlr_standard_receipt, teardown),
	    cmocka_unit_test_teardown(test_dlr_variants_are_tolerated, teardown),
	    cmocka_unit_test_teardown(test_dlr_missing_id_and_garbage, teardown),
	    cmocka_unit_test_teardown(test_dlr_every_stat_text_maps, teardown),
	    cmocka_unit_test(test_dlr_message_state_tlv_maps_the_same),
	    cmocka_unit_test(test_dlr_network_error_code_tlv),
	    cmocka_unit_test(test_dlr_id_formats_agree_on_one_key),
	    cmocka_unit_test(test_dlr_bad_ids_are_refused),
	    cmocka_unit_test(test_dlr_id_format_names),
	};

	return cmocka_run_group_tests_name("smpp_dlr", tests, NULL, NULL);
}
