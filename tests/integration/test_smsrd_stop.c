/* SPDX-License-Identifier: MIT */
/*
 * Description: a graceful stop of the real smsrd loses no final event and
 * tells sent from never sent, over real sockets. A subscriber asks for a
 * queue of 262,144 events; 40,000 notices are accepted on a channel that
 * sends 2,000 a second and reports after a minute, and SIGTERM comes a
 * second later: at the stop some 10,000 messages await their report and
 * the rest are queued, far more final events at once than the hub's
 * internal queue (16,384) holds. Every accepted message's final event must
 * reach the subscriber, once, with no overflow marker, before the
 * subscription ends shutting_down: outcome_unknown_at_stop for every
 * message handed to the carrier (submitted or in flight), router_stopped
 * for every one never sent. smsrd then exits 0. A subscriber that never
 * reads holds the stop no longer than the drain timeout. Bounded: a stop
 * takes the 5 s grace period plus the drain, and every read has a
 * deadline.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "evlog.h"
#include "smsr/client.h"
#include "smsr/smsr.h"

#define NMSGS 40000
#define BATCH 1000

static struct smsrd_proc D;
static char cfg_path[128], tmp_dir[64];

static const char cfg[] =
    "channels = ( { name = \"slow\"; driver = \"sim\"; tps = 2000;\n"
    "  params = { latency_ms = 20.0; dlr_delay_ms = 60000; accept_rate = 1.0;\n"
    "             delivery_rate = 1.0; }; } );\n"
    "routes = ( { groups = ( [\"slow\"] ); } );\n"
    "smsrd = { status_messages = 65536; };\n";

/* What the subscriber learnt of one message (index: id - first id). */
struct seen {
	uint64_t id;
	uint8_t handed, submitted, finals;
	int reason;
};

static int start_with(const char *drain)
{
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/smsr-stop-XXXXXX");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "%s/smsrd.conf", tmp_dir);
	f = fopen(cfg_path, "w");
	if (!f || fputs(cfg, f) < 0 || fclose(f))
		return -1;
	return smsrd_start(&D,
			   (const char *const[]){"-c", cfg_path, "--drain-timeout", drain, NULL});
}

static int start(void **state)
{
	(void)state;
	return start_with("20");
}

static int start_short_drain(void **state)
{
	(void)state;
	return start_with("2");
}

static int stop(void **state)
{
	(void)state;
	unlink(cfg_path);
	rmdir(tmp_dir);
	return D.pid ? (smsrd_stop(&D) == 0 ? 0 : -1) : 0;
}

static int cmp_seen(const void *a, const void *b)
{
	uint64_t x = ((const struct seen *)a)->id, y = ((const struct seen *)b)->id;

	return (x > y) - (x < y);
}

static struct seen *find(struct seen *v, size_t n, uint64_t id)
{
	struct seen key = {.id = id};

	return bsearch(&key, v, n, sizeof(*v), cmp_seen);
}

static void subscribe(struct smsr_client *c)
{
	static Smsr__V1__EventType types[] = {
	    SMSR__V1__EVENT_TYPE__EVENT_TYPE_HANDOFF, SMSR__V1__EVENT_TYPE__EVENT_TYPE_SUBMITTED,
	    SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED, SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED,
	    SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED};
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubscribeRequest sr = SMSR__V1__SUBSCRIBE_REQUEST__INIT;
	Smsr__V1__Response *r = NULL;

	sr.n_types = 5;
	sr.types = types;
	sr.queue_limit = 262144;
	req.call_id = 1;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sr;
	assert_int_equal(smsr_client_call(c, &req, &r, 5000), 0);
	assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_SUBSCRIBE);
	assert_int_equal(r->subscribe->queue_limit, 262144);
	smsr_client_free(r);
}

/* 40,000 notices, distinct recipients; their ids into @v (sorted). */
static size_t submit_all(struct smsr_client *c, struct seen *v)
{
	static struct smsr_msg m[BATCH];
	static struct smsr_result res[BATCH];
	static char to[BATCH][16];
	size_t n = 0;

	for (int b = 0; b < NMSGS / BATCH; b++) {
		int acc;

		for (int i = 0; i < BATCH; i++) {
			snprintf(to[i], sizeof(to[i]), "139%08d", b * BATCH + i);
			m[i] = (struct smsr_msg){.recipient = to[i],
						 .text = "Your bill for May is ready",
						 .text_len = 26,
						 .cls = SMSR_CLASS_NOTICE};
		}
		acc = smsr_client_submit(c, m, BATCH, res, 10000);
		assert_int_equal(acc, BATCH);
		for (int i = 0; i < BATCH; i++)
			v[n++].id = res[i].id;
	}
	qsort(v, n, sizeof(*v), cmp_seen);
	return n;
}

static void test_stop_delivers_every_final_and_tells_sent(void **state)
{
	static struct seen v[NMSGS];
	struct smsr_client *sub = NULL, *cl = NULL;
	size_t n, finals = 0, unknown = 0, stopped = 0, submitted = 0;
	bool ended = false, got_notice = false;
	uint64_t end, t_sig;

	(void)state;
	assert_int_equal(smsr_client_connect(&sub, D.tcp_addr, NULL), 0);
	assert_int_equal(smsr_client_connect(&cl, D.tcp_addr, NULL), 0);
	subscribe(sub);
	n = submit_all(cl, v);
	sleep_ms(1000);
	t_sig = test_now_ns();
	assert_int_equal(kill(D.pid, SIGTERM), 0);
	/* Read until the server closes, at most 60 s. */
	end = test_now_ns() + 60 * 1000000000ull;
	while (test_now_ns() < end) {
		Smsr__V1__Response *r = NULL;
		int rc = smsr_client_recv(sub, &r, 1000);
		struct seen *s;

		if (rc == -SMSR_ETIMEOUT)
			continue;
		if (rc < 0)
			break; /* closed */
		if (r->call_id == 0 && r->error) {
			got_notice |= r->error->code == SMSR_ESHUTDOWN;
		} else if (r->call_id == 1 && r->error) {
			assert_int_equal(r->error->code, SMSR_ESHUTDOWN);
			ended = true;
		} else {
			assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_EVENT);
			assert_false(ended);
			if (r->event->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_OVERFLOW)
				fail_msg("overflow: %llu events dropped",
					 (unsigned long long)r->event->dropped);
			s = find(v, n, r->event->id);
			assert_non_null(s);
			switch (r->event->type) {
			case SMSR__V1__EVENT_TYPE__EVENT_TYPE_HANDOFF:
				s->handed = 1;
				break;
			case SMSR__V1__EVENT_TYPE__EVENT_TYPE_SUBMITTED:
				s->submitted = 1;
				break;
			default:
				s->finals++;
				s->reason = -(int)r->event->reason_code;
				finals++;
				break;
			}
		}
		smsr_client_free(r);
	}
	print_message("stop: SIGTERM to close in %.2f s\n", (double)(test_now_ns() - t_sig) / 1e9);
	assert_true(got_notice);
	assert_true(ended);
	for (size_t i = 0; i < n; i++) {
		if (v[i].finals != 1)
			fail_msg("message %llu: %u final events", (unsigned long long)v[i].id,
				 v[i].finals);
		submitted += v[i].submitted;
		if (v[i].handed)
			assert_int_equal(v[i].reason, -SMSR_ESTOPUNKNOWN);
		else
			assert_int_equal(v[i].reason, -SMSR_ESTOPPED);
		unknown += v[i].reason == -SMSR_ESTOPUNKNOWN;
		stopped += v[i].reason == -SMSR_ESTOPPED;
	}
	print_message("stop: %zu accepted, %zu final events: %zu outcome_unknown_at_stop "
		      "(%zu submitted), %zu router_stopped\n",
		      n, finals, unknown, submitted, stopped);
	assert_int_equal(finals, n);
	assert_true(submitted > 1000);
	assert_true(unknown >= submitted);
	assert_true(stopped + unknown > 16384); /* more than the hub's queue */
	assert_true(stopped > 0);
	smsr_client_close(sub);
	smsr_client_close(cl);
	assert_int_equal(smsrd_stop(&D), 0); /* exited 0 (and its files removed) */
	D.pid = 0;
}

/*
 * A subscriber that never reads (a small receive buffer, 60,000 events
 * queued for it) cannot hold the stop: smsrd exits 0 once the drain
 * timeout (2 s here) has passed, after the 5 s grace, within the linger.
 */
static void test_stop_bounded_by_drain_timeout(void **state)
{
	static struct seen v[NMSGS];
	struct smsr_client *sub = NULL, *cl = NULL;
	int rcv = 4096;
	uint64_t t_sig;
	double took;

	(void)state;
	assert_int_equal(smsr_client_connect(&sub, D.tcp_addr, NULL), 0);
	setsockopt(smsr_client_fd(sub), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	assert_int_equal(smsr_client_connect(&cl, D.tcp_addr, NULL), 0);
	subscribe(sub);
	submit_all(cl, v);
	sleep_ms(500);
	t_sig = test_now_ns();
	assert_int_equal(kill(D.pid, SIGTERM), 0);
	assert_int_equal(smsrd_stop(&D), 0);
	D.pid = 0;
	took = (double)(test_now_ns() - t_sig) / 1e9;
	print_message("stop with a stuck subscriber: exited 0 after %.2f s\n", took);
	assert_true(took >= 6.5 && took < 12); /* grace 5 + drain 2 + linger <= 2, slack */
	smsr_client_close(sub);
	smsr_client_close(cl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_stop_delivers_every_final_and_tells_sent, start,
					    stop),
	    cmocka_unit_test_setup_teardown(test_stop_bounded_by_drain_timeout, start_short_drain,
					    stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
