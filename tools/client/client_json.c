/* SPDX-License-Identifier: MIT */
/*
 * Any protobuf-c message as one JSON object, driven by the generated
 * descriptors, so a field added to smsr.proto shows up without code here.
 *
 * Close to the proto3 JSON mapping, with two differences made for shell
 * use (jq): every singular field is printed, zero values included, and
 * 64-bit integers are JSON numbers, not strings. Enums print their value
 * names ("CLASS_VERIFICATION"), or the number when the value is unknown.
 * Only the set member of a oneof is printed; unset submessages are omitted.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "client_int.h"

static void put_str(FILE *f, const uint8_t *s, size_t len, int binary)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = s[i];

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20 || ch == 0x7f || (binary && ch >= 0x80))
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void put_enum(FILE *f, const ProtobufCFieldDescriptor *fd, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
	    (const ProtobufCEnumDescriptor *)fd->descriptor, v);

	if (ev)
		put_str(f, (const uint8_t *)ev->name, strlen(ev->name), 0);
	else
		fprintf(f, "%d", v);
}

static void put_message(FILE *f, const ProtobufCMessage *m);

/* One value of field @fd stored at @p. */
static void put_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(f, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fprintf(f, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(f, "%" PRId64, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(f, "%" PRIu64, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		double d =
		    fd->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)p : *(const double *)p;

		if (isfinite(d))
			fprintf(f, "%.17g", d);
		else
			fputs("null", f);
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)p ? "true" : "false", f);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		put_enum(f, fd, *(const int *)p);
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		put_str(f, (const uint8_t *)(s ? s : ""), s ? strlen(s) : 0, 0);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;

		put_str(f, b->data, b->len, 1);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		put_message(f, *(ProtobufCMessage *const *)p);
		break;
	}
}

static size_t type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

/* Is field @fd of @m printed at all? */
static int field_shown(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	const uint8_t *base = (const uint8_t *)m;

	if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	    *(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
		return 0;
	if (fd->label != PROTOBUF_C_LABEL_REPEATED && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
	    !*(ProtobufCMessage *const *)(base + fd->offset))
		return 0;
	return 1;
}

static void put_message(FILE *f, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const uint8_t *base = (const uint8_t *)m;
	int first = 1;

	fputc('{', f);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if (!field_shown(m, fd))
			continue;
		fputs(first ? "" : ",", f);
		first = 0;
		put_str(f, (const uint8_t *)fd->name, strlen(fd->name), 0);
		fputc(':', f);
		if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
			put_value(f, fd, base + fd->offset);
			continue;
		}
		size_t n = *(const size_t *)(base + fd->quantifier_offset);
		const uint8_t *arr = *(const uint8_t *const *)(base + fd->offset);

		fputc('[', f);
		for (size_t k = 0; k < n; k++) {
			fputs(k ? "," : "", f);
			put_value(f, fd, arr + k * type_size(fd->type));
		}
		fputc(']', f);
	}
	fputc('}', f);
}

int smsr_client_json(FILE *f, const ProtobufCMessage *m)
{
	put_message(f, m);
	return ferror(f) ? -EIO : 0;
}
