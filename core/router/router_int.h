/* SPDX-License-Identifier: MIT */
/*
 * Router internals: the router, its channels, workers and snapshot.
 *
 * Threads. Host threads submit: they validate, classify and route a message
 * on their own CPU, reserve room in the chosen lane (an atomic counter per
 * lane), and hand the accepted records to the worker that owns the channel
 * in batches, one ck_ring (MPSC) entry per batch chain. A worker runs to
 * completion: it owns its channels' lanes, drivers, in-flight tables and
 * timers, and is the only thread that touches them; it sleeps in io_uring
 * on an eventfd when idle. Nothing on the submit -> dispatch path takes a
 * mutex.
 *
 * Snapshot. Route table, carrier table and the channel array are read by
 * submitters inside a ck_epoch section and replaced whole (build aside,
 * publish with one atomic store, retire through ck_epoch).
 */
#ifndef SMSR_ROUTER_INT_H
#define SMSR_ROUTER_INT_H

#include <ck_epoch.h>
#include <ck_ring.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "smsr/router.h"
#include "base/alloc.h"
#include "msg/carrier.h"
#include "cfg/cfg.h"
#include "chan/chan_health.h"
#include "base/epoch.h"
#include "route/lane_sched.h"
#include "policy/optout.h"
#include "msg/msg_rec.h"
#include "route/route_table.h"
#include "journal/journal.h"
#include "router_dlr.h"

#define SMSR__CACHELINE	      64
#define SMSR__RING_SLOTS      65536 /* hand-off chains per worker */
#define SMSR__CTL_SLOTS	      1024
#define SMSR__SPIN_NS	      50000ull	   /* idle spin before sleeping */
#define SMSR__BUSY_HORIZON_NS 2000000ull   /* with a backlog, spin up to a send this near */
#define SMSR__SWEEP_NS	      100000000ull /* expiry and timeout sweeps */
#define SMSR__DISPATCH_BURST  256	   /* sends per channel per loop turn */

/* A counter alone on its cache line, so writers on different cores never
 * share a line. */
struct smsr__counter {
	_Alignas(SMSR__CACHELINE) _Atomic uint64_t v;
	/* Submitters' last view of the matching released counter: released
	 * only grows, so a stale view only errs towards "full" and is
	 * refreshed then. Saves a cross-core miss per message. */
	_Atomic uint64_t seen_released;
};

/* Single-writer counters: the owner does load + store, readers load. */
#define SMSR__BUMP(field, n)                                                              \
	atomic_store_explicit(&(field),                                                   \
			      atomic_load_explicit(&(field), memory_order_relaxed) + (n), \
			      memory_order_relaxed)
#define SMSR__LOAD(field) atomic_load_explicit(&(field), memory_order_relaxed)

struct smsr__slot {
	struct smsr__rec *rec;
	uint32_t gen;
	union {
		uint32_t next_free; /* free: the next free slot */
		uint32_t parts;	    /* in use: its receipt index chain (router_dlr.h), 0 none */
	};
};

struct smsr__chan_stats {
	_Atomic uint64_t submitted, accepted, delivered, failed, expired, throttled;
	_Atomic uint64_t retried;     /* sent again elsewhere after a temporary error */
	_Atomic uint64_t resent;      /* unknown outcome, resent elsewhere (class policy) */
	_Atomic uint64_t redelivered; /* resent elsewhere after a failed receipt */
	_Atomic uint64_t rate_cuts;   /* AIMD decreases after throttling */
	_Atomic uint64_t breaker_opens;
	_Atomic uint32_t inflight, awaiting_dlr;
	/* Health, published each sweep for readers on other threads. */
	_Atomic uint32_t send_tps;   /* pacing now (AIMD), 0 unlimited */
	_Atomic uint32_t latency_us; /* moving average of submit answers */
	_Atomic uint32_t latency_p50_us, latency_p99_us;
	_Atomic uint32_t report_ms;   /* moving average of report delays */
	_Atomic uint32_t delivery_pm; /* moving delivery rate, per mille */
	_Atomic int32_t error_pct;    /* last 1-2 s, -1 too few answers */
	_Atomic uint8_t breaker;      /* enum smsr__breaker */
	/* Expected cost per delivered message, by class (see router_health.c),
	 * in millionths of a price unit; what routing compares. */
	_Atomic uint32_t score[SMSR_NCLASS];
	_Atomic uint32_t wait_ms[SMSR_NCLASS]; /* queue wait + answer latency, by class */
};

struct smsr_chan {
	/* Read by submitters and the worker, written rarely: one line. */
	_Alignas(SMSR__CACHELINE) uint32_t index;
	struct smsr__worker *worker;
	const struct smsr__chan_cfg *cfg; /* in the router's config copy */
	_Atomic uint8_t state;		  /* enum smsr_chan_state */
	_Atomic bool draining;		  /* operator's drain: survives link down/up */
	_Atomic uint32_t tps;		  /* granted rate now (set_rate) */
	_Atomic double price;		  /* cfg->price now (reloads change it) */
	_Atomic int32_t down_reason;
	struct smsr__counter admitted[SMSR_NCLASS]; /* by submitters */
	struct smsr__counter released[SMSR_NCLASS]; /* by the worker */

	/*
	 * What submitters read to judge whether a message would leave this
	 * channel within its validity (router_submit.c): written by the worker
	 * at open and every sweep, read-mostly, one line.
	 */
	struct smsr__drain {
		/* Segments per second it sends now: the pacing rate (AIMD cut,
		 * or granted), bounded by window / answer latency; 0 unknown
		 * (unlimited and no window): no deadline check. */
		_Alignas(SMSR__CACHELINE) _Atomic uint32_t tps;
		_Atomic uint32_t seg_x16[SMSR_NCLASS]; /* segments per queued message, x 16 */
		_Atomic uint64_t segs[SMSR_NCLASS];    /* queued in each lane */
		uint32_t weight[SMSR_NCLASS];	       /* the lanes' notice : marketing shares */
	} drain;

	/* Owned by the worker. */
	_Alignas(SMSR__CACHELINE) const struct smsr_driver *drv;
	void *drv_state;
	bool open;
	struct smsr__lanes lanes;
	struct smsr__slot *slots;
	uint32_t nslots, slots_used, free_slot;
	bool evacuate;	      /* went down: move the queued messages elsewhere */
	bool removing;	      /* removed: close the driver once nothing is in flight */
	uint64_t evac_gen;    /* r->up_gen when that was last tried */
	uint64_t poll_at;     /* when the driver wants poll() */
	uint64_t dispatch_at; /* when pacing lets the next one go; 0 now */
	bool resend;	      /* went down: resend what is in flight, by class */
	bool link_up;	      /* the driver's last word */
	uint8_t told_state;   /* the state the last CHANNEL event named */
	int told_reason;      /* ... and its reason */
	int link_reason;      /* why the link is down */
	struct smsr__health health;
	uint32_t unanswered, unreported; /* overdue at the last sweep */
	uint32_t aimd_tps;		 /* cut rate after throttling, 0 none */
	uint64_t last_cut, last_throttle;
	uint64_t rate_mark, rate_mark_sent; /* for the measured send rate */
	struct smsr__chan_stats stats;
	/* SYNC journal: taken from the lanes, waiting for their HANDOFF record
	 * to be durable before they go (router_chan.c, stage()). */
	struct smsr__rec *staged_head, *staged_tail;
	/* Receipts by carrier message id: the worker's, like the fields above
	 * the stats (kept after them so the stats' lines stay where they were). */
	struct smsr__dlr_index dlr;
};

enum smsr__ctl_op {
	SMSR__CTL_DRIVER = 1, /* pass key/value to the channel's driver */
	SMSR__CTL_RATE = 2,   /* value: new tps */
	SMSR__CTL_DLR = 3,    /* key: carrier msgid; value: "status op_code" */
	SMSR__CTL_REMOVE = 4, /* move the queue away, close when idle */
	SMSR__CTL_ADD = 5,    /* a channel added while running: adopt it */
	SMSR__CTL_REVIVE = 6, /* a recovered message (@rec): awaits its receipt, or ends */
};

#define SMSR__WORKERS_MAX 64

struct smsr__ctl {
	int op;
	uint32_t chan;
	struct smsr__rec *rec;	  /* REVIVE */
	int action, type, reason; /* REVIVE: enum smsr__revive_action, a final's type and reason */
	uint64_t since_ns;	  /* REVIVE, ADOPT: when the carrier took it (monotonic), 0 now */
	char ids[512];		  /* REVIVE: the carrier ids, joined with ',' */
	char key[SMSR_CARRIER_ID_MAX + 1]; /* a driver's key, or a carrier msgid */
	char value[96];
};

/* Apply @ctl to its channel; on the channel's worker. */
void smsr__chan_ctl(struct smsr__worker *w, struct smsr_chan *c, const struct smsr__ctl *ctl);

#define SMSR__ATTEMPTS_MAX 10

/* Messages waiting out a retry backoff: one FIFO per attempt number, each
 * sorted by due time since every entry of it waited the same backoff. */
struct smsr__retry_q {
	struct smsr__rec *head, *tail;
};

/*
 * io_uring user_data, the one place it is encoded: the low 3 bits say what
 * completed, the rest is the struct smsr_conn it belongs to (8-aligned),
 * or 0 for the worker's own requests.
 */
enum {
	SMSR__UD_EFD = 1,     /* the worker's eventfd read (pointer 0) */
	SMSR__UD_IGNORE = 2,  /* a cancel request (pointer 0) */
	SMSR__UD_CONNECT = 3, /* a connection's connect */
	SMSR__UD_RECV = 4,
	SMSR__UD_SEND = 5,
};
#define SMSR__URING_ENTRIES 256

struct smsr__worker {
	struct smsr_router *r;
	unsigned index;
	pthread_t thread;
	bool started;
	struct ck_ring ring; /* chains of struct smsr__rec, MPSC */
	struct ck_ring_buffer *ring_buf;
	struct ck_ring ctl; /* struct smsr__ctl *, MPSC */
	struct ck_ring_buffer *ctl_buf;
	_Atomic int sleeping;
	_Atomic int stop;
	int efd;
	bool have_uring;
	bool efd_armed;
	struct io_uring uring;
	uint64_t efd_val;
	struct smsr_conn *conns;      /* drivers' connections (router_conn.c) */
	struct smsr_conn *conn_dirty; /* to arm or free at the end of the turn */
	bool sqes_pending;	      /* SQEs prepared and not yet submitted */
	struct smsr_chan **chans;
	size_t nchans;
	uint64_t now;
	uint64_t next_sweep;
	bool backlog; /* messages wait on pacing on an up channel */
	_Atomic uint64_t stale_reports;
	_Atomic uint64_t finals[3]; /* delivered, failed, expired */
	_Atomic uint64_t mem_freed; /* budget bytes of the records it freed (router_submit.c) */
	_Atomic uint64_t inflight_now;
	_Atomic uint64_t retrying; /* waiting in @retry */
	/* SYNC journal: handed over before they were durable; queued once they
	 * are (router_worker.c). @held tells the journal's thread to wake us. */
	struct smsr__rec *held_head, *held_tail;
	uint64_t held_seen; /* the durable position they were last checked at */
	uint32_t nstaged;   /* messages staged on its channels (router_chan.c) */
	_Atomic bool held;
	struct smsr__retry_q retry[SMSR__ATTEMPTS_MAX];
	char pad[SMSR__CACHELINE];
	/* How the worker waits (read by benchmarks and tests; cheap: the
	 * worker bumps its own line, submitters only wakes_sent, and only
	 * when the worker sleeps). */
	struct {
		_Alignas(SMSR__CACHELINE) _Atomic uint64_t spins; /* idle turns spent spinning */
		_Atomic uint64_t sleeps;	 /* entered the io_uring / poll wait */
		_Atomic uint64_t sleeps_idle;	 /* ... with no backlog */
		_Atomic uint64_t sleeps_far;	 /* ... with a backlog, next send beyond horizon */
		_Atomic uint64_t sleeps_skipped; /* input found after raising the flag */
		_Atomic uint64_t far_gap_max_ns; /* largest next - now of sleeps_far */
		_Atomic uint64_t efd_wakes;	 /* woken by the eventfd */
		_Atomic uint64_t polled_takes;	 /* inputs found while spinning only for recency */
		_Alignas(SMSR__CACHELINE) _Atomic uint64_t wakes_sent; /* eventfd writes */
	} wait_stats;
	/* Owned by the worker: when it last took a hand-off or control
	 * request, and whether its current spin is only for that recency. */
	uint64_t last_input;
	bool polling_recent;
};

struct smsr__snapshot {
	bool scoring; /* share groups by channel scores */
	struct smsr__route_table *routes;
	struct smsr__carrier_table *carriers;
	struct smsr_chan **chans;
	size_t nchans;
	ck_epoch_entry_t epoch_entry;
};

struct smsr_router {
	struct smsr_config cfg; /* deep copy; channels point into it */
	smsr_event_cb *on_event;
	void *ev_arg;
	uint32_t ev_mask;
	const struct smsr_driver **drivers;
	size_t ndrivers;
	struct smsr__arena arena;

	_Atomic(struct smsr__snapshot *) snap;
	struct smsr__epoch epoch; /* readers' records, leased per call */
	pthread_mutex_t
	    admin_lock; /* serializes start/stop/snapshot swaps; never on the hot path */

	struct smsr_chan *chans; /* SMSR__CHANS_MAX slots, the first nchans in use */
	_Atomic size_t nchans;	 /* grows (channel add); an index is never reused */
	struct smsr__worker *workers;
	unsigned nworkers;

	struct smsr__optout optout; /* numbers that get no marketing */
	_Atomic uint64_t up_gen;    /* bumped whenever a channel comes up */
	_Atomic unsigned loops;	    /* worker loops still running */
	_Atomic int running;
	_Atomic int active; /* submit calls in progress */
	bool stopped;

	struct smsr__counter last_id; /* (ms << 13 | seq) of the last id handed out */

	/* The journal (router_journal.c); NULL without one. */
	struct smsr__journal *journal;
	bool journal_hold; /* SYNC: nothing is sent before it is durable */
	bool journal_keep; /* opts.journal_keep: no segment is ever deleted */
	smsr_durable_cb *on_durable;
	smsr_log_cb *on_log;
	void *log_arg;
	struct smsr__revive_set *revive; /* replayed at create, sent again at start */
	struct smsr__archiver *archiver; /* the history archive, fed from the journal */

	/*
	 * The memory budget (router_submit.c). Submitters charge record bytes
	 * in chunks (returning what a call did not use), workers count what
	 * they free in their own mem_freed; held = charged - the sum of those.
	 * seen_released caches that sum: it only errs towards "full".
	 */
	struct smsr__counter mem_charged;
	_Atomic uint64_t mem_limit[SMSR_NCLASS]; /* what each class may fill the budget to */
	uint64_t mem_reserve;			 /* of the budget, held by the host (admin_lock) */
	_Atomic uint64_t n_busy[3];		 /* busy: lanes full, over budget, too late */

	/* Submit-side counters, added once per call. */
	struct smsr__counter n_submitted, n_accepted, n_rejected;
	struct smsr__counter n_class[SMSR_NCLASS];
	_Atomic uint64_t n_reason[SMSR_REASONS_MAX];
	_Atomic uint64_t n_mo[3]; /* MO replies: plain, opt-out, opt-in */
};

/* Busy, why (smsr_stats.busy_*). */
enum smsr__busy {
	SMSR__BUSY_LANES = 0,  /* every lane that could take it is full */
	SMSR__BUSY_MEMORY = 1, /* over the memory budget (for its class) */
	SMSR__BUSY_LATE = 2,   /* no channel would send it within its validity */
};

/* Budget bytes the workers have freed so far. */
static inline uint64_t smsr__mem_freed(const struct smsr_router *r)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < r->nworkers; i++)
		n += atomic_load_explicit(&r->workers[i].mem_freed, memory_order_relaxed);
	return n;
}

/* Bytes held now: charged less freed (eventually consistent; never negative). */
static inline uint64_t smsr__mem_held(const struct smsr_router *r)
{
	int64_t held = (int64_t)(atomic_load_explicit(&r->mem_charged.v, memory_order_relaxed) -
				 smsr__mem_freed(r));

	return held > 0 ? (uint64_t)held : 0;
}

/* Set what each class may fill @budget to: all of it for codes, 7/8 for
 * notices, 3/4 for promotions (router.c). */
void smsr__mem_set_budget(struct smsr_router *r, uint64_t budget);

/* Worker side (router_worker.c). */
int smsr__worker_init(struct smsr__worker *w, struct smsr_router *r, unsigned index);
void smsr__worker_fini(struct smsr__worker *w);
int smsr__worker_start(struct smsr__worker *w);
/* Tell @w to stop (returns at once); join waits for it. Signal every
 * worker before joining any: each finishes only once all loops ended. */
void smsr__worker_signal(struct smsr__worker *w);
void smsr__worker_join(struct smsr__worker *w);
void smsr__worker_wake(struct smsr__worker *w);
/* Hand a chain (linked by ->next) to @w. Never fails; may spin if full. */
void smsr__worker_push(struct smsr__worker *w, struct smsr__rec *chain);
int smsr__worker_ctl(struct smsr__worker *w, struct smsr__ctl *ctl);

/*
 * Routing again, for a message already accepted (router_submit.c): pick and
 * admit a channel of the message's route rule other than @exclude, as
 * submit does. The caller holds an epoch section on @s.
 */
int smsr__route_pick(const struct smsr__snapshot *s, int cls, int carrier, const char *e164,
		     uint64_t hash, int exclude);

/*
 * Move every message queued on @c (down, or being removed) to other
 * channels of its route, keeping ids and lane order; a QUEUED event tells
 * each move. Messages with nowhere to go stay on @c. Worker of @c only.
 * Returns how many moved (router_move.c).
 */
size_t smsr__chan_evacuate(struct smsr__worker *w, struct smsr_chan *c);

/*
 * A removed channel, each pass: move away (or fail, no_channel) whatever is
 * queued on it, and close the driver once nothing is in flight. Returns
 * true once closed (router_move.c). Also called for a channel already
 * closed when messages routed to it before its removal arrive late.
 */
bool smsr__chan_removed_step(struct smsr__worker *w, struct smsr_chan *c);

/* Events (router_events.c). @carrier_msgid (lent for the call; NULL: the
 * record's own) is the id the event names. */
void smsr__emit_id(struct smsr_router *r, enum smsr_event_type type, const struct smsr__rec *rec,
		   int reason, int op_code, uint64_t now_ns, const char *carrier_msgid);

static inline void smsr__emit(struct smsr_router *r, enum smsr_event_type type,
			      const struct smsr__rec *rec, int reason, int op_code, uint64_t now_ns)
{
	smsr__emit_id(r, type, rec, reason, op_code, now_ns, NULL);
}

/* ACCEPTED, on the submitting thread: the host may set the record's tag. */
void smsr__emit_accepted(struct smsr_router *r, struct smsr__rec *rec, uint64_t now_ns);

/* Final states: emit the event (naming @carrier_msgid, see smsr__emit_id),
 * count, free the record. Worker only. */
void smsr__rec_finish_id(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec,
			 enum smsr_event_type type, int reason, int op_code,
			 const char *carrier_msgid);

static inline void smsr__rec_finish(struct smsr__worker *w, struct smsr_chan *c,
				    struct smsr__rec *rec, enum smsr_event_type type, int reason,
				    int op_code)
{
	smsr__rec_finish_id(w, c, rec, type, reason, op_code, NULL);
}

/* Snapshots (router_snap.c). */
int smsr__snap_build(struct smsr_router *r, struct smsr__snapshot **out);
void smsr__snap_publish(struct smsr_router *r, struct smsr__snapshot *s);
void smsr__snap_free(struct smsr__snapshot *s);

/*
 * Retries (router_retry.c). A message whose send failed with a temporary
 * error, or whose outcome is unknown and whose class is resent, is sent
 * again: after a backoff (@delay) on the best other channel of its route,
 * else the same one. Out of attempts or validity, it ends failed with
 * @reason. The message is out of every lane and in-flight table. Worker of
 * @c only.
 */
void smsr__retry(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec, int reason,
		 int op_code, bool delay);
/* Send the retries that are due; returns when the next one is (UINT64_MAX). */
uint64_t smsr__retry_run(struct smsr__worker *w);
/* Stop: fail every waiting retry, with @sent if an earlier attempt may have
 * reached a carrier (rec->maybe_sent), else with @unsent. */
void smsr__retry_fail_all(struct smsr__worker *w, int unsent, int sent);
/* Queue @rec (already admitted on channel @to) there, on whichever worker. */
void smsr__requeue(struct smsr__worker *w, struct smsr__rec *rec, int to);

/* The history archive (router_archive.c). */
struct iovec;
struct smsr__archiver;
int smsr__archiver_open(struct smsr_router *r, const char *path, uint64_t retention_ns, char *err,
			size_t errlen);
int smsr__archiver_start(struct smsr_router *r);
void smsr__archiver_close(struct smsr_router *r);
void smsr__archiver_tap(struct smsr__archiver *ar, const struct iovec *iov, int n,
			uint64_t last_lsn);
void smsr__archiver_feed(struct smsr__archiver *ar, uint8_t type, uint64_t id, const void *p,
			 uint32_t len);
void smsr__archiver_flush(struct smsr__archiver *ar);
struct smsr__archive *smsr__archiver_db(const struct smsr_router *r);

/* The journal (router_journal.c, router_recover.c). */
int smsr__journal_setup(struct smsr_router *r, const struct smsr_router_opts *o);
/* Append @rec's ACCEPT record (sets rec->jlsn); 0 or the journal's refusal. */
int smsr__journal_accept(struct smsr_router *r, struct smsr__rec *rec, uint64_t now_mono);
/* Record what event @type says of @rec (only what recovery needs). */
void smsr__journal_event(struct smsr_router *r, enum smsr_event_type type,
			 const struct smsr__rec *rec, int reason, int op_code, const char *ids);
/* Append @rec's HANDOFF to @c ahead of the send; its LSN, 0 if refused. */
uint64_t smsr__journal_handoff(struct smsr_router *r, const struct smsr__rec *rec,
			       const struct smsr_chan *c);
/* Send the staged messages whose HANDOFF is durable; true if any went. */
bool smsr__chan_flush_staged(struct smsr__worker *w, struct smsr_chan *c);
/* Put @c's staged messages back at their lanes' heads (down, removed, stop). */
void smsr__chan_unstage(struct smsr__worker *w, struct smsr_chan *c);
/* May @rec be sent (SYNC: is its ACCEPT durable)? */
bool smsr__journal_durable(const struct smsr_router *r, const struct smsr__rec *rec);
/* Replay the journal into r->revive (at create). */
int smsr__journal_recover_load(struct smsr_router *r);
/* Ids handed out from now on are above @id (router_submit.c). */
void smsr__ids_after(struct smsr_router *r, uint64_t id);
/* Send the replayed messages again (at start, workers running). */
void smsr__journal_recover_run(struct smsr_router *r);
void smsr__journal_recover_free(struct smsr_router *r);

enum smsr__revive_action {
	SMSR__REVIVE_QUEUE = 0, /* never sent, or resent by its class: a lane */
	SMSR__REVIVE_ADOPT,	/* the carrier took it: await its receipt */
	SMSR__REVIVE_FINISH,	/* ends at once (expired, unknown outcome) */
};

/* A message the journal brought back, for smsr__submit_revived(). */
struct smsr__revive {
	uint64_t id;
	uint64_t accepted_ns; /* CLOCK_MONOTONIC, may be in the past */
	uint8_t attempt, maybe_sent;
	int action;	  /* enum smsr__revive_action */
	int type, reason; /* FINISH */
	const char *chan; /* ADOPT: the channel that has it (by name) */
	const char *ids;  /* ADOPT: its carrier ids, joined */
	uint64_t jlsn;	  /* its ACCEPT record, still in the journal; 0: write anew */
	uint64_t submitted_unix_ns, submitted_ns; /* ADOPT: when the carrier took it */
};

/* Accept @m again as the message @rv says (router_submit.c): its id, its
 * acceptance time; a new ACCEPT record. 0 or the reason it could not. */
int smsr__submit_revived(struct smsr_router *r, const struct smsr_msg *m,
			 const struct smsr__revive *rv);
/* A revived message on its channel's worker: await the receipt for @ids
 * (router_receipt.c... router_chan.c), or finish it. */
void smsr__chan_revive(struct smsr__worker *w, struct smsr_chan *c, const struct smsr__ctl *ctl);

/* Connections on the worker's ring (router_conn.c). Arm what the drivers
 * queued this turn and submit every SQE; true if any connection had work. */
bool smsr__conn_flush(struct smsr__worker *w);
/* A completion: true if it was a connection's (handled), else false. */
bool smsr__conn_complete(struct smsr__worker *w, uint64_t user_data, int res);
/* Free every connection; the ring is already gone. */
void smsr__conn_fini(struct smsr__worker *w);

/* Channel side (router_chan.c). */
int smsr__chan_open(struct smsr_router *r, struct smsr_chan *c, uint64_t now);
/* Set up r->chans[@i] from r->cfg.chans[@i] (router.c). */
int smsr__chan_init(struct smsr_router *r, size_t i);
const struct smsr_driver *smsr__find_driver(const struct smsr_router *r, const char *name);
void smsr__chan_close(struct smsr_chan *c);
void smsr__chan_dispatch(struct smsr__worker *w, struct smsr_chan *c);
void smsr__chan_sweep(struct smsr__worker *w, struct smsr_chan *c);
/* Stop: fail everything @c holds. Queued messages end with @unsent, or with
 * @sent if an earlier attempt may have reached a carrier; messages handed
 * to the driver (in flight or awaiting a report) end with @sent. */
void smsr__chan_fail_all(struct smsr__worker *w, struct smsr_chan *c, int unsent, int sent);
/* Down: send again, elsewhere, the in-flight messages of the classes resent
 * when their outcome is unknown (router_chan.c). */
void smsr__chan_resend_unknown(struct smsr__worker *w, struct smsr_chan *c);
/* Temporary errors: worth another attempt. */
bool smsr__temporary(int status);
/*
 * A report for @rec, awaiting one on @c, that ends its wait: delivered
 * (@status 0) or failed (router_chan.c). @msgid (lent; NULL: the
 * record's) names the part reported in the event.
 */
void smsr__chan_report(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec,
		       int status, int op_code, const char *msgid);
/*
 * Receipts (router_receipt.c). @rec, out of @c's in-flight table, has a
 * receipt that says it was not delivered (@reason): resend it once through
 * another channel of its route when router.retry.resend_undelivered says
 * so, else it ends failed with @reason and @op_code.
 */
void smsr__receipt_failed(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec,
			  int reason, int op_code, const char *msgid);
/* Index what @c's answers only noted (router_dlr.h), and hash in what is
 * pending: before a lookup by id, and each sweep (router_chan.c). */
void smsr__chan_index(struct smsr_chan *c);
/* A receipt from outside the driver (SMSR__CTL_DLR): @msgid, "status op_code". */
void smsr__receipt_inject(struct smsr_chan *c, const char *msgid, const char *value);
/* Recompute and publish @c's state from operator, link and breaker (channel events). */
void smsr__chan_publish_state(struct smsr_chan *c);
/* A CHANNEL event if @c's state is not the one the last event named: the
 * operator's pause, drain, resume and remove change it from host threads,
 * and their control request brings the worker here. */
void smsr__chan_tell_state(struct smsr_chan *c);
/* Health timers and AIMD increase, each sweep (router_health.c). */
void smsr__chan_health_tick(struct smsr__worker *w, struct smsr_chan *c);
/* A submit answer: health, AIMD on throttling (router_health.c). */
void smsr__chan_health_answer(struct smsr__worker *w, struct smsr_chan *c, int status,
			      uint64_t latency_ns);

#endif
