/* SPDX-License-Identifier: MIT */
/*
 * Journal internals shared by its files: the journal object, its in-memory
 * buffers and the ring of segment slots (live counts for compaction).
 *
 * Who touches what. Fields under "append side" are guarded by @mu. The
 * "writer" fields belong to the writer thread once started (to the opening
 * thread before). Segment slots are indexed by seq % nslots: their live
 * counts are atomics any thread changes; seq and present are written by the
 * writer (or replay) only and read by others as hints.
 */
#ifndef SMSR_JOURNAL_INT_H
#define SMSR_JOURNAL_INT_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>

#include "journal.h"

/*
 * An in-memory buffer: a run of records bound for one segment, contiguous
 * in it from @seg_off. Appenders reserve (@used, under the journal's mutex)
 * then copy and add their bytes to @filled; the writer writes it once
 * sealed and @filled == @used.
 */
struct smsr__jbuf {
	char *data;
	uint32_t cap;
	uint32_t used;		 /* reserved; under mu */
	_Atomic uint32_t filled; /* copied */
	uint32_t seg_off;	 /* file offset of data[0] */
	uint64_t seq;		 /* segment */
	uint64_t last_lsn;	 /* of the last record reserved */
	struct smsr__jbuf *next; /* free list or sealed queue */
};

struct smsr__jseg {
	_Atomic uint64_t seq;	   /* 0: empty slot */
	_Atomic int64_t live;	   /* ACCEPT records not yet released */
	_Atomic uint32_t last_off; /* offset of its last record written (writer) */
	_Atomic uint8_t present;   /* the file exists */
};

struct smsr__journal {
	struct smsr__journal_opts o;
	char *dir;
	int dirfd;
	int lockfd;
	uint64_t *found; /* segment seqs at open, ascending */
	size_t nfound;
	bool replayed;

	/* Append side, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t wake; /* the writer waits on it */
	struct smsr__jbuf *cur;
	struct smsr__jbuf *sealed, *sealed_tail, *free;
	uint64_t pos_seq; /* where the next record goes */
	uint32_t pos_off;
	bool running, stopping, writer_idle;
	uint64_t records, accepts, bytes_appended, busy;

	_Atomic int state; /* enum smsr__journal_state */
	_Atomic uint64_t durable;
	_Atomic uint64_t archived;

	struct smsr__jseg *segs;
	uint32_t nslots;

	/* Writer thread. */
	pthread_t thr;
	bool thr_started;
	struct io_uring ring;
	bool ring_ok;
	int fd_cur, fd_next;
	uint64_t seq_cur, seq_next;
	uint64_t oldest; /* oldest segment that may still exist */
	uint64_t last_flush_ns;
	_Atomic uint64_t bytes_written, commits, deleted, nsegments;
	uint64_t next_try_ns; /* preallocating the next segment failed: not before */
	uint32_t max_rec;     /* framed bytes a record may take */
	struct smsr__jbuf *bufs;
};

/* Seal @b, the current buffer: queue it for the writer. Under mu. */
static inline void smsr__jbuf_seal(struct smsr__journal *j, struct smsr__jbuf *b)
{
	b->next = NULL;
	if (j->sealed_tail)
		j->sealed_tail->next = b;
	else
		j->sealed = b;
	j->sealed_tail = b;
	j->cur = NULL;
}

/* Record framing (journal_rec.c). */
struct smsr__jrec_view {
	uint8_t type;
	uint64_t msg_id;
	const void *payload;
	uint32_t len;
};

static inline uint32_t smsr__jrec_size(uint32_t payload_len)
{
	return (SMSR__JOURNAL_REC_HDR + payload_len + 7u) & ~7u;
}

static inline bool smsr__jzero(const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		if (s[i])
			return false;
	return true;
}

/* Frame a record at @dst (smsr__jrec_size(alen + blen) bytes): header,
 * @a then @b (copied), zero pad, CRC. */
void smsr__jrec_encode(void *dst, uint8_t type, uint64_t msg_id, const void *a, uint32_t alen,
		       const void *b, uint32_t blen);
/* Check the record at @p with @avail bytes readable: its padded size and
 * *@v, 0 for unwritten space (zeros), -1 when torn or damaged. */
int smsr__jrec_check(const void *p, size_t avail, struct smsr__jrec_view *v);

/* Segment files (journal_seg.c). All block on I/O; errors are -errno. */
void smsr__jseg_name(char *buf, size_t n, uint64_t seq, const char *suffix);
/* List DIR's *.seg files into a malloc'd ascending array. */
int smsr__jseg_list(int dirfd, uint64_t **seqs, size_t *n);
/* Create, header, preallocate and sync segment @seq; its fd. */
int smsr__jseg_create(struct smsr__journal *j, uint64_t seq);
/* Check @seq's header in the @len bytes at @p: 0 or -1. */
int smsr__jseg_check_header(const void *p, size_t len, uint64_t seq);
int smsr__jseg_delete(struct smsr__journal *j, uint64_t seq);
int smsr__jseg_quarantine(struct smsr__journal *j, uint64_t seq);
struct smsr__jseg *smsr__jseg_slot(const struct smsr__journal *j, uint64_t seq);
/* Claim the slot of @seq before any record goes there (not yet present);
 * -SMSR_ESTORAGEFULL while another segment's file holds it (more than
 * max_segments). Under mu, or before the writer starts. */
int smsr__jseg_claim(struct smsr__journal *j, uint64_t seq);
/* Delete the prefix of segments free of live messages (writer). */
void smsr__jseg_compact(struct smsr__journal *j);

/* Writer (journal_write.c). */
int smsr__jwrite_start(struct smsr__journal *j);
int smsr__jwrite_stop(struct smsr__journal *j);

/* printf into the log callback, if any. */
void smsr__jlog(const struct smsr__journal *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Call the inject seam for @op: 0 or a faked -errno. */
static inline int smsr__jinject(const struct smsr__journal *j, int op)
{
	return j->o.inject ? j->o.inject(j->o.inject_arg, op) : 0;
}

#endif
