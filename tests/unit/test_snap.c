/* SPDX-License-Identifier: MIT */
/*
 * Description: route/channel snapshots are swapped while host threads
 * submit. Two threads submit continuously while the test thread publishes
 * a freshly built snapshot over and over; epoch reclamation must never free
 * a snapshot a submitter still reads (ASan would report it) and no submit
 * may fail for it. Every accepted message still reaches one final state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"
#include "router/router_int.h"

struct submitter {
	struct smsr_router *r;
	_Atomic int *stop;
	_Atomic uint64_t *progress;
	uint64_t accepted, failed;
};

static void *submit_loop(void *arg)
{
	struct submitter *s = arg;
	struct smsr_msg m[16];
	struct smsr_result res[16];

	for (int i = 0; i < 16; i++)
		m[i] = (struct smsr_msg){.recipient = "+8613812345678",
					 .text = "Your order has shipped",
					 .text_len = 22,
					 .cls = SMSR_CLASS_NOTICE};
	for (int k = 0; k < 200000 && !atomic_load(s->stop); k++) {
		int got = smsr_router_submit_batch(s->r, m, 16, res);

		s->accepted += (uint64_t)got;
		atomic_fetch_add(s->progress, (uint64_t)got);
		for (int i = 0; i < 16; i++)
			s->failed += res[i].status != 0 && res[i].status != -SMSR_EBUSY;
	}
	return NULL;
}

static void test_snapshot_swaps_under_submit_load(void **state)
{
	struct smsr_config *cfg = test_config("channels = ( { name = \"a\"; driver = \"sim\"; }, { "
					      "name = \"b\"; driver = \"sim\"; } );\n"
					      "routes = ( { groups = ( [\"a\", \"b\"] ); } );\n");
	struct evlog log;
	struct smsr_router_opts o = {
	    .on_event = evlog_cb, .arg = &log, .event_mask = SMSR_EV_FINAL};
	struct smsr_router *r;
	struct submitter s[2];
	pthread_t t[2];
	_Atomic int stop = 0;
	_Atomic uint64_t progress = 0;
	uint64_t deadline;

	(void)state;
	evlog_init(&log);
	assert_int_equal(smsr_router_create(&r, cfg, &o), 0);
	smsr_config_destroy(cfg);
	assert_int_equal(smsr_router_start(r), 0);
	for (int i = 0; i < 2; i++) {
		s[i] = (struct submitter){.r = r, .stop = &stop, .progress = &progress};
		pthread_create(&t[i], NULL, submit_loop, &s[i]);
	}
	/* At least 300 swaps, and keep swapping until the submitters have
	 * really overlapped with them: on a fast machine 300 swaps can finish
	 * before the threads are even scheduled. Bounded to 10 s. */
	deadline = test_now_ns() + 10000000000ull;
	for (int i = 0; i < 300 || (atomic_load(&progress) < 20000 && test_now_ns() < deadline);
	     i++) {
		struct smsr__snapshot *snap;

		assert_int_equal(smsr__snap_build(r, &snap), 0);
		pthread_mutex_lock(&r->admin_lock);
		smsr__snap_publish(r, snap);
		pthread_mutex_unlock(&r->admin_lock);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_true(s[0].accepted + s[1].accepted > 0);
	/* Only "busy" (the worker fell behind) may refuse a message, never a
	 * snapshot in transition. */
	assert_int_equal(s[0].failed + s[1].failed, 0);
	smsr_router_destroy(r);
	assert_int_equal(evlog_finals(&log), s[0].accepted + s[1].accepted);
	evlog_fini(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshot_swaps_under_submit_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
