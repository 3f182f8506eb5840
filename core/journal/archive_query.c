/* SPDX-License-Identifier: MIT */
/*
 * The archive's queries: a pool of read connections, and the four kinds of
 * query with keyset paging (archive.h says what each returns).
 *
 * The invariant that matters: every query is one statement, reset before
 * its connection goes back to the pool. A statement is a read transaction:
 * it sees one snapshot, and ending it promptly lets the writer's
 * checkpoints reclaim the WAL file.
 *
 * Each query is a range scan on an index, with the page's key as a row
 * value: `(ts_ns, id, type) > (?2, ?3, ?4)` continues exactly after the
 * last row returned, however many rows share its time. The first page
 * starts from a key just outside the range, so one statement serves every
 * page. The test suite checks the plans (smsr__archive_plan).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "archive_int.h"

enum {
	Q_HISTORY,
	Q_REF,
	Q_RECIPIENT,
	Q_CHANNEL
};

#define EV_COLS                                                                            \
	"SELECT e.id, e.ts_ns, e.type, e.attempt, e.chan_ix, c.name, e.reason, e.op_code," \
	" e.carrier_msgid, m.accepted_ns, m.cls, m.carrier, m.segments, m.client_ref,"     \
	" m.recipient, m.tags FROM event e LEFT JOIN chan c ON c.cid = e.chan"             \
	" LEFT JOIN msg m ON m.id = e.id "
/* The latest state, and the count, come from the message's events. */
#define MSG_COLS                                                                        \
	"SELECT m.id, m.accepted_ns,"                                                   \
	" (SELECT max(ts_ns) FROM event x WHERE x.id = m.id), m.final_ns, m.cls,"       \
	" m.carrier,"                                                                   \
	" (SELECT type FROM event x WHERE x.id = m.id ORDER BY ts_ns DESC, type DESC"   \
	"  LIMIT 1),"                                                                   \
	" m.final_type, m.final_reason, m.final_op, m.segments,"                        \
	" (SELECT count(*) FROM event x WHERE x.id = m.id), m.recipient, m.client_ref," \
	" m.tags FROM msg m "

/*
 * Parameters: ?1 what is looked for, ?2..?4 the key to continue after,
 * ?5 the far end of a time range, ?6 the limit (one more than a page, to
 * tell whether more follow).
 */
static const char *const query_sql[ARCHIVE_QKINDS][2] = {
    [Q_HISTORY] = {EV_COLS "WHERE e.id = ?1 AND (e.ts_ns, e.type) > (?2, ?3)"
			   " ORDER BY e.ts_ns, e.type LIMIT ?6",
		   EV_COLS "WHERE e.id = ?1 AND (e.ts_ns, e.type) < (?2, ?3)"
			   " ORDER BY e.ts_ns DESC, e.type DESC LIMIT ?6"},
    [Q_REF] = {MSG_COLS "WHERE m.client_ref = ?1 AND m.id > ?2 ORDER BY m.id LIMIT ?6",
	       MSG_COLS "WHERE m.client_ref = ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?6"},
    [Q_RECIPIENT] = {MSG_COLS "WHERE m.recipient = ?1 AND (m.accepted_ns, m.id) > (?2, ?3)"
			      " AND m.accepted_ns < ?5 ORDER BY m.accepted_ns, m.id LIMIT ?6",
		     MSG_COLS "WHERE m.recipient = ?1 AND (m.accepted_ns, m.id) < (?2, ?3)"
			      " AND m.accepted_ns >= ?5"
			      " ORDER BY m.accepted_ns DESC, m.id DESC LIMIT ?6"},
    [Q_CHANNEL] = {EV_COLS "WHERE e.chan = (SELECT cid FROM chan WHERE name = ?1)"
			   " AND (e.ts_ns, e.id, e.type) > (?2, ?3, ?4) AND e.ts_ns < ?5"
			   " ORDER BY e.ts_ns, e.id, e.type LIMIT ?6",
		   EV_COLS "WHERE e.chan = (SELECT cid FROM chan WHERE name = ?1)"
			   " AND (e.ts_ns, e.id, e.type) < (?2, ?3, ?4) AND e.ts_ns >= ?5"
			   " ORDER BY e.ts_ns DESC, e.id DESC, e.type DESC LIMIT ?6"},
};

int smsr__archive_reader_open(struct smsr__archive *a, const char *path, struct archive_reader *r)
{
	int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_extended_result_codes(r->db, 1);
		sqlite3_busy_timeout(r->db, (int)a->o.busy_timeout_ms);
		rc = sqlite3_exec(r->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	}
	for (int k = 0; rc == SQLITE_OK && k < ARCHIVE_QKINDS; k++)
		for (int d = 0; rc == SQLITE_OK && d < 2; d++)
			rc = sqlite3_prepare_v3(r->db, query_sql[k][d], -1,
						SQLITE_PREPARE_PERSISTENT, &r->q[k][d], NULL);
	if (rc != SQLITE_OK) {
		int err = r->db ? smsr__archive_errcode(r->db, rc) : -SMSR_ENOMEM;

		smsr__archive_reader_close(r);
		return err;
	}
	return 0;
}

void smsr__archive_reader_close(struct archive_reader *r)
{
	for (int k = 0; k < ARCHIVE_QKINDS; k++)
		for (int d = 0; d < 2; d++)
			sqlite3_finalize(r->q[k][d]);
	sqlite3_close(r->db);
	memset(r, 0, sizeof(*r));
}

static struct archive_reader *reader_get(struct smsr__archive *a)
{
	pthread_mutex_lock(&a->mu);
	for (;;) {
		for (unsigned i = 0; i < a->nreaders; i++)
			if (!a->readers[i].busy) {
				a->readers[i].busy = 1;
				pthread_mutex_unlock(&a->mu);
				return &a->readers[i];
			}
		pthread_cond_wait(&a->cv, &a->mu);
	}
}

static void reader_put(struct smsr__archive *a, struct archive_reader *r)
{
	pthread_mutex_lock(&a->mu);
	r->busy = 0;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

static int64_t clamp(uint64_t t)
{
	return t > INT64_MAX ? INT64_MAX : (int64_t)t;
}

/*
 * The key before the first row: just below the range going up, just above
 * it going down. @lo and @hi bound the range's first key column.
 */
static void first_key(struct smsr__archive_page *pg, int64_t lo, int64_t hi)
{
	if (pg->newest_first) {
		pg->key[0] = hi;
		pg->key[1] = pg->key[2] = INT64_MIN;
	} else {
		pg->key[0] = lo == INT64_MIN ? lo : lo - 1;
		pg->key[1] = pg->key[2] = INT64_MAX;
	}
	pg->started = 1;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static void read_row(sqlite3_stmt *s, struct smsr__archive_row *r)
{
	*r = (struct smsr__archive_row){
	    .id = (uint64_t)sqlite3_column_int64(s, 0),
	    .ts_ns = (uint64_t)sqlite3_column_int64(s, 1),
	    .type = (uint8_t)sqlite3_column_int(s, 2),
	    .attempt = (uint8_t)sqlite3_column_int(s, 3),
	    .channel = sqlite3_column_int(s, 4),
	    .channel_name = col_text(s, 5),
	    .reason = -sqlite3_column_int(s, 6),
	    .op_code = sqlite3_column_int(s, 7),
	    .carrier_msgid = col_text(s, 8),
	    .accepted_ns = (uint64_t)sqlite3_column_int64(s, 9),
	    .cls = (uint8_t)sqlite3_column_int(s, 10),
	    .carrier = (uint8_t)sqlite3_column_int(s, 11),
	    .segments = (uint32_t)sqlite3_column_int64(s, 12),
	    .client_ref = col_text(s, 13),
	    .recipient = col_text(s, 14),
	    .tags = col_text(s, 15),
	};
}

static void read_msg(sqlite3_stmt *s, struct smsr__archive_msg *m)
{
	int final = sqlite3_column_type(s, 7) != SQLITE_NULL;

	*m = (struct smsr__archive_msg){
	    .id = (uint64_t)sqlite3_column_int64(s, 0),
	    .accepted_ns = (uint64_t)sqlite3_column_int64(s, 1),
	    .last_ns = (uint64_t)sqlite3_column_int64(s, 2),
	    .final_ns = (uint64_t)sqlite3_column_int64(s, 3),
	    .cls = (uint8_t)sqlite3_column_int(s, 4),
	    .carrier = (uint8_t)sqlite3_column_int(s, 5),
	    .last_type = (uint8_t)sqlite3_column_int(s, 6),
	    .final_type = final ? (uint8_t)sqlite3_column_int(s, 7) : SMSR__ARCHIVE_NOT_FINAL,
	    .final_reason = -sqlite3_column_int(s, 8),
	    .final_op_code = sqlite3_column_int(s, 9),
	    .segments = (uint32_t)sqlite3_column_int64(s, 10),
	    .events = (uint32_t)sqlite3_column_int64(s, 11),
	    .recipient = col_text(s, 12),
	    .client_ref = col_text(s, 13),
	    .tags = col_text(s, 14),
	};
}

/* The page key of the current row of a query of @kind. */
static void row_key(int kind, sqlite3_stmt *s, int64_t key[3])
{
	switch (kind) {
	case Q_HISTORY:
		key[0] = sqlite3_column_int64(s, 1);
		key[1] = sqlite3_column_int64(s, 2);
		break;
	case Q_REF:
		key[0] = sqlite3_column_int64(s, 0);
		break;
	case Q_RECIPIENT:
		key[0] = sqlite3_column_int64(s, 1);
		key[1] = sqlite3_column_int64(s, 0);
		break;
	default:
		key[0] = sqlite3_column_int64(s, 1);
		key[1] = sqlite3_column_int64(s, 0);
		key[2] = sqlite3_column_int64(s, 2);
	}
}

struct query {
	int kind;
	const char *text; /* ?1 when not NULL */
	int64_t id;	  /* ?1 otherwise */
	int64_t end;	  /* ?5 */
	smsr__archive_row_cb *row_cb;
	smsr__archive_msg_cb *msg_cb;
	void *arg;
};

/* Run @q for one page of @pg on reader @r. */
static int page_run(struct archive_reader *r, const struct query *q, struct smsr__archive_page *pg)
{
	sqlite3_stmt *s = r->q[q->kind][pg->newest_first ? 1 : 0];
	uint32_t limit = pg->limit ? pg->limit : 100;
	int rc, n = 0, stop = 0;

	if (limit > SMSR__ARCHIVE_PAGE_MAX)
		limit = SMSR__ARCHIVE_PAGE_MAX;
	if (q->text)
		sqlite3_bind_text(s, 1, q->text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, q->id);
	for (int i = 0; i < 3; i++)
		sqlite3_bind_int64(s, 2 + i, pg->key[i]);
	sqlite3_bind_int64(s, 5, q->end);
	sqlite3_bind_int64(s, 6, (int64_t)limit + 1);
	pg->more = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((uint32_t)n == limit || stop) {
			pg->more = 1;
			break;
		}
		if (q->row_cb) {
			struct smsr__archive_row row;

			read_row(s, &row);
			stop = q->row_cb(q->arg, &row);
		} else {
			struct smsr__archive_msg m;

			read_msg(s, &m);
			stop = q->msg_cb(q->arg, &m);
		}
		row_key(q->kind, s, pg->key);
		n++;
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = n;
	else
		rc = smsr__archive_errcode(r->db, rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

static int query_run(struct smsr__archive *a, const struct query *q, struct smsr__archive_page *pg)
{
	struct archive_reader *r = reader_get(a);
	int rc = page_run(r, q, pg);

	reader_put(a, r);
	return rc;
}

int smsr__archive_history(struct smsr__archive *a, uint64_t id, struct smsr__archive_page *pg,
			  smsr__archive_row_cb *cb, void *arg)
{
	struct query q = {.kind = Q_HISTORY, .id = (int64_t)id, .row_cb = cb, .arg = arg};

	if (!pg->started)
		first_key(pg, INT64_MIN, INT64_MAX);
	return query_run(a, &q, pg);
}

int smsr__archive_by_ref(struct smsr__archive *a, const char *ref, struct smsr__archive_page *pg,
			 smsr__archive_msg_cb *cb, void *arg)
{
	struct query q = {.kind = Q_REF, .text = ref, .msg_cb = cb, .arg = arg};

	if (!ref)
		return -SMSR_EINVAL;
	if (!pg->started)
		first_key(pg, INT64_MIN, INT64_MAX);
	return query_run(a, &q, pg);
}

int smsr__archive_by_recipient(struct smsr__archive *a, const char *recipient, uint64_t t0,
			       uint64_t t1, struct smsr__archive_page *pg, smsr__archive_msg_cb *cb,
			       void *arg)
{
	struct query q = {.kind = Q_RECIPIENT, .text = recipient, .msg_cb = cb, .arg = arg};

	if (!recipient)
		return -SMSR_EINVAL;
	q.end = pg->newest_first ? clamp(t0) : clamp(t1);
	if (!pg->started)
		first_key(pg, clamp(t0), clamp(t1));
	return query_run(a, &q, pg);
}

int smsr__archive_by_channel(struct smsr__archive *a, const char *name, uint64_t t0, uint64_t t1,
			     struct smsr__archive_page *pg, smsr__archive_row_cb *cb, void *arg)
{
	struct query q = {.kind = Q_CHANNEL, .text = name, .row_cb = cb, .arg = arg};

	if (!name)
		return -SMSR_EINVAL;
	q.end = pg->newest_first ? clamp(t0) : clamp(t1);
	if (!pg->started)
		first_key(pg, clamp(t0), clamp(t1));
	return query_run(a, &q, pg);
}

int smsr__archive_plan(struct smsr__archive *a, int kind, int newest_first,
		       smsr__archive_plan_cb *cb, void *arg)
{
	struct archive_reader *r;
	char sql[1024];
	sqlite3_stmt *s;
	int rc, n = 0;

	if (kind < 0 || kind >= ARCHIVE_QKINDS)
		return -SMSR_EINVAL;
	r = reader_get(a);
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", query_sql[kind][newest_first ? 1 : 0]);
	rc = sqlite3_prepare_v2(r->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			cb(arg, col_text(s, 3));
			n++;
		}
		sqlite3_finalize(s);
	}
	rc = rc == SQLITE_DONE ? n : smsr__archive_errcode(r->db, rc);
	reader_put(a, r);
	return rc;
}
