/* SPDX-License-Identifier: MIT */
/*
 * A look at a Request's bytes before protobuf-c unpacks them.
 *
 * protobuf-c allocates for every element it decodes and hands strings back
 * NUL-terminated, so two things cannot be seen after the unpack: what it
 * cost (a 1 MiB frame of empty repeated messages is half a million
 * allocations) and whether a string held a NUL byte (every later strlen()
 * would cut it there: a token "T\0x" would read as "T"). This walks the
 * wire format once, with the message descriptors, and refuses before any
 * allocation: a NUL in a string field, more than @max_repeat elements in
 * one repeated field, more unknown fields than a client can mean, nesting
 * deeper than the schema's, and malformed encodings. Pure: no I/O, no
 * allocation, reads nothing past @len.
 */
#include <stdio.h>
#include <string.h>

#include "smsrd.h"

#define DEPTH_MAX   8  /* the schema nests 4 deep */
#define UNKNOWN_MAX 64 /* per message: room for newer clients' fields */
#define FIELDS_MAX  64 /* per descriptor, for the repeat counts */

struct walk {
	const struct pb_limits *lim;
	char *why;
	size_t whylen;
	uint64_t call_id;
};

static inline int varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;

	if (*p < end && **p < 0x80) { /* most keys, lengths and ids: one byte */
		*out = *(*p)++;
		return 0;
	}

	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* Say why in w->why; returns @code (negative). */
static int refuse(struct walk *w, int code, const ProtobufCMessageDescriptor *d,
		  const ProtobufCFieldDescriptor *f, const char *what)
{
	snprintf(w->why, w->whylen, "%s.%s: %s", d->short_name, f ? f->name : "?", what);
	return code;
}

/* Elements in a packed run of @f's scalars. */
static int packed_count(const ProtobufCFieldDescriptor *f, const uint8_t *p, size_t n,
			uint64_t *count)
{
	const uint8_t *end = p + n;
	uint64_t v;

	switch (f->type) {
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		*count = n / 4;
		return n % 4 ? -1 : 0;
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		*count = n / 8;
		return n % 8 ? -1 : 0;
	default:
		for (*count = 0; p < end; (*count)++)
			if (varint(&p, end, &v))
				return -1;
		return 0;
	}
}

/* Field @id of @d: straight from the array when ids are dense from 1, as
 * in most of the schema, else protobuf-c's binary search. */
static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint64_t id)
{
	if (id - 1 < d->n_fields && d->fields[id - 1].id == id)
		return &d->fields[id - 1];
	return protobuf_c_message_descriptor_get_field(d, (unsigned)id);
}

static int walk_msg(struct walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
		    size_t len, unsigned depth)
{
	const uint8_t *end = p + len;
	uint32_t seen[FIELDS_MAX];
	uint64_t counted = 0; /* bit i: seen[i] holds a count */
	unsigned unknown = 0;
	int rc;

	if (depth > DEPTH_MAX)
		return refuse(w, -SMSR_ETOOCOMPLEX, d, NULL, "nested too deep");
	while (p < end) {
		const ProtobufCFieldDescriptor *f;
		uint64_t key, v, n = 1;
		const uint8_t *body = NULL;
		unsigned wt;

		if (varint(&p, end, &key) || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
			return refuse(w, -SMSR_EBADPROTO, d, NULL, "malformed field key");
		wt = (unsigned)(key & 7);
		f = field_of(d, key >> 3);
		if (wt == 0) {
			if (varint(&p, end, &v))
				return refuse(w, -SMSR_EBADPROTO, d, f, "malformed varint");
			if (depth == 0 && f && f->id == 1)
				w->call_id = v;
		} else if (wt == 1 || wt == 5) {
			size_t k = wt == 1 ? 8 : 4;

			if ((size_t)(end - p) < k)
				return refuse(w, -SMSR_EBADPROTO, d, f, "truncated");
			p += k;
		} else if (wt == 2) {
			if (varint(&p, end, &v) || v > (uint64_t)(end - p))
				return refuse(w, -SMSR_EBADPROTO, d, f, "length past the end");
			body = p;
			p += v;
		} else {
			return refuse(w, -SMSR_EBADPROTO, d, f, "unsupported wire type (groups)");
		}
		if (!f) {
			if (++unknown > UNKNOWN_MAX)
				return refuse(w, -SMSR_ETOOCOMPLEX, d, NULL,
					      "too many unknown fields");
			continue;
		}
		if (body && (f->type == PROTOBUF_C_TYPE_STRING) && memchr(body, 0, (size_t)v))
			return refuse(w, -SMSR_ENULBYTE, d, f, "a NUL byte inside a string");
		if (body && f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    (rc = walk_msg(w, f->descriptor, body, (size_t)v, depth + 1)) < 0)
			return rc;
		if (body && f->type != PROTOBUF_C_TYPE_MESSAGE &&
		    f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_BYTES &&
		    packed_count(f, body, (size_t)v, &n))
			return refuse(w, -SMSR_EBADPROTO, d, f, "malformed packed field");
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t i = (size_t)(f - d->fields);

			if (i < FIELDS_MAX && !(counted >> i & 1)) {
				counted |= 1ull << i;
				seen[i] = 0;
			}
			if (i < FIELDS_MAX && (seen[i] += (uint32_t)n) > w->lim->max_repeat) {
				char what[64];

				snprintf(what, sizeof(what), "more than %u elements",
					 w->lim->max_repeat);
				return refuse(w, -SMSR_ETOOCOMPLEX, d, f, what);
			}
		}
	}
	return 0;
}

int pb_check_request(const uint8_t *p, size_t len, const struct pb_limits *lim, uint64_t *call_id,
		     char *why, size_t whylen)
{
	struct walk w = {.lim = lim, .why = why, .whylen = whylen};
	int rc;

	why[0] = '\0';
	rc = walk_msg(&w, &smsr__v1__request__descriptor, p, len, 0);
	*call_id = w.call_id;
	return rc;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF)? */
static bool utf8_ok(const uint8_t *p)
{
	while (*p) {
		uint8_t b = *p;
		unsigned n = b < 0x80		      ? 0
			     : b >= 0xc2 && b <= 0xdf ? 1
			     : (b & 0xf0) == 0xe0     ? 2
			     : b >= 0xf0 && b <= 0xf4 ? 3
						      : 9;
		uint32_t cp = n == 0 ? b : n == 1 ? b & 0x1fu : n == 2 ? b & 0x0fu : b & 0x07u;

		if (n == 9)
			return false;
		for (unsigned k = 1; k <= n; k++) {
			if ((p[k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[k] & 0x3fu);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		p += n + 1;
	}
	return true;
}

char *pb_utf8(const char *s)
{
	return pb_str(s && utf8_ok((const uint8_t *)s) ? s : "");
}
