/* SPDX-License-Identifier: MIT */
/*
 * The writer thread: group commit through io_uring.
 *
 * One commit at a time: take every buffer filled since the last commit (the
 * current one too), wait for copies still in progress, write each run of
 * buffers bound for one segment with one writev at its offset, followed by a
 * linked fdatasync (IOSQE_IO_LINK) or as one RWF_DSYNC write, then publish the
 * durable LSN and call on_durable. Appends go on filling new buffers while a
 * commit is in flight, so the next batch is as large as the fsync was long.
 *
 * The invariant: the durable LSN moves only past records whose write and
 * sync both completed without error. ENOSPC (and a short write) keeps the
 * batch and retries it every 100 ms with appends refused; any other error
 * of a write or an fsync fails the journal for good, its fsync never retried.
 *
 * user_data of this ring: 1 the write, 2 its fsync; nothing else uses it.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/clock.h"
#include "journal_int.h"
#include "smsr/errors.h"

#define RING_ENTRIES 8
#define RETRY_NS     (100 * SMSR__MS)
#define UD_WRITE     1
#define UD_FSYNC     2

static const char *op_name(int op)
{
	return op == SMSR__JOP_WRITE ? "write" : op == SMSR__JOP_FSYNC ? "fdatasync" : "fallocate";
}

/* Sleep on the journal's condition until @deadline_ns (monotonic) or a
 * wake-up. Under mu. */
static void wait_until(struct smsr__journal *j, uint64_t deadline_ns)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline_ns / SMSR__S),
			      .tv_nsec = (long)(deadline_ns % SMSR__S)};

	j->writer_idle = true;
	pthread_cond_timedwait(&j->wake, &j->mu, &ts);
	j->writer_idle = false;
}

/* Wait for the copies still going into @b (appenders between reserve and
 * fill): a few hundred nanoseconds, unless one was preempted. */
static void wait_filled(const struct smsr__jbuf *b)
{
	for (unsigned n = 0; atomic_load_explicit(&b->filled, memory_order_acquire) != b->used; n++)
		if (n > 100)
			sched_yield();
}

/* Return @list's buffers to the free list, once no appender still copies
 * into them (dropped ones too: a late copy must not land in a reused one). */
static void give_back(struct smsr__journal *j, struct smsr__jbuf *list)
{
	for (struct smsr__jbuf *b = list; b; b = b->next)
		wait_filled(b);
	pthread_mutex_lock(&j->mu);
	while (list) {
		struct smsr__jbuf *next = list->next;

		list->used = 0;
		atomic_store_explicit(&list->filled, 0, memory_order_relaxed);
		list->next = j->free;
		j->free = list;
		list = next;
	}
	pthread_mutex_unlock(&j->mu);
}

static void enter_full(struct smsr__journal *j, int rc, int op, uint64_t seq)
{
	int ok = SMSR__JSTATE_OK;

	if (atomic_compare_exchange_strong(&j->state, &ok, SMSR__JSTATE_FULL))
		smsr__jlog(j,
			   "journal: disk full (%s of %s/%016llx.seg: %s): appends refused "
			   "(storage_full), retrying every 100 ms",
			   op_name(op), j->dir, (unsigned long long)seq, strerror(-rc));
}

static void leave_full(struct smsr__journal *j)
{
	int full = SMSR__JSTATE_FULL;

	if (atomic_compare_exchange_strong(&j->state, &full, SMSR__JSTATE_OK))
		smsr__jlog(j, "journal: disk space is back in %s: appends accepted again", j->dir);
}

static void enter_failed(struct smsr__journal *j, int rc, int op, uint64_t seq)
{
	if (atomic_exchange(&j->state, SMSR__JSTATE_FAILED) == SMSR__JSTATE_FAILED)
		return;
	smsr__jlog(j,
		   "journal: FAILED: %s of %s/%016llx.seg returned %s; nothing more will be "
		   "acknowledged (durable LSN stays %016llx), appends are refused "
		   "(storage_failed) until an operator acts; the %s is not retried",
		   op_name(op), j->dir, (unsigned long long)seq, strerror(-rc),
		   (unsigned long long)atomic_load(&j->durable), op_name(op));
}

/* Wait for @n completions; their results in @res[user_data]. 0 or -errno of
 * the ring itself. */
static int reap(struct smsr__journal *j, int n, int *res)
{
	while (n) {
		struct io_uring_cqe *cqe;
		int rc = io_uring_wait_cqe(&j->ring, &cqe);

		if (rc == -EINTR)
			continue;
		if (rc < 0)
			return rc;
		if (cqe->user_data == UD_WRITE || cqe->user_data == UD_FSYNC)
			res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(&j->ring, cqe);
		n--;
	}
	return 0;
}

/* Write @len bytes of @iov at @off in the current segment and make them
 * durable. 0, or -errno with *@op the operation that failed. */
static int commit_io(struct smsr__journal *j, const struct iovec *iov, int n, uint32_t len,
		     uint32_t off, int *op)
{
	struct io_uring_sqe *sqe;
	int res[3] = {0, 0, 0}, nsqe = 1, fake, rc;

	*op = SMSR__JOP_WRITE;
	fake = smsr__jinject(j, SMSR__JOP_WRITE);
	if (fake)
		return fake;
	fake = smsr__jinject(j, SMSR__JOP_FSYNC);
	sqe = io_uring_get_sqe(&j->ring);
	io_uring_prep_writev(sqe, j->fd_cur, iov, (unsigned)n, off);
	sqe->user_data = UD_WRITE;
	if (j->o.dsync) {
		sqe->rw_flags = RWF_DSYNC;
	} else if (!fake) {
		sqe->flags |= IOSQE_IO_LINK;
		sqe = io_uring_get_sqe(&j->ring);
		io_uring_prep_fsync(sqe, j->fd_cur, IORING_FSYNC_DATASYNC);
		sqe->user_data = UD_FSYNC;
		nsqe = 2;
	}
	rc = io_uring_submit(&j->ring);
	if (rc != nsqe)
		return rc < 0 ? rc : -EIO;
	rc = reap(j, nsqe, res);
	if (rc < 0)
		return rc;
	if (res[UD_WRITE] < 0)
		return res[UD_WRITE];
	/* Short: the disk filled up under it (the fsync was cancelled). */
	if ((uint32_t)res[UD_WRITE] < len)
		return -ENOSPC;
	*op = SMSR__JOP_FSYNC;
	if (fake)
		return fake;
	return res[UD_FSYNC] < 0 ? res[UD_FSYNC] : 0;
}

/* Make @seq the segment being written: the one preallocated ahead, or a new
 * one. 0 or -errno. */
static int roll_to(struct smsr__journal *j, uint64_t seq)
{
	int fd;

	if (seq == j->seq_cur)
		return 0;
	if (j->fd_next >= 0 && j->seq_next == seq) {
		fd = j->fd_next;
		j->fd_next = -1;
	} else {
		fd = smsr__jseg_create(j, seq);
		if (fd < 0)
			return fd;
	}
	atomic_store(&smsr__jseg_slot(j, seq)->present, 1);
	close(j->fd_cur);
	j->fd_cur = fd;
	j->seq_cur = seq;
	j->next_try_ns = 0;
	return 0;
}

/* Preallocate the segment after the current one, so a roll need not wait
 * for it. A failure is tried again later, and for real at the roll. */
static void prepare_next(struct smsr__journal *j)
{
	uint64_t now;
	int fd;

	if (j->fd_next >= 0 || atomic_load(&j->state) != SMSR__JSTATE_OK)
		return;
	now = smsr__now_ns();
	if (now < j->next_try_ns)
		return;
	fd = smsr__jseg_create(j, j->seq_cur + 1);
	if (fd < 0) {
		j->next_try_ns = now + RETRY_NS;
		return;
	}
	j->fd_next = fd;
	j->seq_next = j->seq_cur + 1;
}

static bool stopping(struct smsr__journal *j)
{
	bool s;

	pthread_mutex_lock(&j->mu);
	s = j->stopping;
	pthread_mutex_unlock(&j->mu);
	return s;
}

static void retry_pause(struct smsr__journal *j)
{
	pthread_mutex_lock(&j->mu);
	if (!j->stopping)
		wait_until(j, smsr__now_ns() + RETRY_NS);
	pthread_mutex_unlock(&j->mu);
	smsr__jseg_compact(j); /* space may come from our own deletions */
}

/* Write one run of buffers of segment @seq, contiguous from @off, and make it
 * durable up to @last_lsn. 0, or -SMSR_ESTORAGE / -SMSR_ESTORAGEFULL (given
 * up at stop). */
static int write_run(struct smsr__journal *j, uint64_t seq, uint32_t off, const struct iovec *iov,
		     int n, uint32_t len, uint64_t last_lsn)
{
	for (;;) {
		int op = SMSR__JOP_FALLOCATE, rc;

		if (atomic_load(&j->state) == SMSR__JSTATE_FAILED)
			return -SMSR_ESTORAGE;
		rc = roll_to(j, seq);
		if (rc == 0)
			rc = commit_io(j, iov, n, len, off, &op);
		if (rc == 0)
			break;
		if ((rc == -ENOSPC || rc == -EDQUOT) && op != SMSR__JOP_FSYNC) {
			enter_full(j, rc, op, seq);
			if (stopping(j))
				return -SMSR_ESTORAGEFULL;
			retry_pause(j);
			continue;
		}
		enter_failed(j, rc, op, seq);
		return -SMSR_ESTORAGE;
	}
	leave_full(j);
	atomic_store(&smsr__jseg_slot(j, seq)->last_off, SMSR__JOURNAL_LSN_OFF(last_lsn));
	atomic_fetch_add(&j->bytes_written, len);
	atomic_fetch_add(&j->commits, 1);
	atomic_store_explicit(&j->durable, last_lsn, memory_order_release);
	if (j->o.tap)
		j->o.tap(j->o.arg, iov, n, last_lsn);
	if (j->o.on_durable)
		j->o.on_durable(j->o.arg, last_lsn);
	return 0;
}

/* Commit every buffer of @list, in order, one run per segment. */
static int commit(struct smsr__journal *j, struct smsr__jbuf *list)
{
	while (list) {
		struct iovec iov[64];
		struct smsr__jbuf *b = list, *last = list, *rest;
		uint32_t len = 0;
		int n = 0, rc;

		for (; b && b->seq == list->seq && n < 64; b = b->next) {
			wait_filled(b);
			iov[n].iov_base = b->data;
			iov[n].iov_len = b->used;
			len += b->used;
			n++;
			last = b;
		}
		rest = last->next;
		last->next = NULL;
		rc = write_run(j, list->seq, list->seg_off, iov, n, len, last->last_lsn);
		give_back(j, list);
		if (rc < 0) {
			give_back(j, rest);
			return rc;
		}
		list = rest;
	}
	return 0;
}

/* Everything filled and due for a commit, or NULL to exit (stopping and
 * nothing left). Housekeeping while idle. */
static struct smsr__jbuf *take(struct smsr__journal *j)
{
	struct smsr__jbuf *list;
	uint64_t batch_ns = (uint64_t)j->o.batch_ms * SMSR__MS;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		bool have = j->sealed || (j->cur && j->cur->used);
		uint64_t now = smsr__now_ns(), due = now + RETRY_NS;

		if (have && (j->o.mode == SMSR__JOURNAL_SYNC || j->sealed || j->stopping ||
			     now >= j->last_flush_ns + batch_ns))
			break;
		if (j->stopping) {
			pthread_mutex_unlock(&j->mu);
			return NULL;
		}
		if (have && j->last_flush_ns + batch_ns < due)
			due = j->last_flush_ns + batch_ns;
		wait_until(j, due);
		pthread_mutex_unlock(&j->mu);
		smsr__jseg_compact(j);
		prepare_next(j);
		pthread_mutex_lock(&j->mu);
	}
	if (j->cur && j->cur->used)
		smsr__jbuf_seal(j, j->cur);
	list = j->sealed;
	j->sealed = j->sealed_tail = NULL;
	pthread_mutex_unlock(&j->mu);
	return list;
}

static void *writer_main(void *arg)
{
	struct smsr__journal *j = arg;
	struct smsr__jbuf *list;

	while ((list = take(j))) {
		j->last_flush_ns = smsr__now_ns();
		if (atomic_load(&j->state) == SMSR__JSTATE_FAILED) {
			give_back(j, list); /* never to be durable: dropped */
			continue;
		}
		if (commit(j, list) == -SMSR_ESTORAGEFULL)
			continue; /* stopping while full: the rest stays unwritten */
		prepare_next(j);
		smsr__jseg_compact(j);
	}
	smsr__jseg_compact(j);
	return NULL;
}

int smsr__jwrite_start(struct smsr__journal *j)
{
	uint64_t seq = j->nfound ? j->found[j->nfound - 1] + 1 : 1;
	int rc, fd;

	rc = smsr__jseg_claim(j, seq);
	if (rc < 0)
		return rc;
	rc = io_uring_queue_init(RING_ENTRIES, &j->ring, 0);
	if (rc < 0)
		return rc;
	fd = smsr__jseg_create(j, seq);
	if (fd < 0) {
		rc = fd == -ENOSPC || fd == -EDQUOT ? -SMSR_ESTORAGEFULL : fd;
		goto err_ring;
	}
	atomic_store(&smsr__jseg_slot(j, seq)->present, 1);
	j->fd_cur = fd;
	j->seq_cur = seq;
	j->oldest = j->nfound ? j->found[0] : seq;
	j->pos_seq = seq;
	j->pos_off = SMSR__JOURNAL_SEG_HDR;
	j->last_flush_ns = smsr__now_ns();
	j->running = true;
	j->stopping = false;
	rc = -pthread_create(&j->thr, NULL, writer_main, j);
	if (rc < 0) {
		j->running = false;
		goto err_fd;
	}
	return 0;

err_fd:
	close(fd);
	j->fd_cur = -1;
err_ring:
	io_uring_queue_exit(&j->ring);
	return rc;
}

int smsr__jwrite_stop(struct smsr__journal *j)
{
	bool left;
	int state;

	pthread_mutex_lock(&j->mu);
	if (!j->running) {
		pthread_mutex_unlock(&j->mu);
		return 0;
	}
	j->stopping = true;
	pthread_mutex_unlock(&j->mu);
	pthread_cond_signal(&j->wake);
	pthread_join(j->thr, NULL);
	pthread_mutex_lock(&j->mu);
	j->running = false;
	left = j->sealed || (j->cur && j->cur->used);
	pthread_mutex_unlock(&j->mu);
	if (j->fd_next >= 0) {
		char name[32];

		/* Never written: not worth its space until the next start. */
		close(j->fd_next);
		j->fd_next = -1;
		smsr__jseg_name(name, sizeof(name), j->seq_next, ".seg");
		if (unlinkat(j->dirfd, name, 0) == 0) {
			atomic_fetch_sub(&j->nsegments, 1);
			fsync(j->dirfd);
		}
	}
	close(j->fd_cur);
	j->fd_cur = -1;
	io_uring_queue_exit(&j->ring);
	state = atomic_load(&j->state);
	if (state == SMSR__JSTATE_FAILED)
		return -SMSR_ESTORAGE;
	return left || state == SMSR__JSTATE_FULL ? -SMSR_ESTORAGEFULL : 0;
}
