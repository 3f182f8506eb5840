/* SPDX-License-Identifier: MIT */
/*
 * Description: MO reply keywords: opt-out (TD, 退订, STOP...) and opt-in
 * (START, 订阅...) are recognised as whole replies, in any case, with
 * blanks and trailing punctuation (ASCII or full-width) ignored; anything
 * longer is just a reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "policy/optout.h"

static void test_mo_keywords(void **state)
{
	static const char *const out[] = {"TD",	   " td ",  "T",      "退订", "退訂。",
					  "取消",  "STOP!", "退订！", "Stop", "unsubscribe",
					  "QUIT.", "n",	    "r",      NULL};
	static const char *const in[] = {"START", "start", "订阅", "訂閱", "Unstop", NULL};
	static const char *const none[] = {
	    "", "please stop texting me", "TDD", "退订了吗", "What is my code?", "STOP STOP", NULL};

	(void)state;
	for (int i = 0; out[i]; i++)
		assert_int_equal(smsr__mo_keyword(out[i], strlen(out[i])), 1);
	for (int i = 0; in[i]; i++)
		assert_int_equal(smsr__mo_keyword(in[i], strlen(in[i])), 2);
	for (int i = 0; none[i]; i++)
		assert_int_equal(smsr__mo_keyword(none[i], strlen(none[i])), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mo_keywords),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
