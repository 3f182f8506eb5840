/* SPDX-License-Identifier: MIT */
/*
 * The template cache (tmpl_cache.h). A text is read eight bytes at a time,
 * its digits turned into '0' within the word (SWAR); the set is chosen by a
 * hash of the length and the first and last 16 bytes, and a hit is a
 * comparison of every word. ~20 ns for a 100-byte text, against ~250 ns to
 * classify it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_cache.h"

#define WAYS 2
#define SETS (SMSR__TMPL_ENTRIES / WAYS)
#define HI   0x8080808080808080ull
#define SEEN 4096 /* hashes of templates seen once */

_Static_assert((SETS & (SETS - 1)) == 0, "a power of two of sets");

/*
 * A template gets an entry the second time it is seen: until then only its
 * hash is noted, so traffic that never repeats costs a hash and a probe,
 * not a copy into the cache that pushes useful templates out.
 */
struct cache {
	uint32_t clock; /* ages entries */
	uint32_t seen[SEEN];
	struct smsr__tmpl e[SETS][WAYS];
};

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct cache *mine;

static void key_make(void)
{
	/* On failure every lookup misses: slower, never wrong. */
	if (pthread_key_create(&key, free) != 0)
		key = (pthread_key_t)-1;
}

static struct cache *cache_get(void)
{
	if (__builtin_expect(mine != NULL, 1))
		return mine;
	pthread_once(&key_once, key_make);
	if (key == (pthread_key_t)-1)
		return NULL;
	mine = calloc(1, sizeof(*mine));
	if (mine && pthread_setspecific(key, mine) != 0) {
		free(mine);
		mine = NULL;
	}
	return mine;
}

/*
 * Every ASCII digit byte of @x turned into '0'. Per byte, on its low seven
 * bits (so no carry crosses a byte): +0x50 sets bit 7 from '0' up, +0x46
 * from ':' up; a digit has the first and not the second, and bit 7 clear.
 */
static inline uint64_t mask_word(uint64_t x)
{
	uint64_t y = x & ~HI;
	uint64_t dig = ((y + 0x5050505050505050ull) & ~(y + 0x4646464646464646ull)) & ~x & HI;
	uint64_t m = (dig >> 7) * 0xff;

	return (x & ~m) | (0x3030303030303030ull & m);
}

/* Word @i of @p (@len bytes), masked, zero-padded past the end. A whole
 * word is one load; only the last, partial one is copied bytewise. */
static inline uint64_t word_at(const char *p, size_t len, size_t i)
{
	uint64_t x = 0;

	if (8 * i + 8 <= len)
		memcpy(&x, p + 8 * i, 8);
	else
		memcpy(&x, p + 8 * i, len - 8 * i);
	return mask_word(x);
}

/* Word @i of the template, or 0 past its end. */
static inline uint64_t word_or_0(const char *p, size_t len, size_t i)
{
	return 8 * i < len ? word_at(p, len, i) : 0;
}

/*
 * A hash of the template's length, first 16 and last 16 bytes: O(1), and
 * texts of one template agree on it. Different templates that share those
 * only share a set; the full comparison tells them apart.
 */
static uint64_t tmpl_hash(const char *p, size_t len)
{
	size_t last = (len - 1) / 8;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;

	h = (h ^ word_or_0(p, len, 0)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ word_or_0(p, len, 1) ^ h >> 29) * 0x94d049bb133111ebull;
	h = (h ^ word_at(p, len, last) ^ h >> 31) * 0xbf58476d1ce4e5b9ull;
	if (last > 0)
		h = (h ^ word_at(p, len, last - 1) ^ h >> 29) * 0x94d049bb133111ebull;
	return h ^ h >> 32;
}

static bool tmpl_equal(const struct smsr__tmpl *t, const char *p, size_t len)
{
	for (size_t i = 0; 8 * i < len; i++)
		if (t->w[i] != word_at(p, len, i))
			return false;
	return true;
}

struct smsr__tmpl *smsr__tmpl_lookup(const char *text, size_t len)
{
	struct cache *c;
	struct smsr__tmpl *set, *old;
	uint64_t h;

	if (!text || len == 0 || len > SMSR__TMPL_TEXT_MAX || !(c = cache_get()))
		return NULL;
	h = tmpl_hash(text, len);
	set = c->e[(h >> 32) & (SETS - 1)];
	c->clock++;
	for (int k = 0; k < WAYS; k++)
		if (set[k].hash == h && set[k].len == len && tmpl_equal(&set[k], text, len)) {
			set[k].age = c->clock;
			return &set[k];
		}
	if (c->seen[h & (SEEN - 1)] != (uint32_t)(h >> 32) + 1) {
		c->seen[h & (SEEN - 1)] = (uint32_t)(h >> 32) + 1;
		return NULL; /* first sight */
	}
	c->seen[h & (SEEN - 1)] = 0; /* evicted later, it must be seen twice again */
	old = &set[0];
	for (int k = 1; k < WAYS; k++)
		if ((int32_t)(set[k].age - old->age) < 0)
			old = &set[k];
	/* Only what a lookup reads: the words past @len never are. */
	old->hash = h;
	old->len = (uint16_t)len;
	old->have = 0;
	old->age = c->clock;
	for (size_t i = 0; 8 * i < len; i++)
		old->w[i] = word_at(text, len, i);
	return old;
}

void smsr__tmpl_mask(const char *text, size_t len, char *out)
{
	for (size_t i = 0; 8 * i < len; i++) {
		uint64_t w = word_at(text, len, i);

		memcpy(out + 8 * i, &w, len - 8 * i >= 8 ? 8 : len - 8 * i);
	}
}
