/* SPDX-License-Identifier: MIT */
/*
 * The subscription index (subidx.h). Every list is intrusive: a filter
 * carries one entry per list it is on, so adding and removing never search.
 * The invariant that makes matching cheap: a filter is on the lists of its
 * key part only, and an event visits exactly one list per part, so each
 * filter is a candidate at most once per event and only when its key
 * matched.
 */
#include <stdlib.h>
#include <string.h>

#include "subidx.h"

enum subidx_key {
	KEY_REF,
	KEY_CHAN,
	KEY_CLASS,
	KEY_TYPE,
	KEY_ALL
};

/* A trie node: the prefix spelled by the path from the root to it. */
struct subidx_pfx {
	struct subidx_ent *subs; /* filters whose prefix ends here */
	uint32_t refs;		 /* filters whose prefix runs through or ends here */
	uint16_t nkids, cap;
	struct subidx_kid *kids; /* sorted by byte */
};

struct subidx_kid {
	unsigned char c;
	struct subidx_pfx *n;
};

static void pfx_free(struct subidx_pfx *p)
{
	for (uint16_t i = 0; p && i < p->nkids; i++)
		pfx_free(p->kids[i].n);
	if (p)
		free(p->kids);
	free(p);
}

int subidx_init(struct subidx *x, uint32_t nchan_max)
{
	memset(x, 0, sizeof(*x));
	x->by_chan = calloc(nchan_max ? nchan_max : 1, sizeof(*x->by_chan));
	x->pfx = calloc(1, sizeof(*x->pfx));
	if (!x->by_chan || !x->pfx) {
		subidx_fini(x);
		return -SMSR_ENOMEM;
	}
	x->nchan_max = nchan_max;
	return 0;
}

void subidx_fini(struct subidx *x)
{
	pfx_free(x->pfx);
	free(x->by_chan);
	memset(x, 0, sizeof(*x));
}

static void list_push(struct subidx_ent **head, struct subidx_ent *e)
{
	e->next = *head;
	if (e->next)
		e->next->pprev = &e->next;
	e->pprev = head;
	*head = e;
}

static void list_unlink(struct subidx_ent *e)
{
	*e->pprev = e->next;
	if (e->next)
		e->next->pprev = e->pprev;
}

static struct subidx_pfx *kid(const struct subidx_pfx *p, unsigned char c)
{
	for (uint16_t i = 0; i < p->nkids && p->kids[i].c <= c; i++)
		if (p->kids[i].c == c)
			return p->kids[i].n;
	return NULL;
}

/* @p's child for @c, made if new; NULL when out of memory. */
static struct subidx_pfx *kid_get(struct subidx_pfx *p, unsigned char c)
{
	struct subidx_pfx *n = kid(p, c);
	uint16_t at = 0;

	if (n)
		return n;
	if (p->nkids == p->cap) {
		uint16_t cap = p->cap ? p->cap * 2 : 2;
		struct subidx_kid *k = realloc(p->kids, cap * sizeof(*k));

		if (!k)
			return NULL;
		p->kids = k;
		p->cap = cap;
	}
	if (!(n = calloc(1, sizeof(*n))))
		return NULL;
	while (at < p->nkids && p->kids[at].c < c)
		at++;
	memmove(&p->kids[at + 1], &p->kids[at], (p->nkids - at) * sizeof(*p->kids));
	p->kids[at] = (struct subidx_kid){.c = c, .n = n};
	p->nkids++;
	return n;
}

/*
 * Drop one reference along the first @len bytes of @s (a path that holds
 * one), freeing the nodes no filter runs through any more.
 */
static void pfx_release(struct subidx *x, const char *s, size_t len)
{
	struct subidx_pfx *p = x->pfx;

	for (size_t i = 0; i < len; i++) {
		struct subidx_pfx *n = kid(p, (unsigned char)s[i]);
		uint16_t at = 0;

		if (--n->refs) {
			p = n;
			continue;
		}
		while (p->kids[at].n != n)
			at++;
		p->nkids--;
		memmove(&p->kids[at], &p->kids[at + 1], (p->nkids - at) * sizeof(*p->kids));
		pfx_free(n); /* and its subtree: nothing runs through it either */
		x->npfx -= (uint32_t)(len - i);
		return;
	}
}

/* The node of @f's prefix, with one more reference along its path; NULL
 * when out of memory (then nothing changed). */
static struct subidx_pfx *pfx_get(struct subidx *x, const struct subidx_filter *f)
{
	struct subidx_pfx *p = x->pfx;

	for (size_t i = 0; i < f->ref_len; i++) {
		struct subidx_pfx *n = kid_get(p, (unsigned char)f->ref[i]);

		if (!n) {
			pfx_release(x, f->ref, i);
			return NULL;
		}
		if (!n->refs++)
			x->npfx++;
		p = n;
	}
	return p;
}

static unsigned popcount(uint32_t v)
{
	return (unsigned)__builtin_popcount(v);
}

/* The key part of @f and how many lists it goes on. */
static enum subidx_key key_of(const struct subidx_filter *f, uint32_t *nents)
{
	if (f->ref_len) {
		*nents = 1;
		return KEY_REF;
	}
	if (f->nchans) {
		*nents = f->nchans;
		return KEY_CHAN;
	}
	if (f->classes != ~0u && popcount(f->classes & 0xff) < 8) {
		*nents = popcount(f->classes & 0xff);
		return KEY_CLASS;
	}
	if (f->types != SMSR_EV_ALL) {
		*nents = popcount(f->types);
		return KEY_TYPE;
	}
	*nents = 1;
	return KEY_ALL;
}

static struct subidx_ent **bit_list(struct subidx_ent **lists, uint32_t mask, uint32_t k)
{
	/* The list of the @k-th set bit of @mask. */
	for (unsigned b = 0; b < 32; b++)
		if ((mask & (1u << b)) && k-- == 0)
			return &lists[b];
	return NULL;
}

int subidx_add(struct subidx *x, struct subidx_filter *f)
{
	struct subidx_pfx *p = NULL;
	uint32_t n;

	f->ref_len = (uint8_t)strnlen(f->ref, SMSR_REF_MAX);
	f->ref[f->ref_len] = '\0';
	if (!f->types || (f->classes != ~0u && !(f->classes & 0xff)))
		return -SMSR_EINVAL;
	for (uint32_t i = 0; i < f->nchans; i++)
		if (f->chans[i] >= x->nchan_max || (i && f->chans[i] <= f->chans[i - 1]))
			return -SMSR_EINVAL;
	f->key = (uint8_t)key_of(f, &n);
	f->ents = calloc(n, sizeof(*f->ents));
	if (!f->ents)
		return -SMSR_ENOMEM;
	if (f->key == KEY_REF && !(p = pfx_get(x, f))) {
		free(f->ents);
		f->ents = NULL;
		return -SMSR_ENOMEM;
	}
	f->nents = n;
	for (uint32_t i = 0; i < n; i++) {
		struct subidx_ent **head = NULL;

		switch ((enum subidx_key)f->key) {
		case KEY_REF:
			head = &p->subs;
			break;
		case KEY_CHAN:
			head = &x->by_chan[f->chans[i]];
			break;
		case KEY_CLASS:
			head = bit_list(x->by_class, f->classes & 0xff, i);
			break;
		case KEY_TYPE:
			head = bit_list(x->by_type, f->types, i);
			break;
		case KEY_ALL:
			head = &x->all;
			break;
		}
		f->ents[i].f = f;
		list_push(head, &f->ents[i]);
	}
	f->next_all = x->every;
	if (f->next_all)
		f->next_all->pprev_all = &f->next_all;
	f->pprev_all = &x->every;
	x->every = f;
	x->n++;
	for (unsigned b = 0; b < SUBIDX_TYPES; b++)
		x->type_count[b] += (f->types >> b) & 1;
	return 0;
}

void subidx_del(struct subidx *x, struct subidx_filter *f)
{
	for (uint32_t i = 0; i < f->nents; i++)
		list_unlink(&f->ents[i]);
	if (f->key == KEY_REF)
		pfx_release(x, f->ref, f->ref_len);
	free(f->ents);
	f->ents = NULL;
	f->nents = 0;
	*f->pprev_all = f->next_all;
	if (f->next_all)
		f->next_all->pprev_all = f->pprev_all;
	x->n--;
	for (unsigned b = 0; b < SUBIDX_TYPES; b++)
		x->type_count[b] -= (f->types >> b) & 1;
}

static bool has_chan(const struct subidx_filter *f, int32_t ch)
{
	uint32_t lo = 0, hi = f->nchans;

	if (ch < 0)
		return false;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (f->chans[mid] == ch)
			return true;
		if (f->chans[mid] < ch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool subidx_filter_match(const struct subidx_filter *f, const struct smsr_event *ev)
{
	size_t n = f->ref_len;

	if (ev->type >= SUBIDX_TYPES || !(f->types & SMSR_EV_MASK(ev->type)))
		return false;
	if (f->classes != ~0u && (ev->cls >= 8 || !(f->classes & (1u << ev->cls))))
		return false;
	if (f->nchans && !has_chan(f, ev->channel))
		return false;
	if (n && (!ev->client_ref || strncmp(ev->client_ref, f->ref, n)))
		return false;
	return true;
}

static size_t visit(struct subidx_ent *e, const struct smsr_event *ev, subidx_match_cb *cb,
		    void *arg)
{
	size_t n = 0;

	for (; e; e = e->next, n++)
		if (subidx_filter_match(e->f, ev))
			cb(arg, e->f);
	return n;
}

/* The trie nodes on @ev's client_ref: only prefixes it starts with. */
static size_t visit_prefixes(struct subidx *x, const struct smsr_event *ev, subidx_match_cb *cb,
			     void *arg)
{
	const char *ref = ev->client_ref;
	struct subidx_pfx *p = x->pfx;
	size_t n = 0;

	for (size_t i = 0; ref && i < SMSR_REF_MAX && ref[i]; i++) {
		if (!(p = kid(p, (unsigned char)ref[i])))
			break;
		n += visit(p->subs, ev, cb, arg);
	}
	return n;
}

size_t subidx_match(struct subidx *x, const struct smsr_event *ev, subidx_match_cb *cb, void *arg)
{
	size_t n = visit_prefixes(x, ev, cb, arg);

	if (ev->channel >= 0 && (uint32_t)ev->channel < x->nchan_max)
		n += visit(x->by_chan[ev->channel], ev, cb, arg);
	if (ev->cls < 8)
		n += visit(x->by_class[ev->cls], ev, cb, arg);
	if (ev->type < SUBIDX_TYPES)
		n += visit(x->by_type[ev->type], ev, cb, arg);
	return n + visit(x->all, ev, cb, arg);
}

uint32_t subidx_types(const struct subidx *x)
{
	uint32_t m = 0;

	for (unsigned b = 0; b < SUBIDX_TYPES; b++)
		if (x->type_count[b])
			m |= 1u << b;
	return m;
}
