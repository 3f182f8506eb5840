/* SPDX-License-Identifier: MIT */
/*
 * The "sim" channel driver: glue between the router's driver interface
 * (smsr/channel.h) and the simulated carrier model (chan_sim.h).
 *
 * The model only queues reports; this file hands them to the router. It
 * drains every due report right inside submit(), so in the default
 * (zero-latency) configuration the answer and delivery report reach the
 * router before submit() returns and no timer is ever armed — that is the
 * path the throughput benchmarks measure. It also tracks the link state it
 * last reported, so the router hears of each up/down transition of the
 * fault schedule exactly once. Kept apart from the model so the model's
 * unit tests link without the router.
 */
#include <stdlib.h>

#include "chan_sim.h"
#include "base/clock.h"

#define DRAIN_BATCH 16

struct sim_drv {
	struct smsr__sim *sim;
	struct smsr_chan *chan; /* lent by the router until close() */
	bool up;		/* last state told to the router */
	bool draining;		/* drain() is running: see there */
};

/* Tell the router if the simulated link went up or down since last told. */
static void sync_link(struct sim_drv *d, uint64_t now)
{
	bool up = smsr__sim_up(d->sim, now);

	if (up == d->up)
		return;
	d->up = up;
	smsr_chan_set_up(d->chan, up, up ? 0 : -SMSR_ECHANDOWN);
}

/*
 * Hand every report due at @now to the router, in (due, submit) order. They
 * are taken a few at a time and their records prefetched first: a report
 * comes tens of milliseconds after its submit, when its record has long
 * left this core's cache, and the misses overlap instead of queueing.
 * Not re-entered (a router callback that submits again): reports taken and
 * not yet handed on must not be overtaken by later ones; what the inner
 * submit makes due is handed on by this loop.
 */
static void drain(struct sim_drv *d, uint64_t now)
{
	struct smsr__sim_report rep[DRAIN_BATCH];
	int n;

	if (d->draining)
		return;
	d->draining = true;
	do {
		for (n = 0; n < DRAIN_BATCH && smsr__sim_next(d->sim, now, &rep[n]); n++)
			smsr_chan_prefetch(d->chan, rep[n].token);
		for (int i = 0; i < n; i++) {
			if (rep[i].kind == SMSR__SIM_SUBMIT_RESP)
				smsr_chan_submit_done(d->chan, rep[i].token, rep[i].status,
						      rep[i].op_code,
						      rep[i].status == 0 ? rep[i].msgid : NULL);
			else
				smsr_chan_dlr(d->chan, rep[i].token, rep[i].status, rep[i].op_code);
		}
	} while (n > 0);
	d->draining = false;
}

static int sim_open(struct smsr_chan *chan, const struct smsr_param *params, size_t nparams,
		    uint64_t seed, void **state)
{
	struct sim_drv *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return -SMSR_ENOMEM;
	rc = smsr__sim_create(&d->sim, params, nparams, seed);
	if (rc < 0) {
		free(d);
		return rc;
	}
	d->chan = chan;
	/* Anchors the fault schedule: fault_at_ms counts from open. */
	d->up = smsr__sim_up(d->sim, smsr__now_ns());
	smsr_chan_set_up(chan, d->up, d->up ? 0 : -SMSR_ECHANDOWN);
	*state = d;
	return 0;
}

/*
 * Submits @sub (lent for the call) and reports whatever is due now, this
 * submit's answer included when the latency is zero. A refused submit is
 * how a fault that began between polls shows first, so tell the router the
 * link is down before returning.
 */
static int sim_submit(void *state, const struct smsr_submit *sub, uint64_t now_ns)
{
	struct sim_drv *d = state;
	int rc = smsr__sim_submit(d->sim, sub->token, now_ns);

	if (__builtin_expect(rc < 0, 0)) {
		sync_link(d, now_ns);
		return rc;
	}
	drain(d, now_ns);
	return 0;
}

static uint64_t sim_poll(void *state, uint64_t now_ns)
{
	struct sim_drv *d = state;

	/* Link first: the router learns the link fell before the failed answers. */
	sync_link(d, now_ns);
	drain(d, now_ns);
	return smsr__sim_deadline(d->sim);
}

/* Runs on the worker thread, so it may report a link change right away. */
static int sim_ctl(void *state, const char *key, const char *value)
{
	struct sim_drv *d = state;
	uint64_t now = smsr__now_ns();
	int rc = smsr__sim_ctl(d->sim, key, value, now);

	if (rc == 0)
		sync_link(d, now);
	return rc;
}

static void sim_close(void *state)
{
	struct sim_drv *d = state;

	if (!d)
		return;
	smsr__sim_destroy(d->sim);
	free(d);
}

static const struct smsr_driver sim_driver = {
    .name = "sim",
    .open = sim_open,
    .submit = sim_submit,
    .poll = sim_poll,
    .ctl = sim_ctl,
    .close = sim_close,
};

const struct smsr_driver *smsr_driver_sim(void)
{
	return &sim_driver;
}
