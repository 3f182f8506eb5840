/* SPDX-License-Identifier: MIT */
/*
 * Description: hot reconfiguration through the public API while a thread
 * keeps submitting: a channel added and routed to by a reload, a channel
 * dropped by a reload, a channel whose settings change (replaced under the
 * same name, its queue moving onto the successor), a rate and a price
 * changed in place (the worker's scoring reading the price meanwhile),
 * a channel drained (no new messages, its queue still sent),
 * and reloads that must be rejected whole (unknown driver, router settings
 * changed) leaving the running configuration as it was. Every accepted
 * message reaches exactly one final state, and none fails for want of a
 * channel.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"

/* What the tests submit besides the pushing thread. */
static const struct smsr_msg notice = {.recipient = "13912345678",
				       .text = "Your statement is ready",
				       .text_len = 23,
				       .cls = SMSR_CLASS_NOTICE};

static struct smsr_config *parse(const char *text)
{
	struct smsr_config *cfg;
	char err[256];

	assert_int_equal(smsr_config_create(&cfg), 0);
	if (smsr_config_parse(cfg, text, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	return cfg;
}

static int reload(struct smsr_router *r, const char *text, char *err, size_t errlen)
{
	struct smsr_config *cfg = parse(text);
	int rc = smsr_router_reload(r, cfg, err, errlen);

	smsr_config_destroy(cfg);
	return rc;
}

static const char *cfg_a = "channels = ( { name = \"A\"; driver = \"sim\"; tps = 500;\n"
			   "  params = { dlr_delay_ms = 2; }; } );\n"
			   "routes = ( { groups = ( [\"A\"] ); } );\n";

static const char *cfg_b = "channels = ( { name = \"B\"; driver = \"sim\";\n"
			   "  params = { dlr_delay_ms = 2; }; } );\n"
			   "routes = ( { groups = ( [\"B\"] ); } );\n";

static uint64_t submitted_on(struct smsr_router *r, int chan)
{
	struct smsr_channel_info ci[8];

	assert_true(smsr_router_channels(r, ci, 8) > chan);
	return ci[chan].submitted;
}

/* A reload swaps A for B under load: A's queue moves to B, nothing is lost. */
static void test_reload_swaps_channels_under_load(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct test_pusher p;
	struct smsr_channel_info ci[4];
	char err[256];
	uint64_t before;
	uint64_t accepted;

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg_a, &log, 2);
	test_pusher_start(&p, r, 50000, 32);
	sleep_ms(300);
	assert_int_equal(reload(r, cfg_b, err, sizeof(err)), 0);
	assert_int_equal(smsr_router_channel_find(r, "A"), -SMSR_ENOTFOUND);
	assert_int_equal(smsr_router_channel_find(r, "B"), 1);
	before = submitted_on(r, 1);
	sleep_ms(300);
	accepted = test_pusher_stop(&p);
	assert_true(submitted_on(r, 1) > before); /* B carries the traffic now */
	assert_true(evlog_wait_finals(&log, accepted, 15000));
	assert_int_equal(evlog_finals(&log), accepted);
	assert_int_equal(evlog_count(&log, SMSR_EV_FAILED), 0);
	assert_int_equal(smsr_router_channels(r, ci, 4), 2);
	assert_int_equal(ci[0].state, SMSR_CHAN_REMOVED);
	print_message("swapped A for B under load: %llu messages, all final once\n",
		      (unsigned long long)accepted);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

/*
 * Changing only the rate keeps the channel; changing its driver settings
 * replaces it under the same name, and what A had queued moves onto the
 * new A (same ids, one final each).
 */
static void test_reload_updates_in_place_or_replaces(void **state)
{
	static const char *cfg_a_fast = "channels = ( { name = \"A\"; driver = \"sim\"; tps = 0;\n"
					"  params = { dlr_delay_ms = 3; }; } );\n"
					"routes = ( { groups = ( [\"A\"] ); } );\n";
	static const char *cfg_a_new = "channels = ( { name = \"A\"; driver = \"sim\"; tps = 0;\n"
				       "  params = { dlr_delay_ms = 3; }; } );\n"
				       "routes = ( { groups = ( [\"A\"] ); } );\n";
	static const char *cfg_a_dear = "channels = ( { name = \"A\"; driver = \"sim\"; tps = 0;\n"
					"  price = 0.07; params = { dlr_delay_ms = 3; }; } );\n"
					"routes = ( { groups = ( [\"A\"] ); } );\n";
	static const char *cfg_slow = "channels = ( { name = \"A\"; driver = \"sim\"; tps = 5;\n"
				      "  params = { dlr_delay_ms = 2; }; } );\n"
				      "routes = ( { groups = ( [\"A\"] ); } );\n";
	struct evlog log;
	struct smsr_router *r;
	struct smsr_channel_info ci[4];
	char err[256];

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg_slow, &log, 1);
	for (int i = 0; i < 100; i++)
		assert_int_equal(smsr_router_submit(r, &notice, NULL), 0);
	/* A sends 5 a second: most wait. New params: a new A takes them. */
	assert_int_equal(reload(r, cfg_a_new, err, sizeof(err)), 0);
	assert_int_equal(smsr_router_channel_find(r, "A"), 1);
	assert_true(evlog_wait_finals(&log, 100, 10000));
	assert_int_equal(evlog_count(&log, SMSR_EV_DELIVERED), 100);
	/* Only the rate differs: same channel, new rate. */
	assert_int_equal(reload(r, cfg_a_fast, err, sizeof(err)), 0);
	assert_int_equal(smsr_router_channels(r, ci, 4), 2);
	assert_int_equal(ci[0].state, SMSR_CHAN_REMOVED);
	assert_int_equal(smsr_router_channel_find(r, "A"), 1);
	assert_int_equal(ci[1].tps, 0);
	/* Only the price differs: same channel, and the worker's health ticks
	 * (every sweep, 100 ms) score it with the new price. */
	assert_int_equal(reload(r, cfg_a_dear, err, sizeof(err)), 0);
	sleep_ms(300);
	assert_int_equal(smsr_router_channels(r, ci, 4), 2);
	assert_int_equal(smsr_router_channel_find(r, "A"), 1);
	assert_true(ci[1].price > 0.069 && ci[1].price < 0.071);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

/* Bad reloads are rejected whole; the running configuration stays. */
static void test_bad_reload_is_rejected_whole(void **state)
{
	static const char *cfg_bad_driver = "channels = ( { name = \"A\"; driver = \"sim\"; }, { "
					    "name = \"C\"; driver = \"cmpp\"; } "
					    ");\n"
					    "routes = ( { groups = ( [\"C\"] ); } );\n";
	static const char *cfg_workers = "router = { workers = 3; };\n"
					 "channels = ( { name = \"C\"; driver = \"sim\"; } );\n"
					 "routes = ( { groups = ( [\"C\"] ); } );\n";
	struct evlog log;
	struct smsr_router *r;
	struct smsr_result res;
	char err[256];

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg_a, &log, 1);
	assert_int_equal(reload(r, cfg_bad_driver, err, sizeof(err)), -SMSR_ENODRIVER);
	assert_non_null(strstr(err, "cmpp"));
	assert_int_equal(reload(r, cfg_workers, err, sizeof(err)), -SMSR_ECONFIG);
	assert_non_null(strstr(err, "router.workers"));
	assert_int_equal(smsr_router_channels(r, NULL, 0), 1); /* nothing was added */
	assert_int_equal(smsr_router_submit(r, &notice, &res), 0);
	assert_int_equal(res.channel, 0);
	/* channel_add: a bad text and a taken name are refused with a reason. */
	assert_int_equal(smsr_router_channel_add(r, "{ name = \"D\"; }", err, sizeof(err)),
			 -SMSR_ECONFIG);
	assert_non_null(strstr(err, "driver"));
	assert_int_equal(
	    smsr_router_channel_add(r, "{ name = \"A\"; driver = \"sim\"; }", err, sizeof(err)),
	    -SMSR_EEXIST);
	assert_int_equal(
	    smsr_router_channel_add(r, "{ name = \"D\"; driver = \"sim\"; }", err, sizeof(err)), 1);
	assert_int_equal(smsr_router_channel_find(r, "D"), 1);
	assert_true(evlog_wait_finals(&log, 1, 5000));
	smsr_router_destroy(r);
	evlog_fini(&log);
}

/* Drain A while a thread submits: A takes nothing new but sends its queue. */
static void test_drain_under_load(void **state)
{
	static const char *cfg_ab =
	    "channels = (\n"
	    " { name = \"A\"; driver = \"sim\"; tps = 300;\n"
	    "   params = { dlr_delay_ms = 2; }; },\n"
	    " { name = \"B\"; driver = \"sim\"; params = { dlr_delay_ms = 2; }; } );\n"
	    "routes = ( { groups = ( [\"A\", \"B\"] ); } );\n";
	struct evlog log;
	struct smsr_router *r;
	struct test_pusher p;
	struct smsr_channel_info ci[2];
	uint64_t sent_a;
	uint64_t accepted;

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg_ab, &log, 2);
	test_pusher_start(&p, r, 50000, 32);
	sleep_ms(200);
	assert_int_equal(smsr_router_channel_drain(r, 0), 0);
	assert_int_equal(smsr_router_channels(r, ci, 2), 2);
	assert_int_equal(ci[0].state, SMSR_CHAN_DRAINING);
	sleep_ms(300);
	accepted = test_pusher_stop(&p);
	assert_true(evlog_wait_finals(&log, accepted, 15000));
	assert_int_equal(evlog_finals(&log), accepted);
	assert_int_equal(evlog_count(&log, SMSR_EV_FAILED), 0);
	assert_int_equal(smsr_router_channels(r, ci, 2), 2);
	assert_int_equal(ci[0].state, SMSR_CHAN_DRAINING);
	assert_int_equal(ci[0].queued[0] + ci[0].queued[1] + ci[0].queued[2], 0);
	sent_a = ci[0].submitted;
	/* Nothing new reaches A now. */
	for (int i = 0; i < 50; i++) {
		struct smsr_result res;

		assert_int_equal(smsr_router_submit(r, &notice, &res), 0);
		assert_int_equal(res.channel, 1);
	}
	assert_int_equal(smsr_router_channels(r, ci, 2), 2);
	assert_int_equal(ci[0].submitted, sent_a);
	print_message("drained A under load: %llu messages, all final once\n",
		      (unsigned long long)accepted);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reload_swaps_channels_under_load),
	    cmocka_unit_test(test_reload_updates_in_place_or_replaces),
	    cmocka_unit_test(test_bad_reload_is_rejected_whole),
	    cmocka_unit_test(test_drain_under_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
