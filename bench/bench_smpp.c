/* SPDX-License-Identifier: MIT */
/*
 * SMPP end to end: smsrd → one "smpp" channel (4 transceiver binds, window
 * 256 each, the channel's router window 1024 = 4 x 256, tps unlimited) →
 * a sink SMSC in this process, on loopback, that answers at once.
 *
 *   smpp_msgs_per_sec             with receipts: N messages fed as
 *                                 bench_ingest feeds them (one connection,
 *                                 batches of 500, 8 calls in flight); the
 *                                 clock runs from the first request to the
 *                                 moment smsrd counts all N delivered
 *                                 (ChannelInfo.delivered), i.e. their
 *                                 final state known
 *   smpp_cpu_s_per_1k_msgs        smsrd's utime + stime (/proc/PID/stat)
 *                                 over that window, per 1,000 messages; the
 *                                 sink's own thread's CPU rides along
 *   smpp_no_receipts_msgs_per_sec the same channel asking no receipts
 *   smpp_no_receipts_cpu_s_per_1k_msgs  (registered_delivery 0): done when
 *                                 all N are answered (ChannelInfo.accepted)
 *   smpp_failover_switch_us       two channels, a then b, one sink each, a
 *                                 steady load; sink a closes every
 *                                 connection and refuses new ones: from
 *                                 a's CHANNEL event (down, link_down) seen
 *                                 by a subscription to the first submit_sm
 *                                 sink b reads after it (both wall clock,
 *                                 one machine); with every accepted message
 *                                 counted to one final event (lost 0).
 *                                 a is not backlogged (20 K msg/s offered
 *                                 in calls of 10 every 500 us, the drop
 *                                 half way between two), so most of it is
 *                                 the wait for the next message: the line
 *                                 also gives handoff_us (the event to b's
 *                                 first HANDOFF event) and
 *                                 handoff_after_accept_us (that hand-off
 *                                 less the later of the down event and
 *                                 its message's acceptance: the router's
 *                                 own share)
 *
 * The sink (smpp_sink.c) is one thread in this process with epoll over its
 * connections, on the driver's own codec (chan/smpp_pdu.h): what one
 * recv() brought is answered whole — submit_sm_resp and, when the submit
 * asks for one, a deliver_sm receipt right behind it — with one send().
 * Its thread's CPU is read from /proc/self/task/TID/stat.
 *
 * Every run starts a fresh smsrd (the configuration of the variant, status
 * store as by default; lanes and memory budget wide enough that all N are
 * accepted), waits for the binds, measures, stops it. Variants alternate,
 * RUNS each; medians with min and max. Every run gives up after 60 s.
 * Options: -v (per-run lines, smsrd's threads' CPU, on stderr), --runs N,
 * --msgs N, --no-failover.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "bench_util.h"
#include "smpp_sink.h"

#define RUNS	    5
#define MSGS	    500000u
#define BATCH	    500
#define DEPTH	    8
#define LIMIT_NS    60000000000ull /* a run gives up after this */
#define POLL_US	    2000	   /* smsrd's counters read this often */
#define FO_RATE	    20000	   /* failover: msg/s offered, FO_CALL every 500 us */
#define FO_CALL	    10
#define FO_LOAD_MS  1500
#define FO_DROP_MS  600
#define FO_DRAIN_MS 15000
#define FO_MAX_MSGS (FO_RATE * FO_LOAD_MS / 1000 + 1000)

static bool verbose;

/* --- CPU time ----------------------------------------------------------------- */

/* utime + stime of /proc/@path (a stat file), seconds; -1 if unreadable. */
static double stat_cpu_s(const char *path)
{
	char buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double pid_cpu_s(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return stat_cpu_s(path);
}

static double sink_cpu_s(const struct sink *s)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", atomic_load(&s->tid));
	return stat_cpu_s(path);
}

/* -v: each of smsrd's threads' CPU seconds (tid = pid is its main thread). */
static void print_threads(pid_t pid)
{
	char path[300];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	fprintf(stderr, "  smsrd threads (cpu s):");
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, e->d_name);
			fprintf(stderr, " %s=%.2f", e->d_name, stat_cpu_s(path));
		}
	fprintf(stderr, "\n");
	closedir(d);
}

/* --- smsrd -------------------------------------------------------------------- */

static char dir[] = "/tmp/smsr-bench-smpp-XXXXXX";

struct chan_now {
	int64_t accepted, delivered, failed, expired;
	int state; /* Smsr__V1__ChannelState, -1 unknown */
};

/* Channel @name's counters now; 0 or -1. */
static int chan_get(struct smsr_client *c, const char *name, struct chan_now *out)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__ChannelListRequest cl = SMSR__V1__CHANNEL_LIST_REQUEST__INIT;
	Smsr__V1__Response *r;
	int ret = -1;

	req.body_case = SMSR__V1__REQUEST__BODY_CHANNEL_LIST;
	req.channel_list = &cl;
	if (smsr_client_call(c, &req, &r, 5000) < 0)
		return -1;
	for (size_t i = 0; r->body_case == SMSR__V1__RESPONSE__BODY_CHANNEL_LIST &&
			   i < r->channel_list->n_channels;
	     i++) {
		const Smsr__V1__ChannelInfo *ci = r->channel_list->channels[i];

		if (strcmp(ci->name, name) == 0) {
			*out = (struct chan_now){(int64_t)ci->accepted, (int64_t)ci->delivered,
						 (int64_t)ci->failed, (int64_t)ci->expired,
						 (int)ci->state};
			ret = 0;
		}
	}
	smsr_client_free(r);
	return ret;
}

/* Write @text as the config and start smsrd on it: its pid, or -1. */
static pid_t smsrd_with(const char *text, char addr[64])
{
	char cfg[128], ready[128];
	FILE *f;

	snprintf(cfg, sizeof(cfg), "%s/smsrd.conf", dir);
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	f = fopen(cfg, "w");
	if (!f)
		return -1;
	fputs(text, f);
	fclose(f);
	return bench_smsrd_start(cfg, ready, addr);
}

/* Wait (10 s at most) for @binds more binds on @s and channel @name up. */
static int wait_bound(struct smsr_client *c, struct sink *s, uint64_t base, unsigned binds,
		      const char *name)
{
	for (int i = 0; i < 1000; i++) {
		struct chan_now n;

		if (atomic_load(&s->binds) - base >= binds && chan_get(c, name, &n) == 0 &&
		    n.state == SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_UP) {
			usleep(50000); /* the binds' last answers on their way */
			return 0;
		}
		usleep(10000);
	}
	return -1;
}

/* --- throughput ----------------------------------------------------------------- */

struct frames {
	uint8_t *fr[DEPTH];
	size_t len[DEPTH];
};

/* DEPTH submit requests of BATCH templated texts, each its own numbers:
 * bench_ingest's load. */
static int frames_init(struct frames *f)
{
	bench_templated_frames(DEPTH, BATCH, f->fr, f->len);
	for (unsigned k = 0; k < DEPTH; k++)
		if (!f->fr[k])
			return -1;
	return 0;
}

static const char thru_cfg[] =
    "router = { memory_budget = \"1GB\"; };\n"
    "channels = ( { name = \"s\"; driver = \"smpp\"; window = 1024; tps = 0;\n"
    "  dlr_timeout = \"10m\";\n"
    "  lanes = { verification = 1000000; notice = 1000000; marketing = 1000000; };\n"
    "  params = { host = \"127.0.0.1\"; port = \"%u\"; system_id = \"bench\";\n"
    "    password = \"x\"; binds = \"4\"; window = \"256\"; source_addr = \"10690000\";\n"
    "%s  }; } );\n"
    "routes = ( { groups = ( [\"s\"] ); } );\n";
static const char no_receipts[] =
    "    registered_delivery_verification = \"0\"; registered_delivery_notice = \"0\";\n"
    "    registered_delivery_marketing = \"0\";\n";

struct thru {
	double rate, cpu_1k, sink_cpu_1k;
	uint64_t accepted;
};

/* Wait until @want of the run's messages are done; the time, or 0. */
static uint64_t wait_done(struct smsr_client *c, bool receipts, uint64_t want, uint64_t t0)
{
	while (bench_now_ns() - t0 < LIMIT_NS) {
		struct chan_now n;

		if (chan_get(c, "s", &n) < 0)
			return 0;
		if ((uint64_t)(receipts ? n.delivered : n.accepted) >= want)
			return bench_now_ns();
		usleep(POLL_US);
	}
	return 0;
}

/* One run: N messages through a fresh smsrd. 0, or -1 (a line on stderr). */
static int run_thru(struct sink *s, const struct frames *f, bool receipts, uint64_t msgs,
		    struct thru *out)
{
	char text[2048], addr[64];
	struct smsr_client *c = NULL;
	uint64_t t0, t1 = 0, acc = 0, base = atomic_load(&s->binds);
	double cpu0, sink0;
	int fd = -1;
	pid_t pid;

	snprintf(text, sizeof(text), thru_cfg, s->port, receipts ? "" : no_receipts);
	pid = smsrd_with(text, addr);
	if (pid < 0 || smsr_client_connect(&c, addr, NULL) < 0 ||
	    wait_bound(c, s, base, 4, "s") < 0 || (fd = bench_dial(addr)) < 0)
		goto out;
	cpu0 = pid_cpu_s(pid);
	sink0 = sink_cpu_s(s);
	t0 = bench_now_ns();
	if (bench_pipe_load(fd, f->fr, f->len, DEPTH, BATCH, msgs, LIMIT_NS, &acc) == 0 && acc)
		t1 = wait_done(c, receipts, acc, t0);
	if (t1) {
		*out = (struct thru){
		    .rate = (double)acc * 1e9 / (double)(t1 - t0),
		    .cpu_1k = (pid_cpu_s(pid) - cpu0) / (double)acc * 1000,
		    .sink_cpu_1k = (sink_cpu_s(s) - sink0) / (double)acc * 1000,
		    .accepted = acc,
		};
		if (verbose)
			print_threads(pid);
	}
out:
	if (fd >= 0)
		close(fd);
	smsr_client_close(c);
	bench_smsrd_stop(pid);
	if (!t1)
		fprintf(stderr, "bench_smpp: a %s run failed (smsrd %s, %llu accepted)\n",
			receipts ? "receipts" : "no-receipts", pid < 0 ? "did not start" : "ran",
			(unsigned long long)acc);
	return t1 ? 0 : -1;
}

static void emit_thru(const char *rate_metric, const char *cpu_metric, struct thru *t, int n,
		      double other_rate, const char *other_name)
{
	double rate[64], cpu[64], sink[64], rmed, cmed;
	char extra[1024], cpu_runs[512] = "";

	for (int i = 0; i < n; i++)
		rate[i] = t[i].rate, cpu[i] = t[i].cpu_1k, sink[i] = t[i].sink_cpu_1k;
	bench_append_array(cpu_runs, sizeof(cpu_runs), "runs_values", cpu, n);
	snprintf(extra, sizeof(extra), ",\"msgs\":%llu,\"binds\":4,\"window\":256",
		 (unsigned long long)t[0].accepted);
	bench_append_array(extra, sizeof(extra), "runs_values", rate, n);
	rmed = bench_median(rate, (size_t)n);
	cmed = bench_median(cpu, (size_t)n);
	snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
		 ",\"min\":%.6g,\"max\":%.6g,\"target\":200000,\"kannel_ref\":\"7.5-8.9K\"",
		 rate[0], rate[n - 1]);
	if (other_rate > 0)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 ",\"ratio_to_%s\":%.3f", other_name, rmed / other_rate);
	bench_emit("smpp", rate_metric, rmed, "msg/s", n, extra);
	snprintf(extra, sizeof(extra),
		 "%s,\"min\":%.4g,\"max\":%.4g,\"sink_cpu_s_per_1k_msgs\":%.4g,\"target\":0.015,"
		 "\"kannel_ref\":\"0.14-0.17\"",
		 cpu_runs, cpu[0], cpu[n - 1], bench_median(sink, (size_t)n));
	bench_emit("smpp", cpu_metric, cmed, "cpu_s/1k_msgs", n, extra);
}

/* --- failover -------------------------------------------------------------------- */

static const char fo_cfg[] =
    "router = { memory_budget = \"1GB\"; };\n"
    "channels = (\n"
    " { name = \"a\"; driver = \"smpp\"; window = 128; dlr_timeout = \"3s\"; submit_timeout = "
    "\"3s\";\n"
    "   params = { host = \"127.0.0.1\"; port = \"%u\"; system_id = \"bench\"; password = \"x\";\n"
    "     binds = \"2\"; window = \"64\"; source_addr = \"10690000\"; }; },\n"
    " { name = \"b\"; driver = \"smpp\"; window = 128; dlr_timeout = \"3s\"; submit_timeout = "
    "\"3s\";\n"
    "   params = { host = \"127.0.0.1\"; port = \"%u\"; system_id = \"bench\"; password = \"x\";\n"
    "     binds = \"2\"; window = \"64\"; source_addr = \"10690000\"; }; } );\n"
    "routes = ( { groups = ( [\"a\"], [\"b\"] ); } );\n";

struct fo_events {
	struct smsr_client *c;
	pthread_t thread;
	_Atomic bool stop;
	_Atomic uint64_t finals;
	uint64_t down_ns; /* a's first down event (wall clock), 0 none */
	uint64_t *ids;	  /* final events' message ids */
	size_t nids, cap;
	uint64_t b_handoff[REC_MAX];  /* hand-offs to b (wall clock) */
	uint64_t b_accepted[REC_MAX]; /* ... when their messages were accepted */
	size_t nb;
};

static void *fo_events_main(void *arg)
{
	struct fo_events *e = arg;

	while (!atomic_load(&e->stop)) {
		Smsr__V1__Response *r;
		const Smsr__V1__Event *ev;

		if (smsr_client_recv(e->c, &r, 100) < 0)
			continue;
		ev = r->body_case == SMSR__V1__RESPONSE__BODY_EVENT ? r->event : NULL;
		if (ev && ev->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_CHANNEL &&
		    !strcmp(ev->channel, "a") &&
		    ev->channel_state == SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_DOWN && !e->down_ns)
			e->down_ns = ev->time_unix_ns;
		else if (ev && ev->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_HANDOFF &&
			 !strcmp(ev->channel, "b") && e->nb < REC_MAX)
			e->b_accepted[e->nb] = ev->accepted_unix_ns,
			e->b_handoff[e->nb++] = ev->time_unix_ns;
		else if (ev && (ev->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED ||
				ev->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED ||
				ev->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED)) {
			if (e->nids < e->cap)
				e->ids[e->nids++] = ev->id;
			atomic_fetch_add(&e->finals, 1);
		}
		smsr_client_free(r);
	}
	return NULL;
}

static int fo_subscribe(struct fo_events *e, const char *addr)
{
	static Smsr__V1__EventType types[] = {
	    SMSR__V1__EVENT_TYPE__EVENT_TYPE_CHANNEL, SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED,
	    SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED, SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED,
	    SMSR__V1__EVENT_TYPE__EVENT_TYPE_HANDOFF};
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubscribeRequest sub = SMSR__V1__SUBSCRIBE_REQUEST__INIT;
	Smsr__V1__Response *r;
	int ret;

	sub.types = types;
	sub.n_types = 5;
	sub.queue_limit = 262144;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	if (smsr_client_connect(&e->c, addr, NULL) < 0 ||
	    smsr_client_call(e->c, &req, &r, 5000) < 0)
		return -1;
	ret = smsr_client_error(r);
	smsr_client_free(r);
	return ret < 0 || pthread_create(&e->thread, NULL, fo_events_main, e) ? -1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Accepted ids with no final event (*@lost) or more than one (*@dup). */
static void fo_count(uint64_t *acc, size_t nacc, uint64_t *fin, size_t nfin, unsigned *lost,
		     unsigned *dup)
{
	size_t j = 0;

	qsort(acc, nacc, sizeof(*acc), cmp_u64);
	qsort(fin, nfin, sizeof(*fin), cmp_u64);
	*lost = *dup = 0;
	for (size_t i = 0; i < nacc; i++) {
		unsigned k = 0;

		while (j < nfin && fin[j] < acc[i])
			j++;
		while (j < nfin && fin[j] == acc[i])
			j++, k++;
		*lost += k == 0;
		*dup += k > 1;
	}
}

struct fo_run {
	double switch_us, handoff_us, router_us;
	unsigned accepted, lost, dup;
};

static void fo_drop(struct sink *a, struct sink *b)
{
	atomic_store(&b->record, true);
	atomic_store(&a->down, true);
	sink_wake(a);
}

/*
 * Offer FO_RATE msg/s for FO_LOAD_MS, FO_CALL messages a call, the ids
 * accepted into @ids; sink @a drops its links after FO_DROP_MS, half way
 * between two calls.
 */
static unsigned fo_load(struct smsr_client *c, struct sink *a, struct sink *b, uint64_t *ids)
{
	static char text[FO_CALL][160], to[FO_CALL][16];
	struct smsr_msg m[FO_CALL];
	struct smsr_result res[FO_CALL];
	uint64_t t0 = bench_now_ns(), k = 0, gap = 1000000000ull * FO_CALL / FO_RATE;
	unsigned n = 0;
	bool dropped = false;

	while (bench_now_ns() - t0 < FO_LOAD_MS * 1000000ull && n + FO_CALL <= FO_MAX_MSGS) {
		uint64_t due, now;

		for (unsigned i = 0; i < FO_CALL; i++, k++) {
			snprintf(to[i], sizeof(to[i]), "1%u%08u", 38 + (unsigned)(k % 2),
				 10000000 + (unsigned)(k % 5000) * 7919);
			m[i] = (struct smsr_msg){.recipient = to[i], .text = text[i]};
			m[i].text_len =
			    (size_t)bench_text_of((unsigned)(k % 5), (unsigned)(k * 7919 % 1000000),
						  (unsigned)(k % 1000), text[i], sizeof(text[i]));
		}
		if (smsr_client_submit(c, m, FO_CALL, res, 5000) < 0)
			break;
		for (unsigned i = 0; i < FO_CALL; i++)
			if (res[i].status == 0)
				ids[n++] = res[i].id;
		due = t0 + k * 1000000000ull / FO_RATE;
		now = bench_now_ns();
		if (!dropped && now - t0 >= FO_DROP_MS * 1000000ull) {
			if (due > now + gap / 2)
				usleep((useconds_t)((due - gap / 2 - now) / 1000));
			fo_drop(a, b);
			dropped = true;
			now = bench_now_ns();
		}
		if (due > now)
			usleep((useconds_t)((due - now) / 1000));
	}
	return n;
}

static int run_failover(struct sink *a, struct sink *b, struct fo_run *out)
{
	static uint64_t ids[FO_MAX_MSGS], fin[4 * FO_MAX_MSGS];
	static struct fo_events e;
	char text[2048], addr[64];
	struct smsr_client *c = NULL;
	uint64_t ba = atomic_load(&a->binds), bb = atomic_load(&b->binds), t;
	unsigned n = 0;
	int ret = -1;
	pid_t pid;

	memset(&e, 0, sizeof(e));
	e.ids = fin;
	e.cap = 4 * FO_MAX_MSGS;
	snprintf(text, sizeof(text), fo_cfg, a->port, b->port);
	pid = smsrd_with(text, addr);
	if (pid < 0 || smsr_client_connect(&c, addr, NULL) < 0 ||
	    wait_bound(c, a, ba, 2, "a") < 0 || wait_bound(c, b, bb, 2, "b") < 0 ||
	    fo_subscribe(&e, addr) < 0)
		goto out;
	n = fo_load(c, a, b, ids);
	for (t = bench_now_ns(); bench_now_ns() - t < FO_DRAIN_MS * 1000000ull;) {
		if (atomic_load(&e.finals) >= n)
			break;
		usleep(10000);
	}
	usleep(100000); /* a second final, if any, comes in time to be counted */
	atomic_store(&e.stop, true);
	pthread_join(e.thread, NULL);
	*out = (struct fo_run){.switch_us = -1, .handoff_us = -1, .router_us = -1, .accepted = n};
	for (size_t i = 0; e.down_ns && i < e.nb; i++)
		if (e.b_handoff[i] >= e.down_ns) {
			uint64_t from = e.b_accepted[i] > e.down_ns ? e.b_accepted[i] : e.down_ns;

			out->handoff_us = (double)(e.b_handoff[i] - e.down_ns) / 1000.0;
			out->router_us = (double)(e.b_handoff[i] - from) / 1000.0;
			break;
		}
	for (uint32_t i = 0, k = atomic_load_explicit(&b->nrec, memory_order_acquire);
	     e.down_ns && i < k; i++)
		if (b->rec[i] >= e.down_ns) {
			out->switch_us = (double)(b->rec[i] - e.down_ns) / 1000.0;
			break;
		}
	fo_count(ids, n, fin, e.nids, &out->lost, &out->dup);
	ret = 0;
out:
	smsr_client_close(e.c);
	smsr_client_close(c);
	bench_smsrd_stop(pid);
	atomic_store(&b->record, false);
	atomic_store(&b->nrec, 0);
	atomic_store(&a->down, false);
	if (ret < 0)
		fprintf(stderr, "bench_smpp: a failover run failed\n");
	else if (verbose)
		fprintf(stderr,
			"failover: switch %.0f us (hand-off %.0f us, %.0f us after the later of "
			"down and acceptance), %u accepted, %u lost, %u double\n",
			out->switch_us, out->handoff_us, out->router_us, out->accepted, out->lost,
			out->dup);
	return ret;
}

static void failover(int runs)
{
	static struct sink a, b;
	double sw[64], ho[64], ru[64];
	unsigned acc = 0, lost = 0, dup = 0;
	char extra[512];
	int n = 0, nh = 0;

	if (sink_start(&a) < 0 || sink_start(&b) < 0) {
		fprintf(stderr, "bench_smpp: cannot start the failover sinks\n");
		return;
	}
	for (int i = 0; i < runs; i++) {
		struct fo_run r;

		if (run_failover(&a, &b, &r) < 0)
			continue;
		acc += r.accepted, lost += r.lost, dup += r.dup;
		if (r.switch_us >= 0)
			sw[n++] = r.switch_us;
		if (r.handoff_us >= 0)
			ru[nh] = r.router_us, ho[nh++] = r.handoff_us;
	}
	sink_stop(&a);
	sink_stop(&b);
	if (!n)
		return;
	extra[0] = '\0';
	bench_append_array(extra, sizeof(extra), "runs_values", sw, n);
	bench_median(sw, (size_t)n);
	snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
		 ",\"min\":%.4g,\"max\":%.4g,\"handoff_us\":%.4g,\"handoff_after_accept_us\":%.4g,"
		 "\"accepted\":%u,\"lost\":%u,"
		 "\"double_finals\":%u,\"rate\":%d,\"call_every_us\":%d,\"target\":1000",
		 sw[0], sw[n - 1], nh ? bench_median(ho, (size_t)nh) : -1.0,
		 nh ? bench_median(ru, (size_t)nh) : -1.0, acc, lost, dup, FO_RATE,
		 1000000 * FO_CALL / FO_RATE);
	bench_emit("smpp", "smpp_failover_switch_us", bench_median(sw, (size_t)n), "us", n, extra);
}

int main(int argc, char **argv)
{
	static struct sink s;
	static struct thru with[64], without[64];
	struct frames f;
	char cmd[300];
	uint64_t msgs = MSGS;
	int runs = RUNS, nw = 0, nn = 0;
	bool fo = true;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (!strcmp(argv[i], "--no-failover"))
			fo = false;
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--msgs") && i + 1 < argc)
			msgs = strtoull(argv[++i], NULL, 10);
	}
	if (runs < 1 || runs > 64)
		runs = RUNS;
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir) || frames_init(&f) < 0 || sink_start(&s) < 0) {
		fprintf(stderr, "bench_smpp: cannot set up\n");
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		for (int v = 0; v < 2; v++) { /* alternate: the machine's moods hit both */
			struct thru t;

			if (run_thru(&s, &f, v == 0, msgs, &t) < 0)
				continue;
			if (verbose)
				fprintf(stderr,
					"%s: %.0f msg/s, %.4f cpu-s/1k (sink %.4f), %llu msgs\n",
					v == 0 ? "receipts" : "no receipts", t.rate, t.cpu_1k,
					t.sink_cpu_1k, (unsigned long long)t.accepted);
			if (v == 0)
				with[nw++] = t;
			else
				without[nn++] = t;
		}
	}
	sink_stop(&s);
	if (nn) {
		double r[64];

		for (int i = 0; i < nn; i++)
			r[i] = without[i].rate;
		double other = bench_median(r, (size_t)nn);

		if (nw)
			emit_thru("smpp_msgs_per_sec", "smpp_cpu_s_per_1k_msgs", with, nw, other,
				  "no_receipts");
		emit_thru("smpp_no_receipts_msgs_per_sec", "smpp_no_receipts_cpu_s_per_1k_msgs",
			  without, nn, 0, NULL);
	} else if (nw) {
		emit_thru("smpp_msgs_per_sec", "smpp_cpu_s_per_1k_msgs", with, nw, 0, NULL);
	}
	if (fo)
		failover(runs);
	for (int i = 0; i < DEPTH; i++)
		free(f.fr[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	return nw && nn ? 0 : 1;
}
