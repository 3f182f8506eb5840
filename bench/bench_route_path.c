/* SPDX-License-Identifier: MIT */
/*
 * route_path_msgs_per_sec: the in-process path submit -> validate ->
 * classify -> route -> lane -> simulated channel (unlimited rate, instant
 * answers and reports) -> final event, with one worker thread. The host
 * thread submits batches of 256 typical messages (three languages, three
 * classes, auto-classified); the clock stops when the last final event has
 * arrived. Median of runs; baseline: the same messages through validation
 * and classification alone (no router), in the same process.
 *
 * The texts are templates with numbers drawn per message, as real traffic
 * has them, so the submit path's template cache (core/classify/tmpl_cache.h) serves
 * most of them; route_path_unique_texts_msgs_per_sec runs the same with a
 * word of its own in every text of the 4,096 sent round and round, more
 * templates than the cache holds: every text scanned and classified.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "smsr/smsr.h"

#define RUNS  5
#define BATCH 256

/* Text @k (of 8) with numbers from @r into @out; returns its length. */
static int text_of(unsigned k, uint64_t r, char *out, size_t cap)
{
	unsigned a = (unsigned)(r >> 40) % 1000000, b = (unsigned)(r >> 20) % 100;

	switch (k) {
	case 0:
		return snprintf(out, cap, "【淘宝网】验证码 %06u，您正在登录淘宝，切勿告知他人。",
				a);
	case 1:
		return snprintf(out, cap, "【京东物流】您的订单已由京东快递员签收，签收人：本人。");
	case 2:
		return snprintf(out, cap, "【蜜雪冰城】冬日暖饮第二杯半价，仅限本周，回T退订。");
	case 3:
		return snprintf(out, cap,
				"Your Zoom verification code is %06u. Valid for 10 minutes.", a);
	case 4:
		return snprintf(
		    out, cap,
		    "Southwest: Flight %04u to DEN now departs at 6:%02u PM from gate %u.",
		    a % 10000, b % 60, 1 + b % 40);
	case 5:
		return snprintf(
		    out, cap,
		    "Gap: 50%% off everything ends tonight! gap.com Reply STOP to opt out.");
	case 6:
		return snprintf(out, cap, "【玉山銀行】一次性交易密碼 %06u，有效時間5分鐘。", a);
	default:
		return snprintf(out, cap,
				"【統一超商】您的包裹已送達7-11信義門市，請於%u日內取件。",
				1 + b % 9);
	}
}
static const char *numbers[] = {"13812345678", "+8613012345678", "008613312345678", "8619212345678",
				"+14155550123"};

static const char *cfg_text =
    "router = { workers = 1; };\n"
    "channels = ( { name = \"fast\"; driver = \"sim\";\n"
    "  lanes = { verification = 1000000; notice = 1000000; marketing = 1000000; }; } );\n"
    "routes = ( { groups = ( [\"fast\"] ); } );\n";

static _Atomic uint64_t finals;

static void on_event(void *arg, const struct smsr_event *ev)
{
	atomic_store_explicit(&finals, atomic_load_explicit(&finals, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static double run_once(struct smsr_config *cfg, const struct smsr_msg *msgs, uint64_t n)
{
	struct smsr_router_opts o = {.on_event = on_event, .event_mask = SMSR_EV_FINAL};
	static struct smsr_result res[BATCH];
	struct smsr_router *r;
	uint64_t t0, sent = 0;

	atomic_store(&finals, 0);
	if (smsr_router_create(&r, cfg, &o) < 0 || smsr_router_start(r) < 0)
		exit(1);
	t0 = bench_now_ns();
	while (sent < n) {
		int got = smsr_router_submit_batch(r, msgs + (sent % 4096), BATCH, res);

		if (got < 0)
			exit(1);
		sent += (uint64_t)got; /* busy ones are simply not counted */
	}
	while (atomic_load_explicit(&finals, memory_order_relaxed) < sent)
		;
	t0 = bench_now_ns() - t0;
	smsr_router_destroy(r);
	return (double)sent / ((double)t0 / 1e9);
}

static double baseline(const struct smsr_msg *msgs, uint64_t n)
{
	uint64_t t0 = bench_now_ns(), sum = 0;
	char e164[SMSR_E164_MAX + 1];

	for (uint64_t i = 0; i < n; i++) {
		const struct smsr_msg *m = &msgs[i % 4096];

		sum += (uint64_t)smsr_e164_normalize(m->recipient, e164);
		sum += smsr_classify(m->text, m->text_len);
	}
	t0 = bench_now_ns() - t0;
	if (sum == 42)
		puts("");
	return (double)n / ((double)t0 / 1e9);
}

/* The 4,096 (+ a batch) messages sent round and round; @unique: a word of
 * its own in every text. */
static void make_msgs(struct smsr_msg *msgs, char (*text)[128], bool unique)
{
	for (int i = 0; i < 4096 + BATCH; i++) {
		uint64_t r = (uint64_t)(i % 4096 + 1) * 0x9e3779b97f4a7c15ull;
		int len = text_of((unsigned)i % 8, r, text[i], sizeof(text[i]));

		if (unique)
			len += snprintf(text[i] + len, sizeof(text[i]) - (size_t)len, " %c%c%c",
					'a' + (int)(r % 26), 'a' + (int)(r / 26 % 26),
					'a' + (int)(r / 676 % 26));
		msgs[i] = (struct smsr_msg){
		    .recipient = numbers[i % 5], .text = text[i], .text_len = (size_t)len};
	}
}

int main(int argc, char **argv)
{
	static struct smsr_msg msgs[4096 + BATCH];
	static char text[4096 + BATCH][128];
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 3000000;
	struct smsr_config *cfg;
	double v[RUNS], u[RUNS], b[RUNS], med, base;
	char extra[128];

	smsr_config_create(&cfg);
	if (smsr_config_parse(cfg, cfg_text, NULL, 0) < 0)
		return 1;
	for (int i = 0; i < RUNS; i++) {
		make_msgs(msgs, text, false);
		v[i] = run_once(cfg, msgs, n);
		b[i] = baseline(msgs, n);
		make_msgs(msgs, text, true);
		u[i] = run_once(cfg, msgs, n);
	}
	med = bench_median(v, RUNS);
	base = bench_median(b, RUNS);
	snprintf(extra, sizeof(extra), ",\"baseline_normalize_classify\":%.6g,\"ratio\":%.3f", base,
		 med / base);
	bench_emit("route_path", "route_path_msgs_per_sec", med, "msg/s", RUNS, extra);
	med = bench_median(u, RUNS);
	snprintf(extra, sizeof(extra), ",\"baseline_normalize_classify\":%.6g,\"ratio\":%.3f", base,
		 med / base);
	bench_emit("route_path", "route_path_unique_texts_msgs_per_sec", med, "msg/s", RUNS, extra);
	smsr_config_destroy(cfg);
	return 0;
}
