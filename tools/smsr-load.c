/* SPDX-License-Identifier: MIT */
/*
 * smsr-load: a load generator for smsrd over the wire protocol.
 *
 * Each connection is a thread with its own client, keeping up to --depth
 * submit calls of --batch messages in flight, paced to its share of --rate.
 * Texts are realistic codes, notices and promotions in simplified and
 * traditional Chinese and English, sent as CLASS_AUTO: the daemon classifies
 * them, and the summary says how often it agreed with the generator's
 * intent. With --follow a separate connection subscribes to final events
 * first, and the run waits (bounded) for every accepted message's final
 * state. A progress bar on a terminal, plain lines otherwise; a summary at
 * the end (--json: one JSON line).
 *
 * Usage: smsr-load [-a ADDR] [-t TOKEN] [--rate N] [--duration S | --count N]
 *                  [--mix V:N:M] [--connections C] [--depth D] [--batch B]
 *                  [--follow] [--json]
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smsr/client.h"

struct opts {
	const char *addr, *token;
	double rate, duration;
	uint64_t count;
	unsigned mix[3], conns, depth, batch;
	int follow, json;
};

/* Counters shared by the threads. */
struct totals {
	_Atomic uint64_t sent, accepted, rejected, calls, call_errors;
	_Atomic uint64_t by_reason[128]; /* code - 1000 */
	_Atomic uint64_t agree, classified;
	_Atomic uint64_t finals[4][3]; /* [class][delivered, failed, expired] */
	_Atomic uint64_t final_total;
	_Atomic int stop;
};

struct lat {
	uint32_t *us;
	size_t n, cap;
};

struct worker {
	pthread_t t;
	const struct opts *o;
	struct totals *tot;
	unsigned index;
	uint64_t quota; /* messages to send (--count), 0: until stopped */
	struct lat call_us;
	int rc;
};

static struct opts O = {
    .rate = 2000, .duration = 10, .mix = {20, 50, 30}, .conns = 1, .depth = 8, .batch = 50};
static struct totals T;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void lat_add(struct lat *l, uint64_t us)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		uint32_t *p = realloc(l->us, cap * sizeof(*p));

		if (!p)
			return;
		l->us = p;
		l->cap = cap;
	}
	l->us[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const struct lat *l, double p)
{
	return l->n ? l->us[(size_t)(p / 100.0 * (double)(l->n - 1))] : 0;
}

/* --- messages ---------------------------------------------------------- */
struct tmpl {
	int cls;	 /* what the generator means: 1 verification, 2 notice, 3 marketing */
	const char *fmt; /* one %u */
};

static const struct tmpl tmpls[] = {
    {1, "【淘宝网】验证码 %06u，您正在登录淘宝，切勿告知他人。"},
    {1, "【招商银行】您正在绑定新设备，验证码%06u，5分钟内有效，请勿泄露。"},
    {1, "Your Microsoft account security code is %06u."},
    {1, "[Uber] Your code is %04u. Never share this code."},
    {1, "【國泰世華】您的交易驗證碼為%06u，請於3分鐘內輸入。"},
    {1, "G-%06u is your Google verification code."},
    {2, "【顺丰速运】您的快件SF%u已到达望京营业点，预计今日送达。"},
    {2, "【国家电网】您户号%u的电费账单已出，本期应缴128.40元。"},
    {2, "Your Amazon order %u has shipped and arrives Thursday."},
    {2, "【中華電信】您的帳單%u已出帳，應繳金額NT$599，請於25日前繳納。"},
    {2, "Reminder: your dental appointment ref %u is tomorrow at 9:30 AM."},
    {2, "【菜鸟驿站】取件码%u，请到小区东门驿站领取，回TD退订。"},
    {3, "【京东】双11狂欢，家电满3000减%u，速抢 3.cn/x，回TD退订"},
    {3, "H&M: %u%% off new arrivals this weekend only! Reply STOP to opt out."},
    {3, "【屈臣氏】會員日全館8折，再送%u點，立即選購 watsons.tw，回覆TD退訂"},
    {3, "Domino's: 2 large pizzas for $%u with code 2FOR. Order now!"},
    {3, "【瑞幸咖啡】新品生椰拿铁上市，首杯%u元，快来尝鲜！回T退订"},
    {3, "Upgrade to Spotify Premium: 3 months free, then $%u/mo. Tap to claim."},
};

static const char *prefixes[] = {"138", "139", "150", "188", "130", "186",  "133",
				 "189", "180", "192", "137", "158", "+1415"};

static unsigned pick_class(uint64_t *seed)
{
	unsigned r;

	*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
	r = (unsigned)(*seed >> 33) % 100;
	return r < O.mix[0] ? 1 : r < O.mix[0] + O.mix[1] ? 2 : 3;
}

static void make_msg(Smsr__V1__Message *m, char *text, char *to, uint64_t *seed)
{
	unsigned cls = pick_class(seed), k, n = 0;

	for (k = 0; k < sizeof(tmpls) / sizeof(tmpls[0]); k++)
		n += tmpls[k].cls == (int)cls;
	*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
	n = (unsigned)(*seed >> 33) % n;
	for (k = 0; tmpls[k].cls != (int)cls || n--; k++)
		;
		/* The templates are this file's own constants, each with one %u. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(text, 256, tmpls[k].fmt, (unsigned)(*seed >> 20) % 1000000);
#pragma GCC diagnostic pop
	snprintf(to, 24, "%s%08u", prefixes[(*seed >> 40) % (sizeof(prefixes) / sizeof(*prefixes))],
		 (unsigned)(*seed >> 8) % 100000000);
	if (to[0] == '+')
		to[12] = '\0'; /* +1415 and 7 digits */
	smsr__v1__message__init(m);
	m->recipient = to;
	m->text = text;
	m->tags = (char *)(uintptr_t)(cls == 1	 ? "want=verification"
				      : cls == 2 ? "want=notice"
						 : "want=marketing");
}

/* --- a submitting connection ---------------------------------------------- */
struct call {
	uint64_t id, t0;
	unsigned n;
	char *text, *to;
	Smsr__V1__Message *m;
	Smsr__V1__Message **mp;
};

static void count_result(const Smsr__V1__SubmitResponse *sr, const struct call *cl)
{
	atomic_fetch_add(&T.accepted, sr->accepted);
	for (size_t i = 0; i < sr->n_results && i < cl->n; i++) {
		const Smsr__V1__SubmitResult *r = sr->results[i];

		if (r->status) {
			atomic_fetch_add(&T.rejected, 1);
			if (r->status >= 1000 && r->status < 1128)
				atomic_fetch_add(&T.by_reason[r->status - 1000], 1);
			continue;
		}
		const char *want = cl->m[i].tags + 5;
		int w = want[0] == 'v' ? 1 : want[0] == 'n' ? 2 : 3;

		atomic_fetch_add(&T.classified, 1);
		if ((int)r->cls == w)
			atomic_fetch_add(&T.agree, 1);
	}
}

static void *run_conn(void *arg)
{
	struct worker *w = arg;
	struct smsr_client_opts co = {.token = O.token};
	struct smsr_client *c;
	struct call *calls = calloc(O.depth, sizeof(*calls));
	uint64_t seed = 0x9e3779b97f4a7c15ull * (w->index + 1), sent = 0, start = now_ns();
	double per_ns = O.rate > 0 ? O.rate / O.conns / 1e9 : 0;
	unsigned inflight = 0;

	if ((w->rc = smsr_client_connect(&c, O.addr, &co)) < 0) {
		fprintf(stderr, "smsr-load: connect %s: %s\n", O.addr ? O.addr : "default",
			smsr_errname(w->rc));
		atomic_store(&T.stop, 1);
		free(calls);
		return NULL;
	}
	for (unsigned i = 0; i < O.depth; i++) {
		calls[i].m = calloc(O.batch, sizeof(*calls[i].m));
		calls[i].mp = calloc(O.batch, sizeof(*calls[i].mp));
		calls[i].text = malloc((size_t)O.batch * 256);
		calls[i].to = malloc((size_t)O.batch * 24);
	}
	for (;;) {
		bool more = !atomic_load(&T.stop) && (!w->quota || sent < w->quota);

		/* Fill the pipeline, within the pace. */
		while (more && inflight < O.depth) {
			struct call *cl = NULL;
			Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
			Smsr__V1__SubmitRequest sr = SMSR__V1__SUBMIT_REQUEST__INIT;
			unsigned n = O.batch;

			if (per_ns > 0 && (double)sent > (double)(now_ns() - start) * per_ns)
				break;
			if (w->quota && w->quota - sent < n)
				n = (unsigned)(w->quota - sent);
			for (unsigned i = 0; i < O.depth; i++)
				if (!calls[i].id)
					cl = &calls[i];
			for (unsigned i = 0; i < n; i++) {
				make_msg(&cl->m[i], cl->text + i * 256, cl->to + i * 24, &seed);
				cl->mp[i] = &cl->m[i];
			}
			sr.n_messages = n;
			sr.messages = cl->mp;
			req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
			req.submit = &sr;
			cl->n = n;
			cl->t0 = now_ns();
			if (smsr_client_send(c, &req, &cl->id) < 0)
				goto out;
			inflight++;
			sent += n;
			atomic_fetch_add(&T.sent, n);
			atomic_fetch_add(&T.calls, 1);
		}
		if (!inflight && !more)
			break;
		if (smsr_client_flush(c) < 0)
			goto out;
		/* Take the answers that are there (wait a little when paced). */
		for (int first = 1;; first = 0) {
			Smsr__V1__Response *r;
			int rc = smsr_client_recv(c, &r,
						  first && inflight ? (per_ns > 0 ? 1 : 1000) : 0);

			if (rc == -SMSR_ETIMEOUT)
				break;
			if (rc < 0)
				goto out;
			for (unsigned i = 0; i < O.depth; i++) {
				struct call *cl = &calls[i];

				if (!cl->id || cl->id != r->call_id)
					continue;
				lat_add(&w->call_us, (now_ns() - cl->t0) / 1000);
				if (r->error)
					atomic_fetch_add(&T.call_errors, 1);
				else if (r->body_case == SMSR__V1__RESPONSE__BODY_SUBMIT)
					count_result(r->submit, cl);
				cl->id = 0;
				inflight--;
			}
			smsr_client_free(r);
		}
	}
out:
	smsr_client_close(c);
	for (unsigned i = 0; i < O.depth; i++) {
		free(calls[i].m);
		free(calls[i].mp);
		free(calls[i].text);
		free(calls[i].to);
	}
	free(calls);
	return NULL;
}

/* --- following the messages to their final states ------------------------ */
struct follower {
	pthread_t t;
	struct smsr_client *c;
	struct lat e2e_us; /* accepted -> final */
	_Atomic int ready;
	_Atomic int done;
};

static void *run_follow(void *arg)
{
	struct follower *f = arg;

	while (!atomic_load(&f->done)) {
		Smsr__V1__Response *r;
		int rc = smsr_client_recv(f->c, &r, 100);

		if (rc == -SMSR_ETIMEOUT)
			continue;
		if (rc < 0)
			break;
		if (r->body_case == SMSR__V1__RESPONSE__BODY_EVENT) {
			const Smsr__V1__Event *e = r->event;
			int k = e->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED ? 0
				: e->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED  ? 1
				: e->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED ? 2
										      : -1;

			if (k >= 0 && e->cls >= 1 && e->cls <= 3) {
				atomic_fetch_add(&T.finals[e->cls][k], 1);
				atomic_fetch_add(&T.final_total, 1);
				if (e->time_unix_ns > e->accepted_unix_ns)
					lat_add(&f->e2e_us,
						(e->time_unix_ns - e->accepted_unix_ns) / 1000);
			}
		}
		smsr_client_free(r);
	}
	return NULL;
}

static int follow_start(struct follower *f)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubscribeRequest sub = SMSR__V1__SUBSCRIBE_REQUEST__INIT;
	Smsr__V1__EventType types[] = {SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED,
				       SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED,
				       SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED};
	struct smsr_client_opts co = {.token = O.token};
	Smsr__V1__Response *r;
	int rc;

	if ((rc = smsr_client_connect(&f->c, O.addr, &co)) < 0)
		return rc;
	sub.n_types = 3;
	sub.types = types;
	sub.queue_limit = 262144;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	if ((rc = smsr_client_call(f->c, &req, &r, 5000)) < 0)
		return rc;
	rc = smsr_client_error(r);
	smsr_client_free(r);
	if (rc < 0)
		return rc;
	return pthread_create(&f->t, NULL, run_follow, f) ? -SMSR_ENOMEM : 0;
}

/* --- progress and summary ------------------------------------------------ */
static void progress(double frac, double elapsed, int tty)
{
	uint64_t sent = atomic_load(&T.sent), acc = atomic_load(&T.accepted);
	char bar[41];
	int fill = (int)(frac * 40);

	if (fill > 40)
		fill = 40;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(40 - fill));
	bar[40] = '\0';
	fprintf(stderr,
		"%s[%s] %3.0f%% %8.0f msg/s  sent %" PRIu64 "  accepted %" PRIu64 "  final %" PRIu64
		"%s",
		tty ? "\r" : "", bar, frac * 100, elapsed > 0 ? (double)sent / elapsed : 0, sent,
		acc, atomic_load(&T.final_total), tty ? "   " : "\n");
}

static const char *cls_names[] = {"", "verification", "notice", "marketing"};

static void summary(struct lat *calls, struct lat *e2e, double secs)
{
	uint64_t sent = atomic_load(&T.sent), acc = atomic_load(&T.accepted);
	double agree = T.classified ? 100.0 * (double)T.agree / (double)T.classified : 0;

	qsort(calls->us, calls->n, sizeof(uint32_t), cmp_u32);
	qsort(e2e->us, e2e->n, sizeof(uint32_t), cmp_u32);
	if (O.json) {
		printf("{\"sent\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"rejected\":%" PRIu64
		       ",\"seconds\":%.3f,\"msgs_per_sec\":%.0f,\"calls\":%" PRIu64
		       ",\"call_p50_us\":%.0f,\"call_p90_us\":%.0f,\"call_p99_us\":%.0f,"
		       "\"call_max_us\":%.0f,\"class_agreement_pct\":%.2f,\"final\":%" PRIu64 "}\n",
		       sent, acc, (uint64_t)T.rejected, secs, (double)sent / secs,
		       (uint64_t)T.calls, pct(calls, 50), pct(calls, 90), pct(calls, 99),
		       pct(calls, 100), agree, (uint64_t)T.final_total);
		return;
	}
	printf("\n== smsr-load summary\n");
	printf("sent %" PRIu64 " in %.1f s: %.0f msg/s, %" PRIu64 " calls (batch %u, depth %u, "
	       "%u connection%s)\n",
	       sent, secs, (double)sent / secs, (uint64_t)T.calls, O.batch, O.depth, O.conns,
	       O.conns == 1 ? "" : "s");
	printf("accepted %" PRIu64 ", rejected %" PRIu64 ", failed calls %" PRIu64 "\n", acc,
	       (uint64_t)T.rejected, (uint64_t)T.call_errors);
	for (int i = 0; i < 128; i++)
		if (T.by_reason[i])
			printf("  rejected %-18s %" PRIu64 "\n", smsr_errname(-(1000 + i)),
			       (uint64_t)T.by_reason[i]);
	printf("call latency us: p50 %.0f  p90 %.0f  p99 %.0f  max %.0f\n", pct(calls, 50),
	       pct(calls, 90), pct(calls, 99), pct(calls, 100));
	printf("classifier agreed with the generator's intent on %.2f%% of accepted messages\n",
	       agree);
	if (!O.follow)
		return;
	printf("final states (%" PRIu64 " of %" PRIu64 " accepted):\n", (uint64_t)T.final_total,
	       acc);
	printf("  %-13s %10s %10s %10s\n", "class", "delivered", "failed", "expired");
	for (int k = 1; k <= 3; k++)
		printf("  %-13s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n", cls_names[k],
		       (uint64_t)T.finals[k][0], (uint64_t)T.finals[k][1],
		       (uint64_t)T.finals[k][2]);
	printf("accepted -> final us: p50 %.0f  p90 %.0f  p99 %.0f\n", pct(e2e, 50), pct(e2e, 90),
	       pct(e2e, 99));
	printf("every accepted message reached a final state: %s\n",
	       T.final_total == acc ? "yes" : "NO");
}

static int usage(void)
{
	fprintf(stderr, "usage: smsr-load [-a ADDR] [-t TOKEN] [--rate N (0: max)] [--duration S"
			" | --count N]\n"
			"                 [--mix V:N:M] [--connections C] [--depth D] [--batch B]"
			" [--follow] [--json]\n");
	return 2;
}

static int parse(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--follow"))
			O.follow = 1;
		else if (!strcmp(a, "--json"))
			O.json = 1;
		else if (!v)
			return -1;
		else if (i++, !strcmp(a, "-a"))
			O.addr = v;
		else if (!strcmp(a, "-t"))
			O.token = v;
		else if (!strcmp(a, "--rate"))
			O.rate = atof(v);
		else if (!strcmp(a, "--duration"))
			O.duration = atof(v);
		else if (!strcmp(a, "--count"))
			O.count = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--connections"))
			O.conns = (unsigned)atoi(v);
		else if (!strcmp(a, "--depth"))
			O.depth = (unsigned)atoi(v);
		else if (!strcmp(a, "--batch"))
			O.batch = (unsigned)atoi(v);
		else if (!strcmp(a, "--mix")) {
			if (sscanf(v, "%u:%u:%u", &O.mix[0], &O.mix[1], &O.mix[2]) != 3 ||
			    O.mix[0] + O.mix[1] + O.mix[2] != 100)
				return -1;
		} else
			return -1;
	}
	if (O.conns < 1 || O.conns > 256 || O.depth < 1 || O.depth > 4096 || O.batch < 1 ||
	    O.batch > 100000 || O.duration <= 0 || O.duration > 3600 || O.rate < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct worker *w;
	struct follower f = {0};
	struct lat all = {0};
	int tty = isatty(2), rc = 0;
	uint64_t t0, t_end;
	double secs;

	if (parse(argc, argv))
		return usage();
	if (O.follow && (rc = follow_start(&f)) < 0) {
		fprintf(stderr, "smsr-load: subscribe: %s\n", smsr_errname(rc));
		return 1;
	}
	w = calloc(O.conns, sizeof(*w));
	t0 = now_ns();
	t_end = t0 + (uint64_t)(O.duration * 1e9);
	for (unsigned i = 0; i < O.conns; i++) {
		w[i] = (struct worker){.o = &O, .tot = &T, .index = i};
		if (O.count)
			w[i].quota = O.count / O.conns + (i < O.count % O.conns);
		pthread_create(&w[i].t, NULL, run_conn, &w[i]);
	}
	/* Bounded always: by --duration, and by --count within 10x that. */
	for (uint64_t t = now_ns(); !atomic_load(&T.stop); t = now_ns()) {
		double el = (double)(t - t0) / 1e9;
		double frac = O.count ? (double)T.sent / (double)O.count : el / O.duration;

		if ((!O.count && t >= t_end) || (O.count && T.sent >= O.count && !T.calls) ||
		    t >= t0 + (uint64_t)(O.duration * 10e9))
			break;
		if (O.count && T.sent >= O.count)
			break;
		if (!O.json)
			progress(frac, el, tty);
		usleep(tty ? 200000 : 1000000);
	}
	atomic_store(&T.stop, 1);
	for (unsigned i = 0; i < O.conns; i++) {
		pthread_join(w[i].t, NULL);
		for (size_t k = 0; k < w[i].call_us.n; k++)
			lat_add(&all, w[i].call_us.us[k]);
		free(w[i].call_us.us);
		rc |= w[i].rc < 0;
	}
	secs = (double)(now_ns() - t0) / 1e9;
	if (O.follow) {
		/* Wait for the stragglers, at most 60 s. */
		uint64_t until = now_ns() + 60000000000ull;

		while (T.final_total < T.accepted && now_ns() < until) {
			if (!O.json)
				progress(1.0, secs, tty);
			usleep(tty ? 200000 : 1000000);
		}
		atomic_store(&f.done, 1);
		pthread_join(f.t, NULL);
		smsr_client_close(f.c);
	}
	if (!O.json && tty)
		fputc('\n', stderr);
	summary(&all, &f.e2e_us, secs);
	free(all.us);
	free(f.e2e_us.us);
	free(w);
	return rc || (O.follow && T.final_total != T.accepted) ? 1 : 0;
}
