/* SPDX-License-Identifier: MIT */
/*
 * A connection's bytes: frames are cut from what was received (in place
 * when a receive holds whole frames, copied only for the unfinished tail)
 * and every answer is appended to the output buffer, which the loop hands
 * to one send per turn.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "smsrd.h"
#include "wire_frame.h"

int buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (b->len + more <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -SMSR_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void lost_framing(struct srv *s, struct conn *c, int rc)
{
	s->stats.protocol_errors++;
	conn_reply_error(s, c, 0, -rc,
			 rc == -SMSR_EBADFRAME ? "frame header announces length 0"
			 : c->authed	       ? "frame header announces more than max_frame"
					       : "frame header announces more than the 512 bytes "
						 "allowed before auth");
	c->in.len = 0;
	conn_close(s, c);
}

/* Answer the frames in @data; returns the bytes used (the rest is a partial frame). */
static size_t take_frames(struct srv *s, struct conn *c, const uint8_t *data, size_t len)
{
	size_t used = 0;

	while (!c->closing && !c->paused) {
		/* Unauthenticated, a peer may send small frames only (auth, ping). */
		size_t max = c->authed ? s->o.max_frame : SMSRD_PREAUTH_FRAME;
		const uint8_t *payload;
		uint32_t plen;
		int rc = smsr__frame_next(data + used, len - used, max, &payload, &plen);

		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			lost_framing(s, c, rc);
			return len;
		}
		c->last_call_ns = smsr_now_ns();
		srv_call(s, c, payload, plen);
		used += (size_t)rc;
		/* Back-pressure: stop taking calls while the answers wait. */
		if (c->out_answers + c->wr_answers >= s->o.max_calls || c->out.len > SMSRD_OUT_HIGH)
			c->paused = true;
	}
	return used;
}

/* Input buffers are counted against smsrd.input_budget by capacity;
 * one that held a big frame is given back once it is empty. */
void conn_in_release(struct srv *s, struct conn *c)
{
	s->in_held -= c->in.cap;
	buf_free(&c->in);
}

void conn_process(struct srv *s, struct conn *c)
{
	size_t used;

	if (!c->in.len)
		return;
	used = take_frames(s, c, c->in.p, c->in.len);
	if (used && used < c->in.len) {
		memmove(c->in.p, c->in.p + used, c->in.len - used);
		c->partial_ns = smsr_now_ns(); /* the next frame began */
	}
	c->in.len -= used;
	if (!c->in.len)
		c->partial_ns = 0;
	if (!c->in.len && c->in.cap > 65536)
		conn_in_release(s, c);
}

void conn_input(struct srv *s, struct conn *c, const uint8_t *data, size_t len)
{
	size_t used = 0, cap = c->in.cap;

	if (!c->in.len) /* the common case: frames straight from the receive buffer */
		used = take_frames(s, c, data, len);
	if (used == len || c->closing)
		return;
	if (!c->in.len)
		c->partial_ns = smsr_now_ns();
	if (buf_reserve(&c->in, len - used)) {
		conn_reply_error(s, c, 0, SMSR_ENOMEM, "out of memory");
		conn_close(s, c);
		return;
	}
	s->in_held += c->in.cap - cap;
	if (s->in_held > (size_t)s->o.input_budget_mb << 20) {
		/* Unfinished frames of all connections hold the budget: this one
		 * goes (slow senders are closed by frame_timeout meanwhile). */
		conn_reply_error(s, c, 0, SMSR_EBUSY,
				 "the server's input budget is spent (smsrd.input_budget)");
		conn_in_release(s, c);
		conn_close(s, c);
		return;
	}
	memcpy(c->in.p + c->in.len, data + used, len - used);
	c->in.len += len - used;
	if (used == 0 && c->in.len > len - used)
		conn_process(s, c); /* a frame completed by this receive */
}

int conn_reply(struct srv *s, struct conn *c, Smsr__V1__Response *resp)
{
	size_t n = smsr__v1__response__get_packed_size(resp);

	if (n > s->o.max_frame) {
		/* Too big to send: answer the call with the error instead. */
		if (resp->call_id == 0)
			return -SMSR_EFRAMETOOBIG;
		return conn_reply_error(s, c, resp->call_id, SMSR_EFRAMETOOBIG,
					"the response would exceed max_frame");
	}
	if (buf_reserve(&c->out, n + SMSR_FRAME_HDR))
		return -SMSR_ENOMEM;
	smsr__frame_put_header(c->out.p + c->out.len, (uint32_t)n);
	smsr__v1__response__pack(resp, c->out.p + c->out.len + SMSR_FRAME_HDR);
	c->out.len += n + SMSR_FRAME_HDR;
	if (resp->body_case != SMSR__V1__RESPONSE__BODY_EVENT)
		c->out_answers++;
	conn_mark_dirty(s, c);
	return 0;
}

int conn_reply_error(struct srv *s, struct conn *c, uint64_t call_id, int code, const char *msg)
{
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__Error err = SMSR__V1__ERROR__INIT;

	err.code = (uint32_t)code;
	err.name = pb_str(smsr_errname(-code));
	err.message = pb_str(msg ? msg : smsr_strerror(-code));
	if (code == SMSR_EBUSY || code == SMSR_ETOOMANYCALLS)
		err.retry_after_ms = 10;
	resp.call_id = call_id;
	resp.error = &err;
	return conn_reply(s, c, &resp);
}
