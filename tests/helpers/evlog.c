/* SPDX-License-Identifier: MIT */
/* Test helper: event log. See evlog.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "evlog.h"

void evlog_init(struct evlog *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
}

void evlog_fini(struct evlog *l)
{
	free(l->v);
	pthread_mutex_destroy(&l->lock);
}

void evlog_cb(void *arg, const struct smsr_event *ev)
{
	struct evlog *l = arg;
	struct evrec *e;

	pthread_mutex_lock(&l->lock);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->id = ev->id;
	e->ts_ns = ev->ts_ns;
	e->type = ev->type;
	e->cls = ev->cls;
	e->channel = ev->channel;
	e->reason = ev->reason;
	e->op_code = ev->op_code;
	e->attempt = ev->attempt;
	e->chan_state = ev->chan_state;
	if (ev->carrier_msgid)
		snprintf(e->carrier_msgid, sizeof(e->carrier_msgid), "%s", ev->carrier_msgid);
	if (ev->client_ref)
		snprintf(e->client_ref, sizeof(e->client_ref), "%s", ev->client_ref);
	l->by_type[ev->type]++;
	pthread_mutex_unlock(&l->lock);
}

uint64_t evlog_count(struct evlog *l, enum smsr_event_type t)
{
	uint64_t n;

	pthread_mutex_lock(&l->lock);
	n = l->by_type[t];
	pthread_mutex_unlock(&l->lock);
	return n;
}

uint64_t evlog_finals(struct evlog *l)
{
	uint64_t n;

	pthread_mutex_lock(&l->lock);
	n = l->by_type[SMSR_EV_DELIVERED] + l->by_type[SMSR_EV_FAILED] +
	    l->by_type[SMSR_EV_EXPIRED];
	pthread_mutex_unlock(&l->lock);
	return n;
}

void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

uint64_t test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool evlog_wait_finals(struct evlog *l, uint64_t n, unsigned ms)
{
	for (unsigned waited = 0; waited <= ms; waited += 5) {
		if (evlog_finals(l) >= n)
			return true;
		sleep_ms(5);
	}
	return evlog_finals(l) >= n;
}

bool evlog_wait_type(struct evlog *l, enum smsr_event_type t, uint64_t n, unsigned ms)
{
	for (unsigned waited = 0; waited <= ms; waited += 5) {
		if (evlog_count(l, t) >= n)
			return true;
		sleep_ms(5);
	}
	return evlog_count(l, t) >= n;
}

unsigned evlog_finals_of(struct evlog *l, uint64_t id)
{
	unsigned n = 0;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == id &&
		    (l->v[i].type == SMSR_EV_DELIVERED || l->v[i].type == SMSR_EV_FAILED ||
		     l->v[i].type == SMSR_EV_EXPIRED))
			n++;
	pthread_mutex_unlock(&l->lock);
	return n;
}

struct idmark {
	uint64_t id;
	uint8_t accepted, final;
};

static int idmark_cmp(const void *a, const void *b)
{
	const struct idmark *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

size_t evlog_not_one_final(struct evlog *l)
{
	struct idmark *m;
	size_t n = 0, bad = 0;

	pthread_mutex_lock(&l->lock);
	m = calloc(l->n + 1, sizeof(*m));
	for (size_t i = 0; m && i < l->n; i++) {
		uint8_t t = l->v[i].type;
		bool fin = t == SMSR_EV_DELIVERED || t == SMSR_EV_FAILED || t == SMSR_EV_EXPIRED;

		if (t == SMSR_EV_ACCEPTED || fin)
			m[n++] = (struct idmark){l->v[i].id, t == SMSR_EV_ACCEPTED, fin};
	}
	pthread_mutex_unlock(&l->lock);
	if (!m)
		return SIZE_MAX;
	qsort(m, n, sizeof(*m), idmark_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		unsigned acc = 0, fin = 0;

		for (; j < n && m[j].id == m[i].id; j++)
			acc += m[j].accepted, fin += m[j].final;
		bad += acc != 1 || fin != 1;
		i = j;
	}
	free(m);
	return bad;
}

long evlog_find(struct evlog *l, uint64_t id, enum smsr_event_type type)
{
	long at = -1;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n && at < 0; i++)
		if (l->v[i].id == id && l->v[i].type == type)
			at = (long)i;
	pthread_mutex_unlock(&l->lock);
	return at;
}

struct smsr_config *test_config(const char *text)
{
	struct smsr_config *cfg = NULL;
	char err[256] = "";
	int ret;

	assert_int_equal(smsr_config_create(&cfg), 0);
	ret = smsr_config_parse(cfg, text, err, sizeof(err));
	if (ret != 0)
		fail_msg("config: %s", err);
	return cfg;
}

struct smsr_router *test_router_start(const char *text, struct evlog *log, unsigned workers)
{
	struct smsr_config *cfg = test_config(text);
	struct smsr_router_opts o = {.on_event = evlog_cb, .arg = log, .workers = workers};
	struct smsr_router *r = NULL;

	assert_int_equal(smsr_router_create(&r, cfg, &o), 0);
	smsr_config_destroy(cfg);
	assert_int_equal(smsr_router_start(r), 0);
	return r;
}

static void *push_loop(void *arg)
{
	struct test_pusher *p = arg;
	static const char text[] = "Your statement is ready";
	struct smsr_msg m = {.recipient = "13912345678",
			     .text = text,
			     .text_len = sizeof(text) - 1,
			     .cls = SMSR_CLASS_NOTICE};

	for (unsigned i = 0; i < p->max && !atomic_load(&p->stop); i++) {
		int rc = smsr_router_submit(p->r, &m, NULL);

		if (rc == 0)
			atomic_fetch_add(&p->accepted, 1);
		else if (rc != -SMSR_EBUSY)
			atomic_fetch_add(&p->refused, 1);
		if (i % p->every == 0)
			sleep_ms(1);
	}
	return NULL;
}

void test_pusher_start(struct test_pusher *p, struct smsr_router *r, unsigned max, unsigned every)
{
	p->r = r;
	p->max = max;
	p->every = every ? every : 1;
	atomic_store(&p->stop, 0);
	atomic_store(&p->accepted, 0);
	atomic_store(&p->refused, 0);
	assert_int_equal(pthread_create(&p->thread, NULL, push_loop, p), 0);
}

uint64_t test_pusher_stop(struct test_pusher *p)
{
	atomic_store(&p->stop, 1);
	pthread_join(p->thread, NULL);
	assert_int_equal(atomic_load(&p->refused), 0);
	return atomic_load(&p->accepted);
}
