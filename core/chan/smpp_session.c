/* SPDX-License-Identifier: MIT */
/*
 * SMPP binds: one TCP connection each, on the worker's io_uring
 * (smsr_conn_*), through connect → bind → bound, kept alive by
 * enquire_link, and back to idle with a jittered, capped exponential
 * backoff when anything fails. A bind that is lost answers every part it
 * had in flight as channel_down (unknown outcome: the carrier may have
 * it), so the router's per-class resend policy decides.
 *
 * The window is direct-mapped by sequence number over 4 x window entries:
 * a part goes out only when its entry is free, so an answer finds its part
 * in one probe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chan/smpp_int.h"
#include "smsr/msg.h"

#define CONNECT_TIMEOUT_MS 10000u
#define SWEEP_NS	   100000000ull /* submit timeouts checked this often */

static uint64_t ms(uint64_t v)
{
	return v * 1000000ull;
}

uint32_t smsr__smpp_seq(struct smsr__smpp *d)
{
	uint32_t s = d->next_seq++;

	if (d->next_seq > 0x7FFFFFFFu)
		d->next_seq = 1;
	return s;
}

int smsr__smpp_send(struct smsr__smpp_bind_s *b, const struct smsr__smpp_pdu *pdu)
{
	size_t need = 600 + (size_t)pdu->tlv.message_payload_len;
	uint8_t *p;
	int n;

	if (!b->conn)
		return -ENOTCONN;
	p = smsr_conn_reserve(b->conn, need);
	if (!p)
		return -SMSR_EBUSY;
	n = smsr__smpp_encode(pdu, p, need);
	if (n < 0)
		return n;
	smsr_conn_commit(b->conn, (size_t)n);
	return 0;
}

void smsr__smpp_send_header(struct smsr__smpp_bind_s *b, uint32_t cmd, uint32_t status,
			    uint32_t seq)
{
	uint8_t *p = b->conn ? smsr_conn_reserve(b->conn, SMSR__SMPP_HDR_LEN) : NULL;

	if (p)
		smsr_conn_commit(b->conn, (size_t)smsr__smpp_encode_header(cmd, status, seq, p));
}

/* --- the window ------------------------------------------------------------ */

bool smsr__smpp_win_free(const struct smsr__smpp_bind_s *b, uint32_t seq)
{
	return b->win[seq & b->win_mask].seq == 0;
}

void smsr__smpp_win_put(struct smsr__smpp_bind_s *b, const struct smsr__smpp_pending *p)
{
	b->win[p->seq & b->win_mask] = *p;
	b->inflight++;
}

bool smsr__smpp_win_take(struct smsr__smpp_bind_s *b, uint32_t seq, struct smsr__smpp_pending *out)
{
	struct smsr__smpp_pending *e = &b->win[seq & b->win_mask];

	if (seq == 0 || e->seq != seq)
		return false;
	*out = *e;
	e->seq = 0;
	b->inflight--;
	return true;
}

/* Answer every part in flight with @outcome (or, when @quiet, nothing:
 * the channel is closing and the router finishes them itself). */
static void win_fail_all(struct smsr__smpp_bind_s *b, int outcome, bool quiet)
{
	for (uint32_t i = 0; b->inflight && i <= b->win_mask; i++) {
		struct smsr__smpp_pending p = b->win[i];

		if (p.seq == 0)
			continue;
		b->win[i].seq = 0;
		b->inflight--;
		if (!quiet) {
			smsr__smpp_part_done(b->d, &p, outcome, 0, NULL, 0);
		} else if (p.msg && ++p.msg->answered == p.msg->nparts) {
			free(p.msg);
		}
	}
}

static void win_sweep(struct smsr__smpp_bind_s *b, uint64_t now)
{
	uint64_t limit = ms(b->d->conf.submit_timeout_ms);

	for (uint32_t i = 0; b->inflight && i <= b->win_mask; i++) {
		struct smsr__smpp_pending p = b->win[i];

		if (p.seq == 0 || now - p.sent_ns < limit)
			continue;
		b->win[i].seq = 0;
		b->inflight--;
		smsr__smpp_part_done(b->d, &p, -SMSR_ETIMEOUT, 0, NULL, 0);
	}
}

/* --- the connection -------------------------------------------------------- */

static uint64_t next_rand(struct smsr__smpp *d)
{
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return d->rng;
}

/* The bind is gone (or never came): back to idle, retry after a backoff. */
static void lose(struct smsr__smpp_bind_s *b, int reason)
{
	struct smsr__smpp *d = b->d;
	uint32_t wait = b->backoff_ms;

	if (b->state == SMSR__SMPP_BOUND)
		d->stats.link_losses++;
	smsr_conn_close(b->conn);
	b->conn = NULL;
	b->state = SMSR__SMPP_IDLE;
	b->enquire_at = 0;
	b->down_reason = reason;
	win_fail_all(b, -SMSR_ECHANDOWN, false);
	/* Full jitter over the upper half: binds of many channels that fell
	 * together do not come back together. */
	wait = wait / 2 + (uint32_t)(next_rand(d) % (wait / 2 + 1));
	b->retry_at = d->now + ms(wait);
	b->backoff_ms = b->backoff_ms * 2 > d->conf.reconnect_max_ms ? d->conf.reconnect_max_ms
								     : b->backoff_ms * 2;
	smsr__smpp_publish(d);
}

static void send_bind(struct smsr__smpp_bind_s *b)
{
	static const uint32_t cmds[] = {SMSR__SMPP_BIND_TRANSCEIVER, SMSR__SMPP_BIND_TRANSMITTER,
					SMSR__SMPP_BIND_RECEIVER};
	const struct smsr__smpp_conf *c = &b->d->conf;
	struct smsr__smpp_pdu pdu = {.command_id = cmds[b->role]};

	pdu.sequence_number = b->bind_seq = smsr__smpp_seq(b->d);
	pdu.bind.system_id = c->system_id;
	pdu.bind.password = c->password;
	pdu.bind.system_type = c->system_type;
	pdu.bind.address_range = c->address_range;
	pdu.bind.interface_version = SMSR__SMPP_VERSION;
	if (smsr__smpp_send(b, &pdu) < 0) {
		lose(b, -SMSR_ELINKDOWN);
		return;
	}
	b->state = SMSR__SMPP_BINDING;
	b->deadline = b->d->now + ms(c->response_timeout_ms);
}

/* Callbacks come from the worker's loop between polls: the driver's clock
 * may be a whole idle period old, and backoffs and keep-alives count from it. */
static void tick_clock(struct smsr__smpp *d)
{
	d->now = smsr_now_ns();
}

static void on_connect(void *arg, int res)
{
	struct smsr__smpp_bind_s *b = arg;

	tick_clock(b->d);
	if (res < 0) {
		lose(b, -SMSR_ELINKDOWN);
		return;
	}
	b->last_rx = b->d->now;
	send_bind(b);
}

static void on_close(void *arg, int res)
{
	struct smsr__smpp_bind_s *b = arg;

	tick_clock(b->d);
	lose(b, -SMSR_ELINKDOWN);
}

/* A PDU that does not parse: nack it and go on, or drop the link when
 * its framing is lost. Returns false when the link was dropped. */
static bool bad_pdu(struct smsr__smpp_bind_s *b, const uint8_t *data, size_t len, size_t *used)
{
	uint32_t cmd = 0, seq = 0;
	int n = smsr__smpp_peek(data, len, &cmd, &seq);

	b->d->stats.bad_pdus++;
	if (n < 0) {
		lose(b, -SMSR_EBADPDU);
		return false;
	}
	if (!(cmd & SMSR__SMPP_RESP))
		smsr__smpp_send_header(b, SMSR__SMPP_GENERIC_NACK, SMSR__SMPP_ESME_RINVMSGLEN, seq);
	*used = (size_t)n;
	return true;
}

static size_t on_data(void *arg, const uint8_t *data, size_t len)
{
	struct smsr__smpp_bind_s *b = arg;
	struct smsr_conn *conn = b->conn;
	size_t off = 0;

	tick_clock(b->d);
	while (off < len) {
		struct smsr__smpp_pdu pdu;
		int n = smsr__smpp_decode(data + off, len - off, &pdu);
		size_t used = (size_t)n;

		if (n == -EAGAIN)
			break;
		if (n < 0 && !bad_pdu(b, data + off, len - off, &used))
			return len;
		if (n > 0) {
			b->last_rx = b->d->now;
			if (!pdu.unknown_cmd)
				smsr__smpp_on_pdu(b, &pdu);
			else if (!(pdu.command_id & SMSR__SMPP_RESP))
				smsr__smpp_send_header(b, SMSR__SMPP_GENERIC_NACK,
						       SMSR__SMPP_ESME_RINVCMDID,
						       pdu.sequence_number);
			if (b->conn != conn)
				return len; /* the PDU ended the bind */
		}
		off += used;
	}
	return off;
}

static const struct smsr_conn_ops conn_ops = {on_connect, on_data, on_close};

static void start_connect(struct smsr__smpp_bind_s *b, uint64_t now)
{
	struct smsr__smpp *d = b->d;
	int ret = smsr_conn_open(d->chan, &d->addr, d->addrlen, &conn_ops, b, 256u << 10, 16u << 20,
				 &b->conn);

	if (ret < 0) {
		b->conn = NULL;
		lose(b, -SMSR_ELINKDOWN);
		return;
	}
	b->state = SMSR__SMPP_CONNECTING;
	b->deadline = now + ms(CONNECT_TIMEOUT_MS);
}

static void keep_alive(struct smsr__smpp_bind_s *b, uint64_t now)
{
	const struct smsr__smpp_conf *c = &b->d->conf;

	if (b->enquire_at) {
		if (now - b->enquire_at >= ms(c->response_timeout_ms))
			lose(b, -SMSR_ELINKDOWN); /* no enquire_link_resp */
		return;
	}
	if (now - b->last_rx >= ms(c->enquire_link_ms)) {
		b->enquire_at = now;
		b->d->stats.enquire_sent++;
		smsr__smpp_send_header(b, SMSR__SMPP_ENQUIRE_LINK, 0, smsr__smpp_seq(b->d));
	}
}

void smsr__smpp_bind_tick(struct smsr__smpp_bind_s *b, uint64_t now)
{
	switch (b->state) {
	case SMSR__SMPP_IDLE:
		if (now >= b->retry_at)
			start_connect(b, now);
		break;
	case SMSR__SMPP_CONNECTING:
	case SMSR__SMPP_BINDING:
	case SMSR__SMPP_UNBINDING:
		if (now >= b->deadline)
			lose(b, -SMSR_ELINKDOWN);
		break;
	case SMSR__SMPP_BOUND:
		keep_alive(b, now);
		if (b->state == SMSR__SMPP_BOUND && b->inflight && now >= b->deadline) {
			win_sweep(b, now);
			b->deadline = now + SWEEP_NS;
		}
		break;
	}
}

uint64_t smsr__smpp_bind_next(const struct smsr__smpp_bind_s *b)
{
	const struct smsr__smpp_conf *c = &b->d->conf;
	uint64_t next;

	switch (b->state) {
	case SMSR__SMPP_IDLE:
		return b->retry_at;
	case SMSR__SMPP_BOUND:
		next = b->enquire_at ? b->enquire_at + ms(c->response_timeout_ms)
				     : b->last_rx + ms(c->enquire_link_ms);
		if (b->inflight && b->deadline < next)
			next = b->deadline;
		return next;
	default:
		return b->deadline;
	}
}

void smsr__smpp_bind_bound(struct smsr__smpp_bind_s *b, bool ok, int reason)
{
	struct smsr__smpp *d = b->d;

	if (!ok) {
		b->bind_failures++;
		d->stats.binds_failed++;
		lose(b, reason);
		return;
	}
	b->state = SMSR__SMPP_BOUND;
	b->bind_failures = 0;
	b->backoff_ms = d->conf.reconnect_min_ms;
	b->down_reason = 0;
	b->deadline = d->now + SWEEP_NS;
	d->stats.binds_ok++;
	smsr__smpp_publish(d);
}

void smsr__smpp_bind_lost(struct smsr__smpp_bind_s *b, int reason)
{
	lose(b, reason);
}

void smsr__smpp_bind_close(struct smsr__smpp_bind_s *b)
{
	smsr_conn_close(b->conn);
	b->conn = NULL;
	b->state = SMSR__SMPP_IDLE;
	win_fail_all(b, 0, true);
}
