/* SPDX-License-Identifier: MIT */
/*
 * Subscription fan-out through smsrd: what subscriptions that match nothing
 * cost the traffic, measured against none in the same run.
 *
 *   fanout_msgs_per_sec  one connection submits notices, pipelined (batches
 *                        of 100, 8 calls in flight), every message with a
 *                        client_ref "m-<n>"; one subscriber takes every
 *                        event of prefix "m-" (all types, so the hub carries
 *                        every event in both cases) and the clock stops once
 *                        it has read the final event of every accepted
 *                        message. The submitter keeps at most 2,000
 *                        messages not yet final at the subscriber, so the
 *                        rate is that of the whole path, events included,
 *                        and no queue overflows. value: with 8,000 non-matching
 *                        subscriptions open (500 connections x 16, filters
 *                        of every kind: another client_ref prefix, an idle
 *                        channel, another class, channel events only);
 *                        baseline_no_subs: the same without them; ratio:
 *                        value / baseline
 *   fanout_ping_p50_us   another client's ping round trip while that runs,
 *                        with the 8,000 (baseline: without)
 *   fanout_cpu_us_per_msg  smsrd's CPU time (all threads) per message, with
 *                        the 8,000 (baseline: without): the cost itself,
 *                        less at the mercy of what else the cores run
 *
 * Two smsrd daemons are started from the directory of this program (the
 * build tree), alike but for the 8,000 subscriptions one of them holds for
 * the whole run, so short measurements of the two can alternate (which goes
 * first alternates too) and a neighbour's load on the shared cores falls on
 * both. Medians of 15 pairs (ratios: per pair); every wait is bounded in
 * time.
 */
#include <arpa/inet.h>
#include <libgen.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "smsr.pb-c.h"

#define RUNS	  15
#define BATCH	  100
#define DEPTH	  8
#define MSGS	  150000u /* per measurement, or RUN_NS */
#define RUN_NS	  1000000000ull
#define WINDOW	  2000u /* messages sent and not yet final at the subscriber */
#define WAIT_NS	  10000000000ull
#define SUB_CONNS 500
#define SUBS_PER  16

static const char cfg[] =
    "router = { workers = 1; };\n"
    "channels = (\n"
    "  { name = \"fast\"; driver = \"sim\";\n"
    "    lanes = { verification = 1000000; notice = 1000000; marketing = 1000000; };\n"
    "    params = { latency_ms = 0.0; dlr_delay_ms = 1; }; },\n"
    "  { name = \"idle\"; driver = \"sim\"; } );\n"
    "routes = ( { groups = ( [\"fast\"] ); } );\n";

/* --- smsrd as a child ---------------------------------------------------- */
/* Two daemons: [0] without the non-matching subscriptions, [1] with them. */
static pid_t smsrd_pid[2];
static char smsrd_addr[2][64];
static int cur; /* the one dial() reaches */

static int smsrd_up(const char *dir, int k)
{
	char exe[4096], bin[4200], cfgp[128], ready[128];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	snprintf(bin, sizeof(bin), "%s/smsrd", dirname(exe));
	snprintf(cfgp, sizeof(cfgp), "%s/smsrd.conf", dir);
	snprintf(ready, sizeof(ready), "%s/ready%d", dir, k);
	f = fopen(cfgp, "w");
	if (!f)
		return -1;
	fputs(cfg, f);
	fclose(f);
	smsrd_pid[k] = fork();
	if (smsrd_pid[k] == 0) {
		execl(bin, "smsrd", "-q", "-c", cfgp, "--tcp", "127.0.0.1:0", "--unix", "off",
		      "--ready-file", ready, (char *)NULL);
		_exit(127);
	}
	return bench_wait_ready(ready, smsrd_addr[k]);
}

static void smsrd_down(void)
{
	for (int k = 0; k < 2; k++)
		if (smsrd_pid[k] > 0) {
			kill(smsrd_pid[k], SIGTERM);
			waitpid(smsrd_pid[k], NULL, 0);
		}
}

/* --- sockets and frames ------------------------------------------------------ */
static int dial(void)
{
	const char *colon = strrchr(smsrd_addr[cur], ':');
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)atoi(colon ? colon + 1 : "0"))};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int write_full(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);

		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read exactly @n bytes, waiting at most @ms for each piece. */
static int read_full(int fd, uint8_t *b, size_t n, int ms)
{
	while (n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, ms) <= 0)
			return -1;
		r = read(fd, b, n);
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* @req framed into a new buffer (*@len bytes). */
static uint8_t *frame_of(Smsr__V1__Request *req, size_t *len)
{
	size_t n = smsr__v1__request__get_packed_size(req);
	uint8_t *b = malloc(n + 4);

	b[0] = (uint8_t)(n >> 24), b[1] = (uint8_t)(n >> 16), b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	smsr__v1__request__pack(req, b + 4);
	*len = n + 4;
	return b;
}

/* The next frame's payload into *@buf (grown as needed); its length or -1. */
static long read_frame(int fd, uint8_t **buf, size_t *cap, int ms)
{
	uint8_t h[4];
	uint32_t n;

	if (read_full(fd, h, 4, ms))
		return -1;
	n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	if (n > *cap) {
		free(*buf);
		*cap = n;
		*buf = malloc(n);
	}
	if (!*buf || read_full(fd, *buf, n, ms))
		return -1;
	return n;
}

/* --- the subscriber ------------------------------------------------------------ */
struct reader {
	int fd;
	pthread_t thread;
	_Atomic uint64_t finals, dropped;
	_Atomic int stop;
};

/* Count the final events in the frames of [@p, @p + @n); returns bytes used. */
static size_t count_frames(struct reader *rd, const uint8_t *p, size_t n)
{
	size_t used = 0;

	while (n - used >= 4) {
		const uint8_t *f = p + used, *ep, *ee;
		uint32_t len =
		    (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
		uint64_t ev[20] = {0};

		if (n - used - 4 < len)
			break;
		used += 4 + (size_t)len;
		if (!bench_pb_fields(f + 4, f + 4 + len, 13, &ep, &ee, NULL))
			continue;
		bench_pb_fields(ep, ee, 0, &ep, &ee, ev);
		if (ev[2] >= SMSR_EV_DELIVERED && ev[2] <= SMSR_EV_EXPIRED)
			atomic_fetch_add(&rd->finals, 1);
		else if (ev[2] == SMSR__V1__EVENT_TYPE__EVENT_TYPE_OVERFLOW)
			atomic_fetch_add(&rd->dropped, ev[16]);
	}
	return used;
}

/* Read the stream in large pieces (as a real client would), frames counted. */
static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	size_t cap = 1u << 20, have = 0;
	uint8_t *buf = malloc(cap);

	while (buf && !atomic_load(&rd->stop)) {
		struct pollfd p = {.fd = rd->fd, .events = POLLIN};
		ssize_t r;
		size_t used;

		if (poll(&p, 1, 100) <= 0)
			continue; /* nothing: look at stop */
		r = read(rd->fd, buf + have, cap - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		used = count_frames(rd, buf, have);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (have == cap)
			break; /* a frame over 1 MiB: not an event */
	}
	free(buf);
	return NULL;
}

/* Subscribe on @fd with @sr as call @id; 0 once answered without error. */
static int subscribe(int fd, uint64_t id, Smsr__V1__SubscribeRequest *sr)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	size_t len;
	uint8_t *f;
	int rc;

	req.call_id = id;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = sr;
	f = frame_of(&req, &len);
	rc = write_full(fd, f, len);
	free(f);
	return rc;
}

/* One answer on @fd: 0 when it has no error. */
static int answer_ok(int fd)
{
	uint8_t *buf = NULL;
	size_t cap = 0;
	const uint8_t *ep, *ee;
	long n = read_frame(fd, &buf, &cap, 5000);
	int rc = n < 0 || bench_pb_fields(buf, buf + n, 2, &ep, &ee, NULL) ? -1 : 0;

	free(buf);
	return rc;
}

/* 500 connections x 16 subscriptions that the traffic never matches. */
static int open_nonmatching(int *fds)
{
	Smsr__V1__MessageClass mkt = SMSR__V1__MESSAGE_CLASS__CLASS_MARKETING;
	Smsr__V1__EventType chev = SMSR__V1__EVENT_TYPE__EVENT_TYPE_CHANNEL;
	char *idle = "idle", ref[32];

	for (int i = 0; i < SUB_CONNS; i++) {
		fds[i] = dial();
		if (fds[i] < 0)
			return -1;
		for (int k = 0; k < SUBS_PER; k++) {
			Smsr__V1__SubscribeRequest sr = SMSR__V1__SUBSCRIBE_REQUEST__INIT;

			sr.queue_limit = 64;
			switch (k % 4) {
			case 0:
				snprintf(ref, sizeof(ref), "zz-%d-%d", i, k);
				sr.client_ref_prefix = ref;
				break;
			case 1:
				sr.n_channels = 1;
				sr.channels = &idle;
				break;
			case 2:
				sr.n_classes = 1;
				sr.classes = &mkt;
				break;
			default:
				sr.n_types = 1;
				sr.types = &chev;
				break;
			}
			if (subscribe(fds[i], (uint64_t)k + 1, &sr))
				return -1;
		}
		for (int k = 0; k < SUBS_PER; k++)
			if (answer_ok(fds[i]))
				return -1;
	}
	return 0;
}

/* --- another client's pings ------------------------------------------------------ */
struct pinger {
	int fd;
	pthread_t thread;
	_Atomic int stop;
	double lat[200000];
	size_t n;
};

static void *pinger_main(void *arg)
{
	struct pinger *pg = arg;
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__PingRequest ping = SMSR__V1__PING_REQUEST__INIT;
	uint8_t *f, *buf = NULL;
	size_t len, cap = 0;

	req.call_id = 1;
	req.body_case = SMSR__V1__REQUEST__BODY_PING;
	req.ping = &ping;
	f = frame_of(&req, &len);
	while (!atomic_load(&pg->stop) && pg->n < sizeof(pg->lat) / sizeof(pg->lat[0])) {
		uint64_t t = bench_now_ns();

		if (write_full(pg->fd, f, len) || read_frame(pg->fd, &buf, &cap, 5000) < 0)
			break;
		pg->lat[pg->n++] = (double)(bench_now_ns() - t) / 1000.0;
		usleep(1000);
	}
	free(f);
	free(buf);
	return NULL;
}

/* --- the load -------------------------------------------------------------------- */
static long accepted_of(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *sp, *se;
	uint64_t v[20] = {0};

	if (!bench_pb_fields(p, end, 4, &sp, &se, NULL))
		return -1;
	bench_pb_fields(sp, se, 0, &sp, &se, v);
	return (long)v[2];
}

/* DEPTH submit frames, each BATCH notices with client_refs "m-<run>-<k>-<i>". */
static void make_frames(uint8_t **fr, size_t *fl, int run)
{
	static Smsr__V1__Message m[BATCH], *mp[BATCH];
	static char to[BATCH][16], ref[BATCH][32];
	Smsr__V1__SubmitRequest sr = SMSR__V1__SUBMIT_REQUEST__INIT;
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;

	for (int k = 0; k < DEPTH; k++) {
		for (int i = 0; i < BATCH; i++) {
			smsr__v1__message__init(&m[i]);
			snprintf(to[i], sizeof(to[i]), "1%u%08u", 38 + i % 2, 10000000 + i * 7919);
			snprintf(ref[i], sizeof(ref[i]), "m-%d-%d-%d", run, k, i);
			m[i].recipient = to[i];
			m[i].text = "Your parcel 4711 is at the front desk of building 3.";
			m[i].client_ref = ref[i];
			m[i].cls = SMSR__V1__MESSAGE_CLASS__CLASS_NOTICE;
			mp[i] = &m[i];
		}
		sr.n_messages = BATCH;
		sr.messages = mp;
		req.call_id = (uint64_t)k + 1;
		req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
		req.submit = &sr;
		fr[k] = frame_of(&req, &fl[k]);
	}
}

/* CPU time smsrd @k has used, all threads, in seconds. */
static double cpu_s(int k)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)smsrd_pid[k]);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* after "pid (comm)": state is field 3, utime 14, stime 15 */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* One measurement: msgs/s end to end to the subscriber; ping p50 in *@p50. */
static double measure(int run, bool with_subs, double *p50, double *cpu_us, uint64_t *dropped)
{
	double cpu0;

	static struct pinger pg;
	struct reader rd = {0};
	Smsr__V1__SubscribeRequest sr = SMSR__V1__SUBSCRIBE_REQUEST__INIT;
	uint8_t *fr[DEPTH], *buf = NULL;
	size_t fl[DEPTH], cap = 0;
	uint64_t t0, t1 = 0, sent = 0, accepted = 0, refused = 0;
	unsigned inflight = 0, next = 0;
	double rate = 0;
	int fd = -1;

	*p50 = 0;
	cur = with_subs;
	rd.fd = dial();
	sr.client_ref_prefix = "m-";
	sr.queue_limit = 262144;
	if (rd.fd < 0 || subscribe(rd.fd, 1, &sr) || answer_ok(rd.fd))
		goto out;
	pthread_create(&rd.thread, NULL, reader_main, &rd);
	memset(&pg, 0, sizeof(pg));
	pg.fd = dial();
	pthread_create(&pg.thread, NULL, pinger_main, &pg);
	fd = dial();
	make_frames(fr, fl, run * 2 + with_subs);
	cpu0 = cpu_s(with_subs);
	t0 = bench_now_ns();
	while ((sent < MSGS && bench_now_ns() - t0 < RUN_NS) || inflight) {
		long n, acc;

		/* Messages not yet final at the subscriber stay within WINDOW. */
		while (inflight < DEPTH && sent < MSGS && bench_now_ns() - t0 < RUN_NS &&
		       sent - refused - atomic_load(&rd.finals) < WINDOW) {
			if (write_full(fd, fr[next], fl[next]))
				goto stop;
			next = (next + 1) % DEPTH;
			inflight++;
			sent += BATCH;
		}
		if (!inflight) {
			usleep(50);
			continue;
		}
		n = read_frame(fd, &buf, &cap, 5000);
		if (n < 0 || (acc = accepted_of(buf, buf + n)) < 0)
			goto stop;
		accepted += (uint64_t)acc;
		refused += BATCH - (uint64_t)acc;
		inflight--;
	}
	while (bench_now_ns() - t0 < WAIT_NS) {
		if (atomic_load(&rd.finals) >= accepted) {
			t1 = bench_now_ns();
			break;
		}
		usleep(200);
	}
stop:
	atomic_store(&pg.stop, 1);
	pthread_join(pg.thread, NULL);
	atomic_store(&rd.stop, 1);
	pthread_join(rd.thread, NULL);
	*p50 = bench_percentile(pg.lat, pg.n, 50);
	*dropped += atomic_load(&rd.dropped);
	if (t1)
		rate = (double)accepted * 1e9 / (double)(t1 - t0);
	*cpu_us = accepted ? (cpu_s(with_subs) - cpu0) * 1e6 / (double)accepted : 0;
	for (int k = 0; k < DEPTH; k++)
		free(fr[k]);
	close(pg.fd);
out:
	if (fd >= 0)
		close(fd);
	if (rd.fd >= 0)
		close(rd.fd);
	free(buf);
	usleep(50000); /* the last reports */
	return rate;
}

int main(void)
{
	char dir[] = "/tmp/smsr-bench-XXXXXX", extra[512];
	double with[RUNS], without[RUNS], ratio[RUNS], p50w[RUNS], p50n[RUNS], cpuw[RUNS],
	    cpun[RUNS];
	uint64_t dropped = 0;

	static int fds[SUB_CONNS];

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir) || smsrd_up(dir, 0) || smsrd_up(dir, 1)) {
		fprintf(stderr, "bench_fanout: cannot start smsrd (next to this program)\n");
		smsrd_down();
		return 1;
	}
	cur = 1;
	memset(fds, -1, sizeof(fds));
	if (open_nonmatching(fds)) {
		fprintf(stderr, "bench_fanout: cannot open the subscriptions\n");
		smsrd_down();
		return 1;
	}
	for (int i = 0; i < RUNS; i++) {
		if (i % 2) {
			with[i] = measure(i, true, &p50w[i], &cpuw[i], &dropped);
			without[i] = measure(i, false, &p50n[i], &cpun[i], &dropped);
		} else {
			without[i] = measure(i, false, &p50n[i], &cpun[i], &dropped);
			with[i] = measure(i, true, &p50w[i], &cpuw[i], &dropped);
		}
		ratio[i] = without[i] > 0 ? with[i] / without[i] : 0;
	}
	for (int i = 0; i < SUB_CONNS; i++)
		close(fds[i]);
	smsrd_down();
	snprintf(extra, sizeof(extra), ",\"nonmatching_subs\":%d,\"connections\":%d",
		 SUB_CONNS * SUBS_PER, SUB_CONNS);
	bench_append_array(extra, sizeof(extra), "ratios", ratio, RUNS);
	{
		double mw = bench_median(with, RUNS), mn = bench_median(without, RUNS);
		size_t len = strlen(extra);

		snprintf(extra + len, sizeof(extra) - len,
			 ",\"baseline_no_subs\":%.6g,\"ratio\":%.3f,\"median_of_ratios\":%.3f,"
			 "\"events_dropped\":%llu",
			 mn, mn > 0 ? mw / mn : 0, bench_median(ratio, RUNS),
			 (unsigned long long)dropped);
		bench_emit("fanout", "fanout_msgs_per_sec", mw, "msg/s", RUNS, extra);
	}
	{
		double mw = bench_median(p50w, RUNS), mn = bench_median(p50n, RUNS);

		snprintf(extra, sizeof(extra), ",\"baseline_no_subs\":%.3g,\"ratio\":%.3f", mn,
			 mn > 0 ? mw / mn : 0);
		bench_emit("fanout", "fanout_ping_p50_us", mw, "us", RUNS, extra);
	}
	{
		double mw = bench_median(cpuw, RUNS), mn = bench_median(cpun, RUNS);

		snprintf(extra, sizeof(extra), ",\"baseline_no_subs\":%.4g,\"ratio\":%.3f", mn,
			 mn > 0 ? mw / mn : 0);
		bench_emit("fanout", "fanout_cpu_us_per_msg", mw, "us", RUNS, extra);
	}
	snprintf(extra, sizeof(extra), "rm -rf %s", dir);
	(void)!system(extra);
	return 0;
}
