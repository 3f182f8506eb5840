/* SPDX-License-Identifier: MIT */
/*
 * Hot reconfiguration: channels added and whole configurations reloaded
 * while traffic flows.
 *
 * Adding a channel opens it on the calling thread (nobody else can see it
 * yet), makes it visible (nchans grows by one, published with a release
 * store; the arrays never move) and hands it to the least loaded worker.
 * Routes only reach it once a snapshot names it.
 *
 * A reload is checked whole before anything changes: the document parses,
 * its router settings equal the running ones (memory_budget aside: it
 * changes in place), every channel's driver exists. Then, in this order:
 * channels new by name are added; channels whose settings changed beyond
 * rate and price are replaced (a new channel under the same name is added
 * now, the old one removed below, so its queue can move onto its
 * successor); rate and price change in place; the routes and carrier
 * tables are swapped in one snapshot; channels no longer named are removed
 * (their queues move to the other channels of their routes). If adding a
 * channel fails, the ones added so far are removed again and the running
 * configuration stays.
 */
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "router_int.h"

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Write the reason to @err (may be NULL) and return @ret. */
static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int find_live(struct smsr_router *r, const char *name)
{
	for (size_t i = 0; i < r->nchans; i++)
		if (strcmp(r->chans[i].cfg->name, name) == 0 &&
		    atomic_load(&r->chans[i].state) != SMSR_CHAN_REMOVED)
			return (int)i;
	return -1;
}

static struct smsr__worker *least_loaded(struct smsr_router *r)
{
	struct smsr__worker *best = &r->workers[0];
	size_t n[SMSR__WORKERS_MAX] = {0};

	for (size_t i = 0; i < r->nchans; i++)
		if (atomic_load(&r->chans[i].state) != SMSR_CHAN_REMOVED)
			n[r->chans[i].worker->index]++;
	for (unsigned w = 1; w < r->nworkers; w++)
		if (n[w] < n[best->index])
			best = &r->workers[w];
	return best;
}

/* Add @cc (its params taken over, even on failure). Caller holds admin_lock. */
static int add_locked(struct smsr_router *r, struct smsr__chan_cfg *cc)
{
	size_t i = r->nchans;
	struct smsr_chan *c = &r->chans[i];
	struct smsr__ctl *ctl;
	int ret;

	if (i >= SMSR__CHANS_MAX) {
		smsr__cfg_chan_free(cc);
		return -SMSR_ENOMEM;
	}
	r->cfg.chans[i] = *cc;
	r->cfg.nchans = i + 1;
	ret = smsr__chan_init(r, i);
	if (ret == 0) {
		c->worker = least_loaded(r);
		if (atomic_load(&r->running))
			ret = smsr__chan_open(r, c, smsr__now_ns());
	}
	ctl = calloc(1, sizeof(*ctl));
	if (ret == 0 && !ctl)
		ret = -SMSR_ENOMEM;
	if (ret < 0) {
		free(ctl);
		smsr__chan_close(c);
		smsr__cfg_chan_free(&r->cfg.chans[i]);
		memset(c, 0, sizeof(*c));
		memset(&r->cfg.chans[i], 0, sizeof(r->cfg.chans[i]));
		r->cfg.nchans = i;
		return ret;
	}
	atomic_store_explicit(&r->nchans, i + 1, memory_order_release);
	if (!atomic_load(&r->running)) {
		free(ctl);
		c->worker->chans[c->worker->nchans++] = c; /* no thread owns it yet */
		return (int)i;
	}
	ctl->op = SMSR__CTL_ADD;
	ctl->chan = (uint32_t)i;
	while (smsr__worker_ctl(c->worker, ctl) < 0) /* a full control ring drains fast */
		sched_yield();
	return (int)i;
}

static int publish(struct smsr_router *r)
{
	struct smsr__snapshot *snap;
	int ret = smsr__snap_build(r, &snap);

	if (ret == 0)
		smsr__snap_publish(r, snap);
	return ret;
}

int smsr_router_channel_add(struct smsr_router *r, const char *text, char *err, size_t errlen)
{
	struct smsr__chan_cfg cc;
	int ret;

	if (!r || !text)
		return -SMSR_EINVAL;
	ret = smsr__cfg_parse_channel(text, &cc, err, errlen);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&r->admin_lock);
	if (r->stopped)
		ret = fail(err, errlen, -SMSR_ESTATE, "the router is stopped");
	else if (find_live(r, cc.name) >= 0)
		ret = fail(err, errlen, -SMSR_EEXIST, "a channel named %s exists", cc.name);
	else if (!smsr__find_driver(r, cc.driver))
		ret = fail(err, errlen, -SMSR_ENODRIVER, "no channel driver named %s", cc.driver);
	if (ret < 0) {
		smsr__cfg_chan_free(&cc);
	} else {
		ret = add_locked(r, &cc);
		if (ret >= 0 && publish(r) < 0)
			ret = -SMSR_ENOMEM;
		if (ret < 0)
			fail(err, errlen, ret, "could not open the channel: %s", smsr_errname(ret));
	}
	pthread_mutex_unlock(&r->admin_lock);
	return ret;
}

static bool params_equal(const struct smsr__chan_cfg *a, const struct smsr__chan_cfg *b)
{
	if (a->nparams != b->nparams)
		return false;
	for (size_t i = 0; i < a->nparams; i++)
		if (strcmp(a->params[i].key, b->params[i].key) ||
		    strcmp(a->params[i].value, b->params[i].value))
			return false;
	return true;
}

/* Same channel but for what changes in place (rate, price)? */
static bool same_but_rate(const struct smsr__chan_cfg *a, const struct smsr__chan_cfg *b)
{
	bool tps_moved = a->tps != b->tps; /* burst and reserve defaults follow tps */

	return !strcmp(a->name, b->name) && !strcmp(a->driver, b->driver) &&
	       a->carriers == b->carriers && a->classes == b->classes && a->window == b->window &&
	       a->v_window == b->v_window && (a->burst == b->burst || tps_moved) &&
	       (a->v_tokens == b->v_tokens || tps_moved) &&
	       !memcmp(a->weight, b->weight, sizeof(a->weight)) &&
	       !memcmp(a->lane_cap, b->lane_cap, sizeof(a->lane_cap)) &&
	       a->dlr_timeout_ms == b->dlr_timeout_ms &&
	       a->submit_timeout_ms == b->submit_timeout_ms && params_equal(a, b);
}

static int check_router(const struct smsr_config *a, const struct smsr_config *b, char *err,
			size_t errlen)
{
	static const char fmt[] = "router.%s: changes need a restart (reload changes channels, "
				  "routes and carriers)";

	if (a->node_id != b->node_id)
		return fail(err, errlen, -SMSR_ECONFIG, fmt, "node_id");
	if (a->workers != b->workers)
		return fail(err, errlen, -SMSR_ECONFIG, fmt, "workers");
	if (memcmp(a->validity_ms, b->validity_ms, sizeof(a->validity_ms)))
		return fail(err, errlen, -SMSR_ECONFIG, fmt, "validity");
	if (memcmp(&a->health, &b->health, sizeof(a->health)))
		return fail(err, errlen, -SMSR_ECONFIG, fmt, "health");
	if (a->max_attempts != b->max_attempts || a->retry_backoff_ms != b->retry_backoff_ms ||
	    a->resend_classes != b->resend_classes ||
	    a->resend_undelivered != b->resend_undelivered)
		return fail(err, errlen, -SMSR_ECONFIG, fmt, "retry");
	return 0;
}

/* The new routes, carriers, prefixes, with channel indexes mapped to ours. */
static int take_tables(struct smsr_router *r, const struct smsr_config *nc, const int *map)
{
	struct smsr__route_cfg *routes = malloc(nc->nroutes * sizeof(*routes));
	struct smsr__carrier_entry *pre = NULL, *por = NULL;

	if (nc->nprefixes)
		pre = malloc(nc->nprefixes * sizeof(*pre));
	if (nc->nported)
		por = malloc(nc->nported * sizeof(*por));
	if (!routes || (nc->nprefixes && !pre) || (nc->nported && !por)) {
		free(routes);
		free(pre);
		free(por);
		return -SMSR_ENOMEM;
	}
	memcpy(routes, nc->routes, nc->nroutes * sizeof(*routes));
	for (size_t i = 0; i < nc->nroutes; i++)
		for (uint32_t g = 0; g < routes[i].ngroups; g++)
			for (uint32_t k = 0; k < routes[i].groups[g].n; k++)
				routes[i].groups[g].chan[k] =
				    (uint32_t)map[routes[i].groups[g].chan[k]];
	if (pre)
		memcpy(pre, nc->prefixes, nc->nprefixes * sizeof(*pre));
	if (por)
		memcpy(por, nc->ported, nc->nported * sizeof(*por));
	free(r->cfg.routes);
	free(r->cfg.prefixes);
	free(r->cfg.ported);
	r->cfg.routes = routes;
	r->cfg.nroutes = nc->nroutes;
	r->cfg.prefixes = pre;
	r->cfg.nprefixes = nc->nprefixes;
	r->cfg.ported = por;
	r->cfg.nported = nc->nported;
	return 0;
}

/* Undo the channels added by a reload that failed half-way. */
static void roll_back(struct smsr_router *r, size_t first)
{
	for (size_t i = first; i < r->nchans; i++)
		smsr_router_channel_remove(r, (int)i);
}

static int apply(struct smsr_router *r, const struct smsr_config *nc, int *map, char *err,
		 size_t errlen)
{
	size_t first_new = r->nchans;
	int ret;

	for (size_t i = 0; i < nc->nchans; i++) {
		int old = find_live(r, nc->chans[i].name);
		struct smsr__chan_cfg cc;

		map[i] = old;
		if (old >= 0 && same_but_rate(r->chans[old].cfg, &nc->chans[i]))
			continue;
		ret = smsr__cfg_chan_copy(&cc, &nc->chans[i]);
		if (ret == 0)
			ret = add_locked(r, &cc);
		if (ret < 0) {
			roll_back(r, first_new);
			return fail(err, errlen, ret, "channel %s could not be opened",
				    nc->chans[i].name);
		}
		map[i] = ret;
	}
	ret = take_tables(r, nc, map);
	if (ret == 0)
		ret = publish(r);
	if (ret < 0) {
		roll_back(r, first_new);
		return fail(err, errlen, ret, "out of memory");
	}
	return 0;
}

int smsr_router_reload(struct smsr_router *r, const struct smsr_config *nc, char *err,
		       size_t errlen)
{
	bool keep[SMSR__CHANS_MAX] = {0};
	size_t before;
	int *map, ret;

	if (err && errlen)
		err[0] = '\0';
	if (!r || !nc || nc->nchans == 0 || nc->nroutes == 0)
		return -SMSR_EINVAL;
	for (size_t i = 0; i < nc->nchans; i++)
		if (!smsr__find_driver(r, nc->chans[i].driver))
			return fail(err, errlen, -SMSR_ENODRIVER, "no channel driver named %s",
				    nc->chans[i].driver);
	map = calloc(nc->nchans, sizeof(*map));
	if (!map)
		return -SMSR_ENOMEM;
	pthread_mutex_lock(&r->admin_lock);
	before = r->nchans;
	ret = r->stopped ? fail(err, errlen, -SMSR_ESTATE, "the router is stopped")
			 : check_router(&r->cfg, nc, err, errlen);
	if (ret == 0 && before + nc->nchans > SMSR__CHANS_MAX)
		ret =
		    fail(err, errlen, -SMSR_ECONFIG,
			 "too many channels over the router's life (at most %d)", SMSR__CHANS_MAX);
	if (ret == 0 && nc->memory_budget < r->mem_reserve + SMSR__BUDGET_MIN)
		ret =
		    fail(err, errlen, -SMSR_ECONFIG,
			 "router.memory_budget: %llu bytes leave less than 1MB for messages (the "
			 "host holds %llu of it)",
			 (unsigned long long)nc->memory_budget, (unsigned long long)r->mem_reserve);
	if (ret == 0)
		ret = apply(r, nc, map, err, errlen);
	if (ret == 0) {
		for (size_t i = 0; i < nc->nchans; i++) {
			struct smsr_chan *c = &r->chans[map[i]];

			keep[map[i]] = true;
			r->cfg.chans[map[i]].price = nc->chans[i].price;
			atomic_store_explicit(&c->price, nc->chans[i].price, memory_order_relaxed);
			if (atomic_load(&c->tps) != nc->chans[i].tps)
				smsr_router_channel_set_rate(r, map[i], nc->chans[i].tps);
		}
		/* In place: a smaller budget refuses new messages until enough
		 * have ended; nothing held is dropped. */
		r->cfg.memory_budget = nc->memory_budget;
		smsr__mem_set_budget(r, nc->memory_budget);
		for (size_t i = 0; i < before; i++)
			if (!keep[i] && atomic_load(&r->chans[i].state) != SMSR_CHAN_REMOVED)
				smsr_router_channel_remove(r, (int)i);
	}
	pthread_mutex_unlock(&r->admin_lock);
	free(map);
	return ret;
}
