/* SPDX-License-Identifier: MIT */
/*
 * Description: MO replies and the opt-out list, through the public API.
 * A number that replied TD gets no more
 * marketing (rejected opted_out) but still gets codes and notices; START
 * undoes it. Thousands of opt-outs added while two threads submit (the
 * set grows and retires its tables through the epoch: ASan checks no
 * reader touches a freed one), and every one of them is then in force.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"

static const char *cfg = "channels = ( { name = \"A\"; driver = \"sim\"; } );\n"
			 "routes = ( { groups = ( [\"A\"] ); } );\n";

static int submit(struct smsr_router *r, const char *to, enum smsr_class cls)
{
	static const char text[] = "Spring sale: 20% off, reply TD to opt out";
	struct smsr_msg m = {
	    .recipient = to, .text = text, .text_len = sizeof(text) - 1, .cls = cls};

	return smsr_router_submit(r, &m, NULL);
}

static void test_opt_out_stops_marketing_only(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct smsr_stats st;

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg, &log, 1);
	assert_int_equal(submit(r, "13812345678", SMSR_CLASS_MARKETING), 0);
	assert_int_equal(smsr_router_inject_mo(r, "+86 138 1234 5678", "10690000", "TD", 0),
			 SMSR_MO_OPT_OUT);
	assert_int_equal(smsr_router_inject_mo(r, "13812345678", "10690000", "TD", -1),
			 SMSR_MO_OPT_OUT); /* again: still out */
	assert_int_equal(smsr_router_optout(r, "008613812345678", -1), 1);
	assert_int_equal(submit(r, "13812345678", SMSR_CLASS_MARKETING), -SMSR_EOPTEDOUT);
	assert_int_equal(submit(r, "13812345678", SMSR_CLASS_AUTO), -SMSR_EOPTEDOUT);
	assert_int_equal(submit(r, "13812345678", SMSR_CLASS_VERIFICATION), 0);
	assert_int_equal(submit(r, "13812345678", SMSR_CLASS_NOTICE), 0);
	assert_int_equal(submit(r, "13812345679", SMSR_CLASS_MARKETING), 0);
	assert_int_equal(smsr_router_inject_mo(r, "13812345678", "10690000", "What?", -1),
			 SMSR_MO_NONE);
	assert_int_equal(smsr_router_inject_mo(r, "12345", "10690000", "TD", -1), -SMSR_EBADNUMBER);
	assert_int_equal(smsr_router_inject_mo(r, "13812345678", "10690000", "START", 0),
			 SMSR_MO_OPT_IN);
	assert_int_equal(submit(r, "13812345678", SMSR_CLASS_MARKETING), 0);
	assert_int_equal(smsr_router_stats(r, &st), 0);
	assert_int_equal(st.mo_received, 4);
	assert_int_equal(st.opt_outs, 2);
	assert_int_equal(st.opt_ins, 1);
	assert_int_equal(st.opted_out_now, 0);
	assert_int_equal(st.rejected_by_reason[SMSR_EOPTEDOUT - SMSR_EINVAL], 2);
	assert_true(evlog_wait_finals(&log, 5, 5000));
	smsr_router_destroy(r);
	evlog_fini(&log);
}

struct pusher {
	struct smsr_router *r;
	_Atomic int stop;
	int seed;
};

static void *push(void *arg)
{
	struct pusher *p = arg;
	char to[24];

	for (int i = 0; i < 200000 && !atomic_load(&p->stop); i++) {
		int rc;

		snprintf(to, sizeof(to), "+86139%08d", (i * 7919 + p->seed) % 10000);
		rc = submit(p->r, to, SMSR_CLASS_MARKETING);
		assert_true(rc == 0 || rc == -SMSR_EOPTEDOUT || rc == -SMSR_EBUSY);
	}
	return NULL;
}

static void test_opt_outs_grow_while_submitting(void **state)
{
	struct evlog log;
	struct smsr_router *r;
	struct pusher p[2];
	pthread_t t[2];
	char to[24];

	(void)state;
	evlog_init(&log);
	r = test_router_start(cfg, &log, 1);
	for (int k = 0; k < 2; k++) {
		p[k] = (struct pusher){.r = r, .seed = k * 31};
		pthread_create(&t[k], NULL, push, &p[k]);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(to, sizeof(to), "+86139%08d", i);
		assert_int_equal(smsr_router_inject_mo(r, to, "10690000", "TD", -1),
				 SMSR_MO_OPT_OUT);
	}
	for (int k = 0; k < 2; k++) {
		atomic_store(&p[k].stop, 1);
		pthread_join(t[k], NULL);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(to, sizeof(to), "+86139%08d", i);
		assert_int_equal(submit(r, to, SMSR_CLASS_MARKETING), -SMSR_EOPTEDOUT);
	}
	snprintf(to, sizeof(to), "+86139%08d", 5000);
	assert_int_equal(submit(r, to, SMSR_CLASS_MARKETING), 0);
	smsr_router_destroy(r);
	evlog_fini(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_opt_out_stops_marketing_only),
	    cmocka_unit_test(test_opt_outs_grow_while_submitting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
