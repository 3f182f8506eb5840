/* SPDX-License-Identifier: MIT */
/*
 * Test helper: an event log for the router's callback. Records every event
 * (copying what the callback lends) so tests can assert on the sequence,
 * and counts final events per message id.
 */
#ifndef SMSR_TEST_EVLOG_H
#define SMSR_TEST_EVLOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "smsr/smsr.h"

struct evrec {
	uint64_t id;
	uint64_t ts_ns;
	uint8_t type, cls, attempt, chan_state;
	int32_t channel, reason, op_code;
	char carrier_msgid[24];
	char client_ref[SMSR_REF_MAX + 1];
};

struct evlog {
	pthread_mutex_t lock;
	struct evrec *v;
	size_t n, cap;
	uint64_t by_type[SMSR_EV_COUNT];
};

void evlog_init(struct evlog *l);
void evlog_fini(struct evlog *l);
void evlog_cb(void *arg, const struct smsr_event *ev); /* smsr_event_cb */
uint64_t evlog_count(struct evlog *l, enum smsr_event_type t);
uint64_t evlog_finals(struct evlog *l);
/* Wait (bounded by @ms) until @pred-like count of finals reaches @n. */
bool evlog_wait_finals(struct evlog *l, uint64_t n, unsigned ms);
bool evlog_wait_type(struct evlog *l, enum smsr_event_type t, uint64_t n, unsigned ms);
/* Number of final events recorded for @id. */
unsigned evlog_finals_of(struct evlog *l, uint64_t id);
/* Messages (by id) that do not have exactly one ACCEPTED and one final
 * event: 0 when every accepted message ended once. Safe while events still
 * come (channel events may). */
size_t evlog_not_one_final(struct evlog *l);
/* Index of the first event of @type for @id, or -1. */
long evlog_find(struct evlog *l, uint64_t id, enum smsr_event_type type);

/*
 * A host thread submitting notices to one number until stopped: at most
 * @max messages, a 1 ms pause every @every. Only "busy" may refuse one;
 * test_pusher_stop() joins it, checks that, and returns how many were
 * accepted.
 */
struct test_pusher {
	struct smsr_router *r;
	_Atomic int stop;
	_Atomic uint64_t accepted, refused;
	unsigned max, every;
	pthread_t thread;
};
void test_pusher_start(struct test_pusher *p, struct smsr_router *r, unsigned max, unsigned every);
uint64_t test_pusher_stop(struct test_pusher *p);

/* Parse @text into a new config; fails the test on error. */
struct smsr_config *test_config(const char *text);
/* A started router on @text, its events into @log; fails the test on error. */
struct smsr_router *test_router_start(const char *text, struct evlog *log, unsigned workers);
void sleep_ms(unsigned ms);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t test_now_ns(void);

#endif
