/* SPDX-License-Identifier: MIT */
/*
 * smsr-demo: the router on its embedded default configuration, visibly at
 * work. Submits a mixed load (codes, notices, promotions in three
 * languages, to every carrier; the classifier decides the class), takes one
 * channel down for a while to show traffic moving to its backup, shows a
 * live progress line, and ends with a summary of final states per class,
 * latencies and per-channel counters. Built on the public API only.
 *
 * Usage: smsr-demo [seconds=20] [rate=1500]
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smsr/smsr.h"

#define HBUCKETS 64 /* log2 microsecond buckets */

struct hist {
	_Atomic uint64_t b[HBUCKETS];
	_Atomic uint64_t n;
};

struct demo {
	_Atomic uint64_t finals[SMSR_NCLASS + 1][3]; /* [class][delivered, failed, expired] */
	_Atomic uint64_t handoffs;
	struct hist handoff_us[SMSR_NCLASS + 1]; /* accepted -> hand-off */
	struct hist deliver_us;			 /* accepted -> delivered */
	_Atomic uint64_t fail_reason[64];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void hist_add(struct hist *h, uint64_t us)
{
	int b = 0;

	while (us > 1 && b < HBUCKETS - 1) {
		us >>= 1;
		b++;
	}
	atomic_fetch_add_explicit(&h->b[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->n, 1, memory_order_relaxed);
}

/* Upper bound of the bucket holding percentile @p, in µs. */
static double hist_pct(struct hist *h, double p)
{
	uint64_t n = atomic_load(&h->n), want = (uint64_t)(p / 100.0 * (double)n), seen = 0;

	for (int b = 0; b < HBUCKETS; b++) {
		seen += atomic_load(&h->b[b]);
		if (seen > want)
			return (double)(1ull << b);
	}
	return 0;
}

static void on_event(void *arg, const struct smsr_event *ev)
{
	struct demo *d = arg;
	uint64_t us = (ev->ts_ns - ev->accepted_ns) / 1000;

	switch (ev->type) {
	case SMSR_EV_HANDOFF:
		atomic_fetch_add_explicit(&d->handoffs, 1, memory_order_relaxed);
		hist_add(&d->handoff_us[ev->cls], us);
		break;
	case SMSR_EV_DELIVERED:
		atomic_fetch_add_explicit(&d->finals[ev->cls][0], 1, memory_order_relaxed);
		hist_add(&d->deliver_us, us);
		break;
	case SMSR_EV_FAILED:
		atomic_fetch_add_explicit(&d->finals[ev->cls][1], 1, memory_order_relaxed);
		if (-ev->reason - SMSR_EINVAL >= 0 && -ev->reason - SMSR_EINVAL < 64)
			atomic_fetch_add_explicit(&d->fail_reason[-ev->reason - SMSR_EINVAL], 1,
						  memory_order_relaxed);
		break;
	case SMSR_EV_EXPIRED:
		atomic_fetch_add_explicit(&d->finals[ev->cls][2], 1, memory_order_relaxed);
		break;
	}
}

static const char *templates[] = {
    "【淘宝网】验证码 %06u，您正在登录淘宝，切勿告知他人。",
    "【建设银行】您正在进行网银登录，短信动态码 %06u，请勿泄露。",
    "Your Zoom verification code is %06u. Valid for 10 minutes.",
    "【玉山銀行】一次性交易密碼 %06u，有效時間5分鐘。",
    "【中通快递】您的包裹已到达北京朝阳望京站，取件码 %04u，请及时领取。",
    "【浦发银行】您尾号%04u的信用卡消费人民币899.00元，可用额度21,300.00元。",
    "Southwest: Flight %u to DEN now departs at 6:10 PM from gate 12.",
    "【統一超商】您的包裹已送達7-11信義門市，訂單%u，請於7日內取件。",
    "Your Costco order #%u is ready for pickup at Warehouse 421.",
    "【天猫】年终好价节！满400减60，券码%u，点击 tb.cn/Zx2 抢，回TD退订。",
    "Gap: 50%% off everything ends tonight! Code GAP%u. Reply STOP to opt out.",
    "【燦坤】年終慶家電滿萬送千，詳情 tkec.tw/s%u，退訂請回覆TD。",
};

/* Mainland mobiles of every carrier; one number in twenty abroad. */
static const char *prefixes[] = {"138", "139", "150", "135", "188", "130",  "186",
				 "131", "133", "189", "180", "192", "137",  "158",
				 "132", "153", "136", "155", "177", "+1415"};

static void make_msg(struct smsr_msg *m, char *text, size_t tl, char *to, unsigned i)
{
	unsigned r = (unsigned)rand();
	unsigned k = r % 10 < 2 ? r % 4 : r % 10 < 7 ? 4 + r % 5 : 9 + r % 3;

	/* The templates are this file's own constants, each with one %u. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(text, tl, templates[k], (unsigned)rand() % 1000000);
#pragma GCC diagnostic pop
	snprintf(to, 24, "%s%08u", prefixes[i % 20], (unsigned)rand() % 100000000);
	*m = (struct smsr_msg){.recipient = to, .text = text, .text_len = strlen(text)};
}

static const char *state_name(int s)
{
	static const char *const names[] = {"up",	"DOWN",	   "paused",
					    "draining", "removed", "degraded"};

	return s >= 0 && s < 6 ? names[s] : "?";
}

static void progress(struct smsr_router *r, struct demo *d, double t, bool tty)
{
	struct smsr_channel_info ci[32];
	struct smsr_stats st;
	int n = smsr_router_channels(r, ci, 32);
	char chans[512] = "";
	size_t off = 0;

	smsr_router_stats(r, &st);
	for (int i = 0; i < n && i < 32; i++)
		off += (size_t)snprintf(chans + off, sizeof(chans) - off, " %s:%s", ci[i].name,
					state_name(ci[i].state));
	printf("%st=%5.1fs accepted %7llu rejected %4llu queued %6llu in-flight %6llu "
	       "delivered %7llu failed %5llu expired %3llu |%s%s",
	       tty ? "\r\033[K" : "", t, (unsigned long long)st.accepted,
	       (unsigned long long)st.rejected, (unsigned long long)st.queued_now,
	       (unsigned long long)st.inflight_now, (unsigned long long)st.delivered,
	       (unsigned long long)st.failed, (unsigned long long)st.expired, chans,
	       tty ? "" : "\n");
	fflush(stdout);
}

static void summary(struct smsr_router *r, struct demo *d, uint64_t accepted)
{
	struct smsr_channel_info ci[32];
	int n = smsr_router_channels(r, ci, 32);
	uint64_t total = 0;

	printf("\n\n%-13s %9s %9s %8s %8s %14s %14s\n", "class", "accepted", "delivered", "failed",
	       "expired", "handoff p50<=", "handoff p99<=");
	for (int c = 1; c <= SMSR_NCLASS; c++) {
		struct smsr_stats st;
		uint64_t f0 = atomic_load(&d->finals[c][0]), f1 = atomic_load(&d->finals[c][1]),
			 f2 = atomic_load(&d->finals[c][2]);

		smsr_router_stats(r, &st);
		total += f0 + f1 + f2;
		printf("%-13s %9llu %9llu %8llu %8llu %11.0f us %11.0f us\n",
		       smsr_class_name((enum smsr_class)c), (unsigned long long)st.by_class[c - 1],
		       (unsigned long long)f0, (unsigned long long)f1, (unsigned long long)f2,
		       hist_pct(&d->handoff_us[c], 50), hist_pct(&d->handoff_us[c], 99));
	}
	printf(
	    "\ndelivery report latency (accepted -> delivered): p50 <= %.0f ms, p99 <= %.0f ms\n",
	    hist_pct(&d->deliver_us, 50) / 1000, hist_pct(&d->deliver_us, 99) / 1000);
	printf("failure reasons:");
	for (int i = 0; i < 64; i++)
		if (atomic_load(&d->fail_reason[i]))
			printf(" %s=%llu", smsr_errname(-(SMSR_EINVAL + i)),
			       (unsigned long long)atomic_load(&d->fail_reason[i]));
	printf("\n\n%-8s %6s %6s %9s %9s %8s %8s %7s\n", "channel", "state", "tps", "submitted",
	       "delivered", "failed", "expired", "price");
	for (int i = 0; i < n && i < 32; i++)
		printf("%-8s %6s %6u %9llu %9llu %8llu %8llu %7.3f\n", ci[i].name,
		       state_name(ci[i].state), ci[i].tps, (unsigned long long)ci[i].submitted,
		       (unsigned long long)ci[i].delivered, (unsigned long long)ci[i].failed,
		       (unsigned long long)ci[i].expired, ci[i].price);
	printf("\nevery accepted message reached exactly one final state: %s (%llu of %llu)\n",
	       total == accepted ? "yes" : "NO", (unsigned long long)total,
	       (unsigned long long)accepted);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 20;
	double rate = argc > 2 ? atof(argv[2]) : 1500;
	static struct demo d;
	struct smsr_router_opts o = {.on_event = on_event,
				     .arg = &d,
				     .event_mask = SMSR_EV_FINAL | SMSR_EV_MASK(SMSR_EV_HANDOFF)};
	struct smsr_router *r;
	struct smsr_stats st;
	bool tty = isatty(1), fault_on = false, fault_done = false;
	uint64_t t0, sent = 0, next_print = 0;
	int victim, ret;

	if (secs <= 0 || secs > 3600 || rate <= 0 || rate > 1e6) {
		fprintf(stderr, "usage: smsr-demo [seconds 1..3600] [rate 1..1000000]\n");
		return 2;
	}
	ret = smsr_router_create(&r, NULL, &o);
	if (ret == 0)
		ret = smsr_router_start(r);
	if (ret < 0) {
		fprintf(stderr, "smsr-demo: %s (%s)\n", smsr_strerror(ret), smsr_errname(ret));
		return 1;
	}
	victim = smsr_router_channel_find(r, "cmcc-a");
	printf("smsr-demo: embedded default configuration, %.0f s at %.0f msg/s "
	       "(20%% codes, 50%% notices, 30%% promotions)\n",
	       secs, rate);
	srand(42);
	t0 = now_ns();
	for (;;) {
		double t = (double)(now_ns() - t0) / 1e9;
		uint64_t due = (uint64_t)(t * rate);

		if (t >= secs)
			break;
		while (sent < due) {
			struct smsr_msg m;
			char text[256], to[24];

			make_msg(&m, text, sizeof(text), to, (unsigned)sent);
			smsr_router_submit(r, &m, NULL);
			sent++;
		}
		if (victim >= 0 && !fault_on && !fault_done && t >= secs / 3) {
			printf("%s>>> injecting a fault: cmcc-a goes down; its traffic moves to "
			       "cmcc-b\n",
			       tty ? "\n" : "");
			smsr_router_channel_ctl(r, victim, "fault", "down");
			fault_on = true;
		}
		if (fault_on && t >= secs * 2 / 3) {
			printf("%s>>> cmcc-a recovers\n", tty ? "\n" : "");
			smsr_router_channel_ctl(r, victim, "fault", "none");
			fault_on = false;
			fault_done = true;
		}
		if (now_ns() >= next_print) {
			progress(r, &d, t, tty);
			next_print = now_ns() + (tty ? 200000000ull : 1000000000ull);
		}
		usleep(1000);
	}
	/* Let queues drain and delivery reports arrive (at most 30 s), then stop:
	 * whatever is still pending ends as failed / router_stopped. */
	for (int i = 0; i < 300; i++) {
		smsr_router_stats(r, &st);
		if (st.queued_now + st.inflight_now == 0)
			break;
		if (i % 10 == 0)
			progress(r, &d, (double)(now_ns() - t0) / 1e9, tty);
		usleep(100000);
	}
	smsr_router_stop(r);
	progress(r, &d, (double)(now_ns() - t0) / 1e9, tty);
	smsr_router_stats(r, &st);
	summary(r, &d, st.accepted);
	smsr_router_destroy(r);
	return 0;
}
