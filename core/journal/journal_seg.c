/* SPDX-License-Identifier: MIT */
/*
 * Segment files: naming, listing, creation with preallocation, deletion,
 * quarantine, and the slots that count each segment's live messages.
 *
 * A segment is DIR/NNNNNNNNNNNNNNNN.seg (its sequence number, 16 hex digits,
 * so names sort in log order), preallocated to its full size so a commit's
 * fdatasync need not allocate. Its 64-byte header:
 *   0  magic "SMSRJNL\0"    8  u32 version (1)     12 u32 header size (64)
 *   16 u64 seq              24 u64 created (wall ms) 32 u32 segment size
 *   36 u32 crc32c of bytes 0..35                    40..63 zero
 * A segment file exists on disk (and its directory entry is synced) before
 * any record in it is written. Every create, delete and rename is followed
 * by an fsync of the directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "journal_int.h"
#include "smsr/errors.h"

#define SEG_MAGIC   "SMSRJNL"
#define SEG_VERSION 1u

void smsr__jseg_name(char *buf, size_t n, uint64_t seq, const char *suffix)
{
	snprintf(buf, n, "%016llx%s", (unsigned long long)seq, suffix);
}

static int parse_name(const char *name, uint64_t *seq)
{
	uint64_t v = 0;

	if (strlen(name) != 20 || strcmp(name + 16, ".seg") != 0)
		return -1;
	for (int i = 0; i < 16; i++) {
		char c = name[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*seq = v;
	return v ? 0 : -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int smsr__jseg_list(int dirfd, uint64_t **seqs, size_t *n)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	uint64_t *v = NULL, seq;
	size_t cnt = 0, cap = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	while ((e = readdir(d))) {
		if (parse_name(e->d_name, &seq) < 0)
			continue;
		if (cnt == cap) {
			uint64_t *nv = realloc(v, (cap ? cap * 2 : 64) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return -SMSR_ENOMEM;
			}
			v = nv;
			cap = cap ? cap * 2 : 64;
		}
		v[cnt++] = seq;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_u64);
	*seqs = v;
	*n = cnt;
	return 0;
}

static void fill_header(unsigned char *h, uint64_t seq, uint32_t size)
{
	uint32_t version = SEG_VERSION, hsize = SMSR__JOURNAL_SEG_HDR, crc;
	uint64_t created = smsr__wall_ms();

	memset(h, 0, SMSR__JOURNAL_SEG_HDR);
	memcpy(h, SEG_MAGIC, 8);
	memcpy(h + 8, &version, 4);
	memcpy(h + 12, &hsize, 4);
	memcpy(h + 16, &seq, 8);
	memcpy(h + 24, &created, 8);
	memcpy(h + 32, &size, 4);
	crc = smsr__crc32c(0, h, 36);
	memcpy(h + 36, &crc, 4);
}

int smsr__jseg_check_header(const void *p, size_t len, uint64_t seq)
{
	const unsigned char *h = p;
	uint32_t version, hsize, crc;
	uint64_t s;

	if (len < SMSR__JOURNAL_SEG_HDR || memcmp(h, SEG_MAGIC, 8) != 0)
		return -1;
	memcpy(&version, h + 8, 4);
	memcpy(&hsize, h + 12, 4);
	memcpy(&s, h + 16, 8);
	memcpy(&crc, h + 36, 4);
	if (version != SEG_VERSION || hsize != SMSR__JOURNAL_SEG_HDR || s != seq ||
	    crc != smsr__crc32c(0, h, 36))
		return -1;
	return 0;
}

static int sync_dir(const struct smsr__journal *j)
{
	return fsync(j->dirfd) < 0 ? -errno : 0;
}

int smsr__jseg_create(struct smsr__journal *j, uint64_t seq)
{
	unsigned char h[SMSR__JOURNAL_SEG_HDR];
	char name[32];
	int fd, rc;

	smsr__jseg_name(name, sizeof(name), seq, ".seg");
	/* A file of this name is a leftover of a creation that failed. */
	unlinkat(j->dirfd, name, 0);
	fd = openat(j->dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = smsr__jinject(j, SMSR__JOP_FALLOCATE);
	if (rc == 0 && fallocate(fd, 0, 0, (off_t)j->o.segment_size) < 0)
		rc = -errno;
	if (rc < 0)
		goto err_unlink;
	fill_header(h, seq, j->o.segment_size);
	rc = smsr__jinject(j, SMSR__JOP_WRITE);
	if (rc == 0) {
		ssize_t w = pwrite(fd, h, sizeof(h), 0);

		rc = w == (ssize_t)sizeof(h) ? 0 : w < 0 ? -errno : -ENOSPC;
	}
	if (rc < 0)
		goto err_unlink;
	/* fsync, not fdatasync: the size fallocate set is metadata. */
	rc = smsr__jinject(j, SMSR__JOP_FSYNC);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc == 0)
		rc = sync_dir(j);
	if (rc < 0)
		goto err_unlink;
	atomic_fetch_add(&j->nsegments, 1);
	return fd;

err_unlink:
	close(fd);
	unlinkat(j->dirfd, name, 0);
	return rc;
}

int smsr__jseg_delete(struct smsr__journal *j, uint64_t seq)
{
	char name[32];

	smsr__jseg_name(name, sizeof(name), seq, ".seg");
	if (unlinkat(j->dirfd, name, 0) < 0)
		return -errno;
	atomic_fetch_sub(&j->nsegments, 1);
	return 0;
}

int smsr__jseg_quarantine(struct smsr__journal *j, uint64_t seq)
{
	char from[32], to[32];

	smsr__jseg_name(from, sizeof(from), seq, ".seg");
	smsr__jseg_name(to, sizeof(to), seq, ".bad");
	if (renameat(j->dirfd, from, j->dirfd, to) < 0)
		return -errno;
	return sync_dir(j);
}

struct smsr__jseg *smsr__jseg_slot(const struct smsr__journal *j, uint64_t seq)
{
	return &j->segs[seq % j->nslots];
}

int smsr__jseg_claim(struct smsr__journal *j, uint64_t seq)
{
	struct smsr__jseg *s = smsr__jseg_slot(j, seq);
	uint64_t old = atomic_load(&s->seq);

	if (old == seq)
		return 0;
	if (old && atomic_load(&s->present))
		return -SMSR_ESTORAGEFULL;
	atomic_store(&s->present, 0);
	atomic_store(&s->live, 0);
	atomic_store(&s->last_off, 0);
	atomic_store(&s->seq, seq);
	return 0;
}

/* May @seq go: nothing live in it, archived past its last record? */
static bool deletable(const struct smsr__journal *j, const struct smsr__jseg *s, uint64_t seq)
{
	if (atomic_load_explicit(&s->live, memory_order_acquire) > 0)
		return false;
	if (!j->o.archive)
		return true;
	return atomic_load(&j->archived) >= SMSR__JOURNAL_LSN(seq, atomic_load(&s->last_off));
}

void smsr__jseg_compact(struct smsr__journal *j)
{
	bool any = false;

	for (; j->oldest < j->seq_cur; j->oldest++) {
		struct smsr__jseg *s = smsr__jseg_slot(j, j->oldest);
		int rc;

		if (atomic_load(&s->seq) != j->oldest || !atomic_load(&s->present))
			continue; /* missing, quarantined or deleted */
		if (!deletable(j, s, j->oldest))
			break;
		rc = smsr__jseg_delete(j, j->oldest);
		if (rc < 0 && rc != -ENOENT) {
			char name[32];

			smsr__jseg_name(name, sizeof(name), j->oldest, ".seg");
			smsr__jlog(j, "journal: cannot delete %s/%s: %s; compaction waits", j->dir,
				   name, strerror(-rc));
			break;
		}
		atomic_store(&s->present, 0);
		atomic_store(&s->seq, 0);
		atomic_fetch_add(&j->deleted, 1);
		any = true;
	}
	if (any)
		sync_dir(j);
}
