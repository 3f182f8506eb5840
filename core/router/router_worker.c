/* SPDX-License-Identifier: MIT */
/*
 * Worker threads: run to completion over the channels they own.
 *
 * One turn of the loop: take the hand-off chains and control requests,
 * queue the new messages on their lanes, let every channel send what its
 * pacing and window allow, let every driver do its due work, and now and
 * then sweep for expired messages and timed-out submits. With nothing to do
 * the worker spins briefly — and keeps spinning while hand-offs keep coming
 * (the last one within SMSR__RECENT_NS) or while messages wait on pacing with
 * the next send due within SMSR__BUSY_HORIZON_NS, so a code arriving then does
 * not pay for a wake-up — then sleeps in io_uring on an eventfd with a timeout
 * at the next timer. Submitters write the eventfd only when the worker says it is sleeping; the
 * sleeping flag and the ring check are ordered by seq_cst fences on both sides, so no wake-up is
 * lost.
 *
 * Why recency and not only the horizon: a wake-up costs ~70 µs on the
 * development VM, and whether the next paced send is within the horizon is
 * a knife edge (codes draw on the verification token reserve, so marketing
 * may wait 2-10 ms for its tokens) — the worker slept between codes arriving
 * every 200 µs and each one paid for a wake-up.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "router_int.h"
#include "base/tsan.h"

/* After a hand-off, keep polling the rings this long before sleeping:
 * at 1,000 hand-offs/s or more the worker never sleeps; below that it
 * spends at most this much CPU per hand-off. */
#define SMSR__RECENT_NS 1000000ull

static void *ring_alloc(size_t slots)
{
	return calloc(slots, sizeof(struct ck_ring_buffer));
}

int smsr__worker_init(struct smsr__worker *w, struct smsr_router *r, unsigned index)
{
	w->r = r;
	w->index = index;
	w->efd = -1;
	w->ring_buf = ring_alloc(SMSR__RING_SLOTS);
	w->ctl_buf = ring_alloc(SMSR__CTL_SLOTS);
	if (!w->ring_buf || !w->ctl_buf)
		goto err_nomem;
	ck_ring_init(&w->ring, SMSR__RING_SLOTS);
	ck_ring_init(&w->ctl, SMSR__CTL_SLOTS);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		goto err_nomem;
	/* io_uring may be unavailable (seccomp, old kernel): fall back to poll(). */
	w->have_uring = io_uring_queue_init(SMSR__URING_ENTRIES, &w->uring, 0) == 0;
	return 0;
err_nomem:
	smsr__worker_fini(w);
	return -SMSR_ENOMEM;
}

void smsr__worker_fini(struct smsr__worker *w)
{
	if (w->have_uring)
		io_uring_queue_exit(&w->uring);
	w->have_uring = false;
	smsr__conn_fini(w);
	if (w->efd >= 0)
		close(w->efd);
	w->efd = -1;
	free(w->ring_buf);
	free(w->ctl_buf);
	free(w->chans);
	w->ring_buf = w->ctl_buf = NULL;
	w->chans = NULL;
}

void smsr__worker_wake(struct smsr__worker *w)
{
	uint64_t one = 1;

	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&w->sleeping, memory_order_relaxed)) {
		ssize_t n = write(w->efd, &one, sizeof(one));

		(void)n; /* EAGAIN means the counter is already non-zero: awake anyway */
		atomic_fetch_add_explicit(&w->wait_stats.wakes_sent, 1, memory_order_relaxed);
	}
}

void smsr__worker_push(struct smsr__worker *w, struct smsr__rec *chain)
{
	unsigned spins = 0;

	/* The ring holds 64 K chains; it fills only if the worker is stuck
	 * (e.g. in a slow event callback). The records are already admitted,
	 * so wait rather than drop. */
	SMSR__TSAN_RELEASE(chain); /* the records are the worker's from here */
	while (!ck_ring_enqueue_mpsc(&w->ring, w->ring_buf, chain)) {
		smsr__worker_wake(w);
		if (++spins > 64)
			sched_yield();
	}
	smsr__worker_wake(w);
}

int smsr__worker_ctl(struct smsr__worker *w, struct smsr__ctl *ctl)
{
	SMSR__TSAN_RELEASE(ctl);
	if (!ck_ring_enqueue_mpsc(&w->ctl, w->ctl_buf, ctl))
		return -SMSR_EBUSY;
	smsr__worker_wake(w);
	return 0;
}

static void queue_rec(struct smsr__worker *w, struct smsr__rec *rec)
{
	struct smsr_chan *c = &w->r->chans[rec->chan];

	rec->state = SMSR__REC_QUEUED;
	smsr__lanes_push(&c->lanes, rec);
	smsr__emit(w->r, SMSR_EV_QUEUED, rec, 0, 0, w->now);
	if (c->dispatch_at == UINT64_MAX || rec->cls == SMSR_CLASS_VERIFICATION)
		c->dispatch_at = 0;
	/* Routed here before the channel went down: move it on too. */
	if (atomic_load_explicit(&c->state, memory_order_relaxed) == SMSR_CHAN_DOWN)
		c->evacuate = true;
}

/* SYNC journal: a message is not sent before its ACCEPT is on disk. */
static void hold(struct smsr__worker *w, struct smsr__rec *rec)
{
	rec->next = NULL;
	if (w->held_tail)
		w->held_tail->next = rec;
	else
		w->held_head = rec;
	w->held_tail = rec;
	atomic_store_explicit(&w->held, true, memory_order_relaxed);
}

/* Queue the held messages that are durable now (all of them: @all). */
static bool release_held(struct smsr__worker *w, bool all)
{
	struct smsr__rec *rec = w->held_head, *keep = NULL, *keep_tail = NULL;
	uint64_t durable;
	bool any = false;

	if (!rec && !w->nstaged)
		return false; /* the common case, every turn: nothing waits */
	durable = smsr_router_durable_seq(w->r);
	/* Look again only when the durable position moved: once a commit. */
	if (!all && durable == w->held_seen)
		return false;
	if (!all)
		w->held_seen = durable;
	for (size_t i = 0; w->nstaged && !all && i < w->nchans; i++)
		if (w->chans[i]->staged_head)
			any |= smsr__chan_flush_staged(w, w->chans[i]);
	if (!rec) {
		atomic_store_explicit(&w->held, w->nstaged > 0, memory_order_relaxed);
		return any;
	}
	w->held_head = w->held_tail = NULL;
	while (rec) {
		struct smsr__rec *next = rec->next;

		if (all || smsr__journal_durable(w->r, rec)) {
			queue_rec(w, rec);
			any = true;
		} else {
			rec->next = NULL;
			if (keep_tail)
				keep_tail->next = rec;
			else
				keep = rec;
			keep_tail = rec;
		}
		rec = next;
	}
	w->held_head = keep;
	w->held_tail = keep_tail;
	atomic_store_explicit(&w->held, keep != NULL || w->nstaged, memory_order_relaxed);
	return any;
}

static bool take_chains(struct smsr__worker *w)
{
	struct smsr__rec *chain;
	bool any = false;

	while (ck_ring_dequeue_mpsc(&w->ring, w->ring_buf, &chain)) {
		SMSR__TSAN_ACQUIRE(chain);
		any = true;
		while (chain) {
			struct smsr__rec *rec = chain;

			chain = rec->next;
			if (w->r->journal_hold && (w->held_head || !smsr__journal_durable(w->r, rec)))
				hold(w, rec); /* in order behind what is held already */
			else
				queue_rec(w, rec);
		}
	}
	return any;
}

static bool take_ctls(struct smsr__worker *w)
{
	struct smsr__ctl *ctl;
	bool any = false;

	while (ck_ring_dequeue_mpsc(&w->ctl, w->ctl_buf, &ctl)) {
		struct smsr_chan *c;

		SMSR__TSAN_ACQUIRE(ctl);
		c = &w->r->chans[ctl->chan];
		any = true;
		smsr__chan_ctl(w, c, ctl);
		free(ctl);
	}
	return any;
}

static bool sendable(struct smsr_chan *c)
{
	uint8_t st = atomic_load_explicit(&c->state, memory_order_relaxed);

	return st == SMSR_CHAN_UP || st == SMSR_CHAN_DRAINING || st == SMSR_CHAN_DEGRADED;
}

/* One pass over the channels; returns the earliest time anything is due. */
static uint64_t run_channels(struct smsr__worker *w, bool *did)
{
	uint64_t next = UINT64_MAX;

	w->backlog = false;
	next = smsr__retry_run(w);
	for (size_t i = 0; i < w->nchans; i++) {
		struct smsr_chan *c = w->chans[i];

		if (!c->open) {
			/* Removed and closed. A submitter, a retry or another
			 * channel's failover may have picked it just before the
			 * removal and handed the message over only now: it must
			 * move on like the rest of the queue did, not sit here. */
			if (smsr__lanes_queued(&c->lanes))
				*did |= smsr__chan_removed_step(w, c);
			continue;
		}
		if (c->removing && smsr__chan_removed_step(w, c))
			continue;
		if (c->poll_at <= w->now) {
			c->poll_at = c->drv->poll(c->drv_state, w->now);
			*did = true;
		}
		if (c->dispatch_at <= w->now) {
			uint64_t before = SMSR__LOAD(c->stats.submitted);

			smsr__chan_dispatch(w, c);
			if (SMSR__LOAD(c->stats.submitted) != before)
				*did = true;
		}
		if (c->resend) {
			/* Down: unknown outcomes, by class, go out before the
			 * queue moves, so the oldest codes are first in line. */
			uint64_t due;

			smsr__chan_resend_unknown(w, c);
			due = smsr__retry_run(w);
			if (due < next)
				next = due;
		}
		if (c->evacuate ||
		    (c->evac_gen != atomic_load_explicit(&w->r->up_gen, memory_order_relaxed) &&
		     smsr__lanes_queued(&c->lanes))) {
			/* Down: move its queue; a failed move is retried when
			 * some channel comes up (up_gen). */
			if (atomic_load_explicit(&c->state, memory_order_relaxed) == SMSR_CHAN_DOWN)
				*did |= smsr__chan_evacuate(w, c) > 0;
			else
				c->evacuate = false, c->evac_gen = atomic_load(&w->r->up_gen);
		}
		if (smsr__lanes_queued(&c->lanes) && sendable(c))
			w->backlog = true;
		if (c->poll_at < next)
			next = c->poll_at;
		if (c->dispatch_at < next)
			next = c->dispatch_at;
	}
	return next;
}

static void arm_efd(struct smsr__worker *w)
{
	struct io_uring_sqe *sqe;

	if (w->efd_armed)
		return;
	sqe = io_uring_get_sqe(&w->uring);
	io_uring_prep_read(sqe, w->efd, &w->efd_val, sizeof(w->efd_val), 0);
	io_uring_sqe_set_data64(sqe, SMSR__UD_EFD);
	w->efd_armed = true;
}

/* Handle every completion in the ring; returns how many there were. */
static unsigned reap(struct smsr__worker *w)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe (&w->uring, head, cqe) {
		if (cqe->user_data == SMSR__UD_EFD) {
			w->efd_armed = false;
			SMSR__BUMP(w->wait_stats.efd_wakes, 1);
		} else {
			smsr__conn_complete(w, cqe->user_data, cqe->res);
		}
		n++;
	}
	io_uring_cq_advance(&w->uring, n);
	return n;
}

/* Connections: submit what the drivers queued, take what completed. */
static bool run_conns(struct smsr__worker *w)
{
	bool did;

	if (!w->conns)
		return false;
	did = smsr__conn_flush(w);
	if (io_uring_cq_ready(&w->uring)) {
		reap(w);
		smsr__conn_flush(w); /* re-arm receives, free closed ones */
		did = true;
	}
	return did;
}

/* Sleep until @deadline (CLOCK_MONOTONIC ns) or a wake-up. */
static void sleep_until(struct smsr__worker *w, uint64_t deadline)
{
	uint64_t wait = deadline > w->now ? deadline - w->now : 0;
	struct __kernel_timespec ts = {.tv_sec = (long long)(wait / SMSR__S),
				       .tv_nsec = (long long)(wait % SMSR__S)};
	struct io_uring_cqe *cqe;

	if (!w->have_uring) {
		struct pollfd pfd = {.fd = w->efd, .events = POLLIN};
		uint64_t v;

		if (poll(&pfd, 1, (int)(wait / SMSR__MS) + 1) > 0 &&
		    read(w->efd, &v, sizeof(v)) < 0)
			(void)v;
		return;
	}
	arm_efd(w);
	w->sqes_pending = false; /* submitted here */
	io_uring_submit_and_wait_timeout(&w->uring, &cqe, 1, &ts, NULL);
	if (reap(w) && w->conns)
		smsr__conn_flush(w);
}

static bool has_input(struct smsr__worker *w)
{
	return ck_ring_size(&w->ring) > 0 || ck_ring_size(&w->ctl) > 0 ||
	       ((w->held_head || w->nstaged) && smsr_router_durable_seq(w->r) != w->held_seen) ||
	       atomic_load_explicit(&w->stop, memory_order_relaxed);
}

static void idle(struct smsr__worker *w, uint64_t next, uint64_t *idle_since)
{
	if (*idle_since == 0)
		*idle_since = w->now;
	/* Spin rather than sleep while messages wait for pacing and the next
	 * send is near: a code arriving now must not pay for a wake-up (tens
	 * of microseconds on a VM). Fully idle, sleep after a short spin. */
	if (next > w->now) {
		bool busy = w->now - *idle_since < SMSR__SPIN_NS ||
			    (w->backlog && next - w->now <= SMSR__BUSY_HORIZON_NS);

		if (busy || w->now - w->last_input < SMSR__RECENT_NS) {
			w->polling_recent = !busy;
			SMSR__BUMP(w->wait_stats.spins, 1);
			/* Polling only for recency: give the core to a thread
			 * that has work (the host's, on a machine with few
			 * cores) — yield returns at once when there is none. */
			if (busy)
				__builtin_ia32_pause();
			else
				sched_yield();
			return;
		}
	}
	w->polling_recent = false;
	atomic_store_explicit(&w->sleeping, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (!has_input(w)) {
		SMSR__BUMP(w->wait_stats.sleeps, 1);
		if (!w->backlog) {
			SMSR__BUMP(w->wait_stats.sleeps_idle, 1);
		} else if (next > w->now) {
			SMSR__BUMP(w->wait_stats.sleeps_far, 1);
			if (next - w->now > SMSR__LOAD(w->wait_stats.far_gap_max_ns))
				atomic_store_explicit(&w->wait_stats.far_gap_max_ns, next - w->now,
						      memory_order_relaxed);
		}
		sleep_until(w, next < w->next_sweep ? next : w->next_sweep);
	} else {
		SMSR__BUMP(w->wait_stats.sleeps_skipped, 1);
	}
	atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
}

static void shutdown_channels(struct smsr__worker *w)
{
	w->now = smsr__now_ns();
	take_chains(w);
	take_ctls(w);
	release_held(w, true); /* never sent: they end router_stopped below */
	for (size_t i = 0; i < w->nchans; i++) {
		struct smsr_chan *c = w->chans[i];

		/* Close first: the driver must not report after its messages
		 * have been finished here. Never sent: router_stopped, the
		 * client may send it again. Handed to a carrier (in flight,
		 * awaiting its report, or waiting to be resent after an
		 * unknown outcome): it may arrive, so a resend would send it
		 * twice. */
		smsr__chan_close(c);
		smsr__chan_fail_all(w, c, -SMSR_ESTOPPED, -SMSR_ESTOPUNKNOWN);
	}
	smsr__retry_fail_all(w, -SMSR_ESTOPPED, -SMSR_ESTOPUNKNOWN);
}

static void *worker_main(void *arg)
{
	struct smsr__worker *w = arg;
	uint64_t idle_since = 0;

	w->now = smsr__now_ns();
	w->next_sweep = w->now + SMSR__SWEEP_NS;
	while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
		bool did;
		uint64_t next;

		w->now = smsr__now_ns();
		did = take_ctls(w) | take_chains(w);
		did |= release_held(w, false);
		if (did) { /* what was just taken may be younger than w->now */
			w->now = smsr__now_ns();
			w->last_input = w->now;
			if (w->polling_recent)
				SMSR__BUMP(w->wait_stats.polled_takes, 1);
		}
		w->polling_recent = false;
		next = run_channels(w, &did);
		did |= run_conns(w);
		if (w->now >= w->next_sweep) {
			for (size_t i = 0; i < w->nchans; i++)
				smsr__chan_sweep(w, w->chans[i]);
			w->next_sweep = w->now + SMSR__SWEEP_NS;
		}
		if (did || next <= w->now) {
			idle_since = 0;
			continue;
		}
		idle(w, next, &idle_since);
	}
	/* Workers hand messages to each other (failover, retries): only once
	 * every loop has ended can nothing more arrive here. Then finish all. */
	atomic_fetch_sub(&w->r->loops, 1);
	while (atomic_load(&w->r->loops))
		sched_yield();
	shutdown_channels(w);
	return NULL;
}

int smsr__worker_start(struct smsr__worker *w)
{
	int ret;

	atomic_fetch_add(&w->r->loops, 1);
	ret = pthread_create(&w->thread, NULL, worker_main, w);
	if (ret != 0) {
		atomic_fetch_sub(&w->r->loops, 1);
		return -ret;
	}
	w->started = true;
	return 0;
}

void smsr__worker_signal(struct smsr__worker *w)
{
	uint64_t one = 1;
	ssize_t n;

	if (!w->started)
		return;
	atomic_store_explicit(&w->stop, 1, memory_order_release);
	smsr__worker_wake(w);
	n = write(w->efd, &one, sizeof(one));
	(void)n;
}

void smsr__worker_join(struct smsr__worker *w)
{
	if (!w->started)
		return;
	smsr__worker_signal(w);
	pthread_join(w->thread, NULL);
	w->started = false;
}
