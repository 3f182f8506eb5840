/* SPDX-License-Identifier: MIT */
/*
 * Description: the history archive (core/journal/archive*.c). 3,000
 * messages with histories of 3 to 7 events (delivered, failed, moved to a
 * second channel, expired) are fed in time order in batches, interleaved
 * as a router would emit them. Each query kind (history by id, messages by
 * client_ref, by recipient and by channel in a time range) returns exactly
 * the rows a brute-force model computes, in order, both ways; paging with
 * pages of 1, 7 and 100 walks all of them without duplicates or gaps, and a
 * callback may stop a page early. Re-feeding is a no-op; closing and
 * reopening keeps everything; retention deletes exactly the messages whose
 * last event is older, in bounded chunks; invalid rows change nothing; bad
 * paths, foreign files and foreign databases fail with a sentence naming
 * the file; EXPLAIN QUERY PLAN shows no full scan and no sort for any
 * query. A reader thread querying while a writer thread adds sees every
 * committed event and only whole batches: each history a prefix of the
 * model's, in order. Files live in a temporary directory under /tmp,
 * removed at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "journal/archive.h"

#define NMSG	3000
#define MAXEV	7
#define NRCPT	50
#define NREF	300
#define BASE_ID (1ull << 40)
#define T0	1767225600000000000ull /* 2026-01-01T00:00:00Z */
#define MS	1000000ull
#define SEC	(1000 * MS)
#define NCHAN	3
#define BATCH	500
#define MAXROWS (NMSG * MAXEV)

static const char *const chans[NCHAN] = {"cmcc-a", "cucc-b", "ctcc-c"};

struct mmsg {
	uint64_t id;
	char recipient[20];
	char ref[16]; /* "" none */
	char tags[24];
	char cm[2][16];
	int nev;
	struct smsr__archive_row ev[MAXEV];
};

static struct mmsg model[NMSG];
static const struct smsr__archive_row *feed[MAXROWS]; /* every event, in time order */
static size_t nfeed;
static size_t feedpos[NMSG][MAXEV]; /* where each model event is in feed[] */
static char dir[] = "/tmp/smsr-archive-XXXXXX";

/* --- the model ---------------------------------------------------------- */

static void add_ev(struct mmsg *m, uint8_t type, uint64_t dt, int ch, uint8_t attempt,
		   const char *cm, int32_t reason, int32_t op)
{
	struct smsr__archive_row *r = &m->ev[m->nev++];

	*r = (struct smsr__archive_row){.id = m->id,
					.ts_ns = m->ev[0].ts_ns + dt,
					.accepted_ns = m->ev[0].ts_ns,
					.type = type,
					.cls = m->ev[0].cls,
					.carrier = m->ev[0].carrier,
					.attempt = attempt,
					.channel = ch,
					.reason = reason,
					.op_code = op,
					.segments = m->ev[0].segments,
					.channel_name = ch >= 0 ? chans[ch] : NULL,
					.carrier_msgid = cm,
					.client_ref = m->ev[0].client_ref,
					.recipient = m->recipient,
					.tags = m->ev[0].tags};
}

/* Message @i: accepted at T0 + i/2 ms, one of four life stories by i % 4. */
static void model_msg(int i)
{
	struct mmsg *m = &model[i];
	int j = i / 2; /* a pair shares recipient, channel and times: keys tie */
	int ch = j % NCHAN, ch2 = (j + 1) % NCHAN;
	uint64_t late = 500 * MS + (uint64_t)(j % 97) * 10 * MS;

	m->id = BASE_ID + (uint64_t)i * 3;
	snprintf(m->recipient, sizeof(m->recipient), "+861380000%04d", j % NRCPT);
	if (i % 7)
		snprintf(m->ref, sizeof(m->ref), "order-%d", i % NREF);
	snprintf(m->tags, sizeof(m->tags), "campaign=%d", i % 5);
	snprintf(m->cm[0], sizeof(m->cm[0]), "cm%06d", i);
	snprintf(m->cm[1], sizeof(m->cm[1]), "cx%06d", i);
	m->ev[0] = (struct smsr__archive_row){.id = m->id,
					      .ts_ns = T0 + (uint64_t)j * MS,
					      .type = SMSR_EV_ACCEPTED,
					      .cls = (uint8_t)(1 + i % 3),
					      .carrier = (uint8_t)(1 + i % 4),
					      .attempt = 1,
					      .channel = -1,
					      .segments = (uint32_t)(1 + i % 2),
					      .client_ref = m->ref[0] ? m->ref : NULL,
					      .recipient = m->recipient,
					      .tags = m->tags};
	m->ev[0].accepted_ns = m->ev[0].ts_ns;
	m->nev = 1;
	add_ev(m, SMSR_EV_QUEUED, 1 * MS, ch, 1, NULL, 0, 0);
	switch (i % 4) {
	case 0:
	case 1:
		add_ev(m, SMSR_EV_HANDOFF, 2 * MS, ch, 1, NULL, 0, 0);
		add_ev(m, SMSR_EV_SUBMITTED, 5 * MS, ch, 1, m->cm[0], 0, 0);
		if (i % 4 == 0)
			add_ev(m, SMSR_EV_DELIVERED, late, ch, 1, m->cm[0], 0, 0);
		else
			add_ev(m, SMSR_EV_FAILED, late, ch, 1, m->cm[0], -SMSR_EUNDELIVERED, 5);
		break;
	case 2:
		add_ev(m, SMSR_EV_HANDOFF, 2 * MS, ch, 1, NULL, 0, 0);
		add_ev(m, SMSR_EV_QUEUED, 40 * MS, ch2, 2, NULL, 0, 0);
		add_ev(m, SMSR_EV_HANDOFF, 41 * MS, ch2, 2, NULL, 0, 0);
		add_ev(m, SMSR_EV_SUBMITTED, 45 * MS, ch2, 2, m->cm[1], 0, 0);
		add_ev(m, SMSR_EV_DELIVERED, late + 40 * MS, ch2, 2, m->cm[1], 0, 0);
		break;
	default:
		add_ev(m, SMSR_EV_EXPIRED, late * 2, ch, 1, NULL, -SMSR_EEXPIRED, 0);
	}
}

static int cmp_feed(const void *x, const void *y)
{
	const struct smsr__archive_row *a = *(const struct smsr__archive_row *const *)x;
	const struct smsr__archive_row *b = *(const struct smsr__archive_row *const *)y;

	if (a->ts_ns != b->ts_ns)
		return a->ts_ns < b->ts_ns ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static struct mmsg *model_find(uint64_t id)
{
	uint64_t i = (id - BASE_ID) / 3;

	if (id < BASE_ID || (id - BASE_ID) % 3 || i >= NMSG)
		return NULL;
	return &model[i];
}

static const struct smsr__archive_row *model_event(uint64_t id, uint64_t ts, uint8_t type)
{
	struct mmsg *m = model_find(id);

	for (int i = 0; m && i < m->nev; i++)
		if (m->ev[i].ts_ns == ts && m->ev[i].type == type)
			return &m->ev[i];
	return NULL;
}

/* --- helpers ------------------------------------------------------------ */

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void remove_db(const char *name)
{
	char p[256], q[300];

	path_of(p, sizeof(p), name);
	unlink(p);
	snprintf(q, sizeof(q), "%s-wal", p);
	unlink(q);
	snprintf(q, sizeof(q), "%s-shm", p);
	unlink(q);
}

static struct smsr__archive *open_db(const char *name, const struct smsr__archive_opts *o)
{
	struct smsr__archive *a;
	char p[256], err[256] = "";
	int rc;

	path_of(p, sizeof(p), name);
	rc = smsr__archive_open(p, o, &a, err, sizeof(err));
	if (rc)
		fail_msg("open %s: %d %s", p, rc, err);
	return a;
}

/* Feed the model's events [from, to) in batches; the number added. */
static int feed_range(struct smsr__archive *a, size_t from, size_t to, size_t batch)
{
	static struct smsr__archive_row rows[BATCH];
	int added = 0;

	for (size_t i = from; i < to; i += batch) {
		size_t n = to - i < batch ? to - i : batch;
		int rc;

		for (size_t k = 0; k < n; k++)
			rows[k] = *feed[i + k];
		rc = smsr__archive_add(a, rows, n);
		assert_true(rc >= 0);
		added += rc;
	}
	return added;
}

static int str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* A row from the archive is the model's event with its message's fields. */
static void check_row(const struct smsr__archive_row *r)
{
	const struct smsr__archive_row *e = model_event(r->id, r->ts_ns, r->type);

	assert_non_null(e);
	assert_int_equal(r->accepted_ns, e->accepted_ns);
	assert_int_equal(r->cls, e->cls);
	assert_int_equal(r->carrier, e->carrier);
	assert_int_equal(r->attempt, e->attempt);
	assert_int_equal(r->channel, e->channel);
	assert_int_equal(r->reason, e->reason);
	assert_int_equal(r->op_code, e->op_code);
	assert_int_equal(r->segments, e->segments);
	assert_true(str_eq(r->channel_name, e->channel_name));
	assert_true(str_eq(r->carrier_msgid, e->carrier_msgid));
	assert_true(str_eq(r->client_ref, e->client_ref));
	assert_true(str_eq(r->recipient, e->recipient));
	assert_true(str_eq(r->tags, e->tags));
}

/* A summary from the archive is what the model's whole history says. */
static void check_msg(const struct smsr__archive_msg *s)
{
	struct mmsg *m = model_find(s->id);
	const struct smsr__archive_row *last;

	assert_non_null(m);
	last = &m->ev[m->nev - 1];
	assert_int_equal(s->accepted_ns, m->ev[0].ts_ns);
	assert_int_equal(s->last_ns, last->ts_ns);
	assert_int_equal(s->last_type, last->type);
	assert_int_equal(s->final_type, last->type);
	assert_int_equal(s->final_ns, last->ts_ns);
	assert_int_equal(s->final_reason, last->reason);
	assert_int_equal(s->final_op_code, last->op_code);
	assert_int_equal(s->events, m->nev);
	assert_int_equal(s->cls, m->ev[0].cls);
	assert_int_equal(s->carrier, m->ev[0].carrier);
	assert_int_equal(s->segments, m->ev[0].segments);
	assert_true(str_eq(s->recipient, m->recipient));
	assert_true(str_eq(s->client_ref, m->ref));
	assert_true(str_eq(s->tags, m->tags));
}

/* --- keys, the brute-force answers, and walking pages ------------------- */

struct key {
	int64_t k[3];
};

static int cmp_key(const void *x, const void *y)
{
	const struct key *a = x, *b = y;

	for (int i = 0; i < 3; i++)
		if (a->k[i] != b->k[i])
			return a->k[i] < b->k[i] ? -1 : 1;
	return 0;
}

enum {
	Q_HISTORY,
	Q_REF,
	Q_RECIPIENT,
	Q_CHANNEL
};

struct q {
	int kind;
	uint64_t id;
	const char *text;
	uint64_t t0, t1;
};

static struct key *keys_alloc(void)
{
	struct key *k = calloc(MAXROWS, sizeof(*k));

	assert_non_null(k);
	return k;
}

/* The rows @q must return, oldest first, as keys (time or id first). */
static size_t expected(const struct q *q, struct key *out)
{
	size_t n = 0;

	for (int i = 0; i < NMSG; i++) {
		struct mmsg *m = &model[i];

		if (q->kind == Q_REF && !strcmp(m->ref, q->text))
			out[n++] = (struct key){{(int64_t)m->id, 0, 0}};
		if (q->kind == Q_RECIPIENT && !strcmp(m->recipient, q->text) &&
		    m->ev[0].ts_ns >= q->t0 && m->ev[0].ts_ns < q->t1)
			out[n++] = (struct key){{(int64_t)m->ev[0].ts_ns, (int64_t)m->id, 0}};
		for (int e = 0; e < m->nev; e++) {
			const struct smsr__archive_row *r = &m->ev[e];

			if (q->kind == Q_HISTORY && m->id == q->id)
				out[n++] = (struct key){{(int64_t)r->ts_ns, r->type, 0}};
			if (q->kind == Q_CHANNEL && r->channel_name &&
			    !strcmp(r->channel_name, q->text) && r->ts_ns >= q->t0 &&
			    r->ts_ns < q->t1)
				out[n++] =
				    (struct key){{(int64_t)r->ts_ns, (int64_t)r->id, r->type}};
		}
	}
	qsort(out, n, sizeof(*out), cmp_key);
	return n;
}

struct walk {
	struct key *got;
	size_t n;
	int kind;
	int stop_after; /* callback asks to stop after this many rows in a page; 0: never */
	int in_page;
};

static int on_row(void *arg, const struct smsr__archive_row *r)
{
	struct walk *w = arg;

	check_row(r);
	if (w->kind == Q_HISTORY)
		w->got[w->n++] = (struct key){{(int64_t)r->ts_ns, r->type, 0}};
	else
		w->got[w->n++] = (struct key){{(int64_t)r->ts_ns, (int64_t)r->id, r->type}};
	return w->stop_after && ++w->in_page == w->stop_after;
}

static int on_msg(void *arg, const struct smsr__archive_msg *m)
{
	struct walk *w = arg;

	check_msg(m);
	if (w->kind == Q_REF)
		w->got[w->n++] = (struct key){{(int64_t)m->id, 0, 0}};
	else
		w->got[w->n++] = (struct key){{(int64_t)m->accepted_ns, (int64_t)m->id, 0}};
	return w->stop_after && ++w->in_page == w->stop_after;
}

static int run_page(struct smsr__archive *a, const struct q *q, struct smsr__archive_page *pg,
		    struct walk *w)
{
	switch (q->kind) {
	case Q_HISTORY:
		return smsr__archive_history(a, q->id, pg, on_row, w);
	case Q_REF:
		return smsr__archive_by_ref(a, q->text, pg, on_msg, w);
	case Q_RECIPIENT:
		return smsr__archive_by_recipient(a, q->text, q->t0, q->t1, pg, on_msg, w);
	default:
		return smsr__archive_by_channel(a, q->text, q->t0, q->t1, pg, on_row, w);
	}
}

/* Walk every page of @q; the rows in the order returned, into @w->got. */
static void walk_all(struct smsr__archive *a, const struct q *q, uint32_t limit, int desc,
		     struct walk *w)
{
	struct smsr__archive_page pg = {.limit = limit, .newest_first = (uint8_t)desc};
	int pages = 0;

	w->n = 0;
	w->kind = q->kind;
	do {
		int rc;

		w->in_page = 0;
		rc = run_page(a, q, &pg, w);
		assert_true(rc >= 0);
		assert_true((uint32_t)rc <= limit);
		assert_true(++pages <= MAXROWS + 1);
	} while (pg.more);
}

/* @q walked with @limit both ways returns exactly the model's rows. */
static size_t check_query(struct smsr__archive *a, const struct q *q, uint32_t limit,
			  struct key *want, struct key *got)
{
	size_t n = expected(q, want);
	struct walk w = {.got = got};

	walk_all(a, q, limit, 0, &w);
	assert_int_equal(w.n, n);
	assert_memory_equal(got, want, n * sizeof(*want));
	walk_all(a, q, limit, 1, &w);
	assert_int_equal(w.n, n);
	for (size_t i = 0; i < n; i++)
		assert_memory_equal(&got[i], &want[n - 1 - i], sizeof(*want));
	return n;
}

/* Every query kind, for a spread of keys, with pages of @limit. */
static void check_all_queries(struct smsr__archive *a, uint32_t limit)
{
	struct key *want = keys_alloc(), *got = keys_alloc();
	char name[32];
	size_t total = 0;

	for (int i = 0; i < NMSG; i += 37) {
		struct q q = {.kind = Q_HISTORY, .id = model[i].id};

		assert_int_equal(check_query(a, &q, limit, want, got), model[i].nev);
	}
	for (int r = 0; r < NREF; r += 13) {
		snprintf(name, sizeof(name), "order-%d", r);
		struct q q = {.kind = Q_REF, .text = name};

		total += check_query(a, &q, limit, want, got);
	}
	assert_true(total > 100);
	for (int r = 0; r < NRCPT; r += 7) {
		snprintf(name, sizeof(name), "+861380000%04d", r);
		struct q q = {
		    .kind = Q_RECIPIENT, .text = name, .t0 = T0 + 300 * MS, .t1 = T0 + 1100 * MS};
		struct q all = {.kind = Q_RECIPIENT, .text = name, .t1 = UINT64_MAX};

		assert_int_equal(check_query(a, &q, limit, want, got), 32);
		assert_int_equal(check_query(a, &all, limit, want, got), NMSG / NRCPT);
	}
	for (int c = 0; c < NCHAN; c++) {
		struct q q = {.kind = Q_CHANNEL,
			      .text = chans[c],
			      .t0 = T0 + 1000 * MS,
			      .t1 = T0 + 1500 * MS};

		assert_true(check_query(a, &q, limit, want, got) > 500);
	}
	/* The whole of one channel, with the largest page. */
	struct q whole = {.kind = Q_CHANNEL, .text = chans[1], .t1 = UINT64_MAX};

	assert_true(check_query(a, &whole, limit < 100 ? 100 : limit, want, got) > NMSG);
	free(want);
	free(got);
}

/* --- tests -------------------------------------------------------------- */

static void test_archive_queries_return_exact_rows_in_order_and_page_without_gaps(void **state)
{
	struct smsr__archive *a = open_db("q.db", NULL);

	assert_int_equal(feed_range(a, 0, nfeed, BATCH), (int)nfeed);
	check_all_queries(a, 7);
	check_all_queries(a, 100);
	/* Pages of one row, on a few queries. */
	struct key *want = keys_alloc(), *got = keys_alloc();
	struct q h = {.kind = Q_HISTORY, .id = model[2].id};
	struct q r = {.kind = Q_REF, .text = "order-5"};

	assert_int_equal(check_query(a, &h, 1, want, got), 7);
	assert_true(check_query(a, &r, 1, want, got) >= 9);
	/* Unknown keys: no rows, no more. */
	struct smsr__archive_page pg = {0};
	struct walk w = {.got = got, .kind = Q_HISTORY};

	assert_int_equal(smsr__archive_history(a, 12345, &pg, on_row, &w), 0);
	assert_false(pg.more);
	memset(&pg, 0, sizeof(pg));
	assert_int_equal(smsr__archive_by_channel(a, "nope", 0, UINT64_MAX, &pg, on_row, &w), 0);
	assert_int_equal(w.n, 0);
	free(want);
	free(got);
	smsr__archive_close(a);
	remove_db("q.db");
}

static void test_archive_callback_stops_a_page_and_the_next_page_continues(void **state)
{
	struct smsr__archive *a = open_db("stop.db", NULL);
	struct key *want = keys_alloc(), *got = keys_alloc();
	struct q q = {.kind = Q_CHANNEL, .text = chans[0], .t0 = T0, .t1 = T0 + 300 * MS};
	struct smsr__archive_page pg = {.limit = 50};
	struct walk w = {.got = got, .kind = Q_CHANNEL, .stop_after = 3};
	size_t n;

	feed_range(a, 0, nfeed, BATCH);
	n = expected(&q, want);
	assert_true(n > 10);
	do {
		w.in_page = 0;
		int rc = run_page(a, &q, &pg, &w);

		assert_true(rc >= 0 && rc <= 3);
	} while (pg.more);
	assert_int_equal(w.n, n);
	assert_memory_equal(got, want, n * sizeof(*want));
	free(want);
	free(got);
	smsr__archive_close(a);
	remove_db("stop.db");
}

static void test_archive_refeed_is_a_noop_and_reopen_keeps_everything(void **state)
{
	struct smsr__archive *a = open_db("re.db", NULL);

	assert_int_equal(feed_range(a, 0, nfeed, BATCH), (int)nfeed);
	/* The journal re-feeding what the archive already has. */
	assert_int_equal(feed_range(a, nfeed / 2, nfeed, 333), 0);
	smsr__archive_close(a);
	a = open_db("re.db", NULL);
	check_all_queries(a, 100);
	assert_int_equal(feed_range(a, 0, nfeed, BATCH), 0);
	check_all_queries(a, 100);
	smsr__archive_close(a);
	remove_db("re.db");
}

/* How many messages have their last event before @cutoff. */
static int model_older(uint64_t cutoff)
{
	int n = 0;

	for (int i = 0; i < NMSG; i++)
		n += model[i].ev[model[i].nev - 1].ts_ns < cutoff;
	return n;
}

static int count_msg(void *arg, const struct smsr__archive_msg *m)
{
	(*(int *)arg)++;
	return 0;
}

static int count_row(void *arg, const struct smsr__archive_row *r)
{
	(*(int *)arg)++;
	return 0;
}

static void test_archive_retention_deletes_exactly_the_old_ones_in_chunks(void **state)
{
	struct smsr__archive_opts o = {.retention_ns = 10 * SEC, .expire_chunk = 100};
	struct smsr__archive *a = open_db("ret.db", &o);
	uint64_t cutoff = T0 + 1800 * MS, now = cutoff + o.retention_ns;
	int old = model_older(cutoff), deleted = 0, calls = 0, rc;

	feed_range(a, 0, nfeed, BATCH);
	assert_true(old > 500 && old < NMSG - 500);
	assert_int_equal(smsr__archive_expire(a, cutoff), 0); /* nothing that old */
	while ((rc = smsr__archive_expire(a, now)) > 0) {
		assert_true(rc <= 100);
		deleted += rc;
		calls++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(deleted, old);
	assert_true(calls >= old / 100);
	/* Survivors whole, the expired gone with their events. */
	for (int i = 0; i < NMSG; i++) {
		struct mmsg *m = &model[i];
		struct smsr__archive_page pg = {.limit = 100};
		int n = 0, gone = m->ev[m->nev - 1].ts_ns < cutoff;

		assert_true(smsr__archive_history(a, m->id, &pg, count_row, &n) >= 0);
		assert_int_equal(n, gone ? 0 : m->nev);
	}
	int msgs = 0, rows = 0, want_rows = 0;

	for (int r = 0; r < NRCPT; r++) {
		char name[32];
		struct smsr__archive_page pg = {.limit = SMSR__ARCHIVE_PAGE_MAX};

		snprintf(name, sizeof(name), "+861380000%04d", r);
		smsr__archive_by_recipient(a, name, 0, UINT64_MAX, &pg, count_msg, &msgs);
	}
	assert_int_equal(msgs, NMSG - old);
	for (int c = 0; c < NCHAN; c++) {
		struct smsr__archive_page pg = {.limit = SMSR__ARCHIVE_PAGE_MAX};

		do
			assert_true(smsr__archive_by_channel(a, chans[c], 0, UINT64_MAX, &pg,
							     count_row, &rows) >= 0);
		while (pg.more);
	}
	for (int i = 0; i < NMSG; i++) {
		if (model[i].ev[model[i].nev - 1].ts_ns < cutoff)
			continue;
		for (int e = 0; e < model[i].nev; e++)
			want_rows += model[i].ev[e].channel_name != NULL;
	}
	assert_int_equal(rows, want_rows);
	smsr__archive_close(a);
	remove_db("ret.db");
}

static void test_archive_invalid_rows_change_nothing(void **state)
{
	struct smsr__archive *a = open_db("inv.db", NULL);
	struct smsr__archive_row rows[3] = {*feed[0], *feed[1], *feed[2]};
	char longname[SMSR__ARCHIVE_NAME_MAX + 2];
	struct smsr__archive_page pg = {0};
	int n = 0;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	rows[2].type = SMSR_EV_CHANNEL;
	assert_int_equal(smsr__archive_add(a, rows, 3), -SMSR_EINVAL);
	rows[2] = *feed[2];
	rows[1].channel_name = longname;
	assert_int_equal(smsr__archive_add(a, rows, 3), -SMSR_EINVAL);
	assert_int_equal(smsr__archive_history(a, feed[0]->id, &pg, count_row, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(smsr__archive_add(a, rows, 0), 0);
	smsr__archive_close(a);
	remove_db("inv.db");
}

static void expect_open_error(const char *path, int want, const char *words)
{
	struct smsr__archive *a = (struct smsr__archive *)1;
	char err[256] = "";
	int rc = smsr__archive_open(path, NULL, &a, err, sizeof(err));

	if (rc != want || !strstr(err, path) || !strstr(err, words))
		fail_msg("open %s: %d (want %d), \"%s\" (want \"%s\")", path, rc, want, err, words);
	assert_null(a);
}

static void test_archive_bad_paths_and_foreign_files_give_clear_errors(void **state)
{
	char p[256];
	sqlite3 *db;
	int fd;

	path_of(p, sizeof(p), "no/such/dir/a.db");
	expect_open_error(p, -ENOENT, "unable to open database file");
	path_of(p, sizeof(p), "text.db");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(write(fd, "not a database, just text.\n", 27), 27);
	close(fd);
	expect_open_error(p, -SMSR_ESTATE, "file is not a database");
	unlink(p);
	path_of(p, sizeof(p), "foreign.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	expect_open_error(p, -SMSR_ESTATE, "not an smsr archive");
	remove_db("foreign.db");
	path_of(p, sizeof(p), "newer.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	expect_open_error(p, -SMSR_ESTATE, "another version");
	remove_db("newer.db");
	expect_open_error(dir, -EISDIR, "unable to open");
}

struct plan {
	char text[2048];
};

static void on_plan(void *arg, const char *detail)
{
	struct plan *p = arg;
	size_t len = strlen(p->text);

	snprintf(p->text + len, sizeof(p->text) - len, "%s; ", detail);
}

static void test_archive_query_plans_are_index_range_scans(void **state)
{
	struct smsr__archive *a = open_db("plan.db", NULL);
	static const char *const index[4] = {"PRIMARY KEY", "msg_ref", "msg_recipient",
					     "event_chan"};

	feed_range(a, 0, nfeed, BATCH);
	for (int k = 0; k < 4; k++)
		for (int d = 0; d < 2; d++) {
			struct plan p = {""};

			assert_true(smsr__archive_plan(a, k, d, on_plan, &p) > 0);
			if (strstr(p.text, "SCAN") || strstr(p.text, "TEMP B-TREE") ||
			    !strstr(p.text, index[k]))
				fail_msg("query %d (%s): %s", k, d ? "desc" : "asc", p.text);
		}
	assert_int_equal(smsr__archive_plan(a, 4, 0, on_plan, NULL), -SMSR_EINVAL);
	smsr__archive_close(a);
	remove_db("plan.db");
}

/* --- one writer, one reader --------------------------------------------- */

struct race {
	struct smsr__archive *a;
	_Atomic size_t committed; /* feed[] rows committed so far */
	_Atomic int done;
	long reads, partial;
	unsigned seed;
};

static void *race_writer(void *arg)
{
	struct race *r = arg;
	static struct smsr__archive_row rows[200];

	for (size_t i = 0; i < nfeed; i += 200) {
		size_t n = nfeed - i < 200 ? nfeed - i : 200;

		for (size_t k = 0; k < n; k++)
			rows[k] = *feed[i + k];
		if (smsr__archive_add(r->a, rows, n) != (int)n)
			break;
		atomic_store(&r->committed, i + n);
	}
	atomic_store(&r->done, 1);
	return NULL;
}

struct seen {
	const struct mmsg *m;
	int n, bad;
};

/* The history read is the model's in order; accepted fields from the summary. */
static int race_row(void *arg, const struct smsr__archive_row *row)
{
	struct seen *s = arg;
	const struct smsr__archive_row *e = s->n < s->m->nev ? &s->m->ev[s->n] : NULL;

	if (!e || row->ts_ns != e->ts_ns || row->type != e->type ||
	    row->accepted_ns != s->m->ev[0].ts_ns || !str_eq(row->recipient, s->m->recipient))
		s->bad++;
	s->n++;
	return 0;
}

static void *race_reader(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->done)) {
		size_t c = atomic_load(&r->committed), must = 0;
		const struct smsr__archive_row *pick;
		struct smsr__archive_page pg = {.limit = 100};
		struct seen s = {0};

		if (!c)
			continue;
		pick = feed[rand_r(&r->seed) % c];
		s.m = model_find(pick->id);
		/* Events of the message committed before the query began. */
		for (int e = 0; e < s.m->nev; e++)
			if (feedpos[s.m - model][e] < c)
				must = (size_t)e + 1;
		if (smsr__archive_history(r->a, s.m->id, &pg, race_row, &s) < 0 || s.bad ||
		    (size_t)s.n < must || pg.more) {
			r->reads = -1;
			break;
		}
		r->partial += s.n < s.m->nev;
		r->reads++;
	}
	return NULL;
}

static void test_archive_reader_sees_whole_batches_while_writer_adds(void **state)
{
	struct race r = {.a = open_db("race.db", NULL), .seed = (unsigned)time(NULL)};
	pthread_t w, rd;

	printf("seed %u\n", r.seed);
	assert_int_equal(pthread_create(&rd, NULL, race_reader, &r), 0);
	assert_int_equal(pthread_create(&w, NULL, race_writer, &r), 0);
	pthread_join(w, NULL);
	pthread_join(rd, NULL);
	assert_int_equal(atomic_load(&r.committed), nfeed);
	assert_true(r.reads > 0);
	printf("reads %ld, of them %ld mid-history\n", r.reads, r.partial);
	check_all_queries(r.a, 100);
	smsr__archive_close(r.a);
	remove_db("race.db");
}

/* --- setup -------------------------------------------------------------- */

static int group_setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	for (int i = 0; i < NMSG; i++) {
		model_msg(i);
		for (int e = 0; e < model[i].nev; e++)
			feed[nfeed++] = &model[i].ev[e];
	}
	qsort(feed, nfeed, sizeof(feed[0]), cmp_feed);
	for (size_t k = 0; k < nfeed; k++) {
		struct mmsg *m = model_find(feed[k]->id);

		feedpos[m - model][feed[k] - m->ev] = k;
	}
	return 0;
}

/* Remove the directory, with whatever a failed test left in it. */
static int group_teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_archive_queries_return_exact_rows_in_order_and_page_without_gaps),
	    cmocka_unit_test(test_archive_callback_stops_a_page_and_the_next_page_continues),
	    cmocka_unit_test(test_archive_refeed_is_a_noop_and_reopen_keeps_everything),
	    cmocka_unit_test(test_archive_retention_deletes_exactly_the_old_ones_in_chunks),
	    cmocka_unit_test(test_archive_invalid_rows_change_nothing),
	    cmocka_unit_test(test_archive_bad_paths_and_foreign_files_give_clear_errors),
	    cmocka_unit_test(test_archive_query_plans_are_index_range_scans),
	    cmocka_unit_test(test_archive_reader_sees_whole_batches_while_writer_adds),
	};

	return cmocka_run_group_tests_name("archive", tests, group_setup, group_teardown);
}
