/* SPDX-License-Identifier: MIT */
/*
 * smsrd with a journal (--data-dir on a fresh directory under /tmp, the
 * machine's own disk), against smsrd without one in the same run.
 *
 *   durable_ingest_msgs_per_sec    bench_ingest's pipelined load (one
 *                                  connection, batches of 500, 8 calls in
 *                                  flight, its config) in sync mode: the
 *                                  clock stops at the last answer, and an
 *                                  answer comes only once its batch is on
 *                                  disk (fdatasync). Beside it, each run:
 *   ingest_pipelined_msgs_per_sec  the same with no data dir, and
 *   durable_batch_ingest_msgs_per_sec
 *                                  --journal-mode batch (10 ms flushes, the
 *                                  answer not waiting for them). Every line
 *                                  carries both clocks: "acked" (last
 *                                  answer) and "handed" (every message
 *                                  handed to the simulated channel, the
 *                                  one bench_ingest stops at), and the
 *                                  ratios to the journal-off run on each.
 *   durable_ack_p50_ms / _p99_ms   sync mode, a call of 500 every X us so
 *                                  that the load is half the durable
 *                                  median above: send of a call to its
 *                                  answer, after a 300 ms warm-up
 *   recovery_ms_per_1m_msgs        RECOVER_MSGS messages held queued (one
 *                                  sim channel at tps 10), smsrd killed with
 *                                  SIGKILL, started again on the same data
 *                                  dir: exec to its ready file (it replays
 *                                  and takes every message back before it
 *                                  listens), scaled to 1 M messages; smsrd's
 *                                  "journal: ... N messages not final" line
 *                                  and its stats' accepted checked against
 *                                  the messages it had acknowledged
 *   journal_bytes_per_msg          --journal-keep, BYTES_MSGS messages taken
 *                                  to their delivery receipt, smsrd stopped;
 *                                  then every segment file walked record by
 *                                  record from its 64-byte header (each
 *                                  [u32 len][u32 crc][u8 type]..., padded to
 *                                  8, the first zero len ends it): the
 *                                  bytes used (headers included) per ACCEPT
 *                                  record, by record type beside it
 *
 * smsrd is started from the directory of this program (the build tree).
 * Every run is bounded in count and time; temp dirs are removed and every
 * smsrd reaped. usage: bench_durable [runs [parts]], parts a list of
 * ingest, ack, recovery, bytes (default all of them; ack at a given load:
 * ack=MSGS_PER_SEC, else half the durable median, 500 K/s without ingest;
 * depth=N: N calls in flight instead of 8, to explore).
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "journal/journal.h"
#include "smsr/client.h"

#define MAX_RUNS     9
#define BATCH	     500
#define DEPTH	     8
#define PIPE_MSGS    1000000u /* per run, or RUN_NS */
#define RUN_NS	     3000000000ull
#define PACED_NS     3000000000ull
#define WARMUP_NS    300000000ull
#define SLOTS	     64 /* paced: call ids 1..SLOTS, one frame each */
#define RECOVER_MSGS 1000000u
#define RECOVER_RUNS 3
#define BYTES_MSGS   100000u
#define WARMUP_MSGS  200000u

/* bench_ingest's config: only the journal differs. */
static const char ingest_cfg[] =
    "router = { workers = 1; memory_budget = \"1GB\"; };\n"
    "channels = ( { name = \"fast\"; driver = \"sim\";\n"
    "  lanes = { verification = 1000000; notice = 1000000; marketing = 1000000; };\n"
    "  params = { latency_ms = 0.0; dlr_delay_ms = 50; }; } );\n"
    "routes = ( { groups = ( [\"fast\"] ); } );\n"
    "smsrd = { status_messages = 1048576; };\n";

/*
 * A channel that sends ten messages a second: everything stays queued. The
 * validity long enough (7 days) that a million queued at 10/s are not
 * refused as too late (busy_late).
 */
static const char recover_cfg[] =
    "router = { workers = 1; memory_budget = \"4GB\";\n"
    "  validity = { verification = \"7d\"; notice = \"7d\"; marketing = \"7d\"; }; };\n"
    "channels = ( { name = \"slow\"; driver = \"sim\"; tps = 10;\n"
    "  lanes = { verification = 2000000; notice = 2000000; marketing = 2000000; };\n"
    "  params = { latency_ms = 0.0; dlr_delay_ms = 50; }; } );\n"
    "routes = ( { groups = ( [\"slow\"] ); } );\n";

static unsigned depth = DEPTH; /* calls in flight: DEPTH, or depth=N in the parts */
static uint8_t *frames[SLOTS];
static size_t frame_len[SLOTS];

/* --- one smsrd in a temp dir of its own ------------------------------------ */
struct daemon {
	pid_t pid;
	char addr[64];
	char dir[64]; /* /tmp/smsr-durable-XXXXXX: conf, ready, log, data/ */
	char path[4][160];
};
enum {
	P_CONF,
	P_READY,
	P_LOG,
	P_DATA
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

/* A fresh temp dir for @d with config @cfg in it. 0 or -1. */
static int daemon_init(struct daemon *d, const char *cfg)
{
	static const char *const name[] = {"smsrd.conf", "ready", "log", "data"};
	FILE *f;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/smsr-durable-XXXXXX");
	if (!mkdtemp(d->dir)) {
		d->dir[0] = '\0';
		return -1;
	}
	for (int i = 0; i < 4; i++)
		snprintf(d->path[i], sizeof(d->path[i]), "%s/%s", d->dir, name[i]);
	f = fopen(d->path[P_CONF], "w");
	if (!f || mkdir(d->path[P_DATA], 0700)) {
		if (f)
			fclose(f);
		return -1;
	}
	fputs(cfg, f);
	fclose(f);
	return 0;
}

/*
 * Start smsrd on @d, journal mode @mode ("sync", "batch"; NULL: no data
 * dir), @keep adds --journal-keep; its stderr into d's log. 0 or -1.
 */
static int daemon_start(struct daemon *d, const char *mode, bool keep, unsigned max_ms)
{
	const char *args[8] = {NULL};
	int k = 0;

	if (mode) {
		args[k++] = "--data-dir";
		args[k++] = d->path[P_DATA];
		args[k++] = "--journal-mode";
		args[k++] = mode;
		if (keep)
			args[k++] = "--journal-keep";
	}
	d->pid = bench_smsrd_start_args(d->path[P_CONF], d->path[P_READY], d->addr, args,
					d->path[P_LOG], max_ms);
	return d->pid > 0 ? 0 : -1;
}

/* Stop d's smsrd with @sig (SIGTERM: a clean stop) and reap it. */
static void daemon_stop(struct daemon *d, int sig)
{
	if (d->pid > 0) {
		kill(d->pid, sig);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = -1;
}

/* Stop smsrd (SIGKILL) if it runs, remove the temp dir. */
static void daemon_fini(struct daemon *d)
{
	daemon_stop(d, SIGKILL);
	if (d->dir[0])
		nftw(d->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	d->dir[0] = '\0';
}

/* smsrd's stats on @addr into *@out (yours: smsr_client_free @*resp). */
static int daemon_stats(const char *addr, Smsr__V1__Response **resp)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__StatsRequest sr = SMSR__V1__STATS_REQUEST__INIT;
	struct smsr_client *c = NULL;
	int ret;

	req.body_case = SMSR__V1__REQUEST__BODY_STATS;
	req.stats = &sr;
	if (smsr_client_connect(&c, addr, NULL) < 0)
		return -1;
	ret = smsr_client_call(c, &req, resp, 5000);
	smsr_client_close(c);
	if (ret < 0)
		return -1;
	if ((*resp)->body_case != SMSR__V1__RESPONSE__BODY_STATS) {
		smsr_client_free(*resp);
		return -1;
	}
	return 0;
}

/* --- ingest ------------------------------------------------------------------ */
struct ingest {
	double acked, handed; /* msgs/s: clock stopped at the last answer, at hand-off */
};

/*
 * One pipelined run of at most @max_msgs (or RUN_NS) on the smsrd of @d;
 * the messages it accepted in *@accepted (may be NULL). Zeros on failure.
 */
static struct ingest run_ingest(struct daemon *d, uint64_t max_msgs, uint64_t *accepted)
{
	struct ingest res = {0};
	struct smsr_client *ctl = NULL;
	uint64_t t0, t1, t2, acc = 0;
	int64_t base;
	int fd = -1;

	if (d->pid <= 0 || smsr_client_connect(&ctl, d->addr, NULL) < 0 ||
	    (base = bench_chan_submitted(ctl)) < 0 || (fd = bench_dial(d->addr)) < 0)
		goto out;
	t0 = bench_now_ns();
	if (bench_pipe_load(fd, frames, frame_len, depth, BATCH, max_msgs, RUN_NS, &acc))
		goto out;
	t1 = bench_now_ns();
	t2 = bench_wait_handed(ctl, base, acc);
	res.acked = (double)acc * 1e9 / (double)(t1 - t0);
	res.handed = t2 ? (double)acc * 1e9 / (double)(t2 - t0) : 0;
out:
	if (fd >= 0)
		close(fd);
	smsr_client_close(ctl);
	if (accepted)
		*accepted = acc;
	return res;
}

/* --- paced: ack latency ------------------------------------------------------ */

/*
 * Read one answer on @fd (blocking) into *@rb (grown as needed, *@cap
 * bytes); its call id, or 0 on failure. Its accepted count into *@acc.
 */
static uint64_t read_answer(int fd, uint8_t **rb, size_t *cap, long *acc)
{
	uint8_t hdr[4];
	uint32_t len;

	if (bench_read_full(fd, hdr, 4))
		return 0;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len > *cap) {
		free(*rb);
		*cap = len;
		*rb = malloc(len);
	}
	if (!*rb || bench_read_full(fd, *rb, len))
		return 0;
	*acc = bench_accepted_of(*rb, *rb + len);
	return bench_call_id_of(*rb, *rb + len);
}

struct paced {
	double *lat_ms; /* answered after the warm-up */
	size_t n, cap;
	uint64_t calls, skipped, accepted;
};

/*
 * On the smsrd at @addr: a call of BATCH messages every @interval_ns for
 * PACED_NS (the frames in turn; a frame whose last call is unanswered is
 * skipped and counted), every answer awaited (at most 5 s more). The
 * latency of each call answered after WARMUP_NS into @p. 0 or -1.
 */
static int run_paced(const char *addr, uint64_t interval_ns, struct paced *p)
{
	uint64_t sent_at[SLOTS] = {0}, t0, next, now;
	unsigned inflight = 0, slot = 0;
	uint8_t *rb = NULL;
	size_t rcap = 0;
	int fd = bench_dial(addr), ret = -1;

	if (fd < 0)
		return -1;
	t0 = next = bench_now_ns();
	while ((now = bench_now_ns()) - t0 < PACED_NS + 5000000000ull) {
		bool sending = now - t0 < PACED_NS;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		struct timespec ts = {0, 0};
		uint64_t wait, id;
		long acc = 0;

		if (!sending && !inflight)
			break;
		if (sending && now >= next) {
			next += interval_ns;
			p->calls++;
			if (sent_at[slot]) {
				p->skipped++;
			} else {
				sent_at[slot] = bench_now_ns();
				if (bench_write_full(fd, frames[slot], frame_len[slot]))
					goto out;
				inflight++;
			}
			slot = (slot + 1) % SLOTS;
			continue;
		}
		wait = sending ? next - now : 100000000ull;
		ts.tv_sec = (time_t)(wait / 1000000000ull);
		ts.tv_nsec = (long)(wait % 1000000000ull);
		if (ppoll(&pfd, 1, &ts, NULL) <= 0)
			continue;
		id = read_answer(fd, &rb, &rcap, &acc);
		now = bench_now_ns();
		if (id < 1 || id > SLOTS || !sent_at[id - 1] || acc < 0)
			goto out;
		if (sent_at[id - 1] - t0 >= WARMUP_NS && p->n < p->cap)
			p->lat_ms[p->n++] = (double)(now - sent_at[id - 1]) / 1e6;
		p->accepted += (uint64_t)acc;
		sent_at[id - 1] = 0;
		inflight--;
	}
	ret = inflight ? -1 : 0;
out:
	free(rb);
	close(fd);
	return ret;
}

/* --- journal bytes ----------------------------------------------------------- */
struct jscan {
	uint64_t segments, bytes;     /* used: headers and records (padded) */
	uint64_t count[8], rbytes[8]; /* by record type (0: unknown types) */
};

/* Walk the segment file @path's records into @s. */
static void scan_segment(const char *path, struct jscan *s)
{
	FILE *f = fopen(path, "rb");
	uint8_t h[SMSR__JOURNAL_REC_HDR];
	uint64_t off = SMSR__JOURNAL_SEG_HDR;
	struct stat st;

	if (!f)
		return;
	if (fstat(fileno(f), &st) || (uint64_t)st.st_size < off) {
		fclose(f);
		return;
	}
	s->segments++;
	s->bytes += off;
	while (off + sizeof(h) <= (uint64_t)st.st_size && !fseek(f, (long)off, SEEK_SET) &&
	       fread(h, sizeof(h), 1, f) == 1) {
		uint32_t len;
		uint64_t padded;

		memcpy(&len, h, 4);
		padded = ((uint64_t)len + 7) & ~7ull;
		if (len < SMSR__JOURNAL_REC_HDR || off + padded > (uint64_t)st.st_size)
			break; /* zeros: the end of what was written */
		s->count[h[8] < 8 ? h[8] : 0]++;
		s->rbytes[h[8] < 8 ? h[8] : 0] += padded;
		s->bytes += padded;
		off += padded;
	}
	fclose(f);
}

/* Every *.seg under @dir into @s. */
static void scan_journal(const char *dir, struct jscan *s)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	memset(s, 0, sizeof(*s));
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char path[512];

		if (n < 4 || strcmp(e->d_name + n - 4, ".seg"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		scan_segment(path, s);
	}
	if (d)
		closedir(d);
}

/* Wait (at most @max_ms) until every message smsrd at @addr accepted is final. */
static void wait_final(const char *addr, unsigned max_ms)
{
	uint64_t end = bench_now_ns() + max_ms * 1000000ull;

	while (bench_now_ns() < end) {
		Smsr__V1__Response *r;
		bool done;

		if (daemon_stats(addr, &r))
			return;
		done = r->stats->delivered + r->stats->failed + r->stats->expired >=
		       r->stats->accepted;
		smsr_client_free(r);
		if (done)
			return;
		usleep(10000);
	}
}

static void bench_bytes(void)
{
	static const char *const tname[] = {"other",	 "accept",   "queued", "handoff",
					    "submitted", "deferred", "final",  "type7"};
	struct daemon d;
	struct jscan s;
	char jdir[256], extra[1024];
	uint64_t acc = 0;
	size_t len;

	if (daemon_init(&d, ingest_cfg) == 0 && daemon_start(&d, "sync", true, 10000) == 0)
		run_ingest(&d, BYTES_MSGS, &acc);
	if (d.pid > 0) {
		wait_final(d.addr, 10000);
		daemon_stop(&d, SIGTERM);
	}
	snprintf(jdir, sizeof(jdir), "%s/journal", d.path[P_DATA]);
	scan_journal(jdir, &s);
	daemon_fini(&d);
	if (!s.count[SMSR__JREC_ACCEPT]) {
		fprintf(stderr, "bench_durable: bytes: no ACCEPT records found\n");
		return;
	}
	len = (size_t)snprintf(
	    extra, sizeof(extra),
	    ",\"accepted\":%llu,\"segments\":%llu,\"bytes_used\":%llu,\"method\":\"--journal-keep, "
	    "%u templated msgs taken to their receipt, smsrd stopped; segment files walked record "
	    "by "
	    "record ([u32 len] padded to 8) from the 64-byte header to the first zero len; bytes "
	    "used "
	    "(segment headers included) / ACCEPT records\"",
	    (unsigned long long)acc, (unsigned long long)s.segments, (unsigned long long)s.bytes,
	    BYTES_MSGS);
	for (int t = 0; t < 8 && len < sizeof(extra); t++)
		if (s.count[t])
			len += (size_t)snprintf(extra + len, sizeof(extra) - len,
						",\"%s_records\":%llu,\"%s_bytes_avg\":%.1f",
						tname[t], (unsigned long long)s.count[t], tname[t],
						(double)s.rbytes[t] / (double)s.count[t]);
	bench_emit("durable", "journal_bytes_per_msg",
		   (double)s.bytes / (double)s.count[SMSR__JREC_ACCEPT], "B", 1, extra);
}

/* --- recovery ------------------------------------------------------------------ */
struct recovery {
	double ms, empty_ms; /* exec to ready: with the journal; a fresh dir */
	uint64_t acked, not_final, accepted, records;
	uint64_t rejected, busy[3]; /* before the kill; busy: lanes, memory, late */
};

/* smsrd's "journal: R records in S segments replayed, N messages not final". */
static int parse_log(const char *path, uint64_t *records, uint64_t *not_final)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int ret = -1;

	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "journal: ");
		unsigned long long r, s, n;

		if (p && sscanf(p, "journal: %llu records in %llu segments replayed, %llu messages",
				&r, &s, &n) == 3) {
			*records = r;
			*not_final = n;
			ret = 0;
		}
	}
	if (f)
		fclose(f);
	return ret;
}

/* Exec to ready of smsrd on @d (sync journal); ms, or -1. */
static double timed_start(struct daemon *d)
{
	uint64_t t0 = bench_now_ns();

	if (daemon_start(d, "sync", false, 60000))
		return -1;
	return (double)(bench_now_ns() - t0) / 1e6;
}

static int run_recovery(struct recovery *res)
{
	struct daemon d;
	Smsr__V1__Response *r;
	int fd, ret = -1;

	memset(res, 0, sizeof(*res));
	if (daemon_init(&d, recover_cfg) || (res->empty_ms = timed_start(&d)) < 0 ||
	    (fd = bench_dial(d.addr)) < 0)
		goto out;
	ret = bench_pipe_load(fd, frames, frame_len, DEPTH, BATCH, RECOVER_MSGS, 20 * RUN_NS,
			      &res->acked);
	close(fd);
	if (ret || daemon_stats(d.addr, &r))
		goto out;
	ret = -1;
	res->rejected = r->stats->rejected;
	res->busy[0] = r->stats->busy_lanes;
	res->busy[1] = r->stats->busy_memory;
	res->busy[2] = r->stats->busy_late;
	smsr_client_free(r);
	daemon_stop(&d, SIGKILL);
	if ((res->ms = timed_start(&d)) < 0 ||
	    parse_log(d.path[P_LOG], &res->records, &res->not_final) || daemon_stats(d.addr, &r))
		goto out;
	res->accepted = r->stats->accepted;
	if (getenv("BENCH_DEBUG")) {
		char cmd[256];

		smsr_client_json(stderr, (const ProtobufCMessage *)r->stats);
		snprintf(cmd, sizeof(cmd), "grep -v '^$' %s | tail -5 >&2", d.path[P_LOG]);
		(void)!system(cmd);
	}
	smsr_client_free(r);
	ret = 0;
out:
	daemon_fini(&d);
	return ret;
}

/* --- main ---------------------------------------------------------------------- */

/* Median of the @n values of @v (kept in order), with min, max and them in @extra. */
static double summary(const double *v, int n, char *extra, size_t cap)
{
	double s[MAX_RUNS];
	size_t len = strlen(extra);

	memcpy(s, v, (size_t)n * sizeof(*v));
	double m = bench_median(s, (size_t)n);

	snprintf(extra + len, cap - len, ",\"min\":%.4g,\"max\":%.4g", s[0], s[n - 1]);
	bench_append_array(extra, cap, "samples", v, n);
	return m;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static void emit_ingest(const char *metric, const double *acked, const double *handed,
			const double *off_acked, const double *off_handed, int n, bool by_hand)
{
	char extra[1024] = "";
	double a[MAX_RUNS], h[MAX_RUNS], oa[MAX_RUNS], oh[MAX_RUNS];
	double ma, mh, moa, moh;

	memcpy(a, acked, sizeof(a));
	memcpy(h, handed, sizeof(h));
	memcpy(oa, off_acked, sizeof(oa));
	memcpy(oh, off_handed, sizeof(oh));
	ma = bench_median(a, (size_t)n), mh = bench_median(h, (size_t)n);
	moa = bench_median(oa, (size_t)n), moh = bench_median(oh, (size_t)n);
	snprintf(extra, sizeof(extra),
		 ",\"clock\":\"%s\",\"acked\":%.4g,\"handed\":%.4g,\"ratio_acked_to_off\":%.3f,"
		 "\"ratio_handed_to_off\":%.3f,\"batch\":%d,\"depth\":%d",
		 by_hand ? "handed" : "acked", ma, mh, ratio(ma, moa), ratio(mh, moh), BATCH,
		 depth);
	summary(by_hand ? handed : acked, n, extra, sizeof(extra));
	bench_append_array(extra, sizeof(extra), by_hand ? "samples_acked" : "samples_handed",
			   by_hand ? acked : handed, n);
	bench_emit("durable", metric, by_hand ? mh : ma, "msg/s", n, extra);
}

/*
 * Throughput: smsrd without a journal, in sync and in batch mode, each on
 * a data dir of its own, all three started at once; a warm-up run of
 * WARMUP_MSGS each (not counted: the first run of a fresh smsrd faults in
 * its memory), then @runs rounds of the three in turn. msgs/s acked and
 * handed into @oa, @oh (off), @sa, @sh (sync), @ba, @bh (batch).
 */
static void ingest_part(int runs, double *sa, double *sh, double *oa, double *oh, double *ba,
			double *bh)
{
	static const char *const mode[3] = {NULL, "sync", "batch"};
	double *acked[3] = {oa, sa, ba}, *handed[3] = {oh, sh, bh};
	struct daemon d[3];

	for (int m = 0; m < 3; m++) {
		if (daemon_init(&d[m], ingest_cfg) || daemon_start(&d[m], mode[m], false, 10000))
			fprintf(stderr, "bench_durable: cannot start smsrd (%s)\n",
				mode[m] ? mode[m] : "off");
		run_ingest(&d[m], WARMUP_MSGS, NULL);
	}
	for (int i = 0; i < runs; i++) {
		for (int m = 0; m < 3; m++) {
			struct ingest r = run_ingest(&d[m], PIPE_MSGS, NULL);

			acked[m][i] = r.acked;
			handed[m][i] = r.handed;
		}
		fprintf(
		    stderr,
		    "run %d: off %.3g/%.3g sync %.3g/%.3g batch %.3g/%.3g msg/s (acked/handed)\n",
		    i + 1, oa[i], oh[i], sa[i], sh[i], ba[i], bh[i]);
	}
	for (int m = 0; m < 3; m++)
		daemon_fini(&d[m]);
}

/*
 * Ack latency at half of @durable msgs/s (or at ack=N of @parts, or 500 K/s
 * without either), @runs runs on a fresh smsrd each, the latencies in @p.
 */
static void ack_part(const char *parts, int runs, double durable, struct paced *p)
{
	const char *at = strstr(parts, "ack=");
	double half = at ? atof(at + 4) : durable > 0 ? durable / 2 : 500000;
	uint64_t interval = (uint64_t)(BATCH * 1e9 / half);
	double p50[MAX_RUNS], p99[MAX_RUNS];
	char extra[1024];

	for (int i = 0; i < runs; i++) {
		struct daemon d;

		p->n = 0, p->calls = p->skipped = p->accepted = 0;
		p50[i] = p99[i] = -1;
		if (daemon_init(&d, ingest_cfg) == 0 &&
		    daemon_start(&d, "sync", false, 10000) == 0 &&
		    run_paced(d.addr, interval, p) == 0) {
			p50[i] = bench_percentile(p->lat_ms, p->n, 50);
			p99[i] = bench_percentile(p->lat_ms, p->n, 99);
		}
		fprintf(stderr,
			"paced %d: every %llu us, %llu calls (%llu skipped), %zu timed, p50 %.3f "
			"p99 %.3f max %.3f ms\n",
			i + 1, (unsigned long long)(interval / 1000), (unsigned long long)p->calls,
			(unsigned long long)p->skipped, p->n, p50[i], p99[i],
			p->n ? p->lat_ms[p->n - 1] : 0);
		daemon_fini(&d);
	}
	snprintf(extra, sizeof(extra), ",\"load_msgs_per_sec\":%.4g,\"call_every_us\":%.1f", half,
		 (double)interval / 1e3);
	bench_emit("durable", "durable_ack_p50_ms", summary(p50, runs, extra, sizeof(extra)), "ms",
		   runs, extra);
	snprintf(extra, sizeof(extra), ",\"load_msgs_per_sec\":%.4g,\"call_every_us\":%.1f", half,
		 (double)interval / 1e3);
	bench_emit("durable", "durable_ack_p99_ms", summary(p99, runs, extra, sizeof(extra)), "ms",
		   runs, extra);
}

/* recovery_ms_per_1m_msgs: RECOVER_RUNS runs. */
static void recovery_part(void)
{
	double rec[MAX_RUNS], rec_empty[MAX_RUNS], lost[MAX_RUNS];
	char extra[1024];
	int nrec = 0, bad = 0;

	for (int i = 0; i < RECOVER_RUNS; i++) {
		struct recovery r;

		if (run_recovery(&r) || !r.not_final) {
			fprintf(stderr, "recovery %d: failed\n", i + 1);
			continue;
		}
		fprintf(stderr,
			"recovery %d: acked %llu (rejected %llu: busy lanes %llu memory %llu late "
			"%llu), replayed %llu records, %llu not final, stats "
			"accepted %llu; %.1f ms (fresh dir %.1f ms)\n",
			i + 1, (unsigned long long)r.acked, (unsigned long long)r.rejected,
			(unsigned long long)r.busy[0], (unsigned long long)r.busy[1],
			(unsigned long long)r.busy[2], (unsigned long long)r.records,
			(unsigned long long)r.not_final, (unsigned long long)r.accepted, r.ms,
			r.empty_ms);
		bad += r.accepted != r.not_final;
		rec[nrec] = r.ms * 1e6 / (double)r.not_final;
		lost[nrec] = r.accepted < r.not_final ? (double)(r.not_final - r.accepted) : 0;
		rec_empty[nrec++] = r.empty_ms;
	}
	if (nrec) {
		double e[MAX_RUNS];

		memcpy(e, rec_empty, sizeof(e));
		snprintf(extra, sizeof(extra),
			 ",\"msgs\":%u,\"fresh_dir_start_ms\":%.4g,\"check\":\"stats accepted == "
			 "messages not final in smsrd's replay line\",\"check_failed_runs\":%d",
			 RECOVER_MSGS, bench_median(e, (size_t)nrec), bad);
		bench_append_array(extra, sizeof(extra), "not_taken_back", lost, nrec);
		bench_emit("durable", "recovery_ms_per_1m_msgs",
			   summary(rec, nrec, extra, sizeof(extra)), "ms", nrec, extra);
	}
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	const char *parts = argc > 2 ? argv[2] : "ingest,ack,recovery,bytes";
	double sa[MAX_RUNS], sh[MAX_RUNS], oa[MAX_RUNS], oh[MAX_RUNS], ba[MAX_RUNS], bh[MAX_RUNS];
	double med[MAX_RUNS];
	struct paced p = {.cap = 1u << 20};

	signal(SIGPIPE, SIG_IGN);
	runs = runs < 1 ? 1 : runs > MAX_RUNS ? MAX_RUNS : runs;
	if (strstr(parts, "depth="))
		depth = (unsigned)atoi(strstr(parts, "depth=") + 6);
	depth = depth < 1 ? 1 : depth > SLOTS ? SLOTS : depth;
	bench_templated_frames(SLOTS, BATCH, frames, frame_len);
	p.lat_ms = malloc(p.cap * sizeof(*p.lat_ms));
	for (int k = 0; k < SLOTS; k++)
		if (!frames[k] || !p.lat_ms) {
			fprintf(stderr, "bench_durable: out of memory\n");
			return 1;
		}

	if (strstr(parts, "ingest"))
		ingest_part(runs, sa, sh, oa, oh, ba, bh);
	if (strstr(parts, "ingest")) {
		emit_ingest("durable_ingest_msgs_per_sec", sa, sh, oa, oh, runs, false);
		emit_ingest("ingest_pipelined_msgs_per_sec", oa, oh, oa, oh, runs, true);
		emit_ingest("durable_batch_ingest_msgs_per_sec", ba, bh, oa, oh, runs, false);
		memcpy(med, sa, sizeof(sa));
	}
	if (strstr(parts, "ack"))
		ack_part(parts, runs, strstr(parts, "ingest") ? bench_median(med, (size_t)runs) : 0,
			 &p);
	if (strstr(parts, "recovery"))
		recovery_part();
	if (strstr(parts, "bytes"))
		bench_bytes();
	for (int k = 0; k < SLOTS; k++)
		free(frames[k]);
	free(p.lat_ms);
	return 0;
}
