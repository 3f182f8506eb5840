/* SPDX-License-Identifier: MIT */
/*
 * Per-channel priority lanes and pacing.
 *
 * Every channel has three FIFO lanes, one per class. The scheduler decides
 * which message may go to the carrier now:
 *  - verification first, always;
 *  - verification owns @v_window window slots and a token reserve of
 *    @v_tokens segments that notice and marketing may never use, so a
 *    marketing backlog can never make a code wait for the carrier's pacing;
 *  - notice and marketing share the rest by weight (start-time fair
 *    queuing on segments), so neither starves;
 *  - pacing is a token bucket in segments (tps per second, @burst deep);
 *    the window bounds submits awaiting the carrier's answer.
 * Single-threaded: the worker that owns the channel is the only user.
 * Lane bounds are enforced at admission (router.c), not here.
 */
#ifndef SMSR_LANE_SCHED_H
#define SMSR_LANE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "smsr/msg.h"
#include "msg/msg_rec.h"

struct smsr__chan_cfg;

struct smsr__lane {
	struct smsr__rec *head;
	struct smsr__rec *tail;
	uint64_t count;
	uint64_t segs;	     /* segments of the members */
	uint64_t min_expiry; /* lower bound of members' expires_ns */
};

struct smsr__lanes {
	struct smsr__lane lane[SMSR_NCLASS]; /* index class - 1 */
	uint64_t vtime[SMSR_NCLASS];	     /* fair-queuing clocks (notice, marketing) */
	uint32_t weight[SMSR_NCLASS];
	uint32_t tps;	   /* segments per second, 0 unlimited */
	uint32_t window;   /* 0 unlimited */
	uint32_t v_window; /* slots only verification uses */
	uint32_t outstanding;
	double burst;
	double v_tokens;
	double tokens;
	uint64_t refill_ns; /* time @tokens was last brought up to date */
};

void smsr__lanes_init(struct smsr__lanes *l, const struct smsr__chan_cfg *cfg, uint64_t now_ns);

/* Append @rec to its class's lane. */
void smsr__lanes_push(struct smsr__lanes *l, struct smsr__rec *rec);

/*
 * Pop the message that may be sent now, charging its segments and a window
 * slot. Expired messages met at a lane head are unlinked onto *@expired
 * (a chain through ->next) instead. Returns NULL when nothing may go now;
 * then *@retry_ns is when pacing allows the next one (0: not blocked by
 * pacing — lanes empty or window full).
 */
struct smsr__rec *smsr__lanes_next(struct smsr__lanes *l, uint64_t now_ns, uint64_t *retry_ns,
				   struct smsr__rec **expired);

/* New granted rate @tps (0 unlimited): the bucket's depth follows it. */
void smsr__lanes_set_rate(struct smsr__lanes *l, uint32_t tps);

/* The carrier answered a submit: free its window slot. */
void smsr__lanes_answered(struct smsr__lanes *l);

/* The driver did not take @rec: put it back at its lane's head and refund. */
void smsr__lanes_unsend(struct smsr__lanes *l, struct smsr__rec *rec);

/* Unlink every message with expires_ns <= @now_ns onto *@expired; count. */
uint64_t smsr__lanes_expire(struct smsr__lanes *l, uint64_t now_ns, struct smsr__rec **expired);

/* Unlink everything (stop); returns a chain. */
struct smsr__rec *smsr__lanes_take_all(struct smsr__lanes *l);

static inline uint64_t smsr__lanes_queued(const struct smsr__lanes *l)
{
	return l->lane[0].count + l->lane[1].count + l->lane[2].count;
}

#endif
