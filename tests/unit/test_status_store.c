/* SPDX-License-Identifier: MIT */
/*
 * Description: smsrd's status store (tools/smsrd/status.c). A message's
 * history comes back in order with its strings, keeping the first 11
 * events and the latest; the oldest messages are evicted at capacity (slots
 * or string ring) and forgotten after the retention; client_ref queries
 * return the newest first within the limit; carrier msgids find their
 * message and follow a retry's new msgid; events of unknown messages are
 * ignored. A seeded reference model checks a small store operation by
 * operation (set SMSR_TEST_SEED to replay a printed seed), and two threads
 * record 200,000 full histories each while a third reads them: every read
 * is one message's consistent history.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../tools/smsrd/status.c"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A message being recorded: the event template of its ACCEPTED event. */
static struct smsr_event accepted(uint64_t id, uint64_t acc_ns, const char *ref, const char *tags)
{
	return (struct smsr_event){.id = id,
				   .ts_ns = acc_ns,
				   .accepted_ns = acc_ns,
				   .type = SMSR_EV_ACCEPTED,
				   .cls = SMSR_CLASS_NOTICE,
				   .carrier = SMSR_CARRIER_CMCC,
				   .channel = -1,
				   .client_ref = ref,
				   .tags = tags,
				   .recipient = "+8613812345678"};
}

static void rec(struct status_store *s, struct smsr_event ev, uint8_t type, uint64_t ts_ns,
		uint8_t attempt, int32_t channel, const char *cm, int32_t reason, int32_t op)
{
	ev.type = type;
	ev.ts_ns = ts_ns;
	ev.attempt = attempt;
	ev.channel = channel;
	ev.carrier_msgid = cm;
	ev.reason = reason;
	ev.op_code = op;
	status_store_record(s, &ev);
}

static void test_status_history_in_order_with_strings(void **state)
{
	struct status_store *s;
	static struct status_msg m;
	uint64_t t0 = 1000000000ull;
	struct smsr_event ev = accepted(42, t0, "order-7", "campaign=x,team=y");
	/* 3 hours: past the nanosecond range, reported to the microsecond */
	uint64_t late = t0 + 3 * 3600 * 1000000000ull + 123456789;

	ev.segments = 2;
	assert_int_equal(status_store_create(&s, 1000, 0), 0);
	status_store_record(s, &ev);
	rec(s, ev, SMSR_EV_QUEUED, t0 + 10, 1, 3, NULL, 0, 0);
	rec(s, ev, SMSR_EV_HANDOFF, t0 + 20, 1, 3, NULL, 0, 0);
	rec(s, ev, SMSR_EV_SUBMITTED, t0 + 30, 1, 3, "cm-0001", 0, 0);
	assert_int_equal(status_store_get(s, 42, &m), 0);
	assert_int_equal(m.nhist, 4);
	assert_false(m.final);
	rec(s, ev, SMSR_EV_FAILED, late, 1, 3, "cm-0001", -SMSR_EUNDELIVERED, 17);

	assert_int_equal(status_store_get(s, 42, &m), 0);
	assert_int_equal(m.id, 42);
	assert_int_equal(m.accepted_ns, t0);
	assert_int_equal(m.cls, SMSR_CLASS_NOTICE);
	assert_int_equal(m.carrier, SMSR_CARRIER_CMCC);
	assert_int_equal(m.segments, 2);
	assert_string_equal(m.recipient, "+8613812345678");
	assert_string_equal(m.client_ref, "order-7");
	assert_string_equal(m.tags, "campaign=x,team=y");
	assert_string_equal(m.carrier_msgid, "cm-0001");
	assert_true(m.final);
	assert_int_equal(m.nhist, 5);
	static const uint8_t types[] = {SMSR_EV_ACCEPTED, SMSR_EV_QUEUED, SMSR_EV_HANDOFF,
					SMSR_EV_SUBMITTED, SMSR_EV_FAILED};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(m.hist[i].type, types[i]);
		assert_int_equal(m.hist[i].channel, i == 0 ? -1 : 3);
		assert_int_equal(m.hist[i].reason, i == 4 ? -SMSR_EUNDELIVERED : 0);
		assert_int_equal(m.hist[i].op_code, i == 4 ? 17 : 0);
		if (i < 4)
			assert_int_equal(m.hist[i].ts_ns, t0 + 10 * (uint64_t)i);
	}
	assert_int_equal(m.hist[4].ts_ns, late / 1000 * 1000);
	assert_int_equal(status_store_get(s, 43, &m), -SMSR_ENOTFOUND);
	status_store_destroy(s);
}

static void test_status_history_keeps_first_eleven_and_latest(void **state)
{
	struct status_store *s;
	static struct status_msg m;
	struct smsr_event ev = accepted(7, 5000, NULL, NULL);

	assert_int_equal(status_store_create(&s, 10, 0), 0);
	status_store_record(s, &ev);
	/* 9 attempts of queued + handoff: 18 events, then the final one */
	for (int a = 1; a <= 9; a++) {
		rec(s, ev, SMSR_EV_QUEUED, 5000 + 100 * (uint64_t)a, (uint8_t)a, a, NULL, 0, 0);
		rec(s, ev, SMSR_EV_HANDOFF, 5000 + 100 * (uint64_t)a + 1, (uint8_t)a, a, NULL, 0,
		    0);
	}
	rec(s, ev, SMSR_EV_EXPIRED, 99999, 9, 9, NULL, -SMSR_EEXPIRED, 0);
	assert_int_equal(status_store_get(s, 7, &m), 0);
	assert_int_equal(m.nhist, STATUS_HIST_MAX);
	assert_int_equal(m.hist[0].type, SMSR_EV_ACCEPTED);
	for (int i = 1; i < 11; i++) {
		int a = (i + 1) / 2;

		assert_int_equal(m.hist[i].type, i % 2 ? SMSR_EV_QUEUED : SMSR_EV_HANDOFF);
		assert_int_equal(m.hist[i].attempt, a);
		assert_int_equal(m.hist[i].channel, a);
	}
	assert_int_equal(m.hist[11].type, SMSR_EV_EXPIRED);
	assert_int_equal(m.hist[11].ts_ns, 99999);
	assert_int_equal(m.hist[11].reason, -SMSR_EEXPIRED);
	assert_true(m.final);
	assert_string_equal(m.client_ref, "");
	assert_string_equal(m.tags, "");
	assert_string_equal(m.carrier_msgid, "");
	status_store_destroy(s);
}

static void test_status_evicts_oldest_at_capacity(void **state)
{
	struct status_store *s;
	struct status_store_stats st;
	static struct status_msg m;
	char cm[16];

	assert_int_equal(status_store_create(&s, 100, 0), 0);
	status_store_stats(s, &st);
	assert_int_equal(st.capacity, 100);
	for (uint64_t id = 1; id <= 150; id++) {
		struct smsr_event ev = accepted(id, id * 10, "r", NULL);

		status_store_record(s, &ev);
		snprintf(cm, sizeof(cm), "m%u", (unsigned)id);
		rec(s, ev, SMSR_EV_SUBMITTED, id * 10 + 1, 1, 0, cm, 0, 0);
	}
	for (uint64_t id = 1; id <= 150; id++) {
		uint64_t got = 0;

		snprintf(cm, sizeof(cm), "m%u", (unsigned)id);
		if (id <= 50) {
			assert_int_equal(status_store_get(s, id, &m), -SMSR_ENOTFOUND);
			assert_int_equal(status_store_by_carrier_msgid(s, 0, cm, &got),
					 -SMSR_ENOTFOUND);
		} else {
			assert_int_equal(status_store_get(s, id, &m), 0);
			assert_int_equal(m.nhist, 2);
			assert_int_equal(status_store_by_carrier_msgid(s, 0, cm, &got), 0);
			assert_int_equal(got, id);
		}
	}
	/* A late event of an evicted message is ignored. */
	rec(s, accepted(3, 30, NULL, NULL), SMSR_EV_DELIVERED, 99, 1, 0, NULL, 0, 0);
	status_store_stats(s, &st);
	assert_int_equal(st.stored, 150);
	assert_int_equal(st.evicted, 50);
	assert_int_equal(st.ignored, 1);
	status_store_destroy(s);
}

/*
 * The tag returned for an accepted message leads its later events straight
 * to it; a wrong tag falls back to the index; a stale one (the message
 * evicted, its slot reused) is neither applied to the newcomer nor lost.
 */
static void test_status_tags_lead_to_the_slot(void **state)
{
	struct status_store *s;
	struct status_store_stats st;
	static struct status_msg m;
	struct smsr_event ev = accepted(7, 70, NULL, NULL), other;
	uint64_t tag, tags[200];

	(void)state;
	assert_int_equal(status_store_create(&s, 100, 0), 0);
	tag = status_store_record(s, &ev);
	assert_true(tag != 0);
	ev.tag = tag;
	rec(s, ev, SMSR_EV_QUEUED, 71, 1, 0, NULL, 0, 0);
	ev.tag = tag ^ 5; /* wrong: found through the index all the same */
	rec(s, ev, SMSR_EV_SUBMITTED, 72, 1, 0, "cm-7", 0, 0);
	assert_int_equal(status_store_get(s, 7, &m), 0);
	assert_int_equal(m.nhist, 3);
	/* Fill the store until 7 is evicted; its slot now holds another id. */
	for (uint64_t id = 100; id < 300; id++) {
		other = accepted(id, id * 10, NULL, NULL);
		tags[id - 100] = status_store_record(s, &other);
	}
	ev.tag = tag;
	rec(s, ev, SMSR_EV_DELIVERED, 99, 1, 0, NULL, 0, 0);
	assert_int_equal(status_store_get(s, 7, &m), -SMSR_ENOTFOUND);
	status_store_stats(s, &st);
	assert_int_equal(st.ignored, 1);
	for (uint64_t id = 200; id < 300; id++) {
		assert_int_equal(status_store_get(s, id, &m), 0);
		assert_int_equal(m.nhist, 1);
	}
	/* And a newcomer's own tag still works. */
	other = accepted(299, 2990, NULL, NULL);
	other.tag = tags[199];
	rec(s, other, SMSR_EV_QUEUED, 2991, 1, 0, NULL, 0, 0);
	assert_int_equal(status_store_get(s, 299, &m), 0);
	assert_int_equal(m.nhist, 2);
	status_store_destroy(s);
}

static void test_status_long_strings_evict_by_ring_space(void **state)
{
	struct status_store *s;
	struct status_store_stats st;
	static struct status_msg m;
	char ref[SMSR_REF_MAX + 1], tags[SMSR_TAGS_MAX + 1];
	uint64_t first = 0;

	assert_int_equal(status_store_create(&s, 100, 0), 0);
	for (uint64_t id = 1; id <= 300; id++) {
		struct smsr_event ev;

		memset(ref, 'a' + (int)(id % 26), SMSR_REF_MAX);
		snprintf(ref, 8, "%06u", (unsigned)id);
		ref[6] = '-';
		ref[SMSR_REF_MAX] = '\0';
		memset(tags, 'k', SMSR_TAGS_MAX);
		tags[SMSR_TAGS_MAX] = '\0';
		ev = accepted(id, id, id % 3 ? ref : NULL, tags);
		status_store_record(s, &ev);
	}
	status_store_stats(s, &st);
	/* Full-length strings need 192 B of a 112 B/message ring. */
	assert_int_equal(st.stored, 300);
	assert_true(st.evicted > 200);
	for (uint64_t id = 1; id <= 300; id++) {
		if (status_store_get(s, id, &m) < 0) {
			assert_int_equal(first, 0); /* the survivors are the newest, contiguous */
			continue;
		}
		if (!first)
			first = id;
		assert_int_equal(strlen(m.tags), SMSR_TAGS_MAX);
		assert_int_equal(strspn(m.tags, "k"), SMSR_TAGS_MAX);
		if (id % 3) {
			assert_int_equal(strlen(m.client_ref), SMSR_REF_MAX);
			assert_int_equal(strtoul(m.client_ref, NULL, 10), id);
			assert_int_equal(m.client_ref[SMSR_REF_MAX - 1], 'a' + (int)(id % 26));
		} else {
			assert_string_equal(m.client_ref, "");
		}
	}
	assert_int_equal(300 - first + 1, 300 - st.evicted);
	status_store_destroy(s);
}

static void test_status_forgets_after_retention(void **state)
{
	struct status_store *s;
	struct status_store_stats st;
	static struct status_msg m;
	uint64_t now = mono_ns(), sec = 1000000000ull, got;
	struct smsr_event ev;

	if (now < 200 * sec)
		skip(); /* the monotonic clock is too young to go back 2 minutes */
	assert_int_equal(status_store_create(&s, 100, 60 * sec), 0);
	for (uint64_t id = 1; id <= 5; id++) {
		ev = accepted(id, now - 120 * sec, "old", NULL);
		status_store_record(s, &ev);
		rec(s, ev, SMSR_EV_SUBMITTED, now - 119 * sec, 1, 2, "x1", 0, 0);
	}
	/* Too old to answer, though still in the store. */
	assert_int_equal(status_store_get(s, 1, &m), -SMSR_ENOTFOUND);
	assert_int_equal(status_store_by_ref(s, "old", &m, 1), 0);
	assert_int_equal(status_store_by_carrier_msgid(s, 2, "x1", &got), -SMSR_ENOTFOUND);
	/* A new message makes its shard drop them. */
	ev = accepted(6, now, "new", NULL);
	status_store_record(s, &ev);
	assert_int_equal(status_store_get(s, 6, &m), 0);
	assert_int_equal(status_store_by_ref(s, "new", &m, 1), 1);
	status_store_stats(s, &st);
	assert_int_equal(st.forgotten, 5);
	assert_int_equal(st.evicted, 0);
	status_store_destroy(s);
}

static void test_status_by_ref_newest_first_within_limit(void **state)
{
	struct status_store *s;
	static struct status_msg out[STATUS_BY_REF_MAX];
	int n;

	assert_int_equal(status_store_create(&s, 200000, 0), 0);
	for (uint64_t id = 1000; id < 1600; id++) {
		struct smsr_event ev = accepted(id, id, id % 2 ? "odd" : "even", "t");

		status_store_record(s, &ev);
		if (id % 5 == 0)
			rec(s, ev, SMSR_EV_QUEUED, id + 1, 1, 0, NULL, 0, 0);
	}
	n = status_store_by_ref(s, "odd", out, 10);
	assert_int_equal(n, 10);
	for (int i = 0; i < n; i++) {
		assert_int_equal(out[i].id, 1599 - 2 * (uint64_t)i);
		assert_string_equal(out[i].client_ref, "odd");
		assert_string_equal(out[i].tags, "t");
		assert_int_equal(out[i].nhist, out[i].id % 5 == 0 ? 2 : 1);
	}
	n = status_store_by_ref(s, "even", out, 1000);
	assert_int_equal(n, STATUS_BY_REF_MAX);
	for (int i = 0; i < n; i++)
		assert_int_equal(out[i].id, 1598 - 2 * (uint64_t)i);
	assert_int_equal(status_store_by_ref(s, "od", out, 10), 0);
	assert_int_equal(status_store_by_ref(s, "", out, 10), 0);
	assert_int_equal(status_store_by_ref(s, NULL, out, 10), 0);
	assert_int_equal(status_store_by_ref(s, "odd", out, 0), 0);
	status_store_destroy(s);
}

static void test_status_carrier_msgid_finds_message_per_channel(void **state)
{
	struct status_store *s;
	uint64_t id = 0;
	struct smsr_event a = accepted(100, 1, NULL, NULL), b = accepted(200, 2, NULL, NULL);

	assert_int_equal(status_store_create(&s, 5000, 0), 0);
	status_store_record(s, &a);
	status_store_record(s, &b);
	rec(s, a, SMSR_EV_SUBMITTED, 10, 1, 1, "same-id", 0, 0);
	rec(s, b, SMSR_EV_SUBMITTED, 10, 1, 2, "same-id", 0, 0);
	assert_int_equal(status_store_by_carrier_msgid(s, 1, "same-id", &id), 0);
	assert_int_equal(id, 100);
	assert_int_equal(status_store_by_carrier_msgid(s, 2, "same-id", &id), 0);
	assert_int_equal(id, 200);
	assert_int_equal(status_store_by_carrier_msgid(s, 3, "same-id", &id), -SMSR_ENOTFOUND);
	assert_int_equal(status_store_by_carrier_msgid(s, 1, "other", &id), -SMSR_ENOTFOUND);
	assert_int_equal(status_store_by_carrier_msgid(s, 1, "", &id), -SMSR_ENOTFOUND);
	/* A retry on another channel gets a new msgid: the old one is gone. */
	rec(s, a, SMSR_EV_QUEUED, 20, 2, 4, NULL, 0, 0);
	rec(s, a, SMSR_EV_SUBMITTED, 30, 2, 4, "retry-id", 0, 0);
	assert_int_equal(status_store_by_carrier_msgid(s, 1, "same-id", &id), -SMSR_ENOTFOUND);
	assert_int_equal(status_store_by_carrier_msgid(s, 4, "retry-id", &id), 0);
	assert_int_equal(id, 100);
	/* The delivered event repeats it: still one entry, still found. */
	rec(s, a, SMSR_EV_DELIVERED, 40, 2, 4, "retry-id", 0, 0);
	assert_int_equal(status_store_by_carrier_msgid(s, 4, "retry-id", &id), 0);
	assert_int_equal(id, 100);
	status_store_destroy(s);
}

/*
 * The msgid log is reused in a circle: a message that keeps its msgid
 * while many others get (and change) theirs must stay findable, and an
 * overwritten entry must not resurrect a msgid its message gave up.
 */
static void test_status_carrier_msgid_survives_log_reuse(void **state)
{
	struct status_store *s;
	struct smsr_event keep = accepted(1, 1, NULL, NULL), gone = accepted(2, 2, NULL, NULL);
	uint64_t id = 0;
	char cm[24];

	(void)state;
	assert_int_equal(status_store_create(&s, 100, 0), 0); /* a log of 256 entries */
	status_store_record(s, &keep);
	status_store_record(s, &gone);
	rec(s, keep, SMSR_EV_SUBMITTED, 10, 1, 1, "keep-me", 0, 0);
	rec(s, gone, SMSR_EV_SUBMITTED, 10, 1, 1, "old-msgid", 0, 0);
	rec(s, gone, SMSR_EV_SUBMITTED, 20, 2, 1, "new-msgid", 0, 0);
	/* 90 more messages, 20 msgids each: the log goes round seven times. */
	for (uint64_t m = 10; m < 100; m++) {
		struct smsr_event ev = accepted(m, m, NULL, NULL);

		status_store_record(s, &ev);
		for (int k = 0; k < 20; k++) {
			snprintf(cm, sizeof(cm), "m%u-%d", (unsigned)m, k);
			rec(s, ev, SMSR_EV_SUBMITTED, m + (uint64_t)k, 1, 1, cm, 0, 0);
		}
	}
	assert_int_equal(status_store_by_carrier_msgid(s, 1, "keep-me", &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(status_store_by_carrier_msgid(s, 1, "new-msgid", &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(status_store_by_carrier_msgid(s, 1, "old-msgid", &id), -SMSR_ENOTFOUND);
	for (uint64_t m = 10; m < 100; m++) {
		snprintf(cm, sizeof(cm), "m%u-19", (unsigned)m);
		assert_int_equal(status_store_by_carrier_msgid(s, 1, cm, &id), 0);
		assert_int_equal(id, m);
		snprintf(cm, sizeof(cm), "m%u-18", (unsigned)m);
		assert_int_equal(status_store_by_carrier_msgid(s, 1, cm, &id), -SMSR_ENOTFOUND);
	}
	status_store_destroy(s);
}

static void test_status_ignores_unknown_ids_and_rejections(void **state)
{
	struct status_store *s;
	struct status_store_stats st;
	static struct status_msg m;
	struct smsr_event ev = accepted(555, 1, "r", NULL);

	assert_int_equal(status_store_create(&s, 100, 0), 0);
	rec(s, ev, SMSR_EV_QUEUED, 2, 1, 0, NULL, 0, 0);
	rec(s, ev, SMSR_EV_DELIVERED, 3, 1, 0, "c", 0, 0);
	rec(s, ev, SMSR_EV_REJECTED, 3, 0, -1, NULL, -SMSR_ENOROUTE, 0);
	ev.id = 0;
	rec(s, ev, SMSR_EV_REJECTED, 3, 0, -1, NULL, -SMSR_EBADNUMBER, 0);
	assert_int_equal(status_store_get(s, 555, &m), -SMSR_ENOTFOUND);
	assert_int_equal(status_store_by_ref(s, "r", &m, 1), 0);
	status_store_stats(s, &st);
	assert_int_equal(st.stored, 0);
	assert_int_equal(st.ignored, 2);
	status_store_destroy(s);
}

static void test_status_create_rejects_absurd_sizes(void **state)
{
	struct status_store *s = NULL;
	struct status_store_stats st;

	assert_int_equal(status_store_create(&s, (size_t)1 << 30, 0), -SMSR_EINVAL);
	assert_null(s);
	assert_int_equal(status_store_create(&s, 0, 0), 0);
	status_store_stats(s, &st);
	assert_int_equal(st.capacity, STATUS_DEFAULT_MAX);
	/* The figure status.h states: 348 B a message at the default size. */
	assert_true(st.bytes / st.capacity == 348);
	status_store_destroy(s);
	status_store_destroy(NULL);
}

/* --- the reference model ------------------------------------------------- */

#define MODEL_CAP 64

struct model_msg {
	uint64_t id, acc;
	int ref, nev, chan;
	bool final;
	char cm[16];
	struct status_ev ev[STATUS_HIST_MAX];
};

static const char *model_refs[] = {"alpha", "beta", "gamma", "delta"};

static unsigned test_seed(void)
{
	const char *env = getenv("SMSR_TEST_SEED");

	return env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
}

static uint64_t xs(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

static void model_check_msg(const struct model_msg *mm, const struct status_msg *m, unsigned seed)
{
	if (m->id != mm->id || m->nhist != mm->nev || m->final != mm->final ||
	    strcmp(m->client_ref, mm->ref >= 0 ? model_refs[mm->ref] : "") ||
	    strcmp(m->carrier_msgid, mm->cm))
		fail_msg("seed %u: message %llu differs from the model", seed,
			 (unsigned long long)mm->id);
	for (int i = 0; i < mm->nev; i++) {
		const struct status_ev *a = &m->hist[i], *b = &mm->ev[i];

		if (a->ts_ns != b->ts_ns || a->type != b->type || a->attempt != b->attempt ||
		    a->channel != b->channel || a->reason != b->reason || a->op_code != b->op_code)
			fail_msg("seed %u: message %llu event %d differs", seed,
				 (unsigned long long)mm->id, i);
	}
}

static void model_event(struct status_store *s, struct model_msg *mm, uint64_t *rng)
{
	struct smsr_event ev = accepted(mm->id, mm->acc, NULL, NULL);
	struct status_ev e = {.ts_ns = mm->acc + 1000 * (uint64_t)mm->nev + xs(rng) % 900,
			      .attempt = (uint8_t)(1 + mm->nev / 3),
			      .channel = (int16_t)(xs(rng) % 5)};
	int r = (int)(xs(rng) % 10);
	const char *cm = NULL;
	char buf[16];

	e.type = r < 4	 ? SMSR_EV_QUEUED
		 : r < 7 ? SMSR_EV_HANDOFF
		 : r < 9 ? SMSR_EV_SUBMITTED
			 : SMSR_EV_FAILED;
	if (e.type == SMSR_EV_SUBMITTED) {
		snprintf(buf, sizeof(buf), "c%llu-%d", (unsigned long long)mm->id, mm->nev);
		cm = buf;
	}
	if (e.type == SMSR_EV_FAILED) {
		e.reason = -SMSR_EREJECTED;
		e.op_code = 99;
	}
	rec(s, ev, e.type, e.ts_ns, e.attempt, e.channel, cm, e.reason, e.op_code);
	if (cm) {
		memcpy(mm->cm, buf, sizeof(buf));
		mm->chan = e.channel;
	}
	mm->ev[mm->nev < STATUS_HIST_MAX ? mm->nev++ : STATUS_HIST_MAX - 1] = e;
	mm->final = e.type == SMSR_EV_FAILED;
}

static void test_status_matches_reference_model(void **state)
{
	static struct model_msg ms[4096];
	static struct status_msg out[MODEL_CAP];
	struct status_store *s;
	unsigned seed = test_seed();
	uint64_t rng = seed * 2654435761ull + 1, got;
	int n = 0;

	printf("test_status_matches_reference_model: SMSR_TEST_SEED=%u\n", seed);
	assert_int_equal(status_store_create(&s, MODEL_CAP, 0), 0);
	for (int op = 0; op < 40000; op++) {
		int r = (int)(xs(&rng) % 100), live = n < MODEL_CAP ? n : MODEL_CAP;
		struct model_msg *mm;

		if ((r < 15 || n == 0) && n < (int)(sizeof(ms) / sizeof(ms[0]))) {
			mm = &ms[n];
			*mm = (struct model_msg){.id = 1000 + (uint64_t)n * 7 + xs(&rng) % 7,
						 .acc = (uint64_t)n * 1000000,
						 .ref = (int)(xs(&rng) % 5) - 1};
			struct smsr_event ev = accepted(
			    mm->id, mm->acc, mm->ref >= 0 ? model_refs[mm->ref] : NULL, NULL);
			status_store_record(s, &ev);
			mm->ev[0] = (struct status_ev){.ts_ns = mm->acc, .channel = -1};
			mm->nev = 1;
			n++;
		} else if (r < 70) {
			mm = &ms[n - 1 - (int)(xs(&rng) % (uint64_t)live)];
			if (!mm->final)
				model_event(s, mm, &rng);
		} else if (r < 90) {
			int i = (int)(xs(&rng) % (uint64_t)n);

			if (i < n - MODEL_CAP) {
				if (status_store_get(s, ms[i].id, out) != -SMSR_ENOTFOUND)
					fail_msg("seed %u: evicted %llu found", seed,
						 (unsigned long long)ms[i].id);
			} else {
				assert_int_equal(status_store_get(s, ms[i].id, out), 0);
				model_check_msg(&ms[i], out, seed);
				if (ms[i].cm[0]) {
					assert_int_equal(status_store_by_carrier_msgid(
							     s, ms[i].chan, ms[i].cm, &got),
							 0);
					assert_int_equal(got, ms[i].id);
				}
			}
		} else {
			int ref = (int)(xs(&rng) % 4), max = 1 + (int)(xs(&rng) % 8), k = 0;
			int got_n = status_store_by_ref(s, model_refs[ref], out, max);

			for (int i = n - 1; i >= n - live && k < max; i--) {
				if (ms[i].ref != ref)
					continue;
				if (k >= got_n)
					fail_msg("seed %u: by_ref %s found %d, more expected", seed,
						 model_refs[ref], got_n);
				model_check_msg(&ms[i], &out[k++], seed);
			}
			assert_int_equal(got_n, k);
		}
	}
	status_store_destroy(s);
}

/* --- concurrency ----------------------------------------------------------- */

#define CONC_MSGS  200000
#define CONC_STEPS 5

struct conc {
	struct status_store *s;
	uint64_t t0;
	_Atomic uint64_t progress[2];
	_Atomic int done;
	_Atomic uint64_t bad, found, missing, ref_queries;
};

static uint64_t conc_id(int t, uint64_t i)
{
	return 1 + 2 * i + (uint64_t)t;
}

static uint64_t conc_acc(const struct conc *c, uint64_t id)
{
	return c->t0 + id * 1000;
}

static const uint8_t conc_types[CONC_STEPS] = {SMSR_EV_ACCEPTED, SMSR_EV_QUEUED, SMSR_EV_HANDOFF,
					       SMSR_EV_SUBMITTED, SMSR_EV_DELIVERED};

struct writer {
	struct conc *c;
	int t;
};

static void *conc_write(void *arg)
{
	struct writer *w = arg;
	struct conc *c = w->c;
	char ref[16], rcpt[20], cm[24];

	/* Five messages in flight at once, each one event further along. */
	for (uint64_t j = 0; j < CONC_MSGS + CONC_STEPS - 1; j++) {
		for (uint64_t k = 0; k < CONC_STEPS; k++) {
			uint64_t i = j - k, id = conc_id(w->t, i);
			struct smsr_event ev;

			if (k > j || i >= CONC_MSGS)
				continue;
			snprintf(ref, sizeof(ref), "ref-%u", (unsigned)(id % 16));
			snprintf(rcpt, sizeof(rcpt), "+86138%08u", (unsigned)(id % 100000000));
			snprintf(cm, sizeof(cm), "cm-%llu", (unsigned long long)id);
			ev = accepted(id, conc_acc(c, id), ref, "t=1");
			ev.recipient = rcpt;
			rec(c->s, ev, conc_types[k], conc_acc(c, id) + 10 * k, 1, k ? w->t : -1,
			    k >= 3 ? cm : NULL, 0, k == 4 ? 7 : 0);
		}
		atomic_store_explicit(&c->progress[w->t], j, memory_order_release);
	}
	return NULL;
}

/* Is @m the consistent history of message @id? */
static bool conc_consistent(const struct conc *c, uint64_t id, const struct status_msg *m)
{
	char want[24];
	int t = (int)((id - 1) & 1);

	if (m->id != id || m->accepted_ns != conc_acc(c, id) || m->nhist < 1 ||
	    m->nhist > CONC_STEPS || m->final != (m->nhist == CONC_STEPS))
		return false;
	snprintf(want, sizeof(want), "+86138%08u", (unsigned)(id % 100000000));
	if (strcmp(m->recipient, want) || strcmp(m->tags, "t=1"))
		return false;
	snprintf(want, sizeof(want), "ref-%u", (unsigned)(id % 16));
	if (strcmp(m->client_ref, want))
		return false;
	snprintf(want, sizeof(want), "cm-%llu", (unsigned long long)id);
	if (strcmp(m->carrier_msgid, m->nhist >= 4 ? want : ""))
		return false;
	for (int k = 0; k < m->nhist; k++) {
		const struct status_ev *e = &m->hist[k];

		if (e->type != conc_types[k] || e->ts_ns != conc_acc(c, id) + 10 * (uint64_t)k ||
		    e->channel != (k ? t : -1) || e->op_code != (k == 4 ? 7 : 0) || e->reason)
			return false;
	}
	return true;
}

static void *conc_read(void *arg)
{
	struct conc *c = arg;
	static struct status_msg m, out[10];
	uint64_t rng = 88172645463325252ull, q = 0;

	while (!atomic_load(&c->done)) {
		int t = (int)(xs(&rng) & 1);
		uint64_t p = atomic_load_explicit(&c->progress[t], memory_order_acquire);
		/* mostly the messages being written now, some older (evicted) */
		uint64_t back = xs(&rng) % (q % 4 ? 16 : 300000), i = p > back ? p - back : 0;
		uint64_t id = conc_id(t, i < CONC_MSGS ? i : CONC_MSGS - 1);

		if (status_store_get(c->s, id, &m) == 0) {
			atomic_fetch_add(&c->found, 1);
			if (!conc_consistent(c, id, &m))
				atomic_fetch_add(&c->bad, 1);
		} else {
			atomic_fetch_add(&c->missing, 1);
		}
		if (++q % 512 == 0) {
			char ref[16];
			int n;

			snprintf(ref, sizeof(ref), "ref-%u", (unsigned)(xs(&rng) % 16));
			n = status_store_by_ref(c->s, ref, out, 10);
			for (int k = 0; k < n; k++)
				if (!conc_consistent(c, out[k].id, &out[k]) ||
				    strcmp(out[k].client_ref, ref) ||
				    (k && out[k].id >= out[k - 1].id))
					atomic_fetch_add(&c->bad, 1);
			atomic_fetch_add(&c->ref_queries, 1);
		}
	}
	return NULL;
}

static void test_status_concurrent_record_and_read_are_consistent(void **state)
{
	static struct conc c;
	static struct status_msg m;
	struct writer w[2] = {{&c, 0}, {&c, 1}};
	struct status_store_stats st;
	pthread_t wt[2], rt;

	c = (struct conc){.t0 = 1000000};
	assert_int_equal(status_store_create(&c.s, 0, 0), 0);
	assert_int_equal(pthread_create(&rt, NULL, conc_read, &c), 0);
	for (int t = 0; t < 2; t++)
		assert_int_equal(pthread_create(&wt[t], NULL, conc_write, &w[t]), 0);
	for (int t = 0; t < 2; t++)
		pthread_join(wt[t], NULL);
	atomic_store(&c.done, 1);
	pthread_join(rt, NULL);

	printf("concurrent: %llu found, %llu missing, %llu by_ref, %llu inconsistent\n",
	       (unsigned long long)c.found, (unsigned long long)c.missing,
	       (unsigned long long)c.ref_queries, (unsigned long long)c.bad);
	assert_int_equal(atomic_load(&c.bad), 0);
	assert_true(atomic_load(&c.found) > 0);
	status_store_stats(c.s, &st);
	assert_int_equal(st.stored, 2 * CONC_MSGS);
	assert_int_equal(st.ignored, 0);
	assert_int_equal(st.evicted, 2 * CONC_MSGS - st.capacity);
	/* The newest 40,000 are all there, complete. */
	for (uint64_t id = conc_id(1, CONC_MSGS - 1); id > conc_id(1, CONC_MSGS - 1) - 40000;
	     id--) {
		assert_int_equal(status_store_get(c.s, id, &m), 0);
		assert_true(conc_consistent(&c, id, &m));
		assert_int_equal(m.nhist, CONC_STEPS);
	}
	status_store_destroy(c.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_history_in_order_with_strings),
	    cmocka_unit_test(test_status_history_keeps_first_eleven_and_latest),
	    cmocka_unit_test(test_status_evicts_oldest_at_capacity),
	    cmocka_unit_test(test_status_tags_lead_to_the_slot),
	    cmocka_unit_test(test_status_long_strings_evict_by_ring_space),
	    cmocka_unit_test(test_status_forgets_after_retention),
	    cmocka_unit_test(test_status_by_ref_newest_first_within_limit),
	    cmocka_unit_test(test_status_carrier_msgid_finds_message_per_channel),
	    cmocka_unit_test(test_status_carrier_msgid_survives_log_reuse),
	    cmocka_unit_test(test_status_ignores_unknown_ids_and_rejections),
	    cmocka_unit_test(test_status_create_rejects_absurd_sizes),
	    cmocka_unit_test(test_status_matches_reference_model),
	    cmocka_unit_test(test_status_concurrent_record_and_read_are_consistent),
	};

	return cmocka_run_group_tests_name("status_store", tests, NULL, NULL);
}
