/* SPDX-License-Identifier: MIT */
/*
 * Description: channel health through the public API, each failure kind
 * of the simulated carrier: a black hole (submits never answered), lost
 * delivery reports, throttling, permanent rejections. Checks the breaker's
 * states (channel events with their reasons), the per-class resend of
 * messages whose outcome is unknown (codes resent, promotions not), retries
 * with backoff and their bound, the send rate adapting to throttling — and
 * in every case that each accepted message reaches exactly one final state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"

#define MAXN 2000

struct sent {
	uint64_t id[MAXN];
	uint8_t cls[MAXN];
	size_t n;
};

static void submit(struct smsr_router *r, struct sent *s, enum smsr_class cls, int n)
{
	static const char *text[] = {"", "Your code is 551029", "Your parcel is on its way",
				     "Big sale today only, reply STOP to opt out"};

	for (int i = 0; i < n; i++) {
		struct smsr_msg m = {.recipient = "+8613812345678",
				     .text = text[cls],
				     .text_len = strlen(text[cls]),
				     .cls = cls};
		struct smsr_result res;

		assert_int_equal(smsr_router_submit(r, &m, &res), 0);
		assert_true(s->n < MAXN);
		s->cls[s->n] = (uint8_t)cls;
		s->id[s->n++] = res.id;
	}
}

/* The last final event of @id (asserting there is exactly one). */
static struct evrec final_of(struct evlog *l, uint64_t id)
{
	struct evrec f = {0};
	unsigned n = 0;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n; i++) {
		const struct evrec *e = &l->v[i];

		if (e->id == id && (e->type == SMSR_EV_DELIVERED || e->type == SMSR_EV_FAILED ||
				    e->type == SMSR_EV_EXPIRED)) {
			f = *e;
			n++;
		}
	}
	pthread_mutex_unlock(&l->lock);
	assert_int_equal(n, 1);
	return f;
}

static unsigned count_of(struct evlog *l, uint64_t id, enum smsr_event_type t)
{
	unsigned n = 0;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].id == id && l->v[i].type == t;
	pthread_mutex_unlock(&l->lock);
	return n;
}

/* Wait (bounded) for a CHANNEL event of @chan entering @state; its time or 0. */
static uint64_t wait_state(struct evlog *l, int chan, enum smsr_chan_state state, int reason,
			   unsigned ms)
{
	for (unsigned t = 0; t <= ms; t += 5) {
		uint64_t ts = 0;

		pthread_mutex_lock(&l->lock);
		for (size_t i = 0; i < l->n && !ts; i++) {
			const struct evrec *e = &l->v[i];

			if (e->type == SMSR_EV_CHANNEL && e->channel == chan &&
			    e->chan_state == state && (!reason || e->reason == reason))
				ts = e->ts_ns;
		}
		pthread_mutex_unlock(&l->lock);
		if (ts)
			return ts;
		sleep_ms(5);
	}
	return 0;
}

static struct smsr_channel_info info(struct smsr_router *r, int chan)
{
	struct smsr_channel_info ci[2];

	assert_true(smsr_router_channels(r, ci, 2) > chan);
	return ci[chan];
}

static const char *cfg_pair =
    "router = { health = { answer_timeout = \"500ms\"; report_silence = \"300ms\";\n"
    "                      cool_down = \"300ms\"; probes = 3; min_samples = 10; };\n"
    "           retry = { backoff = \"10ms\"; }; };\n"
    "channels = (\n"
    " { name = \"A\"; driver = \"sim\"; submit_timeout = \"1s\"; dlr_timeout = \"1s\";\n"
    "   params = { latency_ms = 2; dlr_delay_ms = 5; }; },\n"
    " { name = \"B\"; driver = \"sim\"; params = { latency_ms = 2; dlr_delay_ms = 5; }; } );\n"
    "routes = ( { groups = ( [\"A\"], [\"B\"] ); } );\n";

/*
 * A takes submits and never answers. The breaker opens (black_hole) on the
 * answer timer, long before the submit timeout; the codes in flight are
 * resent on B and delivered there; the promotions are not resent (a
 * duplicate promotion is a complaint) and end failed when their submit
 * times out. Once the fault clears, A probes (degraded) and comes back up.
 */
static void test_health_black_hole_resends_codes_only(void **state)
{
	static struct sent s;
	struct evlog log;
	struct smsr_router *r;
	uint64_t t0, t_down;

	(void)state;
	s.n = 0;
	evlog_init(&log);
	r = test_router_start(cfg_pair, &log, 1);
	assert_int_equal(smsr_router_channel_ctl(r, 0, "fault", "blackhole"), 0);
	sleep_ms(20);
	t0 = test_now_ns();
	submit(r, &s, SMSR_CLASS_VERIFICATION, 20);
	submit(r, &s, SMSR_CLASS_MARKETING, 20);
	t_down = wait_state(&log, 0, SMSR_CHAN_DOWN, -SMSR_EBLACKHOLE, 10000);
	assert_true(t_down > 0);
	print_message("black hole detected after %.0f ms\n", (double)(t_down - t0) / 1e6);
	assert_true(evlog_wait_finals(&log, s.n, 10000));
	for (size_t i = 0; i < s.n; i++) {
		struct evrec f = final_of(&log, s.id[i]);

		if (s.cls[i] == SMSR_CLASS_VERIFICATION) {
			assert_int_equal(f.type, SMSR_EV_DELIVERED);
			assert_int_equal(f.channel, 1);
			assert_int_equal(f.attempt, 2);
		} else {
			assert_int_equal(f.type, SMSR_EV_FAILED);
			assert_int_equal(f.reason, -SMSR_ETIMEOUT);
			assert_int_equal(f.channel, 0);
			assert_int_equal(count_of(&log, s.id[i], SMSR_EV_HANDOFF), 1);
		}
	}
	assert_int_equal(info(r, 0).resent, 20);
	/* Fault gone: half-open (degraded) after the cool-down, probes, up. */
	assert_int_equal(smsr_router_channel_ctl(r, 0, "fault", "none"), 0);
	assert_true(wait_state(&log, 0, SMSR_CHAN_DEGRADED, 0, 10000) > 0);
	for (int k = 0; k < 100 && info(r, 0).state != SMSR_CHAN_UP; k++) {
		submit(r, &s, SMSR_CLASS_NOTICE, 1);
		sleep_ms(20);
	}
	assert_int_equal(info(r, 0).state, SMSR_CHAN_UP);
	assert_true(wait_state(&log, 0, SMSR_CHAN_UP, 0, 1000) > t_down);
	assert_true(evlog_wait_finals(&log, s.n, 10000));
	smsr_router_destroy(r);
	assert_int_equal(evlog_finals(&log), s.n);
	evlog_fini(&log);
}

/*
 * A accepts submits and stops reporting delivery. Once A's usual report
 * delay is known, the silence opens the breaker (no_reports); the codes
 * awaiting a report are resent on B; the promotions wait for their report
 * and end failed dlr_timeout.
 */
static void test_health_missing_reports(void **state)
{
	static struct sent s;
	struct evlog log;
	struct smsr_router *r;

	(void)state;
	s.n = 0;
	evlog_init(&log);
	r = test_router_start(cfg_pair, &log, 1);
	submit(r, &s, SMSR_CLASS_NOTICE, 20); /* A learns its report delay */
	assert_true(evlog_wait_finals(&log, 20, 5000));
	sleep_ms(150); /* a sweep publishes it */
	assert_int_equal(smsr_router_channel_ctl(r, 0, "fault", "nodlr"), 0);
	sleep_ms(20);
	submit(r, &s, SMSR_CLASS_VERIFICATION, 10);
	submit(r, &s, SMSR_CLASS_MARKETING, 10);
	assert_true(wait_state(&log, 0, SMSR_CHAN_DOWN, -SMSR_ENOREPORTS, 10000) > 0);
	assert_true(evlog_wait_finals(&log, s.n, 10000));
	for (size_t i = 20; i < s.n; i++) {
		struct evrec f = final_of(&log, s.id[i]);

		if (s.cls[i] == SMSR_CLASS_VERIFICATION) {
			assert_int_equal(f.type, SMSR_EV_DELIVERED);
			assert_int_equal(f.channel, 1);
		} else {
			assert_int_equal(f.type, SMSR_EV_FAILED);
			assert_int_equal(f.reason, -SMSR_EDLRTIMEOUT);
		}
	}
	smsr_router_destroy(r);
	assert_int_equal(evlog_finals(&log), s.n);
	evlog_fini(&log);
}

/*
 * A rejects every message for good: each fails at once with the carrier's
 * code, never retried; the error rate opens A's breaker (failing) and the
 * rest goes to B.
 */
static void test_health_permanent_errors_fail_at_once(void **state)
{
	static struct sent s;
	struct evlog log;
	struct smsr_router *r;
	size_t rejected = 0, delivered = 0;

	(void)state;
	s.n = 0;
	evlog_init(&log);
	r = test_router_start(cfg_pair, &log, 1);
	assert_int_equal(smsr_router_channel_ctl(r, 0, "fault", "reject"), 0);
	sleep_ms(20);
	for (int k = 0; k < 10; k++) {
		submit(r, &s, SMSR_CLASS_NOTICE, 10);
		sleep_ms(10);
	}
	assert_true(wait_state(&log, 0, SMSR_CHAN_DOWN, -SMSR_EFAILING, 5000) > 0);
	assert_true(evlog_wait_finals(&log, s.n, 10000));
	for (size_t i = 0; i < s.n; i++) {
		struct evrec f = final_of(&log, s.id[i]);

		if (f.type == SMSR_EV_FAILED) {
			assert_int_equal(f.reason, -SMSR_EREJECTED);
			assert_int_equal(f.attempt, 1);
			assert_int_equal(f.channel, 0);
			rejected++;
		} else {
			assert_int_equal(f.type, SMSR_EV_DELIVERED);
			assert_int_equal(f.channel, 1);
			delivered++;
		}
	}
	assert_true(rejected >= 10);
	assert_true(delivered > 0);
	assert_int_equal(info(r, 0).retried, 0);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

/*
 * The carrier allows 300 submits/s; the router was granted 2000. Throttling
 * answers halve the send rate (AIMD) instead of pausing; throttled messages
 * are retried with backoff on the only channel there is, and all arrive.
 */
static void test_health_throttling_adapts_rate_and_retries(void **state)
{
	static struct sent s;
	const char *cfg = "router = { retry = { max_attempts = 10; backoff = \"20ms\"; }; };\n"
			  "channels = ( { name = \"A\"; driver = \"sim\"; tps = 2000;\n"
			  "  params = { tps = 300; dlr_delay_ms = 1; }; } );\n"
			  "routes = ( { groups = ( [\"A\"] ); } );\n";
	struct evlog log;
	struct smsr_router *r;
	struct smsr_channel_info ci;

	(void)state;
	s.n = 0;
	evlog_init(&log);
	r = test_router_start(cfg, &log, 1);
	submit(r, &s, SMSR_CLASS_NOTICE, 600);
	assert_true(evlog_wait_finals(&log, s.n, 20000));
	ci = info(r, 0);
	print_message("throttled %llu, retried %llu, rate cuts %llu, send rate now %u\n",
		      (unsigned long long)ci.throttled, (unsigned long long)ci.retried,
		      (unsigned long long)ci.rate_cuts, ci.send_tps);
	assert_true(ci.throttled > 0);
	assert_true(ci.rate_cuts > 0);
	assert_true(ci.retried > 0);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(final_of(&log, s.id[i]).type, SMSR_EV_DELIVERED);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

/* Always throttled: each message is tried max_attempts times, then fails. */
static void test_health_retries_are_bounded(void **state)
{
	static struct sent s;
	const char *cfg = "router = { retry = { max_attempts = 3; backoff = \"5ms\"; }; };\n"
			  "channels = ( { name = \"A\"; driver = \"sim\";\n"
			  "  params = { fault = \"throttle\"; }; } );\n"
			  "routes = ( { groups = ( [\"A\"] ); } );\n";
	struct evlog log;
	struct smsr_router *r;

	(void)state;
	s.n = 0;
	evlog_init(&log);
	r = test_router_start(cfg, &log, 1);
	submit(r, &s, SMSR_CLASS_VERIFICATION, 5);
	assert_true(evlog_wait_finals(&log, s.n, 10000));
	for (size_t i = 0; i < s.n; i++) {
		struct evrec f = final_of(&log, s.id[i]);

		assert_int_equal(f.type, SMSR_EV_FAILED);
		assert_int_equal(f.reason, -SMSR_ETHROTTLED);
		assert_int_equal(f.attempt, 3);
		assert_int_equal(count_of(&log, s.id[i], SMSR_EV_HANDOFF), 3);
	}
	smsr_router_destroy(r);
	evlog_fini(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_health_black_hole_resends_codes_only),
	    cmocka_unit_test(test_health_missing_reports),
	    cmocka_unit_test(test_health_permanent_errors_fail_at_once),
	    cmocka_unit_test(test_health_throttling_adapts_rate_and_retries),
	    cmocka_unit_test(test_health_retries_are_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
