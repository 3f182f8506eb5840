/* SPDX-License-Identifier: MIT */
/*
 * Retries: sending a message again after a temporary error, or after an
 * outage left its outcome unknown and its class says resend.
 *
 * A retried message waits out a backoff (retry_backoff_ms, doubling with
 * each attempt; none for a resend after an outage, which must be fast) in
 * its worker's retry queue for its attempt number: every entry of one
 * queue waited the same backoff, so each queue is in due order and the
 * worker only looks at the heads. When due, it goes to the best other
 * channel of its route (route_pick excluding the one that failed), else
 * to the same one; with no channel up it waits another backoff, without
 * spending an attempt, until its validity ends. max_attempts sends in all,
 * then it fails with the last error; validity bounds everything (expired).
 * A re-queued message keeps its id; its QUEUED event carries the new
 * channel and attempt number.
 */
#include "base/clock.h"
#include "router_int.h"

static uint64_t backoff_ns(const struct smsr_router *r, unsigned level)
{
	uint64_t b = (uint64_t)r->cfg.retry_backoff_ms * SMSR__MS;

	return b << (level > 1 ? (level - 1 > 16 ? 16 : level - 1) : 0);
}

static void wait_in(struct smsr__worker *w, unsigned level, struct smsr__rec *rec, uint64_t due)
{
	struct smsr__retry_q *q = &w->retry[level];

	rec->state = SMSR__REC_RETRY;
	rec->deadline_ns = due;
	rec->next = NULL;
	if (q->tail)
		q->tail->next = rec;
	else
		q->head = rec;
	q->tail = rec;
	SMSR__BUMP(w->retrying, 1);
}

void smsr__retry(struct smsr__worker *w, struct smsr_chan *c, struct smsr__rec *rec, int reason,
		 int op_code, bool delay)
{
	struct smsr_router *r = w->r;
	unsigned level = rec->attempt;

	if (w->now >= smsr__rec_expires(rec)) {
		smsr__rec_finish(w, c, rec, SMSR_EV_EXPIRED, -SMSR_EEXPIRED, 0);
		return;
	}
	if (rec->attempt >= r->cfg.max_attempts || level >= SMSR__ATTEMPTS_MAX) {
		smsr__rec_finish(w, c, rec, SMSR_EV_FAILED, reason, op_code);
		return;
	}
	rec->attempt++;
	rec->carrier_msgid[0] = '\0'; /* the next carrier will name it anew */
	wait_in(w, level, rec, delay ? w->now + backoff_ns(r, level) : w->now);
}

void smsr__requeue(struct smsr__worker *w, struct smsr__rec *rec, int to)
{
	struct smsr_chan *nc = &w->r->chans[to];

	rec->chan = (uint16_t)to;
	rec->next = NULL;
	if (nc->worker != w) {
		smsr__worker_push(nc->worker, rec); /* QUEUED there */
		return;
	}
	rec->state = SMSR__REC_QUEUED;
	smsr__lanes_push(&nc->lanes, rec);
	smsr__emit(w->r, SMSR_EV_QUEUED, rec, 0, 0, w->now);
	nc->dispatch_at = 0;
}

/* Send one due retry somewhere, or make it wait again. */
static void resend(struct smsr__worker *w, const struct smsr__snapshot *snap, unsigned level,
		   struct smsr__rec *rec)
{
	struct smsr_router *r = w->r;
	int to;

	if (w->now >= smsr__rec_expires(rec)) {
		smsr__rec_finish(w, &r->chans[rec->chan], rec, SMSR_EV_EXPIRED, -SMSR_EEXPIRED, 0);
		return;
	}
	to = smsr__route_pick(snap, rec->cls, rec->carrier, rec->recipient, rec->id + rec->attempt,
			      (int)rec->chan);
	if (to < 0)
		to = smsr__route_pick(snap, rec->cls, rec->carrier, rec->recipient,
				      rec->id + rec->attempt, -1);
	if (to < 0) {
		wait_in(w, level, rec, w->now + backoff_ns(r, level));
		return;
	}
	smsr__requeue(w, rec, to);
}

uint64_t smsr__retry_run(struct smsr__worker *w)
{
	struct smsr_router *r = w->r;
	const struct smsr__snapshot *snap = NULL;
	ck_epoch_section_t section;
	ck_epoch_record_t *erec = NULL;
	uint64_t next = UINT64_MAX;
	unsigned slot = 0;

	if (!SMSR__LOAD(w->retrying))
		return next;
	for (unsigned level = 1; level < SMSR__ATTEMPTS_MAX; level++) {
		struct smsr__retry_q *q = &w->retry[level];
		/* Entries that wait again go behind: stop at the current tail. */
		struct smsr__rec *last = q->tail;

		while (q->head && q->head->deadline_ns <= w->now) {
			struct smsr__rec *rec = q->head;

			q->head = rec->next;
			if (!q->head)
				q->tail = NULL;
			SMSR__BUMP(w->retrying, -1);
			if (!erec) {
				erec = smsr__epoch_lease(&r->epoch, &slot);
				ck_epoch_begin(erec, &section);
				snap = atomic_load_explicit(&r->snap, memory_order_acquire);
			}
			resend(w, snap, level, rec);
			if (rec == last)
				break;
		}
		if (q->head && q->head->deadline_ns < next)
			next = q->head->deadline_ns;
	}
	if (erec) {
		smsr__epoch_end(&r->epoch, erec, &section);
		smsr__epoch_release(&r->epoch, slot);
	}
	return next;
}

void smsr__retry_fail_all(struct smsr__worker *w, int unsent, int sent)
{
	for (unsigned level = 1; level < SMSR__ATTEMPTS_MAX; level++) {
		struct smsr__rec *rec = w->retry[level].head;

		w->retry[level].head = w->retry[level].tail = NULL;
		while (rec) {
			struct smsr__rec *next = rec->next;

			SMSR__BUMP(w->retrying, -1);
			smsr__rec_finish(w, &w->r->chans[rec->chan], rec, SMSR_EV_FAILED,
					 rec->maybe_sent ? sent : unsent, 0);
			rec = next;
		}
	}
}
