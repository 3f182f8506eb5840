/* SPDX-License-Identifier: MIT */
/*
 * Description: subscription fan-out in the real smsrd, over real sockets.
 * 640 subscriptions on 40 connections whose filters match none of the
 * traffic (another client_ref prefix, an idle channel, another class,
 * another type, and filters whose prefix matches but whose class or channel
 * does not) receive no event at all while 1,000 messages go through; six
 * matching subscriptions, one per filter kind (none, prefix, channel,
 * class, types, all four at once), each receive exactly the events of the
 * unfiltered stream that their filter selects, in the same order. The
 * traffic runs on channel index 69, so a channel filter works past the old
 * 64-channel mask. The server-wide bound (--max-subscriptions-total) answers
 * busy once reached and frees a place when a subscription ends. Every wait
 * is bounded.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "evlog.h"
#include "smsr/client.h"
#include "smsr/smsr.h"

#define NCHANS	  70 /* c0 .. c69; the traffic goes to c69 */
#define IDLE_CONN 40
#define NMSGS	  1000
#define TOTAL_MAX 650 /* 640 + 6 + 4 */
#define MAX_EV	  20000

static struct smsrd_proc D;
static char cfg_path[128], tmp_dir[64];

struct ev {
	uint64_t id;
	int type, attempt, cls;
	char channel[16], ref[24];
};

/* A subscription of the test: its request and what it received. */
struct sub {
	Smsr__V1__SubscribeRequest sr;
	uint64_t call_id;
	struct ev *got;
	size_t n;
	bool ended;
	uint64_t delivered;
};

static Smsr__V1__MessageClass cls_verif = SMSR__V1__MESSAGE_CLASS__CLASS_VERIFICATION,
			      cls_notice = SMSR__V1__MESSAGE_CLASS__CLASS_NOTICE,
			      cls_mkt = SMSR__V1__MESSAGE_CLASS__CLASS_MARKETING;
static Smsr__V1__EventType finals[] = {SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED,
				       SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED,
				       SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED},
			   rejected = SMSR__V1__EVENT_TYPE__EVENT_TYPE_REJECTED;
static char *busy_chan[] = {"c69"}, *idle_chans[NCHANS];

static int start(void **state)
{
	char *cfg = malloc(NCHANS * 64 + 512);
	size_t len = 0;
	FILE *f;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/smsr-fanout-XXXXXX");
	if (!cfg || !mkdtemp(tmp_dir))
		return -1;
	len += (size_t)sprintf(cfg + len, "channels = (\n");
	for (int i = 0; i < NCHANS - 1; i++) {
		len += (size_t)sprintf(cfg + len, "  { name = \"c%d\"; driver = \"sim\"; },\n", i);
		idle_chans[i] = malloc(8);
		snprintf(idle_chans[i], 8, "c%d", i);
	}
	sprintf(cfg + len,
		"  { name = \"c69\"; driver = \"sim\";\n"
		"    lanes = { verification = 100000; notice = 100000; marketing = 100000; };\n"
		"    params = { latency_ms = 0.0; dlr_delay_ms = 5; }; } );\n"
		"routes = ( { groups = ( [\"c69\"] ); } );\n");
	snprintf(cfg_path, sizeof(cfg_path), "%s/smsrd.conf", tmp_dir);
	f = fopen(cfg_path, "w");
	if (!f || fputs(cfg, f) < 0 || fclose(f))
		return -1;
	free(cfg);
	return smsrd_start(&D, (const char *const[]){"-q", "-c", cfg_path,
						     "--max-subscriptions-total", "650", NULL});
}

static int stop(void **state)
{
	(void)state;
	for (int i = 0; i < NCHANS - 1; i++)
		free(idle_chans[i]);
	if (cfg_path[0])
		unlink(cfg_path);
	rmdir(tmp_dir);
	return D.pid ? (smsrd_stop(&D) == 0 ? 0 : -1) : 0;
}

static struct smsr_client *connect_d(void)
{
	struct smsr_client *c = NULL;

	assert_int_equal(smsr_client_connect(&c, D.tcp_addr, NULL), 0);
	return c;
}

/* Subscribe @sb and wait for the answer: 0, or the error code. */
static int subscribe(struct smsr_client *c, struct sub *sb)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__Response *r = NULL;
	int code;

	req.call_id = sb->call_id;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sb->sr;
	assert_int_equal(smsr_client_call(c, &req, &r, 5000), 0);
	code = r->error ? (int)r->error->code : 0;
	if (!code)
		assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_SUBSCRIBE);
	smsr_client_free(r);
	return code;
}

/* Unsubscribe call @sub_id, as call 1000 + @sub_id. */
static void send_unsubscribe(struct smsr_client *c, uint64_t sub_id)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__UnsubscribeRequest u = SMSR__V1__UNSUBSCRIBE_REQUEST__INIT;

	u.subscription = sub_id;
	req.call_id = 1000 + sub_id;
	req.body_case = SMSR__V1__REQUEST__BODY_UNSUBSCRIBE;
	req.unsubscribe = &u;
	assert_int_equal(smsr_client_send(c, &req, NULL), 0);
}

/* The non-matching filter @k of connection @i (@ref: room for a prefix). */
static void nonmatching(Smsr__V1__SubscribeRequest *sr, int i, int k, char *ref, size_t cap)
{
	smsr__v1__subscribe_request__init(sr);
	sr->queue_limit = 64;
	switch (k % 6) {
	case 0: /* a prefix nobody uses */
		snprintf(ref, cap, "nomatch-%d-%d", i, k);
		sr->client_ref_prefix = ref;
		break;
	case 1: /* an idle channel */
		sr->n_channels = 1;
		sr->channels = &idle_chans[(i * 16 + k) % (NCHANS - 1)];
		break;
	case 2: /* a class not sent */
		sr->n_classes = 1;
		sr->classes = &cls_mkt;
		break;
	case 3: /* a type that does not happen */
		sr->n_types = 1;
		sr->types = &rejected;
		break;
	case 4: /* the prefix matches, the class does not */
		sr->client_ref_prefix = "t-a";
		sr->n_classes = 1;
		sr->classes = &cls_mkt;
		break;
	default: /* the prefix matches, the channel does not */
		sr->client_ref_prefix = "t-";
		sr->n_channels = 1;
		sr->channels = &idle_chans[k % (NCHANS - 1)];
		break;
	}
}

/* The protocol's filter (PROTOCOL.md section 8), applied here to @e. */
static bool selects(const Smsr__V1__SubscribeRequest *sr, const struct ev *e)
{
	bool cls = !sr->n_classes, type = !sr->n_types, chan = !sr->n_channels;

	for (size_t i = 0; i < sr->n_classes; i++)
		cls |= (int)sr->classes[i] == e->cls;
	for (size_t i = 0; i < sr->n_types; i++)
		type |= (int)sr->types[i] == e->type;
	for (size_t i = 0; i < sr->n_channels; i++)
		chan |= !strcmp(sr->channels[i], e->channel);
	return cls && type && chan &&
	       !strncmp(e->ref, sr->client_ref_prefix, strlen(sr->client_ref_prefix));
}

/* 1,000 messages: even ones verification, odd ones notices; refs t-a-* / t-b-*. */
static size_t submit_all(struct smsr_client *c)
{
	static struct smsr_msg m[100];
	static char to[100][16], ref[100][24];
	struct smsr_result res[100];
	size_t accepted = 0;

	for (int b = 0; b < NMSGS / 100; b++) {
		for (int i = 0; i < 100; i++) {
			int k = b * 100 + i;

			snprintf(to[i], sizeof(to[i]), "1380000%04d", k);
			snprintf(ref[i], sizeof(ref[i]), "t-%c-%d", k % 3 ? 'b' : 'a', k);
			m[i] = (struct smsr_msg){.recipient = to[i],
						 .text = k % 2 ? "Your parcel is at the front desk"
							       : "Your code is 123456",
						 .client_ref = ref[i],
						 .cls = k % 2 ? SMSR_CLASS_NOTICE
							      : SMSR_CLASS_VERIFICATION};
			m[i].text_len = strlen(m[i].text);
		}
		accepted += (size_t)smsr_client_submit(c, m, 100, res, 5000);
	}
	return accepted;
}

static struct sub *sub_of(struct sub *v, size_t n, uint64_t call_id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].call_id == call_id)
			return &v[i];
	return NULL;
}

static bool is_final(int type)
{
	return type >= SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED &&
	       type <= SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED;
}

/*
 * Read @c's streams into @v (@n subscriptions, the first unfiltered) for at
 * most @ms: until the first has @want_finals final events, or, with
 * @until_ended, until every one has its unsubscribe answer.
 */
static void read_streams(struct smsr_client *c, struct sub *v, size_t n, size_t want_finals,
			 unsigned ms, bool until_ended)
{
	uint64_t end = test_now_ns() + (uint64_t)ms * 1000000u;
	size_t finals_seen = 0;

	for (size_t i = 0; i < v[0].n; i++)
		finals_seen += is_final(v[0].got[i].type);
	while (test_now_ns() < end) {
		Smsr__V1__Response *r = NULL;
		bool all_ended = true;
		struct sub *sb;

		for (size_t i = 0; i < n; i++)
			all_ended &= v[i].ended;
		if (until_ended ? all_ended : finals_seen >= want_finals)
			return;
		if (smsr_client_recv(c, &r, 100) < 0)
			continue;
		if (r->body_case == SMSR__V1__RESPONSE__BODY_UNSUBSCRIBE) {
			sb = sub_of(v, n, r->call_id - 1000);
			assert_non_null(sb);
			sb->ended = true;
			sb->delivered = r->unsubscribe->delivered;
			assert_int_equal(r->unsubscribe->dropped, 0);
		} else {
			const Smsr__V1__Event *e = r->event;

			assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_EVENT);
			sb = sub_of(v, n, r->call_id);
			assert_non_null(sb);
			assert_false(sb->ended);
			assert_int_not_equal(e->type, SMSR__V1__EVENT_TYPE__EVENT_TYPE_OVERFLOW);
			assert_true(sb->n < MAX_EV);
			sb->got[sb->n] = (struct ev){.id = e->id,
						     .type = e->type,
						     .attempt = (int)e->attempt,
						     .cls = e->cls};
			snprintf(sb->got[sb->n].channel, sizeof(sb->got[0].channel), "%s",
				 e->channel);
			snprintf(sb->got[sb->n].ref, sizeof(sb->got[0].ref), "%s", e->client_ref);
			sb->n++;
			if (sb == v)
				finals_seen += is_final(e->type);
		}
		smsr_client_free(r);
	}
	fail_msg("streams: timed out (%zu of %zu finals)", finals_seen, want_finals);
}

/* @sb got exactly the events of @all that its filter selects, in order. */
static void assert_filtered(const struct sub *all, const struct sub *sb, const char *what)
{
	size_t k = 0;

	for (size_t i = 0; i < all->n; i++) {
		if (!selects(&sb->sr, &all->got[i]))
			continue;
		if (k >= sb->n || sb->got[k].id != all->got[i].id ||
		    sb->got[k].type != all->got[i].type ||
		    sb->got[k].attempt != all->got[i].attempt)
			fail_msg("%s: event %zu differs from the unfiltered stream's (id %llu type "
				 "%d)",
				 what, k, (unsigned long long)all->got[i].id, all->got[i].type);
		k++;
	}
	print_message("%-28s %5zu events of %zu\n", what, sb->n, all->n);
	assert_int_equal(k, sb->n);
	assert_true(sb->n > 0);
	assert_int_equal(sb->delivered, sb->n);
}

static void test_nonmatching_get_nothing_matching_get_all(void **state)
{
	static struct smsr_client *idle[IDLE_CONN];
	static char refs[IDLE_CONN][16][32];
	static struct sub subs[6];
	static const char *what[6] = {
	    "no filter",	  "prefix t-a",	   "channel c69 (index 69)",
	    "class verification", "types: finals", "all four kinds"};
	struct smsr_client *mc = connect_d(), *sc = connect_d();
	size_t accepted;

	(void)state;
	for (int i = 0; i < IDLE_CONN; i++) {
		idle[i] = connect_d();
		for (int k = 0; k < 16; k++) {
			struct sub sb = {.call_id = (uint64_t)k + 1};

			nonmatching(&sb.sr, i, k, refs[i][k], sizeof(refs[i][k]));
			assert_int_equal(subscribe(idle[i], &sb), 0);
		}
	}
	for (int i = 0; i < 6; i++) {
		smsr__v1__subscribe_request__init(&subs[i].sr);
		subs[i].sr.queue_limit = 262144;
		subs[i].call_id = (uint64_t)i + 1;
		subs[i].got = calloc(MAX_EV, sizeof(struct ev));
	}
	subs[1].sr.client_ref_prefix = "t-a";
	subs[2].sr.n_channels = 1;
	subs[2].sr.channels = busy_chan;
	subs[3].sr.n_classes = 1;
	subs[3].sr.classes = &cls_verif;
	subs[4].sr.n_types = 3;
	subs[4].sr.types = finals;
	subs[5].sr.client_ref_prefix = "t-b";
	subs[5].sr.n_classes = 1;
	subs[5].sr.classes = &cls_notice;
	subs[5].sr.n_channels = 1;
	subs[5].sr.channels = busy_chan;
	subs[5].sr.n_types = 3;
	subs[5].sr.types = finals;
	for (int i = 0; i < 6; i++)
		assert_int_equal(subscribe(mc, &subs[i]), 0);

	accepted = submit_all(sc);
	assert_int_equal(accepted, NMSGS);
	read_streams(mc, subs, 6, accepted, 20000, false);
	for (int i = 0; i < 6; i++)
		send_unsubscribe(mc, subs[i].call_id);
	assert_int_equal(smsr_client_flush(mc), 0);
	read_streams(mc, subs, 6, 0, 10000, true);
	for (int i = 1; i < 6; i++)
		assert_filtered(&subs[0], &subs[i], what[i]);
	assert_int_equal(subs[0].delivered, subs[0].n);

	/* The 640 others: each ends with nothing delivered, and no event came. */
	for (int i = 0; i < IDLE_CONN; i++) {
		for (int k = 0; k < 16; k++)
			send_unsubscribe(idle[i], (uint64_t)k + 1);
		assert_int_equal(smsr_client_flush(idle[i]), 0);
		for (int k = 0; k < 16; k++) {
			Smsr__V1__Response *r = NULL;

			assert_int_equal(smsr_client_recv(idle[i], &r, 5000), 0);
			if (r->body_case != SMSR__V1__RESPONSE__BODY_UNSUBSCRIBE)
				fail_msg("non-matching subscription %d/%d: body %d (an event?)", i,
					 k, r->body_case);
			assert_int_equal(r->unsubscribe->delivered, 0);
			smsr_client_free(r);
		}
		smsr_client_close(idle[i]);
	}
	print_message("640 non-matching subscriptions: 0 events\n");
	for (int i = 0; i < 6; i++)
		free(subs[i].got);
	smsr_client_close(mc);
	smsr_client_close(sc);
}

/* --max-subscriptions-total 650: the 651st is busy until one ends. */
static void test_total_subscriptions_bounded(void **state)
{
	struct smsr_client *c[41];
	int n = 0, code = 0;

	(void)state;
	for (int i = 0; i < 41 && !code; i++) {
		c[i] = connect_d();
		for (int k = 0; k < 16 && !code; k++) {
			struct sub sb = {.call_id = (uint64_t)k + 1};

			smsr__v1__subscribe_request__init(&sb.sr);
			sb.sr.client_ref_prefix = "bound";
			code = subscribe(c[i], &sb);
			n += !code;
		}
	}
	assert_int_equal(code, SMSR_EBUSY);
	assert_int_equal(n, TOTAL_MAX);
	{
		struct sub sb = {.call_id = 99};
		Smsr__V1__Response *r = NULL;

		send_unsubscribe(c[0], 1);
		assert_int_equal(smsr_client_flush(c[0]), 0);
		assert_int_equal(smsr_client_recv(c[0], &r, 5000), 0);
		assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_UNSUBSCRIBE);
		smsr_client_free(r);
		smsr__v1__subscribe_request__init(&sb.sr);
		assert_int_equal(subscribe(c[0], &sb), 0);
	}
	for (int i = 0; i <= n / 16 && i < 41; i++)
		smsr_client_close(c[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nonmatching_get_nothing_matching_get_all),
	    cmocka_unit_test(test_total_subscriptions_bounded),
	};

	return cmocka_run_group_tests(tests, start, stop);
}
