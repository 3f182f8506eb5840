/* SPDX-License-Identifier: MIT */
/*
 * Description: the kill -9 loop. smsrd runs on one data directory
 * (`--data-dir DIR --journal-keep`, sync journal) with simulated channels
 * whose answers take milliseconds and whose delivery reports take up to
 * two seconds (with temporary and permanent refusals, and now and then a
 * black hole, lost reports or a refusing carrier), so that at any moment
 * messages sit in every state: queued, handed off, taken by the carrier,
 * awaiting a report. Each cycle sends pipelined submits of all three
 * classes (class set explicitly, distinct texts) and records every id
 * whose submit was answered accepted; a second thread kills smsrd with
 * SIGKILL at a random moment 0.2-1.5 s into the load, while calls are in
 * flight; smsrd starts again on the same directory. After the last cycle
 * it starts once more, runs until nothing is queued, in flight or
 * awaiting a report, and stops cleanly.
 *
 * The oracle is the journal itself, every segment kept, read with the
 * journal's own replay, plus a witness: a subscriber to HANDOFF and
 * SUBMITTED events in every life, which sees what the router did even
 * when the journal's record of it never reached the disk. Checks:
 *  - no acknowledged message is lost (each has an ACCEPT record);
 *  - every message the journal accepted, acknowledged or not, has
 *    exactly one FINAL record and nothing after it;
 *  - notices and promotions (not in retry.resend_unanswered) are never
 *    sent twice: a HANDOFF only after a QUEUED (a requeue after a definite
 *    refusal) once handed off, never after the carrier took it (SUBMITTED),
 *    at most one carrier id over all lives (journal and witness), and no
 *    HANDOFF the witness saw that the journal lost and a later life sent
 *    again. Verification codes may be resent; those are counted.
 * The report gives the counts, the final states, the duplicates by class
 * and what each restart's recovery logged. A violation prints the seed,
 * the offending ids' records and witnessed events, keeps DIR, and fails.
 *
 *   test_kill9 [--cycles N] [--seed S] [--keep] [--verbose]
 *
 * The default (6 cycles) is the CI run; the seed is printed with the
 * command that replays it (kill moments and load are drawn from it; the
 * interleaving with smsrd's threads is not, so a rerun may need tries).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "journal/journal.h"
#include "router/router_journal.h"
#include "smsr/client.h"
#include "smsr/errors.h"
#include "smsr/msg.h"

#define DEPTH	  16	/* submit calls in flight */
#define BATCH_MAX 20	/* messages per call */
#define CALL_MS	  5000	/* a call's answer, a stall of the load */
#define DRAIN_MS  90000 /* the last life's wait for every message to end */
#define SHOW_MAX  12	/* offending ids printed */
#define MSGID_MAX 32

struct opts {
	unsigned cycles;
	uint64_t seed;
	bool keep, verbose;
};

/* --- randomness: splitmix64, one stream per (seed, cycle, role) ----------- */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *s)
{
	return mix64(*s += 0x9e3779b97f4a7c15ull);
}

static unsigned below(uint64_t *s, unsigned n)
{
	return n ? (unsigned)(rnd(s) % n) : 0;
}

static uint64_t stream(uint64_t seed, unsigned cycle, unsigned role)
{
	return mix64(seed ^ mix64(((uint64_t)cycle << 8 | role) + 1));
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* --- what the test saw: acknowledged ids, witnessed events ----------------- */

struct ack {
	uint64_t id;
	uint8_t cls, life;
};

struct wev {
	uint64_t id;
	uint8_t type, life;
	char msgid[MSGID_MAX];
};

struct vec {
	void *v;
	size_t n, cap, size;
};

static void *vec_push(struct vec *a)
{
	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 4096;
		void *nv = realloc(a->v, ncap * a->size);

		if (!nv) {
			fprintf(stderr, "kill9: out of memory\n");
			exit(1);
		}
		a->v = nv;
		a->cap = ncap;
	}
	return (char *)a->v + a->size * a->n++;
}

static struct vec acks = {.size = sizeof(struct ack)};
static struct vec wevs = {.size = sizeof(struct wev)};

/* --- the rig: data directory, configuration, smsrd's lives ----------------- */

struct rig {
	char dir[64], jdir[96], conf[96], log[96];
	struct smsrd_proc d;
	unsigned life;	      /* 0-based; lives = cycles + 1 */
	uint64_t *seg_floor;  /* per life: highest segment seq before it */
	uint64_t fault_lives; /* lives with a channel fault, counted */
	const struct opts *o;
};

/* The highest segment sequence number in the journal, 0 if none. */
static uint64_t last_segment(const struct rig *g)
{
	DIR *dp = opendir(g->jdir);
	struct dirent *de;
	uint64_t max = 0;

	if (!dp)
		return 0;
	while ((de = readdir(dp))) {
		char *end;
		uint64_t seq = strtoull(de->d_name, &end, 16);

		if (end == de->d_name + 16 && (!strcmp(end, ".seg") || !strcmp(end, ".seg.bad")) &&
		    seq > max)
			max = seq;
	}
	closedir(dp);
	return max;
}

/*
 * This life's configuration: the same channels every life, the sims
 * seeded per life (so carrier ids never repeat across restarts, as a real
 * carrier's don't), a fault on one bulk channel in some lives.
 */
static int write_conf(struct rig *g, uint64_t seed)
{
	static const char *const faults[] = {"blackhole", "nodlr", "reject", "down"};
	uint64_t s = stream(seed, g->life, 1);
	unsigned sim_seed = (unsigned)(rnd(&s) & 0x3fffffff);
	char fault[160] = "";
	FILE *f;

	if (below(&s, 100) < 35) {
		snprintf(fault, sizeof(fault),
			 " fault = \"%s\"; fault_at_ms = %u; fault_for_ms = %u;",
			 faults[below(&s, 4)], 100 + below(&s, 900), 200 + below(&s, 800));
		g->fault_lives++;
	}
	f = fopen(g->conf, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"router: { workers = 2; };\n"
		"channels = (\n"
		"  { name = \"otp\"; driver = \"sim\"; classes = [\"verification\"];\n"
		"    tps = 400; window = 32; dlr_timeout = \"2s\"; submit_timeout = \"1s\";\n"
		"    params = { latency_ms = 6; jitter_ms = 4; accept_rate = 0.995;\n"
		"               delivery_rate = 0.97; dlr_delay_ms = 300; dlr_jitter_ms = 200;\n"
		"               seed = %u; }; },\n"
		"  { name = \"bulk-a\"; driver = \"sim\"; tps = 900; window = 64;\n"
		"    dlr_timeout = \"3s\"; submit_timeout = \"1s\";\n"
		"    params = { latency_ms = 11; jitter_ms = 9; accept_rate = 0.98; reject_share = "
		"0.3;\n"
		"               delivery_rate = 0.95; dlr_delay_ms = 1050; dlr_jitter_ms = 950;\n"
		"               seed = %u; }; },\n"
		"  { name = \"bulk-b\"; driver = \"sim\"; tps = 600; window = 48;\n"
		"    dlr_timeout = \"3s\"; submit_timeout = \"1s\";\n"
		"    params = { latency_ms = 12; jitter_ms = 8; accept_rate = 0.99;\n"
		"               delivery_rate = 0.9; dlr_delay_ms = 800; dlr_jitter_ms = 700;\n"
		"               seed = %u;%s }; }\n"
		");\n"
		"routes = (\n"
		"  { classes = [\"verification\"]; groups = ( [\"otp\"], [\"bulk-a\", \"bulk-b\"] "
		"); },\n"
		"  { classes = [\"notice\", \"marketing\"]; groups = ( [\"bulk-a:2\", \"bulk-b\"] "
		"); }\n"
		");\n",
		sim_seed, sim_seed + 1, sim_seed + 2, fault);
	return fclose(f) ? -errno : 0;
}

/* Start life g->life; its stderr goes to DIR/smsrd.LIFE.log. */
static int life_start(struct rig *g)
{
	const char *args[] = {"-c", g->conf, "--data-dir", g->dir, "--journal-keep", NULL};
	int ret;

	g->seg_floor[g->life] = last_segment(g);
	ret = write_conf(g, g->o->seed);
	if (ret < 0)
		return ret;
	snprintf(g->log, sizeof(g->log), "%s/smsrd.%u.log", g->dir, g->life);
	ret = smsrd_start_logged(&g->d, args, g->log);
	if (ret < 0)
		fprintf(stderr, "kill9: life %u: smsrd did not start: %s (see %s)\n", g->life,
			strerror(-ret), g->log);
	return ret;
}

/* --- the witness: HANDOFF and SUBMITTED events of one life ----------------- */

struct witness {
	pthread_t t;
	struct smsr_client *c;
	unsigned life;
	uint64_t events, overflows;
};

static void *witness_run(void *arg)
{
	struct witness *w = arg;
	Smsr__V1__Response *r;
	int ret;

	while ((ret = smsr_client_recv(w->c, &r, 500)) != -SMSR_ECONNLOST) {
		const Smsr__V1__Event *e;

		if (ret < 0)
			continue;
		e = r->body_case == SMSR__V1__RESPONSE__BODY_EVENT ? r->event : NULL;
		if (e && e->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_OVERFLOW)
			w->overflows += e->dropped;
		else if (e && e->id) {
			struct wev *v = vec_push(&wevs);

			v->id = e->id;
			v->type = (uint8_t)e->type;
			v->life = (uint8_t)w->life;
			snprintf(v->msgid, sizeof(v->msgid), "%s",
				 e->carrier_msgid ? e->carrier_msgid : "");
			w->events++;
		}
		smsr_client_free(r);
	}
	return NULL;
}

static int witness_start(struct witness *w, const struct rig *g)
{
	static Smsr__V1__EventType types[] = {SMSR__V1__EVENT_TYPE__EVENT_TYPE_HANDOFF,
					      SMSR__V1__EVENT_TYPE__EVENT_TYPE_SUBMITTED};
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubscribeRequest sr = SMSR__V1__SUBSCRIBE_REQUEST__INIT;
	Smsr__V1__Response *r = NULL;
	int ret;

	memset(w, 0, sizeof(*w));
	w->life = g->life;
	ret = smsr_client_connect(&w->c, g->d.tcp_addr, NULL);
	if (ret < 0)
		return ret;
	sr.n_types = 2;
	sr.types = types;
	sr.queue_limit = 262144;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sr;
	ret = smsr_client_call(w->c, &req, &r, CALL_MS);
	if (ret == 0 && (ret = smsr_client_error(r)) == 0)
		ret = pthread_create(&w->t, NULL, witness_run, w) ? -EAGAIN : 0;
	smsr_client_free(r);
	if (ret < 0) {
		smsr_client_close(w->c);
		w->c = NULL;
	}
	return ret;
}

/* After smsrd died or stopped: the stream has ended. */
static void witness_join(struct witness *w)
{
	if (!w->c)
		return;
	pthread_join(w->t, NULL);
	smsr_client_close(w->c);
	w->c = NULL;
}

/* --- the load ------------------------------------------------------------ */

struct killer {
	pthread_t t;
	pid_t pid;
	unsigned after_ms;
};

static void *killer_run(void *arg)
{
	struct killer *k = arg;

	nap_ms(k->after_ms);
	kill(k->pid, SIGKILL);
	return NULL;
}

/* One call in flight: its messages' classes, to record what is acked. */
struct call {
	uint64_t call_id;
	unsigned n;
	uint8_t cls[BATCH_MAX];
};

struct load_stats {
	uint64_t sent, acked, refused, calls_lost;
	uint64_t acked_cls[SMSR_NCLASS + 1];
};

static const char *const class_word[] = {"auto", "verification", "notice", "marketing"};

/* One message of class drawn from @s; @seq makes its text unique. */
static void make_msg(uint64_t *s, uint64_t seq, struct smsr_msg *m, char *to, char *text)
{
	static const char *const pre[] = {"138", "139", "130", "133", "186", "155"};
	unsigned p = below(s, 100);

	m->cls = p < 30	  ? SMSR_CLASS_VERIFICATION
		 : p < 70 ? SMSR_CLASS_NOTICE
			  : SMSR_CLASS_MARKETING;
	sprintf(to, "+86%s%08u", pre[below(s, 6)], below(s, 100000000));
	if (m->cls == SMSR_CLASS_VERIFICATION)
		sprintf(text, "【应用】您的验证码是%06u，5分钟内有效。序号%" PRIu64,
			below(s, 1000000), seq);
	else if (m->cls == SMSR_CLASS_NOTICE)
		sprintf(text, "【快递】您的包裹%" PRIu64 "已发出，请注意查收。", seq);
	else
		sprintf(text, "【店铺】周末大促第%" PRIu64 "场，全场5折，回TD退订", seq);
	m->recipient = to;
	m->text = text;
	m->text_len = strlen(text);
	/* A quarter of the codes are short-lived: some expire across a restart. */
	m->validity_ms =
	    m->cls == SMSR_CLASS_VERIFICATION && below(s, 4) == 0 ? 2000 + below(s, 3000) : 0;
}

static int send_call(struct smsr_client *c, uint64_t *s, uint64_t *seq, struct call *cl)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubmitRequest sr = SMSR__V1__SUBMIT_REQUEST__INIT;
	Smsr__V1__Message pb[BATCH_MAX], *pp[BATCH_MAX];
	struct smsr_msg m[BATCH_MAX];
	char to[BATCH_MAX][24], text[BATCH_MAX][160];

	cl->n = 1 + below(s, BATCH_MAX);
	for (unsigned i = 0; i < cl->n; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		make_msg(s, (*seq)++, &m[i], to[i], text[i]);
		smsr__v1__message__init(&pb[i]);
		smsr_client_msg_to_pb(&pb[i], &m[i]);
		pp[i] = &pb[i];
		cl->cls[i] = (uint8_t)m[i].cls;
	}
	sr.n_messages = cl->n;
	sr.messages = pp;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	req.submit = &sr;
	return smsr_client_send(c, &req, &cl->call_id);
}

/* Record the accepted results of @r, the answer to one of @calls. */
static void take_answer(const struct rig *g, Smsr__V1__Response *r, struct call *calls,
			unsigned *ncalls, struct load_stats *ls)
{
	unsigned k;

	for (k = 0; k < *ncalls && calls[k].call_id != r->call_id; k++)
		;
	if (k == *ncalls)
		return; /* not a submit of ours */
	if (r->body_case == SMSR__V1__RESPONSE__BODY_SUBMIT) {
		for (size_t i = 0; i < r->submit->n_results && i < calls[k].n; i++) {
			const Smsr__V1__SubmitResult *sr = r->submit->results[i];
			struct ack *a;

			if (sr->status != 0) {
				ls->refused++;
				continue;
			}
			if ((uint8_t)sr->cls != calls[k].cls[i])
				fprintf(stderr, "kill9: id %" PRIu64 ": class %d, sent as %d\n",
					sr->id, (int)sr->cls, calls[k].cls[i]);
			a = vec_push(&acks);
			a->id = sr->id;
			a->cls = calls[k].cls[i];
			a->life = (uint8_t)g->life;
			ls->acked++;
			ls->acked_cls[a->cls]++;
		}
	} else {
		ls->refused += calls[k].n; /* the call as a whole refused (busy...) */
	}
	calls[k] = calls[--*ncalls];
}

/*
 * Pipelined load at a rate drawn for the cycle until the connection dies
 * (the killer's SIGKILL); answers that arrived before are still read.
 * 0, or -1 when the load stalled with smsrd alive.
 */
static int run_load(struct rig *g, uint64_t *s, struct load_stats *ls)
{
	struct call calls[DEPTH];
	unsigned ncalls = 0, rate = 800 + below(s, 2200);
	uint64_t seq = (uint64_t)g->life << 40, t0 = now_ms(), last = t0, budget = 0;
	struct smsr_client *c = NULL;
	bool lost = false;

	if (smsr_client_connect(&c, g->d.tcp_addr, NULL) < 0)
		return -1;
	while (!lost || ncalls) {
		Smsr__V1__Response *r;
		int ret;

		/* Messages earned at @rate since the start, less what went. */
		budget = (now_ms() - t0) * rate / 1000;
		while (!lost && ncalls < DEPTH && ls->sent < budget) {
			if (send_call(c, s, &seq, &calls[ncalls]) < 0) {
				lost = true;
				break;
			}
			ls->sent += calls[ncalls++].n;
		}
		if (!lost && smsr_client_flush(c) < 0)
			lost = true;
		ret = smsr_client_recv(c, &r, 2);
		if (ret == 0) {
			take_answer(g, r, calls, &ncalls, ls);
			smsr_client_free(r);
			last = now_ms();
		} else if (ret == -SMSR_ECONNLOST) {
			lost = true;
			ls->calls_lost += ncalls; /* their messages may be in the journal */
			ncalls = 0;
		} else if (ret != -SMSR_ETIMEOUT || now_ms() - last > CALL_MS) {
			fprintf(stderr, "kill9: life %u: load: %s\n", g->life,
				ret == -SMSR_ETIMEOUT ? "no answer for 5 s" : smsr_strerror(ret));
			smsr_client_close(c);
			return -1;
		}
	}
	smsr_client_close(c);
	return 0;
}

/* --- the last life: wait until every message has ended --------------------- */

/* 1 when nothing is queued, in flight or held, 0 if something is, -1 on error. */
static int all_final(struct smsr_client *c, uint64_t *held)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__StatsRequest sr = SMSR__V1__STATS_REQUEST__INIT;
	Smsr__V1__Response *r = NULL;
	int ret;

	req.body_case = SMSR__V1__REQUEST__BODY_STATS;
	req.stats = &sr;
	if (smsr_client_call(c, &req, &r, CALL_MS) < 0)
		return -1;
	if (r->body_case != SMSR__V1__RESPONSE__BODY_STATS) {
		smsr_client_free(r);
		return -1;
	}
	*held = r->stats->queued_now + r->stats->inflight_now + r->stats->retrying_now;
	ret = *held == 0 && r->stats->mem_held == 0;
	smsr_client_free(r);
	return ret;
}

static int drain(struct rig *g)
{
	struct smsr_client *c = NULL;
	uint64_t t0 = now_ms(), held = 0;
	int ret = -1;

	if (smsr_client_connect(&c, g->d.tcp_addr, NULL) < 0)
		return -1;
	while (now_ms() - t0 < DRAIN_MS) {
		ret = all_final(c, &held);
		if (ret != 0)
			break;
		nap_ms(100);
	}
	smsr_client_close(c);
	if (ret != 1)
		fprintf(stderr, "kill9: last life: %s after %u ms (%" PRIu64 " held)\n",
			ret < 0 ? "stats failed" : "messages still not final", DRAIN_MS, held);
	else
		printf("kill9: last life: every message final after %" PRIu64 " ms\n",
		       now_ms() - t0);
	return ret == 1 ? 0 : -1;
}

/* --- the oracle: the journal's records ------------------------------------ */

struct jrec {
	uint64_t id, lsn;
	uint8_t type, ev, attempt, cls; /* cls: ACCEPT only */
	int32_t reason;
	char chan[16];
	char ids[MSGID_MAX];
};

static struct vec jrecs = {.size = sizeof(struct jrec)};

static void on_record(void *arg, uint8_t type, uint64_t id, const void *payload, uint32_t len,
		      uint64_t lsn)
{
	struct jrec *j = vec_push(&jrecs);

	memset(j, 0, sizeof(*j));
	j->id = id;
	j->lsn = lsn;
	j->type = type;
	if (type == SMSR__JREC_ACCEPT && len >= sizeof(struct smsr__jaccept)) {
		struct smsr__jaccept a;

		memcpy(&a, payload, sizeof(a));
		j->cls = a.cls;
	} else if (type != SMSR__JREC_ACCEPT && len >= sizeof(struct smsr__jstate)) {
		struct smsr__jstate st;
		const char *name = (const char *)payload + sizeof(st);
		size_t rest = len - sizeof(st), nl;

		memcpy(&st, payload, sizeof(st));
		nl = st.name_len < rest ? st.name_len : rest;
		j->ev = st.type;
		j->attempt = st.attempt;
		j->reason = st.reason;
		snprintf(j->chan, sizeof(j->chan), "%.*s", (int)nl, name);
		if (type == SMSR__JREC_SUBMITTED)
			snprintf(j->ids, sizeof(j->ids), "%.*s", (int)(rest - nl), name + nl);
	}
}

static int replay_journal(const struct rig *g, struct smsr__journal_replay_stats *st)
{
	struct smsr__journal_opts o = {.dir = g->jdir, .mode = SMSR__JOURNAL_SYNC};
	struct smsr__journal *j;
	char err[256] = "";
	int ret = smsr__journal_open(&o, &j, err, sizeof(err));

	if (ret < 0) {
		fprintf(stderr, "kill9: journal %s: %s (%s)\n", g->jdir, smsr_strerror(ret), err);
		return ret;
	}
	ret = smsr__journal_replay(j, on_record, NULL, st);
	smsr__journal_close(j);
	return ret;
}

/* --- checking -------------------------------------------------------------- */

static int cmp_jrec(const void *a, const void *b)
{
	const struct jrec *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->lsn < y->lsn ? -1 : x->lsn > y->lsn;
}

static int cmp_ack(const void *a, const void *b)
{
	const struct ack *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_wev(const void *a, const void *b)
{
	const struct wev *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->life < y->life ? -1 : x->life > y->life;
}

static const char *const rec_name[] = {"?",	    "ACCEPT",	"QUEUED", "HANDOFF",
				       "SUBMITTED", "DEFERRED", "FINAL"};

struct report {
	uint64_t ids, acked, acked_cls[SMSR_NCLASS + 1], unacked, lost;
	uint64_t finals[3];		      /* ids with 0, 1, 2+ FINAL records */
	uint64_t outcome[SMSR_EV_COUNT];      /* by the FINAL's event type */
	uint64_t revived;		      /* ids with more than one ACCEPT */
	uint64_t resent[SMSR_NCLASS + 1];     /* ids handed off twice or more */
	uint64_t two_ids[SMSR_NCLASS + 1];    /* ids the carrier took twice or more */
	uint64_t unrecorded[SMSR_NCLASS + 1]; /* witnessed HANDOFFs the journal lost */
	uint64_t violations, messages_bad;
	char reasons[24][40];
	uint64_t reason_n[24];
	unsigned nreasons;
};

static void count_reason(struct report *rp, const struct jrec *f)
{
	char name[40];
	unsigned k;

	snprintf(name, sizeof(name), "%s%s%s", smsr_event_name((enum smsr_event_type)f->ev),
		 f->reason ? " " : "", f->reason ? smsr_errname(f->reason) : "");
	for (k = 0; k < rp->nreasons && strcmp(rp->reasons[k], name); k++)
		;
	if (k == rp->nreasons) {
		if (k == 24)
			return;
		snprintf(rp->reasons[rp->nreasons++], sizeof(rp->reasons[0]), "%s", name);
	}
	rp->reason_n[k]++;
}

static unsigned life_of(const struct rig *g, uint64_t lsn)
{
	uint64_t seq = SMSR__JOURNAL_LSN_SEQ(lsn);
	unsigned l = 0;

	for (unsigned k = 0; k <= g->o->cycles; k++)
		if (seq > g->seg_floor[k])
			l = k;
	return l;
}

/* One message: its records @r[0..n) (LSN order), witness events @w[0..nw),
 * its ack or NULL. Adds to @rp; returns the violations found (printed). */
struct one {
	uint64_t id;
	const struct jrec *r;
	size_t n;
	const struct wev *w;
	size_t nw;
	const struct ack *a;
};

static void show(const struct rig *g, const struct one *m, const char *const *why, unsigned nwhy)
{
	printf("  id %" PRIu64 " (%s, %s):", m->id, m->a ? class_word[m->a->cls] : "unacked",
	       m->a ? "acked" : "not acked");
	for (unsigned k = 0; k < nwhy; k++)
		printf("%s %s", k ? ";" : "", why[k]);
	printf("\n");
	for (size_t i = 0; i < m->n; i++) {
		const struct jrec *j = &m->r[i];

		if (i == 10 && m->n > 16) { /* a message revived in many lives */
			printf("    ... %zu records\n", m->n - 16);
			i = m->n - 6;
		}

		printf("    life %u lsn %" PRIu64 ":%u %-9s", life_of(g, j->lsn),
		       SMSR__JOURNAL_LSN_SEQ(j->lsn), SMSR__JOURNAL_LSN_OFF(j->lsn),
		       rec_name[j->type <= 6 ? j->type : 0]);
		if (j->type == SMSR__JREC_ACCEPT)
			printf(" class %s\n", j->cls <= 3 ? class_word[j->cls] : "?");
		else
			printf(" %s attempt %u %s%s%s %s\n",
			       smsr_event_name((enum smsr_event_type)j->ev), j->attempt, j->chan,
			       j->reason ? " " : "", j->reason ? smsr_errname(j->reason) : "",
			       j->ids);
	}
	for (size_t i = 0; i < m->nw; i++)
		printf("    life %u witnessed %s %s\n", m->w[i].life,
		       smsr_event_name((enum smsr_event_type)m->w[i].type), m->w[i].msgid);
}

/* Distinct carrier ids the message was taken under (journal and witness). */
static unsigned carrier_ids(const struct one *m)
{
	const char *seen[64];
	unsigned n = 0;

	for (size_t i = 0; i < m->n + m->nw; i++) {
		const char *id =
		    i < m->n
			? (m->r[i].type == SMSR__JREC_SUBMITTED ? m->r[i].ids : "")
			: (m->w[i - m->n].type == SMSR_EV_SUBMITTED ? m->w[i - m->n].msgid : "");
		bool dup = !id[0];

		for (unsigned k = 0; k < n && !dup; k++)
			dup = !strcmp(seen[k], id);
		if (!dup && n < 64)
			seen[n++] = id;
	}
	return n;
}

/* Notices and promotions: a second hand-off only after a definite refusal
 * (QUEUED), never once the carrier took it. NULL, or what went wrong. */
static const char *resend_rule(const struct one *m)
{
	bool sent = false, taken = false;

	for (size_t i = 0; i < m->n; i++) {
		switch (m->r[i].type) {
		case SMSR__JREC_HANDOFF:
			if (taken)
				return "handed off again after the carrier took it";
			if (sent)
				return "handed off again with no definite answer between";
			sent = true;
			break;
		case SMSR__JREC_SUBMITTED:
			taken = true;
			break;
		case SMSR__JREC_QUEUED:
			sent = false;
			break;
		}
	}
	return NULL;
}

/* Witnessed HANDOFFs in a life whose journal records hold none. */
static unsigned unrecorded_handoffs(const struct rig *g, const struct one *m, unsigned *last_life)
{
	unsigned n = 0;

	for (size_t i = 0; i < m->nw; i++) {
		bool found = false;

		if (m->w[i].type != SMSR_EV_HANDOFF)
			continue;
		for (size_t k = 0; k < m->n && !found; k++)
			found = m->r[k].type == SMSR__JREC_HANDOFF &&
				life_of(g, m->r[k].lsn) == m->w[i].life;
		if (!found) {
			n++;
			*last_life = m->w[i].life;
		}
	}
	return n;
}

static unsigned check_one(const struct rig *g, const struct one *m, struct report *rp,
			  unsigned *shown)
{
	const char *bad[6];
	unsigned nbad = 0, accepts = 0, finals = 0, handoffs = 0, cls = 0, ulife = 0, nun;
	const struct jrec *final = NULL;

	for (size_t i = 0; i < m->n; i++) {
		const struct jrec *j = &m->r[i];

		if (j->type == SMSR__JREC_ACCEPT) {
			accepts++;
			cls = j->cls;
		} else if (j->type == SMSR__JREC_FINAL) {
			finals++;
			final = j;
		} else if (j->type == SMSR__JREC_HANDOFF) {
			handoffs++;
		}
		if (final && j != final)
			bad[nbad < 6 ? nbad++ : 5] = "a record after its FINAL";
	}
	if (m->a)
		cls = m->a->cls;
	if (cls > SMSR_NCLASS)
		cls = 0;
	if (!accepts) {
		if (m->a) {
			rp->lost++;
			bad[nbad < 6 ? nbad++ : 5] = "acknowledged, no ACCEPT record: LOST";
		} else {
			bad[nbad < 6 ? nbad++ : 5] = "records without an ACCEPT";
		}
	} else {
		rp->ids++;
		rp->unacked += !m->a;
		rp->revived += accepts > 1;
		rp->finals[finals < 2 ? finals : 2]++;
		if (finals != 1)
			bad[nbad < 6 ? nbad++ : 5] =
			    finals ? "more than one FINAL record" : "no FINAL record";
	}
	if (final) {
		rp->outcome[final->ev < SMSR_EV_COUNT ? final->ev : 0]++;
		count_reason(rp, final);
		/* busy is a refusal, never the end of an accepted message: recovery
		 * could not take it back (router_recover.c drop()). */
		if (final->reason == -SMSR_EBUSY)
			bad[nbad < 6 ? nbad++ : 5] =
			    "ended failed busy: not taken back at a restart";
	}
	rp->resent[cls] += handoffs > 1;
	rp->two_ids[cls] += carrier_ids(m) > 1;
	nun = unrecorded_handoffs(g, m, &ulife);
	rp->unrecorded[cls] += nun > 0;
	if (cls == SMSR_CLASS_NOTICE || cls == SMSR_CLASS_MARKETING) {
		const char *why = resend_rule(m);

		if (why)
			bad[nbad < 6 ? nbad++ : 5] = why;
		if (carrier_ids(m) > 1)
			bad[nbad < 6 ? nbad++ : 5] = "taken by the carrier under two ids";
		for (size_t k = 0; nun && k < m->n; k++)
			if (m->r[k].type == SMSR__JREC_HANDOFF && life_of(g, m->r[k].lsn) > ulife) {
				bad[nbad < 6 ? nbad++ : 5] =
				    "handed off (witnessed, not journaled), then sent again";
				break;
			}
	}
	if (nbad && (*shown)++ < SHOW_MAX)
		show(g, m, bad, nbad);
	return nbad > 0;
}

static void check_all(const struct rig *g, struct report *rp)
{
	const struct jrec *r = jrecs.v;
	const struct ack *a = acks.v;
	const struct wev *w = wevs.v;
	size_t i = 0, k = 0, x = 0;
	unsigned shown = 0;

	qsort(jrecs.v, jrecs.n, sizeof(*r), cmp_jrec);
	qsort(acks.v, acks.n, sizeof(*a), cmp_ack);
	qsort(wevs.v, wevs.n, sizeof(*w), cmp_wev);
	for (size_t q = 1; q < acks.n; q++)
		if (a[q].id == a[q - 1].id) {
			printf("  id %" PRIu64 ": acknowledged twice (lives %u, %u)\n", a[q].id,
			       a[q - 1].life, a[q].life);
			rp->violations++;
		}
	while (i < jrecs.n || k < acks.n) {
		uint64_t id = UINT64_MAX;
		struct one m = {0};

		if (i < jrecs.n)
			id = r[i].id;
		if (k < acks.n && a[k].id < id)
			id = a[k].id;
		m.id = id;
		m.r = &r[i];
		while (i < jrecs.n && r[i].id == id)
			i++, m.n++;
		if (k < acks.n && a[k].id == id)
			m.a = &a[k];
		while (k < acks.n && a[k].id == id)
			k++;
		while (x < wevs.n && w[x].id < id)
			x++;
		m.w = &w[x];
		while (x < wevs.n && w[x].id == id)
			x++, m.nw++;
		rp->messages_bad += check_one(g, &m, rp, &shown);
	}
	rp->violations += rp->messages_bad;
	if (shown > SHOW_MAX)
		printf("  ... %u more messages\n", shown - SHOW_MAX);
	for (size_t q = 0; q < acks.n; q++) {
		rp->acked++;
		rp->acked_cls[a[q].cls <= SMSR_NCLASS ? a[q].cls : 0]++;
	}
}

/*
 * What each restart's recovery logged: its "journal:" lines, counted.
 * Returns the messages recovery could not take back (each one an accepted
 * message not brought back: a violation), and damage reported.
 */
static unsigned show_recovery(const struct rig *g)
{
	unsigned lines = 0, dropped = 0, damaged = 0;

	for (unsigned l = 0; l <= g->o->cycles; l++) {
		char path[128], line[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/smsrd.%u.log", g->dir, l);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (!strstr(line, "journal"))
				continue;
			bool drop = strstr(line, "could not be taken back") != NULL;

			damaged += strstr(line, "quarantin") != NULL || strstr(line, "gap") != NULL;
			if (g->o->verbose || (drop && dropped < SHOW_MAX) ||
			    (!drop && (l == g->o->cycles || lines < 3)))
				printf("  life %u: %s", l, line);
			dropped += drop;
			lines++;
		}
		fclose(f);
	}
	printf("kill9: recovery: %u journal log lines, %u messages not taken back, %u about "
	       "damage\n",
	       lines, dropped, damaged);
	return dropped + damaged;
}

static void print_report(const struct report *rp, const struct smsr__journal_replay_stats *st)
{
	printf("kill9: journal: %" PRIu64 " records in %" PRIu64 " segments, %" PRIu64
	       " quarantined, %" PRIu64 " gaps, torn tail %" PRIu64 "\n",
	       st->records, st->segments, st->quarantined, st->gaps, st->torn_tail);
	printf("kill9: acknowledged %" PRIu64 " (verification %" PRIu64 ", notice %" PRIu64
	       ", marketing %" PRIu64 "), lost %" PRIu64 "; accepted not acknowledged %" PRIu64
	       "; messages in the journal %" PRIu64 ", brought back at a restart %" PRIu64 "\n",
	       rp->acked, rp->acked_cls[1], rp->acked_cls[2], rp->acked_cls[3], rp->lost,
	       rp->unacked, rp->ids, rp->revived);
	printf("kill9: FINAL records per message: 0: %" PRIu64 ", 1: %" PRIu64 ", 2+: %" PRIu64
	       "; outcomes: delivered %" PRIu64 ", failed %" PRIu64 ", expired %" PRIu64 "\n",
	       rp->finals[0], rp->finals[1], rp->finals[2], rp->outcome[SMSR_EV_DELIVERED],
	       rp->outcome[SMSR_EV_FAILED], rp->outcome[SMSR_EV_EXPIRED]);
	printf("kill9: final states:");
	for (unsigned k = 0; k < rp->nreasons; k++)
		printf("%s %s %" PRIu64, k ? "," : "", rp->reasons[k], rp->reason_n[k]);
	printf("\n");
	for (int c = 1; c <= SMSR_NCLASS; c++)
		printf("kill9: %-12s handed off twice or more %" PRIu64
		       ", taken under 2+ carrier ids %" PRIu64
		       ", witnessed hand-offs the journal lost %" PRIu64 "\n",
		       class_word[c], rp->resent[c], rp->two_ids[c], rp->unrecorded[c]);
}

/* --- main -------------------------------------------------------------------- */

static int parse(int argc, char **argv, struct opts *o)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	o->cycles = 6;
	o->seed = mix64((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^ (uint64_t)getpid());
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
			o->cycles = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			o->seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--keep"))
			o->keep = true;
		else if (!strcmp(argv[i], "--verbose"))
			o->verbose = true;
		else {
			fprintf(stderr, "usage: %s [--cycles N] [--seed S] [--keep] [--verbose]\n",
				argv[0]);
			return -1;
		}
	}
	if (o->cycles < 1 || o->cycles > 250) {
		fprintf(stderr, "kill9: --cycles 1..250\n");
		return -1;
	}
	return 0;
}

/* Cycles: load, kill -9 mid-flight, restart. Then the last life, drained. */
static int run_lives(struct rig *g, struct load_stats *ls)
{
	for (g->life = 0; g->life <= g->o->cycles; g->life++) {
		struct witness w;
		struct killer k = {0};
		uint64_t s = stream(g->o->seed, g->life, 0), t0 = now_ms();
		struct load_stats one = {0};
		int ret;

		if (life_start(g) < 0)
			return -1;
		if (witness_start(&w, g) < 0) {
			fprintf(stderr, "kill9: life %u: subscribe failed\n", g->life);
			smsrd_kill(&g->d);
			return -1;
		}
		if (g->life == g->o->cycles) { /* the last life: no load, no kill */
			ret = drain(g);
			if (smsrd_stop(&g->d) != 0) {
				fprintf(stderr, "kill9: last life: smsrd did not stop cleanly\n");
				ret = -1;
			}
			witness_join(&w);
			return ret;
		}
		k.pid = g->d.pid;
		k.after_ms = 200 + below(&s, 1300);
		pthread_create(&k.t, NULL, killer_run, &k);
		ret = run_load(g, &s, &one);
		pthread_join(k.t, NULL);
		smsrd_kill(&g->d);
		witness_join(&w);
		if (ret < 0)
			return -1;
		if (g->o->verbose)
			printf("kill9: life %u: kill at %u ms, sent %" PRIu64 ", acked %" PRIu64
			       ", refused %" PRIu64 ", calls cut %" PRIu64 ", witnessed %" PRIu64
			       " events, %" PRIu64 " ms\n",
			       g->life, k.after_ms, one.sent, one.acked, one.refused,
			       one.calls_lost, w.events, now_ms() - t0);
		if (w.overflows)
			printf("kill9: life %u: witness dropped %" PRIu64 " events\n", g->life,
			       w.overflows);
		ls->sent += one.sent;
		ls->acked += one.acked;
		ls->refused += one.refused;
		ls->calls_lost += one.calls_lost;
	}
	return 0;
}

static void remove_dir(const struct rig *g)
{
	const char *dirs[] = {g->jdir, g->dir};

	for (unsigned k = 0; k < 2; k++) {
		DIR *dp = opendir(dirs[k]);
		struct dirent *de;
		char path[400];

		while (dp && (de = readdir(dp))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[k], de->d_name);
			unlink(path);
		}
		if (dp)
			closedir(dp);
	}
	rmdir(g->jdir);
	rmdir(g->dir);
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct rig g = {.o = &o};
	struct load_stats ls = {0};
	struct smsr__journal_replay_stats st = {0};
	struct report rp = {0};
	uint64_t t0 = now_ms();
	int ret;

	if (parse(argc, argv, &o) < 0)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("kill9: seed %" PRIu64 ", %u cycles; replay: %s --seed %" PRIu64 " --cycles %u\n",
	       o.seed, o.cycles, argv[0], o.seed, o.cycles);
	snprintf(g.dir, sizeof(g.dir), "/tmp/smsr-kill9-XXXXXX");
	if (!mkdtemp(g.dir)) {
		perror("kill9: mkdtemp");
		return 1;
	}
	snprintf(g.jdir, sizeof(g.jdir), "%s/journal", g.dir);
	snprintf(g.conf, sizeof(g.conf), "%s/smsr.conf", g.dir);
	g.seg_floor = calloc(o.cycles + 1, sizeof(*g.seg_floor));
	if (!g.seg_floor)
		return 1;
	ret = run_lives(&g, &ls);
	printf("kill9: %u cycles (%" PRIu64 " with a channel fault) in %.1f s: sent %" PRIu64
	       ", acked %" PRIu64 ", refused %" PRIu64 ", calls cut by a kill %" PRIu64 "\n",
	       g.life < o.cycles ? g.life : o.cycles, g.fault_lives,
	       (double)(now_ms() - t0) / 1000.0, ls.sent, ls.acked, ls.refused, ls.calls_lost);
	if (ret == 0)
		ret = replay_journal(&g, &st);
	if (ret == 0) {
		check_all(&g, &rp);
		print_report(&rp, &st);
		rp.violations += show_recovery(&g);
		if (st.quarantined || st.gaps)
			rp.violations++;
	}
	if (ret < 0 || rp.violations) {
		printf("kill9: FAILED (%" PRIu64 " messages in violation, %" PRIu64
		       " in all); seed %" PRIu64 "; replay: %s --seed %" PRIu64
		       " --cycles %u; data kept in %s\n",
		       rp.messages_bad, rp.violations, o.seed, argv[0], o.seed, o.cycles, g.dir);
		ret = 1;
	} else {
		printf("kill9: ok\n");
		if (o.keep)
			printf("kill9: data kept in %s\n", g.dir);
		else
			remove_dir(&g);
	}
	free(g.seg_floor);
	free(acks.v);
	free(wevs.v);
	free(jrecs.v);
	return ret;
}
