/* SPDX-License-Identifier: MIT */
/*
 * smsrd wire framing (see wire_frame.h and proto/PROTOCOL.md "Framing").
 *
 * Invariant: no byte at or beyond buf[len] is ever read, whatever the
 * header says; lengths are compared without arithmetic that could wrap.
 */
#include <errno.h>

#include "wire_frame.h"

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int smsr__frame_next(const uint8_t *buf, size_t len, size_t max_frame, const uint8_t **payload,
		     uint32_t *plen)
{
	uint32_t n;

	if (len < SMSR_FRAME_HDR)
		return -EAGAIN;
	n = get_be32(buf);
	if (n == 0)
		return -SMSR_EBADFRAME;
	if (n > max_frame)
		return -SMSR_EFRAMETOOBIG;
	/* The result must fit an int: cap what a caller may ask for. */
	if (n > (uint32_t)INT32_MAX - SMSR_FRAME_HDR)
		return -SMSR_EFRAMETOOBIG;
	if (len - SMSR_FRAME_HDR < n)
		return -EAGAIN;
	*payload = buf + SMSR_FRAME_HDR;
	*plen = n;
	return (int)(SMSR_FRAME_HDR + n);
}

size_t smsr__frame_put_header(uint8_t out[4], uint32_t n)
{
	out[0] = (uint8_t)(n >> 24);
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	return SMSR_FRAME_HDR;
}
