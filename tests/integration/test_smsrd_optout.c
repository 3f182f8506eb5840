/* SPDX-License-Identifier: MIT */
/*
 * Description: the real smsrd keeps its opt-out list across restarts when
 * it has an opt-out file: an MO "TD" injected over the protocol is on disk
 * when the inject is answered, a restarted smsrd still refuses marketing
 * to that number (opted_out) while a line of garbage in the file is only
 * skipped, and "START" undoes it for good. Every wait is bounded.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "smsr/client.h"

#define CALL_MS 5000

static int inject_mo(struct smsr_client *c, const char *from, const char *text)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__InjectRequest ir = SMSR__V1__INJECT_REQUEST__INIT;
	Smsr__V1__InjectItem it = SMSR__V1__INJECT_ITEM__INIT, *itp = &it;
	Smsr__V1__MoReply mo = SMSR__V1__MO_REPLY__INIT;
	Smsr__V1__Response *r = NULL;
	char f[32], t[32], x[32];
	int action;

	snprintf(f, sizeof(f), "%s", from);
	snprintf(t, sizeof(t), "10690000");
	snprintf(x, sizeof(x), "%s", text);
	mo.from_number = f;
	mo.to_number = t;
	mo.text = x;
	it.kind_case = SMSR__V1__INJECT_ITEM__KIND_MO;
	it.mo = &mo;
	ir.n_items = 1;
	ir.items = &itp;
	req.body_case = SMSR__V1__REQUEST__BODY_INJECT;
	req.inject = &ir;
	assert_int_equal(smsr_client_call(c, &req, &r, CALL_MS), 0);
	assert_null(r->error);
	assert_int_equal(r->inject->results[0]->status, 0);
	action = r->inject->results[0]->mo_action;
	smsr_client_free(r);
	return action;
}

/* Submit one promotion to @to; its status (0 or a positive code). */
static unsigned submit_promo(struct smsr_client *c, const char *to)
{
	struct smsr_msg m = {.recipient = to,
			     .text = "Weekend sale: 50% off everything",
			     .text_len = 32,
			     .cls = SMSR_CLASS_MARKETING};
	struct smsr_result res;

	assert_true(smsr_client_submit(c, &m, 1, &res, CALL_MS) >= 0);
	assert_int_equal(res.cls, SMSR_CLASS_MARKETING); /* rejected or not: the class is known */
	return (unsigned)-res.status;
}

static void start(struct smsrd_proc *p, struct smsr_client **c, const char *file)
{
	const char *args[] = {"--optout-file", file, NULL};
	struct smsr_client_opts o = {.timeout_ms = CALL_MS};

	assert_int_equal(smsrd_start(p, args), 0);
	assert_int_equal(smsr_client_connect(c, p->tcp_addr, &o), 0);
}

static void stop(struct smsrd_proc *p, struct smsr_client *c)
{
	smsr_client_close(c);
	assert_int_equal(smsrd_stop(p), 0);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "re");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_optout_survives_restart(void **state)
{
	char dir[] = "/tmp/smsr-optout-XXXXXX", file[64];
	struct smsrd_proc p;
	struct smsr_client *c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/optout.log", dir);
	start(&p, &c, file);
	assert_int_equal(submit_promo(c, "13512345678"), 0);
	assert_int_equal(inject_mo(c, "13512345678", "TD"), SMSR__V1__MO_ACTION__MO_ACTION_OPT_OUT);
	assert_string_equal(slurp(file), "out +8613512345678\n"); /* before the answer */
	assert_int_equal(submit_promo(c, "13512345678"), SMSR_EOPTEDOUT);
	stop(&p, c);

	/* A torn or foreign line is skipped, the rest still holds. */
	f = fopen(file, "ae");
	assert_non_null(f);
	fputs("garbage\nout +8613612345678\n", f);
	fclose(f);
	start(&p, &c, file);
	assert_int_equal(submit_promo(c, "13512345678"), SMSR_EOPTEDOUT);
	assert_int_equal(submit_promo(c, "13612345678"), SMSR_EOPTEDOUT);
	assert_int_equal(submit_promo(c, "13712345678"), 0);
	assert_int_equal(inject_mo(c, "+8613512345678", "START"),
			 SMSR__V1__MO_ACTION__MO_ACTION_OPT_IN);
	stop(&p, c);

	start(&p, &c, file);
	assert_int_equal(submit_promo(c, "13512345678"), 0);
	assert_int_equal(submit_promo(c, "13612345678"), SMSR_EOPTEDOUT);
	stop(&p, c);
	unlink(file);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_optout_survives_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
