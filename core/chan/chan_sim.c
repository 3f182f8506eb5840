/* SPDX-License-Identifier: MIT */
/*
 * The simulated carrier model (see chan_sim.h): decides, from a seed, what a
 * carrier gateway answers to each submit and when, and queues those answers
 * and delivery reports until the caller pops them.
 *
 * Invariant: every random draw for a submit happens inside
 * smsr__sim_submit(), and a delivery report's due time is computed from its
 * answer's due time, never from when the answer was popped — so the reports
 * depend only on the seed, the parameters and the (submit, time) sequence,
 * not on how often the caller polls. Pending reports are ordered by (due,
 * seq) as 16-byte nodes over report cells that never move, in two runs
 * (rings appended in order: a report due no earlier than a run's last
 * goes at its end) and a binary min-heap for the rest, with a one-entry
 * slot in front: in the default configuration every report is due at once
 * and passes through the slot; with a fixed latency and report delay,
 * answers and reports each keep to a run, so the heap stays empty — only
 * jitter sends reports there. Draws that cannot change an
 * outcome (rate 1, zero jitter) are skipped, which keeps that path free of
 * PRNG work too; skipping is a function of the configuration, so it stays
 * deterministic.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chan_sim.h"

#define NS_PER_MS 1000000.0
#define MAX_MS	  2592000000.0 /* 30 days: far beyond any carrier, far from overflow */
#define MAX_COUNT 1e9	       /* tps, window */
#define HEAP_INIT 64	       /* a power of two, as every size after it */
#define SIM_RUNS  2	       /* answers, reports */

/* Operator codes, as SMPP 3.4 command_status / DLR err would carry them. */
#define OP_QUEUE_FULL 0x14 /* ESME_RMSGQFUL: temporary */
#define OP_INV_DEST   0x0B /* ESME_RINVDSTADR: permanent */
#define OP_THROTTLED  0x58 /* ESME_RTHROTTLED */
#define OP_UNDELIV    1	   /* DLR "stat:UNDELIV err:001" */

enum sim_dist {
	DIST_FIXED,
	DIST_UNIFORM,
	DIST_EXP,
	DIST_LOGNORMAL,
};

struct sim_cfg {
	uint64_t lat_ns, jit_ns;
	uint64_t dlr_ns, dlr_jit_ns;
	uint64_t fault_at_ns, fault_for_ns;
	double accept_rate, reject_share, delivery_rate;
	double tps;
	double ln_mu, ln_sigma; /* lognormal parameters derived from mean/jitter */
	uint64_t interval_ns;	/* 1 / tps; 0 = unlimited */
	uint64_t seed;
	uint32_t window;
	uint8_t dist;  /* enum sim_dist */
	uint8_t fault; /* enum smsr__sim_fault, applied when the schedule is (re)anchored */
	bool plain;    /* see cfg_derive() */
};

enum {
	EV_WINDOW = 1,	  /* holds a window slot until answered */
	EV_DLR = 2,	  /* an accepted answer that a delivery report follows */
	EV_DELIVERED = 4, /* ...and that report says delivered */
};

struct sim_ev {
	uint64_t due;
	uint64_t seq; /* ties on @due keep push order */
	uint64_t token;
	uint64_t msgno;	    /* accepted answers: the carrier msgid counter */
	uint64_t dlr_after; /* EV_DLR: the report's delay after the answer */
	int32_t status;
	int16_t op_code;
	uint8_t kind;
	uint8_t flags;
};

/*
 * Heap node: 16 bytes, so a pair of children shares a cache line. It
 * carries the low bits of its report's seq, so that ties on @due — every
 * report of a burst submitted at one instant with a fixed delay — are
 * settled without touching the reports. Compared modulo 2^32: exact while
 * the reports in the heap span fewer than 2^31 pushes.
 */
struct sim_node {
	uint64_t due;
	uint32_t idx; /* into smsr__sim.evs */
	uint32_t seq; /* low 32 bits of evs[idx].seq */
};

/*
 * A run: a ring of nodes pushed in (due, seq) order. A report due no
 * earlier than a run's last one is appended to it instead of the heap; with
 * a fixed latency and report delay every answer and every report is, so the
 * heap only takes what jitter puts out of order.
 */
struct sim_run {
	struct sim_node *ring;
	size_t head, n;
};

struct smsr__sim {
	struct sim_cfg cfg;
	uint64_t rng[4]; /* xoshiro256** */

	/* Fault schedule: @fault is active in [f_start, f_end). */
	uint8_t fault;
	bool seen;	   /* a time was passed in: the bucket and schedule start */
	bool anchored;	   /* f_start/f_end known (first time seen or ctl) */
	bool down_applied; /* pending answers already failed for this down */
	uint64_t f_start, f_end;
	uint64_t next_change; /* re-evaluate the schedule at or after this */
	uint64_t now;	      /* latest time seen */

	uint64_t credit_ns; /* token bucket, as earned time (GCRA form) */
	uint64_t bucket_last;
	uint32_t outstanding; /* window slots held */

	uint64_t msgno;
	char prefix[8]; /* per-seed msgid prefix, 6 hex digits */

	uint64_t seq;
	bool slot_used;
	struct sim_ev slot; /* one pending report kept out of the heap */
	/* The heap and the runs order small nodes; the reports sit still in
	 * @evs, free ones chained through their token. Every array holds @cap
	 * entries (a power of two); a report is in one of them at a time. */
	struct sim_node *heap;
	struct sim_run run[SIM_RUNS];
	struct sim_ev *evs;
	size_t n, cap;
	uint64_t free_head;
};

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* --- PRNG ---------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct smsr__sim *s)
{
	uint64_t *r = s->rng;
	uint64_t out = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;

	r[2] ^= r[0];
	r[3] ^= r[1];
	r[1] ^= r[2];
	r[0] ^= r[3];
	r[2] ^= t;
	r[3] = rotl(r[3], 45);
	return out;
}

/* Uniform in [0, 1). */
static double rng_unit(struct smsr__sim *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static void rng_seed(struct smsr__sim *s, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		s->rng[i] = splitmix64(&seed);
}

/* --- msgids -------------------------------------------------------------- */

/* Write the 8 hex digits of @x at @out, without a lookup table or snprintf:
 * spread the nibbles into bytes, then map 0-9 / 10-15 to ASCII in parallel. */
static inline void hex8(char *out, uint32_t x)
{
	uint64_t v = x, alpha;

	v = (v | (v << 16)) & 0x0000ffff0000ffffull;
	v = (v | (v << 8)) & 0x00ff00ff00ff00ffull;
	v = (v | (v << 4)) & 0x0f0f0f0f0f0f0f0full;
	alpha = ((v + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
	v += 0x3030303030303030ull + alpha * ('a' - '0' - 10);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v); /* nibble 0 sits in the lowest byte */
#endif
	memcpy(out, &v, 8);
}

/* "<6-digit prefix><16-digit counter>": unique per model, 22 chars. */
static inline void make_msgid(const struct smsr__sim *s, uint64_t n, char *out)
{
	memcpy(out, s->prefix, 6);
	hex8(out + 6, (uint32_t)(n >> 32));
	hex8(out + 14, (uint32_t)n);
	out[22] = '\0';
}

/* --- configuration ------------------------------------------------------- */

enum key_type {
	K_MS,  /* milliseconds in, uint64_t ns stored */
	K_NUM, /* double in [0, max] */
	K_WINDOW,
	K_DIST,
	K_FAULT,
	K_SEED,
};

static const struct sim_key {
	const char *name;
	uint8_t type; /* enum key_type */
	size_t off;   /* into struct sim_cfg */
	double max;
} sim_keys[] = {
    {"latency_ms", K_MS, offsetof(struct sim_cfg, lat_ns), MAX_MS},
    {"jitter_ms", K_MS, offsetof(struct sim_cfg, jit_ns), MAX_MS},
    {"latency_dist", K_DIST, offsetof(struct sim_cfg, dist), 0},
    {"accept_rate", K_NUM, offsetof(struct sim_cfg, accept_rate), 1},
    {"reject_share", K_NUM, offsetof(struct sim_cfg, reject_share), 1},
    {"delivery_rate", K_NUM, offsetof(struct sim_cfg, delivery_rate), 1},
    {"dlr_delay_ms", K_MS, offsetof(struct sim_cfg, dlr_ns), MAX_MS},
    {"dlr_jitter_ms", K_MS, offsetof(struct sim_cfg, dlr_jit_ns), MAX_MS},
    {"tps", K_NUM, offsetof(struct sim_cfg, tps), MAX_COUNT},
    {"window", K_WINDOW, offsetof(struct sim_cfg, window), MAX_COUNT},
    {"fault", K_FAULT, offsetof(struct sim_cfg, fault), 0},
    {"fault_at_ms", K_MS, offsetof(struct sim_cfg, fault_at_ns), MAX_MS},
    {"fault_for_ms", K_MS, offsetof(struct sim_cfg, fault_for_ns), MAX_MS},
    {"seed", K_SEED, offsetof(struct sim_cfg, seed), 0},
};

static const char *const dist_names[] = {"fixed", "uniform", "exp", "lognormal"};
static const char *const fault_names[] = {"none",     "down",	"blackhole",
					  "throttle", "reject", "nodlr"};

static int parse_num(const char *value, double lo, double hi, double *out)
{
	struct smsr_param p = {"", value};

	if (smsr_param_double(&p, 1, "", out) < 0 || *out < lo || *out > hi)
		return -SMSR_ECONFIG;
	return 0;
}

static int parse_name(const char *value, const char *const *names, int n, uint8_t *out)
{
	for (int i = 0; i < n; i++)
		if (strcmp(value, names[i]) == 0) {
			*out = (uint8_t)i;
			return 0;
		}
	return -SMSR_ECONFIG;
}

/* Unsigned decimal or 0x-hex: a double would lose a 64-bit seed's bits. */
static int parse_seed(const char *value, uint64_t *seed)
{
	char *end;

	if (value[0] < '0' || value[0] > '9')
		return -SMSR_ECONFIG;
	*seed = strtoull(value, &end, 0);
	return *end == '\0' ? 0 : -SMSR_ECONFIG;
}

/*
 * Parse one @key=@value into @c. Returns 0, -SMSR_ECONFIG for a bad value
 * or -SMSR_ENOTFOUND for an unknown key. On failure @c may be half
 * written, so callers parse into a copy or discard it.
 */
static int parse_one(struct sim_cfg *c, const char *key, const char *value)
{
	const struct sim_key *k = NULL;
	void *field;
	double d;

	for (size_t i = 0; key && !k && i < sizeof(sim_keys) / sizeof(sim_keys[0]); i++)
		if (strcmp(key, sim_keys[i].name) == 0)
			k = &sim_keys[i];
	if (!k)
		return -SMSR_ENOTFOUND;
	if (!value)
		return -SMSR_ECONFIG;
	field = (char *)c + k->off;
	switch (k->type) {
	case K_MS:
		if (parse_num(value, 0, k->max, &d) < 0)
			return -SMSR_ECONFIG;
		*(uint64_t *)field = (uint64_t)llround(d * NS_PER_MS);
		return 0;
	case K_NUM:
		return parse_num(value, 0, k->max, field);
	case K_WINDOW:
		if (parse_num(value, 0, k->max, &d) < 0 || d != floor(d))
			return -SMSR_ECONFIG;
		*(uint32_t *)field = (uint32_t)d;
		return 0;
	case K_DIST:
		return parse_name(value, dist_names, 4, field);
	case K_FAULT:
		return parse_name(value, fault_names, 6, field);
	default:
		return parse_seed(value, field);
	}
}

/* Precompute what the draws need from the raw settings. */
static void cfg_derive(struct sim_cfg *c)
{
	double m = (double)c->lat_ns, j = (double)c->jit_ns;

	c->ln_sigma = 0;
	c->ln_mu = m > 0 ? log(m) : 0;
	if (m > 0 && j > 0) {
		double var = log1p((j / m) * (j / m));

		c->ln_sigma = sqrt(var);
		c->ln_mu = log(m) - var / 2;
	}
	c->interval_ns = c->tps > 0 ? (uint64_t)llround(1e9 / c->tps) : 0;
	if (c->tps > 0 && c->interval_ns == 0)
		c->interval_ns = 1;
	/* Nothing to draw or limit: submit may skip decide() (the hot path). */
	c->plain = c->accept_rate >= 1 && c->delivery_rate >= 1 && !c->interval_ns && !c->window &&
		   !c->dlr_jit_ns &&
		   (c->dist == DIST_FIXED || !c->lat_ns || (c->dist == DIST_UNIFORM && !c->jit_ns));
}

static const struct sim_cfg cfg_default = {
    .dist = DIST_UNIFORM, .accept_rate = 1, .reject_share = 0.2, .delivery_rate = 1};

/* --- pending reports ----------------------------------------------------- */

static inline bool node_before(const struct smsr__sim *s, const struct sim_node *a,
			       const struct sim_node *b)
{
	(void)s;
	if (a->due != b->due)
		return a->due < b->due;
	return (int32_t)(a->seq - b->seq) < 0;
}

/* Is the slot's report before node @b? As node_before() (seq modulo 2^32). */
static inline bool slot_before(const struct sim_ev *a, const struct sim_node *b)
{
	if (a->due != b->due)
		return a->due < b->due;
	return (int32_t)((uint32_t)a->seq - b->seq) < 0;
}

static inline struct sim_node node_of(const struct sim_ev *e, uint64_t idx)
{
	return (struct sim_node){e->due, (uint32_t)idx, (uint32_t)e->seq};
}

/* Only heap_build() needs the classic top-down sift. */
static void sift_down(struct smsr__sim *s, size_t i)
{
	struct sim_node *h = s->heap, e = h[i];
	size_t c;

	while ((c = 2 * i + 1) < s->n) {
		if (c + 1 < s->n && node_before(s, &h[c + 1], &h[c]))
			c++;
		if (!node_before(s, &h[c], &e))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = e;
}

static void heap_build(struct smsr__sim *s)
{
	for (size_t i = s->n / 2; i-- > 0;)
		sift_down(s, i);
}

static void sift_up(struct smsr__sim *s, size_t i, struct sim_node e)
{
	struct sim_node *h = s->heap;

	for (; i > 0 && node_before(s, &e, &h[(i - 1) / 2]); i = (i - 1) / 2)
		h[i] = h[(i - 1) / 2];
	h[i] = e;
}

/* Grow every array and chain the new report cells into the free list.
 * Returns 0 or -SMSR_ENOMEM (nothing changed that matters). */
static int heap_grow(struct smsr__sim *s)
{
	size_t cap = s->cap ? s->cap * 2 : HEAP_INIT;
	struct sim_node *h = realloc(s->heap, cap * sizeof(*h));
	struct sim_ev *evs;

	if (!h)
		return -SMSR_ENOMEM;
	s->heap = h;
	for (int k = 0; k < SIM_RUNS; k++) {
		struct sim_run *r = &s->run[k];
		struct sim_node *ring = malloc(cap * sizeof(*ring));

		if (!ring)
			return -SMSR_ENOMEM;
		for (size_t i = 0; i < r->n; i++) /* unwrapped into the new ring */
			ring[i] = r->ring[(r->head + i) & (s->cap - 1)];
		free(r->ring);
		r->ring = ring;
		r->head = 0;
	}
	evs = realloc(s->evs, cap * sizeof(*evs));
	if (!evs)
		return -SMSR_ENOMEM;
	s->evs = evs;
	for (size_t i = s->cap; i < cap; i++)
		evs[i].token = i + 1 < cap ? i + 1 : s->free_head;
	s->free_head = s->cap;
	s->cap = cap;
	return 0;
}

static inline struct sim_node *run_last(const struct smsr__sim *s, const struct sim_run *r)
{
	return &r->ring[(r->head + r->n - 1) & (s->cap - 1)];
}

/* Put cell @idx, now due at its time, where it keeps the order: the end of
 * a run it does not precede, else the heap. */
static void place(struct smsr__sim *s, uint64_t idx)
{
	struct sim_node nd = node_of(&s->evs[idx], idx);

	for (int k = 0; k < SIM_RUNS; k++) {
		struct sim_run *r = &s->run[k];

		if (r->n == 0 || !node_before(s, &nd, run_last(s, r))) {
			r->ring[(r->head + r->n++) & (s->cap - 1)] = nd;
			return;
		}
	}
	sift_up(s, s->n++, nd);
}

/* Report cells in use (the slot's apart). */
static inline size_t pending_cells(const struct smsr__sim *s)
{
	size_t n = s->n;

	for (int k = 0; k < SIM_RUNS; k++)
		n += s->run[k].n;
	return n;
}

/* The caller made sure there is room (see smsr__sim_submit). */
static void heap_push(struct smsr__sim *s, const struct sim_ev *e)
{
	uint64_t idx = s->free_head;

	s->free_head = s->evs[idx].token;
	s->evs[idx] = *e;
	place(s, idx);
}

/*
 * Remove the root bottom-up (Floyd): walk the hole down to a leaf along the
 * smaller children — one compare a level — then sift the last node up
 * from there, which rarely climbs far. The root's cell stays allocated.
 */
static void heap_detach_root(struct smsr__sim *s)
{
	struct sim_node *h = s->heap, e;
	size_t n = --s->n, i = 0, c;

	if (n == 0)
		return;
	e = h[n];
	while ((c = 2 * i + 1) + 1 < n) {
		c += node_before(s, &h[c + 1], &h[c]);
		h[i] = h[c];
		i = c;
	}
	if (c < n) {
		h[i] = h[c];
		i = c;
	}
	sift_up(s, i, e);
}

/* The earliest node of the heap and the runs, or NULL; its run in @from
 * (NULL: the heap). */
static const struct sim_node *earliest(struct smsr__sim *s, struct sim_run **from)
{
	const struct sim_node *best = s->n ? &s->heap[0] : NULL;

	*from = NULL;
	for (int k = 0; k < SIM_RUNS; k++) {
		struct sim_run *r = &s->run[k];

		if (r->n && (!best || node_before(s, &r->ring[r->head], best))) {
			best = &r->ring[r->head];
			*from = r;
		}
	}
	return best;
}

/* --- fault schedule ------------------------------------------------------ */

/*
 * The link dropped at @at: answers still in flight (due at or after @at)
 * are lost, and the carrier's outcome is unknown, so each becomes a
 * channel_down answer due at @at. Answers due before @at were already on
 * the wire and stand; so do delivery reports.
 */
static void fail_one(struct sim_ev *e, uint64_t at)
{
	if (e->kind != SMSR__SIM_SUBMIT_RESP || e->due < at)
		return;
	e->due = at;
	e->status = -SMSR_ECHANDOWN;
	e->op_code = 0;
	e->msgno = 0;
	e->flags &= EV_WINDOW; /* no delivery report for an answer never seen */
}

static void fail_pending(struct smsr__sim *s, uint64_t at)
{
	if (s->slot_used)
		fail_one(&s->slot, at);
	/* Due times move: everything into the heap, which is rebuilt. */
	for (int k = 0; k < SIM_RUNS; k++) {
		struct sim_run *r = &s->run[k];

		for (; r->n; r->n--, r->head = (r->head + 1) & (s->cap - 1))
			s->heap[s->n++] = r->ring[r->head];
	}
	for (size_t i = 0; i < s->n; i++) {
		fail_one(&s->evs[s->heap[i].idx], at);
		s->heap[i].due = s->evs[s->heap[i].idx].due;
	}
	heap_build(s);
}

/* Bring the schedule up to @now: anchor it, apply a down that began. */
static void sched_advance(struct smsr__sim *s, uint64_t now)
{
	if (!s->seen) {
		s->seen = true;
		s->bucket_last = now;
	}
	if (!s->anchored) {
		s->anchored = true;
		s->f_start = sat_add(now, s->cfg.fault_at_ns);
		s->f_end =
		    s->cfg.fault_for_ns ? sat_add(s->f_start, s->cfg.fault_for_ns) : UINT64_MAX;
	}
	if (s->fault == SMSR__SIM_DOWN && !s->down_applied && now >= s->f_start) {
		fail_pending(s, s->f_start);
		s->down_applied = true;
	}
	if (s->fault == SMSR__SIM_OK)
		s->next_change = UINT64_MAX;
	else if (now < s->f_start)
		s->next_change = s->f_start;
	else
		s->next_change = now < s->f_end ? s->f_end : UINT64_MAX;
}

/*
 * Every entry point passes its time through here. The model's clock never
 * runs backwards: an earlier @now counts as the latest seen, because the
 * router's loop time can trail the fresh clock read a ctl() made. Returns
 * the time to use.
 */
static inline uint64_t sched_check(struct smsr__sim *s, uint64_t now)
{
	if (now < s->now)
		now = s->now;
	s->now = now;
	if (__builtin_expect(now >= s->next_change, 0))
		sched_advance(s, now);
	return now;
}

static inline int fault_at(const struct smsr__sim *s, uint64_t now)
{
	if (s->fault == SMSR__SIM_OK || now < s->f_start || now >= s->f_end)
		return SMSR__SIM_OK;
	return s->fault;
}

/* (Re)start the configured fault's schedule at @now. */
static void sched_restart(struct smsr__sim *s, uint64_t now)
{
	s->fault = s->cfg.fault;
	s->anchored = false;
	s->down_applied = false;
	sched_advance(s, now);
}

/* --- the carrier's decisions --------------------------------------------- */

static uint64_t clamp_ns(double v)
{
	if (!(v > 0))
		return 0;
	if (v > MAX_MS * NS_PER_MS)
		return (uint64_t)(MAX_MS * NS_PER_MS);
	return (uint64_t)(v + 0.5);
}

static uint64_t draw_uniform(struct smsr__sim *s, uint64_t mean, uint64_t jit)
{
	if (!jit)
		return mean;
	return clamp_ns((double)mean + (2 * rng_unit(s) - 1) * (double)jit);
}

static uint64_t draw_latency(struct smsr__sim *s)
{
	const struct sim_cfg *c = &s->cfg;
	double u1, u2;

	switch (c->dist) {
	case DIST_UNIFORM:
		return draw_uniform(s, c->lat_ns, c->jit_ns);
	case DIST_EXP: /* mean latency_ms; jitter_ms unused (the sd is the mean) */
		return c->lat_ns ? clamp_ns(-(double)c->lat_ns * log1p(-rng_unit(s))) : 0;
	case DIST_LOGNORMAL: /* mean latency_ms, standard deviation jitter_ms */
		if (!c->lat_ns || c->ln_sigma == 0)
			return c->lat_ns;
		u1 = 1 - rng_unit(s); /* (0, 1]: log() stays finite */
		u2 = rng_unit(s);
		return clamp_ns(
		    exp(c->ln_mu + c->ln_sigma * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2)));
	default:
		return c->lat_ns;
	}
}

/* Token bucket in GCRA form: earned time, capped at one second's worth. */
static bool bucket_take(struct smsr__sim *s, uint64_t now)
{
	uint64_t iv = s->cfg.interval_ns, cap = iv > 1000000000u ? iv : 1000000000u;

	if (now > s->bucket_last) {
		s->credit_ns = sat_add(s->credit_ns, now - s->bucket_last);
		s->bucket_last = now;
	}
	if (s->credit_ns > cap)
		s->credit_ns = cap;
	if (s->credit_ns < iv)
		return false;
	s->credit_ns -= iv;
	return true;
}

/* The carrier's answer to a submit at @now, given the active @fault. */
static void decide(struct smsr__sim *s, int fault, uint64_t now, struct sim_ev *e)
{
	const struct sim_cfg *c = &s->cfg;

	if (fault == SMSR__SIM_THROTTLE || (c->interval_ns && !bucket_take(s, now)) ||
	    (c->window && s->outstanding >= c->window)) {
		e->status = -SMSR_ETHROTTLED;
		e->op_code = OP_THROTTLED;
		return;
	}
	if (c->window) { /* untracked without a window: a later one counts anew */
		e->flags = EV_WINDOW;
		s->outstanding++;
	}
	if (fault == SMSR__SIM_REJECT) {
		e->status = -SMSR_EREJECTED;
		e->op_code = OP_INV_DEST;
		return;
	}
	if (c->accept_rate < 1 && rng_unit(s) >= c->accept_rate) {
		bool perm = rng_unit(s) < c->reject_share;

		e->status = perm ? -SMSR_EREJECTED : -SMSR_ECHANERR;
		e->op_code = perm ? OP_INV_DEST : OP_QUEUE_FULL;
		return;
	}
	e->msgno = ++s->msgno;
	if (fault == SMSR__SIM_NODLR)
		return;
	e->flags |= EV_DLR;
	if (c->delivery_rate >= 1 || rng_unit(s) < c->delivery_rate)
		e->flags |= EV_DELIVERED;
	e->dlr_after = draw_uniform(s, c->dlr_ns, c->dlr_jit_ns);
}

/* --- API ----------------------------------------------------------------- */

int smsr__sim_create(struct smsr__sim **out, const struct smsr_param *params, size_t nparams,
		     uint64_t seed)
{
	struct smsr__sim *s;
	int rc;

	if (!out || (nparams && !params))
		return -SMSR_EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -SMSR_ENOMEM;
	s->cfg = cfg_default;
	s->cfg.seed = seed;
	for (size_t i = 0; i < nparams; i++) {
		rc = parse_one(&s->cfg, params[i].key, params[i].value);
		if (rc < 0)
			goto err_free; /* unknown keys too: a typo must not pass silently */
	}
	cfg_derive(&s->cfg);
	rc = heap_grow(s);
	if (rc < 0)
		goto err_free;
	rng_seed(s, s->cfg.seed);
	hex8(s->prefix, (uint32_t)splitmix64(&(uint64_t){s->cfg.seed ^ 0x5e11ca11ab1eull}));
	/* A fresh bind has earned one submit, not a second's burst. */
	s->credit_ns = s->cfg.interval_ns;
	s->fault = s->cfg.fault;
	s->next_change = 0; /* anchor at the first time seen */
	*out = s;
	return 0;

err_free:
	smsr__sim_destroy(s);
	return rc == -SMSR_ENOTFOUND ? -SMSR_ECONFIG : rc;
}

void smsr__sim_destroy(struct smsr__sim *s)
{
	if (!s)
		return;
	free(s->heap);
	for (int k = 0; k < SIM_RUNS; k++)
		free(s->run[k].ring);
	free(s->evs);
	free(s);
}

/*
 * A submit at @now_ns: decide its answer and queue it. Returns 0 (taken),
 * -SMSR_ECHANDOWN (link down, nothing queued) or -SMSR_ENOMEM (nothing
 * changed). Never blocks; allocates only to grow the heap. The answer is
 * built in place — in the slot when free, the hot path's only store.
 */
int smsr__sim_submit(struct smsr__sim *s, uint64_t token, uint64_t now_ns)
{
	const struct sim_cfg *c = &s->cfg;
	struct sim_ev tmp, *e = s->slot_used ? &tmp : &s->slot;
	int fault;

	if (s->slot_used && pending_cells(s) == s->cap && heap_grow(s) < 0)
		return -SMSR_ENOMEM;
	now_ns = sched_check(s, now_ns);
	fault = fault_at(s, now_ns);
	if (fault == SMSR__SIM_DOWN)
		return -SMSR_ECHANDOWN;
	if (fault == SMSR__SIM_BLACKHOLE)
		return 0;
	*e = (struct sim_ev){.token = token, .kind = SMSR__SIM_SUBMIT_RESP};
	if (c->plain && fault == SMSR__SIM_OK) {
		e->due = sat_add(now_ns, c->lat_ns);
		e->flags = EV_DLR | EV_DELIVERED;
		e->msgno = ++s->msgno;
		e->dlr_after = c->dlr_ns;
	} else {
		e->due = sat_add(now_ns, draw_latency(s));
		decide(s, fault, now_ns, e);
	}
	e->seq = s->seq++;
	if (e == &tmp)
		heap_push(s, e);
	else
		s->slot_used = true;
	return 0;
}

/* Report @e, and turn it into its delivery report if one follows: true. */
static bool report(struct smsr__sim *s, struct sim_ev *e, struct smsr__sim_report *rep)
{
	rep->kind = e->kind;
	rep->token = e->token;
	rep->status = e->status;
	rep->op_code = e->op_code;
	if (e->msgno)
		make_msgid(s, e->msgno, rep->msgid);
	else
		rep->msgid[0] = '\0';
	if (e->flags & EV_WINDOW)
		s->outstanding--;
	if (!(e->flags & EV_DLR))
		return false;
	/* Timed from the answer, not from now: poll-rate independent. */
	e->due = sat_add(e->due, e->dlr_after);
	e->seq = s->seq++;
	e->kind = SMSR__SIM_DLR;
	e->status = (e->flags & EV_DELIVERED) ? 0 : -SMSR_EUNDELIVERED;
	e->op_code = (e->flags & EV_DELIVERED) ? 0 : OP_UNDELIV;
	e->msgno = 0;
	e->flags = 0;
	return true;
}

/*
 * Pop the earliest report due at or before @now_ns into *@rep: 1, or 0 if
 * none is due. An accepted answer's cell becomes its delivery report, due
 * that long after the answer was. Never allocates.
 */
int smsr__sim_next(struct smsr__sim *s, uint64_t now_ns, struct smsr__sim_report *rep)
{
	const struct sim_node *nd;
	struct sim_run *from;
	uint64_t idx;

	now_ns = sched_check(s, now_ns);
	nd = earliest(s, &from);
	if (s->slot_used && (!nd || slot_before(&s->slot, nd))) {
		if (s->slot.due > now_ns)
			return 0;
		s->slot_used = report(s, &s->slot, rep);
		return 1;
	}
	if (!nd || nd->due > now_ns)
		return 0;
	idx = nd->idx;
	if (from) {
		from->head = (from->head + 1) & (s->cap - 1);
		from->n--;
	} else {
		heap_detach_root(s);
	}
	if (report(s, &s->evs[idx], rep)) {
		place(s, idx); /* the answer's cell, now its delivery report */
	} else {
		s->evs[idx].token = s->free_head;
		s->free_head = idx;
	}
	return 1;
}

/* Earliest pending report or scheduled fault change; 0 ("now") while the
 * schedule waits to be anchored by the first call that passes a time. */
uint64_t smsr__sim_deadline(const struct smsr__sim *s)
{
	uint64_t t = s->next_change;

	if (s->fault == SMSR__SIM_OK && !s->anchored)
		t = UINT64_MAX;
	if (s->slot_used && s->slot.due < t)
		t = s->slot.due;
	if (s->n && s->heap[0].due < t)
		t = s->heap[0].due;
	for (int k = 0; k < SIM_RUNS; k++)
		if (s->run[k].n && s->run[k].ring[s->run[k].head].due < t)
			t = s->run[k].ring[s->run[k].head].due;
	return t;
}

/*
 * Change a setting at @now_ns. "fault" (re)starts the fault schedule at
 * @now_ns with the current fault_at_ms / fault_for_ms (set those first);
 * "seed" reseeds the PRNG but keeps the msgid prefix, so ids stay unique;
 * other keys apply to later submits. Returns 0, -SMSR_ECONFIG (bad value)
 * or -SMSR_ENOTFOUND (unknown key); a failed call changes nothing.
 */
int smsr__sim_ctl(struct smsr__sim *s, const char *key, const char *value, uint64_t now_ns)
{
	struct sim_cfg c = s->cfg;
	int rc = parse_one(&c, key, value);

	if (rc < 0)
		return rc;
	cfg_derive(&c);
	now_ns = sched_check(s, now_ns);
	if (c.seed != s->cfg.seed)
		rng_seed(s, c.seed);
	s->cfg = c;
	if (strcmp(key, "fault") == 0)
		sched_restart(s, now_ns);
	return 0;
}

bool smsr__sim_up(struct smsr__sim *s, uint64_t now_ns)
{
	now_ns = sched_check(s, now_ns);
	return fault_at(s, now_ns) != SMSR__SIM_DOWN;
}
