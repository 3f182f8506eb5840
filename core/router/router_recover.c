/* SPDX-License-Identifier: MIT */
/*
 * Recovery: the messages the journal holds that never reached a final
 * state come back at start, with their ids.
 *
 * At create, the journal is replayed into a set keyed by message id: the
 * latest ACCEPT of each message (a message brought back before is
 * accepted again, so its older ACCEPT is released), and its last state
 * after it. At start, once the workers run, each message that is not final
 * goes through the one accept path again (router_submit.c), in the order
 * it was first accepted, with a new ACCEPT record; the old one is
 * released. What it becomes depends on the last thing recorded of it:
 *  - nothing since its ACCEPT (or a QUEUED: sent back to a lane): queued;
 *  - HANDOFF, no answer recorded: unknown outcome; resent if its class is
 *    in retry.resend_unanswered and it is still valid, else failed
 *    unknown_outcome;
 *  - SUBMITTED: awaits its receipt on the same channel (by name), under
 *    the carrier ids recorded; failed unknown_outcome if that channel is
 *    gone;
 *  - validity over: expired.
 * Ids handed out after the start are above every id replayed, even if the
 * clock went back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "router_int.h"
#include "router_journal.h"

struct rv_ent {
	uint64_t id;
	uint64_t accept_lsn;
	uint8_t *accept; /* the latest ACCEPT's payload */
	uint32_t accept_len;
	uint8_t state;	 /* SMSR__JREC_* of the last record */
	uint8_t attempt; /* of the last state record */
	bool final, handed;
	char chan[SMSR__NAME_MAX + 1];
	char *ids;		    /* SUBMITTED: the carrier ids, joined */
	uint64_t submitted_unix_ns; /* SUBMITTED: when the carrier took it */
};

struct smsr__revive_set {
	struct rv_ent *v;
	size_t n, cap;
	uint32_t *table; /* open addressing: index into @v + 1 */
	uint32_t mask;
	uint64_t max_id;
	uint64_t records;
	bool oom;
};

static uint32_t slot_of(const struct smsr__revive_set *s, uint64_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) & s->mask;
}

static struct rv_ent *find(struct smsr__revive_set *s, uint64_t id)
{
	if (!s->table)
		return NULL;
	for (uint32_t i = slot_of(s, id); s->table[i]; i = (i + 1) & s->mask)
		if (s->v[s->table[i] - 1].id == id)
			return &s->v[s->table[i] - 1];
	return NULL;
}

static int grow(struct smsr__revive_set *s)
{
	uint32_t nmask = s->mask ? s->mask * 2 + 1 : 1023;
	uint32_t *t = calloc((size_t)nmask + 1, sizeof(*t));
	size_t ncap = s->cap ? s->cap * 2 : 256;
	struct rv_ent *v = realloc(s->v, ncap * sizeof(*v));

	if (!t || !v) {
		free(t);
		if (v)
			s->v = v;
		return -SMSR_ENOMEM;
	}
	s->v = v;
	s->cap = ncap;
	free(s->table);
	s->table = t;
	s->mask = nmask;
	for (size_t k = 0; k < s->n; k++) {
		uint32_t i = slot_of(s, s->v[k].id);

		while (t[i])
			i = (i + 1) & nmask;
		t[i] = (uint32_t)k + 1;
	}
	return 0;
}

static struct rv_ent *add(struct smsr__revive_set *s, uint64_t id)
{
	struct rv_ent *e;
	uint32_t i;

	if ((s->n + 1) * 2 > (size_t)s->mask + 1 || s->n == s->cap)
		if (grow(s) < 0)
			return NULL;
	e = &s->v[s->n];
	memset(e, 0, sizeof(*e));
	e->id = id;
	for (i = slot_of(s, id); s->table[i]; i = (i + 1) & s->mask)
		;
	s->table[i] = (uint32_t)++s->n;
	return e;
}

static void on_accept(struct smsr_router *r, struct smsr__revive_set *s, uint64_t id,
		      const void *payload, uint32_t len, uint64_t lsn)
{
	struct rv_ent *e = find(s, id);
	uint8_t *copy;

	if (len < sizeof(struct smsr__jaccept))
		return;
	if (!e && !(e = add(s, id))) {
		s->oom = true;
		return;
	}
	if (e->accept_lsn) /* accepted again at a later start: that one counts */
		smsr__journal_release(r->journal, e->accept_lsn);
	copy = malloc(len);
	if (!copy) {
		s->oom = true;
		return;
	}
	memcpy(copy, payload, len);
	free(e->accept);
	free(e->ids);
	e->accept = copy;
	e->accept_len = len;
	e->accept_lsn = lsn;
	e->state = SMSR__JREC_ACCEPT;
	e->final = e->handed = false;
	e->ids = NULL;
	if (id > s->max_id)
		s->max_id = id;
}

static void on_state(struct smsr_router *r, struct rv_ent *e, uint8_t type, const void *payload,
		     uint32_t len)
{
	struct smsr__jstate stv, *st = &stv; /* payloads are only 4-aligned */
	const char *name = (const char *)payload + sizeof(*st);
	size_t nl;

	if (len < sizeof(*st) || e->final)
		return;
	memcpy(st, payload, sizeof(*st));
	nl = st->name_len < len - sizeof(*st) ? st->name_len : len - sizeof(*st);
	if (nl > SMSR__NAME_MAX)
		nl = SMSR__NAME_MAX;
	e->state = type;
	e->attempt = st->attempt;
	memcpy(e->chan, name, nl);
	e->chan[nl] = '\0';
	if (type == SMSR__JREC_HANDOFF)
		e->handed = true;
	if (type == SMSR__JREC_SUBMITTED) {
		size_t il = len - sizeof(*st) - nl;

		e->submitted_unix_ns = st->ts_unix_ns;
		free(e->ids);
		e->ids = malloc(il + 1);
		if (e->ids) {
			memcpy(e->ids, name + nl, il);
			e->ids[il] = '\0';
		}
	}
	if (type == SMSR__JREC_FINAL) {
		e->final = true;
		smsr__journal_release(r->journal, e->accept_lsn);
		free(e->accept);
		free(e->ids);
		e->accept = NULL;
		e->ids = NULL;
	}
}

static void on_record(void *arg, uint8_t type, uint64_t id, const void *payload, uint32_t len,
		      uint64_t lsn)
{
	struct smsr_router *r = arg;
	struct smsr__revive_set *s = r->revive;
	struct rv_ent *e;

	s->records++;
	if (r->archiver) /* re-feed what the archive may not have taken */
		smsr__archiver_feed(r->archiver, type, id, payload, len);
	if (type == SMSR__JREC_ACCEPT) {
		on_accept(r, s, id, payload, len, lsn);
		return;
	}
	e = find(s, id);
	if (e) /* else: its ACCEPT went with a compacted or damaged segment */
		on_state(r, e, type, payload, len);
}

int smsr__journal_recover_load(struct smsr_router *r)
{
	struct smsr__journal_replay_stats st = {0};
	char line[256];
	size_t live = 0;
	int ret;

	r->revive = calloc(1, sizeof(*r->revive));
	if (!r->revive)
		return -SMSR_ENOMEM;
	ret = smsr__journal_replay(r->journal, on_record, r, &st);
	if (ret < 0 || r->revive->oom) {
		snprintf(line, sizeof(line), "journal: replay failed: %s",
			 ret < 0 ? smsr_strerror(ret) : "out of memory");
		if (r->on_log)
			r->on_log(r->log_arg, line);
		return ret < 0 ? ret : -SMSR_ENOMEM;
	}
	if (r->archiver)
		smsr__archiver_flush(r->archiver);
	for (size_t k = 0; k < r->revive->n; k++)
		live += !r->revive->v[k].final;
	snprintf(line, sizeof(line),
		 "journal: %llu records in %llu segments replayed, %zu messages not final%s",
		 (unsigned long long)st.records, (unsigned long long)st.segments, live,
		 st.quarantined ? " (damaged segments quarantined: see above)" : "");
	if (r->on_log && st.records)
		r->on_log(r->log_arg, line);
	smsr__ids_after(r, r->revive->max_id);
	return 0;
}

/* Read @e's ACCEPT into @m (pointing into the payload) and the revive
 * settings; false if the payload does not hold together. */
static bool decode(const struct rv_ent *e, struct smsr_msg *m, struct smsr__jaccept *a)
{
	const char *d;
	size_t need;

	memcpy(a, e->accept, sizeof(*a));
	need = sizeof(*a) + a->text_len + a->sender_len + a->ref_len + a->tags_len + 4u;
	if (e->accept_len < need || a->cls < 1 || a->cls > SMSR_NCLASS ||
	    memchr(a->recipient, '\0', sizeof(a->recipient)) == NULL)
		return false;
	d = (const char *)e->accept + sizeof(*a);
	memset(m, 0, sizeof(*m));
	m->recipient = a->recipient;
	m->text = d;
	m->text_len = a->text_len;
	d += a->text_len + 1;
	m->sender = a->sender_len ? d : NULL;
	d += a->sender_len + 1;
	m->client_ref = a->has_ref ? d : NULL;
	d += a->ref_len + 1;
	m->tags = a->tags_len ? d : NULL;
	m->cls = (enum smsr_class)a->cls;
	m->validity_ms = a->validity_ms;
	return true;
}

/* What @e becomes (see the file comment). */
static void plan(const struct smsr_router *r, const struct rv_ent *e, const struct smsr__jaccept *a,
		 uint64_t now_wall, struct smsr__revive *rv)
{
	uint64_t ends = a->accepted_unix_ns + (uint64_t)a->validity_ms * SMSR__MS;

	rv->attempt = e->attempt ? e->attempt : a->attempt;
	rv->maybe_sent = a->maybe_sent || e->handed;
	if (now_wall >= ends) {
		rv->action = SMSR__REVIVE_FINISH;
		rv->type = SMSR_EV_EXPIRED;
		rv->reason = -SMSR_EEXPIRED;
	} else if (e->state == SMSR__JREC_SUBMITTED && e->ids && e->ids[0]) {
		rv->action = SMSR__REVIVE_ADOPT;
		rv->chan = e->chan;
		rv->ids = e->ids;
		rv->submitted_unix_ns = e->submitted_unix_ns;
	} else if (e->state == SMSR__JREC_HANDOFF || e->state == SMSR__JREC_SUBMITTED) {
		if (r->cfg.resend_classes & SMSR__CLASS_BIT(a->cls)) {
			rv->action = SMSR__REVIVE_QUEUE;
			rv->attempt++;
		} else {
			rv->action = SMSR__REVIVE_FINISH;
			rv->type = SMSR_EV_FAILED;
			rv->reason = -SMSR_EUNKNOWNOUTCOME;
		}
	} else {
		rv->action = SMSR__REVIVE_QUEUE;
	}
}

/* It could not be accepted again (its route has no channel now...): end it
 * in the journal, say why. */
static void drop(struct smsr_router *r, const struct rv_ent *e, int why)
{
	char line[160];
	uint64_t lsn;
	struct smsr__jstate st = {
	    .ts_unix_ns = smsr__wall_ns(), .reason = why, .type = SMSR_EV_FAILED};

	(void)smsr__journal_append(r->journal, SMSR__JREC_FINAL, e->id, &st, sizeof(st), &lsn);
	smsr__journal_release(r->journal, e->accept_lsn);
	snprintf(line, sizeof(line), "journal: message %llu could not be taken back: %s",
		 (unsigned long long)e->id, smsr_errname(why));
	if (r->on_log)
		r->on_log(r->log_arg, line);
}

void smsr__journal_recover_run(struct smsr_router *r)
{
	struct smsr__revive_set *s = r->revive;
	uint64_t now_wall = smsr__wall_ns(), now_mono = smsr__now_ns();

	for (size_t k = 0; k < s->n; k++) {
		struct rv_ent *e = &s->v[k];
		struct smsr__revive rv = {.id = e->id};
		struct smsr_msg m;
		struct smsr__jaccept a;
		uint64_t age;
		int ret;

		if (e->final || !e->accept)
			continue;
		if (!decode(e, &m, &a)) {
			drop(r, e, -SMSR_EINVAL);
			continue;
		}
		age = now_wall > a.accepted_unix_ns ? now_wall - a.accepted_unix_ns : 0;
		rv.accepted_ns = now_mono > age ? now_mono - age : 0;
		plan(r, e, &a, now_wall, &rv);
		if (rv.submitted_unix_ns) { /* its report deadline counts from then */
			age = now_wall > rv.submitted_unix_ns ? now_wall - rv.submitted_unix_ns : 0;
			rv.submitted_ns = now_mono > age ? now_mono - age : 1;
		}
		/* Its ACCEPT stays live and serves again, unless its segment was
		 * quarantined: then it is written anew. */
		if (smsr__journal_lsn_kept(r->journal, e->accept_lsn))
			rv.jlsn = e->accept_lsn;
		/* Re-accepting writes faster than the disk: when every journal
		 * buffer waits for it, wait too (this is the starting thread). */
		for (int waits = 0;
		     (ret = smsr__submit_revived(r, &m, &rv)) == -EAGAIN && waits < 600000; waits++)
			nanosleep(&(struct timespec){.tv_nsec = 100000}, NULL);
		if (ret < 0)
			drop(r, e, ret);
		else if (!rv.jlsn)
			smsr__journal_release(r->journal, e->accept_lsn); /* written anew */
	}
	smsr__journal_recover_free(r);
}

void smsr__journal_recover_free(struct smsr_router *r)
{
	struct smsr__revive_set *s = r->revive;

	if (!s)
		return;
	for (size_t k = 0; k < s->n; k++) {
		free(s->v[k].accept);
		free(s->v[k].ids);
	}
	free(s->v);
	free(s->table);
	free(s);
	r->revive = NULL;
}
