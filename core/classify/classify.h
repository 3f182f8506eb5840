/* SPDX-License-Identifier: MIT */
/*
 * Message classifier internals: the keyword families and the table built
 * from them.
 *
 * The classifier reads a message once and turns it into symbols: a CJK
 * character, a lowercased ASCII word, one DIGITS symbol per number, and a few
 * signs ($, %). A keyword is a run of up to SMSR__CLS_GRAM_MAX symbols, so
 * "满1减" matches "满400减" and "% off" matches "20% off". Each keyword adds its
 * weights to the three class scores; keywords that name a one-time code
 * ("验证码", "passcode") also arm the code detector, which adds a large
 * verification bonus when a code-shaped number (4-8 digits, or 3-3) sits
 * within @reach symbols of them. Keywords are written in the same alphabet as
 * messages and tokenized by the same code, so a table entry can never
 * disagree with what the scanner produces.
 */
#ifndef SMSR_CLASSIFY_H
#define SMSR_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#define SMSR__CLS_GRAM_MAX 4 /* longest keyword, in symbols */

struct smsr__cls_word {
	const char *text; /* UTF-8 keyword; digits stand for any number */
	int8_t v, n, m;	  /* weight added to verification / notice / marketing */
	uint8_t reach;	  /* > 0: names a one-time code, reaching this many symbols */
};

extern const struct smsr__cls_word smsr__cls_words[];
extern const size_t smsr__cls_nwords;

/*
 * Check the keyword table: returns how many keywords tokenize to nothing or
 * to more than SMSR__CLS_GRAM_MAX symbols (and so could never match). For
 * tests; thread-safe.
 */
size_t smsr__classify_selfcheck(void);

/* --- the learned layer (classify_feat.c, classify_model.c) --- */
#define SMSR__CLS_BUCKET_BITS 14
#define SMSR__CLS_BUCKETS     (1u << SMSR__CLS_BUCKET_BITS) /* hashed feature buckets */
/* Keyword verdicts this sure (score margin) skip the model: most traffic. */
#define SMSR__CLS_SURE 12
/* Fewer features than this (6 are always there) is too little evidence for
 * the model: the keyword verdict stands ("hello", "1234" are notices). */
#define SMSR__CLS_MIN_FEAT 10
#define SMSR__CLS_FEAT_MAX 1024 /* features kept per message */
#define SMSR__CLS_SCALE	   256	/* model weights are int16 * 1/SCALE */

/* The keyword scorer's view of a message: one family of features. */
struct smsr__cls_kw {
	int v, n, m; /* class scores, code bonus included in v */
	int code;    /* a code word met a code-shaped number */
	int verdict; /* the keyword scorer's own class, 1..3 */
};

/* Margin of the keyword verdict: its score minus the runner-up's. */
static inline int smsr__cls_kw_margin(const struct smsr__cls_kw *kw)
{
	int a = kw->n, b = kw->m, c = kw->code ? kw->v : -1000000, t;

	if (a < b)
		t = a, a = b, b = t;
	if (a < c)
		t = a, a = c, c = t;
	if (b < c)
		b = c;
	return a - b;
}

/* Score @text with the keywords alone (the classifier before the model). */
void smsr__classify_keywords(const char *text, size_t len, struct smsr__cls_kw *out);

/*
 * Hash @text's features into bucket numbers (< SMSR__CLS_BUCKETS) in @out,
 * at most @max; returns how many. @kw (may be NULL) adds the keyword
 * family. Pure, thread-safe.
 */
size_t smsr__cls_features(const char *text, size_t len, const struct smsr__cls_kw *kw,
			  uint32_t *out, size_t max);

/* As smsr__cls_features(), adding up each bucket's weights in @model into
 * @score instead (the classifier's own path); returns the feature count. */
size_t smsr__cls_score(const char *text, size_t len, const struct smsr__cls_kw *kw,
		       const int16_t (*model)[4], int32_t score[3]);

/* The trained model: nonzero buckets only (generated). */
struct smsr__cls_weight {
	uint16_t bucket;
	int16_t w[3]; /* verification, notice, marketing; * 1/SMSR__CLS_SCALE */
};
extern const struct smsr__cls_weight smsr__cls_model[];
extern const size_t smsr__cls_model_n;

#endif
