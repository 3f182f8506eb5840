/* SPDX-License-Identifier: MIT */
/*
 * The classifier's learned layer: features of a message, hashed into
 * SMSR__CLS_BUCKETS buckets, each with one weight per class (the model,
 * trained offline by tools/train/train-classifier.py and generated into
 * classify_model.c). The keyword scorer's verdict is one family of features
 * among others, so the model learns when to trust it.
 *
 * Families: CJK characters and character pairs; lowercased ASCII words and
 * word pairs; the shape of every number ("6 digits", "letters and digits",
 * full-width digits count as digits) alone, with the word or character pair
 * before it, and when it ends the message; runs of short digit groups
 * ("20 91 47"); links; punctuation and currency signs; a length bucket; and
 * the keyword scorer's scores, binned.
 *
 * smsr-classify-features (tools/train/) prints these for training, so the
 * trainer and the classifier can never disagree on what a feature is.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "classify.h"

struct feat {
	uint32_t *out;		   /* collect the buckets, or */
	const int16_t (*model)[4]; /* add up their weights */
	int32_t score[3];
	size_t n, max;
};

static inline void add(struct feat *f, uint64_t fam, uint64_t a, uint64_t b)
{
	uint64_t h =
	    fam * 0x9e3779b97f4a7c15ull ^ a * 0xc2b2ae3d27d4eb4full ^ b * 0x165667b19e3779f9ull;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	if (f->n >= f->max)
		return;
	if (f->model) {
		const int16_t *w = f->model[h >> (64 - SMSR__CLS_BUCKET_BITS)];

		f->score[0] += w[0];
		f->score[1] += w[1];
		f->score[2] += w[2];
		f->n++;
	} else {
		f->out[f->n++] = (uint32_t)(h >> (64 - SMSR__CLS_BUCKET_BITS));
	}
}

/* Decode one UTF-8 sequence; invalid bytes come back as themselves (len 1). */
static inline __attribute__((always_inline)) size_t dec(const unsigned char *p, size_t n,
							uint32_t *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0 && n >= 2) {
		*cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
		return 2;
	}
	if ((p[0] & 0xf0) == 0xe0 && n >= 3) {
		*cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
		return 3;
	}
	if ((p[0] & 0xf8) == 0xf0 && n >= 4) {
		*cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
		      (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
		return 4;
	}
	*cp = p[0];
	return 1;
}

static inline uint32_t fold(uint32_t cp)
{
	if (cp >= 0xff10 && cp <= 0xff19) /* full-width digits */
		return '0' + (cp - 0xff10);
	if (cp >= 0xff21 && cp <= 0xff3a) /* full-width capitals */
		return 'A' + (cp - 0xff21);
	if (cp >= 0xff41 && cp <= 0xff5a)
		return 'a' + (cp - 0xff41);
	return cp;
}

static inline bool is_cjk(uint32_t cp)
{
	return (cp >= 0x3400 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff);
}

static inline bool is_alnum(uint32_t cp)
{
	return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
}

static int bin(int d)
{
	static const int edges[] = {-12, -6, -3, -1, 1, 3, 6, 12};
	int b = 0;

	while (b < 8 && d >= edges[b])
		b++;
	return b;
}

static inline __attribute__((always_inline)) void
walk(const char *text, size_t len, const struct smsr__cls_kw *kw, struct feat *fp)
{
	const unsigned char *p = (const unsigned char *)text;
	struct feat f = *fp;
	uint64_t prev = 0;    /* the previous word or CJK pair: a number's context */
	uint32_t last_cp = 0; /* previous CJK character, 0 after anything else */
	uint64_t last_word = 0;
	unsigned groups = 0, group_len = 0; /* short digit groups in a row */
	uint64_t last_shape = 0;
	bool url = false;
	size_t i = 0;

	add(&f, 1, 0, 0); /* bias */
	while (i < len) {
		uint32_t cp;
		size_t k = dec(p + i, len - i, &cp);

		cp = fold(cp);
		if (is_cjk(cp)) {
			add(&f, 2, cp, 0);
			if (last_cp) {
				add(&f, 3, last_cp, cp);
				prev = (uint64_t)last_cp << 21 | cp;
			}
			last_cp = cp;
			last_word = 0;
			last_shape = 0;
			i += k;
			continue;
		}
		last_cp = 0;
		if (is_alnum(cp)) {
			/* A run of letters and digits: a word, or a number. */
			unsigned digits = 0, letters = 0, upper = 0, n = 0;
			uint64_t h = 1469598103934665603ull;
			size_t j = i;

			while (j < len) {
				uint32_t c;
				size_t kk = dec(p + j, len - j, &c);

				c = fold(c);
				if (!is_alnum(c))
					break;
				digits += c <= '9';
				letters += c > '9';
				upper += c >= 'A' && c <= 'Z';
				if (n++ < 24)
					h = (h ^ (c | 0x20)) * 1099511628211ull;
				j += kk;
			}
			if (!digits) {
				add(&f, 4, h, 0);
				if (last_word)
					add(&f, 5, last_word, h);
				last_word = prev = h;
				last_shape = 0;
				groups = 0;
			} else {
				uint64_t shape = (uint64_t)(digits > 9 ? 9 : digits) << 8 |
						 (uint64_t)(letters > 0) << 4 | (upper > 0);

				add(&f, 6, shape, 0);
				add(&f, 7, prev, shape);
				if (!letters && digits <= 4 &&
				    (groups == 0 || digits == group_len)) {
					groups++;
					group_len = digits;
					if (groups >= 2)
						add(&f, 8, groups > 4 ? 4 : groups, group_len);
				} else {
					groups = 0;
				}
				last_shape = shape | 1u << 12;
				last_word = 0;
			}
			if ((p[i] | 0x20) == 'h' || (p[i] | 0x20) == 'w')
				url |=
				    (j - i >= 4 && !strncasecmp((const char *)p + i, "http", 4)) ||
				    (j - i == 3 && !strncasecmp((const char *)p + i, "www", 3));
			i = j;
			continue;
		}
		if (cp == ' ' || cp == '-') {
			i += k; /* digit groups may be split by these; words keep pairing */
			continue;
		}
		groups = 0;
		if (cp > ' ' && cp != 0x3000) {
			add(&f, 9, cp, 0);
			if (cp == '/' && i + 1 < len && p[i + 1] == '/')
				url = true;
		}
		last_word = 0;
		i += k;
	}
	if (last_shape)
		add(&f, 10, last_shape, 0);
	if (url)
		add(&f, 11, 0, 0);
	add(&f, 12, len / 24 > 10 ? 10 : len / 24, 0);
	if (kw) {
		int top = kw->v > kw->n && kw->v > kw->m ? 0 : kw->m > kw->n ? 2 : 1;

		add(&f, 13, (uint64_t)kw->verdict, 0);
		add(&f, 14, kw->code, (uint64_t)top);
		add(&f, 15, (uint64_t)bin(kw->v - (kw->n > kw->m ? kw->n : kw->m)), 0);
		add(&f, 16, (uint64_t)bin(kw->m - kw->n), 0);
	}
	*fp = f;
}

size_t smsr__cls_features(const char *text, size_t len, const struct smsr__cls_kw *kw,
			  uint32_t *out, size_t max)
{
	struct feat f = {.out = out, .max = max};

	walk(text, len, kw, &f);
	return f.n;
}

size_t smsr__cls_score(const char *text, size_t len, const struct smsr__cls_kw *kw,
		       const int16_t (*model)[4], int32_t score[3])
{
	struct feat f = {.model = model, .max = SMSR__CLS_FEAT_MAX};

	walk(text, len, kw, &f);
	memcpy(score, f.score, sizeof(f.score));
	return f.n;
}
