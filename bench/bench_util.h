/* SPDX-License-Identifier: MIT */
/*
 * Shared bits for the benchmarks: a monotonic clock, medians, waiting for
 * a router to finish, and the JSON line every result is printed as:
 *   {"bench":"route","metric":"route_path_msgs_per_sec","value":3.1e6,"unit":"msg/s",...}
 * Header-only so each bench stays one file. The second half is what the
 * benches that drive smsrd over loopback share: starting it, a socket to
 * it, the templated texts, and the pipelined load (requests encoded once,
 * answers read whole and only their accepted count parsed).
 */
#ifndef SMSR_BENCH_UTIL_H
#define SMSR_BENCH_UTIL_H

#include <arpa/inet.h>
#include <libgen.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "smsr/client.h"
#include "smsr/smsr.h"

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of @n samples (sorts @v in place). */
static inline double bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Percentile @p (0..100) of @n samples, sorting @v in place. */
static inline double bench_percentile(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* One result line. @extra is either NULL or a preformatted ,"k":v list. */
static inline void bench_emit(const char *bench, const char *metric, double value, const char *unit,
			      int runs, const char *extra)
{
	printf(
	    "{\"bench\":\"%s\",\"metric\":\"%s\",\"value\":%.6g,\"unit\":\"%s\",\"runs\":%d%s}\n",
	    bench, metric, value, unit, runs, extra ? extra : "");
	fflush(stdout);
}

/* Append ,"name":[v0,v1,...] to the string in @buf (@size bytes). */
static inline void bench_append_array(char *buf, size_t size, const char *name, const double *v,
				      int n)
{
	size_t len = strlen(buf);

	len += (size_t)snprintf(buf + len, size - len, ",\"%s\":[", name);
	for (int i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%.4g", i ? "," : "", v[i]);
	if (len < size)
		snprintf(buf + len, size - len, "]");
}

/*
 * Wait (at most @max_ms) until @finals final events have reached @accepted
 * and @r holds nothing queued, in flight or waiting to be retried.
 */
static inline void bench_wait_finals(struct smsr_router *r, _Atomic uint64_t *finals,
				     uint64_t accepted, unsigned max_ms)
{
	uint64_t end = bench_now_ns() + max_ms * 1000000ull;
	struct smsr_stats s;

	while (bench_now_ns() < end) {
		smsr_router_stats(r, &s);
		if (atomic_load(finals) >= accepted && !s.queued_now && !s.inflight_now &&
		    !s.retrying_now)
			return;
		usleep(2000);
	}
}

/*
 * Wait (at most @max_ms, looking every millisecond) for smsrd's
 * --ready-file @ready to name its TCP listener; copy it into @addr (64
 * bytes). 0, or -1 on timeout.
 */
static inline int bench_wait_ready_ms(const char *ready, char addr[64], unsigned max_ms)
{
	uint64_t end = bench_now_ns() + max_ms * 1000000ull;

	addr[0] = '\0';
	while (bench_now_ns() < end) {
		char line[128];
		FILE *f = fopen(ready, "r");

		if (!f) {
			usleep(1000);
			continue;
		}
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "tcp=", 4))
				sscanf(line + 4, "%63s", addr);
		fclose(f);
		if (addr[0])
			return 0;
		usleep(1000);
	}
	return -1;
}

/* The same, up to 5 s. */
static inline int bench_wait_ready(const char *ready, char addr[64])
{
	return bench_wait_ready_ms(ready, addr, 5000);
}

/* --- smsrd over loopback ------------------------------------------------- */

/*
 * Fork and exec the smsrd next to this program with config @cfg (a path;
 * NULL: the embedded default), TCP on 127.0.0.1:0, no Unix socket, -q,
 * writing @ready (removed first), then the NULL-terminated @args (may be
 * NULL: none), its stderr into the file @log (NULL: ours). Does not wait
 * for it: see bench_wait_ready_ms(). Returns its pid, or -1.
 */
static inline pid_t bench_smsrd_spawn(const char *cfg, const char *ready, const char *const *args,
				      const char *log)
{
	const char *argv[32];
	char exe[4096], bin[4200];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int k = 0;
	pid_t pid;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	snprintf(bin, sizeof(bin), "%s/smsrd", dirname(exe));
	unlink(ready);
	argv[k++] = "smsrd";
	argv[k++] = "-q";
	if (cfg) {
		argv[k++] = "-c";
		argv[k++] = cfg;
	}
	argv[k++] = "--tcp";
	argv[k++] = "127.0.0.1:0";
	argv[k++] = "--unix";
	argv[k++] = "off";
	argv[k++] = "--ready-file";
	argv[k++] = ready;
	for (int i = 0; args && args[i] && k < 31; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	pid = fork();
	if (pid == 0) {
		char *av[32]; /* execv's type: the child's own copies */

		for (int i = 0; i <= k; i++)
			av[i] = argv[i] ? strdup(argv[i]) : NULL;
		if (log && !freopen(log, "w", stderr))
			_exit(127);
		execv(bin, av);
		_exit(127);
	}
	return pid < 0 ? -1 : pid;
}

/*
 * bench_smsrd_spawn(), then wait (at most @max_ms) for its listener, its
 * address into @addr (64 bytes). Returns its pid, or -1 (a child that did
 * start is killed and reaped).
 */
static inline pid_t bench_smsrd_start_args(const char *cfg, const char *ready, char addr[64],
					   const char *const *args, const char *log,
					   unsigned max_ms)
{
	pid_t pid = bench_smsrd_spawn(cfg, ready, args, log);

	addr[0] = '\0';
	if (pid < 0)
		return -1;
	if (bench_wait_ready_ms(ready, addr, max_ms) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/*
 * Start the smsrd next to this program with config @cfg (a path; NULL:
 * the embedded default), TCP on 127.0.0.1:0, no Unix socket, writing
 * @ready; wait (up to 5 s) for it and copy its address into @addr (64
 * bytes). Returns its pid, or -1 (a child that did start is stopped again).
 */
static inline pid_t bench_smsrd_start(const char *cfg, const char *ready, char addr[64])
{
	return bench_smsrd_start_args(cfg, ready, addr, NULL, NULL, 5000);
}

/* Stop smsrd @pid (SIGTERM) and reap it. */
static inline void bench_smsrd_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

static inline int bench_read_full(int fd, uint8_t *b, size_t n)
{
	while (n) {
		ssize_t r = read(fd, b, n);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static inline int bench_write_full(int fd, const uint8_t *b, size_t n)
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

/* A TCP connection to 127.0.0.1:@port, no Nagle; -1 on failure. */
static inline int bench_dial_port(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port)};
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

/* "127.0.0.1:PORT" (smsrd's loopback listener). */
static inline int bench_dial(const char *addr)
{
	const char *colon = strrchr(addr, ':');

	return colon ? bench_dial_port((uint16_t)atoi(colon + 1)) : -1;
}

/*
 * Text @k (of 5) with numbers @a and @c into @out: templates, as real
 * traffic has them — every code, parcel and amount drawn per message, the
 * campaign text the same for everyone.
 */
static inline int bench_text_of(unsigned k, unsigned a, unsigned c, char *out, size_t cap)
{
	switch (k) {
	case 0:
		return snprintf(out, cap, "【淘宝网】验证码 %06u，您正在登录淘宝，切勿告知他人。",
				a);
	case 1:
		return snprintf(out, cap, "Your parcel %04u is at the front desk of building %u.",
				a % 10000, c % 10);
	case 2:
		return snprintf(out, cap,
				"【京东】双11狂欢，家电满3000减300，速抢 3.cn/x，回TD退订");
	case 3:
		return snprintf(out, cap, "Your Microsoft account security code is %06u.", a);
	default:
		return snprintf(out, cap,
				"【國泰世華】您的帳單已出帳，應繳金額NT$%u,%03u，請於25日前繳納。",
				1 + a % 9, c);
	}
}

/* A protobuf varint at *@p (before @end); 0 past the end or too long. */
static inline uint64_t bench_pb_varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (unsigned sh = 0; *p < end && sh < 64; sh += 7) {
		uint8_t c = *(*p)++;

		v |= (uint64_t)(c & 0x7f) << sh;
		if (!(c & 0x80))
			return v;
	}
	*p = end;
	return 0;
}

/*
 * Walk the fields of the message in [@p, @end): for field @want of wire
 * type 2 set [*@fp, *@fe) and return 1; store varint fields in @vals
 * (indexed by field number, < 20; may be NULL). 0 if @want is absent.
 */
static inline int bench_pb_fields(const uint8_t *p, const uint8_t *end, unsigned want,
				  const uint8_t **fp, const uint8_t **fe, uint64_t *vals)
{
	while (p < end) {
		uint64_t key = bench_pb_varint(&p, end), len, v;

		switch (key & 7) {
		case 0:
			v = bench_pb_varint(&p, end);
			if (vals && key >> 3 < 20)
				vals[key >> 3] = v;
			break;
		case 1:
			p += 8;
			break;
		case 5:
			p += 4;
			break;
		case 2:
			len = bench_pb_varint(&p, end);
			if (len > (uint64_t)(end - p))
				return 0;
			if (key >> 3 == want) {
				*fp = p;
				*fe = p + len;
				return 1;
			}
			p += len;
			break;
		default:
			return 0;
		}
	}
	return 0;
}

/* Field @want (length-delimited) of the message in [@p, @end), as above. */
static inline int bench_pb_field(const uint8_t *p, const uint8_t *end, unsigned want,
				 const uint8_t **fp, const uint8_t **fe)
{
	return bench_pb_fields(p, end, want, fp, fe, NULL);
}

/* SubmitResponse.accepted (field 2) of Response.submit (field 4); -1 if none. */
static inline long bench_accepted_of(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *sp, *se;

	if (!bench_pb_field(p, end, 4, &sp, &se))
		return -1;
	while (sp < se) {
		uint64_t key = bench_pb_varint(&sp, se);

		if (key == (2u << 3 | 0))
			return (long)bench_pb_varint(&sp, se);
		if ((key & 7) == 0)
			bench_pb_varint(&sp, se);
		else if ((key & 7) == 2)
			sp += bench_pb_varint(&sp, se);
		else
			return -1;
	}
	return 0; /* proto3: a zero count is not on the wire */
}

/* @req packed behind its 4-byte length (malloc'd, yours), its size in *@len. */
static inline uint8_t *bench_frame(const Smsr__V1__Request *req, size_t *len)
{
	size_t n = smsr__v1__request__get_packed_size(req);
	uint8_t *f = malloc(n + 4);

	if (!f)
		return NULL;
	smsr__v1__request__pack(req, f + 4);
	f[0] = (uint8_t)(n >> 24), f[1] = (uint8_t)(n >> 16);
	f[2] = (uint8_t)(n >> 8), f[3] = (uint8_t)n;
	*len = n + 4;
	return f;
}

/*
 * The pipelined load on @fd: the @depth frames @fr (@fr_len bytes each,
 * @batch messages each, call ids 1..@depth) sent in turn, each again once
 * an answer came, @depth calls in flight, until @max_msgs were sent or
 * @max_ns passed; then the answers still due are read. Adds the accepted
 * messages to *@accepted. Returns 0, or -1 when the connection failed.
 */
static inline int bench_pipe_load(int fd, uint8_t *const *fr, const size_t *fr_len, unsigned depth,
				  unsigned batch, uint64_t max_msgs, uint64_t max_ns,
				  uint64_t *accepted)
{
	uint64_t t0 = bench_now_ns(), sent = 0;
	unsigned inflight = 0, next = 0;
	uint8_t *rb = NULL, hdr[4];
	size_t rcap = 0;
	int ret = -1;

	while ((sent < max_msgs && bench_now_ns() - t0 < max_ns) || inflight) {
		uint32_t len;
		long acc;

		while (inflight < depth && sent < max_msgs && bench_now_ns() - t0 < max_ns) {
			if (bench_write_full(fd, fr[next], fr_len[next]))
				goto out;
			next = (next + 1) % depth;
			inflight++;
			sent += batch;
		}
		if (bench_read_full(fd, hdr, 4))
			goto out;
		len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 |
		      hdr[3];
		if (len > rcap) {
			free(rb);
			rcap = len;
			rb = malloc(rcap);
		}
		if (!rb || bench_read_full(fd, rb, len) ||
		    (acc = bench_accepted_of(rb, rb + len)) < 0)
			goto out;
		*accepted += (uint64_t)acc;
		inflight--;
	}
	ret = 0;
out:
	free(rb);
	return ret;
}

/* Response.call_id (field 1) of the answer in [@p, @end); 0 if none. */
static inline uint64_t bench_call_id_of(const uint8_t *p, const uint8_t *end)
{
	if (p >= end || p[0] != 0x08)
		return 0;
	p++;
	return bench_pb_varint(&p, end);
}

/* Messages handed to smsrd's channels so far (ChannelInfo.submitted), on
 * the client connection @c; -1 on failure. */
static inline int64_t bench_chan_submitted(struct smsr_client *c)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__ChannelListRequest cl = SMSR__V1__CHANNEL_LIST_REQUEST__INIT;
	Smsr__V1__Response *r;
	int64_t n = 0;

	req.body_case = SMSR__V1__REQUEST__BODY_CHANNEL_LIST;
	req.channel_list = &cl;
	if (smsr_client_call(c, &req, &r, 5000) < 0)
		return -1;
	if (r->body_case != SMSR__V1__RESPONSE__BODY_CHANNEL_LIST)
		n = -1;
	for (size_t i = 0; n >= 0 && i < r->channel_list->n_channels; i++)
		n += (int64_t)r->channel_list->channels[i]->submitted;
	smsr_client_free(r);
	return n;
}

/*
 * Wait (at most 10 s) until @want more messages than @base have been
 * handed to the channels; returns the time it happened, or 0.
 */
static inline uint64_t bench_wait_handed(struct smsr_client *c, int64_t base, uint64_t want)
{
	uint64_t t0 = bench_now_ns();

	while (bench_now_ns() - t0 < 10000000000ull) {
		int64_t n = bench_chan_submitted(c);

		if (n < 0)
			return 0;
		if ((uint64_t)(n - base) >= want)
			return bench_now_ns();
		usleep(200);
	}
	return 0;
}

/*
 * @nfr framed submit requests of @batch templated messages each into
 * @fr / @fr_len (malloc'd, yours; NULL where it failed), call ids
 * 1..@nfr: bench_ingest's load. Recipient i is the same in every frame;
 * frame k's numbers are drawn from (k, i), so texts repeat only by
 * template. @batch at most 1000.
 */
static inline void bench_templated_frames(unsigned nfr, unsigned batch, uint8_t **fr,
					  size_t *fr_len)
{
	static Smsr__V1__Message m[1000], *mp[1000];
	static char to[1000][16], text[1000][160];
	Smsr__V1__SubmitRequest sr = SMSR__V1__SUBMIT_REQUEST__INIT;
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;

	batch = batch > 1000 ? 1000 : batch;
	for (unsigned i = 0; i < batch; i++) {
		smsr__v1__message__init(&m[i]);
		snprintf(to[i], sizeof(to[i]), "1%u%08u", 38 + i % 2, 10000000 + i * 7919);
		m[i].recipient = to[i];
		m[i].text = text[i];
		mp[i] = &m[i];
	}
	sr.n_messages = batch;
	sr.messages = mp;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	req.submit = &sr;
	for (unsigned k = 0; k < nfr; k++) {
		for (unsigned i = 0; i < batch; i++) {
			uint64_t r = (k * 1000003ull + i) * 0x9e3779b97f4a7c15ull;

			bench_text_of(i % 5, (unsigned)(r >> 40) % 1000000,
				      (unsigned)(r >> 20) % 1000, text[i], sizeof(text[i]));
		}
		req.call_id = k + 1;
		fr[k] = bench_frame(&req, &fr_len[k]);
	}
}

#endif
