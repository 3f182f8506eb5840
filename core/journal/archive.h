/* SPDX-License-Identifier: MIT */
/*
 * The history archive: every message's status history in SQLite, kept for
 * a retention (7 days by default), queryable by id, client reference,
 * recipient and channel, with keyset paging.
 *
 * Design. The archive is fed off the hot path: a single writer thread
 * collects events into batches (1,000-10,000 rows) and hands each batch to
 * smsr__archive_add(), which writes it in one transaction with prepared
 * statements. Each row lands in `event` (the history, clustered by message
 * id); a message's row in `msg` (recipient, reference, class, accepted
 * time) is written with its first event and updated by its final one, and
 * its latest state is read from its events when asked for, so an event
 * costs one insert, not an insert and an update. The same writer thread calls
 * smsr__archive_expire() now and then; it deletes expired messages in bounded chunks so no call
 * holds the write lock for long.
 *
 * Queries run on their own connections (a small mutex-guarded pool), in
 * WAL mode, so a query never blocks the writer and the writer never blocks
 * a query. Every query is one SQL statement, hence one read transaction:
 * it sees a consistent snapshot, and because a batch commits whole, a
 * reader sees all of a batch or none of it.
 *
 * The archive is not what makes an accepted message durable: the journal
 * is. The archive runs with synchronous=NORMAL and may lose the commits
 * since its last checkpoint on power loss (about a second under load); the
 * journal re-feeds them.
 * Adding is idempotent for that reason: an event is keyed by (message id,
 * time, type) and a row already present is skipped, summary included.
 *
 * Times are Unix (CLOCK_REALTIME) nanoseconds; the caller converts the
 * router's CLOCK_MONOTONIC event times. Message ids are stored as signed
 * 64-bit integers (the router's ids stay below 2^63 for millennia). The
 * schema is documented for operators in docs/archive.md.
 *
 * Threads: one writer thread calls add and expire; any thread may query.
 * Open and close on any thread while nothing else runs. No globals, no
 * printing, no environment reads.
 */
#ifndef SMSR_ARCHIVE_H
#define SMSR_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "smsr/msg.h"

#define SMSR__ARCHIVE_SCHEMA	     1	/* PRAGMA user_version of the schema we write */
#define SMSR__ARCHIVE_NAME_MAX	     64 /* longest channel name stored, bytes */
#define SMSR__ARCHIVE_PAGE_MAX	     10000
#define SMSR__ARCHIVE_NOT_FINAL	     0xff /* smsr__archive_msg.final_type: no final event yet */
#define SMSR__ARCHIVE_RETENTION_DFLT (7ull * 24 * 3600 * 1000000000ull)

struct smsr__archive;

struct smsr__archive_opts {
	uint64_t retention_ns;	  /* keep a message this long after its last event; 0: 7 days */
	uint32_t expire_chunk;	  /* most messages one expire call deletes; 0: 2,000 */
	uint32_t busy_timeout_ms; /* wait for a lock held by another process; 0: 5,000 */
	uint32_t cache_kib;	  /* the writer's page cache; 0: 32 MiB */
	uint32_t readers;	  /* query connections (concurrent queries); 0: 2 */
};

/*
 * One event of a message. For add, the strings are borrowed for the call
 * (NULL: none); in a query callback they are lent until it returns.
 * Message-wide fields (cls, carrier, segments, client_ref, recipient, tags,
 * accepted_ns) come back from the message's summary.
 */
struct smsr__archive_row {
	uint64_t id;	      /* message id */
	uint64_t ts_ns;	      /* Unix ns when it happened */
	uint64_t accepted_ns; /* Unix ns when accepted; 0 on add: unknown (use ts_ns) */
	uint8_t type;	      /* enum smsr_event_type (not CHANNEL) */
	uint8_t cls;	      /* enum smsr_class */
	uint8_t carrier;      /* enum smsr_carrier */
	uint8_t attempt;      /* 1 on the first try */
	int32_t channel;      /* channel index at the time, -1 when none */
	int32_t reason;	      /* -SMSR_E* or 0 */
	int32_t op_code;      /* operator's code or 0 */
	uint32_t segments;
	const char *channel_name; /* NULL when none; at most SMSR__ARCHIVE_NAME_MAX bytes */
	const char *carrier_msgid;
	const char *client_ref;
	const char *recipient; /* E.164 */
	const char *tags;
};

/* A message's summary: what its events say when taken together. */
struct smsr__archive_msg {
	uint64_t id;
	uint64_t accepted_ns; /* earliest accepted time seen */
	uint64_t last_ns;     /* time of the latest event */
	uint64_t final_ns;    /* time of the final event, 0 when none */
	uint8_t cls, carrier;
	uint8_t last_type;  /* type of the latest event */
	uint8_t final_type; /* DELIVERED / FAILED / EXPIRED / REJECTED, or ARCHIVE_NOT_FINAL */
	int32_t final_reason, final_op_code;
	uint32_t segments;
	uint32_t events;			   /* events archived for it */
	const char *recipient, *client_ref, *tags; /* lent until the callback returns */
};

/*
 * Paging: zero it, set @limit and @newest_first, call a query; while
 * @more, call it again with the same page and the same other arguments.
 * The key is the last row returned (opaque: three integers a protocol may
 * carry as they are). Keyset paging is exact under concurrent writes:
 * a row is never returned twice; rows added behind the key are not seen.
 */
struct smsr__archive_page {
	uint32_t limit;	      /* in: most rows per call; 0: 100; at most ARCHIVE_PAGE_MAX */
	uint8_t newest_first; /* in: order; history defaults to oldest first when 0 */
	uint8_t more;	      /* out: rows remain after this page */
	uint8_t started;      /* cursor: 0 before the first page */
	uint8_t pad;
	int64_t key[3]; /* cursor */
};

/* Return 0 to go on, anything else to stop (the page ends after this row). */
typedef int smsr__archive_row_cb(void *arg, const struct smsr__archive_row *row);
typedef int smsr__archive_msg_cb(void *arg, const struct smsr__archive_msg *msg);

/*
 * Open the archive at @path (@o borrowed, NULL: defaults), creating the
 * file and its schema when new. On failure writes a sentence naming the
 * path and the cause into @err (@errlen bytes; may be NULL) and returns
 * -errno (a file that cannot be opened), -SMSR_ESTATE (not an archive, or
 * a newer schema) or -SMSR_ENOMEM; nothing is left open. Blocks on I/O.
 */
int smsr__archive_open(const char *path, const struct smsr__archive_opts *o,
		       struct smsr__archive **out, char *err, size_t errlen);

/* Close @a (NULL is a no-op). No query or add may be running. */
void smsr__archive_close(struct smsr__archive *a);

/*
 * Archive @n rows (borrowed) in one transaction: each row's event, and its
 * message's summary. Rows already present (same id, time and type) are
 * skipped. Returns the number of new rows, or a negative error after which
 * nothing of the batch is stored (-SMSR_EINVAL for a CHANNEL event, id 0
 * or a too long channel name, -SMSR_EBUSY when another process holds the lock
 * past the busy timeout, -ENOSPC, -EIO ...). Writer thread; blocks on I/O.
 */
int smsr__archive_add(struct smsr__archive *a, const struct smsr__archive_row *rows, size_t n);

/*
 * Delete up to the chunk size of messages (events and summary) whose last
 * event is older than the retention at @now_unix_ns, oldest first, in one
 * transaction. (A message still being retried long after its acceptance is
 * passed over until its events stop; each call reads past such messages.) Returns how many were
 * deleted (call again while it equals the chunk) or a negative error. Writer thread.
 */
int smsr__archive_expire(struct smsr__archive *a, uint64_t now_unix_ns);

/*
 * Queries. Each returns the number of rows given to @cb on this page, or a
 * negative error; @pg is updated for the next page. Any thread; each uses
 * one of the pool's connections for its duration (waiting for one when all
 * are busy), so @cb must not query @a itself and should be quick.
 *
 * history:   the events of message @id; order (time, type), oldest first
 *            unless @pg->newest_first.
 * by_ref:    the summaries of the messages whose client_ref is @ref, by id
 *            (ids grow with time: newest first when @pg->newest_first).
 * recipient: the summaries of messages to @recipient (E.164) accepted in
 *            [@t0, @t1), by (accepted time, id).
 * channel:   the events that happened on channel @name in [@t0, @t1), by
 *            (time, id, type); events without a channel are not included.
 */
int smsr__archive_history(struct smsr__archive *a, uint64_t id, struct smsr__archive_page *pg,
			  smsr__archive_row_cb *cb, void *arg);
int smsr__archive_by_ref(struct smsr__archive *a, const char *ref, struct smsr__archive_page *pg,
			 smsr__archive_msg_cb *cb, void *arg);
int smsr__archive_by_recipient(struct smsr__archive *a, const char *recipient, uint64_t t0,
			       uint64_t t1, struct smsr__archive_page *pg, smsr__archive_msg_cb *cb,
			       void *arg);
int smsr__archive_by_channel(struct smsr__archive *a, const char *name, uint64_t t0, uint64_t t1,
			     struct smsr__archive_page *pg, smsr__archive_row_cb *cb, void *arg);

/*
 * The query plan SQLite picks for each query kind (0..3: history, by_ref,
 * by_recipient, by_channel; @newest_first picks the order), one step per
 * call of @cb with its detail text ("SEARCH e USING PRIMARY KEY ...").
 * For tests and operators. Returns the steps seen or a negative error.
 */
typedef void smsr__archive_plan_cb(void *arg, const char *detail);
int smsr__archive_plan(struct smsr__archive *a, int kind, int newest_first,
		       smsr__archive_plan_cb *cb, void *arg);

#endif
