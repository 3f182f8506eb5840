/* SPDX-License-Identifier: MIT */
/*
 * Connections on the worker's io_uring: the transport drivers use
 * (include/smsr/channel.h, smsr_conn_*).
 *
 * A connection belongs to the worker that owns its channel; only that
 * worker touches it. In one loop turn a driver may queue any number of
 * bytes; at the end of the turn the worker arms at most one send (all of
 * them) and one receive per connection and submits every SQE at once, then
 * reaps completions without a syscall. Output is double-buffered: the
 * kernel reads the buffer in flight while the driver writes the other, so
 * neither is ever moved under the kernel. The invariant that matters: a
 * connection's memory is freed only when no SQE of it is in flight (@inflight
 * reaches zero) and the driver has given the handle up (@released); the
 * fd is closed at that moment, never earlier, so no completion can name a
 * freed connection or a reused fd.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "router_int.h"

enum conn_state {
	CONN_CONNECTING,
	CONN_OPEN,
	CONN_ENDED
};

#define RBUF_DEFAULT (64u << 10)
#define WMAX_DEFAULT (4u << 20)

struct outbuf {
	uint8_t *p;
	size_t len, cap;
};

struct smsr_conn {
	struct smsr__worker *w;
	struct smsr_chan *chan;
	const struct smsr_conn_ops *ops;
	void *arg;
	struct smsr_conn *prev, *next; /* the worker's list of connections */
	struct smsr_conn *dirty_next;  /* on the worker's arm list */
	int fd;
	uint8_t state; /* enum conn_state */
	bool released; /* the driver gave the handle up */
	bool dirty;
	bool recv_armed, send_armed, connect_armed;
	uint8_t inflight; /* SQEs not yet completed */
	uint8_t *rbuf;
	size_t rlen, rcap;
	struct outbuf out[2]; /* out[fill] takes new bytes; out[!fill] may be in flight */
	unsigned fill;
	size_t sent; /* of the in-flight buffer, bytes already written */
	size_t wmax;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

static inline uint64_t ud(struct smsr_conn *c, unsigned kind)
{
	return (uint64_t)(uintptr_t)c | kind;
}

static struct io_uring_sqe *get_sqe(struct smsr__worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->uring);

	if (!sqe) { /* full: hand what is there to the kernel first */
		io_uring_submit(&w->uring);
		sqe = io_uring_get_sqe(&w->uring);
	}
	if (sqe)
		w->sqes_pending = true;
	return sqe;
}

static void mark_dirty(struct smsr_conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->dirty_next = c->w->conn_dirty;
	c->w->conn_dirty = c;
}

static void wake_driver(struct smsr_conn *c)
{
	c->chan->poll_at = 0;
	c->chan->dispatch_at = 0;
}

static void conn_free(struct smsr_conn *c)
{
	struct smsr__worker *w = c->w;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c->out[0].p);
	free(c->out[1].p);
	free(c);
}

/* Free @c if nothing of it is left in the ring and the driver let go. */
static void maybe_free(struct smsr_conn *c)
{
	if (c->released && c->inflight == 0 && !c->dirty)
		conn_free(c);
}

static void cancel_inflight(struct smsr_conn *c)
{
	static const unsigned kinds[] = {SMSR__UD_CONNECT, SMSR__UD_RECV, SMSR__UD_SEND};
	const bool armed[] = {c->connect_armed, c->recv_armed, c->send_armed};

	for (size_t i = 0; i < 3; i++) {
		struct io_uring_sqe *sqe;

		if (!armed[i] || !(sqe = get_sqe(c->w)))
			continue;
		io_uring_prep_cancel64(sqe, ud(c, kinds[i]), 0);
		io_uring_sqe_set_data64(sqe, SMSR__UD_IGNORE);
	}
}

/* The connection is over (peer, error or driver): stop I/O, tell once. */
static void end(struct smsr_conn *c, int res)
{
	if (c->state == CONN_ENDED)
		return;
	c->state = CONN_ENDED;
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
	cancel_inflight(c);
	if (!c->released) {
		wake_driver(c);
		c->ops->on_close(c->arg, res);
	}
}

int smsr_conn_open(struct smsr_chan *chan, const void *addr, unsigned addrlen,
		   const struct smsr_conn_ops *ops, void *arg, size_t rbuf, size_t wmax,
		   struct smsr_conn **conn)
{
	struct smsr__worker *w = chan->worker;
	const struct sockaddr *sa = addr;
	struct smsr_conn *c;
	int one = 1;

	if (!w->have_uring)
		return -ENOSYS;
	if (!addr || addrlen > sizeof(c->addr) || !ops || !conn ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return -SMSR_EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->rcap = rbuf ? rbuf : RBUF_DEFAULT;
	c->wmax = wmax ? wmax : WMAX_DEFAULT;
	c->rbuf = malloc(c->rcap);
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (!c->rbuf || c->fd < 0) {
		int ret = c->fd < 0 ? -errno : -ENOMEM;

		if (c->fd >= 0)
			close(c->fd);
		free(c->rbuf);
		free(c);
		return ret;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memcpy(&c->addr, addr, addrlen);
	c->addrlen = addrlen;
	c->w = w;
	c->chan = chan;
	c->ops = ops;
	c->arg = arg;
	c->state = CONN_CONNECTING;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	mark_dirty(c);
	*conn = c;
	return 0;
}

void *smsr_conn_reserve(struct smsr_conn *c, size_t len)
{
	struct outbuf *b = &c->out[c->fill];
	size_t total = c->out[0].len + c->out[1].len - c->sent;

	if (c->state != CONN_OPEN || c->released || total + len > c->wmax)
		return NULL;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		uint8_t *p;

		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->p, cap); /* never the buffer in flight */
		if (!p)
			return NULL;
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->len;
}

void smsr_conn_commit(struct smsr_conn *c, size_t len)
{
	struct outbuf *b = &c->out[c->fill];

	if (c->state != CONN_OPEN || b->len + len > b->cap)
		return;
	b->len += len;
	if (len)
		mark_dirty(c);
}

int smsr_conn_send(struct smsr_conn *c, const void *data, size_t len)
{
	void *p;

	if (c->state != CONN_OPEN || c->released)
		return -ENOTCONN;
	p = smsr_conn_reserve(c, len);
	if (!p)
		return -SMSR_EBUSY;
	memcpy(p, data, len);
	smsr_conn_commit(c, len);
	return 0;
}

size_t smsr_conn_queued(const struct smsr_conn *c)
{
	return c->out[0].len + c->out[1].len - c->sent;
}

void smsr_conn_close(struct smsr_conn *c)
{
	if (!c || c->released)
		return;
	c->released = true;
	c->out[0].len = c->out[1].len = c->sent = 0;
	if (c->state != CONN_ENDED) {
		c->state = CONN_ENDED;
		if (c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
		cancel_inflight(c);
	}
	/* Freed from the worker's loop, never under a caller that may still
	 * hold @c (a callback of its own). */
	mark_dirty(c);
}

/* --- the worker's side ---------------------------------------------------- */

static void arm(struct smsr_conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->state == CONN_CONNECTING && !c->connect_armed) {
		if (!(sqe = get_sqe(c->w)))
			return;
		io_uring_prep_connect(sqe, c->fd, (struct sockaddr *)&c->addr, c->addrlen);
		io_uring_sqe_set_data64(sqe, ud(c, SMSR__UD_CONNECT));
		c->connect_armed = true;
		c->inflight++;
		return;
	}
	if (c->state != CONN_OPEN)
		return;
	if (!c->recv_armed && c->rlen < c->rcap && (sqe = get_sqe(c->w))) {
		io_uring_prep_recv(sqe, c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
		io_uring_sqe_set_data64(sqe, ud(c, SMSR__UD_RECV));
		c->recv_armed = true;
		c->inflight++;
	}
	if (!c->send_armed && c->out[!c->fill].len == 0 && c->out[c->fill].len > 0)
		c->fill = !c->fill, c->sent = 0; /* the filled buffer goes out */
	if (!c->send_armed && c->out[!c->fill].len > c->sent && (sqe = get_sqe(c->w))) {
		struct outbuf *b = &c->out[!c->fill];

		io_uring_prep_send(sqe, c->fd, b->p + c->sent, b->len - c->sent, MSG_NOSIGNAL);
		io_uring_sqe_set_data64(sqe, ud(c, SMSR__UD_SEND));
		c->send_armed = true;
		c->inflight++;
	}
}

bool smsr__conn_flush(struct smsr__worker *w)
{
	bool any = w->conn_dirty != NULL;

	while (w->conn_dirty) {
		struct smsr_conn *c = w->conn_dirty;

		w->conn_dirty = c->dirty_next;
		c->dirty = false;
		if (c->released)
			maybe_free(c);
		else
			arm(c);
	}
	if (w->sqes_pending) {
		io_uring_submit(&w->uring);
		w->sqes_pending = false;
	}
	return any;
}

static void on_recv(struct smsr_conn *c, int res)
{
	size_t used;

	c->recv_armed = false;
	if (c->released || c->state != CONN_OPEN)
		return;
	if (res <= 0) {
		end(c, res == -ECANCELED ? -ECONNABORTED : res);
		return;
	}
	c->rlen += (size_t)res;
	wake_driver(c);
	used = c->ops->on_data(c->arg, c->rbuf, c->rlen);
	if (c->released || c->state != CONN_OPEN)
		return;
	if (used > c->rlen)
		used = c->rlen;
	if (used == 0 && c->rlen == c->rcap) {
		end(c, -EMSGSIZE);
		return;
	}
	memmove(c->rbuf, c->rbuf + used, c->rlen - used);
	c->rlen -= used;
	mark_dirty(c);
}

static void on_send(struct smsr_conn *c, int res)
{
	struct outbuf *b = &c->out[!c->fill];

	c->send_armed = false;
	if (c->released || c->state != CONN_OPEN)
		return;
	if (res < 0) {
		end(c, res == -ECANCELED ? -ECONNABORTED : res);
		return;
	}
	c->sent += (size_t)res;
	if (c->sent >= b->len)
		b->len = 0, c->sent = 0;
	mark_dirty(c);
}

static void on_connect(struct smsr_conn *c, int res)
{
	c->connect_armed = false;
	if (c->released || c->state != CONN_CONNECTING)
		return;
	if (res < 0) {
		c->state = CONN_ENDED;
		wake_driver(c);
		c->ops->on_connect(c->arg, res);
		return;
	}
	c->state = CONN_OPEN;
	mark_dirty(c); /* arm the first receive */
	wake_driver(c);
	c->ops->on_connect(c->arg, 0);
}

bool smsr__conn_complete(struct smsr__worker *w, uint64_t user_data, int res)
{
	struct smsr_conn *c = (struct smsr_conn *)(uintptr_t)(user_data & ~(uint64_t)7);
	unsigned kind = user_data & 7;

	if (!c || kind < SMSR__UD_CONNECT)
		return false;
	c->inflight--;
	if (kind == SMSR__UD_CONNECT)
		on_connect(c, res);
	else if (kind == SMSR__UD_RECV)
		on_recv(c, res);
	else
		on_send(c, res);
	if (c->released)
		mark_dirty(c); /* freed at the next flush, once idle */
	return true;
}

void smsr__conn_fini(struct smsr__worker *w)
{
	/* The ring is gone: nothing of any connection is in flight. */
	while (w->conns)
		conn_free(w->conns);
	w->conn_dirty = NULL;
}
