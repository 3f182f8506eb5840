/* SPDX-License-Identifier: MIT */
/*
 * The history call (PROTOCOL.md): the router's archive through the
 * protocol, one page per call. The cursor is the router's page struct,
 * opaque to clients: what one answer's next_cursor holds goes back as is.
 */
#include <string.h>

#include "smsrd.h"

#define PAGE_MAX 1000

struct collect {
	struct srv *s;
	Smsr__V1__Event **ev;
	Smsr__V1__HistoryMessage **msg;
	size_t n, cap;
	bool oom;
};

static char *dup_str(struct srv *s, const char *v)
{
	size_t n = v ? strlen(v) : 0;
	char *p = arena_alloc(&s->ar, n + 1);

	if (p) {
		memcpy(p, v ? v : "", n);
		p[n] = '\0';
	}
	return p;
}

static int on_event(void *arg, const struct smsr_history_event *h)
{
	struct collect *co = arg;
	Smsr__V1__Event *e = arena_alloc(&co->s->ar, sizeof(*e));

	if (!e || co->n == co->cap) {
		co->oom = true;
		return 1;
	}
	smsr__v1__event__init(e);
	e->id = h->id;
	e->type = (Smsr__V1__EventType)h->type;
	e->time_unix_ns = h->ts_unix_ns;
	e->cls = (Smsr__V1__MessageClass)h->cls;
	e->carrier = (Smsr__V1__Carrier)h->carrier;
	e->attempt = h->attempt;
	e->channel = dup_str(co->s, h->channel);
	if (h->reason) {
		e->reason_code = (uint32_t)-h->reason;
		e->reason = pb_str(smsr_errname(h->reason));
	}
	e->op_code = h->op_code;
	e->carrier_msgid = dup_str(co->s, h->carrier_msgid);
	e->client_ref = dup_str(co->s, h->client_ref);
	e->tags = dup_str(co->s, h->tags);
	e->recipient = dup_str(co->s, h->recipient);
	co->ev[co->n++] = e;
	return 0;
}

static int on_msg(void *arg, const struct smsr_history_msg *h)
{
	struct collect *co = arg;
	Smsr__V1__HistoryMessage *m = arena_alloc(&co->s->ar, sizeof(*m));

	if (!m || co->n == co->cap) {
		co->oom = true;
		return 1;
	}
	smsr__v1__history_message__init(m);
	m->id = h->id;
	m->cls = (Smsr__V1__MessageClass)h->cls;
	m->carrier = (Smsr__V1__Carrier)h->carrier;
	m->recipient = dup_str(co->s, h->recipient);
	m->client_ref = dup_str(co->s, h->client_ref);
	m->tags = dup_str(co->s, h->tags);
	m->segments = h->segments;
	m->accepted_unix_ns = h->accepted_unix_ns;
	m->last_unix_ns = h->last_unix_ns;
	m->last_type = (Smsr__V1__EventType)h->last_type;
	m->final = h->final_type != 0xff;
	if (m->final) {
		m->final_type = (Smsr__V1__EventType)h->final_type;
		m->final_unix_ns = h->final_unix_ns;
		if (h->final_reason) {
			m->final_reason_code = (uint32_t)-h->final_reason;
			m->final_reason = pb_str(smsr_errname(h->final_reason));
		}
		m->final_op_code = h->final_op_code;
	}
	m->events = h->events;
	co->msg[co->n++] = m;
	return 0;
}

static int run(struct srv *s, const Smsr__V1__HistoryRequest *hr, struct smsr_history_page *pg,
	       struct collect *co)
{
	uint64_t to = hr->to_unix_ns ? hr->to_unix_ns : UINT64_MAX;

	switch (hr->key_case) {
	case SMSR__V1__HISTORY_REQUEST__KEY_ID:
		return smsr_router_history(s->r, hr->id, pg, on_event, co);
	case SMSR__V1__HISTORY_REQUEST__KEY_CLIENT_REF:
		return smsr_router_history_by_ref(s->r, hr->client_ref, pg, on_msg, co);
	case SMSR__V1__HISTORY_REQUEST__KEY_RECIPIENT:
		return smsr_router_history_by_recipient(s->r, hr->recipient, hr->from_unix_ns, to,
							pg, on_msg, co);
	case SMSR__V1__HISTORY_REQUEST__KEY_CHANNEL:
		return smsr_router_history_by_channel(s->r, hr->channel, hr->from_unix_ns, to, pg,
						      on_event, co);
	default:
		return -SMSR_EINVAL;
	}
}

void srv_call_history(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	const Smsr__V1__HistoryRequest *hr = req->history;
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__HistoryResponse out = SMSR__V1__HISTORY_RESPONSE__INIT;
	struct smsr_history_page pg = {0};
	struct collect co = {.s = s};
	uint32_t limit = hr->limit ? hr->limit : 100;
	int ret;

	if (limit > PAGE_MAX || (hr->cursor.len && hr->cursor.len != sizeof(pg))) {
		conn_reply_error(s, c, req->call_id, SMSR_EINVAL,
				 limit > PAGE_MAX ? "limit is at most 1000"
						  : "not a cursor of ours");
		return;
	}
	if (hr->cursor.len)
		memcpy(&pg, hr->cursor.data, sizeof(pg));
	pg.limit = limit;
	pg.newest_first = hr->newest_first;
	co.cap = limit;
	co.ev = arena_alloc(&s->ar, limit * sizeof(*co.ev));
	co.msg = arena_alloc(&s->ar, limit * sizeof(*co.msg));
	if (!co.ev || !co.msg) {
		conn_reply_error(s, c, req->call_id, SMSR_ENOMEM, NULL);
		return;
	}
	ret = run(s, hr, &pg, &co);
	if (ret < 0 || co.oom) {
		conn_reply_error(s, c, req->call_id, ret < 0 ? -ret : SMSR_ENOMEM,
				 ret == -SMSR_ESTATE ? "no history archive: smsrd runs without "
						       "--data-dir"
						     : NULL);
		return;
	}
	if (hr->key_case == SMSR__V1__HISTORY_REQUEST__KEY_ID ||
	    hr->key_case == SMSR__V1__HISTORY_REQUEST__KEY_CHANNEL) {
		out.n_events = co.n;
		out.events = co.ev;
	} else {
		out.n_messages = co.n;
		out.messages = co.msg;
	}
	if (pg.more) {
		uint8_t *cur = arena_alloc(&s->ar, sizeof(pg));

		if (cur) {
			memcpy(cur, &pg, sizeof(pg));
			out.next_cursor.data = cur;
			out.next_cursor.len = sizeof(pg);
		}
	}
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_HISTORY;
	resp.history = &out;
	conn_reply(s, c, &resp);
}
