/* SPDX-License-Identifier: MIT */
/*
 * Failover under load: what a carrier outage costs, seen from the events.
 *
 * Two simulated channels, A then B in one route ("A" first, "B" as backup),
 * and a host thread offering LOAD_RATE msg/s, verification and marketing
 * alternately (explicit class). Each run is three scenarios, each on a
 * fresh router:
 *
 *  - black hole: after PRE_MS of load, the sim driver of A is told
 *    fault=blackhole at t0 (it takes submits and never answers). The
 *    breaker finds it by its answer timers (health.answer_timeout 1 s).
 *    blackhole_detect_ms is the ts_ns of A's SMSR_EV_CHANNEL event with
 *    state down, minus t0 (both CLOCK_MONOTONIC); failover_switch_us the
 *    time from that event to the first SMSR_EV_HANDOFF on B at or after it.
 *  - link down: the same with fault=down (the driver refuses submits and
 *    fails the pending answers, so the link is known down at once);
 *    failover_switch_us_link_down is measured the same way. A is not
 *    backlogged then (the load is below its rate), so this is mostly the
 *    wait for the next message the host submits.
 *
 *  - no reports: fault=nodlr, A takes and answers submits but never
 *    reports delivery. A's usual report delay is 20 ms, so the breaker's
 *    report timer (health.report_silence 1.5 s) decides:
 *    blackhole_detect_ms_no_reports, with the codes awaiting a report
 *    resent on B (resent_codes); A's promotions end dlr_timeout (3 s).
 *
 * Both switch lines carry first_resend_us: from the down event to the first
 * hand-off on B of a message on its second attempt or later (a resend).
 *
 * In both, load goes on for POST_MS after the down event, then stops; the
 * bench waits (at most DRAIN_MS) for every accepted message's final event
 * and only then stops the router. Every event is recorded by the callback
 * into a preallocated tape (one atomic index), read once the router has
 * stopped. Per accepted id: failover_lost_msgs counts ids whose only final
 * came from the stop (router_stopped) or that got none at all,
 * failover_double_finals ids with two finals or more (both summed over all
 * runs and all scenarios: must be 0). failover_duplicate_msgs_<class> counts,
 * in the black-hole scenario, messages of the class handed off to more
 * than one channel, i.e. possibly sent twice: verification is resent on
 * purpose, marketing must not be. The link-down figures ride along as
 * extra fields (a hand-off the driver refused would count there too).
 * A time that was not seen (no down event, no hand-off on B) is -1.
 *
 * Medians over RUNS runs (each run's value in runs_values); every loop is
 * bounded in count and time. -v prints one line per scenario on stderr.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "smsr/smsr.h"

#define RUNS	    5
#define LOAD_RATE   1500  /* msg/s offered */
#define LOAD_MAX_MS 10000 /* the load thread stops by itself after this */
#define PRE_MS	    300	  /* load before the fault */
#define DETECT_MS   5000  /* give up waiting for the down event */
#define POST_MS	    500	  /* load after the down event */
#define DRAIN_MS    15000 /* wait for the final events */
#define MAX_MSGS    (LOAD_RATE * LOAD_MAX_MS / 1000)
#define MAX_EVS	    (1u << 20)
#define DETECT_GOAL 2000 /* ms */
#define RECIPIENT   "+8613812345678"

static const char *cfg_text =
    "router = { workers = 2; health = { answer_timeout = \"1s\"; };\n"
    "  retry = { backoff = \"10ms\"; }; };\n"
    "channels = (\n"
    " { name = \"A\"; driver = \"sim\"; tps = 2000; window = 64; submit_timeout = \"3s\";\n"
    "   dlr_timeout = \"3s\";\n"
    "   params = { latency_ms = 5; jitter_ms = 2; dlr_delay_ms = 20; }; },\n"
    " { name = \"B\"; driver = \"sim\"; tps = 2000; window = 64;\n"
    "   params = { latency_ms = 5; jitter_ms = 2; dlr_delay_ms = 20; }; } );\n"
    "routes = ( { groups = ( [\"A\"], [\"B\"] ); } );\n";

static const char *const texts[] = {
    [SMSR_CLASS_VERIFICATION] = "Your verification code is 482913.",
    [SMSR_CLASS_MARKETING] = "Sale: 20% off today only. Reply STOP to opt out.",
};

/* --- the event tape ------------------------------------------------------ */

struct tape_ev {
	uint64_t id, ts;
	int32_t channel, reason;
	uint8_t type, cls, chan_state, attempt;
};

struct tape {
	struct tape_ev *ev;
	_Atomic uint32_t n;	  /* slots taken (may exceed MAX_EVS: dropped) */
	_Atomic uint64_t finals;  /* final events seen */
	_Atomic uint64_t down_ns; /* A's first down event, 0 until then */
	int chan_a;
};

static bool is_final(uint8_t type)
{
	return SMSR_EV_FINAL & SMSR_EV_MASK(type);
}

/* Worker threads, concurrently: one atomic add and a copy. */
static void on_event(void *arg, const struct smsr_event *ev)
{
	struct tape *t = arg;
	uint32_t i = atomic_fetch_add_explicit(&t->n, 1, memory_order_relaxed);
	uint64_t zero = 0;

	if (i < MAX_EVS)
		t->ev[i] = (struct tape_ev){.id = ev->id,
					    .ts = ev->ts_ns,
					    .channel = ev->channel,
					    .reason = ev->reason,
					    .type = ev->type,
					    .cls = ev->cls,
					    .chan_state = ev->chan_state,
					    .attempt = ev->attempt};
	if (is_final(ev->type))
		atomic_fetch_add_explicit(&t->finals, 1, memory_order_relaxed);
	if (ev->type == SMSR_EV_CHANNEL && ev->channel == t->chan_a &&
	    ev->chan_state == SMSR_CHAN_DOWN)
		atomic_compare_exchange_strong(&t->down_ns, &zero, ev->ts_ns ? ev->ts_ns : 1);
}

static void tape_reset(struct tape *t, int chan_a)
{
	atomic_store(&t->n, 0);
	atomic_store(&t->finals, 0);
	atomic_store(&t->down_ns, 0);
	t->chan_a = chan_a;
}

/* --- the load ------------------------------------------------------------ */

/* One accepted message, then what the tape says about it. */
struct msg_rec {
	uint64_t id;
	uint8_t cls;
	uint8_t finals;	 /* final events, router_stopped ones included */
	uint8_t stopped; /* of which router_stopped */
	uint32_t chans;	 /* bit per channel index it was handed off to */
};

struct load {
	struct smsr_router *r;
	pthread_t thread;
	_Atomic bool stop;
	struct msg_rec *msgs;
	uint64_t n, offered, rejected;
};

static void submit_one(struct load *l)
{
	uint8_t cls = l->offered % 2 ? SMSR_CLASS_MARKETING : SMSR_CLASS_VERIFICATION;
	struct smsr_msg m = {
	    .recipient = RECIPIENT, .text = texts[cls], .text_len = strlen(texts[cls]), .cls = cls};
	struct smsr_result res;

	l->offered++;
	if (smsr_router_submit(l->r, &m, &res) < 0) {
		l->rejected++;
		return;
	}
	l->msgs[l->n++] = (struct msg_rec){.id = res.id, .cls = cls};
}

/* Offer LOAD_RATE msg/s, paced every 500 µs, until told or out of room. */
static void *load_main(void *arg)
{
	struct load *l = arg;
	uint64_t start = bench_now_ns(), end = start + LOAD_MAX_MS * 1000000ull;

	while (!atomic_load(&l->stop) && l->n < MAX_MSGS) {
		uint64_t now = bench_now_ns();
		uint64_t due = (now - start) * LOAD_RATE / 1000000000ull;

		if (now >= end)
			break;
		while (l->offered < due && l->n < MAX_MSGS)
			submit_one(l);
		usleep(500);
	}
	return NULL;
}

static void load_start(struct load *l, struct smsr_router *r)
{
	l->r = r;
	l->n = l->offered = l->rejected = 0;
	atomic_store(&l->stop, false);
	if (pthread_create(&l->thread, NULL, load_main, l) != 0)
		exit(1);
}

static void load_stop(struct load *l)
{
	atomic_store(&l->stop, true);
	pthread_join(l->thread, NULL);
}

/* --- one scenario -------------------------------------------------------- */

struct outcome {
	double detect_ms, switch_us; /* -1: not seen */
	double resend_us;	     /* down event to the first attempt >= 2 on B */
	uint64_t accepted, rejected, lost, no_final, double_finals, dropped;
	uint64_t dup[SMSR_NCLASS]; /* handed off to more than one channel */
	uint64_t b_before_fault;   /* hand-offs on B before t0 */
};

static void sleep_ms(unsigned ms)
{
	usleep(ms * 1000u);
}

/* Wait (bounded) until @flag is non-zero; returns it. */
static uint64_t wait_flag(_Atomic uint64_t *flag, unsigned max_ms)
{
	uint64_t end = bench_now_ns() + max_ms * 1000000ull;

	while (!atomic_load(flag) && bench_now_ns() < end)
		usleep(1000);
	return atomic_load(flag);
}

static int cmp_msg(const void *a, const void *b)
{
	uint64_t x = ((const struct msg_rec *)a)->id, y = ((const struct msg_rec *)b)->id;

	return (x > y) - (x < y);
}

static struct msg_rec *find_msg(struct load *l, uint64_t id)
{
	struct msg_rec key = {.id = id};

	return bsearch(&key, l->msgs, l->n, sizeof(key), cmp_msg);
}

/* Fold message events into the per-id records. */
static void tally_msgs(struct tape *t, uint32_t n, struct load *l, struct outcome *o)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct tape_ev *e = &t->ev[i];
		struct msg_rec *m;

		if (e->type != SMSR_EV_HANDOFF && !is_final(e->type))
			continue;
		m = find_msg(l, e->id);
		if (!m)
			continue;
		if (e->type == SMSR_EV_HANDOFF && e->channel >= 0 && e->channel < 32)
			m->chans |= 1u << e->channel;
		if (is_final(e->type)) {
			m->finals += m->finals < 255;
			m->stopped += e->reason == -SMSR_ESTOPPED;
		}
	}
	for (uint64_t i = 0; i < l->n; i++) {
		const struct msg_rec *m = &l->msgs[i];

		o->no_final += !m->finals;
		o->lost += m->finals == m->stopped;
		o->double_finals += m->finals > 1;
		o->dup[m->cls - 1] += __builtin_popcount(m->chans) > 1;
	}
}

/* A's down event, then the first hand-off on B at or after it. */
static void tally_switch(struct tape *t, uint32_t n, int chan_b, uint64_t t0, struct outcome *o)
{
	uint64_t down = UINT64_MAX, first_b = UINT64_MAX, resend = UINT64_MAX;

	for (uint32_t i = 0; i < n; i++) {
		const struct tape_ev *e = &t->ev[i];

		if (e->type == SMSR_EV_CHANNEL && e->channel == t->chan_a &&
		    e->chan_state == SMSR_CHAN_DOWN && e->ts < down)
			down = e->ts;
		if (e->type == SMSR_EV_HANDOFF && e->channel == chan_b && e->ts < t0)
			o->b_before_fault++;
	}
	for (uint32_t i = 0; down != UINT64_MAX && i < n; i++) {
		const struct tape_ev *e = &t->ev[i];

		if (e->type != SMSR_EV_HANDOFF || e->channel != chan_b || e->ts < down)
			continue;
		if (e->ts < first_b)
			first_b = e->ts;
		if (e->attempt > 1 && e->ts < resend)
			resend = e->ts;
	}
	o->detect_ms = down == UINT64_MAX ? -1 : ((double)down - (double)t0) / 1e6;
	o->switch_us = first_b == UINT64_MAX ? -1 : (double)(first_b - down) / 1e3;
	o->resend_us = resend == UINT64_MAX ? -1 : (double)(resend - down) / 1e3;
}

static void analyse(struct tape *t, struct load *l, int chan_b, uint64_t t0, struct outcome *o)
{
	uint32_t n = atomic_load(&t->n);

	o->dropped = n > MAX_EVS ? n - MAX_EVS : 0;
	n = n > MAX_EVS ? MAX_EVS : n;
	o->accepted = l->n;
	o->rejected = l->rejected;
	qsort(l->msgs, l->n, sizeof(*l->msgs), cmp_msg);
	tally_msgs(t, n, l, o);
	tally_switch(t, n, chan_b, t0, o);
}

static struct smsr_router *router_up(struct smsr_config *cfg, struct tape *t, int *a, int *b)
{
	struct smsr_router_opts o = {.on_event = on_event,
				     .arg = t,
				     .event_mask = SMSR_EV_FINAL | SMSR_EV_MASK(SMSR_EV_HANDOFF) |
						   SMSR_EV_MASK(SMSR_EV_CHANNEL)};
	struct smsr_router *r;

	if (smsr_router_create(&r, cfg, &o) < 0)
		exit(1);
	*a = smsr_router_channel_find(r, "A");
	*b = smsr_router_channel_find(r, "B");
	if (*a < 0 || *b < 0)
		exit(1);
	tape_reset(t, *a);
	if (smsr_router_start(r) < 0)
		exit(1);
	return r;
}

/* -v: one line per scenario on stderr. */
static bool verbose;

static void report(const char *fault, const struct outcome *o)
{
	if (!verbose)
		return;
	fprintf(
	    stderr,
	    "%-9s detect %.1f ms switch %.0f us resend %.0f us accepted %llu rejected %llu\n"
	    "          lost %llu no_final %llu double %llu dup v/n/m %llu/%llu/%llu dropped %llu\n",
	    fault, o->detect_ms, o->switch_us, o->resend_us, (unsigned long long)o->accepted,
	    (unsigned long long)o->rejected, (unsigned long long)o->lost,
	    (unsigned long long)o->no_final, (unsigned long long)o->double_finals,
	    (unsigned long long)o->dup[0], (unsigned long long)o->dup[1],
	    (unsigned long long)o->dup[2], (unsigned long long)o->dropped);
}

/* Load, @fault on A at t0, load on past the down event, drain, stop. */
static void scenario(struct smsr_config *cfg, struct tape *t, struct load *l, const char *fault,
		     struct outcome *o)
{
	int a, b;
	struct smsr_router *r = router_up(cfg, t, &a, &b);
	uint64_t t0;

	*o = (struct outcome){0};
	load_start(l, r);
	sleep_ms(PRE_MS);
	t0 = bench_now_ns();
	if (smsr_router_channel_ctl(r, a, "fault", fault) < 0)
		exit(1);
	wait_flag(&t->down_ns, DETECT_MS);
	sleep_ms(POST_MS);
	load_stop(l);
	bench_wait_finals(r, &t->finals, l->n, DRAIN_MS);
	smsr_router_stop(r); /* workers joined: the tape is still */
	analyse(t, l, b, t0, o);
	report(fault, o);
	smsr_router_destroy(r);
}

/* --- output -------------------------------------------------------------- */

/* @field of each run's outcome, into @v. */
#define PICK(v, o, field)                                \
	do {                                             \
		for (int i_ = 0; i_ < RUNS; i_++)        \
			(v)[i_] = (double)(o)[i_].field; \
	} while (0)

/* Emit the median of @v (per-run values shown first: the median sorts). */
static void emit_median(const char *metric, const char *unit, double *v, const char *fixed)
{
	char extra[512];

	snprintf(extra, sizeof(extra), "%s", fixed ? fixed : "");
	bench_append_array(extra, sizeof(extra), "runs_values", v, RUNS);
	bench_emit("failover", metric, bench_median(v, RUNS), unit, RUNS, extra);
}

/* The counters of every run and all three scenarios, summed. */
static struct outcome total(const struct outcome *bh, const struct outcome *ld,
			    const struct outcome *nr)
{
	struct outcome s = {0};

	for (int i = 0; i < 3 * RUNS; i++) {
		const struct outcome *o = i < RUNS	 ? &bh[i]
					  : i < 2 * RUNS ? &ld[i - RUNS]
							 : &nr[i - 2 * RUNS];

		s.accepted += o->accepted;
		s.rejected += o->rejected;
		s.lost += o->lost;
		s.no_final += o->no_final;
		s.double_finals += o->double_finals;
		s.dropped += o->dropped;
	}
	return s;
}

static void emit_timing(const struct outcome *bh, const struct outcome *ld)
{
	double v[RUNS], w[RUNS], u[RUNS];
	char extra[256];

	snprintf(extra, sizeof(extra),
		 ",\"target_ms\":%d,\"answer_timeout_ms\":1000,"
		 "\"load_msgs_per_sec\":%d",
		 DETECT_GOAL, LOAD_RATE);
	PICK(v, bh, detect_ms);
	emit_median("blackhole_detect_ms", "ms", v, extra);
	PICK(w, bh, b_before_fault);
	PICK(u, bh, resend_us);
	snprintf(extra, sizeof(extra),
		 ",\"scenario\":\"blackhole\",\"b_handoffs_before_fault\":%g,"
		 "\"first_resend_us\":%.4g",
		 bench_median(w, RUNS), bench_median(u, RUNS));
	PICK(v, bh, switch_us);
	emit_median("failover_switch_us", "us", v, extra);
	PICK(w, ld, detect_ms);
	PICK(u, ld, resend_us);
	snprintf(extra, sizeof(extra),
		 ",\"scenario\":\"link_down\",\"detect_ms\":%.4g,\"first_resend_us\":%.4g",
		 bench_median(w, RUNS), bench_median(u, RUNS));
	PICK(v, ld, switch_us);
	emit_median("failover_switch_us_link_down", "us", v, extra);
}

/* A carrier that takes submits and stops reporting: the report timers. */
static void emit_no_reports(const struct outcome *nr)
{
	double v[RUNS], w[RUNS];
	char extra[256];

	PICK(w, nr, dup[SMSR_CLASS_VERIFICATION - 1]);
	snprintf(extra, sizeof(extra),
		 ",\"target_ms\":%d,\"report_silence_ms\":1500,\"dlr_delay_ms\":20,"
		 "\"resent_codes\":%g",
		 DETECT_GOAL, bench_median(w, RUNS));
	PICK(v, nr, detect_ms);
	emit_median("blackhole_detect_ms_no_reports", "ms", v, extra);
}

static void emit_integrity(const struct outcome *bh, const struct outcome *ld,
			   const struct outcome *nr)
{
	struct outcome s = total(bh, ld, nr);
	char extra[256];

	snprintf(extra, sizeof(extra),
		 ",\"of_runs\":\"sum\",\"scenarios\":3,\"target\":0,\"accepted\":%llu,"
		 "\"no_final_after_stop\":%llu,\"rejected\":%llu,\"events_dropped\":%llu",
		 (unsigned long long)s.accepted, (unsigned long long)s.no_final,
		 (unsigned long long)s.rejected, (unsigned long long)s.dropped);
	bench_emit("failover", "failover_lost_msgs", (double)s.lost, "msgs", RUNS, extra);
	bench_emit("failover", "failover_double_finals", (double)s.double_finals, "msgs", RUNS,
		   ",\"of_runs\":\"sum\",\"scenarios\":3,\"target\":0");
}

static void emit_dups(const struct outcome *bh, const struct outcome *ld, enum smsr_class cls,
		      const char *metric, const char *target)
{
	double v[RUNS], w[RUNS];
	char extra[256];

	PICK(w, ld, dup[cls - 1]);
	snprintf(extra, sizeof(extra), ",\"scenario\":\"blackhole\"%s", target);
	bench_append_array(extra, sizeof(extra), "link_down_runs", w, RUNS);
	PICK(v, bh, dup[cls - 1]);
	emit_median(metric, "msgs", v, extra);
}

int main(int argc, char **argv)
{
	static struct outcome bh[RUNS], ld[RUNS], nr[RUNS];
	static struct load l;
	struct tape t = {0};
	struct smsr_config *cfg;
	char err[256];

	verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	t.ev = calloc(MAX_EVS, sizeof(*t.ev));
	l.msgs = calloc(MAX_MSGS, sizeof(*l.msgs));
	if (!t.ev || !l.msgs || smsr_config_create(&cfg) < 0)
		return 1;
	if (smsr_config_parse(cfg, cfg_text, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_failover: %s\n", err);
		return 1;
	}
	for (int run = 0; run < RUNS; run++) {
		scenario(cfg, &t, &l, "blackhole", &bh[run]);
		scenario(cfg, &t, &l, "down", &ld[run]);
		scenario(cfg, &t, &l, "nodlr", &nr[run]);
	}
	emit_timing(bh, ld);
	emit_no_reports(nr);
	emit_integrity(bh, ld, nr);
	emit_dups(bh, ld, SMSR_CLASS_VERIFICATION, "failover_duplicate_msgs_verification", "");
	emit_dups(bh, ld, SMSR_CLASS_MARKETING, "failover_duplicate_msgs_marketing",
		  ",\"target\":0");
	smsr_config_destroy(cfg);
	free(t.ev);
	free(l.msgs);
	return 0;
}
