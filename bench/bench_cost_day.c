/* SPDX-License-Identifier: MIT */
/*
 * cost_per_delivered_ratio: what scoring saves over a day in which the
 * channels' delivery rate and availability change, in price units per
 * delivered message, smart router over static router.
 *
 * Three simulated channels serve every message:
 *
 *   A  the incumbent, first in order: price 0.050, tps 400, delivery 0.96,
 *      down in hours 10-11 (sim fault=down, then none), delivery 0.70 in
 *      the evening (hours 18-23);
 *   B  cheaper: price 0.040, tps 400, delivery 0.96, throttled by its
 *      carrier in hours 14-15 (sim tps=50: it answers "throttled" above
 *      that; back to 0, unlimited, after);
 *   C  premium: price 0.065, tps 300, delivery 0.985, always fine.
 *
 * The same day runs on two routers, each fresh, with the same seeds, the
 * same traffic and the same schedule:
 *
 *  - smart: A, B and C in one route group with scoring on (the default):
 *    shares go by weight x (best score / own score)^4, a score being the
 *    expected cost per delivered message from the channel's own reports,
 *    latency and queue;
 *  - static: groups ["A"], ["B"], ["C"] with scoring off: always A unless
 *    A is down, then B, then C.
 *
 * A simulated hour is HOUR_MS of real time; at the start of each the main
 * thread applies that hour's settings with smsr_router_channel_ctl(). A
 * host thread offers LOAD_RATE msg/s all day: message i is verification
 * (i % 10 in 0-1), notice (2-5) or marketing (6-9), explicit class, one
 * segment each, to one mainland number. After the day the load stops and
 * the bench waits (at most DRAIN_MS) for every accepted message's final
 * event (counted by the event callback, event_mask SMSR_EV_FINAL), then
 * reads smsr_router_channels() and destroys the router.
 *
 * Cost: carriers bill per submitted segment, delivered or not, so the
 * day's cost is the sum over channels of price x submitted (every send to
 * the carrier, retries and throttled sends included; messages are one
 * segment). cost_per_delivered is that over the DELIVERED finals. The
 * ratio lines are smart / static: cost_per_delivered_ratio should be
 * clearly below 1, delivered_ratio at least 1. cost_accepted (price x
 * sends the carrier accepted, i.e. not counting throttled or refused ones)
 * rides along. lost counts accepted messages with no final event when the
 * wait ended.
 *
 * A run (both routers) takes about 20 s, so RUNS is 1 by default; an
 * argument asks for more (3 take about a minute), and then every figure
 * is the median and runs_values shows each run's ratio. -v prints on
 * stderr, per router, each channel's share of the sends and of the
 * deliveries, and an hour-by-hour table of sends, queues, B's send rate,
 * delivery estimates and marketing scores.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "smsr/smsr.h"

#define RUNS	  1
#define RUNS_MAX  9
#define HOURS	  24
#define HOUR_MS	  400	/* real time per simulated hour */
#define LOAD_RATE 300	/* msg/s offered */
#define DRAIN_MS  20000 /* wait for the final events */
#define NCHAN	  3
#define MAX_MSGS  (LOAD_RATE * (HOURS * HOUR_MS + 2000) / 1000)
#define RECIPIENT "+8613812345678"

#define CHANNELS                                                                                \
	"channels = (\n"                                                                        \
	" { name = \"A\"; driver = \"sim\"; tps = 400; window = 64; price = 0.050;\n"           \
	"   params = { latency_ms = 5; jitter_ms = 3; dlr_delay_ms = 30; dlr_jitter_ms = 20;\n" \
	"     delivery_rate = 0.96; seed = 11; }; },\n"                                         \
	" { name = \"B\"; driver = \"sim\"; tps = 400; window = 64; price = 0.040;\n"           \
	"   params = { latency_ms = 5; jitter_ms = 3; dlr_delay_ms = 30; dlr_jitter_ms = 20;\n" \
	"     delivery_rate = 0.96; seed = 12; }; },\n"                                         \
	" { name = \"C\"; driver = \"sim\"; tps = 300; window = 64; price = 0.065;\n"           \
	"   params = { latency_ms = 5; jitter_ms = 3; dlr_delay_ms = 30; dlr_jitter_ms = 20;\n" \
	"     delivery_rate = 0.985; seed = 13; }; } );\n"

static const char *const smart_cfg = "router = { workers = 2; };\n" CHANNELS
				     "routes = ( { groups = ( [\"A\", \"B\", \"C\"] ); } );\n";

static const char *const static_cfg =
    "router = { workers = 2; scoring = { enabled = false; }; };\n" CHANNELS
    "routes = ( { groups = ( [\"A\"], [\"B\"], [\"C\"] ); } );\n";

static const char *const chan_names[NCHAN] = {"A", "B", "C"};

static const char *const texts[] = {
    [SMSR_CLASS_VERIFICATION] = "Your verification code is 482913. It expires in 5 minutes.",
    [SMSR_CLASS_NOTICE] = "Your parcel 7731 was delivered to the front desk at 14:05.",
    [SMSR_CLASS_MARKETING] = "Spring sale: 20% off all shoes this weekend. Reply STOP to opt out.",
};

/* --- the day's schedule -------------------------------------------------- */

/* The channel settings of hour @h (values as the sim driver takes them). */
struct hour_set {
	const char *a_rate, *a_fault, *b_tps;
};

static struct hour_set hour_settings(int h)
{
	return (struct hour_set){
	    .a_rate = h >= 18 ? "0.70" : "0.96",
	    .a_fault = h == 10 || h == 11 ? "down" : "none",
	    .b_tps = h == 14 || h == 15 ? "50" : "0",
	};
}

static void ctl(struct smsr_router *r, int chan, const char *key, const char *value)
{
	int rc = smsr_router_channel_ctl(r, chan, key, value);

	if (rc < 0) {
		fprintf(stderr, "bench_cost_day: ctl %s=%s: %s\n", key, value, smsr_strerror(rc));
		exit(1);
	}
}

/* Apply what changed from hour @h - 1 to hour @h (hour -1: the config). */
static void apply_hour(struct smsr_router *r, const int *idx, int h)
{
	struct hour_set now = hour_settings(h);
	struct hour_set was = h ? hour_settings(h - 1) : (struct hour_set){"0.96", "none", "0"};

	if (strcmp(now.a_rate, was.a_rate))
		ctl(r, idx[0], "delivery_rate", now.a_rate);
	if (strcmp(now.a_fault, was.a_fault))
		ctl(r, idx[0], "fault", now.a_fault);
	if (strcmp(now.b_tps, was.b_tps))
		ctl(r, idx[1], "tps", now.b_tps);
}

/* --- events -------------------------------------------------------------- */

struct finals {
	_Atomic uint64_t n;
	_Atomic uint64_t by[3][SMSR_NCLASS]; /* delivered, failed, expired x class */
};

/* Worker threads, concurrently: final events only. */
static void on_event(void *arg, const struct smsr_event *ev)
{
	struct finals *f = arg;
	int k = ev->type == SMSR_EV_DELIVERED ? 0 : ev->type == SMSR_EV_FAILED ? 1 : 2;
	int c = ev->cls >= 1 && ev->cls <= SMSR_NCLASS ? ev->cls - 1 : 0;

	atomic_fetch_add_explicit(&f->by[k][c], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&f->n, 1, memory_order_relaxed);
}

/* --- the load ------------------------------------------------------------ */

struct load {
	struct smsr_router *r;
	pthread_t thread;
	_Atomic bool stop;
	uint64_t offered, accepted, rejected, segments;
};

static enum smsr_class class_of(uint64_t i)
{
	unsigned k = (unsigned)(i % 10);

	return k < 2 ? SMSR_CLASS_VERIFICATION : k < 6 ? SMSR_CLASS_NOTICE : SMSR_CLASS_MARKETING;
}

static void submit_one(struct load *l)
{
	enum smsr_class cls = class_of(l->offered);
	struct smsr_msg m = {
	    .recipient = RECIPIENT, .text = texts[cls], .text_len = strlen(texts[cls]), .cls = cls};
	struct smsr_result res;

	l->offered++;
	if (smsr_router_submit(l->r, &m, &res) < 0) {
		l->rejected++;
		return;
	}
	l->accepted++;
	l->segments += res.segments;
}

/* Offer LOAD_RATE msg/s, paced every 500 us, until told or out of room. */
static void *load_main(void *arg)
{
	struct load *l = arg;
	uint64_t start = bench_now_ns();

	while (!atomic_load(&l->stop) && l->offered < MAX_MSGS) {
		uint64_t due = (bench_now_ns() - start) * LOAD_RATE / 1000000000ull;

		while (l->offered < due && l->offered < MAX_MSGS)
			submit_one(l);
		usleep(500);
	}
	return NULL;
}

static void load_start(struct load *l, struct smsr_router *r)
{
	*l = (struct load){.r = r};
	if (pthread_create(&l->thread, NULL, load_main, l) != 0)
		exit(1);
}

static void load_stop(struct load *l)
{
	atomic_store(&l->stop, true);
	pthread_join(l->thread, NULL);
}

/* --- one day ------------------------------------------------------------- */

/* A channel at the end of an hour. */
struct hour_snap {
	uint64_t submitted;
	uint64_t queued; /* all lanes */
	uint32_t delivery_pm, send_tps;
	uint8_t state;
	double score_mkt;
};

struct day {
	uint64_t offered, accepted, rejected, segments;
	uint64_t delivered, failed, expired, lost;
	uint64_t by[3][SMSR_NCLASS];
	double cost, cost_accepted, cpd, drain_ms;
	struct smsr_channel_info ch[NCHAN];
	struct hour_snap hours[HOURS][NCHAN];
};

static void sleep_until(uint64_t t)
{
	uint64_t now = bench_now_ns();

	if (now < t)
		usleep((useconds_t)((t - now) / 1000));
}

static void read_channels(struct smsr_router *r, const int *idx, struct smsr_channel_info *out)
{
	struct smsr_channel_info all[16];
	int n = smsr_router_channels(r, all, 16);

	for (int i = 0; i < NCHAN; i++) {
		if (idx[i] >= n || idx[i] >= 16)
			exit(1);
		out[i] = all[idx[i]];
	}
}

static void run_day(struct smsr_config *cfg, struct day *d)
{
	static struct finals f;
	struct smsr_router_opts o = {.on_event = on_event, .arg = &f, .event_mask = SMSR_EV_FINAL};
	struct smsr_channel_info ch[NCHAN];
	struct smsr_router *r;
	struct load l;
	uint64_t t0, finals;
	int idx[NCHAN];

	memset(d, 0, sizeof(*d));
	memset(&f, 0, sizeof(f));
	if (smsr_router_create(&r, cfg, &o) < 0)
		exit(1);
	for (int i = 0; i < NCHAN; i++) {
		idx[i] = smsr_router_channel_find(r, chan_names[i]);
		if (idx[i] < 0)
			exit(1);
	}
	if (smsr_router_start(r) < 0)
		exit(1);
	load_start(&l, r);
	t0 = bench_now_ns();
	for (int h = 0; h < HOURS; h++) {
		apply_hour(r, idx, h);
		sleep_until(t0 + (uint64_t)(h + 1) * HOUR_MS * 1000000ull);
		read_channels(r, idx, ch);
		for (int i = 0; i < NCHAN; i++)
			d->hours[h][i] = (struct hour_snap){
			    .submitted = ch[i].submitted,
			    .queued = ch[i].queued[0] + ch[i].queued[1] + ch[i].queued[2],
			    .delivery_pm = ch[i].delivery_pm,
			    .send_tps = ch[i].send_tps,
			    .state = ch[i].state,
			    .score_mkt = ch[i].score[SMSR_CLASS_MARKETING - 1],
			};
	}
	load_stop(&l);
	t0 = bench_now_ns();
	bench_wait_finals(r, &f.n, l.accepted, DRAIN_MS);
	d->drain_ms = (double)(bench_now_ns() - t0) / 1e6;
	read_channels(r, idx, d->ch);
	finals = atomic_load(&f.n);
	for (int k = 0; k < 3; k++)
		for (int c = 0; c < SMSR_NCLASS; c++)
			d->by[k][c] = atomic_load(&f.by[k][c]);
	smsr_router_destroy(r);

	d->offered = l.offered;
	d->accepted = l.accepted;
	d->rejected = l.rejected;
	d->segments = l.segments;
	for (int c = 0; c < SMSR_NCLASS; c++) {
		d->delivered += d->by[0][c];
		d->failed += d->by[1][c];
		d->expired += d->by[2][c];
	}
	d->lost = finals < l.accepted ? l.accepted - finals : 0;
	for (int i = 0; i < NCHAN; i++) {
		d->cost += d->ch[i].price * (double)d->ch[i].submitted;
		d->cost_accepted += d->ch[i].price * (double)d->ch[i].accepted;
	}
	d->cpd = d->delivered ? d->cost / (double)d->delivered : 0;
}

/* --- output -------------------------------------------------------------- */

static bool verbose;

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static void report(const char *name, const struct day *d)
{
	uint64_t sub = 0, del = 0;

	if (!verbose)
		return;
	for (int i = 0; i < NCHAN; i++) {
		sub += d->ch[i].submitted;
		del += d->ch[i].delivered;
	}
	fprintf(stderr,
		"%s: offered %llu accepted %llu rejected %llu delivered %llu failed %llu "
		"expired %llu lost %llu cost %.2f (accepted sends %.2f) per delivered %.5f "
		"drain %.0f ms\n",
		name, (unsigned long long)d->offered, (unsigned long long)d->accepted,
		(unsigned long long)d->rejected, (unsigned long long)d->delivered,
		(unsigned long long)d->failed, (unsigned long long)d->expired,
		(unsigned long long)d->lost, d->cost, d->cost_accepted, d->cpd, d->drain_ms);
	fprintf(stderr, "  delivered/failed by class: v %llu/%llu n %llu/%llu m %llu/%llu\n",
		(unsigned long long)d->by[0][0], (unsigned long long)d->by[1][0],
		(unsigned long long)d->by[0][1], (unsigned long long)d->by[1][1],
		(unsigned long long)d->by[0][2], (unsigned long long)d->by[1][2]);
	for (int i = 0; i < NCHAN; i++) {
		const struct smsr_channel_info *c = &d->ch[i];

		fprintf(stderr,
			"  %s: submitted %6llu (%5.1f%%) delivered %6llu (%5.1f%%) accepted %llu "
			"failed %llu throttled %llu retried %llu resent %llu rate_cuts %llu "
			"breaker_opens %llu\n",
			c->name, (unsigned long long)c->submitted, pct(c->submitted, sub),
			(unsigned long long)c->delivered, pct(c->delivered, del),
			(unsigned long long)c->accepted, (unsigned long long)c->failed,
			(unsigned long long)c->throttled, (unsigned long long)c->retried,
			(unsigned long long)c->resent, (unsigned long long)c->rate_cuts,
			(unsigned long long)c->breaker_opens);
	}
	fprintf(stderr, "  hour (* A not up) sends A/B/C, queued A/B/C at the end, B send_tps, "
			"delivery_pm A/B/C, marketing score A/B/C\n");
	for (int h = 0; h < HOURS; h++) {
		const struct hour_snap *s = d->hours[h], *p = h ? d->hours[h - 1] : NULL;
		uint64_t n[NCHAN];

		for (int i = 0; i < NCHAN; i++)
			n[i] = s[i].submitted - (p ? p[i].submitted : 0);
		fprintf(stderr,
			"  %2d%s %4llu %4llu %4llu  %4llu %4llu %4llu  %4u  %4u %4u %4u  %.4f %.4f "
			"%.4f\n",
			h, s[0].state == SMSR_CHAN_UP ? " " : "*", (unsigned long long)n[0],
			(unsigned long long)n[1], (unsigned long long)n[2],
			(unsigned long long)s[0].queued, (unsigned long long)s[1].queued,
			(unsigned long long)s[2].queued, s[1].send_tps, s[0].delivery_pm,
			s[1].delivery_pm, s[2].delivery_pm, s[0].score_mkt, s[1].score_mkt,
			s[2].score_mkt);
	}
}

/* The median over @runs days of what @get reads. */
static double med(const struct day *d, int runs, double (*get)(const struct day *))
{
	double v[RUNS_MAX];

	for (int i = 0; i < runs; i++)
		v[i] = get(&d[i]);
	return bench_median(v, (size_t)runs);
}

static double get_cpd(const struct day *d)
{
	return d->cpd;
}

static double get_accepted(const struct day *d)
{
	return (double)d->accepted;
}

static double get_delivered(const struct day *d)
{
	return (double)d->delivered;
}

static double get_failed(const struct day *d)
{
	return (double)d->failed;
}

static double get_expired(const struct day *d)
{
	return (double)d->expired;
}

static double get_lost(const struct day *d)
{
	return (double)d->lost;
}

static double get_cost(const struct day *d)
{
	return d->cost;
}

static double get_cost_accepted(const struct day *d)
{
	return d->cost_accepted;
}

static void emit_router(const char *metric, const struct day *d, int runs)
{
	char extra[512];

	snprintf(extra, sizeof(extra),
		 ",\"accepted\":%.0f,\"delivered\":%.0f,\"failed\":%.0f,\"expired\":%.0f,"
		 "\"lost\":%.0f,\"total_cost\":%.4f,\"cost_accepted\":%.4f",
		 med(d, runs, get_accepted), med(d, runs, get_delivered), med(d, runs, get_failed),
		 med(d, runs, get_expired), med(d, runs, get_lost), med(d, runs, get_cost),
		 med(d, runs, get_cost_accepted));
	bench_emit("cost_day", metric, med(d, runs, get_cpd), "price/msg", runs, extra);
}

/* Median of @n values, leaving @v in run order. */
static double median_of(const double *v, int n)
{
	double tmp[RUNS_MAX];

	memcpy(tmp, v, (size_t)n * sizeof(*v));
	return bench_median(tmp, (size_t)n);
}

static void emit_ratios(const struct day *sm, const struct day *st, int runs)
{
	double cpd[RUNS_MAX], dlv[RUNS_MAX];
	char extra[768];

	for (int i = 0; i < runs; i++) {
		cpd[i] = st[i].cpd ? sm[i].cpd / st[i].cpd : 0;
		dlv[i] = st[i].delivered ? (double)sm[i].delivered / (double)st[i].delivered : 0;
	}
	snprintf(extra, sizeof(extra),
		 ",\"target\":\"<1\",\"cost_per_delivered_smart\":%.6g,"
		 "\"cost_per_delivered_static\":%.6g,\"delivered_ratio\":%.4f,"
		 "\"delivered_smart\":%.0f,\"delivered_static\":%.0f,\"accepted_smart\":%.0f,"
		 "\"accepted_static\":%.0f,\"failed_smart\":%.0f,\"failed_static\":%.0f,"
		 "\"lost_smart\":%.0f,\"lost_static\":%.0f,\"hours\":%d,\"hour_ms\":%d,"
		 "\"load_msgs_per_sec\":%d",
		 med(sm, runs, get_cpd), med(st, runs, get_cpd), median_of(dlv, runs),
		 med(sm, runs, get_delivered), med(st, runs, get_delivered),
		 med(sm, runs, get_accepted), med(st, runs, get_accepted),
		 med(sm, runs, get_failed), med(st, runs, get_failed), med(sm, runs, get_lost),
		 med(st, runs, get_lost), HOURS, HOUR_MS, LOAD_RATE);
	bench_append_array(extra, sizeof(extra), "runs_values", cpd, runs);
	bench_emit("cost_day", "cost_per_delivered_ratio", median_of(cpd, runs), "ratio", runs,
		   extra);
	snprintf(extra, sizeof(extra), ",\"target\":\">=1\"");
	bench_append_array(extra, sizeof(extra), "runs_values", dlv, runs);
	bench_emit("cost_day", "delivered_ratio", median_of(dlv, runs), "ratio", runs, extra);
}

int main(int argc, char **argv)
{
	static struct day sm[RUNS_MAX], st[RUNS_MAX];
	struct smsr_config *smart, *stat;
	int runs = RUNS;
	char err[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbose = true;
		else
			runs = atoi(argv[i]);
	}
	if (runs < 1 || runs > RUNS_MAX) {
		fprintf(stderr, "usage: bench_cost_day [-v] [runs 1..%d]\n", RUNS_MAX);
		return 2;
	}
	if (smsr_config_create(&smart) < 0 || smsr_config_create(&stat) < 0)
		return 1;
	if (smsr_config_parse(smart, smart_cfg, err, sizeof(err)) < 0 ||
	    smsr_config_parse(stat, static_cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_cost_day: %s\n", err);
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		run_day(smart, &sm[i]);
		report("smart", &sm[i]);
		run_day(stat, &st[i]);
		report("static", &st[i]);
	}
	emit_router("cost_per_delivered_smart", sm, runs);
	emit_router("cost_per_delivered_static", st, runs);
	emit_ratios(sm, st, runs);
	smsr_config_destroy(smart);
	smsr_config_destroy(stat);
	return 0;
}
