/* SPDX-License-Identifier: MIT */
/*
 * The stress test's submitters (see stress.h): threads that send mixed
 * traffic — every class, explicit and auto, single and batch submits,
 * valid messages and ones invalid in exactly one way, whose rejection
 * reason is therefore known — each into its own range of model slots. A
 * message's client reference is its slot number, which is how the model
 * (test_stress_model.c) finds its ACCEPTED or REJECTED event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stress.h"

_Thread_local int tls_sub = -1;

static const char *const recipients[] = {
    "13812345678",  "+8613012345678", "+8619912345678", "+8619212345678",
    "+14155550123", "+442079460958",  "+861065529988",	OPTOUT_NUM,
};

static char big_text[SMSR_TEXT_MAX + 2];
static char long_ref[SMSR_REF_MAX + 8], long_sender[SMSR_SENDER_MAX + 8];
char long_tags[SMSR_TAGS_MAX + 8];

void traffic_init(void)
{
	memset(big_text, 'a', SMSR_TEXT_MAX + 1);
	memset(long_ref, 'r', SMSR_REF_MAX + 1);
	memset(long_sender, 's', SMSR_SENDER_MAX + 1);
	memset(long_tags, 't', SMSR_TAGS_MAX + 1);
}

/* Message texts by class (index class - 1); %u is a per-message number. */
static void text_for(struct rng *r, int cls, char *out, size_t n)
{
	unsigned v = below(r, 1000000);

	switch (cls) {
	case SMSR_CLASS_VERIFICATION:
		if (chance(r, 50))
			snprintf(out, n, "Your verification code is %06u, valid for 5 minutes.", v);
		else
			snprintf(out, n, "验证码%06u，5分钟内有效，请勿泄露。", v);
		break;
	case SMSR_CLASS_MARKETING:
		snprintf(out, n, "Big sale! %u%% off everything this weekend. Reply TD to opt out",
			 v % 90 + 10);
		break;
	default:
		if (chance(r, 20))
			snprintf(
			    out, n,
			    "Your order %u has shipped. It will arrive tomorrow between nine "
			    "and five; someone must sign for it. If nobody is home the courier "
			    "leaves a card and tries again the next working day, twice.",
			    v);
		else
			snprintf(out, n, "Your statement for account %u is ready.", v);
	}
}

struct msgbuf {
	char ref[SMSR_REF_MAX + 32]; /* room for a too-long one */
	char text[320];
};

/* Fill @m (pointing into @mb) for slot @si: valid, or invalid in one way. */
static void make_msg(struct sub *su, long si, struct smsr_msg *m, struct msgbuf *mb)
{
	struct slot *s = &su->it->m.slots[si];
	struct rng *r = &su->rng;
	int cls = chance(r, 25) ? SMSR_CLASS_AUTO : 1 + (int)below(r, 3);
	enum kind kind = chance(r, 88) ? K_VALID : (enum kind)(1 + below(r, K_COUNT - 1));

	snprintf(mb->ref, sizeof(mb->ref), "%ld", si);
	text_for(r, cls ? cls : 1 + (int)below(r, 3), mb->text, sizeof(mb->text));
	memset(m, 0, sizeof(*m));
	m->recipient = recipients[below(r, 8)];
	m->sender = chance(r, 30) ? "ShopCo" : NULL;
	m->text = mb->text;
	m->text_len = strlen(mb->text);
	m->client_ref = mb->ref;
	m->tags = chance(r, 20) ? "campaign=x,team=y" : NULL;
	m->cls = (enum smsr_class)cls;
	if (chance(r, 15))
		m->validity_ms = 800 + below(r, 3200);
	switch (kind) {
	case K_BADNUM:
		m->recipient = chance(r, 50) ? "12345" : "+86abc";
		break;
	case K_BADUTF8:
		m->text = "bad \xff\xfe text";
		m->text_len = strlen(m->text);
		break;
	case K_EMPTY:
		m->text_len = 0;
		break;
	case K_TOOLONG:
		m->text = big_text;
		m->text_len = chance(r, 50) ? SMSR_TEXT_MAX + 1 : SMSR_TEXT_MAX;
		break;
	case K_BADCLASS:
		m->cls = (enum smsr_class)(4 + below(r, 100));
		break;
	case K_BADVALIDITY:
		m->validity_ms = SMSR_VALIDITY_MAX_MS + 1 + below(r, 1000);
		break;
	case K_BADREF: /* still starts with the slot number: the model finds it */
		snprintf(mb->ref, sizeof(mb->ref), "%ld%s", si, long_ref);
		break;
	case K_BADSENDER:
		m->sender = long_sender;
		break;
	case K_BADTAGS:
		m->tags = long_tags;
		break;
	case K_NULLTEXT:
		m->text = NULL;
		m->text_len = 1 + below(r, 10);
		break;
	default:
		break;
	}
	memset(s, 0, sizeof(*s));
	s->kind = (uint8_t)kind;
	s->req_cls = (uint8_t)m->cls;
	s->owner = (uint8_t)su->t;
	s->to_optout = strcmp(m->recipient, OPTOUT_NUM) == 0;
}

static void after_call(struct slot *s, int status, const struct smsr_result *res)
{
	s->called = true;
	s->status = status;
	if (res) {
		s->res_known = true;
		s->res_id = res->id;
		s->res_cls = res->cls;
		s->res_chan = res->channel;
	}
	atomic_store(&s->in_call, false);
}

static void submit_single(struct sub *su)
{
	struct iter *it = su->it;
	long si = (long)su->t * SUB_SLOTS + su->used++;
	struct slot *s = &it->m.slots[si];
	struct smsr_msg m;
	struct msgbuf mb;
	struct smsr_result res;
	bool with_res = !chance(&su->rng, 5);
	int rc;

	make_msg(su, si, &m, &mb);
	atomic_store(&s->in_call, true);
	rc = smsr_router_submit(it->r, &m, with_res ? &res : NULL);
	if (with_res && rc != res.status) {
		problem(it, "slot %ld: submit returned %d but res.status %d", si, rc, res.status);
		show_slot(it, si);
	}
	after_call(s, rc, with_res ? &res : NULL);
}

static void submit_batch(struct sub *su)
{
	struct iter *it = su->it;
	unsigned n = chance(&su->rng, 20) ? 2 + below(&su->rng, BATCH_MAX - 1)
					  : 2 + below(&su->rng, 23),
		 acc = 0;
	struct smsr_msg m[BATCH_MAX] = {{0}};
	struct smsr_result res[BATCH_MAX];
	static _Thread_local struct msgbuf mb[BATCH_MAX];
	long first = (long)su->t * SUB_SLOTS + su->used;
	int rc;

	su->used += n; /* the loop leaves room for a whole batch */
	for (unsigned i = 0; i < n; i++) {
		make_msg(su, first + i, &m[i], &mb[i]);
		atomic_store(&it->m.slots[first + i].in_call, true);
	}
	rc = smsr_router_submit_batch(it->r, m, n, res);
	for (unsigned i = 0; i < n; i++) {
		acc += res[i].status == 0;
		after_call(&it->m.slots[first + i], res[i].status, &res[i]);
	}
	if (rc != (int)acc)
		problem(it, "batch of %u from slot %ld: returned %d, %u results accepted", n, first,
			rc, acc);
}

/* Calls that must fail whole, before any message is considered. */
static void submit_bad_call(struct sub *su)
{
	struct smsr_msg m = {.recipient = "13812345678", .text = "hi", .text_len = 2};
	struct smsr_result res;
	int rc;

	if (chance(&su->rng, 50))
		rc = smsr_router_submit(su->it->r, NULL, &res);
	else
		rc = smsr_router_submit_batch(su->it->r, &m, 1, NULL);
	su->bad_calls++;
	if (rc != -SMSR_EINVAL)
		problem(su->it, "submitter %u: a call with NULL returned %d, not invalid_argument",
			su->t, rc);
}

void *submitter_main(void *arg)
{
	struct sub *su = arg;
	struct iter *it = su->it;

	tls_sub = (int)su->t;
	while (test_now_ns() < it->deadline_ns && su->used + BATCH_MAX < SUB_SLOTS) {
		unsigned what = below(&su->rng, 100);

		if (what < 72)
			submit_single(su);
		else if (what < 97)
			submit_batch(su);
		else
			submit_bad_call(su);
		if (chance(&su->rng, 50))
			sleep_us(200 + below(&su->rng, 1300));
	}
	return NULL;
}
