/* SPDX-License-Identifier: MIT */
/*
 * The opt-out list (see optout.h) and the MO keywords that change it.
 */
#include <stdlib.h>
#include <string.h>

#include <stdatomic.h>

#include "smsr/errors.h"
#include "base/epoch.h"
#include "optout.h"

/* Every allocation ck_hs makes carries an epoch entry in front. */
struct hdr {
	ck_epoch_entry_t entry;
	size_t size;
};

/* The router whose writer is inside ck_hs_put/remove on this thread. */
static _Thread_local ck_epoch_record_t *writer_rec;

static void *hs_malloc(size_t size)
{
	struct hdr *h = malloc(sizeof(*h) + size);

	if (!h)
		return NULL;
	h->size = size;
	return h + 1;
}

static void hdr_free(ck_epoch_entry_t *e)
{
	free((struct hdr *)((char *)e - offsetof(struct hdr, entry)));
}

/* @defer: readers may still see @p; free it once the epoch says none can. */
static void hs_free(void *p, size_t size, bool defer)
{
	struct hdr *h = (struct hdr *)p - 1;

	(void)size;
	if (defer && writer_rec)
		ck_epoch_call(writer_rec, &h->entry, hdr_free);
	else
		free(h);
}

static void *hs_realloc(void *p, size_t old, size_t size, bool defer)
{
	void *n = hs_malloc(size);

	if (n && p) {
		memcpy(n, p, old < size ? old : size);
		hs_free(p, old, defer);
	}
	return n;
}

static struct ck_malloc hs_alloc = {.malloc = hs_malloc, .realloc = hs_realloc, .free = hs_free};

static unsigned long hs_hash(const void *key, unsigned long seed)
{
	uint64_t x = (uint64_t)(uintptr_t)key ^ seed;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (unsigned long)x;
}

/* "+8613812345678" as an integer key (never 0: E.164 has 1-15 digits, no lead 0). */
static uintptr_t key_of(const char *e164)
{
	uint64_t v = 0;
	const char *p = e164 + 1;

	if (e164[0] != '+')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return *p ? 0 : (uintptr_t)v;
}

int smsr__optout_init(struct smsr__optout *o)
{
	pthread_mutex_init(&o->lock, NULL);
	if (!ck_hs_init(&o->hs, CK_HS_MODE_SPMC | CK_HS_MODE_DIRECT, hs_hash, NULL, &hs_alloc, 64,
			0x9e3779b97f4a7c15ul)) {
		pthread_mutex_destroy(&o->lock);
		return -SMSR_ENOMEM;
	}
	o->ready = true;
	return 0;
}

void smsr__optout_fini(struct smsr__optout *o)
{
	if (!o->ready)
		return;
	ck_hs_destroy(&o->hs);
	pthread_mutex_destroy(&o->lock);
	o->ready = false;
}

/* Add or remove @key (hash @h) under the writer's lock; 1 changed, 0 not. */
static int hs_write(struct smsr__optout *o, unsigned long h, const void *key, bool out)
{
	int ret;

	if (out)
		ret = ck_hs_get(&o->hs, h, key) ? 0 : ck_hs_put(&o->hs, h, key) ? 1 : -SMSR_ENOMEM;
	else
		ret = ck_hs_remove(&o->hs, h, key) ? 1 : 0;
	atomic_store(&o->n, ck_hs_count(&o->hs));
	return ret;
}

int smsr__optout_set(struct smsr__epoch *ep, struct smsr__optout *o, const char *e164, bool out)
{
	const void *key = (const void *)key_of(e164);
	unsigned long h = CK_HS_HASH(&o->hs, hs_hash, key);
	unsigned slot;
	int ret;

	if (!key)
		return -SMSR_EBADNUMBER;
	pthread_mutex_lock(&o->lock);
	writer_rec = smsr__epoch_lease(ep, &slot);
	ret = hs_write(o, h, key, out);
	smsr__epoch_barrier(ep, writer_rec); /* frees the tables the set outgrew */
	smsr__epoch_release(ep, slot);
	writer_rec = NULL;
	pthread_mutex_unlock(&o->lock);
	return ret;
}

int smsr__optout_try_set(struct smsr__epoch *ep, struct smsr__optout *o, const char *e164, bool out)
{
	const void *key = (const void *)key_of(e164);
	unsigned long h = CK_HS_HASH(&o->hs, hs_hash, key);
	unsigned slot;
	int ret;

	if (!key)
		return -SMSR_EBADNUMBER;
	if (pthread_mutex_trylock(&o->lock))
		return -SMSR_EBUSY;
	writer_rec = smsr__epoch_lease(ep, &slot);
	ret = hs_write(o, h, key, out);
	/* No waiting for readers: what the set outgrew is freed by a later
	 * writer's barrier on this record, or at smsr__epoch_reclaim_all(). */
	ck_epoch_poll(writer_rec);
	smsr__epoch_release(ep, slot);
	writer_rec = NULL;
	pthread_mutex_unlock(&o->lock);
	return ret;
}

bool smsr__optout_has(struct smsr__optout *o, const char *e164)
{
	const void *key;

	if (atomic_load_explicit(&o->n, memory_order_relaxed) == 0)
		return false;
	key = (const void *)key_of(e164);
	return key && ck_hs_get(&o->hs, CK_HS_HASH(&o->hs, hs_hash, key), key) != NULL;
}

/*
 * The keywords carriers and regulators use: whole replies, any case,
 * blanks and trailing punctuation ignored.
 */
static const char *const stop_words[] = {
    "TD",	"T",	"N",	   "R",		  "0000",   "退订", "退訂", "取消",   "取消订阅",
    "取消訂閱", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END",  "QUIT", "OPTOUT", NULL};
static const char *const start_words[] = {"START", "UNSTOP", "订阅", "訂閱", "YES", NULL};

int smsr__mo_keyword(const char *text, size_t len)
{
	char buf[32];
	size_t s = 0, e = len, n = 0;

	while (s < e && (text[s] == ' ' || text[s] == '\t' || text[s] == '\n' || text[s] == '\r'))
		s++;
	for (;;) {
		if (e > s && strchr(" \t\r\n.!", text[e - 1]) && text[e - 1])
			e--;
		else if (e - s >= 3 && (!memcmp(text + e - 3, "\xe3\x80\x82", 3) || /* 。 */
					!memcmp(text + e - 3, "\xef\xbc\x81", 3)))  /* ！ */
			e -= 3;
		else
			break;
	}
	if (e - s >= sizeof(buf))
		return 0;
	for (size_t i = s; i < e; i++)
		buf[n++] = text[i] >= 'a' && text[i] <= 'z' ? (char)(text[i] - 32) : text[i];
	buf[n] = '\0';
	for (int i = 0; stop_words[i]; i++)
		if (strcmp(buf, stop_words[i]) == 0)
			return 1;
	for (int i = 0; start_words[i]; i++)
		if (strcmp(buf, start_words[i]) == 0)
			return 2;
	return 0;
}
