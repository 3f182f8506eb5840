/* SPDX-License-Identifier: MIT */
/*
 * Description: the journal's recovery (core/journal/journal_replay.c) on
 * damaged logs. A log of small segments is written and closed, then hurt:
 * a torn last record (cut short, or its end overwritten) is ignored quietly
 * and the rest comes back, and after a restart the old tail is still clean;
 * a flipped byte in the middle of a segment quarantines that segment (.bad,
 * one log line) while its intact prefix and every other segment come back;
 * a segment truncated before the tail is quarantined the same way; a
 * segment missing in the middle is reported as a gap and replay goes on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal/journal.h"
#include "smsr/errors.h"

#define NREC	800
#define PAYLOAD 500
#define SEG	(64u << 10)

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

struct fixture {
	char dir[32];
	uint64_t lsns[NREC];
	/* what replay gave back */
	bool got[NREC];
	uint64_t n, bad, last_lsn;
	int lines;
	char line[512];
};

static void log_cb(void *arg, const char *line)
{
	struct fixture *f = arg;

	f->lines++;
	snprintf(f->line, sizeof(f->line), "%s", line);
}

static void fill(uint64_t id, char *p)
{
	for (int i = 0; i < PAYLOAD; i++)
		p[i] = (char)('a' + (id + (uint64_t)i) % 26);
}

static void replay_cb(void *arg, uint8_t type, uint64_t id, const void *payload, uint32_t len,
		      uint64_t lsn)
{
	struct fixture *f = arg;
	char want[PAYLOAD];

	if (id >= NREC) { /* appended after a restart */
		f->n++;
		return;
	}
	fill(id, want);
	if (len != PAYLOAD || memcmp(payload, want, len) || lsn != f->lsns[id] ||
	    lsn <= f->last_lsn || f->got[id])
		f->bad++;
	f->got[id] = true;
	f->last_lsn = lsn;
	f->n++;
}

static struct smsr__journal_opts opts(struct fixture *f)
{
	return (struct smsr__journal_opts){.dir = f->dir,
					   .mode = SMSR__JOURNAL_SYNC,
					   .segment_size = SEG,
					   .log = log_cb,
					   .arg = f};
}

static struct smsr__journal *open_ok(struct fixture *f)
{
	struct smsr__journal_opts o = opts(f);
	struct smsr__journal *j = NULL;
	char err[256];

	assert_int_equal(smsr__journal_open(&o, &j, err, sizeof(err)), 0);
	return j;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct smsr__journal *j;
	char p[PAYLOAD];

	snprintf(f->dir, sizeof(f->dir), "/tmp/smsr-jreplay-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	j = open_ok(f);
	if (smsr__journal_start(j))
		return -1;
	for (uint64_t i = 0; i < NREC; i++) {
		int rc;

		fill(i, p);
		while ((rc = smsr__journal_append(j, SMSR__JREC_ACCEPT, i, p, PAYLOAD,
						  &f->lsns[i])) == -SMSR_EBUSY)
			sched_yield();
		if (rc)
			return -1;
	}
	if (smsr__journal_stop(j))
		return -1;
	smsr__journal_close(j);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void seg_path(const struct fixture *f, uint64_t seq, const char *suffix, char *out)
{
	sprintf(out, "%s/%016llx%s", f->dir, (unsigned long long)seq, suffix);
}

static void replay(struct fixture *f, struct smsr__journal_replay_stats *rs)
{
	struct smsr__journal *j = open_ok(f);

	memset(f->got, 0, sizeof(f->got));
	f->n = f->bad = f->last_lsn = 0;
	f->lines = 0;
	assert_int_equal(smsr__journal_replay(j, replay_cb, f, rs), 0);
	smsr__journal_close(j);
	assert_int_equal(f->bad, 0);
}

static uint64_t seq_of(const struct fixture *f, uint64_t id)
{
	return SMSR__JOURNAL_LSN_SEQ(f->lsns[id]);
}

static void test_replay_clean_log_gives_everything(void **state)
{
	struct fixture *f = *state;
	struct smsr__journal_replay_stats rs;

	replay(f, &rs);
	assert_int_equal(f->n, NREC);
	assert_int_equal(rs.records, NREC);
	assert_int_equal(rs.quarantined + rs.gaps + rs.torn_tail, 0);
	assert_int_equal(rs.last_lsn, f->lsns[NREC - 1]);
	assert_true(rs.segments >= 6);
	assert_int_equal(f->lines, 0);
}

static void check_torn_tail_then_restart(struct fixture *f)
{
	struct smsr__journal_replay_stats rs;
	struct smsr__journal *j;
	uint64_t lsn;

	replay(f, &rs);
	assert_int_equal(f->n, NREC - 1);
	assert_false(f->got[NREC - 1]);
	assert_int_equal(rs.torn_tail, 1);
	assert_int_equal(rs.quarantined, 0);
	assert_int_equal(f->lines, 0);
	/* A restart writes a new segment after it; the old tail stays clean. */
	j = open_ok(f);
	assert_int_equal(smsr__journal_replay(j, NULL, NULL, NULL), 0);
	assert_int_equal(smsr__journal_start(j), 0);
	assert_int_equal(smsr__journal_append(j, SMSR__JREC_ACCEPT, NREC, "new", 3, &lsn), 0);
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);
	replay(f, &rs);
	assert_int_equal(f->n, NREC); /* NREC - 1 old, one new */
	assert_int_equal(rs.quarantined + rs.torn_tail, 0);
	assert_int_equal(f->lines, 0);
}

static void test_replay_ignores_a_cut_last_record(void **state)
{
	struct fixture *f = *state;
	char path[300];

	seg_path(f, seq_of(f, NREC - 1), ".seg", path);
	assert_int_equal(truncate(path, SMSR__JOURNAL_LSN_OFF(f->lsns[NREC - 1]) + 100), 0);
	check_torn_tail_then_restart(f);
}

static void test_replay_ignores_a_garbled_last_record(void **state)
{
	struct fixture *f = *state;
	char path[300], junk[64];
	int fd;

	memset(junk, 0x5a, sizeof(junk));
	seg_path(f, seq_of(f, NREC - 1), ".seg", path);
	fd = open(path, O_WRONLY);
	assert_int_equal(
	    pwrite(fd, junk, sizeof(junk), SMSR__JOURNAL_LSN_OFF(f->lsns[NREC - 1]) + 300),
	    sizeof(junk));
	close(fd);
	check_torn_tail_then_restart(f);
}

/* Ids held by segment @seq: [*lo, *hi). */
static void ids_of(const struct fixture *f, uint64_t seq, uint64_t *lo, uint64_t *hi)
{
	*lo = 0;
	while (seq_of(f, *lo) < seq)
		(*lo)++;
	*hi = *lo;
	while (*hi < NREC && seq_of(f, *hi) == seq)
		(*hi)++;
}

static void test_replay_quarantines_a_flipped_byte_mid_segment(void **state)
{
	struct fixture *f = *state;
	struct smsr__journal_replay_stats rs;
	uint64_t seq = seq_of(f, 0) + 2, lo, hi, mid;
	char path[300], bad[300];
	unsigned char c;
	int fd;

	ids_of(f, seq, &lo, &hi);
	mid = (lo + hi) / 2;
	seg_path(f, seq, ".seg", path);
	fd = open(path, O_RDWR);
	assert_int_equal(pread(fd, &c, 1, SMSR__JOURNAL_LSN_OFF(f->lsns[mid]) + 40), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, SMSR__JOURNAL_LSN_OFF(f->lsns[mid]) + 40), 1);
	close(fd);

	replay(f, &rs);
	assert_int_equal(rs.quarantined, 1);
	assert_int_equal(rs.torn_tail, 0);
	assert_int_equal(f->lines, 1);
	assert_non_null(strstr(f->line, "quarantined"));
	seg_path(f, seq, ".bad", bad);
	assert_int_equal(access(bad, F_OK), 0);
	assert_int_equal(access(path, F_OK), -1);
	for (uint64_t i = 0; i < NREC; i++)
		assert_int_equal(f->got[i], i < mid || i >= hi);
	assert_int_equal(f->n, NREC - (hi - mid));
	/* A second replay sees a gap where the quarantined segment was. */
	replay(f, &rs);
	assert_int_equal(rs.gaps, 1);
	assert_int_equal(rs.quarantined, 0);
	assert_int_equal(f->n, NREC - (hi - lo));
}

static void test_replay_quarantines_a_truncated_segment(void **state)
{
	struct fixture *f = *state;
	struct smsr__journal_replay_stats rs;
	uint64_t seq = seq_of(f, 0) + 1, lo, hi, mid;
	char path[300];

	ids_of(f, seq, &lo, &hi);
	mid = (lo + hi) / 2;
	seg_path(f, seq, ".seg", path);
	assert_int_equal(truncate(path, SMSR__JOURNAL_LSN_OFF(f->lsns[mid]) + 7), 0);
	replay(f, &rs);
	assert_int_equal(rs.quarantined, 1);
	assert_int_equal(f->lines, 1);
	assert_non_null(strstr(f->line, "torn record"));
	for (uint64_t i = 0; i < NREC; i++)
		assert_int_equal(f->got[i], i < mid || i >= hi);
}

static void test_replay_reports_a_missing_segment_and_goes_on(void **state)
{
	struct fixture *f = *state;
	struct smsr__journal_replay_stats rs;
	uint64_t seq = seq_of(f, 0) + 3, lo, hi;
	char path[300];

	ids_of(f, seq, &lo, &hi);
	seg_path(f, seq, ".seg", path);
	assert_int_equal(unlink(path), 0);
	replay(f, &rs);
	assert_int_equal(rs.gaps, 1);
	assert_int_equal(rs.quarantined, 0);
	assert_int_equal(f->lines, 1);
	assert_non_null(strstr(f->line, "missing"));
	for (uint64_t i = 0; i < NREC; i++)
		assert_int_equal(f->got[i], i < lo || i >= hi);
	assert_int_equal(rs.last_lsn, f->lsns[NREC - 1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_replay_clean_log_gives_everything, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_replay_ignores_a_cut_last_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replay_ignores_a_garbled_last_record, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_replay_quarantines_a_flipped_byte_mid_segment,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replay_quarantines_a_truncated_segment, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_replay_reports_a_missing_segment_and_goes_on,
					    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
