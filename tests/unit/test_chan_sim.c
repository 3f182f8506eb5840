/* SPDX-License-Identifier: MIT */
/*
 * Description: unit tests of the simulated carrier model (core/chan/chan_sim.h).
 *
 * The model is driven with a simulated clock (every call passes now_ns;
 * nothing sleeps). Covered: determinism from the seed and independence
 * from the poll rate; accept, rejection-share and delivery rates and the
 * latency / DLR-delay distributions within statistical tolerance over
 * 100k submits; report order by due time with submit order on ties
 * (checked against the submit list, seed printed); the carrier's TPS
 * bucket and window; every fault mode and the fault schedule; msgid
 * uniqueness; parameter validation; deadlines. The driver glue needs the
 * router and is covered by the integration tests.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chan/chan_sim.h"

#define MS	  1000000ull
#define SEC	  1000000000ull
#define NPARAM(p) (sizeof(p) / sizeof((p)[0]))

static void assert_near(double got, double want, double tol, const char *what)
{
	if (fabs(got - want) > tol)
		fail_msg("%s: got %.6f, want %.6f +- %.6f", what, got, want, tol);
}

static struct smsr__sim *mk(uint64_t seed, const struct smsr_param *p, size_t n)
{
	struct smsr__sim *s = NULL;

	assert_int_equal(smsr__sim_create(&s, p, n, seed), 0);
	assert_non_null(s);
	return s;
}

struct tally {
	size_t resp, dlr, accepted, throttled, chanerr, rejected, down, delivered;
};

/* Pop everything due at @now into @t; returns how many. */
static size_t drain(struct smsr__sim *s, uint64_t now, struct tally *t)
{
	struct smsr__sim_report r;
	size_t n = 0;

	while (smsr__sim_next(s, now, &r)) {
		n++;
		if (r.kind == SMSR__SIM_DLR) {
			t->dlr++;
			t->delivered += r.status == 0;
			continue;
		}
		t->resp++;
		t->accepted += r.status == 0;
		t->throttled += r.status == -SMSR_ETHROTTLED;
		t->chanerr += r.status == -SMSR_ECHANERR;
		t->rejected += r.status == -SMSR_EREJECTED;
		t->down += r.status == -SMSR_ECHANDOWN;
	}
	return n;
}

/* A mixed, random configuration: every draw in play. */
static const struct smsr_param busy_params[] = {
    {"latency_ms", "40"},     {"jitter_ms", "30"},     {"accept_rate", "0.9"},
    {"delivery_rate", "0.8"}, {"dlr_delay_ms", "500"}, {"dlr_jitter_ms", "400"},
};

/* Submit @n messages 100 us apart, popping every @poll_every submits, and
 * record every report in @out (which must hold 2 * @n). Returns the count. */
static size_t trace(uint64_t seed, size_t n, size_t poll_every, struct smsr__sim_report *out)
{
	struct smsr__sim *s = mk(seed, busy_params, NPARAM(busy_params));
	uint64_t now = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		now = i * 100000;
		assert_int_equal(smsr__sim_submit(s, i, now), 0);
		if (i % poll_every == 0)
			while (smsr__sim_next(s, now, &out[k]))
				k++;
	}
	while (smsr__sim_next(s, UINT64_MAX - 1, &out[k]))
		k++;
	assert_int_equal(smsr__sim_deadline(s), UINT64_MAX);
	smsr__sim_destroy(s);
	return k;
}

static bool same_reports(const struct smsr__sim_report *a, const struct smsr__sim_report *b,
			 size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].kind != b[i].kind || a[i].token != b[i].token ||
		    a[i].status != b[i].status || a[i].op_code != b[i].op_code ||
		    strcmp(a[i].msgid, b[i].msgid) != 0)
			return false;
	return true;
}

static void test_sim_same_seed_same_reports(void **state)
{
	const size_t N = 20000;
	struct smsr__sim_report *a = calloc(2 * N, sizeof(*a)), *b = calloc(2 * N, sizeof(*b));
	size_t na = trace(42, N, 1, a), nb = trace(42, N, 1, b);

	(void)state;
	assert_int_equal(na, nb);
	assert_true(na > N);
	assert_true(same_reports(a, b, na));
	free(a);
	free(b);
}

static void test_sim_different_seeds_differ(void **state)
{
	const size_t N = 2000;
	struct smsr__sim_report *a = calloc(2 * N, sizeof(*a)), *b = calloc(2 * N, sizeof(*b));
	size_t na = trace(1, N, 1, a), nb = trace(2, N, 1, b);
	size_t same = 0;

	(void)state;
	assert_false(na == nb && same_reports(a, b, na));
	/* Random latencies reorder the reports differently. */
	for (size_t i = 0; i < N; i++)
		same += a[i].token == b[i].token && a[i].kind == b[i].kind;
	assert_true(same < N / 2);
	free(a);
	free(b);
}

/* Draws happen at submit and DLRs are timed from their answer, so polling
 * once at the end gives the same reports as polling after every submit. */
static void test_sim_reports_independent_of_poll_rate(void **state)
{
	const size_t N = 20000;
	struct smsr__sim_report *a = calloc(2 * N, sizeof(*a)), *b = calloc(2 * N, sizeof(*b));
	size_t na = trace(7, N, 1, a), nb = trace(7, N, N, b);

	(void)state;
	assert_int_equal(na, nb);
	/* Polling once pops answers and DLRs in global due order too. */
	assert_true(same_reports(a, b, na));
	free(a);
	free(b);
}

static void test_sim_default_config_answers_at_once(void **state)
{
	struct smsr__sim *s = mk(1, NULL, 0);
	struct smsr__sim_report r;

	(void)state;
	assert_int_equal(smsr__sim_submit(s, 77, 5 * SEC), 0);
	assert_int_equal(smsr__sim_deadline(s), 5 * SEC);
	assert_int_equal(smsr__sim_next(s, 5 * SEC, &r), 1);
	assert_int_equal(r.kind, SMSR__SIM_SUBMIT_RESP);
	assert_int_equal(r.token, 77);
	assert_int_equal(r.status, 0);
	assert_true(strlen(r.msgid) > 0);
	assert_int_equal(smsr__sim_next(s, 5 * SEC, &r), 1);
	assert_int_equal(r.kind, SMSR__SIM_DLR);
	assert_int_equal(r.token, 77);
	assert_int_equal(r.status, 0);
	assert_int_equal(smsr__sim_next(s, 5 * SEC, &r), 0);
	assert_int_equal(smsr__sim_deadline(s), UINT64_MAX);
	smsr__sim_destroy(s);
}

static void test_sim_accept_rate_and_reject_share_within_tolerance(void **state)
{
	const size_t N = 100000;
	const struct smsr_param p[] = {{"accept_rate", "0.97"}, {"reject_share", "0.3"}};
	struct smsr__sim *s = mk(11, p, NPARAM(p));
	struct tally t = {0};
	double refused;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(smsr__sim_submit(s, i, i), 0);
		drain(s, i, &t);
	}
	refused = (double)(t.rejected + t.chanerr);
	assert_int_equal(t.resp, N);
	assert_int_equal(t.throttled + t.down, 0);
	assert_near((double)t.accepted / N, 0.97, 0.01, "accept rate");
	assert_near((double)t.rejected / refused, 0.3, 0.04, "reject share");
	assert_int_equal(t.dlr, t.accepted); /* refused submits get no DLR */
	smsr__sim_destroy(s);
}

static void test_sim_delivery_rate_within_tolerance(void **state)
{
	const size_t N = 100000;
	const struct smsr_param p[] = {{"delivery_rate", "0.85"}};
	struct smsr__sim *s = mk(12, p, NPARAM(p));
	struct tally t = {0};

	(void)state;
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(smsr__sim_submit(s, i, i), 0);
		drain(s, i, &t);
	}
	assert_int_equal(t.accepted, N);
	assert_int_equal(t.dlr, N);
	assert_near((double)t.delivered / N, 0.85, 0.01, "delivery rate");
	smsr__sim_destroy(s);
}

struct stats {
	double mean, sd, min, max;
};

/*
 * Submit @n messages one at a time, 10 s apart, and measure when each
 * answer (@dlr false) or delivery report (@dlr true) falls due after the
 * event before it, in ms.
 */
static struct stats measure(const struct smsr_param *p, size_t np, size_t n, bool dlr)
{
	struct smsr__sim *s = mk(99, p, np);
	struct smsr__sim_report r;
	double sum = 0, sq = 0, v;
	struct stats st = {.min = INFINITY, .max = -INFINITY};

	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = i * 10 * SEC, due;

		assert_int_equal(smsr__sim_submit(s, i, t0), 0);
		due = smsr__sim_deadline(s);
		assert_true(due >= t0);
		assert_int_equal(smsr__sim_next(s, due, &r), 1);
		assert_int_equal(r.kind, SMSR__SIM_SUBMIT_RESP);
		v = (double)(due - t0) / MS;
		if (dlr) {
			uint64_t d = smsr__sim_deadline(s);

			assert_true(d >= due);
			v = (double)(d - due) / MS;
		}
		while (smsr__sim_next(s, t0 + 10 * SEC - 1, &r))
			;
		sum += v;
		sq += v * v;
		st.min = v < st.min ? v : st.min;
		st.max = v > st.max ? v : st.max;
	}
	st.mean = sum / (double)n;
	st.sd = sqrt(sq / (double)n - st.mean * st.mean);
	smsr__sim_destroy(s);
	return st;
}

static void test_sim_latency_uniform_mean_and_jitter(void **state)
{
	const struct smsr_param p[] = {{"latency_ms", "100"}, {"jitter_ms", "20"}};
	struct stats st = measure(p, NPARAM(p), 100000, false);

	(void)state;
	assert_near(st.mean, 100, 0.2, "mean");
	assert_near(st.sd, 20 / sqrt(3), 0.2, "sd");
	assert_true(st.min >= 80 && st.min < 80.1);
	assert_true(st.max <= 120 && st.max > 119.9);
}

static void test_sim_latency_uniform_clamped_at_zero(void **state)
{
	const struct smsr_param p[] = {{"latency_ms", "5"}, {"jitter_ms", "20"}};
	struct stats st = measure(p, NPARAM(p), 10000, false);

	(void)state;
	assert_true(st.min == 0); /* never answered before it was sent */
	assert_true(st.max <= 25);
}

static void test_sim_latency_fixed_is_constant(void **state)
{
	const struct smsr_param p[] = {
	    {"latency_ms", "12.5"}, {"jitter_ms", "20"}, {"latency_dist", "fixed"}};
	struct stats st = measure(p, NPARAM(p), 1000, false);

	(void)state;
	assert_true(st.min == 12.5 && st.max == 12.5);
}

static void test_sim_latency_exp_mean(void **state)
{
	const struct smsr_param p[] = {{"latency_ms", "50"}, {"latency_dist", "exp"}};
	struct stats st = measure(p, NPARAM(p), 100000, false);

	(void)state;
	assert_near(st.mean, 50, 1, "mean");
	assert_near(st.sd, 50, 1.5, "sd"); /* an exponential's sd is its mean */
	assert_true(st.min >= 0);
}

static void test_sim_latency_lognormal_mean_and_sd(void **state)
{
	const struct smsr_param p[] = {
	    {"latency_ms", "80"}, {"jitter_ms", "40"}, {"latency_dist", "lognormal"}};
	struct stats st = measure(p, NPARAM(p), 100000, false);

	(void)state;
	assert_near(st.mean, 80, 1, "mean");
	assert_near(st.sd, 40, 2, "sd");
	assert_true(st.min > 0);
}

static void test_sim_dlr_delay_mean_and_jitter(void **state)
{
	const struct smsr_param p[] = {
	    {"latency_ms", "30"}, {"dlr_delay_ms", "2000"}, {"dlr_jitter_ms", "1000"}};
	struct stats st = measure(p, NPARAM(p), 100000, true);

	(void)state;
	assert_near(st.mean, 2000, 6, "mean");
	assert_true(st.min >= 1000 && st.max <= 3000);
}

/*
 * Reference check of the pending-report queue: random latencies, bursts of
 * submits at equal times, popped by jumping the clock to each deadline.
 * Every token is answered exactly once, due times never go back, and equal
 * due times come out in submit order.
 */
static void test_sim_reports_ordered_by_due_time(void **state)
{
	const size_t N = 5000;
	uint64_t seed = 0x5eed0000ull + (uint64_t)N;
	const struct smsr_param p[] = {{"latency_ms", "10"},
				       {"jitter_ms", "10"},
				       {"latency_dist", "fixed"},
				       {"dlr_delay_ms", "3"}};
	struct smsr__sim *s = mk(seed, busy_params, NPARAM(busy_params));
	struct smsr__sim *f = mk(seed, p, NPARAM(p));
	char *seen = calloc(N, 1);
	struct smsr__sim_report r;
	uint64_t last = 0, last_tok = 0, t;
	size_t answers = 0;

	(void)state;
	print_message("seed %llu\n", (unsigned long long)seed);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(smsr__sim_submit(s, i, (i / 50) * MS), 0);
		assert_int_equal(smsr__sim_submit(f, i, (i / 50) * MS), 0);
	}
	while ((t = smsr__sim_deadline(s)) != UINT64_MAX) {
		assert_true(t >= last);
		last = t;
		assert_int_equal(smsr__sim_next(s, t, &r), 1);
		if (r.kind == SMSR__SIM_SUBMIT_RESP) {
			assert_int_equal(seen[r.token], 0);
			seen[r.token] = 1;
			answers++;
		}
	}
	assert_int_equal(answers, N);
	/* Fixed latency: each burst shares a due time, answers in submit order. */
	answers = 0;
	while (smsr__sim_next(f, UINT64_MAX - 1, &r))
		if (r.kind == SMSR__SIM_SUBMIT_RESP) {
			assert_true(answers == 0 || r.token == last_tok + 1);
			last_tok = r.token;
			answers++;
		}
	assert_int_equal(answers, N);
	free(seen);
	smsr__sim_destroy(s);
	smsr__sim_destroy(f);
}

static void test_sim_deadline_tracks_earliest_report(void **state)
{
	const struct smsr_param p[] = {{"latency_ms", "100"}, {"dlr_delay_ms", "1000"}};
	struct smsr__sim *s = mk(3, p, NPARAM(p));
	struct smsr__sim_report r;

	(void)state;
	assert_int_equal(smsr__sim_deadline(s), UINT64_MAX);
	assert_int_equal(smsr__sim_submit(s, 1, 50 * MS), 0);
	assert_int_equal(smsr__sim_submit(s, 2, 70 * MS), 0);
	assert_int_equal(smsr__sim_submit(s, 3, 20 * MS), 0); /* clock never runs back: at 70 */
	assert_int_equal(smsr__sim_deadline(s), 150 * MS);
	assert_int_equal(smsr__sim_next(s, 149 * MS, &r), 0);
	assert_int_equal(smsr__sim_next(s, 150 * MS, &r), 1);
	assert_int_equal(r.token, 1);
	assert_int_equal(smsr__sim_deadline(s), 170 * MS);
	assert_int_equal(smsr__sim_next(s, 170 * MS, &r), 1);
	assert_int_equal(smsr__sim_next(s, 170 * MS, &r), 1);
	assert_int_equal(r.token, 3);			    /* same due time: submit order */
	assert_int_equal(smsr__sim_deadline(s), 1150 * MS); /* token 1's DLR */
	smsr__sim_destroy(s);
}

static void test_sim_tps_throttles_excess_submits(void **state)
{
	const struct smsr_param p[] = {{"tps", "1000"}};
	struct smsr__sim *s = mk(5, p, NPARAM(p));
	struct tally t = {0};

	(void)state;
	/* 2000/s for two simulated seconds against a 1000/s grant. */
	for (uint64_t i = 0; i < 4000; i++) {
		assert_int_equal(smsr__sim_submit(s, i, i * 500000), 0);
		drain(s, i * 500000, &t);
	}
	assert_near((double)t.throttled / 4000, 0.5, 0.01, "throttled share");
	assert_int_equal(t.throttled + t.accepted, 4000);
	smsr__sim_destroy(s);
}

static void test_sim_tps_paced_submits_pass_and_idle_refills_burst(void **state)
{
	const struct smsr_param p[] = {{"tps", "100"}};
	struct smsr__sim *s = mk(5, p, NPARAM(p));
	struct tally t = {0};
	uint64_t now = 0;

	(void)state;
	for (int i = 0; i < 300; i++, now += 10 * MS) {
		assert_int_equal(smsr__sim_submit(s, i, now), 0);
		drain(s, now, &t);
	}
	assert_int_equal(t.throttled, 0);
	/* After an idle second the bucket holds one second: 100 pass, then no more. */
	now += SEC;
	for (int i = 0; i < 150; i++) {
		assert_int_equal(smsr__sim_submit(s, i, now), 0);
		drain(s, now, &t);
	}
	assert_int_equal(t.throttled, 50);
	smsr__sim_destroy(s);
}

static void test_sim_window_limits_outstanding_submits(void **state)
{
	const struct smsr_param p[] = {{"latency_ms", "100"}, {"window", "10"}};
	struct smsr__sim *s = mk(6, p, NPARAM(p));
	struct tally t = {0};

	(void)state;
	for (int i = 0; i < 15; i++)
		assert_int_equal(smsr__sim_submit(s, i, 0), 0);
	drain(s, 100 * MS, &t);
	assert_int_equal(t.accepted, 10);
	assert_int_equal(t.throttled, 5);
	/* Answers free the window. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(smsr__sim_submit(s, 100 + i, 100 * MS), 0);
	drain(s, 200 * MS, &t);
	assert_int_equal(t.accepted, 20);
	assert_int_equal(t.throttled, 5);
	smsr__sim_destroy(s);
}

static void test_sim_fault_down_refuses_submits(void **state)
{
	const struct smsr_param p[] = {{"fault", "down"}};
	struct smsr__sim *s = mk(8, p, NPARAM(p));
	struct tally t = {0};

	(void)state;
	assert_false(smsr__sim_up(s, 0));
	assert_int_equal(smsr__sim_submit(s, 1, 0), -SMSR_ECHANDOWN);
	assert_int_equal(drain(s, UINT64_MAX - 1, &t), 0);
	assert_int_equal(smsr__sim_deadline(s), UINT64_MAX); /* down forever */
	smsr__sim_destroy(s);
}

static void test_sim_fault_down_fails_pending_answers(void **state)
{
	const struct smsr_param p[] = {{"latency_ms", "100"}, {"dlr_delay_ms", "1000"}};
	struct smsr__sim *s = mk(8, p, NPARAM(p));
	struct tally t = {0};

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(smsr__sim_submit(s, i, 0), 0);
	assert_int_equal(drain(s, 100 * MS, &t), 5); /* answered; DLRs scheduled */
	for (int i = 5; i < 10; i++)
		assert_int_equal(smsr__sim_submit(s, i, 150 * MS), 0);
	assert_int_equal(smsr__sim_ctl(s, "fault", "down", 200 * MS), 0);
	assert_false(smsr__sim_up(s, 200 * MS));
	assert_int_equal(smsr__sim_deadline(s), 200 * MS);
	assert_int_equal(drain(s, 200 * MS, &t), 5);
	assert_int_equal(t.down, 5);
	assert_int_equal(smsr__sim_submit(s, 10, 300 * MS), -SMSR_ECHANDOWN);
	drain(s, 10 * SEC, &t);
	assert_int_equal(t.dlr, 5); /* the first five still get their DLRs */
	assert_int_equal(t.resp, 10);
	smsr__sim_destroy(s);
}

/*
 * Answers due before the link fell were sent and stand, even if nobody
 * popped them yet; those in flight fail at the fall, in submit order,
 * after the earlier answers.
 */
static void test_sim_fault_down_keeps_answers_sent_before_it(void **state)
{
	const struct smsr_param p[] = {{"latency_ms", "100"}, {"jitter_ms", "90"}};
	struct smsr__sim *s = mk(18, p, NPARAM(p));
	struct smsr__sim_report r;
	size_t ok = 0, down = 0;
	uint64_t last_down = 0;

	(void)state;
	for (int i = 0; i < 200; i++)
		assert_int_equal(smsr__sim_submit(s, i, i * MS), 0);
	assert_int_equal(smsr__sim_ctl(s, "fault", "down", 150 * MS), 0);
	while (smsr__sim_next(s, 150 * MS, &r)) {
		if (r.kind != SMSR__SIM_SUBMIT_RESP)
			continue;
		if (r.status == 0) {
			assert_int_equal(down, 0);
			ok++;
			continue;
		}
		assert_int_equal(r.status, -SMSR_ECHANDOWN);
		assert_true(down == 0 || r.token > last_down);
		last_down = r.token;
		down++;
	}
	assert_int_equal(ok + down, 200);
	assert_true(ok > 10 && down > 100);
	smsr__sim_destroy(s);
}

static void test_sim_fault_blackhole_never_answers(void **state)
{
	const struct smsr_param p[] = {{"fault", "blackhole"}};
	struct smsr__sim *s = mk(9, p, NPARAM(p));
	struct tally t = {0};

	(void)state;
	assert_true(smsr__sim_up(s, 0));
	for (int i = 0; i < 100; i++)
		assert_int_equal(smsr__sim_submit(s, i, i * MS), 0);
	assert_int_equal(drain(s, UINT64_MAX - 1, &t), 0);
	smsr__sim_destroy(s);
}

/* Run @n submits under @fault and tally every report. */
static struct tally under_fault(const char *fault, int n)
{
	const struct smsr_param p[] = {{"fault", fault}, {"latency_ms", "5"}};
	struct smsr__sim *s = mk(10, p, NPARAM(p));
	struct tally t = {0};

	for (int i = 0; i < n; i++)
		assert_int_equal(smsr__sim_submit(s, i, i * MS), 0);
	drain(s, UINT64_MAX - 1, &t);
	smsr__sim_destroy(s);
	return t;
}

/* throttle and reject answer every submit so; nodlr accepts, never reports. */
static void test_sim_fault_modes_answer_as_configured(void **state)
{
	struct tally th = under_fault("throttle", 100), rj = under_fault("reject", 100),
		     nd = under_fault("nodlr", 100);

	(void)state;
	assert_int_equal(th.throttled, 100);
	assert_int_equal(rj.rejected, 100);
	assert_int_equal(nd.accepted, 100);
	assert_int_equal(th.dlr + rj.dlr + nd.dlr, 0);
}

static void test_sim_fault_schedule_starts_and_ends(void **state)
{
	const struct smsr_param p[] = {
	    {"fault", "down"}, {"fault_at_ms", "1000"}, {"fault_for_ms", "500"}};
	struct smsr__sim *s = mk(12, p, NPARAM(p));
	struct tally t = {0};

	(void)state;
	assert_int_equal(smsr__sim_deadline(s), 0); /* wants a first look */
	assert_true(smsr__sim_up(s, 10 * SEC));	    /* anchors the schedule here */
	assert_int_equal(smsr__sim_deadline(s), 11 * SEC);
	assert_int_equal(smsr__sim_submit(s, 1, 10 * SEC), 0);
	drain(s, 10 * SEC, &t);
	assert_false(smsr__sim_up(s, 11 * SEC));
	assert_int_equal(smsr__sim_deadline(s), 11 * SEC + 500 * MS);
	assert_int_equal(smsr__sim_submit(s, 2, 11 * SEC + 499 * MS), -SMSR_ECHANDOWN);
	assert_true(smsr__sim_up(s, 11 * SEC + 500 * MS));
	assert_int_equal(smsr__sim_deadline(s), UINT64_MAX);
	assert_int_equal(smsr__sim_submit(s, 3, 12 * SEC), 0);
	drain(s, 12 * SEC, &t);
	assert_int_equal(t.accepted, 2);
	smsr__sim_destroy(s);
}

/* A down period that begins and ends between two calls still loses the
 * answers in flight during it. */
static void test_sim_fault_down_between_polls_fails_inflight(void **state)
{
	const struct smsr_param p[] = {{"latency_ms", "100"},
				       {"fault", "down"},
				       {"fault_at_ms", "50"},
				       {"fault_for_ms", "10"}};
	struct smsr__sim *s = mk(13, p, NPARAM(p));
	struct tally t = {0};

	(void)state;
	assert_int_equal(smsr__sim_submit(s, 1, 0), 0);
	drain(s, SEC, &t);
	assert_int_equal(t.down, 1);
	assert_int_equal(t.dlr, 0);
	smsr__sim_destroy(s);
}

static void test_sim_ctl_fault_none_restores_link(void **state)
{
	struct smsr__sim *s = mk(14, NULL, 0);
	struct tally t = {0};

	(void)state;
	assert_int_equal(smsr__sim_ctl(s, "fault", "down", 0), 0);
	assert_false(smsr__sim_up(s, 1));
	assert_int_equal(smsr__sim_ctl(s, "fault", "none", 2), 0);
	assert_true(smsr__sim_up(s, 3));
	assert_int_equal(smsr__sim_submit(s, 1, 3), 0);
	assert_int_equal(smsr__sim_ctl(s, "accept_rate", "0", 4), 0); /* later submits */
	assert_int_equal(smsr__sim_submit(s, 2, 4), 0);
	drain(s, 4, &t);
	assert_int_equal(t.accepted, 1);
	assert_int_equal(t.rejected + t.chanerr, 1);
	smsr__sim_destroy(s);
}

static void test_sim_ctl_bad_input_changes_nothing(void **state)
{
	struct smsr__sim *s = mk(15, NULL, 0);
	struct tally t = {0};

	(void)state;
	assert_int_equal(smsr__sim_ctl(s, "accept_rate", "1.5", 0), -SMSR_ECONFIG);
	assert_int_equal(smsr__sim_ctl(s, "fault", "sideways", 0), -SMSR_ECONFIG);
	assert_int_equal(smsr__sim_ctl(s, "latency_ms", "-1", 0), -SMSR_ECONFIG);
	assert_int_equal(smsr__sim_ctl(s, "no_such_knob", "1", 0), -SMSR_ENOTFOUND);
	for (int i = 0; i < 100; i++)
		assert_int_equal(smsr__sim_submit(s, i, 0), 0);
	drain(s, 0, &t);
	assert_int_equal(t.accepted, 100);
	assert_int_equal(t.delivered, 100);
	smsr__sim_destroy(s);
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_sim_msgids_unique_and_well_formed(void **state)
{
	const size_t N = 100000;
	struct smsr__sim *s = mk(16, NULL, 0), *o = mk(17, NULL, 0);
	char(*ids)[24] = calloc(N, sizeof(*ids));
	struct smsr__sim_report r, ro;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(smsr__sim_submit(s, i, 0), 0);
		assert_int_equal(smsr__sim_next(s, 0, &r), 1);
		assert_int_equal(strlen(r.msgid), 22);
		assert_int_equal(strspn(r.msgid, "0123456789abcdef"), 22);
		memcpy(ids[i], r.msgid, 24);
		while (smsr__sim_next(s, 0, &r))
			;
	}
	qsort(ids, N, sizeof(*ids), cmp_id);
	for (size_t i = 1; i < N; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) < 0);
	/* Another seed, another prefix: ids differ across channels too. */
	assert_int_equal(smsr__sim_submit(o, 0, 0), 0);
	assert_int_equal(smsr__sim_submit(s, 0, 0), 0);
	assert_int_equal(smsr__sim_next(o, 0, &ro), 1);
	assert_int_equal(smsr__sim_next(s, 0, &r), 1);
	assert_true(strncmp(r.msgid, ro.msgid, 6) != 0);
	free(ids);
	smsr__sim_destroy(s);
	smsr__sim_destroy(o);
}

static void test_sim_bad_params_rejected(void **state)
{
	static const struct smsr_param bad[] = {
	    {"latency_ms", "-5"},    {"latency_ms", "abc"},
	    {"jitter_ms", "1e99"},   {"latency_dist", "gauss"},
	    {"accept_rate", "1.01"}, {"accept_rate", "-0.1"},
	    {"reject_share", "2"},   {"delivery_rate", "nan"},
	    {"dlr_delay_ms", ""},    {"dlr_jitter_ms", "-1"},
	    {"tps", "-1"},	     {"window", "2.5"},
	    {"window", "-3"},	     {"fault", "flaky"},
	    {"fault_at_ms", "-1"},   {"fault_for_ms", "x"},
	    {"seed", "-1"},	     {"seed", "12z"},
	    {"latncy_ms", "5"},	     {"latency_ms", NULL},
	};
	struct smsr__sim *s = NULL;

	(void)state;
	for (size_t i = 0; i < NPARAM(bad); i++) {
		if (smsr__sim_create(&s, &bad[i], 1, 1) != -SMSR_ECONFIG)
			fail_msg("%s=%s accepted", bad[i].key,
				 bad[i].value ? bad[i].value : "NULL");
		assert_null(s);
	}
	assert_int_equal(smsr__sim_create(NULL, NULL, 0, 1), -SMSR_EINVAL);
}

static void test_sim_good_params_accepted(void **state)
{
	static const struct smsr_param good[] = {
	    {"latency_ms", "0.5"},   {"jitter_ms", "0"},     {"latency_dist", "lognormal"},
	    {"accept_rate", "0"},    {"reject_share", "1"},  {"delivery_rate", "0.5"},
	    {"dlr_delay_ms", "10"},  {"dlr_jitter_ms", "5"}, {"tps", "0.5"},
	    {"window", "64"},	     {"fault", "nodlr"},     {"fault_at_ms", "100"},
	    {"fault_for_ms", "200"}, {"seed", "0xdeadbeef"},
	};
	struct smsr__sim *s = mk(1, good, NPARAM(good));

	(void)state;
	smsr__sim_destroy(s);
	smsr__sim_destroy(NULL);
}

/* The seed parameter overrides the channel seed. */
static void test_sim_seed_param_overrides_seed(void **state)
{
	const struct smsr_param p[] = {{"seed", "1234"}, {"accept_rate", "0.5"}};
	struct smsr__sim *a = mk(1, p, NPARAM(p)), *b = mk(2, p, NPARAM(p));
	struct smsr__sim_report ra, rb;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(smsr__sim_submit(a, i, 0), 0);
		assert_int_equal(smsr__sim_submit(b, i, 0), 0);
		while (smsr__sim_next(a, 0, &ra)) {
			assert_int_equal(smsr__sim_next(b, 0, &rb), 1);
			assert_int_equal(ra.status, rb.status);
			assert_string_equal(ra.msgid, rb.msgid);
		}
	}
	smsr__sim_destroy(a);
	smsr__sim_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sim_same_seed_same_reports),
	    cmocka_unit_test(test_sim_different_seeds_differ),
	    cmocka_unit_test(test_sim_reports_independent_of_poll_rate),
	    cmocka_unit_test(test_sim_default_config_answers_at_once),
	    cmocka_unit_test(test_sim_accept_rate_and_reject_share_within_tolerance),
	    cmocka_unit_test(test_sim_delivery_rate_within_tolerance),
	    cmocka_unit_test(test_sim_latency_uniform_mean_and_jitter),
	    cmocka_unit_test(test_sim_latency_uniform_clamped_at_zero),
	    cmocka_unit_test(test_sim_latency_fixed_is_constant),
	    cmocka_unit_test(test_sim_latency_exp_mean),
	    cmocka_unit_test(test_sim_latency_lognormal_mean_and_sd),
	    cmocka_unit_test(test_sim_dlr_delay_mean_and_jitter),
	    cmocka_unit_test(test_sim_reports_ordered_by_due_time),
	    cmocka_unit_test(test_sim_deadline_tracks_earliest_report),
	    cmocka_unit_test(test_sim_tps_throttles_excess_submits),
	    cmocka_unit_test(test_sim_tps_paced_submits_pass_and_idle_refills_burst),
	    cmocka_unit_test(test_sim_window_limits_outstanding_submits),
	    cmocka_unit_test(test_sim_fault_down_refuses_submits),
	    cmocka_unit_test(test_sim_fault_down_fails_pending_answers),
	    cmocka_unit_test(test_sim_fault_down_keeps_answers_sent_before_it),
	    cmocka_unit_test(test_sim_fault_blackhole_never_answers),
	    cmocka_unit_test(test_sim_fault_modes_answer_as_configured),
	    cmocka_unit_test(test_sim_fault_schedule_starts_and_ends),
	    cmocka_unit_test(test_sim_fault_down_between_polls_fails_inflight),
	    cmocka_unit_test(test_sim_ctl_fault_none_restores_link),
	    cmocka_unit_test(test_sim_ctl_bad_input_changes_nothing),
	    cmocka_unit_test(test_sim_msgids_unique_and_well_formed),
	    cmocka_unit_test(test_sim_bad_params_rejected),
	    cmocka_unit_test(test_sim_good_params_accepted),
	    cmocka_unit_test(test_sim_seed_param_overrides_seed),
	};

	return cmocka_run_group_tests_name("chan_sim", tests, NULL, NULL);
}
