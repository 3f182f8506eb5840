/* SPDX-License-Identifier: MIT */
/*
 * The router's life cycle and administration: create from a configuration,
 * start and stop the workers, channel controls and statistics. The hot
 * paths live in router_submit.c (host side) and router_worker.c /
 * router_chan.c (worker side).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "router_int.h"

const struct smsr_driver *smsr__find_driver(const struct smsr_router *r, const char *name)
{
	for (size_t i = 0; i < r->ndrivers; i++)
		if (strcmp(r->drivers[i]->name, name) == 0)
			return r->drivers[i];
	return NULL;
}

static int setup_drivers(struct smsr_router *r, const struct smsr_router_opts *o)
{
	size_t n = 2 + (o ? o->ndrivers : 0);

	r->drivers = calloc(n, sizeof(*r->drivers));
	if (!r->drivers)
		return -SMSR_ENOMEM;
	r->drivers[r->ndrivers++] = smsr_driver_sim();
	r->drivers[r->ndrivers++] = smsr_driver_smpp();
	for (size_t i = 0; o && i < o->ndrivers; i++) {
		const struct smsr_driver *d = o->drivers[i];

		if (!d || !d->name || !d->open || !d->submit || !d->poll || !d->close)
			return -SMSR_EINVAL;
		if (smsr__find_driver(r, d->name))
			return -SMSR_EEXIST;
		r->drivers[r->ndrivers++] = d;
	}
	return 0;
}

static int setup_workers(struct smsr_router *r, unsigned want)
{
	if (want == 0)
		want = r->cfg.workers ? r->cfg.workers : 1;
	if (want > SMSR__WORKERS_MAX)
		return -SMSR_EINVAL;
	if (want > r->nchans)
		want = (unsigned)r->nchans;
	r->workers = calloc(want, sizeof(*r->workers));
	if (!r->workers)
		return -SMSR_ENOMEM;
	for (unsigned i = 0; i < want; i++) {
		int ret = smsr__worker_init(&r->workers[i], r, i);

		r->nworkers = i + 1;
		if (ret < 0)
			return ret;
		r->workers[i].chans = calloc(SMSR__CHANS_MAX, sizeof(struct smsr_chan *));
		if (!r->workers[i].chans)
			return -SMSR_ENOMEM;
	}
	return 0;
}

int smsr__chan_init(struct smsr_router *r, size_t i)
{
	struct smsr_chan *c = &r->chans[i];

	c->index = (uint32_t)i;
	c->cfg = &r->cfg.chans[i];
	c->drv = smsr__find_driver(r, c->cfg->driver);
	if (!c->drv)
		return -SMSR_ENODRIVER;
	atomic_init(&c->state, SMSR_CHAN_DOWN);
	atomic_init(&c->down_reason, -SMSR_ENOTRUNNING);
	atomic_init(&c->tps, c->cfg->tps);
	atomic_init(&c->price, c->cfg->price);
	return 0;
}

/*
 * Channels live in arrays sized for every channel the router may ever
 * have (SMSR__CHANS_MAX, untouched pages cost nothing), so adding one while
 * others are in use never moves them.
 */
static int setup_channels(struct smsr_router *r)
{
	struct smsr__chan_cfg *cc = realloc(r->cfg.chans, SMSR__CHANS_MAX * sizeof(*cc));

	if (!cc)
		return -SMSR_ENOMEM;
	memset(cc + r->cfg.nchans, 0, (SMSR__CHANS_MAX - r->cfg.nchans) * sizeof(*cc));
	r->cfg.chans = cc;
	r->chans = calloc(SMSR__CHANS_MAX, sizeof(*r->chans));
	if (!r->chans)
		return -SMSR_ENOMEM;
	for (size_t i = 0; i < r->cfg.nchans; i++) {
		int ret = smsr__chan_init(r, i);

		if (ret < 0)
			return ret;
	}
	atomic_store(&r->nchans, r->cfg.nchans);
	return 0;
}

static void assign_channels(struct smsr_router *r)
{
	for (size_t i = 0; i < r->nchans; i++) {
		struct smsr__worker *w = &r->workers[i % r->nworkers];

		r->chans[i].worker = w;
		w->chans[w->nchans++] = &r->chans[i];
	}
}

int smsr_router_create(struct smsr_router **out, const struct smsr_config *cfg,
		       const struct smsr_router_opts *opts)
{
	struct smsr_config *def = NULL;
	struct smsr__snapshot *snap;
	struct smsr_router *r;
	int ret;

	if (!out)
		return -SMSR_EINVAL;
	*out = NULL;
	if (!cfg) {
		ret = smsr_config_create(&def);
		if (ret < 0)
			return ret;
		ret = smsr_config_parse(def, smsr_config_default_text(), NULL, 0);
		if (ret < 0)
			goto err_def;
		cfg = def;
	}
	ret = -SMSR_ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r)
		goto err_def;
	pthread_mutex_init(&r->admin_lock, NULL);
	smsr__epoch_init(&r->epoch);
	if (opts) {
		r->on_event = opts->on_event;
		r->ev_arg = opts->arg;
		r->ev_mask = opts->event_mask ? opts->event_mask : SMSR_EV_ALL;
	}
	if ((ret = smsr__cfg_copy(&r->cfg, cfg)) < 0 || (ret = smsr__arena_init(&r->arena)) < 0 ||
	    (ret = smsr__optout_init(&r->optout)) < 0 || (ret = setup_drivers(r, opts)) < 0 ||
	    (ret = setup_channels(r)) < 0 ||
	    (ret = setup_workers(r, opts ? opts->workers : 0)) < 0 ||
	    (ret = smsr__journal_setup(r, opts)) < 0)
		goto err_router;
	if (r->nchans == 0 || r->cfg.nroutes == 0) {
		ret = -SMSR_ECONFIG;
		goto err_router;
	}
	assign_channels(r);
	smsr__mem_set_budget(r, r->cfg.memory_budget);
	ret = smsr__snap_build(r, &snap);
	if (ret < 0)
		goto err_router;
	smsr__snap_publish(r, snap);
	smsr_config_destroy(def);
	*out = r;
	return 0;
err_router:
	smsr_router_destroy(r);
err_def:
	smsr_config_destroy(def);
	return ret;
}

void smsr__mem_set_budget(struct smsr_router *r, uint64_t budget)
{
	/* What the host reserved is not the messages'; callers checked
	 * that at least SMSR__BUDGET_MIN is left. */
	budget -= r->mem_reserve;
	atomic_store(&r->mem_limit[SMSR_CLASS_VERIFICATION - 1], budget);
	atomic_store(&r->mem_limit[SMSR_CLASS_NOTICE - 1], budget - budget / 8);
	atomic_store(&r->mem_limit[SMSR_CLASS_MARKETING - 1], budget - budget / 4);
}

int smsr_router_reserve_memory(struct smsr_router *r, uint64_t bytes)
{
	int ret = 0;

	if (!r)
		return -SMSR_EINVAL;
	pthread_mutex_lock(&r->admin_lock);
	if (bytes > r->cfg.memory_budget - SMSR__BUDGET_MIN) {
		ret = -SMSR_EINVAL;
	} else {
		r->mem_reserve = bytes;
		smsr__mem_set_budget(r, r->cfg.memory_budget);
	}
	pthread_mutex_unlock(&r->admin_lock);
	return ret;
}

static void close_all(struct smsr_router *r)
{
	for (size_t i = 0; i < r->nchans; i++)
		smsr__chan_close(&r->chans[i]);
}

int smsr_router_start(struct smsr_router *r)
{
	int ret = 0;

	if (!r)
		return -SMSR_EINVAL;
	pthread_mutex_lock(&r->admin_lock);
	if (atomic_load(&r->running) || r->stopped) {
		ret = -SMSR_ESTATE;
		goto out;
	}
	for (size_t i = 0; i < r->nchans; i++) {
		if (atomic_load(&r->chans[i].state) == SMSR_CHAN_REMOVED)
			continue; /* added, then removed before the start */
		ret = smsr__chan_open(r, &r->chans[i], smsr__now_ns());
		if (ret < 0)
			goto err_open;
	}
	if (r->journal && (ret = smsr__journal_start(r->journal)) < 0)
		goto err_open;
	if (r->archiver && (ret = smsr__archiver_start(r)) < 0)
		goto err_open;
	atomic_store(&r->running, 1);
	for (unsigned i = 0; i < r->nworkers; i++) {
		ret = smsr__worker_start(&r->workers[i]);
		if (ret < 0)
			goto err_threads;
	}
	if (r->revive)
		smsr__journal_recover_run(r); /* before any host submit is answered */
	goto out;
err_threads:
	atomic_store(&r->running, 0);
	for (unsigned i = 0; i < r->nworkers; i++)
		smsr__worker_signal(&r->workers[i]);
	for (unsigned i = 0; i < r->nworkers; i++)
		smsr__worker_join(&r->workers[i]);
err_open:
	close_all(r);
	r->stopped = true;
out:
	pthread_mutex_unlock(&r->admin_lock);
	return ret;
}

int smsr_router_stop(struct smsr_router *r)
{
	if (!r)
		return -SMSR_EINVAL;
	pthread_mutex_lock(&r->admin_lock);
	if (atomic_exchange(&r->running, 0)) {
		/* Let submit calls already inside finish their hand-off, so the
		 * workers see every accepted message before they stop. */
		while (atomic_load(&r->active) != 0)
			sched_yield();
		for (unsigned i = 0; i < r->nworkers; i++)
			smsr__worker_signal(&r->workers[i]);
		for (unsigned i = 0; i < r->nworkers; i++)
			smsr__worker_join(&r->workers[i]);
		r->stopped = true;
	}
	pthread_mutex_unlock(&r->admin_lock);
	return 0;
}

void smsr_router_destroy(struct smsr_router *r)
{
	if (!r)
		return;
	smsr_router_stop(r);
	close_all(r);
	/* After the workers: their final records are the last to go in. */
	/* The journal's last commits reach the archiver, which takes them in
	 * (telling the journal) before the journal goes. */
	if (r->journal)
		smsr__journal_stop(r->journal);
	smsr__archiver_close(r);
	smsr__journal_close(r->journal);
	smsr__journal_recover_free(r);
	smsr__snap_free(atomic_load(&r->snap));
	for (unsigned i = 0; i < r->nworkers; i++)
		smsr__worker_fini(&r->workers[i]);
	for (size_t i = 0; i < r->nchans; i++) {
		free(r->chans[i].slots);
		smsr__dlr_fini(&r->chans[i].dlr);
	}
	free(r->workers);
	free(r->chans);
	free(r->drivers);
	smsr__arena_fini(&r->arena);
	smsr__epoch_reclaim_all(&r->epoch); /* what workers' opt-out writes deferred */
	smsr__optout_fini(&r->optout);
	smsr__cfg_free(&r->cfg);
	pthread_mutex_destroy(&r->admin_lock);
	free(r);
}

static uint64_t lane_depth(const struct smsr_chan *c, int li)
{
	return atomic_load_explicit(&c->admitted[li].v, memory_order_relaxed) -
	       atomic_load_explicit(&c->released[li].v, memory_order_relaxed);
}

static void channel_info(const struct smsr_chan *c, struct smsr_channel_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	snprintf(ci->name, sizeof(ci->name), "%s", c->cfg->name);
	snprintf(ci->driver, sizeof(ci->driver), "%s", c->cfg->driver);
	ci->index = (int32_t)c->index;
	ci->state = atomic_load(&c->state);
	ci->down_reason = atomic_load(&c->down_reason);
	ci->tps = atomic_load(&c->tps);
	ci->window = c->cfg->window;
	ci->price = atomic_load_explicit(&c->price, memory_order_relaxed);
	ci->inflight = SMSR__LOAD(c->stats.inflight);
	ci->awaiting_dlr = SMSR__LOAD(c->stats.awaiting_dlr);
	for (int i = 0; i < SMSR_NCLASS; i++)
		ci->queued[i] = lane_depth(c, i);
	ci->submitted = SMSR__LOAD(c->stats.submitted);
	ci->accepted = SMSR__LOAD(c->stats.accepted);
	ci->delivered = SMSR__LOAD(c->stats.delivered);
	ci->failed = SMSR__LOAD(c->stats.failed);
	ci->expired = SMSR__LOAD(c->stats.expired);
	ci->throttled = SMSR__LOAD(c->stats.throttled);
	ci->retried = SMSR__LOAD(c->stats.retried);
	ci->resent = SMSR__LOAD(c->stats.resent);
	ci->redelivered = SMSR__LOAD(c->stats.redelivered);
	ci->rate_cuts = SMSR__LOAD(c->stats.rate_cuts);
	ci->breaker_opens = SMSR__LOAD(c->stats.breaker_opens);
	ci->breaker = SMSR__LOAD(c->stats.breaker);
	ci->send_tps = SMSR__LOAD(c->stats.send_tps);
	ci->latency_us = SMSR__LOAD(c->stats.latency_us);
	ci->report_ms = SMSR__LOAD(c->stats.report_ms);
	ci->delivery_pm = SMSR__LOAD(c->stats.delivery_pm);
	ci->error_pct = SMSR__LOAD(c->stats.error_pct);
	ci->latency_p50_us = SMSR__LOAD(c->stats.latency_p50_us);
	ci->latency_p99_us = SMSR__LOAD(c->stats.latency_p99_us);
	for (int i = 0; i < SMSR_NCLASS; i++) {
		ci->score[i] = SMSR__LOAD(c->stats.score[i]) / 1e6;
		ci->wait_ms[i] = SMSR__LOAD(c->stats.wait_ms[i]);
	}
}

int smsr_router_channels(struct smsr_router *r, struct smsr_channel_info *out, size_t max)
{
	if (!r || (!out && max))
		return -SMSR_EINVAL;
	for (size_t i = 0; i < r->nchans && i < max; i++)
		channel_info(&r->chans[i], &out[i]);
	return (int)r->nchans;
}

int smsr_router_channel_find(struct smsr_router *r, const char *name)
{
	if (!r || !name)
		return -SMSR_EINVAL;
	for (size_t i = 0; i < r->nchans; i++)
		if (strcmp(r->chans[i].cfg->name, name) == 0 &&
		    atomic_load(&r->chans[i].state) != SMSR_CHAN_REMOVED)
			return (int)i;
	return -SMSR_ENOTFOUND;
}

static int send_ctl(struct smsr_router *r, int index, int op, const char *key, const char *value)
{
	struct smsr__ctl *ctl;
	int ret;

	if (!r || index < 0 || (size_t)index >= r->nchans)
		return index < 0 || !r ? -SMSR_EINVAL : -SMSR_ENOTFOUND;
	if ((key && strlen(key) >= sizeof(ctl->key)) ||
	    (value && strlen(value) >= sizeof(ctl->value)))
		return -SMSR_EINVAL;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -SMSR_ENOMEM;
	ctl->op = op;
	ctl->chan = (uint32_t)index;
	snprintf(ctl->key, sizeof(ctl->key), "%s", key ? key : "");
	snprintf(ctl->value, sizeof(ctl->value), "%s", value ? value : "");
	ret = smsr__worker_ctl(r->chans[index].worker, ctl);
	if (ret < 0)
		free(ctl);
	return ret;
}

#define CHECK_INDEX(r, index)                                                        \
	do {                                                                         \
		if (!(r) || (index) < 0 || (size_t)(index) >= (r)->nchans)           \
			return (index) < 0 || !(r) ? -SMSR_EINVAL : -SMSR_ENOTFOUND; \
	} while (0)

/* Nudge the channel's worker: it may have nothing else to wake it. */
static int nudge(struct smsr_router *r, int index)
{
	return atomic_load(&r->running) ? send_ctl(r, index, 0, NULL, NULL) : 0;
}

int smsr_router_channel_pause(struct smsr_router *r, int index)
{
	uint8_t st;

	CHECK_INDEX(r, index);
	st = atomic_load(&r->chans[index].state);
	while (st != SMSR_CHAN_REMOVED &&
	       !atomic_compare_exchange_weak(&r->chans[index].state, &st, SMSR_CHAN_PAUSED))
		;
	return st == SMSR_CHAN_REMOVED ? -SMSR_ESTATE : nudge(r, index);
}

int smsr_router_channel_remove(struct smsr_router *r, int index)
{
	CHECK_INDEX(r, index);
	if (atomic_exchange(&r->chans[index].state, SMSR_CHAN_REMOVED) == SMSR_CHAN_REMOVED)
		return -SMSR_ESTATE;
	atomic_store(&r->chans[index].draining, false);
	/* Not running: nothing is queued or in flight; it stays closed. */
	return atomic_load(&r->running) ? send_ctl(r, index, SMSR__CTL_REMOVE, NULL, NULL) : 0;
}

int smsr_router_channel_drain(struct smsr_router *r, int index)
{
	struct smsr_chan *c;
	uint8_t st;

	CHECK_INDEX(r, index);
	c = &r->chans[index];
	if (atomic_load(&c->state) == SMSR_CHAN_REMOVED)
		return -SMSR_ESTATE; /* as pause, resume and remove answer */
	atomic_store(&c->draining, true);
	/* Up or paused: drain now; down: it drains when the link is back. */
	st = atomic_load(&c->state);
	while ((st == SMSR_CHAN_UP || st == SMSR_CHAN_DEGRADED || st == SMSR_CHAN_PAUSED) &&
	       !atomic_compare_exchange_weak(&c->state, &st,
					     atomic_load(&c->down_reason) ? SMSR_CHAN_DOWN
									  : SMSR_CHAN_DRAINING))
		;
	return nudge(r, index);
}

int smsr_router_channel_resume(struct smsr_router *r, int index)
{
	struct smsr_chan *c;
	uint8_t st;

	CHECK_INDEX(r, index);
	c = &r->chans[index];
	st = atomic_load(&c->state);
	if (st == SMSR_CHAN_REMOVED ||
	    (st != SMSR_CHAN_PAUSED && st != SMSR_CHAN_DRAINING && !atomic_load(&c->draining)))
		return -SMSR_ESTATE;
	atomic_store(&c->draining, false);
	while ((st == SMSR_CHAN_PAUSED || st == SMSR_CHAN_DRAINING) &&
	       !atomic_compare_exchange_weak(
		   &c->state, &st, atomic_load(&c->down_reason) ? SMSR_CHAN_DOWN : SMSR_CHAN_UP))
		;
	atomic_fetch_add(&r->up_gen, 1); /* stuck messages may move here now */
	return nudge(r, index);
}

int smsr_router_channel_set_rate(struct smsr_router *r, int index, uint32_t tps)
{
	CHECK_INDEX(r, index);
	if (tps > SMSR_TPS_MAX)
		return -SMSR_EINVAL;
	atomic_store(&r->chans[index].tps, tps);
	return atomic_load(&r->running) ? send_ctl(r, index, SMSR__CTL_RATE, NULL, NULL) : 0;
}

int smsr_router_channel_set_weight(struct smsr_router *r, int index, uint32_t weight)
{
	struct smsr__snapshot *snap;
	int ret;

	CHECK_INDEX(r, index);
	if (weight < 1 || weight > SMSR_WEIGHT_MAX)
		return -SMSR_EINVAL;
	pthread_mutex_lock(&r->admin_lock);
	/* The weights live in the route rules' groups: change them in our
	 * config copy and publish a snapshot built from it. */
	for (size_t i = 0; i < r->cfg.nroutes; i++)
		for (uint32_t g = 0; g < r->cfg.routes[i].ngroups; g++) {
			struct smsr__group_cfg *grp = &r->cfg.routes[i].groups[g];

			for (uint32_t k = 0; k < grp->n; k++)
				if (grp->chan[k] == (uint32_t)index)
					grp->weight[k] = weight;
		}
	ret = smsr__snap_build(r, &snap);
	if (ret == 0)
		smsr__snap_publish(r, snap);
	pthread_mutex_unlock(&r->admin_lock);
	return ret;
}

int smsr_router_inject_dlr(struct smsr_router *r, int index, const char *carrier_msgid, int status,
			   int op_code)
{
	char v[32];

	if (!carrier_msgid || !carrier_msgid[0] || status > 0)
		return -SMSR_EINVAL;
	snprintf(v, sizeof(v), "%d %d", status, op_code);
	return send_ctl(r, index, SMSR__CTL_DLR, carrier_msgid, v);
}

int smsr_router_channel_ctl(struct smsr_router *r, int index, const char *key, const char *value)
{
	if (!key || !value)
		return -SMSR_EINVAL;
	return send_ctl(r, index, SMSR__CTL_DRIVER, key, value);
}

int smsr_router_stats(struct smsr_router *r, struct smsr_stats *out)
{
	if (!r || !out)
		return -SMSR_EINVAL;
	memset(out, 0, sizeof(*out));
	out->submitted = atomic_load(&r->n_submitted.v);
	out->accepted = atomic_load(&r->n_accepted.v);
	out->rejected = atomic_load(&r->n_rejected.v);
	for (int i = 0; i < SMSR_REASONS_MAX; i++)
		out->rejected_by_reason[i] = atomic_load(&r->n_reason[i]);
	for (int i = 0; i < SMSR_NCLASS; i++)
		out->by_class[i] = atomic_load(&r->n_class[i].v);
	for (unsigned i = 0; i < r->nworkers; i++) {
		struct smsr__worker *w = &r->workers[i];

		out->delivered += SMSR__LOAD(w->finals[0]);
		out->failed += SMSR__LOAD(w->finals[1]);
		out->expired += SMSR__LOAD(w->finals[2]);
		out->stale_reports += SMSR__LOAD(w->stale_reports);
		out->retrying_now += SMSR__LOAD(w->retrying);
	}
	out->mo_received =
	    atomic_load(&r->n_mo[0]) + atomic_load(&r->n_mo[1]) + atomic_load(&r->n_mo[2]);
	out->opt_outs = atomic_load(&r->n_mo[1]);
	out->opt_ins = atomic_load(&r->n_mo[2]);
	out->opted_out_now = atomic_load(&r->optout.n);
	out->mem_held = smsr__mem_held(r);
	out->mem_budget = atomic_load(&r->mem_limit[SMSR_CLASS_VERIFICATION - 1]);
	pthread_mutex_lock(&r->admin_lock);
	out->mem_reserved = r->mem_reserve;
	pthread_mutex_unlock(&r->admin_lock);
	out->busy_lanes = atomic_load(&r->n_busy[SMSR__BUSY_LANES]);
	out->busy_memory = atomic_load(&r->n_busy[SMSR__BUSY_MEMORY]);
	out->busy_late = atomic_load(&r->n_busy[SMSR__BUSY_LATE]);
	for (size_t i = 0; i < r->nchans; i++) {
		for (int k = 0; k < SMSR_NCLASS; k++)
			out->queued_now += lane_depth(&r->chans[i], k);
		out->inflight_now += SMSR__LOAD(r->chans[i].stats.inflight) +
				     SMSR__LOAD(r->chans[i].stats.awaiting_dlr);
		out->retried += SMSR__LOAD(r->chans[i].stats.retried);
		out->resent += SMSR__LOAD(r->chans[i].stats.resent);
	}
	return 0;
}

int smsr_router_optout(struct smsr_router *r, const char *number, int out)
{
	char e164[SMSR_E164_MAX + 1];

	if (!r || !number)
		return -SMSR_EINVAL;
	if (smsr_e164_normalize(number, e164) < 0)
		return -SMSR_EBADNUMBER;
	if (out < 0) {
		unsigned slot;
		ck_epoch_section_t section;
		ck_epoch_record_t *rec = smsr__epoch_lease(&r->epoch, &slot);
		bool has;

		ck_epoch_begin(rec, &section);
		has = smsr__optout_has(&r->optout, e164);
		smsr__epoch_end(&r->epoch, rec, &section);
		smsr__epoch_release(&r->epoch, slot);
		return has;
	}
	return smsr__optout_set(&r->epoch, &r->optout, e164, out != 0);
}

/*
 * An MO reply (@text, @len bytes, not NUL-terminated) from @from on channel
 * @channel: count it, and change the opt-out list if it is a keyword. On a
 * worker (@worker) the list is written without waiting (-SMSR_EBUSY when
 * another writer has it); a host thread may wait.
 */
static int handle_mo(struct smsr_router *r, const char *from, const char *text, size_t len,
		     bool worker)
{
	char e164[SMSR_E164_MAX + 1];
	int kw, ret;

	if (smsr_e164_normalize(from, e164) < 0)
		return -SMSR_EBADNUMBER;
	kw = smsr__mo_keyword(text, len);
	if (kw == 0) {
		atomic_fetch_add(&r->n_mo[0], 1);
		return SMSR_MO_NONE;
	}
	if (worker)
		ret = smsr__optout_try_set(&r->epoch, &r->optout, e164, kw == 1);
	else
		ret = smsr__optout_set(&r->epoch, &r->optout, e164, kw == 1);
	if (ret < 0)
		return ret;
	atomic_fetch_add(&r->n_mo[kw], 1);
	return kw == 1 ? SMSR_MO_OPT_OUT : SMSR_MO_OPT_IN;
}

int smsr_router_inject_mo(struct smsr_router *r, const char *from, const char *to, const char *text,
			  int channel)
{
	(void)to;
	if (!r || !from || !text || channel < -1 || (channel >= 0 && (size_t)channel >= r->nchans))
		return -SMSR_EINVAL;
	return handle_mo(r, from, text, strlen(text), false);
}

int smsr_chan_mo(struct smsr_chan *c, const char *from, const char *to, const char *text,
		 size_t len)
{
	(void)to;
	if (!c || !from || (!text && len))
		return -SMSR_EINVAL;
	return handle_mo(c->worker->r, from, text ? text : "", len, true);
}
