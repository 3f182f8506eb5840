/* SPDX-License-Identifier: MIT */
/*
 * The history queries of the embedding API (router.h, smsr_router_history*):
 * the archive's rows as public structs. The page struct is the archive's
 * own, field for field, so it passes through; a static assertion keeps the
 * two in step.
 */
#include <string.h>

#include "journal/archive.h"
#include "router_int.h"

_Static_assert(sizeof(struct smsr_history_page) == sizeof(struct smsr__archive_page),
	       "smsr_history_page mirrors smsr__archive_page");

struct relay {
	smsr_history_event_cb *ev_cb;
	smsr_history_msg_cb *msg_cb;
	void *arg;
};

static int relay_row(void *arg, const struct smsr__archive_row *row)
{
	const struct relay *rl = arg;
	struct smsr_history_event ev = {
	    .id = row->id,
	    .ts_unix_ns = row->ts_ns,
	    .type = row->type,
	    .cls = row->cls,
	    .carrier = row->carrier,
	    .attempt = row->attempt,
	    .reason = row->reason,
	    .op_code = row->op_code,
	    .segments = row->segments,
	    .channel = row->channel_name,
	    .carrier_msgid = row->carrier_msgid,
	    .recipient = row->recipient,
	    .client_ref = row->client_ref,
	    .tags = row->tags,
	};

	return rl->ev_cb(rl->arg, &ev);
}

static int relay_msg(void *arg, const struct smsr__archive_msg *m)
{
	const struct relay *rl = arg;
	struct smsr_history_msg hm = {
	    .id = m->id,
	    .accepted_unix_ns = m->accepted_ns,
	    .last_unix_ns = m->last_ns,
	    .final_unix_ns = m->final_ns,
	    .cls = m->cls,
	    .carrier = m->carrier,
	    .last_type = m->last_type,
	    .final_type = m->final_type,
	    .final_reason = m->final_reason,
	    .final_op_code = m->final_op_code,
	    .segments = m->segments,
	    .events = m->events,
	    .recipient = m->recipient,
	    .client_ref = m->client_ref,
	    .tags = m->tags,
	};

	return rl->msg_cb(rl->arg, &hm);
}

static struct smsr__archive *db(const struct smsr_router *r)
{
	return r ? smsr__archiver_db(r) : NULL;
}

int smsr_router_history(struct smsr_router *r, uint64_t id, struct smsr_history_page *page,
			smsr_history_event_cb *cb, void *arg)
{
	struct relay rl = {.ev_cb = cb, .arg = arg};

	if (!db(r))
		return -SMSR_ESTATE;
	if (!page || !cb)
		return -SMSR_EINVAL;
	return smsr__archive_history(db(r), id, (struct smsr__archive_page *)page, relay_row, &rl);
}

int smsr_router_history_by_ref(struct smsr_router *r, const char *client_ref,
			       struct smsr_history_page *page, smsr_history_msg_cb *cb, void *arg)
{
	struct relay rl = {.msg_cb = cb, .arg = arg};

	if (!db(r))
		return -SMSR_ESTATE;
	if (!page || !cb || !client_ref)
		return -SMSR_EINVAL;
	return smsr__archive_by_ref(db(r), client_ref, (struct smsr__archive_page *)page, relay_msg,
				    &rl);
}

int smsr_router_history_by_recipient(struct smsr_router *r, const char *number, uint64_t t0,
				     uint64_t t1, struct smsr_history_page *page,
				     smsr_history_msg_cb *cb, void *arg)
{
	struct relay rl = {.msg_cb = cb, .arg = arg};
	char e164[SMSR_E164_MAX + 1];

	if (!db(r))
		return -SMSR_ESTATE;
	if (!page || !cb || !number || smsr_e164_normalize(number, e164) < 0)
		return -SMSR_EINVAL;
	return smsr__archive_by_recipient(db(r), e164, t0, t1, (struct smsr__archive_page *)page,
					  relay_msg, &rl);
}

int smsr_router_history_by_channel(struct smsr_router *r, const char *channel, uint64_t t0,
				   uint64_t t1, struct smsr_history_page *page,
				   smsr_history_event_cb *cb, void *arg)
{
	struct relay rl = {.ev_cb = cb, .arg = arg};

	if (!db(r))
		return -SMSR_ESTATE;
	if (!page || !cb || !channel)
		return -SMSR_EINVAL;
	return smsr__archive_by_channel(db(r), channel, t0, t1, (struct smsr__archive_page *)page,
					relay_row, &rl);
}
