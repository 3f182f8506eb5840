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

#endif
