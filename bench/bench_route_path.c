/* SPDX-License-Identifier: MIT */
/*
 * route_path_msgs_per_sec: the in-process path submit -> validate ->
 * classify -> route -> lane -> simulated channel (unlimited rate, instant
 * answers and reports) -> final event, with one worker thread. The host
 * thread submits batches of 256 typical messages (three languages, three
 * classes, auto-classified); the clock stops when the last final event has
 * arrived. Median of runs; baseline: the same messages through validation
 * and classification alone (no router), in the same process.
 */
#include <stdatomic.h>
#include <string.h>

#include "bench_util.h"
#include "smsr/smsr.h"

#define RUNS  5
#define BATCH 256

static const char *texts[] = {
    "【淘宝网】验证码 528104，您正在登录淘宝，切勿告知他人。",
    "【京东物流】您的订单已由京东快递员签收，签收人：本人。",
    "【蜜雪冰城】冬日暖饮第二杯半价，仅限本周，回T退订。",
    "Your Zoom verification code is 771203. Valid for 10 minutes.",
    "Southwest: Flight 2231 to DEN now departs at 6:10 PM from gate 12.",
    "Gap: 50% off everything ends tonight! gap.com Reply STOP to opt out.",
    "【玉山銀行】一次性交易密碼 940117，有效時間5分鐘。",
    "【統一超商】您的包裹已送達7-11信義門市，請於7日內取件。",
};
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

int main(int argc, char **argv)
{
	static struct smsr_msg msgs[4096 + BATCH];
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 3000000;
	struct smsr_config *cfg;
	double v[RUNS], b[RUNS], med, base;
	char extra[128];

	for (int i = 0; i < 4096 + BATCH; i++) {
		const char *t = texts[i % 8];

		msgs[i] = (struct smsr_msg){
		    .recipient = numbers[i % 5], .text = t, .text_len = strlen(t)};
	}
	smsr_config_create(&cfg);
	if (smsr_config_parse(cfg, cfg_text, NULL, 0) < 0)
		return 1;
	for (int i = 0; i < RUNS; i++) {
		v[i] = run_once(cfg, msgs, n);
		b[i] = baseline(msgs, n);
	}
	med = bench_median(v, RUNS);
	base = bench_median(b, RUNS);
	snprintf(extra, sizeof(extra), ",\"baseline_normalize_classify\":%.6g,\"ratio\":%.3f", base,
		 med / base);
	bench_emit("route_path", "route_path_msgs_per_sec", med, "msg/s", RUNS, extra);
	smsr_config_destroy(cfg);
	return 0;
}
