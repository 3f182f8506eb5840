/* SPDX-License-Identifier: MIT */
/*
 * The SMPP driver's insides: one channel (struct smsr__smpp) holds its
 * binds (struct smsr__smpp_bind_s, each a TCP connection on the worker's
 * io_uring), the submits they have in flight, and the reassembly of long
 * MO messages.
 *
 * A submit is one message; it becomes one submit_sm per part. Every part
 * is a window entry of the bind that sent it, keyed by its sequence number;
 * a message of several parts also has a struct smsr__smpp_msg that
 * collects the parts' answers and carrier ids, and is answered to the
 * router (smsr_chan_submit_parts) once every part is. The invariant:
 * every submit the driver took is answered to the router exactly once —
 * by its answers, by the bind's loss (channel_down: unknown outcome), or
 * by the submit timeout.
 *
 * Everything here runs on the worker that owns the channel.
 */
#ifndef SMSR_CHAN_SMPP_INT_H
#define SMSR_CHAN_SMPP_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "chan/smpp_conf.h"
#include "chan/smpp_mo.h"
#include "chan/smpp_pdu.h"
#include "smsr/channel.h"

enum smsr__smpp_bind_state {
	SMSR__SMPP_IDLE = 0,   /* not connected; reconnects at @retry_at */
	SMSR__SMPP_CONNECTING, /* TCP connect in flight */
	SMSR__SMPP_BINDING,    /* bind sent, waiting for bind_resp */
	SMSR__SMPP_BOUND,      /* sends and receives PDUs */
	SMSR__SMPP_UNBINDING,  /* unbind sent (closing), waiting for unbind_resp */
};

enum smsr__smpp_role {
	SMSR__SMPP_ROLE_TRX = 0,
	SMSR__SMPP_ROLE_TX,
	SMSR__SMPP_ROLE_RX,
};

/* A message of several parts, while its parts are answered. */
struct smsr__smpp_msg {
	uint64_t token;
	uint8_t nparts, answered;
	int status, op_code; /* the first failing part's; 0 while all went well */
	char ids[];	     /* nparts x (SMSR_CARRIER_ID_MAX + 1) */
};

/* One part in flight on a bind, keyed by sequence number. */
struct smsr__smpp_pending {
	uint32_t seq; /* 0: free (sequence numbers start at 1) */
	uint8_t part;
	uint64_t token;		    /* the router's, for single-part messages */
	struct smsr__smpp_msg *msg; /* NULL for single-part messages */
	uint64_t sent_ns;
};

struct smsr__smpp;

struct smsr__smpp_bind_s {
	struct smsr__smpp *d;
	uint8_t index, role, state;
	struct smsr_conn *conn;
	uint64_t retry_at;		/* IDLE: next connect */
	uint32_t backoff_ms;		/* the next failure's wait, before jitter */
	uint64_t last_rx;		/* the last PDU from the SMSC */
	uint64_t enquire_at;		/* an enquire_link sent at; 0 none outstanding */
	uint64_t deadline;		/* BINDING / UNBINDING: give up at */
	uint32_t bind_seq;		/* the bind's or unbind's sequence number */
	struct smsr__smpp_pending *win; /* 2^k entries, direct-mapped by seq */
	uint32_t win_mask, inflight;
	uint32_t bind_failures; /* in a row; the channel says bind_failed while > 0 */
	int down_reason;
};

struct smsr__smpp_stats {
	uint64_t submit_sm, submit_resp, deliver_sm, receipts, mo, stale_receipts;
	uint64_t enquire_sent, binds_ok, binds_failed, link_losses, generic_nacks, bad_pdus;
};

struct smsr__smpp {
	struct smsr_chan *chan;
	struct smsr__smpp_conf conf;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint64_t rng;
	uint32_t next_seq;
	uint16_t next_ref;
	bool up;    /* what the router was last told */
	int reason; /* ... and why not */
	struct smsr__smpp_bind_s binds[SMSR__SMPP_BINDS_MAX];
	uint8_t nbinds, ntx; /* binds; the first @ntx may submit */
	uint8_t rr;	     /* round robin over the submitting binds */
	struct smsr__smpp_mo_asm mo;
	void *scratch;	    /* the text being encoded (smpp_driver.c) */
	char mo_text[8192]; /* a reassembled MO */
	uint64_t now;
	struct smsr__smpp_stats stats;
};

/* Sessions (smpp_session.c). */
void smsr__smpp_bind_tick(struct smsr__smpp_bind_s *b, uint64_t now);
uint64_t smsr__smpp_bind_next(const struct smsr__smpp_bind_s *b);
/* The bind_resp: bound, or refused (@reason). */
void smsr__smpp_bind_bound(struct smsr__smpp_bind_s *b, bool ok, int reason);
/* The SMSC ended the bind (unbind, or a PDU that breaks the stream). */
void smsr__smpp_bind_lost(struct smsr__smpp_bind_s *b, int reason);
/* The channel closes: drop the connection; nothing is told to the router. */
void smsr__smpp_bind_close(struct smsr__smpp_bind_s *b);
/* Send a header-only PDU (keep-alives, nacks, empty responses). */
void smsr__smpp_send_header(struct smsr__smpp_bind_s *b, uint32_t cmd, uint32_t status,
			    uint32_t seq);
/* Encode @pdu onto @b's connection; 0, or -SMSR_EBUSY / -ENOTCONN. */
int smsr__smpp_send(struct smsr__smpp_bind_s *b, const struct smsr__smpp_pdu *pdu);
uint32_t smsr__smpp_seq(struct smsr__smpp *d);
/* Take the window entry for @seq, if @b has it. */
bool smsr__smpp_win_take(struct smsr__smpp_bind_s *b, uint32_t seq, struct smsr__smpp_pending *out);
/* Room for a part with sequence number @seq in @b's window? */
bool smsr__smpp_win_free(const struct smsr__smpp_bind_s *b, uint32_t seq);
void smsr__smpp_win_put(struct smsr__smpp_bind_s *b, const struct smsr__smpp_pending *p);

/* Answers, receipts and MO (smpp_inbound.c). */
void smsr__smpp_on_pdu(struct smsr__smpp_bind_s *b, const struct smsr__smpp_pdu *pdu);
/* A part's answer: @outcome 0 accepted (@id its carrier id), or < 0. */
void smsr__smpp_part_done(struct smsr__smpp *d, const struct smsr__smpp_pending *p, int outcome,
			  int op_code, const char *id, size_t idlen);
/* Re-tell the router whether the channel can send, if that changed. */
void smsr__smpp_publish(struct smsr__smpp *d);

#endif
