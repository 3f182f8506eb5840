/* SPDX-License-Identifier: MIT */
/*
 * verification_latency_p50_us / _p99_us: time from the host's submit call
 * to the channel driver's hand-off for verification messages, while more
 * than a million marketing messages wait on the same channels (each paced
 * at 2,000 segments/s, so the backlog stays for the whole run).
 * bytes_per_queued_msg: resident memory the router gained per queued
 * message while that backlog was admitted, minus the text bytes.
 * Baseline: the latency of the same submits on an idle router in the same
 * run, so the ratio shows what the backlog costs a code.
 */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "smsr/smsr.h"

#define RUNS	5
#define BACKLOG 1100000
#define SAMPLES 2000

static const char *cfg_text =
    "router = { workers = 1; };\n"
    "channels = (\n"
    " { name = \"m1\"; driver = \"sim\"; tps = 2000; window = 64; reserve = { window = 8; tokens = "
    "20; };\n"
    "   lanes = { verification = 10000; notice = 100000; marketing = 2000000; }; },\n"
    " { name = \"m2\"; driver = \"sim\"; tps = 2000; window = 64; reserve = { window = 8; tokens = "
    "20; };\n"
    "   lanes = { verification = 10000; notice = 100000; marketing = 2000000; }; } );\n"
    "routes = ( { groups = ( [\"m1:1\", \"m2:1\"] ); } );\n";

static _Atomic uint64_t handoff_ns;
static _Atomic uint64_t handoffs;

static void on_event(void *arg, const struct smsr_event *ev)
{
	if (ev->type == SMSR_EV_HANDOFF && ev->cls == SMSR_CLASS_VERIFICATION) {
		atomic_store_explicit(&handoff_ns, bench_now_ns(), memory_order_relaxed);
		atomic_fetch_add_explicit(&handoffs, 1, memory_order_release);
	}
}

static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static void pause_us(unsigned us)
{
	uint64_t end = bench_now_ns() + us * 1000ull;

	while (bench_now_ns() < end)
		;
}

/* Submit SAMPLES codes one by one; write p50/p99 in µs. */
static void measure(struct smsr_router *r, double *p50, double *p99)
{
	static double lat[SAMPLES];
	const char *t = "Your verification code is 482913. It expires in 5 minutes.";
	struct smsr_msg m = {.recipient = "13912345678",
			     .text = t,
			     .text_len = strlen(t),
			     .cls = SMSR_CLASS_VERIFICATION};

	for (int i = 0; i < SAMPLES; i++) {
		uint64_t before = atomic_load(&handoffs), t0 = bench_now_ns();

		if (smsr_router_submit(r, &m, NULL) < 0)
			exit(2);
		while (atomic_load_explicit(&handoffs, memory_order_acquire) == before)
			;
		lat[i] = (double)(atomic_load(&handoff_ns) - t0) / 1000.0;
		pause_us(200);
	}
	*p50 = bench_percentile(lat, SAMPLES, 50);
	*p99 = bench_percentile(lat, SAMPLES, 99);
}

static double backlog(struct smsr_router *r)
{
	static struct smsr_msg m[1000];
	static struct smsr_result res[1000];
	const char *t =
	    "【天猫】年终好价节！满400减60，叠加店铺券更划算，点击 tb.cn/Zx2 抢，回TD退订。";
	long before = rss_bytes();
	uint64_t queued = 0;

	for (int i = 0; i < 1000; i++)
		m[i] = (struct smsr_msg){.recipient = "13812345678",
					 .text = t,
					 .text_len = strlen(t),
					 .cls = SMSR_CLASS_MARKETING};
	while (queued < BACKLOG)
		queued += (uint64_t)smsr_router_submit_batch(r, m, 1000, res);
	usleep(200000); /* let the worker take every chain onto its lanes */
	return (double)(rss_bytes() - before) / (double)queued - (double)strlen(t);
}

int main(void)
{
	double p50[RUNS], p99[RUNS], b50[RUNS], b99[RUNS], bytes[RUNS];
	struct smsr_router_opts o = {.on_event = on_event,
				     .event_mask = SMSR_EV_MASK(SMSR_EV_HANDOFF)};
	struct smsr_config *cfg;
	char extra[160];

	smsr_config_create(&cfg);
	if (smsr_config_parse(cfg, cfg_text, NULL, 0) < 0)
		return 1;
	for (int run = 0; run < RUNS; run++) {
		struct smsr_router *r;

		if (smsr_router_create(&r, cfg, &o) < 0 || smsr_router_start(r) < 0)
			return 1;
		measure(r, &b50[run], &b99[run]);
		bytes[run] = backlog(r);
		measure(r, &p50[run], &p99[run]);
		smsr_router_destroy(r);
	}
	snprintf(extra, sizeof(extra), ",\"backlog\":%d,\"idle_baseline_us\":%.3g", BACKLOG,
		 bench_median(b50, RUNS));
	bench_emit("verification_latency", "verification_latency_p50_us", bench_median(p50, RUNS),
		   "us", RUNS, extra);
	snprintf(extra, sizeof(extra), ",\"backlog\":%d,\"idle_baseline_us\":%.3g", BACKLOG,
		 bench_median(b99, RUNS));
	bench_emit("verification_latency", "verification_latency_p99_us", bench_median(p99, RUNS),
		   "us", RUNS, extra);
	/* Worst run, not the median: later runs may reuse pages freed earlier. */
	for (int run = 1; run < RUNS; run++)
		if (bytes[run] > bytes[0])
			bytes[0] = bytes[run];
	bench_emit("verification_latency", "bytes_per_queued_msg", bytes[0], "bytes", RUNS,
		   ",\"text_excluded\":true,\"of_runs\":\"max\"");
	smsr_config_destroy(cfg);
	return 0;
}
