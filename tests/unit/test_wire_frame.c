/* SPDX-License-Identifier: MIT */
/*
 * Description: the smsrd frame decoder (tools/wire/wire_frame.c). A frame is a
 * 4-byte big-endian length N and N payload bytes. A whole frame is consumed
 * (4 + N) with the payload pointing into the buffer; a frame cut at any
 * byte asks for more (-EAGAIN) and leaves the outputs alone; many frames in
 * one buffer come out one by one, in order; N == 0 is bad_frame and
 * N > max is frame_too_large, both from the header alone; N == max is
 * fine. Guard-page tests put the last byte of the input right before a
 * PROT_NONE page, for whole frames, every cut and every short header, so a
 * read past @len faults instead of passing silently.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "wire_frame.h"

#define MAXF 4096u

/* Append a frame of @n bytes (payload bytes = seed + i) to @out; returns 4 + n. */
static size_t put_frame(uint8_t *out, uint32_t n, uint8_t seed)
{
	size_t off = smsr__frame_put_header(out, n);

	for (uint32_t i = 0; i < n; i++)
		out[off + i] = (uint8_t)(seed + i);
	return off + n;
}

static void check_payload(const uint8_t *p, uint32_t n, uint8_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(p[i], (uint8_t)(seed + i));
}

/* Two pages, the second PROT_NONE: edge(len) is where @len bytes end at the guard. */
struct guard {
	uint8_t *base;
	size_t page;
};

static void guard_init(struct guard *g)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	g->base =
	    mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->base != MAP_FAILED);
	assert_int_equal(mprotect(g->base + g->page, g->page, PROT_NONE), 0);
}

static uint8_t *guard_edge(const struct guard *g, const uint8_t *src, size_t len)
{
	uint8_t *p = g->base + g->page - len;

	assert_true(len <= g->page);
	memcpy(p, src, len);
	return p;
}

static void guard_fini(struct guard *g)
{
	assert_int_equal(munmap(g->base, 2 * g->page), 0);
}

static void test_frame_whole_frame_is_consumed(void **state)
{
	uint8_t buf[64];
	const uint8_t *p = NULL;
	uint32_t n = 0;
	size_t len = put_frame(buf, 10, 7);

	assert_int_equal(smsr__frame_next(buf, len, MAXF, &p, &n), 14);
	assert_ptr_equal(p, buf + 4);
	assert_int_equal(n, 10);
	check_payload(p, n, 7);
	/* Bytes after the frame are not its business. */
	memset(buf + len, 0xff, 8);
	assert_int_equal(smsr__frame_next(buf, len + 8, MAXF, &p, &n), 14);
}

static void test_frame_header_is_big_endian(void **state)
{
	uint8_t h[4];

	assert_int_equal(smsr__frame_put_header(h, 0x01020304u), 4);
	assert_int_equal(h[0], 1);
	assert_int_equal(h[1], 2);
	assert_int_equal(h[2], 3);
	assert_int_equal(h[3], 4);
	smsr__frame_put_header(h, 0xfffffffeu);
	assert_int_equal(h[0], 0xff);
	assert_int_equal(h[3], 0xfe);
}

static void test_frame_short_header_needs_more(void **state)
{
	const uint8_t hdr[4] = {0, 0, 0, 5};
	const uint8_t *p = (const uint8_t *)"x";
	uint32_t n = 99;

	assert_int_equal(smsr__frame_next(NULL, 0, MAXF, &p, &n), -EAGAIN);
	for (size_t k = 0; k < 4; k++)
		assert_int_equal(smsr__frame_next(hdr, k, MAXF, &p, &n), -EAGAIN);
	assert_int_equal(smsr__frame_next(hdr, 4, MAXF, &p, &n), -EAGAIN);
	assert_string_equal((const char *)p, "x");
	assert_int_equal(n, 99);
}

/* Every prefix of a stream of frames, decoded as a server would. */
static void test_frame_split_at_every_byte_boundary(void **state)
{
	static const uint32_t sizes[] = {1, 2, 3, 4, 5, 127, 128, 300};
	uint8_t stream[1024];
	size_t ends[8], total = 0;
	struct guard g;

	for (size_t i = 0; i < 8; i++) {
		total += put_frame(stream + total, sizes[i], (uint8_t)i);
		ends[i] = total;
	}
	guard_init(&g);
	for (size_t k = 0; k <= total; k++) {
		const uint8_t *buf = guard_edge(&g, stream, k);
		size_t off = 0, i = 0;
		int rc;

		for (;;) {
			const uint8_t *p = NULL;
			uint32_t n = 0;

			rc = smsr__frame_next(buf + off, k - off, MAXF, &p, &n);
			if (rc < 0)
				break;
			assert_int_equal(n, sizes[i]);
			assert_ptr_equal(p, buf + off + 4);
			check_payload(p, n, (uint8_t)i);
			off += (size_t)rc;
			assert_int_equal(off, ends[i]);
			i++;
		}
		assert_int_equal(rc, -EAGAIN);
		/* Exactly the frames that end at or before k came out. */
		size_t want = 0;
		while (want < 8 && ends[want] <= k)
			want++;
		assert_int_equal(i, want);
	}
	guard_fini(&g);
}

static void test_frame_many_frames_in_one_buffer(void **state)
{
	uint8_t *stream = malloc(1000 * 40);
	size_t total = 0, off = 0;
	unsigned count = 0;
	int rc;

	assert_non_null(stream);
	for (uint32_t i = 0; i < 1000; i++)
		total += put_frame(stream + total, 1 + i % 33, (uint8_t)i);
	for (;;) {
		const uint8_t *p;
		uint32_t n;

		rc = smsr__frame_next(stream + off, total - off, MAXF, &p, &n);
		if (rc < 0)
			break;
		assert_int_equal(n, 1 + count % 33);
		check_payload(p, n, (uint8_t)count);
		off += (size_t)rc;
		count++;
	}
	assert_int_equal(rc, -EAGAIN);
	assert_int_equal(count, 1000);
	assert_int_equal(off, total);
	free(stream);
}

static void test_frame_zero_length_is_bad_frame(void **state)
{
	uint8_t buf[16] = {0};
	const uint8_t *p = NULL;
	uint32_t n = 0;

	/* From the header alone, and with bytes after it. */
	assert_int_equal(smsr__frame_next(buf, 4, MAXF, &p, &n), -SMSR_EBADFRAME);
	assert_int_equal(smsr__frame_next(buf, 16, MAXF, &p, &n), -SMSR_EBADFRAME);
	/* A good frame, then a zero header: the first still comes out. */
	size_t len = put_frame(buf, 3, 1);
	assert_int_equal(smsr__frame_next(buf, len + 4, MAXF, &p, &n), 7);
	assert_ptr_equal(p, buf + 4);
	assert_int_equal(smsr__frame_next(buf + 7, 4, MAXF, &p, &n), -SMSR_EBADFRAME);
	/* The outputs still describe the last good frame. */
	assert_ptr_equal(p, buf + 4);
	assert_int_equal(n, 3);
}

static void test_frame_oversize_is_reported_from_header_alone(void **state)
{
	uint8_t h[4];
	const uint8_t *p = NULL;
	uint32_t n = 0;

	smsr__frame_put_header(h, MAXF + 1);
	assert_int_equal(smsr__frame_next(h, 4, MAXF, &p, &n), -SMSR_EFRAMETOOBIG);
	smsr__frame_put_header(h, 0xffffffffu);
	assert_int_equal(smsr__frame_next(h, 4, MAXF, &p, &n), -SMSR_EFRAMETOOBIG);
	assert_int_equal(smsr__frame_next(h, 4, SMSR_FRAME_MAX_DFLT, &p, &n), -SMSR_EFRAMETOOBIG);
	/* A huge limit is capped so the result fits an int. */
	assert_int_equal(smsr__frame_next(h, 4, SIZE_MAX, &p, &n), -SMSR_EFRAMETOOBIG);
	smsr__frame_put_header(h, (uint32_t)INT32_MAX - 4);
	assert_int_equal(smsr__frame_next(h, 4, SIZE_MAX, &p, &n), -EAGAIN);
	smsr__frame_put_header(h, (uint32_t)INT32_MAX - 3);
	assert_int_equal(smsr__frame_next(h, 4, SIZE_MAX, &p, &n), -SMSR_EFRAMETOOBIG);
	assert_null(p);
	assert_int_equal(n, 0);
}

static void test_frame_max_size_exactly_is_accepted(void **state)
{
	uint8_t *buf = malloc(4 + SMSR_FRAME_MAX_DFLT);
	const uint8_t *p = NULL;
	uint32_t n = 0;
	size_t len;

	assert_non_null(buf);
	len = put_frame(buf, SMSR_FRAME_MAX_DFLT, 3);
	assert_int_equal(smsr__frame_next(buf, len - 1, SMSR_FRAME_MAX_DFLT, &p, &n), -EAGAIN);
	assert_int_equal(smsr__frame_next(buf, len, SMSR_FRAME_MAX_DFLT, &p, &n), (int)len);
	assert_int_equal(n, SMSR_FRAME_MAX_DFLT);
	check_payload(p, n, 3);
	/* One byte less of limit: the same header is too large. */
	assert_int_equal(smsr__frame_next(buf, len, SMSR_FRAME_MAX_DFLT - 1, &p, &n),
			 -SMSR_EFRAMETOOBIG);
	free(buf);
}

/* Whole frames and bad headers ending exactly at a PROT_NONE page. */
static void test_frame_guard_page_whole_and_bad_frames(void **state)
{
	uint8_t src[64];
	const uint8_t *p, *buf;
	uint32_t n;
	struct guard g;
	size_t len;

	guard_init(&g);
	for (uint32_t sz = 1; sz <= 40; sz++) {
		len = put_frame(src, sz, (uint8_t)sz);
		buf = guard_edge(&g, src, len);
		assert_int_equal(smsr__frame_next(buf, len, MAXF, &p, &n), (int)len);
		check_payload(p, n, (uint8_t)sz);
		/* Header claims more than is there: ask for more, read nothing extra. */
		smsr__frame_put_header(src, sz + 1);
		buf = guard_edge(&g, src, len);
		assert_int_equal(smsr__frame_next(buf, len, MAXF, &p, &n), -EAGAIN);
	}
	smsr__frame_put_header(src, 0);
	buf = guard_edge(&g, src, 4);
	assert_int_equal(smsr__frame_next(buf, 4, MAXF, &p, &n), -SMSR_EBADFRAME);
	smsr__frame_put_header(src, MAXF + 1);
	buf = guard_edge(&g, src, 4);
	assert_int_equal(smsr__frame_next(buf, 4, MAXF, &p, &n), -SMSR_EFRAMETOOBIG);
	for (size_t k = 0; k < 4; k++) {
		buf = guard_edge(&g, src, k);
		assert_int_equal(smsr__frame_next(buf, k, MAXF, &p, &n), -EAGAIN);
	}
	guard_fini(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_whole_frame_is_consumed),
	    cmocka_unit_test(test_frame_header_is_big_endian),
	    cmocka_unit_test(test_frame_short_header_needs_more),
	    cmocka_unit_test(test_frame_split_at_every_byte_boundary),
	    cmocka_unit_test(test_frame_many_frames_in_one_buffer),
	    cmocka_unit_test(test_frame_zero_length_is_bad_frame),
	    cmocka_unit_test(test_frame_oversize_is_reported_from_header_alone),
	    cmocka_unit_test(test_frame_max_size_exactly_is_accepted),
	    cmocka_unit_test(test_frame_guard_page_whole_and_bad_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
