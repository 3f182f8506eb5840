/* SPDX-License-Identifier: MIT */
/*
 * The template cache: what the submit path works out from a message's text
 * alone — its length in units and segments, its coding and its class —
 * remembered per text template on the submitting thread.
 *
 * SMS traffic is mostly templates: one app's codes differ only in the code,
 * one campaign sends one text to many numbers. A text's template is the text
 * with every ASCII digit read as '0'. Everything cached here is the same for
 * every text of a template, exactly, not as a guess:
 *   - text scan (smsr__text_scan): ASCII digits are one GSM-7 septet and one
 *     UTF-16 unit each, and valid UTF-8 whatever their value;
 *   - class (smsr_classify): the keyword scorer reads a number as one DIGITS
 *     symbol and its shape from the byte classes around it; the model's
 *     features take a number's digit count, never its digits.
 * tests/unit/test_tmpl_cache.c checks this on every corpus text as well.
 *
 * Texts up to SMSR__TMPL_TEXT_MAX bytes are cached, from the second time
 * their template is seen; the whole template is kept and compared, so a hit
 * is never a hash collision. Each thread has its
 * own small cache (two-way, SMSR__TMPL_ENTRIES entries, ~150 KiB), made on
 * first use and freed when the thread exits: no locks, no sharing.
 */
#ifndef SMSR_TMPL_CACHE_H
#define SMSR_TMPL_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "msg/msg_text.h"

#define SMSR__TMPL_TEXT_MAX 256
#define SMSR__TMPL_ENTRIES  512

enum {
	SMSR__TMPL_TEXT = 1, /* @text is set */
	SMSR__TMPL_CLS = 2,  /* @cls is set */
};

struct smsr__tmpl {
	uint64_t hash;
	uint16_t len;
	uint8_t have; /* SMSR__TMPL_* */
	uint8_t cls;  /* enum smsr_class */
	uint32_t age; /* for replacement within a set */
	struct smsr__text_info text;
	uint64_t w[SMSR__TMPL_TEXT_MAX / 8]; /* the template, zero-padded */
};

/*
 * The entry of @text's template (@len bytes) on this thread: found, with
 * what it has, or newly claimed, with nothing (have = 0) for the caller to
 * fill. NULL when the text is empty or too long, on the template's first
 * sight, or on out of memory. Valid until this thread's next call.
 */
struct smsr__tmpl *smsr__tmpl_lookup(const char *text, size_t len);

/* @text with every ASCII digit read as '0', into @out (@len bytes). For tests. */
void smsr__tmpl_mask(const char *text, size_t len, char *out);

#endif
