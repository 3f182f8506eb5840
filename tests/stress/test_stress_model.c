/* SPDX-License-Identifier: MIT */
/*
 * Description: a reference-model stress test of the router, through the
 * public API only. Each iteration builds a router from a random small
 * configuration (2-5 sim channels, 1-2 workers, route groups so messages
 * have alternatives, some channels with small rates, windows and lane caps
 * so queues build), starts it, and lets 2-4 submitter threads send mixed
 * traffic (all classes, explicit and auto, single and batch submits, and
 * invalid input that must be rejected with its reason) while a controller
 * thread removes, adds, pauses, drains, resumes channels, reloads generated
 * configurations, changes rates and weights, and turns sim faults on and
 * off. The host's ACCEPTED callback now and then takes a little while, as
 * a real host's does, which widens the windows between a message's routing
 * and its hand-off to a worker. A model built from the events, per
 * message, then checks: every accepted message has exactly one final event
 * and nothing after it, in an order the API allows (QUEUED first, on the
 * channel the submit named; SUBMITTED right after HANDOFF, DELIVERED right
 * after SUBMITTED), every rejected one exactly its REJECTED event with its
 * reason (each invalid input has exactly one), no event names an id never
 * accepted; no message expires still queued on a channel removed well
 * before (removal moves it on or fails it no_channel); the counters balance
 * against the model; once drained nothing stays queued on a removed channel;
 * what a stop finds still held ends router_stopped, and only then. Three
 * iterations in four drain and then stop, one in four stops at once; half
 * use validity of seconds, half the defaults, so a message that should have
 * moved and did not stays visibly not final. Parts: stress.h,
 * stress_traffic.c (submitters), stress_ctl.c (configurations, controller).
 *
 * Iteration k's randomness (configuration, traffic, operations) derives
 * from (seed, k) alone, so a failure is rerun with
 *   test_stress_model --seed S --first K --iterations 1
 * (thread interleavings differ between runs, so a rerun may need a few
 * tries: --repeat N reruns each iteration N times). The seed is printed at
 * the start and in every failure report, with the controller's last
 * operations and the offending messages' event sequences.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "stress.h"

struct stress_opts stress_opt = {.iterations = 3, .repeat = 1, .drain_ms = 10000};

static const int kind_reason[K_COUNT] = {
    0,
    -SMSR_EBADNUMBER,
    -SMSR_EBADUTF8,
    -SMSR_EEMPTY,
    -SMSR_ETOOLONG,
    -SMSR_EBADCLASS,
    -SMSR_EBADVALIDITY,
    -SMSR_EBADREF,
    -SMSR_EBADSENDER,
    -SMSR_EBADTAGS,
    -SMSR_EINVAL,
};

/* --- the model: what the events say about each message ----------------- */

/* The slot an event names by its client reference (our slot number). */
static long ref_slot(const char *ref)
{
	char *end;
	unsigned long v;

	if (!ref || ref[0] < '0' || ref[0] > '9')
		return -1;
	v = strtoul(ref, &end, 10);
	return v < NSLOTS ? (long)v : -1;
}

static void note_orphan(struct model *m, const struct smsr_event *ev, uint32_t t)
{
	pthread_mutex_lock(&m->lock);
	if (m->norphans < 8) {
		m->orphan_id[m->norphans] = ev->id;
		m->orphan[m->norphans] = (struct evcell){.t_us = t,
							 .type = ev->type,
							 .attempt = ev->attempt,
							 .chan = (int16_t)ev->channel,
							 .reason = ev->reason};
	}
	m->norphans++;
	pthread_mutex_unlock(&m->lock);
}

static bool is_final(unsigned type)
{
	return type == SMSR_EV_DELIVERED || type == SMSR_EV_FAILED || type == SMSR_EV_EXPIRED;
}

static void record(struct model *m, struct slot *s, long si, const struct smsr_event *ev,
		   uint32_t t)
{
	struct evcell *c = &s->ev[s->nev < EV_KEEP ? s->nev : EV_KEEP - 1];

	if (ev->type == SMSR_EV_ACCEPTED) {
		if (ev->tag_out)
			*ev->tag_out = (uint64_t)si + 1;
		else
			s->bad_ctx++;
		s->ev_id = ev->id;
		s->n_acc++;
		if (tls_sub != s->owner || !atomic_load(&s->in_call))
			s->bad_ctx++;
	} else if (ev->type == SMSR_EV_REJECTED) {
		s->n_rej++;
		s->rej_reason = ev->reason;
		if (tls_sub != s->owner || !atomic_load(&s->in_call) || ev->id != 0)
			s->bad_ctx++;
	} else if (ev->id != s->ev_id || (ev->client_ref && ref_slot(ev->client_ref) != si)) {
		s->bad_id++;
	}
	*c = (struct evcell){.t_us = t,
			     .type = ev->type,
			     .attempt = ev->attempt,
			     .chan = (int16_t)ev->channel,
			     .reason = ev->reason};
	s->before_last = s->last;
	s->last = *c;
	if (s->nev < UINT16_MAX)
		s->nev++;
	if (is_final(ev->type)) {
		if (s->n_final++ == 0) {
			s->final_type = ev->type;
			s->final_reason = ev->reason;
			s->final_us = t;
		}
		atomic_fetch_add(&m->finals, 1);
		if (ev->reason == -SMSR_ESTOPPED)
			atomic_fetch_add(&m->stopped_finals, 1);
	} else if (s->n_final) {
		s->n_after++;
	}
}

/*
 * A host's ACCEPTED callback does some work of its own (a status store, a
 * log line): now and then this one yields or spins a little, on the
 * submitting thread, between the router's admission of the message and its
 * hand-off to the worker. That widens exactly the windows in which a
 * channel may change under a message already routed to it. Decided by the
 * slot number, so a rerun does the same.
 */
static void host_work(long si)
{
	uint64_t h = mix64((uint64_t)si * 0x9e3779b97f4a7c15ull), until;

	if (h % 100 >= 4)
		return;
	if (h % 2) {
		sched_yield();
		return;
	}
	until = test_now_ns() + 10000 + (h >> 32) % 90000;
	while (test_now_ns() < until)
		;
}

static void on_event(void *arg, const struct smsr_event *ev)
{
	struct model *m = arg;
	uint32_t t = since_us(m);
	long si;
	struct slot *s;

	if (ev->type < SMSR_EV_COUNT)
		atomic_fetch_add(&m->by_type[ev->type], 1);
	if (ev->type == SMSR_EV_CHANNEL) {
		pthread_mutex_lock(&m->lock);
		m->chev[m->nchev++ % RING] = (struct chev){
		    .t_us = t, .chan = ev->channel, .reason = ev->reason, .state = ev->chan_state};
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (ev->type == SMSR_EV_ACCEPTED || ev->type == SMSR_EV_REJECTED)
		si = ref_slot(ev->client_ref);
	else
		si = ev->tag && ev->tag <= NSLOTS ? (long)ev->tag - 1 : -1;
	if (si < 0) {
		note_orphan(m, ev, t);
		return;
	}
	s = &m->slots[si];
	while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire))
		;
	record(m, s, si, ev, t);
	atomic_flag_clear_explicit(&s->lock, memory_order_release);
	if (ev->type == SMSR_EV_ACCEPTED)
		host_work(si);
}

void problem(struct iter *it, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&it->err_lock);
	if (it->nerr < ERR_MAX) {
		va_start(ap, fmt);
		vsnprintf(it->errs[it->nerr], sizeof(it->errs[0]), fmt, ap);
		va_end(ap);
	}
	it->nerr++;
	pthread_mutex_unlock(&it->err_lock);
}

void show_slot(struct iter *it, long si)
{
	bool seen = false;

	pthread_mutex_lock(&it->err_lock);
	for (unsigned i = 0; i < it->nshow; i++)
		seen |= it->show[i] == si;
	if (!seen && it->nshow < SHOW_MAX)
		it->show[it->nshow++] = si;
	pthread_mutex_unlock(&it->err_lock);
}

/* --- checks ------------------------------------------------------------- */

static bool allowed_rejection(const struct slot *s)
{
	if (s->kind != K_VALID)
		return s->status == kind_reason[s->kind];
	return s->status == -SMSR_EBUSY || s->status == -SMSR_ENOCHANNEL ||
	       (s->status == -SMSR_EOPTEDOUT && s->to_optout &&
		(!s->res_known || s->res_cls == SMSR_CLASS_MARKETING));
}

/* The order of one accepted message's events. NULL if fine. */
static const char *sequence_error(const struct iter *it, const struct slot *s)
{
	unsigned n = s->nev < EV_KEEP ? s->nev : EV_KEEP;

	if (s->ev[0].type != SMSR_EV_ACCEPTED)
		return "first event is not ACCEPTED";
	if (n > 1 && !is_final(s->ev[1].type) && s->ev[1].type != SMSR_EV_QUEUED)
		return "second event is neither QUEUED nor final";
	if (n > 1 && s->ev[1].type == SMSR_EV_QUEUED && s->res_known &&
	    s->ev[1].chan != s->res_chan)
		return "first QUEUED names another channel than the submit result";
	if (s->nev > EV_KEEP)
		return NULL; /* the middle was not kept */
	for (unsigned i = 1; i < n; i++) {
		unsigned t = s->ev[i].type, prev = s->ev[i - 1].type;

		if (t == SMSR_EV_ACCEPTED || t == SMSR_EV_REJECTED)
			return "ACCEPTED or REJECTED after acceptance";
		if (t == SMSR_EV_SUBMITTED && prev != SMSR_EV_HANDOFF)
			return "SUBMITTED not right after HANDOFF";
		if (t == SMSR_EV_DELIVERED && prev != SMSR_EV_SUBMITTED)
			return "DELIVERED not right after SUBMITTED";
		if (s->ev[i].attempt < s->ev[i - 1].attempt || s->ev[i].attempt > it->max_attempts)
			return "attempt number goes back or beyond max_attempts";
	}
	return NULL;
}

/*
 * Expired in the lane of a channel removed long before: removal moves a
 * lane's messages on (or fails them no_channel) at once, so one that sat
 * there until its validity ended was never seen again after it arrived —
 * as a message handed to the channel's worker after the channel closed
 * was before the fix in router_worker.c's run_channels. (In a retry queue
 * a message keeps its last channel, but its last event then is no QUEUED.)
 */
#define STRANDED_GRACE_US 500000u

static bool stranded(const struct iter *it, const struct slot *s)
{
	int ch = s->before_last.chan;

	return s->final_type == SMSR_EV_EXPIRED && s->before_last.type == SMSR_EV_QUEUED &&
	       s->last.chan == ch && ch >= 0 && ch < CH_MAX && it->ctl.dead[ch] &&
	       s->last.t_us > it->ctl.dead_us[ch] + STRANDED_GRACE_US;
}

static const char *accepted_error(const struct iter *it, const struct slot *s)
{
	uint64_t stop = atomic_load(&it->m.t_stop_us);

	if (s->n_acc != 1)
		return s->n_acc ? "ACCEPTED more than once" : "accepted without an ACCEPTED event";
	if (s->n_rej)
		return "accepted and REJECTED";
	if (s->kind != K_VALID)
		return "invalid input was accepted";
	if (s->res_known && (s->res_id != s->ev_id || s->res_id == 0))
		return "submit result id differs from the ACCEPTED event's";
	if (s->res_known && s->req_cls && s->res_cls != s->req_cls)
		return "explicit class not kept";
	if (s->res_known && s->ev[0].type == SMSR_EV_ACCEPTED && s->res_chan != s->ev[0].chan)
		return "ACCEPTED names another channel than the submit result";
	if (s->bad_ctx)
		return "ACCEPTED not on the submitting thread during its call";
	if (s->bad_id)
		return "an event's id or client_ref does not match the message";
	if (s->n_final == 0)
		return "never final";
	if (s->n_final > 1)
		return "more than one final event";
	if (s->n_after)
		return "events after the final one";
	if (s->final_type == SMSR_EV_EXPIRED && s->final_reason != -SMSR_EEXPIRED)
		return "EXPIRED with a reason other than expired";
	if (s->final_type == SMSR_EV_FAILED && s->final_reason >= 0)
		return "FAILED without a reason";
	if (s->final_reason == -SMSR_ESTOPPED && (!stop || s->final_us < stop))
		return "router_stopped before the stop";
	if (stranded(it, s))
		return "expired queued on a channel removed well before";
	return sequence_error(it, s);
}

static const char *rejected_error(const struct slot *s)
{
	if (!allowed_rejection(s))
		return s->kind == K_VALID ? "valid input rejected for a reason it must not be"
					  : "invalid input rejected with the wrong reason";
	if (s->n_rej != 1)
		return s->n_rej ? "REJECTED more than once" : "rejected without a REJECTED event";
	if (s->rej_reason != s->status)
		return "REJECTED event's reason differs from the result";
	if (s->n_acc || s->nev != 1)
		return "events besides REJECTED for a rejected message";
	if (s->bad_ctx)
		return "REJECTED not on the submitting thread during its call";
	if (s->res_known && s->res_id != 0)
		return "rejected with an id";
	return NULL;
}

/* Per message, after the stop: every worker has finished. */
static void check_slots(struct iter *it, struct smsr_stats *mine)
{
	memset(mine, 0, sizeof(*mine));
	for (unsigned t = 0; t < it->nsubs; t++)
		for (unsigned i = 0; i < it->subs[t].used; i++) {
			long si = (long)t * SUB_SLOTS + i;
			const struct slot *s = &it->m.slots[si];
			const char *why;

			if (!s->called) {
				problem(it, "slot %ld was never submitted (test bug)", si);
				continue;
			}
			mine->submitted++;
			if (s->status == 0) {
				mine->accepted++;
				if (s->res_known && s->res_cls >= 1 && s->res_cls <= 3)
					mine->by_class[s->res_cls - 1]++;
				else
					mine->mo_received++; /* here: accepted, class unknown */
				why = accepted_error(it, s);
			} else {
				int k = -s->status - SMSR_EINVAL;

				mine->rejected++;
				if (k >= 0 && k < SMSR_REASONS_MAX)
					mine->rejected_by_reason[k]++;
				why = rejected_error(s);
			}
			if (why) {
				problem(it, "slot %ld id %llu: %s", si,
					(unsigned long long)s->ev_id, why);
				show_slot(it, si);
			}
		}
	if (it->m.norphans)
		problem(it, "%llu event(s) for messages never accepted",
			(unsigned long long)it->m.norphans);
}

#define EQ(it, what, a, b)                                                                    \
	do {                                                                                  \
		if ((uint64_t)(a) != (uint64_t)(b))                                           \
			problem(it, "%s: %llu, expected %llu", what, (unsigned long long)(a), \
				(unsigned long long)(b));                                     \
	} while (0)

/* The router's counters against the model's, after the stop. */
static void check_stats(struct iter *it, const struct smsr_stats *mine)
{
	struct smsr_channel_info ci[CH_MAX];
	struct smsr_stats st;
	uint64_t d = 0, f = 0, e = 0, acc_by_class = 0;
	int n = smsr_router_channels(it->r, ci, CH_MAX);

	smsr_router_stats(it->r, &st);
	EQ(it, "stats.submitted", st.submitted, mine->submitted);
	EQ(it, "stats.accepted", st.accepted, mine->accepted);
	EQ(it, "stats.rejected", st.rejected, mine->rejected);
	for (int k = 0; k < SMSR_REASONS_MAX; k++)
		if (st.rejected_by_reason[k] != mine->rejected_by_reason[k])
			problem(it, "stats.rejected_by_reason[%s]: %llu, the model says %llu",
				smsr_errname(-(SMSR_EINVAL + k)),
				(unsigned long long)st.rejected_by_reason[k],
				(unsigned long long)mine->rejected_by_reason[k]);
	for (int k = 0; k < SMSR_NCLASS; k++) {
		acc_by_class += st.by_class[k];
		if (!mine->mo_received && st.by_class[k] != mine->by_class[k])
			problem(it, "stats.by_class[%s]: %llu, the model says %llu",
				smsr_class_name((enum smsr_class)(k + 1)),
				(unsigned long long)st.by_class[k],
				(unsigned long long)mine->by_class[k]);
	}
	EQ(it, "sum of stats.by_class", acc_by_class, st.accepted);
	EQ(it, "stats.delivered", st.delivered, atomic_load(&it->m.by_type[SMSR_EV_DELIVERED]));
	EQ(it, "stats.failed", st.failed, atomic_load(&it->m.by_type[SMSR_EV_FAILED]));
	EQ(it, "stats.expired", st.expired, atomic_load(&it->m.by_type[SMSR_EV_EXPIRED]));
	EQ(it, "delivered + failed + expired after the stop", st.delivered + st.failed + st.expired,
	   st.accepted);
	EQ(it, "stats.queued_now after the stop", st.queued_now, 0);
	EQ(it, "stats.inflight_now after the stop", st.inflight_now, 0);
	EQ(it, "stats.retrying_now after the stop", st.retrying_now, 0);
	for (int i = 0; i < n && i < CH_MAX; i++) {
		d += ci[i].delivered;
		f += ci[i].failed;
		e += ci[i].expired;
	}
	EQ(it, "sum of channels' delivered", d, st.delivered);
	EQ(it, "sum of channels' failed", f, st.failed);
	EQ(it, "sum of channels' expired", e, st.expired);
}

/*
 * Drained, before the stop: every accepted message is final, the counters
 * say nothing is held, and no channel, removed ones least of all, holds
 * anything. The counters trail the events by a little: retried briefly.
 */
static void check_drained(struct iter *it, uint64_t accepted)
{
	struct smsr_channel_info ci[CH_MAX];
	struct smsr_stats st;
	int n = 0;

	for (int tries = 0; tries < 100; tries++) {
		smsr_router_stats(it->r, &st);
		if (st.delivered + st.failed + st.expired == accepted && !st.queued_now &&
		    !st.inflight_now && !st.retrying_now)
			break;
		sleep_ms(10);
	}
	EQ(it, "stats.accepted when drained", st.accepted, accepted);
	EQ(it, "delivered + failed + expired when drained", st.delivered + st.failed + st.expired,
	   accepted);
	EQ(it, "stats.queued_now when drained", st.queued_now, 0);
	EQ(it, "stats.inflight_now when drained", st.inflight_now, 0);
	EQ(it, "stats.retrying_now when drained", st.retrying_now, 0);
	n = smsr_router_channels(it->r, ci, CH_MAX);
	for (int i = 0; i < n && i < CH_MAX; i++) {
		uint64_t q = ci[i].queued[0] + ci[i].queued[1] + ci[i].queued[2];

		if (q ||
		    (ci[i].state == SMSR_CHAN_REMOVED && (ci[i].inflight || ci[i].awaiting_dlr)))
			problem(it,
				"channel %s(#%d), state %u, holds %llu queued, %u in flight, %u "
				"awaiting reports when drained",
				ci[i].name, i, ci[i].state, (unsigned long long)q, ci[i].inflight,
				ci[i].awaiting_dlr);
	}
}

/* Messages not final when the drain wait ended: shown in the report. */
static void note_unfinished(struct iter *it)
{
	unsigned n = 0;

	for (unsigned t = 0; t < it->nsubs; t++)
		for (unsigned i = 0; i < it->subs[t].used; i++) {
			long si = (long)t * SUB_SLOTS + i;
			struct slot *s = &it->m.slots[si];
			bool open;

			while (atomic_flag_test_and_set(&s->lock))
				;
			open = s->status == 0 && s->n_final == 0;
			atomic_flag_clear(&s->lock);
			if (open && n++ < SHOW_MAX)
				show_slot(it, si);
		}
	problem(it, "%u accepted message(s) not final %u ms after the traffic ended", n,
		stress_opt.drain_ms);
}

/* After the stop, nothing is accepted any more. */
static void check_stopped(struct iter *it)
{
	struct smsr_msg m = {.recipient = "13812345678", .text = "hi", .text_len = 2};
	struct smsr_result res;
	char err[128];
	int rc;

	rc = smsr_router_submit(it->r, &m, &res);
	EQ(it, "submit after the stop (-rc)", -rc, SMSR_ENOTRUNNING);
	rc = smsr_router_channel_add(it->r, "{ name = \"late\"; driver = \"sim\"; }", err,
				     sizeof(err));
	EQ(it, "channel_add after the stop (-rc)", -rc, SMSR_ESTATE);
}

/* --- the report ------------------------------------------------------------- */

/* To stderr, unbuffered by cmocka: a report can be longer than its buffer. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void print_slot(const struct iter *it, long si)
{
	const struct slot *s = &it->m.slots[si];
	unsigned n = s->nev < EV_KEEP ? s->nev : EV_KEEP;

	say("  slot %ld id %llu: kind %u class %u->%u submit %d (%s) channel %d, "
	    "%u event(s):\n",
	    si, (unsigned long long)s->ev_id, s->kind, s->req_cls, s->res_cls, s->status,
	    smsr_errname(s->status), s->res_chan, s->nev);
	for (unsigned i = 0; i < n; i++) {
		const struct evcell *c = &s->ev[i];

		say("    %s%8.3f ms %-9s chan %d attempt %u %s\n",
		    i == EV_KEEP - 1 && s->nev > EV_KEEP ? "... " : "", c->t_us / 1000.0,
		    smsr_event_name((enum smsr_event_type)c->type), c->chan, c->attempt,
		    c->reason ? smsr_errname(c->reason) : "");
	}
}

static void report(struct iter *it)
{
	struct ctl *c = &it->ctl;
	unsigned first;

	say("stress FAIL [seed=%llu iteration=%u]: %u problem(s); rerun: "
	    "test_stress_model --seed %llu --first %u --iterations 1\n",
	    (unsigned long long)stress_opt.seed, it->k, it->nerr,
	    (unsigned long long)stress_opt.seed, it->k);
	for (unsigned i = 0; i < it->nerr && i < ERR_MAX; i++)
		say("  [seed=%llu iteration=%u] %s\n", (unsigned long long)stress_opt.seed, it->k,
		    it->errs[i]);
	say("  %u worker(s), %u submitter(s), %u ms of traffic, %s; %llu accepted, %llu "
	    "rejected\n",
	    it->workers, it->nsubs, it->traffic_ms,
	    it->stop_early ? "stopped at once" : "drained, then stopped",
	    (unsigned long long)it->accepted, (unsigned long long)it->rejected);
	say("  initial configuration:\n%s", it->cfg0.buf);
	first = c->nlog > RING ? c->nlog - RING : 0;
	say("  controller: %u op(s), last %u:\n", c->nops, c->nlog - first);
	for (unsigned i = first; i < c->nlog; i++)
		say("    %8.3f ms %s\n", c->log[i % RING].t_us / 1000.0, c->log[i % RING].text);
	first = it->m.nchev > RING ? it->m.nchev - RING : 0;
	say("  channel events (last %u):\n", it->m.nchev - first);
	for (unsigned i = first; i < it->m.nchev; i++) {
		const struct chev *e = &it->m.chev[i % RING];

		say("    %8.3f ms #%d -> state %u %s\n", e->t_us / 1000.0, e->chan, e->state,
		    e->reason ? smsr_errname(e->reason) : "");
	}
	for (uint64_t i = 0; i < it->m.norphans && i < 8; i++)
		say("  orphan event: id %llu %s chan %d\n", (unsigned long long)it->m.orphan_id[i],
		    smsr_event_name((enum smsr_event_type)it->m.orphan[i].type),
		    it->m.orphan[i].chan);
	for (unsigned i = 0; i < it->nshow; i++)
		print_slot(it, it->show[i]);
}

/* --- one iteration ------------------------------------------------------ */

static void iter_config(struct iter *it)
{
	struct ctl *c = &it->ctl;
	const char *names[SET_MAX];
	unsigned n = 2 + below(&it->rng, 4);

	it->workers = 1 + below(&it->rng, 2);
	it->nsubs = 2 + below(&it->rng, 3);
	it->traffic_ms = stress_opt.traffic_ms ? stress_opt.traffic_ms : 100 + below(&it->rng, 201);
	it->stop_early = chance(&it->rng, 25);
	router_text(&it->router_block, &it->rng, it->workers, &it->max_attempts);
	sb_add(&it->cfg0, "%s", it->router_block.buf);
	sb_add(&it->cfg0, "channels = (\n");
	for (unsigned i = 0; i < n; i++) {
		struct cchan *ch = &c->ch[c->nch++];

		snprintf(ch->name, sizeof(ch->name), "c%u", i);
		spec_random(&it->rng, &ch->sp);
		ch->idx = (int)i;
		ch->live = true;
		names[i] = ch->name;
		sb_add(&it->cfg0, "  ");
		spec_text(&it->cfg0, ch->name, &ch->sp);
		sb_add(&it->cfg0, i + 1 < n ? ",\n" : " );\n");
	}
	routes_text(&it->cfg0, &it->rng, names, n);
}

static int iter_start(struct iter *it)
{
	struct smsr_router_opts o = {.on_event = on_event, .arg = &it->m};
	char err[256] = "";
	struct smsr_config *cfg = parse_cfg(it->cfg0.buf, err, sizeof(err));
	int rc;

	if (!cfg) {
		problem(it, "generated configuration does not parse: %s", err);
		return -1;
	}
	rc = smsr_router_create(&it->r, cfg, &o);
	smsr_config_destroy(cfg);
	if (rc == 0)
		rc = smsr_router_start(it->r);
	if (rc != 0) {
		problem(it, "router create/start: %d (%s)", rc, smsr_errname(rc));
		return -1;
	}
	return 0;
}

static void iter_traffic(struct iter *it)
{
	it->deadline_ns = test_now_ns() + (uint64_t)it->traffic_ms * 1000000u;
	for (unsigned t = 0; t < it->nsubs; t++) {
		it->subs[t] =
		    (struct sub){.it = it, .t = t, .rng = rng_for(stress_opt.seed, it->k, 1 + t)};
		pthread_create(&it->subs[t].th, NULL, submitter_main, &it->subs[t]);
	}
	it->ctl.it = it;
	it->ctl.rng = rng_for(stress_opt.seed, it->k, 100);
	pthread_create(&it->ctl.th, NULL, controller_main, &it->ctl);
	for (unsigned t = 0; t < it->nsubs; t++)
		pthread_join(it->subs[t].th, NULL);
	pthread_join(it->ctl.th, NULL);
}

static uint64_t accepted_so_far(struct iter *it)
{
	uint64_t n = 0;

	for (unsigned t = 0; t < it->nsubs; t++)
		for (unsigned i = 0; i < it->subs[t].used; i++)
			n += it->m.slots[(long)t * SUB_SLOTS + i].status == 0;
	return n;
}

/* Wait (bounded) for every accepted message's final event. */
static bool wait_finals(struct iter *it, uint64_t accepted)
{
	uint64_t t0 = test_now_ns(), limit = t0 + (uint64_t)stress_opt.drain_ms * 1000000u;

	while (atomic_load(&it->m.finals) < accepted && test_now_ns() < limit)
		sleep_ms(5);
	it->drain_us = (test_now_ns() - t0) / 1000;
	return atomic_load(&it->m.finals) >= accepted;
}

/* Run iteration @k; returns the number of problems found. */
static unsigned run_iteration(unsigned k, struct slot *slots)
{
	struct iter *it = calloc(1, sizeof(*it));
	struct smsr_stats mine;
	unsigned nerr;

	assert_non_null(it);
	memset(slots, 0, NSLOTS * sizeof(*slots));
	it->k = k;
	it->rng = rng_for(stress_opt.seed, k, 0);
	it->m.slots = slots;
	it->m.t0 = test_now_ns();
	pthread_mutex_init(&it->m.lock, NULL);
	pthread_mutex_init(&it->err_lock, NULL);
	iter_config(it);
	if (iter_start(it) == 0) {
		iter_traffic(it);
		it->accepted = accepted_so_far(it);
		if (!it->stop_early) {
			cleanup_channels(&it->ctl);
			if (wait_finals(it, it->accepted))
				check_drained(it, it->accepted);
			else
				note_unfinished(it);
		}
		atomic_store(&it->m.t_stop_us, since_us(&it->m));
		smsr_router_stop(it->r);
		check_stopped(it);
		check_slots(it, &mine);
		it->rejected = mine.rejected;
		check_stats(it, &mine);
	}
	if (stress_opt.verbose)
		print_message("iteration %u: %u chans %u workers %u subs %u ms, %llu accepted "
			      "%llu rejected, %llu stopped, %u ops, %s %.0f ms\n",
			      k, it->ctl.nch, it->workers, it->nsubs, it->traffic_ms,
			      (unsigned long long)it->accepted, (unsigned long long)it->rejected,
			      (unsigned long long)atomic_load(&it->m.stopped_finals), it->ctl.nops,
			      it->stop_early ? "stop" : "drain", it->drain_us / 1000.0);
	if (it->nerr)
		report(it);
	smsr_router_destroy(it->r);
	pthread_mutex_destroy(&it->m.lock);
	pthread_mutex_destroy(&it->err_lock);
	nerr = it->nerr;
	free(it);
	return nerr;
}

static void test_router_matches_the_model(void **state)
{
	struct slot *slots = calloc(NSLOTS, sizeof(*slots));
	unsigned failed = 0, done = 0;
	uint64_t t0 = test_now_ns(), worst = 0;

	(void)state;
	assert_non_null(slots);
	for (unsigned k = stress_opt.first; k < stress_opt.first + stress_opt.iterations; k++) {
		for (unsigned rep = 0; rep < stress_opt.repeat; rep++) {
			uint64_t t = test_now_ns();
			unsigned nerr = run_iteration(k, slots);

			t = test_now_ns() - t;
			worst = t > worst ? t : worst;
			done++;
			if (nerr) {
				failed++;
				if (!stress_opt.keep_going)
					break;
			}
		}
		if (failed && !stress_opt.keep_going)
			break;
	}
	free(slots);
	print_message("stress: seed %llu, iterations %u..%u: %u run, %u failed; %.1f s, %.0f ms "
		      "per iteration (worst %.0f ms)\n",
		      (unsigned long long)stress_opt.seed, stress_opt.first,
		      stress_opt.first + stress_opt.iterations - 1, done, failed,
		      (test_now_ns() - t0) / 1e9, done ? (test_now_ns() - t0) / 1e6 / done : 0.0,
		      worst / 1e6);
	if (failed)
		fail_msg("stress: %u of %u iteration(s) failed [seed=%llu]", failed, done,
			 (unsigned long long)stress_opt.seed);
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--keep-going")) {
			stress_opt.keep_going = true;
		} else if (!strcmp(a, "--verbose")) {
			stress_opt.verbose = true;
		} else if (v && !strcmp(a, "--seed")) {
			stress_opt.seed = strtoull(v, NULL, 0), i++;
		} else if (v && !strcmp(a, "--iterations")) {
			stress_opt.iterations = (unsigned)strtoul(v, NULL, 0), i++;
		} else if (v && !strcmp(a, "--first")) {
			stress_opt.first = (unsigned)strtoul(v, NULL, 0), i++;
		} else if (v && !strcmp(a, "--repeat")) {
			stress_opt.repeat = (unsigned)strtoul(v, NULL, 0), i++;
		} else if (v && !strcmp(a, "--traffic-ms")) {
			stress_opt.traffic_ms = (unsigned)strtoul(v, NULL, 0), i++;
		} else if (v && !strcmp(a, "--drain-ms")) {
			stress_opt.drain_ms = (unsigned)strtoul(v, NULL, 0), i++;
		} else {
			fprintf(stderr,
				"usage: %s [--seed S] [--iterations N] [--first K] [--repeat R]\n"
				"          [--traffic-ms T] [--drain-ms D] [--keep-going] "
				"[--verbose]\n",
				argv[0]);
			return -1;
		}
	}
	if (stress_opt.repeat == 0)
		stress_opt.repeat = 1;
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_router_matches_the_model),
	};
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	stress_opt.seed =
	    mix64((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) & 0xffffffffu;
	if (parse_args(argc, argv) < 0)
		return 2;
	traffic_init();
	print_message("stress: seed %llu, iterations %u..%u (rerun one with --seed %llu --first K "
		      "--iterations 1)\n",
		      (unsigned long long)stress_opt.seed, stress_opt.first,
		      stress_opt.first + stress_opt.iterations - 1,
		      (unsigned long long)stress_opt.seed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
