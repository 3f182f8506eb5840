/* SPDX-License-Identifier: MIT */
/*
 * Description: the route table and the shared names. First matching rule
 * wins in configuration order; class, carrier and prefix all have to
 * match; a message no rule matches gets no rule. Error codes map to their
 * stable names and descriptions; class, carrier and event names round-trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"
#include "route/route_table.h"

static const char *routes_text =
    "channels = ( { name = \"a\"; driver = \"sim\"; }, { name = \"b\"; driver = \"sim\"; },\n"
    "             { name = \"c\"; driver = \"sim\"; } );\n"
    "routes = (\n"
    "  { classes = [\"verification\"]; prefix = \"+86138\"; groups = ( [\"c\"] ); },\n"
    "  { classes = [\"verification\"]; groups = ( [\"a\"], [\"b\"] ); },\n"
    "  { carriers = [\"intl\"]; groups = ( [\"b\"] ); },\n"
    "  { classes = [\"notice\"]; carriers = [\"cmcc\"]; groups = ( [\"a:3\", \"b:1\"] ); } );\n";

static void test_route_first_matching_rule_wins(void **state)
{
	struct smsr_config *cfg = test_config(routes_text);
	struct smsr__route_table *t;
	const struct smsr__route_cfg *r;

	(void)state;
	assert_int_equal(smsr__route_table_build(&t, cfg), 0);
	r = smsr__route_find(t, SMSR_CLASS_VERIFICATION, SMSR_CARRIER_CMCC, "+8613812345678");
	assert_ptr_equal(r, &t->rules[0]); /* prefix rule comes first */
	r = smsr__route_find(t, SMSR_CLASS_VERIFICATION, SMSR_CARRIER_CMCC, "+8613912345678");
	assert_ptr_equal(r, &t->rules[1]);
	assert_int_equal(r->ngroups, 2);
	r = smsr__route_find(t, SMSR_CLASS_VERIFICATION, SMSR_CARRIER_INTL, "+14155550123");
	assert_ptr_equal(r, &t->rules[1]); /* class rule before the intl rule */
	r = smsr__route_find(t, SMSR_CLASS_MARKETING, SMSR_CARRIER_INTL, "+14155550123");
	assert_ptr_equal(r, &t->rules[2]);
	r = smsr__route_find(t, SMSR_CLASS_NOTICE, SMSR_CARRIER_CMCC, "+8613912345678");
	assert_ptr_equal(r, &t->rules[3]);
	assert_int_equal(r->groups[0].weight[0], 3);
	assert_null(smsr__route_find(t, SMSR_CLASS_MARKETING, SMSR_CARRIER_CMCC, "+8613912345678"));
	assert_null(smsr__route_find(t, SMSR_CLASS_NOTICE, SMSR_CARRIER_CUCC, "+8613012345678"));
	smsr__route_table_destroy(t);
	smsr_config_destroy(cfg);
}

static void test_route_error_names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(smsr_errname(0), "ok");
	assert_string_equal(smsr_errname(-SMSR_EBUSY), "busy");
	assert_string_equal(smsr_errname(-SMSR_ENOCHANNEL), "no_channel");
	assert_string_equal(smsr_errname(-SMSR_EBADUTF8), "invalid_utf8");
	assert_string_equal(smsr_errname(-SMSR_ESTOPPED), "router_stopped");
	assert_string_equal(smsr_errname(-12), "out_of_memory");
	assert_string_equal(smsr_errname(-99999), "unknown");
	assert_string_equal(smsr_strerror(-SMSR_EBUSY), "queues are full, retry later");
	assert_string_equal(smsr_strerror(0), "success");
	assert_non_null(smsr_strerror(-2)); /* errno: libc's text */
	assert_string_equal(smsr_strerror(77777), "unknown error");
}

static void test_route_names_round_trip(void **state)
{
	(void)state;
	for (int c = SMSR_CLASS_VERIFICATION; c <= SMSR_CLASS_MARKETING; c++)
		assert_int_equal(smsr_class_parse(smsr_class_name((enum smsr_class)c)), c);
	assert_int_equal(smsr_class_parse("otp"), SMSR_CLASS_VERIFICATION);
	assert_int_equal(smsr_class_parse("spam"), -SMSR_EBADCLASS);
	assert_int_equal(smsr_class_parse(NULL), -SMSR_EBADCLASS);
	assert_string_equal(smsr_class_name((enum smsr_class)7), "invalid");
	for (int k = 1; k < SMSR_NCARRIER; k++)
		assert_int_equal(smsr__carrier_parse(smsr_carrier_name((enum smsr_carrier)k)), k);
	assert_int_equal(smsr__carrier_parse("unicom"), SMSR_CARRIER_CUCC);
	assert_int_equal(smsr__carrier_parse("att"), -SMSR_EINVAL);
	assert_string_equal(smsr_event_name(SMSR_EV_DELIVERED), "delivered");
	assert_string_equal(smsr_event_name(SMSR_EV_COUNT), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_route_first_matching_rule_wins),
	    cmocka_unit_test(test_route_error_names_are_stable),
	    cmocka_unit_test(test_route_names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
