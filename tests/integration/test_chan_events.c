/* SPDX-License-Identifier: MIT */
/*
 * Description: every state change of a channel is a CHANNEL event,
 * whoever caused it. The operator's pause, drain, resume and remove change
 * the state from the host's thread; the channel's worker then tells it,
 * in order, like the link and breaker changes it makes itself. Two workers,
 * so the event comes from another thread than the call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "evlog.h"

static const char *cfg = "router = { workers = 2; };\n"
			 "channels = (\n"
			 " { name = \"A\"; driver = \"sim\"; },\n"
			 " { name = \"B\"; driver = \"sim\"; } );\n"
			 "routes = ( { groups = ( [\"A\", \"B\"] ); } );\n";

/* How many CHANNEL events of @chan named @state (bounded wait for @n). */
static unsigned wait_told(struct evlog *l, int chan, enum smsr_chan_state state, unsigned n)
{
	unsigned got = 0;

	for (int waited = 0; waited < 5000; waited += 5) {
		got = 0;
		pthread_mutex_lock(&l->lock);
		for (size_t i = 0; i < l->n; i++)
			got += l->v[i].type == SMSR_EV_CHANNEL && l->v[i].channel == chan &&
			       l->v[i].chan_state == state;
		pthread_mutex_unlock(&l->lock);
		if (got >= n)
			break;
		sleep_ms(5);
	}
	return got;
}

static void test_operator_changes_are_channel_events(void **state)
{
	struct evlog log;
	struct smsr_router *r;

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg, &log, 2);
	assert_int_equal(smsr_router_channel_pause(r, 1), 0);
	assert_int_equal(wait_told(&log, 1, SMSR_CHAN_PAUSED, 1), 1);
	assert_int_equal(smsr_router_channel_resume(r, 1), 0);
	assert_int_equal(wait_told(&log, 1, SMSR_CHAN_UP, 1), 1);
	assert_int_equal(smsr_router_channel_drain(r, 1), 0);
	assert_int_equal(wait_told(&log, 1, SMSR_CHAN_DRAINING, 1), 1);
	assert_int_equal(smsr_router_channel_resume(r, 1), 0);
	assert_int_equal(wait_told(&log, 1, SMSR_CHAN_UP, 2), 2);
	assert_int_equal(smsr_router_channel_remove(r, 1), 0);
	assert_int_equal(wait_told(&log, 1, SMSR_CHAN_REMOVED, 1), 1);
	/* Nothing said twice, and the other channel heard nothing of it. */
	sleep_ms(50);
	assert_int_equal(wait_told(&log, 1, SMSR_CHAN_PAUSED, 1), 1);
	assert_int_equal(wait_told(&log, 1, SMSR_CHAN_UP, 2), 2);
	assert_int_equal(wait_told(&log, 1, SMSR_CHAN_DRAINING, 1), 1);
	assert_int_equal(evlog_count(&log, SMSR_EV_CHANNEL), 5);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_operator_changes_are_channel_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
