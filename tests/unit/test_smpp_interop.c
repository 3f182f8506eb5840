/* SPDX-License-Identifier: MIT */
/*
 * Description: the SMPP codec against another implementation, Debian's
 * libsmpp34. For every PDU kind an ESME uses, random field values (seeded;
 * the seed is printed, `test_smpp_interop SEED` replays it) go both ways:
 * encoded by us and unpacked by smpp34_unpack, then packed by smpp34_pack
 * and decoded by us; every field, the length and every TLV (typed ones and
 * unknown vendor ones) must agree. Values stay inside what libsmpp34 can
 * hold where it is narrower than the spec, each case said where it is
 * (deliver_sm's times and deliver_sm_resp's message_id are NULL-only
 * there, data_sm's source_addr 21 bytes, short_message 254, TLV values 1 KiB).
 * libsmpp34 keeps global state (smpp34_errno, smpp34_strerror): fine here,
 * one thread.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "smsr/errors.h"

#include "chan/smpp_pdu.h"

#define ROUNDS 500

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? (uint32_t)(rng_state % n) : 0;
}

/* Backing store for one random PDU's strings and octets. */
struct store {
	char s[8][66];
	int ns;
	uint8_t sm[255];
	uint8_t payload[1024];
	uint8_t cb[19];
	char rid[65];
	uint8_t unk[4][40];
};

/* A printable string of 0..@max chars (biased to the ends). */
static const char *rstr(struct store *st, size_t max)
{
	char *s = st->s[st->ns++];
	size_t n = rnd(4) == 0 ? max : rnd(4) == 0 ? 0 : rnd((uint32_t)max + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (char)(0x21 + rnd(94));
	s[n] = 0;
	return s;
}

/*
 * libsmpp34 refuses a TON, NPI or command_status outside the values SMPP
 * 3.4 lists (smpp34.h); our codec carries any octet. Draw from the lists.
 */
static uint8_t rton(void)
{
	return (uint8_t)rnd(7);
}

static uint8_t rnpi(void)
{
	static const uint8_t npi[] = {0, 1, 3, 4, 6, 8, 9, 10, 14, 18};

	return npi[rnd(sizeof(npi))];
}

static uint32_t rstatus(void)
{
	static const uint32_t st[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x0A,
				      0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x14, 0x43, 0x45,
				      0x58, 0x64, 0x65, 0x66, 0xC0, 0xC4, 0xFE, 0xFF};

	return rnd(2) ? 0 : st[rnd(sizeof(st) / sizeof(st[0]))];
}

static const char *rtime(struct store *st)
{
	return rnd(2) ? "" : rnd(2) ? "230101120000000+" : "000002030000000R";
}

static void rbytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(256);
}

/* Typed TLVs an SMSC sends in submit_sm / deliver_sm / data_sm, and 0..3 vendor ones. */
static void rtlvs_sm(struct smsr__smpp_tlvs *t, struct store *st)
{
	t->present = rnd(1u << 16) & ~(uint32_t)(SMSR__SMPP_HAS_SC_INTERFACE_VERSION |
						 SMSR__SMPP_HAS_MS_AVAILABILITY_STATUS);
	t->payload_type = (uint8_t)rnd(256);
	t->user_message_reference = (uint16_t)rnd(65536);
	t->source_port = (uint16_t)rnd(65536);
	t->destination_port = (uint16_t)rnd(65536);
	t->sar_msg_ref_num = (uint16_t)rnd(65536);
	t->language_indicator = (uint8_t)rnd(256);
	t->sar_total_segments = (uint8_t)rnd(256);
	t->sar_segment_seqnum = (uint8_t)rnd(256);
	t->more_messages_to_send = (uint8_t)rnd(256);
	t->message_state = (uint8_t)rnd(256);
	rbytes(t->network_error_code, 3);
	t->callback_num_len = (uint8_t)(4 + rnd(16));
	rbytes(st->cb, t->callback_num_len);
	t->callback_num = st->cb;
	t->receipted_message_id_len = (uint8_t)rnd(65);
	for (unsigned i = 0; i < t->receipted_message_id_len; i++)
		st->rid[i] = (char)(0x21 + rnd(94));
	t->receipted_message_id = st->rid;
	t->message_payload_len = (uint16_t)rnd(1025);
	rbytes(st->payload, t->message_payload_len);
	t->message_payload = st->payload;
	t->n_unknown = (uint8_t)rnd(4);
	for (unsigned i = 0; i < t->n_unknown; i++) {
		uint16_t n = (uint16_t)rnd(41);

		rbytes(st->unk[i], n);
		/* Vendor-specific range, distinct tags. */
		t->unknown[i] = (struct smsr__smpp_tlv){(uint16_t)(0x1400 + i * 0x100 + rnd(256)),
							n, st->unk[i]};
	}
}

/* A random PDU of @cmd, its strings in @st, within libsmpp34's limits. */
static void rpdu(struct smsr__smpp_pdu *p, uint32_t cmd, struct store *st)
{
	memset(p, 0, sizeof(*p));
	st->ns = 0;
	p->command_id = cmd;
	p->command_status = rstatus();
	p->sequence_number = 1 + rnd(0x7fffffff);
	switch (cmd) {
	case SMSR__SMPP_BIND_TRANSMITTER:
	case SMSR__SMPP_BIND_RECEIVER:
	case SMSR__SMPP_BIND_TRANSCEIVER:
		p->bind.system_type = rstr(st, 12);
		p->bind.address_range = rstr(st, 40);
		/*
		 * libsmpp34 refuses any interface_version but 0x34 in
		 * bind_transmitter and bind_transceiver (not in bind_receiver);
		 * the spec lets an older ESME send 0x00..0x33.
		 */
		p->bind.interface_version =
		    cmd == SMSR__SMPP_BIND_RECEIVER ? (uint8_t)rnd(256) : SMSR__SMPP_VERSION;
		p->bind.addr_ton = rton();
		p->bind.addr_npi = rnpi();
		/* fall through */
	case SMSR__SMPP_OUTBIND:
		p->bind.system_id = rstr(st, 15);
		p->bind.password = rstr(st, 8);
		break;
	case SMSR__SMPP_BIND_TRANSMITTER_RESP:
	case SMSR__SMPP_BIND_RECEIVER_RESP:
	case SMSR__SMPP_BIND_TRANSCEIVER_RESP:
		p->resp.id = rstr(st, 15);
		p->tlv.present = rnd(2) ? SMSR__SMPP_HAS_SC_INTERFACE_VERSION : 0;
		p->tlv.sc_interface_version = (uint8_t)rnd(256);
		break;
	case SMSR__SMPP_SUBMIT_SM:
	case SMSR__SMPP_DELIVER_SM:
	case SMSR__SMPP_DATA_SM:
		p->sm.service_type = rstr(st, 5);
		/* libsmpp34 holds data_sm's source_addr in 21 bytes; the spec says 65. */
		p->sm.source_addr = rstr(st, 20);
		p->sm.destination_addr = rstr(st, cmd == SMSR__SMPP_DATA_SM ? 64 : 20);
		p->sm.source_addr_ton = rton();
		p->sm.source_addr_npi = rnpi();
		p->sm.dest_addr_ton = rton();
		p->sm.dest_addr_npi = rnpi();
		p->sm.esm_class = (uint8_t)rnd(256);
		p->sm.registered_delivery = (uint8_t)rnd(256);
		p->sm.data_coding = (uint8_t)rnd(256);
		rtlvs_sm(&p->tlv, st);
		if (cmd == SMSR__SMPP_DATA_SM)
			break;
		p->sm.protocol_id = (uint8_t)rnd(256);
		p->sm.priority_flag = (uint8_t)rnd(4);
		/* libsmpp34 takes only NULL times in deliver_sm (the spec's value). */
		p->sm.schedule_delivery_time = cmd == SMSR__SMPP_DELIVER_SM ? "" : rtime(st);
		p->sm.validity_period = cmd == SMSR__SMPP_DELIVER_SM ? "" : rtime(st);
		p->sm.replace_if_present_flag = (uint8_t)rnd(2);
		p->sm.sm_default_msg_id = (uint8_t)rnd(256);
		/*
		 * short_message: the spec allows 254 octets; libsmpp34 holds it
		 * in 254 bytes but packs and unpacks at most 253 ("Data length
		 * is invalid (truncate)" at 254). Ours takes 254 (and 255).
		 */
		p->sm.sm_length = (uint8_t)rnd(254);
		rbytes(st->sm, p->sm.sm_length);
		p->sm.short_message = st->sm;
		break;
	case SMSR__SMPP_SUBMIT_SM_RESP:
		/*
		 * The spec: no body when command_status is not 0. libsmpp34
		 * holds to it both ways (it will not unpack a body there).
		 */
		p->no_body = p->command_status != 0;
		p->resp.id = p->no_body ? "" : rstr(st, 64);
		break;
	case SMSR__SMPP_DATA_SM_RESP:
		p->resp.id = rstr(st, 64);
		break;
	case SMSR__SMPP_DELIVER_SM_RESP:
		/* Unused, NULL, in the spec; libsmpp34 takes nothing else. */
		p->resp.id = "";
		break;
	case SMSR__SMPP_ALERT_NOTIFICATION:
		p->alert.source_addr_ton = rton();
		p->alert.source_addr_npi = rnpi();
		p->alert.source_addr = rstr(st, 64);
		p->alert.esme_addr_ton = rton();
		p->alert.esme_addr_npi = rnpi();
		p->alert.esme_addr = rstr(st, 64);
		p->tlv.present = rnd(2) ? SMSR__SMPP_HAS_MS_AVAILABILITY_STATUS : 0;
		p->tlv.ms_availability_status = (uint8_t)rnd(3);
		break;
	default:
		break;
	}
}

/*
 * One mapping between our struct and libsmpp34's, used two ways: @set
 * copies ours into theirs (before smpp34_pack), else every field must be
 * equal (after smpp34_unpack, or after our decode of their bytes).
 */
#define NUM(ours, lib)                                   \
	do {                                             \
		if (set)                                 \
			(lib) = (ours);                  \
		else                                     \
			assert_int_equal((ours), (lib)); \
	} while (0)
#define STR(ours, lib)                                                                  \
	do {                                                                            \
		if (set)                                                                \
			strcpy((char *)(lib), (ours) ? (ours) : "");                    \
		else                                                                    \
			assert_string_equal((ours) ? (ours) : "", (const char *)(lib)); \
	} while (0)
#define HDR(p, l)                                                \
	do {                                                     \
		NUM((p)->command_id, (l)->command_id);           \
		NUM((p)->command_status, (l)->command_status);   \
		NUM((p)->sequence_number, (l)->sequence_number); \
	} while (0)
#define BIND(p, l)                                                        \
	do {                                                              \
		STR((p)->bind.system_id, (l)->system_id);                 \
		STR((p)->bind.password, (l)->password);                   \
		STR((p)->bind.system_type, (l)->system_type);             \
		NUM((p)->bind.interface_version, (l)->interface_version); \
		NUM((p)->bind.addr_ton, (l)->addr_ton);                   \
		NUM((p)->bind.addr_npi, (l)->addr_npi);                   \
		STR((p)->bind.address_range, (l)->address_range);         \
	} while (0)
#define SM_COMMON(p, l)                                                     \
	do {                                                                \
		STR((p)->sm.service_type, (l)->service_type);               \
		NUM((p)->sm.source_addr_ton, (l)->source_addr_ton);         \
		NUM((p)->sm.source_addr_npi, (l)->source_addr_npi);         \
		STR((p)->sm.source_addr, (l)->source_addr);                 \
		NUM((p)->sm.dest_addr_ton, (l)->dest_addr_ton);             \
		NUM((p)->sm.dest_addr_npi, (l)->dest_addr_npi);             \
		STR((p)->sm.destination_addr, (l)->destination_addr);       \
		NUM((p)->sm.esm_class, (l)->esm_class);                     \
		NUM((p)->sm.registered_delivery, (l)->registered_delivery); \
		NUM((p)->sm.data_coding, (l)->data_coding);                 \
	} while (0)
#define SM(p, l)                                                                              \
	do {                                                                                  \
		SM_COMMON(p, l);                                                              \
		NUM((p)->sm.protocol_id, (l)->protocol_id);                                   \
		NUM((p)->sm.priority_flag, (l)->priority_flag);                               \
		STR((p)->sm.schedule_delivery_time, (l)->schedule_delivery_time);             \
		STR((p)->sm.validity_period, (l)->validity_period);                           \
		NUM((p)->sm.replace_if_present_flag, (l)->replace_if_present_flag);           \
		NUM((p)->sm.sm_default_msg_id, (l)->sm_default_msg_id);                       \
		NUM((p)->sm.sm_length, (l)->sm_length);                                       \
		if (set)                                                                      \
			memcpy((l)->short_message, (p)->sm.short_message, (p)->sm.sm_length); \
		else if ((p)->sm.sm_length)                                                   \
			assert_memory_equal((p)->sm.short_message, (l)->short_message,        \
					    (p)->sm.sm_length);                               \
	} while (0)
#define ALERT(p, l)                                                    \
	do {                                                           \
		NUM((p)->alert.source_addr_ton, (l)->source_addr_ton); \
		NUM((p)->alert.source_addr_npi, (l)->source_addr_npi); \
		STR((p)->alert.source_addr, (l)->source_addr);         \
		NUM((p)->alert.esme_addr_ton, (l)->esme_addr_ton);     \
		NUM((p)->alert.esme_addr_npi, (l)->esme_addr_npi);     \
		STR((p)->alert.esme_addr, (l)->esme_addr);             \
	} while (0)

/* How our typed TLVs sit in libsmpp34's value union: width 1, 2 or octets (0). */
struct tlv_map {
	uint16_t tag;
	uint32_t bit;
	int width;
};

static const struct tlv_map TLV_MAP[] = {
    {SMSR__SMPP_TLV_PAYLOAD_TYPE, SMSR__SMPP_HAS_PAYLOAD_TYPE, 1},
    {SMSR__SMPP_TLV_RECEIPTED_MESSAGE_ID, SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID, 0},
    {SMSR__SMPP_TLV_USER_MESSAGE_REFERENCE, SMSR__SMPP_HAS_USER_MESSAGE_REFERENCE, 2},
    {SMSR__SMPP_TLV_SOURCE_PORT, SMSR__SMPP_HAS_SOURCE_PORT, 2},
    {SMSR__SMPP_TLV_DESTINATION_PORT, SMSR__SMPP_HAS_DESTINATION_PORT, 2},
    {SMSR__SMPP_TLV_SAR_MSG_REF_NUM, SMSR__SMPP_HAS_SAR_MSG_REF_NUM, 2},
    {SMSR__SMPP_TLV_LANGUAGE_INDICATOR, SMSR__SMPP_HAS_LANGUAGE_INDICATOR, 1},
    {SMSR__SMPP_TLV_SAR_TOTAL_SEGMENTS, SMSR__SMPP_HAS_SAR_TOTAL_SEGMENTS, 1},
    {SMSR__SMPP_TLV_SAR_SEGMENT_SEQNUM, SMSR__SMPP_HAS_SAR_SEGMENT_SEQNUM, 1},
    {SMSR__SMPP_TLV_SC_INTERFACE_VERSION, SMSR__SMPP_HAS_SC_INTERFACE_VERSION, 1},
    {SMSR__SMPP_TLV_CALLBACK_NUM, SMSR__SMPP_HAS_CALLBACK_NUM, 0},
    {SMSR__SMPP_TLV_MS_AVAILABILITY_STATUS, SMSR__SMPP_HAS_MS_AVAILABILITY_STATUS, 1},
    {SMSR__SMPP_TLV_NETWORK_ERROR_CODE, SMSR__SMPP_HAS_NETWORK_ERROR_CODE, 0},
    {SMSR__SMPP_TLV_MESSAGE_PAYLOAD, SMSR__SMPP_HAS_MESSAGE_PAYLOAD, 0},
    {SMSR__SMPP_TLV_MORE_MESSAGES_TO_SEND, SMSR__SMPP_HAS_MORE_MESSAGES_TO_SEND, 1},
    {SMSR__SMPP_TLV_MESSAGE_STATE, SMSR__SMPP_HAS_MESSAGE_STATE, 1},
};
#define NMAP (sizeof(TLV_MAP) / sizeof(TLV_MAP[0]))

/* The octets of our typed TLV @m as they go on the wire; returns the length. */
static size_t typed_octets(const struct smsr__smpp_tlvs *t, const struct tlv_map *m, uint8_t *out)
{
	switch (m->tag) {
	case SMSR__SMPP_TLV_RECEIPTED_MESSAGE_ID:
		memcpy(out, t->receipted_message_id, t->receipted_message_id_len);
		out[t->receipted_message_id_len] = 0;
		return t->receipted_message_id_len + 1u;
	case SMSR__SMPP_TLV_CALLBACK_NUM:
		memcpy(out, t->callback_num, t->callback_num_len);
		return t->callback_num_len;
	case SMSR__SMPP_TLV_NETWORK_ERROR_CODE:
		memcpy(out, t->network_error_code, 3);
		return 3;
	default:
		if (t->message_payload_len)
			memcpy(out, t->message_payload, t->message_payload_len);
		return t->message_payload_len;
	}
}

static unsigned typed_value(const struct smsr__smpp_tlvs *t, uint16_t tag)
{
	switch (tag) {
	case SMSR__SMPP_TLV_PAYLOAD_TYPE:
		return t->payload_type;
	case SMSR__SMPP_TLV_USER_MESSAGE_REFERENCE:
		return t->user_message_reference;
	case SMSR__SMPP_TLV_SOURCE_PORT:
		return t->source_port;
	case SMSR__SMPP_TLV_DESTINATION_PORT:
		return t->destination_port;
	case SMSR__SMPP_TLV_SAR_MSG_REF_NUM:
		return t->sar_msg_ref_num;
	case SMSR__SMPP_TLV_LANGUAGE_INDICATOR:
		return t->language_indicator;
	case SMSR__SMPP_TLV_SAR_TOTAL_SEGMENTS:
		return t->sar_total_segments;
	case SMSR__SMPP_TLV_SAR_SEGMENT_SEQNUM:
		return t->sar_segment_seqnum;
	case SMSR__SMPP_TLV_SC_INTERFACE_VERSION:
		return t->sc_interface_version;
	case SMSR__SMPP_TLV_MS_AVAILABILITY_STATUS:
		return t->ms_availability_status;
	case SMSR__SMPP_TLV_MORE_MESSAGES_TO_SEND:
		return t->more_messages_to_send;
	default:
		return t->message_state;
	}
}

static void lib_add(tlv_t **list, uint16_t tag, uint16_t len, int width, unsigned v,
		    const uint8_t *oct)
{
	tlv_t x;

	memset(&x, 0, sizeof(x));
	x.tag = tag;
	x.length = len;
	if (width == 1)
		x.value.val08 = (uint8_t)v;
	else if (width == 2)
		x.value.val16 = (uint16_t)v;
	else if (len && oct)
		memcpy(x.value.octet, oct, len);
	assert_int_equal(build_tlv(list, &x), 0);
}

/* Our TLVs into a libsmpp34 list. */
static void tlvs_to_lib(const struct smsr__smpp_tlvs *t, tlv_t **list)
{
	uint8_t oct[1100];

	for (size_t i = 0; i < NMAP; i++) {
		const struct tlv_map *m = &TLV_MAP[i];

		if (!(t->present & m->bit))
			continue;
		if (m->width)
			lib_add(list, m->tag, (uint16_t)m->width, m->width, typed_value(t, m->tag),
				NULL);
		else
			lib_add(list, m->tag, (uint16_t)typed_octets(t, m, oct), 0, 0, oct);
	}
	for (unsigned i = 0; i < t->n_unknown; i++)
		lib_add(list, t->unknown[i].tag, t->unknown[i].len, 0, 0, t->unknown[i].val);
}

/* libsmpp34's list holds exactly our TLVs, in any order. */
static void tlvs_check_lib(const struct smsr__smpp_tlvs *t, const tlv_t *list)
{
	uint8_t oct[1100];
	unsigned typed = 0, unknown = 0;

	for (const tlv_t *x = list; x; x = x->next) {
		const struct tlv_map *m = NULL;

		for (size_t i = 0; i < NMAP; i++)
			if (TLV_MAP[i].tag == x->tag)
				m = &TLV_MAP[i];
		if (m) {
			assert_true(t->present & m->bit);
			typed++;
			if (m->width == 1) {
				assert_int_equal(x->length, 1);
				assert_int_equal(x->value.val08, typed_value(t, m->tag));
			} else if (m->width == 2) {
				assert_int_equal(x->length, 2);
				assert_int_equal(x->value.val16, typed_value(t, m->tag));
			} else {
				size_t n = typed_octets(t, m, oct);

				assert_int_equal(x->length, n);
				if (n)
					assert_memory_equal(x->value.octet, oct, n);
			}
			continue;
		}
		unsigned i = 0;
		while (i < t->n_unknown && t->unknown[i].tag != x->tag)
			i++;
		assert_true(i < t->n_unknown);
		assert_int_equal(x->length, t->unknown[i].len);
		if (x->length)
			assert_memory_equal(x->value.octet, t->unknown[i].val, x->length);
		unknown++;
	}
	assert_int_equal(typed, __builtin_popcount(t->present));
	assert_int_equal(unknown, t->n_unknown);
}

union lib_pdu {
	bind_transmitter_t bind_transmitter;
	bind_receiver_t bind_receiver;
	bind_transceiver_t bind_transceiver;
	bind_transmitter_resp_t bind_transmitter_resp;
	bind_receiver_resp_t bind_receiver_resp;
	bind_transceiver_resp_t bind_transceiver_resp;
	outbind_t outbind;
	unbind_t unbind;
	unbind_resp_t unbind_resp;
	enquire_link_t enquire_link;
	enquire_link_resp_t enquire_link_resp;
	generic_nack_t generic_nack;
	submit_sm_t submit_sm;
	submit_sm_resp_t submit_sm_resp;
	deliver_sm_t deliver_sm;
	deliver_sm_resp_t deliver_sm_resp;
	data_sm_t data_sm;
	data_sm_resp_t data_sm_resp;
	alert_notification_t alert_notification;
};

/*
 * Map @p and @l (of @p->command_id) either way, see NUM(). Returns where
 * libsmpp34 keeps the PDU's TLV list, NULL for PDUs it gives none.
 */
static tlv_t **map(struct smsr__smpp_pdu *p, union lib_pdu *l, bool set)
{
	switch (p->command_id) {
	case SMSR__SMPP_BIND_TRANSMITTER:
		HDR(p, &l->bind_transmitter);
		BIND(p, &l->bind_transmitter);
		return NULL;
	case SMSR__SMPP_BIND_RECEIVER:
		HDR(p, &l->bind_receiver);
		BIND(p, &l->bind_receiver);
		return NULL;
	case SMSR__SMPP_BIND_TRANSCEIVER:
		HDR(p, &l->bind_transceiver);
		BIND(p, &l->bind_transceiver);
		return NULL;
	case SMSR__SMPP_OUTBIND:
		HDR(p, &l->outbind);
		STR(p->bind.system_id, l->outbind.system_id);
		STR(p->bind.password, l->outbind.password);
		return NULL;
	case SMSR__SMPP_BIND_TRANSMITTER_RESP:
		HDR(p, &l->bind_transmitter_resp);
		STR(p->resp.id, l->bind_transmitter_resp.system_id);
		return &l->bind_transmitter_resp.tlv;
	case SMSR__SMPP_BIND_RECEIVER_RESP:
		HDR(p, &l->bind_receiver_resp);
		STR(p->resp.id, l->bind_receiver_resp.system_id);
		return &l->bind_receiver_resp.tlv;
	case SMSR__SMPP_BIND_TRANSCEIVER_RESP:
		HDR(p, &l->bind_transceiver_resp);
		STR(p->resp.id, l->bind_transceiver_resp.system_id);
		return &l->bind_transceiver_resp.tlv;
	case SMSR__SMPP_UNBIND:
		HDR(p, &l->unbind);
		return NULL;
	case SMSR__SMPP_UNBIND_RESP:
		HDR(p, &l->unbind_resp);
		return NULL;
	case SMSR__SMPP_ENQUIRE_LINK:
		HDR(p, &l->enquire_link);
		return NULL;
	case SMSR__SMPP_ENQUIRE_LINK_RESP:
		HDR(p, &l->enquire_link_resp);
		return NULL;
	case SMSR__SMPP_GENERIC_NACK:
		HDR(p, &l->generic_nack);
		return NULL;
	case SMSR__SMPP_SUBMIT_SM:
		HDR(p, &l->submit_sm);
		SM(p, &l->submit_sm);
		return &l->submit_sm.tlv;
	case SMSR__SMPP_DELIVER_SM:
		HDR(p, &l->deliver_sm);
		SM(p, &l->deliver_sm);
		return &l->deliver_sm.tlv;
	case SMSR__SMPP_DATA_SM:
		HDR(p, &l->data_sm);
		SM_COMMON(p, &l->data_sm);
		return &l->data_sm.tlv;
	case SMSR__SMPP_SUBMIT_SM_RESP:
		HDR(p, &l->submit_sm_resp);
		STR(p->resp.id, l->submit_sm_resp.message_id);
		return NULL;
	case SMSR__SMPP_DELIVER_SM_RESP:
		HDR(p, &l->deliver_sm_resp);
		STR(p->resp.id, l->deliver_sm_resp.message_id);
		return NULL;
	case SMSR__SMPP_DATA_SM_RESP:
		HDR(p, &l->data_sm_resp);
		STR(p->resp.id, l->data_sm_resp.message_id);
		return NULL;
	case SMSR__SMPP_ALERT_NOTIFICATION:
		HDR(p, &l->alert_notification);
		ALERT(p, &l->alert_notification);
		return &l->alert_notification.tlv;
	default:
		fail_msg("no libsmpp34 mapping for %s", smsr__smpp_cmd_name(p->command_id));
		return NULL;
	}
}

static uint32_t lib_len(const union lib_pdu *l)
{
	/* Every libsmpp34 PDU struct opens with the header. */
	return l->generic_nack.command_length;
}

/* Ours -> smpp34_unpack: every field and TLV as we meant it. */
static void ours_to_lib(uint32_t cmd, union lib_pdu *l, uint8_t *buf, size_t cap)
{
	struct smsr__smpp_pdu p;
	struct store st;
	tlv_t **tl;
	int n;

	rpdu(&p, cmd, &st);
	n = smsr__smpp_encode(&p, buf, cap);
	assert_true(n >= 16);
	memset(l, 0, sizeof(*l));
	if (smpp34_unpack(cmd, l, buf, n) != 0)
		fail_msg("smpp34_unpack %s: %s", smsr__smpp_cmd_name(cmd), smpp34_strerror);
	assert_int_equal(lib_len(l), n);
	tl = map(&p, l, false);
	if (tl) {
		tlvs_check_lib(&p.tlv, *tl);
		destroy_tlv(*tl);
	} else {
		assert_int_equal(p.tlv.present | p.tlv.n_unknown, 0);
	}
}

/* smpp34_pack -> ours: every field and TLV as libsmpp34 was given it. */
static void lib_to_ours(uint32_t cmd, union lib_pdu *l, uint8_t *buf, size_t cap)
{
	struct smsr__smpp_pdu p, q;
	struct store st;
	tlv_t **tl;
	int len = 0;

	rpdu(&p, cmd, &st);
	memset(l, 0, sizeof(*l));
	tl = map(&p, l, true);
	if (tl)
		tlvs_to_lib(&p.tlv, tl);
	if (smpp34_pack(cmd, buf, (int)cap, &len, l) != 0)
		fail_msg("smpp34_pack %s: %s", smsr__smpp_cmd_name(cmd), smpp34_strerror);
	assert_int_equal(smsr__smpp_decode(buf, (size_t)len, &q), len);
	assert_false(q.unknown_cmd);
	assert_int_equal(q.no_body, p.no_body);
	map(&q, l, false);
	if (tl) {
		tlvs_check_lib(&q.tlv, *tl);
		destroy_tlv(*tl);
	}
}

static void test_interop_both_ways(void **state)
{
	uint32_t cmd = *(const uint32_t *)*state;
	union lib_pdu *l = malloc(sizeof(*l));
	uint8_t *buf = malloc(8192);

	assert_non_null(l);
	assert_non_null(buf);
	for (int i = 0; i < ROUNDS; i++) {
		ours_to_lib(cmd, l, buf, 8192);
		lib_to_ours(cmd, l, buf, 8192);
	}
	free(buf);
	free(l);
}

/* Not const: each is a test's state. */
static uint32_t KINDS[] = {
    SMSR__SMPP_BIND_TRANSMITTER,
    SMSR__SMPP_BIND_TRANSMITTER_RESP,
    SMSR__SMPP_BIND_RECEIVER,
    SMSR__SMPP_BIND_RECEIVER_RESP,
    SMSR__SMPP_BIND_TRANSCEIVER,
    SMSR__SMPP_BIND_TRANSCEIVER_RESP,
    SMSR__SMPP_OUTBIND,
    SMSR__SMPP_UNBIND,
    SMSR__SMPP_UNBIND_RESP,
    SMSR__SMPP_ENQUIRE_LINK,
    SMSR__SMPP_ENQUIRE_LINK_RESP,
    SMSR__SMPP_GENERIC_NACK,
    SMSR__SMPP_SUBMIT_SM,
    SMSR__SMPP_SUBMIT_SM_RESP,
    SMSR__SMPP_DELIVER_SM,
    SMSR__SMPP_DELIVER_SM_RESP,
    SMSR__SMPP_DATA_SM,
    SMSR__SMPP_DATA_SM_RESP,
    SMSR__SMPP_ALERT_NOTIFICATION,
};
#define NKINDS (sizeof(KINDS) / sizeof(KINDS[0]))

int main(int argc, char **argv)
{
	struct CMUnitTest tests[NKINDS];
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : (uint64_t)time(NULL);

	printf("test_smpp_interop: seed %llu (replay: test_smpp_interop %llu)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	rng_state = seed * 0x9e3779b97f4a7c15ull | 1;
	for (size_t i = 0; i < NKINDS; i++)
		tests[i] = (struct CMUnitTest){smsr__smpp_cmd_name(KINDS[i]),
					       test_interop_both_ways, NULL, NULL, &KINDS[i]};
	return cmocka_run_group_tests_name("smpp_interop", tests, NULL, NULL);
}
