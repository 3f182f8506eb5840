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
 */
SMSR_API void smsr_chan_submit_done(struct smsr_chan *chan, uint64_t token, int status, int op_code,
				    const char *carrier_msgid);

/* Delivery report for @token: @status 0 delivered, else -SMSR_EUNDELIVERED. */
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

/* Helpers for drivers: look up @key in @params. Return 1 found, 0 absent,
 * -SMSR_ECONFIG if present but not a number. */
SMSR_API int smsr_param_double(const struct smsr_param *params, size_t n, const char *key,
			       double *out);
SMSR_API const char *smsr_param_str(const struct smsr_param *params, size_t n, const char *key);

/* The built-in simulated carrier driver ("sim"); see core/chan/chan_sim.c. */
SMSR_API const struct smsr_driver *smsr_driver_sim(void);

#ifdef __cplusplus
}
#endif
#endif
