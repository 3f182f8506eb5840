/* SPDX-License-Identifier: MIT */
/*
 * Description: overload through the public API, on real router threads and
 * simulated channels. The memory budget: submitting until busy holds no
 * more than a class's share of router.memory_budget (promotions 3/4,
 * notices 7/8, codes all), also from concurrent batch submitters, and
 * what is held drains back to nothing; what the host reserves of the
 * budget is the messages' no more, across reloads. Deadline-aware admission: a
 * message that its channel's rate could not send within its validity is
 * refused busy at once (stats.busy_late), tries the route's next channel
 * first, and every accepted code of a code and promotion flood leaves
 * (hand-off) within its validity. Every accepted message reaches exactly
 * one final state. Timing is asserted only against validities of seconds.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"

#define MB (1u << 20)

/* One channel that sends a segment a second: what is accepted stays. */
static const char *cfg_budget =
    "router = { memory_budget = \"1MB\"; };\n"
    "channels = ( { name = \"slow\"; driver = \"sim\"; tps = 1;\n"
    "  lanes = { verification = 100000; notice = 100000; marketing = 100000; };\n"
    "  params = { dlr_delay_ms = 1; }; } );\n"
    "routes = ( { groups = ( [\"slow\"] ); } );\n";

static const char promo[] = "【瑞幸咖啡】新品生椰拿铁上市，首杯9.9元，快来尝鲜！回T退订";
static const char notice[] = "【顺丰速运】您的快件SF1234567890已到达望京营业点，预计今日送达。";
static const char code[] = "【淘宝网】验证码 528104，您正在登录淘宝，切勿告知他人。";

static struct smsr_msg msg(const char *text, enum smsr_class cls, uint32_t validity_ms)
{
	return (struct smsr_msg){.recipient = "13812345678",
				 .text = text,
				 .text_len = strlen(text),
				 .cls = cls,
				 .validity_ms = validity_ms};
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Ids accepted so far, to check each reached exactly one final state. */
struct ids {
	uint64_t *v;
	size_t n, cap;
};

static void ids_add(struct ids *s, uint64_t id)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	s->v[s->n++] = id;
}

/* Every id of @s has exactly one final event in @log, and nothing else does. */
static void assert_one_final_each(struct evlog *log, struct ids *s)
{
	uint64_t *finals = calloc(log->n + 1, sizeof(*finals));
	size_t nf = 0;

	assert_non_null(finals);
	for (size_t i = 0; i < log->n; i++)
		if (SMSR_EV_FINAL & SMSR_EV_MASK(log->v[i].type))
			finals[nf++] = log->v[i].id;
	qsort(finals, nf, sizeof(*finals), cmp_u64);
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	assert_int_equal(nf, s->n);
	for (size_t i = 0; i < nf; i++)
		assert_int_equal(finals[i], s->v[i]);
	free(finals);
}

/*
 * Submit batches of @n messages like @m until @busy_batches in a row are
 * wholly refused (at most @max_batches). Every refusal must be busy.
 * Returns the number accepted; ids go to @s.
 */
static uint64_t fill(struct smsr_router *r, struct smsr_msg m, struct ids *s, int busy_batches,
		     int max_batches)
{
	static struct smsr_msg msgs[64];
	static struct smsr_result res[64];
	uint64_t accepted = 0;
	int none = 0;

	for (int i = 0; i < 64; i++)
		msgs[i] = m;
	for (int b = 0; b < max_batches && none < busy_batches; b++) {
		int got = smsr_router_submit_batch(r, msgs, 64, res);

		assert_true(got >= 0);
		for (int i = 0; i < 64; i++) {
			if (res[i].status == 0)
				ids_add(s, res[i].id);
			else
				assert_int_equal(res[i].status, -SMSR_EBUSY);
		}
		accepted += (uint64_t)got;
		none = got ? 0 : none + 1;
	}
	return accepted;
}

/* Wait (bounded) until the router holds no message memory. */
static uint64_t wait_held_zero(struct smsr_router *r, unsigned ms)
{
	struct smsr_stats st;

	for (unsigned waited = 0;; waited += 5) {
		assert_int_equal(smsr_router_stats(r, &st), 0);
		if (st.mem_held == 0 || waited >= ms)
			return st.mem_held;
		sleep_ms(5);
	}
}

static void test_budget_plateaus_per_class_and_drains_back(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_stats st;
	struct smsr_msg m = msg(code, SMSR_CLASS_VERIFICATION, 0);
	struct smsr_result res;
	struct ids ids = {0};
	uint64_t promos, notices, again;

	evlog_init(&log);
	r = test_router_start(cfg_budget, &log, 1);
	promos = fill(r, msg(promo, SMSR_CLASS_MARKETING, 0), &ids, 3, 1000);
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_int_equal(st.mem_budget, MB);
	/* Up to 3/4 of the budget, and refused only once the next would not fit. */
	assert_true(promos > 1000);
	assert_true(st.mem_held <= MB / 4 * 3);
	assert_true(st.mem_held > MB / 4 * 3 - 1024);
	assert_int_equal(st.busy_memory, st.rejected);
	assert_int_equal(st.busy_lanes + st.busy_late, 0);

	/* Notices still have an eighth, codes the rest. */
	notices = fill(r, msg(notice, SMSR_CLASS_NOTICE, 0), &ids, 3, 1000);
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_true(notices > 100);
	assert_true(st.mem_held <= MB / 8 * 7 && st.mem_held > MB / 8 * 7 - 1024);
	assert_int_equal(smsr_router_submit(r, &m, &res), 0);
	ids_add(&ids, res.id);
	m = msg(promo, SMSR_CLASS_MARKETING, 0);
	assert_int_equal(smsr_router_submit(r, &m, NULL), -SMSR_EBUSY);
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_true(st.mem_held <= MB);
	assert_int_equal(st.busy_memory, st.rejected);

	/* Let it all go: every message ends, and the budget is whole again. */
	assert_int_equal(smsr_router_channel_set_rate(r, 0, 0), 0);
	assert_true(evlog_wait_finals(&log, promos + notices + 1, 20000));
	assert_int_equal(wait_held_zero(r, 2000), 0);
	again = fill(r, msg(promo, SMSR_CLASS_MARKETING, 0), &ids, 1, 1);
	assert_int_equal(again, 64);
	smsr_router_stop(r);
	assert_one_final_each(&log, &ids);
	smsr_router_destroy(r);
	evlog_fini(&log);
	free(ids.v);
}

struct batcher {
	pthread_t t;
	struct smsr_router *r;
	_Atomic uint64_t accepted;
};

static void *batch_loop(void *arg)
{
	struct batcher *b = arg;
	struct smsr_msg msgs[50];
	struct smsr_result res[50];

	for (int i = 0; i < 50; i++)
		msgs[i] = msg(i % 2 ? promo : notice,
			      i % 2 ? SMSR_CLASS_MARKETING : SMSR_CLASS_NOTICE, 0);
	for (int k = 0; k < 400; k++) {
		int got = smsr_router_submit_batch(b->r, msgs, 50, res);

		if (got > 0)
			atomic_fetch_add(&b->accepted, (uint64_t)got);
		for (int i = 0; i < 50; i++)
			if (res[i].status && res[i].status != -SMSR_EBUSY)
				fail_msg("refused %d", res[i].status);
	}
	return NULL;
}

static void test_budget_holds_under_concurrent_batches(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_stats st;
	struct batcher b[3] = {0};
	uint64_t accepted = 0;

	evlog_init(&log);
	r = test_router_start(cfg_budget, &log, 1);
	for (int i = 0; i < 3; i++) {
		b[i].r = r;
		assert_int_equal(pthread_create(&b[i].t, NULL, batch_loop, &b[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(b[i].t, NULL);
		accepted += atomic_load(&b[i].accepted);
	}
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_int_equal(st.accepted, accepted);
	assert_true(st.mem_held <= MB / 8 * 7);
	assert_true(st.mem_held > MB / 2);
	assert_int_equal(st.busy_memory, st.rejected);
	assert_int_equal(smsr_router_channel_set_rate(r, 0, 0), 0);
	assert_true(evlog_wait_finals(&log, accepted, 20000));
	assert_int_equal(wait_held_zero(r, 2000), 0);
	smsr_router_destroy(r);
	assert_int_equal(evlog_finals(&log), accepted);
	evlog_fini(&log);
}

/* Two megabytes, one of them the host's own. */
static const char *cfg_two = "router = { memory_budget = \"2MB\"; };\n"
			     "channels = ( { name = \"slow\"; driver = \"sim\"; tps = 1;\n"
			     "  lanes = { marketing = 100000; };\n"
			     "  params = { dlr_delay_ms = 1; }; } );\n"
			     "routes = ( { groups = ( [\"slow\"] ); } );\n";

static int reload_budget(struct smsr_router *r, const char *budget, char *err, size_t errlen)
{
	struct smsr_config *c;
	char text[1024];
	int rc;

	snprintf(text, sizeof(text), "router = { memory_budget = \"%s\"; };\n%s", budget,
		 strchr(cfg_two, '\n') + 1);
	assert_int_equal(smsr_config_create(&c), 0);
	assert_int_equal(smsr_config_parse(c, text, err, errlen), 0);
	rc = smsr_router_reload(r, c, err, errlen);
	smsr_config_destroy(c);
	return rc;
}

static void test_host_reserve_leaves_messages_the_rest(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_stats st;
	struct ids ids = {0};
	char err[256] = "";
	uint64_t promos;

	evlog_init(&log);
	r = test_router_start(cfg_two, &log, 1);
	/* At least a megabyte must stay the messages'. */
	assert_int_equal(smsr_router_reserve_memory(r, MB + 1), -SMSR_EINVAL);
	assert_int_equal(smsr_router_reserve_memory(r, MB), 0);
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_int_equal(st.mem_budget, MB);
	assert_int_equal(st.mem_reserved, MB);
	promos = fill(r, msg(promo, SMSR_CLASS_MARKETING, 0), &ids, 3, 1000);
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_true(promos > 1000);
	assert_true(st.mem_held <= MB / 4 * 3 && st.mem_held > MB / 4 * 3 - 1024);

	/* A reload keeps the reserve, and refuses a budget it would not fit. */
	assert_int_equal(reload_budget(r, "1536KB", err, sizeof(err)), -SMSR_ECONFIG);
	assert_non_null(strstr(err, "router.memory_budget"));
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_int_equal(st.mem_budget, MB);
	assert_int_equal(reload_budget(r, "3MB", err, sizeof(err)), 0);
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_int_equal(st.mem_budget, 2 * MB);
	assert_int_equal(st.mem_reserved, MB);

	assert_int_equal(smsr_router_channel_set_rate(r, 0, 0), 0);
	assert_true(evlog_wait_finals(&log, promos, 20000));
	smsr_router_stop(r);
	assert_one_final_each(&log, &ids);
	smsr_router_destroy(r);
	evlog_fini(&log);
	free(ids.v);
}

/* Ten segments a second; codes valid two seconds. */
static const char *cfg_ten =
    "channels = ( { name = \"ten\"; driver = \"sim\"; tps = 10; burst = 2;\n"
    "  reserve = { tokens = 0; }; params = { dlr_delay_ms = 1; }; } );\n"
    "routes = ( { groups = ( [\"ten\"] ); } );\n";

/* For each accepted id of @s, its HANDOFF came within @validity_ms of its
 * ACCEPTED, and no message expired. */
static void assert_left_in_time(struct evlog *log, struct ids *s, uint32_t validity_ms)
{
	uint64_t *acc = calloc(s->n, sizeof(*acc));
	size_t left = 0;

	assert_non_null(acc);
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	for (size_t i = 0; i < log->n; i++) {
		const struct evrec *e = &log->v[i];
		uint64_t *at = bsearch(&e->id, s->v, s->n, sizeof(*s->v), cmp_u64);

		assert_true(e->type != SMSR_EV_EXPIRED);
		if (!at)
			continue;
		if (e->type == SMSR_EV_ACCEPTED) {
			acc[at - s->v] = e->ts_ns;
		} else if (e->type == SMSR_EV_HANDOFF && e->attempt == 1) {
			assert_true(acc[at - s->v] != 0);
			if (e->ts_ns - acc[at - s->v] > (uint64_t)validity_ms * 1000000u)
				fail_msg(
				    "id %llu left after %llu ms", (unsigned long long)e->id,
				    (unsigned long long)((e->ts_ns - acc[at - s->v]) / 1000000u));
			left++;
		}
	}
	assert_int_equal(left, s->n);
	free(acc);
}

static void test_message_that_cannot_make_its_validity_is_refused_at_once(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_stats st;
	struct smsr_msg m = msg(code, SMSR_CLASS_VERIFICATION, 2000);
	struct smsr_result res;
	struct ids ids = {0};
	uint64_t busy = 0;

	evlog_init(&log);
	r = test_router_start(cfg_ten, &log, 1);
	/* 2 s at 10 a second, an eighth to spare: about 17 queued may wait. */
	for (int i = 0; i < 60; i++) {
		int rc = smsr_router_submit(r, &m, &res);

		if (rc == 0)
			ids_add(&ids, res.id);
		else
			assert_int_equal(rc, -SMSR_EBUSY), busy++;
	}
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_true(ids.n >= 15 && ids.n <= 25);
	assert_int_equal(st.busy_late, busy);
	assert_int_equal(st.busy_lanes + st.busy_memory, 0);
	/* A longer validity still gets in behind them. */
	m.validity_ms = 30000;
	assert_int_equal(smsr_router_submit(r, &m, &res), 0);
	ids_add(&ids, res.id);
	assert_true(evlog_wait_finals(&log, ids.n, 10000));
	smsr_router_stop(r);
	assert_left_in_time(&log, &ids, 30000);
	assert_one_final_each(&log, &ids);
	/* The 2-second ones made their 2 seconds. */
	ids.n--;
	assert_left_in_time(&log, &ids, 2000);
	smsr_router_destroy(r);
	evlog_fini(&log);
	free(ids.v);
}

/* The route's first group is slow, its second fast. */
static const char *cfg_spill =
    "channels = ( { name = \"slow\"; driver = \"sim\"; tps = 5; burst = 1;\n"
    "  reserve = { tokens = 0; }; params = { dlr_delay_ms = 1; }; },\n"
    " { name = \"fast\"; driver = \"sim\"; tps = 10000; params = { dlr_delay_ms = 1; }; } );\n"
    "routes = ( { groups = ( [\"slow\"], [\"fast\"] ); } );\n";

static void test_late_message_tries_the_routes_next_channel(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_stats st;
	struct smsr_msg m = msg(code, SMSR_CLASS_VERIFICATION, 2000);
	struct smsr_result res;
	struct ids ids = {0};
	unsigned on_slow = 0;

	evlog_init(&log);
	r = test_router_start(cfg_spill, &log, 1);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(smsr_router_submit(r, &m, &res), 0);
		ids_add(&ids, res.id);
		on_slow += res.channel == 0;
	}
	/* 2 s at 5 a second: the slow one takes about nine, the rest spill. */
	assert_true(on_slow >= 5 && on_slow <= 14);
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_int_equal(st.rejected, 0);
	assert_true(evlog_wait_finals(&log, ids.n, 10000));
	smsr_router_stop(r);
	assert_left_in_time(&log, &ids, 2000);
	assert_one_final_each(&log, &ids);
	smsr_router_destroy(r);
	evlog_fini(&log);
	free(ids.v);
}

/* One channel for everything, 200 segments a second. */
static const char *cfg_shared =
    "channels = ( { name = \"one\"; driver = \"sim\"; tps = 200; window = 16;\n"
    "  params = { latency_ms = 2.0; dlr_delay_ms = 1; }; } );\n"
    "routes = ( { groups = ( [\"one\"] ); } );\n";

static void test_accepted_code_leaves_in_time_under_code_and_promo_flood(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	static struct smsr_msg msgs[250];
	static struct smsr_result res[250];
	struct ids codes = {0}, all = {0};
	uint64_t t0 = test_now_ns();

	evlog_init(&log);
	r = test_router_start(cfg_shared, &log, 1);
	/* Each batch: 200 promotions, 50 codes valid 3 s; for 2 s. */
	for (int i = 0; i < 250; i++)
		msgs[i] = i % 5 == 4 ? msg(code, SMSR_CLASS_VERIFICATION, 3000)
				     : msg(promo, SMSR_CLASS_MARKETING, 0);
	for (int k = 0; k < 200 && test_now_ns() - t0 < 2000000000ull; k++) {
		assert_true(smsr_router_submit_batch(r, msgs, 250, res) >= 0);
		for (int i = 0; i < 250; i++) {
			if (res[i].status) {
				assert_int_equal(res[i].status, -SMSR_EBUSY);
				assert_int_equal(res[i].cls, SMSR_CLASS_VERIFICATION);
				continue;
			}
			ids_add(&all, res[i].id);
			if (res[i].cls == SMSR_CLASS_VERIFICATION)
				ids_add(&codes, res[i].id);
		}
		sleep_ms(10);
	}
	assert_true(codes.n > 100);
	/* At the channel's own rate until the last code's validity is over:
	 * one that had not left by then would have expired. */
	sleep_ms(3500);
	assert_int_equal(smsr_router_channel_set_rate(r, 0, 0), 0);
	assert_true(evlog_wait_finals(&log, all.n, 30000));
	smsr_router_stop(r);
	assert_left_in_time(&log, &codes, 3000);
	assert_one_final_each(&log, &all);
	smsr_router_destroy(r);
	evlog_fini(&log);
	free(codes.v);
	free(all.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_budget_plateaus_per_class_and_drains_back),
	    cmocka_unit_test(test_budget_holds_under_concurrent_batches),
	    cmocka_unit_test(test_host_reserve_leaves_messages_the_rest),
	    cmocka_unit_test(test_message_that_cannot_make_its_validity_is_refused_at_once),
	    cmocka_unit_test(test_late_message_tries_the_routes_next_channel),
	    cmocka_unit_test(test_accepted_code_leaves_in_time_under_code_and_promo_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
