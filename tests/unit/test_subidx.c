/* SPDX-License-Identifier: MIT */
/*
 * Description: smsrd's subscription index (tools/smsrd/subidx.c). An event
 * reaches every subscription whose filter matches it, once, and looks at
 * no subscription whose key part (prefix, channel, class, type) cannot
 * match: 8,000 non-matching filters cost an event no visit. Channel filters
 * work on any channel index below the bound (not only 0-63); bad filters
 * are refused without changing the index. A seeded reference model (set
 * SMSR_TEST_SEED to replay a printed seed) adds and removes random filters
 * of every kind and checks each random event's matches against a plain
 * scan of all filters, and the union of types after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../tools/smsrd/subidx.c"

#define NCHAN 1024

static void count_cb(void *arg, struct subidx_filter *f)
{
	(void)f;
	++*(unsigned *)arg;
}

static struct smsr_event event(int type, int cls, int chan, const char *ref)
{
	return (struct smsr_event){.id = 1,
				   .type = (uint8_t)type,
				   .cls = (uint8_t)cls,
				   .channel = chan,
				   .client_ref = ref};
}

static void filter_init(struct subidx_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->types = SMSR_EV_ALL;
	f->classes = ~0u;
	f->owner = f;
}

/* 8,000 filters that never match the traffic, 4 that do: visits = matches. */
static void test_subidx_non_matching_filters_cost_nothing(void **state)
{
	static struct subidx_filter f[8004];
	static uint16_t chan_idle[1] = {900};
	struct subidx x;
	size_t visits = 0;
	unsigned hits = 0;

	(void)state;
	assert_int_equal(subidx_init(&x, NCHAN), 0);
	for (int i = 0; i < 8000; i++) {
		filter_init(&f[i]);
		switch (i % 4) {
		case 0: /* a prefix nobody uses */
			snprintf(f[i].ref, sizeof(f[i].ref), "zz-%d", i);
			break;
		case 1: /* an idle channel */
			f[i].chans = chan_idle;
			f[i].nchans = 1;
			break;
		case 2: /* another class */
			f[i].classes = 1u << SMSR_CLASS_MARKETING;
			break;
		default: /* channel events only */
			f[i].types = SMSR_EV_MASK(SMSR_EV_CHANNEL);
			break;
		}
		assert_int_equal(subidx_add(&x, &f[i]), 0);
	}
	filter_init(&f[8000]); /* everything */
	filter_init(&f[8001]);
	snprintf(f[8001].ref, sizeof(f[8001].ref), "m-");
	filter_init(&f[8002]);
	f[8002].classes = 1u << SMSR_CLASS_NOTICE;
	filter_init(&f[8003]);
	f[8003].types = SMSR_EV_FINAL;
	for (int i = 8000; i < 8004; i++)
		assert_int_equal(subidx_add(&x, &f[i]), 0);
	for (int k = 0; k < 1000; k++) {
		char ref[32];
		struct smsr_event ev;

		snprintf(ref, sizeof(ref), "m-%d", k);
		ev = event(k % 2 ? SMSR_EV_DELIVERED : SMSR_EV_QUEUED, SMSR_CLASS_NOTICE, k % 3,
			   ref);
		visits += subidx_match(&x, &ev, count_cb, &hits);
	}
	print_message("1,000 events over 8,004 filters: %zu visits, %u matches\n", visits, hits);
	assert_int_equal(hits, 1000 * 3 + 500);
	assert_int_equal(visits, hits);
	for (int i = 0; i < 8004; i++)
		subidx_del(&x, &f[i]);
	assert_int_equal(x.n, 0);
	assert_int_equal(x.npfx, 0);
	assert_int_equal(subidx_types(&x), 0);
	subidx_fini(&x);
}

static void test_subidx_channels_beyond_64(void **state)
{
	uint16_t chans[3] = {3, 64, 1023};
	struct subidx_filter f;
	struct subidx x;
	unsigned hits = 0;
	struct smsr_event ev;

	(void)state;
	assert_int_equal(subidx_init(&x, NCHAN), 0);
	filter_init(&f);
	f.chans = chans;
	f.nchans = 3;
	assert_int_equal(subidx_add(&x, &f), 0);
	for (int ch = -1; ch < NCHAN + 2; ch++) {
		ev = event(SMSR_EV_QUEUED, SMSR_CLASS_NOTICE, ch, NULL);
		subidx_match(&x, &ev, count_cb, &hits);
	}
	assert_int_equal(hits, 3);
	subidx_del(&x, &f);
	subidx_fini(&x);
}

static void test_subidx_refuses_bad_filters_unchanged(void **state)
{
	uint16_t over[1] = {NCHAN}, unsorted[2] = {5, 2};
	struct subidx_filter f;
	struct subidx x;

	(void)state;
	assert_int_equal(subidx_init(&x, NCHAN), 0);
	filter_init(&f);
	f.chans = over;
	f.nchans = 1;
	assert_int_equal(subidx_add(&x, &f), -SMSR_EINVAL);
	f.chans = unsorted;
	f.nchans = 2;
	assert_int_equal(subidx_add(&x, &f), -SMSR_EINVAL);
	filter_init(&f);
	f.types = 0;
	assert_int_equal(subidx_add(&x, &f), -SMSR_EINVAL);
	assert_int_equal(x.n, 0);
	assert_null(x.every);
	subidx_fini(&x);
}

/* --- the reference model --------------------------------------------------- */
#define MODEL_MAX 96

static const char *const prefixes[] = {"", "", "a", "ab", "abc", "b", "ba", "abcdefgh", "x"};
static const char *const refs[] = {NULL, "",   "a",   "ab", "abc", "abcd", "abcdefghij",
				   "b",	 "ba", "bab", "x",  "y",   "ax"};

struct model_sub {
	bool used;
	struct subidx_filter f;
	uint16_t chans[4];
	unsigned hits;
};

static uint64_t rng, model_seed;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static bool ref_match(const struct model_sub *m, const struct smsr_event *ev)
{
	const struct subidx_filter *f = &m->f;
	bool chan = !f->nchans;
	size_t n = strlen(f->ref);

	for (uint32_t i = 0; i < f->nchans; i++)
		chan |= ev->channel == f->chans[i];
	return (f->types & (1u << ev->type)) &&
	       (f->classes == ~0u || (f->classes >> ev->cls) & 1) && chan &&
	       (!n || (ev->client_ref && !strncmp(ev->client_ref, f->ref, n)));
}

static void random_filter(struct model_sub *m)
{
	static const uint16_t chan_pool[] = {0, 1, 2, 63, 64, 65, 500, 1023};

	filter_init(&m->f);
	m->f.owner = m;
	if (next_rand() % 3)
		snprintf(m->f.ref, sizeof(m->f.ref), "%s", prefixes[next_rand() % 9]);
	else /* many prefixes: nodes with many children, made and freed */
		snprintf(m->f.ref, sizeof(m->f.ref), "q%u", next_rand() % 40);
	if (next_rand() % 3 == 0) {
		uint32_t n = 1 + next_rand() % 3, k = next_rand() % 8;

		for (uint32_t i = 0; i < n && k < 8; i++, k += 1 + next_rand() % 2)
			m->chans[m->f.nchans++] = chan_pool[k];
		m->f.chans = m->chans;
	}
	if (next_rand() % 3 == 0)
		m->f.classes = (next_rand() % 7 + 1) << 1;
	if (next_rand() % 3 == 0)
		m->f.types =
		    (next_rand() & SMSR_EV_ALL) | SMSR_EV_MASK(next_rand() % SMSR_EV_COUNT);
}

static void hit_cb(void *arg, struct subidx_filter *f)
{
	(void)arg;
	((struct model_sub *)f->owner)->hits++;
}

static void check_event(struct subidx *x, struct model_sub *subs, const struct smsr_event *ev)
{
	for (int i = 0; i < MODEL_MAX; i++)
		subs[i].hits = 0;
	subidx_match(x, ev, hit_cb, NULL);
	for (int i = 0; i < MODEL_MAX; i++) {
		unsigned want = subs[i].used && ref_match(&subs[i], ev);

		if (subs[i].hits != want)
			fail_msg("seed %llu: filter %d (ref '%s', %u chans, classes %x, types %x) "
				 "got %u matches of event type %u cls %u chan %d ref '%s', want %u",
				 (unsigned long long)model_seed, i, subs[i].f.ref, subs[i].f.nchans,
				 subs[i].f.classes, subs[i].f.types, subs[i].hits, ev->type,
				 ev->cls, ev->channel, ev->client_ref ? ev->client_ref : "(null)",
				 want);
	}
}

static void test_subidx_matches_reference_model(void **state)
{
	static const int chan_ev[] = {-1, 0, 1, 2, 63, 64, 65, 500, 1023, 7};
	const char *env = getenv("SMSR_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
	static struct model_sub subs[MODEL_MAX];
	struct subidx x;

	(void)state;
	print_message("subidx model seed %llu (SMSR_TEST_SEED to replay)\n",
		      (unsigned long long)seed);
	model_seed = seed;
	rng = seed * 0x9e3779b97f4a7c15ull | 1;
	assert_int_equal(subidx_init(&x, NCHAN), 0);
	for (int step = 0; step < 20000; step++) {
		struct model_sub *m = &subs[next_rand() % MODEL_MAX];
		uint32_t types = 0;

		if (m->used) {
			subidx_del(&x, &m->f);
			m->used = false;
		} else {
			random_filter(m);
			assert_int_equal(subidx_add(&x, &m->f), 0);
			m->used = true;
		}
		for (int k = 0; k < 4; k++) {
			char q[16];
			struct smsr_event ev =
			    event((int)(next_rand() % SMSR_EV_COUNT), (int)(next_rand() % 4),
				  chan_ev[next_rand() % 10], refs[next_rand() % 13]);

			if (next_rand() % 3 == 0) {
				snprintf(q, sizeof(q), "q%u%s", next_rand() % 50,
					 next_rand() % 2 ? "-x" : "");
				ev.client_ref = q;
			}

			check_event(&x, subs, &ev);
		}
		for (int i = 0; i < MODEL_MAX; i++)
			types |= subs[i].used ? subs[i].f.types : 0;
		assert_int_equal(subidx_types(&x), types);
	}
	for (int i = 0; i < MODEL_MAX; i++)
		if (subs[i].used)
			subidx_del(&x, &subs[i].f);
	assert_int_equal(x.n, 0);
	assert_int_equal(x.npfx, 0);
	assert_int_equal(x.pfx->nkids, 0);
	subidx_fini(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_subidx_non_matching_filters_cost_nothing),
	    cmocka_unit_test(test_subidx_channels_beyond_64),
	    cmocka_unit_test(test_subidx_refuses_bad_filters_unchanged),
	    cmocka_unit_test(test_subidx_matches_reference_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
