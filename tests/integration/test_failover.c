/* SPDX-License-Identifier: MIT */
/*
 * Description: failover of queued messages, through the public API. A
 * slow channel A holds a queue; when its link goes down (the sim driver's
 * "fault" control), every message queued on it moves to B, the next group
 * of the route, at once: same ids, the lane's order kept, a QUEUED event
 * naming B for each move, and every accepted message reaches exactly one
 * final state. With nowhere to go, messages stay on A and go out when A is
 * back. Run with one worker and with two (A and B on different workers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <pthread.h>

#include <cmocka.h>

#include "evlog.h"

#define N 300

static const char *cfg_two =
    "channels = (\n"
    " { name = \"A\"; driver = \"sim\"; tps = 5; params = { dlr_delay_ms = 1; }; },\n"
    " { name = \"B\"; driver = \"sim\"; params = { dlr_delay_ms = 1; }; } );\n"
    "routes = ( { groups = ( [\"A\"], [\"B\"] ); } );\n";

static const char *cfg_alone =
    "channels = ( { name = \"A\"; driver = \"sim\"; tps = 5; params = { dlr_delay_ms = 1; }; "
    "} );\n"
    "routes = ( { groups = ( [\"A\"] ); } );\n";

static void submit_notices(struct smsr_router *r, uint64_t *ids)
{
	static const char text[] = "Your order has shipped";

	for (int i = 0; i < N; i++) {
		struct smsr_msg m = {.recipient = "13812345678",
				     .text = text,
				     .text_len = sizeof(text) - 1,
				     .cls = SMSR_CLASS_NOTICE};
		struct smsr_result res;

		assert_int_equal(smsr_router_submit(r, &m, &res), 0);
		assert_int_equal(res.channel, 0); /* A: the route's first group */
		ids[i] = res.id;
	}
}

static uint64_t queued_on(struct smsr_router *r, int chan)
{
	struct smsr_channel_info ci[2];

	assert_true(smsr_router_channels(r, ci, 2) > chan);
	return ci[chan].queued[0] + ci[chan].queued[1] + ci[chan].queued[2];
}

static void failover(unsigned workers)
{
	struct evlog log;
	struct smsr_router *r;
	uint64_t ids[N], last = 0, moved = 0, t_move = 0, t_send = 0;

	evlog_init(&log);
	r = test_router_start(cfg_two, &log, workers);
	submit_notices(r, ids);
	assert_true(queued_on(r, 0) > N / 2); /* A sends 5 a second */
	assert_int_equal(smsr_router_channel_ctl(r, 0, "fault", "down"), 0);
	assert_true(evlog_wait_finals(&log, N, 10000));
	assert_int_equal(queued_on(r, 0), 0);
	/* Same ids, one final each; the moved ones were queued on B in the
	 * order they had on A (ids grow in submit order). */
	pthread_mutex_lock(&log.lock);
	for (size_t i = 0; i < log.n; i++) {
		const struct evrec *e = &log.v[i];

		if (e->type == SMSR_EV_HANDOFF && e->channel == 1 && !t_send)
			t_send = e->ts_ns;
		if (e->type == SMSR_EV_QUEUED && e->channel == 1) {
			if (!t_move)
				t_move = e->ts_ns;
			assert_true(e->id > last);
			last = e->id;
			moved++;
		}
	}
	pthread_mutex_unlock(&log.lock);
	for (int i = 0; i < N; i++)
		assert_int_equal(evlog_finals_of(&log, ids[i]), 1);
	/* Not a timing assertion: the figure is for the closing note. */
	print_message("%u worker(s): %llu of %d moved from A to B; first send on B %.1f us "
		      "after the move\n",
		      workers, (unsigned long long)moved, N,
		      t_send > t_move ? (double)(t_send - t_move) / 1000.0 : 0.0);
	assert_true(moved > N / 2);
	assert_int_equal(evlog_count(&log, SMSR_EV_DELIVERED) + evlog_count(&log, SMSR_EV_FAILED),
			 N);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

static void test_queued_messages_move_when_a_channel_goes_down(void **state)
{
	(void)state;
	failover(1);
}

static void test_queued_messages_move_across_workers(void **state)
{
	(void)state;
	failover(2);
}

static void test_nowhere_to_go_waits_for_the_channel(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	uint64_t ids[N];

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg_alone, &log, 1);
	submit_notices(r, ids);
	assert_int_equal(smsr_router_channel_ctl(r, 0, "fault", "down"), 0);
	sleep_ms(300);
	/* Nothing lost, nothing failed: they wait on A. */
	assert_true(queued_on(r, 0) > N / 2);
	assert_int_equal(evlog_count(&log, SMSR_EV_FAILED), 0);
	assert_int_equal(smsr_router_channel_set_rate(r, 0, 0), 0); /* then quickly */
	assert_int_equal(smsr_router_channel_ctl(r, 0, "fault", "none"), 0);
	assert_true(evlog_wait_finals(&log, N, 15000));
	for (int i = 0; i < N; i++)
		assert_int_equal(evlog_finals_of(&log, ids[i]), 1);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

/* Remove A while a thread submits: its queue moves to B, nothing is lost. */
static void test_remove_under_load(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct test_pusher p;
	struct smsr_channel_info ci[2];
	uint64_t ids[N], accepted;

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg_two, &log, 2);
	submit_notices(r, ids);
	test_pusher_start(&p, r, 20000, 64);
	sleep_ms(50);
	assert_int_equal(smsr_router_channel_remove(r, 0), 0);
	assert_int_equal(smsr_router_channel_remove(r, 0), -SMSR_ESTATE);
	assert_int_equal(smsr_router_channel_find(r, "A"), -SMSR_ENOTFOUND);
	assert_int_equal(smsr_router_channel_find(r, "B"), 1);
	sleep_ms(200);
	accepted = test_pusher_stop(&p);
	assert_true(evlog_wait_finals(&log, N + accepted, 15000));
	for (int i = 0; i < N; i++)
		assert_int_equal(evlog_finals_of(&log, ids[i]), 1);
	assert_int_equal(evlog_finals(&log), N + accepted);
	assert_int_equal(smsr_router_channels(r, ci, 2), 2);
	assert_int_equal(ci[0].state, SMSR_CHAN_REMOVED);
	assert_int_equal(ci[0].queued[0] + ci[0].queued[1] + ci[0].queued[2], 0);
	assert_int_equal(evlog_count(&log, SMSR_EV_FAILED), 0); /* all had B to go to */
	print_message("removed A under load: %llu + %d messages, all final once\n",
		      (unsigned long long)accepted, N);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

/*
 * A goes down for good while a thread keeps submitting to it: messages
 * routed to A just before it went down, and handed to its worker after
 * the queue had moved, must move too, not wait for A.
 */
static void test_down_while_submitting(void **state)
{
	struct evlog log;
	struct smsr_router *r;

	(void)state;
	for (int round = 0; round < 5; round++) {
		struct test_pusher p;
		uint64_t accepted;

		evlog_init(&log);
		r = test_router_start(cfg_two, &log, 2);
		test_pusher_start(&p, r, 20000, 64);
		sleep_ms(20 + round * 7);
		assert_int_equal(smsr_router_channel_ctl(r, 0, "fault", "down"), 0);
		sleep_ms(100);
		accepted = test_pusher_stop(&p);
		assert_true(evlog_wait_finals(&log, accepted, 10000));
		assert_int_equal(evlog_finals(&log), accepted);
		smsr_router_destroy(r);
		evlog_fini(&log);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_queued_messages_move_when_a_channel_goes_down),
	    cmocka_unit_test(test_queued_messages_move_across_workers),
	    cmocka_unit_test(test_nowhere_to_go_waits_for_the_channel),
	    cmocka_unit_test(test_remove_under_load),
	    cmocka_unit_test(test_down_while_submitting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
