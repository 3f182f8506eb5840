/* SPDX-License-Identifier: MIT */
/*
 * Description: connections on the worker's io_uring (smsr_conn_*), as a
 * host driver uses them. A "line" driver sends each message as a text line
 * over TCP to a server thread on loopback, which answers "OK <token>"; the
 * driver reports the answer and the delivery from its on_data callback.
 * Covers: many messages through one connection (batched sends, partial
 * reads); a refused connect; the peer closing mid-stream (on_close, the
 * driver reconnects, every message one final state); a driver closing its
 * connection from inside its own callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "evlog.h"
#include "smsr/smsr.h"

/* --- the server: echoes "OK <token>" for every line ------------------------ */

struct server {
	int lfd, port;
	unsigned close_after; /* lines per connection before it hangs up; 0 never */
	_Atomic unsigned lines, conns;
	_Atomic int stop;
	pthread_t thread;
};

static void serve_conn(struct server *s, int fd)
{
	char buf[65536], out[65536];
	size_t have = 0;
	unsigned here = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + have, sizeof(buf) - have, 0);
		size_t start = 0, olen = 0;

		if (n <= 0)
			break;
		have += (size_t)n;
		for (size_t i = 0; i < have; i++) {
			unsigned long long tok;

			if (buf[i] != '\n')
				continue;
			buf[i] = '\0';
			if (sscanf(buf + start, "%llu", &tok) == 1)
				olen += (size_t)snprintf(out + olen, sizeof(out) - olen,
							 "OK %llu\n", tok);
			start = i + 1;
			s->lines++;
			if (s->close_after && ++here == s->close_after) {
				send(fd, out, olen, MSG_NOSIGNAL);
				close(fd);
				return;
			}
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (olen && send(fd, out, olen, MSG_NOSIGNAL) < 0)
			break;
	}
	close(fd);
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	while (!s->stop) {
		int fd = accept(s->lfd, NULL, NULL);

		if (fd < 0)
			break;
		s->conns++;
		serve_conn(s, fd);
	}
	return NULL;
}

static void server_start(struct server *s, unsigned close_after)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->close_after = close_after;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 8), 0);
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	pthread_create(&s->thread, NULL, server_main, s);
}

static void server_stop(struct server *s)
{
	s->stop = 1;
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->lfd);
}

/* --- the driver ------------------------------------------------------------ */

#define PENDING_MAX 4096

struct line_drv {
	struct smsr_chan *chan;
	struct sockaddr_in addr;
	struct smsr_conn *conn;
	bool connected, ended, bye_close;
	uint64_t retry_at;
	uint64_t pending[PENDING_MAX]; /* tokens sent, not yet answered */
	size_t npending;
	_Atomic int last_connect, closes, connects;
};

static struct line_drv *last_drv; /* the test reads the one channel's driver */

static void answer_all(struct line_drv *d, int status)
{
	for (size_t i = 0; i < d->npending; i++)
		smsr_chan_submit_done(d->chan, d->pending[i], status, 0, NULL);
	d->npending = 0;
}

static void drop_token(struct line_drv *d, uint64_t tok)
{
	for (size_t i = 0; i < d->npending; i++) {
		if (d->pending[i] == tok) {
			d->pending[i] = d->pending[--d->npending];
			return;
		}
	}
}

static void on_connect(void *arg, int res)
{
	struct line_drv *d = arg;

	d->last_connect = res;
	d->ended = res < 0;
	if (res == 0) {
		d->connected = true;
		d->connects++;
		smsr_chan_set_up(d->chan, true, 0);
	}
}

static size_t on_data(void *arg, const uint8_t *data, size_t len)
{
	struct line_drv *d = arg;
	size_t used = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned long long tok;
		char id[24];

		if (data[i] != '\n')
			continue;
		if (sscanf((const char *)data + used, "OK %llu", &tok) == 1) {
			snprintf(id, sizeof(id), "m%llu", tok);
			drop_token(d, tok);
			smsr_chan_submit_done(d->chan, tok, 0, 0, id);
			smsr_chan_dlr(d->chan, tok, 0, 0);
		}
		used = i + 1;
	}
	if (d->bye_close && used) { /* closing from inside the callback */
		smsr_conn_close(d->conn);
		d->conn = NULL;
		d->connected = false;
		answer_all(d, -SMSR_ECHANDOWN);
		smsr_chan_set_up(d->chan, false, -SMSR_ELINKDOWN);
	}
	return used;
}

static void on_close(void *arg, int res)
{
	struct line_drv *d = arg;

	d->closes++;
	d->connected = false;
	d->ended = true;
	answer_all(d, -SMSR_ECHANDOWN);
	smsr_chan_set_up(d->chan, false, -SMSR_ELINKDOWN);
}

static const struct smsr_conn_ops line_ops = {on_connect, on_data, on_close};

static int line_open(struct smsr_chan *chan, const struct smsr_param *p, size_t n, uint64_t seed,
		     void **state)
{
	struct line_drv *d = calloc(1, sizeof(*d));
	double port = 0, bye = 0;

	if (!d)
		return -ENOMEM;
	smsr_param_double(p, n, "port", &port);
	smsr_param_double(p, n, "bye_close", &bye);
	d->chan = chan;
	d->bye_close = bye != 0;
	d->addr.sin_family = AF_INET;
	d->addr.sin_port = htons((uint16_t)port);
	d->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d->last_connect = 1;
	last_drv = d;
	*state = d;
	return 0;
}

static uint64_t line_poll(void *state, uint64_t now)
{
	struct line_drv *d = state;

	if (d->conn && d->ended) { /* refused, or the peer hung up: let go, retry */
		smsr_conn_close(d->conn);
		d->conn = NULL;
		d->ended = false;
		d->retry_at = now + 5000000ull;
	}
	if (!d->conn && now >= d->retry_at &&
	    smsr_conn_open(d->chan, &d->addr, sizeof(d->addr), &line_ops, d, 4096, 0, &d->conn) < 0)
		d->conn = NULL;
	return d->conn ? now + 5000000ull : d->retry_at;
}

static int line_submit(void *state, const struct smsr_submit *sub, uint64_t now)
{
	struct line_drv *d = state;
	char line[64];
	int n;

	if (!d->connected || d->npending == PENDING_MAX)
		return -SMSR_ECHANDOWN;
	n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)sub->token);
	if (smsr_conn_send(d->conn, line, (size_t)n) < 0)
		return -SMSR_ECHANDOWN;
	d->pending[d->npending++] = sub->token;
	return 0;
}

static void line_close(void *state)
{
	struct line_drv *d = state;

	smsr_conn_close(d->conn);
	free(d);
}

static const struct smsr_driver line_driver = {.name = "line",
					       .open = line_open,
					       .submit = line_submit,
					       .poll = line_poll,
					       .close = line_close};

/* --- the tests ------------------------------------------------------------- */

static struct smsr_router *start(int port, const char *extra, struct evlog *log)
{
	static const struct smsr_driver *drivers[] = {&line_driver};
	char text[512];
	struct smsr_config *cfg;
	struct smsr_router_opts o = {.on_event = evlog_cb, .drivers = drivers, .ndrivers = 1};
	struct smsr_router *r;

	snprintf(text, sizeof(text),
		 "channels = ( { name = \"l\"; driver = \"line\"; window = 512;"
		 " params = { port = \"%d\"; %s }; } );\n"
		 "routes = ( { groups = ( [\"l\"] ); } );\n",
		 port, extra);
	cfg = test_config(text);
	o.arg = log;
	assert_int_equal(smsr_router_create(&r, cfg, &o), 0);
	smsr_config_destroy(cfg);
	assert_int_equal(smsr_router_start(r), 0);
	return r;
}

static unsigned submit_n(struct smsr_router *r, unsigned n, enum smsr_class cls)
{
	const char *t = "Your parcel 1234 is out for delivery";
	struct smsr_msg m = {
	    .recipient = "13812345678", .text = t, .text_len = strlen(t), .cls = cls};
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		int rc = smsr_router_submit(r, &m, NULL);

		if (rc == -SMSR_EBUSY || rc == -SMSR_ENOCHANNEL) {
			sleep_ms(1);
			i--;
			continue;
		}
		assert_int_equal(rc, 0);
		ok++;
	}
	return ok;
}

static void wait_up(struct line_drv *const *d)
{
	for (int i = 0; i < 500 && !(*d && (*d)->connects); i++)
		sleep_ms(10);
	assert_non_null(*d);
	assert_true((*d)->connects >= 1);
}

static void test_conn_carries_many_messages(void **state)
{
	struct server s;
	struct evlog log;
	struct smsr_router *r;
	unsigned n;

	server_start(&s, 0);
	evlog_init(&log);
	r = start(s.port, "", &log);
	wait_up(&last_drv);
	n = submit_n(r, 20000, SMSR_CLASS_NOTICE);
	assert_true(evlog_wait_finals(&log, n, 20000));
	assert_int_equal(evlog_count(&log, SMSR_EV_DELIVERED), n);
	assert_int_equal(s.lines, n);
	smsr_router_destroy(r);
	server_stop(&s);
	evlog_fini(&log);
}

static void test_conn_refused_connect_reports_it(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	struct evlog log;
	struct smsr_router *r;

	/* A port nobody listens on: bound, then closed. */
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	port = ntohs(a.sin_port);
	close(fd);
	evlog_init(&log);
	last_drv = NULL;
	r = start(port, "", &log);
	for (int i = 0; i < 300 && !(last_drv && last_drv->last_connect < 0); i++)
		sleep_ms(10);
	assert_int_equal(last_drv->last_connect, -ECONNREFUSED);
	assert_int_equal(last_drv->connects, 0);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

static void test_conn_peer_close_then_reconnect(void **state)
{
	struct server s;
	struct evlog log;
	struct smsr_router *r;
	unsigned n;

	server_start(&s, 700); /* hangs up after every 700 lines */
	evlog_init(&log);
	last_drv = NULL;
	r = start(s.port, "", &log);
	wait_up(&last_drv);
	n = submit_n(r, 5000, SMSR_CLASS_VERIFICATION);
	assert_true(evlog_wait_finals(&log, n, 30000));
	assert_true(last_drv->closes >= 1);
	assert_true(last_drv->connects >= 2);
	assert_true(s.conns >= 2);
	/* Each message exactly one final; codes in flight at a hang-up are resent. */
	assert_int_equal(evlog_not_one_final(&log), 0);
	assert_int_equal(evlog_finals(&log), n);
	smsr_router_destroy(r);
	server_stop(&s);
	evlog_fini(&log);
}

static void test_conn_close_inside_callback(void **state)
{
	struct server s;
	struct evlog log;
	struct smsr_router *r;
	unsigned n;

	server_start(&s, 0);
	evlog_init(&log);
	last_drv = NULL;
	r = start(s.port, "bye_close = \"1\";", &log);
	wait_up(&last_drv);
	n = submit_n(r, 300, SMSR_CLASS_NOTICE);
	assert_true(evlog_wait_finals(&log, n, 30000));
	assert_true(last_drv->connects >= 1);
	smsr_router_destroy(r);
	server_stop(&s);
	evlog_fini(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conn_carries_many_messages),
	    cmocka_unit_test(test_conn_refused_connect_reports_it),
	    cmocka_unit_test(test_conn_peer_close_then_reconnect),
	    cmocka_unit_test(test_conn_close_inside_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
