/* SPDX-License-Identifier: MIT */
/*
 * Description: the C client library (include/smsr/client.h) against the
 * real smsrd, started as a child process (tests/helpers/daemon.h) on an
 * ephemeral TCP port and a Unix socket. Covers: connecting both ways and
 * ping's ServerInfo, batch submit, pipelined calls matched by call_id,
 * status by id and by client ref, a subscription that sees submitted
 * messages reach their final state on the default configuration's
 * simulated channels, channel list/pause/resume, token auth
 * (unauthenticated, forbidden, a refused token), and the client's view of
 * a graceful stop and of a crash. Every wait is bounded.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "smsr/client.h"

#define CALL_MS	 5000
#define FINAL_MS 20000

/* ---------------------------------------------------------------- helpers */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct smsr_client *connect_to(const char *addr, const char *token)
{
	struct smsr_client_opts o = {.token = token, .timeout_ms = CALL_MS};
	struct smsr_client *c = NULL;

	assert_int_equal(smsr_client_connect(&c, addr, &o), 0);
	return c;
}

static void ping_req(Smsr__V1__Request *req, Smsr__V1__PingRequest *p, const char *payload)
{
	smsr__v1__request__init(req);
	smsr__v1__ping_request__init(p);
	p->payload.data = (uint8_t *)(uintptr_t)payload;
	p->payload.len = strlen(payload);
	req->body_case = SMSR__V1__REQUEST__BODY_PING;
	req->ping = p;
}

/* Make call @req and check it succeeded with body @want; returns the answer. */
static Smsr__V1__Response *call_ok(struct smsr_client *c, Smsr__V1__Request *req, int want)
{
	Smsr__V1__Response *r = NULL;

	assert_int_equal(smsr_client_call(c, req, &r, CALL_MS), 0);
	if (r->error)
		fail_msg("call failed: %s (%s)", r->error->name, r->error->message);
	assert_int_equal(r->body_case, want);
	return r;
}

/* Make call @req and return its error code (negative), the answer freed. */
static int call_err(struct smsr_client *c, Smsr__V1__Request *req)
{
	Smsr__V1__Response *r = NULL;
	int rc;

	assert_int_equal(smsr_client_call(c, req, &r, CALL_MS), 0);
	rc = smsr_client_error(r);
	smsr_client_free(r);
	return rc;
}

static void stats_req(Smsr__V1__Request *req, Smsr__V1__StatsRequest *st)
{
	smsr__v1__request__init(req);
	smsr__v1__stats_request__init(st);
	req->body_case = SMSR__V1__REQUEST__BODY_STATS;
	req->stats = st;
}

static void status_req(Smsr__V1__Request *req, Smsr__V1__StatusRequest *st, uint64_t id,
		       const char *ref)
{
	smsr__v1__request__init(req);
	smsr__v1__status_request__init(st);
	if (ref) {
		st->key_case = SMSR__V1__STATUS_REQUEST__KEY_CLIENT_REF;
		st->client_ref = (char *)(uintptr_t)ref;
	} else {
		st->key_case = SMSR__V1__STATUS_REQUEST__KEY_ID;
		st->id = id;
	}
	req->body_case = SMSR__V1__REQUEST__BODY_STATUS;
	req->status = st;
}

/* A channel admin call on @name; @op_case picks one of the empty ops. */
static int chan_admin(struct smsr_client *c, const char *name, int op_case,
		      Smsr__V1__ChannelState *state)
{
	static Smsr__V1__ChannelPause pause = SMSR__V1__CHANNEL_PAUSE__INIT;
	static Smsr__V1__ChannelResume resume = SMSR__V1__CHANNEL_RESUME__INIT;
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__ChannelAdminRequest a;
	Smsr__V1__Response *r = NULL;
	int rc;

	smsr__v1__channel_admin_request__init(&a);
	a.name = (char *)(uintptr_t)name;
	a.op_case = op_case;
	if (op_case == SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_PAUSE)
		a.pause = &pause;
	else
		a.resume = &resume;
	req.body_case = SMSR__V1__REQUEST__BODY_CHANNEL_ADMIN;
	req.channel_admin = &a;
	assert_int_equal(smsr_client_call(c, &req, &r, CALL_MS), 0);
	rc = smsr_client_error(r);
	if (rc == 0) {
		assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_CHANNEL_ADMIN);
		assert_non_null(r->channel_admin->channel);
		assert_string_equal(r->channel_admin->channel->name, name);
		if (state)
			*state = r->channel_admin->channel->state;
	}
	smsr_client_free(r);
	return rc;
}

static struct smsr_msg test_msg(const char *to, const char *text, const char *ref)
{
	struct smsr_msg m = {
	    .recipient = to, .text = text, .text_len = strlen(text), .client_ref = ref};

	return m;
}

/* ---------------------------------------------------------------- open daemon */

static struct smsrd_proc open_d;

static int open_setup(void **state)
{
	const char *const args[] = {"-q", NULL};

	return smsrd_start(&open_d, args) == 0 ? 0 : -1;
}

static int open_teardown(void **state)
{
	return smsrd_stop(&open_d) == 0 ? 0 : -1;
}

static void check_ping(struct smsr_client *c)
{
	Smsr__V1__Request req;
	Smsr__V1__PingRequest p;
	Smsr__V1__Response *r;
	const Smsr__V1__ServerInfo *si;
	uint64_t now_ns = (uint64_t)time(NULL) * 1000000000u;

	ping_req(&req, &p, "hello");
	r = call_ok(c, &req, SMSR__V1__RESPONSE__BODY_PING);
	assert_int_equal(r->ping->payload.len, 5);
	assert_memory_equal(r->ping->payload.data, "hello", 5);
	assert_true(r->ping->server_time_unix_ns > now_ns - 60000000000u);
	assert_true(r->ping->server_time_unix_ns < now_ns + 60000000000u);
	si = r->ping->server;
	assert_non_null(si);
	assert_true(si->version && si->version[0]);
	assert_int_equal(si->protocol_version, 1);
	assert_int_equal(si->max_frame, 1u << 20);
	assert_int_equal(si->max_calls, 1024);
	assert_int_equal(si->max_batch, 1000);
	assert_false(si->auth_required);
	smsr_client_free(r);
}

static void test_ping_over_tcp_reports_server_info(void **state)
{
	struct smsr_client *c = connect_to(open_d.tcp_addr, NULL);

	check_ping(c);
	smsr_client_close(c);
}

static void test_ping_over_unix_socket(void **state)
{
	char addr[sizeof(open_d.unix_path) + 8];
	struct smsr_client *c = connect_to(open_d.unix_path, NULL);

	check_ping(c);
	smsr_client_close(c);
	snprintf(addr, sizeof(addr), "unix:%s", open_d.unix_path);
	c = connect_to(addr, NULL);
	check_ping(c);
	smsr_client_close(c);
}

static void test_connect_to_nothing_is_connection_lost(void **state)
{
	struct smsr_client *c = NULL;
	struct smsr_client_opts o = {.timeout_ms = 2000};

	assert_int_equal(smsr_client_connect(&c, "/nonexistent/smsrd.sock", &o), -SMSR_ECONNLOST);
	assert_null(c);
	assert_int_equal(smsr_client_connect(&c, "no-port", &o), -EINVAL);
}

static void test_submit_batch_returns_ids_and_reasons(void **state)
{
	struct smsr_client *c = connect_to(open_d.tcp_addr, NULL);
	struct smsr_msg m[6] = {
	    test_msg("13812345678", "Your code is 123456", "b-1"),
	    test_msg("+8613012345678", "Your parcel arrives today", "b-2"),
	    test_msg("008618912345678", "Your bill is ready", "b-3"),
	    test_msg("138 1234 5679", "Your code is 654321", "b-4"),
	    test_msg("not a number", "Your code is 111111", "b-5"),
	    test_msg("+8613812345670", "", "b-6"),
	};
	struct smsr_result res[6];

	assert_int_equal(smsr_client_submit(c, m, 6, res, CALL_MS), 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(res[i].status, 0);
		assert_true(res[i].id != 0);
		assert_true(res[i].cls >= SMSR_CLASS_VERIFICATION &&
			    res[i].cls <= SMSR_CLASS_MARKETING);
		assert_int_equal(res[i].segments, 1);
		assert_int_equal(res[i].channel, -1);
		for (int k = 0; k < i; k++)
			assert_true(res[i].id != res[k].id);
	}
	assert_int_equal(res[0].carrier, SMSR_CARRIER_CMCC);
	assert_int_equal(res[1].carrier, SMSR_CARRIER_CUCC);
	assert_int_equal(res[2].carrier, SMSR_CARRIER_CTCC);
	assert_int_equal(res[0].cls, SMSR_CLASS_VERIFICATION);
	assert_int_equal(res[4].status, -SMSR_EBADNUMBER);
	assert_int_equal(res[4].id, 0);
	assert_int_equal(res[5].status, -SMSR_EEMPTY);
	assert_int_equal(smsr_client_submit(c, m, 0, res, CALL_MS), -SMSR_EINVAL);
	smsr_client_close(c);
}

/* Pipelined calls of mixed kinds: each answered once, matched by call_id. */
static void test_pipelined_calls_matched_by_call_id(void **state)
{
	enum {
		N = 60
	};
	struct smsr_client *c = connect_to(open_d.unix_path, NULL);
	Smsr__V1__Request req;
	Smsr__V1__PingRequest p;
	Smsr__V1__StatsRequest st;
	Smsr__V1__StatusRequest sq;
	uint64_t ids[N];
	int kind[N], seen[N] = {0}, out_of_order = 0;
	int64_t deadline;

	for (int i = 0; i < N; i++) {
		kind[i] = i % 3;
		if (kind[i] == 0)
			ping_req(&req, &p, "p");
		else if (kind[i] == 1)
			stats_req(&req, &st);
		else
			status_req(&req, &sq, 1, NULL); /* no such message: not_found */
		assert_int_equal(smsr_client_send(c, &req, &ids[i]), 0);
		assert_int_equal(req.call_id, 0); /* the request is left as it was */
	}
	assert_int_equal(smsr_client_flush(c), 0);
	deadline = mono_ms() + CALL_MS;
	for (int got = 0; got < N; got++) {
		Smsr__V1__Response *r = NULL;
		int i;

		assert_int_equal(smsr_client_recv(c, &r, (int)(deadline - mono_ms())), 0);
		for (i = 0; i < N && ids[i] != r->call_id; i++)
			;
		assert_true(i < N);
		assert_int_equal(seen[i]++, 0);
		out_of_order += i != got;
		if (kind[i] == 0)
			assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_PING);
		else if (kind[i] == 1)
			assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_STATS);
		else
			assert_int_equal(smsr_client_error(r), -SMSR_ENOTFOUND);
		smsr_client_free(r);
	}
	print_message("pipelined: %d of %d answers out of send order\n", out_of_order, N);
	smsr_client_close(c);
}

/*
 * The status call @req, made right after the submit's answer: the daemon
 * records a message as accepted before it answers the submit, so there is
 * no window in which a just-accepted id is not_found.
 */
static Smsr__V1__Response *status_now(struct smsr_client *c, Smsr__V1__Request *req)
{
	return call_ok(c, req, SMSR__V1__RESPONSE__BODY_STATUS);
}

static void test_status_by_id_and_by_ref(void **state)
{
	struct smsr_client *c = connect_to(open_d.tcp_addr, NULL);
	char ref[32];
	struct smsr_msg m;
	struct smsr_result res;
	Smsr__V1__Request req;
	Smsr__V1__StatusRequest st;
	Smsr__V1__Response *r;
	const Smsr__V1__MessageStatus *ms;

	snprintf(ref, sizeof(ref), "st-%d", (int)getpid());
	m = test_msg("13812345678", "Your code is 246810", ref);
	assert_int_equal(smsr_client_submit(c, &m, 1, &res, CALL_MS), 1);

	status_req(&req, &st, res.id, NULL);
	r = status_now(c, &req);
	assert_int_equal(r->status->n_messages, 1);
	ms = r->status->messages[0];
	assert_int_equal(ms->id, res.id);
	assert_string_equal(ms->recipient, "+8613812345678");
	assert_string_equal(ms->client_ref, ref);
	assert_true(ms->n_history >= 1);
	assert_int_equal(ms->history[0]->type, SMSR__V1__EVENT_TYPE__EVENT_TYPE_ACCEPTED);
	assert_int_equal(ms->state, ms->history[ms->n_history - 1]->type);
	smsr_client_free(r);

	status_req(&req, &st, 0, ref);
	r = status_now(c, &req);
	assert_int_equal(r->status->n_messages, 1);
	assert_int_equal(r->status->messages[0]->id, res.id);
	smsr_client_free(r);

	status_req(&req, &st, res.id + 1000000, NULL);
	assert_int_equal(call_err(c, &req), -SMSR_ENOTFOUND);
	smsr_client_close(c);
}

/*
 * Subscribe, then submit on the same connection: the events that arrive
 * while smsr_client_submit() waits are kept for smsr_client_recv(). Every
 * message must end in exactly one final event, its first event first.
 */
static void test_subscription_sees_messages_reach_final_state(void **state)
{
	enum {
		N = 5
	};
	struct smsr_client *c = connect_to(open_d.tcp_addr, NULL);
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubscribeRequest sub;
	Smsr__V1__UnsubscribeRequest un = SMSR__V1__UNSUBSCRIBE_REQUEST__INIT;
	Smsr__V1__Response *r;
	char prefix[32], refs[N][40];
	struct smsr_msg m[N];
	struct smsr_result res[N];
	int finals[N] = {0}, events[N] = {0}, nfinal = 0;
	uint64_t sub_id, total = 0;
	int64_t deadline;

	snprintf(prefix, sizeof(prefix), "sub-%d-", (int)getpid());
	smsr__v1__subscribe_request__init(&sub);
	sub.client_ref_prefix = prefix;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	r = call_ok(c, &req, SMSR__V1__RESPONSE__BODY_SUBSCRIBE);
	assert_true(r->subscribe->queue_limit > 0);
	sub_id = r->call_id;
	smsr_client_free(r);

	for (int i = 0; i < N; i++) {
		snprintf(refs[i], sizeof(refs[i]), "%s%d", prefix, i);
		m[i] = test_msg(i % 2 ? "13012345678" : "13812345678",
				i % 2 ? "Your order has shipped" : "Your code is 135790", refs[i]);
	}
	assert_int_equal(smsr_client_submit(c, m, N, res, CALL_MS), N);

	deadline = mono_ms() + FINAL_MS;
	while (nfinal < N) {
		int left = (int)(deadline - mono_ms()), i;

		if (left <= 0)
			fail_msg("only %d of %d messages final within %d ms", nfinal, N, FINAL_MS);
		assert_int_equal(smsr_client_recv(c, &r, left), 0);
		assert_int_equal(r->call_id, sub_id);
		assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_EVENT);
		total++;
		for (i = 0; i < N && res[i].id != r->event->id; i++)
			;
		assert_true(i < N);
		assert_string_equal(r->event->client_ref, refs[i]);
		if (events[i]++ == 0)
			assert_int_equal(r->event->type, SMSR__V1__EVENT_TYPE__EVENT_TYPE_ACCEPTED);
		switch (r->event->type) {
		case SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED:
		case SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED:
		case SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED:
			assert_int_equal(finals[i]++, 0);
			nfinal++;
			break;
		default:
			assert_int_equal(finals[i], 0); /* nothing after the final event */
		}
		smsr_client_free(r);
	}

	un.subscription = sub_id;
	smsr__v1__request__init(&req);
	req.body_case = SMSR__V1__REQUEST__BODY_UNSUBSCRIBE;
	req.unsubscribe = &un;
	r = call_ok(c, &req, SMSR__V1__RESPONSE__BODY_UNSUBSCRIBE);
	assert_true(r->unsubscribe->delivered >= total);
	assert_int_equal(r->unsubscribe->dropped, 0);
	smsr_client_free(r);
	/* Kept events came before the answer; after it, the stream is silent. */
	while (smsr_client_recv(c, &r, 0) == 0) {
		assert_int_equal(r->call_id, sub_id);
		smsr_client_free(r);
	}
	assert_int_equal(smsr_client_recv(c, &r, 300), -SMSR_ETIMEOUT);
	smsr_client_close(c);
}

static void test_channel_list_pause_resume(void **state)
{
	struct smsr_client *c = connect_to(open_d.tcp_addr, NULL);
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__ChannelListRequest cl;
	Smsr__V1__Response *r;
	Smsr__V1__ChannelState st = SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_UP;
	char name[64];

	smsr__v1__channel_list_request__init(&cl);
	req.body_case = SMSR__V1__REQUEST__BODY_CHANNEL_LIST;
	req.channel_list = &cl;
	r = call_ok(c, &req, SMSR__V1__RESPONSE__BODY_CHANNEL_LIST);
	assert_true(r->channel_list->n_channels >= 2);
	snprintf(name, sizeof(name), "%s", r->channel_list->channels[1]->name);
	assert_int_equal(r->channel_list->channels[1]->state,
			 SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_UP);
	assert_string_equal(r->channel_list->channels[1]->driver, "sim");
	smsr_client_free(r);

	assert_int_equal(chan_admin(c, name, SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_PAUSE, &st), 0);
	assert_int_equal(st, SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_PAUSED);
	cl.name = name;
	r = call_ok(c, &req, SMSR__V1__RESPONSE__BODY_CHANNEL_LIST);
	assert_int_equal(r->channel_list->n_channels, 1);
	assert_int_equal(r->channel_list->channels[0]->state,
			 SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_PAUSED);
	smsr_client_free(r);
	assert_int_equal(chan_admin(c, name, SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_RESUME, &st), 0);
	assert_int_equal(st, SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_UP);
	/* Resume undoes pause or drain only (router.h). */
	assert_int_equal(chan_admin(c, name, SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_RESUME, NULL),
			 -SMSR_ESTATE);
	assert_int_equal(
	    chan_admin(c, "no-such-channel", SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_PAUSE, NULL),
	    -SMSR_ENOTFOUND);
	cl.name = "no-such-channel";
	assert_int_equal(call_err(c, &req), -SMSR_ENOTFOUND);
	smsr_client_close(c);
}

/* ---------------------------------------------------------------- auth daemon */

static struct smsrd_proc auth_d;

static int auth_setup(void **state)
{
	const char *const args[] = {"-q", "--token", "t1", "--admin-token", "a1", NULL};

	return smsrd_start(&auth_d, args) == 0 ? 0 : -1;
}

static int auth_teardown(void **state)
{
	return smsrd_stop(&auth_d) == 0 ? 0 : -1;
}

static void test_no_token_is_unauthenticated_but_may_ping(void **state)
{
	struct smsr_client *c = connect_to(auth_d.tcp_addr, NULL);
	Smsr__V1__Request req;
	Smsr__V1__PingRequest p;
	Smsr__V1__StatsRequest st;
	Smsr__V1__Response *r;

	ping_req(&req, &p, "");
	r = call_ok(c, &req, SMSR__V1__RESPONSE__BODY_PING);
	assert_true(r->ping->server->auth_required);
	smsr_client_free(r);
	stats_req(&req, &st);
	assert_int_equal(call_err(c, &req), -SMSR_EUNAUTH);
	/* The connection stays usable. */
	ping_req(&req, &p, "again");
	smsr_client_free(call_ok(c, &req, SMSR__V1__RESPONSE__BODY_PING));
	smsr_client_close(c);
}

static void test_client_token_may_not_administer(void **state)
{
	struct smsr_client *c = connect_to(auth_d.unix_path, "t1");
	Smsr__V1__Request req;
	Smsr__V1__StatsRequest st;

	stats_req(&req, &st);
	smsr_client_free(call_ok(c, &req, SMSR__V1__RESPONSE__BODY_STATS));
	assert_int_equal(chan_admin(c, "cmcc-a", SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_PAUSE, NULL),
			 -SMSR_EFORBIDDEN);
	smsr_client_close(c);
}

static void test_admin_token_may_pause_and_resume(void **state)
{
	struct smsr_client *c = connect_to(auth_d.tcp_addr, "a1");
	Smsr__V1__ChannelState st;

	assert_int_equal(chan_admin(c, "cmcc-a", SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_PAUSE, &st),
			 0);
	assert_int_equal(st, SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_PAUSED);
	assert_int_equal(chan_admin(c, "cmcc-a", SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_RESUME, &st),
			 0);
	assert_int_equal(st, SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_UP);
	smsr_client_close(c);
}

static void test_bad_token_is_refused(void **state)
{
	struct smsr_client *c = NULL;
	struct smsr_client_opts o = {.token = "wrong", .timeout_ms = CALL_MS};

	assert_int_equal(smsr_client_connect(&c, auth_d.tcp_addr, &o), -SMSR_EUNAUTH);
	assert_null(c);
}

/* ---------------------------------------------------------------- stop and crash */

/* A graceful stop: shutting_down, the stream ends, then the connection closes. */
static void test_graceful_stop_ends_streams(void **state)
{
	struct smsrd_proc d;
	const char *const args[] = {"-q", NULL};
	struct smsr_client *c;
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubscribeRequest sub;
	Smsr__V1__Response *r;
	int saw_shutdown = 0, rc;
	uint64_t sub_id;
	int64_t deadline;

	assert_int_equal(smsrd_start(&d, args), 0);
	c = connect_to(d.tcp_addr, NULL);
	smsr__v1__subscribe_request__init(&sub);
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	r = call_ok(c, &req, SMSR__V1__RESPONSE__BODY_SUBSCRIBE);
	sub_id = r->call_id;
	smsr_client_free(r);

	assert_int_equal(smsrd_stop(&d), 0);
	deadline = mono_ms() + CALL_MS;
	while ((rc = smsr_client_recv(c, &r, (int)(deadline - mono_ms()))) == 0) {
		if (r->error && r->error->code == SMSR_ESHUTDOWN &&
		    (r->call_id == 0 || r->call_id == sub_id))
			saw_shutdown = 1;
		smsr_client_free(r);
	}
	assert_int_equal(rc, -SMSR_ECONNLOST);
	assert_true(saw_shutdown);
	smsr_client_close(c);
}

static void test_crash_is_connection_lost(void **state)
{
	struct smsrd_proc d;
	const char *const args[] = {"-q", NULL};
	struct smsr_client *c;
	Smsr__V1__Request req;
	Smsr__V1__PingRequest p;
	Smsr__V1__Response *r = NULL;
	int rc;

	assert_int_equal(smsrd_start(&d, args), 0);
	c = connect_to(d.unix_path, NULL);
	smsrd_kill(&d);
	ping_req(&req, &p, "anyone?");
	rc = smsr_client_call(c, &req, &r, CALL_MS);
	assert_int_equal(rc, -SMSR_ECONNLOST);
	/* Sticky: later calls fail at once. */
	assert_int_equal(smsr_client_send(c, &req, NULL), -SMSR_ECONNLOST);
	smsr_client_close(c);
}

int main(void)
{
	const struct CMUnitTest open_tests[] = {
	    cmocka_unit_test(test_ping_over_tcp_reports_server_info),
	    cmocka_unit_test(test_ping_over_unix_socket),
	    cmocka_unit_test(test_connect_to_nothing_is_connection_lost),
	    cmocka_unit_test(test_submit_batch_returns_ids_and_reasons),
	    cmocka_unit_test(test_pipelined_calls_matched_by_call_id),
	    cmocka_unit_test(test_status_by_id_and_by_ref),
	    cmocka_unit_test(test_subscription_sees_messages_reach_final_state),
	    cmocka_unit_test(test_channel_list_pause_resume),
	};
	const struct CMUnitTest auth_tests[] = {
	    cmocka_unit_test(test_no_token_is_unauthenticated_but_may_ping),
	    cmocka_unit_test(test_client_token_may_not_administer),
	    cmocka_unit_test(test_admin_token_may_pause_and_resume),
	    cmocka_unit_test(test_bad_token_is_refused),
	};
	const struct CMUnitTest life_tests[] = {
	    cmocka_unit_test(test_graceful_stop_ends_streams),
	    cmocka_unit_test(test_crash_is_connection_lost),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("client_open", open_tests, open_setup, open_teardown);
	failed += cmocka_run_group_tests_name("client_auth", auth_tests, auth_setup, auth_teardown);
	failed += cmocka_run_group_tests_name("client_lifecycle", life_tests, NULL, NULL);
	return failed ? 1 : 0;
}
