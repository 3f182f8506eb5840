/* SPDX-License-Identifier: MIT */
/*
 * Channel health and circuit breaker (see chan_health.h).
 */
#include <string.h>

#include "smsr/errors.h"
#include "chan_health.h"

#define SEC	      1000000000ull
#define MS	      1000000ull
#define COOL_MAX_NS   (30 * SEC)
#define HIST_NS	      (10 * SEC) /* latency percentiles: this long, and the one before */
#define EWMA	      0.05
#define DLV_EWMA      0.02 /* delivery rate: about the last 50 reports */
#define LAT_FACTOR    8	   /* black hole: unanswered this many usual latencies */
#define REPORT_FACTOR 4
/* Overdue submits it takes to call a black hole: one lost answer is not one. */
#define OVERDUE_MIN 2

void smsr__health_init(struct smsr__health *h, uint64_t now_ns)
{
	*h = (struct smsr__health){
	    .win_start = now_ns, .last_answer = now_ns, .last_report = now_ns, .delivery = 1.0};
}

/* Keep the window at "this second and the previous one". */
static void roll(struct smsr__health *h, uint64_t now)
{
	if (now - h->win_start < SEC)
		return;
	if (now - h->win_start < 2 * SEC) {
		h->ok[1] = h->ok[0];
		h->err[1] = h->err[0];
	} else {
		h->ok[1] = h->err[1] = 0;
	}
	h->ok[0] = h->err[0] = 0;
	h->win_start = now;
}

int smsr__health_error_pct(const struct smsr__health *h, const struct smsr__health_cfg *cfg)
{
	uint32_t ok = h->ok[0] + h->ok[1], err = h->err[0] + h->err[1];

	if (ok + err < cfg->min_samples || ok + err == 0)
		return -1;
	return (int)(100ull * err / (ok + err));
}

static void open_breaker(struct smsr__health *h, const struct smsr__health_cfg *cfg, int reason,
			 uint64_t now)
{
	uint64_t cool = (uint64_t)cfg->cool_down_ms * MS;

	for (uint32_t i = 0; i < h->opens && cool < COOL_MAX_NS; i++)
		cool *= 2;
	h->state = SMSR__BRK_OPEN;
	h->reason = reason;
	h->reopen_at = now + (cool < COOL_MAX_NS ? cool : COOL_MAX_NS);
	h->opens++;
	h->opened_total++;
	h->streak = 0;
	h->half_ok = 0;
	/* A fresh start once it comes back: old errors must not reopen it. */
	h->ok[0] = h->ok[1] = h->err[0] = h->err[1] = 0;
}

/* Closed or degraded, by the error rate. */
static int closed_state(const struct smsr__health *h, const struct smsr__health_cfg *cfg)
{
	int pct = smsr__health_error_pct(h, cfg);

	return pct >= 0 && pct > (int)cfg->degrade_pct ? SMSR__BRK_DEGRADED : SMSR__BRK_CLOSED;
}

static unsigned lat_bucket(uint64_t us)
{
	unsigned lg, b;

	if (us < 4)
		return (unsigned)us;
	lg = 63u - (unsigned)__builtin_clzll(us); /* >= 2 */
	b = 4 * (lg - 1) + (unsigned)(us >> (lg - 2) & 3);
	return b < SMSR__LAT_BUCKETS ? b : SMSR__LAT_BUCKETS - 1;
}

/* The upper end of bucket @b, in microseconds. */
static uint32_t lat_bucket_top(unsigned b)
{
	unsigned lg = b / 4 + 1;

	if (b < 4)
		return b;
	return (uint32_t)(((4u + (b & 3) + 1) << (lg - 2)) - 1);
}

static void record_latency(struct smsr__health *h, uint64_t latency_ns, uint64_t now)
{
	if (now - h->hist_start >= HIST_NS) {
		memcpy(h->lat_hist[1],
		       now - h->hist_start < 2 * HIST_NS ? h->lat_hist[0] : h->lat_hist[1],
		       sizeof(h->lat_hist[1]));
		if (now - h->hist_start >= 2 * HIST_NS)
			memset(h->lat_hist[1], 0, sizeof(h->lat_hist[1]));
		memset(h->lat_hist[0], 0, sizeof(h->lat_hist[0]));
		h->hist_start = now;
	}
	h->lat_hist[0][lat_bucket(latency_ns / 1000)]++;
}

uint32_t smsr__health_latency_us(const struct smsr__health *h, unsigned pct)
{
	uint64_t total = 0, seen = 0, want;

	for (unsigned b = 0; b < SMSR__LAT_BUCKETS; b++)
		total += (uint64_t)h->lat_hist[0][b] + h->lat_hist[1][b];
	if (total == 0)
		return 0;
	want = (total * pct + 99) / 100;
	for (unsigned b = 0; b < SMSR__LAT_BUCKETS; b++) {
		seen += (uint64_t)h->lat_hist[0][b] + h->lat_hist[1][b];
		if (seen >= want && seen)
			return lat_bucket_top(b);
	}
	return lat_bucket_top(SMSR__LAT_BUCKETS - 1);
}

int smsr__health_answer(struct smsr__health *h, const struct smsr__health_cfg *cfg,
			enum smsr__answer a, uint64_t latency_ns, uint64_t now_ns)
{
	int pct;

	roll(h, now_ns);
	record_latency(h, latency_ns, now_ns);
	h->last_answer = now_ns;
	if (a == SMSR__ANS_THROTTLE || a == SMSR__ANS_LINK)
		return h->state;
	h->lat_ns = h->lat_ns == 0 ? (double)latency_ns
				   : h->lat_ns + EWMA * ((double)latency_ns - h->lat_ns);
	if (h->state == SMSR__BRK_OPEN)
		return h->state; /* a late answer from before it opened */
	if (a == SMSR__ANS_OK) {
		h->ok[0]++;
		h->streak = 0;
		if (h->state == SMSR__BRK_HALF && ++h->half_ok >= cfg->probes) {
			h->opens = 0;
			h->state = SMSR__BRK_CLOSED;
		}
		if (h->state != SMSR__BRK_HALF)
			h->state = (uint8_t)closed_state(h, cfg);
		return h->state;
	}
	h->err[0]++;
	if (a == SMSR__ANS_FAIL)
		h->streak++;
	if (h->state == SMSR__BRK_HALF) {
		open_breaker(h, cfg, -SMSR_EFAILING, now_ns);
		return h->state;
	}
	pct = smsr__health_error_pct(h, cfg);
	if (h->streak >= cfg->open_after || (pct >= 0 && pct >= (int)cfg->error_pct))
		open_breaker(h, cfg, -SMSR_EFAILING, now_ns);
	else
		h->state = (uint8_t)closed_state(h, cfg);
	return h->state;
}

void smsr__health_report(struct smsr__health *h, bool delivered, uint64_t delay_ns, uint64_t now_ns)
{
	h->last_report = now_ns;
	h->report_ns = !h->reported ? (double)delay_ns
				    : h->report_ns + EWMA * ((double)delay_ns - h->report_ns);
	h->reported = true;
	h->delivery += DLV_EWMA * ((delivered ? 1.0 : 0.0) - h->delivery);
}

uint64_t smsr__health_answer_limit(const struct smsr__health *h, const struct smsr__health_cfg *cfg)
{
	uint64_t t = (uint64_t)cfg->answer_timeout_ms * MS;

	return (double)t < LAT_FACTOR * h->lat_ns ? (uint64_t)(LAT_FACTOR * h->lat_ns) : t;
}

uint64_t smsr__health_report_limit(const struct smsr__health *h, const struct smsr__health_cfg *cfg)
{
	uint64_t t = (uint64_t)cfg->report_silence_ms * MS;

	if (!h->reported)
		return UINT64_MAX; /* no report seen yet: nothing to compare with */
	return (double)t < REPORT_FACTOR * h->report_ns ? (uint64_t)(REPORT_FACTOR * h->report_ns)
							: t;
}

int smsr__health_check(struct smsr__health *h, const struct smsr__health_cfg *cfg,
		       uint32_t unanswered, uint32_t unreported, uint64_t now_ns)
{
	roll(h, now_ns);
	if (h->state == SMSR__BRK_OPEN) {
		if (now_ns >= h->reopen_at) {
			h->state = SMSR__BRK_HALF;
			h->half_ok = 0;
			h->last_answer = h->last_report = now_ns;
		}
		return h->state;
	}
	if (unanswered >= OVERDUE_MIN &&
	    now_ns - h->last_answer >= smsr__health_answer_limit(h, cfg))
		open_breaker(h, cfg, -SMSR_EBLACKHOLE, now_ns);
	else if (unreported >= OVERDUE_MIN &&
		 now_ns - h->last_report >= smsr__health_report_limit(h, cfg))
		open_breaker(h, cfg, -SMSR_ENOREPORTS, now_ns);
	else if (h->state != SMSR__BRK_HALF)
		h->state = (uint8_t)closed_state(h, cfg);
	return h->state;
}
