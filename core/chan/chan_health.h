/* SPDX-License-Identifier: MIT */
/*
 * Live channel health: a circuit breaker fed by what the carrier does.
 *
 * The worker that owns a channel tells its health every submit answer
 * (with its latency), every delivery report (with its delay) and, every
 * sweep, how old the oldest unanswered submit and the oldest unreported
 * accepted submit are. From that alone the breaker decides:
 *
 *  - closed (the channel is up), or degraded when its error rate over the
 *    last one to two seconds is above degrade_pct;
 *  - open (the channel is down) on open_after consecutive failures, an
 *    error rate above error_pct (with min_samples answers), or a black
 *    hole: two or more submits unanswered for answer_timeout with no
 *    answer at all meanwhile, or taken submits unreported for
 *    report_silence with no report at all meanwhile. Both limits grow with
 *    what the channel normally takes (8x its usual answer latency, 4x its
 *    usual report delay), so a slow carrier is not taken for a dead one;
 *    reports are judged only once the channel has sent some;
 *  - half-open after a cool-down (doubling on each reopen, up to 30 s): the
 *    channel takes a trickle, one submit at a time; `probes` successes in a
 *    row close the breaker, one failure opens it again.
 *
 * Throttling answers are not failures here: they are pacing signals, which
 * the router answers by cutting the send rate (AIMD, router_chan.c).
 * Pure and single-threaded: times are passed in, nothing is read.
 */
#ifndef SMSR_CHAN_HEALTH_H
#define SMSR_CHAN_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg/cfg.h"

enum smsr__breaker {
	SMSR__BRK_CLOSED = 0,
	SMSR__BRK_DEGRADED, /* closed, but erring more than it should */
	SMSR__BRK_OPEN,
	SMSR__BRK_HALF,
};

/* What an answer was, for the breaker. */
enum smsr__answer {
	SMSR__ANS_OK = 0,
	SMSR__ANS_FAIL,	    /* temporary error or timeout: counts towards opening */
	SMSR__ANS_REJECT,   /* the carrier refused this message: counts in the rate only */
	SMSR__ANS_THROTTLE, /* pacing signal: not counted */
	SMSR__ANS_LINK,	    /* failed because the link is down: the link state says it */
};

#define SMSR__LAT_BUCKETS 112 /* 1 us .. ~2^28 us */

struct smsr__health {
	uint8_t state; /* enum smsr__breaker */
	int reason;    /* -SMSR_E* that opened it last */
	uint32_t streak;
	uint32_t ok[2], err[2]; /* this second, the previous one */
	uint64_t win_start;
	uint64_t last_answer, last_report;
	uint64_t reopen_at;
	uint32_t opens; /* in a row, for the cool-down */
	uint32_t half_ok;
	double lat_ns, report_ns; /* moving averages; 0 until seen */
	bool reported;		  /* a report came: report_ns is a measure (0 is one) */
	/* Answer latencies of the last 10-20 s, for percentiles: log-linear
	 * buckets (4 per power of two of microseconds), this period and the
	 * one before. */
	uint32_t lat_hist[2][SMSR__LAT_BUCKETS];
	uint64_t hist_start;
	double delivery; /* moving delivery rate from reports, 1 until seen */
	uint64_t opened_total;
};

void smsr__health_init(struct smsr__health *h, uint64_t now_ns);

/* A submit answer after @latency_ns. Returns the breaker's new state. */
int smsr__health_answer(struct smsr__health *h, const struct smsr__health_cfg *cfg,
			enum smsr__answer a, uint64_t latency_ns, uint64_t now_ns);

/* A delivery report (@delivered or not) @delay_ns after the carrier took it. */
void smsr__health_report(struct smsr__health *h, bool delivered, uint64_t delay_ns,
			 uint64_t now_ns);

/*
 * How long a submit may go unanswered, and a taken submit unreported,
 * before it counts as overdue: the configured limits, or 8x the usual
 * answer latency and 4x the usual report delay if longer. Reports are
 * only judged once some have been seen (UINT64_MAX before).
 */
uint64_t smsr__health_answer_limit(const struct smsr__health *h,
				   const struct smsr__health_cfg *cfg);
uint64_t smsr__health_report_limit(const struct smsr__health *h,
				   const struct smsr__health_cfg *cfg);

/*
 * Timers, each sweep: @unanswered submits are overdue for an answer and
 * @unreported for a report. Two or more, with no answer (report) at all
 * for as long, open the breaker: a black hole. Moves an open breaker to
 * half-open once cooled down. Returns the new state.
 */
int smsr__health_check(struct smsr__health *h, const struct smsr__health_cfg *cfg,
		       uint32_t unanswered, uint32_t unreported, uint64_t now_ns);

/* Answer latency percentile @pct (0-100) over the last 10-20 s, in
 * microseconds (within 19%); 0 when no answer came. */
uint32_t smsr__health_latency_us(const struct smsr__health *h, unsigned pct);

/* Error rate over the window in percent, or -1 with too few samples. */
int smsr__health_error_pct(const struct smsr__health *h, const struct smsr__health_cfg *cfg);

#endif
