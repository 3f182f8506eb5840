/* SPDX-License-Identifier: MIT */
/*
 * The router's side of the journal (core/journal/journal.h): what it
 * records of a message, when a message counts as durable, and how the
 * messages that were not final come back at start.
 *
 * Records. ACCEPT holds the whole message (payload below), appended by the
 * submitting thread before submit returns; the worker then appends HANDOFF
 * (given to a driver: from here a carrier may have it), SUBMITTED (the
 * carrier took it; channel and carrier ids, for receipts after a restart),
 * QUEUED when a message that was handed off goes back to a lane (a retry
 * or a resend), and FINAL. The FINAL record releases the message's ACCEPT,
 * so its segment can go. The first QUEUED and the moves between lanes are
 * not recorded: a message with no HANDOFF after its last ACCEPT or QUEUED
 * was never sent, and is simply queued again.
 *
 * Payloads are in the host's byte order: a journal belongs to the machine
 * (and the build) that wrote it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "router_int.h"
#include "router_journal.h"

static size_t rec_data_len(const struct smsr__rec *rec)
{
	return rec->text_len + rec->sender_len + rec->ref_len + rec->tags_len + 4u;
}

int smsr__journal_accept(struct smsr_router *r, struct smsr__rec *rec, uint64_t now_mono)
{
	struct smsr__jaccept a;
	uint64_t age = now_mono > rec->accepted_ns ? now_mono - rec->accepted_ns : 0;
	int ret;

	if (!r->journal)
		return 0;
	memset(&a, 0, sizeof(a));
	a.accepted_unix_ns = smsr__wall_ns() - age;
	a.validity_ms = rec->validity_ms;
	a.text_len = rec->text_len;
	a.cls = rec->cls;
	a.carrier = rec->carrier;
	a.segments = rec->segments;
	a.coding = rec->coding;
	a.sender_len = rec->sender_len;
	a.ref_len = rec->ref_len;
	a.tags_len = rec->tags_len;
	a.has_ref = rec->has_ref;
	a.attempt = rec->attempt;
	a.maybe_sent = rec->maybe_sent;
	memcpy(a.recipient, rec->recipient, sizeof(a.recipient));
	ret = smsr__journal_append2(r->journal, SMSR__JREC_ACCEPT, rec->id, &a, sizeof(a),
				    rec->data, (uint32_t)rec_data_len(rec), &rec->jlsn);
	return ret;
}

void smsr__journal_event(struct smsr_router *r, enum smsr_event_type type,
			 const struct smsr__rec *rec, int reason, int op_code, const char *ids)
{
	union {
		struct smsr__jstate st;
		char b[sizeof(struct smsr__jstate) + 32 + 512];
	} u;
	char *buf = u.b;
	struct smsr__jstate *s = &u.st;
	const char *name;
	size_t nl, il = 0;
	uint8_t jt;
	uint64_t lsn;

	if (!r->journal || !rec->jlsn || rec->jskip)
		return;
	switch (type) {
	case SMSR_EV_QUEUED:
		if (rec->attempt <= 1)
			return; /* never handed off: the ACCEPT says all */
		jt = SMSR__JREC_QUEUED;
		break;
	case SMSR_EV_HANDOFF:
		if (rec->jhand)
			return; /* recorded before it could go (router_chan.c, stage()) */
		jt = SMSR__JREC_HANDOFF;
		break;
	case SMSR_EV_SUBMITTED:
		jt = SMSR__JREC_SUBMITTED;
		break;
	case SMSR_EV_DELIVERED:
	case SMSR_EV_FAILED:
	case SMSR_EV_EXPIRED:
		jt = SMSR__JREC_FINAL;
		break;
	default:
		return;
	}
	name = r->chans[rec->chan].cfg->name;
	nl = strnlen(name, 32);
	if (jt == SMSR__JREC_SUBMITTED && ids)
		il = strnlen(ids, 511);
	memset(s, 0, sizeof(*s));
	s->ts_unix_ns = smsr__wall_ns();
	s->reason = reason;
	s->op_code = op_code;
	s->type = (uint8_t)type;
	s->attempt = rec->attempt;
	s->name_len = (uint8_t)nl;
	memcpy(buf + sizeof(*s), name, nl);
	memcpy(buf + sizeof(*s) + nl, ids ? ids : "", il);
	/* A record that cannot be written (disk full, failed): the message goes
	 * on; after a crash it is treated by the last state that was written. */
	(void)smsr__journal_append(r->journal, jt, rec->id, buf, (uint32_t)(sizeof(*s) + nl + il),
				   &lsn);
	if (jt == SMSR__JREC_FINAL)
		smsr__journal_release(r->journal, rec->jlsn);
}

uint64_t smsr__journal_handoff(struct smsr_router *r, const struct smsr__rec *rec,
			       const struct smsr_chan *c)
{
	union {
		struct smsr__jstate st;
		char b[sizeof(struct smsr__jstate) + 32];
	} u;
	size_t nl = strnlen(c->cfg->name, 32);
	uint64_t lsn = 0;

	memset(&u.st, 0, sizeof(u.st));
	u.st.ts_unix_ns = smsr__wall_ns();
	u.st.type = SMSR_EV_HANDOFF;
	u.st.attempt = rec->attempt;
	u.st.name_len = (uint8_t)nl;
	memcpy(u.b + sizeof(u.st), c->cfg->name, nl);
	if (smsr__journal_append(r->journal, SMSR__JREC_HANDOFF, rec->id, u.b,
				 (uint32_t)(sizeof(u.st) + nl), &lsn) < 0)
		return 0;
	return lsn;
}

uint64_t smsr_router_durable_seq(const struct smsr_router *r)
{
	return r && r->journal ? smsr__journal_durable_lsn(r->journal) : UINT64_MAX;
}

bool smsr__journal_durable(const struct smsr_router *r, const struct smsr__rec *rec)
{
	return !r->journal || !r->journal_hold ||
	       rec->jlsn <= smsr__journal_durable_lsn(r->journal);
}

/* --- opening ------------------------------------------------------------------ */

static void on_durable(void *arg, uint64_t lsn)
{
	struct smsr_router *r = arg;

	/* Workers hold what is not durable yet (SYNC): let them look again. */
	if (r->journal_hold)
		for (unsigned i = 0; i < r->nworkers; i++)
			if (atomic_load_explicit(&r->workers[i].held, memory_order_relaxed))
				smsr__worker_wake(&r->workers[i]);
	if (r->on_durable)
		r->on_durable(r->log_arg, lsn);
}

static void on_tap(void *arg, const struct iovec *iov, int n, uint64_t last_lsn)
{
	struct smsr_router *r = arg;

	if (r->archiver)
		smsr__archiver_tap(r->archiver, iov, n, last_lsn);
}

static void on_log(void *arg, const char *line)
{
	struct smsr_router *r = arg;

	if (r->on_log)
		r->on_log(r->log_arg, line);
}

int smsr__journal_setup(struct smsr_router *r, const struct smsr_router_opts *o)
{
	struct smsr__journal_opts jo = {0};
	char err[256] = "", line[300];
	int mode = o ? o->journal_mode : 0, ret;

	if (!o || !o->journal_dir || mode == SMSR_JOURNAL_OFF)
		return 0;
	r->on_durable = o->on_durable;
	r->on_log = o->on_log;
	r->log_arg = o->log_arg;
	jo.dir = o->journal_dir;
	jo.mode = mode == SMSR_JOURNAL_BATCH ? SMSR__JOURNAL_BATCH : SMSR__JOURNAL_SYNC;
	jo.batch_ms = o->journal_batch_ms;
	jo.segment_size = o->journal_segment;
	jo.archive = o->journal_keep; /* deletion waits for an archive that never says so */
	r->journal_keep = o->journal_keep;
	jo.on_durable = on_durable;
	jo.log = on_log;
	if (o->archive_path) {
		ret = smsr__archiver_open(r, o->archive_path,
					  (uint64_t)o->archive_retention_s * 1000000000ull, err,
					  sizeof(err));
		if (ret < 0) {
			snprintf(line, sizeof(line), "archive %s: %s", o->archive_path, err);
			on_log(r, line);
			return ret;
		}
		jo.tap = on_tap;
		jo.archive = true; /* segments go once the archive has their history */
	}
	jo.arg = r;
	r->journal_hold = jo.mode == SMSR__JOURNAL_SYNC;
	ret = smsr__journal_open(&jo, &r->journal, err, sizeof(err));
	if (ret < 0) {
		snprintf(line, sizeof(line), "journal %s: %s", o->journal_dir, err);
		on_log(r, line);
		r->journal = NULL;
		return ret;
	}
	return smsr__journal_recover_load(r);
}
