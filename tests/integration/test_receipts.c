/* SPDX-License-Identifier: MIT */
/*
 * Description: delivery receipts matched by carrier message id, through a
 * host driver ("rcpt") that answers every submit with part ids of its own
 * ("<tag>-<message id>-<part>") and sends receipts by id when the test
 * tells it (a channel control, run on the channel's worker). Covers one
 * and several parts (delivered only when every part is, in any order;
 * failed at once when one part fails, its other parts' receipts then
 * stale), unknown ids and receipts after a report timeout (stale), the
 * index emptying after 100 K messages, MO from a driver, and the resend
 * once through another channel after a failed receipt (补发) — by class,
 * once only, within validity — also through the sim driver's token
 * reports. Every accepted message must reach exactly one final state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"
#include "router/router_int.h"

/* --- the test's driver ------------------------------------------------- */

#define RCPT_MAX 4

struct rcpt {
	struct smsr_chan *chan;
	char tag[8];
	unsigned parts;
	bool autodlr;	/* receipts for every part from poll(), last part first */
	uint64_t *todo; /* message ids answered, for autodlr */
	size_t ntodo, captodo;
	_Atomic int last_ret;
	_Atomic uint64_t done; /* controls run */
	_Atomic uint64_t auto_failed;
};

/* Test state: the drivers the router opened, by tag (test code only). */
static struct rcpt *rcpts[RCPT_MAX];

static int rcpt_open(struct smsr_chan *chan, const struct smsr_param *params, size_t n,
		     uint64_t seed, void **state)
{
	struct rcpt *d = calloc(1, sizeof(*d));
	const char *tag = smsr_param_str(params, n, "tag");
	double parts = 1, autodlr = 0;

	(void)seed;
	if (!d || !tag)
		return free(d), -SMSR_ECONFIG;
	smsr_param_double(params, n, "parts", &parts);
	smsr_param_double(params, n, "auto", &autodlr);
	d->chan = chan;
	snprintf(d->tag, sizeof(d->tag), "%s", tag);
	d->parts = (unsigned)parts;
	d->autodlr = autodlr != 0;
	for (int i = 0; i < RCPT_MAX; i++)
		if (!rcpts[i]) {
			rcpts[i] = d;
			break;
		}
	smsr_chan_set_up(chan, true, 0);
	*state = d;
	return 0;
}

static int rcpt_submit(void *state, const struct smsr_submit *sub, uint64_t now)
{
	struct rcpt *d = state;
	char buf[8][32];
	const char *ids[8];

	(void)now;
	for (unsigned k = 0; k < d->parts; k++) {
		snprintf(buf[k], sizeof(buf[k]), "%s-%llu-%u", d->tag, (unsigned long long)sub->id,
			 k);
		ids[k] = buf[k];
	}
	if (d->autodlr) {
		if (d->ntodo == d->captodo) {
			size_t cap = d->captodo ? d->captodo * 2 : 1024;
			uint64_t *t = realloc(d->todo, cap * sizeof(*t));

			if (!t)
				return -SMSR_ECHANERR;
			d->todo = t;
			d->captodo = cap;
		}
		d->todo[d->ntodo++] = sub->id;
	}
	if (d->parts == 1)
		smsr_chan_submit_done(d->chan, sub->token, 0, 0, ids[0]);
	else
		smsr_chan_submit_parts(d->chan, sub->token, 0, 0, ids, d->parts);
	return 0;
}

static uint64_t rcpt_poll(void *state, uint64_t now)
{
	struct rcpt *d = state;

	(void)now;
	for (size_t i = 0; i < d->ntodo; i++) {
		for (unsigned k = d->parts; k-- > 0;) {
			char id[32];

			snprintf(id, sizeof(id), "%s-%llu-%u", d->tag,
				 (unsigned long long)d->todo[i], k);
			if (smsr_chan_receipt(d->chan, id, 0, 0) != 0)
				atomic_fetch_add(&d->auto_failed, 1);
		}
	}
	d->ntodo = 0;
	return UINT64_MAX;
}

/* "receipt" = "ID STATUS OP"; "mo" = "FROM LEN TEXT" (only LEN bytes of TEXT). */
static int rcpt_ctl(void *state, const char *key, const char *value)
{
	struct rcpt *d = state;
	char a[40];
	int x = 0, y = 0, off = 0;

	if (!strcmp(key, "receipt") && sscanf(value, "%39s %d %d", a, &x, &y) == 3)
		atomic_store(&d->last_ret, smsr_chan_receipt(d->chan, a, x, y));
	else if (!strcmp(key, "mo") && sscanf(value, "%39s %d %n", a, &x, &off) == 2)
		atomic_store(&d->last_ret,
			     smsr_chan_mo(d->chan, a, "10690", value + off, (size_t)x));
	else
		return -SMSR_EINVAL;
	atomic_fetch_add(&d->done, 1);
	return 0;
}

static void rcpt_close(void *state)
{
	struct rcpt *d = state;

	for (int i = 0; i < RCPT_MAX; i++)
		if (rcpts[i] == d)
			rcpts[i] = NULL;
	free(d->todo);
	free(d);
}

static const struct smsr_driver rcpt_driver = {.name = "rcpt",
					       .open = rcpt_open,
					       .submit = rcpt_submit,
					       .poll = rcpt_poll,
					       .ctl = rcpt_ctl,
					       .close = rcpt_close};

static struct rcpt *drv(const char *tag)
{
	for (int i = 0; i < RCPT_MAX; i++)
		if (rcpts[i] && !strcmp(rcpts[i]->tag, tag))
			return rcpts[i];
	fail_msg("no driver %s", tag);
	return NULL;
}

/* Run a control on channel @chan's driver and wait for its result. */
static int ctl_wait(struct smsr_router *r, int chan, const char *tag, const char *key,
		    const char *value)
{
	struct rcpt *d = drv(tag);
	uint64_t before = atomic_load(&d->done);

	assert_int_equal(smsr_router_channel_ctl(r, chan, key, value), 0);
	for (int t = 0; t < 5000 && atomic_load(&d->done) == before; t++)
		sleep_ms(1);
	assert_true(atomic_load(&d->done) > before);
	return atomic_load(&d->last_ret);
}

/* A receipt for part @part of message @id, as channel @chan (@tag) names it. */
static int receipt(struct smsr_router *r, int chan, const char *tag, uint64_t id, unsigned part,
		   int status, int op)
{
	char v[96];

	snprintf(v, sizeof(v), "%s-%llu-%u %d %d", tag, (unsigned long long)id, part, status, op);
	return ctl_wait(r, chan, tag, "receipt", v);
}

/* --- the test's event log: evlog plus the SUBMITTED ids in full --------- */

struct tlog {
	struct evlog log;
	pthread_mutex_t lock;
	/* The last SUBMITTED ids of the last 8 messages submitted: by event, so
	 * that a SUBMITTED before submit() has returned its id is kept too. */
	char submitted_ids[8][256];
	uint64_t ids[8];
	unsigned nsub;
};

static void tlog_cb(void *arg, const struct smsr_event *ev)
{
	struct tlog *t = arg;

	evlog_cb(&t->log, ev);
	if (ev->type != SMSR_EV_SUBMITTED || !ev->carrier_msgid)
		return;
	pthread_mutex_lock(&t->lock);
	{
		unsigned k = 0;

		while (k < 8 && t->ids[k] != ev->id)
			k++;
		if (k == 8)
			k = t->nsub++ % 8, t->ids[k] = ev->id;
		snprintf(t->submitted_ids[k], sizeof(t->submitted_ids[k]), "%s", ev->carrier_msgid);
	}
	pthread_mutex_unlock(&t->lock);
}

static struct smsr_router *start(const char *text, struct tlog *t, unsigned workers)
{
	static const struct smsr_driver *const drivers[] = {&rcpt_driver};
	struct smsr_config *cfg = test_config(text);
	struct smsr_router_opts o = {
	    .on_event = tlog_cb, .arg = t, .workers = workers, .drivers = drivers, .ndrivers = 1};
	struct smsr_router *r = NULL;

	memset(t, 0, sizeof(*t));
	evlog_init(&t->log);
	pthread_mutex_init(&t->lock, NULL);
	assert_int_equal(smsr_router_create(&r, cfg, &o), 0);
	smsr_config_destroy(cfg);
	assert_int_equal(smsr_router_start(r), 0);
	return r;
}

static void finish(struct smsr_router *r, struct tlog *t, uint64_t accepted)
{
	assert_true(evlog_wait_finals(&t->log, accepted, 10000));
	smsr_router_destroy(r);
	assert_int_equal(evlog_finals(&t->log), accepted);
	evlog_fini(&t->log);
	pthread_mutex_destroy(&t->lock);
}

static uint64_t submit(struct smsr_router *r, enum smsr_class cls, uint32_t validity_ms)
{
	static const char *text[] = {"", "Your code is 551029", "Your parcel is on its way",
				     "Big sale today only, reply STOP to opt out"};
	struct smsr_msg m = {.recipient = "+8613812345678",
			     .text = text[cls],
			     .text_len = strlen(text[cls]),
			     .cls = cls,
			     .validity_ms = validity_ms};
	struct smsr_result res;

	assert_int_equal(smsr_router_submit(r, &m, &res), 0);
	return res.id;
}

/* Wait (bounded) for an event of @type for @id on @chan (-1 any). */
static bool wait_event(struct evlog *l, uint64_t id, enum smsr_event_type type, int chan)
{
	for (int t = 0; t < 5000; t++) {
		bool found = false;

		pthread_mutex_lock(&l->lock);
		for (size_t i = 0; i < l->n && !found; i++)
			found = l->v[i].id == id && l->v[i].type == type &&
				(chan < 0 || l->v[i].channel == chan);
		pthread_mutex_unlock(&l->lock);
		if (found)
			return true;
		sleep_ms(1);
	}
	return false;
}

/* The one final event of @id (asserting there is exactly one). */
static struct evrec final_of(struct evlog *l, uint64_t id)
{
	struct evrec f = {0};
	unsigned n = 0;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n; i++) {
		const struct evrec *e = &l->v[i];

		if (e->id == id && (SMSR_EV_FINAL & SMSR_EV_MASK(e->type))) {
			f = *e;
			n++;
		}
	}
	pthread_mutex_unlock(&l->lock);
	assert_int_equal(n, 1);
	return f;
}

static unsigned count_of(struct evlog *l, uint64_t id, enum smsr_event_type t, int chan)
{
	unsigned n = 0;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].id == id && l->v[i].type == t && (chan < 0 || l->v[i].channel == chan);
	pthread_mutex_unlock(&l->lock);
	return n;
}

static bool has_final(struct evlog *l, uint64_t id)
{
	return evlog_finals_of(l, id) > 0;
}

static uint64_t stale(struct smsr_router *r)
{
	struct smsr_stats st;

	smsr_router_stats(r, &st);
	return st.stale_reports;
}

static struct smsr_channel_info info(struct smsr_router *r, int chan)
{
	struct smsr_channel_info ci[4];

	assert_true(smsr_router_channels(r, ci, 4) > chan);
	return ci[chan];
}

/* --- tests --------------------------------------------------------------- */

static const char *cfg_one = "channels = ( { name = \"A\"; driver = \"rcpt\";\n"
			     "  params = { tag = \"A\"; }; } );\n"
			     "routes = ( { groups = ( [\"A\"] ); } );\n";

static const char *cfg_three = "channels = ( { name = \"A\"; driver = \"rcpt\";\n"
			       "  params = { tag = \"A\"; parts = 3; }; } );\n"
			       "routes = ( { groups = ( [\"A\"] ); } );\n";

/* One part, its id short enough for the record (noted, indexed later) or
 * too long for it (indexed at once): delivered by its receipt. */
static void single_part(const char *cfg, const char *tag)
{
	struct tlog t;
	struct smsr_router *r = start(cfg, &t, 1);
	uint64_t id = submit(r, SMSR_CLASS_NOTICE, 0), s0;
	struct evrec f;

	assert_true(wait_event(&t.log, id, SMSR_EV_SUBMITTED, 0));
	assert_int_equal(receipt(r, 0, tag, id, 0, 0, 7), 0);
	f = final_of(&t.log, id);
	assert_int_equal(f.type, SMSR_EV_DELIVERED);
	assert_int_equal(f.op_code, 7);
	/* The same receipt again: the message is gone, it is stale. */
	s0 = stale(r);
	assert_int_equal(receipt(r, 0, tag, id, 0, 0, 0), -SMSR_ENOTFOUND);
	assert_int_equal(stale(r), s0 + 1);
	assert_int_equal(r->chans[0].dlr.live, 0);
	finish(r, &t, 1);
}

static void test_receipts_single_part_delivered_by_receipt(void **state)
{
	(void)state;
	single_part(cfg_one, "A");
	single_part("channels = ( { name = \"A\"; driver = \"rcpt\";\n"
		    "  params = { tag = \"Longtag\"; }; } );\n"
		    "routes = ( { groups = ( [\"A\"] ); } );\n",
		    "Longtag");
}

static void test_receipts_three_parts_delivered_when_all_are(void **state)
{
	static const unsigned order[3][3] = {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}};
	struct tlog t;
	struct smsr_router *r = start(cfg_three, &t, 1);
	uint64_t id[3];

	(void)state;
	for (int m = 0; m < 3; m++)
		id[m] = submit(r, SMSR_CLASS_NOTICE, 0);
	for (int m = 0; m < 3; m++) {
		char want[128], got[256] = "";

		assert_true(wait_event(&t.log, id[m], SMSR_EV_SUBMITTED, 0));
		snprintf(want, sizeof(want), "A-%llu-0,A-%llu-1,A-%llu-2",
			 (unsigned long long)id[m], (unsigned long long)id[m],
			 (unsigned long long)id[m]);
		pthread_mutex_lock(&t.lock);
		for (int k = 0; k < 8; k++)
			if (t.ids[k] == id[m])
				memcpy(got, t.submitted_ids[k], sizeof(got));
		pthread_mutex_unlock(&t.lock);
		assert_string_equal(got, want);
	}
	for (int m = 0; m < 3; m++) {
		assert_int_equal(receipt(r, 0, "A", id[m], order[m][0], 0, 0), 0);
		assert_int_equal(receipt(r, 0, "A", id[m], order[m][1], 0, 0), 0);
		/* A repeated part receipt is stale; the message still waits. */
		assert_int_equal(receipt(r, 0, "A", id[m], order[m][1], 0, 0), -SMSR_ENOTFOUND);
		assert_false(has_final(&t.log, id[m]));
		assert_int_equal(receipt(r, 0, "A", id[m], order[m][2], 0, 0), 0);
		assert_int_equal(final_of(&t.log, id[m]).type, SMSR_EV_DELIVERED);
	}
	finish(r, &t, 3);
}

static void test_receipts_one_failed_part_fails_the_message(void **state)
{
	struct tlog t;
	struct smsr_router *r = start(cfg_three, &t, 1);
	uint64_t id = submit(r, SMSR_CLASS_NOTICE, 0), s0;
	struct evrec f;
	char want[40];

	(void)state;
	assert_true(wait_event(&t.log, id, SMSR_EV_SUBMITTED, 0));
	assert_int_equal(receipt(r, 0, "A", id, 0, 0, 0), 0);
	assert_int_equal(receipt(r, 0, "A", id, 1, -SMSR_ECARRIEREXPIRED, 1234), 0);
	f = final_of(&t.log, id);
	assert_int_equal(f.type, SMSR_EV_FAILED);
	assert_int_equal(f.reason, -SMSR_ECARRIEREXPIRED);
	assert_int_equal(f.op_code, 1234);
	snprintf(want, sizeof(want), "A-%llu-1", (unsigned long long)id);
	assert_string_equal(f.carrier_msgid, want); /* the part that failed */
	s0 = stale(r);
	assert_int_equal(receipt(r, 0, "A", id, 2, 0, 0), -SMSR_ENOTFOUND);
	assert_int_equal(receipt(r, 0, "A", id, 0, 0, 0), -SMSR_ENOTFOUND);
	assert_int_equal(stale(r), s0 + 2);
	assert_int_equal(info(r, 0).awaiting_dlr, 0);
	finish(r, &t, 1);
}

static void test_receipts_unknown_id_is_stale(void **state)
{
	struct tlog t;
	struct smsr_router *r = start(cfg_one, &t, 1);
	uint64_t s0 = stale(r);

	(void)state;
	assert_int_equal(ctl_wait(r, 0, "A", "receipt", "nosuchid 0 0"), -SMSR_ENOTFOUND);
	assert_int_equal(stale(r), s0 + 1);
	/* From outside the driver too (queued; counted once the worker ran it). */
	assert_int_equal(smsr_router_inject_dlr(r, 0, "nosuchid2", 0, 0), 0);
	for (int i = 0; i < 1000 && stale(r) < s0 + 2; i++)
		sleep_ms(1);
	assert_int_equal(stale(r), s0 + 2);
	finish(r, &t, 0);
}

static void test_receipts_after_report_timeout_are_stale(void **state)
{
	struct tlog t;
	struct smsr_router *r =
	    start("channels = ( { name = \"A\"; driver = \"rcpt\";\n"
		  "  dlr_timeout = \"1s\"; params = { tag = \"A\"; parts = 2; }; } );\n"
		  "routes = ( { groups = ( [\"A\"] ); } );\n",
		  &t, 1);
	uint64_t id = submit(r, SMSR_CLASS_NOTICE, 0), s0;

	(void)state;
	assert_true(evlog_wait_finals(&t.log, 1, 5000));
	assert_int_equal(final_of(&t.log, id).reason, -SMSR_EDLRTIMEOUT);
	s0 = stale(r);
	assert_int_equal(receipt(r, 0, "A", id, 0, 0, 0), -SMSR_ENOTFOUND);
	assert_int_equal(receipt(r, 0, "A", id, 1, 0, 0), -SMSR_ENOTFOUND);
	assert_int_equal(stale(r), s0 + 2);
	assert_int_equal(r->chans[0].dlr.live, 0);
	finish(r, &t, 1);
}

/* Counts finals only: 100 K messages' histories would be a lot to log. */
struct counts {
	_Atomic uint64_t finals, delivered;
};

static void count_cb(void *arg, const struct smsr_event *ev)
{
	struct counts *c = arg;

	if (SMSR_EV_FINAL & SMSR_EV_MASK(ev->type)) {
		atomic_fetch_add(&c->finals, 1);
		atomic_fetch_add(&c->delivered, ev->type == SMSR_EV_DELIVERED);
	}
}

static void test_receipts_index_empties_after_100k_messages(void **state)
{
	static const struct smsr_driver *const drivers[] = {&rcpt_driver};
	struct smsr_config *cfg =
	    test_config("channels = ( { name = \"A\"; driver = \"rcpt\";\n"
			"  params = { tag = \"A\"; parts = 2; auto = 1; }; } );\n"
			"routes = ( { groups = ( [\"A\"] ); } );\n");
	struct counts cn = {0};
	struct smsr_router_opts o = {.on_event = count_cb,
				     .arg = &cn,
				     .event_mask = SMSR_EV_FINAL,
				     .drivers = drivers,
				     .ndrivers = 1};
	struct smsr_router *r;
	static const char text[] = "Your parcel is on its way";
	struct smsr_msg m = {.recipient = "+8613812345678",
			     .text = text,
			     .text_len = sizeof(text) - 1,
			     .cls = SMSR_CLASS_NOTICE};
	uint64_t accepted = 0;
	struct smsr_stats st;

	(void)state;
	assert_int_equal(smsr_router_create(&r, cfg, &o), 0);
	smsr_config_destroy(cfg);
	assert_int_equal(smsr_router_start(r), 0);
	while (accepted < 100000) {
		int rc = smsr_router_submit(r, &m, NULL);

		if (rc == -SMSR_EBUSY) {
			sleep_ms(1);
			continue;
		}
		assert_int_equal(rc, 0);
		accepted++;
	}
	for (int i = 0; i < 20000 && atomic_load(&cn.finals) < accepted; i++)
		sleep_ms(1);
	assert_int_equal(atomic_load(&cn.finals), accepted);
	assert_int_equal(atomic_load(&cn.delivered), accepted);
	assert_int_equal(atomic_load(&drv("A")->auto_failed), 0);
	smsr_router_stats(r, &st);
	assert_int_equal(st.stale_reports, 0);
	/* Every part's entry is gone; the pool holds what was in flight at
	 * its peak, not what went through. */
	assert_int_equal(r->chans[0].dlr.live, 0);
	assert_int_equal(r->chans[0].dlr.count, 0);
	print_message("receipt index: %u entries allocated at the peak\n", r->chans[0].dlr.nents);
	assert_true(r->chans[0].dlr.nents <= 65536);
	smsr_router_destroy(r);
}

static void test_receipts_mo_from_driver(void **state)
{
	struct tlog t;
	struct smsr_router *r = start(cfg_one, &t, 1);

	(void)state;
	/* Only the first two bytes are the text: "TD", not NUL-terminated. */
	assert_int_equal(ctl_wait(r, 0, "A", "mo", "13812345678 2 TDxyz"), SMSR_MO_OPT_OUT);
	assert_int_equal(smsr_router_optout(r, "+8613812345678", -1), 1);
	assert_int_equal(ctl_wait(r, 0, "A", "mo", "13812345678 5 hello"), SMSR_MO_NONE);
	assert_int_equal(ctl_wait(r, 0, "A", "mo", "13812345678 5 STARTjunk"), SMSR_MO_OPT_IN);
	assert_int_equal(smsr_router_optout(r, "+8613812345678", -1), 0);
	assert_int_equal(ctl_wait(r, 0, "A", "mo", "notanumber 2 TD"), -SMSR_EBADNUMBER);
	finish(r, &t, 0);
}

static const char *cfg_pair =
    "channels = (\n"
    " { name = \"A\"; driver = \"rcpt\"; params = { tag = \"A\"; }; },\n"
    " { name = \"B\"; driver = \"rcpt\"; params = { tag = \"B\"; }; } );\n"
    "routes = ( { groups = ( [\"A\"], [\"B\"] ); } );\n";

static void test_receipts_undelivered_code_is_resent_once_elsewhere(void **state)
{
	struct tlog t;
	struct smsr_router *r = start(cfg_pair, &t, 1);
	uint64_t code = submit(r, SMSR_CLASS_VERIFICATION, 0);
	uint64_t code2 = submit(r, SMSR_CLASS_VERIFICATION, 0);
	struct evrec f;
	long q;

	(void)state;
	assert_true(wait_event(&t.log, code, SMSR_EV_SUBMITTED, 0));
	assert_true(wait_event(&t.log, code2, SMSR_EV_SUBMITTED, 0));
	assert_int_equal(receipt(r, 0, "A", code, 0, -SMSR_EUNDELIVERED, 11), 0);
	assert_int_equal(receipt(r, 0, "A", code2, 0, -SMSR_ECARRIERDELETED, 12), 0);
	/* Resent through B: the QUEUED event says why. */
	assert_true(wait_event(&t.log, code, SMSR_EV_SUBMITTED, 1));
	assert_true(wait_event(&t.log, code2, SMSR_EV_SUBMITTED, 1));
	assert_false(has_final(&t.log, code));
	pthread_mutex_lock(&t.log.lock);
	q = -1;
	for (size_t i = 0; i < t.log.n; i++)
		if (t.log.v[i].id == code && t.log.v[i].type == SMSR_EV_QUEUED &&
		    t.log.v[i].channel == 1)
			q = (long)i;
	assert_true(q >= 0);
	assert_int_equal(t.log.v[q].reason, -SMSR_EUNDELIVERED);
	assert_int_equal(t.log.v[q].op_code, 11);
	assert_int_equal(t.log.v[q].attempt, 2);
	pthread_mutex_unlock(&t.log.lock);
	/* Delivered on B; the second fails on B too: once only. */
	assert_int_equal(receipt(r, 1, "B", code, 0, 0, 0), 0);
	assert_int_equal(receipt(r, 1, "B", code2, 0, -SMSR_EUNDELIVERED, 13), 0);
	f = final_of(&t.log, code);
	assert_int_equal(f.type, SMSR_EV_DELIVERED);
	assert_int_equal(f.channel, 1);
	assert_int_equal(count_of(&t.log, code, SMSR_EV_HANDOFF, 0), 1);
	assert_int_equal(count_of(&t.log, code, SMSR_EV_HANDOFF, 1), 1);
	f = final_of(&t.log, code2);
	assert_int_equal(f.type, SMSR_EV_FAILED);
	assert_int_equal(f.reason, -SMSR_EUNDELIVERED);
	assert_int_equal(f.op_code, 13);
	assert_int_equal(f.channel, 1);
	assert_int_equal(info(r, 0).redelivered, 2);
	assert_int_equal(info(r, 1).redelivered, 0);
	/* A's receipt again: stale, the message moved on. */
	assert_int_equal(receipt(r, 0, "A", code, 0, -SMSR_EUNDELIVERED, 0), -SMSR_ENOTFOUND);
	finish(r, &t, 2);
}

static void test_receipts_resend_only_by_class_and_reason(void **state)
{
	struct tlog t;
	struct smsr_router *r = start(cfg_pair, &t, 1);
	uint64_t promo = submit(r, SMSR_CLASS_MARKETING, 0);
	uint64_t unknown = submit(r, SMSR_CLASS_VERIFICATION, 0);
	struct evrec f;

	(void)state;
	assert_true(wait_event(&t.log, promo, SMSR_EV_SUBMITTED, 0));
	assert_true(wait_event(&t.log, unknown, SMSR_EV_SUBMITTED, 0));
	assert_int_equal(receipt(r, 0, "A", promo, 0, -SMSR_EUNDELIVERED, 5), 0);
	assert_int_equal(receipt(r, 0, "A", unknown, 0, -SMSR_EDLRUNKNOWN, 6), 0);
	f = final_of(&t.log, promo);
	assert_int_equal(f.type, SMSR_EV_FAILED);
	assert_int_equal(f.reason, -SMSR_EUNDELIVERED);
	assert_int_equal(f.op_code, 5);
	f = final_of(&t.log, unknown);
	assert_int_equal(f.type, SMSR_EV_FAILED);
	assert_int_equal(f.reason, -SMSR_EDLRUNKNOWN);
	assert_int_equal(count_of(&t.log, promo, SMSR_EV_HANDOFF, -1), 1);
	assert_int_equal(count_of(&t.log, unknown, SMSR_EV_HANDOFF, -1), 1);
	assert_int_equal(info(r, 0).redelivered, 0);
	finish(r, &t, 2);
}

static void test_receipts_no_resend_past_validity(void **state)
{
	struct tlog t;
	struct smsr_router *r = start(cfg_pair, &t, 1);
	uint64_t code = submit(r, SMSR_CLASS_VERIFICATION, 1000);
	struct evrec f;

	(void)state;
	assert_true(wait_event(&t.log, code, SMSR_EV_SUBMITTED, 0));
	sleep_ms(1100);
	assert_int_equal(receipt(r, 0, "A", code, 0, -SMSR_EREJECTED, 9), 0);
	f = final_of(&t.log, code);
	assert_int_equal(f.type, SMSR_EV_FAILED);
	assert_int_equal(f.reason, -SMSR_EREJECTED);
	assert_int_equal(f.channel, 0);
	assert_int_equal(info(r, 0).redelivered, 0);
	finish(r, &t, 1);
}

static void test_receipts_no_resend_when_configured_off(void **state)
{
	struct tlog t;
	struct smsr_router *r =
	    start("router = { retry = { resend_undelivered = []; }; };\n"
		  "channels = (\n"
		  " { name = \"A\"; driver = \"rcpt\"; params = { tag = \"A\"; }; },\n"
		  " { name = \"B\"; driver = \"rcpt\"; params = { tag = \"B\"; }; } );\n"
		  "routes = ( { groups = ( [\"A\"], [\"B\"] ); } );\n",
		  &t, 1);
	uint64_t code = submit(r, SMSR_CLASS_VERIFICATION, 0);

	(void)state;
	assert_true(wait_event(&t.log, code, SMSR_EV_SUBMITTED, 0));
	assert_int_equal(receipt(r, 0, "A", code, 0, -SMSR_EUNDELIVERED, 0), 0);
	assert_int_equal(final_of(&t.log, code).type, SMSR_EV_FAILED);
	finish(r, &t, 1);
}

/*
 * The sim driver's token reports: A reports every message undelivered, B
 * delivers. Codes are resent through B (on the other worker) and
 * delivered; promotions fail on A.
 */
static void test_receipts_sim_undelivered_resent_by_class(void **state)
{
	struct tlog t;
	struct smsr_router *r = start(
	    "channels = (\n"
	    " { name = \"A\"; driver = \"sim\"; params = { latency_ms = 1; dlr_delay_ms = 2;\n"
	    "   delivery_rate = 0; }; },\n"
	    " { name = \"B\"; driver = \"sim\"; params = { latency_ms = 1; dlr_delay_ms = 2; }; } "
	    ");\n"
	    "routes = ( { groups = ( [\"A\"], [\"B\"] ); } );\n",
	    &t, 2);
	uint64_t id[40];

	(void)state;
	for (int i = 0; i < 40; i++)
		id[i] = submit(r, i % 2 ? SMSR_CLASS_MARKETING : SMSR_CLASS_VERIFICATION, 0);
	assert_true(evlog_wait_finals(&t.log, 40, 10000));
	for (int i = 0; i < 40; i++) {
		struct evrec f = final_of(&t.log, id[i]);

		if (i % 2) {
			assert_int_equal(f.type, SMSR_EV_FAILED);
			assert_int_equal(f.reason, -SMSR_EUNDELIVERED);
			assert_int_equal(f.channel, 0);
		} else {
			assert_int_equal(f.type, SMSR_EV_DELIVERED);
			assert_int_equal(f.channel, 1);
			assert_int_equal(f.attempt, 2);
			assert_int_equal(count_of(&t.log, id[i], SMSR_EV_SUBMITTED, 0), 1);
			assert_int_equal(count_of(&t.log, id[i], SMSR_EV_SUBMITTED, 1), 1);
		}
	}
	assert_int_equal(info(r, 0).redelivered, 20);
	finish(r, &t, 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_receipts_single_part_delivered_by_receipt),
	    cmocka_unit_test(test_receipts_three_parts_delivered_when_all_are),
	    cmocka_unit_test(test_receipts_one_failed_part_fails_the_message),
	    cmocka_unit_test(test_receipts_unknown_id_is_stale),
	    cmocka_unit_test(test_receipts_after_report_timeout_are_stale),
	    cmocka_unit_test(test_receipts_index_empties_after_100k_messages),
	    cmocka_unit_test(test_receipts_mo_from_driver),
	    cmocka_unit_test(test_receipts_undelivered_code_is_resent_once_elsewhere),
	    cmocka_unit_test(test_receipts_resend_only_by_class_and_reason),
	    cmocka_unit_test(test_receipts_no_resend_past_validity),
	    cmocka_unit_test(test_receipts_no_resend_when_configured_off),
	    cmocka_unit_test(test_receipts_sim_undelivered_resent_by_class),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
