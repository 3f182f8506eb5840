/* SPDX-License-Identifier: MIT */
/*
 * Description: the journal under disk faults, through its fault-injection
 * seam and on a real 2 MiB tmpfs. ENOSPC on a write or on a segment's
 * fallocate: appends are refused with storage_full, the durable LSN does
 * not move, nothing appended is lost, and the journal recovers by itself
 * when the fault goes (on tmpfs: when compaction frees space), saying so in
 * one line each way. EIO on an fsync or a write: the journal fails for good
 * (storage_failed), says so once and loudly, never tries that fsync again
 * and never moves its durable LSN again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

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

struct fault {
	char dir[32];
	_Atomic int fail[4]; /* by op: the -errno to fake, 0 none */
	_Atomic int calls[4];
	_Atomic int lines, full_lines, back_lines, failed_lines;
	char line[512];
	pthread_mutex_t mu;
};

static int inject(void *arg, int op)
{
	struct fault *f = arg;

	atomic_fetch_add(&f->calls[op], 1);
	return atomic_load(&f->fail[op]);
}

static void log_cb(void *arg, const char *line)
{
	struct fault *f = arg;

	atomic_fetch_add(&f->lines, 1);
	if (strstr(line, "disk full"))
		atomic_fetch_add(&f->full_lines, 1);
	if (strstr(line, "space is back"))
		atomic_fetch_add(&f->back_lines, 1);
	if (strstr(line, "FAILED"))
		atomic_fetch_add(&f->failed_lines, 1);
	pthread_mutex_lock(&f->mu);
	snprintf(f->line, sizeof(f->line), "%s", line);
	pthread_mutex_unlock(&f->mu);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *w)
{
	return remove(p);
}

static int setup(void **state)
{
	struct fault *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/smsr-jfault-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	pthread_mutex_init(&f->mu, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fault *f = *state;

	umount(f->dir); /* the tmpfs test's; harmless otherwise */
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return 0;
}

static struct smsr__journal *open_start(struct fault *f, uint32_t seg)
{
	struct smsr__journal_opts o = {.dir = f->dir,
				       .mode = SMSR__JOURNAL_SYNC,
				       .segment_size = seg,
				       .log = log_cb,
				       .arg = f,
				       .inject = inject,
				       .inject_arg = f};
	struct smsr__journal *j = NULL;
	char err[256];

	assert_int_equal(smsr__journal_open(&o, &j, err, sizeof(err)), 0);
	assert_int_equal(smsr__journal_start(j), 0);
	return j;
}

static int append(struct smsr__journal *j, uint64_t id, uint32_t len, uint64_t *lsn)
{
	char p[1024];
	int rc;

	memset(p, (int)('a' + id % 26), sizeof(p));
	while ((rc = smsr__journal_append(j, SMSR__JREC_ACCEPT, id, p, len, lsn)) == -SMSR_EBUSY)
		sched_yield();
	return rc;
}

static bool wait_for(struct smsr__journal *j, int state, uint64_t lsn, unsigned ms)
{
	uint64_t end = smsr__now_ns() + ms * SMSR__MS;

	while (smsr__now_ns() < end) {
		if (smsr__journal_state(j) == state && smsr__journal_durable_lsn(j) >= lsn)
			return true;
		usleep(500);
	}
	return false;
}

struct ids {
	uint64_t n;
	bool seen[4096];
};

static void collect(void *arg, uint8_t type, uint64_t id, const void *p, uint32_t len, uint64_t lsn)
{
	struct ids *s = arg;

	if (id < 4096)
		s->seen[id] = true;
	s->n++;
}

static void replay_into(struct fault *f, struct ids *s)
{
	struct smsr__journal_opts o = {.dir = f->dir, .mode = SMSR__JOURNAL_SYNC};
	struct smsr__journal *j = NULL;
	char err[256];

	memset(s, 0, sizeof(*s));
	assert_int_equal(smsr__journal_open(&o, &j, err, sizeof(err)), 0);
	assert_int_equal(smsr__journal_replay(j, collect, s, NULL), 0);
	smsr__journal_close(j);
}

static void test_faults_enospc_on_write_refuses_then_recovers(void **state)
{
	struct fault *f = *state;
	struct smsr__journal *j = open_start(f, 0);
	uint64_t a, b, c, d;
	struct ids s;

	assert_int_equal(append(j, 1, 100, &a), 0);
	assert_true(wait_for(j, SMSR__JSTATE_OK, a, 2000));
	atomic_store(&f->fail[SMSR__JOP_WRITE], -ENOSPC);
	assert_int_equal(append(j, 2, 100, &b), 0); /* taken: not yet durable */
	assert_true(wait_for(j, SMSR__JSTATE_FULL, 0, 2000));
	assert_int_equal(append(j, 3, 100, &c), -SMSR_ESTORAGEFULL);
	assert_string_equal(smsr_errname(-SMSR_ESTORAGEFULL), "storage_full");
	usleep(250000); /* a few retries */
	assert_true(atomic_load(&f->calls[SMSR__JOP_WRITE]) >= 3);
	assert_int_equal(smsr__journal_durable_lsn(j), a);
	assert_int_equal(smsr__journal_state(j), SMSR__JSTATE_FULL);
	atomic_store(&f->fail[SMSR__JOP_WRITE], 0);
	assert_true(wait_for(j, SMSR__JSTATE_OK, b, 2000));
	assert_int_equal(append(j, 4, 100, &d), 0);
	assert_true(wait_for(j, SMSR__JSTATE_OK, d, 2000));
	assert_int_equal(atomic_load(&f->full_lines), 1);
	assert_int_equal(atomic_load(&f->back_lines), 1);
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);
	replay_into(f, &s);
	assert_int_equal(s.n, 3);
	assert_true(s.seen[1] && s.seen[2] && !s.seen[3] && s.seen[4]);
}

static void test_faults_enospc_at_roll_refuses_then_recovers(void **state)
{
	struct fault *f = *state;
	struct smsr__journal *j = open_start(f, 64u << 10);
	uint64_t lsn, last = 0, first = 0, durable, id;
	struct ids s;
	int rc = 0;

	/* No next segment can be made: the first roll finds the disk full. */
	atomic_store(&f->fail[SMSR__JOP_FALLOCATE], -ENOSPC);
	for (id = 0; id < 1000; id++) {
		rc = append(j, id, 1000, &lsn);
		if (rc)
			break;
		last = lsn;
		first = first ? first : lsn;
		usleep(id % 16 ? 0 : 1000);
	}
	assert_int_equal(rc, -SMSR_ESTORAGEFULL);
	assert_true(id > 40 && id < 200); /* refused around the end of segment 1 */
	durable = smsr__journal_durable_lsn(j);
	assert_true(durable < last);
	assert_int_equal(SMSR__JOURNAL_LSN_SEQ(durable), SMSR__JOURNAL_LSN_SEQ(first));
	atomic_store(&f->fail[SMSR__JOP_FALLOCATE], 0);
	assert_true(wait_for(j, SMSR__JSTATE_OK, last, 2000));
	assert_int_equal(atomic_load(&f->full_lines), 1);
	assert_int_equal(atomic_load(&f->back_lines), 1);
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);
	replay_into(f, &s);
	assert_int_equal(s.n, id);
	for (uint64_t i = 0; i < id; i++)
		assert_true(s.seen[i]);
}

static void check_failed_for_good(struct fault *f, struct smsr__journal *j, uint64_t before,
				  const char *what)
{
	uint64_t lsn;
	int calls;

	assert_true(wait_for(j, SMSR__JSTATE_FAILED, 0, 2000));
	assert_int_equal(smsr__journal_durable_lsn(j), before);
	assert_int_equal(append(j, 9, 10, &lsn), -SMSR_ESTORAGE);
	assert_string_equal(smsr_errname(-SMSR_ESTORAGE), "storage_failed");
	calls = atomic_load(&f->calls[SMSR__JOP_FSYNC]);
	atomic_store(&f->fail[SMSR__JOP_FSYNC], 0);
	atomic_store(&f->fail[SMSR__JOP_WRITE], 0);
	usleep(300000);
	/* Never retried, and failed still with the fault gone. */
	assert_int_equal(atomic_load(&f->calls[SMSR__JOP_FSYNC]), calls);
	assert_int_equal(append(j, 10, 10, &lsn), -SMSR_ESTORAGE);
	assert_int_equal(smsr__journal_durable_lsn(j), before);
	assert_int_equal(atomic_load(&f->failed_lines), 1);
	assert_int_equal(atomic_load(&f->lines), 1);
	pthread_mutex_lock(&f->mu);
	assert_non_null(strstr(f->line, what));
	assert_non_null(strstr(f->line, "Input/output error"));
	pthread_mutex_unlock(&f->mu);
	assert_int_equal(smsr__journal_stop(j), -SMSR_ESTORAGE);
	smsr__journal_close(j);
}

static void test_faults_eio_on_fsync_fails_for_good(void **state)
{
	struct fault *f = *state;
	struct smsr__journal *j = open_start(f, 0);
	uint64_t a, b;

	assert_int_equal(append(j, 1, 100, &a), 0);
	assert_true(wait_for(j, SMSR__JSTATE_OK, a, 2000));
	atomic_store(&f->fail[SMSR__JOP_FSYNC], -EIO);
	assert_int_equal(append(j, 2, 100, &b), 0);
	check_failed_for_good(f, j, a, "fdatasync");
}

static void test_faults_eio_on_write_fails_for_good(void **state)
{
	struct fault *f = *state;
	struct smsr__journal *j = open_start(f, 0);
	uint64_t a;

	atomic_store(&f->fail[SMSR__JOP_WRITE], -EIO);
	assert_int_equal(append(j, 1, 100, &a), 0);
	check_failed_for_good(f, j, 0, "write");
}

/* A real full disk: a 2 MiB tmpfs, 256 KiB segments. */
static void test_faults_real_enospc_on_tmpfs(void **state)
{
	struct fault *f = *state;
	struct smsr__journal *j;
	static uint64_t lsns[4096];
	uint64_t n = 0, lsn, last_seq;
	struct ids s;
	int rc = 0;

	if (mount("smsr-jfull", f->dir, "tmpfs", 0, "size=2m") != 0) {
		print_message("(cannot mount a tmpfs: %s)\n", strerror(errno));
		skip();
	}
	j = open_start(f, 256u << 10);
	while (n < 4096) {
		rc = append(j, n, 1000, &lsn);
		if (rc)
			break;
		lsns[n++] = lsn;
		if (n % 64 == 0)
			usleep(2000);
	}
	assert_int_equal(rc, -SMSR_ESTORAGEFULL);
	assert_true(n > 1000 && n < 2100);
	assert_true(smsr__journal_durable_lsn(j) < lsns[n - 1]);
	assert_int_equal(smsr__journal_state(j), SMSR__JSTATE_FULL);
	/* The first half of the messages is final: their segments go, space is
	 * back, and the journal writes what it held without being told. */
	last_seq = SMSR__JOURNAL_LSN_SEQ(lsns[n / 2]);
	for (uint64_t i = 0; i < n / 2; i++)
		smsr__journal_release(j, lsns[i]);
	assert_true(wait_for(j, SMSR__JSTATE_OK, lsns[n - 1], 3000));
	assert_int_equal(append(j, n, 1000, &lsn), 0);
	assert_true(wait_for(j, SMSR__JSTATE_OK, lsn, 2000));
	assert_int_equal(atomic_load(&f->full_lines), 1);
	assert_int_equal(atomic_load(&f->back_lines), 1);
	assert_int_equal(smsr__journal_stop(j), 0);
	smsr__journal_close(j);
	replay_into(f, &s);
	/* Every message still live is back (and the new one). */
	for (uint64_t i = 0; i <= n; i++)
		if (i > n / 2 && SMSR__JOURNAL_LSN_SEQ(i < n ? lsns[i] : lsn) >= last_seq)
			assert_true(s.seen[i]);
	assert_true(s.seen[n]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_faults_enospc_on_write_refuses_then_recovers,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_faults_enospc_at_roll_refuses_then_recovers, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_faults_eio_on_fsync_fails_for_good, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_faults_eio_on_write_fails_for_good, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_faults_real_enospc_on_tmpfs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
