/* SPDX-License-Identifier: MIT */
/*
 * Status events and final states.
 *
 * Events are built on the stack and passed to the host's callback at once;
 * pointers in them lend the record's strings for the call only. A record
 * reaches exactly one final state, here, and is freed right after its
 * final event: that is the invariant "every accepted message ends in
 * exactly one final state" in code.
 */
#include "router_int.h"

void smsr__emit_id(struct smsr_router *r, enum smsr_event_type type, const struct smsr__rec *rec,
		   int reason, int op_code, uint64_t now_ns, const char *carrier_msgid)
{
	struct smsr_event ev;

	if (r->journal)
		smsr__journal_event(r, type, rec, reason, op_code, carrier_msgid);
	if (!r->on_event || !(r->ev_mask & SMSR_EV_MASK(type)))
		return;
	ev = (struct smsr_event){
	    .id = rec->id,
	    /* A worker reads its clock once per turn: never report a time
	     * before the message was accepted. */
	    .ts_ns = now_ns > rec->accepted_ns ? now_ns : rec->accepted_ns,
	    .accepted_ns = rec->accepted_ns,
	    .type = (uint8_t)type,
	    .cls = rec->cls,
	    .carrier = rec->carrier,
	    .attempt = rec->attempt,
	    .channel = rec->chan,
	    .reason = reason,
	    .op_code = op_code,
	    .carrier_msgid = carrier_msgid	     ? carrier_msgid
			     : rec->carrier_msgid[0] ? rec->carrier_msgid
						     : NULL,
	    .client_ref = smsr__rec_ref(rec),
	    .tags = rec->tags_len ? smsr__rec_tags(rec) : NULL,
	    .recipient = rec->recipient,
	    .segments = rec->segments,
	    .tag = rec->tag,
	};
	r->on_event(r->ev_arg, &ev);
}

void smsr__emit_accepted(struct smsr_router *r, struct smsr__rec *rec, uint64_t now_ns)
{
	struct smsr_event ev;

	if (!r->on_event || !(r->ev_mask & SMSR_EV_MASK(SMSR_EV_ACCEPTED)))
		return;
	ev = (struct smsr_event){
	    .id = rec->id,
	    .ts_ns = now_ns,
	    .accepted_ns = rec->accepted_ns,
	    .type = SMSR_EV_ACCEPTED,
	    .cls = rec->cls,
	    .carrier = rec->carrier,
	    .attempt = rec->attempt,
	    .channel = rec->chan,
	    .client_ref = smsr__rec_ref(rec),
	    .tags = rec->tags_len ? smsr__rec_tags(rec) : NULL,
	    .recipient = rec->recipient,
	    .segments = rec->segments,
	    .tag_out = &rec->tag,
	};
	r->on_event(r->ev_arg, &ev);
}

void smsr__rec_finish_id(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec,
			 enum smsr_event_type type, int reason, int op_code,
			 const char *carrier_msgid)
{
	int k = type == SMSR_EV_DELIVERED ? 0 : type == SMSR_EV_FAILED ? 1 : 2;

	smsr__emit_id(w->r, type, rec, reason, op_code, w->now, carrier_msgid);
	SMSR__BUMP(w->finals[k], 1);
	SMSR__BUMP(w->mem_freed, rec->alloc_size);
	if (type == SMSR_EV_DELIVERED)
		SMSR__BUMP(c->stats.delivered, 1);
	else if (type == SMSR_EV_FAILED)
		SMSR__BUMP(c->stats.failed, 1);
	else
		SMSR__BUMP(c->stats.expired, 1);
	smsr__free(&w->r->arena, rec, rec->alloc_size);
}
