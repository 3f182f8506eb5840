/* SPDX-License-Identifier: MIT */
/*
 * Description: the per-channel lane scheduler on its own, with a simulated
 * clock: verification first, its reserved window slots and tokens, the
 * notice/marketing weights, pacing in segments, expiry at the head and by
 * sweep, and a randomized reference-model test (seed printed) checking that
 * lanes stay FIFO, verification is never passed over, and nothing is lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cfg/cfg.h"
#include "route/lane_sched.h"

#define S 1000000000ull

static struct smsr__rec *mk(int cls, uint64_t id, unsigned segs, uint64_t expires)
{
	struct smsr__rec *r = calloc(1, sizeof(*r));

	r->cls = (uint8_t)cls;
	r->id = id;
	r->segments = (uint8_t)segs;
	r->accepted_ns = expires % 1000000; /* so that smsr__rec_expires() is @expires */
	r->validity_ms = (uint32_t)(expires / 1000000);
	return r;
}

static struct smsr__chan_cfg chan(uint32_t tps, uint32_t burst, uint32_t window, uint32_t vw,
				  uint32_t vt)
{
	struct smsr__chan_cfg c = {
	    .tps = tps, .burst = burst, .window = window, .v_window = vw, .v_tokens = vt};

	c.weight[1] = 3;
	c.weight[2] = 1;
	return c;
}

static void free_chain(struct smsr__rec *r)
{
	while (r) {
		struct smsr__rec *n = r->next;

		free(r);
		r = n;
	}
}

/* Send everything the scheduler lets go at @now; returns how many. */
static int drain(struct smsr__lanes *l, uint64_t now, uint64_t *retry)
{
	struct smsr__rec *exp = NULL, *r;
	int sent = 0;

	while ((r = smsr__lanes_next(l, now, retry, &exp))) {
		sent++;
		free(r);
	}
	free_chain(exp);
	return sent;
}

static void test_lane_verification_preempts_marketing(void **state)
{
	struct smsr__chan_cfg c = chan(0, 0, 0, 0, 0);
	struct smsr__lanes l;
	struct smsr__rec *exp = NULL, *r;
	uint64_t retry;

	smsr__lanes_init(&l, &c, 0);
	for (int i = 0; i < 10; i++)
		smsr__lanes_push(&l, mk(SMSR_CLASS_MARKETING, (uint64_t)i, 1, UINT64_MAX));
	smsr__lanes_push(&l, mk(SMSR_CLASS_VERIFICATION, 100, 1, UINT64_MAX));
	r = smsr__lanes_next(&l, 1, &retry, &exp);
	assert_int_equal(r->id, 100);
	free(r);
	r = smsr__lanes_next(&l, 1, &retry, &exp);
	assert_int_equal(r->id, 0);
	free(r);
	free_chain(smsr__lanes_take_all(&l));
}

static void test_lane_token_reserve_is_verification_only(void **state)
{
	struct smsr__chan_cfg c = chan(100, 10, 0, 0, 3);
	struct smsr__lanes l;
	struct smsr__rec *exp = NULL, *r;
	uint64_t retry;
	int sent = 0;

	smsr__lanes_init(&l, &c, 0);
	for (int i = 0; i < 100; i++)
		smsr__lanes_push(&l, mk(SMSR_CLASS_MARKETING, (uint64_t)i, 1, UINT64_MAX));
	sent = drain(&l, 0, &retry);
	/* Burst 10, reserve 3: marketing takes 7 and must wait for tokens. */
	assert_int_equal(sent, 7);
	assert_true(retry > 0);
	smsr__lanes_push(&l, mk(SMSR_CLASS_VERIFICATION, 500, 1, UINT64_MAX));
	r = smsr__lanes_next(&l, 0, &retry, &exp);
	assert_non_null(r);
	assert_int_equal(r->id, 500);
	free(r);
	/* A tenth of a second later the bucket is full again (depth 10). */
	sent = 0;
	sent = drain(&l, S / 10, &retry);
	assert_int_equal(sent, 7); /* the bucket refilled to its depth, reserve kept */
	free_chain(smsr__lanes_take_all(&l));
}

static void test_lane_window_slots_reserved(void **state)
{
	struct smsr__chan_cfg c = chan(0, 0, 4, 1, 0);
	struct smsr__lanes l;
	struct smsr__rec *exp = NULL, *r;
	uint64_t retry;
	int sent = 0;

	smsr__lanes_init(&l, &c, 0);
	for (int i = 0; i < 10; i++)
		smsr__lanes_push(&l, mk(SMSR_CLASS_NOTICE, (uint64_t)i, 1, UINT64_MAX));
	sent = drain(&l, 0, &retry);
	assert_int_equal(sent, 3);
	assert_int_equal(retry, 0); /* window-blocked, not pacing-blocked */
	smsr__lanes_push(&l, mk(SMSR_CLASS_VERIFICATION, 9, 1, UINT64_MAX));
	r = smsr__lanes_next(&l, 0, &retry, &exp);
	assert_int_equal(r->id, 9);
	free(r);
	assert_null(smsr__lanes_next(&l, 0, &retry, &exp));
	smsr__lanes_answered(&l);
	smsr__lanes_answered(&l);
	r = smsr__lanes_next(&l, 0, &retry, &exp);
	assert_non_null(r);
	assert_int_equal(r->cls, SMSR_CLASS_NOTICE);
	free(r);
	free_chain(smsr__lanes_take_all(&l));
}

static void test_lane_weights_share_notice_and_marketing(void **state)
{
	struct smsr__chan_cfg c = chan(0, 0, 0, 0, 0);
	struct smsr__lanes l;
	struct smsr__rec *exp = NULL, *r;
	uint64_t retry;
	int n = 0, m = 0;

	smsr__lanes_init(&l, &c, 0);
	for (int i = 0; i < 3000; i++) {
		smsr__lanes_push(&l, mk(SMSR_CLASS_NOTICE, (uint64_t)i, 1, UINT64_MAX));
		smsr__lanes_push(&l, mk(SMSR_CLASS_MARKETING, (uint64_t)i, 1, UINT64_MAX));
	}
	for (int i = 0; i < 2000; i++) {
		r = smsr__lanes_next(&l, 0, &retry, &exp);
		n += r->cls == SMSR_CLASS_NOTICE;
		m += r->cls == SMSR_CLASS_MARKETING;
		free(r);
	}
	assert_in_range(n, 1499, 1501); /* 3 : 1 */
	assert_in_range(m, 499, 501);
	free_chain(smsr__lanes_take_all(&l));
}

static void test_lane_segments_are_what_pacing_counts(void **state)
{
	struct smsr__chan_cfg c = chan(100, 20, 0, 0, 0);
	struct smsr__lanes l;
	uint64_t retry;
	int sent = 0;

	smsr__lanes_init(&l, &c, 0);
	for (int i = 0; i < 10; i++)
		smsr__lanes_push(&l, mk(SMSR_CLASS_NOTICE, (uint64_t)i, 4, UINT64_MAX));
	sent = drain(&l, 0, &retry);
	assert_int_equal(sent, 5); /* 20 tokens / 4 segments */
	/* The next 4 segments need 4 / 100 s. */
	assert_in_range(retry, S / 25, S / 25 + 10000);
	free_chain(smsr__lanes_take_all(&l));
}

static void test_lane_expired_head_is_dropped_not_sent(void **state)
{
	struct smsr__chan_cfg c = chan(0, 0, 0, 0, 0);
	struct smsr__lanes l;
	struct smsr__rec *exp = NULL, *r;
	uint64_t retry;

	smsr__lanes_init(&l, &c, 0);
	smsr__lanes_push(&l, mk(SMSR_CLASS_NOTICE, 1, 1, 100));
	smsr__lanes_push(&l, mk(SMSR_CLASS_NOTICE, 2, 1, 1000));
	smsr__lanes_push(&l, mk(SMSR_CLASS_NOTICE, 3, 1, 50));
	assert_int_equal(smsr__lanes_expire(&l, 60, &exp), 1);
	assert_int_equal(exp->id, 3);
	free_chain(exp);
	exp = NULL;
	r = smsr__lanes_next(&l, 200, &retry, &exp);
	assert_int_equal(r->id, 2);
	assert_int_equal(exp->id, 1);
	free(r);
	free_chain(exp);
	assert_int_equal(smsr__lanes_queued(&l), 0);
}

/* Random pushes, pops, answers and expiries against a plain model. */
static void test_lane_reference_model(void **state)
{
	unsigned seed = (unsigned)time(NULL);
	struct smsr__chan_cfg c = chan(0, 0, 8, 2, 0);
	struct smsr__lanes l;
	uint64_t last_id[4] = {0}, next_id = 1, pushed = 0, popped = 0, expired = 0;
	uint64_t inflight = 0, queued_v = 0;

	printf("# test_lane_reference_model seed=%u\n", seed);
	srand(seed);
	smsr__lanes_init(&l, &c, 0);
	for (uint64_t now = 1; now < 200000; now++) {
		int op = rand() % 10;
		struct smsr__rec *exp = NULL, *r;
		uint64_t retry;

		if (op < 5) {
			int cls = 1 + rand() % 3;

			smsr__lanes_push(&l,
					 mk(cls, next_id++, 1, now + (uint64_t)(rand() % 5000)));
			queued_v += cls == 1;
			pushed++;
		} else if (op < 8) {
			r = smsr__lanes_next(&l, now, &retry, &exp);
			for (struct smsr__rec *e = exp; e; e = e->next) {
				assert_true(smsr__rec_expires(e) <= now);
				queued_v -= e->cls == 1;
				expired++;
			}
			free_chain(exp);
			if (r) {
				/* FIFO within a lane; a live code is never passed over. */
				assert_true(r->id > last_id[r->cls]);
				last_id[r->cls] = r->id;
				if (r->cls != 1)
					assert_int_equal(l.lane[0].count, 0);
				queued_v -= r->cls == 1;
				assert_true(smsr__rec_expires(r) > now);
				inflight++;
				popped++;
				free(r);
			}
			assert_true(l.outstanding <= 8);
		} else if (op < 9 && inflight) {
			smsr__lanes_answered(&l);
			inflight--;
		} else {
			exp = NULL;
			expired += smsr__lanes_expire(&l, now, &exp);
			for (struct smsr__rec *e = exp; e; e = e->next)
				queued_v -= e->cls == 1;
			free_chain(exp);
		}
		assert_int_equal(l.lane[0].count, queued_v);
		assert_int_equal(pushed, popped + expired + smsr__lanes_queued(&l));
	}
	free_chain(smsr__lanes_take_all(&l));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lane_verification_preempts_marketing),
	    cmocka_unit_test(test_lane_token_reserve_is_verification_only),
	    cmocka_unit_test(test_lane_window_slots_reserved),
	    cmocka_unit_test(test_lane_weights_share_notice_and_marketing),
	    cmocka_unit_test(test_lane_segments_are_what_pacing_counts),
	    cmocka_unit_test(test_lane_expired_head_is_dropped_not_sent),
	    cmocka_unit_test(test_lane_reference_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
