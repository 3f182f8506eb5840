/* SPDX-License-Identifier: MIT */
/*
 * smsrd: the router as a service (proto/PROTOCOL.md).
 *
 * One thread runs an io_uring loop that owns every socket: multishot
 * accept on the listeners, multishot receive into a provided-buffer ring,
 * one batched send per connection per loop turn. Requests are decoded and
 * answered on that thread; submits go straight into the embedded router.
 * The router's workers report events through a callback that records them in
 * the status store and, while anyone subscribes, copies them into a bounded
 * queue (the hub) that the loop drains into the subscriptions' own bounded
 * queues.
 */
#ifndef SMSRD_H
#define SMSRD_H

#include <liburing.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "smsr.pb-c.h"
#include "smsr/smsr.h"
#include "subidx.h"

#define SMSRD_MS	   1000000ull /* ns */
#define SMSRD_S		   1000000000ull
#define SMSRD_VERSION	   "0.2.0"
#define SMSRD_MAX_TOKENS   16
#define SRV_CHANS_MAX	   1024 /* channels a router may ever have */
#define SMSRD_SUBQ_DEFAULT 16384u
#define SMSRD_SUBQ_MAX	   262144u
#define SMSRD_OUT_HIGH	   (4u << 20) /* output backlog: stop reading above */
#define SMSRD_PING_MAX	   64u
/* Before auth (tokens on): frames over this are refused and the
 * connection closed, so an unauthenticated peer costs almost nothing. */
#define SMSRD_PREAUTH_FRAME 512u

struct smsrd_opts {
	char tcp[64];	     /* "host:port", "" when off */
	char unix_path[108]; /* "" when off */
	char ready_file[256];
	char *tokens[SMSRD_MAX_TOKENS], *admin_tokens[SMSRD_MAX_TOKENS];
	unsigned ntokens, nadmin;
	uint32_t max_frame, max_calls, max_conns, max_batch, max_subs;
	uint32_t max_subs_total;  /* subscriptions on the whole server */
	uint32_t drain_timeout_s; /* stop: longest wait for subscribers' events */
	uint32_t sub_queue;	  /* default subscription queue */
	uint32_t status_max;
	uint32_t status_retention_s;
	uint32_t unix_reserve;	   /* connection slots only Unix clients may take */
	uint32_t auth_timeout_ms;  /* to authenticate, when tokens are on */
	uint32_t frame_timeout_ms; /* to finish a frame once its first byte came */
	uint32_t idle_timeout_s;   /* no call, no subscription: closed after; 0 never */
	uint32_t input_budget_mb;  /* unframed input held, all connections together */
	char optout_file[256];	   /* "" : the opt-out list lives in memory only */
	char data_dir[256];	   /* "" : no journal; else DIR/journal (main.c) */
	int journal_mode;	   /* enum smsr_journal_mode */
	uint32_t journal_batch_ms; /* BATCH: flush period */
	bool journal_keep;	   /* never delete journal segments (tests, forensics) */
	uint32_t history_days;	   /* the archive's retention (DIR/history.db) */
	bool quiet;
};

/* protobuf-c's string fields are char *; ours are often const. */
static inline char *pb_str(const char *s)
{
	return (char *)(uintptr_t)s;
}

/* --- the protobuf arena: decode and encode without malloc per field --- */
struct arena {
	uint8_t *buf;
	size_t len, cap;
	ProtobufCAllocator pa;
};
void arena_init(struct arena *a);
void arena_reset(struct arena *a);
void arena_fini(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);

/* --- subscriptions --------------------------------------------------- */
struct sev; /* a copied event (hub.c) */

struct sub {
	struct subidx_filter f; /* what it matches, in the hub's index; owner: this */
	uint64_t call_id;
	struct conn *c;
	uint32_t limit; /* queue bound */
	struct sev **q; /* ring of @cap, grown on demand up to @limit */
	uint32_t cap, head, count;
	uint64_t gap;		/* dropped since the last write */
	uint64_t sent, dropped; /* totals */
	struct sub *next;	/* in the connection's list */
};

/* --- connections --------------------------------------------------------- */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

struct conn {
	int fd;
	uint32_t idx, gen;
	bool is_unix;
	bool recv_armed, send_busy, closing, dead;
	bool paused; /* not reading: back-pressure */
	bool authed, admin;
	uint64_t resume_ns;		  /* paused for router busy: retry then */
	uint64_t opened_ns, last_call_ns; /* accepted; last complete frame */
	uint64_t partial_ns;		  /* when the unfinished frame in @in began */
	unsigned calls;			  /* in flight, incl. subscriptions */
	unsigned nsubs;
	struct buf in;	/* bytes not yet framed */
	struct buf out; /* responses not yet handed to send */
	struct buf wr;	/* being sent */
	size_t wr_off;
	unsigned out_answers, wr_answers; /* answers (not events) in out, wr */
	struct sub *subs;
	struct conn *next_dirty; /* has output or subscription work */
	bool dirty;
	/* Accept -> record -> ack: the bytes of @out past @ready wait until the
	 * journal's durable position reaches @wait_seq (0: nothing waits). */
	size_t ready;
	uint64_t wait_seq;
};

/* --- the server ---------------------------------------------------------- */
struct srv_stats {
	uint64_t conns_total, calls, events_sent, events_dropped, protocol_errors;
};

struct srv {
	struct smsrd_opts o;
	struct smsr_router *r;
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	int tcp_fd, unix_fd, event_fd, signal_fd;
	uint64_t efd_val, sig_buf[16];
	struct conn **conns; /* by index; NULL when free */
	uint32_t nconns, conns_cap;
	struct conn *dirty;
	struct arena ar;
	struct hub *hub;
	struct status_store *st;
	struct srv_stats stats;
	uint64_t start_ns;
	int64_t wall_offset_ns; /* realtime - monotonic, at start */
	bool stopping;
	unsigned nsubs_total;
	unsigned held_conns;		    /* connections with answers waiting for the journal */
	uint64_t durable_seen;		    /* the durable position they were last released at */
	char chan_names[SRV_CHANS_MAX][32]; /* by channel index */
	int nchans;
	const char *cfg_path; /* NULL: the embedded default */
	int optout_fd;	      /* the opt-out log, -1 when none */
	size_t in_held;	      /* bytes of all connections' input buffers */
	uint32_t nconns_tcp;
	uint64_t next_reap_ns;	/* next look for connections past a timeout */
	uint64_t next_stale_ns; /* next look at the stale report count (log_stale) */
	uint64_t stale_seen;	/* ... and what it was then */
	ino_t unix_ino;		/* our socket at unix_path, to remove only that */
	dev_t unix_dev;
};

/* admin.c */
void srv_call_reload(struct srv *s, struct conn *c, Smsr__V1__Request *req);
void srv_call_history(struct srv *s, struct conn *c, Smsr__V1__Request *req);
/* Re-read the configuration file (SIGHUP); logs the outcome. */
void srv_reload_file(struct srv *s);

/* optout_log.c: the opt-out list on disk */
int optout_log_open(struct srv *s);
int optout_log_append(struct srv *s, int action, const char *number);
void optout_log_close(struct srv *s);

/* loop.c */
int srv_listen(struct srv *s);
int srv_run(struct srv *s);
void conn_mark_dirty(struct srv *s, struct conn *c);
void conn_close(struct srv *s, struct conn *c);

/* conn.c */
int buf_reserve(struct buf *b, size_t more);
void buf_free(struct buf *b);
void conn_input(struct srv *s, struct conn *c, const uint8_t *data, size_t len);
void conn_process(struct srv *s, struct conn *c);
void conn_in_release(struct srv *s, struct conn *c);
int conn_reply(struct srv *s, struct conn *c, Smsr__V1__Response *resp);
/* The answer just added after @before bytes of @c's output goes out only
 * once the journal's durable position reaches @seq (loop.c). */
void conn_hold(struct srv *s, struct conn *c, size_t before, uint64_t seq);
int conn_reply_error(struct srv *s, struct conn *c, uint64_t call_id, int code, const char *msg);

/* calls.c */
void srv_call(struct srv *s, struct conn *c, const uint8_t *payload, size_t len);

/* --- pb_check.c: a Request's bytes checked before they are unpacked --- */
struct pb_limits {
	uint32_t max_repeat; /* elements of one repeated field */
};
/*
 * Walk the serialized Request in @p (@len bytes, borrowed) without
 * allocating: 0 if protobuf-c may unpack it, else the reason in @why and
 * -SMSR_ENULBYTE (a NUL inside a string field), -SMSR_ETOOCOMPLEX (a
 * repeated field over @lim, too many unknown fields, nesting) or
 * -SMSR_EBADPROTO (malformed). *@call_id is the call id
 * when the walk reached it, else 0. Pure, O(@len).
 */
int pb_check_request(const uint8_t *p, size_t len, const struct pb_limits *lim, uint64_t *call_id,
		     char *why, size_t whylen);
/* @s for a protobuf string field if it is valid UTF-8, else "" (never
 * NULL): standard parsers refuse a whole frame for one bad string. */
char *pb_utf8(const char *s);
void srv_fill_info(struct srv *s, Smsr__V1__ServerInfo *info);
uint64_t srv_wall_ns(struct srv *s, uint64_t mono_ns);

/* admin.c */
void srv_call_channels(struct srv *s, struct conn *c, Smsr__V1__Request *req);
void srv_call_admin(struct srv *s, struct conn *c, Smsr__V1__Request *req);
void srv_call_stats(struct srv *s, struct conn *c, Smsr__V1__Request *req);
void srv_refresh_channels(struct srv *s);

/* hub.c */
struct hub *hub_create(uint32_t cap, int event_fd);
void hub_destroy(struct hub *h);
void hub_event(void *arg, const struct smsr_event *ev); /* smsr_event_cb */
void hub_set_status(struct hub *h, struct status_store *st);
/* Until @until_ns (CLOCK_MONOTONIC; 0: from now on never), a producer that
 * finds the queue full waits for the loop instead of dropping: the stop. */
void hub_hold(struct hub *h, uint64_t until_ns);
/* Final events seen so far that were router_stopped, outcome_unknown_at_stop. */
void hub_stop_counts(struct hub *h, uint64_t *stopped, uint64_t *unknown);
void hub_drain(struct srv *s);
/* Events (and overflow markers) queued in subscriptions, not yet written. */
size_t hub_unwritten(struct srv *s);
void sub_flush(struct srv *s, struct conn *c);
void srv_call_subscribe(struct srv *s, struct conn *c, Smsr__V1__Request *req);
void srv_call_unsubscribe(struct srv *s, struct conn *c, Smsr__V1__Request *req);
void sub_close_all(struct srv *s, struct conn *c, int code);
void event_to_pb(struct srv *s, struct arena *a, const struct smsr_event *ev, uint64_t dropped,
		 Smsr__V1__Event *pb);

#endif
