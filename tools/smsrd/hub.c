/* SPDX-License-Identifier: MIT */
/*
 * Events from the router's workers to the subscriptions.
 *
 * The callback (hub_event) runs on worker threads. It records the event in
 * the status store, and while anyone subscribes to its type it copies the
 * event into a bounded multi-producer queue (a ring of cells with sequence
 * numbers, after Vyukov) and wakes the loop through an eventfd, at most once
 * until the loop has drained. A full queue drops the event and counts it;
 * the loop then charges the drop to every subscription as a gap, so no
 * subscriber misses events without an overflow marker. The loop copies each
 * event once (reference counted) into the queues of the subscriptions whose
 * filters match, found through the subscription index (subidx.h) so that an
 * event costs nothing for the subscriptions it cannot match; those queues
 * grow on demand up to their bound and then drop their oldest event.
 *
 * At a stop the router's workers end every message at once: a burst of final
 * events larger than the queue. From hub_hold() on, a worker that finds the
 * queue full waits for the loop to make room instead of dropping (until the
 * drain deadline; never the loop's own thread, which is the one draining).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smsrd.h"
#include "status.h"

struct sev {
	struct smsr_event e;
	uint32_t refs;
	char recipient[SMSR_E164_MAX + 1];
	char client_ref[SMSR_REF_MAX + 1];
	char tags[SMSR_TAGS_MAX + 1];
	char carrier_msgid[SMSR_CARRIER_ID_MAX +
			   1]; /* a long message's joined part ids are cut here */
};

struct cell {
	_Atomic uint64_t seq;
	struct sev ev;
};

struct hub {
	struct cell *cells;
	uint32_t mask;
	_Atomic uint64_t tail; /* producers */
	uint64_t head;	       /* the loop */
	_Atomic uint64_t dropped;
	_Atomic uint32_t type_mask; /* union of the subscriptions' types */
	_Atomic bool signalled;
	int event_fd;
	struct status_store *st;
	struct subidx idx;		       /* the loop's */
	pthread_t loop;			       /* the thread that drains */
	_Atomic uint64_t hold_until;	       /* full: producers wait until then; 0 never */
	_Atomic uint64_t n_stopped, n_unknown; /* finals router_stopped, outcome_unknown_at_stop */
};

struct hub *hub_create(uint32_t cap, int event_fd)
{
	struct hub *h = calloc(1, sizeof(*h));
	uint32_t n = 1;

	while (n < cap)
		n <<= 1;
	if (!h || !(h->cells = calloc(n, sizeof(*h->cells))) ||
	    subidx_init(&h->idx, SRV_CHANS_MAX)) {
		if (h)
			free(h->cells);
		free(h);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		atomic_init(&h->cells[i].seq, i);
	h->mask = n - 1;
	h->event_fd = event_fd;
	atomic_store(&h->type_mask, SMSR_EV_MASK(SMSR_EV_CHANNEL));
	h->loop = pthread_self();
	return h;
}

void hub_destroy(struct hub *h)
{
	if (h) {
		subidx_fini(&h->idx);
		free(h->cells);
	}
	free(h);
}

void hub_set_status(struct hub *h, struct status_store *st)
{
	h->st = st;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void sev_fill(struct sev *d, const struct smsr_event *ev)
{
	d->e = *ev;
	copy_str(d->recipient, sizeof(d->recipient), ev->recipient);
	copy_str(d->client_ref, sizeof(d->client_ref), ev->client_ref);
	copy_str(d->tags, sizeof(d->tags), ev->tags);
	copy_str(d->carrier_msgid, sizeof(d->carrier_msgid), ev->carrier_msgid);
	d->e.recipient = d->recipient;
	d->e.client_ref = ev->client_ref ? d->client_ref : NULL;
	d->e.tags = ev->tags ? d->tags : NULL;
	d->e.carrier_msgid = ev->carrier_msgid ? d->carrier_msgid : NULL;
}

void hub_hold(struct hub *h, uint64_t until_ns)
{
	atomic_store(&h->hold_until, until_ns);
}

void hub_stop_counts(struct hub *h, uint64_t *stopped, uint64_t *unknown)
{
	*stopped = atomic_load(&h->n_stopped);
	*unknown = atomic_load(&h->n_unknown);
}

/* The queue is full: wait a little for the loop to drain it? */
static bool wait_room(struct hub *h)
{
	uint64_t until = atomic_load_explicit(&h->hold_until, memory_order_relaxed);
	struct timespec ts = {.tv_nsec = 20000};

	if (!until || pthread_equal(pthread_self(), h->loop) || smsr_now_ns() >= until)
		return false;
	nanosleep(&ts, NULL);
	return true;
}

void hub_event(void *arg, const struct smsr_event *ev)
{
	struct hub *h = arg;
	uint64_t pos;
	struct cell *cell;

	if (ev->type == SMSR_EV_FAILED && ev->reason == -SMSR_ESTOPPED)
		atomic_fetch_add_explicit(&h->n_stopped, 1, memory_order_relaxed);
	else if (ev->type == SMSR_EV_FAILED && ev->reason == -SMSR_ESTOPUNKNOWN)
		atomic_fetch_add_explicit(&h->n_unknown, 1, memory_order_relaxed);

	if (h->st && ev->type != SMSR_EV_REJECTED) {
		uint64_t tag = status_store_record(h->st, ev);

		/* Where the message lives in the store: its later events go
		 * straight there. */
		if (ev->tag_out)
			*ev->tag_out = tag;
	}
	if (!(atomic_load_explicit(&h->type_mask, memory_order_relaxed) & SMSR_EV_MASK(ev->type)))
		return;
	pos = atomic_load_explicit(&h->tail, memory_order_relaxed);
	for (;;) {
		cell = &h->cells[pos & h->mask];
		uint64_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
		int64_t dif = (int64_t)seq - (int64_t)pos;

		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&h->tail, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
		} else if (dif < 0) {
			if (wait_room(h)) {
				pos = atomic_load_explicit(&h->tail, memory_order_relaxed);
				continue;
			}
			atomic_fetch_add_explicit(&h->dropped, 1, memory_order_relaxed);
			return; /* full */
		} else {
			pos = atomic_load_explicit(&h->tail, memory_order_relaxed);
		}
	}
	sev_fill(&cell->ev, ev);
	atomic_store_explicit(&cell->seq, pos + 1, memory_order_release);
	if (!atomic_exchange(&h->signalled, true)) {
		uint64_t one = 1;

		(void)!write(h->event_fd, &one, sizeof(one));
	}
}

/* --- the loop's side ------------------------------------------------------- */
static void sev_unref(struct sev *e)
{
	if (--e->refs == 0)
		free(e);
}

/* Room for one more event in @sb's ring: grow it (up to its limit). */
static bool sub_grow(struct sub *sb)
{
	uint32_t n = sb->cap ? sb->cap * 2 : 64;
	struct sev **q;

	if (sb->cap == sb->limit)
		return false;
	if (n > sb->limit)
		n = sb->limit;
	q = malloc(n * sizeof(*q));
	if (!q)
		return false;
	for (uint32_t i = 0; i < sb->count; i++)
		q[i] = sb->q[(sb->head + i) % sb->cap];
	free(sb->q);
	sb->q = q;
	sb->cap = n;
	sb->head = 0;
	return true;
}

static void sub_lose(struct srv *s, struct sub *sb, uint64_t n)
{
	sb->gap += n;
	sb->dropped += n;
	s->stats.events_dropped += n;
	conn_mark_dirty(s, sb->c); /* the overflow marker must go out */
}

static void sub_push(struct srv *s, struct sub *sb, struct sev *e)
{
	if (sb->count == sb->cap && !sub_grow(sb)) {
		if (!sb->count) {
			sub_lose(s, sb, 1); /* no memory for a ring at all */
			return;
		}
		/* Full: drop the oldest, remember the gap. */
		sev_unref(sb->q[sb->head]);
		sb->head = (sb->head + 1) % sb->cap;
		sb->count--;
		sub_lose(s, sb, 1);
	}
	e->refs++;
	sb->q[(sb->head + sb->count) % sb->cap] = e;
	sb->count++;
	conn_mark_dirty(s, sb->c);
}

struct fan {
	struct srv *s;
	const struct sev *src;
	struct sev *e; /* the shared copy, made for the first match */
};

static void fan_one(void *arg, struct subidx_filter *f)
{
	struct fan *fo = arg;
	struct sub *sb = f->owner;

	if (!fo->e) {
		fo->e = malloc(sizeof(*fo->e));
		if (!fo->e) {
			sub_lose(fo->s, sb, 1);
			return;
		}
		sev_fill(fo->e, &fo->src->e);
		fo->e->refs = 1; /* ours until the fan-out ends */
	}
	sub_push(fo->s, sb, fo->e);
}

static void fan_out(struct srv *s, const struct sev *src)
{
	struct fan fo = {.s = s, .src = src};

	subidx_match(&s->hub->idx, &src->e, fan_one, &fo);
	if (fo.e)
		sev_unref(fo.e);
}

/* One line per channel state change, e.g. a refused bind: the operator's
 * view of what the channel events say. Rare by nature (a state that does
 * not change is not told again), so retries never flood the log. */
static void log_channel(struct srv *s, const struct smsr_event *ev)
{
	static const char *const states[] = {"up",	 "down",    "paused",
					     "draining", "removed", "degraded"};
	const char *name =
	    ev->channel >= 0 && ev->channel < (int32_t)s->nchans ? s->chan_names[ev->channel] : "?";

	if (s->o.quiet)
		return;
	if (ev->reason)
		fprintf(stderr, "smsrd: channel %s: %s (%s: %s)\n", name,
			ev->chan_state < 6 ? states[ev->chan_state] : "?", smsr_errname(ev->reason),
			smsr_strerror(ev->reason));
	else
		fprintf(stderr, "smsrd: channel %s: %s\n", name,
			ev->chan_state < 6 ? states[ev->chan_state] : "?");
}

void hub_drain(struct srv *s)
{
	struct hub *h = s->hub;
	uint64_t lost;

	atomic_store(&h->signalled, false);
	for (unsigned n = 0; n <= h->mask; n++) {
		struct cell *cell = &h->cells[h->head & h->mask];

		if (atomic_load_explicit(&cell->seq, memory_order_acquire) != h->head + 1)
			break;
		if (cell->ev.e.type == SMSR_EV_CHANNEL)
			log_channel(s, &cell->ev.e);
		fan_out(s, &cell->ev);
		atomic_store_explicit(&cell->seq, h->head + h->mask + 1, memory_order_release);
		h->head++;
	}
	lost = atomic_exchange(&h->dropped, 0);
	if (!lost)
		return;
	for (struct subidx_filter *f = h->idx.every; f; f = f->next_all)
		sub_lose(s, f->owner, lost);
}

static void update_mask(struct srv *s)
{
	/* Channel events always come: the loop logs each (hub_drain). */
	atomic_store(&s->hub->type_mask,
		     subidx_types(&s->hub->idx) | SMSR_EV_MASK(SMSR_EV_CHANNEL));
}

void event_to_pb(struct srv *s, struct arena *a, const struct smsr_event *ev, uint64_t dropped,
		 Smsr__V1__Event *pb)
{
	smsr__v1__event__init(pb);
	if (dropped) {
		pb->type = SMSR__V1__EVENT_TYPE__EVENT_TYPE_OVERFLOW;
		pb->dropped = dropped;
		pb->time_unix_ns = srv_wall_ns(s, ev ? ev->ts_ns : 0);
		return;
	}
	pb->id = ev->id;
	pb->type = (Smsr__V1__EventType)ev->type;
	pb->time_unix_ns = srv_wall_ns(s, ev->ts_ns);
	pb->accepted_unix_ns = srv_wall_ns(s, ev->accepted_ns);
	pb->cls = (Smsr__V1__MessageClass)ev->cls;
	pb->carrier = (Smsr__V1__Carrier)ev->carrier;
	pb->attempt = ev->attempt;
	if (ev->channel >= 0 && ev->channel < s->nchans)
		pb->channel = s->chan_names[ev->channel];
	if (ev->reason) {
		pb->reason_code = (uint32_t)-ev->reason;
		pb->reason = pb_str(smsr_errname(ev->reason));
	}
	pb->op_code = ev->op_code;
	/* A rejected message's fields are the client's raw input: what is
	 * not valid UTF-8 goes out empty (PROTOCOL.md, section 8). */
	pb->carrier_msgid = pb_utf8(ev->carrier_msgid);
	pb->client_ref = pb_utf8(ev->client_ref);
	pb->tags = pb_utf8(ev->tags);
	pb->recipient = pb_utf8(ev->recipient);
	if (ev->type == SMSR_EV_CHANNEL)
		pb->channel_state = (Smsr__V1__ChannelState)ev->chan_state;
	(void)a;
}

static void send_event(struct srv *s, struct conn *c, struct sub *sb, const struct sev *e,
		       uint64_t dropped)
{
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__Event pb;

	event_to_pb(s, &s->ar, e ? &e->e : NULL, dropped, &pb);
	resp.call_id = sb->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_EVENT;
	resp.event = &pb;
	conn_reply(s, c, &resp);
	if (!dropped) {
		sb->sent++;
		s->stats.events_sent++;
	}
}

static void sub_write(struct srv *s, struct conn *c, struct sub *sb, size_t room)
{
	while ((sb->count || sb->gap) && c->out.len < room) {
		if (sb->gap) {
			send_event(s, c, sb, NULL, sb->gap);
			sb->gap = 0;
			continue;
		}
		struct sev *e = sb->q[sb->head];

		send_event(s, c, sb, e, 0);
		sev_unref(e);
		sb->head = (sb->head + 1) % sb->cap;
		sb->count--;
	}
}

size_t hub_unwritten(struct srv *s)
{
	size_t n = 0;

	for (struct subidx_filter *f = s->hub->idx.every; f; f = f->next_all) {
		const struct sub *sb = f->owner;

		n += sb->count + (sb->gap != 0);
	}
	return n;
}

/* Write queued events while the connection's output has room. */
void sub_flush(struct srv *s, struct conn *c)
{
	for (struct sub *sb = c->subs; sb; sb = sb->next)
		sub_write(s, c, sb, SMSRD_OUT_HIGH / 2);
}

static void sub_free(struct srv *s, struct conn *c, struct sub *sb)
{
	while (sb->count) {
		sev_unref(sb->q[sb->head]);
		sb->head = (sb->head + 1) % sb->cap;
		sb->count--;
	}
	subidx_del(&s->hub->idx, &sb->f);
	free(sb->f.chans);
	free(sb->q);
	free(sb);
	c->nsubs--;
	s->nsubs_total--;
}

void sub_close_all(struct srv *s, struct conn *c, int code)
{
	while (c->subs) {
		struct sub *sb = c->subs;

		c->subs = sb->next;
		if (code)
			conn_reply_error(s, c, sb->call_id, code, NULL);
		sub_free(s, c, sb);
	}
	update_mask(s);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* @r's channel names as sorted, distinct indexes in @sb->f. */
static int parse_channels(struct srv *s, Smsr__V1__SubscribeRequest *r, struct sub *sb,
			  const char **why)
{
	uint32_t n = 0;

	if (!r->n_channels)
		return 0;
	sb->f.chans = malloc(r->n_channels * sizeof(*sb->f.chans));
	if (!sb->f.chans)
		return -SMSR_ENOMEM;
	for (size_t i = 0; i < r->n_channels; i++) {
		int idx = smsr_router_channel_find(s->r, r->channels[i]);

		if (idx < 0 || idx >= SRV_CHANS_MAX) {
			*why = "channels: no channel of that name";
			return -SMSR_ENOTFOUND;
		}
		sb->f.chans[n++] = (uint16_t)idx;
	}
	qsort(sb->f.chans, n, sizeof(*sb->f.chans), cmp_u16);
	sb->f.nchans = 1;
	for (uint32_t i = 1; i < n; i++)
		if (sb->f.chans[i] != sb->f.chans[sb->f.nchans - 1])
			sb->f.chans[sb->f.nchans++] = sb->f.chans[i];
	return 0;
}

static int parse_filters(struct srv *s, Smsr__V1__SubscribeRequest *r, struct sub *sb,
			 const char **why)
{
	sb->f.classes = r->n_classes ? 0 : ~0u;
	for (size_t i = 0; i < r->n_classes; i++) {
		if (r->classes[i] < 1 || r->classes[i] > 3) {
			*why = "classes: unknown class";
			return -SMSR_EINVAL;
		}
		sb->f.classes |= 1u << r->classes[i];
	}
	sb->f.types = r->n_types ? 0 : SMSR_EV_ALL;
	for (size_t i = 0; i < r->n_types; i++) {
		if ((unsigned)r->types[i] >= SMSR_EV_COUNT) {
			*why = "types: unknown event type";
			return -SMSR_EINVAL;
		}
		sb->f.types |= SMSR_EV_MASK(r->types[i]);
	}
	if (strlen(r->client_ref_prefix) > SMSR_REF_MAX) {
		*why = "client_ref_prefix over 64 bytes";
		return -SMSR_EINVAL;
	}
	strcpy(sb->f.ref, r->client_ref_prefix);
	if (r->queue_limit > SMSRD_SUBQ_MAX) { /* out of range: refused, as status limit is */
		*why = "queue_limit over 262144";
		return -SMSR_EINVAL;
	}
	sb->limit = r->queue_limit ? r->queue_limit : s->o.sub_queue;
	return parse_channels(s, r, sb, why);
}

void srv_call_subscribe(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__SubscribeResponse out = SMSR__V1__SUBSCRIBE_RESPONSE__INIT;
	const char *why = NULL;
	struct sub *sb;
	int rc;

	for (sb = c->subs; sb; sb = sb->next)
		if (sb->call_id == req->call_id) {
			conn_reply_error(s, c, req->call_id, SMSR_EEXIST,
					 "a subscription with this call_id is active");
			return;
		}
	if (c->nsubs >= s->o.max_subs) {
		conn_reply_error(s, c, req->call_id, SMSR_ETOOMANYCALLS,
				 "too many subscriptions on this connection");
		return;
	}
	if (s->nsubs_total >= s->o.max_subs_total) {
		conn_reply_error(s, c, req->call_id, SMSR_EBUSY,
				 "too many subscriptions on this server");
		return;
	}
	sb = calloc(1, sizeof(*sb));
	if (!sb) {
		conn_reply_error(s, c, req->call_id, SMSR_ENOMEM, NULL);
		return;
	}
	sb->f.owner = sb;
	rc = parse_filters(s, req->subscribe, sb, &why);
	if (rc == 0) {
		/* Events already in the hub predate the answer: only later
		 * ones count. */
		hub_drain(s);
		rc = subidx_add(&s->hub->idx, &sb->f);
	}
	if (rc < 0) {
		free(sb->f.chans);
		free(sb);
		conn_reply_error(s, c, req->call_id, -rc, why);
		return;
	}
	sb->call_id = req->call_id;
	sb->c = c;
	sb->next = c->subs;
	c->subs = sb;
	c->nsubs++;
	s->nsubs_total++;
	out.queue_limit = sb->limit;
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_SUBSCRIBE;
	resp.subscribe = &out;
	conn_reply(s, c, &resp);
	update_mask(s);
}

void srv_call_unsubscribe(struct srv *s, struct conn *c, Smsr__V1__Request *req)
{
	Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
	Smsr__V1__UnsubscribeResponse out = SMSR__V1__UNSUBSCRIBE_RESPONSE__INIT;
	struct sub **pp = &c->subs, *sb;

	while (*pp && (*pp)->call_id != req->unsubscribe->subscription)
		pp = &(*pp)->next;
	if (!(sb = *pp)) {
		conn_reply_error(s, c, req->call_id, SMSR_ENOTFOUND, "no such subscription");
		return;
	}
	sub_write(s, c, sb, SIZE_MAX); /* the stream's last events, then the answer */
	*pp = sb->next;
	out.delivered = sb->sent;
	out.dropped = sb->dropped;
	sub_free(s, c, sb);
	update_mask(s);
	resp.call_id = req->call_id;
	resp.body_case = SMSR__V1__RESPONSE__BODY_UNSUBSCRIBE;
	resp.unsubscribe = &out;
	conn_reply(s, c, &resp);
}
