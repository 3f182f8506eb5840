/* SPDX-License-Identifier: MIT */
/*
 * The archive's insides, shared by archive.c (schema, writer, retention)
 * and archive_query.c (the reader pool and the queries). The writer's
 * connection and statements belong to the writer thread; each reader
 * belongs to whichever query holds it, under @mu.
 */
#ifndef SMSR_ARCHIVE_INT_H
#define SMSR_ARCHIVE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "archive.h"

#define ARCHIVE_QKINDS	  4 /* history, by_ref, by_recipient, by_channel */
#define ARCHIVE_CHANMAP	  64
#define ARCHIVE_SEEN_BITS 14 /* ids whose msg row is known written: 16,384 slots */

struct archive_reader {
	sqlite3 *db;
	sqlite3_stmt *q[ARCHIVE_QKINDS][2]; /* [kind][newest_first] */
	int busy;
};

struct archive_chan {
	char name[SMSR__ARCHIVE_NAME_MAX + 1];
	int64_t cid;
};

struct smsr__archive {
	struct smsr__archive_opts o;
	/* the writer */
	sqlite3 *db;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *ins_event, *ins_msg, *fin_msg, *chan_get, *chan_ins;
	sqlite3_stmt *exp_events, *exp_msgs;
	struct archive_chan chans[ARCHIVE_CHANMAP]; /* name -> cid, recently used */
	unsigned nchans, chan_next;
	/*
	 * Direct-mapped: a slot holding an id means that message's row exists
	 * (written in a committed batch or this one), so its next events skip
	 * the insert. Cleared on rollback and whenever expire deletes.
	 */
	uint64_t *seen;
	/* the readers */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned nreaders;
	struct archive_reader *readers;
};

/* A negative smsr code for SQLite result @rc on @db. */
int smsr__archive_errcode(sqlite3 *db, int rc);

/* Open a query connection on @path for @a; 0 or a negative error. */
int smsr__archive_reader_open(struct smsr__archive *a, const char *path, struct archive_reader *r);
void smsr__archive_reader_close(struct archive_reader *r);

#endif
