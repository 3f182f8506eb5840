/* SPDX-License-Identifier: MIT */
/*
 * The journal: a segmented append-only log with group commit.
 *
 * What it holds. One record per accepted message with everything needed to
 * send it again (SMSR__JREC_ACCEPT), then records of what happens to it
 * (queued, handed off, submitted, deferred, final). The payloads are the
 * caller's; the journal frames them, checks them with a CRC32C and counts
 * live messages by their ACCEPT record.
 *
 * Files. DIR/LOCK (flock'd, holds the owner's pid) and DIR/NNNNNNNNNNNNNNNN.seg,
 * NNN the segment's sequence number in hex. A segment is a 64-byte header
 * (journal_seg.c) then records, preallocated to its full size with
 * fallocate; unused space reads as zeros, which ends the segment. A record
 * never spans segments. Record framing (journal_rec.c), padded to 8 bytes:
 *   [u32 len][u32 crc32c][u8 type][u8 flags][u16 rsv][u64 msg_id][payload]
 * len counts the 20-byte header and the payload (not the pad); the CRC covers
 * every byte after the crc field.
 *
 * LSN. A record's position: segment seq << 32 | byte offset in the segment.
 * Monotonic; never 0 (offsets start after the header). The durable LSN is
 * the LSN of the last record known to be on disk (0: none yet); a record is
 * durable once smsr__journal_durable_lsn() >= its LSN.
 *
 * Threads. Any thread appends: under one short mutex it reserves room in the
 * current in-memory buffer (a few additions), then copies its record outside
 * the lock and publishes the bytes with an atomic add. One writer thread per
 * journal (journal_write.c) owns the files and a small io_uring: it takes
 * every filled buffer, waits for in-progress copies, writes them with one
 * writev at the segment's offset and, in sync mode, a linked fdatasync
 * (or a RWF_DSYNC write), then advances the durable LSN and calls
 * on_durable. While one commit is in flight the next batch fills, so the
 * batch size follows the fsync latency (group commit). Appends never wait for
 * I/O: when every buffer is full they return -SMSR_EBUSY.
 *
 * Modes. SYNC: commit as soon as the previous commit is done. BATCH: commit
 * every batch_ms (or when a buffer fills); the caller may ack before. OFF:
 * no files, no thread; appends succeed with LSN 0 and the durable LSN reads
 * UINT64_MAX, so "ack when durable" needs no special case.
 *
 * Faults. ENOSPC on a write or a segment's fallocate: the journal is "full":
 * appends return -SMSR_ESTORAGEFULL, the batch is kept and retried every
 * 100 ms; when it goes through, appends are accepted again. Nothing
 * appended in between was reported durable. Any other error of a write or an
 * fsync (EIO...): the journal has "failed" for good: appends return
 * -SMSR_ESTORAGE, the durable LSN never moves again, the log callback says so
 * once. An fsync is never retried (after a failed fsync the kernel may have
 * dropped the dirty pages: PostgreSQL's "fsyncgate").
 *
 * Compaction. smsr__journal_release(accept_lsn) when a message is final. A
 * segment is deleted once it and every older segment hold no live message, it
 * is not the segment being written, and (if opts.archive) the archived LSN
 * has passed its end. A live message's later records sit in later segments,
 * so deleting a prefix never loses them; disk use is bounded by live
 * messages.
 *
 * Recovery. smsr__journal_replay() before start: segments in order, every
 * valid record to the callback. A torn record at the very end of the log
 * (short, bad CRC, nothing valid after it) ends it quietly. Damage anywhere
 * else (a bad CRC or impossible length with a valid record after it, a torn
 * end of a segment that is not the last, a bad header) quarantines the
 * segment: its intact prefix is delivered, the file is renamed to .bad, one
 * log line says what was lost, and replay goes on with the next segment. A
 * missing sequence number is reported as a gap. Every ACCEPT record replayed
 * counts as live: the caller releases the ones its replay found final. The
 * writer never appends to an old segment: start opens a new one.
 */
#ifndef SMSR_JOURNAL_H
#define SMSR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum smsr__journal_mode {
	SMSR__JOURNAL_OFF = 0,
	SMSR__JOURNAL_SYNC,  /* durable before the ack: group commit */
	SMSR__JOURNAL_BATCH, /* flushed every batch_ms; the ack may come first */
};

/* Record types. The journal reads only ACCEPT (it counts live messages);
 * the payloads are the caller's. 0 is never valid on disk. */
enum smsr__jrec_type {
	SMSR__JREC_ACCEPT = 1, /* the whole message: enough to send it again */
	SMSR__JREC_QUEUED,     /* queued on a channel */
	SMSR__JREC_HANDOFF,    /* given to the channel driver */
	SMSR__JREC_SUBMITTED,  /* accepted by the carrier, with its ids */
	SMSR__JREC_DEFERRED,   /* held (quiet hours, schedule) */
	SMSR__JREC_FINAL,      /* delivered / failed / expired, reason, operator code */
	SMSR__JREC_TYPE_MAX = 255,
};

/* Operations the fault-injection seam sees (opts.inject). */
enum smsr__journal_op {
	SMSR__JOP_WRITE = 1,
	SMSR__JOP_FSYNC,
	SMSR__JOP_FALLOCATE,
};

enum smsr__journal_state {
	SMSR__JSTATE_OK = 0,
	SMSR__JSTATE_FULL,   /* ENOSPC: refusing appends, retrying */
	SMSR__JSTATE_FAILED, /* write/fsync error: refusing appends for good */
};

#define SMSR__JOURNAL_SEG_HDR	 64u
#define SMSR__JOURNAL_REC_HDR	 20u
#define SMSR__JOURNAL_MAX_REC	 (1u << 20) /* payload + header */
#define SMSR__JOURNAL_LSN(s, o)	 ((uint64_t)(s) << 32 | (uint32_t)(o))
#define SMSR__JOURNAL_LSN_SEQ(l) ((l) >> 32)
#define SMSR__JOURNAL_LSN_OFF(l) ((uint32_t)(l))

/* Called on the writer thread when the durable LSN advances to @lsn. Must not
 * block for long: the next commit waits for it. */
typedef void smsr__journal_durable_cb(void *arg, uint64_t lsn);
/* One line, no newline, for the host's log. Writer or opening thread. */
typedef void smsr__journal_log_cb(void *arg, const char *line);
/* Test seam: called on the writer thread before each @op (enum
 * smsr__journal_op); 0 lets it run, a -errno fakes that result instead.
 * Unit tests only; NULL in production. */
typedef int smsr__journal_inject_cb(void *arg, int op);
/* Written and durable: the bytes of one commit (@n parts of @iov, whole
 * records as framed above), ending at @last_lsn. On the writer thread,
 * before on_durable; copy what you keep. For an archive fed off the hot
 * path (opts.archive: deletion then waits for smsr__journal_set_archived). */
struct iovec;
typedef void smsr__journal_tap_cb(void *arg, const struct iovec *iov, int n, uint64_t last_lsn);
/* Replay: one valid record. @payload is lent for the call only. */
typedef void smsr__journal_replay_cb(void *arg, uint8_t type, uint64_t msg_id, const void *payload,
				     uint32_t len, uint64_t lsn);

struct smsr__journal_opts {
	const char *dir;       /* borrowed for the call: copied */
	int mode;	       /* enum smsr__journal_mode */
	uint32_t segment_size; /* bytes, default 64 MiB; 64 KiB .. 4 GiB - 1 */
	uint32_t batch_ms;     /* BATCH mode's flush period, default 10 */
	uint32_t buffer_size;  /* bytes per in-memory buffer, default 1 MiB */
	uint32_t nbuffers;     /* default 4, at least 3 */
	uint32_t max_segments; /* live segment files at most, default 16384 */
	bool dsync;	       /* RWF_DSYNC writes instead of write + linked fdatasync */
	bool archive;	       /* deletion waits for smsr__journal_set_archived() */
	smsr__journal_durable_cb *on_durable;
	smsr__journal_tap_cb *tap; /* may be NULL */
	smsr__journal_log_cb *log;
	void *arg; /* for on_durable and log */
	smsr__journal_inject_cb *inject;
	void *inject_arg;
};

struct smsr__journal_stats {
	uint64_t records;	   /* appended since open */
	uint64_t accepts;	   /* of which ACCEPT: messages */
	uint64_t bytes_appended;   /* framed, padded */
	uint64_t bytes_written;	   /* by completed writes */
	uint64_t commits;	   /* write (+ sync) groups completed */
	uint64_t bytes_on_disk;	   /* segment files, preallocated size */
	uint64_t segments;	   /* segment files */
	uint64_t live;		   /* messages not yet released */
	uint64_t segments_deleted; /* by compaction */
	uint64_t durable_lsn;
	uint64_t busy; /* appends refused with -SMSR_EBUSY */
	int state;     /* enum smsr__journal_state */
};

struct smsr__journal_replay_stats {
	uint64_t segments;    /* read */
	uint64_t records;     /* delivered */
	uint64_t bytes;	      /* of records delivered */
	uint64_t quarantined; /* segments renamed to .bad */
	uint64_t gaps;	      /* missing sequence numbers */
	uint64_t torn_tail;   /* 1 if the log ended in a torn record */
	uint64_t last_lsn;    /* of the last record delivered, 0 none */
};

struct smsr__journal;

/*
 * Open the journal in @o->dir: it must exist and be writable; takes DIR/LOCK.
 * Lists the segments (reads none). 0 and *@out, or -SMSR_ECONFIG (missing,
 * not a directory, unwritable; the reason in @err), -SMSR_EJOURNALLOCKED
 * (another process holds it; its pid in @err), -SMSR_EINVAL, -SMSR_ENOMEM.
 * A failed open leaves nothing behind. In OFF mode no file is touched.
 * Blocks on file I/O.
 */
int smsr__journal_open(const struct smsr__journal_opts *o, struct smsr__journal **out, char *err,
		       size_t errlen);
/*
 * Replay every valid record to @cb (may be NULL) and count live messages;
 * quarantines damaged segments (see above). Once, before start; @stats may be
 * NULL. 0, or -errno when a segment cannot be read at all. Blocks on I/O.
 */
int smsr__journal_replay(struct smsr__journal *j, smsr__journal_replay_cb *cb, void *arg,
			 struct smsr__journal_replay_stats *stats);
/* Start the writer: opens a new segment after the last one (replaying without
 * a callback first if replay was not called). 0, or -errno / -SMSR_ESTORAGEFULL
 * with nothing started. */
int smsr__journal_start(struct smsr__journal *j);
/*
 * Append one record; any thread, never waits for I/O. Copies @payload
 * (@len bytes). 0 and its LSN in *@lsn; -SMSR_ESTORAGEFULL (disk full: retry
 * later), -SMSR_ESTORAGE (failed: an operator must act), -SMSR_EBUSY (every
 * buffer is waiting for the disk), -SMSR_EINVAL (type 0, too long),
 * -SMSR_ENOTRUNNING (not started or stopping). A refused append records
 * nothing.
 */
int smsr__journal_append(struct smsr__journal *j, uint8_t type, uint64_t msg_id,
			 const void *payload, uint32_t len, uint64_t *lsn);
/* The same with the payload in two parts (@a then @b), copied once. */
int smsr__journal_append2(struct smsr__journal *j, uint8_t type, uint64_t msg_id, const void *a,
			  uint32_t alen, const void *b, uint32_t blen, uint64_t *lsn);
/* The LSN of the last durable record (acquire); any thread. */
uint64_t smsr__journal_durable_lsn(const struct smsr__journal *j);
/* enum smsr__journal_state now; any thread. */
int smsr__journal_state(const struct smsr__journal *j);
/* The message whose ACCEPT record is at @accept_lsn is final; any thread.
 * Segments free of live messages are deleted by the writer soon after. */
void smsr__journal_release(struct smsr__journal *j, uint64_t accept_lsn);
/* Is the segment holding @lsn still in the journal (not deleted, not
 * quarantined)? After replay, a message kept live whose ACCEPT record is no
 * longer kept must be appended again. */
bool smsr__journal_lsn_kept(const struct smsr__journal *j, uint64_t lsn);
/* Everything up to @lsn is archived (opts.archive): segments ending at or
 * before it may be deleted. Any thread. */
void smsr__journal_set_archived(struct smsr__journal *j, uint64_t lsn);
void smsr__journal_stats(struct smsr__journal *j, struct smsr__journal_stats *st);
/*
 * Stop appends, write and sync what was appended, stop the writer. 0 when
 * everything appended is durable; -SMSR_ESTORAGE / -SMSR_ESTORAGEFULL when
 * it could not be (those records were never reported durable). Blocks.
 */
int smsr__journal_stop(struct smsr__journal *j);
/* Stop if running, release the lock, free everything. @j may be NULL. */
void smsr__journal_close(struct smsr__journal *j);

/* CRC32C (Castagnoli) of @n bytes at @p, continuing @crc (0 to start);
 * SSE4.2 when the CPU has it. Pure, any thread. */
uint32_t smsr__crc32c(uint32_t crc, const void *p, size_t n);

#endif
