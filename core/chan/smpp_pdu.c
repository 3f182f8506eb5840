/* SPDX-License-Identifier: MIT */
/*
 * SMPP 3.4 PDU decoder (the encoder is smpp_pdu_enc.c). Every read goes
 * through a cursor bounded by the PDU's command_length, itself checked
 * against the bytes the caller has: a field that would cross the end marks
 * the cursor bad instead of reading, and the PDU is then malformed. So no
 * byte past @len is ever read, whatever the input. Field limits are the
 * spec's and the encoder's, so whatever decodes re-encodes.
 */
#include <errno.h>
#include <string.h>

#include "smsr/errors.h"

#include "chan/smpp_pdu.h"

/* A read cursor over one PDU; @bad sticks once a field does not fit. */
struct rd {
	const uint8_t *p;
	const uint8_t *end;
	bool bad;
};

static size_t rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint8_t rd_u8(struct rd *r)
{
	if (r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

/*
 * A C-octet string of at most @max bytes, its NUL included. Returns it,
 * pointing into the buffer, or "" (and the cursor bad) when no NUL comes
 * within @max bytes or before the end of the PDU.
 */
static const char *rd_cstr(struct rd *r, size_t max)
{
	size_t left = rd_left(r);
	const uint8_t *nul;
	const char *s = (const char *)r->p;

	if (r->bad)
		return "";
	nul = memchr(r->p, 0, left < max ? left : max);
	if (!nul) {
		r->bad = true;
		return "";
	}
	r->p = nul + 1;
	return s;
}

/* schedule_delivery_time, validity_period: "" or exactly 16 chars. */
static const char *rd_time(struct rd *r)
{
	const uint8_t *start = r->p;
	const char *s = rd_cstr(r, 17);

	if (!r->bad && r->p - start != 1 && r->p - start != 17)
		r->bad = true;
	return s;
}

/* Typed TLVs of a fixed size: the value's width and where it goes. */
static bool tlv_u8(const uint8_t *v, uint16_t n, uint8_t *out)
{
	if (n != 1)
		return false;
	*out = v[0];
	return true;
}

static bool tlv_u16(const uint8_t *v, uint16_t n, uint16_t *out)
{
	if (n != 2)
		return false;
	*out = get16(v);
	return true;
}

static bool tlv_receipted_id(const uint8_t *v, uint16_t n, struct smsr__smpp_tlvs *t)
{
	/* 1..65 bytes with its NUL last, or up to 64 without one; none inside. */
	size_t sl = n && v[n - 1] == 0 ? (size_t)n - 1 : n;

	if (n == 0 || sl > 64 || memchr(v, 0, sl))
		return false;
	t->receipted_message_id = (const char *)v;
	t->receipted_message_id_len = (uint8_t)sl;
	return true;
}

/*
 * One TLV into @t: a typed one into its field, any other into the kept
 * list. Returns false when a typed TLV has a length its type forbids.
 */
static bool put_tlv(struct smsr__smpp_tlvs *t, uint16_t tag, const uint8_t *v, uint16_t n)
{
	uint32_t bit;
	bool ok;

	switch (tag) {
	case SMSR__SMPP_TLV_PAYLOAD_TYPE:
		bit = SMSR__SMPP_HAS_PAYLOAD_TYPE;
		ok = tlv_u8(v, n, &t->payload_type);
		break;
	case SMSR__SMPP_TLV_RECEIPTED_MESSAGE_ID:
		bit = SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID;
		ok = tlv_receipted_id(v, n, t);
		break;
	case SMSR__SMPP_TLV_USER_MESSAGE_REFERENCE:
		bit = SMSR__SMPP_HAS_USER_MESSAGE_REFERENCE;
		ok = tlv_u16(v, n, &t->user_message_reference);
		break;
	case SMSR__SMPP_TLV_SOURCE_PORT:
		bit = SMSR__SMPP_HAS_SOURCE_PORT;
		ok = tlv_u16(v, n, &t->source_port);
		break;
	case SMSR__SMPP_TLV_DESTINATION_PORT:
		bit = SMSR__SMPP_HAS_DESTINATION_PORT;
		ok = tlv_u16(v, n, &t->destination_port);
		break;
	case SMSR__SMPP_TLV_SAR_MSG_REF_NUM:
		bit = SMSR__SMPP_HAS_SAR_MSG_REF_NUM;
		ok = tlv_u16(v, n, &t->sar_msg_ref_num);
		break;
	case SMSR__SMPP_TLV_LANGUAGE_INDICATOR:
		bit = SMSR__SMPP_HAS_LANGUAGE_INDICATOR;
		ok = tlv_u8(v, n, &t->language_indicator);
		break;
	case SMSR__SMPP_TLV_SAR_TOTAL_SEGMENTS:
		bit = SMSR__SMPP_HAS_SAR_TOTAL_SEGMENTS;
		ok = tlv_u8(v, n, &t->sar_total_segments);
		break;
	case SMSR__SMPP_TLV_SAR_SEGMENT_SEQNUM:
		bit = SMSR__SMPP_HAS_SAR_SEGMENT_SEQNUM;
		ok = tlv_u8(v, n, &t->sar_segment_seqnum);
		break;
	case SMSR__SMPP_TLV_SC_INTERFACE_VERSION:
		bit = SMSR__SMPP_HAS_SC_INTERFACE_VERSION;
		ok = tlv_u8(v, n, &t->sc_interface_version);
		break;
	case SMSR__SMPP_TLV_CALLBACK_NUM:
		bit = SMSR__SMPP_HAS_CALLBACK_NUM;
		ok = n >= 4 && n <= 19;
		t->callback_num = v;
		t->callback_num_len = (uint8_t)n;
		break;
	case SMSR__SMPP_TLV_MS_AVAILABILITY_STATUS:
		bit = SMSR__SMPP_HAS_MS_AVAILABILITY_STATUS;
		ok = tlv_u8(v, n, &t->ms_availability_status);
		break;
	case SMSR__SMPP_TLV_NETWORK_ERROR_CODE:
		bit = SMSR__SMPP_HAS_NETWORK_ERROR_CODE;
		ok = n == 3;
		if (ok)
			memcpy(t->network_error_code, v, 3);
		break;
	case SMSR__SMPP_TLV_MESSAGE_PAYLOAD:
		bit = SMSR__SMPP_HAS_MESSAGE_PAYLOAD;
		ok = true;
		t->message_payload = v;
		t->message_payload_len = n;
		break;
	case SMSR__SMPP_TLV_MORE_MESSAGES_TO_SEND:
		bit = SMSR__SMPP_HAS_MORE_MESSAGES_TO_SEND;
		ok = tlv_u8(v, n, &t->more_messages_to_send);
		break;
	case SMSR__SMPP_TLV_MESSAGE_STATE:
		bit = SMSR__SMPP_HAS_MESSAGE_STATE;
		ok = tlv_u8(v, n, &t->message_state);
		break;
	default:
		if (t->n_unknown < SMSR__SMPP_MAX_UNKNOWN_TLV)
			t->unknown[t->n_unknown++] = (struct smsr__smpp_tlv){tag, n, v};
		else if (t->n_skipped < UINT16_MAX)
			t->n_skipped++;
		return true;
	}
	t->present |= bit;
	return ok;
}

/* The rest of the PDU is TLVs, each whole; nothing else may follow. */
static void rd_tlvs(struct rd *r, struct smsr__smpp_tlvs *t)
{
	while (!r->bad && r->p < r->end) {
		uint16_t tag, n;

		if (rd_left(r) < 4) {
			r->bad = true;
			return;
		}
		tag = get16(r->p);
		n = get16(r->p + 2);
		r->p += 4;
		if (n > rd_left(r) || !put_tlv(t, tag, r->p, n)) {
			r->bad = true;
			return;
		}
		r->p += n;
	}
}

static void rd_bind(struct rd *r, struct smsr__smpp_bind *b, bool outbind)
{
	b->system_id = rd_cstr(r, 16);
	b->password = rd_cstr(r, 9);
	if (outbind) {
		b->system_type = b->address_range = "";
		return;
	}
	b->system_type = rd_cstr(r, 13);
	b->interface_version = rd_u8(r);
	b->addr_ton = rd_u8(r);
	b->addr_npi = rd_u8(r);
	b->address_range = rd_cstr(r, 41);
}

static void rd_sm(struct rd *r, struct smsr__smpp_sm *m, bool data_sm)
{
	size_t addr_max = data_sm ? 65 : 21;

	m->service_type = rd_cstr(r, 6);
	m->source_addr_ton = rd_u8(r);
	m->source_addr_npi = rd_u8(r);
	m->source_addr = rd_cstr(r, addr_max);
	m->dest_addr_ton = rd_u8(r);
	m->dest_addr_npi = rd_u8(r);
	m->destination_addr = rd_cstr(r, addr_max);
	m->esm_class = rd_u8(r);
	if (data_sm) {
		m->registered_delivery = rd_u8(r);
		m->data_coding = rd_u8(r);
		m->schedule_delivery_time = m->validity_period = "";
		m->short_message = r->p; /* zero octets */
		return;
	}
	m->protocol_id = rd_u8(r);
	m->priority_flag = rd_u8(r);
	m->schedule_delivery_time = rd_time(r);
	m->validity_period = rd_time(r);
	m->registered_delivery = rd_u8(r);
	m->replace_if_present_flag = rd_u8(r);
	m->data_coding = rd_u8(r);
	m->sm_default_msg_id = rd_u8(r);
	m->sm_length = rd_u8(r);
	m->short_message = r->p;
	if (r->bad || m->sm_length > rd_left(r))
		r->bad = true;
	else
		r->p += m->sm_length;
}

static void rd_alert(struct rd *r, struct smsr__smpp_alert *a)
{
	a->source_addr_ton = rd_u8(r);
	a->source_addr_npi = rd_u8(r);
	a->source_addr = rd_cstr(r, 65);
	a->esme_addr_ton = rd_u8(r);
	a->esme_addr_npi = rd_u8(r);
	a->esme_addr = rd_cstr(r, 65);
}

/* A response's one string of at most @max bytes, or a bare header. */
static void rd_resp(struct rd *r, struct smsr__smpp_pdu *p, size_t max)
{
	if (r->p == r->end) {
		p->no_body = true;
		p->resp.id = "";
		return;
	}
	p->resp.id = rd_cstr(r, max);
}

/* The body of @p->command_id; false when the id is not one we model. */
static bool rd_body(struct rd *r, struct smsr__smpp_pdu *p)
{
	switch (p->command_id) {
	case SMSR__SMPP_BIND_RECEIVER:
	case SMSR__SMPP_BIND_TRANSMITTER:
	case SMSR__SMPP_BIND_TRANSCEIVER:
		rd_bind(r, &p->bind, false);
		break;
	case SMSR__SMPP_OUTBIND:
		rd_bind(r, &p->bind, true);
		break;
	case SMSR__SMPP_BIND_RECEIVER_RESP:
	case SMSR__SMPP_BIND_TRANSMITTER_RESP:
	case SMSR__SMPP_BIND_TRANSCEIVER_RESP:
		rd_resp(r, p, 16);
		break;
	case SMSR__SMPP_SUBMIT_SM:
	case SMSR__SMPP_DELIVER_SM:
		rd_sm(r, &p->sm, false);
		break;
	case SMSR__SMPP_DATA_SM:
		rd_sm(r, &p->sm, true);
		break;
	case SMSR__SMPP_SUBMIT_SM_RESP:
	case SMSR__SMPP_DELIVER_SM_RESP:
	case SMSR__SMPP_DATA_SM_RESP:
		rd_resp(r, p, 65);
		break;
	case SMSR__SMPP_ALERT_NOTIFICATION:
		rd_alert(r, &p->alert);
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
	rd_tlvs(r, &p->tlv);
	return true;
}

int smsr__smpp_peek(const uint8_t *buf, size_t len, uint32_t *command_id, uint32_t *sequence_number)
{
	uint32_t n;

	if (len < SMSR__SMPP_HDR_LEN)
		return -EAGAIN;
	n = get32(buf);
	if (n < SMSR__SMPP_HDR_LEN || n > SMSR__SMPP_MAX_PDU)
		return -SMSR_EBADPDU;
	if (command_id)
		*command_id = get32(buf + 4);
	if (sequence_number)
		*sequence_number = get32(buf + 12);
	return (int)n;
}

int smsr__smpp_decode(const uint8_t *buf, size_t len, struct smsr__smpp_pdu *pdu)
{
	struct smsr__smpp_pdu p;
	struct rd r;
	int n = smsr__smpp_peek(buf, len, NULL, NULL);

	if (n < 0)
		return n;
	if ((size_t)n > len)
		return -EAGAIN;
	memset(&p, 0, sizeof(p));
	p.command_length = (uint32_t)n;
	p.command_id = get32(buf + 4);
	p.command_status = get32(buf + 8);
	p.sequence_number = get32(buf + 12);
	r = (struct rd){buf + SMSR__SMPP_HDR_LEN, buf + n, false};
	if (!rd_body(&r, &p))
		p.unknown_cmd = true;
	else if (r.bad)
		return -SMSR_EBADPDU;
	*pdu = p;
	return n;
}

const char *smsr__smpp_cmd_name(uint32_t command_id)
{
	switch (command_id) {
	case SMSR__SMPP_GENERIC_NACK:
		return "generic_nack";
	case SMSR__SMPP_BIND_RECEIVER:
		return "bind_receiver";
	case SMSR__SMPP_BIND_RECEIVER_RESP:
		return "bind_receiver_resp";
	case SMSR__SMPP_BIND_TRANSMITTER:
		return "bind_transmitter";
	case SMSR__SMPP_BIND_TRANSMITTER_RESP:
		return "bind_transmitter_resp";
	case 0x00000003u:
		return "query_sm";
	case 0x80000003u:
		return "query_sm_resp";
	case SMSR__SMPP_SUBMIT_SM:
		return "submit_sm";
	case SMSR__SMPP_SUBMIT_SM_RESP:
		return "submit_sm_resp";
	case SMSR__SMPP_DELIVER_SM:
		return "deliver_sm";
	case SMSR__SMPP_DELIVER_SM_RESP:
		return "deliver_sm_resp";
	case SMSR__SMPP_UNBIND:
		return "unbind";
	case SMSR__SMPP_UNBIND_RESP:
		return "unbind_resp";
	case 0x00000007u:
		return "replace_sm";
	case 0x80000007u:
		return "replace_sm_resp";
	case 0x00000008u:
		return "cancel_sm";
	case 0x80000008u:
		return "cancel_sm_resp";
	case SMSR__SMPP_BIND_TRANSCEIVER:
		return "bind_transceiver";
	case SMSR__SMPP_BIND_TRANSCEIVER_RESP:
		return "bind_transceiver_resp";
	case SMSR__SMPP_OUTBIND:
		return "outbind";
	case SMSR__SMPP_ENQUIRE_LINK:
		return "enquire_link";
	case SMSR__SMPP_ENQUIRE_LINK_RESP:
		return "enquire_link_resp";
	case 0x00000021u:
		return "submit_multi";
	case 0x80000021u:
		return "submit_multi_resp";
	case SMSR__SMPP_ALERT_NOTIFICATION:
		return "alert_notification";
	case SMSR__SMPP_DATA_SM:
		return "data_sm";
	case SMSR__SMPP_DATA_SM_RESP:
		return "data_sm_resp";
	default:
		return "unknown";
	}
}
