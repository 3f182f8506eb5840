/* SPDX-License-Identifier: MIT */
/*
 * Message classifier: verification / notice / marketing from the text alone.
 *
 * One pass over the UTF-8 bytes turns the text into symbols (see classify.h)
 * and, for each symbol, hashes the 1..4-symbol grams that end there. A 64 Kbit
 * filter rejects almost every gram with one bit test; the rare survivors probe
 * a small open-addressed table of keyword weights. Numbers are checked in
 * place for the shape of a one-time code. The table is built once, on first
 * use, under pthread_once and is read-only afterwards, so classification is
 * pure, thread-safe and allocation-free. Anything unrecognised is a notice,
 * the class that neither delays a code nor spams a recipient.
 *
 * Speed: a typical message is ~75 bytes and ~17 symbols, and the hot loop is
 * bound by instruction count, not by memory or mispredictions. So the
 * tokenizer (next_token) hands one symbol at a time to a single inlined
 * matcher (emit) that keeps the gram hashes in registers; CJK characters, most
 * of a Chinese message, are decoded in place before any other dispatch; and
 * the keyword table's own bookkeeping (collecting its vocabulary) is compiled
 * out of the classification path. The hashes themselves are unchanged: a
 * keyword matches exactly when it did before.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "smsr/msg.h"
#include "classify.h"

#define TABLE_SIZE  4096u /* power of two; ~1400 keywords fill about 1/3 */
#define FILTER_BITS 16
#define CODE_BONUS  12 /* a code-shaped number near a code word */
#define BARE_CODE   4  /* at most this many symbols: "552903 - Klarna", "Acme: 552903" */
#define SEED	    0x2545f4914f6cdd1dull
#define NO_POS	    (-1000)
/* Stand-ins for grams across a break: arbitrary odd constants. */
#define BREAK0 0x8f1bbcdcca62c1d6ull
#define BREAK1 0x6ed9eba1a953fd4eull
#define BREAK2 0x5a827999c3d2e1f0ull

struct entry {
	uint64_t key; /* gram hash, 0 = empty */
	int16_t w[3]; /* verification, notice, marketing */
	uint8_t reach;
};

struct table {
	uint8_t byte_class[256];
	uint8_t letter[256];			   /* a letter, lowercased; 0 for any other byte */
	uint64_t filter[(1u << FILTER_BITS) / 64]; /* every keyword's gram hash, see filter_bit */
	uint64_t vocab[(1u << FILTER_BITS) / 64];  /* every symbol used in a keyword */
	struct entry slot[TABLE_SIZE];
	size_t bad; /* keywords that cannot match, for the self-check */
};

static struct table table; /* written once under table_once, then read-only */
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static _Atomic int table_ready; /* fast path: skips pthread_once's call once built */

/* Byte classes for the ASCII fast path. */
enum {
	B_BREAK,
	B_SKIP,
	B_ALPHA,
	B_DIGIT,
	B_SIGN,
	B_HIGH,
	B_LEAD3 /* leads a 3-byte UTF-8 sequence: CJK, full-width punctuation */
};

#define SYM_DIGITS 3u
/* Not symbols (whose low byte is 1, 2 or 3): next_token's joiner and punctuation. */
#define SYM_NONE  0u
#define SYM_BREAK 4u

static inline uint64_t sym_char(uint32_t cp)
{
	return (uint64_t)cp << 8 | 2;
}

static inline uint64_t mix(uint64_t h, uint64_t s)
{
	h = (h ^ s) * 0x9e3779b97f4a7c15ull;
	return h ^ h >> 31;
}

/*
 * Scanner state for one message. The gram hashes are not here but in locals
 * of scan_text, so that they stay in registers: this struct's address goes to
 * the out-of-line probe path.
 */
struct scan {
	int pos;	      /* index of the next symbol */
	int kw_pos, kw_reach; /* last code word: where and how far it reaches */
	int num_pos;	      /* last code-shaped number */
	bool code;	      /* a code word met a code-shaped number */
	bool lead_num;	      /* the first symbol is a code-shaped number */
	int score[3];
};

/* What scan_text leaves for keyword_hash, which builds the table. */
struct scan_out {
	uint64_t g[SMSR__CLS_GRAM_MAX]; /* hashes of the grams ending at the last symbol */
	int brk;			/* index of the first symbol after the last break */
};

static const struct entry *table_find(const struct table *t, uint64_t h)
{
	for (uint32_t i = (uint32_t)h & (TABLE_SIZE - 1);; i = (i + 1) & (TABLE_SIZE - 1)) {
		if (t->slot[i].key == h)
			return &t->slot[i];
		if (t->slot[i].key == 0)
			return NULL;
	}
}

/* A keyword ended at symbol @sc->pos: add its weights, arm the code detector. */
static void hit(struct scan *sc, const struct entry *e)
{
	sc->score[0] += e->w[0];
	sc->score[1] += e->w[1];
	sc->score[2] += e->w[2];
	if (e->reach) {
		sc->kw_pos = sc->pos;
		sc->kw_reach = e->reach;
		if (sc->pos - sc->num_pos <= e->reach)
			sc->code = true;
	}
}

/*
 * The filter's word comes from the top bits and the bit within it from the
 * bottom six, which a 64-bit shift masks for free. Which bits index the filter
 * is invisible outside: it only decides which grams are probed, and a probe
 * compares whole hashes.
 */
static inline uint64_t filter_bit(uint64_t h)
{
	return table.filter[h >> (64 - FILTER_BITS + 6)] >> (h & 63) & 1;
}

/*
 * The vocabulary filter uses other bits of the unigram hash than the gram
 * filter. Unlike the gram filter, its false positives change the gram hashes
 * (a known symbol does not break), so its indexing must not change.
 */
static inline uint32_t vocab_index(uint64_t g0)
{
	return (uint32_t)(g0 >> 8) & ((1u << FILTER_BITS) - 1);
}

static inline __attribute__((always_inline)) void probe(struct scan *sc, uint64_t h)
{
	const struct entry *e = filter_bit(h) ? table_find(&table, h) : NULL;

	if (e)
		hit(sc, e);
}

/* Some gram ending here passed the filter: probe the table for each that did. */
static __attribute__((noinline)) void probe_grams(struct scan *sc, uint64_t g0, uint64_t g1,
						  uint64_t g2, uint64_t g3)
{
	probe(sc, g0);
	probe(sc, g1);
	probe(sc, g2);
	probe(sc, g3);
}

/* Punctuation: no keyword spans it. */
static inline void scan_break(const struct scan *sc, uint64_t g[], int *brk)
{
	g[0] = BREAK0;
	g[1] = BREAK1;
	g[2] = BREAK2;
	*brk = sc->pos;
}

/*
 * Add symbol @s to the grams @g: hash the four grams ending here, test them
 * all against the filter, and probe the table only when one passes.
 * Straight-line on purpose: after a break the older grams hold random values
 * (see scan_break), which the filter rejects like any other miss. @build
 * (a constant) collects the keywords' vocabulary while the table is built.
 */
static inline __attribute__((always_inline)) void emit(struct scan *sc, uint64_t g[], int *brk,
						       uint64_t s, bool build)
{
	uint64_t g0 = mix(SEED, s), g1, g2, g3;
	uint32_t v = vocab_index(g0);

	if (build)
		table.vocab[v >> 6] |= 1ull << (v & 63);
	/* A symbol no keyword uses cannot be inside a match: it acts as a break. */
	if (!(table.vocab[v >> 6] >> (v & 63) & 1)) {
		scan_break(sc, g, brk);
		sc->pos++;
		return;
	}
	g1 = mix(g[0], s);
	g2 = mix(g[1], s);
	g3 = mix(g[2], s);
	/* Which gram passed is worked out again in probe_grams: most symbols pass none. */
	if ((filter_bit(g0) | filter_bit(g1) | filter_bit(g2) | filter_bit(g3)) != 0)
		probe_grams(sc, g0, g1, g2, g3);
	g[0] = g0;
	g[1] = g1;
	g[2] = g2;
	g[3] = g3;
	sc->pos++;
}

static void code_number(struct scan *sc)
{
	sc->num_pos = sc->pos;
	if (sc->pos == 0)
		sc->lead_num = true;
	if (sc->pos - sc->kw_pos <= sc->kw_reach)
		sc->code = true;
}

/* Decode one UTF-8 sequence at @p (@n > 0 bytes); invalid input yields U+FFFD, 1 byte. */
static inline size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned c = p[0];

	if (c >= 0xe0 && c < 0xf0 && n >= 3 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
		*cp = (c & 0x0f) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
		return 3;
	}
	if (c >= 0xc2 && c < 0xe0 && n >= 2 && (p[1] & 0xc0) == 0x80) {
		*cp = (c & 0x1f) << 6 | (p[1] & 0x3fu);
		return 2;
	}
	if (c >= 0xf0 && c < 0xf5 && n >= 4 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 &&
	    (p[3] & 0xc0) == 0x80) {
		*cp =
		    (c & 0x07) << 18 | (p[1] & 0x3fu) << 12 | (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu);
		return 4;
	}
	*cp = 0xfffd;
	return 1;
}

static inline bool is_digit(const unsigned char *p, size_t len, size_t i)
{
	return i < len && (unsigned)(p[i] - '0') < 10u;
}

static inline bool is_alpha(unsigned c)
{
	return (c | 0x20) - 'a' < 26u;
}

/* Units and counters that turn a number into a quantity, date or amount. */
static bool is_unit(uint32_t cp)
{
	switch (cp) {
	case 0x5143: /* 元 */
	case 0x5e74: /* 年 */
	case 0x6708: /* 月 */
	case 0x65e5: /* 日 */
	case 0x53f7: /* 号 */
	case 0x865f: /* 號 */
	case 0x6b21: /* 次 */
	case 0x5206: /* 分 */
	case 0x79d2: /* 秒 */
	case 0x5929: /* 天 */
	case 0x4e2a: /* 个 */
	case 0x500b: /* 個 */
	case 0x4e07: /* 万 */
	case 0x842c: /* 萬 */
	case 0x6298: /* 折 */
	case 0x5757: /* 块 */
	case 0x584a: /* 塊 */
	case 0x4f4d: /* 位 */
	case 0x4eba: /* 人 */
	case 0x4ef6: /* 件 */
	case 0x6642: /* 時 */
	case 0x65f6: /* 时 */
	case 0xff05: /* ％ */
		return true;
	}
	return false;
}

/*
 * Is the number at [@s, @e) of @p shaped like a one-time code? It must stand
 * alone: not glued to letters, not part of an amount, time, date, phone
 * number or pickup shelf code ("3-2-1108"), not followed by a unit.
 */
static bool code_context(const unsigned char *p, size_t len, size_t s, size_t e)
{
	if (s > 0) {
		unsigned b = p[s - 1];

		if (is_alpha(b) || b == '$' || b == '#' || b == '+')
			return false;
		if (s > 1 && is_digit(p, len, s - 2) &&
		    (b == ':' || b == '/' || b == '-' || b == '.' || b == ','))
			return false;
		if (s > 1 && b == 0xa5 && p[s - 2] == 0xc2) /* ¥ */
			return false;
		if (s > 2 && b == 0xa5 && p[s - 2] == 0xbf && p[s - 3] == 0xef) /* ￥ */
			return false;
	}
	if (e < len) {
		unsigned b = p[e];

		if (is_alpha(b) || b == '%' || b == ':' || b == '/')
			return false;
		if (b == '-' && is_digit(p, len, e + 1))
			return false;
	}
	while (e < len && p[e] == ' ')
		e++;
	if (e < len && p[e] >= 0xc2) {
		uint32_t cp;

		utf8_next(p + e, len - e, &cp);
		return !is_unit(cp);
	}
	return true;
}

/*
 * Scan the number starting at @i, which is one SYM_DIGITS symbol; returns the
 * index past it. A single 3-3
 * pair joined by one '-' or space ("402-118", "772 019") is one number, as
 * services print codes that way; thousands separators and decimals make it
 * an amount.
 */
static size_t scan_number(struct scan *sc, const unsigned char *p, size_t len, size_t i)
{
	size_t s = i, ndig;
	bool amount = false;

	while (is_digit(p, len, i))
		i++;
	ndig = i - s;
	if (ndig == 3 && i < len && (p[i] == '-' || p[i] == ' ') && is_digit(p, len, i + 1) &&
	    is_digit(p, len, i + 2) && is_digit(p, len, i + 3) && !is_digit(p, len, i + 4)) {
		i += 4;
		ndig = 6;
	}
	while (i + 1 < len && (p[i] == '.' || p[i] == ',') && is_digit(p, len, i + 1)) {
		amount = true;
		for (i++; is_digit(p, len, i); i++)
			;
	}
	if (!amount && ndig >= 4 && ndig <= 8 && code_context(p, len, s, i))
		code_number(sc);
	return i;
}

/* Scan the word starting at @*i, advancing @*i past it; returns its symbol. */
static inline uint64_t scan_word(const unsigned char *p, size_t len, size_t *ip)
{
	uint64_t h = 5381;
	size_t i;

	for (i = *ip; i < len; i++) {
		unsigned c = table.letter[p[i]];

		if (c)
			h = h * 33 + c;
		else if (p[i] != '\'' || i + 1 >= len || !is_alpha(p[i + 1]))
			break;
	}
	*ip = i;
	return h << 8 | 1;
}

/* Skip a 【signature】 or [signature]: brand names say little about the class. */
static size_t skip_signature(const unsigned char *p, size_t len, size_t i, const char *close,
			     size_t clen)
{
	size_t end = len - i > 64 ? i + 64 : len;

	for (size_t j = i; j + clen <= end; j++)
		if (memcmp(p + j, close, clen) == 0)
			return j + clen;
	return i;
}

/*
 * The token for code point @cp, @n bytes at @i, other than a CJK character of
 * the common block; sets @*next past it.
 */
static uint64_t scan_high(const unsigned char *p, size_t len, size_t i, size_t n, uint32_t cp,
			  size_t *next)
{
	size_t j;

	*next = i + n;
	if ((cp >= 0x3400 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0x20000 && cp <= 0x2ffff))
		return sym_char(cp);
	if (cp == 0xa5 || cp == 0xffe5) /* ¥ ￥: a currency, like $ */
		return sym_char('$');
	if (cp == 0xff05) /* ％ */
		return sym_char('%');
	if (cp == 0x3000 || cp == 0x2019 || cp == 0xb7) /* space, ’, · */
		return SYM_NONE;
	j = cp == 0x3010 ? skip_signature(p, len, i + n, "\xe3\x80\x91", 3) : 0;
	if (j)
		*next = j;
	return SYM_BREAK;
}

/*
 * The token at @*i, advancing @*i past it: a symbol, SYM_NONE or SYM_BREAK.
 * A number is checked for the shape of a code on the way, against the
 * position of the symbol it is about to be.
 */
static inline __attribute__((always_inline)) uint64_t
next_token(struct scan *sc, const unsigned char *p, size_t len, size_t *ip)
{
	size_t i = *ip, n;
	unsigned c = p[i];
	uint32_t cp;

	switch (table.byte_class[c]) {
	case B_ALPHA:
		return scan_word(p, len, ip);
	case B_DIGIT:
		*ip = scan_number(sc, p, len, i);
		return SYM_DIGITS;
	case B_LEAD3:
		/* Most of a Chinese message: a CJK character, decoded in place. */
		if (len - i >= 3 && (p[i + 1] & 0xc0) == 0x80 && (p[i + 2] & 0xc0) == 0x80) {
			cp = (c & 0x0fu) << 12 | (p[i + 1] & 0x3fu) << 6 | (p[i + 2] & 0x3fu);
			if (cp - 0x3400u <= 0x9fffu - 0x3400u) {
				*ip = i + 3;
				return sym_char(cp);
			}
			return scan_high(p, len, i, 3, cp, ip);
		}
		/* Invalid: decoded as U+FFFD, like any other stray byte. */
		/* fall through */
	case B_HIGH:
		n = utf8_next(p + i, len - i, &cp);
		return scan_high(p, len, i, n, cp, ip);
	case B_SIGN:
		*ip = i + 1;
		return sym_char(c);
	case B_SKIP:
		*ip = i + 1;
		return SYM_NONE;
	}
	*ip = i + 1;
	return SYM_BREAK;
}

/*
 * Scan @p into @sc; @build (a constant) when tokenizing a keyword, which also
 * wants @out. The gram hashes live here, in registers.
 */
static inline __attribute__((always_inline)) void
scan_text(struct scan *sc, const unsigned char *p, size_t len, bool build, struct scan_out *out)
{
	uint64_t g[SMSR__CLS_GRAM_MAX] = {0};
	size_t i = 0;
	int brk;

	scan_break(sc, g, &brk);
	if (len && p[0] == '[')
		i = skip_signature(p, len, 1, "]", 1);
	while (i < len) {
		uint64_t s = next_token(sc, p, len, &i);

		if (s == SYM_BREAK)
			scan_break(sc, g, &brk);
		else if (s != SYM_NONE)
			emit(sc, g, &brk, s, build);
	}
	if (build) {
		memcpy(out->g, g, sizeof(out->g));
		out->brk = brk;
	}
}

/* Tokenize keyword @w with the message scanner; returns its symbol count. */
static unsigned keyword_hash(const char *w, uint64_t *out)
{
	/* Scan against the table under construction: its filter may already
	 * match, which only adds to scores nobody reads. */
	struct scan sc = {.kw_pos = NO_POS, .num_pos = NO_POS};
	struct scan_out so;
	unsigned n;

	scan_text(&sc, (const unsigned char *)w, strlen(w), true, &so);
	n = (unsigned)sc.pos;
	if (n == 0 || n > SMSR__CLS_GRAM_MAX || so.brk != 0)
		return 0;
	*out = so.g[n - 1];
	return n;
}

static void table_add(struct table *t, const struct smsr__cls_word *w)
{
	uint64_t h;
	uint32_t i;

	if (!keyword_hash(w->text, &h)) {
		t->bad++;
		return;
	}
	for (i = (uint32_t)h & (TABLE_SIZE - 1); t->slot[i].key && t->slot[i].key != h;
	     i = (i + 1) & (TABLE_SIZE - 1))
		;
	/* A repeated keyword adds up: families may overlap on purpose. */
	t->slot[i].key = h;
	t->slot[i].w[0] += w->v;
	t->slot[i].w[1] += w->n;
	t->slot[i].w[2] += w->m;
	if (w->reach > t->slot[i].reach)
		t->slot[i].reach = w->reach;
	t->filter[h >> (64 - FILTER_BITS + 6)] |= 1ull << (h & 63);
}

static uint8_t class_of(unsigned c)
{
	if (c >= 0xe0 && c < 0xf0)
		return B_LEAD3;
	if (c >= 0x80)
		return B_HIGH;
	if (is_alpha(c))
		return B_ALPHA;
	if (c - '0' < 10u)
		return B_DIGIT;
	if (c == '$' || c == '%')
		return B_SIGN;
	/* Joiners: "one-time", "$9.99/mo", "don't", "#1234" read as if spaced. */
	if (c == ' ' || c == '\t' || c == '-' || c == '/' || c == '\'' || c == '#')
		return B_SKIP;
	return B_BREAK;
}

static void table_build(void)
{
	for (unsigned c = 0; c < 256; c++) {
		table.byte_class[c] = class_of(c);
		table.letter[c] = is_alpha(c) ? (uint8_t)(c | 0x20) : 0;
	}
	for (size_t i = 0; i < smsr__cls_nwords; i++)
		table_add(&table, &smsr__cls_words[i]);
	atomic_store_explicit(&table_ready, 1, memory_order_release);
}

static inline void table_init(void)
{
	if (!atomic_load_explicit(&table_ready, memory_order_acquire))
		pthread_once(&table_once, table_build);
}

size_t smsr__classify_selfcheck(void)
{
	table_init();
	return table.bad;
}

/* Does @text carry a 【signature】 or [signature] (which the scanner skips)? */
static bool has_signature(const char *text, size_t len)
{
	if (len && text[0] == '[')
		return true;
	for (size_t i = 0; i + 3 <= len; i++)
		if (memcmp(text + i, "\xe3\x80\x90", 3) == 0)
			return true;
	return false;
}

void smsr__classify_keywords(const char *text, size_t len, struct smsr__cls_kw *out)
{
	struct scan sc = {.kw_pos = NO_POS, .num_pos = NO_POS};
	int v, n, m;

	table_init();
	scan_text(&sc, (const unsigned char *)text, len, false, NULL);
	/* A bare code: a code-shaped number first or last, a name, little else. */
	if (sc.pos <= BARE_CODE && (sc.lead_num || sc.num_pos == sc.pos - 1) &&
	    (sc.pos >= 2 || has_signature(text, len)))
		sc.code = true;
	v = sc.score[0] + (sc.code ? CODE_BONUS : 0);
	n = sc.score[1];
	m = sc.score[2];
	out->v = v;
	out->n = n;
	out->m = m;
	out->code = sc.code;
	if (sc.code && v > n && v > m)
		out->verdict = SMSR_CLASS_VERIFICATION;
	else if (m > n)
		out->verdict = SMSR_CLASS_MARKETING;
	else
		out->verdict = SMSR_CLASS_NOTICE;
}

/* The model, expanded once into a dense table (4 int16 per bucket: 128 KiB). */
static int16_t model[SMSR__CLS_BUCKETS][4];
static pthread_once_t model_once = PTHREAD_ONCE_INIT;
static _Atomic int model_ready;

static void model_build(void)
{
	for (size_t i = 0; i < smsr__cls_model_n; i++)
		memcpy(model[smsr__cls_model[i].bucket], smsr__cls_model[i].w,
		       sizeof(smsr__cls_model[i].w));
	atomic_store_explicit(&model_ready, 1, memory_order_release);
}

enum smsr_class smsr_classify(const char *text, size_t len)
{
	struct smsr__cls_kw kw;
	int32_t score[3];

	if (!text)
		return SMSR_CLASS_NOTICE;
	smsr__classify_keywords(text, len, &kw);
	if (smsr__cls_model_n == 0 || smsr__cls_kw_margin(&kw) >= SMSR__CLS_SURE)
		return (enum smsr_class)kw.verdict;
	if (!atomic_load_explicit(&model_ready, memory_order_acquire))
		pthread_once(&model_once, model_build);
	if (smsr__cls_score(text, len, &kw, (const int16_t(*)[4])model, score) < SMSR__CLS_MIN_FEAT)
		return (enum smsr_class)kw.verdict;
	/* Ties go to notice, the harmless class. */
	if (score[0] > score[1] && score[0] >= score[2])
		return SMSR_CLASS_VERIFICATION;
	return score[2] > score[1] ? SMSR_CLASS_MARKETING : SMSR_CLASS_NOTICE;
}
