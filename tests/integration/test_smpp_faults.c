/* SPDX-License-Identifier: MIT */
/*
 * Description: the "smpp" driver when the SMSC misbehaves (tests/peers/
 * smsc.js on loopback, through the public API): throttling cuts the send
 * rate and it recovers; permanent errors fail at once with the operator's
 * code, temporary ones are retried; answers that never come are resent by
 * class through a second SMPP channel; the SMSC dropping the connection
 * with messages in flight (reconnect with backoff, channel events,
 * failover, nothing lost); a wrong password (channel down, bind_failed, one
 * event however many retries); enquire_link keeping an idle bind, and a
 * missing enquire_link_resp dropping it. Every accepted message reaches
 * exactly one final state. Skips (77) without node or the peer's modules.
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

/* Channel a on the SMSC at @pa, and b on the one at @pb if @pb > 0; the
 * route tries a, then b. Two channels are two accounts: never one SMSC
 * account for both, since its receipts go to any bind of the account. */
static struct smsr_router *start_two(int pa, int pb, const char *extra_a, struct evlog *log)
{
	char text[2048], b[512] = "";

	if (pb > 0)
		snprintf(b, sizeof(b),
			 ", { name = \"b\"; driver = \"smpp\"; window = 256; tps = 400;"
			 " params = { host = \"127.0.0.1\"; port = \"%d\"; system_id = \"smsr\";"
			 " password = \"secret\"; }; }",
			 pb);
	snprintf(text, sizeof(text),
		 "router = { retry = { backoff = \"50ms\"; }; health = { open_after = 100; }; };\n"
		 "channels = ( { name = \"a\"; driver = \"smpp\"; window = 256;"
		 " submit_timeout = \"1500ms\"; tps = 400;"
		 " params = { host = \"127.0.0.1\"; port = \"%d\"; system_id = \"smsr\";"
		 " password = \"secret\"; reconnect_min = \"200\"; reconnect_max = \"1000\";"
		 " window = \"256\"; %s }; }%s );\n"
		 "routes = ( { groups = ( [\"a\"]%s ); } );\n",
		 pa, extra_a, b, pb > 0 ? ", [\"b\"]" : "");
	return test_router_start(text, log, 1);
}

static bool chan_state_is(struct smsr_router *r, int index, int state, unsigned ms)
{
	struct smsr_channel_info ci[4];

	for (unsigned t = 0; t < ms; t += 10) {
		int n = smsr_router_channels(r, ci, 4);

		if (n > index && ci[index].state == state)
			return true;
		sleep_ms(10);
	}
	return false;
}

static void info(struct smsr_router *r, int index, struct smsr_channel_info *out)
{
	struct smsr_channel_info ci[4];

	assert_true(smsr_router_channels(r, ci, 4) > index);
	*out = ci[index];
}

static unsigned submit_n(struct smsr_router *r, const char *to, unsigned n, enum smsr_class cls)
{
	const char *t = cls == SMSR_CLASS_MARKETING ? "【店铺】双11全场5折，回TD退订"
						    : "Your code is 583920, valid 5 minutes";
	struct smsr_msg m = {.recipient = to, .text = t, .text_len = strlen(t), .cls = cls};
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += smsr_router_submit(r, &m, NULL) == 0;
	return ok;
}

static long count_events(struct evlog *log, int type, int reason)
{
	long n = 0;

	pthread_mutex_lock(&log->lock);
	for (size_t i = 0; i < log->n; i++)
		n += log->v[i].type == type && log->v[i].reason == reason;
	pthread_mutex_unlock(&log->lock);
	return n;
}

static int setup(void **state)
{
	if (!smsc_available()) {
		fprintf(stderr, "skipped: node or tests/peers/node_modules missing\n");
		exit(77);
	}
	return 0;
}

static void test_smpp_throttling_cuts_the_rate_and_it_recovers(void **state)
{
	static const char *const peer[] = {"--throttle-rate", "100", NULL};
	struct smsc_proc s;
	struct evlog log;
	struct smsr_router *r;
	struct smsr_channel_info ci;
	unsigned n;

	assert_int_equal(smsc_start(&s, peer), 0);
	evlog_init(&log);
	r = start_two(s.port, -1, "", &log);
	assert_true(chan_state_is(r, 0, SMSR_CHAN_UP, 5000));
	n = submit_n(r, "+8613812345678", 600, SMSR_CLASS_NOTICE);
	sleep_ms(1500);
	info(r, 0, &ci);
	assert_true(ci.throttled > 0);
	assert_true(ci.rate_cuts > 0);
	assert_true(ci.send_tps < 400);
	assert_int_equal(smsc_ctl(&s, "{\"cmd\":\"throttle\",\"off\":true}", NULL, 0), 0);
	assert_true(evlog_wait_finals(&log, n, 30000));
	assert_int_equal(evlog_not_one_final(&log), 0);
	/* Back to the granted rate once the throttling stops. */
	for (int i = 0; i < 600; i++) {
		info(r, 0, &ci);
		if (ci.send_tps >= 400)
			break;
		sleep_ms(10);
	}
	assert_int_equal(ci.send_tps, 400);
	smsr_router_destroy(r);
	smsc_stop(&s);
	evlog_fini(&log);
}

static void test_smpp_permanent_fails_at_once_temporary_is_retried(void **state)
{
	static const char *const peer[] = {"--reject", "11:86137", "--reject", "8:86136", NULL};
	struct smsc_proc s;
	struct evlog log;
	struct smsr_router *r;
	struct smsr_channel_info ci;

	assert_int_equal(smsc_start(&s, peer), 0);
	evlog_init(&log);
	r = start_two(s.port, -1, "", &log);
	assert_true(chan_state_is(r, 0, SMSR_CHAN_UP, 5000));
	assert_int_equal(submit_n(r, "+8613712345678", 5, SMSR_CLASS_NOTICE), 5);
	assert_int_equal(submit_n(r, "+8613612345678", 5, SMSR_CLASS_NOTICE), 5);
	assert_true(evlog_wait_finals(&log, 10, 20000));
	assert_int_equal(evlog_not_one_final(&log), 0);
	/* 0x0B: permanent, first attempt, the operator's code kept. */
	assert_int_equal(count_events(&log, SMSR_EV_FAILED, -SMSR_EREJECTED), 5);
	/* 0x08: temporary; max_attempts (3) sends each, then failed. */
	assert_int_equal(count_events(&log, SMSR_EV_FAILED, -SMSR_ECHANERR), 5);
	info(r, 0, &ci);
	assert_true(ci.retried >= 10);
	assert_int_equal(smsc_log_wait(&s, (const char *[]){"\"8613712345678\"", NULL}, 5, 3000),
			 5);
	assert_int_equal(smsc_log_wait(&s, (const char *[]){"\"8613612345678\"", NULL}, 15, 3000),
			 15);
	smsr_router_destroy(r);
	smsc_stop(&s);
	evlog_fini(&log);
}

static void test_smpp_unanswered_submits_resent_by_class(void **state)
{
	struct smsc_proc sa, sb;
	struct evlog log;
	struct smsr_router *r;

	assert_int_equal(smsc_start(&sa, (const char *[]){"--swallow", NULL}), 0);
	assert_int_equal(smsc_start(&sb, NULL), 0);
	evlog_init(&log);
	r = start_two(sa.port, sb.port, "", &log);
	assert_true(chan_state_is(r, 0, SMSR_CHAN_UP, 5000));
	assert_true(chan_state_is(r, 1, SMSR_CHAN_UP, 5000));
	assert_int_equal(submit_n(r, "+8613812345678", 10, SMSR_CLASS_VERIFICATION), 10);
	assert_int_equal(submit_n(r, "+8613812345678", 10, SMSR_CLASS_MARKETING), 10);
	assert_true(evlog_wait_finals(&log, 20, 30000));
	assert_int_equal(evlog_not_one_final(&log), 0);
	/* Codes went again through b and arrived; promotions were not resent. */
	assert_int_equal(evlog_count(&log, SMSR_EV_DELIVERED), 10);
	assert_int_equal(smsc_log_wait(&sb, (const char *[]){"\"submit_sm\"", NULL}, 10, 3000), 10);
	assert_int_equal(count_events(&log, SMSR_EV_FAILED, -SMSR_ETIMEOUT), 10);
	smsr_router_destroy(r);
	smsc_stop(&sa);
	smsc_stop(&sb);
	evlog_fini(&log);
}

static void test_smpp_connection_drop_fails_over_and_reconnects(void **state)
{
	struct smsc_proc sa, sb;
	struct evlog log;
	struct smsr_router *r;
	unsigned n;

	assert_int_equal(smsc_start(&sa, (const char *[]){"--delay", "300", NULL}), 0);
	assert_int_equal(smsc_start(&sb, NULL), 0);
	evlog_init(&log);
	r = start_two(sa.port, sb.port, "", &log);
	assert_true(chan_state_is(r, 0, SMSR_CHAN_UP, 5000));
	assert_true(chan_state_is(r, 1, SMSR_CHAN_UP, 5000));
	n = submit_n(r, "+8613812345678", 100, SMSR_CLASS_VERIFICATION);
	n += submit_n(r, "+8613812345678", 100, SMSR_CLASS_NOTICE);
	sleep_ms(100); /* in flight at a, answers delayed */
	assert_int_equal(smsc_ctl(&sa, "{\"cmd\":\"drop\"}", NULL, 0), 0);
	assert_true(evlog_wait_finals(&log, n, 30000));
	assert_int_equal(evlog_not_one_final(&log), 0);
	/* Codes in flight resent through b; unknown notices not resent. */
	assert_true(evlog_count(&log, SMSR_EV_DELIVERED) >= 100);
	assert_int_equal(evlog_count(&log, SMSR_EV_DELIVERED) +
			     count_events(&log, SMSR_EV_FAILED, -SMSR_ECHANDOWN),
			 n);
	assert_true(count_events(&log, SMSR_EV_CHANNEL, -SMSR_ELINKDOWN) >= 1);
	/* a binds again after its backoff. */
	assert_true(smsc_wait(&sa, "binds", 2, 5000));
	assert_true(chan_state_is(r, 0, SMSR_CHAN_UP, 5000));
	smsr_router_destroy(r);
	smsc_stop(&sa);
	smsc_stop(&sb);
	evlog_fini(&log);
}

static void test_smpp_wrong_password_is_bind_failed_once(void **state)
{
	struct smsc_proc s;
	struct evlog log;
	struct smsr_router *r;
	struct smsr_channel_info ci;

	assert_int_equal(smsc_start(&s, (const char *[]){"--password", "right", NULL}), 0);
	evlog_init(&log);
	r = start_two(s.port, -1, "", &log); /* password "secret" */
	assert_true(smsc_wait(&s, "binds_refused", 3, 10000));
	info(r, 0, &ci);
	assert_int_equal(ci.state, SMSR_CHAN_DOWN);
	assert_int_equal(ci.down_reason, -SMSR_EBINDFAILED);
	/* Retried three times or more, told once: no event storm. */
	assert_int_equal(count_events(&log, SMSR_EV_CHANNEL, -SMSR_EBINDFAILED), 1);
	smsr_router_destroy(r);
	smsc_stop(&s);
	evlog_fini(&log);
}

static void test_smpp_enquire_link_keeps_idle_bind_and_silence_drops_it(void **state)
{
	struct smsc_proc s;
	struct evlog log;
	struct smsr_router *r;

	assert_int_equal(smsc_start(&s, NULL), 0);
	evlog_init(&log);
	r = start_two(s.port, -1, "enquire_link = \"1000\"; response_timeout = \"500\";", &log);
	assert_true(chan_state_is(r, 0, SMSR_CHAN_UP, 5000));
	assert_true(smsc_wait(&s, "enquire_links", 2, 5000));
	assert_int_equal(smsc_stat(&s, "binds"), 1);
	assert_int_equal(smsc_ctl(&s, "{\"cmd\":\"enquire_link_resp\",\"on\":false}", NULL, 0), 0);
	/* No answer within response_timeout: the bind is dropped and made again. */
	assert_true(smsc_wait(&s, "binds", 2, 10000));
	assert_true(count_events(&log, SMSR_EV_CHANNEL, -SMSR_ELINKDOWN) >= 1);
	smsr_router_destroy(r);
	smsc_stop(&s);
	evlog_fini(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_smpp_throttling_cuts_the_rate_and_it_recovers),
	    cmocka_unit_test(test_smpp_permanent_fails_at_once_temporary_is_retried),
	    cmocka_unit_test(test_smpp_unanswered_submits_resent_by_class),
	    cmocka_unit_test(test_smpp_connection_drop_fails_over_and_reconnects),
	    cmocka_unit_test(test_smpp_wrong_password_is_bind_failed_once),
	    cmocka_unit_test(test_smpp_enquire_link_keeps_idle_bind_and_silence_drops_it),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
