/* SPDX-License-Identifier: MIT */
/*
 * Description: what smsr_router_stop() says about the messages it ends.
 * A message never sent ends failed router_stopped (a client may send it
 * again); one a carrier may have — handed to the driver and unanswered,
 * accepted and awaiting its report, or waiting to be resent after an
 * unknown outcome — ends failed outcome_unknown_at_stop (sending it again
 * may deliver it twice). A message waiting to be retried after the carrier
 * refused it (throttled) was never sent: router_stopped. Every accepted
 * message has exactly one final event. Public API only; waits are bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"

static struct smsr_msg msg(const char *to, const char *text, enum smsr_class cls)
{
	return (struct smsr_msg){
	    .recipient = to, .text = text, .text_len = strlen(text), .cls = cls};
}

/* The reason of @id's final event; fails unless there is exactly one. */
static int final_reason(struct evlog *l, uint64_t id)
{
	long at = evlog_find(l, id, SMSR_EV_FAILED);

	assert_int_equal(evlog_finals_of(l, id), 1);
	assert_true(at >= 0);
	return l->v[at].reason;
}

/*
 * A slow carrier (300 ms per answer, window 4, reports after 100 s): at
 * the stop some messages await their report, some their answer, the rest
 * are queued.
 */
static void test_stop_tells_sent_from_never_sent(void **state)
{
	static const char *cfg = "channels = ( { name = \"slow\"; driver = \"sim\"; window = 4;\n"
				 "  params = { latency_ms = 300.0; dlr_delay_ms = 100000; }; } );\n"
				 "routes = ( { groups = ( [\"slow\"] ); } );\n";
	struct smsr_msg m[60];
	struct smsr_result res[60];
	struct evlog log;
	struct smsr_router *r;
	unsigned stopped = 0, unknown = 0, submitted = 0;

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg, &log, 1);
	for (int i = 0; i < 60; i++)
		m[i] = msg("13812345678", "Your parcel is at the front desk", SMSR_CLASS_NOTICE);
	assert_int_equal(smsr_router_submit_batch(r, m, 60, res), 60);
	assert_true(evlog_wait_type(&log, SMSR_EV_SUBMITTED, 6, 10000));
	smsr_router_stop(r);
	for (int i = 0; i < 60; i++) {
		int why = final_reason(&log, res[i].id);
		bool handed = evlog_find(&log, res[i].id, SMSR_EV_HANDOFF) >= 0;

		submitted += evlog_find(&log, res[i].id, SMSR_EV_SUBMITTED) >= 0;
		if (handed)
			assert_int_equal(why, -SMSR_ESTOPUNKNOWN);
		else
			assert_int_equal(why, -SMSR_ESTOPPED);
		stopped += why == -SMSR_ESTOPPED;
		unknown += why == -SMSR_ESTOPUNKNOWN;
	}
	print_message("stop: %u router_stopped, %u outcome_unknown_at_stop (%u submitted)\n",
		      stopped, unknown, submitted);
	assert_true(submitted >= 6);
	assert_true(unknown > submitted); /* the window's unanswered ones too */
	assert_true(stopped > 0);
	assert_string_equal(smsr_errname(-SMSR_ESTOPUNKNOWN), "outcome_unknown_at_stop");
	smsr_router_destroy(r);
	evlog_fini(&log);
}

/*
 * A code whose submit went unanswered waits to be resent (its channel is
 * paused now, so it cannot leave): it may have reached the carrier. A
 * notice the carrier throttled waits for its retry: it was never sent.
 */
static void test_stop_waiting_retries_keep_their_history(void **state)
{
	static const char *cfg =
	    "channels = (\n"
	    "  { name = \"bh\"; driver = \"sim\"; classes = [\"verification\"];\n"
	    "    submit_timeout = \"100ms\"; params = { fault = \"blackhole\"; }; },\n"
	    "  { name = \"th\"; driver = \"sim\"; classes = [\"notice\"];\n"
	    "    params = { fault = \"throttle\"; }; } );\n"
	    "routes = ( { classes = [\"verification\"]; groups = ( [\"bh\"] ); },\n"
	    "           { classes = [\"notice\"]; groups = ( [\"th\"] ); } );\n";
	struct smsr_msg code = msg("13812345678", "Your code is 123456", SMSR_CLASS_VERIFICATION);
	struct smsr_msg note = msg("13912345678", "Your bill is ready", SMSR_CLASS_NOTICE);
	struct smsr_result rc, rn;
	struct smsr_stats st;
	struct evlog log;
	struct smsr_router *r;

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg, &log, 1);
	assert_int_equal(smsr_router_submit(r, &code, &rc), 0);
	assert_int_equal(smsr_router_submit(r, &note, &rn), 0);
	assert_true(evlog_wait_type(&log, SMSR_EV_HANDOFF, 2, 5000));
	assert_int_equal(smsr_router_channel_pause(r, smsr_router_channel_find(r, "bh")), 0);
	assert_int_equal(smsr_router_channel_pause(r, smsr_router_channel_find(r, "th")), 0);
	/* The code's submit times out (100 ms, swept every 100 ms) and waits to
	 * be resent; the throttled notice waits for its retry. */
	for (int i = 0; i < 200; i++) {
		smsr_router_stats(r, &st);
		if (st.retrying_now == 2 && !st.inflight_now)
			break;
		sleep_ms(10);
	}
	assert_int_equal(st.retrying_now, 2);
	assert_int_equal(st.inflight_now, 0);
	smsr_router_stop(r);
	assert_int_equal(final_reason(&log, rc.id), -SMSR_ESTOPUNKNOWN);
	assert_int_equal(final_reason(&log, rn.id), -SMSR_ESTOPPED);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stop_tells_sent_from_never_sent),
	    cmocka_unit_test(test_stop_waiting_retries_keep_their_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
