/* SPDX-License-Identifier: MIT */
/*
 * The journal (core/journal/) in sync mode on the disk under DIR (default
 * /tmp): 120-byte payloads, the size of a typical accept record.
 *
 * journal_records_per_sec_sync{,_2t}: records made durable per second with 1
 * and 2 threads appending as fast as the journal takes them (every record is
 * durable when the clock stops). journal_commit_us_p50/p99: the time of one
 * group commit (write + fdatasync), from the writer's durable callbacks
 * under that load. journal_ack_us_p50/p99: append to durable, per record
 * (sampled), at 500 K records/s paced: half the 1 M/s target. journal_bytes_per_record:
 * framed bytes per record. Every metric twice: the write with a linked
 * fdatasync, and (suffix _dsync) one RWF_DSYNC write. Medians of RUNS runs;
 * the runs themselves in "samples".
 *
 * usage: bench_journal [DIR] [runs] [seconds]
 */
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "journal/journal.h"

#define PAYLOAD	     120
#define MAX_COMMITS  (1u << 20)
#define MAX_SAMPLES  (1u << 20)
#define SAMPLE_EVERY 64
#define HALF_LOAD    500000 /* records/s: half the 1 M/s target */

struct commit_log {
	_Atomic uint32_t n;
	uint64_t lsn[MAX_COMMITS];
	uint64_t t[MAX_COMMITS];
};

struct run {
	struct smsr__journal *j;
	struct commit_log *log;
	_Atomic int stop;
	uint64_t rate; /* per thread, records/s; 0 as fast as it goes */
	/* sampled (lsn, append time), paced runs only */
	uint64_t *s_lsn, *s_t;
	uint32_t ns;
};

struct appender {
	struct run *r;
	uint64_t n, last_lsn;
};

static void on_durable(void *arg, uint64_t lsn)
{
	struct commit_log *l = arg;
	uint32_t i = atomic_load_explicit(&l->n, memory_order_relaxed);

	if (i < MAX_COMMITS) {
		l->lsn[i] = lsn;
		l->t[i] = bench_now_ns();
		atomic_store_explicit(&l->n, i + 1, memory_order_release);
	}
}

static void *append_main(void *arg)
{
	struct appender *a = arg;
	struct run *r = a->r;
	char p[PAYLOAD];
	uint64_t t0 = bench_now_ns(), lsn;

	memset(p, 'x', sizeof(p));
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		uint64_t now = 0;
		int rc;

		if (r->rate) {
			uint64_t due = t0 + a->n * 1000000000ull / r->rate;

			while ((now = bench_now_ns()) < due)
				;
		}
		rc = smsr__journal_append(r->j, SMSR__JREC_ACCEPT, a->n, p, PAYLOAD, &lsn);
		if (rc == -SMSR_EBUSY) {
			sched_yield();
			continue;
		}
		if (rc)
			break;
		if (r->rate && a->n % SAMPLE_EVERY == 0 && r->ns < MAX_SAMPLES) {
			r->s_lsn[r->ns] = lsn;
			r->s_t[r->ns++] = now;
		}
		a->n++;
		a->last_lsn = lsn;
	}
	return NULL;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

struct result {
	double rps, commit_p50, commit_p99, ack_p50, ack_p99, bytes_per_rec;
};

/* One run: @nt threads for @secs, at @rate per thread (0: flat out). */
static struct result run_once(const char *base, bool dsync, int nt, uint64_t rate, double secs)
{
	char dir[256];
	struct commit_log *log = calloc(1, sizeof(*log));
	struct run r = {.log = log, .rate = rate};
	struct smsr__journal_opts o = {
	    .mode = SMSR__JOURNAL_SYNC, .dsync = dsync, .on_durable = on_durable, .arg = log};
	struct smsr__journal_stats st;
	struct appender a[2] = {{.r = &r}, {.r = &r}};
	pthread_t t[2];
	struct result res = {0};
	uint64_t t0, t1, last = 0, total = 0;
	char err[256];
	double *v;
	uint32_t n, k = 0;

	snprintf(dir, sizeof(dir), "%s/bench-journal-XXXXXX", base);
	if (!mkdtemp(dir) || !log) {
		perror("mkdtemp");
		exit(1);
	}
	o.dir = dir;
	if (smsr__journal_open(&o, &r.j, err, sizeof(err)) || smsr__journal_start(r.j)) {
		fprintf(stderr, "journal: %s\n", err);
		exit(1);
	}
	if (rate) {
		r.s_lsn = malloc(MAX_SAMPLES * sizeof(uint64_t));
		r.s_t = malloc(MAX_SAMPLES * sizeof(uint64_t));
	}
	t0 = bench_now_ns();
	for (int i = 0; i < nt; i++)
		pthread_create(&t[i], NULL, append_main, &a[i]);
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&r.stop, 1);
	for (int i = 0; i < nt; i++) {
		pthread_join(t[i], NULL);
		total += a[i].n;
		last = a[i].last_lsn > last ? a[i].last_lsn : last;
	}
	while (smsr__journal_durable_lsn(r.j) < last)
		usleep(50);
	t1 = bench_now_ns();
	res.rps = (double)total / ((double)(t1 - t0) / 1e9);
	n = atomic_load(&log->n);
	v = malloc((n + r.ns + 1) * sizeof(double));
	for (uint32_t i = 1; i < n; i++)
		v[i - 1] = (double)(log->t[i] - log->t[i - 1]) / 1e3;
	res.commit_p50 = bench_percentile(v, n > 1 ? n - 1 : 0, 50);
	res.commit_p99 = bench_percentile(v, n > 1 ? n - 1 : 0, 99);
	/* Ack latency: a sample is acked by the first commit at or past it. */
	for (uint32_t i = 0, c = 0; i < r.ns; i++) {
		while (c < n && log->lsn[c] < r.s_lsn[i])
			c++;
		if (c < n)
			v[k++] = (double)(log->t[c] - r.s_t[i]) / 1e3;
	}
	res.ack_p50 = bench_percentile(v, k, 50);
	res.ack_p99 = bench_percentile(v, k, 99);
	smsr__journal_stats(r.j, &st);
	res.bytes_per_rec = st.records ? (double)st.bytes_appended / (double)st.records : 0;
	smsr__journal_close(r.j);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(v);
	free(r.s_lsn);
	free(r.s_t);
	free(log);
	return res;
}

static void emit(const char *metric, const char *suffix, double *v, int runs, const char *unit)
{
	char name[96], extra[512] = "";

	snprintf(name, sizeof(name), "%s%s", metric, suffix);
	bench_append_array(extra, sizeof(extra), "samples", v, runs);
	bench_emit("journal", name, bench_median(v, (size_t)runs), unit, runs, extra);
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : "/tmp";
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	double secs = argc > 3 ? atof(argv[3]) : 2.0;

	if (runs < 1 || runs > 32)
		runs = 5;
	for (int d = 0; d < 2; d++) {
		const char *sfx = d ? "_dsync" : "";
		double r1[32], r2[32], c50[32], c99[32], a50[32], a99[32], bpr[32];

		for (int i = 0; i < runs; i++) {
			struct result x = run_once(base, d, 1, 0, secs);
			struct result y = run_once(base, d, 2, 0, secs);
			struct result z = run_once(base, d, 1, HALF_LOAD, secs);

			r1[i] = x.rps;
			r2[i] = y.rps;
			c50[i] = x.commit_p50;
			c99[i] = x.commit_p99;
			a50[i] = z.ack_p50;
			a99[i] = z.ack_p99;
			bpr[i] = x.bytes_per_rec;
		}
		emit("journal_records_per_sec_sync", sfx, r1, runs, "rec/s");
		emit("journal_records_per_sec_sync_2t", sfx, r2, runs, "rec/s");
		emit("journal_commit_us_p50", sfx, c50, runs, "us");
		emit("journal_commit_us_p99", sfx, c99, runs, "us");
		emit("journal_ack_us_p50", sfx, a50, runs, "us");
		emit("journal_ack_us_p99", sfx, a99, runs, "us");
		emit("journal_bytes_per_record", sfx, bpr, runs, "B");
	}
	return 0;
}
