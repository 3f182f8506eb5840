/* SPDX-License-Identifier: MIT */
/*
 * Private state of the smsrd client library (include/smsr/client.h).
 *
 * The socket is non-blocking and every wait is a poll() against one
 * deadline, so no call blocks longer than its timeout. Bytes to send are
 * framed into @out at once; received bytes accumulate in @in and are cut
 * into frames in place. While a write waits for room, readable bytes are
 * read too: a server that stops reading until we read cannot deadlock us.
 * Once the connection has failed, @err holds the reason for good, but
 * responses already received are still handed out first.
 */
#ifndef SMSR_CLIENT_INT_H
#define SMSR_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "smsr/client.h"

struct cl_buf {
	uint8_t *p;
	size_t off, len, cap; /* live bytes are p[off .. len) */
};

struct smsr_client {
	int fd;
	int err;	    /* sticky: < 0 once the connection is unusable */
	int adopt_frame;    /* take max_frame from the server's ServerInfo */
	uint32_t max_frame; /* largest frame accepted or sent */
	uint64_t next_id;
	struct cl_buf out, in;
	/* Responses received but not yet handed out: a ring, oldest at @head. */
	Smsr__V1__Response **kept;
	size_t head, nkept, capkept;
};

/* Deadline in CLOCK_MONOTONIC ms for @timeout_ms (< 0: none, INT64_MAX). */
int64_t smsr__cl_deadline(int timeout_ms);

/*
 * Connect a non-blocking socket to @addr within @timeout_ms. Returns the
 * fd or a negative code (-SMSR_ECONNLOST when refused or unreachable,
 * -SMSR_ETIMEOUT, -EINVAL for a malformed address).
 */
int smsr__cl_connect(const char *addr, int timeout_ms);

/*
 * Frame @req (borrowed) onto the send queue; writes only when the queue is
 * large, and then only what the socket takes without waiting. Returns 0,
 * -SMSR_EFRAMETOOBIG (over max_frame) or -SMSR_ENOMEM; nothing is queued
 * on failure.
 */
int smsr__cl_queue(struct smsr_client *c, const Smsr__V1__Request *req);

/*
 * Write queued bytes until the queue is empty or @deadline passes, reading
 * meanwhile. Returns 0, -SMSR_ETIMEOUT or the sticky error.
 */
int smsr__cl_flush(struct smsr_client *c, int64_t deadline);

/*
 * The next frame received, decoded; waits until @deadline (a deadline in
 * the past only reads what the socket already has). Returns 0 with *@out
 * set, -SMSR_ETIMEOUT, -SMSR_EBADPROTO for one undecodable frame (framing
 * is intact, the frame is skipped) or the sticky error.
 */
int smsr__cl_read_frame(struct smsr_client *c, Smsr__V1__Response **out, int64_t deadline);

#endif
