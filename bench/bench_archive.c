/* SPDX-License-Identifier: MIT */
/*
 * The history archive (core/journal/archive.h): how fast it takes rows,
 * what a message costs on disk, and how long each query kind takes on a
 * big archive.
 *
 *   archive_rows_per_sec        fresh archive, 100,000 messages of 6 events
 *                               (600,000 rows) in batches of 5,000; median of
 *                               5 runs, only the add calls timed
 *   archive_rows_per_sec_at_scale  the same while loading the big archive
 *   archive_bytes_per_msg       file size after close / messages, 6 events each
 *   archive_query_ms_*          first page (100 rows) of each query kind on
 *                               the big archive: 1 M messages, or as many as
 *                               load in 60 s; median of 3 rounds of 300 random
 *                               keys each (the round's median), spread in min/max
 *   archive_query_channel_walk_rows_per_sec  every page of one channel's second
 *   archive_expire_ms_per_chunk one expire call deleting 2,000 messages
 *
 * A message's life (what the router emits for a typical one): accepted,
 * queued, handoff, handoff again (attempt 2 after a channel timeout),
 * submitted, delivered (failed for one in ten). Rows are fed in time order,
 * interleaved across messages as the router's events are: one accepted
 * every 10 us, the rest 0.1 ms to 3 s later. Usage: bench_archive [MSGS
 * [--rate-only]] (MSGS: the big archive's size; default 1,000,000). Files
 * under /tmp, removed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "journal/archive.h"

#define NEV	   6
#define BATCH	   5000
#define T0	   1767225600000000000ull
#define ACC_STEP   10000ull /* ns between two accepted messages */
#define NCHAN	   8
#define NRCPT	   100000 /* recipients: 10 messages each in a million */
#define RUNS	   5
#define RATE_MSGS  100000
#define LOAD_LIMIT 60.0 /* seconds */
#define QROUNDS	   3
#define QKEYS	   300

static const uint64_t offset[NEV] = {0, 100000, 200000, 50000000, 80000000, 3000000000ull};
static const uint8_t type[NEV] = {SMSR_EV_ACCEPTED, SMSR_EV_QUEUED,    SMSR_EV_HANDOFF,
				  SMSR_EV_HANDOFF,  SMSR_EV_SUBMITTED, SMSR_EV_DELIVERED};
static const char *const chans[NCHAN] = {"cmcc-smpp-1", "cmcc-smpp-2", "cucc-smpp-1", "cucc-cmpp-1",
					 "ctcc-smpp-1", "ctcc-smgp-1", "cbn-smpp-1",  "intl-agg-1"};

/* Events in time order: a merge of the six per-event sequences. */
struct gen {
	uint64_t nmsg;
	uint64_t next[NEV]; /* next message of each event kind */
	struct smsr__archive_row rows[BATCH];
	char str[BATCH][4][32]; /* recipient, ref, msgid, tags */
};

static uint64_t acc_of(uint64_t i)
{
	return T0 + i * ACC_STEP;
}

static void recipient_of(uint64_t i, char *buf, size_t n)
{
	uint64_t r = (i * 2654435761u) % NRCPT; /* a permutation of i % NRCPT */

	snprintf(buf, n, "+86138%08llu", (unsigned long long)r);
}

static void ref_of(uint64_t i, char *buf, size_t n)
{
	snprintf(buf, n, "ord-%010llu", (unsigned long long)(i / 2));
}

static void fill(struct gen *g, size_t slot, uint64_t i, int k)
{
	struct smsr__archive_row *r = &g->rows[slot];
	char(*s)[32] = g->str[slot];
	int failed = i % 10 == 7, ch = (int)(i % NCHAN);

	recipient_of(i, s[0], sizeof(s[0]));
	ref_of(i, s[1], sizeof(s[1]));
	snprintf(s[2], sizeof(s[2]), "%016llx", (unsigned long long)(i * 0x9e3779b97f4a7c15ull));
	snprintf(s[3], sizeof(s[3]), "campaign=c%llu", (unsigned long long)(i % 40));
	*r = (struct smsr__archive_row){
	    .id = (1ull << 40) + i,
	    .ts_ns = acc_of(i) + offset[k],
	    .accepted_ns = acc_of(i),
	    .type = (uint8_t)(k == NEV - 1 && failed ? SMSR_EV_FAILED : type[k]),
	    .cls = (uint8_t)(1 + i % 3),
	    .carrier = (uint8_t)(1 + ch / 2),
	    .attempt = (uint8_t)(k >= 3 ? 2 : 1),
	    .channel = k ? ch : -1,
	    .channel_name = k ? chans[ch] : NULL,
	    .reason = k == NEV - 1 && failed ? -SMSR_EUNDELIVERED : 0,
	    .op_code = k == NEV - 1 && failed ? 11 : 0,
	    .segments = 1 + (uint32_t)(i % 3 == 0),
	    .carrier_msgid = k >= 4 ? s[2] : NULL,
	    .client_ref = i % 5 ? s[1] : NULL,
	    .recipient = s[0],
	    .tags = i % 3 == 0 ? s[3] : NULL,
	};
}

/* The next batch of rows in time order; how many (0 at the end). */
static size_t gen_batch(struct gen *g)
{
	size_t n = 0;

	while (n < BATCH) {
		int best = -1;
		uint64_t bt = UINT64_MAX;

		for (int k = 0; k < NEV; k++)
			if (g->next[k] < g->nmsg && acc_of(g->next[k]) + offset[k] < bt) {
				bt = acc_of(g->next[k]) + offset[k];
				best = k;
			}
		if (best < 0)
			break;
		fill(g, n++, g->next[best]++, best);
	}
	return n;
}

/* Load @nmsg messages into @a, stopping after @limit_s; messages loaded. */
static uint64_t load(struct smsr__archive *a, struct gen *g, uint64_t nmsg, double limit_s,
		     double *add_s)
{
	uint64_t start = bench_now_ns(), spent = 0;
	size_t n;

	memset(g->next, 0, sizeof(g->next));
	g->nmsg = nmsg;
	while ((n = gen_batch(g)) > 0) {
		uint64_t t = bench_now_ns();

		if (smsr__archive_add(a, g->rows, n) < 0) {
			fprintf(stderr, "bench_archive: add failed\n");
			exit(1);
		}
		spent += bench_now_ns() - t;
		if ((double)(bench_now_ns() - start) / 1e9 > limit_s) {
			/* Stop feeding new messages; finish the ones begun. */
			uint64_t done = g->next[0];

			g->nmsg = done;
			limit_s = 1e9;
		}
	}
	*add_s = (double)spent / 1e9;
	return g->nmsg;
}

static void path_rm(const char *p)
{
	char q[300];

	unlink(p);
	snprintf(q, sizeof(q), "%s-wal", p);
	unlink(q);
	snprintf(q, sizeof(q), "%s-shm", p);
	unlink(q);
}

static struct smsr__archive *open_or_die(const char *p)
{
	struct smsr__archive *a;
	char err[256];

	if (smsr__archive_open(p, NULL, &a, err, sizeof(err))) {
		fprintf(stderr, "bench_archive: %s\n", err);
		exit(1);
	}
	return a;
}

static void emit_spread(const char *metric, double *v, int n, const char *unit, const char *more)
{
	char extra[512];
	double lo = v[0], hi = v[0];

	for (int i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	snprintf(extra, sizeof(extra), ",\"min\":%.4g,\"max\":%.4g%s", lo, hi, more ? more : "");
	bench_append_array(extra, sizeof(extra), "samples", v, n);
	bench_emit("archive", metric, bench_median(v, (size_t)n), unit, n, extra);
}

static void rate_runs(const char *dir, struct gen *g)
{
	double rate[RUNS];
	char p[256];

	snprintf(p, sizeof(p), "%s/rate.db", dir);
	for (int r = 0; r < RUNS; r++) {
		struct smsr__archive *a = open_or_die(p);
		double s;
		uint64_t m = load(a, g, RATE_MSGS, 1e9, &s);

		rate[r] = (double)(m * NEV) / s;
		smsr__archive_close(a);
		path_rm(p);
	}
	emit_spread("archive_rows_per_sec", rate, RUNS, "rows/s", ",\"batch\":5000");
}

static int count_row(void *arg, const struct smsr__archive_row *r)
{
	(*(uint64_t *)arg)++;
	return 0;
}

static int count_msg(void *arg, const struct smsr__archive_msg *m)
{
	(*(uint64_t *)arg)++;
	return 0;
}

/* One first page of query @kind for random key @i of @nmsg; its rows. */
static uint64_t one_query(struct smsr__archive *a, int kind, uint64_t i, uint64_t nmsg)
{
	struct smsr__archive_page pg = {.limit = 100};
	char key[32];
	uint64_t n = 0, t;

	switch (kind) {
	case 0:
		smsr__archive_history(a, (1ull << 40) + i, &pg, count_row, &n);
		break;
	case 1:
		ref_of(i | 1, key, sizeof(key)); /* odd i: never the i % 5 == 0 without a ref */
		smsr__archive_by_ref(a, key, &pg, count_msg, &n);
		break;
	case 2:
		recipient_of(i, key, sizeof(key));
		pg.newest_first = 1;
		smsr__archive_by_recipient(a, key, T0, T0 + 86400 * 1000000000ull, &pg, count_msg,
					   &n);
		break;
	default:
		t = acc_of(i);
		smsr__archive_by_channel(a, chans[i % NCHAN], t, t + 1000000000ull, &pg, count_row,
					 &n);
	}
	return n;
}

static void query_runs(struct smsr__archive *a, uint64_t nmsg)
{
	static const char *const names[4] = {"archive_query_ms_history", "archive_query_ms_by_ref",
					     "archive_query_ms_by_recipient",
					     "archive_query_ms_by_channel"};
	unsigned seed = 12345;

	for (int kind = 0; kind < 4; kind++) {
		double round[QROUNDS];
		uint64_t rows = 0;
		char more[96];

		for (int r = 0; r < QROUNDS; r++) {
			static double ms[QKEYS];

			for (int q = 0; q < QKEYS; q++) {
				uint64_t i = (uint64_t)rand_r(&seed) % nmsg, t = bench_now_ns();

				rows += one_query(a, kind, i, nmsg);
				ms[q] = (double)(bench_now_ns() - t) / 1e6;
			}
			round[r] = bench_median(ms, QKEYS);
		}
		snprintf(more, sizeof(more), ",\"rows_per_query\":%.1f,\"msgs\":%llu",
			 (double)rows / (QROUNDS * QKEYS), (unsigned long long)nmsg);
		emit_spread(names[kind], round, QROUNDS, "ms", more);
	}
}

static void walk_runs(struct smsr__archive *a, uint64_t nmsg)
{
	double rate[QROUNDS];

	for (int r = 0; r < QROUNDS; r++) {
		struct smsr__archive_page pg = {.limit = 1000};
		uint64_t i = nmsg / 2 + (uint64_t)r * 100000 % (nmsg / 4 + 1), n = 0;
		uint64_t t = bench_now_ns();

		do
			smsr__archive_by_channel(a, chans[r], acc_of(i), acc_of(i) + 1000000000ull,
						 &pg, count_row, &n);
		while (pg.more);
		rate[r] = (double)n * 1e9 / (double)(bench_now_ns() - t);
	}
	emit_spread("archive_query_channel_walk_rows_per_sec", rate, QROUNDS, "rows/s",
		    ",\"window_s\":1,\"page\":1000");
}

static void expire_runs(struct smsr__archive *a, uint64_t nmsg)
{
	double ms[RUNS];
	/* Retention 7 days: "now" where the first tenth of the messages expire. */
	uint64_t now = acc_of(nmsg / 10) + offset[NEV - 1] + SMSR__ARCHIVE_RETENTION_DFLT;
	int n = 0;

	for (int r = 0; r < RUNS; r++) {
		uint64_t t = bench_now_ns();

		n = smsr__archive_expire(a, now);
		ms[r] = (double)(bench_now_ns() - t) / 1e6;
	}
	emit_spread("archive_expire_ms_per_chunk", ms, RUNS, "ms",
		    n == 2000 ? ",\"chunk\":2000" : ",\"chunk\":\"short\"");
}

int main(int argc, char **argv)
{
	static struct gen g;
	char dir[] = "/tmp/smsr-bench-archive-XXXXXX", p[256], more[96];
	uint64_t want = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000, nmsg;
	struct smsr__archive *a;
	struct stat st;
	double s, load_rate;

	if (!mkdtemp(dir)) {
		perror("bench_archive: mkdtemp");
		return 1;
	}
	rate_runs(dir, &g);
	if (argc > 2 && !strcmp(argv[2], "--rate-only")) {
		rmdir(dir);
		return 0;
	}

	snprintf(p, sizeof(p), "%s/big.db", dir);
	a = open_or_die(p);
	nmsg = load(a, &g, want, LOAD_LIMIT, &s);
	load_rate = (double)(nmsg * NEV) / s;
	smsr__archive_close(a);
	stat(p, &st);
	snprintf(more, sizeof(more), ",\"msgs\":%llu,\"file_bytes\":%lld", (unsigned long long)nmsg,
		 (long long)st.st_size);
	bench_emit("archive", "archive_rows_per_sec_at_scale", load_rate, "rows/s", 1, more);
	bench_emit("archive", "archive_bytes_per_msg", (double)st.st_size / (double)nmsg, "B", 1,
		   more);

	a = open_or_die(p);
	query_runs(a, nmsg);
	walk_runs(a, nmsg);
	expire_runs(a, nmsg);
	smsr__archive_close(a);
	path_rm(p);
	rmdir(dir);
	return 0;
}
