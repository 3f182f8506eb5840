/* SPDX-License-Identifier: MIT */
/*
 * The router's use of channel health (chan_health.h): the channel's
 * published state, channel events, and the send rate's answer to
 * throttling. All on the worker that owns the channel.
 *
 * State. An operator's pause, drain or removal wins; then a link the
 * driver reports down; then an open breaker (down, with the breaker's
 * reason: black_hole, no_reports, failing); a half-open or erring breaker
 * is degraded (routed to with a fraction of its weight); else up. Every
 * change is an SMSR_EV_CHANNEL event with the state and the reason. Going
 * down moves the queued messages elsewhere and resends, by class, what is
 * in flight with an unknown outcome (the next worker turn does both).
 *
 * Send rate (AIMD). A throttling answer halves the channel's send rate (at
 * most once per 100 ms, from the current rate: the granted one, or the
 * measured one if unlimited); each sweep without throttling for 200 ms
 * adds a twentieth of the granted rate (a tenth of the current one if
 * unlimited) until the granted rate is back.
 */
#include "base/clock.h"
#include "router_int.h"

#define CUT_GAP_NS (100 * SMSR__MS)
#define CALM_NS	   (200 * SMSR__MS)

bool smsr__temporary(int status)
{
	switch (status) {
	case -SMSR_ETHROTTLED:
	case -SMSR_ECHANERR:
	case -SMSR_ECHANDOWN:
	case -SMSR_ETIMEOUT:
	case -SMSR_EBUSY:
	case -SMSR_ENOMEM:
	case -SMSR_EBLACKHOLE:
	case -SMSR_ENOREPORTS:
	case -SMSR_EFAILING:
		return true;
	}
	return false;
}

static void emit_state(struct smsr_chan *c, uint8_t state, int reason)
{
	struct smsr_router *r = c->worker->r;
	struct smsr_event ev;

	if (!c->open || !r->on_event || !(r->ev_mask & SMSR_EV_MASK(SMSR_EV_CHANNEL)))
		return;
	c->told_state = state;
	c->told_reason = reason;
	ev = (struct smsr_event){.ts_ns = c->worker->now,
				 .type = SMSR_EV_CHANNEL,
				 .channel = (int32_t)c->index,
				 .reason = reason,
				 .chan_state = state};
	r->on_event(r->ev_arg, &ev);
}

void smsr__chan_publish_state(struct smsr_chan *c)
{
	uint8_t st = atomic_load(&c->state), want;
	int reason = !c->link_up			 ? c->link_reason
		     : c->health.state == SMSR__BRK_OPEN ? c->health.reason
							 : 0;
	bool degraded = c->health.state == SMSR__BRK_DEGRADED || c->health.state == SMSR__BRK_HALF;

	atomic_store(&c->down_reason, reason);
	do {
		if (st == SMSR_CHAN_REMOVED || st == SMSR_CHAN_PAUSED)
			return; /* the operator's word; down_reason is kept for resume */
		want = reason			   ? SMSR_CHAN_DOWN
		       : atomic_load(&c->draining) ? SMSR_CHAN_DRAINING
		       : degraded		   ? SMSR_CHAN_DEGRADED
						   : SMSR_CHAN_UP;
		if (want == st) {
			/* Still down, for another reason (a link that now
			 * refuses the bind): say so, once per change. */
			if (st == SMSR_CHAN_DOWN && c->told_state == SMSR_CHAN_DOWN &&
			    reason != c->told_reason)
				emit_state(c, st, reason);
			return;
		}
	} while (!atomic_compare_exchange_weak(&c->state, &st, want));
	emit_state(c, want, reason);
	if (want == SMSR_CHAN_DOWN) {
		c->evacuate = true; /* this worker turn, after the driver returns */
		c->resend = true;
	} else if (st == SMSR_CHAN_DOWN) {
		c->dispatch_at = 0;
		/* Messages stuck on down channels may have somewhere to go now. */
		atomic_fetch_add(&c->worker->r->up_gen, 1);
	}
}

void smsr__chan_tell_state(struct smsr_chan *c)
{
	uint8_t st = atomic_load(&c->state);

	if (st != c->told_state)
		emit_state(c, st, st == SMSR_CHAN_DOWN ? atomic_load(&c->down_reason) : 0);
}

static uint32_t current_rate(const struct smsr_chan *c)
{
	uint32_t granted = atomic_load_explicit(&c->tps, memory_order_relaxed);

	if (c->aimd_tps)
		return c->aimd_tps;
	if (granted)
		return granted;
	return SMSR__LOAD(c->stats.send_tps) ? SMSR__LOAD(c->stats.send_tps) : 1000;
}

static void throttled(struct smsr__worker *w, struct smsr_chan *c)
{
	uint32_t cut;

	c->last_throttle = w->now;
	if (c->last_cut && w->now - c->last_cut < CUT_GAP_NS)
		return;
	cut = current_rate(c) / 2;
	c->aimd_tps = cut ? cut : 1;
	c->last_cut = w->now;
	smsr__lanes_set_rate(&c->lanes, c->aimd_tps);
	SMSR__BUMP(c->stats.rate_cuts, 1);
}

void smsr__chan_health_answer(struct smsr__worker *w, struct smsr_chan *c, int status,
			      uint64_t latency_ns)
{
	enum smsr__answer a = status == 0		   ? SMSR__ANS_OK
			      : status == -SMSR_ETHROTTLED ? SMSR__ANS_THROTTLE
			      : status == -SMSR_ECHANDOWN  ? SMSR__ANS_LINK
			      : smsr__temporary(status)	   ? SMSR__ANS_FAIL
							   : SMSR__ANS_REJECT;
	uint8_t before = c->health.state;

	smsr__health_answer(&c->health, &w->r->cfg.health, a, latency_ns, w->now);
	if (a == SMSR__ANS_THROTTLE)
		throttled(w, c);
	if (c->health.state != before)
		smsr__chan_publish_state(c);
}

static void additive_increase(struct smsr__worker *w, struct smsr_chan *c)
{
	uint32_t granted = atomic_load_explicit(&c->tps, memory_order_relaxed);
	uint32_t step;

	if (!c->aimd_tps || w->now - c->last_throttle < CALM_NS)
		return;
	step = granted ? granted / 20 : c->aimd_tps / 10;
	c->aimd_tps += step ? step : 1;
	if ((granted && c->aimd_tps >= granted) || c->aimd_tps > SMSR_TPS_MAX)
		c->aimd_tps = 0;
	smsr__lanes_set_rate(&c->lanes, c->aimd_tps ? c->aimd_tps : granted);
}

/*
 * What submitters judge deadlines by (struct smsr__drain): the lanes'
 * segments, and the rate they drain at — the pacing rate @rate, bounded
 * by what the window lets through at the usual answer latency; for an
 * unlimited channel with no window, 0 (no check: it keeps up).
 */
static void publish_drain(struct smsr_chan *c, double rate)
{
	struct smsr__drain *d = &c->drain;
	double lat = c->health.lat_ns / 1e9;

	for (int k = 0; k < SMSR_NCLASS; k++) {
		const struct smsr__lane *ln = &c->lanes.lane[k];

		atomic_store_explicit(&d->segs[k], ln->segs, memory_order_relaxed);
		atomic_store_explicit(&d->seg_x16[k],
				      ln->count ? (uint32_t)(ln->segs * 16 / ln->count) : 16,
				      memory_order_relaxed);
	}
	if (c->cfg->window && lat > 0 && (rate == 0 || c->cfg->window / lat < rate))
		rate = c->cfg->window / lat;
	atomic_store_explicit(&d->tps, rate > SMSR_TPS_MAX ? SMSR_TPS_MAX : (uint32_t)rate,
			      memory_order_relaxed);
}

/*
 * Score: the expected cost of getting one message of class @cls delivered
 * by @c, in price units (lower is better):
 *
 *   (price + miss_cost[cls] * (1 - d)) / d  +  time_value[cls] * wait
 *
 * d is the channel's delivery rate from its reports (moving average), wait
 * the seconds a message would spend in its lanes at the current send rate
 * (codes wait only behind codes) plus the usual answer latency. Routing
 * shares a group's traffic by weight x (best / own score)^4.
 */
static void score(struct smsr__worker *w, struct smsr_chan *c)
{
	const struct smsr__score_cfg *sc = &w->r->cfg.scoring;
	double d = c->health.delivery < 0.05 ? 0.05 : c->health.delivery;
	double rate = c->aimd_tps ? c->aimd_tps : atomic_load(&c->tps);
	double lat = c->health.lat_ns / 1e9;
	double price = atomic_load_explicit(&c->price, memory_order_relaxed);
	uint64_t v = c->lanes.lane[0].count, all = smsr__lanes_queued(&c->lanes);

	publish_drain(c, rate);
	for (int k = 0; k < SMSR_NCLASS; k++) {
		double wait = lat + (rate > 0 ? (double)(k == 0 ? v : all) / rate : 0);
		double cost = (price + sc->miss_cost[k] * (1 - d)) / d + sc->time_value[k] * wait;
		double micro = cost * 1e6;

		atomic_store_explicit(&c->stats.score[k],
				      micro > 4e9 ? 4000000000u : (uint32_t)micro,
				      memory_order_relaxed);
		atomic_store_explicit(&c->stats.wait_ms[k],
				      wait * 1e3 > 4e9 ? 4000000000u : (uint32_t)(wait * 1e3),
				      memory_order_relaxed);
	}
}

void smsr__chan_health_tick(struct smsr__worker *w, struct smsr_chan *c)
{
	struct smsr__health *h = &c->health;
	uint8_t before = h->state;
	uint64_t sent = SMSR__LOAD(c->stats.submitted);

	if (c->rate_mark && w->now > c->rate_mark && !c->aimd_tps &&
	    !atomic_load_explicit(&c->tps, memory_order_relaxed))
		atomic_store_explicit(
		    &c->stats.send_tps,
		    (uint32_t)((sent - c->rate_mark_sent) * SMSR__S / (w->now - c->rate_mark)),
		    memory_order_relaxed);
	else
		atomic_store_explicit(&c->stats.send_tps, current_rate(c), memory_order_relaxed);
	c->rate_mark = w->now;
	c->rate_mark_sent = sent;
	additive_increase(w, c);
	smsr__health_check(h, &w->r->cfg.health, c->unanswered, c->unreported, w->now);
	if (h->state != before || h->opened_total != SMSR__LOAD(c->stats.breaker_opens))
		smsr__chan_publish_state(c);
	atomic_store_explicit(&c->stats.breaker_opens, h->opened_total, memory_order_relaxed);
	atomic_store_explicit(&c->stats.breaker, h->state, memory_order_relaxed);
	atomic_store_explicit(&c->stats.latency_us, (uint32_t)(h->lat_ns / 1000),
			      memory_order_relaxed);
	atomic_store_explicit(&c->stats.report_ms, (uint32_t)(h->report_ns / 1e6),
			      memory_order_relaxed);
	atomic_store_explicit(&c->stats.delivery_pm, (uint32_t)(h->delivery * 1000 + 0.5),
			      memory_order_relaxed);
	atomic_store_explicit(&c->stats.error_pct, smsr__health_error_pct(h, &w->r->cfg.health),
			      memory_order_relaxed);
	atomic_store_explicit(&c->stats.latency_p50_us, smsr__health_latency_us(h, 50),
			      memory_order_relaxed);
	atomic_store_explicit(&c->stats.latency_p99_us, smsr__health_latency_us(h, 99),
			      memory_order_relaxed);
	score(w, c);
}
