/* SPDX-License-Identifier: MIT */
/*
 * SMPP 3.4 PDU encoder (the decoder is smpp_pdu.c). Straight stores
 * through a cursor that checks the room left for each field; the first
 * error sticks and a field out of its SMPP range wins over lack of room,
 * so -SMSR_EINVAL does not depend on @cap. Its limits are the decoder's:
 * whatever it writes decodes to the same struct.
 */
#include <errno.h>
#include <string.h>

#include "smsr/errors.h"

#include "chan/smpp_pdu.h"

struct wr {
	uint8_t *p;
	uint8_t *end;
	int err;
};

static void wr_fail(struct wr *w, int err)
{
	if (!w->err || err == -SMSR_EINVAL)
		w->err = err;
}

/* Room for @n more bytes, or the cursor fails with -ENOSPC. */
static bool wr_room(struct wr *w, size_t n)
{
	if ((size_t)(w->end - w->p) >= n)
		return true;
	wr_fail(w, -ENOSPC);
	return false;
}

static void set32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put8(struct wr *w, uint8_t v)
{
	if (wr_room(w, 1))
		*w->p++ = v;
}

static void put_bytes(struct wr *w, const void *v, size_t n)
{
	if (n && wr_room(w, n)) {
		memcpy(w->p, v, n);
		w->p += n;
	}
}

/* A C-octet string of at most @max bytes with its NUL; NULL is "". */
static void put_cstr(struct wr *w, const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max) : 0;

	if (n == max) {
		wr_fail(w, -SMSR_EINVAL);
		return;
	}
	put_bytes(w, s, n);
	put8(w, 0);
}

static void put_time(struct wr *w, const char *s)
{
	size_t n = s ? strnlen(s, 17) : 0;

	if (n != 0 && n != 16)
		wr_fail(w, -SMSR_EINVAL);
	else
		put_cstr(w, s, 17);
}

static void put_tlv_hdr(struct wr *w, uint16_t tag, uint16_t n)
{
	if (wr_room(w, 4)) {
		w->p[0] = (uint8_t)(tag >> 8);
		w->p[1] = (uint8_t)tag;
		w->p[2] = (uint8_t)(n >> 8);
		w->p[3] = (uint8_t)n;
		w->p += 4;
	}
}

static void put_tlv_u8(struct wr *w, uint16_t tag, uint8_t v)
{
	put_tlv_hdr(w, tag, 1);
	put8(w, v);
}

static void put_tlv_u16(struct wr *w, uint16_t tag, uint16_t v)
{
	put_tlv_hdr(w, tag, 2);
	put8(w, (uint8_t)(v >> 8));
	put8(w, (uint8_t)v);
}

static void put_tlv_octets(struct wr *w, uint16_t tag, const void *v, uint16_t n)
{
	if (n && !v) {
		wr_fail(w, -SMSR_EINVAL);
		return;
	}
	put_tlv_hdr(w, tag, n);
	put_bytes(w, v, n);
}

static void put_receipted_id(struct wr *w, const struct smsr__smpp_tlvs *t)
{
	uint8_t n = t->receipted_message_id_len;

	if (n > 64 || (n && (!t->receipted_message_id || memchr(t->receipted_message_id, 0, n)))) {
		wr_fail(w, -SMSR_EINVAL);
		return;
	}
	put_tlv_hdr(w, SMSR__SMPP_TLV_RECEIPTED_MESSAGE_ID, (uint16_t)(n + 1));
	put_bytes(w, t->receipted_message_id, n);
	put8(w, 0);
}

/* The typed TLVs in tag order, then the kept unknown ones in theirs. */
static void put_tlvs(struct wr *w, const struct smsr__smpp_tlvs *t)
{
	uint32_t has = t->present;

	if (has & SMSR__SMPP_HAS_PAYLOAD_TYPE)
		put_tlv_u8(w, SMSR__SMPP_TLV_PAYLOAD_TYPE, t->payload_type);
	if (has & SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID)
		put_receipted_id(w, t);
	if (has & SMSR__SMPP_HAS_USER_MESSAGE_REFERENCE)
		put_tlv_u16(w, SMSR__SMPP_TLV_USER_MESSAGE_REFERENCE, t->user_message_reference);
	if (has & SMSR__SMPP_HAS_SOURCE_PORT)
		put_tlv_u16(w, SMSR__SMPP_TLV_SOURCE_PORT, t->source_port);
	if (has & SMSR__SMPP_HAS_DESTINATION_PORT)
		put_tlv_u16(w, SMSR__SMPP_TLV_DESTINATION_PORT, t->destination_port);
	if (has & SMSR__SMPP_HAS_SAR_MSG_REF_NUM)
		put_tlv_u16(w, SMSR__SMPP_TLV_SAR_MSG_REF_NUM, t->sar_msg_ref_num);
	if (has & SMSR__SMPP_HAS_LANGUAGE_INDICATOR)
		put_tlv_u8(w, SMSR__SMPP_TLV_LANGUAGE_INDICATOR, t->language_indicator);
	if (has & SMSR__SMPP_HAS_SAR_TOTAL_SEGMENTS)
		put_tlv_u8(w, SMSR__SMPP_TLV_SAR_TOTAL_SEGMENTS, t->sar_total_segments);
	if (has & SMSR__SMPP_HAS_SAR_SEGMENT_SEQNUM)
		put_tlv_u8(w, SMSR__SMPP_TLV_SAR_SEGMENT_SEQNUM, t->sar_segment_seqnum);
	if (has & SMSR__SMPP_HAS_SC_INTERFACE_VERSION)
		put_tlv_u8(w, SMSR__SMPP_TLV_SC_INTERFACE_VERSION, t->sc_interface_version);
	if (has & SMSR__SMPP_HAS_CALLBACK_NUM) {
		if (t->callback_num_len < 4 || t->callback_num_len > 19)
			wr_fail(w, -SMSR_EINVAL);
		else
			put_tlv_octets(w, SMSR__SMPP_TLV_CALLBACK_NUM, t->callback_num,
				       t->callback_num_len);
	}
	if (has & SMSR__SMPP_HAS_MS_AVAILABILITY_STATUS)
		put_tlv_u8(w, SMSR__SMPP_TLV_MS_AVAILABILITY_STATUS, t->ms_availability_status);
	if (has & SMSR__SMPP_HAS_NETWORK_ERROR_CODE)
		put_tlv_octets(w, SMSR__SMPP_TLV_NETWORK_ERROR_CODE, t->network_error_code, 3);
	if (has & SMSR__SMPP_HAS_MESSAGE_PAYLOAD)
		put_tlv_octets(w, SMSR__SMPP_TLV_MESSAGE_PAYLOAD, t->message_payload,
			       t->message_payload_len);
	if (has & SMSR__SMPP_HAS_MORE_MESSAGES_TO_SEND)
		put_tlv_u8(w, SMSR__SMPP_TLV_MORE_MESSAGES_TO_SEND, t->more_messages_to_send);
	if (has & SMSR__SMPP_HAS_MESSAGE_STATE)
		put_tlv_u8(w, SMSR__SMPP_TLV_MESSAGE_STATE, t->message_state);
	if (t->n_unknown > SMSR__SMPP_MAX_UNKNOWN_TLV) {
		wr_fail(w, -SMSR_EINVAL);
		return;
	}
	for (unsigned i = 0; i < t->n_unknown; i++)
		put_tlv_octets(w, t->unknown[i].tag, t->unknown[i].val, t->unknown[i].len);
}

static void put_bind(struct wr *w, const struct smsr__smpp_bind *b, bool outbind)
{
	put_cstr(w, b->system_id, 16);
	put_cstr(w, b->password, 9);
	if (outbind)
		return;
	put_cstr(w, b->system_type, 13);
	put8(w, b->interface_version);
	put8(w, b->addr_ton);
	put8(w, b->addr_npi);
	put_cstr(w, b->address_range, 41);
}

static void put_sm(struct wr *w, const struct smsr__smpp_sm *m, bool data_sm)
{
	size_t addr_max = data_sm ? 65 : 21;

	put_cstr(w, m->service_type, 6);
	put8(w, m->source_addr_ton);
	put8(w, m->source_addr_npi);
	put_cstr(w, m->source_addr, addr_max);
	put8(w, m->dest_addr_ton);
	put8(w, m->dest_addr_npi);
	put_cstr(w, m->destination_addr, addr_max);
	put8(w, m->esm_class);
	if (data_sm) {
		put8(w, m->registered_delivery);
		put8(w, m->data_coding);
		return;
	}
	put8(w, m->protocol_id);
	put8(w, m->priority_flag);
	put_time(w, m->schedule_delivery_time);
	put_time(w, m->validity_period);
	put8(w, m->registered_delivery);
	put8(w, m->replace_if_present_flag);
	put8(w, m->data_coding);
	put8(w, m->sm_default_msg_id);
	put8(w, m->sm_length);
	if (m->sm_length && !m->short_message)
		wr_fail(w, -SMSR_EINVAL);
	else
		put_bytes(w, m->short_message, m->sm_length);
}

static void put_alert(struct wr *w, const struct smsr__smpp_alert *a)
{
	put8(w, a->source_addr_ton);
	put8(w, a->source_addr_npi);
	put_cstr(w, a->source_addr, 65);
	put8(w, a->esme_addr_ton);
	put8(w, a->esme_addr_npi);
	put_cstr(w, a->esme_addr, 65);
}

/* The body of @p, and its TLVs; false for a command id we do not model. */
static bool put_body(struct wr *w, const struct smsr__smpp_pdu *p)
{
	switch (p->command_id) {
	case SMSR__SMPP_BIND_RECEIVER:
	case SMSR__SMPP_BIND_TRANSMITTER:
	case SMSR__SMPP_BIND_TRANSCEIVER:
		put_bind(w, &p->bind, false);
		break;
	case SMSR__SMPP_OUTBIND:
		put_bind(w, &p->bind, true);
		break;
	case SMSR__SMPP_BIND_RECEIVER_RESP:
	case SMSR__SMPP_BIND_TRANSMITTER_RESP:
	case SMSR__SMPP_BIND_TRANSCEIVER_RESP:
		if (p->no_body)
			return true;
		put_cstr(w, p->resp.id, 16);
		break;
	case SMSR__SMPP_SUBMIT_SM:
	case SMSR__SMPP_DELIVER_SM:
		put_sm(w, &p->sm, false);
		break;
	case SMSR__SMPP_DATA_SM:
		put_sm(w, &p->sm, true);
		break;
	case SMSR__SMPP_SUBMIT_SM_RESP:
	case SMSR__SMPP_DELIVER_SM_RESP:
	case SMSR__SMPP_DATA_SM_RESP:
		if (p->no_body)
			return true;
		put_cstr(w, p->resp.id, 65);
		break;
	case SMSR__SMPP_ALERT_NOTIFICATION:
		put_alert(w, &p->alert);
		break;
	case SMSR__SMPP_GENERIC_NACK:
	case SMSR__SMPP_UNBIND:
	case SMSR__SMPP_UNBIND_RESP:
	case SMSR__SMPP_ENQUIRE_LINK:
	case SMSR__SMPP_ENQUIRE_LINK_RESP:
		break;
	default:
		return false;
	}
	put_tlvs(w, &p->tlv);
	return true;
}

int smsr__smpp_encode_header(uint32_t command_id, uint32_t command_status, uint32_t sequence_number,
			     uint8_t *out)
{
	set32(out, SMSR__SMPP_HDR_LEN);
	set32(out + 4, command_id);
	set32(out + 8, command_status);
	set32(out + 12, sequence_number);
	return SMSR__SMPP_HDR_LEN;
}

int smsr__smpp_encode(const struct smsr__smpp_pdu *pdu, uint8_t *out, size_t cap)
{
	struct wr w = {out, out + cap, 0};
	size_t n;

	if (wr_room(&w, SMSR__SMPP_HDR_LEN)) {
		smsr__smpp_encode_header(pdu->command_id, pdu->command_status, pdu->sequence_number,
					 out);
		w.p += SMSR__SMPP_HDR_LEN;
	}
	if (!put_body(&w, pdu))
		return -SMSR_EINVAL;
	if (w.err)
		return w.err;
	n = (size_t)(w.p - out);
	if (n > SMSR__SMPP_MAX_PDU)
		return -SMSR_EINVAL;
	set32(out, (uint32_t)n);
	return (int)n;
}
