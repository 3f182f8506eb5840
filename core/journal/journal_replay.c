/* SPDX-License-Identifier: MIT */
/*
 * Recovery: read the segments in order and hand every valid record back.
 *
 * Each segment is mapped read-only and walked record by record; every
 * record that checks out is delivered at once, so a damaged segment still
 * gives back its intact prefix. Where the walk stops decides the rest:
 * - zeros (unwritten space): the segment's clean end, unless a valid record
 *   lies beyond them in a segment before the tail (a lost write: damage);
 * - a torn or damaged record in the tail of the log (the last segment that
 *   holds records, and the empty ones after it) with nothing valid after
 *   it: the last batch was cut by a crash; it was never acknowledged, and
 *   is ignored quietly;
 * - anything else (a damaged record with valid ones after it, a torn end or a
 *   short file before the tail, a bad header): the segment is quarantined,
 *   renamed to .bad with one log line, and replay goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_int.h"
#include "smsr/errors.h"

struct seg_map {
	const unsigned char *p;
	size_t size;
	uint32_t nominal; /* segment size the header announces */
};

/* Does a valid record start anywhere in [@from, @size) (8-aligned)? */
static bool valid_after(const struct seg_map *m, size_t from)
{
	struct smsr__jrec_view v;

	for (size_t o = (from + 7) & ~(size_t)7; o + SMSR__JOURNAL_REC_HDR <= m->size; o += 8) {
		uint64_t w;

		memcpy(&w, m->p + o, 8);
		if (w && smsr__jrec_check(m->p + o, m->size - o, &v) > 0)
			return true;
	}
	return false;
}

static bool rest_is_zero(const struct seg_map *m, size_t off)
{
	for (; off < m->size && (off & 7); off++)
		if (m->p[off])
			return false;
	for (; off + 8 <= m->size; off += 8) {
		uint64_t w;

		memcpy(&w, m->p + off, 8);
		if (w)
			return false;
	}
	return smsr__jzero(m->p + off, m->size - off);
}

/*
 * Zero segment @seq from @off, the end of its last good record, to its end
 * (@nominal bytes, restored if the file was cut short): the torn batch is
 * gone, so once later segments exist this one ends cleanly (and never looks
 * like damage before the tail).
 */
static void repair(struct smsr__journal *j, uint64_t seq, size_t off, uint32_t nominal)
{
	static const char zeros[4096];
	char name[32];
	struct stat st;
	int fd, rc = 0;

	smsr__jseg_name(name, sizeof(name), seq, ".seg");
	fd = openat(j->dirfd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if ((off_t)off < st.st_size &&
	    fallocate(fd, FALLOC_FL_ZERO_RANGE, (off_t)off, st.st_size - (off_t)off) < 0 &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		      st.st_size - (off_t)off) < 0) {
		for (off_t o = (off_t)off; o < st.st_size && rc == 0; o += (off_t)sizeof(zeros)) {
			size_t n = st.st_size - o < (off_t)sizeof(zeros) ? (size_t)(st.st_size - o)
									 : sizeof(zeros);

			if (pwrite(fd, zeros, n, o) != (ssize_t)n)
				rc = -EIO;
		}
	}
	/* A tail cut short gets its preallocated length back. */
	if (rc == 0 && st.st_size < (off_t)nominal && fallocate(fd, 0, 0, (off_t)nominal) < 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		smsr__jlog(j, "journal: cannot clear the torn end of %s/%s: %s", j->dir, name,
			   strerror(-rc));
}

/* Has segment @seq any record (a non-zero word where the first goes)? */
static bool has_records(const struct smsr__journal *j, uint64_t seq)
{
	char name[32];
	uint64_t w = 0;
	int fd;

	smsr__jseg_name(name, sizeof(name), seq, ".seg");
	fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (pread(fd, &w, sizeof(w), SMSR__JOURNAL_SEG_HDR) != (ssize_t)sizeof(w))
		w = 0;
	close(fd);
	return w != 0;
}

static int map_segment(const struct smsr__journal *j, uint64_t seq, struct seg_map *m)
{
	char name[32];
	struct stat st;
	int fd, rc = 0;

	smsr__jseg_name(name, sizeof(name), seq, ".seg");
	fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	m->p = NULL;
	m->size = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
	} else if (st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p == MAP_FAILED)
			rc = -errno;
		else {
			m->p = p;
			m->size = (size_t)st.st_size;
		}
	}
	close(fd);
	m->nominal = 0;
	if (m->size >= SMSR__JOURNAL_SEG_HDR)
		memcpy(&m->nominal, m->p + 32, 4);
	return rc;
}

static void quarantine(struct smsr__journal *j, uint64_t seq, const char *why, uint64_t off,
		       uint64_t recs)
{
	int rc = smsr__jseg_quarantine(j, seq);

	atomic_store(&smsr__jseg_slot(j, seq)->present, 0);
	smsr__jlog(j,
		   "journal: segment %s/%016llx.seg is damaged (%s at offset %llu): %s; its "
		   "%llu records before the damage were recovered, the rest of it is lost",
		   j->dir, (unsigned long long)seq, why, (unsigned long long)off,
		   rc < 0 ? "could not rename it to .bad" : "quarantined as .bad",
		   (unsigned long long)recs);
}

/* Walk @m, delivering records; returns where and why it stopped. */
static const char *walk(struct smsr__journal *j, uint64_t seq, const struct seg_map *m, bool tail,
			smsr__journal_replay_cb *cb, void *arg,
			struct smsr__journal_replay_stats *st, size_t *at, uint64_t *recs)
{
	struct smsr__jseg *slot = smsr__jseg_slot(j, seq);
	size_t off = SMSR__JOURNAL_SEG_HDR;
	int r = 0;

	while (off < m->size) {
		struct smsr__jrec_view v;
		uint64_t lsn = SMSR__JOURNAL_LSN(seq, off);

		r = smsr__jrec_check(m->p + off, m->size - off, &v);
		if (r <= 0)
			break;
		if (v.type == SMSR__JREC_ACCEPT)
			atomic_fetch_add(&slot->live, 1);
		atomic_store(&slot->last_off, (uint32_t)off);
		if (cb)
			cb(arg, v.type, v.msg_id, v.payload, v.len, lsn);
		st->records++;
		st->bytes += (uint64_t)r;
		st->last_lsn = lsn;
		(*recs)++;
		off += (size_t)r;
	}
	*at = off;
	if (tail) {
		if (r < 0 && valid_after(m, off + 8))
			return "bad record with valid ones after it";
		if (r < 0 || !rest_is_zero(m, off)) {
			st->torn_tail = 1;
			repair(j, seq, off, m->nominal);
		}
		return NULL;
	}
	if (r < 0)
		return off + SMSR__JOURNAL_REC_HDR > m->size ? "torn record" : "bad record";
	if (m->size < m->nominal)
		return "file truncated";
	if (valid_after(m, off + 8))
		return "unwritten hole before valid records";
	return NULL;
}

static int replay_segment(struct smsr__journal *j, uint64_t seq, bool tail,
			  smsr__journal_replay_cb *cb, void *arg,
			  struct smsr__journal_replay_stats *st)
{
	struct seg_map m = {0};
	const char *why;
	size_t at = 0;
	uint64_t recs = 0;
	int rc;

	rc = smsr__jseg_claim(j, seq);
	if (rc < 0)
		return rc;
	rc = map_segment(j, seq, &m);
	if (rc < 0)
		return rc;
	atomic_store(&smsr__jseg_slot(j, seq)->present, 1);
	atomic_fetch_add(&j->nsegments, 1);
	st->segments++;
	if (smsr__jseg_check_header(m.p, m.size, seq) < 0) {
		if (tail && smsr__jzero(m.p, m.size < 4096 ? m.size : 4096)) {
			/* A creation cut short: nothing was ever written to it. */
			atomic_store(&smsr__jseg_slot(j, seq)->present, 0);
			smsr__jseg_delete(j, seq);
			why = NULL;
		} else {
			why = "bad header";
		}
	} else {
		why = walk(j, seq, &m, tail, cb, arg, st, &at, &recs);
	}
	if (m.p)
		munmap((void *)(uintptr_t)m.p, m.size);
	if (why) {
		quarantine(j, seq, why, at, recs);
		atomic_fetch_sub(&j->nsegments, 1);
		st->quarantined++;
	}
	return 0;
}

int smsr__journal_replay(struct smsr__journal *j, smsr__journal_replay_cb *cb, void *arg,
			 struct smsr__journal_replay_stats *stats)
{
	struct smsr__journal_replay_stats local;
	struct smsr__journal_replay_stats *st = stats ? stats : &local;
	size_t tail = 0;

	memset(st, 0, sizeof(*st));
	if (j->o.mode == SMSR__JOURNAL_OFF)
		return 0;
	if (j->replayed || j->running)
		return -SMSR_ESTATE;
	/* The tail: the last segment with records, and the empty ones after. */
	for (size_t i = j->nfound; i-- > 0;)
		if (has_records(j, j->found[i])) {
			tail = i;
			break;
		}
	for (size_t i = 0; i < j->nfound; i++) {
		uint64_t seq = j->found[i];
		int rc;

		if (i && seq != j->found[i - 1] + 1) {
			st->gaps += seq - j->found[i - 1] - 1;
			smsr__jlog(j,
				   "journal: segments %016llx..%016llx are missing from %s: their "
				   "records are lost",
				   (unsigned long long)(j->found[i - 1] + 1),
				   (unsigned long long)(seq - 1), j->dir);
		}
		rc = replay_segment(j, seq, i >= tail, cb, arg, st);
		if (rc < 0) {
			smsr__jlog(j, "journal: cannot read %s/%016llx.seg: %s", j->dir,
				   (unsigned long long)seq, strerror(rc < -999 ? EIO : -rc));
			return rc;
		}
	}
	j->replayed = true;
	return 0;
}
