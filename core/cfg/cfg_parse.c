/* SPDX-License-Identifier: MIT */
/*
 * Configuration parsing: libconfig text into struct smsr_config.
 *
 * The document is parsed into a scratch struct and checked whole — ranges,
 * names, unknown keys, cross references between routes and channels — and
 * only a fully valid result replaces the caller's configuration, so a
 * rejected document changes nothing. Each rejection is one line naming the
 * source line and the setting's path. The libconfig tree never outlives the
 * call. Typed setting readers live in cfg_check.c.
 */
#include <errno.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsr/config.h"
#include "smsr/errors.h"
#include "cfg.h"
#include "cfg_check.h"

#define CARRIER_ENTRIES_MAX 1000000 /* prefixes or ported numbers */
#define FILE_MAX	    (64u << 20)
#define CHANS_MAX	    SMSR__CHANS_MAX
#define ROUTES_MAX	    1024
#define PARAMS_MAX	    64
#define TPS_MAX		    1000000
#define WINDOW_MAX	    100000
#define WEIGHT_MAX	    1000
#define LANE_MAX	    100000000
#define PRICE_MAX	    1000.0

/* "smsrd" belongs to the daemon (tools/smsrd), which reads it itself. */
static const char *const top_keys[] = {"router", "carriers", "channels", "routes", "smsrd", NULL};
static const char *const router_keys[] = {
    "node_id", "workers", "validity", "health", "retry", "scoring", "memory_budget", NULL,
};
static const char *const class_keys[] = {"verification", "notice", "marketing", NULL};
static const char *const carriers_keys[] = {"prefixes", "ported", NULL};
static const char *const prefix_keys[] = {"prefix", "carrier", NULL};
static const char *const ported_keys[] = {"number", "carrier", NULL};

static void router_defaults(struct smsr_config *cfg)
{
	cfg->node_id = 0;
	cfg->workers = 1;
	cfg->validity_ms[SMSR_CLASS_VERIFICATION - 1] = 5 * 60 * 1000;
	cfg->validity_ms[SMSR_CLASS_NOTICE - 1] = 24 * 3600 * 1000;
	cfg->validity_ms[SMSR_CLASS_MARKETING - 1] = 72 * 3600 * 1000;
	cfg->memory_budget = SMSR__BUDGET_DEFAULT;
	smsr__cfg_health_defaults(cfg);
}

static int parse_validity(struct smsr__cfg_ctx *c, const config_setting_t *router,
			  struct smsr_config *cfg)
{
	const config_setting_t *v = config_setting_get_member(router, "validity");
	int rc;

	if (!v)
		return 0;
	rc = smsr__cfg_check_keys(c, v, class_keys);
	for (int k = 0; rc >= 0 && k < SMSR_NCLASS; k++)
		rc = smsr__cfg_get_duration(c, v, class_keys[k], 1000, SMSR_VALIDITY_MAX_MS,
					    &cfg->validity_ms[k]);
	return rc < 0 ? rc : 0;
}

static int parse_router(struct smsr__cfg_ctx *c, const config_setting_t *root,
			struct smsr_config *cfg)
{
	const config_setting_t *r = config_setting_get_member(root, "router");
	int rc;

	if (!r)
		return 0;
	if ((rc = smsr__cfg_check_keys(c, r, router_keys)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, r, "node_id", 0, 511, &cfg->node_id)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, r, "workers", 1, 64, &cfg->workers)) < 0 ||
	    (rc = smsr__cfg_get_bytes(c, r, "memory_budget", SMSR__BUDGET_MIN, SMSR__BUDGET_MAX,
				      &cfg->memory_budget)) < 0)
		return rc;
	if ((rc = parse_validity(c, r, cfg)) < 0)
		return rc;
	return smsr__cfg_parse_health(c, r, cfg);
}

/* One prefixes[]/ported[] element into @e. */
static int parse_carrier_entry(struct smsr__cfg_ctx *c, const config_setting_t *s, int ported,
			       struct smsr__carrier_entry *e)
{
	const char *key = ported ? "number" : "prefix";
	int rc = smsr__cfg_check_keys(c, s, ported ? ported_keys : prefix_keys);

	if (rc < 0 || (rc = smsr__cfg_get_e164(c, s, key, 0, e->key)) < 0)
		return rc;
	if (rc == 0)
		return smsr__cfg_fail(c, s, key, "is required");
	rc = smsr__cfg_get_carrier(c, s, "carrier", &e->carrier);
	if (rc == 0)
		return smsr__cfg_fail(c, s, "carrier", "is required");
	return rc < 0 ? rc : 0;
}

struct keyref {
	const char *key;
	const config_setting_t *s;
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int d = strcmp(x->key, y->key);

	if (d)
		return d;
	return config_setting_index(x->s) - config_setting_index(y->s);
}

/* Reject a key given twice in @e (@n entries, parsed from @list). */
static int check_unique(struct smsr__cfg_ctx *c, const config_setting_t *list,
			const struct smsr__carrier_entry *e, size_t n)
{
	struct keyref *refs = calloc(n ? n : 1, sizeof(*refs));
	int rc = 0;

	if (!refs)
		return -SMSR_ENOMEM;
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct keyref){e[i].key, config_setting_get_elem(list, (unsigned)i)};
	qsort(refs, n, sizeof(*refs), keyref_cmp);
	for (size_t i = 1; i < n && rc == 0; i++)
		if (strcmp(refs[i - 1].key, refs[i].key) == 0)
			rc =
			    smsr__cfg_fail(c, refs[i].s, NULL, "\"%s\" is already given at line %u",
					   refs[i].key, config_setting_source_line(refs[i - 1].s));
	free(refs);
	return rc;
}

static int parse_carrier_list(struct smsr__cfg_ctx *c, const config_setting_t *group, int ported,
			      struct smsr__carrier_entry **out, size_t *nout)
{
	config_setting_t *list;
	int rc = smsr__cfg_get_list(c, group, ported ? "ported" : "prefixes", &list);
	size_t n;

	if (rc <= 0)
		return rc;
	n = (size_t)config_setting_length(list);
	if (n > CARRIER_ENTRIES_MAX)
		return smsr__cfg_fail(c, list, NULL, "more than %d entries", CARRIER_ENTRIES_MAX);
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return -SMSR_ENOMEM;
	*nout = n;
	for (size_t i = 0; i < n; i++) {
		rc = parse_carrier_entry(c, config_setting_get_elem(list, (unsigned)i), ported,
					 &(*out)[i]);
		if (rc < 0)
			return rc;
	}
	return check_unique(c, list, *out, n);
}

static int parse_carriers(struct smsr__cfg_ctx *c, const config_setting_t *root,
			  struct smsr_config *cfg)
{
	const config_setting_t *g = config_setting_get_member(root, "carriers");
	int rc;

	if (!g)
		return 0;
	if ((rc = smsr__cfg_check_keys(c, g, carriers_keys)) < 0 ||
	    (rc = parse_carrier_list(c, g, 0, &cfg->prefixes, &cfg->nprefixes)) < 0)
		return rc;
	rc = parse_carrier_list(c, g, 1, &cfg->ported, &cfg->nported);
	return rc < 0 ? rc : 0;
}

/* --- channels ---------------------------------------------------------- */

static const char *const chan_keys[] = {
    "name",    "driver", "carriers",	"classes",	  "tps",   "burst",  "window", "reserve",
    "weights", "lanes",	 "dlr_timeout", "submit_timeout", "price", "params", NULL};
static const char *const reserve_keys[] = {"window", "tokens", NULL};
static const char *const weight_keys[] = {"notice", "marketing", NULL};

static void chan_defaults(struct smsr__chan_cfg *ch)
{
	ch->carriers = SMSR__ALL_CARRIERS;
	ch->classes = SMSR__ALL_CLASSES;
	ch->weight[SMSR_CLASS_NOTICE - 1] = 3;
	ch->weight[SMSR_CLASS_MARKETING - 1] = 1;
	ch->lane_cap[SMSR_CLASS_VERIFICATION - 1] = 100000;
	ch->lane_cap[SMSR_CLASS_NOTICE - 1] = 1000000;
	ch->lane_cap[SMSR_CLASS_MARKETING - 1] = 1000000;
	ch->dlr_timeout_ms = 10 * 60 * 1000;
	ch->submit_timeout_ms = 30 * 1000;
}

/* A param's value as a string: numbers in the shortest form that reads back exactly. */
static char *param_value(const config_setting_t *s)
{
	char buf[64];
	double d;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return strdup(config_setting_get_string(s));
	case CONFIG_TYPE_BOOL:
		return strdup(config_setting_get_bool(s) ? "true" : "false");
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, sizeof(buf), "%lld", config_setting_get_int64(s));
		return strdup(buf);
	}
	d = config_setting_get_float(s);
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return strdup(buf);
}

static int parse_params(struct smsr__cfg_ctx *c, const config_setting_t *s,
			struct smsr__chan_cfg *ch)
{
	const config_setting_t *p = config_setting_get_member(s, "params");
	size_t n;

	if (!p)
		return 0;
	if (!config_setting_is_group(p))
		return smsr__cfg_fail(c, p, NULL, "must be a group { key = value; ... }");
	n = (size_t)config_setting_length(p);
	if (n > PARAMS_MAX)
		return smsr__cfg_fail(c, p, NULL, "more than %d parameters", PARAMS_MAX);
	ch->params = calloc(n ? n : 1, sizeof(*ch->params));
	if (!ch->params)
		return -SMSR_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(p, (unsigned)i);

		if (!config_setting_is_scalar(m))
			return smsr__cfg_fail(c, m, NULL, "must be a string, number or boolean");
		ch->nparams = i + 1;
		ch->params[i].key = strdup(config_setting_name(m));
		ch->params[i].value = param_value(m);
		if (!ch->params[i].key || !ch->params[i].value)
			return -SMSR_ENOMEM;
	}
	return 0;
}

/* Reserve defaults: window / 8 (at least 1, below the window), tokens tps / 20. */
static void reserve_defaults(struct smsr__chan_cfg *ch, int has_window, int has_tokens)
{
	if (!has_window && ch->window > 1)
		ch->v_window = ch->window / 8 ? ch->window / 8 : 1;
	if (!has_tokens) {
		ch->v_tokens = ch->tps / 20;
		if (ch->burst && ch->v_tokens >= ch->burst)
			ch->v_tokens = ch->burst - 1;
	}
}

static int parse_reserve(struct smsr__cfg_ctx *c, const config_setting_t *s,
			 struct smsr__chan_cfg *ch)
{
	const config_setting_t *r = config_setting_get_member(s, "reserve");
	int hw = 0, ht = 0;
	uint32_t burst = ch->burst ? ch->burst : (ch->tps / 10 ? ch->tps / 10 : 1);

	if (r) {
		if ((hw = smsr__cfg_check_keys(c, r, reserve_keys)) < 0 ||
		    (hw = smsr__cfg_get_u32(c, r, "window", 0, WINDOW_MAX, &ch->v_window)) < 0 ||
		    (ht = smsr__cfg_get_u32(c, r, "tokens", 0, TPS_MAX, &ch->v_tokens)) < 0)
			return hw < 0 ? hw : ht;
	}
	if (hw && ch->window && ch->v_window >= ch->window)
		return smsr__cfg_fail(c, config_setting_get_member(r, "window"), NULL,
				      "must be below the channel's window (%u)", ch->window);
	if (ht && ch->tps && ch->v_tokens >= burst)
		return smsr__cfg_fail(c, config_setting_get_member(r, "tokens"), NULL,
				      "must be below the channel's burst (%u%s)", burst,
				      ch->burst ? "" : ", the default tps / 10");
	reserve_defaults(ch, hw, ht);
	return 0;
}

static int parse_shares(struct smsr__cfg_ctx *c, const config_setting_t *s,
			struct smsr__chan_cfg *ch)
{
	const config_setting_t *w = config_setting_get_member(s, "weights");
	const config_setting_t *l = config_setting_get_member(s, "lanes");
	int rc = 0;

	if (w && (rc = smsr__cfg_check_keys(c, w, weight_keys)) >= 0 &&
	    (rc = smsr__cfg_get_u32(c, w, "notice", 1, WEIGHT_MAX,
				    &ch->weight[SMSR_CLASS_NOTICE - 1])) >= 0)
		rc = smsr__cfg_get_u32(c, w, "marketing", 1, WEIGHT_MAX,
				       &ch->weight[SMSR_CLASS_MARKETING - 1]);
	if (rc < 0)
		return rc;
	if (l)
		rc = smsr__cfg_check_keys(c, l, class_keys);
	for (int k = 0; l && rc >= 0 && k < SMSR_NCLASS; k++)
		rc = smsr__cfg_get_u32(c, l, class_keys[k], 1, LANE_MAX, &ch->lane_cap[k]);
	return rc < 0 ? rc : 0;
}

/* Required name-like member @key of @s into @out. */
static int required_name(struct smsr__cfg_ctx *c, const config_setting_t *s, const char *key,
			 char out[SMSR__NAME_MAX + 1])
{
	int rc = smsr__cfg_get_name(c, s, key, out);

	if (rc == 0)
		return smsr__cfg_fail(c, s, key, "is required");
	return rc < 0 ? rc : 0;
}

static int parse_channel(struct smsr__cfg_ctx *c, const config_setting_t *s,
			 struct smsr__chan_cfg *ch)
{
	int rc;

	chan_defaults(ch);
	if ((rc = smsr__cfg_check_keys(c, s, chan_keys)) < 0 ||
	    (rc = required_name(c, s, "name", ch->name)) < 0 ||
	    (rc = required_name(c, s, "driver", ch->driver)) < 0 ||
	    (rc = smsr__cfg_get_carriers(c, s, "carriers", &ch->carriers)) < 0 ||
	    (rc = smsr__cfg_get_classes(c, s, "classes", &ch->classes)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, s, "tps", 0, TPS_MAX, &ch->tps)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, s, "burst", 0, TPS_MAX, &ch->burst)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, s, "window", 0, WINDOW_MAX, &ch->window)) < 0 ||
	    (rc = parse_reserve(c, s, ch)) < 0 || (rc = parse_shares(c, s, ch)) < 0 ||
	    (rc = smsr__cfg_get_duration(c, s, "dlr_timeout", 1000, SMSR_VALIDITY_MAX_MS,
					 &ch->dlr_timeout_ms)) < 0 ||
	    (rc = smsr__cfg_get_duration(c, s, "submit_timeout", 100, 600000,
					 &ch->submit_timeout_ms)) < 0 ||
	    (rc = smsr__cfg_get_double(c, s, "price", 0, PRICE_MAX, &ch->price)) < 0)
		return rc;
	return parse_params(c, s, ch);
}

/* The channel named @name (@len bytes) in @cfg's first @n channels, or -1. */
static int find_chan(const struct smsr_config *cfg, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(cfg->chans[i].name) == len && memcmp(cfg->chans[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static int parse_channels(struct smsr__cfg_ctx *c, const config_setting_t *root,
			  struct smsr_config *cfg)
{
	config_setting_t *list;
	int rc = smsr__cfg_get_list(c, root, "channels", &list);
	size_t n = list ? (size_t)config_setting_length(list) : 0;

	if (rc < 0)
		return rc;
	if (n == 0)
		return smsr__cfg_fail(c, list ? list : root, list ? NULL : "channels",
				      "at least one channel is required");
	if (n > CHANS_MAX)
		return smsr__cfg_fail(c, list, NULL, "more than %d channels", CHANS_MAX);
	cfg->chans = calloc(n, sizeof(*cfg->chans));
	if (!cfg->chans)
		return -SMSR_ENOMEM;
	cfg->nchans = n;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		const char *name = cfg->chans[i].name;
		int dup;

		if ((rc = parse_channel(c, s, &cfg->chans[i])) < 0)
			return rc;
		dup = find_chan(cfg, i, name, strlen(name));
		if (dup >= 0)
			return smsr__cfg_fail(c, config_setting_get_member(s, "name"), NULL,
					      "duplicate channel name \"%s\" (first at line %u)",
					      name,
					      config_setting_source_line(
						  config_setting_get_elem(list, (unsigned)dup)));
	}
	return 0;
}

/* --- routes ------------------------------------------------------------ */

static const char *const route_keys[] = {"classes", "carriers", "prefix", "groups", NULL};

/* "name" or "name:weight" at @e into slot @slot of @g. */
static int parse_member(struct smsr__cfg_ctx *c, const config_setting_t *e,
			const struct smsr_config *cfg, struct smsr__group_cfg *g, uint32_t slot)
{
	const char *v = config_setting_get_string(e);
	const char *colon = strchr(v, ':');
	size_t len = colon ? (size_t)(colon - v) : strlen(v);
	uint32_t w = colon ? 0 : 1;
	int idx;

	for (const char *p = colon ? colon + 1 : ""; *p && w <= WEIGHT_MAX; p++)
		w = (*p >= '0' && *p <= '9') ? w * 10 + (uint32_t)(*p - '0') : UINT32_MAX;
	if (w < 1 || w > WEIGHT_MAX)
		return smsr__cfg_fail(c, e, NULL, "\"%s\": weight must be 1..%d (\"name:weight\")",
				      v, WEIGHT_MAX);
	idx = find_chan(cfg, cfg->nchans, v, len);
	if (idx < 0)
		return smsr__cfg_fail(c, e, NULL, "unknown channel \"%.*s\"", (int)len, v);
	for (uint32_t k = 0; k < slot; k++)
		if (g->chan[k] == (uint32_t)idx)
			return smsr__cfg_fail(c, e, NULL,
					      "channel \"%.*s\" is listed twice in the group",
					      (int)len, v);
	g->chan[slot] = (uint32_t)idx;
	g->weight[slot] = w;
	return 0;
}

/* Every channel of a route must serve all the route's classes and carriers. */
static int check_serves(struct smsr__cfg_ctx *c, const config_setting_t *e,
			const struct smsr__chan_cfg *ch, const struct smsr__route_cfg *rt)
{
	uint32_t cls = rt->classes & ~ch->classes;
	uint32_t car = rt->carriers & ~ch->carriers;

	if (cls)
		return smsr__cfg_fail(
		    c, e, NULL, "channel \"%s\" does not serve class %s, which the route covers",
		    ch->name, smsr_class_name(__builtin_ctz(cls) + 1));
	if (car)
		return smsr__cfg_fail(
		    c, e, NULL, "channel \"%s\" does not serve carrier %s, which the route covers",
		    ch->name, smsr_carrier_name(__builtin_ctz(car)));
	return 0;
}

static int parse_group(struct smsr__cfg_ctx *c, const config_setting_t *a,
		       const struct smsr_config *cfg, struct smsr__route_cfg *rt,
		       struct smsr__group_cfg *g)
{
	int n = config_setting_length(a);

	if (!config_setting_is_array(a) || n == 0 ||
	    config_setting_type(config_setting_get_elem(a, 0)) != CONFIG_TYPE_STRING)
		return smsr__cfg_fail(c, a, NULL,
				      "must be a non-empty array of channels [\"name\", "
				      "\"name:weight\", ...]");
	if (n > SMSR__GROUP_CHANS_MAX)
		return smsr__cfg_fail(c, a, NULL, "more than %d channels in a group",
				      SMSR__GROUP_CHANS_MAX);
	for (int j = 0; j < n; j++) {
		const config_setting_t *e = config_setting_get_elem(a, (unsigned)j);
		int rc = parse_member(c, e, cfg, g, (uint32_t)j);

		if (rc < 0 || (rc = check_serves(c, e, &cfg->chans[g->chan[j]], rt)) < 0)
			return rc;
	}
	g->n = (uint32_t)n;
	return 0;
}

static int parse_route(struct smsr__cfg_ctx *c, const config_setting_t *s,
		       const struct smsr_config *cfg, struct smsr__route_cfg *rt)
{
	const config_setting_t *g;
	int rc, n;

	rt->classes = SMSR__ALL_CLASSES;
	rt->carriers = SMSR__ALL_CARRIERS;
	if ((rc = smsr__cfg_check_keys(c, s, route_keys)) < 0 ||
	    (rc = smsr__cfg_get_classes(c, s, "classes", &rt->classes)) < 0 ||
	    (rc = smsr__cfg_get_carriers(c, s, "carriers", &rt->carriers)) < 0 ||
	    (rc = smsr__cfg_get_e164(c, s, "prefix", 1, rt->prefix)) < 0)
		return rc;
	g = config_setting_get_member(s, "groups");
	if (!g)
		return smsr__cfg_fail(c, s, "groups", "is required");
	n = config_setting_length(g);
	if (!config_setting_is_list(g) || n < 1 || n > SMSR__GROUPS_MAX)
		return smsr__cfg_fail(
		    c, g, NULL, "must be a list of 1..%d groups ( [\"a\"], [\"b:2\", \"c\"] )",
		    SMSR__GROUPS_MAX);
	for (int i = 0; i < n; i++)
		if ((rc = parse_group(c, config_setting_get_elem(g, (unsigned)i), cfg, rt,
				      &rt->groups[i])) < 0)
			return rc;
	rt->ngroups = (uint32_t)n;
	return 0;
}

static int parse_routes(struct smsr__cfg_ctx *c, const config_setting_t *root,
			struct smsr_config *cfg)
{
	config_setting_t *list;
	int rc = smsr__cfg_get_list(c, root, "routes", &list);
	size_t n = list ? (size_t)config_setting_length(list) : 0;

	if (rc < 0)
		return rc;
	if (n == 0)
		return smsr__cfg_fail(c, list ? list : root, list ? NULL : "routes",
				      "at least one route is required");
	if (n > ROUTES_MAX)
		return smsr__cfg_fail(c, list, NULL, "more than %d routes", ROUTES_MAX);
	cfg->routes = calloc(n, sizeof(*cfg->routes));
	if (!cfg->routes)
		return -SMSR_ENOMEM;
	cfg->nroutes = n;
	for (size_t i = 0; i < n; i++)
		if ((rc = parse_route(c, config_setting_get_elem(list, (unsigned)i), cfg,
				      &cfg->routes[i])) < 0)
			return rc;
	return 0;
}

/* --- the document -------------------------------------------------------- */

static int parse_doc(struct smsr__cfg_ctx *c, const config_setting_t *root, struct smsr_config *cfg)
{
	int rc;

	router_defaults(cfg);
	if ((rc = smsr__cfg_check_keys(c, root, top_keys)) < 0 ||
	    (rc = parse_router(c, root, cfg)) < 0 || (rc = parse_carriers(c, root, cfg)) < 0 ||
	    (rc = parse_channels(c, root, cfg)) < 0)
		return rc;
	return parse_routes(c, root, cfg);
}

int smsr_config_create(struct smsr_config **out)
{
	struct smsr_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return -SMSR_ENOMEM;
	router_defaults(cfg);
	*out = cfg;
	return 0;
}

/*
 * smsr_config_parse() with @include paths resolved against @dir (NULL: the
 * working directory).
 */
static int parse_text(struct smsr_config *cfg, const char *text, const char *dir, char *err,
		      size_t errlen)
{
	struct smsr__cfg_ctx c = {err, errlen};
	struct smsr_config tmp = {0};
	config_t lc;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!cfg || !text)
		return -SMSR_EINVAL;
	config_init(&lc);
	if (dir)
		config_set_include_dir(&lc, dir);
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		if (err && errlen)
			snprintf(err, errlen, "%s%sline %d: %s",
				 config_error_file(&lc) ? config_error_file(&lc) : "",
				 config_error_file(&lc) ? ": " : "", config_error_line(&lc),
				 config_error_text(&lc) ? config_error_text(&lc) : "syntax error");
		rc = -SMSR_ECONFIG;
	} else {
		rc = parse_doc(&c, config_root_setting(&lc), &tmp);
		if (rc == -SMSR_ENOMEM && err && errlen)
			snprintf(err, errlen, "out of memory");
	}
	config_destroy(&lc);
	if (rc < 0) {
		smsr__cfg_free(&tmp);
		return rc;
	}
	smsr__cfg_free(cfg);
	*cfg = tmp;
	return 0;
}

static void chan_params_free(struct smsr__chan_cfg *ch);

int smsr__cfg_parse_channel(const char *text, struct smsr__chan_cfg *out, char *err, size_t errlen)
{
	struct smsr__cfg_ctx c = {err, errlen};
	struct smsr__chan_cfg tmp = {0};
	config_t lc;
	char *doc;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!text || !out || strlen(text) > FILE_MAX)
		return -SMSR_EINVAL;
	doc = malloc(strlen(text) + 16);
	if (!doc)
		return -SMSR_ENOMEM;
	sprintf(doc, "channel = %s;", text);
	config_init(&lc);
	if (config_read_string(&lc, doc) != CONFIG_TRUE) {
		if (err && errlen)
			snprintf(err, errlen, "line %d: %s", config_error_line(&lc),
				 config_error_text(&lc) ? config_error_text(&lc) : "syntax error");
		rc = -SMSR_ECONFIG;
	} else {
		const config_setting_t *s = config_lookup(&lc, "channel");

		rc = s && config_setting_is_group(s)
			 ? parse_channel(&c, s, &tmp)
			 : smsr__cfg_fail(&c, config_root_setting(&lc), NULL,
					  "a channel is one group { name = ...; driver = ...; }");
	}
	config_destroy(&lc);
	free(doc);
	if (rc < 0) {
		chan_params_free(&tmp);
		return rc;
	}
	*out = tmp;
	return 0;
}

int smsr_config_parse(struct smsr_config *cfg, const char *text, char *err, size_t errlen)
{
	return parse_text(cfg, text, NULL, err, errlen);
}

/* Read all of @f into a NUL-terminated malloc'd buffer. 0 or -errno. */
static int read_all(FILE *f, char **out)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	while (buf) {
		char *nbuf;

		len += fread(buf + len, 1, cap - len - 1, f);
		if (len < cap - 1)
			break;
		if (cap >= FILE_MAX) {
			free(buf);
			return -EFBIG;
		}
		nbuf = realloc(buf, cap * 2);
		if (!nbuf)
			free(buf);
		buf = nbuf;
		cap *= 2;
	}
	if (!buf)
		return -SMSR_ENOMEM;
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int smsr_config_load_file(struct smsr_config *cfg, const char *path, char *err, size_t errlen)
{
	char *text = NULL, *dir, msg[256];
	FILE *f;
	int rc;

	if (!cfg || !path)
		return -SMSR_EINVAL;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = read_all(f, &text);
	fclose(f);
	if (rc < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, smsr_strerror(rc));
		return rc;
	}
	dir = strdup(path);
	rc = dir ? parse_text(cfg, text, dirname(dir), msg, sizeof(msg)) : -SMSR_ENOMEM;
	if (!dir)
		snprintf(msg, sizeof(msg), "out of memory");
	free(dir);
	free(text);
	if (rc < 0 && err && errlen)
		snprintf(err, errlen, "%s: %s", path, msg);
	return rc;
}

int smsr_config_channel_count(const struct smsr_config *cfg)
{
	return cfg ? (int)cfg->nchans : 0;
}

int smsr_config_route_count(const struct smsr_config *cfg)
{
	return cfg ? (int)cfg->nroutes : 0;
}

void smsr_config_destroy(struct smsr_config *cfg)
{
	if (!cfg)
		return;
	smsr__cfg_free(cfg);
	free(cfg);
}

/* --- ownership ------------------------------------------------------------- */

/* Free a string the struct owns but declares const (struct smsr_param). */
static void free_str(const char *s)
{
	free((void *)(uintptr_t)s);
}

static void chan_params_free(struct smsr__chan_cfg *ch)
{
	for (size_t i = 0; ch->params && i < ch->nparams; i++) {
		free_str(ch->params[i].key);
		free_str(ch->params[i].value);
	}
	free(ch->params);
	ch->params = NULL;
	ch->nparams = 0;
}

void smsr__cfg_free(struct smsr_config *cfg)
{
	for (size_t i = 0; cfg->chans && i < cfg->nchans; i++)
		chan_params_free(&cfg->chans[i]);
	free(cfg->chans);
	free(cfg->routes);
	free(cfg->prefixes);
	free(cfg->ported);
	memset(cfg, 0, sizeof(*cfg));
}

static int chan_params_copy(struct smsr__chan_cfg *dst, const struct smsr__chan_cfg *src);

/* malloc'd copy of @n elements of @size at @src; NULL when @n is 0 or on OOM. */
static void *dup_array(const void *src, size_t n, size_t size)
{
	void *p = n ? malloc(n * size) : NULL;

	if (p)
		memcpy(p, src, n * size);
	return p;
}

int smsr__cfg_chan_copy(struct smsr__chan_cfg *dst, const struct smsr__chan_cfg *src)
{
	*dst = *src;
	dst->params = NULL;
	dst->nparams = 0;
	if (chan_params_copy(dst, src) < 0) {
		chan_params_free(dst);
		return -SMSR_ENOMEM;
	}
	return 0;
}

void smsr__cfg_chan_free(struct smsr__chan_cfg *ch)
{
	chan_params_free(ch);
}

static int chan_params_copy(struct smsr__chan_cfg *dst, const struct smsr__chan_cfg *src)
{
	if (!src->nparams)
		return 0;
	dst->params = calloc(src->nparams, sizeof(*dst->params));
	if (!dst->params)
		return -SMSR_ENOMEM;
	dst->nparams = src->nparams;
	for (size_t i = 0; i < src->nparams; i++) {
		dst->params[i].key = strdup(src->params[i].key);
		dst->params[i].value = strdup(src->params[i].value);
		if (!dst->params[i].key || !dst->params[i].value)
			return -SMSR_ENOMEM;
	}
	return 0;
}

int smsr__cfg_copy(struct smsr_config *dst, const struct smsr_config *src)
{
	*dst = *src;
	dst->chans = dup_array(src->chans, src->nchans, sizeof(*src->chans));
	dst->routes = dup_array(src->routes, src->nroutes, sizeof(*src->routes));
	dst->prefixes = dup_array(src->prefixes, src->nprefixes, sizeof(*src->prefixes));
	dst->ported = dup_array(src->ported, src->nported, sizeof(*src->ported));
	for (size_t i = 0; dst->chans && i < dst->nchans; i++) {
		dst->chans[i].params = NULL; /* still src's: never free those */
		dst->chans[i].nparams = 0;
	}
	if ((src->nchans && !dst->chans) || (src->nroutes && !dst->routes) ||
	    (src->nprefixes && !dst->prefixes) || (src->nported && !dst->ported))
		goto err_nomem;
	for (size_t i = 0; i < src->nchans; i++)
		if (chan_params_copy(&dst->chans[i], &src->chans[i]) < 0)
			goto err_nomem;
	return 0;
err_nomem:
	smsr__cfg_free(dst);
	return -SMSR_ENOMEM;
}
