/* SPDX-License-Identifier: MIT */
/*
 * Description:
 *   The configuration parser (core/cfg/cfg_parse.c, core/cfg/cfg_check.c) and the
 *   embedded default (core/cfg/cfg_default.c). The default must parse into the
 *   documented channels and routes; absent settings take their documented
 *   defaults; durations and sizes accept every unit; every validation rule rejects
 *   the whole document with one line naming the source line and the
 *   setting, and leaves the previously parsed configuration untouched;
 *   copies are deep; files load, and a missing file reports its errno.
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

#include "smsr/config.h"
#include "cfg/cfg.h"
#include "cfg/cfg_check.h"

/* A document laid out on known lines: router on 1, channels on 3.., routes after. */
#define CH_A "{ name = \"a\"; driver = \"sim\"; }"
#define RT_A "{ groups = ( [\"a\"] ); }"
#define DOC(router, chans, routes)             \
	router "\n"                            \
	       "channels = (\n" chans "\n);\n" \
	       "routes = (\n" routes "\n);\n"

static const struct smsr__chan_cfg *chan_by_name(const struct smsr_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nchans; i++)
		if (strcmp(cfg->chans[i].name, name) == 0)
			return &cfg->chans[i];
	return NULL;
}

static struct smsr_config *parse_ok(const char *text)
{
	struct smsr_config *cfg;
	char err[256];
	int rc;

	assert_int_equal(smsr_config_create(&cfg), 0);
	rc = smsr_config_parse(cfg, text, err, sizeof(err));
	if (rc != 0)
		fail_msg("unexpected rejection: %s", err);
	return cfg;
}

static void test_default_text_parses_into_documented_channels(void **state)
{
	static const struct {
		const char *name;
		uint32_t carriers, tps;
		double price;
	} want[] = {
	    {"otp-a", 0x1e, 300, 0.050},  {"cmcc-a", 0x12, 500, 0.040},
	    {"cmcc-b", 0x12, 300, 0.045}, {"cucc-a", 0x04, 400, 0.038},
	    {"cucc-b", 0x04, 200, 0.043}, {"ctcc-a", 0x08, 400, 0.039},
	    {"ctcc-b", 0x08, 200, 0.044}, {"intl-a", 0x20, 200, 0.300},
	    {"intl-b", 0x20, 100, 0.380},
	};
	struct smsr_config *cfg = parse_ok(smsr_config_default_text());

	(void)state;
	assert_int_equal(smsr_config_channel_count(cfg), 9);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct smsr__chan_cfg *ch = &cfg->chans[i];

		assert_string_equal(ch->name, want[i].name);
		assert_string_equal(ch->driver, "sim");
		assert_int_equal(ch->carriers, want[i].carriers);
		assert_int_equal(ch->tps, want[i].tps);
		assert_true(ch->window > 0 && ch->v_window > 0 && ch->v_window < ch->window);
		assert_float_equal(ch->price, want[i].price, 1e-9);
		assert_non_null(smsr_param_str(ch->params, ch->nparams, "delivery_rate"));
	}
	assert_int_equal(cfg->chans[0].classes, SMSR__CLASS_BIT(SMSR_CLASS_VERIFICATION));
	assert_int_equal(cfg->memory_budget, 256u << 20);
	/* Backups cost a little more than their primaries. */
	for (size_t i = 1; i < 9; i += 2)
		assert_true(cfg->chans[i + 1].price > cfg->chans[i].price);
	smsr_config_destroy(cfg);
}

static void test_default_routes_try_otp_channel_first_for_codes(void **state)
{
	struct smsr_config *cfg = parse_ok(smsr_config_default_text());
	const struct smsr__route_cfg *r;

	(void)state;
	assert_int_equal(smsr_config_route_count(cfg), 7);
	r = &cfg->routes[0];
	assert_int_equal(r->classes, SMSR__CLASS_BIT(SMSR_CLASS_VERIFICATION));
	assert_int_equal(r->carriers, SMSR__CARRIER_BIT(SMSR_CARRIER_CMCC) |
					  SMSR__CARRIER_BIT(SMSR_CARRIER_CBN));
	assert_int_equal(r->ngroups, 2);
	assert_string_equal(cfg->chans[r->groups[0].chan[0]].name, "otp-a");
	assert_int_equal(r->groups[1].n, 2);
	assert_string_equal(cfg->chans[r->groups[1].chan[1]].name, "cmcc-b");
	r = &cfg->routes[3]; /* notice + marketing, China Mobile: 3 : 1 */
	assert_int_equal(r->ngroups, 1);
	assert_int_equal(r->groups[0].weight[0], 3);
	assert_int_equal(r->groups[0].weight[1], 1);
	r = &cfg->routes[6]; /* international: all classes, primary then backup */
	assert_int_equal(r->classes, SMSR__ALL_CLASSES);
	assert_string_equal(cfg->chans[r->groups[1].chan[0]].name, "intl-b");
	smsr_config_destroy(cfg);
}

static void test_absent_settings_take_documented_defaults(void **state)
{
	struct smsr_config *cfg = parse_ok(DOC("",
					       CH_A ", { name = \"b\"; driver = \"x\"; "
						    "tps = 500; window = 64; }",
					       RT_A));
	const struct smsr__chan_cfg *a = chan_by_name(cfg, "a"), *b = chan_by_name(cfg, "b");

	(void)state;
	assert_int_equal(cfg->workers, 1);
	assert_int_equal(cfg->node_id, 0);
	assert_int_equal(cfg->validity_ms[0], 5 * 60000);
	assert_int_equal(cfg->validity_ms[1], 24 * 3600000);
	assert_int_equal(cfg->validity_ms[2], 72 * 3600000);
	assert_int_equal(cfg->memory_budget, 256u << 20);
	assert_int_equal(a->carriers, SMSR__ALL_CARRIERS);
	assert_int_equal(a->classes, SMSR__ALL_CLASSES);
	assert_int_equal(a->tps, 0);
	assert_int_equal(a->burst, 0);
	assert_int_equal(a->window, 0);
	assert_int_equal(a->v_window, 0);
	assert_int_equal(a->v_tokens, 0);
	assert_int_equal(a->weight[SMSR_CLASS_NOTICE - 1], 3);
	assert_int_equal(a->weight[SMSR_CLASS_MARKETING - 1], 1);
	assert_int_equal(a->lane_cap[0], 100000);
	assert_int_equal(a->lane_cap[1], 1000000);
	assert_int_equal(a->lane_cap[2], 1000000);
	assert_int_equal(a->dlr_timeout_ms, 600000);
	assert_int_equal(a->submit_timeout_ms, 30000);
	assert_float_equal(a->price, 0, 0);
	assert_int_equal(a->nparams, 0);
	assert_int_equal(b->v_window, 8);
	assert_int_equal(b->v_tokens, 25);
	assert_int_equal(cfg->routes[0].classes, SMSR__ALL_CLASSES);
	assert_int_equal(cfg->routes[0].carriers, SMSR__ALL_CARRIERS);
	assert_string_equal(cfg->routes[0].prefix, "");
	assert_int_equal(cfg->routes[0].groups[0].weight[0], 1);
	smsr_config_destroy(cfg);
}

static void test_reserve_defaults_stay_below_window_and_burst(void **state)
{
	struct smsr_config *cfg =
	    parse_ok(DOC("",
			 "{ name = \"w1\"; driver = \"sim\"; window = 1; },\n"
			 "{ name = \"w4\"; driver = \"sim\"; window = 4; },\n"
			 "{ name = \"b10\"; driver = \"sim\"; tps = 500; burst = 10; }",
			 "{ groups = ( [\"w1\"] ); }"));

	(void)state;
	assert_int_equal(chan_by_name(cfg, "w1")->v_window, 0);
	assert_int_equal(chan_by_name(cfg, "w4")->v_window, 1);
	assert_int_equal(chan_by_name(cfg, "b10")->v_tokens, 9);
	smsr_config_destroy(cfg);
}

static void test_durations_accept_every_unit_and_integer_ms(void **state)
{
	static const struct {
		const char *text;
		uint64_t ms;
	} ok[] = {{"250ms", 250},    {"30s", 30000},	{"5m", 300000},
		  {"24h", 86400000}, {"3d", 259200000}, {"0s", 0}};
	static const char *const bad[] = {"",	 "5",	 "m",	"5 m",		 "5M",
					  "-5s", "1.5h", "5mm", "9999999999999d"};
	struct smsr_config *cfg;
	uint64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(smsr__cfg_parse_duration(ok[i].text, &ms), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(smsr__cfg_parse_duration(bad[i], &ms), -SMSR_EINVAL);
	cfg = parse_ok(DOC("router: { validity = { verification = 90000; notice = \"7d\"; }; };",
			   "{ name = \"a\"; driver = \"sim\"; dlr_timeout = \"2h\"; "
			   "submit_timeout = \"250ms\"; }",
			   RT_A));
	assert_int_equal(cfg->validity_ms[0], 90000);
	assert_int_equal(cfg->validity_ms[1], 7 * 86400000u);
	assert_int_equal(cfg->validity_ms[2], 72 * 3600000);
	assert_int_equal(cfg->chans[0].dlr_timeout_ms, 7200000);
	assert_int_equal(cfg->chans[0].submit_timeout_ms, 250);
	smsr_config_destroy(cfg);
}

static void test_sizes_accept_binary_units_and_bytes(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} ok[] = {{"512KB", 512u << 10}, {"256MB", 256u << 20}, {"2GB", 2ull << 30}, {"0MB", 0}};
	static const char *const bad[] = {"",	"MB",	 "5",	 "5 MB",	   "5mb",
					  "5M", "1.5GB", "-1MB", "9999999999999GB"};
	struct smsr_config *cfg;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(smsr__cfg_parse_bytes(ok[i].text, &v), 0);
		assert_int_equal(v, ok[i].bytes);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(smsr__cfg_parse_bytes(bad[i], &v), -SMSR_EINVAL);
	cfg = parse_ok(DOC("router: { memory_budget = \"3GB\"; };", CH_A, RT_A));
	assert_int_equal(cfg->memory_budget, 3ull << 30);
	smsr_config_destroy(cfg);
	/* Bytes past 2^31 - 1 need libconfig's L: 1.5 truncates plain integers to 32 bits. */
	cfg = parse_ok(DOC("router: { memory_budget = 5000000000L; };", CH_A, RT_A));
	assert_int_equal(cfg->memory_budget, 5000000000ull);
	smsr_config_destroy(cfg);
}

static void test_params_reach_driver_as_strings(void **state)
{
	struct smsr_config *cfg = parse_ok(
	    DOC("",
		"{ name = \"a\"; driver = \"sim\"; params = { latency_ms = 20.0; "
		"accept_rate = 0.998; dlr_delay_ms = 3000; seed = 12345678901L; fast = true; "
		"fault = \"none\"; }; }",
		RT_A));
	const struct smsr__chan_cfg *a = &cfg->chans[0];
	double d;

	(void)state;
	assert_int_equal(a->nparams, 6);
	assert_string_equal(smsr_param_str(a->params, a->nparams, "latency_ms"), "20");
	assert_string_equal(smsr_param_str(a->params, a->nparams, "accept_rate"), "0.998");
	assert_string_equal(smsr_param_str(a->params, a->nparams, "dlr_delay_ms"), "3000");
	assert_string_equal(smsr_param_str(a->params, a->nparams, "seed"), "12345678901");
	assert_string_equal(smsr_param_str(a->params, a->nparams, "fast"), "true");
	assert_string_equal(smsr_param_str(a->params, a->nparams, "fault"), "none");
	assert_int_equal(smsr_param_double(a->params, a->nparams, "accept_rate", &d), 1);
	assert_true(d == 0.998);
	smsr_config_destroy(cfg);
}

static void test_route_groups_keep_order_weights_and_prefix(void **state)
{
	struct smsr_config *cfg = parse_ok(DOC(
	    "", CH_A ", { name = \"b\"; driver = \"sim\"; }, { name = \"c\"; driver = \"sim\"; }",
	    "{ classes = [\"otp\", \"notice\"]; carriers = [\"mobile\", \"unknown\"]; "
	    "prefix = \"+86138\"; groups = ( [\"c\"], [\"a:2\", \"b:1000\"] ); }"));
	const struct smsr__route_cfg *r = &cfg->routes[0];

	(void)state;
	assert_int_equal(r->classes, SMSR__CLASS_BIT(SMSR_CLASS_VERIFICATION) |
					 SMSR__CLASS_BIT(SMSR_CLASS_NOTICE));
	assert_int_equal(r->carriers, SMSR__CARRIER_BIT(SMSR_CARRIER_CMCC) |
					  SMSR__CARRIER_BIT(SMSR_CARRIER_UNKNOWN));
	assert_string_equal(r->prefix, "+86138");
	assert_int_equal(r->ngroups, 2);
	assert_int_equal(r->groups[0].n, 1);
	assert_int_equal(r->groups[0].chan[0], 2);
	assert_int_equal(r->groups[1].chan[0], 0);
	assert_int_equal(r->groups[1].weight[0], 2);
	assert_int_equal(r->groups[1].chan[1], 1);
	assert_int_equal(r->groups[1].weight[1], 1000);
	smsr_config_destroy(cfg);
}

static void test_carrier_overrides_and_ported_numbers_parse(void **state)
{
	struct smsr_config *cfg =
	    parse_ok(DOC("carriers: { prefixes = ( { prefix = \"+86199\"; carrier = \"ctcc\"; }, "
			 "{ prefix = \"+86192\"; carrier = \"broadnet\"; } ); "
			 "ported = ( { number = \"+8613812345678\"; carrier = \"cucc\"; } ); };",
			 CH_A, RT_A));

	(void)state;
	assert_int_equal(cfg->nprefixes, 2);
	assert_string_equal(cfg->prefixes[0].key, "+86199");
	assert_int_equal(cfg->prefixes[0].carrier, SMSR_CARRIER_CTCC);
	assert_int_equal(cfg->prefixes[1].carrier, SMSR_CARRIER_CBN);
	assert_int_equal(cfg->nported, 1);
	assert_string_equal(cfg->ported[0].key, "+8613812345678");
	assert_int_equal(cfg->ported[0].carrier, SMSR_CARRIER_CUCC);
	smsr_config_destroy(cfg);
}

/* Each bad document and the start of the one line it must be rejected with. */
static const struct {
	const char *doc;
	const char *msg;
} bad_docs[] = {
    {DOC("router: { workers = ; };", CH_A, RT_A), "line 1: syntax error"},
    {DOC("listeners: { };", CH_A, RT_A), "line 1: listeners: unknown setting"},
    {DOC("router: { worker = 2; };", CH_A, RT_A), "line 1: router.worker: unknown setting"},
    {DOC("router: { validity = { otp = \"1m\"; }; };", CH_A, RT_A),
     "line 1: router.validity.otp: unknown setting"},
    {DOC("router = 5;", CH_A, RT_A), "line 1: router: must be a group"},
    {DOC("router: { workers = 0; };", CH_A, RT_A), "line 1: router.workers: must be 1..64"},
    {DOC("router: { workers = 65; };", CH_A, RT_A), "line 1: router.workers: must be 1..64"},
    {DOC("router: { workers = 2.0; };", CH_A, RT_A), "line 1: router.workers: must be an integer"},
    {DOC("router: { node_id = 512; };", CH_A, RT_A), "line 1: router.node_id: must be 0..511"},
    {DOC("router: { validity = { marketing = \"8d\"; }; };", CH_A, RT_A),
     "line 1: router.validity.marketing: must be 1s..7d"},
    {DOC("router: { validity = { notice = 0; }; };", CH_A, RT_A),
     "line 1: router.validity.notice: must be 1s..7d"},
    {DOC("router: { validity = { notice = \"5x\"; }; };", CH_A, RT_A),
     "line 1: router.validity.notice: \"5x\" is not a duration"},
    {DOC("router: { memory_budget = \"512KB\"; };", CH_A, RT_A),
     "line 1: router.memory_budget: must be 1MB..1024GB"},
    {DOC("router: { memory_budget = \"2TB\"; };", CH_A, RT_A),
     "line 1: router.memory_budget: \"2TB\" is not a size"},
    {DOC("router: { memory_budget = 1.5; };", CH_A, RT_A),
     "line 1: router.memory_budget: must be a size string or bytes"},
    {DOC("carriers: { prefixes = ( { prefix = \"86199\"; carrier = \"ctcc\"; } ); };", CH_A, RT_A),
     "line 1: carriers.prefixes[0].prefix: \"86199\" is not an E.164 prefix"},
    {DOC("carriers: { prefixes = ( { prefix = \"+86199\"; carrier = \"foo\"; } ); };", CH_A, RT_A),
     "line 1: carriers.prefixes[0].carrier: unknown carrier \"foo\""},
    {DOC("carriers: { prefixes = ( { prefix = \"+86199\"; } ); };", CH_A, RT_A),
     "line 1: carriers.prefixes[0].carrier: is required"},
    {DOC("carriers: { ported = ( { number = \"+8613812345678\"; carrier = \"cucc\"; },\n"
	 "{ number = \"+8613812345678\"; carrier = \"ctcc\"; } ); };",
	 CH_A, RT_A),
     "line 2: carriers.ported[1]: \"+8613812345678\" is already given at line 1"},
    {DOC("carriers: { portd = ( ); };", CH_A, RT_A), "line 1: carriers.portd: unknown setting"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; tsp = 5; }", RT_A),
     "line 3: channels[0].tsp: unknown setting"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; tps = 1000001; }", RT_A),
     "line 3: channels[0].tps: must be 0..1000000"},
    {DOC("", CH_A ",\n{ name = \"b\"; driver = \"sim\"; tps = -1; }", RT_A),
     "line 4: channels[1].tps: must be 0..1000000"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; tps = \"5\"; }", RT_A),
     "line 3: channels[0].tps: must be an integer"},
    {DOC("", CH_A ",\n{ name = \"a\"; driver = \"smpp\"; }", RT_A),
     "line 4: channels[1].name: duplicate channel name \"a\" (first at line 3)"},
    {DOC("", "{ name = \"abcdefghijabcdefghijabcdefghijab\"; driver = \"sim\"; }", RT_A),
     "line 3: channels[0].name: \"abcdefghijabcdefghijabcdefghijab\" must be 1..31"},
    {DOC("", "{ name = \"a b\"; driver = \"sim\"; }", RT_A),
     "line 3: channels[0].name: \"a b\" must be 1..31 characters"},
    {DOC("", "{ name = \"a:1\"; driver = \"sim\"; }", RT_A), "line 3: channels[0].name:"},
    {DOC("", "{ driver = \"sim\"; }", RT_A), "line 3: channels[0].name: is required"},
    {DOC("", "{ name = \"a\"; }", RT_A), "line 3: channels[0].driver: is required"},
    {DOC("", "{ name = \"a\"; driver = \"s/m\"; }", RT_A), "line 3: channels[0].driver:"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; carriers = [\"cmcc\", \"vodafone\"]; }", RT_A),
     "line 3: channels[0].carriers[1]: unknown carrier \"vodafone\""},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; classes = [\"promo\"]; }", RT_A),
     "line 3: channels[0].classes[0]: unknown class \"promo\""},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; classes = [\"auto\"]; }", RT_A),
     "line 3: channels[0].classes[0]: unknown class \"auto\""},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; classes = []; }", RT_A),
     "line 3: channels[0].classes: must be a non-empty array"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; classes = [\"notice\", \"notice\"]; }", RT_A),
     "line 3: channels[0].classes[1]: \"notice\" is listed twice"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; window = 8; reserve = { window = 8; }; }", RT_A),
     "line 3: channels[0].reserve.window: must be below the channel's window (8)"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; tps = 100; reserve = { tokens = 10; }; }", RT_A),
     "line 3: channels[0].reserve.tokens: must be below the channel's burst (10"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; reserve = { slots = 1; }; }", RT_A),
     "line 3: channels[0].reserve.slots: unknown setting"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; weights = { notice = 0; }; }", RT_A),
     "line 3: channels[0].weights.notice: must be 1..1000"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; weights = { verification = 5; }; }", RT_A),
     "line 3: channels[0].weights.verification: unknown setting"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; lanes = { marketing = 0; }; }", RT_A),
     "line 3: channels[0].lanes.marketing: must be 1..100000000"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; dlr_timeout = \"8d\"; }", RT_A),
     "line 3: channels[0].dlr_timeout: must be 1s..7d"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; submit_timeout = \"1h\"; }", RT_A),
     "line 3: channels[0].submit_timeout: must be 100ms..10m"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; price = -0.5; }", RT_A),
     "line 3: channels[0].price: must be 0..1000"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; params = { x = { y = 1; }; }; }", RT_A),
     "line 3: channels[0].params.x: must be a string, number or boolean"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; params = ( 1 ); }", RT_A),
     "line 3: channels[0].params: must be a group"},
    {"routes = ( " RT_A " );\n", "channels: at least one channel is required"},
    {"channels = ( );\nroutes = ( " RT_A " );\n", "line 1: channels: at least one channel"},
    {"channels = ( " CH_A " );\n", "routes: at least one route is required"},
    {DOC("", CH_A, "{ grups = ( [\"a\"] ); }"), "line 6: routes[0].grups: unknown setting"},
    {DOC("", CH_A, "{ classes = [\"notice\"]; }"), "line 6: routes[0].groups: is required"},
    {DOC("", CH_A, "{ groups = ( [\"b\"] ); }"),
     "line 6: routes[0].groups[0][0]: unknown channel \"b\""},
    {DOC("", CH_A, "{ groups = ( [\"a\"], [\"a\"], [\"a\"], [\"a\"], [\"a\"] ); }"),
     "line 6: routes[0].groups: must be a list of 1..4 groups"},
    {DOC("", CH_A, "{ groups = ( ); }"), "line 6: routes[0].groups: must be a list of 1..4"},
    {DOC("", CH_A, "{ groups = [\"a\"]; }"), "line 6: routes[0].groups: must be a list of 1..4"},
    {DOC("", CH_A, "{ groups = ( [ ] ); }"),
     "line 6: routes[0].groups[0]: must be a non-empty array of channels"},
    {DOC("", CH_A, "{ groups = ( [\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"] ); }"),
     "line 6: routes[0].groups[0]: more than 8 channels in a group"},
    {DOC("", CH_A, "{ groups = ( [\"a\", \"a:2\"] ); }"),
     "line 6: routes[0].groups[0][1]: channel \"a\" is listed twice in the group"},
    {DOC("", CH_A, "{ groups = ( [\"a:0\"] ); }"),
     "line 6: routes[0].groups[0][0]: \"a:0\": weight must be 1..1000"},
    {DOC("", CH_A, "{ groups = ( [\"a:1001\"] ); }"),
     "line 6: routes[0].groups[0][0]: \"a:1001\": weight must be 1..1000"},
    {DOC("", CH_A, "{ groups = ( [\"a:x\"] ); }"),
     "line 6: routes[0].groups[0][0]: \"a:x\": weight must be 1..1000"},
    {DOC("", CH_A, "{ prefix = \"86138\"; groups = ( [\"a\"] ); }"),
     "line 6: routes[0].prefix: \"86138\" is not an E.164 prefix"},
    {DOC("", CH_A, "{ prefix = \"+\"; groups = ( [\"a\"] ); }"),
     "line 6: routes[0].prefix: \"+\" is not an E.164 prefix"},
    {DOC("", CH_A, "{ prefix = \"+1234567890123456\"; groups = ( [\"a\"] ); }"),
     "line 6: routes[0].prefix: \"+1234567890123456\" is not an E.164 prefix"},
    {DOC("", CH_A, "{ carriers = [\"mars\"]; groups = ( [\"a\"] ); }"),
     "line 6: routes[0].carriers[0]: unknown carrier \"mars\""},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; classes = [\"notice\"]; }",
	 "{ classes = [\"verification\"]; groups = ( [\"a\"] ); }"),
     "line 6: routes[0].groups[0][0]: channel \"a\" does not serve class verification"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; carriers = [\"cmcc\"]; }",
	 "{ carriers = [\"cmcc\", \"cucc\"]; groups = ( [\"a\"] ); }"),
     "line 6: routes[0].groups[0][0]: channel \"a\" does not serve carrier cucc"},
    {DOC("", "{ name = \"a\"; driver = \"sim\"; carriers = [\"cmcc\"]; }", RT_A),
     "line 6: routes[0].groups[0][0]: channel \"a\" does not serve carrier unknown"},
};

static void test_invalid_document_is_rejected_whole_with_line_and_setting(void **state)
{
	struct smsr_config *cfg = parse_ok(smsr_config_default_text());

	(void)state;
	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
		char err[256] = "untouched";
		int rc = smsr_config_parse(cfg, bad_docs[i].doc, err, sizeof(err));

		if (rc != -SMSR_ECONFIG || strncmp(err, bad_docs[i].msg, strlen(bad_docs[i].msg)))
			fail_msg("case %zu: rc %d, got \"%s\", want \"%s...\"", i, rc, err,
				 bad_docs[i].msg);
		assert_null(strchr(err, '\n'));
		assert_int_equal(smsr_config_channel_count(cfg), 9);
		assert_int_equal(smsr_config_route_count(cfg), 7);
		assert_string_equal(cfg->chans[1].name, "cmcc-a");
		assert_int_equal(cfg->chans[1].tps, 500);
	}
	smsr_config_destroy(cfg);
}

static void test_rejection_tolerates_null_and_tiny_error_buffers(void **state)
{
	struct smsr_config *cfg = parse_ok(smsr_config_default_text());
	char tiny[8];

	(void)state;
	assert_int_equal(smsr_config_parse(cfg, bad_docs[5].doc, NULL, 0), -SMSR_ECONFIG);
	assert_int_equal(smsr_config_parse(cfg, bad_docs[5].doc, tiny, sizeof(tiny)),
			 -SMSR_ECONFIG);
	assert_string_equal(tiny, "line 1:");
	assert_int_equal(smsr_config_parse(cfg, NULL, tiny, sizeof(tiny)), -SMSR_EINVAL);
	assert_int_equal(smsr_config_channel_count(cfg), 9);
	smsr_config_destroy(cfg);
}

static void test_valid_document_replaces_previous_config(void **state)
{
	struct smsr_config *cfg = parse_ok(smsr_config_default_text());
	char err[128];

	(void)state;
	assert_int_equal(
	    smsr_config_parse(cfg, DOC("router: { workers = 4; };", CH_A, RT_A), err, sizeof(err)),
	    0);
	assert_int_equal(smsr_config_channel_count(cfg), 1);
	assert_int_equal(smsr_config_route_count(cfg), 1);
	assert_int_equal(cfg->workers, 4);
	assert_int_equal(smsr_config_channel_count(NULL), 0);
	smsr_config_destroy(cfg);
	smsr_config_destroy(NULL);
}

static void test_copy_is_deep_and_frees_cleanly(void **state)
{
	struct smsr_config *cfg = parse_ok(
	    DOC("carriers: { prefixes = ( { prefix = \"+86199\"; carrier = \"ctcc\"; } ); "
		"ported = ( { number = \"+8613812345678\"; carrier = \"cucc\"; } ); };",
		"{ name = \"a\"; driver = \"sim\"; params = { k = \"v\"; n = 2; }; }", RT_A));
	struct smsr_config copy = {0}, empty = {0}, copy2 = {0};

	(void)state;
	assert_int_equal(smsr__cfg_copy(&copy, cfg), 0);
	assert_int_equal(copy.nchans, 1);
	assert_ptr_not_equal(copy.chans, cfg->chans);
	assert_ptr_not_equal(copy.chans[0].params, cfg->chans[0].params);
	assert_ptr_not_equal(copy.chans[0].params[0].key, cfg->chans[0].params[0].key);
	assert_string_equal(copy.chans[0].params[1].value, "2");
	assert_string_equal(copy.prefixes[0].key, "+86199");
	assert_string_equal(copy.ported[0].key, "+8613812345678");
	assert_memory_equal(copy.routes, cfg->routes, sizeof(*copy.routes));
	smsr_config_destroy(cfg); /* the copy must not share anything */
	assert_string_equal(copy.chans[0].params[0].key, "k");
	smsr__cfg_free(&copy);
	assert_null(copy.chans);
	assert_int_equal(copy.nchans, 0);
	assert_int_equal(smsr__cfg_copy(&copy2, &empty), 0);
	assert_null(copy2.chans);
	smsr__cfg_free(&copy2);
}

static void write_temp(char *path, const char *text)
{
	int fd = mkstemp(path);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void test_load_file_reads_a_config_file(void **state)
{
	char path[] = "/tmp/smsr_test_cfg_XXXXXX", bad[] = "/tmp/smsr_test_cfg_XXXXXX";
	struct smsr_config *cfg;
	char err[256];

	(void)state;
	write_temp(path, smsr_config_default_text());
	write_temp(bad, DOC("", "{ name = \"a\"; driver = \"sim\"; tps = -1; }", RT_A));
	assert_int_equal(smsr_config_create(&cfg), 0);
	assert_int_equal(smsr_config_load_file(cfg, path, err, sizeof(err)), 0);
	assert_int_equal(smsr_config_channel_count(cfg), 9);
	assert_int_equal(smsr_config_load_file(cfg, bad, err, sizeof(err)), -SMSR_ECONFIG);
	assert_non_null(strstr(err, bad));
	assert_non_null(strstr(err, "line 3: channels[0].tps: must be 0..1000000"));
	assert_int_equal(smsr_config_channel_count(cfg), 9);
	unlink(path);
	unlink(bad);
	smsr_config_destroy(cfg);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static void test_load_file_resolves_includes_beside_the_file(void **state)
{
	char dir[] = "/tmp/smsr_test_cfg_XXXXXX", path[256], err[256];
	struct smsr_config *cfg;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "chans.inc", "channels = ( " CH_A " );\n");
	write_file(dir, "bad.inc",
		   "channels = (\n{ name = \"a\"; driver = \"sim\"; tps = -1; } );\n");
	write_file(dir, "main.conf", "@include \"chans.inc\"\nroutes = ( " RT_A " );\n");
	write_file(dir, "bad.conf", "@include \"bad.inc\"\nroutes = ( " RT_A " );\n");
	assert_int_equal(smsr_config_create(&cfg), 0);
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	assert_int_equal(smsr_config_load_file(cfg, path, err, sizeof(err)), 0);
	assert_int_equal(smsr_config_channel_count(cfg), 1);
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	assert_int_equal(smsr_config_load_file(cfg, path, err, sizeof(err)), -SMSR_ECONFIG);
	assert_non_null(strstr(err, "bad.inc: line 2: channels[0].tps: must be 0..1000000"));
	remove_file(dir, "chans.inc");
	remove_file(dir, "bad.inc");
	remove_file(dir, "main.conf");
	remove_file(dir, "bad.conf");
	rmdir(dir);
	smsr_config_destroy(cfg);
}

static void test_load_file_missing_reports_errno_and_path(void **state)
{
	struct smsr_config *cfg = parse_ok(smsr_config_default_text());
	char err[256];

	(void)state;
	assert_int_equal(smsr_config_load_file(cfg, "/nonexistent/smsr.conf", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/smsr.conf"));
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(smsr_config_channel_count(cfg), 9);
	smsr_config_destroy(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_text_parses_into_documented_channels),
	    cmocka_unit_test(test_default_routes_try_otp_channel_first_for_codes),
	    cmocka_unit_test(test_absent_settings_take_documented_defaults),
	    cmocka_unit_test(test_reserve_defaults_stay_below_window_and_burst),
	    cmocka_unit_test(test_durations_accept_every_unit_and_integer_ms),
	    cmocka_unit_test(test_sizes_accept_binary_units_and_bytes),
	    cmocka_unit_test(test_params_reach_driver_as_strings),
	    cmocka_unit_test(test_route_groups_keep_order_weights_and_prefix),
	    cmocka_unit_test(test_carrier_overrides_and_ported_numbers_parse),
	    cmocka_unit_test(test_invalid_document_is_rejected_whole_with_line_and_setting),
	    cmocka_unit_test(test_rejection_tolerates_null_and_tiny_error_buffers),
	    cmocka_unit_test(test_valid_document_replaces_previous_config),
	    cmocka_unit_test(test_copy_is_deep_and_frees_cleanly),
	    cmocka_unit_test(test_load_file_reads_a_config_file),
	    cmocka_unit_test(test_load_file_resolves_includes_beside_the_file),
	    cmocka_unit_test(test_load_file_missing_reports_errno_and_path),
	};

	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
