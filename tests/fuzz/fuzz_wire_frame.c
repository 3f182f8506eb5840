/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the smsrd frame decoder and the Request schema.
 *
 * The input is treated as what one connection received: decode frames in a
 * loop the way the server does (consume, advance, stop at "need more" or at
 * lost framing) and unpack every complete payload as an smsr.v1.Request
 * with protobuf-c, as the server would before dispatching it. Invariants
 * checked: every result is -EAGAIN, a framing error or 4 + N with N in
 * 1..max, the payload lies inside the input, and the first input byte
 * decides the maximum frame size so both limits and small limits get hit.
 *
 * Build (generated C from: protoc-c -Iproto --c_out=GEN proto/smsr.proto):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Itools/wire -IGEN \
 *     tests/fuzz/fuzz_wire_frame.c tools/wire/wire_frame.c GEN/smsr.pb-c.c -lprotobuf-c
 * For coverage inside the unpacker, compile protobuf-c.c (the release that
 * matches protoc-c) into the fuzzer instead of -lprotobuf-c. UBSan then
 * reports protobuf-c's own shifts in parse_tag_and_wiretype() and NULL + 0
 * on field-less messages (upstream issue #506, PR #794): not ours.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <protobuf-c/protobuf-c.h>

#include "smsr.pb-c.h"
#include "wire_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void unpack_request(const uint8_t *p, uint32_t n)
{
	Smsr__V1__Request *req = smsr__v1__request__unpack(NULL, n, p);

	if (!req)
		return;
	/* Touch what a dispatcher would: the call id and the body kind. */
	if (req->body_case == SMSR__V1__REQUEST__BODY_SUBMIT && req->submit) {
		for (size_t i = 0; i < req->submit->n_messages; i++)
			if (!req->submit->messages[i]->recipient)
				abort();
	}
	smsr__v1__request__free_unpacked(req, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max_frame, off = 0;

	if (size < 1)
		return 0;
	/* 0: the default 1 MiB; else a small limit of 1..255 bytes. */
	max_frame = data[0] ? data[0] : SMSR_FRAME_MAX_DFLT;
	data++;
	size--;
	for (;;) {
		const uint8_t *p = NULL;
		uint32_t n = 0;
		int rc = smsr__frame_next(data + off, size - off, max_frame, &p, &n);

		if (rc == -EAGAIN || rc == -SMSR_EBADFRAME || rc == -SMSR_EFRAMETOOBIG)
			break;
		if (rc < 0 || n == 0 || n > max_frame || (size_t)rc != SMSR_FRAME_HDR + n ||
		    p != data + off + SMSR_FRAME_HDR || (size_t)rc > size - off)
			abort();
		unpack_request(p, n);
		off += (size_t)rc;
	}
	return 0;
}
