/* SPDX-License-Identifier: MIT */
/*
 * Loopback ingest through smsrd, end to end to simulated channels with
 * unlimited rate, beside a baseline measured in the same run over the same
 * socket type (TCP on 127.0.0.1, no Nagle), so the ratio shows what smsrd's
 * own work costs.
 *
 *   ingest_pipelined_msgs_per_sec  one connection, batches of 500, 8 calls
 *                                  in flight: accepted messages per second,
 *                                  the clock stopped once every one of them
 *                                  has been handed to the simulated channel
 *                                  (its `submitted` count), not at the last
 *                                  answer — a router that accepts faster than
 *                                  it routes only builds a backlog
 *   ingest_pipelined_unique_texts_msgs_per_sec
 *                                  the same, but no two texts of a run share
 *                                  a template (a word of their own): every
 *                                  text classified afresh, the template
 *                                  cache's worst case
 *   ingest_unbatched_msgs_per_sec  one connection, one message per call,
 *   ingest_unbatched_p50_us        waiting for each answer
 *
 * The pipelined baseline is a length-prefixed echo (a thread per
 * connection, blocking reads) fed the very same frames; it sends back the
 * whole 42 KB request where smsrd answers less, so it errs on the slow side
 * and still runs several times faster than smsrd. The pipelined client is
 * as lean as the echo's: requests encoded once (one frame per call id in
 * flight), answers read whole and only their accepted count parsed, so the
 * shared two cores go to smsrd rather than to protobuf work a real client
 * would do on its own machine.
 *
 * The unbatched baseline is the least any server can do for one
 * connection, one call at a time, so smsrd's figure cannot beat it:
 *  - the same client code path: smsr_client_call() of the C client library,
 *    the same request (the same bytes, call ids counted from 1 alike);
 *  - the same socket type and framing, one connection, no Nagle both ends;
 *  - the least server work: one recv() of what the socket holds, then for
 *    each whole frame smsrd's own answer to that request (the bytes smsrd
 *    sent for it once at start, the call id put in front), one send(); so
 *    the client decodes exactly what it decodes from smsrd;
 *  - no wait smsrd does not have: the server thread sleeps in recv() as
 *    smsrd's loop sleeps in io_uring_enter(), one sleep and one wake-up a
 *    call on each side (an io_uring server measured ~3 us slower a call; a
 *    busy-polling one fights the client for the two cores and was slower
 *    still);
 *  - the cheapest placement: the client and the server thread on one CPU
 *    for the echo's runs (the client's affinity restored after). A strictly
 *    sequential exchange gains nothing from a second CPU and pays for it in
 *    a VM: a wake-up of another vCPU is an IPI, and of an idle one a halted
 *    vCPU to resume. smsrd's loop and client share one vCPU and its vCPUs
 *    stay busy (the router worker polls for a millisecond after every
 *    hand-off, router_worker.c): ~0.01 idle entries a call. The first echo,
 *    two bare threads, was often split by the scheduler onto both vCPUs:
 *    two vCPU wake-ups a call (2 idle entries a call measured), a few us on
 *    a quiet host, tens in the VM's slow spells — that is how it fell to
 *    10-15 K calls/s, p50 68-70 us, under smsrd's 36-40 K/s, 23-24 us.
 *    Pinned apart on purpose it gives 45 K/s (p50 21 us) on a quiet machine
 *    and 12-16 K/s with other work on it; pinned together ~52 K/s, p50 18
 *    us, never idling a vCPU: it pays only the two same-CPU wake-ups smsrd
 *    pays too.
 *    The price: pinned, it cannot dodge another process that lands on its
 *    CPU as smsrd can, so on a busy machine one run's echo rate (not its
 *    p50) may dip below smsrd's — once in 33 runs at load 9.5, never in a
 *    median of 5.
 *
 * smsrd is started from the directory of this program (the build tree).
 * Medians of 5 runs; every run is bounded in count and time.
 * `bench_ingest --pipelined-only N` runs N pipelined runs and nothing else
 * (a line each), to profile smsrd under that load; `--unbatched-only N`
 * runs N unbatched pairs (the echo, then smsrd), a line each.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "smsr/client.h"

#define RUNS	  5
#define BATCH	  500
#define DEPTH	  8
#define PIPE_MSGS 1000000u /* per run, or 3 s */
#define ONE_CALLS 20000u   /* per run, or 3 s */
#define RUN_NS	  3000000000ull

static const char cfg[] =
    /* The status store of a million histories (348 MB) alone passes the
     * default 256 MB budget that smsrd charges it to. */
    "router = { workers = 1; memory_budget = \"1GB\"; };\n"
    "channels = ( { name = \"fast\"; driver = \"sim\";\n"
    "  lanes = { verification = 1000000; notice = 1000000; marketing = 1000000; };\n"
    "  params = { latency_ms = 0.0; dlr_delay_ms = 50; }; } );\n"
    "routes = ( { groups = ( [\"fast\"] ); } );\n"
    "smsrd = { status_messages = 1048576; };\n";

/* --- smsrd as a child ---------------------------------------------------- */
static pid_t smsrd_pid;
static char smsrd_addr[64];

static int smsrd_up(char *dir)
{
	char cfgp[128], ready[128];
	FILE *f;

	snprintf(cfgp, sizeof(cfgp), "%s/smsrd.conf", dir);
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	f = fopen(cfgp, "w");
	if (!f)
		return -1;
	fputs(cfg, f);
	fclose(f);
	smsrd_pid = bench_smsrd_start(cfgp, ready, smsrd_addr);
	return smsrd_pid > 0 ? 0 : -1;
}

static void smsrd_down(void)
{
	bench_smsrd_stop(smsrd_pid);
}

/* --- the echo baseline ------------------------------------------------------ */
static int echo_fd;
static uint16_t echo_port;

static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t *buf = malloc(1u << 21);

	for (;;) {
		uint32_t n;

		if (bench_read_full(fd, buf, 4))
			break;
		n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 |
		    buf[3];
		if (n > (1u << 21) - 4 || bench_read_full(fd, buf + 4, n) ||
		    bench_write_full(fd, buf, n + 4))
			break;
	}
	free(buf);
	close(fd);
	return NULL;
}

static void *echo_accept(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(echo_fd, NULL, NULL), one = 1;
		pthread_t t;

		if (fd < 0)
			return NULL;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)fd);
		pthread_detach(t);
	}
}

static int echo_up(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	pthread_t t;

	echo_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(echo_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(echo_fd, 16))
		return -1;
	getsockname(echo_fd, (struct sockaddr *)&sa, &sl);
	echo_port = ntohs(sa.sin_port);
	return pthread_create(&t, NULL, echo_accept, NULL);
}

/* --- the unbatched baseline: the least a server can answer ------------------ */
#define ANS_CAP (1u << 16) /* a connection's buffers */

static int ans_fd;
static char ans_addr[32];
static uint8_t ans_body[512]; /* smsrd's answer to the one-message request, call id 0 */
static size_t ans_body_len;
static _Atomic int ans_cpu = -1; /* where the next connection's thread runs */

/* The CPU set of just @cpu. */
static cpu_set_t one_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return set;
}

/*
 * Answer the whole frames in @in[0, *@have) into @out (@cap bytes), as many
 * as fit; returns the answers' bytes and keeps the rest of @in.
 */
static size_t ans_frames(uint8_t *in, size_t *have, uint8_t *out, size_t cap)
{
	size_t used = 0, olen = 0;

	while (*have - used >= 4) {
		const uint8_t *p = in + used + 4;
		uint32_t n = (uint32_t)in[used] << 24 | (uint32_t)in[used + 1] << 16 |
			     (uint32_t)in[used + 2] << 8 | in[used + 3];
		uint64_t id = 0;
		size_t k = 4;

		if (*have - used - 4 < n || cap - olen < ans_body_len + 16)
			break;
		if (n && p[0] == 0x08) { /* Request.call_id, field 1, first as packed */
			p++;
			id = bench_pb_varint(&p, in + used + 4 + n);
		}
		if (id) { /* Response.call_id, field 1 */
			out[olen + k++] = 0x08;
			for (; id >= 0x80; id >>= 7)
				out[olen + k++] = (uint8_t)(id | 0x80);
			out[olen + k++] = (uint8_t)id;
		}
		memcpy(out + olen + k, ans_body, ans_body_len);
		k += ans_body_len;
		out[olen] = (uint8_t)((k - 4) >> 24), out[olen + 1] = (uint8_t)((k - 4) >> 16);
		out[olen + 2] = (uint8_t)((k - 4) >> 8), out[olen + 3] = (uint8_t)(k - 4);
		olen += k;
		used += 4 + n;
	}
	memmove(in, in + used, *have - used);
	*have -= used;
	return olen;
}

static void *ans_conn(void *arg)
{
	int fd = (int)(intptr_t)arg, cpu = ans_cpu;
	uint8_t *in = malloc(ANS_CAP), *out = malloc(ANS_CAP);
	size_t have = 0;

	if (cpu >= 0) {
		cpu_set_t set = one_cpu(cpu);

		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (in && out) {
		ssize_t r = recv(fd, in + have, ANS_CAP - have, 0);
		size_t o;

		if (r <= 0)
			break;
		have += (size_t)r;
		while ((o = ans_frames(in, &have, out, ANS_CAP)) && !bench_write_full(fd, out, o))
			;
		if (o || have == ANS_CAP) /* a write failed, or a frame too big for us */
			break;
	}
	free(in);
	free(out);
	close(fd);
	return NULL;
}

static void *ans_accept(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(ans_fd, NULL, NULL), one = 1;
		pthread_t t;

		if (fd < 0)
			return NULL;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_create(&t, NULL, ans_conn, (void *)(intptr_t)fd);
		pthread_detach(t);
	}
}

/*
 * Learn smsrd's answer to @req (one call, before any run) and start the
 * answering server. 0 or -1.
 */
static int ans_up(Smsr__V1__Request *req)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	struct smsr_client *c = NULL;
	Smsr__V1__Response *r;
	pthread_t t;

	if (smsr_client_connect(&c, smsrd_addr, NULL) < 0 ||
	    smsr_client_call(c, req, &r, 5000) < 0) {
		smsr_client_close(c);
		return -1;
	}
	r->call_id = 0;
	ans_body_len = smsr__v1__response__get_packed_size(r);
	if (ans_body_len <= sizeof(ans_body))
		smsr__v1__response__pack(r, ans_body);
	smsr_client_free(r);
	smsr_client_close(c);
	if (ans_body_len > sizeof(ans_body))
		return -1;
	ans_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(ans_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(ans_fd, 16))
		return -1;
	getsockname(ans_fd, (struct sockaddr *)&sa, &sl);
	snprintf(ans_addr, sizeof(ans_addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	return pthread_create(&t, NULL, ans_accept, NULL);
}

static int echo_dial(void)
{
	return bench_dial_port(echo_port);
}

/* --- requests ---------------------------------------------------------------- */
struct batch {
	Smsr__V1__Message m[BATCH], *mp[BATCH];
	char to[BATCH][16];
	char text[BATCH][160];
	bool unique; /* a word of its own in every text: no template repeats */
	Smsr__V1__SubmitRequest sr;
	Smsr__V1__Request req;
	uint8_t *frame; /* the same request, framed, for the echo */
	size_t frame_len;
	size_t fr_len[DEPTH]; /* run_smsrd_pipelined's frames */
};

/*
 * The texts of @b for frame @salt: numbers drawn from (salt, i); with
 * b->unique, also a word of letters from them, so that no two texts of a
 * run share a template.
 */
static void batch_texts(struct batch *b, unsigned salt)
{
	for (unsigned i = 0; i < b->sr.n_messages; i++) {
		uint64_t r = (salt * 1000003ull + i) * 0x9e3779b97f4a7c15ull;
		unsigned a = (unsigned)(r >> 40) % 1000000, c = (unsigned)(r >> 20) % 1000;
		int n = bench_text_of(i % 5, a, c, b->text[i], sizeof(b->text[i]));

		if (b->unique)
			snprintf(b->text[i] + n, sizeof(b->text[i]) - (size_t)n, " %c%c%c%c",
				 'a' + (int)(r % 26), 'a' + (int)(r / 26 % 26),
				 'a' + (int)(r / 676 % 26), 'a' + (int)(r / 17576 % 26));
	}
}

static void batch_init(struct batch *b, unsigned n, bool unique)
{
	b->unique = unique;
	for (unsigned i = 0; i < n; i++) {
		smsr__v1__message__init(&b->m[i]);
		snprintf(b->to[i], sizeof(b->to[i]), "1%u%08u", 38 + i % 2, 10000000 + i * 7919);
		b->m[i].recipient = b->to[i];
		b->m[i].text = b->text[i];
		b->mp[i] = &b->m[i];
	}
	smsr__v1__submit_request__init(&b->sr);
	b->sr.n_messages = n;
	b->sr.messages = b->mp;
	batch_texts(b, 0);
	smsr__v1__request__init(&b->req);
	b->req.call_id = 1;
	b->req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	b->req.submit = &b->sr;
	b->frame_len = smsr__v1__request__get_packed_size(&b->req) + 4;
	b->frame = malloc(b->frame_len);
	b->frame[0] = (uint8_t)((b->frame_len - 4) >> 24);
	b->frame[1] = (uint8_t)((b->frame_len - 4) >> 16);
	b->frame[2] = (uint8_t)((b->frame_len - 4) >> 8);
	b->frame[3] = (uint8_t)(b->frame_len - 4);
	smsr__v1__request__pack(&b->req, b->frame + 4);
	b->req.call_id = 0;
}

/*
 * smsrd, pipelined: accepted messages per second, end to end (every one
 * handed to the simulated channel before the clock stops). The client does no more
 * than the echo's: DEPTH frames encoded once (call ids 1..DEPTH, each sent
 * again once answered), answers read whole and only their accepted count
 * parsed. So the two cores go to smsrd, not to the load generator.
 */
static double run_smsrd_pipelined(struct batch *b)
{
	uint8_t *fr[DEPTH];
	uint64_t t0, t1 = 0, accepted = 0;
	struct smsr_client *ctl = NULL;
	int64_t base;
	int fd;

	if (smsr_client_connect(&ctl, smsrd_addr, NULL) < 0)
		return 0;
	base = bench_chan_submitted(ctl);
	fd = bench_dial(smsrd_addr);
	if (fd < 0 || base < 0) {
		smsr_client_close(ctl);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	for (unsigned k = 0; k < DEPTH; k++) {
		b->req.call_id = k + 1;
		batch_texts(b, k); /* each frame its own numbers (and words) */
		fr[k] = bench_frame(&b->req, &b->fr_len[k]);
	}
	b->req.call_id = 0;
	batch_texts(b, 0);
	t0 = bench_now_ns();
	for (unsigned k = 0; k < DEPTH; k++)
		if (!fr[k])
			goto out;
	if (bench_pipe_load(fd, fr, b->fr_len, DEPTH, BATCH, PIPE_MSGS, RUN_NS, &accepted) == 0)
		t1 = bench_wait_handed(ctl, base, accepted);
out:
	close(fd);
	smsr_client_close(ctl);
	for (unsigned k = 0; k < DEPTH; k++)
		free(fr[k]);
	return t1 ? (double)accepted * 1e9 / (double)(t1 - t0) : 0;
}

/* The echo, pipelined the same way: messages per second. */
static double run_echo_pipelined(struct batch *b)
{
	int fd = echo_dial();
	uint8_t *rb = malloc(b->frame_len);
	uint64_t t0 = bench_now_ns(), sent = 0, got = 0;
	unsigned inflight = 0;

	while ((sent < PIPE_MSGS && bench_now_ns() - t0 < RUN_NS) || inflight) {
		while (inflight < DEPTH && sent < PIPE_MSGS && bench_now_ns() - t0 < RUN_NS) {
			if (bench_write_full(fd, b->frame, b->frame_len))
				goto out;
			inflight++;
			sent += BATCH;
		}
		if (bench_read_full(fd, rb, b->frame_len))
			goto out;
		got += BATCH;
		inflight--;
	}
out:
	close(fd);
	free(rb);
	return (double)got * 1e9 / (double)(bench_now_ns() - t0);
}

/*
 * One message per call through the client library, waiting for each
 * answer, from smsrd or (@echo) the answering server with the client on
 * one CPU beside it: msgs/s, and p50 in *p50.
 */
static double run_one(struct batch *b, bool echo, double *p50)
{
	static double lat[ONE_CALLS];
	struct smsr_client *c = NULL;
	cpu_set_t was;
	uint64_t t0;
	unsigned n = 0;

	if (echo) {
		int cpu = sched_getcpu();
		cpu_set_t here = one_cpu(cpu < 0 ? 0 : cpu);

		pthread_getaffinity_np(pthread_self(), sizeof(was), &was);
		ans_cpu = cpu < 0 ? 0 : cpu;
		pthread_setaffinity_np(pthread_self(), sizeof(here), &here);
	}
	if (smsr_client_connect(&c, echo ? ans_addr : smsrd_addr, NULL) < 0)
		goto out;
	t0 = bench_now_ns();
	for (; n < ONE_CALLS && bench_now_ns() - t0 < RUN_NS; n++) {
		uint64_t s = bench_now_ns();
		Smsr__V1__Response *r;

		if (smsr_client_call(c, &b->req, &r, 5000) < 0)
			break;
		smsr_client_free(r);
		lat[n] = (double)(bench_now_ns() - s) / 1000.0;
	}
	double rate = (double)n * 1e9 / (double)(bench_now_ns() - t0);

	*p50 = bench_percentile(lat, n, 50);
	smsr_client_close(c);
out:
	if (echo)
		pthread_setaffinity_np(pthread_self(), sizeof(was), &was);
	return n ? rate : 0;
}

int main(int argc, char **argv)
{
	int pipe_only = argc == 3 && !strcmp(argv[1], "--pipelined-only") ? atoi(argv[2]) : 0;
	int one_only = argc == 3 && !strcmp(argv[1], "--unbatched-only") ? atoi(argv[2]) : 0;
	char dir[] = "/tmp/smsr-bench-XXXXXX";
	static struct batch big, uniq, one;
	double pipe[RUNS], pipe_echo[RUNS], pipe_uniq[RUNS], rate[RUNS], rate_echo[RUNS], p50[RUNS],
	    p50_echo[RUNS];
	char extra[256];

	signal(SIGPIPE, SIG_IGN);
	batch_init(&big, BATCH, false);
	batch_init(&uniq, BATCH, true);
	batch_init(&one, 1, false);
	if (!mkdtemp(dir) || smsrd_up(dir) || echo_up() || (!pipe_only && ans_up(&one.req))) {
		fprintf(stderr,
			"bench_ingest: cannot start smsrd (next to this program) or the echo\n");
		smsrd_down();
		return 1;
	}
	if (pipe_only) { /* for profiling: smsrd's pipelined runs alone */
		for (int i = 0; i < pipe_only; i++)
			printf("{\"bench\":\"ingest\",\"run\":%d,\"msgs_per_sec\":%.0f}\n", i + 1,
			       run_smsrd_pipelined(getenv("BENCH_UNIQUE") ? &uniq : &big));
		smsrd_down();
		return 0;
	}
	if (one_only) { /* the unbatched pairs alone */
		for (int i = 0; i < one_only; i++) {
			double pe, ps, re, rs;

			re = run_one(&one, true, &pe);
			rs = run_one(&one, false, &ps);

			printf(
			    "{\"bench\":\"ingest\",\"run\":%d,\"msgs_per_sec\":%.0f,"
			    "\"p50_us\":%.1f,\"baseline_echo\":%.0f,\"baseline_echo_p50_us\":%.1f,"
			    "\"ratio\":%.3f}\n",
			    i + 1, rs, ps, re, pe, re > 0 ? rs / re : 0);
			fflush(stdout);
		}
		smsrd_down();
		return 0;
	}
	for (int i = 0; i < RUNS; i++) {
		pipe_echo[i] = run_echo_pipelined(&big);
		pipe[i] = run_smsrd_pipelined(&big);
		pipe_uniq[i] = run_smsrd_pipelined(&uniq);
		rate_echo[i] = run_one(&one, true, &p50_echo[i]);
		rate[i] = run_one(&one, false, &p50[i]);
	}
	smsrd_down();
	double m = bench_median(pipe, RUNS), me = bench_median(pipe_echo, RUNS);

	snprintf(
	    extra, sizeof(extra),
	    ",\"baseline_echo\":%.6g,\"ratio\":%.3f,\"batch\":%d,\"depth\":%d,\"frame_bytes\":%zu",
	    me, me > 0 ? m / me : 0, BATCH, DEPTH, big.frame_len);
	bench_emit("ingest", "ingest_pipelined_msgs_per_sec", m, "msg/s", RUNS, extra);
	m = bench_median(pipe_uniq, RUNS);
	snprintf(extra, sizeof(extra), ",\"baseline_echo\":%.6g,\"ratio\":%.3f", me,
		 me > 0 ? m / me : 0);
	bench_emit("ingest", "ingest_pipelined_unique_texts_msgs_per_sec", m, "msg/s", RUNS, extra);
	m = bench_median(rate, RUNS);
	me = bench_median(rate_echo, RUNS);
	snprintf(extra, sizeof(extra), ",\"baseline_echo\":%.6g,\"ratio\":%.3f", me,
		 me > 0 ? m / me : 0);
	bench_emit("ingest", "ingest_unbatched_msgs_per_sec", m, "msg/s", RUNS, extra);
	m = bench_median(p50, RUNS);
	me = bench_median(p50_echo, RUNS);
	snprintf(extra, sizeof(extra), ",\"baseline_echo\":%.3g,\"ratio\":%.3f", me,
		 me > 0 ? m / me : 0);
	bench_emit("ingest", "ingest_unbatched_p50_us", m, "us", RUNS, extra);
	snprintf(extra, sizeof(extra), "rm -rf %s", dir);
	(void)!system(extra);
	return 0;
}
