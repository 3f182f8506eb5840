/* SPDX-License-Identifier: MIT */
/*
 * Lane scheduling: which queued message goes to the carrier next, and when.
 * See lane_sched.h for the rules. The invariant that matters: notice and
 * marketing never take the last @v_window window slots nor dip the bucket
 * below @v_tokens, so verification always finds room.
 */
#include <stddef.h>

#include "cfg/cfg.h"
#include "base/clock.h"
#include "lane_sched.h"

#define VT_SCALE 1000000ull /* fair-queuing clock units per segment at weight 1 */
#define LANE_V	 0
#define LANE_N	 1
#define LANE_M	 2

void smsr__lanes_init(struct smsr__lanes *l, const struct smsr__chan_cfg *cfg, uint64_t now_ns)
{
	*l = (struct smsr__lanes){0};
	for (int i = 0; i < SMSR_NCLASS; i++) {
		l->lane[i].min_expiry = UINT64_MAX;
		l->weight[i] = cfg->weight[i] ? cfg->weight[i] : 1;
	}
	l->tps = cfg->tps;
	l->window = cfg->window;
	l->v_window = cfg->window && cfg->v_window >= cfg->window ? cfg->window - 1 : cfg->v_window;
	l->burst = cfg->burst ? cfg->burst : (cfg->tps / 10 ? cfg->tps / 10 : 1);
	l->v_tokens = cfg->v_tokens;
	if (l->burst < l->v_tokens + 1)
		l->burst = l->v_tokens + 1;
	l->tokens = l->burst;
	l->refill_ns = now_ns;
}

void smsr__lanes_set_rate(struct smsr__lanes *l, uint32_t tps)
{
	l->tps = tps;
	l->burst = tps / 10 ? tps / 10 : 1;
	if (l->burst < l->v_tokens + 1)
		l->burst = l->v_tokens + 1;
	if (l->tokens > l->burst)
		l->tokens = l->burst;
}

void smsr__lanes_push(struct smsr__lanes *l, struct smsr__rec *rec)
{
	struct smsr__lane *ln = &l->lane[rec->cls - 1];

	rec->next = NULL;
	if (ln->tail)
		ln->tail->next = rec;
	else
		ln->head = rec;
	ln->tail = rec;
	ln->segs += rec->segments;
	if (ln->count++ == 0 && rec->cls != SMSR_CLASS_VERIFICATION) {
		/* A lane that was idle rejoins at the busy lane's clock, so it
		 * gets its share from now on, not a burst of "owed" sends. */
		uint64_t other = l->vtime[rec->cls == SMSR_CLASS_NOTICE ? LANE_M : LANE_N];

		if (l->vtime[rec->cls - 1] < other)
			l->vtime[rec->cls - 1] = other;
	}
	if (smsr__rec_expires(rec) < ln->min_expiry)
		ln->min_expiry = smsr__rec_expires(rec);
}

static struct smsr__rec *lane_pop(struct smsr__lane *ln)
{
	struct smsr__rec *rec = ln->head;

	ln->head = rec->next;
	if (!ln->head) {
		ln->tail = NULL;
		ln->min_expiry = UINT64_MAX;
	}
	ln->count--;
	ln->segs -= rec->segments;
	rec->next = NULL;
	return rec;
}

static void refill(struct smsr__lanes *l, uint64_t now_ns)
{
	if (l->tps == 0 || now_ns <= l->refill_ns)
		return;
	l->tokens += (double)(now_ns - l->refill_ns) * l->tps / 1e9;
	if (l->tokens > l->burst)
		l->tokens = l->burst;
	l->refill_ns = now_ns;
}

/* Drop expired heads of @ln onto *@expired; true if a live head remains. */
static bool live_head(struct smsr__lane *ln, uint64_t now_ns, struct smsr__rec **expired)
{
	while (ln->head && smsr__rec_expires(ln->head) <= now_ns) {
		struct smsr__rec *rec = lane_pop(ln);

		rec->next = *expired;
		*expired = rec;
	}
	return ln->head != NULL;
}

/* Tokens a send of @segs needs before it may go, for lane @li. */
static double tokens_needed(const struct smsr__lanes *l, int li, unsigned segs)
{
	/* Verification may go with any positive balance (a long message
	 * borrows); the others must leave the reserve untouched. */
	return li == LANE_V ? 1.0 : l->v_tokens + segs;
}

static bool window_open(const struct smsr__lanes *l, int li)
{
	if (l->window == 0)
		return true;
	return l->outstanding < (li == LANE_V ? l->window : l->window - l->v_window);
}

/* Notice or marketing, whichever is behind its weighted share. */
static int pick_nm(struct smsr__lanes *l, uint64_t now_ns, struct smsr__rec **expired)
{
	bool n = live_head(&l->lane[LANE_N], now_ns, expired);
	bool m = live_head(&l->lane[LANE_M], now_ns, expired);

	if (n && m)
		return l->vtime[LANE_N] <= l->vtime[LANE_M] ? LANE_N : LANE_M;
	return n ? LANE_N : m ? LANE_M : -1;
}

static struct smsr__rec *take(struct smsr__lanes *l, int li)
{
	struct smsr__rec *rec = lane_pop(&l->lane[li]), *next = l->lane[li].head;

	/* The next record was last written on the submitting thread's core:
	 * start pulling it here while this one is sent. */
	if (next) {
		__builtin_prefetch(next, 1);
		__builtin_prefetch((char *)next + 64, 1);
	}

	if (l->tps)
		l->tokens -= rec->segments;
	l->outstanding++;
	if (li != LANE_V)
		l->vtime[li] += VT_SCALE * rec->segments / l->weight[li];
	return rec;
}

static uint64_t retry_at(const struct smsr__lanes *l, double need, uint64_t now_ns)
{
	double missing = need - l->tokens;

	return now_ns + (uint64_t)(missing * 1e9 / l->tps) + 1000;
}

struct smsr__rec *smsr__lanes_next(struct smsr__lanes *l, uint64_t now_ns, uint64_t *retry_ns,
				   struct smsr__rec **expired)
{
	int li;
	double need;

	*retry_ns = 0;
	refill(l, now_ns);
	if (live_head(&l->lane[LANE_V], now_ns, expired) && window_open(l, LANE_V)) {
		need = tokens_needed(l, LANE_V, l->lane[LANE_V].head->segments);
		if (l->tps == 0 || l->tokens >= need)
			return take(l, LANE_V);
		*retry_ns = retry_at(l, need, now_ns);
		return NULL; /* nothing overtakes a waiting code */
	}
	li = pick_nm(l, now_ns, expired);
	if (li < 0 || !window_open(l, li))
		return NULL;
	need = tokens_needed(l, li, l->lane[li].head->segments);
	if (l->tps == 0 || l->tokens >= need)
		return take(l, li);
	*retry_ns = retry_at(l, need, now_ns);
	return NULL;
}

void smsr__lanes_answered(struct smsr__lanes *l)
{
	if (l->outstanding)
		l->outstanding--;
}

void smsr__lanes_unsend(struct smsr__lanes *l, struct smsr__rec *rec)
{
	struct smsr__lane *ln = &l->lane[rec->cls - 1];
	int li = rec->cls - 1;

	rec->next = ln->head;
	ln->head = rec;
	if (!ln->tail)
		ln->tail = rec;
	ln->count++;
	ln->segs += rec->segments;
	if (smsr__rec_expires(rec) < ln->min_expiry)
		ln->min_expiry = smsr__rec_expires(rec);
	if (l->tps)
		l->tokens += rec->segments;
	smsr__lanes_answered(l);
	if (li != LANE_V)
		l->vtime[li] -= VT_SCALE * rec->segments / l->weight[li];
}

static uint64_t lane_expire(struct smsr__lane *ln, uint64_t now_ns, struct smsr__rec **expired)
{
	struct smsr__rec **pp = &ln->head, *prev = NULL;
	uint64_t n = 0, segs = 0, min = UINT64_MAX;

	if (ln->min_expiry > now_ns)
		return 0;
	while (*pp) {
		struct smsr__rec *rec = *pp;

		if (smsr__rec_expires(rec) <= now_ns) {
			*pp = rec->next;
			rec->next = *expired;
			*expired = rec;
			n++;
			segs += rec->segments;
			continue;
		}
		if (smsr__rec_expires(rec) < min)
			min = smsr__rec_expires(rec);
		prev = rec;
		pp = &rec->next;
	}
	ln->tail = prev;
	ln->count -= n;
	ln->segs -= segs;
	ln->min_expiry = min;
	return n;
}

uint64_t smsr__lanes_expire(struct smsr__lanes *l, uint64_t now_ns, struct smsr__rec **expired)
{
	uint64_t n = 0;

	for (int i = 0; i < SMSR_NCLASS; i++)
		n += lane_expire(&l->lane[i], now_ns, expired);
	return n;
}

struct smsr__rec *smsr__lanes_take_all(struct smsr__lanes *l)
{
	struct smsr__rec *all = NULL;

	for (int i = 0; i < SMSR_NCLASS; i++) {
		struct smsr__lane *ln = &l->lane[i];

		if (ln->tail) {
			ln->tail->next = all;
			all = ln->head;
		}
		ln->head = ln->tail = NULL;
		ln->count = ln->segs = 0;
		ln->min_expiry = UINT64_MAX;
	}
	return all;
}
