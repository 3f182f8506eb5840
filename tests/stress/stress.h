/* SPDX-License-Identifier: MIT */
/*
 * The reference-model stress test's shared parts (see test_stress_model.c
 * for what it checks): one iteration's state, the model's per-message
 * records, and the pieces that drive a router — the configuration
 * generator and controller (stress_ctl.c) and the submitters
 * (stress_traffic.c). Every random choice draws from a stream keyed by
 * (seed, iteration, role), one draw per statement, so that a rerun of one
 * iteration makes the same choices; only the threads' interleaving differs.
 */
#ifndef SMSR_TEST_STRESS_H
#define SMSR_TEST_STRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "evlog.h"

#define SUB_MAX	   4	/* submitter threads */
#define SUB_SLOTS  3000 /* messages one submitter may send per iteration */
#define NSLOTS	   (SUB_MAX * SUB_SLOTS)
#define BATCH_MAX  64
#define EV_KEEP	   20  /* events kept per message (the last one always) */
#define CH_MAX	   64  /* channel indexes over one router's life */
#define SET_MAX	   8   /* channels in one generated configuration */
#define OPS_MAX	   400 /* controller operations per iteration */
#define RING	   128 /* op log and channel event log */
#define ERR_MAX	   24  /* problems listed per failing iteration */
#define SHOW_MAX   12  /* offending messages shown */
#define OPTOUT_NUM "+8613912345678"

struct stress_opts {
	uint64_t seed;
	unsigned first, iterations, repeat;
	unsigned traffic_ms; /* 0: 100-300 ms, drawn per iteration */
	unsigned drain_ms;
	bool keep_going, verbose;
};
extern struct stress_opts stress_opt;

/* --- randomness: splitmix64 streams keyed by (seed, iteration, role) ------ */

struct rng {
	uint64_t s;
};

static inline uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rnd(struct rng *r)
{
	return mix64(r->s += 0x9e3779b97f4a7c15ull);
}

static inline struct rng rng_for(uint64_t seed, unsigned iter, unsigned role)
{
	return (struct rng){mix64(seed ^ mix64(((uint64_t)iter << 8 | role) + 1))};
}

static inline unsigned below(struct rng *r, unsigned n)
{
	return n ? (unsigned)(rnd(r) % n) : 0;
}

static inline bool chance(struct rng *r, unsigned pct)
{
	return below(r, 100) < pct;
}

static inline unsigned pick_u(struct rng *r, const unsigned *v, unsigned n)
{
	return v[below(r, n)];
}
#define PICK(r, ...)                                 \
	pick_u((r), (const unsigned[]){__VA_ARGS__}, \
	       sizeof((const unsigned[]){__VA_ARGS__}) / sizeof(unsigned))

static inline void sleep_us(unsigned us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* --- a small string builder (configuration texts) ----------------------- */

struct sb {
	char buf[12288];
	size_t n;
};

void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- the model: what the events say about each message ----------------- */

/* What a submitted message is meant to be: valid, or invalid in one way. */
enum kind {
	K_VALID,
	K_BADNUM,
	K_BADUTF8,
	K_EMPTY,
	K_TOOLONG,
	K_BADCLASS,
	K_BADVALIDITY,
	K_BADREF,
	K_BADSENDER,
	K_BADTAGS,
	K_NULLTEXT,
	K_COUNT
};

struct evcell {
	uint32_t t_us; /* since the iteration began, by the test's clock */
	uint8_t type, attempt;
	int16_t chan;
	int32_t reason;
};

/*
 * One submitted message. The submitter fills the first part before and
 * after its call; the event callback the rest, under @lock (the events of
 * one message come one after another, but a broken router might not keep
 * to that, and the model must survive it to report it).
 */
struct slot {
	atomic_flag lock;
	_Atomic bool in_call; /* its submit call is running */
	uint8_t kind, req_cls, owner;
	bool called, res_known, to_optout;
	int status;
	uint64_t res_id;
	uint8_t res_cls;
	int32_t res_chan;
	/* Written by the callback. */
	uint64_t ev_id;
	uint16_t nev;
	uint8_t n_acc, n_rej, n_final, n_after, bad_ctx, bad_id;
	uint8_t final_type;
	int32_t final_reason, rej_reason;
	uint64_t final_us;
	struct evcell ev[EV_KEEP];
	struct evcell last, before_last; /* kept apart: ev[] may be full */
};

struct chev {
	uint32_t t_us;
	int32_t chan, reason;
	uint8_t state;
};

struct model {
	struct slot *slots;
	uint64_t t0;
	_Atomic uint64_t by_type[SMSR_EV_COUNT];
	_Atomic uint64_t finals, stopped_finals;
	_Atomic uint64_t t_stop_us; /* when smsr_router_stop() was called, 0 before */
	pthread_mutex_t lock;	    /* the logs below */
	uint64_t norphans;
	struct evcell orphan[8];
	uint64_t orphan_id[8];
	struct chev chev[RING];
	unsigned nchev;
};

/* --- configurations and the controller ---------------------------------- */

struct spec {
	unsigned tps, window, submit_ms, lat_ms, dlr_ms, acc_pm, dlv_pm, price_m;
	unsigned lanes[3]; /* 0: the default */
	uint32_t seed;
};

/* --- one iteration's shared state ------------------------------------------ */

struct cchan { /* a channel name the controller knows, and its live instance */
	char name[16];
	struct spec sp;
	int idx; /* its current index, -1 if none */
	bool live;
};

struct oprec {
	uint32_t t_us;
	char text[100];
};

struct iter;

struct ctl {
	struct iter *it;
	struct rng rng;
	struct cchan ch[CH_MAX];
	unsigned nch, nops, names;
	bool dead[CH_MAX];	  /* indexes removed (by the controller's own doing) */
	uint32_t dead_us[CH_MAX]; /* when: just after the call that removed it returned */
	struct oprec log[RING];
	unsigned nlog;
	pthread_t th;
};

struct sub {
	struct iter *it;
	unsigned t;
	struct rng rng;
	unsigned used; /* slots t * SUB_SLOTS .. + used */
	unsigned bad_calls;
	pthread_t th;
};

struct iter {
	unsigned k;
	struct rng rng;
	struct smsr_router *r;
	struct model m;
	struct sb router_block;
	struct sb cfg0;
	unsigned workers, nsubs, traffic_ms, max_attempts;
	bool stop_early;
	uint64_t deadline_ns;
	struct sub subs[SUB_MAX];
	struct ctl ctl;
	/* Problems found, listed in the report. */
	pthread_mutex_t err_lock;
	char errs[ERR_MAX][200];
	unsigned nerr;
	long show[SHOW_MAX];
	unsigned nshow;
	/* Numbers for the summary. */
	uint64_t accepted, rejected, drain_us;
};

static inline uint32_t since_us(const struct model *m)
{
	return (uint32_t)((test_now_ns() - m->t0) / 1000);
}

/* A problem found: listed in the iteration's report. Any thread. */
void problem(struct iter *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Show slot @si's events in the report. Any thread. */
void show_slot(struct iter *it, long si);

/* stress_ctl.c: configurations and the controller thread. */
void spec_random(struct rng *r, struct spec *sp);
void spec_text(struct sb *b, const char *name, const struct spec *sp);
void routes_text(struct sb *b, struct rng *r, const char *const *names, unsigned n);
void router_text(struct sb *b, struct rng *r, unsigned workers, unsigned *max_attempts);
struct smsr_config *parse_cfg(const char *text, char *err, size_t errlen);
void *controller_main(void *arg);
/* Faults off, channels resumed and unthrottled, everything routed. */
void cleanup_channels(struct ctl *c);

/* stress_traffic.c: the submitter threads. */
extern _Thread_local int tls_sub; /* the submitter index of this thread, -1 */
extern char long_tags[];	  /* longer than SMSR_TAGS_MAX */
void traffic_init(void);	  /* once, before any thread */
void *submitter_main(void *arg);

#endif
