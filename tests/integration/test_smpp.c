/* SPDX-License-Identifier: MIT */
/*
 * Description: the "smpp" driver against a real SMSC (tests/peers/smsc.js,
 * node-smpp) on loopback, through the public API: a mixed batch reaches the
 * SMSC with the right data_coding, parts and addresses and every message
 * ends as its receipt says; long messages by UDH, SAR and message_payload;
 * GSM-7 extension characters and UCS-2 emoji; receipts with the id in the
 * TLV or only in the text, hex answers with decimal receipts and the
 * reverse, leading zeros, letter case; transmitters with a receiver bringing
 * the receipts; a receipt for an unknown id; MO "TD" opts the sender out, a concatenated MO is
 * reassembled. Every accepted message reaches exactly one final state.
 * Skips (77) when node or the peer's modules are missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"
#include "smsc.h"
#include "smsr/smsr.h"

static struct smsr_router *start_router(const struct smsc_proc *s, const char *params,
					struct evlog *log)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "channels = ( { name = \"smpp1\"; driver = \"smpp\"; window = 256;"
		 " params = { host = \"127.0.0.1\"; port = \"%d\"; system_id = \"smsr\";"
		 " password = \"secret\"; source_addr = \"10690001\"; %s }; } );\n"
		 "routes = ( { groups = ( [\"smpp1\"] ); } );\n",
		 s->port, params);
	return test_router_start(text, log, 1);
}

/* Wait until the channel is up (bound), bounded. */
static void wait_up(struct smsr_router *r)
{
	struct smsr_channel_info ci[4];

	for (int i = 0; i < 500; i++) {
		int n = smsr_router_channels(r, ci, 4);

		if (n > 0 && ci[0].state == SMSR_CHAN_UP)
			return;
		sleep_ms(10);
	}
	fail_msg("the SMPP channel never came up");
}

static uint64_t submit(struct smsr_router *r, const char *to, const char *text, enum smsr_class cls)
{
	struct smsr_msg m = {.recipient = to, .text = text, .text_len = strlen(text), .cls = cls};
	struct smsr_result res;

	assert_int_equal(smsr_router_submit(r, &m, &res), 0);
	return res.id;
}

/* @id's final event (copied: events may still come), type 0xFF if none. */
static struct evrec final_of(struct evlog *log, uint64_t id)
{
	struct evrec f = {.type = 0xFF};

	pthread_mutex_lock(&log->lock);
	for (size_t i = 0; i < log->n; i++)
		if (log->v[i].id == id &&
		    (log->v[i].type == SMSR_EV_DELIVERED || log->v[i].type == SMSR_EV_FAILED ||
		     log->v[i].type == SMSR_EV_EXPIRED))
			f = log->v[i];
	pthread_mutex_unlock(&log->lock);
	return f;
}

static int setup(void **state)
{
	if (!smsc_available()) {
		fprintf(stderr, "skipped: node or tests/peers/node_modules missing\n");
		exit(77);
	}
	return 0;
}

static void test_smpp_mixed_batch_ends_as_receipts_say(void **state)
{
	static const char *const peer[] = {"--receipt-rule", "8613900:UNDELIV:034", NULL};
	const char *gsm = "Your code is 482913. Do not share it.";
	const char *ucs = "【京东】您的订单已发货，快递单号 1234567";
	struct smsc_proc s;
	struct evlog log;
	struct smsr_router *r;
	uint64_t ids[60];
	struct evrec f;

	assert_int_equal(smsc_start(&s, peer), 0);
	evlog_init(&log);
	r = start_router(&s, "", &log);
	wait_up(r);
	for (int i = 0; i < 20; i++) {
		ids[i] = submit(r, "+8613812345678", gsm, SMSR_CLASS_VERIFICATION);
		ids[20 + i] = submit(r, "13812345679", ucs, SMSR_CLASS_NOTICE);
		ids[40 + i] = submit(r, "+8613900001111", gsm, SMSR_CLASS_NOTICE);
	}
	assert_true(evlog_wait_finals(&log, 60, 20000));
	assert_int_equal(evlog_not_one_final(&log), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(final_of(&log, ids[i]).type, SMSR_EV_DELIVERED);
	for (int i = 40; i < 60; i++) {
		f = final_of(&log, ids[i]);
		assert_int_equal(f.type, SMSR_EV_FAILED);
		assert_int_equal(f.reason, -SMSR_EUNDELIVERED);
		assert_int_equal(f.op_code, 34);
	}
	/* On the wire: GSM-7 as data_coding 0, Chinese as 8, E.164 without '+'. */
	assert_int_equal(smsc_log_wait(&s,
				       (const char *[]){"\"submit_sm\"", "\"data_coding\":0",
							"\"destination_addr\":\"8613812345678\"",
							"\"dest_addr_ton\":1", NULL},
				       20, 3000),
			 20);
	assert_int_equal(smsc_log_wait(&s,
				       (const char *[]){"\"submit_sm\"", "\"data_coding\":8",
							"\"source_addr\":\"10690001\"", NULL},
				       20, 3000),
			 20);
	smsr_router_destroy(r);
	smsc_stop(&s);
	evlog_fini(&log);
}

/* A text of @n copies of @unit. */
static char *repeat(const char *unit, int n)
{
	size_t u = strlen(unit);
	char *t = malloc(u * (size_t)n + 1);

	for (int i = 0; i < n; i++)
		memcpy(t + u * (size_t)i, unit, u);
	t[u * (size_t)n] = '\0';
	return t;
}

static void long_message_in(const char *params, const char *const *needles, long want)
{
	struct smsc_proc s;
	struct evlog log;
	struct smsr_router *r;
	char *gsm = repeat("Long notice text. ", 20); /* 360 GSM chars: 3 parts */
	uint64_t id;

	assert_int_equal(smsc_start(&s, NULL), 0);
	evlog_init(&log);
	r = start_router(&s, params, &log);
	wait_up(r);
	id = submit(r, "+8613812345678", gsm, SMSR_CLASS_NOTICE);
	assert_true(evlog_wait_finals(&log, 1, 20000));
	assert_int_equal(final_of(&log, id).type, SMSR_EV_DELIVERED);
	assert_int_equal(smsc_log_wait(&s, needles, want, 3000), want);
	smsr_router_destroy(r);
	smsc_stop(&s);
	evlog_fini(&log);
	free(gsm);
}

static void test_smpp_long_message_by_udh(void **state)
{
	/* esm_class 0x40, UDH 05 00 03 ref 03 seq. */
	long_message_in("",
			(const char *[]){"\"submit_sm\"", "\"esm_class\":64",
					 "\"short_message\":\"050003", NULL},
			3);
}

static void test_smpp_long_message_by_sar(void **state)
{
	long_message_in("concat = \"sar\";",
			(const char *[]){"\"submit_sm\"", "\"sar_total_segments\":3", NULL}, 3);
}

static void test_smpp_long_message_by_payload(void **state)
{
	long_message_in("concat = \"payload\";",
			(const char *[]){"\"submit_sm\"", "\"message_payload\"", NULL}, 1);
}

static void test_smpp_gsm_extension_and_emoji(void **state)
{
	struct smsc_proc s;
	struct evlog log;
	struct smsr_router *r;

	assert_int_equal(smsc_start(&s, NULL), 0);
	evlog_init(&log);
	r = start_router(&s, "", &log);
	wait_up(r);
	submit(r, "+8613812345678", "Price: 5€ {promo} [x]", SMSR_CLASS_NOTICE);
	submit(r, "+8613812345678", "Party 🎉 tonight", SMSR_CLASS_NOTICE);
	assert_true(evlog_wait_finals(&log, 2, 20000));
	assert_int_equal(evlog_count(&log, SMSR_EV_DELIVERED), 2);
	/* "Price: 5" then ESC 0x65 for the euro sign. */
	assert_int_equal(
	    smsc_log_wait(&s,
			  (const char *[]){"\"data_coding\":0",
					   "\"short_message\":\"50726963653a20351b65", NULL},
			  1, 3000),
	    1);
	/* U+1F389 as the surrogate pair D83C DF89. */
	assert_int_equal(
	    smsc_log_wait(&s, (const char *[]){"\"data_coding\":8", "d83cdf89", NULL}, 1, 3000), 1);
	smsr_router_destroy(r);
	smsc_stop(&s);
	evlog_fini(&log);
}

/* 50 notices through a channel with @params to an SMSC started with @peer:
 * all delivered by receipt, none stale; then @check(s) if given. */
static void receipts_in_then(const char *const *peer, const char *params,
			     void (*check)(struct smsc_proc *s))
{
	struct smsc_proc s;
	struct evlog log;
	struct smsr_router *r;
	struct smsr_stats st;

	assert_int_equal(smsc_start(&s, peer), 0);
	evlog_init(&log);
	r = start_router(&s, params, &log);
	wait_up(r);
	for (int i = 0; i < 50; i++)
		submit(r, "+8613812345678", "Your parcel 88 is on its way", SMSR_CLASS_NOTICE);
	assert_true(evlog_wait_finals(&log, 50, 20000));
	assert_int_equal(evlog_count(&log, SMSR_EV_DELIVERED), 50);
	assert_int_equal(evlog_not_one_final(&log), 0);
	smsr_router_stats(r, &st);
	assert_int_equal(st.stale_reports, 0);
	if (check)
		check(&s);
	smsr_router_destroy(r);
	smsc_stop(&s);
	evlog_fini(&log);
}

static void receipts_in(const char *const *peer, const char *params)
{
	receipts_in_then(peer, params, NULL);
}

static void test_smpp_receipt_id_in_tlv_only(void **state)
{
	receipts_in((const char *[]){"--receipt-id", "tlv", NULL}, "");
}

static void test_smpp_receipt_id_in_text_only(void **state)
{
	receipts_in((const char *[]){"--receipt-id", "text", NULL}, "");
}

static void test_smpp_receipt_hex_answer_decimal_receipt(void **state)
{
	receipts_in((const char *[]){"--dlr-id-mismatch", "--receipt-id", "text", NULL},
		    "dlr_id_format = \"hex_to_dec\";");
}

static void test_smpp_receipt_leading_zeros_and_case(void **state)
{
	receipts_in((const char *[]){"--id-zeros", "--receipt-id-form", "nozeros", NULL},
		    "dlr_id_format = \"strip_zeros\";");
	receipts_in((const char *[]){"--receipt-id-form", "hexlower", NULL},
		    "dlr_id_format = \"case_insensitive\";");
}

static void test_smpp_receipt_decimal_answer_hex_receipt(void **state)
{
	receipts_in((const char *[]){"--id-format", "dec", "--receipt-id-form", "hex",
				     "--receipt-id", "text", NULL},
		    "dlr_id_format = \"dec_to_hex\";");
}

static void two_tx_one_rx(struct smsc_proc *s)
{
	assert_int_equal(smsc_log_wait(s, (const char *[]){"\"bind_transmitter\"", NULL}, 2, 3000),
			 2);
	assert_int_equal(smsc_log_wait(s, (const char *[]){"\"bind_receiver\"", NULL}, 1, 3000), 1);
	assert_int_equal(smsc_log_wait(s, (const char *[]){"\"bind_transceiver\"", NULL}, 0, 3000),
			 0);
}

/* Transmitters submit, a receiver brings the receipts (of both). */
static void test_smpp_transmitter_receiver_pair(void **state)
{
	receipts_in_then(NULL, "bind_mode = \"tx_rx\"; binds = \"2\"; rx_binds = \"1\";",
			 two_tx_one_rx);
}

static void test_smpp_receipt_for_unknown_id_is_stale(void **state)
{
	struct smsc_proc s;
	struct evlog log;
	struct smsr_router *r;
	struct smsr_stats st;

	assert_int_equal(smsc_start(&s, NULL), 0);
	evlog_init(&log);
	r = start_router(&s, "", &log);
	wait_up(r);
	assert_int_equal(smsc_ctl(&s, "{\"cmd\":\"receipt\",\"id\":\"DEADBEEF99\"}", NULL, 0), 0);
	/* Acknowledged all the same (the SMSC would resend it otherwise). */
	assert_true(smsc_wait(&s, "receipts_acked", 1, 5000));
	for (int i = 0; i < 200; i++) {
		smsr_router_stats(r, &st);
		if (st.stale_reports)
			break;
		sleep_ms(10);
	}
	assert_int_equal(st.stale_reports, 1);
	smsr_router_destroy(r);
	smsc_stop(&s);
	evlog_fini(&log);
}

static void test_smpp_mo_td_opts_out_and_long_mo_is_reassembled(void **state)
{
	struct smsc_proc s;
	struct evlog log;
	struct smsr_router *r;
	struct smsr_stats st;
	struct smsr_msg m = {.recipient = "+8613800000001", .cls = SMSR_CLASS_MARKETING};
	char cmd[1024];
	char *long_td = repeat("I do not want these messages any more, please. ", 8);

	assert_int_equal(smsc_start(&s, NULL), 0);
	evlog_init(&log);
	r = start_router(&s, "", &log);
	wait_up(r);
	assert_int_equal(smsc_ctl(&s,
				  "{\"cmd\":\"mo\",\"from\":\"+8613800000001\",\"to\":\"10690001\","
				  "\"text\":\" td \"}",
				  NULL, 0),
			 0);
	for (int i = 0; i < 300 && smsr_router_optout(r, "+8613800000001", -1) != 1; i++)
		sleep_ms(10);
	assert_int_equal(smsr_router_optout(r, "+8613800000001", -1), 1);
	m.text = "【店铺】双11大促，全场5折";
	m.text_len = strlen(m.text);
	assert_int_equal(smsr_router_submit(r, &m, NULL), -SMSR_EOPTEDOUT);
	/* A long MO in 3 parts (UDH), then one by SAR: each counted once, whole. */
	snprintf(cmd, sizeof(cmd),
		 "{\"cmd\":\"mo\",\"from\":\"+8613800000002\",\"to\":\"10690001\",\"text\":\"%s\","
		 "\"parts\":3,\"concat\":\"udh\"}",
		 long_td);
	assert_int_equal(smsc_ctl(&s, cmd, NULL, 0), 0);
	snprintf(cmd, sizeof(cmd),
		 "{\"cmd\":\"mo\",\"from\":\"+8613800000003\",\"to\":\"10690001\",\"text\":\"%s\","
		 "\"parts\":3,\"concat\":\"sar\"}",
		 long_td);
	assert_int_equal(smsc_ctl(&s, cmd, NULL, 0), 0);
	assert_true(smsc_wait(&s, "mos_acked", 7, 5000));
	for (int i = 0; i < 300; i++) {
		smsr_router_stats(r, &st);
		if (st.mo_received >= 3)
			break;
		sleep_ms(10);
	}
	assert_int_equal(st.mo_received, 3); /* 1 + 1 reassembled + 1 reassembled */
	/* A sentence that merely contains words is no opt-out. */
	assert_int_equal(smsr_router_optout(r, "+8613800000002", -1), 0);
	smsr_router_destroy(r);
	smsc_stop(&s);
	evlog_fini(&log);
	free(long_td);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_smpp_mixed_batch_ends_as_receipts_say),
	    cmocka_unit_test(test_smpp_long_message_by_udh),
	    cmocka_unit_test(test_smpp_long_message_by_sar),
	    cmocka_unit_test(test_smpp_long_message_by_payload),
	    cmocka_unit_test(test_smpp_gsm_extension_and_emoji),
	    cmocka_unit_test(test_smpp_receipt_id_in_tlv_only),
	    cmocka_unit_test(test_smpp_receipt_id_in_text_only),
	    cmocka_unit_test(test_smpp_receipt_hex_answer_decimal_receipt),
	    cmocka_unit_test(test_smpp_receipt_leading_zeros_and_case),
	    cmocka_unit_test(test_smpp_receipt_decimal_answer_hex_receipt),
	    cmocka_unit_test(test_smpp_transmitter_receiver_pair),
	    cmocka_unit_test(test_smpp_receipt_for_unknown_id_is_stale),
	    cmocka_unit_test(test_smpp_mo_td_opts_out_and_long_mo_is_reassembled),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
