/* SPDX-License-Identifier: MIT */
/*
 * Description: the circuit breaker on its own, with a made-up clock: each
 * transition (closed, degraded, open, half-open, closed again), what counts
 * as a failure, the cool-down doubling on reopen, and the black-hole timers
 * for answers and for reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "smsr/errors.h"
#include "chan/chan_health.h"

#define MS 1000000ull
#define T0 (1000 * MS)

static const struct smsr__health_cfg cfg = {
    .answer_timeout_ms = 1000,
    .report_silence_ms = 1500,
    .open_after = 5,
    .error_pct = 50,
    .degrade_pct = 20,
    .min_samples = 20,
    .cool_down_ms = 1000,
    .probes = 3,
};

static int answers(struct smsr__health *h, enum smsr__answer a, int n, uint64_t now)
{
	int st = h->state;

	for (int i = 0; i < n; i++)
		st = smsr__health_answer(h, &cfg, a, 10 * MS, now);
	return st;
}

static void test_breaker_opens_on_streak_and_recovers(void **state)
{
	struct smsr__health h;

	(void)state;
	smsr__health_init(&h, T0);
	assert_int_equal(answers(&h, SMSR__ANS_OK, 100, T0), SMSR__BRK_CLOSED);
	assert_int_equal(answers(&h, SMSR__ANS_FAIL, 4, T0), SMSR__BRK_CLOSED);
	assert_int_equal(answers(&h, SMSR__ANS_OK, 1, T0), SMSR__BRK_CLOSED); /* streak broken */
	assert_int_equal(answers(&h, SMSR__ANS_FAIL, 4, T0), SMSR__BRK_CLOSED);
	assert_int_equal(answers(&h, SMSR__ANS_FAIL, 1, T0), SMSR__BRK_OPEN);
	assert_int_equal(h.reason, -SMSR_EFAILING);
	/* Late answers do not close it; time does, to half-open. */
	assert_int_equal(answers(&h, SMSR__ANS_OK, 10, T0), SMSR__BRK_OPEN);
	assert_int_equal(smsr__health_check(&h, &cfg, 0, 0, T0 + 999 * MS), SMSR__BRK_OPEN);
	assert_int_equal(smsr__health_check(&h, &cfg, 0, 0, T0 + 1000 * MS), SMSR__BRK_HALF);
	/* A failing probe reopens, for twice as long. */
	assert_int_equal(answers(&h, SMSR__ANS_FAIL, 1, T0 + 1001 * MS), SMSR__BRK_OPEN);
	assert_int_equal(smsr__health_check(&h, &cfg, 0, 0, T0 + 2999 * MS), SMSR__BRK_OPEN);
	assert_int_equal(smsr__health_check(&h, &cfg, 0, 0, T0 + 3001 * MS), SMSR__BRK_HALF);
	assert_int_equal(answers(&h, SMSR__ANS_OK, 2, T0 + 3002 * MS), SMSR__BRK_HALF);
	assert_int_equal(answers(&h, SMSR__ANS_OK, 1, T0 + 3003 * MS), SMSR__BRK_CLOSED);
	assert_int_equal(h.opened_total, 2);
	/* Closed again: the next outage cools down for the base time. */
	answers(&h, SMSR__ANS_FAIL, 5, T0 + 4000 * MS);
	assert_int_equal(h.state, SMSR__BRK_OPEN);
	assert_int_equal(h.reopen_at, T0 + 5000 * MS);
}

static void test_breaker_error_rate(void **state)
{
	struct smsr__health h;

	(void)state;
	smsr__health_init(&h, T0);
	/* Rejections count in the rate, never in the streak. */
	assert_int_equal(answers(&h, SMSR__ANS_OK, 30, T0), SMSR__BRK_CLOSED);
	assert_int_equal(answers(&h, SMSR__ANS_REJECT, 10, T0), SMSR__BRK_DEGRADED);
	assert_int_equal(smsr__health_error_pct(&h, &cfg), 25);
	assert_int_equal(answers(&h, SMSR__ANS_REJECT, 19, T0), SMSR__BRK_DEGRADED);
	assert_int_equal(answers(&h, SMSR__ANS_REJECT, 1, T0), SMSR__BRK_OPEN); /* 30 of 60 */
	/* Throttling is a pacing signal, not an error. */
	smsr__health_init(&h, T0);
	assert_int_equal(answers(&h, SMSR__ANS_THROTTLE, 100, T0), SMSR__BRK_CLOSED);
	assert_int_equal(smsr__health_error_pct(&h, &cfg), -1);
	/* Too few answers: no rate. Old ones leave the window. */
	assert_int_equal(answers(&h, SMSR__ANS_REJECT, 19, T0), SMSR__BRK_CLOSED);
	assert_int_equal(answers(&h, SMSR__ANS_OK, 30, T0 + 2500 * MS), SMSR__BRK_CLOSED);
	assert_int_equal(smsr__health_error_pct(&h, &cfg), 0);
}

static void test_breaker_black_holes(void **state)
{
	struct smsr__health h;

	(void)state;
	smsr__health_init(&h, T0);
	answers(&h, SMSR__ANS_OK, 50, T0);
	/* One lost answer is not a black hole; two overdue, none answered, are. */
	assert_int_equal(smsr__health_check(&h, &cfg, 1, 0, T0 + 5000 * MS), SMSR__BRK_CLOSED);
	assert_int_equal(smsr__health_check(&h, &cfg, 2, 0, T0 + 999 * MS), SMSR__BRK_CLOSED);
	assert_int_equal(smsr__health_check(&h, &cfg, 2, 0, T0 + 1000 * MS), SMSR__BRK_OPEN);
	assert_int_equal(h.reason, -SMSR_EBLACKHOLE);
	/* A slow carrier's limit grows with its latency. */
	smsr__health_init(&h, T0);
	for (int i = 0; i < 200; i++)
		smsr__health_answer(&h, &cfg, SMSR__ANS_OK, 400 * MS, T0);
	assert_true(smsr__health_answer_limit(&h, &cfg) > 3000 * MS);
	assert_int_equal(smsr__health_check(&h, &cfg, 5, 0, T0 + 2000 * MS), SMSR__BRK_CLOSED);
	/* Reports: not judged before any arrived, then by silence. */
	smsr__health_init(&h, T0);
	assert_int_equal(smsr__health_report_limit(&h, &cfg), UINT64_MAX);
	assert_int_equal(smsr__health_check(&h, &cfg, 0, 50, T0 + 60000 * MS), SMSR__BRK_CLOSED);
	smsr__health_report(&h, true, 20 * MS, T0 + 60000 * MS);
	assert_int_equal(smsr__health_report_limit(&h, &cfg), 1500 * MS);
	assert_int_equal(smsr__health_check(&h, &cfg, 0, 5, T0 + 61000 * MS), SMSR__BRK_CLOSED);
	assert_int_equal(smsr__health_check(&h, &cfg, 0, 5, T0 + 61500 * MS), SMSR__BRK_OPEN);
	assert_int_equal(h.reason, -SMSR_ENOREPORTS);
	/* A report handled in the same worker turn as its answer took 0 ns:
	 * it is still a report seen, and silence after it is judged. */
	smsr__health_init(&h, T0);
	smsr__health_report(&h, true, 0, T0);
	assert_int_equal(smsr__health_report_limit(&h, &cfg), 1500 * MS);
	assert_int_equal(smsr__health_check(&h, &cfg, 0, 5, T0 + 1500 * MS), SMSR__BRK_OPEN);
	assert_int_equal(h.reason, -SMSR_ENOREPORTS);
}

static void test_latency_percentiles(void **state)
{
	struct smsr__health h;
	uint32_t p50, p99;

	(void)state;
	smsr__health_init(&h, T0);
	assert_int_equal(smsr__health_latency_us(&h, 50), 0);
	for (uint64_t i = 1; i <= 1000; i++)
		smsr__health_answer(&h, &cfg, SMSR__ANS_OK, i * 100000, T0 + i * MS);
	p50 = smsr__health_latency_us(&h, 50);
	p99 = smsr__health_latency_us(&h, 99);
	/* 0.1 .. 100 ms evenly: p50 50 ms, p99 99 ms, each within a bucket (19%). */
	assert_true(p50 >= 50000 && p50 <= 50000 * 119 / 100);
	assert_true(p99 >= 99000 && p99 <= 99000 * 119 / 100);
	/* Twenty seconds later only new answers count. */
	smsr__health_answer(&h, &cfg, SMSR__ANS_OK, 5 * MS, T0 + 30000 * MS);
	p99 = smsr__health_latency_us(&h, 99);
	assert_true(p99 >= 5000 && p99 <= 6000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_breaker_opens_on_streak_and_recovers),
	    cmocka_unit_test(test_breaker_error_rate),
	    cmocka_unit_test(test_breaker_black_holes),
	    cmocka_unit_test(test_latency_percentiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
