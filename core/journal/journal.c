/* SPDX-License-Identifier: MIT */
/*
 * The journal's front: open (directory checks and its lock), append from
 * any thread, release, stats, close.
 *
 * An append holds the mutex only to reserve its bytes (position in the log,
 * room in the current buffer, a live count for an ACCEPT): a few additions.
 * The CRC and the copy run outside it, in parallel across threads; the
 * buffer cannot be written, so cannot be reused, until every reservation
 * in it has been filled.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_int.h"
#include "smsr/errors.h"

#define DEF_SEGMENT  (64u << 20)
#define DEF_BUFFER   (1u << 20)
#define DEF_NBUFFERS 4u
#define DEF_BATCH_MS 10u
#define DEF_SEGMENTS 16384u
#define MIN_SEGMENT  (64u << 10)
#define MIN_BUFFER   (4u << 10)

void smsr__jlog(const struct smsr__journal *j, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!j->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	j->o.log(j->o.arg, line);
}

static int set_defaults(struct smsr__journal_opts *o)
{
	if (!o->segment_size)
		o->segment_size = DEF_SEGMENT;
	if (!o->buffer_size)
		o->buffer_size = DEF_BUFFER;
	if (!o->nbuffers)
		o->nbuffers = DEF_NBUFFERS;
	if (!o->batch_ms)
		o->batch_ms = DEF_BATCH_MS;
	if (!o->max_segments)
		o->max_segments = DEF_SEGMENTS;
	if (o->mode < SMSR__JOURNAL_OFF || o->mode > SMSR__JOURNAL_BATCH)
		return -SMSR_EINVAL;
	if (o->segment_size < MIN_SEGMENT || o->segment_size > UINT32_MAX - 4096 ||
	    o->buffer_size < MIN_BUFFER || o->nbuffers < 3 || o->max_segments < 2)
		return -SMSR_EINVAL;
	if (o->buffer_size > o->segment_size - SMSR__JOURNAL_SEG_HDR)
		o->buffer_size = (o->segment_size - SMSR__JOURNAL_SEG_HDR) & ~7u;
	return 0;
}

/* The directory, then its LOCK: a clear reason in @err for each refusal. */
static int open_dir(struct smsr__journal *j, char *err, size_t errlen)
{
	char pid[32];
	ssize_t n;

	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		int e = errno;

		snprintf(err, errlen, "journal directory %s: %s", j->dir,
			 e == ENOENT	? "does not exist"
			 : e == ENOTDIR ? "is not a directory"
					: strerror(e));
		return -SMSR_ECONFIG;
	}
	j->lockfd = openat(j->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (j->lockfd < 0) {
		snprintf(err, errlen, "journal directory %s is not writable: %s", j->dir,
			 strerror(errno));
		return -SMSR_ECONFIG;
	}
	if (flock(j->lockfd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e != EWOULDBLOCK) {
			snprintf(err, errlen, "journal directory %s: cannot lock LOCK: %s", j->dir,
				 strerror(e));
			return -SMSR_ECONFIG;
		}
		n = pread(j->lockfd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		snprintf(err, errlen, "journal directory %s is locked by another process (pid %s)",
			 j->dir, pid[0] ? pid : "unknown");
		return -SMSR_EJOURNALLOCKED;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(j->lockfd, 0) < 0 || pwrite(j->lockfd, pid, (size_t)n, 0) != n) {
		snprintf(err, errlen, "journal directory %s is not writable: %s", j->dir,
			 strerror(errno));
		return -SMSR_ECONFIG;
	}
	return 0;
}

static int alloc_buffers(struct smsr__journal *j)
{
	j->bufs = calloc(j->o.nbuffers, sizeof(*j->bufs));
	if (!j->bufs)
		return -SMSR_ENOMEM;
	for (uint32_t i = 0; i < j->o.nbuffers; i++) {
		struct smsr__jbuf *b = &j->bufs[i];

		/* Page-aligned for the kernel's copy; the size rounded for aligned_alloc. */
		b->data = aligned_alloc(4096, (j->o.buffer_size + 4095u) & ~4095u);
		if (!b->data)
			return -SMSR_ENOMEM;
		b->cap = j->o.buffer_size;
		b->next = j->free;
		j->free = b;
	}
	return 0;
}

static int init_sync(struct smsr__journal *j)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_mutex_init(&j->mu, NULL))
		return -SMSR_ENOMEM;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&j->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (rc) {
		pthread_mutex_destroy(&j->mu);
		return -SMSR_ENOMEM;
	}
	return 0;
}

int smsr__journal_open(const struct smsr__journal_opts *o, struct smsr__journal **out, char *err,
		       size_t errlen)
{
	struct smsr__journal *j;
	int rc;

	if (errlen)
		err[0] = 0;
	if (!o || !out || (o->mode != SMSR__JOURNAL_OFF && !o->dir))
		return -SMSR_EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -SMSR_ENOMEM;
	j->o = *o;
	j->dirfd = j->lockfd = j->fd_cur = j->fd_next = -1;
	rc = set_defaults(&j->o);
	if (rc < 0) {
		snprintf(err, errlen, "journal: invalid options");
		goto err_free;
	}
	j->max_rec =
	    j->o.buffer_size < SMSR__JOURNAL_MAX_REC ? j->o.buffer_size : SMSR__JOURNAL_MAX_REC;
	rc = init_sync(j);
	if (rc < 0)
		goto err_free;
	if (j->o.mode == SMSR__JOURNAL_OFF) {
		*out = j;
		return 0;
	}
	j->dir = strdup(o->dir);
	j->o.dir = j->dir;
	j->nslots = j->o.max_segments;
	j->segs = calloc(j->nslots, sizeof(*j->segs));
	rc = -SMSR_ENOMEM;
	if (!j->dir || !j->segs || alloc_buffers(j) < 0)
		goto err_close;
	rc = open_dir(j, err, errlen);
	if (rc < 0)
		goto err_close;
	rc = smsr__jseg_list(j->dirfd, &j->found, &j->nfound);
	if (rc < 0) {
		snprintf(err, errlen, "journal directory %s cannot be listed: %s", j->dir,
			 strerror(-rc));
		rc = -SMSR_ECONFIG;
		goto err_close;
	}
	*out = j;
	return 0;

err_close:
	smsr__journal_close(j);
	return rc;
err_free:
	free(j);
	return rc;
}

/* Room for @size bytes: the buffer to reserve them in, NULL if none is free
 * or the log may not roll. Under mu; *@rc says why. */
static struct smsr__jbuf *room(struct smsr__journal *j, uint32_t size, int *rc)
{
	struct smsr__jbuf *b = j->cur;

	if (j->pos_off + size > j->o.segment_size) {
		/* Its slot must be free: at most max_segments files. */
		*rc = smsr__jseg_claim(j, j->pos_seq + 1);
		if (*rc < 0)
			return NULL;
		if (b && b->used)
			smsr__jbuf_seal(j, b);
		b = j->cur;
		j->pos_seq++;
		j->pos_off = SMSR__JOURNAL_SEG_HDR;
	}
	if (b && b->used + size > b->cap) {
		smsr__jbuf_seal(j, b);
		b = NULL;
	}
	if (!b) {
		b = j->free;
		if (!b) {
			j->busy++;
			*rc = -SMSR_EBUSY;
			return NULL;
		}
		j->free = b->next;
		j->cur = b;
	}
	if (!b->used) {
		b->seq = j->pos_seq;
		b->seg_off = j->pos_off;
	}
	return b;
}

int smsr__journal_append2(struct smsr__journal *j, uint8_t type, uint64_t msg_id, const void *a,
			  uint32_t alen, const void *bp, uint32_t blen, uint64_t *lsn)
{
	struct smsr__jbuf *b;
	uint32_t size, off;
	uint64_t at;
	bool wake;
	int rc = 0;

	if (j->o.mode == SMSR__JOURNAL_OFF) {
		*lsn = 0;
		return 0;
	}
	if (!type || alen > j->max_rec || blen > j->max_rec ||
	    smsr__jrec_size(alen + blen) > j->max_rec)
		return -SMSR_EINVAL;
	size = smsr__jrec_size(alen + blen);
	pthread_mutex_lock(&j->mu);
	switch (atomic_load_explicit(&j->state, memory_order_relaxed)) {
	case SMSR__JSTATE_FULL:
		rc = -SMSR_ESTORAGEFULL;
		goto out;
	case SMSR__JSTATE_FAILED:
		rc = -SMSR_ESTORAGE;
		goto out;
	}
	if (!j->running || j->stopping) {
		rc = -SMSR_ENOTRUNNING;
		goto out;
	}
	b = room(j, size, &rc);
	if (!b)
		goto out;
	off = b->used;
	b->used += size;
	at = SMSR__JOURNAL_LSN(j->pos_seq, j->pos_off);
	b->last_lsn = at;
	j->pos_off += size;
	j->records++;
	j->bytes_appended += size;
	if (type == SMSR__JREC_ACCEPT) {
		j->accepts++;
		atomic_fetch_add_explicit(&smsr__jseg_slot(j, j->pos_seq)->live, 1,
					  memory_order_relaxed);
	}
	wake = j->writer_idle && (j->o.mode == SMSR__JOURNAL_SYNC || j->sealed);
	pthread_mutex_unlock(&j->mu);
	if (wake)
		pthread_cond_signal(&j->wake);
	smsr__jrec_encode(b->data + off, type, msg_id, a, alen, bp, blen);
	atomic_fetch_add_explicit(&b->filled, size, memory_order_release);
	*lsn = at;
	return 0;
out:
	wake = rc == -SMSR_EBUSY && j->writer_idle;
	pthread_mutex_unlock(&j->mu);
	if (wake)
		pthread_cond_signal(&j->wake);
	return rc;
}

int smsr__journal_append(struct smsr__journal *j, uint8_t type, uint64_t msg_id,
			 const void *payload, uint32_t len, uint64_t *lsn)
{
	return smsr__journal_append2(j, type, msg_id, payload, len, NULL, 0, lsn);
}

uint64_t smsr__journal_durable_lsn(const struct smsr__journal *j)
{
	if (j->o.mode == SMSR__JOURNAL_OFF)
		return UINT64_MAX;
	return atomic_load_explicit(&j->durable, memory_order_acquire);
}

int smsr__journal_state(const struct smsr__journal *j)
{
	return atomic_load_explicit(&j->state, memory_order_acquire);
}

void smsr__journal_release(struct smsr__journal *j, uint64_t accept_lsn)
{
	uint64_t seq = SMSR__JOURNAL_LSN_SEQ(accept_lsn);
	struct smsr__jseg *s;

	if (j->o.mode == SMSR__JOURNAL_OFF || !seq)
		return;
	s = smsr__jseg_slot(j, seq);
	if (atomic_load_explicit(&s->seq, memory_order_relaxed) == seq)
		atomic_fetch_sub_explicit(&s->live, 1, memory_order_release);
}

bool smsr__journal_lsn_kept(const struct smsr__journal *j, uint64_t lsn)
{
	uint64_t seq = SMSR__JOURNAL_LSN_SEQ(lsn);
	const struct smsr__jseg *s;

	if (j->o.mode == SMSR__JOURNAL_OFF || !seq)
		return false;
	s = smsr__jseg_slot(j, seq);
	return atomic_load(&s->seq) == seq && atomic_load(&s->present);
}

void smsr__journal_set_archived(struct smsr__journal *j, uint64_t lsn)
{
	atomic_store(&j->archived, lsn);
}

void smsr__journal_stats(struct smsr__journal *j, struct smsr__journal_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&j->mu);
	st->records = j->records;
	st->accepts = j->accepts;
	st->bytes_appended = j->bytes_appended;
	st->busy = j->busy;
	pthread_mutex_unlock(&j->mu);
	st->durable_lsn = smsr__journal_durable_lsn(j);
	st->state = smsr__journal_state(j);
	if (j->o.mode == SMSR__JOURNAL_OFF)
		return;
	st->bytes_written = atomic_load(&j->bytes_written);
	st->commits = atomic_load(&j->commits);
	st->segments = atomic_load(&j->nsegments);
	st->bytes_on_disk = st->segments * j->o.segment_size;
	st->segments_deleted = atomic_load(&j->deleted);
	for (uint32_t i = 0; i < j->nslots; i++) {
		int64_t live = atomic_load_explicit(&j->segs[i].live, memory_order_relaxed);

		if (atomic_load_explicit(&j->segs[i].present, memory_order_relaxed) && live > 0)
			st->live += (uint64_t)live;
	}
}

int smsr__journal_start(struct smsr__journal *j)
{
	int rc;

	if (j->o.mode == SMSR__JOURNAL_OFF) {
		j->running = true;
		return 0;
	}
	if (j->running)
		return -SMSR_ESTATE;
	if (!j->replayed) {
		rc = smsr__journal_replay(j, NULL, NULL, NULL);
		if (rc < 0)
			return rc;
	}
	return smsr__jwrite_start(j);
}

int smsr__journal_stop(struct smsr__journal *j)
{
	if (j->o.mode == SMSR__JOURNAL_OFF) {
		j->running = false;
		return 0;
	}
	return smsr__jwrite_stop(j);
}

void smsr__journal_close(struct smsr__journal *j)
{
	if (!j)
		return;
	if (j->running)
		smsr__journal_stop(j);
	if (j->lockfd >= 0)
		close(j->lockfd); /* releases the flock */
	if (j->dirfd >= 0)
		close(j->dirfd);
	if (j->bufs)
		for (uint32_t i = 0; i < j->o.nbuffers; i++)
			free(j->bufs[i].data);
	free(j->bufs);
	free(j->segs);
	free(j->found);
	free(j->dir);
	pthread_cond_destroy(&j->wake);
	pthread_mutex_destroy(&j->mu);
	free(j);
}
