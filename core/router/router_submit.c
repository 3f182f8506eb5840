/* SPDX-License-Identifier: MIT */
/*
 * The submit path, on the host's thread: validate, normalize, classify,
 * route, admit, hand off.
 *
 * Each message is checked completely before anything is reserved, so a
 * rejected message leaves no trace but its counted reason. Admission is a
 * fetch-add on the chosen lane's counter, undone when the lane is full:
 * lanes can never grow past their bound.
 *
 * Overload. Two more limits answer busy at once rather than accept what
 * would only grow memory or expire later. The memory budget: every record
 * is charged (its allocator size class) from acceptance to its final
 * state against router.memory_budget, promotions up to 3/4 of it, notices
 * 7/8, codes all; a call reserves from the shared counter for up to
 * MEM_AHEAD messages at a time and returns what it did not use, and
 * workers count what they free on their own line, so no message pays a
 * contended atomic of its own. The deadline: a lane's admission also asks
 * whether the message would leave the channel within its validity at the
 * channel's current rate (in_time(): O(1), from its lane's depth and the
 * worker's published rate and lane sizes); if not, the next channel of the
 * route is tried, as for a full lane. Accepted records are chained per
 * worker and handed over once per call (or every CHAIN_MAX messages), so
 * a batch costs one ring operation and at most one wake-up per worker.
 * This is also the one place where "accept -> record -> ack" happens: the
 * journal will slot in between building the record and handing it off.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "msg/msg_text.h"
#include "router_int.h"
#include "classify/tmpl_cache.h"

#define CHAIN_MAX 256
/* An up channel weighs this many times a degraded one of the same weight. */
#define DEGRADED_SHARE 8
/* Scores closer than this (millionths of a price unit) count as equal. */
#define SCORE_FLOOR  2000
#define ID_SEQ_BITS  13
#define ID_NODE_BITS 9
#define ID_EPOCH_MS  1735689600000ull /* 2025-01-01T00:00:00Z */
/* Budget reserved at once: for up to this many messages like the current one. */
#define MEM_AHEAD 32
/* A message must be due to leave within 8/9 of its validity: ms x 9/8 x 1000. */
#define LATE_SCALE 1125

struct chain {
	struct smsr__rec *head, *tail;
	unsigned n;
};

struct batch {
	struct smsr_router *r;
	const struct smsr__snapshot *snap;
	uint64_t now;
	uint64_t ids;		 /* next logical id of the reserved block */
	struct smsr__rec *ahead; /* the next message's record, allocated early */
	size_t ahead_size;
	uint64_t accepted, rejected;
	uint64_t by_class[SMSR_NCLASS];
	uint64_t credit;      /* budget bytes reserved and not yet used */
	size_t left;	      /* messages of the call not yet submitted, this one included */
	struct chain *chains; /* one per worker */
	const struct smsr__revive *rv; /* a message the journal brought back, or NULL */
};

/*
 * Reserve @n ids: logical counter (ms << 13 | seq), never behind the wall
 * clock, never repeating. Above 8192 ids per ms it runs ahead of the clock
 * for a while, staying unique and ordered.
 */
static uint64_t ids_reserve(struct smsr_router *r, uint64_t n)
{
	uint64_t now = (smsr__wall_ms() - ID_EPOCH_MS) << ID_SEQ_BITS;
	uint64_t last = atomic_load_explicit(&r->last_id.v, memory_order_relaxed), first;

	do {
		first = last + 1 > now ? last + 1 : now;
	} while (!atomic_compare_exchange_weak(&r->last_id.v, &last, first + n - 1));
	return first;
}

void smsr__ids_after(struct smsr_router *r, uint64_t id)
{
	uint64_t ms = id >> (ID_SEQ_BITS + ID_NODE_BITS);
	uint64_t logical = ms << ID_SEQ_BITS | (id & ((1ull << ID_SEQ_BITS) - 1));
	uint64_t last = atomic_load(&r->last_id.v);

	while (logical > last && !atomic_compare_exchange_weak(&r->last_id.v, &last, logical))
		;
}

static uint64_t id_make(const struct smsr_router *r, uint64_t logical)
{
	uint64_t ms = logical >> ID_SEQ_BITS, seq = logical & ((1u << ID_SEQ_BITS) - 1);

	return ms << (ID_SEQ_BITS + ID_NODE_BITS) | (uint64_t)r->cfg.node_id << ID_SEQ_BITS | seq;
}

static int check_str(const char *s, size_t max, size_t *len, int err)
{
	if (!s) {
		*len = 0;
		return 0;
	}
	*len = strnlen(s, max + 1);
	if (*len > max || smsr__utf8_check(s, *len) < 0)
		return err;
	return 0;
}

/* What admission needs to know of the message besides its class. */
struct want {
	uint32_t validity_ms; /* 0: no deadline check (messages routed again) */
	unsigned why;	      /* out: SMSR__BUSY_* bits of the refusals */
};

static inline uint64_t load64(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

/*
 * Would a message of class @cls, behind @depth messages of its lane on
 * @c, leave within its validity at the channel's current rate (with an
 * eighth to spare)? It leaves once the segments ahead of it have gone
 * (its own come out of the bucket's depth). Ahead of a code: the codes
 * queued. Ahead of a notice or a promotion: the codes, its own lane, and
 * as much of the other of the two as weighted sharing sends meanwhile —
 * min(other, own x w_other / w_own), compared multiplied out, without a
 * division. Its own lane's depth is live (the admission counter); the
 * rest is what the worker published at its last sweep. An empty lane
 * always admits.
 */
static bool in_time(const struct smsr_chan *c, int cls, uint64_t depth, const struct want *w)
{
	const struct smsr__drain *d = &c->drain;
	uint64_t tps = atomic_load_explicit(&d->tps, memory_order_relaxed);
	uint64_t own, v, other, wi, wo, ahead;
	int o;

	if (tps == 0 || w->validity_ms == 0)
		return true;
	own = depth * atomic_load_explicit(&d->seg_x16[cls - 1], memory_order_relaxed) >> 4;
	if (cls == SMSR_CLASS_VERIFICATION)
		return own * LATE_SCALE <= (uint64_t)w->validity_ms * tps;
	o = cls == SMSR_CLASS_NOTICE ? SMSR_CLASS_MARKETING : SMSR_CLASS_NOTICE;
	v = load64(&d->segs[0]);
	other = load64(&d->segs[o - 1]);
	wi = d->weight[cls - 1];
	wo = d->weight[o - 1];
	ahead = (v + own) * wi + (other * wi < own * wo ? other * wi : own * wo);
	return ahead * LATE_SCALE <= (uint64_t)w->validity_ms * tps * wi;
}

/*
 * Reserve a place in lane @cls of @c, for a message that would leave in
 * time. -SMSR_EBUSY (why in @w->why) when it is full or too deep.
 */
static int admit(struct smsr_chan *c, int cls, struct want *w)
{
	struct smsr__counter *a = &c->admitted[cls - 1];
	uint64_t cap = c->cfg->lane_cap[cls - 1];
	uint64_t old = atomic_fetch_add_explicit(&a->v, 1, memory_order_relaxed);
	uint64_t rel = atomic_load_explicit(&a->seen_released, memory_order_relaxed);

	if (old - rel < cap && in_time(c, cls, old - rel, w))
		return 0;
	/* The view of what left may be stale: it only errs towards "full". */
	rel = atomic_load_explicit(&c->released[cls - 1].v, memory_order_relaxed);
	atomic_store_explicit(&a->seen_released, rel, memory_order_relaxed);
	if (old - rel < cap && in_time(c, cls, old - rel, w))
		return 0;
	w->why |= 1u << (old - rel < cap ? SMSR__BUSY_LATE : SMSR__BUSY_LANES);
	atomic_fetch_sub_explicit(&a->v, 1, memory_order_relaxed);
	return -SMSR_EBUSY;
}

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/*
 * Pick and admit a channel of @grp: a weighted choice among the channels
 * that are up, moving on to the next ones if that lane is full.
 * Returns the channel index, -SMSR_EBUSY (all up ones full) or
 * -SMSR_ENOCHANNEL (none up).
 */
/*
 * The weight channel @i of @grp has now: its own when up, a fraction when
 * degraded (erring, or probing after an outage), none otherwise.
 */
static uint32_t live_weight(const struct smsr__snapshot *s, const struct smsr__group_cfg *grp,
			    uint32_t i, int exclude)
{
	uint8_t st;

	if ((int)grp->chan[i] == exclude)
		return 0;
	st = atomic_load_explicit(&s->chans[grp->chan[i]]->state, memory_order_relaxed);
	if (st == SMSR_CHAN_UP)
		return grp->weight[i] * DEGRADED_SHARE;
	return st == SMSR_CHAN_DEGRADED ? grp->weight[i] : 0;
}

/*
 * Each channel's share of @grp for class @cls now: its live weight, scaled
 * by (best score / its score)^4 when scoring is on, so a channel that costs
 * 20% more per delivered message (waiting included) gets half its share,
 * twice as much a sixteenth. Scores within SCORE_FLOOR of each other
 * hardly differ.
 * Returns the total.
 */
static uint32_t shares(const struct smsr__snapshot *s, const struct smsr__group_cfg *grp, int cls,
		       int exclude, uint32_t share[SMSR__GROUP_CHANS_MAX])
{
	uint32_t sc[SMSR__GROUP_CHANS_MAX], best = UINT32_MAX, total = 0;
	bool scoring = s->scoring && grp->n > 1;

	for (uint32_t i = 0; i < grp->n; i++) {
		share[i] = live_weight(s, grp, i, exclude);
		sc[i] = 0;
		if (share[i] && scoring) {
			sc[i] = atomic_load_explicit(&s->chans[grp->chan[i]]->stats.score[cls - 1],
						     memory_order_relaxed);
			if (sc[i] < best)
				best = sc[i];
		}
	}
	for (uint32_t i = 0; i < grp->n; i++) {
		if (share[i] && scoring && best != UINT32_MAX) {
			uint64_t q = ((uint64_t)best + SCORE_FLOOR) * 1024 / (sc[i] + SCORE_FLOOR);

			q = q * q >> 10;
			share[i] = (uint32_t)((uint64_t)share[i] * (q * q >> 10) + 1);
		}
		total += share[i];
	}
	return total;
}

/*
 * Pick and admit a channel of @grp: a choice by share among the channels
 * that are up, moving on to the next ones if that lane is full.
 * Returns the channel index, -SMSR_EBUSY (all up ones full) or
 * -SMSR_ENOCHANNEL (none up).
 */
static int pick_in_group(const struct smsr__snapshot *s, const struct smsr__group_cfg *grp, int cls,
			 uint64_t hash, int exclude, struct want *w)
{
	uint32_t share[SMSR__GROUP_CHANS_MAX], total, target, start = 0;
	int ret = -SMSR_ENOCHANNEL;

	total = shares(s, grp, cls, exclude, share);
	if (total == 0)
		return -SMSR_ENOCHANNEL;
	target = (uint32_t)(hash % total);
	for (uint32_t i = 0; i < grp->n; i++) {
		if (target < share[i]) {
			start = i;
			break;
		}
		target -= share[i];
	}
	for (uint32_t k = 0; k < grp->n; k++) {
		uint32_t i = (start + k) % grp->n;
		struct smsr_chan *c = s->chans[grp->chan[i]];

		if (share[i] == 0)
			continue;
		if (admit(c, cls, w) == 0)
			return (int)c->index;
		ret = -SMSR_EBUSY;
	}
	return ret;
}

static int route(const struct smsr__snapshot *s, int cls, int carrier, const char *e164,
		 uint64_t hash, int exclude, struct want *w)
{
	const struct smsr__route_cfg *rule = smsr__route_find(s->routes, cls, carrier, e164);
	int ret = -SMSR_ENOROUTE;

	if (!rule)
		return -SMSR_ENOROUTE;
	for (uint32_t g = 0; g < rule->ngroups; g++) {
		int got = pick_in_group(s, &rule->groups[g], cls, hash, exclude, w);

		if (got >= 0)
			return got;
		if (ret != -SMSR_EBUSY)
			ret = got; /* "busy" wins over "no channel": retrying can help */
	}
	return ret;
}

int smsr__route_pick(const struct smsr__snapshot *s, int cls, int carrier, const char *e164,
		     uint64_t hash, int exclude)
{
	/* Already accepted and charged: lanes bound it, not its deadline. */
	struct want w = {0};

	return route(s, cls, carrier, e164, mix(hash), exclude, &w);
}

/*
 * Charge @n bytes of the budget for class @cls to the shared counter.
 * False (and nothing charged) if that would pass the class's limit.
 */
static bool mem_reserve(struct smsr_router *r, uint64_t n, int cls)
{
	int64_t limit = (int64_t)load64(&r->mem_limit[cls - 1]);
	uint64_t charged =
	    atomic_fetch_add_explicit(&r->mem_charged.v, n, memory_order_relaxed) + n;
	uint64_t freed = load64(&r->mem_charged.seen_released);

	if ((int64_t)(charged - freed) <= limit)
		return true;
	freed = smsr__mem_freed(r);
	atomic_store_explicit(&r->mem_charged.seen_released, freed, memory_order_relaxed);
	if ((int64_t)(charged - freed) <= limit)
		return true;
	atomic_fetch_sub_explicit(&r->mem_charged.v, n, memory_order_relaxed);
	return false;
}

/*
 * Take @need budget bytes for a message of class @cls: from what this
 * call holds, else reserve for up to MEM_AHEAD more messages like it (just
 * @need for a single submit; at the limit, just what is missing).
 */
static bool mem_take(struct batch *b, uint64_t need, int cls)
{
	uint64_t more;

	if (b->credit < need) {
		more = need * (b->left < MEM_AHEAD ? b->left : MEM_AHEAD) - b->credit;
		if (!mem_reserve(b->r, more, cls)) {
			more = need - b->credit;
			if (!mem_reserve(b->r, more, cls))
				return false;
		}
		b->credit += more;
	}
	b->credit -= need;
	return true;
}

struct prepared {
	char e164[SMSR_E164_MAX + 1];
	int e164_len;
	struct smsr__text_info text;
	struct smsr__tmpl *tmpl; /* the text's template entry, or NULL */
	size_t sender_len, ref_len, tags_len;
	int cls;
	uint32_t validity_ms;
};

static int validate(const struct smsr_msg *m, struct prepared *p)
{
	int ret;

	if (!m->text && m->text_len)
		return -SMSR_EINVAL;
	p->e164_len = smsr_e164_normalize(m->recipient, p->e164);
	if (p->e164_len < 0)
		return p->e164_len;
	if (m->text_len > SMSR_TEXT_MAX)
		return -SMSR_ETOOLONG;
	/* A template seen before: its scan holds for this text (tmpl_cache.h). */
	p->tmpl = smsr__tmpl_lookup(m->text, m->text_len);
	if (p->tmpl && (p->tmpl->have & SMSR__TMPL_TEXT)) {
		p->text = p->tmpl->text;
	} else {
		ret = smsr__text_scan(m->text, m->text_len, &p->text);
		if (ret < 0)
			return ret;
		if (p->tmpl) {
			p->tmpl->text = p->text;
			p->tmpl->have |= SMSR__TMPL_TEXT;
		}
	}
	if (p->text.segments > SMSR_SEGMENTS_MAX)
		return -SMSR_ETOOLONG;
	if ((ret = check_str(m->sender, SMSR_SENDER_MAX, &p->sender_len, -SMSR_EBADSENDER)) < 0 ||
	    (ret = check_str(m->client_ref, SMSR_REF_MAX, &p->ref_len, -SMSR_EBADREF)) < 0 ||
	    (ret = check_str(m->tags, SMSR_TAGS_MAX, &p->tags_len, -SMSR_EBADTAGS)) < 0)
		return ret;
	if ((unsigned)m->cls > SMSR_CLASS_MARKETING)
		return -SMSR_EBADCLASS;
	if (m->validity_ms > SMSR_VALIDITY_MAX_MS)
		return -SMSR_EBADVALIDITY;
	return 0;
}

static void classify(const struct smsr_router *r, const struct smsr_msg *m, struct prepared *p)
{
	struct smsr__tmpl *t = p->tmpl;

	if (m->cls != SMSR_CLASS_AUTO) {
		p->cls = (int)m->cls;
	} else if (t && (t->have & SMSR__TMPL_CLS)) {
		p->cls = t->cls;
	} else {
		p->cls = (int)smsr_classify(m->text, m->text_len);
		if (t) {
			t->cls = (uint8_t)p->cls;
			t->have |= SMSR__TMPL_CLS;
		}
	}
	p->validity_ms = m->validity_ms ? m->validity_ms : r->cfg.validity_ms[p->cls - 1];
}

static size_t rec_size(const struct smsr_msg *m, size_t sender, size_t ref, size_t tags)
{
	return sizeof(struct smsr__rec) + m->text_len + sender + ref + tags + 4;
}

static size_t len_or_0(const char *s, size_t max)
{
	return s ? strnlen(s, max + 1) : 0;
}

/*
 * Allocate the record of @m — the message after the one being submitted —
 * and start pulling its lines into this core's cache for writing: they were
 * last touched by the worker that freed them, and submitting the current
 * message meanwhile hides the transfer. Its size assumes @m valid; if it is
 * not, the record is freed unused.
 */
static void alloc_ahead(struct batch *b, const struct smsr_msg *m)
{
	size_t size;

	if (!m || (!m->text && m->text_len) || m->text_len > SMSR_TEXT_MAX)
		return;
	size = rec_size(m, len_or_0(m->sender, SMSR_SENDER_MAX),
			len_or_0(m->client_ref, SMSR_REF_MAX), len_or_0(m->tags, SMSR_TAGS_MAX));
	b->ahead = smsr__alloc(&b->r->arena, size);
	if (!b->ahead)
		return;
	b->ahead_size = size;
	for (size_t off = 0; off < size && off < 384; off += 64)
		__builtin_prefetch((char *)b->ahead + off, 1);
}

/* The record of @m: @pre (allocated ahead) when its size fits, else anew;
 * @pre is freed when unused. */
static struct smsr__rec *rec_alloc(struct batch *b, const struct smsr_msg *m,
				   const struct prepared *p, struct smsr__rec *pre, size_t pre_size)
{
	size_t size = rec_size(m, p->sender_len, p->ref_len, p->tags_len);
	struct smsr__rec *rec = pre;

	if (pre && pre_size != size) {
		smsr__free(&b->r->arena, pre, pre_size);
		rec = NULL;
	}
	if (!rec) {
		rec = smsr__alloc(&b->r->arena, size);
		if (rec)
			__builtin_prefetch(rec, 1);
	}
	/* The size class: what sized deallocation accepts, and what the
	 * budget charges until the worker frees it. */
	if (rec)
		rec->alloc_size = (uint32_t)smsr__alloc_charge(size);
	return rec;
}

static void fill(struct batch *b, struct smsr__rec *rec, const struct smsr_msg *m,
		 const struct prepared *p)
{
	uint32_t size = rec->alloc_size;
	char *d;

	memset(rec, 0, sizeof(*rec));
	rec->alloc_size = size;
	rec->accepted_ns = b->now;
	rec->validity_ms = p->validity_ms;
	rec->text_len = (uint32_t)m->text_len;
	rec->cls = (uint8_t)p->cls;
	rec->segments = (uint8_t)p->text.segments;
	rec->coding = p->text.coding;
	rec->attempt = 1;
	rec->sender_len = (uint8_t)p->sender_len;
	rec->ref_len = (uint8_t)p->ref_len;
	rec->tags_len = (uint8_t)p->tags_len;
	rec->has_ref = m->client_ref != NULL;
	memcpy(rec->recipient, p->e164, (size_t)p->e164_len + 1);
	d = rec->data;
	memcpy(d, m->text, m->text_len);
	d += m->text_len;
	*d++ = '\0';
	memcpy(d, m->sender ? m->sender : "", p->sender_len);
	d += p->sender_len;
	*d++ = '\0';
	memcpy(d, m->client_ref ? m->client_ref : "", p->ref_len);
	d += p->ref_len;
	*d++ = '\0';
	memcpy(d, m->tags ? m->tags : "", p->tags_len);
	d[p->tags_len] = '\0';
}

static void chain_flush(struct batch *b, unsigned wi)
{
	struct chain *ch = &b->chains[wi];

	if (!ch->head)
		return;
	smsr__worker_push(&b->r->workers[wi], ch->head);
	*ch = (struct chain){0};
}

static void chain_add(struct batch *b, struct smsr__rec *rec)
{
	unsigned wi = b->r->chans[rec->chan].worker->index;
	struct chain *ch = &b->chains[wi];

	rec->next = NULL;
	if (ch->tail)
		ch->tail->next = rec;
	else
		ch->head = rec;
	ch->tail = rec;
	if (++ch->n >= CHAIN_MAX)
		chain_flush(b, wi);
}

/* One cause per refusal: the budget; else too late if any channel was
 * only too deep; else lanes full. */
static int busy_cause(unsigned why)
{
	if (why & (1u << SMSR__BUSY_MEMORY))
		return SMSR__BUSY_MEMORY;
	return why & (1u << SMSR__BUSY_LATE) ? SMSR__BUSY_LATE : SMSR__BUSY_LANES;
}

static void reject(struct batch *b, const struct smsr_msg *m, const struct prepared *p, int reason,
		   unsigned why, struct smsr_result *res)
{
	struct smsr_router *r = b->r;
	int k = -reason - SMSR_EINVAL;

	b->rejected++;
	if (k >= 0 && k < SMSR_REASONS_MAX)
		atomic_fetch_add_explicit(&r->n_reason[k], 1, memory_order_relaxed);
	if (reason == -SMSR_EBUSY)
		atomic_fetch_add_explicit(&r->n_busy[busy_cause(why)], 1, memory_order_relaxed);
	if (res)
		*res =
		    (struct smsr_result){.status = reason, .cls = (uint8_t)p->cls, .channel = -1};
	if (r->on_event && (r->ev_mask & SMSR_EV_MASK(SMSR_EV_REJECTED))) {
		struct smsr_event ev = {
		    .ts_ns = b->now,
		    .type = SMSR_EV_REJECTED,
		    .cls = (uint8_t)p->cls,
		    .channel = -1,
		    .reason = reason,
		    .client_ref = m ? m->client_ref : NULL,
		    .recipient = p->e164_len > 0 ? p->e164 : (m ? m->recipient : NULL),
		};
		r->on_event(r->ev_arg, &ev);
	}
}

/* The channel a revived message that is not for a lane belongs to: the one
 * that has it (by name), or for one that ends now any channel (its counts). */
static int revive_chan(const struct batch *b, const struct smsr__revive *rv)
{
	for (size_t i = 0; rv->chan && i < b->snap->nchans; i++)
		if (strcmp(b->snap->chans[i]->cfg->name, rv->chan) == 0)
			return (int)b->snap->chans[i]->index;
	return b->snap->nchans ? (int)b->snap->chans[0]->index : -SMSR_ENOCHANNEL;
}

/* Give a revived message to its channel's worker: it awaits its receipt
 * there, or ends (smsr__chan_revive). Its record is the worker's after this. */
static int revive_hand(struct batch *b, struct smsr__rec *rec, const struct smsr__revive *rv)
{
	struct smsr_chan *c = &b->r->chans[rec->chan];
	struct smsr__ctl *ctl = calloc(1, sizeof(*ctl));
	bool here = rv->chan && strcmp(c->cfg->name, rv->chan) == 0;

	if (!ctl)
		return -SMSR_ENOMEM; /* accepted and recorded: it comes back next start */
	ctl->op = SMSR__CTL_REVIVE;
	ctl->chan = c->index;
	ctl->rec = rec;
	ctl->action = rv->action == SMSR__REVIVE_ADOPT && !here ? SMSR__REVIVE_FINISH : rv->action;
	ctl->type = rv->action == SMSR__REVIVE_ADOPT ? SMSR_EV_FAILED : rv->type;
	ctl->reason = rv->action == SMSR__REVIVE_ADOPT ? -SMSR_EUNKNOWNOUTCOME : rv->reason;
	snprintf(ctl->ids, sizeof(ctl->ids), "%s", rv->ids ? rv->ids : "");
	ctl->since_ns = rv->submitted_ns;
	rec->state = SMSR__REC_HANDOFF;
	while (smsr__worker_ctl(c->worker, ctl) == -SMSR_EBUSY)
		sched_yield(); /* at start, the workers take them as fast as they come */
	return 0;
}

static int submit_one(struct batch *b, const struct smsr_msg *m, const struct smsr_msg *next,
		      struct smsr_result *res)
{
	struct prepared p = {.cls = m ? (int)m->cls : 0, .e164_len = -1};
	struct smsr__rec *rec, *pre = b->ahead;
	size_t pre_size = b->ahead_size;
	uint64_t logical = b->ids++, charge;
	struct want w = {0};
	int carrier, chan, ret;

	b->ahead = NULL;
	alloc_ahead(b, next);
	ret = m ? validate(m, &p) : -SMSR_EINVAL;
	if (ret < 0) {
		if (pre)
			smsr__free(&b->r->arena, pre, pre_size);
		goto err;
	}
	rec = rec_alloc(b, m, &p, pre, pre_size);
	if (!rec) {
		ret = -SMSR_ENOMEM;
		goto err;
	}
	classify(b->r, m, &p);
	if (p.cls == SMSR_CLASS_MARKETING && smsr__optout_has(&b->r->optout, p.e164)) {
		smsr__free(&b->r->arena, rec, rec->alloc_size);
		ret = -SMSR_EOPTEDOUT;
		goto err;
	}
	carrier = smsr__carrier_lookup(b->snap->carriers, p.e164, (size_t)p.e164_len);
	/* A message brought back was accepted once: it is not refused for
	 * being late now (it expires if it cannot leave in time). */
	w.validity_ms = b->rv ? 0 : p.validity_ms;
	if (b->rv && b->rv->action != SMSR__REVIVE_QUEUE)
		chan = revive_chan(b, b->rv); /* not for a lane: nothing to admit */
	else
		chan = route(b->snap, p.cls, carrier, p.e164, mix(logical), -1, &w);
	if (chan < 0) {
		smsr__free(&b->r->arena, rec, rec->alloc_size);
		ret = chan;
		goto err;
	}
	/* After routing, so that a message no channel could take hears why. */
	charge = rec->alloc_size;
	if (!mem_take(b, charge, p.cls)) {
		atomic_fetch_sub_explicit(&b->r->chans[chan].admitted[p.cls - 1].v, 1,
					  memory_order_relaxed);
		smsr__free(&b->r->arena, rec, rec->alloc_size);
		w.why = 1u << SMSR__BUSY_MEMORY;
		ret = -SMSR_EBUSY;
		goto err;
	}
	fill(b, rec, m, &p);
	rec->id = id_make(b->r, logical);
	rec->carrier = (uint8_t)carrier;
	rec->chan = (uint16_t)chan;
	if (b->rv) {
		rec->id = b->rv->id;
		rec->accepted_ns = b->rv->accepted_ns;
		rec->attempt = b->rv->attempt ? b->rv->attempt : 1;
		rec->maybe_sent = b->rv->maybe_sent;
	}
	/* Accept -> record -> ack is this one place: the journal's refusal
	 * (disk full, failed, every buffer waiting for the disk) is the
	 * message's, and it changes nothing. */
	if (b->rv && b->rv->jlsn)
		rec->jlsn = b->rv->jlsn, ret = 0; /* its ACCEPT is still there */
	else
		ret = smsr__journal_accept(b->r, rec, b->now);
	if (ret == -SMSR_EBUSY && b->rv)
		ret = -EAGAIN; /* recovery waits for the journal (router_recover.c) */
	if (ret < 0) {
		if (!b->rv || b->rv->action == SMSR__REVIVE_QUEUE)
			atomic_fetch_sub_explicit(&b->r->chans[chan].admitted[p.cls - 1].v, 1,
						  memory_order_relaxed);
		b->credit += charge;
		smsr__free(&b->r->arena, rec, rec->alloc_size);
		goto err;
	}
	if (res)
		*res = (struct smsr_result){.id = rec->id,
					    .cls = rec->cls,
					    .carrier = rec->carrier,
					    .segments = rec->segments,
					    .channel = chan,
					    .durable_seq = rec->jlsn};
	b->accepted++;
	b->by_class[p.cls - 1]++;
	/* Before the hand-off, on this thread: when submit returns, the host
	 * has seen "accepted" (a status store can answer for the id at once),
	 * and the worker's events follow it. */
	smsr__emit_accepted(b->r, rec, b->now);
	if (b->rv && b->rv->action != SMSR__REVIVE_QUEUE)
		return revive_hand(b, rec, b->rv);
	chain_add(b, rec);
	return 0;
err:
	reject(b, m, &p, ret, w.why, res);
	return ret;
}

static void count(struct smsr_router *r, const struct batch *b, size_t n)
{
	atomic_fetch_add_explicit(&r->n_submitted.v, n, memory_order_relaxed);
	if (b->accepted)
		atomic_fetch_add_explicit(&r->n_accepted.v, b->accepted, memory_order_relaxed);
	if (b->rejected)
		atomic_fetch_add_explicit(&r->n_rejected.v, b->rejected, memory_order_relaxed);
	for (int i = 0; i < SMSR_NCLASS; i++)
		if (b->by_class[i])
			atomic_fetch_add_explicit(&r->n_class[i].v, b->by_class[i],
						  memory_order_relaxed);
}

/* Submit @n messages; *@last gets the last one's status. Returns the number
 * accepted or a negative code when none could be considered. */
static int submit_many(struct smsr_router *r, const struct smsr_msg *msgs, size_t n,
		       struct smsr_result *res, int *last, const struct smsr__revive *rv)
{
	struct chain chains[64] = {{0}};
	struct batch b = {.r = r, .chains = chains, .rv = rv};
	ck_epoch_section_t section;
	ck_epoch_record_t *erec;
	unsigned slot;

	atomic_fetch_add(&r->active, 1);
	if (!atomic_load(&r->running)) {
		atomic_fetch_sub(&r->active, 1);
		return -SMSR_ENOTRUNNING;
	}
	erec = smsr__epoch_lease(&r->epoch, &slot);
	ck_epoch_begin(erec, &section);
	b.snap = atomic_load_explicit(&r->snap, memory_order_acquire);
	b.now = smsr__now_ns();
	b.ids = ids_reserve(r, n ? n : 1);
	for (size_t i = 0; i < n; i++) {
		b.left = n - i;
		*last =
		    submit_one(&b, &msgs[i], i + 1 < n ? &msgs[i + 1] : NULL, res ? &res[i] : NULL);
	}
	if (b.credit)
		atomic_fetch_sub_explicit(&r->mem_charged.v, b.credit, memory_order_relaxed);
	for (unsigned w = 0; w < r->nworkers; w++)
		chain_flush(&b, w);
	smsr__epoch_end(&r->epoch, erec, &section);
	smsr__epoch_release(&r->epoch, slot);
	count(r, &b, n);
	atomic_fetch_sub(&r->active, 1);
	return (int)b.accepted;
}

int smsr__submit_revived(struct smsr_router *r, const struct smsr_msg *m,
			 const struct smsr__revive *rv)
{
	struct smsr_result res;
	int last = 0, ret;

	ret = submit_many(r, m, 1, &res, &last, rv);
	return ret < 0 ? ret : last;
}

int smsr_router_submit_batch(struct smsr_router *r, const struct smsr_msg *msgs, size_t n,
			     struct smsr_result *res)
{
	int last = 0;

	if (!r || !res || (!msgs && n) || n > INT32_MAX)
		return -SMSR_EINVAL;
	return submit_many(r, msgs, n, res, &last, NULL);
}

int smsr_router_submit(struct smsr_router *r, const struct smsr_msg *msg, struct smsr_result *res)
{
	int last = 0, ret;

	if (!r || !msg)
		return -SMSR_EINVAL;
	ret = submit_many(r, msg, 1, res, &last, NULL);
	return ret < 0 ? ret : last;
}
