/* SPDX-License-Identifier: MIT */
/*
 * Delivery receipts by carrier message id, and the resend of a message
 * whose receipt says it was not delivered (补发).
 *
 * A receipt names a part by the id the carrier gave it; the channel's
 * receipt index (router_dlr.h) finds the message. A message sent as
 * several parts is delivered when its last part is, failed as soon as one
 * part fails; the other parts' receipts then find nothing and count as
 * stale. A failed receipt may send the message once more, through another
 * channel of its route (router.retry.resend_undelivered): the message
 * keeps its id, and one QUEUED event with the receipt's reason and
 * operator code tells the move. Everything here runs on the worker that
 * owns the channel.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "router_int.h"

int smsr_chan_receipt(struct smsr_chan *c, const char *carrier_msgid, int status, int op_code)
{
	struct smsr__worker *w = c->worker;
	size_t len = carrier_msgid ? strnlen(carrier_msgid, SMSR_CARRIER_ID_MAX + 1) : 0;
	uint32_t e = 0, slot = 0, gen = 0;
	unsigned part = 0;
	struct smsr__rec *rec;

	smsr__chan_index(c);
	if (len && len <= SMSR_CARRIER_ID_MAX)
		e = smsr__dlr_find(&c->dlr, carrier_msgid, len, &slot, &gen, &part);
	if (!e) {
		SMSR__BUMP(w->stale_reports, 1);
		return -SMSR_ENOTFOUND;
	}
	rec = c->slots[slot].rec;
	/* The index holds only parts awaiting their report (router_dlr.h). */
	assert(rec && c->slots[slot].gen == gen && rec->state == SMSR__REC_AWAIT_DLR);
	if (status == 0 && --rec->parts_left > 0) {
		smsr__dlr_done(&c->dlr, e); /* a second receipt for it is stale */
		return 0;
	}
	smsr__chan_report(w, c, rec, status, op_code, carrier_msgid);
	return 0;
}

void smsr__receipt_inject(struct smsr_chan *c, const char *msgid, const char *value)
{
	int status = 0, op_code = 0;

	if (sscanf(value, "%d %d", &status, &op_code) < 1)
		return;
	(void)smsr_chan_receipt(c, msgid, status, op_code);
}

/* The receipt says the carrier could not deliver it: worth sending again.
 * An unknown outcome (delivery_unknown) is not: it may have arrived. */
static bool undelivered(int reason)
{
	return reason == -SMSR_EUNDELIVERED || reason == -SMSR_EREJECTED ||
	       reason == -SMSR_ECARRIEREXPIRED || reason == -SMSR_ECARRIERDELETED;
}

/* Pick and admit another channel than @c of @rec's route; < 0 none. */
static int pick_other(struct smsr__worker *w, const struct smsr_chan *c,
		      const struct smsr__rec *rec)
{
	struct smsr_router *r = w->r;
	ck_epoch_section_t section;
	ck_epoch_record_t *erec;
	unsigned slot;
	int to;

	erec = smsr__epoch_lease(&r->epoch, &slot);
	ck_epoch_begin(erec, &section);
	to = smsr__route_pick(atomic_load_explicit(&r->snap, memory_order_acquire), rec->cls,
			      rec->carrier, rec->recipient, rec->id + rec->attempt, (int)c->index);
	smsr__epoch_end(&r->epoch, erec, &section);
	smsr__epoch_release(&r->epoch, slot);
	return to;
}

/* Queue @rec, admitted on channel @to, there: the QUEUED event names the
 * failed receipt (@reason, @op_code, @msgid). */
static void redeliver(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec, int to,
		      int reason, int op_code, const char *msgid)
{
	struct smsr_chan *nc = &w->r->chans[to];

	SMSR__BUMP(c->stats.redelivered, 1);
	rec->redelivered = 1;
	rec->maybe_sent = 1;
	rec->attempt++;
	rec->chan = (uint16_t)to;
	rec->next = NULL;
	smsr__emit_id(w->r, SMSR_EV_QUEUED, rec, reason, op_code, w->now, msgid);
	rec->carrier_msgid[0] = '\0'; /* the next carrier will name it anew */
	rec->parts_left = 0;
	if (nc->worker != w) {
		smsr__worker_push(nc->worker, rec); /* a plain QUEUED there too */
		return;
	}
	rec->state = SMSR__REC_QUEUED;
	smsr__lanes_push(&nc->lanes, rec);
	nc->dispatch_at = 0;
}

void smsr__receipt_failed(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec,
			  int reason, int op_code, const char *msgid)
{
	const struct smsr_config *cfg = &w->r->cfg;
	int to = -1;

	if (undelivered(reason) && (cfg->resend_undelivered & SMSR__CLASS_BIT(rec->cls)) &&
	    !rec->redelivered && rec->attempt < cfg->max_attempts &&
	    rec->attempt < SMSR__ATTEMPTS_MAX && w->now < smsr__rec_expires(rec))
		to = pick_other(w, c, rec);
	if (to < 0) {
		smsr__rec_finish_id(w, c, rec, SMSR_EV_FAILED, reason, op_code, msgid);
		return;
	}
	redeliver(w, c, rec, to, reason, op_code, msgid);
}
