/* SPDX-License-Identifier: MIT */
/*
 * The C client library for smsrd (proto/PROTOCOL.md): what smsrctl and
 * smsr-load use, and what a C service links (libsmsr-client).
 *
 * A client is one connection, used by one thread at a time. Two levels:
 *
 *  - pipelined: smsr_client_send() queues a Request (the library assigns
 *    call_id when it is 0), smsr_client_flush() writes what is queued,
 *    smsr_client_recv() returns the next Response in arrival order, for any
 *    call. Many calls may be in flight; responses come back in any order.
 *  - one call at a time: smsr_client_call() sends a Request and waits for its
 *    Response; responses for other calls that arrive meanwhile (e.g. events
 *    of a subscription) are kept, in order, for the next smsr_client_recv().
 *
 * Requests and responses are the protobuf-c types generated from
 * proto/smsr.proto (smsr.pb-c.h). Errors are negative SMSR_E* codes:
 * -SMSR_ECONNLOST when the connection failed or was closed, -SMSR_ETIMEOUT
 * when a wait ran out, -SMSR_EFRAMETOOBIG / -SMSR_EBADFRAME /
 * -SMSR_EBADPROTO when the server's byte stream is not valid, or the error
 * code the server answered (Response.error) for the helpers below.
 */
#ifndef SMSR_CLIENT_H
#define SMSR_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "msg.h"
#include "smsr.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMSR_CLIENT_DEFAULT_ADDR "127.0.0.1:7800"

struct smsr_client;

struct smsr_client_opts {
	const char *token;  /* NULL: don't authenticate */
	int timeout_ms;	    /* connect and auth; 0: 5000 */
	uint32_t max_frame; /* largest response frame accepted; 0: 1 MiB */
};

/*
 * Connect to @addr (borrowed): "host:port" for TCP (e.g. "127.0.0.1:7800",
 * "[::1]:7800"), or "unix:/path", "/path" or "./path" for a Unix socket;
 * NULL means SMSR_CLIENT_DEFAULT_ADDR. TCP gets TCP_NODELAY. With a token,
 * sends auth and waits for its answer (-SMSR_EUNAUTH when refused). @o
 * (borrowed, may be NULL) gives the options. When o->max_frame is 0 the
 * limit follows the server's ServerInfo.max_frame once a ping or auth
 * answer has shown it. Returns 0 with *@out set, or -SMSR_ECONNLOST
 * (refused, unreachable), -SMSR_ETIMEOUT, -EINVAL (malformed address),
 * -SMSR_ENOMEM or the auth error; *@out is untouched then. Blocks.
 */
int smsr_client_connect(struct smsr_client **out, const char *addr,
			const struct smsr_client_opts *o);
/* Close the socket and free @c with every response still kept. NULL is ok. */
void smsr_client_close(struct smsr_client *c);
/* The socket (non-blocking), e.g. to poll() for readability. */
int smsr_client_fd(const struct smsr_client *c);

/*
 * Queue @req for sending (serialized at once; @req is borrowed and left
 * as it was). When req->call_id is 0 the next id of a counter from 1 is
 * used (don't mix with ids of your own choosing); *@call_id (may be NULL)
 * gets the id used. Writes to the socket only when the queue is large, and
 * then without waiting; call smsr_client_flush() before waiting for
 * answers. Returns 0, -SMSR_EFRAMETOOBIG (the request is over max_frame),
 * -SMSR_ENOMEM or the connection's error; nothing is queued on failure.
 */
int smsr_client_send(struct smsr_client *c, Smsr__V1__Request *req, uint64_t *call_id);
/*
 * Write everything queued; blocks until done, reading (and keeping) what
 * the server sends meanwhile so neither side can stall the other.
 * Returns 0 or the connection's error.
 */
int smsr_client_flush(struct smsr_client *c);

/*
 * The next Response, in arrival order (kept ones first), for any call,
 * including connection-level ones (call_id 0). @timeout_ms < 0 waits
 * forever, 0 only takes what is already there. Returns 0 with *@out set
 * (yours: free it with smsr_client_free()), -SMSR_ETIMEOUT, -SMSR_EBADPROTO
 * (one frame could not be decoded and was skipped), or the connection's
 * sticky error: -SMSR_ECONNLOST (closed or failed), -SMSR_EFRAMETOOBIG /
 * -SMSR_EBADFRAME (the server's framing is lost). Responses that arrived
 * before the connection failed are still returned first.
 */
int smsr_client_recv(struct smsr_client *c, Smsr__V1__Response **out, int timeout_ms);
void smsr_client_free(Smsr__V1__Response *resp);

/*
 * Send @req (borrowed), flush, and wait (at most @timeout_ms in all; < 0
 * forever) for the Response with its call_id. Returns 0 with *@out set
 * (yours; its error field may be set: that is the server's answer, the
 * caller decides), or a negative code. Responses to other calls that
 * arrive meanwhile are kept for smsr_client_recv(). A connection-level
 * frame_too_large, bad_frame or bad_protobuf (call_id 0) ends the wait
 * with that code, since the call will get no answer. After -SMSR_ETIMEOUT
 * the call is still in flight: its answer will come from
 * smsr_client_recv().
 */
int smsr_client_call(struct smsr_client *c, Smsr__V1__Request *req, Smsr__V1__Response **out,
		     int timeout_ms);

/* -code of a Response's error, 0 when none. */
int smsr_client_error(const Smsr__V1__Response *resp);

/*
 * Submit @n messages (@msgs borrowed; 1 ≤ n ≤ the server's max_batch) in
 * one call and wait (@timeout_ms as for smsr_client_call) for the answer:
 * res[i] gets id, cls, carrier and segments, or status = -code (channel is
 * always -1: the wire names channels, it has no indexes). Returns the
 * number accepted, or a negative code if the call failed as a whole (then
 * @res is untouched; after -SMSR_ECONNLOST or -SMSR_ETIMEOUT the messages
 * may still have been accepted).
 */
int smsr_client_submit(struct smsr_client *c, const struct smsr_msg *msgs, size_t n,
		       struct smsr_result *res, int timeout_ms);

/*
 * Fill a Message from an smsr_msg: the strings are borrowed from @m (NULL
 * becomes ""). protobuf-c strings are C strings, so @m->text must have a
 * NUL at text_len here (smsr_client_submit copies texts, so it has no such
 * requirement).
 */
void smsr_client_msg_to_pb(Smsr__V1__Message *pb, const struct smsr_msg *m);

/*
 * Print @m (any protobuf-c message, e.g. a Response or one of its parts)
 * as one JSON object on @f, no newline: every field by its proto name,
 * zero values included, enums by value name, 64-bit integers as numbers,
 * only the set member of a oneof. Returns 0 or -EIO.
 */
int smsr_client_json(FILE *f, const ProtobufCMessage *m);

/*
 * Human-readable text (what smsrctl prints), on @f: an event on one line;
 * a message's status and its history, one line per event; a table of
 * channels with a header line; the counters of a stats answer. All
 * arguments are borrowed.
 */
void smsr_client_print_event(FILE *f, const Smsr__V1__Event *e);
void smsr_client_print_status(FILE *f, const Smsr__V1__MessageStatus *ms);
void smsr_client_print_channels(FILE *f, Smsr__V1__ChannelInfo *const *v, size_t n);
void smsr_client_print_stats(FILE *f, const Smsr__V1__StatsResponse *s);

#ifdef __cplusplus
}
#endif
#endif
