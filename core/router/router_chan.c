/* SPDX-License-Identifier: MIT */
/*
 * The router's side of a channel: dispatching from the lanes to the driver,
 * the in-flight table that names submits by token, and the driver's
 * reports. Everything here runs on the worker that owns the channel.
 *
 * Tokens are (generation << 32 | slot). A slot's generation changes each
 * time it is freed, so a report for a submit that already timed out (or a
 * made-up token) finds a different generation and is ignored and counted,
 * never applied to another message. A slot also heads the chain of its
 * message's entries in the receipt index (router_dlr.h); freeing the slot
 * drops them, so whatever ends a message's wait for its report — final,
 * timeout, resend, failure, stop — takes its carrier ids out of the index.
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "router_int.h"

static int slot_alloc(struct smsr_chan *c, struct smsr__rec *rec, uint64_t *token)
{
	uint32_t i;

	if (c->free_slot != UINT32_MAX) {
		i = c->free_slot;
		c->free_slot = c->slots[i].next_free;
	} else {
		if (c->slots_used == c->nslots) {
			uint32_t n = c->nslots ? c->nslots * 2 : 256;
			struct smsr__slot *s = realloc(c->slots, n * sizeof(*s));

			if (!s)
				return -SMSR_ENOMEM;
			memset(s + c->nslots, 0, (n - c->nslots) * sizeof(*s));
			c->slots = s;
			c->nslots = n;
		}
		i = c->slots_used++;
	}
	c->slots[i].rec = rec;
	c->slots[i].parts = 0;
	rec->slot = i;
	*token = (uint64_t)c->slots[i].gen << 32 | i;
	return 0;
}

static void slot_free(struct smsr_chan *c, uint32_t i)
{
	if (c->slots[i].parts)
		smsr__dlr_drop(&c->dlr, c->slots[i].parts);
	c->slots[i].rec = NULL;
	c->slots[i].gen++;
	c->slots[i].next_free = c->free_slot;
	c->free_slot = i;
}

static struct smsr__rec *slot_find(struct smsr_chan *c, uint64_t token)
{
	uint32_t i = (uint32_t)token;

	if (i >= c->slots_used || c->slots[i].gen != (uint32_t)(token >> 32) || !c->slots[i].rec) {
		SMSR__BUMP(c->worker->stale_reports, 1);
		return NULL;
	}
	return c->slots[i].rec;
}

void smsr_chan_prefetch(struct smsr_chan *c, uint64_t token)
{
	uint32_t i = (uint32_t)token;

	if (i < c->slots_used && c->slots[i].rec) {
		__builtin_prefetch(c->slots[i].rec, 1);
		__builtin_prefetch((char *)c->slots[i].rec + 64, 1);
	}
}

int smsr__chan_open(struct smsr_router *r, struct smsr_chan *c, uint64_t now)
{
	const struct smsr__chan_cfg *cfg = c->cfg;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (c->index + 1);
	int ret;

	for (const char *p = cfg->name; *p; p++)
		seed = (seed ^ (uint8_t)*p) * 0x100000001b3ull;
	c->free_slot = UINT32_MAX;
	c->link_up = false;
	c->link_reason = -SMSR_ENOTRUNNING;
	smsr__health_init(&c->health, now);
	smsr__lanes_init(&c->lanes, cfg, now);
	/* Until the first sweep measures anything: the granted rate. */
	for (int k = 0; k < SMSR_NCLASS; k++) {
		c->drain.weight[k] = c->lanes.weight[k];
		atomic_store_explicit(&c->drain.seg_x16[k], 16, memory_order_relaxed);
		atomic_store_explicit(&c->drain.segs[k], 0, memory_order_relaxed);
	}
	atomic_store_explicit(&c->drain.tps, atomic_load(&c->tps), memory_order_relaxed);
	ret = c->drv->open(c, cfg->params, cfg->nparams, seed, &c->drv_state);
	if (ret < 0)
		return ret;
	c->open = true;
	c->told_state = atomic_load(&c->state); /* what open() set; no event before open */
	c->told_reason = atomic_load(&c->down_reason);
	return 0;
}

void smsr__chan_close(struct smsr_chan *c)
{
	if (c->open)
		c->drv->close(c->drv_state);
	c->open = false;
	c->drv_state = NULL;
}

static void release_lane(struct smsr_chan *c, int cls)
{
	SMSR__BUMP(c->released[cls - 1].v, 1);
}

static void finish_expired(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *list)
{
	while (list) {
		struct smsr__rec *next = list->next;

		release_lane(c, list->cls);
		smsr__rec_finish(w, c, list, SMSR_EV_EXPIRED, -SMSR_EEXPIRED, 0);
		list = next;
	}
}

/* Hand @rec to the driver. False if the driver did not take it. */
/*
 * SYNC journal, a class that is never sent twice (not resent after an
 * unknown outcome): the message may reach the carrier only once its HANDOFF
 * record is on disk, or a crash right after the send would bring it back
 * as never sent, and it would go out again. So it waits here, out of its
 * lane with its window slot, until the record is durable; many messages
 * wait for one commit together (smsr__chan_flush_staged).
 */
static bool stage(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec)
{
	struct smsr_router *r = w->r;

	if (!r->journal_hold || (r->cfg.resend_classes & SMSR__CLASS_BIT(rec->cls)))
		return false;
	if (!rec->jhand)
		rec->jhand = smsr__journal_handoff(r, rec, c);
	if (!rec->jhand || rec->jhand <= smsr_router_durable_seq(r))
		return false;
	rec->next = NULL;
	if (c->staged_tail)
		c->staged_tail->next = rec;
	else
		c->staged_head = rec;
	c->staged_tail = rec;
	w->nstaged++;
	atomic_store_explicit(&w->held, true, memory_order_relaxed);
	return true;
}

static bool send_one(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec);

bool smsr__chan_flush_staged(struct smsr__worker *w, struct smsr_chan *c)
{
	uint64_t durable = smsr_router_durable_seq(w->r);
	bool any = false;

	while (c->staged_head && c->staged_head->jhand <= durable) {
		struct smsr__rec *rec = c->staged_head;

		c->staged_head = rec->next;
		if (!c->staged_head)
			c->staged_tail = NULL;
		w->nstaged--;
		send_one(w, c, rec); /* not taken: back at its lane's head */
		any = true;
	}
	return any;
}

void smsr__chan_unstage(struct smsr__worker *w, struct smsr_chan *c)
{
	struct smsr__rec *rec = c->staged_head, *back = NULL;

	/* Back to their lanes' heads, in their order (reversed twice). */
	while (rec) {
		struct smsr__rec *next = rec->next;

		rec->next = back;
		back = rec;
		rec = next;
		w->nstaged--;
	}
	c->staged_head = c->staged_tail = NULL;
	while (back) {
		struct smsr__rec *next = back->next;

		back->state = SMSR__REC_QUEUED;
		smsr__lanes_unsend(&c->lanes, back);
		SMSR__BUMP(c->released[back->cls - 1].v, -1);
		back = next;
	}
}

static bool send_one(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec)
{
	struct smsr_submit sub;
	uint64_t token;
	int ret;

	if (stage(w, c, rec))
		return true; /* taken, to be sent once its hand-off is durable */
	if (slot_alloc(c, rec, &token) < 0)
		return false;
	rec->state = SMSR__REC_INFLIGHT;
	rec->deadline_ns = w->now + (uint64_t)c->cfg->submit_timeout_ms * 1000000ull;
	sub = (struct smsr_submit){
	    .token = token,
	    .id = rec->id,
	    .recipient = rec->recipient,
	    .sender = smsr__rec_sender(rec),
	    .text = smsr__rec_text(rec),
	    .text_len = rec->text_len,
	    .cls = rec->cls,
	    .carrier = rec->carrier,
	    .segments = rec->segments,
	    .coding = rec->coding,
	};
	SMSR__BUMP(c->stats.inflight, 1);
	SMSR__BUMP(c->stats.submitted, 1);
	smsr__emit(w->r, SMSR_EV_HANDOFF, rec, 0, 0, w->now);
	rec->jhand = 0; /* the next hand-off, if any, is recorded anew */
	ret = c->drv->submit(c->drv_state, &sub, w->now);
	if (ret < 0) {
		/* Not taken: nothing was sent, so it is still queued. */
		slot_free(c, rec->slot);
		SMSR__BUMP(c->stats.inflight, -1);
		SMSR__BUMP(c->stats.submitted, -1);
		rec->state = SMSR__REC_QUEUED;
		smsr__lanes_unsend(&c->lanes, rec);
		SMSR__BUMP(c->released[rec->cls - 1].v, -1);
		if (ret == -SMSR_ECHANDOWN)
			smsr_chan_set_up(c, false, ret);
		return false;
	}
	c->poll_at = 0; /* the driver may have scheduled a report */
	return true;
}

void smsr__chan_dispatch(struct smsr__worker *w, struct smsr_chan *c)
{
	uint64_t retry = 0;

	c->dispatch_at = UINT64_MAX;
	for (int k = 0; k < SMSR__DISPATCH_BURST; k++) {
		/* Answers come back inside submit: the state may change mid-burst. */
		uint8_t st = atomic_load_explicit(&c->state, memory_order_relaxed);

		if (st != SMSR_CHAN_UP && st != SMSR_CHAN_DRAINING && st != SMSR_CHAN_DEGRADED)
			return;
		/* Half-open: one probe at a time; its answer calls us again. */
		if (c->health.state == SMSR__BRK_HALF && SMSR__LOAD(c->stats.inflight))
			return;
		struct smsr__rec *expired = NULL;
		struct smsr__rec *rec = smsr__lanes_next(&c->lanes, w->now, &retry, &expired);

		finish_expired(w, c, expired);
		if (!rec) {
			if (retry)
				c->dispatch_at = retry;
			return;
		}
		release_lane(c, rec->cls);
		if (!send_one(w, c, rec))
			return;
	}
	c->dispatch_at = 0; /* more may be ready: come back next turn */
}

/* @rec's outcome is unknown: send it again at once if its class says so. */
static void resend_or_fail(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec,
			   int reason)
{
	if (w->r->cfg.resend_classes & SMSR__CLASS_BIT(rec->cls)) {
		SMSR__BUMP(c->stats.resent, 1);
		rec->maybe_sent = 1;
		smsr__retry(w, c, rec, reason, 0, false);
	} else {
		smsr__rec_finish(w, c, rec, SMSR_EV_FAILED, reason, 0);
	}
}

/* How long the carrier took to answer @rec (its deadline counts from the send). */
static uint64_t answer_latency(const struct smsr_chan *c, const struct smsr__rec *rec, uint64_t now)
{
	uint64_t sent = rec->deadline_ns - (uint64_t)c->cfg->submit_timeout_ms * SMSR__MS;

	return now > sent ? now - sent : 0;
}

/*
 * Index the @n ids @ids of @rec's accepted submit on @c, keeping the
 * first in the record. One id that fits the record is only noted (a
 * thousand notes are indexed at once, from the records): a message
 * reported by token before that costs no more. Returns 0, -SMSR_ECHANERR
 * for an id the index cannot keep (nothing changed), or -SMSR_ENOMEM
 * (accepted unindexed: reportable by token, else it times out).
 */
static int index_ids(struct smsr_chan *c, struct smsr__rec *rec, const char *const *ids, unsigned n)
{
	struct smsr__dlr_index *x = &c->dlr;
	struct smsr__slot *s = &c->slots[rec->slot];
	size_t len = ids[0] ? strnlen(ids[0], sizeof(rec->carrier_msgid)) : 0;
	int ret;

	if (n == 1 && len && len < sizeof(rec->carrier_msgid) &&
	    (x->lazy || (x->lazy = malloc(SMSR__DLR_LAZY_MAX * sizeof(*x->lazy))))) {
		if (x->nlazy == SMSR__DLR_LAZY_MAX)
			smsr__chan_index(c);
		memcpy(rec->carrier_msgid, ids[0], len + 1);
		x->lazy[x->nlazy++] = (uint64_t)s->gen << 32 | rec->slot;
		return 0;
	}
	ret = smsr__dlr_add(x, rec->slot, s->gen, ids, n, &s->parts);
	if (ret == -SMSR_ECHANERR)
		return ret;
	len = strnlen(ids[0], sizeof(rec->carrier_msgid) - 1);
	memcpy(rec->carrier_msgid, ids[0], len);
	rec->carrier_msgid[len] = '\0';
	return ret;
}

void smsr__chan_index(struct smsr_chan *c)
{
	struct smsr__dlr_index *x = &c->dlr;

	for (uint32_t k = 0; k < x->nlazy; k++) {
		uint32_t i = (uint32_t)x->lazy[k], gen = (uint32_t)(x->lazy[k] >> 32);
		struct smsr__rec *rec = c->slots[i].rec;
		const char *id;

		/* Gone since (final, timed out, resent): nothing to index. */
		if (c->slots[i].gen != gen || !rec || rec->state != SMSR__REC_AWAIT_DLR ||
		    c->slots[i].parts)
			continue;
		id = rec->carrier_msgid;
		(void)smsr__dlr_add(x, i, gen, &id, 1, &c->slots[i].parts);
	}
	x->nlazy = 0;
	smsr__dlr_flush(x);
}

/*
 * The carrier's answer to @token, the message sent as @n parts named
 * @ids (n 0: accepted without an id, reportable by token only).
 */
static void answer(struct smsr_chan *c, uint64_t token, int status, int op_code,
		   const char *const *ids, unsigned n)
{
	struct smsr__worker *w = c->worker;
	struct smsr__rec *rec = slot_find(c, token);
	const char *named = NULL;

	if (!rec || rec->state != SMSR__REC_INFLIGHT) {
		if (rec)
			SMSR__BUMP(w->stale_reports, 1);
		return;
	}
	if (status == 0 && n && index_ids(c, rec, ids, n) == -SMSR_ECHANERR)
		status = -SMSR_ECHANERR; /* an id the index cannot keep: refused */
	smsr__lanes_answered(&c->lanes);
	SMSR__BUMP(c->stats.inflight, -1);
	if (c->dispatch_at == UINT64_MAX)
		c->dispatch_at = 0; /* a window slot opened */
	smsr__chan_health_answer(w, c, status, answer_latency(c, rec, w->now));
	if (status < 0) {
		if (status == -SMSR_ETHROTTLED)
			SMSR__BUMP(c->stats.throttled, 1);
		slot_free(c, rec->slot);
		if (status == -SMSR_ECHANDOWN) {
			/* The link fell with the submit unanswered: the carrier
			 * may have it. Unknown outcome: the class decides. */
			resend_or_fail(w, c, rec, status);
		} else if (smsr__temporary(status)) {
			SMSR__BUMP(c->stats.retried, 1);
			smsr__retry(w, c, rec, status, op_code, true);
		} else {
			smsr__rec_finish(w, c, rec, SMSR_EV_FAILED, status, op_code);
		}
		return;
	}
	if (n) {
		named = ids[0];
		if (n > 1 && c->slots[rec->slot].parts)
			named = smsr__dlr_joined(&c->dlr, c->slots[rec->slot].parts);
	}
	rec->parts_left = (uint8_t)(n ? n : 1);
	rec->state = SMSR__REC_AWAIT_DLR;
	rec->deadline_ns = w->now + (uint64_t)c->cfg->dlr_timeout_ms * 1000000ull;
	SMSR__BUMP(c->stats.accepted, 1);
	SMSR__BUMP(c->stats.awaiting_dlr, 1);
	smsr__emit_id(w->r, SMSR_EV_SUBMITTED, rec, 0, 0, w->now, named);
}

/*
 * A message the journal brought back (router_recover.c), on its channel's
 * worker: the carrier had taken it before the restart, so it awaits its
 * receipt under the ids the carrier gave; or it ends now (FINISH, or its
 * channel is gone: its delivery cannot be learnt).
 */
void smsr__chan_revive(struct smsr__worker *w, struct smsr_chan *c, const struct smsr__ctl *ctl)
{
	struct smsr__rec *rec = ctl->rec;
	const char *ids[255];
	char buf[sizeof(ctl->ids)], *save = NULL;
	unsigned n = 0;
	uint64_t token;

	memcpy(buf, ctl->ids, sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	for (char *t = strtok_r(buf, ",", &save); t && n < 255; t = strtok_r(NULL, ",", &save))
		ids[n++] = t;
	if (ctl->action == SMSR__REVIVE_FINISH || !c->open || n == 0 ||
	    slot_alloc(c, rec, &token) < 0) {
		int type = ctl->action == SMSR__REVIVE_FINISH ? ctl->type : SMSR_EV_FAILED;

		smsr__rec_finish(
		    w, c, rec, (enum smsr_event_type)type,
		    ctl->action == SMSR__REVIVE_FINISH ? ctl->reason : -SMSR_EUNKNOWNOUTCOME, 0);
		return;
	}
	if (index_ids(c, rec, ids, n) == -SMSR_ECHANERR) {
		slot_free(c, rec->slot);
		smsr__rec_finish(w, c, rec, SMSR_EV_FAILED, -SMSR_EUNKNOWNOUTCOME, 0);
		return;
	}
	rec->parts_left = (uint8_t)n;
	rec->state = SMSR__REC_AWAIT_DLR;
	/* The report is awaited from when the carrier took it, not from now:
	 * restarts do not stretch the wait. */
	rec->deadline_ns = (ctl->since_ns && ctl->since_ns < w->now ? ctl->since_ns : w->now) +
			   (uint64_t)c->cfg->dlr_timeout_ms * SMSR__MS;
	SMSR__BUMP(c->stats.awaiting_dlr, 1);
	rec->jskip = 1; /* its SUBMITTED record, with its time, is in the journal */
	smsr__emit_id(w->r, SMSR_EV_SUBMITTED, rec, 0, 0, w->now, ctl->ids);
	rec->jskip = 0;
}

void smsr_chan_submit_done(struct smsr_chan *c, uint64_t token, int status, int op_code,
			   const char *carrier_msgid)
{
	answer(c, token, status, op_code, &carrier_msgid,
	       carrier_msgid && carrier_msgid[0] && status == 0);
}

void smsr_chan_submit_parts(struct smsr_chan *c, uint64_t token, int status, int op_code,
			    const char *const *msgids, unsigned nparts)
{
	if (status == 0 && (!msgids || nparts < 1 || nparts > 255))
		status = -SMSR_ECHANERR; /* no ids to match receipts by */
	answer(c, token, status, op_code, msgids, status == 0 ? nparts : 0);
}

void smsr__chan_report(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec,
		       int status, int op_code, const char *msgid)
{
	uint64_t taken = rec->deadline_ns - (uint64_t)c->cfg->dlr_timeout_ms * SMSR__MS;

	SMSR__BUMP(c->stats.awaiting_dlr, -1);
	slot_free(c, rec->slot);
	smsr__health_report(&c->health, status == 0, w->now > taken ? w->now - taken : 0, w->now);
	if (status == 0)
		smsr__rec_finish_id(w, c, rec, SMSR_EV_DELIVERED, 0, op_code, msgid);
	else
		smsr__receipt_failed(w, c, rec, status < 0 ? status : -SMSR_EUNDELIVERED, op_code,
				     msgid);
}

void smsr_chan_dlr(struct smsr_chan *c, uint64_t token, int status, int op_code)
{
	struct smsr__worker *w = c->worker;
	struct smsr__rec *rec = slot_find(c, token);

	if (!rec || rec->state != SMSR__REC_AWAIT_DLR) {
		if (rec)
			SMSR__BUMP(w->stale_reports, 1);
		return;
	}
	smsr__chan_report(w, c, rec, status, op_code, NULL);
}

void smsr_chan_set_up(struct smsr_chan *c, bool up, int reason)
{
	c->link_up = up;
	c->link_reason = up ? 0 : (reason ? reason : -SMSR_ECHANDOWN);
	smsr__chan_publish_state(c);
}

/* Take @rec out of the in-flight table, as if it had been answered. */
static void unslot(struct smsr_chan *c, struct smsr__rec *rec)
{
	if (rec->state == SMSR__REC_INFLIGHT) {
		smsr__lanes_answered(&c->lanes);
		SMSR__BUMP(c->stats.inflight, -1);
	} else {
		SMSR__BUMP(c->stats.awaiting_dlr, -1);
	}
	slot_free(c, rec->slot);
}

/*
 * Fail in-flight records whose deadline passed (or all, when @all). A
 * submit never answered has an unknown outcome: its class decides whether
 * it is sent again. Notes the oldest unanswered and unreported submits for
 * the health timers.
 */
static void sweep_slots(struct smsr__worker *w, struct smsr_chan *c, bool all, int reason)
{
	uint64_t sub_to = (uint64_t)c->cfg->submit_timeout_ms * SMSR__MS;
	uint64_t dlr_to = (uint64_t)c->cfg->dlr_timeout_ms * SMSR__MS;
	uint64_t ans_lim = smsr__health_answer_limit(&c->health, &w->r->cfg.health);
	uint64_t rep_lim = smsr__health_report_limit(&c->health, &w->r->cfg.health);
	uint32_t unanswered = 0, unreported = 0;

	for (uint32_t i = 0; i < c->slots_used; i++) {
		struct smsr__rec *rec = c->slots[i].rec;
		bool inflight;

		if (!rec)
			continue;
		inflight = rec->state == SMSR__REC_INFLIGHT;
		if (!all && rec->deadline_ns > w->now) {
			uint64_t since = rec->deadline_ns - (inflight ? sub_to : dlr_to);
			uint64_t age = w->now > since ? w->now - since : 0;

			unanswered += inflight && age >= ans_lim;
			unreported += !inflight && age >= rep_lim;
			continue;
		}
		unslot(c, rec);
		if (all) {
			smsr__rec_finish(w, c, rec, SMSR_EV_FAILED, reason, 0);
		} else if (!inflight) {
			smsr__rec_finish(w, c, rec, SMSR_EV_FAILED, -SMSR_EDLRTIMEOUT, 0);
		} else {
			smsr__chan_health_answer(w, c, -SMSR_ETIMEOUT, sub_to);
			resend_or_fail(w, c, rec, -SMSR_ETIMEOUT);
		}
	}
	c->unanswered = unanswered;
	c->unreported = unreported;
	if (c->dispatch_at == UINT64_MAX)
		c->dispatch_at = 0;
}

void smsr__chan_resend_unknown(struct smsr__worker *w, struct smsr_chan *c)
{
	int why = atomic_load(&c->down_reason);
	uint32_t classes = w->r->cfg.resend_classes;

	c->resend = false;
	for (uint32_t i = 0; classes && i < c->slots_used; i++) {
		struct smsr__rec *rec = c->slots[i].rec;

		/* Unanswered: unknown. Unreported, when reports are what stopped:
		 * unknown too. A report that did come is an outcome. */
		if (!rec || !(classes & SMSR__CLASS_BIT(rec->cls)) ||
		    (rec->state != SMSR__REC_INFLIGHT && why != -SMSR_ENOREPORTS))
			continue;
		unslot(c, rec);
		SMSR__BUMP(c->stats.resent, 1);
		rec->maybe_sent = 1;
		smsr__retry(w, c, rec, why ? why : -SMSR_ECHANDOWN, 0, false);
	}
}

void smsr__chan_sweep(struct smsr__worker *w, struct smsr_chan *c)
{
	struct smsr__rec *expired = NULL;

	smsr__lanes_expire(&c->lanes, w->now, &expired);
	finish_expired(w, c, expired);
	sweep_slots(w, c, false, 0);
	smsr__chan_index(c); /* bounds what the token path left to index */
	smsr__chan_health_tick(w, c);
}

void smsr__chan_fail_all(struct smsr__worker *w, struct smsr_chan *c, int unsent, int sent)
{
	struct smsr__rec *rec;

	smsr__chan_unstage(w, c); /* never sent: with the queue */
	rec = smsr__lanes_take_all(&c->lanes);

	while (rec) {
		struct smsr__rec *next = rec->next;

		release_lane(c, rec->cls);
		smsr__rec_finish(w, c, rec, SMSR_EV_FAILED, rec->maybe_sent ? sent : unsent, 0);
		rec = next;
	}
	/* Handed to the driver, answered or not: the carrier may have it. */
	sweep_slots(w, c, true, sent);
}

void smsr__chan_ctl(struct smsr__worker *w, struct smsr_chan *c, const struct smsr__ctl *ctl)
{
	if (ctl->op == SMSR__CTL_DRIVER && c->drv->ctl && c->open)
		c->drv->ctl(c->drv_state, ctl->key, ctl->value);
	else if (ctl->op == SMSR__CTL_RATE)
		c->aimd_tps = 0, smsr__lanes_set_rate(&c->lanes, atomic_load(&c->tps));
	else if (ctl->op == SMSR__CTL_DLR)
		smsr__receipt_inject(c, ctl->key, ctl->value);
	else if (ctl->op == SMSR__CTL_REMOVE)
		c->removing = true; /* the next pass over the channels does the rest */
	else if (ctl->op == SMSR__CTL_ADD)
		w->chans[w->nchans++] = c; /* opened by the caller; ours from now on */
	else if (ctl->op == SMSR__CTL_REVIVE)
		smsr__chan_revive(w, c, ctl);
	smsr__chan_tell_state(c);
	c->poll_at = 0;
	c->dispatch_at = 0;
}
