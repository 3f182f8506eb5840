/* SPDX-License-Identifier: MIT */
/*
 * Requests: decode, check rights, dispatch. ping, auth, submit and status
 * are here; channels and stats in admin.c; subscriptions in hub.c. Every
 * call is answered before the next frame is read, so answers to one
 * connection leave in request order, which the protocol allows but does not
 * promise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "smsrd.h"
#include "status.h"

uint64_t srv_wall_ns(struct srv *s, uint64_t mono_ns)
{
	return mono_ns ? (uint64_t)((int64_t)mono_ns + s->wall_offset_ns) : 0;
}

void srv_fill_info(struct srv *s, Smsr__V1__ServerInfo *info)
{
	info->version = pb_str(SMSRD_VERSION);
	info->protocol_version = 1;
	info->max_frame = s->o.max_frame;
	info->max_calls = s->o.max_calls;
	info->max_batch = s->o.max_batch;
	info->auth_required = s->o.ntokens + s->o.nadmin > 0;
}

/* Constant time in the token's length: no early exit on the first difference. */
static bool token_in(const char *tok, char *const *list, unsigned n)
{
	size_t tl = strlen(tok);
	bool found = false;

	for (unsigned i = 0; i < n; i++) {
		size_t ll = strlen(list[i]);
		unsigned diff = (unsigned)(tl != ll);

		for (size_t k = 0; k < tl; k++)
			diff |=
			    (unsigned)(uint8_t)tok[k] ^ (unsigned)(uint8_t)list[i][k < ll ? k : 0];
		found |= diff == 0;
	}
	return found;
}

static void call_ping(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__PingResponse pr = SMSR__V1__PING_RESPONSE__INIT;
	Smsr__V1__ServerInfo info = SMSR__V1__SERVER_INFO__INIT;

	if (req->ping->payload.len > SMSRD_PING_MAX) {
		conn_reply_error(s, c, req->call_id, SMSR_EINVAL, "ping payload over 64 bytes");
		return;
	}
	srv_fill_info(s, &info);
	pr.payload = req->ping->payload;
	pr.server_time_unix_ns = srv_wall_ns(s, smsr_now_ns());
	pr.server = &info;
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_PING;
	resp.ping = &pr;
	conn_reply(s, c, &resp);
}

static void call_auth(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__AuthResponse ar = SMSR__V1__AUTH_RESPONSE__INIT;
	Smsr__V1__ServerInfo info = SMSR__V1__SERVER_INFO__INIT;
	const char *tok = req->auth->token ? req->auth->token : "";

	if (s->o.ntokens + s->o.nadmin > 0) {
		bool admin = token_in(tok, s->o.admin_tokens, s->o.nadmin);

		if (!admin && !token_in(tok, s->o.tokens, s->o.ntokens)) {
			conn_reply_error(s, c, req->call_id, SMSR_EUNAUTH, "invalid token");
			conn_close(s, c);
			return;
		}
		c->authed = true;
		c->admin = admin;
	}
	srv_fill_info(s, &info);
	ar.admin = c->admin;
	ar.server = &info;
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_AUTH;
	resp.auth = &ar;
	conn_reply(s, c, &resp);
}

static void call_submit(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__SubmitRequest *sr = req->submit;
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__SubmitResponse out = SMSR__V1__SUBMIT_RESPONSE__INIT;
	size_t n = sr->n_messages;
	struct smsr_msg *m;
	struct smsr_result *res;
	Smsr__V1__SubmitResult *pr, **pp;
	bool busy = false;
	uint64_t need = 0;
	size_t before;
	int got;

	if (n == 0 || n > s->o.max_batch) {
		conn_reply_error(s, c, req->call_id, SMSR_EINVAL,
				 n ? "batch larger than max_batch" : "empty batch");
		return;
	}
	m = arena_alloc(&s->ar, n * sizeof(*m));
	res = arena_alloc(&s->ar, n * sizeof(*res));
	pr = arena_alloc(&s->ar, n * sizeof(*pr));
	pp = arena_alloc(&s->ar, n * sizeof(*pp));
	if (!m || !res || !pr || !pp) {
		conn_reply_error(s, c, req->call_id, SMSR_ENOMEM, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const Smsr__V1__Message *pm = sr->messages[i];

		m[i] = (struct smsr_msg){
		    .recipient = pm->recipient,
		    .sender = pm->sender && pm->sender[0] ? pm->sender : NULL,
		    .text = pm->text,
		    .text_len = strlen(pm->text),
		    .client_ref = pm->client_ref && pm->client_ref[0] ? pm->client_ref : NULL,
		    .tags = pm->tags && pm->tags[0] ? pm->tags : NULL,
		    .cls = (enum smsr_class)pm->cls,
		    .validity_ms = pm->validity_ms,
		};
	}
	got = smsr_router_submit_batch(s->r, m, n, res);
	if (got < 0) {
		conn_reply_error(s, c, req->call_id, -got, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		smsr__v1__submit_result__init(&pr[i]);
		pp[i] = &pr[i];
		/* Known once classified, also when then rejected (opted_out, busy). */
		pr[i].cls = (Smsr__V1__MessageClass)res[i].cls;
		if (res[i].status == 0) {
			pr[i].id = res[i].id;
			pr[i].carrier = (Smsr__V1__Carrier)res[i].carrier;
			pr[i].segments = res[i].segments;
			if (res[i].channel >= 0 && res[i].channel < s->nchans)
				pr[i].channel = s->chan_names[res[i].channel];
		} else {
			pr[i].status = (uint32_t)-res[i].status;
			pr[i].reason = pb_str(smsr_errname(res[i].status));
			busy |= res[i].status == -SMSR_EBUSY;
		}
	}
	out.n_results = n;
	out.results = pp;
	out.accepted = (uint32_t)got;
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_SUBMIT;
	resp.submit = &out;
	before = c->out.len;
	conn_reply(s, c, &resp);
	/* Accepted means durable: with a journal (SYNC) the answer waits for
	 * the group commit that holds every message of the batch. */
	for (size_t i = 0; i < n; i++)
		if (res[i].status == 0 && res[i].durable_seq > need)
			need = res[i].durable_seq;
	if (need && s->o.journal_mode != SMSR_JOURNAL_BATCH && need > smsr_router_durable_seq(s->r))
		conn_hold(s, c, before, need);
	if (busy) {
		/* The router is full: stop reading this pusher for a moment. */
		c->resume_ns = smsr_now_ns() + SMSRD_MS;
		c->paused = true;
	}
}

static Smsr__V1__MessageStatus *status_to_pb(struct srv *s, const struct status_msg *sm)
{
	Smsr__V1__MessageStatus *ms = arena_alloc(&s->ar, sizeof(*ms));
	Smsr__V1__Event *ev = arena_alloc(&s->ar, sm->nhist * sizeof(*ev) + 1);
	Smsr__V1__Event **evp = arena_alloc(&s->ar, sm->nhist * sizeof(*evp) + 1);

	if (!ms || !ev || !evp)
		return NULL;
	smsr__v1__message_status__init(ms);
	ms->id = sm->id;
	ms->recipient = pb_str(sm->recipient);
	ms->cls = (Smsr__V1__MessageClass)sm->cls;
	ms->carrier = (Smsr__V1__Carrier)sm->carrier;
	ms->client_ref = pb_str(sm->client_ref);
	ms->tags = pb_str(sm->tags);
	ms->final = sm->final;
	ms->segments = sm->segments;
	for (unsigned i = 0; i < sm->nhist; i++) {
		const struct status_ev *h = &sm->hist[i];
		struct smsr_event e = {
		    .id = sm->id,
		    .ts_ns = h->ts_ns,
		    .accepted_ns = sm->accepted_ns,
		    .type = h->type,
		    .cls = sm->cls,
		    .carrier = sm->carrier,
		    .attempt = h->attempt,
		    .channel = h->channel,
		    .reason = h->reason,
		    .op_code = h->op_code,
		    .carrier_msgid = h->type >= SMSR_EV_SUBMITTED && h->type <= SMSR_EV_FAILED &&
					     sm->carrier_msgid[0]
					 ? sm->carrier_msgid
					 : NULL,
		    .client_ref = sm->client_ref,
		    .tags = sm->tags,
		    .recipient = sm->recipient,
		};

		event_to_pb(s, &s->ar, &e, 0, &ev[i]);
		evp[i] = &ev[i];
		ms->state = ev[i].type;
	}
	ms->n_history = sm->nhist;
	ms->history = evp;
	return ms;
}

static void call_status(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__StatusRequest *sr = req->status;
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__StatusResponse out = SMSR__V1__STATUS_RESPONSE__INIT;
	struct status_msg *sm;
	Smsr__V1__MessageStatus **list;
	int n;

	if (sr->key_case == SMSR__V1__STATUS_REQUEST__KEY_ID) {
		sm = arena_alloc(&s->ar, sizeof(*sm));
		n = sm && status_store_get(s->st, sr->id, sm) == 0 ? 1 : 0;
	} else if (sr->key_case == SMSR__V1__STATUS_REQUEST__KEY_CLIENT_REF && sr->client_ref[0]) {
		unsigned limit = sr->limit ? sr->limit : 10;

		if (limit > 100) {
			conn_reply_error(s, c, req->call_id, SMSR_EINVAL, "limit over 100");
			return;
		}
		sm = arena_alloc(&s->ar, limit * sizeof(*sm));
		n = sm ? status_store_by_ref(s->st, sr->client_ref, sm, (int)limit) : 0;
	} else {
		conn_reply_error(s, c, req->call_id, SMSR_EINVAL, "give an id or a client_ref");
		return;
	}
	if (n <= 0) {
		conn_reply_error(s, c, req->call_id, SMSR_ENOTFOUND,
				 "no such message (unknown, or older than the status retention)");
		return;
	}
	list = arena_alloc(&s->ar, (size_t)n * sizeof(*list));
	for (int i = 0; list && i < n; i++)
		if (!(list[i] = status_to_pb(s, &sm[i])))
			list = NULL;
	if (!list) {
		conn_reply_error(s, c, req->call_id, SMSR_ENOMEM, NULL);
		return;
	}
	out.n_messages = (size_t)n;
	out.messages = list;
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_STATUS;
	resp.status = &out;
	conn_reply(s, c, &resp);
}

void srv_call(struct srv *s, struct conn *c, const uint8_t *payload, size_t len)
{
	struct pb_limits lim = {.max_repeat = s->o.max_batch > 1024 ? s->o.max_batch : 1024};
	Smsr__V1__Request *req;
	uint64_t call_id;
	char why[160];
	bool needs_admin;
	int rc;

	s->stats.calls++;
	/* Nothing is unpacked that would cost more than its bytes, or whose
	 * strings a NUL would cut short. */
	rc = pb_check_request(payload, len, &lim, &call_id, why, sizeof(why));
	if (rc < 0) {
		s->stats.protocol_errors++;
		conn_reply_error(s, c, call_id, -rc, why);
		if (!c->authed)
			conn_close(s, c);
		return;
	}
	req = smsr__v1__request__unpack(&s->ar.pa, len, payload);
	if (!req) {
		s->stats.protocol_errors++;
		conn_reply_error(s, c, 0, SMSR_EBADPROTO, "the payload is not a valid Request");
		return;
	}
	if (req->call_id == 0) {
		conn_reply_error(s, c, 0, SMSR_EINVAL, "call_id 0 is reserved");
		return;
	}
	if (s->stopping) {
		conn_reply_error(s, c, req->call_id, SMSR_ESHUTDOWN, NULL);
		return;
	}
	needs_admin = req->body_case == SMSR__V1__REQUEST__BODY_CHANNEL_ADMIN ||
		      req->body_case == SMSR__V1__REQUEST__BODY_INJECT ||
		      req->body_case == SMSR__V1__REQUEST__BODY_RELOAD;
	if (req->body_case != SMSR__V1__REQUEST__BODY_PING &&
	    req->body_case != SMSR__V1__REQUEST__BODY_AUTH &&
	    req->body_case != SMSR__V1__REQUEST__BODY__NOT_SET) {
		if (!c->authed) {
			conn_reply_error(s, c, req->call_id, SMSR_EUNAUTH,
					 "authenticate first (auth call)");
			return;
		}
		if (needs_admin && !c->admin) {
			conn_reply_error(s, c, req->call_id, SMSR_EFORBIDDEN,
					 "this call needs an admin token");
			return;
		}
	}
	switch (req->body_case) {
	case SMSR__V1__REQUEST__BODY_PING:
		call_ping(s, c, req);
		break;
	case SMSR__V1__REQUEST__BODY_AUTH:
		call_auth(s, c, req);
		break;
	case SMSR__V1__REQUEST__BODY_SUBMIT:
		call_submit(s, c, req);
		break;
	case SMSR__V1__REQUEST__BODY_STATUS:
		call_status(s, c, req);
		break;
	case SMSR__V1__REQUEST__BODY_SUBSCRIBE:
		srv_call_subscribe(s, c, req);
		break;
	case SMSR__V1__REQUEST__BODY_UNSUBSCRIBE:
		srv_call_unsubscribe(s, c, req);
		break;
	case SMSR__V1__REQUEST__BODY_CHANNEL_LIST:
		srv_call_channels(s, c, req);
		break;
	case SMSR__V1__REQUEST__BODY_CHANNEL_ADMIN:
	case SMSR__V1__REQUEST__BODY_INJECT:
		srv_call_admin(s, c, req);
		break;
	case SMSR__V1__REQUEST__BODY_STATS:
		srv_call_stats(s, c, req);
		break;
	case SMSR__V1__REQUEST__BODY_RELOAD:
		srv_call_reload(s, c, req);
		break;
	case SMSR__V1__REQUEST__BODY_HISTORY:
		srv_call_history(s, c, req);
		break;
	default:
		conn_reply_error(s, c, req->call_id, SMSR_EUNKNOWNCALL,
				 "the request has no body, or one this server does not know");
		break;
	}
}
