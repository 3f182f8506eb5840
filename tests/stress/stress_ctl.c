/* SPDX-License-Identifier: MIT */
/*
 * The stress test's configurations and controller (see stress.h). The
 * controller thread keeps its own model of the channels — which names are
 * live at which index, which indexes it removed and when — and checks each
 * operation's return against it: it is the only thread that changes
 * channels, so that model is exact, while the router's own changes (links
 * down, breakers) are left to the channel events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stress.h"

void sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (b->n >= sizeof(b->buf) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(b->buf + b->n, sizeof(b->buf) - b->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		b->n += (size_t)k < sizeof(b->buf) - b->n ? (size_t)k : sizeof(b->buf) - 1 - b->n;
}

/* --- configurations ------------------------------------------------------ */

/* One draw per statement: the order of draws inside one expression (function
 * arguments, initializer lists) is unspecified, and a rerun must repeat them. */
void spec_random(struct rng *r, struct spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->tps = PICK(r, 0, 0, 0, 20, 50, 200, 1000);
	sp->window = PICK(r, 0, 0, 2, 8, 32);
	sp->submit_ms = PICK(r, 100, 200, 300, 500, 1000);
	sp->lat_ms = PICK(r, 0, 0, 0, 1, 2, 5);
	sp->dlr_ms = PICK(r, 0, 0, 1, 2, 5);
	sp->acc_pm = PICK(r, 1000, 1000, 1000, 970, 900);
	sp->dlv_pm = PICK(r, 1000, 1000, 950, 800);
	sp->price_m = 10 + below(r, 90);
	sp->seed = (uint32_t)rnd(r) >> 1; /* libconfig reads beyond 2^31 as 64-bit */
	if (chance(r, 40)) {
		sp->lanes[0] = 10 + below(r, 190);
		sp->lanes[1] = 20 + below(r, 380);
		sp->lanes[2] = 20 + below(r, 380);
	}
}

void spec_text(struct sb *b, const char *name, const struct spec *sp)
{
	sb_add(b, "{ name = \"%s\"; driver = \"sim\"; tps = %u; window = %u; ", name, sp->tps,
	       sp->window);
	if (sp->lanes[0])
		sb_add(b, "lanes = { verification = %u; notice = %u; marketing = %u; }; ",
		       sp->lanes[0], sp->lanes[1], sp->lanes[2]);
	sb_add(b,
	       "dlr_timeout = \"1s\"; submit_timeout = %u; price = %u.%03u;\n"
	       "    params = { latency_ms = %u; dlr_delay_ms = %u; accept_rate = %u.%03u; "
	       "delivery_rate = %u.%03u; seed = %u; }; }",
	       sp->submit_ms, sp->price_m / 1000, sp->price_m % 1000, sp->lat_ms, sp->dlr_ms,
	       sp->acc_pm / 1000, sp->acc_pm % 1000, sp->dlv_pm / 1000, sp->dlv_pm % 1000,
	       sp->seed);
}

/* A route group of @n of @names, from @at on (cyclic), some with weights. */
static void group_text(struct sb *b, struct rng *r, const char *const *names, unsigned total,
		       unsigned at, unsigned n)
{
	sb_add(b, "[");
	for (unsigned k = 0; k < n; k++) {
		sb_add(b, "%s\"%s", k ? ", " : "", names[(at + k) % total]);
		if (chance(r, 30))
			sb_add(b, ":%u", 1 + below(r, 5));
		sb_add(b, "\"");
	}
	sb_add(b, "]");
}

/*
 * Routes over @names: maybe one for codes and one for international
 * numbers first, then a catch-all whose groups cover every channel, so
 * every message matches and most have somewhere else to go.
 */
void routes_text(struct sb *b, struct rng *r, const char *const *names, unsigned n)
{
	unsigned ngroups = 1 + below(r, n < 3 ? n : 3), at = below(r, n), left = n;

	sb_add(b, "routes = (\n");
	if (n > 1 && chance(r, 50)) {
		sb_add(b, "  { classes = [\"verification\"]; groups = ( ");
		group_text(b, r, names, n, at, 1);
		sb_add(b, ", ");
		group_text(b, r, names, n, at + 1, n - 1);
		sb_add(b, " ); },\n");
	}
	if (n > 1 && chance(r, 30)) {
		sb_add(b, "  { carriers = [\"intl\"]; groups = ( ");
		group_text(b, r, names, n, at + 1, 1);
		sb_add(b, ", ");
		group_text(b, r, names, n, at, 1);
		sb_add(b, " ); },\n");
	}
	sb_add(b, "  { groups = ( ");
	for (unsigned g = 0; g < ngroups; g++) {
		unsigned take = g + 1 == ngroups ? left : 1 + below(r, left - (ngroups - g - 1));

		group_text(b, r, names, n, at, take);
		at += take;
		left -= take;
		sb_add(b, g + 1 < ngroups ? ", " : "");
	}
	if (chance(r, 30))
		sb_add(b, ", [\"%s\"]", names[below(r, n)]); /* a channel in two groups */
	sb_add(b, " ); } );\n");
}

/*
 * Router settings, the same in every reload of an iteration. Validity is
 * short (seconds) half the time, so messages expire in lanes and retries;
 * else the defaults (minutes to days), so a message that should have moved
 * and did not stays visibly not final instead of quietly expiring.
 */
void router_text(struct sb *b, struct rng *r, unsigned workers, unsigned *max_attempts)
{
	static const char *const resend[] = {"[]", "[\"verification\"]",
					     "[\"verification\", \"notice\"]"};

	unsigned v[3], h[6], backoff, res;
	bool scoring;

	*max_attempts = 1 + below(r, 4);
	sb_add(b, "router = { workers = %u;\n", workers);
	if (chance(r, 50)) {
		v[0] = PICK(r, 1500, 2000, 3000);
		v[1] = PICK(r, 2000, 3000, 4000);
		v[2] = PICK(r, 2000, 3000, 4000);
		sb_add(b, "  validity = { verification = %u; notice = %u; marketing = %u; };\n",
		       v[0], v[1], v[2]);
	}
	h[0] = PICK(r, 100, 150, 300);
	h[1] = PICK(r, 150, 300, 600);
	h[2] = PICK(r, 3, 5, 10);
	h[3] = PICK(r, 5, 20);
	h[4] = PICK(r, 20, 50, 200);
	h[5] = PICK(r, 1, 3);
	backoff = PICK(r, 2, 10, 30);
	res = below(r, 3);
	scoring = chance(r, 70);
	sb_add(b,
	       "  health = { answer_timeout = %u; report_silence = %u; open_after = %u;\n"
	       "             min_samples = %u; cool_down = %u; probes = %u; };\n"
	       "  retry = { max_attempts = %u; backoff = %u; resend_unanswered = %s; };\n"
	       "  scoring = { enabled = %s; }; };\n",
	       h[0], h[1], h[2], h[3], h[4], h[5], *max_attempts, backoff, resend[res],
	       scoring ? "true" : "false");
}

struct smsr_config *parse_cfg(const char *text, char *err, size_t errlen)
{
	struct smsr_config *cfg = NULL;

	if (smsr_config_create(&cfg) < 0)
		return NULL;
	if (smsr_config_parse(cfg, text, err, errlen) < 0) {
		smsr_config_destroy(cfg);
		return NULL;
	}
	return cfg;
}

/* --- the controller -------------------------------------------------------- */

static void oplog(struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void oplog(struct ctl *c, const char *fmt, ...)
{
	struct oprec *o = &c->log[c->nlog++ % RING];
	va_list ap;

	o->t_us = since_us(&c->it->m);
	va_start(ap, fmt);
	vsnprintf(o->text, sizeof(o->text), fmt, ap);
	va_end(ap);
}

/* Check @rc against what the operation must return; log it either way. */
static void expect_rc(struct ctl *c, bool ok, int rc, const char *what)
{
	oplog(c, "%s -> %d%s", what, rc, ok ? "" : "  <-- UNEXPECTED");
	if (!ok)
		problem(c->it, "op \"%s\" returned %d (%s)", what, rc, smsr_errname(rc));
}

static int nchans(struct ctl *c)
{
	return smsr_router_channels(c->it->r, NULL, 0);
}

static struct cchan *pick_live(struct ctl *c)
{
	unsigned n = 0, at;

	for (unsigned i = 0; i < c->nch; i++)
		n += c->ch[i].live;
	if (!n)
		return NULL;
	at = below(&c->rng, n);
	for (unsigned i = 0; i < c->nch; i++)
		if (c->ch[i].live && at-- == 0)
			return &c->ch[i];
	return NULL;
}

static int pick_dead(struct ctl *c)
{
	unsigned n = (unsigned)nchans(c), start = below(&c->rng, n ? n : 1);

	for (unsigned k = 0; k < n; k++)
		if (c->dead[(start + k) % n])
			return (int)((start + k) % n);
	return -1;
}

static void retire(struct ctl *c, int idx)
{
	if (idx < 0 || idx >= CH_MAX || c->dead[idx])
		return;
	c->dead[idx] = true;
	c->dead_us[idx] = since_us(&c->it->m);
}

static void mark_gone(struct ctl *c, struct cchan *ch)
{
	retire(c, ch->idx);
	ch->live = false;
	ch->idx = -1;
}

static void op_fault(struct ctl *c)
{
	static const char *const faults[] = {"down",	 "none",   "none",  "blackhole",
					     "throttle", "reject", "nodlr", "down"};
	struct cchan *ch = pick_live(c);
	const char *f = faults[below(&c->rng, 8)];
	char what[96], ms[16];
	bool flap = chance(&c->rng, 30);
	int rc;

	if (!ch)
		return;
	snprintf(ms, sizeof(ms), "%u", flap ? 5 + below(&c->rng, 60) : 0);
	rc = smsr_router_channel_ctl(c->it->r, ch->idx, "fault_for_ms", ms);
	snprintf(what, sizeof(what), "ctl %s(#%d) fault_for_ms=%s", ch->name, ch->idx, ms);
	expect_rc(c, rc == 0 || rc == -SMSR_EBUSY, rc, what);
	rc = smsr_router_channel_ctl(c->it->r, ch->idx, "fault", f);
	snprintf(what, sizeof(what), "ctl %s(#%d) fault=%s", ch->name, ch->idx, f);
	expect_rc(c, rc == 0 || rc == -SMSR_EBUSY, rc, what);
}

static void op_sim_param(struct ctl *c)
{
	static const char *const keys[] = {"latency_ms", "accept_rate", "delivery_rate",
					   "no_such_key"};
	static const char *const vals[][3] = {
	    {"0", "5", "20"}, {"1", "0.9", "0.5"}, {"1", "0.9", "0.5"}, {"1", "1", "1"}};
	struct cchan *ch = pick_live(c);
	unsigned k = below(&c->rng, 4);
	char what[96];
	int rc;

	if (!ch)
		return;
	if (chance(&c->rng, 5)) { /* a value too long for a control request */
		rc = smsr_router_channel_ctl(c->it->r, ch->idx, "latency_ms", long_tags);
		snprintf(what, sizeof(what), "ctl %s(#%d) latency_ms=<130 chars>", ch->name,
			 ch->idx);
		expect_rc(c, rc == -SMSR_EINVAL, rc, what);
		return;
	}
	rc = smsr_router_channel_ctl(c->it->r, ch->idx, keys[k], vals[k][below(&c->rng, 3)]);
	snprintf(what, sizeof(what), "ctl %s(#%d) %s", ch->name, ch->idx, keys[k]);
	expect_rc(c, rc == 0 || rc == -SMSR_EBUSY, rc, what);
}

/* Pause, drain or resume a live channel, or now and then a removed one. */
static void op_operator(struct ctl *c)
{
	static const char *const names[] = {"pause", "drain", "resume", "resume"};
	unsigned what_op = below(&c->rng, 4);
	struct cchan *ch = pick_live(c);
	int idx = ch ? ch->idx : -1, rc;
	bool dead = !ch || chance(&c->rng, 10);
	char what[96];

	if (dead && (idx = pick_dead(c)) < 0)
		return;
	if (what_op == 0)
		rc = smsr_router_channel_pause(c->it->r, idx);
	else if (what_op == 1)
		rc = smsr_router_channel_drain(c->it->r, idx);
	else
		rc = smsr_router_channel_resume(c->it->r, idx);
	snprintf(what, sizeof(what), "%s #%d%s", names[what_op], idx, dead ? " (removed)" : "");
	if (dead)
		expect_rc(c, rc == -SMSR_ESTATE, rc, what);
	else if (what_op <= 1)
		expect_rc(c, rc == 0, rc, what);
	else
		expect_rc(c, rc == 0 || rc == -SMSR_ESTATE, rc, what);
}

static void op_remove(struct ctl *c)
{
	struct cchan *ch = pick_live(c);
	unsigned live = 0;
	char what[96];
	int rc, idx;

	for (unsigned i = 0; i < c->nch; i++)
		live += c->ch[i].live;
	if (chance(&c->rng, 15) && (idx = pick_dead(c)) >= 0) {
		rc = smsr_router_channel_remove(c->it->r, idx);
		snprintf(what, sizeof(what), "remove #%d (removed)", idx);
		expect_rc(c, rc == -SMSR_ESTATE, rc, what);
		return;
	}
	if (!ch || (live <= 1 && !chance(&c->rng, 20)))
		return;
	idx = ch->idx;
	rc = smsr_router_channel_remove(c->it->r, idx);
	snprintf(what, sizeof(what), "remove %s(#%d)", ch->name, idx);
	expect_rc(c, rc == 0, rc, what);
	mark_gone(c, ch);
	rc = smsr_router_channel_find(c->it->r, ch->name);
	snprintf(what, sizeof(what), "find %s after its removal", ch->name);
	expect_rc(c, rc == -SMSR_ENOTFOUND, rc, what);
}

static struct cchan *new_name(struct ctl *c)
{
	struct cchan *ch;

	if (c->nch == CH_MAX)
		return NULL;
	ch = &c->ch[c->nch++];
	snprintf(ch->name, sizeof(ch->name), "n%u", c->names++);
	spec_random(&c->rng, &ch->sp);
	ch->idx = -1;
	ch->live = false;
	return ch;
}

static void op_add(struct ctl *c)
{
	struct sb *b = malloc(sizeof(*b));
	struct cchan *ch, *old = pick_live(c);
	char err[256] = "", what[96];
	int before = nchans(c), rc;

	if (!b)
		return;
	b->n = 0;
	if (old && chance(&c->rng, 15)) { /* a live name: refused */
		spec_text(b, old->name, &old->sp);
		rc = smsr_router_channel_add(c->it->r, b->buf, err, sizeof(err));
		snprintf(what, sizeof(what), "add %s (live name)", old->name);
		expect_rc(c, rc == -SMSR_EEXIST, rc, what);
	} else if (chance(&c->rng, 10)) { /* no driver: refused */
		rc = smsr_router_channel_add(c->it->r, "{ name = \"zz\"; }", err, sizeof(err));
		expect_rc(c, rc == -SMSR_ECONFIG, rc, "add without a driver");
	} else if (before < CH_MAX - SET_MAX && (ch = new_name(c))) {
		spec_text(b, ch->name, &ch->sp);
		rc = smsr_router_channel_add(c->it->r, b->buf, err, sizeof(err));
		snprintf(what, sizeof(what), "add %s (tps %u window %u)", ch->name, ch->sp.tps,
			 ch->sp.window);
		expect_rc(c, rc == before, rc, what); /* indexes are never reused */
		if (rc >= 0) {
			ch->idx = rc;
			ch->live = true;
		}
	}
	free(b);
}

enum how {
	H_SAME,
	H_RATE,
	H_REPLACE,
	H_NEW
};

/* Choose the channels of a new configuration and what becomes of each. */
static unsigned reload_plan(struct ctl *c, unsigned *set, enum how *how)
{
	int left = CH_MAX - SET_MAX - nchans(c);
	unsigned n = 0, fresh = 0, room = left > 0 ? (unsigned)left : 0;
	unsigned start = below(&c->rng, c->nch ? c->nch : 1);

	for (unsigned k = 0; k < c->nch && n < SET_MAX; k++) {
		unsigned i = (start + k) % c->nch;
		struct cchan *ch = &c->ch[i];

		if (ch->live && chance(&c->rng, 80)) {
			unsigned p = below(&c->rng, 100);

			how[n] = p < 15 ? H_RATE : p < 25 && fresh < room ? H_REPLACE : H_SAME;
			fresh += how[n] == H_REPLACE;
			set[n++] = i;
		} else if (!ch->live && chance(&c->rng, 8) && fresh < room) {
			how[n] = H_NEW; /* revived under its old name */
			fresh++;
			set[n++] = i;
		}
	}
	while (n < SET_MAX && fresh < room && (n == 0 || chance(&c->rng, 35))) {
		struct cchan *ch = new_name(c);

		if (!ch)
			break;
		how[n] = H_NEW;
		fresh++;
		set[n++] = (unsigned)(ch - c->ch);
	}
	return n;
}

static void reload_text(struct ctl *c, struct sb *b, const unsigned *set, unsigned n)
{
	const char *names[SET_MAX];

	sb_add(b, "%s", c->it->router_block.buf);
	sb_add(b, "channels = (\n");
	for (unsigned i = 0; i < n; i++) {
		sb_add(b, "  ");
		spec_text(b, c->ch[set[i]].name, &c->ch[set[i]].sp);
		sb_add(b, i + 1 < n ? ",\n" : " );\n");
		names[i] = c->ch[set[i]].name;
	}
	routes_text(b, &c->rng, names, n);
}

/* After a reload: every channel of the set is found where it should be,
 * every other name is gone, and the rates are the configured ones. */
static void reload_verify(struct ctl *c, const unsigned *set, const enum how *how, unsigned n,
			  int before)
{
	struct smsr_channel_info ci[CH_MAX];
	bool in[CH_MAX] = {false};
	int total = smsr_router_channels(c->it->r, ci, CH_MAX);
	char what[96];

	for (unsigned i = 0; i < n; i++) {
		struct cchan *ch = &c->ch[set[i]];
		int idx = smsr_router_channel_find(c->it->r, ch->name);
		bool ok = how[i] == H_SAME || how[i] == H_RATE ? idx == ch->idx : idx >= before;

		in[set[i]] = true;
		snprintf(what, sizeof(what), "find %s after reload (was #%d, %s)", ch->name,
			 ch->idx,
			 how[i] == H_NEW       ? "new"
			 : how[i] == H_REPLACE ? "replaced"
					       : "kept");
		expect_rc(c, ok && idx < total, idx, what);
		if (how[i] == H_REPLACE)
			retire(c, ch->idx);
		ch->idx = idx;
		ch->live = idx >= 0;
		if (idx >= 0 && idx < total && ci[idx].tps != ch->sp.tps)
			problem(c->it, "after reload %s(#%d) has tps %u, configured %u", ch->name,
				idx, ci[idx].tps, ch->sp.tps);
	}
	for (unsigned i = 0; i < c->nch; i++) {
		struct cchan *ch = &c->ch[i];

		if (in[i] || !ch->live)
			continue;
		mark_gone(c, ch);
		snprintf(what, sizeof(what), "find %s, dropped by the reload", ch->name);
		expect_rc(c, smsr_router_channel_find(c->it->r, ch->name) == -SMSR_ENOTFOUND,
			  smsr_router_channel_find(c->it->r, ch->name), what);
	}
}

/*
 * The last reload of an iteration: the live channels as they are (a new
 * one if none is left), every one of them routed, so that every message
 * has a channel to end on once the faults are off.
 */
static unsigned final_plan(struct ctl *c, unsigned *set, enum how *how)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->nch && n < SET_MAX; i++)
		if (c->ch[i].live) {
			how[n] = H_SAME;
			set[n++] = i;
		}
	if (n == 0 && c->nch < CH_MAX) {
		struct cchan *ch = new_name(c);

		ch->sp.tps = 0;
		how[n] = H_NEW;
		set[n++] = (unsigned)(ch - c->ch);
	}
	return n;
}

static void reload_with(struct ctl *c, bool last)
{
	unsigned set[SET_MAX], n;
	enum how how[SET_MAX];
	struct sb *b = malloc(sizeof(*b));
	struct smsr_config *cfg;
	char err[256] = "", what[96];
	int before = nchans(c), rc;

	if (!b)
		return;
	b->n = 0;
	n = last ? final_plan(c, set, how) : reload_plan(c, set, how);
	for (unsigned i = 0; i < n; i++) {
		struct spec *sp = &c->ch[set[i]].sp;

		if (how[i] == H_RATE)
			sp->tps = sp->tps == 200 ? 1000 : 200;
		else if (how[i] == H_REPLACE)
			sp->seed++, sp->lat_ms = sp->lat_ms ? 0 : 1;
	}
	reload_text(c, b, set, n);
	cfg = parse_cfg(b->buf, err, sizeof(err));
	if (!cfg) {
		problem(c->it, "generated configuration does not parse: %s\n%s", err, b->buf);
		free(b);
		return;
	}
	rc = smsr_router_reload(c->it->r, cfg, err, sizeof(err));
	snprintf(what, sizeof(what), "%sreload with %u channel(s) %.60s", last ? "final " : "", n,
		 rc ? err : "");
	expect_rc(c, rc == 0, rc, what);
	if (rc == 0)
		reload_verify(c, set, how, n, before);
	smsr_config_destroy(cfg);
	free(b);
}

/* Reloads that must be refused whole, leaving everything as it was. */
static void op_bad_reload(struct ctl *c)
{
	static const char bad_driver[] = "channels = ( { name = \"x\"; driver = \"nosuch\"; } );\n"
					 "routes = ( { groups = ( [\"x\"] ); } );\n";
	static const char bad_router[] = "router = { workers = 7; };\n"
					 "channels = ( { name = \"x\"; driver = \"sim\"; } );\n"
					 "routes = ( { groups = ( [\"x\"] ); } );\n";
	bool drv = chance(&c->rng, 50);
	struct smsr_config *cfg = parse_cfg(drv ? bad_driver : bad_router, NULL, 0);
	char err[256] = "";
	int before = nchans(c), rc;

	if (!cfg)
		return;
	rc = smsr_router_reload(c->it->r, cfg, err, sizeof(err));
	expect_rc(c, rc == (drv ? -SMSR_ENODRIVER : -SMSR_ECONFIG), rc,
		  drv ? "reload with an unknown driver" : "reload changing router.workers");
	expect_rc(c, nchans(c) == before, nchans(c), "channel count after a refused reload");
	for (unsigned i = 0; i < c->nch; i++)
		if (c->ch[i].live &&
		    smsr_router_channel_find(c->it->r, c->ch[i].name) != c->ch[i].idx)
			problem(c->it, "after a refused reload %s is not at #%d", c->ch[i].name,
				c->ch[i].idx);
	smsr_config_destroy(cfg);
}

static void op_rate_weight(struct ctl *c)
{
	struct cchan *ch = pick_live(c);
	unsigned v = PICK(&c->rng, 0, 10, 100, 1000, SMSR_TPS_MAX + 1);
	bool weight = chance(&c->rng, 35);
	char what[96];
	int rc;

	if (!ch)
		return;
	if (weight) {
		v = below(&c->rng, 11); /* 0 is refused */
		rc = smsr_router_channel_set_weight(c->it->r, ch->idx, v);
		snprintf(what, sizeof(what), "set_weight %s(#%d) %u", ch->name, ch->idx, v);
		expect_rc(c, v ? rc == 0 : rc == -SMSR_EINVAL, rc, what);
		return;
	}
	rc = smsr_router_channel_set_rate(c->it->r, ch->idx, v);
	snprintf(what, sizeof(what), "set_rate %s(#%d) %u", ch->name, ch->idx, v);
	expect_rc(c, v <= SMSR_TPS_MAX ? rc == 0 : rc == -SMSR_EINVAL, rc, what);
}

/* Odds and ends: stale reports, opt-outs, bad indexes, reading state. */
static void op_misc(struct ctl *c)
{
	struct smsr_channel_info ci[CH_MAX];
	struct smsr_stats st;
	struct cchan *ch = pick_live(c);
	unsigned what_op = below(&c->rng, 5);
	int n, rc;

	if (what_op == 0 && ch) {
		rc = smsr_router_inject_dlr(c->it->r, ch->idx, "nosuch-msgid", 0, 0);
		expect_rc(c, rc == 0 || rc == -SMSR_EBUSY, rc, "inject_dlr for no message");
	} else if (what_op == 1) {
		rc = smsr_router_optout(c->it->r, OPTOUT_NUM, chance(&c->rng, 50));
		expect_rc(c, rc == 0 || rc == 1, rc, "optout " OPTOUT_NUM);
	} else if (what_op == 2) {
		n = nchans(c);
		rc = smsr_router_channel_pause(c->it->r, n + 3);
		expect_rc(c, rc == -SMSR_ENOTFOUND, rc, "pause an index past the end");
		rc = smsr_router_channel_ctl(c->it->r, -1, "fault", "down");
		expect_rc(c, rc == -SMSR_EINVAL, rc, "ctl index -1");
	} else {
		n = smsr_router_channels(c->it->r, ci, CH_MAX);
		rc = smsr_router_stats(c->it->r, &st);
		expect_rc(c, rc == 0 && n > 0 && n <= CH_MAX, n, "channels and stats");
		for (int i = 0; i < n && i < CH_MAX; i++)
			if (c->dead[i] && ci[i].state != SMSR_CHAN_REMOVED)
				problem(c->it, "channel #%d was removed but shows state %u", i,
					ci[i].state);
	}
}

void *controller_main(void *arg)
{
	struct ctl *c = arg;
	struct iter *it = c->it;

	while (test_now_ns() < it->deadline_ns && c->nops < OPS_MAX) {
		unsigned p = below(&c->rng, 100);

		c->nops++;
		if (p < 30)
			op_fault(c);
		else if (p < 36)
			op_sim_param(c);
		else if (p < 54)
			op_operator(c);
		else if (p < 61)
			op_remove(c);
		else if (p < 67)
			op_add(c);
		else if (p < 78)
			reload_with(c, false);
		else if (p < 80)
			op_bad_reload(c);
		else if (p < 88)
			op_rate_weight(c);
		else
			op_misc(c);
		sleep_us(300 + below(&c->rng, 4000));
	}
	return NULL;
}

/* Faults off, channels resumed and unthrottled: let everything finish. */
void cleanup_channels(struct ctl *c)
{
	struct smsr_router *r = c->it->r;

	reload_with(c, true);
	for (unsigned i = 0; i < c->nch; i++) {
		int idx = c->ch[i].idx, rc;

		if (!c->ch[i].live)
			continue;
		smsr_router_channel_ctl(r, idx, "fault_for_ms", "0");
		smsr_router_channel_ctl(r, idx, "fault", "none");
		smsr_router_channel_ctl(r, idx, "latency_ms", "0");
		smsr_router_channel_ctl(r, idx, "accept_rate", "1");
		smsr_router_channel_ctl(r, idx, "delivery_rate", "1");
		rc = smsr_router_channel_resume(r, idx);
		if (rc != 0 && rc != -SMSR_ESTATE)
			problem(c->it, "cleanup: resume #%d returned %d", idx, rc);
		smsr_router_channel_set_rate(r, idx, 0);
	}
	oplog(c, "cleanup: faults off, channels resumed, rates unlimited");
}
