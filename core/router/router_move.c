/* SPDX-License-Identifier: MIT */
/*
 * Failover of queued messages: when a channel goes down, what waits in its
 * lanes moves to the other channels of each message's route rule, in the
 * same worker turn. A moved message keeps its id; messages of one lane keep
 * their order (they are taken and re-queued front to back, and a chain
 * handed to another worker is taken in order); each move is a QUEUED event
 * naming the new channel. A message with nowhere to go (every alternative
 * down or full) stays where it was and is sent when its channel is back,
 * or expires; the worker tries again whenever some channel comes up.
 */
#include "base/clock.h"
#include "router_int.h"

struct out_chain {
	struct smsr__rec *head, *tail;
};

static void append(struct out_chain *ch, struct smsr__rec *rec)
{
	rec->next = NULL;
	if (ch->tail)
		ch->tail->next = rec;
	else
		ch->head = rec;
	ch->tail = rec;
}

size_t smsr__chan_evacuate(struct smsr__worker *w, struct smsr_chan *c)
{
	struct smsr_router *r = w->r;
	struct out_chain stay = {0}, away[SMSR__WORKERS_MAX] = {{0}};
	struct smsr__rec *rec;
	const struct smsr__snapshot *snap;
	ck_epoch_section_t section;
	ck_epoch_record_t *erec;
	unsigned slot;
	size_t moved = 0;

	c->evacuate = false;
	c->evac_gen = atomic_load(&r->up_gen);
	smsr__chan_unstage(w, c); /* never sent: they move with the queue */
	rec = smsr__lanes_take_all(&c->lanes);
	if (!rec)
		return 0;
	erec = smsr__epoch_lease(&r->epoch, &slot);
	ck_epoch_begin(erec, &section);
	snap = atomic_load_explicit(&r->snap, memory_order_acquire);
	while (rec) {
		struct smsr__rec *next = rec->next;
		int to = smsr__route_pick(snap, rec->cls, rec->carrier, rec->recipient, rec->id,
					  (int)c->index);

		if (to < 0) {
			append(&stay, rec);
		} else {
			struct smsr_chan *nc = &r->chans[to];

			/* Out of this lane (the new one was charged by route_pick). */
			SMSR__BUMP(c->released[rec->cls - 1].v, 1);
			rec->chan = (uint16_t)to;
			moved++;
			if (nc->worker == w) {
				smsr__lanes_push(&nc->lanes, rec);
				smsr__emit(r, SMSR_EV_QUEUED, rec, 0, 0, w->now);
				nc->dispatch_at = 0;
			} else {
				append(&away[nc->worker->index], rec); /* QUEUED there */
			}
		}
		rec = next;
	}
	smsr__epoch_end(&r->epoch, erec, &section);
	smsr__epoch_release(&r->epoch, slot);
	for (unsigned i = 0; i < r->nworkers; i++)
		if (away[i].head)
			smsr__worker_push(&r->workers[i], away[i].head);
	/* What could not move goes back, in its order; it never left the lane's count. */
	for (rec = stay.head; rec;) {
		struct smsr__rec *next = rec->next;

		smsr__lanes_push(&c->lanes, rec);
		rec = next;
	}
	return moved;
}

bool smsr__chan_removed_step(struct smsr__worker *w, struct smsr_chan *c)
{
	struct smsr__rec *rec;

	/* Records handed off before the removal may still arrive: same fate. */
	if (smsr__lanes_queued(&c->lanes)) {
		smsr__chan_evacuate(w, c);
		for (rec = smsr__lanes_take_all(&c->lanes); rec;) {
			struct smsr__rec *next = rec->next;

			SMSR__BUMP(c->released[rec->cls - 1].v, 1);
			smsr__rec_finish(w, c, rec, SMSR_EV_FAILED, -SMSR_ENOCHANNEL, 0);
			rec = next;
		}
	}
	if (SMSR__LOAD(c->stats.inflight) || SMSR__LOAD(c->stats.awaiting_dlr))
		return false;
	c->removing = false;
	smsr__chan_close(c);
	return true;
}
