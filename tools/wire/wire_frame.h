/* SPDX-License-Identifier: MIT */
/*
 * smsrd wire framing: a 4-byte big-endian unsigned length N, then N bytes
 * of one serialized smsr.v1.Request or smsr.v1.Response (proto/PROTOCOL.md).
 *
 * The decoder is pure: no I/O, no allocation, no state between calls. It
 * looks only at the @len bytes it is given and never reads past them, so a
 * connection's receive buffer can be scanned in place, frame after frame.
 * Framing is lost for good when a header says N == 0 or N > the maximum:
 * the only safe reaction is to answer the error (call_id 0) and close.
 */
#ifndef SMSR_WIRE_FRAME_H
#define SMSR_WIRE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "smsr/errors.h"

/*
 * Local stand-ins until SMSR_ERRORS (errors.h) has these codes. An enum
 * constant is invisible to #ifndef, so delete this block when they land.
 */

#define SMSR_FRAME_HDR	    4u
#define SMSR_FRAME_MAX_DFLT (1u << 20) /* 1 MiB of payload */

/*
 * Find the first frame in @buf (@len bytes, borrowed; may be NULL when @len
 * is 0). A frame is complete when its header and all N payload bytes are
 * present; then *@payload points into @buf at the payload (lent: valid as
 * long as @buf is), *@plen is N, and the result is the bytes consumed,
 * SMSR_FRAME_HDR + N. Otherwise *@payload and *@plen are left unchanged and
 * the result is:
 *   -EAGAIN             fewer than 4 bytes, or the payload is not all there
 *                       yet (the header itself is valid);
 *   -SMSR_EBADFRAME     the header says N == 0;
 *   -SMSR_EFRAMETOOBIG  the header says N > @max_frame (reported as soon as
 *                       the header is in, without waiting for the payload).
 * @max_frame above INT32_MAX - 4 acts as INT32_MAX - 4, so the result always
 * fits an int.
 * Pure, thread-safe, O(1).
 */
int smsr__frame_next(const uint8_t *buf, size_t len, size_t max_frame, const uint8_t **payload,
		     uint32_t *plen);

/*
 * Write the header for an @n-byte payload into @out (big-endian). Returns
 * SMSR_FRAME_HDR. The caller checks @n against its maximum and against 0.
 */
size_t smsr__frame_put_header(uint8_t out[4], uint32_t n);

#endif
