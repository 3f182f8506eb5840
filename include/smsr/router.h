/* SPDX-License-Identifier: MIT */
/*
 * The router: an embeddable engine that classifies, prioritizes and routes.
 *
 * Life cycle: smsr_router_create() from a configuration, smsr_router_start()
 * (starts the worker threads), submit from any number of host threads,
 * smsr_router_stop() (joins the workers: every accepted message not yet final
 * ends with a failed event, reason router_stopped if it was never sent,
 * outcome_unknown_at_stop if a carrier may have it), smsr_router_destroy().
 *
 * Thread context: submit, channel and stats calls may be made from any host
 * thread, concurrently. Status events are delivered by calling the host's
 * callback: "accepted" and "rejected" on the submitting thread, before the
 * submit call returns; all later events on the router's worker threads
 * (several workers may call it at once; the events of one message come in
 * order, each after the previous one returned). The callback must not block
 * (during smsr_router_stop() it may wait, briefly, for room to keep the final
 * events: stop then waits for it) and must not call smsr_router_stop()/destroy().
 */
#ifndef SMSR_ROUTER_H
#define SMSR_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "config.h"
#include "msg.h"

#ifdef __cplusplus
extern "C" {
#endif

struct smsr_router;

typedef void smsr_event_cb(void *arg, const struct smsr_event *ev);
/* The journal's durable position advanced to @seq (journal thread). */
typedef void smsr_durable_cb(void *arg, uint64_t seq);
/* One log line, without newline (the library never prints: the host does). */
typedef void smsr_log_cb(void *arg, const char *line);

struct smsr_router_opts {
	smsr_event_cb *on_event; /* may be NULL: no events */
	void *arg;		 /* passed to @on_event */
	uint32_t event_mask;	 /* SMSR_EV_MASK() bits; 0 means SMSR_EV_ALL */
	unsigned workers;	 /* 0: from the configuration (default 1) */
	/* Extra channel drivers (borrowed; must outlive the router). "sim" is built in. */
	const struct smsr_driver *const *drivers;
	size_t ndrivers;
	/*
	 * The journal (see "Durability" below). @journal_dir (copied; it must
	 * exist and be writable) turns it on; NULL leaves it off, as before:
	 * accepted messages live in memory only.
	 */
	const char *journal_dir;
	int journal_mode;	   /* enum smsr_journal_mode; DEFAULT: SYNC with a dir */
	uint32_t journal_batch_ms; /* BATCH: flush period, 0: 10 ms */
	uint32_t journal_segment;  /* bytes per segment file, 0: 64 MiB */
	bool journal_keep;	   /* never delete segments (forensics, tests) */
	/*
	 * The history archive (needs the journal): every message's status
	 * history in an SQLite file at @archive_path (created; schema in
	 * docs/archive.md), kept @archive_retention_s after its last event
	 * (0: 7 days). Queried with smsr_router_history*().
	 */
	const char *archive_path;
	uint32_t archive_retention_s;
	smsr_durable_cb *on_durable; /* may be NULL; see smsr_router_durable_seq() */
	smsr_log_cb *on_log;	     /* may be NULL: the journal's few log lines */
	void *log_arg;		     /* passed to @on_durable and @on_log */
};

/*
 * Durability. With a journal every accepted message is first written to it:
 * its result carries a position, smsr_result.durable_seq, and the message
 * is durable — it survives a crash and comes back at the next start with
 * its id — once smsr_router_durable_seq() has reached that position. A host
 * acknowledges its own client only then. @on_durable (on the journal's
 * thread; never block in it) tells each time the position advances, many
 * messages at once (group commit), so no thread needs to wait per message:
 * keep the answers in order of durable_seq and release every one at or
 * below the position it reports.
 *  - SYNC: the position advances after the data is on disk (fdatasync).
 *    Messages are not handed to a channel before they are durable.
 *  - BATCH: flushed every journal_batch_ms; the position advances after
 *    each flush, but messages are sent at once, and a host may acknowledge
 *    before: what a crash loses is at most the last journal_batch_ms.
 *  - OFF (and no journal): durable_seq is 0 and smsr_router_durable_seq()
 *    UINT64_MAX: everything counts as durable at once.
 * When the journal's disk is full a submit is refused with
 * -SMSR_ESTORAGEFULL (retry later; it accepts again by itself when space
 * returns); after a write or sync error with -SMSR_ESTORAGE, for good
 * (nothing is acknowledged that was not made durable). The journal's
 * directory holds a lock: a second router on it fails to create with
 * -SMSR_EJOURNALLOCKED.
 *
 * At start the router replays the journal: every message that was not
 * final comes back with its id. One never handed to a channel is queued
 * again; one the carrier accepted waits for its receipt (matched by its
 * carrier ids); one handed off with no answer recorded follows its class:
 * resent when its class is in retry.resend_unanswered and it is still
 * valid, else failed unknown_outcome (a duplicate promotion is a
 * complaint); one whose validity ran out ends expired. Their events come
 * again from ACCEPTED, on the starting thread and the workers.
 */
enum smsr_journal_mode {
	SMSR_JOURNAL_DEFAULT = 0,
	SMSR_JOURNAL_SYNC = 1,
	SMSR_JOURNAL_BATCH = 2,
	SMSR_JOURNAL_OFF = 3,
};

/*
 * History: the archive's record of messages (router opts archive_path),
 * kept across restarts for the retention. One message's events; the
 * messages with a client reference; those to a number, or the events of a
 * channel, in a time range [@t0, @t1) of Unix nanoseconds. Results go to
 * the callback one by one, lent for the call (a non-zero return stops the
 * page); @page (in: limit, order; out: more, and the cursor) is passed
 * again unchanged for the next page. Returns the rows of this page, or
 * -SMSR_ESTATE without an archive, -SMSR_EINVAL. Any thread; blocks on
 * SQLite (milliseconds). What the archive shows lags the router by its
 * batches (about a commit of the journal).
 */
struct smsr_history_event {
	uint64_t id;
	uint64_t ts_unix_ns;
	uint8_t type; /* enum smsr_event_type */
	uint8_t cls, carrier, attempt;
	int32_t reason, op_code;
	uint32_t segments;
	const char *channel, *carrier_msgid;	   /* may be NULL */
	const char *recipient, *client_ref, *tags; /* ACCEPTED only; may be NULL */
};

struct smsr_history_msg {
	uint64_t id;
	uint64_t accepted_unix_ns, last_unix_ns, final_unix_ns; /* final 0: not final */
	uint8_t cls, carrier;
	uint8_t last_type;  /* its latest event */
	uint8_t final_type; /* DELIVERED, FAILED, EXPIRED, or 0xff: not final */
	int32_t final_reason, final_op_code;
	uint32_t segments, events;
	const char *recipient, *client_ref, *tags;
};

struct smsr_history_page {
	uint32_t limit;	      /* in: rows per page, 0: 100, at most 10,000 */
	uint8_t newest_first; /* in */
	uint8_t more;	      /* out: more rows after this page */
	uint8_t started;      /* the cursor: zero the struct for the first page */
	uint8_t pad;
	int64_t key[3];
};

typedef int smsr_history_event_cb(void *arg, const struct smsr_history_event *ev);
typedef int smsr_history_msg_cb(void *arg, const struct smsr_history_msg *m);

SMSR_API int smsr_router_history(struct smsr_router *r, uint64_t id, struct smsr_history_page *page,
				 smsr_history_event_cb *cb, void *arg);
SMSR_API int smsr_router_history_by_ref(struct smsr_router *r, const char *client_ref,
					struct smsr_history_page *page, smsr_history_msg_cb *cb,
					void *arg);
SMSR_API int smsr_router_history_by_recipient(struct smsr_router *r, const char *number,
					      uint64_t t0, uint64_t t1,
					      struct smsr_history_page *page,
					      smsr_history_msg_cb *cb, void *arg);
SMSR_API int smsr_router_history_by_channel(struct smsr_router *r, const char *channel, uint64_t t0,
					    uint64_t t1, struct smsr_history_page *page,
					    smsr_history_event_cb *cb, void *arg);

/* The journal's durable position; UINT64_MAX without a journal. Any thread. */
SMSR_API uint64_t smsr_router_durable_seq(const struct smsr_router *r);

/*
 * Create a router from @cfg (borrowed; NULL means the embedded default).
 * @opts may be NULL. Returns 0 or -SMSR_ECONFIG / -SMSR_ENODRIVER /
 * -SMSR_ENOMEM; on failure nothing is left allocated.
 */
SMSR_API int smsr_router_create(struct smsr_router **out, const struct smsr_config *cfg,
				const struct smsr_router_opts *opts);

/* Open the channels and start the workers. -SMSR_ESTATE if already started. */
SMSR_API int smsr_router_start(struct smsr_router *r);

/*
 * Stop accepting, stop the workers and close the channels. Every message
 * not yet final ends with a failed event: reason router_stopped when it was
 * never sent (queued, or waiting to be retried after a refusal), so sending
 * it again is safe; outcome_unknown_at_stop when a carrier may have it (handed
 * to the driver, answered or not, or waiting to be resent after an unknown
 * outcome), so sending it again may deliver it twice. Blocks until the
 * workers have exited (and their event callbacks returned). Idempotent.
 */
SMSR_API int smsr_router_stop(struct smsr_router *r);

/* Free everything. Stops first if needed. */
SMSR_API void smsr_router_destroy(struct smsr_router *r);

/*
 * Submit one message (@msg borrowed for the call). Returns 0 and fills
 * @res (may be NULL) with the id, or returns the rejection reason (also in
 * @res->status): -SMSR_EBADNUMBER, -SMSR_EBADUTF8, -SMSR_ENOCHANNEL,
 * -SMSR_EBUSY and so on. Busy means "not now, retry later", for one of
 * three causes (counted apart in smsr_stats): the lanes of every channel
 * that could take it are full; the router holds its memory budget
 * (router.memory_budget; promotions may fill 3/4 of it, notices 7/8, codes
 * all); or no channel of its route would send it within its validity at
 * the channel's current rate — refused at once rather than accepted to
 * expire. Does not block: it
 * only spins (yielding) in the pathological case where a worker has 64 K
 * hand-offs it has not yet taken, e.g. an event callback that blocks.
 */
SMSR_API int smsr_router_submit(struct smsr_router *r, const struct smsr_msg *msg,
				struct smsr_result *res);

/*
 * Submit @n messages; @res[i] (@res required) gets each one's result.
 * Returns the number accepted, or a negative code if none could be
 * considered (-SMSR_ENOTRUNNING, -SMSR_EINVAL). Cheaper per message than
 * single submits: hand-offs to the workers are batched.
 */
SMSR_API int smsr_router_submit_batch(struct smsr_router *r, const struct smsr_msg *msgs, size_t n,
				      struct smsr_result *res);

enum smsr_chan_state {
	SMSR_CHAN_UP = 0,
	SMSR_CHAN_DOWN = 1,   /* the transport says so */
	SMSR_CHAN_PAUSED = 2, /* an operator said so */
	SMSR_CHAN_DRAINING = 3,
	SMSR_CHAN_REMOVED = 4,	/* by the operator; closed once nothing is in flight */
	SMSR_CHAN_DEGRADED = 5, /* up, but erring or probing after an outage: less traffic */
};

struct smsr_channel_info {
	char name[32];
	char driver[32];
	int32_t index;
	uint8_t state; /* enum smsr_chan_state */
	uint8_t pad[3];
	int32_t down_reason; /* -SMSR_E* when down */
	uint32_t tps;	     /* granted segments per second, 0 unlimited */
	uint32_t window;
	uint32_t inflight; /* submits awaiting the carrier's answer */
	uint32_t awaiting_dlr;
	uint64_t queued[SMSR_NCLASS]; /* per lane, index class - 1 */
	uint64_t submitted, accepted, delivered, failed, expired, throttled;
	double price; /* per segment */
	/* Health (see smsr_router_channels()). */
	uint64_t retried;	/* sends that failed temporarily and went again */
	uint64_t resent;	/* unknown outcome (outage, timeout), resent by class */
	uint64_t rate_cuts;	/* send-rate halvings after throttling */
	uint64_t breaker_opens; /* times the circuit breaker opened */
	uint8_t breaker;	/* 0 closed, 1 degraded, 2 open, 3 half-open */
	uint32_t send_tps;	/* pacing now: granted, cut by throttling, or measured */
	uint32_t latency_us;	/* moving average of submit answers */
	uint32_t latency_p50_us, latency_p99_us; /* answers of the last 10-20 s */
	uint32_t report_ms;			 /* moving average of delivery report delays */
	uint32_t delivery_pm;			 /* moving delivery rate from reports, per mille */
	int32_t error_pct; /* answers that were errors, last 1-2 s; -1 too few */
	/*
	 * Why routing prefers it, per class (index class - 1): the expected
	 * cost of one delivered message, (price + miss_cost x (1 - delivery))
	 * / delivery + time_value x wait (router.scoring), where wait_ms is
	 * the time in its lanes at the current rate plus the answer latency.
	 * Within a route group, shares go by weight x (best / score)^4.
	 */
	double score[SMSR_NCLASS];
	uint32_t wait_ms[SMSR_NCLASS];
	/* Messages whose receipt here said undelivered, resent through another
	 * channel (router.retry.resend_undelivered). */
	uint64_t redelivered;
};

/*
 * Fill up to @max entries of @out with the channels' states and counters.
 * Returns the number of channels (which may exceed @max).
 */
SMSR_API int smsr_router_channels(struct smsr_router *r, struct smsr_channel_info *out, size_t max);

/* Find a channel's index by @name; -SMSR_ENOTFOUND. */
SMSR_API int smsr_router_channel_find(struct smsr_router *r, const char *name);

/*
 * Failover: when a channel's link goes down (its driver says so), the
 * messages queued on it move at once to the other channels of their route
 * rule (same ids; a QUEUED event names the new channel; a lane's order is
 * kept). A message with nowhere to go stays and is sent when its channel is
 * back, or expires; moving is tried again whenever some channel comes up.
 * Messages already handed to the driver have an unknown outcome: those of
 * the classes in router.retry.resend_unanswered (verification by default)
 * are sent again elsewhere at once; the others wait for their answer or
 * time out. The same happens when the channel's circuit breaker opens
 * (black_hole, no_reports, failing; see docs/config.md), and each state
 * change is an SMSR_EV_CHANNEL event with its reason. Temporary errors are
 * retried with backoff on the best other channel; permanent ones fail at
 * once; router.retry.max_attempts and validity bound every message.
 *
 * Operator states. A paused channel takes no new messages and sends
 * nothing; a draining one takes no new messages and keeps sending what is
 * queued (through link failures: it drains again when the link is back).
 * Resume undoes either (-SMSR_ESTATE when the channel is neither). Each
 * answers -SMSR_ESTATE for a removed channel.
 */
SMSR_API int smsr_router_channel_pause(struct smsr_router *r, int index);
SMSR_API int smsr_router_channel_drain(struct smsr_router *r, int index);
SMSR_API int smsr_router_channel_resume(struct smsr_router *r, int index);

/*
 * Remove a channel while traffic flows: it takes no new messages at once,
 * its queued messages move to other channels of their routes (those with
 * nowhere to go fail with no_channel), submits in flight are still answered
 * and reports still land, and its driver is closed once nothing is in
 * flight. The index is never reused; channel_find() no longer finds it and
 * smsr_router_channels() shows it as SMSR_CHAN_REMOVED. -SMSR_ESTATE if
 * already removed.
 */
SMSR_API int smsr_router_channel_remove(struct smsr_router *r, int index);

/*
 * Add a channel while traffic flows. @text is one channel in the syntax of
 * a configuration's channels[] entry (docs/config.md), e.g.
 * "{ name = \"cmcc-c\"; driver = \"sim\"; carriers = [\"cmcc\"]; tps = 200; }".
 * The channel opens at once (when the router runs) and takes messages once
 * a route names it (smsr_router_reload()). Returns its index, or
 * -SMSR_ECONFIG, -SMSR_EEXIST (a live channel has that name),
 * -SMSR_ENODRIVER, -SMSR_ESTATE (stopped), or the driver's open error; a
 * one-line reason goes to @err (may be NULL).
 */
SMSR_API int smsr_router_channel_add(struct smsr_router *r, const char *text, char *err,
				     size_t errlen);
/*
 * Apply a whole new configuration while traffic flows, as snapshot swaps:
 * channels new by name are added; channels gone are removed (their queues
 * move to the other channels of their routes); channels whose settings
 * changed are replaced by a new channel of the same name (the old one's
 * queue moves onto it), except that tps and price change in place; routes,
 * carrier prefixes and ported numbers are replaced; router.memory_budget
 * applies at once (a smaller one refuses new messages until enough of
 * those held have ended). Other router settings (node_id, workers,
 * validity, health, retry) must be unchanged. A
 * configuration that cannot be applied is rejected whole (-SMSR_ECONFIG,
 * -SMSR_ENODRIVER, or the error of a channel that would not open) with a
 * reason in @err, and the running one stays. @cfg is borrowed.
 */
SMSR_API int smsr_router_reload(struct smsr_router *r, const struct smsr_config *cfg, char *err,
				size_t errlen);
/* New granted rate in segments per second (0: unlimited, at most SMSR_TPS_MAX). */
#define SMSR_TPS_MAX 1000000u
SMSR_API int smsr_router_channel_set_rate(struct smsr_router *r, int index, uint32_t tps);

/*
 * The channel's weight (1..SMSR_WEIGHT_MAX) in every route group that names
 * it; takes effect for messages submitted after the call returns.
 */
#define SMSR_WEIGHT_MAX 1000u
SMSR_API int smsr_router_channel_set_weight(struct smsr_router *r, int index, uint32_t weight);

/*
 * Pass a control to the channel's driver (e.g. the sim driver's
 * "fault" = "down" | "blackhole" | "throttle" | "reject" | "none"). Runs on
 * the channel's worker; returns once queued (0) or -SMSR_ENOTFOUND /
 * -SMSR_EINVAL. The driver's own answer is reported by a later state change.
 */
SMSR_API int smsr_router_channel_ctl(struct smsr_router *r, int index, const char *key,
				     const char *value);

/*
 * A delivery report received outside the channel's driver (e.g. relayed by
 * another system): the message channel @index's carrier knows as
 * @carrier_msgid is delivered (@status 0) or failed (-SMSR_E*, e.g.
 * -SMSR_EUNDELIVERED) with the operator's @op_code. Returns once queued to
 * the channel's worker; a report that matches no message awaiting one is
 * counted in stats.stale_reports.
 */
SMSR_API int smsr_router_inject_dlr(struct smsr_router *r, int index, const char *carrier_msgid,
				    int status, int op_code);

/*
 * A mobile-originated reply from @from (any form smsr_e164_normalize()
 * takes) to @to (our sender id or long code; informational), received on
 * channel @channel (-1: unknown) or relayed by another system. A reply
 * that is a whole opt-out keyword (TD, T, N, R, 退订, 退訂, 取消, STOP,
 * UNSUBSCRIBE, CANCEL, END, QUIT, ... any case, trailing punctuation
 * ignored) puts @from on the opt-out list: marketing to it is rejected
 * from then on with -SMSR_EOPTEDOUT (codes and notices still go). START,
 * UNSTOP, 订阅 or YES takes it off. Returns SMSR_MO_NONE, SMSR_MO_OPT_OUT
 * or SMSR_MO_OPT_IN, or -SMSR_EBADNUMBER / -SMSR_EINVAL. The library keeps
 * the list in memory (it does no I/O): a host that must keep it across
 * restarts records each change and replays it with smsr_router_optout(), as
 * smsrd does with its opt-out file.
 */
enum {
	SMSR_MO_NONE = 0,
	SMSR_MO_OPT_OUT = 1,
	SMSR_MO_OPT_IN = 2
};
SMSR_API int smsr_router_inject_mo(struct smsr_router *r, const char *from, const char *to,
				   const char *text, int channel);
/*
 * The opt-out list directly: @out 1 adds @number, 0 removes it (returns 1
 * if that changed anything, else 0), -1 asks (1 listed, 0 not). Or
 * -SMSR_EBADNUMBER.
 */
SMSR_API int smsr_router_optout(struct smsr_router *r, const char *number, int out);

#define SMSR_REASONS_MAX 64 /* router codes 1000..1063 */

struct smsr_stats {
	uint64_t submitted; /* submit attempts */
	uint64_t accepted;
	uint64_t rejected;
	uint64_t rejected_by_reason[SMSR_REASONS_MAX]; /* index: code - SMSR_EINVAL */
	uint64_t queued_now;			       /* in lanes */
	uint64_t inflight_now;			       /* handed to drivers, no final state yet */
	uint64_t delivered, failed, expired;
	uint64_t by_class[SMSR_NCLASS]; /* accepted per class */
	uint64_t stale_reports;		/* driver reports for unknown tokens */
	uint64_t retrying_now;		/* waiting out a retry backoff */
	uint64_t retried, resent;	/* see smsr_channel_info */
	uint64_t mo_received;		/* MO replies injected */
	uint64_t opt_outs, opt_ins;	/* of them, STOP / START keywords */
	uint64_t opted_out_now;		/* numbers on the opt-out list */
	/*
	 * Overload (see smsr_router_submit()). mem_held: bytes of message
	 * records held, from acceptance to the final state (allocator size
	 * classes, text included); mem_budget: what they may fill,
	 * router.memory_budget less mem_reserved (what the host said it
	 * holds itself, smsr_router_reserve_memory()). The
	 * busy refusals by cause — they add up to rejected_by_reason for
	 * busy: lanes full, over the budget, or too late (no channel of the
	 * route would send it within its validity at its current rate).
	 */
	uint64_t mem_held, mem_budget, mem_reserved;
	uint64_t busy_lanes, busy_memory, busy_late;
};

/*
 * Tell the router that @bytes of router.memory_budget are the host's own
 * (an embedding daemon's stores, its process): the router's messages may
 * then fill only the rest, so the budget bounds the whole. Kept across
 * reloads; a reload whose budget would leave less than 1MB is refused.
 * Returns -SMSR_EINVAL when less than 1MB would be left now.
 */
SMSR_API int smsr_router_reserve_memory(struct smsr_router *r, uint64_t bytes);

/* A snapshot of the router's counters (eventually consistent). */
SMSR_API int smsr_router_stats(struct smsr_router *r, struct smsr_stats *out);

#ifdef __cplusplus
}
#endif
#endif
