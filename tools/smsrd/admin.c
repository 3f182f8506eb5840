/* SPDX-License-Identifier: MIT */
/* channel_list, channel_admin, inject and stats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsrd.h"
#include "status.h"

/* Every channel's info, malloc'd (*@n of them); NULL on OOM. */
static struct smsr_channel_info *channels(struct srv *s, int *n)
{
	struct smsr_channel_info *ci = malloc(SRV_CHANS_MAX * sizeof(*ci));
	int k = ci ? smsr_router_channels(s->r, ci, SRV_CHANS_MAX) : 0;

	*n = k < SRV_CHANS_MAX ? k : SRV_CHANS_MAX;
	return ci;
}

/* The names events and results carry; again after channels were added. */
void srv_refresh_channels(struct srv *s)
{
	int n;
	struct smsr_channel_info *ci = channels(s, &n);

	for (int i = 0; ci && i < n; i++) {
		size_t len = strnlen(ci[i].name, sizeof(s->chan_names[i]) - 1);

		memcpy(s->chan_names[i], ci[i].name, len);
		s->chan_names[i][len] = '\0';
	}
	if (ci)
		s->nchans = n;
	free(ci);
}

static Smsr__V1__ChannelInfo *info_to_pb(struct srv *s, const struct smsr_channel_info *ci)
{
	Smsr__V1__ChannelInfo *p = arena_alloc(&s->ar, sizeof(*p));
	Smsr__V1__LaneCounters *lc = arena_alloc(&s->ar, SMSR_NCLASS * sizeof(*lc));
	Smsr__V1__LaneCounters **lp = arena_alloc(&s->ar, SMSR_NCLASS * sizeof(*lp));

	if (!p || !lc || !lp)
		return NULL;
	smsr__v1__channel_info__init(p);
	p->name = arena_strdup(&s->ar, ci->name);
	p->driver = arena_strdup(&s->ar, ci->driver);
	p->index = ci->index;
	p->state = (Smsr__V1__ChannelState)ci->state;
	if (ci->state == SMSR_CHAN_DOWN && ci->down_reason) {
		p->down_code = (uint32_t)-ci->down_reason;
		p->down_reason = pb_str(smsr_errname(ci->down_reason));
	}
	p->tps = ci->tps;
	p->window = ci->window;
	p->inflight = ci->inflight;
	p->awaiting_dlr = ci->awaiting_dlr;
	for (int k = 0; k < SMSR_NCLASS; k++) {
		smsr__v1__lane_counters__init(&lc[k]);
		lc[k].cls = (Smsr__V1__MessageClass)(k + 1);
		lc[k].queued = ci->queued[k];
		lc[k].score = ci->score[k];
		lc[k].wait_ms = ci->wait_ms[k];
		lp[k] = &lc[k];
	}
	p->n_lanes = SMSR_NCLASS;
	p->lanes = lp;
	p->submitted = ci->submitted;
	p->accepted = ci->accepted;
	p->delivered = ci->delivered;
	p->failed = ci->failed;
	p->expired = ci->expired;
	p->throttled = ci->throttled;
	p->retried = ci->retried;
	p->resent = ci->resent;
	p->redelivered = ci->redelivered;
	p->rate_cuts = ci->rate_cuts;
	p->breaker_opens = ci->breaker_opens;
	p->breaker = (Smsr__V1__Breaker)ci->breaker;
	p->send_tps = ci->send_tps;
	p->latency_us = ci->latency_us;
	p->report_ms = ci->report_ms;
	p->delivery_permille = ci->delivery_pm;
	p->error_pct = ci->error_pct;
	p->latency_p50_us = ci->latency_p50_us;
	p->latency_p99_us = ci->latency_p99_us;
	p->price = ci->price;
	return p;
}

/* The channels named @want (empty: all) as protobuf, *@k of them; NULL on OOM. */
static Smsr__V1__ChannelInfo **list_to_pb(struct srv *s, const struct smsr_channel_info *ci, int n,
					  const char *want, size_t *k)
{
	Smsr__V1__ChannelInfo **list = arena_alloc(&s->ar, (size_t)n * sizeof(*list) + 1);

	*k = 0;
	for (int i = 0; list && i < n; i++)
		if (!want[0] || !strcmp(want, ci[i].name))
			if (!(list[(*k)++] = info_to_pb(s, &ci[i])))
				return NULL;
	return list;
}

void srv_call_channels(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__ChannelListResponse out = SMSR__V1__CHANNEL_LIST_RESPONSE__INIT;
	Smsr__V1__ChannelInfo **list;
	const char *want = req->channel_list->name;
	int n;
	struct smsr_channel_info *ci = channels(s, &n);
	size_t k = 0;

	list = ci ? list_to_pb(s, ci, n, want, &k) : NULL;
	free(ci);
	if (!list) {
		conn_reply_error(s, c, req->call_id, SMSR_ENOMEM, NULL);
		return;
	}
	if (want[0] && !k) {
		conn_reply_error(s, c, req->call_id, SMSR_ENOTFOUND, "no channel of that name");
		return;
	}
	out.n_channels = k;
	out.channels = list;
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_CHANNEL_LIST;
	resp.channel_list = &out;
	conn_reply(s, c, &resp);
}

static int do_admin(struct srv *s, Smsr__V1__ChannelAdminRequest *a, int idx, const char **why)
{
	switch (a->op_case) {
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_PAUSE:
		return smsr_router_channel_pause(s->r, idx);
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_RESUME:
		return smsr_router_channel_resume(s->r, idx);
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_DRAIN:
		return smsr_router_channel_drain(s->r, idx);
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_REMOVE:
		return smsr_router_channel_remove(s->r, idx);
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_SET_RATE:
		*why = "tps over 1000000";
		return smsr_router_channel_set_rate(s->r, idx, a->set_rate->tps);
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_SET_WEIGHT:
		*why = "weight must be 1..1000";
		return smsr_router_channel_set_weight(s->r, idx, a->set_weight->weight);
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_CTL:
		if (!a->ctl->key[0]) {
			*why = "ctl needs a key";
			return -SMSR_EINVAL;
		}
		return smsr_router_channel_ctl(s->r, idx, a->ctl->key, a->ctl->value);
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP__NOT_SET:
		*why = "no operation given";
		return -SMSR_EINVAL;
	default:
		*why = "this operation is not supported by this smsrd yet";
		return -SMSR_ESTATE;
	}
}

static const char *op_name(Smsr__V1__ChannelAdminRequest__OpCase op)
{
	switch (op) {
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_PAUSE:
		return "paused";
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_RESUME:
		return "resumed";
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_DRAIN:
		return "draining";
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_SET_RATE:
		return "rate changed";
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_SET_WEIGHT:
		return "weight changed";
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_REMOVE:
		return "removed";
	case SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_ADD:
		return "added";
	default:
		return "driver ctl";
	}
}

/* One delivery report from outside: find the message, hand the report on. */
static int inject_dlr(struct srv *s, const Smsr__V1__DeliveryReport *d, uint64_t *id,
		      const char **why)
{
	struct status_msg *sm = arena_alloc(&s->ar, sizeof(*sm));
	int idx = -1;

	if (!d->carrier_msgid[0] || (d->status != 0 && d->status != SMSR_EUNDELIVERED)) {
		*why = "need carrier_msgid, and status 0 or 1023";
		return -SMSR_EINVAL;
	}
	if (d->channel[0] && (idx = smsr_router_channel_find(s->r, d->channel)) < 0)
		return -SMSR_ENOTFOUND;
	for (int i = idx < 0 ? 0 : idx; i < (idx < 0 ? s->nchans : idx + 1); i++)
		if (status_store_by_carrier_msgid(s->st, i, d->carrier_msgid, id) == 0) {
			idx = i;
			break;
		}
	if (!*id || !sm || status_store_get(s->st, *id, sm)) {
		*id = 0;
		return -SMSR_ENOTFOUND;
	}
	if (sm->final) {
		*why = "the message already has its final state";
		return -SMSR_ESTATE;
	}
	return smsr_router_inject_dlr(s->r, idx, d->carrier_msgid, -(int)d->status, d->op_code);
}

/* One MO reply: SMSR_MO_* or a negative code. */
static int inject_mo(struct srv *s, const Smsr__V1__MoReply *mo)
{
	int idx = -1, rc;

	if (mo->channel[0] && (idx = smsr_router_channel_find(s->r, mo->channel)) < 0)
		return -SMSR_ENOTFOUND;
	if (!mo->from_number[0])
		return -SMSR_EINVAL;
	rc = smsr_router_inject_mo(s->r, mo->from_number, mo->to_number, mo->text, idx);
	/* On disk before the answer: an acknowledged opt-out survives a crash. */
	if (rc == SMSR_MO_OPT_OUT || rc == SMSR_MO_OPT_IN) {
		int w = optout_log_append(s, rc, mo->from_number);

		if (w < 0)
			return w;
	}
	return rc;
}

static void call_inject(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__InjectRequest *ir = req->inject;
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__InjectResponse out = SMSR__V1__INJECT_RESPONSE__INIT;
	Smsr__V1__InjectResult *res, **rp;

	if (!ir->n_items || ir->n_items > s->o.max_batch) {
		conn_reply_error(s, c, req->call_id, SMSR_EINVAL,
				 ir->n_items ? "more items than max_batch" : "no items");
		return;
	}
	res = arena_alloc(&s->ar, ir->n_items * sizeof(*res));
	rp = arena_alloc(&s->ar, ir->n_items * sizeof(*rp));
	if (!res || !rp) {
		conn_reply_error(s, c, req->call_id, SMSR_ENOMEM, NULL);
		return;
	}
	for (size_t i = 0; i < ir->n_items; i++) {
		const Smsr__V1__InjectItem *it = ir->items[i];
		const char *why = NULL;
		uint64_t id = 0;
		int rc;

		smsr__v1__inject_result__init(&res[i]);
		rp[i] = &res[i];
		if (it->kind_case == SMSR__V1__INJECT_ITEM__KIND_DLR) {
			rc = inject_dlr(s, it->dlr, &id, &why);
		} else if (it->kind_case == SMSR__V1__INJECT_ITEM__KIND_MO) {
			rc = inject_mo(s, it->mo);
			if (rc >= 0) {
				res[i].mo_action = (Smsr__V1__MoAction)rc;
				rc = 0;
			}
		} else {
			rc = -SMSR_EINVAL;
		}
		(void)why;
		res[i].id = rc == 0 ? id : 0;
		if (rc) {
			res[i].status = (uint32_t)-rc;
			res[i].reason = pb_str(smsr_errname(rc));
		}
	}
	out.n_results = ir->n_items;
	out.results = rp;
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_INJECT;
	resp.inject = &out;
	conn_reply(s, c, &resp);
}

/* channel_admin add: the text must name the channel the call names. */
static int add_channel(struct srv *s, const Smsr__V1__ChannelAdminRequest *a, char *err,
		       size_t errlen)
{
	int idx;

	if (!a->name[0] || !a->add->config[0]) {
		snprintf(err, errlen, "need the channel's name and its config");
		return -SMSR_EINVAL;
	}
	idx = smsr_router_channel_add(s->r, a->add->config, err, errlen);
	if (idx < 0)
		return idx;
	srv_refresh_channels(s);
	if (idx >= s->nchans || strcmp(s->chan_names[idx], a->name) != 0) {
		smsr_router_channel_remove(s->r, idx); /* opened, routed nowhere: no harm */
		snprintf(err, errlen, "the config's name must be \"%s\"", a->name);
		return -SMSR_ECONFIG;
	}
	return idx;
}

static int reload(struct srv *s, const char *text, char *err, size_t errlen)
{
	struct smsr_config *cfg = NULL;
	int rc = smsr_config_create(&cfg);

	if (rc == 0)
		rc = text ? smsr_config_parse(cfg, text, err, errlen)
			  : smsr_config_load_file(cfg, s->cfg_path, err, errlen);
	if (rc == 0)
		rc = smsr_router_reload(s->r, cfg, err, errlen);
	smsr_config_destroy(cfg);
	if (rc == 0)
		srv_refresh_channels(s);
	return rc;
}

/* Channels not removed: what an operator means by "channels". */
static int live_channels(struct srv *s)
{
	int n, live = 0;
	struct smsr_channel_info *ci = channels(s, &n);

	for (int i = 0; ci && i < n; i++)
		live += ci[i].state != SMSR_CHAN_REMOVED;
	free(ci);
	return live;
}

void srv_reload_file(struct srv *s)
{
	char err[512];
	int rc;

	if (!s->cfg_path) {
		fprintf(stderr, "smsrd: SIGHUP: running the embedded default, no file to reload\n");
		return;
	}
	rc = reload(s, NULL, err, sizeof(err));
	if (rc == 0)
		fprintf(stderr, "smsrd: SIGHUP: %s reloaded: %d channels\n", s->cfg_path,
			live_channels(s));
	else
		fprintf(stderr, "smsrd: SIGHUP: %s rejected, still running the previous one: %s\n",
			s->cfg_path, err[0] ? err : smsr_strerror(rc));
}

void srv_call_reload(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__ReloadResponse out = SMSR__V1__RELOAD_RESPONSE__INIT;
	const char *text = req->reload->config;
	struct smsr_channel_info *ci;
	char err[512] = "";
	int rc, n;

	if (!text[0] && !s->cfg_path) {
		conn_reply_error(s, c, req->call_id, SMSR_EINVAL,
				 "no config given and smsrd runs the embedded default");
		return;
	}
	rc = reload(s, text[0] ? text : NULL, err, sizeof(err));
	if (rc < 0) {
		conn_reply_error(s, c, req->call_id, rc > -1000 ? SMSR_ECONFIG : -rc,
				 err[0] ? err : smsr_strerror(rc));
		return;
	}
	if (!s->o.quiet)
		fprintf(stderr, "smsrd: configuration reloaded: %d channels\n", live_channels(s));
	ci = channels(s, &n);
	out.channels = ci ? list_to_pb(s, ci, n, "", &out.n_channels) : NULL;
	free(ci);
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_RELOAD;
	resp.reload = &out;
	conn_reply(s, c, &resp);
}

void srv_call_admin(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__ChannelAdminResponse out = SMSR__V1__CHANNEL_ADMIN_RESPONSE__INIT;
	struct smsr_channel_info *ci;
	Smsr__V1__ChannelAdminRequest *a = req->channel_admin;
	const char *why = NULL;
	char err[256];
	int idx, rc, n;

	if (req->body_case == SMSR__V1__REQUEST__BODY_INJECT) {
		call_inject(s, c, req);
		return;
	}
	if (a->op_case == SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_ADD) {
		idx = add_channel(s, a, err, sizeof(err));
		if (idx < 0) {
			conn_reply_error(s, c, req->call_id, -idx, err);
			return;
		}
	} else {
		idx = smsr_router_channel_find(s->r, a->name);
		if (idx < 0) {
			conn_reply_error(s, c, req->call_id, SMSR_ENOTFOUND,
					 "no channel of that name");
			return;
		}
		rc = do_admin(s, a, idx, &why);
		if (rc < 0) {
			conn_reply_error(s, c, req->call_id, -rc, why);
			return;
		}
	}
	if (!s->o.quiet)
		fprintf(stderr, "smsrd: channel %s: %s\n", a->name, op_name(a->op_case));
	ci = channels(s, &n);
	if (ci && idx < n && a->op_case != SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_REMOVE)
		out.channel = info_to_pb(s, &ci[idx]);
	free(ci);
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_CHANNEL_ADMIN;
	resp.channel_admin = &out;
	conn_reply(s, c, &resp);
}

void srv_call_stats(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__StatsResponse out = SMSR__V1__STATS_RESPONSE__INIT;
	Smsr__V1__ServerStats ss = SMSR__V1__SERVER_STATS__INIT;
	Smsr__V1__ReasonCount rc[SMSR_REASONS_MAX], *rcp[SMSR_REASONS_MAX];
	Smsr__V1__ClassCount cc[SMSR_NCLASS], *ccp[SMSR_NCLASS];
	struct smsr_stats st;
	size_t nr = 0;

	smsr_router_stats(s->r, &st);
	out.submitted = st.submitted;
	out.accepted = st.accepted;
	out.rejected = st.rejected;
	for (int i = 0; i < SMSR_REASONS_MAX; i++) {
		if (!st.rejected_by_reason[i])
			continue;
		smsr__v1__reason_count__init(&rc[nr]);
		rc[nr].code = (uint32_t)(SMSR_EINVAL + i);
		rc[nr].name = pb_str(smsr_errname(-(SMSR_EINVAL + i)));
		rc[nr].count = st.rejected_by_reason[i];
		rcp[nr] = &rc[nr];
		nr++;
	}
	out.n_rejected_by_reason = nr;
	out.rejected_by_reason = rcp;
	out.queued_now = st.queued_now;
	out.inflight_now = st.inflight_now;
	out.delivered = st.delivered;
	out.failed = st.failed;
	out.expired = st.expired;
	for (int k = 0; k < SMSR_NCLASS; k++) {
		smsr__v1__class_count__init(&cc[k]);
		cc[k].cls = (Smsr__V1__MessageClass)(k + 1);
		cc[k].count = st.by_class[k];
		ccp[k] = &cc[k];
	}
	out.n_by_class = SMSR_NCLASS;
	out.by_class = ccp;
	out.stale_reports = st.stale_reports;
	out.retrying_now = st.retrying_now;
	out.retried = st.retried;
	out.resent = st.resent;
	out.mo_received = st.mo_received;
	out.opt_outs = st.opt_outs;
	out.opt_ins = st.opt_ins;
	out.opted_out_now = st.opted_out_now;
	out.mem_held = st.mem_held;
	out.mem_budget = st.mem_budget;
	out.mem_reserved = st.mem_reserved;
	out.busy_lanes = st.busy_lanes;
	out.busy_memory = st.busy_memory;
	out.busy_late = st.busy_late;
	ss.connections = s->nconns;
	ss.connections_total = s->stats.conns_total;
	ss.calls = s->stats.calls;
	ss.subscriptions = s->nsubs_total;
	ss.events_sent = s->stats.events_sent;
	ss.events_dropped = s->stats.events_dropped;
	ss.protocol_errors = s->stats.protocol_errors;
	ss.uptime_ns = smsr_now_ns() - s->start_ns;
	out.server = &ss;
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_STATS;
	resp.stats = &out;
	conn_reply(s, c, &resp);
}
