/* SPDX-License-Identifier: MIT */
/*
 * Description: the journal (core/journal/) keeps what is appended. Its
 * CRC32C gives the standard check value. Records appended from one and
 * from four threads come back from replay after a close, every one, in per-thread order, with LSNs
 * that only grow and a durable LSN that reaches the last; in sync mode the durable LSN moves only
 * after the batch's fdatasync (counted and held through the test seam);
 * batch mode flushes on its own; off mode needs no directory. Small
 * segments roll and are deleted once every message in them and before
 * them is released (a live one keeps its segment and all after it), and
 * only once archived when an archive is configured. Opening a locked,
 * missing or unwritable directory fails with a clear error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/clock.h"
#include "journal/journal.h"
#include "smsr/errors.h"

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void rm_dir(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name), s = strlen(suffix);

		n += l > s && strcmp(e->d_name + l - s, suffix) == 0;
	}
	closedir(d);
	return n;
}

static void wait_durable(struct smsr__journal *j, uint64_t lsn)
{
	uint64_t end = smsr__now_ns() + 5 * SMSR__S;

	while (smsr__journal_durable_lsn(j) < lsn && smsr__now_ns() < end)
		usleep(200);
	assert_true(smsr__journal_durable_lsn(j) >= lsn);
}

/* Append, riding out -SMSR_EBUSY (every buffer waiting for the disk). */
static uint64_t append_ok(struct smsr__journal *j, uint8_t type, uint64_t id, const void *p,
			  uint32_t len)
{
	uint64_t lsn = 0;
	int rc;

	while ((rc = smsr__journal_append(j, type, id, p, len, &lsn)) == -SMSR_EBUSY)
		sched_yield();
	assert_int_equal(rc, 0);
	return lsn;
}

static struct smsr__journal *open_ok(const struct smsr__journal_opts *o)
{
	struct smsr__journal *j = NULL;
	char err[256];
	int rc = smsr__journal_open(o, &j, err, sizeof(err));

	if (rc)
		fprintf(stderr, "open: %d %s\n", rc, err);
	assert_int_equal(rc, 0);
	return j;
}

static int payload_of(uint64_t id, char *buf)
{
	return sprintf(buf, "message %llu to +8613812345678: 【淘宝网】验证码 %06llu。",
		       (unsigned long long)id, (unsigned long long)(id * 7919 % 1000000));
}

/* --- replay into a checker -------------------------------------------- */

#define MAXT 4

struct seen {
	uint64_t next[MAXT]; /* per thread: the index expected next */
	uint64_t n, last_lsn, bad;
};

static void check_cb(void *arg, uint8_t type, uint64_t msg_id, const void *payload, uint32_t len,
		     uint64_t lsn)
{
	struct seen *s = arg;
	unsigned t = (unsigned)(msg_id >> 32);
	uint64_t i = msg_id & 0xffffffffu;
	char want[160];
	int wl = payload_of(msg_id, want);

	if (t >= MAXT || i != s->next[t] || lsn <= s->last_lsn || (int)len != wl ||
	    memcmp(payload, want, len) != 0 || type != (i % 6) + 1)
		s->bad++;
	else
		s->next[t]++;
	s->last_lsn = lsn;
	s->n++;
}

struct writer {
	struct smsr__journal *j;
	unsigned t;
	uint64_t n, last_lsn, nonmono;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char p[160];

	for (uint64_t i = 0; i < w->n; i++) {
		uint64_t id = (uint64_t)w->t << 32 | i;
		uint64_t lsn =
		    append_ok(w->j, (uint8_t)(i % 6 + 1), id, p, (uint32_t)payload_of(id, p));

		w->nonmono += lsn <= w->last_lsn;
		w->last_lsn = lsn;
	}
	return NULL;
}

static void run_threads(unsigned nt, uint64_t per)
{
	char dir[] = "/tmp/smsr-journal-XXXXXX";
	struct smsr__journal_opts o = {
	    .dir = mkdtemp(dir), .mode = SMSR__JOURNAL_SYNC, .segment_size = 1u << 20};
	struct smsr__journal_replay_stats rs;
	struct smsr__journal_stats st;
	struct smsr__journal *j = open_ok(&o);
	struct writer w[MAXT];
	pthread_t thr[MAXT];
	struct seen s = {0};
	uint64_t max = 0;

	assert_int_equal(smsr__journal_start(j), 0);
	for (unsigned t = 0; t < nt; t++) {
		w[t] = (struct writer){.j = j, .t = t, .n = per};
		assert_int_equal(pthread_create(&thr[t], NULL, writer_main, &w[t]), 0);
	}
	for (unsigned t = 0; t < nt; t++) {
		pthread_join(thr[t], NULL);
		assert_int_equal(w[t].nonmono, 0);
		if (w[t].last_lsn > max)
			max = w[t].last_lsn;
	}
	wait_durable(j, max);
	assert_int_equal(smsr__journal_durable_lsn(j), max);
	smsr__journal_stats(j, &st);
	assert_int_equal(st.records, nt * per);
	assert_true(st.commits >= 1);
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);

	j = open_ok(&o);
	assert_int_equal(smsr__journal_replay(j, check_cb, &s, &rs), 0);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.n, nt * per);
	for (unsigned t = 0; t < nt; t++)
		assert_int_equal(s.next[t], per);
	assert_int_equal(rs.last_lsn, max);
	assert_int_equal(rs.quarantined, 0);
	assert_int_equal(rs.torn_tail, 0);
	assert_true(rs.segments > 1); /* 1 MiB segments rolled */
	smsr__journal_close(j);
	rm_dir(dir);
}

static void test_journal_one_thread_replays_every_record(void **state)
{
	run_threads(1, 30000);
}

static void test_journal_four_threads_keep_per_thread_order(void **state)
{
	run_threads(4, 20000);
}

/* --- sync mode: durable only after the fsync ------------------------- */

struct gate {
	_Atomic int fsyncs, durables, bad;
	_Atomic int hold; /* the fsync waits while set */
	struct smsr__journal *j;
};

static int gate_inject(void *arg, int op)
{
	struct gate *g = arg;

	if (op == SMSR__JOP_FSYNC) {
		while (atomic_load(&g->hold))
			usleep(100);
		atomic_fetch_add(&g->fsyncs, 1);
	}
	return 0;
}

static void gate_durable(void *arg, uint64_t lsn)
{
	struct gate *g = arg;

	/* Each advance follows an fsync of its own (creating a segment syncs too). */
	if (atomic_fetch_add(&g->durables, 1) + 1 > atomic_load(&g->fsyncs))
		atomic_fetch_add(&g->bad, 1);
}

static void test_journal_sync_durable_only_after_fdatasync(void **state)
{
	char dir[] = "/tmp/smsr-journal-XXXXXX";
	struct gate g = {0};
	struct smsr__journal_opts o = {.dir = mkdtemp(dir),
				       .mode = SMSR__JOURNAL_SYNC,
				       .on_durable = gate_durable,
				       .arg = &g,
				       .inject = gate_inject,
				       .inject_arg = &g};
	struct smsr__journal *j = open_ok(&o);
	uint64_t lsn, lsn2;

	assert_int_equal(smsr__journal_start(j), 0);
	atomic_store(&g.hold, 1);
	lsn = append_ok(j, SMSR__JREC_ACCEPT, 1, "a", 1);
	usleep(30000);
	/* The write may be done, the fsync is held: not durable. */
	assert_true(smsr__journal_durable_lsn(j) < lsn);
	lsn2 = append_ok(j, SMSR__JREC_FINAL, 1, "b", 1);
	usleep(10000);
	assert_true(smsr__journal_durable_lsn(j) < lsn);
	atomic_store(&g.hold, 0);
	wait_durable(j, lsn2);
	for (uint64_t i = 0; i < 5000; i++)
		lsn = append_ok(j, SMSR__JREC_QUEUED, i, "xyz", 3);
	wait_durable(j, lsn);
	assert_int_equal(atomic_load(&g.bad), 0);
	assert_true(atomic_load(&g.durables) >= 2);
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);
	rm_dir(dir);
}

static void test_journal_batch_mode_flushes_on_its_own(void **state)
{
	char dir[] = "/tmp/smsr-journal-XXXXXX";
	struct smsr__journal_opts o = {
	    .dir = mkdtemp(dir), .mode = SMSR__JOURNAL_BATCH, .batch_ms = 20};
	struct smsr__journal *j = open_ok(&o);
	struct smsr__journal_stats st;
	uint64_t lsn = 0, t0;

	assert_int_equal(smsr__journal_start(j), 0);
	t0 = smsr__now_ns();
	for (uint64_t i = 0; i < 1000; i++)
		lsn = append_ok(j, SMSR__JREC_ACCEPT, i, "hello", 5);
	wait_durable(j, lsn);
	/* A batch waits for its period (less a little for the clock). */
	assert_true(smsr__now_ns() - t0 >= 10 * SMSR__MS);
	smsr__journal_stats(j, &st);
	assert_true(st.commits <= 3);
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);
	rm_dir(dir);
}

static void test_journal_off_mode_accepts_without_files(void **state)
{
	struct smsr__journal_opts o = {.mode = SMSR__JOURNAL_OFF};
	struct smsr__journal *j = open_ok(&o);
	uint64_t lsn = 1;

	assert_int_equal(smsr__journal_start(j), 0);
	assert_int_equal(smsr__journal_append(j, SMSR__JREC_ACCEPT, 1, "x", 1, &lsn), 0);
	assert_int_equal(lsn, 0);
	assert_true(smsr__journal_durable_lsn(j) >= lsn);
	assert_int_equal(smsr__journal_durable_lsn(j), UINT64_MAX);
	smsr__journal_release(j, lsn);
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);
}

/* --- roll and compaction --------------------------------------------- */

#define SEG_SMALL (64u << 10)
#define NMSG	  600 /* 1000-byte accepts: about 10 segments of 64 KiB */

/* The lowest segment number among DIR's .seg files (0: none). */
static uint64_t min_seg(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t lo = 0;

	while (d && (e = readdir(d))) {
		unsigned long long v;
		char tail[8];

		if (sscanf(e->d_name, "%16llx%7s", &v, tail) == 2 && !strcmp(tail, ".seg") &&
		    (!lo || v < lo))
			lo = v;
	}
	if (d)
		closedir(d);
	return lo;
}

/* Wait until the oldest segment left is @want. */
static void wait_oldest(const char *dir, uint64_t want)
{
	uint64_t end = smsr__now_ns() + 3 * SMSR__S;

	while (min_seg(dir) != want && smsr__now_ns() < end)
		usleep(1000);
	assert_int_equal(min_seg(dir), want);
}

static void fill_small(struct smsr__journal *j, uint64_t *lsns)
{
	char p[1000];

	memset(p, 'm', sizeof(p));
	for (int i = 0; i < NMSG; i++)
		lsns[i] = append_ok(j, SMSR__JREC_ACCEPT, (uint64_t)i, p, sizeof(p));
	wait_durable(j, lsns[NMSG - 1]);
}

static void test_journal_segments_roll_and_compact_by_prefix(void **state)
{
	char dir[] = "/tmp/smsr-journal-XXXXXX";
	struct smsr__journal_opts o = {
	    .dir = mkdtemp(dir), .mode = SMSR__JOURNAL_SYNC, .segment_size = SEG_SMALL};
	struct smsr__journal *j = open_ok(&o);
	struct smsr__journal_stats st;
	uint64_t lsns[NMSG], first = 0, seg1, last_seq;
	int i;

	assert_int_equal(smsr__journal_start(j), 0);
	fill_small(j, lsns);
	seg1 = SMSR__JOURNAL_LSN_SEQ(lsns[0]);
	last_seq = SMSR__JOURNAL_LSN_SEQ(lsns[NMSG - 1]);
	assert_true(last_seq - seg1 >= 8);
	for (i = 1; i < NMSG; i++)
		assert_true(SMSR__JOURNAL_LSN_SEQ(lsns[i]) >= SMSR__JOURNAL_LSN_SEQ(lsns[i - 1]));
	assert_true(count_files(dir, ".seg") >= (int)(last_seq - seg1 + 1));
	assert_int_equal(min_seg(dir), seg1);
	/* Keep message 0 (segment 1) live; release everything else. */
	for (i = 1; i < NMSG; i++)
		smsr__journal_release(j, lsns[i]);
	usleep(300000);
	assert_int_equal(min_seg(dir), seg1); /* segment 1 holds them all */
	assert_true(count_files(dir, ".seg") >= (int)(last_seq - seg1 + 1));
	smsr__journal_stats(j, &st);
	assert_int_equal(st.live, 1);
	smsr__journal_release(j, lsns[first]);
	/* All but the current one (and the one preallocated after it) go. */
	wait_oldest(dir, last_seq);
	assert_true(smsr__journal_lsn_kept(j, lsns[NMSG - 1]));
	assert_false(smsr__journal_lsn_kept(j, lsns[0]));
	/* The counter follows the unlink: give it a moment. */
	for (int k = 0; k < 1000; k++) {
		smsr__journal_stats(j, &st);
		if (st.segments_deleted == last_seq - seg1)
			break;
		usleep(1000);
	}
	assert_int_equal(st.live, 0);
	assert_int_equal(st.segments_deleted, last_seq - seg1);
	assert_int_equal(st.bytes_on_disk, st.segments * SEG_SMALL);
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);
	rm_dir(dir);
}

static void test_journal_live_message_keeps_later_segments(void **state)
{
	char dir[] = "/tmp/smsr-journal-XXXXXX";
	struct smsr__journal_opts o = {
	    .dir = mkdtemp(dir), .mode = SMSR__JOURNAL_SYNC, .segment_size = SEG_SMALL};
	struct smsr__journal *j = open_ok(&o);
	uint64_t lsns[NMSG], keep_seq, last_seq;
	int i, keep = -1;

	assert_int_equal(smsr__journal_start(j), 0);
	fill_small(j, lsns);
	/* The first message of the third segment stays live. */
	for (i = 0; i < NMSG && keep < 0; i++)
		if (SMSR__JOURNAL_LSN_SEQ(lsns[i]) == SMSR__JOURNAL_LSN_SEQ(lsns[0]) + 2)
			keep = i;
	keep_seq = SMSR__JOURNAL_LSN_SEQ(lsns[keep]);
	last_seq = SMSR__JOURNAL_LSN_SEQ(lsns[NMSG - 1]);
	for (i = 0; i < NMSG; i++)
		if (i != keep)
			smsr__journal_release(j, lsns[i]);
	wait_oldest(dir, keep_seq); /* segments 1 and 2 only */
	usleep(200000);
	assert_int_equal(min_seg(dir), keep_seq);
	assert_true(count_files(dir, ".seg") >= (int)(last_seq - keep_seq + 1));
	assert_true(smsr__journal_lsn_kept(j, lsns[keep]));
	assert_true(smsr__journal_lsn_kept(j, SMSR__JOURNAL_LSN(keep_seq + 1, 64)));
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);

	/* After a restart the live count comes from replay: the caller releases
	 * what its replay found final; here, the one kept. */
	j = open_ok(&o);
	assert_int_equal(smsr__journal_replay(j, NULL, NULL, NULL), 0);
	assert_int_equal(smsr__journal_start(j), 0);
	for (i = 0; i < NMSG; i++)
		if (SMSR__JOURNAL_LSN_SEQ(lsns[i]) >= keep_seq)
			smsr__journal_release(j, lsns[i]);
	wait_oldest(dir, last_seq + 1); /* the new current one (and the one ahead) */
	assert_int_equal(smsr__journal_stop(j), 0);
	assert_int_equal(count_files(dir, ".seg"), 1);
	smsr__journal_close(j);
	rm_dir(dir);
}

static void test_journal_archive_holds_deletion(void **state)
{
	char dir[] = "/tmp/smsr-journal-XXXXXX";
	struct smsr__journal_opts o = {.dir = mkdtemp(dir),
				       .mode = SMSR__JOURNAL_SYNC,
				       .segment_size = SEG_SMALL,
				       .archive = true};
	struct smsr__journal *j = open_ok(&o);
	uint64_t lsns[NMSG];

	assert_int_equal(smsr__journal_start(j), 0);
	fill_small(j, lsns);
	for (int i = 0; i < NMSG; i++)
		smsr__journal_release(j, lsns[i]);
	usleep(300000);
	assert_int_equal(min_seg(dir), SMSR__JOURNAL_LSN_SEQ(lsns[0]));
	/* Archived through the third segment: the first three may go. */
	smsr__journal_set_archived(
	    j, SMSR__JOURNAL_LSN(SMSR__JOURNAL_LSN_SEQ(lsns[0]) + 2, UINT32_MAX));
	wait_oldest(dir, SMSR__JOURNAL_LSN_SEQ(lsns[0]) + 3);
	smsr__journal_set_archived(j, lsns[NMSG - 1]);
	wait_oldest(dir, SMSR__JOURNAL_LSN_SEQ(lsns[NMSG - 1]));
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);
	rm_dir(dir);
}

/* --- open errors ----------------------------------------------------- */

static void test_journal_second_open_is_locked(void **state)
{
	char dir[] = "/tmp/smsr-journal-XXXXXX";
	struct smsr__journal_opts o = {.dir = mkdtemp(dir), .mode = SMSR__JOURNAL_SYNC};
	struct smsr__journal *j = open_ok(&o), *j2 = NULL;
	char err[256], want[64];

	assert_int_equal(smsr__journal_open(&o, &j2, err, sizeof(err)), -SMSR_EJOURNALLOCKED);
	assert_null(j2);
	snprintf(want, sizeof(want), "(pid %ld)", (long)getpid());
	assert_non_null(strstr(err, "locked by another process"));
	assert_non_null(strstr(err, want));
	assert_string_equal(smsr_errname(-SMSR_EJOURNALLOCKED), "journal_locked");
	smsr__journal_close(j);
	/* Closed: the lock is free again. */
	j = open_ok(&o);
	smsr__journal_close(j);
	rm_dir(dir);
}

static void test_journal_missing_or_unwritable_dir_is_clear(void **state)
{
	char dir[] = "/tmp/smsr-journal-XXXXXX";
	char path[300], err[256];
	struct smsr__journal_opts o = {.mode = SMSR__JOURNAL_SYNC};
	struct smsr__journal *j = NULL;
	FILE *f;

	mkdtemp(dir);
	snprintf(path, sizeof(path), "%s/nope", dir);
	o.dir = path;
	assert_int_equal(smsr__journal_open(&o, &j, err, sizeof(err)), -SMSR_ECONFIG);
	assert_non_null(strstr(err, "does not exist"));
	f = fopen(path, "w");
	fclose(f);
	assert_int_equal(smsr__journal_open(&o, &j, err, sizeof(err)), -SMSR_ECONFIG);
	assert_non_null(strstr(err, "is not a directory"));
	/* Unwritable: a read-only tmpfs (root can write through permissions). */
	unlink(path);
	mkdir(path, 0755);
	if (mount("smsr-ro", path, "tmpfs", MS_RDONLY, "size=64k") == 0) {
		assert_int_equal(smsr__journal_open(&o, &j, err, sizeof(err)), -SMSR_ECONFIG);
		assert_non_null(strstr(err, "not writable"));
		umount(path);
	} else {
		print_message("(no tmpfs mount: the unwritable case is not checked)\n");
	}
	assert_null(j);
	rm_dir(dir);
}

static void test_journal_crc32c_is_castagnoli(void **state)
{
	static const char check[] = "123456789";
	char buf[300];

	/* The standard check value, whole and in two parts, and at every
	 * alignment and length the hardware path handles in pieces. */
	assert_int_equal(smsr__crc32c(0, check, 9), 0xe3069283u);
	assert_int_equal(smsr__crc32c(smsr__crc32c(0, check, 4), check + 4, 5), 0xe3069283u);
	for (int i = 0; i < 300; i++)
		buf[i] = (char)(i * 31 + 7);
	for (int off = 0; off < 8; off++)
		for (int n = 0; n < 280; n += 13)
			assert_int_equal(smsr__crc32c(0, buf + off, (size_t)n),
					 smsr__crc32c(smsr__crc32c(0, buf + off, (size_t)n / 3),
						      buf + off + n / 3, (size_t)(n - n / 3)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_journal_crc32c_is_castagnoli),
	    cmocka_unit_test(test_journal_one_thread_replays_every_record),
	    cmocka_unit_test(test_journal_four_threads_keep_per_thread_order),
	    cmocka_unit_test(test_journal_sync_durable_only_after_fdatasync),
	    cmocka_unit_test(test_journal_batch_mode_flushes_on_its_own),
	    cmocka_unit_test(test_journal_off_mode_accepts_without_files),
	    cmocka_unit_test(test_journal_segments_roll_and_compact_by_prefix),
	    cmocka_unit_test(test_journal_live_message_keeps_later_segments),
	    cmocka_unit_test(test_journal_archive_holds_deletion),
	    cmocka_unit_test(test_journal_second_open_is_locked),
	    cmocka_unit_test(test_journal_missing_or_unwritable_dir_is_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
