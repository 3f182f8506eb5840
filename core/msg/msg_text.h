/* SPDX-License-Identifier: MIT */
/*
 * Message text: UTF-8 validation, coding choice and segment count.
 *
 * One pass over the bytes decides everything the router needs: whether the
 * text is valid UTF-8, whether it fits the GSM 03.38 default alphabet (with
 * its extension table, whose characters count two septets) or needs UCS-2,
 * and how many billable segments it makes: GSM-7 160 single / 153 per part,
 * UCS-2 70 single / 67 per part, counted in UTF-16 units. A GSM-7 escape
 * pair or a UTF-16 surrogate pair is never split across parts, so a
 * multipart count can exceed ceil(units / 153) or ceil(units / 67).
 */
#ifndef SMSR_MSG_TEXT_H
#define SMSR_MSG_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct smsr__text_info {
	uint32_t units; /* septets (GSM-7) or UTF-16 units (UCS-2) */
	uint32_t segments;
	uint8_t coding; /* enum smsr_coding */
};

/*
 * Scan @text (@len bytes). Returns 0 and fills @out, or -SMSR_EEMPTY
 * (len 0), -SMSR_EINVAL (@text NULL with @len > 0, or @out NULL), -SMSR_EBADUTF8 (invalid UTF-8:
 * overlongs, surrogates, > U+10FFFF, truncated sequences, NUL bytes). Pure.
 */
int smsr__text_scan(const char *text, size_t len, struct smsr__text_info *out);

/* Validate that @s (@len bytes) is UTF-8 without NUL. 0 or -SMSR_EBADUTF8. */
int smsr__utf8_check(const char *s, size_t len);

#endif
