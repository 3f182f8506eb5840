/* SPDX-License-Identifier: MIT */
/*
 * Description: scoring through the public API. Two channels share one
 * route group with equal weights: the cheaper one per delivered message
 * gets most of the traffic (but not all), the channel info says why (its
 * score per class), a channel whose delivery rate sinks loses its share,
 * and with scoring off the weights alone decide.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"

#define CFG(enabled)                                                                               \
	"router = { scoring = { enabled = " enabled "; }; };\n"                                    \
	"channels = (\n"                                                                           \
	" { name = \"A\"; driver = \"sim\"; price = 0.040; params = { dlr_delay_ms = 1; }; },\n"   \
	" { name = \"B\"; driver = \"sim\"; price = 0.050; params = { dlr_delay_ms = 1; }; } );\n" \
	"routes = ( { groups = ( [\"A\", \"B\"] ); } );\n"

/* Submit @n notices; how many went to channel 0. Waits for their finals. */
static unsigned share_of_a(struct smsr_router *r, struct evlog *log, unsigned n)
{
	static const char text[] = "Your parcel has shipped";
	uint64_t before = evlog_finals(log);
	unsigned a = 0;

	for (unsigned i = 0; i < n; i++) {
		struct smsr_msg m = {.recipient = "+8613812345678",
				     .text = text,
				     .text_len = sizeof(text) - 1,
				     .cls = SMSR_CLASS_NOTICE};
		struct smsr_result res;

		assert_int_equal(smsr_router_submit(r, &m, &res), 0);
		a += res.channel == 0;
	}
	assert_true(evlog_wait_finals(log, before + n, 10000));
	return a;
}

static void test_scoring_prefers_cheaper_per_delivered(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_channel_info ci[2];
	unsigned a;

	(void)state;
	evlog_init(&log);
	r = test_router_start(CFG("true"), &log, 1);
	share_of_a(r, &log, 200); /* reports come back: delivery rates known */
	sleep_ms(250);		  /* a sweep or two publishes the scores */
	assert_int_equal(smsr_router_channels(r, ci, 2), 2);
	print_message("scores (notice): A %.4f, B %.4f\n", ci[0].score[1], ci[1].score[1]);
	assert_true(ci[0].score[1] < ci[1].score[1]);
	a = share_of_a(r, &log, 2000);
	print_message("A (0.040) took %u of 2000, B (0.050) the rest\n", a);
	assert_true(a > 1200 && a < 1990);
	/* A's deliveries sink: it loses its share. */
	assert_int_equal(smsr_router_channel_ctl(r, 0, "delivery_rate", "0.3"), 0);
	share_of_a(r, &log, 600);
	sleep_ms(250);
	assert_int_equal(smsr_router_channels(r, ci, 2), 2);
	print_message("A delivering 30%%: scores A %.4f, B %.4f\n", ci[0].score[1], ci[1].score[1]);
	assert_true(ci[0].score[1] > ci[1].score[1]);
	a = share_of_a(r, &log, 2000);
	print_message("A took %u of 2000\n", a);
	assert_true(a < 300);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

static void test_scoring_off_weights_decide(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	unsigned a;

	(void)state;
	evlog_init(&log);
	r = test_router_start(CFG("false"), &log, 1);
	share_of_a(r, &log, 200);
	sleep_ms(250);
	a = share_of_a(r, &log, 2000);
	print_message("scoring off: A took %u of 2000\n", a);
	assert_true(a > 800 && a < 1200);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scoring_prefers_cheaper_per_delivered),
	    cmocka_unit_test(test_scoring_off_weights_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
