/* SPDX-License-Identifier: MIT */
/*
 * The history archive, fed from the journal (core/journal/archive.h).
 *
 * Every commit the journal makes durable is tapped on its writer thread:
 * the bytes are copied into a queue, and the archiver thread turns their
 * records into history rows (accepted, handed off, submitted with carrier
 * ids, queued again, final with reason and operator code) and adds them to
 * SQLite in batches, off the hot path. Once a commit's rows are in, the
 * journal may delete the segments it ends (smsr__journal_set_archived), so
 * what the archive has not taken is never compacted away; after a crash the
 * replay re-feeds the archive's last, unsynchronized second (adding is
 * idempotent). Retention is applied once a minute.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "journal/archive.h"
#include "base/clock.h"
#include "router_int.h"
#include "router_journal.h"

#define BATCH_ROWS 4096
#define EXPIRE_NS  (60ull * 1000000000ull)

struct achunk {
	struct achunk *next;
	uint64_t last_lsn;
	size_t len;
	uint8_t data[];
};

struct smsr__archiver {
	struct smsr__archive *a;
	struct smsr__journal *j;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct achunk *head, *tail;
	bool stop, started;
	bool keep; /* journal_keep: never let the journal delete a segment */
	struct smsr__archive_row rows[BATCH_ROWS];
	char *strs; /* channel names and carrier ids of the batch */
	size_t strs_len, strs_cap;
	size_t nrows;
	uint64_t next_expire;
};

/* On the journal's writer thread: keep a copy of what was committed. */
void smsr__archiver_tap(struct smsr__archiver *ar, const struct iovec *iov, int n,
			uint64_t last_lsn)
{
	size_t len = 0;
	struct achunk *c;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	c = malloc(sizeof(*c) + len);
	if (!c)
		return; /* the archive misses these; the journal keeps them */
	c->next = NULL;
	c->last_lsn = last_lsn;
	c->len = len;
	len = 0;
	for (int i = 0; i < n; i++) {
		memcpy(c->data + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	pthread_mutex_lock(&ar->mu);
	if (ar->tail)
		ar->tail->next = c;
	else
		ar->head = c;
	ar->tail = c;
	pthread_cond_signal(&ar->cv);
	pthread_mutex_unlock(&ar->mu);
}

/* A copy of @n bytes of @s, NUL-terminated, valid until the batch is added. */
static const char *keep(struct smsr__archiver *ar, const char *s, size_t n)
{
	char *p;

	if (ar->strs_len + n + 1 > ar->strs_cap)
		return NULL; /* the batch is flushed first (see room()) */
	p = ar->strs + ar->strs_len;
	memcpy(p, s, n);
	p[n] = '\0';
	ar->strs_len += n + 1;
	return p;
}

static void flush(struct smsr__archiver *ar)
{
	if (ar->nrows)
		(void)smsr__archive_add(ar->a, ar->rows, ar->nrows);
	ar->nrows = 0;
	ar->strs_len = 0;
}

static struct smsr__archive_row *room(struct smsr__archiver *ar, size_t strs)
{
	if (ar->nrows == BATCH_ROWS || ar->strs_len + strs + 2 > ar->strs_cap)
		flush(ar);
	memset(&ar->rows[ar->nrows], 0, sizeof(ar->rows[0]));
	return &ar->rows[ar->nrows++];
}

static void row_accept(struct smsr__archiver *ar, uint64_t id, const uint8_t *p, uint32_t len)
{
	struct smsr__jaccept a;
	struct smsr__archive_row *row;
	const char *d;

	if (len < sizeof(a))
		return;
	memcpy(&a, p, sizeof(a));
	if (len < sizeof(a) + a.text_len + a.sender_len + a.ref_len + a.tags_len + 4u)
		return;
	row = room(ar, sizeof(a.recipient) + a.ref_len + a.tags_len + 3);
	d = (const char *)p + sizeof(a) + a.text_len + 1 + a.sender_len + 1;
	row->id = id;
	row->ts_ns = row->accepted_ns = a.accepted_unix_ns;
	row->type = SMSR_EV_ACCEPTED;
	row->cls = a.cls;
	row->carrier = a.carrier;
	row->attempt = a.attempt ? a.attempt : 1;
	row->channel = -1;
	row->segments = a.segments;
	row->recipient = keep(ar, a.recipient, strnlen(a.recipient, sizeof(a.recipient)));
	row->client_ref = a.has_ref ? keep(ar, d, a.ref_len) : NULL;
	row->tags = a.tags_len ? keep(ar, d + a.ref_len + 1, a.tags_len) : NULL;
}

static void row_state(struct smsr__archiver *ar, uint8_t jtype, uint64_t id, const uint8_t *p,
		      uint32_t len)
{
	struct smsr__jstate st;
	struct smsr__archive_row *row;
	size_t nl, il;

	if (len < sizeof(st))
		return;
	memcpy(&st, p, sizeof(st));
	nl = st.name_len < len - sizeof(st) ? st.name_len : len - sizeof(st);
	il = len - sizeof(st) - nl;
	row = room(ar, nl + il);
	row->id = id;
	row->ts_ns = st.ts_unix_ns;
	row->type = jtype == SMSR__JREC_HANDOFF	    ? SMSR_EV_HANDOFF
		    : jtype == SMSR__JREC_SUBMITTED ? SMSR_EV_SUBMITTED
		    : jtype == SMSR__JREC_QUEUED    ? SMSR_EV_QUEUED
						    : st.type;
	row->attempt = st.attempt;
	row->reason = st.reason;
	row->op_code = st.op_code;
	row->channel = -1;
	row->channel_name = nl ? keep(ar, (const char *)p + sizeof(st), nl) : NULL;
	if (jtype == SMSR__JREC_SUBMITTED && il)
		row->carrier_msgid = keep(ar, (const char *)p + sizeof(st) + nl, il);
}

/* One journal record as a history row (if it makes one). */
void smsr__archiver_feed(struct smsr__archiver *ar, uint8_t type, uint64_t id, const void *p,
			 uint32_t len)
{
	if (type == SMSR__JREC_ACCEPT)
		row_accept(ar, id, p, len);
	else if (type >= SMSR__JREC_QUEUED && type <= SMSR__JREC_FINAL &&
		 type != SMSR__JREC_DEFERRED)
		row_state(ar, type, id, p, len);
}

/* What was fed outside the thread (the replay at start) goes in now. */
void smsr__archiver_flush(struct smsr__archiver *ar)
{
	flush(ar);
}

/* Every record of one committed chunk, as rows. */
static void take(struct smsr__archiver *ar, const struct achunk *c)
{
	size_t off = 0;

	while (off + SMSR__JOURNAL_REC_HDR <= c->len) {
		const uint8_t *r = c->data + off;
		uint32_t len;
		uint64_t id;

		memcpy(&len, r, 4);
		if (len < SMSR__JOURNAL_REC_HDR || off + len > c->len)
			break;
		memcpy(&id, r + 12, 8);
		smsr__archiver_feed(ar, r[8], id, r + SMSR__JOURNAL_REC_HDR,
				    len - SMSR__JOURNAL_REC_HDR);
		off += (len + 7u) & ~7u;
	}
}

static void *archiver_main(void *arg)
{
	struct smsr__archiver *ar = arg;

	pthread_mutex_lock(&ar->mu);
	for (;;) {
		struct achunk *list = ar->head, *c;
		uint64_t last = 0;

		ar->head = ar->tail = NULL;
		if (!list && ar->stop)
			break;
		if (!list) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&ar->cv, &ar->mu, &ts);
			pthread_mutex_unlock(&ar->mu);
			if (smsr__wall_ns() >= ar->next_expire) {
				(void)smsr__archive_expire(ar->a, smsr__wall_ns());
				ar->next_expire = smsr__wall_ns() + EXPIRE_NS;
			}
			pthread_mutex_lock(&ar->mu);
			continue;
		}
		pthread_mutex_unlock(&ar->mu);
		while ((c = list)) {
			list = c->next;
			take(ar, c);
			last = c->last_lsn;
			free(c);
		}
		flush(ar);
		if (last && !ar->keep)
			smsr__journal_set_archived(ar->j, last);
		pthread_mutex_lock(&ar->mu);
	}
	pthread_mutex_unlock(&ar->mu);
	return NULL;
}

int smsr__archiver_open(struct smsr_router *r, const char *path, uint64_t retention_ns, char *err,
			size_t errlen)
{
	struct smsr__archiver *ar = calloc(1, sizeof(*ar));
	struct smsr__archive_opts ao = {.retention_ns = retention_ns};
	int ret;

	if (!ar)
		return -SMSR_ENOMEM;
	ar->strs_cap = 1u << 20;
	ar->strs = malloc(ar->strs_cap);
	if (!ar->strs) {
		free(ar);
		return -SMSR_ENOMEM;
	}
	ret = smsr__archive_open(path, &ao, &ar->a, err, errlen);
	if (ret < 0) {
		free(ar->strs);
		free(ar);
		return ret;
	}
	pthread_mutex_init(&ar->mu, NULL);
	pthread_cond_init(&ar->cv, NULL);
	r->archiver = ar;
	return 0;
}

int smsr__archiver_start(struct smsr_router *r)
{
	struct smsr__archiver *ar = r->archiver;
	int ret;

	ar->j = r->journal;
	ar->keep = r->journal_keep;
	ret = pthread_create(&ar->thread, NULL, archiver_main, ar);
	if (ret)
		return -ret;
	ar->started = true;
	return 0;
}

void smsr__archiver_close(struct smsr_router *r)
{
	struct smsr__archiver *ar = r->archiver;

	if (!ar)
		return;
	if (ar->started) {
		pthread_mutex_lock(&ar->mu);
		ar->stop = true;
		pthread_cond_signal(&ar->cv);
		pthread_mutex_unlock(&ar->mu);
		pthread_join(ar->thread, NULL);
	}
	while (ar->head) {
		struct achunk *c = ar->head;

		ar->head = c->next;
		free(c);
	}
	smsr__archive_close(ar->a);
	pthread_mutex_destroy(&ar->mu);
	pthread_cond_destroy(&ar->cv);
	free(ar->strs);
	free(ar);
	r->archiver = NULL;
}

struct smsr__archive *smsr__archiver_db(const struct smsr_router *r)
{
	return r->archiver ? r->archiver->a : NULL;
}
