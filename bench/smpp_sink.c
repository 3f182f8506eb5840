/* SPDX-License-Identifier: MIT */
/*
 * The sink SMSC of bench_smpp (smpp_sink.h): one thread, epoll over its
 * connections, non-blocking sockets, what one recv() brought answered
 * whole and sent with one send().
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "bench_util.h"
#include "chan/smpp_pdu.h"
#include "smpp_sink.h"

#define IN_CAP	 (1u << 20)
#define OUT_CAP	 (16u << 20)
#define OUT_HIGH (4u << 20) /* answers unsent: stop reading */
#define WAKE	 0xFFFFFFFEu
#define LISTEN	 0xFFFFFFFFu
#define RECEIPT_TAIL                                                                           \
	" sub:001 dlvrd:001 submit date:2612081200 done date:2612081200 stat:DELIVRD err:000 " \
	"text:"

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sink_put(struct sink_conn *c, const struct smsr__smpp_pdu *p)
{
	int n = smsr__smpp_encode(p, c->out + c->out_len, OUT_CAP - c->out_len);

	if (n > 0)
		c->out_len += (size_t)n;
}

static void sink_header(struct sink_conn *c, uint32_t cmd, uint32_t status, uint32_t seq)
{
	c->out_len += (size_t)smsr__smpp_encode_header(cmd, status, seq, c->out + c->out_len);
}

/* submit_sm_resp, then the receipt if the submit asked for one. */
static void sink_submit(struct sink *s, struct sink_conn *c, const struct smsr__smpp_pdu *p)
{
	static const char hex[] = "0123456789abcdef";
	struct smsr__smpp_pdu r = {.command_id = SMSR__SMPP_SUBMIT_SM_RESP,
				   .sequence_number = p->sequence_number};
	char id[20], text[160];
	uint64_t v = ++s->next_id;
	size_t il = 0;

	do
		id[il++] = hex[v & 15];
	while (v >>= 4);
	for (size_t i = 0; i < il / 2; i++) {
		char t = id[i];

		id[i] = id[il - 1 - i], id[il - 1 - i] = t;
	}
	id[il] = '\0';
	r.resp.id = id;
	sink_put(c, &r);
	s->n_sub++;
	if (s->read_ns) { /* failover: when submits came */
		uint32_t k = atomic_load_explicit(&s->nrec, memory_order_relaxed);

		if (k < REC_MAX) {
			s->rec[k] = s->read_ns;
			atomic_store_explicit(&s->nrec, k + 1, memory_order_release);
		}
		s->read_ns = 0;
	}
	if (!(p->sm.registered_delivery & 3))
		return;
	memcpy(text, "id:", 3);
	memcpy(text + 3, id, il);
	memcpy(text + 3 + il, RECEIPT_TAIL, sizeof(RECEIPT_TAIL) - 1);
	r = (struct smsr__smpp_pdu){.command_id = SMSR__SMPP_DELIVER_SM,
				    .sequence_number = c->seq = c->seq % 0x7FFFFFFFu + 1};
	r.sm.source_addr = p->sm.destination_addr;
	r.sm.source_addr_ton = p->sm.dest_addr_ton;
	r.sm.source_addr_npi = p->sm.dest_addr_npi;
	r.sm.destination_addr = p->sm.source_addr;
	r.sm.dest_addr_ton = p->sm.source_addr_ton;
	r.sm.dest_addr_npi = p->sm.source_addr_npi;
	r.sm.esm_class = 0x04;
	r.sm.short_message = (const uint8_t *)text;
	r.sm.sm_length = (uint8_t)(3 + il + sizeof(RECEIPT_TAIL) - 1);
	r.tlv.present = SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID | SMSR__SMPP_HAS_MESSAGE_STATE;
	r.tlv.receipted_message_id = id;
	r.tlv.receipted_message_id_len = (uint8_t)il;
	r.tlv.message_state = 2; /* DELIVERED */
	sink_put(c, &r);
	s->n_rcp++;
}

static void sink_pdu(struct sink *s, struct sink_conn *c, const struct smsr__smpp_pdu *p)
{
	struct smsr__smpp_pdu r = {.command_id = p->command_id | SMSR__SMPP_RESP,
				   .sequence_number = p->sequence_number};

	switch (p->command_id) {
	case SMSR__SMPP_SUBMIT_SM:
		sink_submit(s, c, p);
		break;
	case SMSR__SMPP_DELIVER_SM_RESP:
		s->n_ack++;
		break;
	case SMSR__SMPP_BIND_TRANSCEIVER:
	case SMSR__SMPP_BIND_TRANSMITTER:
	case SMSR__SMPP_BIND_RECEIVER:
		r.resp.id = "sink";
		sink_put(c, &r);
		atomic_fetch_add(&s->binds, 1);
		break;
	case SMSR__SMPP_ENQUIRE_LINK:
		sink_header(c, SMSR__SMPP_ENQUIRE_LINK_RESP, 0, p->sequence_number);
		break;
	case SMSR__SMPP_UNBIND:
		sink_header(c, SMSR__SMPP_UNBIND_RESP, 0, p->sequence_number);
		c->closing = true;
		break;
	default:
		if (!(p->command_id & SMSR__SMPP_RESP))
			sink_header(c, SMSR__SMPP_GENERIC_NACK, SMSR__SMPP_ESME_RINVCMDID,
				    p->sequence_number);
		break;
	}
}

/* Answer the whole PDUs read, as far as the output has room. -1: unframeable. */
static int sink_serve(struct sink *s, struct sink_conn *c)
{
	size_t off = 0;

	while (c->in_len - off >= SMSR__SMPP_HDR_LEN && OUT_CAP - c->out_len >= 1024) {
		struct smsr__smpp_pdu p;
		int n = smsr__smpp_decode(c->in + off, c->in_len - off, &p);

		if (n == -EAGAIN)
			break;
		if (n > 0)
			sink_pdu(s, c, &p);
		else if ((n = smsr__smpp_peek(c->in + off, c->in_len - off, NULL, NULL)) < 0)
			return -1; /* framing lost */
		off += (size_t)n;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return 0;
}

static int sink_flush(struct sink_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		c->out_off += (size_t)w;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	else if (c->out_off > OUT_CAP / 2) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	return 0;
}

static void sink_close(struct sink *s, struct sink_conn *c)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

static void sink_conn_event(struct sink *s, struct sink_conn *c, uint32_t ev)
{
	size_t pending;
	uint32_t want;

	if (sink_flush(c) < 0 || sink_serve(s, c) < 0)
		goto close;
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->out_len - c->out_off < OUT_HIGH &&
	    c->in_len < IN_CAP) {
		ssize_t r = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);

		if (r == 0 || (r < 0 && errno != EAGAIN))
			goto close;
		if (r > 0) {
			c->in_len += (size_t)r;
			s->read_ns =
			    atomic_load_explicit(&s->record, memory_order_relaxed) ? wall_ns() : 0;
			if (sink_serve(s, c) < 0)
				goto close;
		}
	}
	if (sink_flush(c) < 0)
		goto close;
	pending = c->out_len - c->out_off;
	if (c->closing && !pending)
		goto close;
	want = pending > OUT_HIGH ? EPOLLOUT : pending ? EPOLLIN | EPOLLOUT : EPOLLIN;
	if (want != c->events) {
		struct epoll_event e = {.events = want, .data.u32 = (uint32_t)(c - s->c)};

		c->events = want;
		epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &e);
	}
	return;
close:
	sink_close(s, c);
}

static void sink_accept(struct sink *s)
{
	int fd, one = 1;

	while ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		struct sink_conn *c = NULL;
		struct epoll_event e = {.events = EPOLLIN};

		for (unsigned i = 0; i < SINK_CONNS && !c; i++)
			if (s->c[i].fd < 0)
				c = &s->c[i];
		if (!c || atomic_load(&s->down) || (!c->in && !(c->in = malloc(IN_CAP))) ||
		    (!c->out && !(c->out = malloc(OUT_CAP)))) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->events = EPOLLIN;
		c->closing = false;
		c->in_len = c->out_off = c->out_len = 0;
		e.data.u32 = (uint32_t)(c - s->c);
		epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e);
	}
}

static void *sink_main(void *arg)
{
	struct sink *s = arg;
	struct epoll_event ev[32];

	atomic_store(&s->tid, (int)gettid());
	while (!atomic_load(&s->stop)) {
		int n = epoll_wait(s->ep, ev, 32, 100);

		if (atomic_load(&s->down))
			for (unsigned i = 0; i < SINK_CONNS; i++)
				if (s->c[i].fd >= 0)
					sink_close(s, &s->c[i]);
		for (int i = 0; i < n; i++) {
			uint32_t k = ev[i].data.u32;
			uint64_t x;

			if (k == LISTEN)
				sink_accept(s);
			else if (k == WAKE)
				(void)!read(s->wake, &x, sizeof(x));
			else if (s->c[k].fd >= 0)
				sink_conn_event(s, &s->c[k], ev[i].events);
		}
		atomic_fetch_add_explicit(&s->submits, s->n_sub, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->receipts, s->n_rcp, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->acks, s->n_ack, memory_order_relaxed);
		s->n_sub = s->n_rcp = s->n_ack = 0;
	}
	return NULL;
}

void sink_wake(struct sink *s)
{
	uint64_t one = 1;

	(void)!write(s->wake, &one, sizeof(one));
}

int sink_start(struct sink *s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct epoll_event l = {.events = EPOLLIN, .data.u32 = LISTEN};
	struct epoll_event w = {.events = EPOLLIN, .data.u32 = WAKE};
	socklen_t sl = sizeof(sa);

	for (unsigned i = 0; i < SINK_CONNS; i++)
		s->c[i].fd = -1;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	s->ep = epoll_create1(0);
	s->wake = eventfd(0, EFD_NONBLOCK);
	if (s->lfd < 0 || s->ep < 0 || s->wake < 0 ||
	    bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(s->lfd, 64) ||
	    getsockname(s->lfd, (struct sockaddr *)&sa, &sl) ||
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &l) ||
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake, &w))
		return -1;
	s->port = ntohs(sa.sin_port);
	return pthread_create(&s->thread, NULL, sink_main, s) ? -1 : 0;
}

void sink_stop(struct sink *s)
{
	atomic_store(&s->stop, true);
	sink_wake(s);
	pthread_join(s->thread, NULL);
	for (unsigned i = 0; i < SINK_CONNS; i++) {
		if (s->c[i].fd >= 0)
			close(s->c[i].fd);
		free(s->c[i].in);
		free(s->c[i].out);
	}
	close(s->lfd);
	close(s->ep);
	close(s->wake);
}
