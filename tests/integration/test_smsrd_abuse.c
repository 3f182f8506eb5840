/* SPDX-License-Identifier: MIT */
/*
 * Description: smsrd under bad input and pressure, over real sockets, with
 * raw frames so the bytes are exactly what a broken or hostile client
 * sends. Each case checks the answer the protocol promises (the error code
 * on the right call_id, and whether the connection stays), then that the
 * daemon still serves a well-behaved client. Last, a graceful stop with
 * messages in flight: every accepted message reaches one final state on a
 * subscriber's stream, and smsrd exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "evlog.h"
#include "rawconn.h"
#include "smsr.pb-c.h"
#include "smsr/smsr.h"

static struct smsrd_proc D;

static int dial(void)
{
	int fd = raw_dial(D.tcp_addr);

	assert_true(fd >= 0);
	return fd;
}

/* A well-behaved client: ping, and a submit that is accepted. */
static void assert_serves(void)
{
	int fd = dial();
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__PingRequest ping = SMSR__V1__PING_REQUEST__INIT;
	Smsr__V1__SubmitRequest sr = SMSR__V1__SUBMIT_REQUEST__INIT;
	Smsr__V1__Message m = SMSR__V1__MESSAGE__INIT, *mp = &m;
	Smsr__V1__Response *r;

	req.call_id = 7;
	req.body_case = SMSR__V1__REQUEST__BODY_PING;
	req.ping = &ping;
	raw_send_req(fd, &req);
	r = raw_wait_call(fd, 7, 5000);
	assert_non_null(r);
	assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_PING);
	smsr__v1__response__free_unpacked(r, NULL);

	m.recipient = "13812345678";
	m.text = "Your parcel is at the front desk";
	sr.n_messages = 1;
	sr.messages = &mp;
	req.call_id = 8;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	req.submit = &sr;
	raw_send_req(fd, &req);
	r = raw_wait_call(fd, 8, 5000);
	assert_non_null(r);
	assert_int_equal(r->body_case, SMSR__V1__RESPONSE__BODY_SUBMIT);
	assert_int_equal(r->submit->accepted, 1);
	assert_true(r->submit->results[0]->id != 0);
	smsr__v1__response__free_unpacked(r, NULL);
	close(fd);
	assert_int_equal(waitpid(D.pid, NULL, WNOHANG), 0); /* still alive */
}

static int start(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	return smsrd_start(&D, (const char *const[]){"-q", "--max-batch", "100", NULL});
}

static int stop(void **state)
{
	(void)state;
	return D.pid ? (smsrd_stop(&D) == 0 ? 0 : -1) : 0;
}

static void test_bad_frames(void **state)
{
	static const uint8_t zero[4] = {0, 0, 0, 0}, huge[4] = {0x7f, 0xff, 0xff, 0xff};
	static const uint8_t junk[] = {0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff};
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	int fd;

	(void)state;
	/* Length 0: framing is lost, answered on call 0, then closed. */
	fd = dial();
	raw_send_all(fd, zero, 4);
	raw_expect_error(raw_read_resp(fd, 5000), 0, SMSR_EBADFRAME);
	assert_true(raw_closed_by_peer(fd, 5000));
	close(fd);

	/* Oversize: answered as soon as the header is in, payload never sent. */
	fd = dial();
	raw_send_all(fd, huge, 4);
	raw_expect_error(raw_read_resp(fd, 5000), 0, SMSR_EFRAMETOOBIG);
	assert_true(raw_closed_by_peer(fd, 5000));
	close(fd);

	/* A frame that is not a Request: answered on call 0, connection stays. */
	fd = dial();
	raw_send_all(fd, junk, sizeof(junk));
	raw_expect_error(raw_read_resp(fd, 5000), 0, SMSR_EBADPROTO);
	req.call_id = 0; /* reserved */
	req.body_case = SMSR__V1__REQUEST__BODY_STATS;
	req.stats = &(Smsr__V1__StatsRequest)SMSR__V1__STATS_REQUEST__INIT;
	raw_send_req(fd, &req);
	raw_expect_error(raw_read_resp(fd, 5000), 0, SMSR_EINVAL);
	req.call_id = 5; /* no body: an unknown call */
	req.body_case = SMSR__V1__REQUEST__BODY__NOT_SET;
	raw_send_req(fd, &req);
	raw_expect_error(raw_read_resp(fd, 5000), 5, SMSR_EUNKNOWNCALL);
	req.call_id = 6; /* an empty batch */
	req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	req.submit = &(Smsr__V1__SubmitRequest)SMSR__V1__SUBMIT_REQUEST__INIT;
	raw_send_req(fd, &req);
	raw_expect_error(raw_read_resp(fd, 5000), 6, SMSR_EINVAL);
	close(fd);
	assert_serves();
}

static void test_oversize_batch_and_values(void **state)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubmitRequest sr = SMSR__V1__SUBMIT_REQUEST__INIT;
	Smsr__V1__Message m[101], *mp[101];
	Smsr__V1__Response *r;
	int fd = dial();

	(void)state;
	for (int i = 0; i < 101; i++) {
		smsr__v1__message__init(&m[i]);
		m[i].recipient = "13812345678";
		m[i].text = "hello";
		mp[i] = &m[i];
	}
	sr.n_messages = 101; /* the daemon runs with --max-batch 100 */
	sr.messages = mp;
	req.call_id = 1;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	req.submit = &sr;
	raw_send_req(fd, &req);
	raw_expect_error(raw_wait_call(fd, 1, 5000), 1, SMSR_EINVAL);

	/* Out-of-range values fail per message, with their reasons. */
	m[0].cls = 9;
	m[1].validity_ms = 30u * 24 * 3600 * 1000;
	m[2].recipient = "12";
	m[3].text = "";
	sr.n_messages = 5;
	req.call_id = 2;
	raw_send_req(fd, &req);
	r = raw_wait_call(fd, 2, 5000);
	assert_non_null(r);
	assert_int_equal(r->submit->n_results, 5);
	assert_int_equal(r->submit->results[0]->status, SMSR_EBADCLASS);
	assert_int_equal(r->submit->results[1]->status, SMSR_EBADVALIDITY);
	assert_int_equal(r->submit->results[2]->status, SMSR_EBADNUMBER);
	assert_int_equal(r->submit->results[3]->status, SMSR_EEMPTY);
	assert_string_equal(r->submit->results[3]->reason, "empty_text");
	assert_int_equal(r->submit->results[4]->status, 0);
	assert_int_equal(r->submit->accepted, 1);
	smsr__v1__response__free_unpacked(r, NULL);
	close(fd);
}

/* Random bytes from many connections, then a clean client is still served. */
static void test_random_bytes(void **state)
{
	uint64_t seed = 0x5eed;
	uint8_t buf[4096];

	(void)state;
	for (int conn = 0; conn < 200; conn++) {
		int fd = dial();
		size_t n = 1 + (size_t)(seed % sizeof(buf));

		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			buf[i] = (uint8_t)(seed >> 56);
		}
		/* Every fourth: a plausible small length first, so the junk
		 * reaches the protobuf decoder instead of the frame check. */
		if (conn % 4 == 0 && n > 8) {
			buf[0] = buf[1] = 0;
			buf[2] = (uint8_t)((n - 4) >> 8);
			buf[3] = (uint8_t)(n - 4);
		}
		raw_send_all(fd, buf, n);
		if (conn % 2)
			shutdown(fd, SHUT_WR); /* and a truncated stream */
		close(fd);
	}
	assert_serves();
}

/*
 * A subscriber that never reads must not stall a submitter; when it reads
 * at last it finds an overflow marker with the number of dropped events.
 */
static void test_slow_subscriber(void **state)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubscribeRequest sub = SMSR__V1__SUBSCRIBE_REQUEST__INIT;
	Smsr__V1__SubmitRequest sr = SMSR__V1__SUBMIT_REQUEST__INIT;
	Smsr__V1__Message m[100], *mp[100];
	Smsr__V1__Response *r;
	int slow = dial(), fast = dial(), rcv = 4096;
	uint64_t dropped = 0;
	unsigned accepted = 0;

	(void)state;
	setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	sub.queue_limit = 16;
	req.call_id = 1;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	raw_send_req(slow, &req);
	r = raw_wait_call(slow, 1, 5000);
	assert_non_null(r);
	assert_int_equal(r->subscribe->queue_limit, 16);
	smsr__v1__response__free_unpacked(r, NULL);

	for (int i = 0; i < 100; i++) {
		smsr__v1__message__init(&m[i]);
		m[i].recipient = "13912345678";
		m[i].text = "Your statement is ready";
		mp[i] = &m[i];
	}
	sr.n_messages = 100;
	sr.messages = mp;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	req.submit = &sr;
	for (int k = 0; k < 20; k++) {
		req.call_id = 100 + (uint64_t)k;
		raw_send_req(fast, &req);
		r = raw_wait_call(fast, req.call_id, 5000);
		assert_non_null(r); /* answered although the subscriber is stuck */
		accepted += r->submit->accepted;
		smsr__v1__response__free_unpacked(r, NULL);
	}
	assert_true(accepted > 0);
	sleep_ms(300);
	/* Now read the stream: an overflow marker must tell of the gap. */
	for (int i = 0; i < 100000 && !dropped; i++) {
		r = raw_read_resp(slow, 3000);
		if (!r)
			break;
		if (r->body_case == SMSR__V1__RESPONSE__BODY_EVENT &&
		    r->event->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_OVERFLOW) {
			assert_int_equal(r->event->id, 0);
			dropped = r->event->dropped;
		}
		smsr__v1__response__free_unpacked(r, NULL);
	}
	print_message("slow subscriber: %u accepted, overflow marker says %llu dropped\n", accepted,
		      (unsigned long long)dropped);
	assert_true(dropped > 0);
	close(slow);
	close(fast);
	assert_serves();
}

static void test_graceful_stop(void **state)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubscribeRequest sub = SMSR__V1__SUBSCRIBE_REQUEST__INIT;
	Smsr__V1__SubmitRequest sr = SMSR__V1__SUBMIT_REQUEST__INIT;
	Smsr__V1__Message m[100], *mp[100];
	Smsr__V1__EventType finals[] = {SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED,
					SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED,
					SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED};
	Smsr__V1__Response *r;
	uint64_t ids[1000];
	uint8_t seen[1000] = {0};
	size_t nids = 0, nfinal = 0;
	int fd = dial();
	bool got_shutdown = false, sub_ended = false;

	(void)state;
	sub.n_types = 3;
	sub.types = finals;
	req.call_id = 1;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	raw_send_req(fd, &req);
	r = raw_wait_call(fd, 1, 5000);
	assert_non_null(r);
	smsr__v1__response__free_unpacked(r, NULL);

	for (int i = 0; i < 100; i++) {
		smsr__v1__message__init(&m[i]);
		m[i].recipient = i % 2 ? "13812345678" : "18612345678";
		m[i].text = i % 3 ? "Your order 1234 has shipped" : "验证码 482913，5分钟内有效";
		mp[i] = &m[i];
	}
	sr.n_messages = 100;
	sr.messages = mp;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	req.submit = &sr;
	for (int k = 0; k < 10; k++) {
		req.call_id = 10 + (uint64_t)k;
		raw_send_req(fd, &req);
	}
	kill(D.pid, SIGTERM);
	/* Read until the server closes: answers, events, the notices. */
	for (;;) {
		r = raw_read_resp(fd, 15000);
		if (!r)
			break;
		if (r->body_case == SMSR__V1__RESPONSE__BODY_SUBMIT) {
			for (size_t i = 0; i < r->submit->n_results; i++)
				if (r->submit->results[i]->status == 0)
					ids[nids++] = r->submit->results[i]->id;
		} else if (r->body_case == SMSR__V1__RESPONSE__BODY_EVENT) {
			for (size_t i = 0; i < nids; i++)
				if (ids[i] == r->event->id) {
					seen[i]++;
					nfinal++;
				}
		} else if (r->error && r->call_id == 0) {
			got_shutdown |= r->error->code == SMSR_ESHUTDOWN;
		} else if (r->error && r->call_id == 1) {
			sub_ended = r->error->code == SMSR_ESHUTDOWN;
		}
		smsr__v1__response__free_unpacked(r, NULL);
	}
	close(fd);
	print_message("graceful stop: %zu accepted, %zu final events\n", nids, nfinal);
	assert_true(got_shutdown);
	assert_true(sub_ended);
	/* Calls read before the signal were answered; after it, shutting_down. */
	assert_true(nids > 0);
	for (size_t i = 0; i < nids; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(nfinal, nids);
	assert_int_equal(smsrd_stop(&D), 0);
	D.pid = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_frames),	  cmocka_unit_test(test_oversize_batch_and_values),
	    cmocka_unit_test(test_random_bytes),  cmocka_unit_test(test_slow_subscriber),
	    cmocka_unit_test(test_graceful_stop),
	};

	return cmocka_run_group_tests(tests, start, stop);
}
