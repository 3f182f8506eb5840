/* SPDX-License-Identifier: MIT */
/*
 * Channel drivers: how a host plugs its own carrier transport into smsr.
 *
 * A channel is one connection (or bind) to a carrier gateway. The router
 * owns the channel's lanes, pacing and window; the driver owns the transport.
 * All driver callbacks run on the one worker thread that owns the channel,
 * never concurrently for one channel, and must not block: a driver that
 * needs I/O does it in poll() (or hands it to its own thread and reports
 * back from poll()).
 *
 * The router calls submit() only when the channel's pacing and window allow
 * it. The driver then reports, exactly once per accepted submit, the
 * carrier's answer with smsr_chan_submit_done(), and later, at most once,
 * the delivery report with smsr_chan_dlr(). Reports name the submit by the
 * token the router gave; a report for an unknown or stale token is ignored
 * and counted. Reports may be made from inside submit() or poll(), on the
 * worker thread only.
 */
#ifndef SMSR_CHANNEL_H
#define SMSR_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

struct smsr_chan; /* the router's side of a channel; lent to the driver */

struct smsr_param {
	const char *key;
	const char *value;
};

enum smsr_coding {
	SMSR_CODING_GSM7 = 0,
	SMSR_CODING_UCS2 = 1,
};

struct smsr_submit {
	uint64_t token;	       /* pass back in reports */
	uint64_t id;	       /* smsr message id */
	const char *recipient; /* E.164, NUL-terminated */
	const char *sender;    /* signature or "" */
	const char *text;      /* UTF-8, @text_len bytes */
	uint32_t text_len;
	uint8_t cls;	  /* enum smsr_class */
	uint8_t carrier;  /* enum smsr_carrier */
	uint8_t segments; /* billable segments */
	uint8_t coding;	  /* enum smsr_coding */
};

struct smsr_driver {
	const char *name; /* referenced by channels' "driver" setting */
	/*
	 * Open the channel's transport. @params (borrowed for the call) are the
	 * channel's "params" settings as strings; @seed is stable per channel.
	 * Store the driver's state in *@state. Returns 0 or a negative code;
	 * -SMSR_ECONFIG for a bad parameter.
	 */
	int (*open)(struct smsr_chan *chan, const struct smsr_param *params, size_t nparams,
		    uint64_t seed, void **state);
	/*
	 * Hand one message to the transport (@sub is lent for the call).
	 * Returns 0 when taken: exactly one smsr_chan_submit_done() follows.
	 * Returns < 0 when not taken, with nothing sent (-SMSR_ECHANDOWN...).
	 */
	int (*submit)(void *state, const struct smsr_submit *sub, uint64_t now_ns);
	/*
	 * Do due work (timers, I/O) at @now_ns; return the next time poll()
	 * wants to run (CLOCK_MONOTONIC ns), or UINT64_MAX if none.
	 */
	uint64_t (*poll)(void *state, uint64_t now_ns);
	/* Optional run-time control (faults, tuning); NULL if unsupported. */
	int (*ctl)(void *state, const char *key, const char *value);
	/* Close the transport and free the state. No reports after this. */
	void (*close)(void *state);
};

/*
 * Carrier's answer to submit @token: @status 0 (accepted, @carrier_msgid
 * set, copied) or -SMSR_ETHROTTLED / -SMSR_ECHANERR / -SMSR_ETIMEOUT
 * (temporary) or -SMSR_EREJECTED (permanent, @op_code the operator's code).
 * An accepted answer is one part: its receipt may name it by
 * @carrier_msgid (at most SMSR_CARRIER_ID_MAX bytes; a longer one is
 * refused as -SMSR_ECHANERR; NULL or "": receipts by token only).
 */
SMSR_API void smsr_chan_submit_done(struct smsr_chan *chan, uint64_t token, int status, int op_code,
				    const char *carrier_msgid);

/* Delivery report for @token, for the whole message (every part): @status 0
 * delivered, else why not (-SMSR_EUNDELIVERED or another code as in
 * smsr_chan_receipt(); a positive status counts as -SMSR_EUNDELIVERED). */
SMSR_API void smsr_chan_dlr(struct smsr_chan *chan, uint64_t token, int status, int op_code);

/*
 * A hint, optional: an answer or report for @token comes soon (the driver
 * is about to make several), so the router may start loading that
 * message's record into the cache. Never changes any state; an unknown
 * token is ignored. Worker thread only, like the reports.
 */
SMSR_API void smsr_chan_prefetch(struct smsr_chan *chan, uint64_t token);

/*
 * The transport is up (@up true) or down (@reason, e.g. -SMSR_ECHANDOWN).
 * A down channel gets no submits and routing skips it.
 */
SMSR_API void smsr_chan_set_up(struct smsr_chan *chan, bool up, int reason);

/*
 * --- Receipts matched by carrier message id ------------------------------
 *
 * A carrier names its delivery receipts by the message id it gave in its
 * answer, not by anything the driver chose, and a receipt may arrive on
 * another connection (bind) of the channel than its submit. So the router,
 * not the driver, keeps the index from carrier id to message: a driver
 * reports answers with the ids (smsr_chan_submit_done() for one part,
 * smsr_chan_submit_parts() for several) and receipts by id.
 */

/*
 * Carrier's answer to submit @token, sent as @nparts carrier submits (a
 * long message, one per part), made once every part is answered. @status
 * as in smsr_chan_submit_done(); on success @msgids[0..@nparts) are the
 * carrier's ids of the parts (copied; each at most SMSR_CARRIER_ID_MAX
 * bytes, longer ones are refused as -SMSR_ECHANERR). 1 <= @nparts <= 255.
 * The message is delivered when every part is reported delivered, failed
 * as soon as one part is reported failed. Worker thread only.
 */
#define SMSR_CARRIER_ID_MAX 64
SMSR_API void smsr_chan_submit_parts(struct smsr_chan *chan, uint64_t token, int status,
				     int op_code, const char *const *msgids, unsigned nparts);

/*
 * A delivery receipt for the part the carrier named @carrier_msgid (as the
 * driver normalized it: the same form its answers used). @status 0
 * delivered, or why not: -SMSR_EUNDELIVERED, -SMSR_EREJECTED,
 * -SMSR_ECARRIEREXPIRED, -SMSR_ECARRIERDELETED, -SMSR_EDLRUNKNOWN; @op_code
 * the carrier's error code, kept in the message's history. Returns 0 when
 * it matched a message awaiting its report, -SMSR_ENOTFOUND otherwise
 * (counted as a stale report; the driver still acknowledges it to the
 * carrier). Worker thread only.
 */
SMSR_API int smsr_chan_receipt(struct smsr_chan *chan, const char *carrier_msgid, int status,
			       int op_code);

/*
 * An inbound message (MO) the driver received, reassembled, as UTF-8
 * (@text, @len bytes, borrowed): handled as smsr_router_inject_mo() would,
 * opt-out keywords included. Returns its SMSR_MO_* action or a negative
 * code: -SMSR_EBADNUMBER, or -SMSR_EBUSY when another thread is writing the
 * opt-out list right now (nothing changed: answer the carrier with a
 * temporary error so it comes again). Never blocks. Worker thread only.
 */
SMSR_API int smsr_chan_mo(struct smsr_chan *chan, const char *from, const char *to,
			  const char *text, size_t len);

/*
 * --- Connections on the worker's io_uring ---------------------------------
 *
 * A driver that speaks to a carrier over TCP asks the worker that owns its
 * channel to connect, receive and send for it: the worker does it with
 * SQEs on its own io_uring, batched with everything else it does in a loop
 * turn (at most one receive and one send in flight per connection; what a
 * driver queues in one turn leaves in one send). No thread per connection,
 * no blocking call. Built-in and host drivers use the same calls.
 *
 * Callbacks run on the worker, from its loop, never from inside an
 * smsr_conn_* call; the channel's poll() runs after any callback.
 * The driver must call smsr_conn_close() once for every connection it
 * opened, also after on_close; after it, no callback comes and the handle
 * is gone (the worker frees it when the ring has let go of it).
 */
struct smsr_conn;

struct smsr_conn_ops {
	/* Connected (@res 0), or the connect failed (@res -errno); after a
	 * failure nothing more comes but the handle stays until closed. */
	void (*on_connect)(void *arg, int res);
	/*
	 * Bytes arrived. @data (lent for the call) holds every byte received
	 * and not yet consumed, oldest first; return how many the driver
	 * consumed. What is left is offered again with the next bytes; a
	 * driver that consumes nothing from a full buffer (@len equal to the
	 * receive buffer) gets the connection ended with -EMSGSIZE.
	 */
	size_t (*on_data)(void *arg, const uint8_t *data, size_t len);
	/* The connection ended: the peer closed it (@res 0) or an error
	 * (@res -errno). Sends are refused from now on. */
	void (*on_close)(void *arg, int res);
};

/*
 * Connect to @addr (@addrlen bytes; IPv4 or IPv6, copied) for channel
 * @chan; @ops and @arg are kept until smsr_conn_close(). @rbuf is the
 * receive buffer's size (0: 64 KiB), @wmax the most bytes queued for
 * sending (0: 4 MiB). Returns 0 and *@conn, or -ENOMEM, -ENOSYS (the worker
 * has no io_uring), -errno from socket(). Worker thread only (a driver's
 * open() runs elsewhere: connect from poll()).
 */
SMSR_API int smsr_conn_open(struct smsr_chan *chan, const void *addr, unsigned addrlen,
			    const struct smsr_conn_ops *ops, void *arg, size_t rbuf, size_t wmax,
			    struct smsr_conn **conn);

/*
 * Room for @len bytes at the end of what @conn will send: write them there,
 * then smsr_conn_commit() how many you wrote (at most @len). Returns NULL
 * when that would pass the connection's wmax, or when it is not connected.
 * The pointer is valid until the next smsr_conn_* call on @conn.
 */
SMSR_API void *smsr_conn_reserve(struct smsr_conn *conn, size_t len);
SMSR_API void smsr_conn_commit(struct smsr_conn *conn, size_t len);

/* Copy @len bytes of @data for sending. 0, or -SMSR_EBUSY (over wmax), or
 * -ENOTCONN. */
SMSR_API int smsr_conn_send(struct smsr_conn *conn, const void *data, size_t len);

/* Bytes queued and not yet written to the socket. */
SMSR_API size_t smsr_conn_queued(const struct smsr_conn *conn);

/* Close @conn and give up the handle: pending sends are dropped, no
 * callback comes after this. Safe from inside @conn's own callbacks. */
SMSR_API void smsr_conn_close(struct smsr_conn *conn);

/* Helpers for drivers: look up @key in @params. Return 1 found, 0 absent,
 * -SMSR_ECONFIG if present but not a number. */
SMSR_API int smsr_param_double(const struct smsr_param *params, size_t n, const char *key,
			       double *out);
SMSR_API const char *smsr_param_str(const struct smsr_param *params, size_t n, const char *key);

/* The built-in simulated carrier driver ("sim"); see core/chan/chan_sim.c. */
SMSR_API const struct smsr_driver *smsr_driver_sim(void);

/* The built-in SMPP 3.4 driver ("smpp"); see core/chan/smpp_driver.c and
 * docs/config.md for its settings. */
SMSR_API const struct smsr_driver *smsr_driver_smpp(void);

#ifdef __cplusplus
}
#endif
#endif
