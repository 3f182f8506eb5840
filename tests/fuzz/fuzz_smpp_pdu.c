/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the SMPP 3.4 PDU codec (core/chan/smpp_pdu.c).
 *
 * The input is what a connection received: decode PDUs in a loop the way
 * a session does (consume, advance, stop at "need more" or a malformed
 * PDU). Each decoded PDU is copied to a buffer of exactly its length (so
 * ASan sees any read past it), re-encoded, and the encoding decoded again:
 * invariants checked are the result contract (-EAGAIN, -SMSR_EBADPDU or
 * 16..64 KiB within the input), every pointer lying inside the PDU, every
 * decoded PDU encodable, and the second decode equal, field for field, to
 * the first (unknown TLVs past the kept ones are counted, not re-emitted).
 *
 * Build and run (one process; the corpus directory is optional):
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSMSR_FUZZ=ON \
 *     -DSMSR_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
 *   cmake --build build-fuzz --target fuzz_smpp_pdu
 *   ./build-fuzz/fuzz_smpp_pdu -max_total_time=60 -max_len=4096 CORPUS_DIR
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smsr/errors.h"

#include "chan/smpp_pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static const uint8_t *lo, *hi;

static void in_pdu(const void *p, size_t n)
{
	const uint8_t *b = p;

	CHECK(n == 0 || (b >= lo && b + n <= hi));
}

static void str_in_pdu(const char *s, size_t max)
{
	/* "" for an absent body is a literal, not in the PDU. */
	if (!*s)
		return;
	in_pdu(s, strnlen(s, max) + 1);
	CHECK(strlen(s) < max);
}

static void check_ptrs(const struct smsr__smpp_pdu *p)
{
	const struct smsr__smpp_tlvs *t = &p->tlv;

	switch (p->command_id) {
	case SMSR__SMPP_BIND_RECEIVER:
	case SMSR__SMPP_BIND_TRANSMITTER:
	case SMSR__SMPP_BIND_TRANSCEIVER:
	case SMSR__SMPP_OUTBIND:
		str_in_pdu(p->bind.system_id, 16);
		str_in_pdu(p->bind.password, 9);
		str_in_pdu(p->bind.system_type, 13);
		str_in_pdu(p->bind.address_range, 41);
		break;
	case SMSR__SMPP_SUBMIT_SM:
	case SMSR__SMPP_DELIVER_SM:
	case SMSR__SMPP_DATA_SM:
		str_in_pdu(p->sm.service_type, 6);
		str_in_pdu(p->sm.source_addr, 65);
		str_in_pdu(p->sm.destination_addr, 65);
		str_in_pdu(p->sm.schedule_delivery_time, 17);
		str_in_pdu(p->sm.validity_period, 17);
		in_pdu(p->sm.short_message, p->sm.sm_length);
		break;
	case SMSR__SMPP_ALERT_NOTIFICATION:
		str_in_pdu(p->alert.source_addr, 65);
		str_in_pdu(p->alert.esme_addr, 65);
		break;
	default:
		if (!p->unknown_cmd && (p->command_id & SMSR__SMPP_RESP) &&
		    p->command_id != SMSR__SMPP_GENERIC_NACK && p->resp.id)
			str_in_pdu(p->resp.id, 65);
		break;
	}
	if (t->present & SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID)
		in_pdu(t->receipted_message_id, t->receipted_message_id_len);
	if (t->present & SMSR__SMPP_HAS_MESSAGE_PAYLOAD)
		in_pdu(t->message_payload, t->message_payload_len);
	if (t->present & SMSR__SMPP_HAS_CALLBACK_NUM)
		in_pdu(t->callback_num, t->callback_num_len);
	CHECK(t->n_unknown <= SMSR__SMPP_MAX_UNKNOWN_TLV);
	for (unsigned i = 0; i < t->n_unknown; i++)
		in_pdu(t->unknown[i].val, t->unknown[i].len);
}

static bool same_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool same_bytes(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

static bool same_tlvs(const struct smsr__smpp_tlvs *a, const struct smsr__smpp_tlvs *b)
{
	uint32_t h = a->present;

	if (a->present != b->present || a->n_unknown != b->n_unknown || b->n_skipped)
		return false;
	if ((h & SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID) &&
	    (a->receipted_message_id_len != b->receipted_message_id_len ||
	     !same_bytes(a->receipted_message_id, b->receipted_message_id,
			 a->receipted_message_id_len)))
		return false;
	if ((h & SMSR__SMPP_HAS_MESSAGE_PAYLOAD) &&
	    (a->message_payload_len != b->message_payload_len ||
	     !same_bytes(a->message_payload, b->message_payload, a->message_payload_len)))
		return false;
	if ((h & SMSR__SMPP_HAS_CALLBACK_NUM) &&
	    (a->callback_num_len != b->callback_num_len ||
	     !same_bytes(a->callback_num, b->callback_num, a->callback_num_len)))
		return false;
	if ((h & SMSR__SMPP_HAS_NETWORK_ERROR_CODE) &&
	    memcmp(a->network_error_code, b->network_error_code, 3))
		return false;
#define SAME(bit, f)                                    \
	if ((h & SMSR__SMPP_HAS_##bit) && a->f != b->f) \
	return false
	SAME(PAYLOAD_TYPE, payload_type);
	SAME(USER_MESSAGE_REFERENCE, user_message_reference);
	SAME(SOURCE_PORT, source_port);
	SAME(DESTINATION_PORT, destination_port);
	SAME(SAR_MSG_REF_NUM, sar_msg_ref_num);
	SAME(LANGUAGE_INDICATOR, language_indicator);
	SAME(SAR_TOTAL_SEGMENTS, sar_total_segments);
	SAME(SAR_SEGMENT_SEQNUM, sar_segment_seqnum);
	SAME(SC_INTERFACE_VERSION, sc_interface_version);
	SAME(MS_AVAILABILITY_STATUS, ms_availability_status);
	SAME(MORE_MESSAGES_TO_SEND, more_messages_to_send);
	SAME(MESSAGE_STATE, message_state);
#undef SAME
	for (unsigned i = 0; i < a->n_unknown; i++)
		if (a->unknown[i].tag != b->unknown[i].tag ||
		    a->unknown[i].len != b->unknown[i].len ||
		    !same_bytes(a->unknown[i].val, b->unknown[i].val, a->unknown[i].len))
			return false;
	return true;
}

static bool same_sm(const struct smsr__smpp_sm *a, const struct smsr__smpp_sm *b)
{
	return same_str(a->service_type, b->service_type) &&
	       same_str(a->source_addr, b->source_addr) &&
	       same_str(a->destination_addr, b->destination_addr) &&
	       same_str(a->schedule_delivery_time, b->schedule_delivery_time) &&
	       same_str(a->validity_period, b->validity_period) &&
	       a->source_addr_ton == b->source_addr_ton &&
	       a->source_addr_npi == b->source_addr_npi && a->dest_addr_ton == b->dest_addr_ton &&
	       a->dest_addr_npi == b->dest_addr_npi && a->esm_class == b->esm_class &&
	       a->protocol_id == b->protocol_id && a->priority_flag == b->priority_flag &&
	       a->registered_delivery == b->registered_delivery &&
	       a->replace_if_present_flag == b->replace_if_present_flag &&
	       a->data_coding == b->data_coding && a->sm_default_msg_id == b->sm_default_msg_id &&
	       a->sm_length == b->sm_length &&
	       same_bytes(a->short_message, b->short_message, a->sm_length);
}

static bool same_body(const struct smsr__smpp_pdu *a, const struct smsr__smpp_pdu *b)
{
	switch (a->command_id) {
	case SMSR__SMPP_BIND_RECEIVER:
	case SMSR__SMPP_BIND_TRANSMITTER:
	case SMSR__SMPP_BIND_TRANSCEIVER:
	case SMSR__SMPP_OUTBIND:
		return same_str(a->bind.system_id, b->bind.system_id) &&
		       same_str(a->bind.password, b->bind.password) &&
		       same_str(a->bind.system_type, b->bind.system_type) &&
		       same_str(a->bind.address_range, b->bind.address_range) &&
		       a->bind.interface_version == b->bind.interface_version &&
		       a->bind.addr_ton == b->bind.addr_ton && a->bind.addr_npi == b->bind.addr_npi;
	case SMSR__SMPP_SUBMIT_SM:
	case SMSR__SMPP_DELIVER_SM:
	case SMSR__SMPP_DATA_SM:
		return same_sm(&a->sm, &b->sm);
	case SMSR__SMPP_ALERT_NOTIFICATION:
		return same_str(a->alert.source_addr, b->alert.source_addr) &&
		       same_str(a->alert.esme_addr, b->alert.esme_addr) &&
		       a->alert.source_addr_ton == b->alert.source_addr_ton &&
		       a->alert.source_addr_npi == b->alert.source_addr_npi &&
		       a->alert.esme_addr_ton == b->alert.esme_addr_ton &&
		       a->alert.esme_addr_npi == b->alert.esme_addr_npi;
	case SMSR__SMPP_BIND_RECEIVER_RESP:
	case SMSR__SMPP_BIND_TRANSMITTER_RESP:
	case SMSR__SMPP_BIND_TRANSCEIVER_RESP:
	case SMSR__SMPP_SUBMIT_SM_RESP:
	case SMSR__SMPP_DELIVER_SM_RESP:
	case SMSR__SMPP_DATA_SM_RESP:
		return same_str(a->resp.id, b->resp.id);
	default:
		return true;
	}
}

/* One whole PDU of @n bytes at @pdu, already decoded once into @p. */
static void round_trip(const uint8_t *pdu, size_t n, const struct smsr__smpp_pdu *first)
{
	static uint8_t out[SMSR__SMPP_MAX_PDU + 1024];
	uint8_t *copy = malloc(n);
	struct smsr__smpp_pdu p, q;
	int rc, m;

	CHECK(copy != NULL);
	memcpy(copy, pdu, n);
	lo = copy;
	hi = copy + n;
	rc = smsr__smpp_decode(copy, n, &p);
	CHECK(rc == (int)n);
	CHECK(p.command_length == n && p.command_id == first->command_id);
	check_ptrs(&p);
	if (p.unknown_cmd) {
		CHECK(smsr__smpp_encode(&p, out, sizeof(out)) == -SMSR_EINVAL);
		free(copy);
		return;
	}
	m = smsr__smpp_encode(&p, out, sizeof(out));
	CHECK(m >= (int)SMSR__SMPP_HDR_LEN);
	/* One byte less room does not do; exactly that room does. */
	CHECK(smsr__smpp_encode(&p, out, (size_t)m - 1) == -ENOSPC);
	CHECK(smsr__smpp_encode(&p, out, (size_t)m) == m);
	CHECK(smsr__smpp_decode(out, (size_t)m, &q) == m);
	CHECK(!q.unknown_cmd && q.no_body == p.no_body);
	CHECK(q.command_id == p.command_id && q.command_status == p.command_status &&
	      q.sequence_number == p.sequence_number);
	CHECK(same_body(&p, &q));
	CHECK(same_tlvs(&p.tlv, &q.tlv));
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	/* Round trips for the first few PDUs; past them, decode only, or an
	 * input of many 16-byte PDUs costs as much as hundreds of inputs. */
	for (unsigned i = 0;; i++) {
		struct smsr__smpp_pdu p;
		int rc = smsr__smpp_decode(data + off, size - off, &p);

		if (rc == -EAGAIN || rc == -SMSR_EBADPDU)
			break;
		CHECK(rc >= (int)SMSR__SMPP_HDR_LEN && rc <= (int)SMSR__SMPP_MAX_PDU);
		CHECK((size_t)rc <= size - off);
		if (i < 4)
			round_trip(data + off, (size_t)rc, &p);
		off += (size_t)rc;
	}
	return 0;
}
