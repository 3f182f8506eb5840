/* SPDX-License-Identifier: MIT */
/*
 * The history archive's schema, its writer and its retention (queries are
 * in archive_query.c; the design is at the top of archive.h; the schema is
 * explained for operators in docs/archive.md).
 *
 * The invariant that matters: a batch is one transaction. Either every new
 * row of it is in `event` and reflected in its message's `msg` summary, or
 * none is; a reader never sees an event without its summary. Adding is
 * idempotent: an event already stored (same id, time, type) changes
 * nothing, so the journal may re-feed what the archive lost.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_int.h"

#define DFLT_EXPIRE_CHUNK 2000
#define DFLT_BUSY_MS	  5000
#define DFLT_CACHE_KIB	  (32 * 1024)
#define DFLT_READERS	  2
#define MAX_READERS	  64

/*
 * Times and ids are INTEGER (signed 64-bit); reasons are the positive smsr
 * codes (1023 for undelivered), named in `reason`. The event table is
 * clustered by message id, so a history is a few adjacent pages, and its
 * key makes a re-fed event a no-op.
 */
static const char schema_sql[] =
    "CREATE TABLE chan(\n"
    "  cid INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE);\n"
    "CREATE TABLE msg(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  recipient TEXT,\n"
    "  client_ref TEXT,\n"
    "  tags TEXT,\n"
    "  cls INTEGER NOT NULL,\n"
    "  carrier INTEGER NOT NULL,\n"
    "  segments INTEGER NOT NULL,\n"
    "  accepted_ns INTEGER NOT NULL,\n"
    "  final_type INTEGER,\n"
    "  final_reason INTEGER,\n"
    "  final_op INTEGER,\n"
    "  final_ns INTEGER,\n"
    "  done_ns INTEGER NOT NULL);\n"
    "CREATE INDEX msg_recipient ON msg(recipient, accepted_ns);\n"
    "CREATE INDEX msg_ref ON msg(client_ref) WHERE client_ref IS NOT NULL;\n"
    "CREATE INDEX msg_done ON msg(done_ns);\n"
    "CREATE TABLE event(\n"
    "  id INTEGER NOT NULL,\n"
    "  ts_ns INTEGER NOT NULL,\n"
    "  type INTEGER NOT NULL,\n"
    "  attempt INTEGER NOT NULL,\n"
    "  chan INTEGER,\n"
    "  chan_ix INTEGER NOT NULL,\n"
    "  reason INTEGER NOT NULL,\n"
    "  op_code INTEGER NOT NULL,\n"
    "  carrier_msgid TEXT,\n"
    "  PRIMARY KEY(id, ts_ns, type)) WITHOUT ROWID;\n"
    "CREATE INDEX event_chan ON event(chan, ts_ns) WHERE chan IS NOT NULL;\n"
    "CREATE TABLE reason(code INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
    "CREATE TABLE event_type(type INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
    "CREATE TABLE class(cls INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
    "CREATE TABLE carrier(carrier INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
    "CREATE VIEW history AS SELECT e.id,\n"
    "  strftime('%Y-%m-%d %H:%M:%f', e.ts_ns / 1e9, 'unixepoch') AS time_utc,\n"
    "  t.name AS event, e.attempt, c.name AS channel, r.name AS reason, e.op_code,\n"
    "  e.carrier_msgid, m.recipient, m.client_ref, e.ts_ns\n"
    "  FROM event e JOIN msg m ON m.id = e.id JOIN event_type t ON t.type = e.type\n"
    "  LEFT JOIN chan c ON c.cid = e.chan LEFT JOIN reason r ON r.code = e.reason;\n"
    "CREATE VIEW messages AS SELECT m.id, m.recipient, m.client_ref, m.tags,\n"
    "  k.name AS class, cr.name AS carrier, m.segments,\n"
    "  strftime('%Y-%m-%d %H:%M:%f', m.accepted_ns / 1e9, 'unixepoch') AS accepted_utc,\n"
    "  (SELECT t.name FROM event x JOIN event_type t ON t.type = x.type\n"
    "   WHERE x.id = m.id ORDER BY x.ts_ns DESC, x.type DESC LIMIT 1) AS state,\n"
    "  ft.name AS final, r.name AS reason, m.final_op AS op_code,\n"
    "  strftime('%Y-%m-%d %H:%M:%f', m.final_ns / 1e9, 'unixepoch') AS final_utc,\n"
    "  m.accepted_ns, m.final_ns\n"
    "  FROM msg m LEFT JOIN class k ON k.cls = m.cls\n"
    "  LEFT JOIN carrier cr ON cr.carrier = m.carrier\n"
    "  LEFT JOIN event_type ft ON ft.type = m.final_type\n"
    "  LEFT JOIN reason r ON r.code = m.final_reason;\n";

static const char ins_event_sql[] =
    "INSERT OR IGNORE INTO event(id, ts_ns, type, attempt, chan, chan_ix, reason, op_code,"
    " carrier_msgid) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/*
 * A message's row is written twice at most: inserted with its first event
 * (recipient, reference, class: they never change) and updated by its
 * final event. Its latest state is read from `event` when asked for; an
 * update per event would rewrite the row and an index for every event.
 * done_ns is where retention looks: the final time once final, else the
 * accepted time, never later than the message's last event.
 */
static const char ins_msg_sql[] =
    "INSERT OR IGNORE INTO msg(id, recipient, client_ref, tags, cls, carrier, segments,"
    " accepted_ns, done_ns) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)";
static const char fin_msg_sql[] =
    "UPDATE msg SET final_type = ?2, final_reason = ?3, final_op = ?4, final_ns = ?5,"
    " done_ns = ?5 WHERE id = ?1 AND (final_ns IS NULL OR (final_ns, final_type) <= (?5, ?2))";

/*
 * The oldest candidates first, in msg_done's order, so both statements
 * pick the same set; a message whose latest event is recent (one still
 * being retried long after it was accepted) is skipped.
 */
#define EXPIRED_IDS                                                             \
	"SELECT id FROM msg m WHERE done_ns < ?1 AND"                           \
	" coalesce((SELECT max(ts_ns) FROM event e WHERE e.id = m.id), 0) < ?1" \
	" ORDER BY done_ns, id LIMIT ?2"

int smsr__archive_errcode(sqlite3 *db, int rc)
{
	int e;

	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return -SMSR_ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -SMSR_EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_PERM:
	case SQLITE_READONLY:
		e = db ? sqlite3_system_errno(db) : 0;
		return e > 0 ? -e : ((rc & 0xff) == SQLITE_IOERR ? -EIO : -EACCES);
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -SMSR_ESTATE;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
		return -SMSR_EINVAL;
	default:
		return -EIO;
	}
}

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Step @s to its end (rows ignored) and reset it; 0 or a negative error. */
static int run(sqlite3 *db, sqlite3_stmt *s)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : smsr__archive_errcode(db, rc);
}

/* The single integer @sql answers, in @v; 0 or a negative error. */
static int query_int(sqlite3 *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return smsr__archive_errcode(db, rc);
	rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : smsr__archive_errcode(db, rc);
}

static int exec(sqlite3 *db, const char *sql)
{
	return smsr__archive_errcode(db, sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/* The name tables, refreshed at every open so new error codes get names. */
static int fill_names(sqlite3 *db)
{
	char sql[160];
	int rc = 0;

#define NAME_ROW(sym, code, name, desc)                                                            \
	if (!rc) {                                                                                 \
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO reason VALUES(%d, '%s')", code, \
			 name);                                                                    \
		rc = exec(db, sql);                                                                \
	}
	SMSR_ERRORS(NAME_ROW)
#undef NAME_ROW
	for (int t = 0; t < SMSR_EV_COUNT && !rc; t++) {
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO event_type VALUES(%d, '%s')", t,
			 smsr_event_name((enum smsr_event_type)t));
		rc = exec(db, sql);
	}
	for (int c = 0; c <= SMSR_CLASS_MARKETING && !rc; c++) {
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO class VALUES(%d, '%s')", c,
			 smsr_class_name((enum smsr_class)c));
		rc = exec(db, sql);
	}
	for (int c = 0; c < SMSR_NCARRIER && !rc; c++) {
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO carrier VALUES(%d, '%s')", c,
			 smsr_carrier_name((enum smsr_carrier)c));
		rc = exec(db, sql);
	}
	return rc;
}

/* Create the schema in a new file, or check an existing one's version. */
static int check_schema(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	int64_t version, objects;
	int rc;

	rc = exec(db, "BEGIN IMMEDIATE");
	if (!rc)
		rc = query_int(db, "PRAGMA user_version", &version);
	if (!rc)
		rc = query_int(db, "SELECT count(*) FROM sqlite_master", &objects);
	if (rc)
		goto err_rollback;
	if (version == 0 && objects == 0) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SMSR__ARCHIVE_SCHEMA);
		rc = exec(db, schema_sql);
		if (!rc)
			rc = exec(db, sql);
	} else if (version != SMSR__ARCHIVE_SCHEMA) {
		say(err, errlen, "archive %s: %s (schema version %lld, this build reads %d)", path,
		    version ? "written by another version of smsr" : "not an smsr archive",
		    (long long)version, SMSR__ARCHIVE_SCHEMA);
		exec(db, "ROLLBACK");
		return -SMSR_ESTATE;
	}
	if (!rc)
		rc = fill_names(db);
	if (!rc)
		rc = exec(db, "COMMIT");
	if (rc)
		goto err_rollback;
	return 0;

err_rollback:
	say(err, errlen, "archive %s: %s", path, sqlite3_errmsg(db));
	exec(db, "ROLLBACK");
	return rc;
}

/*
 * synchronous=NORMAL: in WAL mode SQLite then syncs at checkpoints, not at
 * each commit. A crash of the process loses nothing; a power loss may take
 * the commits since the last checkpoint that the kernel had not yet written
 * back (under load checkpoints come about every second; at a trickle, the
 * kernel's writeback delay), and never corrupts the file. That is enough:
 * the journal, not the archive, makes an accepted message durable, and the
 * journal re-feeds what the archive lost (adding is idempotent). FULL would
 * cost an fsync per batch.
 *
 * wal_autocheckpoint 10,000 pages (40 MB of WAL) instead of 1,000: a
 * checkpoint costs two fsyncs and rewrites hot index pages; checkpointing
 * a tenth as often took the bench from 145 K to 167 K rows/s.
 */
static int configure(sqlite3 *db, const struct smsr__archive_opts *o, const char *path, char *err,
		     size_t errlen)
{
	char sql[192];
	sqlite3_stmt *s;
	int rc, wal;

	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int)o->busy_timeout_ms);
	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	wal = rc == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		say(err, errlen, "archive %s: %s", path, sqlite3_errmsg(db));
		return smsr__archive_errcode(db, rc);
	}
	if (!wal) {
		say(err, errlen, "archive %s: cannot use WAL mode on this file system", path);
		return -SMSR_ESTATE;
	}
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -%u;"
		 " PRAGMA journal_size_limit = %d; PRAGMA wal_autocheckpoint = 10000",
		 o->cache_kib, 64 << 20);
	rc = exec(db, sql);
	if (rc)
		say(err, errlen, "archive %s: %s", path, sqlite3_errmsg(db));
	return rc;
}

static int prepare_writer(struct smsr__archive *a)
{
	const struct {
		sqlite3_stmt **s;
		const char *sql;
	} st[] = {
	    {&a->begin, "BEGIN IMMEDIATE"},
	    {&a->commit, "COMMIT"},
	    {&a->rollback, "ROLLBACK"},
	    {&a->ins_event, ins_event_sql},
	    {&a->ins_msg, ins_msg_sql},
	    {&a->fin_msg, fin_msg_sql},
	    {&a->chan_get, "SELECT cid FROM chan WHERE name = ?1"},
	    {&a->chan_ins, "INSERT OR IGNORE INTO chan(name) VALUES(?1)"},
	    {&a->exp_events, "DELETE FROM event WHERE id IN (" EXPIRED_IDS ")"},
	    {&a->exp_msgs, "DELETE FROM msg WHERE id IN (" EXPIRED_IDS ")"},
	};

	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		int rc = sqlite3_prepare_v3(a->db, st[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
					    st[i].s, NULL);

		if (rc != SQLITE_OK)
			return smsr__archive_errcode(a->db, rc);
	}
	return 0;
}

static void finalize_writer(struct smsr__archive *a)
{
	sqlite3_stmt *st[] = {a->begin,	  a->commit,   a->rollback, a->ins_event,  a->ins_msg,
			      a->fin_msg, a->chan_get, a->chan_ins, a->exp_events, a->exp_msgs};

	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		sqlite3_finalize(st[i]);
}

static void opts_fill(struct smsr__archive_opts *o, const struct smsr__archive_opts *in)
{
	*o = in ? *in : (struct smsr__archive_opts){0};
	if (!o->retention_ns)
		o->retention_ns = SMSR__ARCHIVE_RETENTION_DFLT;
	if (!o->expire_chunk)
		o->expire_chunk = DFLT_EXPIRE_CHUNK;
	if (!o->busy_timeout_ms)
		o->busy_timeout_ms = DFLT_BUSY_MS;
	if (!o->cache_kib)
		o->cache_kib = DFLT_CACHE_KIB;
	if (!o->readers)
		o->readers = DFLT_READERS;
	if (o->readers > MAX_READERS)
		o->readers = MAX_READERS;
	if (o->busy_timeout_ms > INT32_MAX)
		o->busy_timeout_ms = INT32_MAX;
}

static int open_writer(struct smsr__archive *a, const char *path, char *err, size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &a->db, flags, NULL);

	if (rc != SQLITE_OK) {
		say(err, errlen, "archive %s: %s", path,
		    a->db ? sqlite3_errmsg(a->db) : "out of memory");
		return smsr__archive_errcode(a->db, rc);
	}
	rc = configure(a->db, &a->o, path, err, errlen);
	if (!rc)
		rc = check_schema(a->db, path, err, errlen);
	if (!rc) {
		rc = prepare_writer(a);
		if (rc)
			say(err, errlen, "archive %s: %s", path, sqlite3_errmsg(a->db));
	}
	return rc;
}

int smsr__archive_open(const char *path, const struct smsr__archive_opts *o,
		       struct smsr__archive **out, char *err, size_t errlen)
{
	struct smsr__archive *a;
	int rc;

	*out = NULL;
	if (!path || !*path) {
		say(err, errlen, "archive: no path given");
		return -SMSR_EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		goto err_nomem;
	opts_fill(&a->o, o);
	a->readers = calloc(a->o.readers, sizeof(*a->readers));
	a->seen = calloc((size_t)1 << ARCHIVE_SEEN_BITS, sizeof(*a->seen));
	if (!a->readers || !a->seen)
		goto err_nomem;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	rc = open_writer(a, path, err, errlen);
	for (unsigned i = 0; !rc && i < a->o.readers; i++, a->nreaders++) {
		rc = smsr__archive_reader_open(a, path, &a->readers[i]);
		if (rc)
			say(err, errlen, "archive %s: cannot open a query connection: %s", path,
			    smsr_strerror(rc));
	}
	if (rc)
		goto err_close;
	*out = a;
	return 0;

err_close:
	smsr__archive_close(a);
	return rc;
err_nomem:
	say(err, errlen, "archive %s: out of memory", path);
	if (a) {
		free(a->readers);
		free(a->seen);
	}
	free(a);
	return -SMSR_ENOMEM;
}

void smsr__archive_close(struct smsr__archive *a)
{
	if (!a)
		return;
	for (unsigned i = 0; i < a->nreaders; i++)
		smsr__archive_reader_close(&a->readers[i]);
	finalize_writer(a);
	/* The last connection to close checkpoints and removes the WAL file. */
	sqlite3_close(a->db);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a->seen);
	free(a->readers);
	free(a);
}

/* --- the writer --------------------------------------------------------- */

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* The channel id of @name, from the cache or the chan table. */
static int chan_id(struct smsr__archive *a, const char *name, int64_t *cid)
{
	struct archive_chan *c;
	int rc;

	for (unsigned i = 0; i < a->nchans; i++)
		if (!strcmp(a->chans[i].name, name)) {
			*cid = a->chans[i].cid;
			return 0;
		}
	sqlite3_bind_text(a->chan_ins, 1, name, -1, SQLITE_STATIC);
	rc = run(a->db, a->chan_ins);
	if (rc)
		return rc;
	sqlite3_bind_text(a->chan_get, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(a->chan_get);
	*cid = sqlite3_column_int64(a->chan_get, 0);
	sqlite3_reset(a->chan_get);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -EIO : smsr__archive_errcode(a->db, rc);
	/* Round robin over a full cache: channels are few, misses rare. */
	c = &a->chans[a->nchans < ARCHIVE_CHANMAP ? a->nchans++ : a->chan_next++ % ARCHIVE_CHANMAP];
	strcpy(c->name, name);
	c->cid = *cid;
	return 0;
}

static int is_final(uint8_t type)
{
	return (SMSR_EV_FINAL | SMSR_EV_MASK(SMSR_EV_REJECTED)) & SMSR_EV_MASK(type);
}

/* Has @id's row been written in this archive's recent past? */
static uint64_t *seen_slot(struct smsr__archive *a, uint64_t id)
{
	return &a->seen[(id * 0x9e3779b97f4a7c15ull) >> (64 - ARCHIVE_SEEN_BITS)];
}

static int write_msg(struct smsr__archive *a, const struct smsr__archive_row *r)
{
	uint64_t *seen = seen_slot(a, r->id);
	sqlite3_stmt *s = a->ins_msg;
	int rc;

	if (*seen == r->id)
		return 0;
	sqlite3_bind_int64(s, 1, (int64_t)r->id);
	bind_text(s, 2, r->recipient);
	bind_text(s, 3, r->client_ref);
	bind_text(s, 4, r->tags);
	sqlite3_bind_int(s, 5, r->cls);
	sqlite3_bind_int(s, 6, r->carrier);
	sqlite3_bind_int64(s, 7, r->segments);
	sqlite3_bind_int64(s, 8, (int64_t)(r->accepted_ns ? r->accepted_ns : r->ts_ns));
	rc = run(a->db, s);
	if (!rc)
		*seen = r->id;
	return rc;
}

static int final_msg(struct smsr__archive *a, const struct smsr__archive_row *r)
{
	sqlite3_stmt *s = a->fin_msg;

	sqlite3_bind_int64(s, 1, (int64_t)r->id);
	sqlite3_bind_int(s, 2, r->type);
	sqlite3_bind_int64(s, 3, -(int64_t)r->reason);
	sqlite3_bind_int(s, 4, r->op_code);
	sqlite3_bind_int64(s, 5, (int64_t)r->ts_ns);
	return run(a->db, s);
}

/* One row: 1 when new, 0 when already stored, or a negative error. */
static int add_one(struct smsr__archive *a, const struct smsr__archive_row *r)
{
	sqlite3_stmt *s = a->ins_event;
	int64_t cid = 0;
	int rc;

	if (r->channel_name && *r->channel_name) {
		rc = chan_id(a, r->channel_name, &cid);
		if (rc)
			return rc;
	}
	sqlite3_bind_int64(s, 1, (int64_t)r->id);
	sqlite3_bind_int64(s, 2, (int64_t)r->ts_ns);
	sqlite3_bind_int(s, 3, r->type);
	sqlite3_bind_int(s, 4, r->attempt);
	if (cid)
		sqlite3_bind_int64(s, 5, cid);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int(s, 6, r->channel);
	sqlite3_bind_int64(s, 7, -(int64_t)r->reason);
	sqlite3_bind_int(s, 8, r->op_code);
	bind_text(s, 9, r->carrier_msgid);
	rc = run(a->db, s);
	if (rc || !sqlite3_changes(a->db))
		return rc;
	rc = write_msg(a, r);
	if (!rc && is_final(r->type))
		rc = final_msg(a, r);
	return rc ? rc : 1;
}

static int row_valid(const struct smsr__archive_row *r)
{
	if (!r->id || r->type >= SMSR_EV_COUNT || r->type == SMSR_EV_CHANNEL)
		return 0;
	if (r->ts_ns > INT64_MAX || r->accepted_ns > INT64_MAX)
		return 0;
	return !r->channel_name || strlen(r->channel_name) <= SMSR__ARCHIVE_NAME_MAX;
}

int smsr__archive_add(struct smsr__archive *a, const struct smsr__archive_row *rows, size_t n)
{
	int rc, added = 0;

	for (size_t i = 0; i < n; i++)
		if (!row_valid(&rows[i]))
			return -SMSR_EINVAL;
	if (n > INT32_MAX)
		return -SMSR_EINVAL;
	rc = run(a->db, a->begin);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = add_one(a, &rows[i]);
		if (rc < 0)
			goto err_rollback;
		added += rc;
	}
	rc = run(a->db, a->commit);
	if (rc)
		goto err_rollback;
	return added;

err_rollback:
	run(a->db, a->rollback);
	/* Channel ids and message rows written in this transaction are gone with it. */
	a->nchans = 0;
	memset(a->seen, 0, sizeof(a->seen[0]) << ARCHIVE_SEEN_BITS);
	return rc;
}

/* --- retention ---------------------------------------------------------- */

int smsr__archive_expire(struct smsr__archive *a, uint64_t now_unix_ns)
{
	int64_t cutoff;
	int rc, n;

	if (now_unix_ns <= a->o.retention_ns)
		return 0;
	cutoff = (int64_t)((now_unix_ns - a->o.retention_ns) > INT64_MAX
			       ? INT64_MAX
			       : now_unix_ns - a->o.retention_ns);
	rc = run(a->db, a->begin);
	if (rc)
		return rc;
	sqlite3_bind_int64(a->exp_events, 1, cutoff);
	sqlite3_bind_int64(a->exp_events, 2, a->o.expire_chunk);
	rc = run(a->db, a->exp_events);
	if (rc)
		goto err_rollback;
	sqlite3_bind_int64(a->exp_msgs, 1, cutoff);
	sqlite3_bind_int64(a->exp_msgs, 2, a->o.expire_chunk);
	rc = run(a->db, a->exp_msgs);
	if (rc)
		goto err_rollback;
	n = sqlite3_changes(a->db);
	rc = run(a->db, a->commit);
	if (!rc && n)
		memset(a->seen, 0, sizeof(a->seen[0]) << ARCHIVE_SEEN_BITS);
	if (rc)
		goto err_rollback;
	return n;

err_rollback:
	run(a->db, a->rollback);
	return rc;
}
