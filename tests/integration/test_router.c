/* SPDX-License-Identifier: MIT */
/*
 * Description: the router end to end through the public API only, on
 * simulated channels: messages flow to delivery, verification overtakes a
 * marketing flood on the same channel, down and paused channels are
 * skipped, expiry, lane back-pressure, bad input, stop, a host driver, and
 * every accepted message reaching exactly one final state.
 * Timing is never asserted: waits are bounded and assertions are about
 * order, counts and states.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"

/* One fast channel pair for every carrier, instant answers. */
static const char *cfg_fast =
    "channels = (\n"
    " { name = \"a\"; driver = \"sim\"; params = { dlr_delay_ms = 1; }; },\n"
    " { name = \"b\"; driver = \"sim\"; params = { dlr_delay_ms = 1; }; } );\n"
    "routes = ( { groups = ( [\"a:1\", \"b:1\"] ); } );\n";

static struct smsr_msg msg(const char *to, const char *text, enum smsr_class cls)
{
	return (struct smsr_msg){
	    .recipient = to, .text = text, .text_len = strlen(text), .cls = cls};
}

static void test_router_delivers_and_reports_each_step(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_msg m =
	    msg("13812345678", "【淘宝网】验证码 528104，您正在登录淘宝，切勿告知他人。",
		SMSR_CLASS_AUTO);
	struct smsr_result res;

	evlog_init(&log);
	r = test_router_start(cfg_fast, &log, 1);
	m.client_ref = "order-17";
	assert_int_equal(smsr_router_submit(r, &m, &res), 0);
	assert_true(res.id != 0);
	assert_int_equal(res.cls, SMSR_CLASS_VERIFICATION);
	assert_int_equal(res.carrier, SMSR_CARRIER_CMCC);
	assert_true(evlog_wait_finals(&log, 1, 5000));
	smsr_router_stop(r);
	assert_true(evlog_find(&log, res.id, SMSR_EV_ACCEPTED) <
		    evlog_find(&log, res.id, SMSR_EV_QUEUED));
	assert_true(evlog_find(&log, res.id, SMSR_EV_QUEUED) <
		    evlog_find(&log, res.id, SMSR_EV_SUBMITTED));
	assert_true(evlog_find(&log, res.id, SMSR_EV_SUBMITTED) <
		    evlog_find(&log, res.id, SMSR_EV_DELIVERED));
	assert_string_equal(log.v[evlog_find(&log, res.id, SMSR_EV_DELIVERED)].client_ref,
			    "order-17");
	assert_true(log.v[evlog_find(&log, res.id, SMSR_EV_SUBMITTED)].carrier_msgid[0] != 0);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

static void test_router_rejects_bad_input_with_reasons(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	char longref[SMSR_REF_MAX + 2];
	char longtext[SMSR_TEXT_MAX + 1];
	struct {
		struct smsr_msg m;
		int want;
	} cases[] = {
	    {msg("12345", "hello", SMSR_CLASS_NOTICE), -SMSR_EBADNUMBER},
	    {msg("+86abc", "hello", SMSR_CLASS_NOTICE), -SMSR_EBADNUMBER},
	    {msg("13812345678", "bad \xc3\x28 utf8", SMSR_CLASS_NOTICE), -SMSR_EBADUTF8},
	    {msg("13812345678", "", SMSR_CLASS_NOTICE), -SMSR_EEMPTY},
	    {msg("13812345678", "hi", (enum smsr_class)9), -SMSR_EBADCLASS},
	    {msg("13812345678", "hi", SMSR_CLASS_NOTICE), -SMSR_EBADREF},
	    {msg("13812345678", "placeholder", SMSR_CLASS_NOTICE), -SMSR_ETOOLONG},
	    {msg("13812345678", "hi", SMSR_CLASS_NOTICE), -SMSR_EBADVALIDITY},
	};
	struct smsr_result res[8];

	memset(longref, 'r', sizeof(longref) - 1);
	longref[sizeof(longref) - 1] = 0;
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = 0;
	cases[5].m.client_ref = longref;
	cases[6].m.text = longtext; /* filled above: not when the array was built */
	cases[6].m.text_len = strlen(longtext);
	cases[7].m.validity_ms = SMSR_VALIDITY_MAX_MS + 1;
	evlog_init(&log);
	r = test_router_start(cfg_fast, &log, 1);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(smsr_router_submit(r, &cases[i].m, &res[i]), cases[i].want);
		assert_int_equal(res[i].status, cases[i].want);
		assert_int_equal(res[i].id, 0);
	}
	assert_string_equal(smsr_errname(-SMSR_EBADNUMBER), "invalid_number");
	assert_int_equal(evlog_count(&log, SMSR_EV_REJECTED), 8);
	assert_int_equal(evlog_count(&log, SMSR_EV_ACCEPTED), 0);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

/* tps 200, window 4: a marketing flood waits for pacing; a code must not. */
static const char *cfg_paced =
    "channels = ( { name = \"only\"; driver = \"sim\"; tps = 200; burst = 10; window = 4;\n"
    "  reserve = { window = 1; tokens = 2; };\n"
    "  params = { latency_ms = 2.0; }; } );\n"
    "routes = ( { groups = ( [\"only\"] ); } );\n";

static void test_router_verification_overtakes_marketing_flood(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_msg mk = msg("13812345678", "Big sale today, 50% off everything. Reply STOP",
				 SMSR_CLASS_MARKETING);
	struct smsr_msg otp = msg("13912345678", "Your code is 123456", SMSR_CLASS_VERIFICATION);
	struct smsr_result res[2000], ores;
	struct smsr_msg flood[2000];
	long at, mk_after = 0;

	evlog_init(&log);
	r = test_router_start(cfg_paced, &log, 1);
	for (int i = 0; i < 2000; i++)
		flood[i] = mk;
	assert_int_equal(smsr_router_submit_batch(r, flood, 2000, res), 2000);
	assert_true(evlog_wait_type(&log, SMSR_EV_HANDOFF, 20, 5000));
	assert_int_equal(smsr_router_submit(r, &otp, &ores), 0);
	assert_true(evlog_wait_type(&log, SMSR_EV_DELIVERED, 40, 10000));
	at = evlog_find(&log, ores.id, SMSR_EV_HANDOFF);
	assert_true(at >= 0);
	/* Count marketing hand-offs between the code's queueing and its
	 * hand-off: with the reserve, none may get ahead of it. */
	for (long i = evlog_find(&log, ores.id, SMSR_EV_QUEUED); i < at; i++)
		if (log.v[i].type == SMSR_EV_HANDOFF)
			mk_after++;
	assert_int_equal(mk_after, 0);
	smsr_router_stop(r);
	/* Still-queued marketing ends as failed/router_stopped, not lost. */
	assert_int_equal(evlog_finals(&log), 2001);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

static void test_router_skips_down_channel(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_msg m =
	    msg("13812345678", "Your parcel is out for delivery", SMSR_CLASS_NOTICE);
	struct smsr_channel_info ci[2];
	struct smsr_result res;
	int a, b;

	evlog_init(&log);
	r = test_router_start(cfg_fast, &log, 1);
	a = smsr_router_channel_find(r, "a");
	b = smsr_router_channel_find(r, "b");
	assert_int_equal(smsr_router_channel_ctl(r, a, "fault", "down"), 0);
	for (int i = 0; i < 200; i++) {
		smsr_router_channels(r, ci, 2);
		if (ci[a].state == SMSR_CHAN_DOWN)
			break;
		sleep_ms(5);
	}
	assert_int_equal(ci[a].state, SMSR_CHAN_DOWN);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(smsr_router_submit(r, &m, &res), 0);
		assert_int_equal(res.channel, b);
	}
	assert_int_equal(smsr_router_channel_pause(r, b), 0);
	assert_int_equal(smsr_router_submit(r, &m, &res), -SMSR_ENOCHANNEL);
	assert_int_equal(smsr_router_channel_resume(r, b), 0);
	assert_true(evlog_wait_finals(&log, 100, 5000));
	smsr_router_destroy(r);
	assert_int_equal(evlog_count(&log, SMSR_EV_DELIVERED), 100);
	evlog_fini(&log);
}

static const char *cfg_slow =
    "channels = ( { name = \"slow\"; driver = \"sim\"; tps = 1;\n"
    " burst = 1; reserve = { tokens = 0; };\n"
    " lanes = { verification = 10; notice = 10; marketing = 100; }; } );\n"
    "routes = ( { groups = ( [\"slow\"] ); } );\n";

/*
 * A carrier that takes one submit and never answers it: what queues behind
 * the window waits, though the rate said it would go at once. (A rate that
 * says it would not go in time refuses it at submit: test_overload.c.)
 */
static const char *cfg_stuck =
    "channels = ( { name = \"stuck\"; driver = \"sim\"; tps = 1000; window = 1;\n"
    " params = { fault = \"blackhole\"; }; } );\n"
    "routes = ( { groups = ( [\"stuck\"] ); } );\n";

static void test_router_paused_lane_expires_without_sending(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_msg m = msg("+14155550123", "Your table is ready", SMSR_CLASS_NOTICE);
	struct smsr_result res;

	evlog_init(&log);
	r = test_router_start(cfg_stuck, &log, 1);
	m.validity_ms = 200;
	assert_int_equal(smsr_router_submit(r, &m, &res), 0);
	assert_true(evlog_wait_type(&log, SMSR_EV_HANDOFF, 1, 2000));
	for (int i = 0; i < 3; i++)
		assert_int_equal(smsr_router_submit(r, &m, &res), 0);
	assert_int_equal(smsr_router_channel_pause(r, 0), 0);
	assert_int_equal(smsr_router_submit(r, &m, NULL), -SMSR_ENOCHANNEL);
	/* The sweep expires them while the channel stays paused. */
	assert_true(evlog_wait_type(&log, SMSR_EV_EXPIRED, 3, 3000));
	assert_int_equal(smsr_router_channel_resume(r, 0), 0);
	sleep_ms(50);
	assert_int_equal(evlog_count(&log, SMSR_EV_HANDOFF), 1);
	smsr_router_destroy(r);
	assert_int_equal(evlog_finals(&log), 4);
	evlog_fini(&log);
}

static void test_router_expiry_behind_a_stuck_window(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_msg m = msg("+14155550123", "Your table is ready", SMSR_CLASS_NOTICE);
	struct smsr_result res;

	evlog_init(&log);
	r = test_router_start(cfg_stuck, &log, 1);
	m.validity_ms = 100;
	for (int i = 0; i < 5; i++)
		assert_int_equal(smsr_router_submit(r, &m, &res), 0);
	/* One window slot, never answered: the first goes, the others expire waiting. */
	assert_true(evlog_wait_type(&log, SMSR_EV_EXPIRED, 4, 3000));
	assert_int_equal(evlog_count(&log, SMSR_EV_HANDOFF), 1);
	assert_int_equal(log.v[evlog_find(&log, res.id, SMSR_EV_EXPIRED)].reason, -SMSR_EEXPIRED);
	smsr_router_destroy(r);
	assert_int_equal(evlog_finals(&log), 5);
	evlog_fini(&log);
}

static void test_router_full_lane_says_busy(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	static struct smsr_msg m[150];
	static struct smsr_result res[150];
	struct smsr_stats st;
	int busy = 0;

	evlog_init(&log);
	r = test_router_start(cfg_slow, &log, 1);
	/* The carrier swallows what it gets: nothing leaves in flight. The
	 * worker applies this before it sees the batch below. */
	assert_int_equal(smsr_router_channel_ctl(r, 0, "fault", "blackhole"), 0);
	for (int i = 0; i < 150; i++)
		m[i] = msg("13812345678", "Flash sale! Reply TD to opt out", SMSR_CLASS_MARKETING);
	/* One batch is admitted before the worker sees any of it: exactly the
	 * lane's 100 fit, the rest are told to come back later. */
	assert_int_equal(smsr_router_submit_batch(r, m, 150, res), 100);
	for (int i = 0; i < 150; i++) {
		busy += res[i].status == -SMSR_EBUSY;
		assert_true(res[i].status == 0 || res[i].status == -SMSR_EBUSY);
	}
	assert_int_equal(busy, 50);
	smsr_router_stats(r, &st);
	assert_int_equal(st.rejected_by_reason[SMSR_EBUSY - SMSR_EINVAL], 50);
	/* Once the carrier has taken one, there is room for one more. */
	assert_true(evlog_wait_type(&log, SMSR_EV_HANDOFF, 1, 3000));
	smsr_router_stats(r, &st);
	assert_int_equal(st.queued_now, 99);
	assert_int_equal(st.inflight_now, 1);
	assert_int_equal(smsr_router_submit(r, &m[0], NULL), 0);
	assert_int_equal(smsr_router_submit(r, &m[0], NULL), -SMSR_EBUSY);
	smsr_router_destroy(r);
	assert_int_equal(evlog_finals(&log), 101);
	evlog_fini(&log);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Unreliable carriers, two workers, stop in the middle: one final each. */
static void test_router_every_accepted_message_has_one_final(void **state)
{
	enum {
		N = 20000
	};
	const char *cfg =
	    "router = { workers = 2; };\n"
	    "channels = (\n"
	    " { name = \"a\"; driver = \"sim\"; tps = 20000; window = 64;\n"
	    "   params = { latency_ms = 1.0; jitter_ms = 1.0; accept_rate = 0.9; delivery_rate = "
	    "0.9;\n"
	    "              dlr_delay_ms = 5; }; },\n"
	    " { name = \"b\"; driver = \"sim\"; tps = 20000; window = 64;\n"
	    "   params = { latency_ms = 1.0; accept_rate = 0.95; dlr_delay_ms = 5; }; } );\n"
	    "routes = ( { groups = ( [\"a:1\", \"b:1\"] ); } );\n";
	struct evlog log;
	struct smsr_router *r;
	static struct smsr_msg m[N];
	static struct smsr_result res[N];
	static const char *texts[] = {"Your code is 4455", "Your order shipped",
				      "Sale! 30% off. Reply STOP"};
	uint64_t *finals;
	size_t nf = 0, accepted;

	evlog_init(&log);
	r = test_router_start(cfg, &log, 2);
	for (int i = 0; i < N; i++)
		m[i] = msg("+8613912345678", texts[i % 3], SMSR_CLASS_AUTO);
	accepted = 0;
	for (int i = 0; i < N; i += 1000)
		accepted += (size_t)smsr_router_submit_batch(r, m + i, 1000, res + i);
	sleep_ms(200);
	smsr_router_destroy(r);
	finals = calloc(log.n, sizeof(*finals));
	for (size_t i = 0; i < log.n; i++)
		if (log.v[i].type == SMSR_EV_DELIVERED || log.v[i].type == SMSR_EV_FAILED ||
		    log.v[i].type == SMSR_EV_EXPIRED)
			finals[nf++] = log.v[i].id;
	qsort(finals, nf, sizeof(*finals), cmp_u64);
	for (size_t i = 1; i < nf; i++)
		assert_true(finals[i] != finals[i - 1]);
	assert_int_equal(nf, accepted);
	for (int i = 0; i < N; i++)
		if (res[i].status == 0)
			assert_non_null(bsearch(&res[i].id, finals, nf, sizeof(*finals), cmp_u64));
	free(finals);
	evlog_fini(&log);
}

static void test_router_ids_unique_and_time_ordered(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	static struct smsr_msg m[5000];
	static struct smsr_result res[5000];

	evlog_init(&log);
	r = test_router_start(cfg_fast, &log, 1);
	for (int i = 0; i < 5000; i++)
		m[i] = msg("13812345678", "Your order shipped", SMSR_CLASS_NOTICE);
	assert_int_equal(smsr_router_submit_batch(r, m, 2500, res), 2500);
	assert_int_equal(smsr_router_submit_batch(r, m + 2500, 2500, res + 2500), 2500);
	for (int i = 1; i < 5000; i++)
		assert_true(res[i].id > res[i - 1].id);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

/* A host driver: answers every submit at once and reports delivery on poll. */
struct echo_state {
	struct smsr_chan *chan;
	uint64_t pending[64];
	int n;
	int submits;
};

static int echo_open(struct smsr_chan *chan, const struct smsr_param *p, size_t n, uint64_t seed,
		     void **state)
{
	struct echo_state *s = calloc(1, sizeof(*s));

	s->chan = chan;
	*state = s;
	smsr_chan_set_up(chan, true, 0);
	return 0;
}

static int echo_submit(void *state, const struct smsr_submit *sub, uint64_t now)
{
	struct echo_state *s = state;

	if (s->n == 64)
		return -SMSR_ECHANERR;
	s->submits++;
	smsr_chan_submit_done(s->chan, sub->token, 0, 0, "echo-1");
	s->pending[s->n++] = sub->token;
	return 0;
}

static uint64_t echo_poll(void *state, uint64_t now)
{
	struct echo_state *s = state;

	for (int i = 0; i < s->n; i++)
		smsr_chan_dlr(s->chan, s->pending[i], 0, 0);
	/* A report for a token already reported is stale and ignored. */
	if (s->n)
		smsr_chan_dlr(s->chan, s->pending[0], 0, 0);
	s->n = 0;
	return UINT64_MAX;
}

static void echo_close(void *state)
{
	free(state);
}

static const struct smsr_driver echo_driver = {.name = "echo",
					       .open = echo_open,
					       .submit = echo_submit,
					       .poll = echo_poll,
					       .close = echo_close};

static void test_router_runs_a_host_driver(void **state)
{
	const struct smsr_driver *drivers[] = {&echo_driver};
	struct smsr_config *cfg =
	    test_config("channels = ( { name = \"e\"; driver = \"echo\"; } );\n"
			"routes = ( { groups = ( [\"e\"] ); } );\n");
	struct smsr_router_opts o = {.on_event = evlog_cb, .drivers = drivers, .ndrivers = 1};
	struct smsr_router *r;
	struct smsr_msg m = msg("13812345678", "Your order shipped", SMSR_CLASS_NOTICE);
	struct smsr_stats st;
	struct evlog log;

	evlog_init(&log);
	o.arg = &log;
	assert_int_equal(smsr_router_create(&r, cfg, NULL), -SMSR_ENODRIVER);
	assert_int_equal(smsr_router_create(&r, cfg, &o), 0);
	smsr_config_destroy(cfg);
	assert_int_equal(smsr_router_start(r), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(smsr_router_submit(r, &m, NULL), 0);
	assert_true(evlog_wait_type(&log, SMSR_EV_DELIVERED, 10, 5000));
	smsr_router_stats(r, &st);
	assert_int_equal(st.delivered, 10);
	assert_true(st.stale_reports >= 1);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

static void test_router_default_config_routes_every_carrier(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_router_opts o = {.on_event = evlog_cb, .arg = &log};
	const char *to[] = {"13812345678", "13012345678",  "13312345678",
			    "19212345678", "+14155550123", "+447946095800"};
	struct smsr_result res;

	evlog_init(&log);
	assert_int_equal(smsr_router_create(&r, NULL, &o), 0);
	assert_int_equal(smsr_router_start(r), 0);
	for (size_t i = 0; i < 6; i++) {
		struct smsr_msg m = msg(to[i], "【京东】您的订单已发货", SMSR_CLASS_AUTO);

		assert_int_equal(smsr_router_submit(r, &m, &res), 0);
		assert_true(res.channel >= 0);
	}
	smsr_router_stop(r);
	assert_int_equal(smsr_router_submit(r, &(struct smsr_msg){0}, &res), -SMSR_ENOTRUNNING);
	smsr_router_destroy(r);
	assert_int_equal(evlog_finals(&log), 6);
	evlog_fini(&log);
}

/* A tag set in the ACCEPTED callback comes back in every later event. */
struct tagger {
	_Atomic uint64_t tagged, seen, wrong;
};

static void tag_cb(void *arg, const struct smsr_event *ev)
{
	struct tagger *t = arg;

	if (ev->type == SMSR_EV_ACCEPTED) {
		assert_non_null(ev->tag_out);
		*ev->tag_out = ev->id * 3 + 1;
		atomic_fetch_add(&t->tagged, 1);
		return;
	}
	assert_null(ev->tag_out);
	atomic_fetch_add(&t->seen, 1);
	if (ev->tag != ev->id * 3 + 1)
		atomic_fetch_add(&t->wrong, 1);
}

static void test_router_tags_follow_the_message(void **state)
{
	struct tagger t = {0};
	struct smsr_router_opts o = {.on_event = tag_cb, .arg = &t};
	struct smsr_config *cfg = test_config(
	    "channels = ( { name = \"a\"; driver = \"sim\"; params = { dlr_delay_ms = 1; }; } );\n"
	    "routes = ( { groups = ( [\"a\"] ); } );\n");
	struct smsr_router *r;
	struct smsr_stats st;

	(void)state;
	assert_int_equal(smsr_router_create(&r, cfg, &o), 0);
	smsr_config_destroy(cfg);
	assert_int_equal(smsr_router_start(r), 0);
	for (int i = 0; i < 100; i++) {
		struct smsr_msg m = msg("+8613912345678", "Your order shipped", SMSR_CLASS_NOTICE);

		assert_int_equal(smsr_router_submit(r, &m, NULL), 0);
	}
	for (int k = 0; k < 500; k++) {
		smsr_router_stats(r, &st);
		if (st.delivered + st.failed == 100)
			break;
		sleep_ms(10);
	}
	smsr_router_destroy(r);
	assert_int_equal(atomic_load(&t.tagged), 100);
	assert_true(atomic_load(&t.seen) >= 400); /* queued, handoff, submitted, final */
	assert_int_equal(atomic_load(&t.wrong), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_router_delivers_and_reports_each_step),
	    cmocka_unit_test(test_router_rejects_bad_input_with_reasons),
	    cmocka_unit_test(test_router_verification_overtakes_marketing_flood),
	    cmocka_unit_test(test_router_skips_down_channel),
	    cmocka_unit_test(test_router_paused_lane_expires_without_sending),
	    cmocka_unit_test(test_router_expiry_behind_a_stuck_window),
	    cmocka_unit_test(test_router_full_lane_says_busy),
	    cmocka_unit_test(test_router_every_accepted_message_has_one_final),
	    cmocka_unit_test(test_router_ids_unique_and_time_ordered),
	    cmocka_unit_test(test_router_runs_a_host_driver),
	    cmocka_unit_test(test_router_default_config_routes_every_carrier),
	    cmocka_unit_test(test_router_tags_follow_the_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
