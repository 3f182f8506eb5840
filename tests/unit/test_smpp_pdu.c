/* SPDX-License-Identifier: MIT */
/*
 * Description: the SMPP 3.4 PDU codec (core/chan/smpp_pdu.c, smpp_pdu_enc.c).
 * Every PDU kind an ESME uses round-trips field for field, typed TLVs and
 * kept unknown ones included, and a submit_sm matches bytes laid out by
 * hand from the spec. Every prefix of every sample asks for more (-EAGAIN)
 * and leaves the output alone; guard-page tests put each prefix, each whole
 * PDU and each malformed PDU right before a PROT_NONE page, so a read past
 * @len faults. Malformed input is malformed_pdu: command_length out of
 * range, a C-octet string without its NUL within its maximum or the PDU,
 * a time that is neither empty nor 16 chars, sm_length or a TLV length past
 * the body, trailing bytes that are not a TLV, a typed TLV of the wrong
 * size. Unknown command ids decode to their header with unknown_cmd set;
 * more unknown TLVs than kept are counted; the encoder refuses fields over
 * their SMPP maximum and reports -ENOSPC for every short buffer.
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

#include "smsr/errors.h"

#include "chan/smpp_pdu.h"

static const uint8_t PAYLOAD[] = "a message_payload longer than a short message could be ...";
static const uint8_t CALLBACK[] = {0x01, 0x01, 0x01, '5', '5', '5', '1', '2'};
static const uint8_t VENDOR[] = {0xde, 0xad, 0xbe, 0xef};

/* Sample @i of the kinds below, with fields set to distinct non-zero values. */
static const uint32_t KINDS[] = {
    SMSR__SMPP_BIND_TRANSMITTER,
    SMSR__SMPP_BIND_RECEIVER,
    SMSR__SMPP_BIND_TRANSCEIVER,
    SMSR__SMPP_BIND_TRANSMITTER_RESP,
    SMSR__SMPP_BIND_RECEIVER_RESP,
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

static void sample(struct smsr__smpp_pdu *p, uint32_t cmd)
{
	memset(p, 0, sizeof(*p));
	p->command_id = cmd;
	p->command_status = cmd & SMSR__SMPP_RESP ? 0x58 : 0;
	p->sequence_number = 0x01020304u + cmd;
	switch (cmd) {
	case SMSR__SMPP_BIND_TRANSMITTER:
	case SMSR__SMPP_BIND_RECEIVER:
	case SMSR__SMPP_BIND_TRANSCEIVER:
		p->bind = (struct smsr__smpp_bind){
		    "smsr-esme-01234", "secret12", "VMA-system1", "^\\+861[0-9]{9}$", 0x34, 1, 1};
		break;
	case SMSR__SMPP_OUTBIND:
		p->bind = (struct smsr__smpp_bind){"smsc", "pw", "", "", 0, 0, 0};
		break;
	case SMSR__SMPP_BIND_TRANSMITTER_RESP:
	case SMSR__SMPP_BIND_RECEIVER_RESP:
	case SMSR__SMPP_BIND_TRANSCEIVER_RESP:
		p->resp.id = "SMSC-A";
		p->tlv.present = SMSR__SMPP_HAS_SC_INTERFACE_VERSION;
		p->tlv.sc_interface_version = 0x34;
		break;
	case SMSR__SMPP_SUBMIT_SM:
	case SMSR__SMPP_DELIVER_SM:
		p->sm = (struct smsr__smpp_sm){
		    .service_type = "CMT",
		    .source_addr = "10690000",
		    .destination_addr = "8613800138000",
		    .schedule_delivery_time = "",
		    .validity_period = "000001000000000R",
		    .short_message = (const uint8_t *)"Your code is 123456",
		    .source_addr_ton = 5,
		    .source_addr_npi = 0,
		    .dest_addr_ton = 1,
		    .dest_addr_npi = 1,
		    .esm_class = 0x40,
		    .protocol_id = 0x7f,
		    .priority_flag = 1,
		    .registered_delivery = 1,
		    .replace_if_present_flag = 1,
		    .data_coding = 8,
		    .sm_default_msg_id = 3,
		    .sm_length = 19,
		};
		p->tlv.present =
		    SMSR__SMPP_HAS_SAR_MSG_REF_NUM | SMSR__SMPP_HAS_SAR_TOTAL_SEGMENTS |
		    SMSR__SMPP_HAS_SAR_SEGMENT_SEQNUM | SMSR__SMPP_HAS_SOURCE_PORT |
		    SMSR__SMPP_HAS_DESTINATION_PORT | SMSR__SMPP_HAS_USER_MESSAGE_REFERENCE |
		    SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID | SMSR__SMPP_HAS_MESSAGE_STATE |
		    SMSR__SMPP_HAS_NETWORK_ERROR_CODE | SMSR__SMPP_HAS_CALLBACK_NUM |
		    SMSR__SMPP_HAS_LANGUAGE_INDICATOR | SMSR__SMPP_HAS_PAYLOAD_TYPE |
		    SMSR__SMPP_HAS_MORE_MESSAGES_TO_SEND;
		p->tlv.sar_msg_ref_num = 0xbeef;
		p->tlv.sar_total_segments = 3;
		p->tlv.sar_segment_seqnum = 2;
		p->tlv.source_port = 0x1234;
		p->tlv.destination_port = 0x2345;
		p->tlv.user_message_reference = 0x3456;
		p->tlv.receipted_message_id = "0123456789abcdef";
		p->tlv.receipted_message_id_len = 16;
		p->tlv.message_state = 2;
		memcpy(p->tlv.network_error_code, "\x03\x00\x01", 3);
		p->tlv.callback_num = CALLBACK;
		p->tlv.callback_num_len = sizeof(CALLBACK);
		p->tlv.language_indicator = 6;
		p->tlv.payload_type = 1;
		p->tlv.more_messages_to_send = 1;
		p->tlv.unknown[0] = (struct smsr__smpp_tlv){0x1401, sizeof(VENDOR), VENDOR};
		p->tlv.unknown[1] = (struct smsr__smpp_tlv){0x0005, 0, NULL};
		p->tlv.n_unknown = 2;
		break;
	case SMSR__SMPP_DATA_SM:
		p->sm = (struct smsr__smpp_sm){
		    .service_type = "WAP",
		    .source_addr =
			"a-64-char-source-address-is-fine-in-data_sm-0123456789abcdef012",
		    .destination_addr = "8613800138000",
		    .schedule_delivery_time = "",
		    .validity_period = "",
		    .source_addr_ton = 5,
		    .dest_addr_ton = 1,
		    .dest_addr_npi = 1,
		    .esm_class = 0x04,
		    .registered_delivery = 1,
		    .data_coding = 4,
		};
		p->tlv.present = SMSR__SMPP_HAS_MESSAGE_PAYLOAD | SMSR__SMPP_HAS_SOURCE_PORT;
		p->tlv.message_payload = PAYLOAD;
		p->tlv.message_payload_len = sizeof(PAYLOAD) - 1;
		p->tlv.source_port = 9200;
		break;
	case SMSR__SMPP_SUBMIT_SM_RESP:
	case SMSR__SMPP_DELIVER_SM_RESP:
	case SMSR__SMPP_DATA_SM_RESP:
		p->resp.id = "9f0e6d1c-5a4b-4c3d-8e2f-0123456789ab";
		break;
	case SMSR__SMPP_ALERT_NOTIFICATION:
		p->alert = (struct smsr__smpp_alert){"8613800138000", "10690000", 1, 1, 5, 0};
		p->tlv.present = SMSR__SMPP_HAS_MS_AVAILABILITY_STATUS;
		p->tlv.ms_availability_status = 1;
		break;
	default:
		break;
	}
}

static void str_eq(const char *a, const char *b)
{
	assert_string_equal(a ? a : "", b ? b : "");
}

static void bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n)
		assert_memory_equal(a, b, n);
}

static void tlvs_eq(const struct smsr__smpp_tlvs *a, const struct smsr__smpp_tlvs *b)
{
	uint32_t h = a->present;

	assert_int_equal(a->present, b->present);
#define SAME(bit, f)                  \
	if (h & SMSR__SMPP_HAS_##bit) \
	assert_int_equal(a->f, b->f)
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
	SAME(RECEIPTED_MESSAGE_ID, receipted_message_id_len);
	SAME(CALLBACK_NUM, callback_num_len);
	SAME(MESSAGE_PAYLOAD, message_payload_len);
#undef SAME
	if (h & SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID)
		bytes_eq((const uint8_t *)a->receipted_message_id,
			 (const uint8_t *)b->receipted_message_id, a->receipted_message_id_len);
	if (h & SMSR__SMPP_HAS_CALLBACK_NUM)
		bytes_eq(a->callback_num, b->callback_num, a->callback_num_len);
	if (h & SMSR__SMPP_HAS_MESSAGE_PAYLOAD)
		bytes_eq(a->message_payload, b->message_payload, a->message_payload_len);
	if (h & SMSR__SMPP_HAS_NETWORK_ERROR_CODE)
		assert_memory_equal(a->network_error_code, b->network_error_code, 3);
	assert_int_equal(a->n_unknown, b->n_unknown);
	for (unsigned i = 0; i < a->n_unknown; i++) {
		assert_int_equal(a->unknown[i].tag, b->unknown[i].tag);
		assert_int_equal(a->unknown[i].len, b->unknown[i].len);
		bytes_eq(a->unknown[i].val, b->unknown[i].val, a->unknown[i].len);
	}
}

/* Field for field, as far as the command id has them. */
static void pdu_eq(const struct smsr__smpp_pdu *a, const struct smsr__smpp_pdu *b)
{
	assert_int_equal(a->command_id, b->command_id);
	assert_int_equal(a->command_status, b->command_status);
	assert_int_equal(a->sequence_number, b->sequence_number);
	assert_int_equal(a->no_body, b->no_body);
	switch (a->command_id) {
	case SMSR__SMPP_BIND_TRANSMITTER:
	case SMSR__SMPP_BIND_RECEIVER:
	case SMSR__SMPP_BIND_TRANSCEIVER:
		str_eq(a->bind.system_type, b->bind.system_type);
		str_eq(a->bind.address_range, b->bind.address_range);
		assert_int_equal(a->bind.interface_version, b->bind.interface_version);
		assert_int_equal(a->bind.addr_ton, b->bind.addr_ton);
		assert_int_equal(a->bind.addr_npi, b->bind.addr_npi);
		/* fall through */
	case SMSR__SMPP_OUTBIND:
		str_eq(a->bind.system_id, b->bind.system_id);
		str_eq(a->bind.password, b->bind.password);
		break;
	case SMSR__SMPP_SUBMIT_SM:
	case SMSR__SMPP_DELIVER_SM:
		str_eq(a->sm.schedule_delivery_time, b->sm.schedule_delivery_time);
		str_eq(a->sm.validity_period, b->sm.validity_period);
		assert_int_equal(a->sm.protocol_id, b->sm.protocol_id);
		assert_int_equal(a->sm.priority_flag, b->sm.priority_flag);
		assert_int_equal(a->sm.replace_if_present_flag, b->sm.replace_if_present_flag);
		assert_int_equal(a->sm.sm_default_msg_id, b->sm.sm_default_msg_id);
		assert_int_equal(a->sm.sm_length, b->sm.sm_length);
		bytes_eq(a->sm.short_message, b->sm.short_message, a->sm.sm_length);
		/* fall through */
	case SMSR__SMPP_DATA_SM:
		str_eq(a->sm.service_type, b->sm.service_type);
		str_eq(a->sm.source_addr, b->sm.source_addr);
		str_eq(a->sm.destination_addr, b->sm.destination_addr);
		assert_int_equal(a->sm.source_addr_ton, b->sm.source_addr_ton);
		assert_int_equal(a->sm.source_addr_npi, b->sm.source_addr_npi);
		assert_int_equal(a->sm.dest_addr_ton, b->sm.dest_addr_ton);
		assert_int_equal(a->sm.dest_addr_npi, b->sm.dest_addr_npi);
		assert_int_equal(a->sm.esm_class, b->sm.esm_class);
		assert_int_equal(a->sm.registered_delivery, b->sm.registered_delivery);
		assert_int_equal(a->sm.data_coding, b->sm.data_coding);
		break;
	case SMSR__SMPP_BIND_TRANSMITTER_RESP:
	case SMSR__SMPP_BIND_RECEIVER_RESP:
	case SMSR__SMPP_BIND_TRANSCEIVER_RESP:
	case SMSR__SMPP_SUBMIT_SM_RESP:
	case SMSR__SMPP_DELIVER_SM_RESP:
	case SMSR__SMPP_DATA_SM_RESP:
		str_eq(a->resp.id, b->resp.id);
		break;
	case SMSR__SMPP_ALERT_NOTIFICATION:
		str_eq(a->alert.source_addr, b->alert.source_addr);
		str_eq(a->alert.esme_addr, b->alert.esme_addr);
		assert_int_equal(a->alert.source_addr_ton, b->alert.source_addr_ton);
		assert_int_equal(a->alert.source_addr_npi, b->alert.source_addr_npi);
		assert_int_equal(a->alert.esme_addr_ton, b->alert.esme_addr_ton);
		assert_int_equal(a->alert.esme_addr_npi, b->alert.esme_addr_npi);
		break;
	default:
		break;
	}
	tlvs_eq(&a->tlv, &b->tlv);
}

/* Encode sample @cmd into @out; returns its length. */
static size_t encode_sample(uint32_t cmd, uint8_t *out, size_t cap)
{
	struct smsr__smpp_pdu p;
	int n;

	sample(&p, cmd);
	n = smsr__smpp_encode(&p, out, cap);
	assert_true(n >= 16);
	return (size_t)n;
}

/* A PDU of @cmd whose body is @body (@n bytes): header written here. */
static size_t mk(uint8_t *out, uint32_t cmd, const void *body, size_t n)
{
	smsr__smpp_encode_header(cmd, 0, 7, out);
	memcpy(out + 16, body, n);
	out[0] = (uint8_t)((16 + n) >> 24);
	out[1] = (uint8_t)((16 + n) >> 16);
	out[2] = (uint8_t)((16 + n) >> 8);
	out[3] = (uint8_t)(16 + n);
	return 16 + n;
}

static int decode_body(uint32_t cmd, const void *body, size_t n)
{
	uint8_t buf[1024];
	struct smsr__smpp_pdu p;
	size_t len = mk(buf, cmd, body, n);

	return smsr__smpp_decode(buf, len, &p);
}

/* Two pages, the second PROT_NONE (as in test_wire_frame.c). */
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

static void test_smpp_every_kind_round_trips(void **state)
{
	uint8_t buf[1024];

	for (size_t i = 0; i < NKINDS; i++) {
		struct smsr__smpp_pdu in, out;
		size_t n = encode_sample(KINDS[i], buf, sizeof(buf));

		sample(&in, KINDS[i]);
		memset(&out, 0xa5, sizeof(out));
		assert_int_equal(smsr__smpp_decode(buf, n, &out), (int)n);
		assert_int_equal(out.command_length, n);
		assert_false(out.unknown_cmd);
		pdu_eq(&in, &out);
		/* Zero-copy: strings lend into the buffer. */
		if (KINDS[i] == SMSR__SMPP_SUBMIT_SM) {
			assert_ptr_equal(out.sm.service_type, (const char *)buf + 16);
			assert_true(out.sm.short_message > buf && out.sm.short_message < buf + n);
		}
		/* Re-encoding the decoded struct gives the same bytes. */
		uint8_t again[1024];
		assert_int_equal(smsr__smpp_encode(&out, again, sizeof(again)), (int)n);
		assert_memory_equal(buf, again, n);
	}
}

/* A byte appender for PDUs laid out by hand. */
struct app {
	uint8_t b[512];
	size_t n;
};

static void app(struct app *a, const void *p, size_t n)
{
	memcpy(a->b + a->n, p, n);
	a->n += n;
}

static void app_s(struct app *a, const char *s)
{
	app(a, s, strlen(s) + 1);
}

static void app_u8(struct app *a, uint8_t v)
{
	app(a, &v, 1);
}

/* The sample submit_sm, byte by byte from SMPP 3.4 §4.4.1 and §5.3. */
static void test_smpp_submit_sm_matches_the_spec_layout(void **state)
{
	static const uint8_t hdr[] = {0, 0, 0, 4, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x08};
	static const uint8_t tlvs[] = {
	    0x00, 0x19, 0,   1,	  1, /* payload_type */
	    0x00, 0x1e, 0,   17,  '0',	'1',  '2',  '3',  '4', '5', '6', '7',
	    '8',  '9',	'a', 'b', 'c',	'd',  'e',  'f',  0, /* receipted_message_id */
	    0x02, 0x04, 0,   2,	  0x34, 0x56,		     /* user_message_reference */
	    0x02, 0x0a, 0,   2,	  0x12, 0x34,		     /* source_port */
	    0x02, 0x0b, 0,   2,	  0x23, 0x45,		     /* destination_port */
	    0x02, 0x0c, 0,   2,	  0xbe, 0xef,		     /* sar_msg_ref_num */
	    0x02, 0x0d, 0,   1,	  6,			     /* language_indicator */
	    0x02, 0x0e, 0,   1,	  3,			     /* sar_total_segments */
	    0x02, 0x0f, 0,   1,	  2,			     /* sar_segment_seqnum */
	    0x03, 0x81, 0,   8,	  1,	1,    1,    '5',  '5', '5', '1', '2', /* callback_num */
	    0x04, 0x23, 0,   3,	  3,	0,    1,	  /* network_error_code */
	    0x04, 0x26, 0,   1,	  1,			  /* more_messages_to_send */
	    0x04, 0x27, 0,   1,	  2,			  /* message_state */
	    0x14, 0x01, 0,   4,	  0xde, 0xad, 0xbe, 0xef, /* vendor, kept */
	    0x00, 0x05, 0,   0,				  /* dest_addr_subunit, empty, kept */
	};
	struct app a = {.n = 4};
	uint8_t buf[512];

	app(&a, hdr, sizeof(hdr));
	app_s(&a, "CMT");
	app_u8(&a, 5);
	app_u8(&a, 0);
	app_s(&a, "10690000");
	app_u8(&a, 1);
	app_u8(&a, 1);
	app_s(&a, "8613800138000");
	app(&a, "\x40\x7f\x01", 3);
	app_s(&a, "");
	app_s(&a, "000001000000000R");
	app(&a, "\x01\x01\x08\x03", 4);
	app_u8(&a, 19);
	app(&a, "Your code is 123456", 19);
	app(&a, tlvs, sizeof(tlvs));
	a.b[0] = (uint8_t)(a.n >> 24);
	a.b[1] = (uint8_t)(a.n >> 16);
	a.b[2] = (uint8_t)(a.n >> 8);
	a.b[3] = (uint8_t)a.n;
	assert_int_equal(encode_sample(SMSR__SMPP_SUBMIT_SM, buf, sizeof(buf)), a.n);
	assert_memory_equal(buf, a.b, a.n);
}

static void test_smpp_every_prefix_needs_more_and_changes_nothing(void **state)
{
	uint8_t buf[1024];

	for (size_t i = 0; i < NKINDS; i++) {
		size_t n = encode_sample(KINDS[i], buf, sizeof(buf));

		for (size_t k = 0; k < n; k++) {
			struct smsr__smpp_pdu p, before;

			memset(&p, 0x5a, sizeof(p));
			before = p;
			assert_int_equal(smsr__smpp_decode(buf, k, &p), -EAGAIN);
			assert_memory_equal(&p, &before, sizeof(p));
		}
	}
}

static void test_smpp_guard_page_every_prefix_and_whole_pdu(void **state)
{
	uint8_t buf[1024];
	struct guard g;

	guard_init(&g);
	for (size_t i = 0; i < NKINDS; i++) {
		size_t n = encode_sample(KINDS[i], buf, sizeof(buf));
		struct smsr__smpp_pdu p;

		for (size_t k = 0; k < n; k++)
			assert_int_equal(smsr__smpp_decode(guard_edge(&g, buf, k), k, &p), -EAGAIN);
		assert_int_equal(smsr__smpp_decode(guard_edge(&g, buf, n), n, &p), (int)n);
		/* Each cut of the body, announced as the whole PDU: malformed or
		 * (where the cut falls between TLVs) fine, never a fault. */
		for (size_t k = 16; k < n; k++) {
			uint8_t *e;
			int rc;

			buf[2] = (uint8_t)(k >> 8);
			buf[3] = (uint8_t)k;
			e = guard_edge(&g, buf, k);
			rc = smsr__smpp_decode(e, k, &p);
			assert_true(rc == -SMSR_EBADPDU || rc == (int)k);
		}
	}
	guard_fini(&g);
}

static void test_smpp_command_length_out_of_range_is_malformed(void **state)
{
	uint8_t h[16];
	struct smsr__smpp_pdu p;
	uint32_t id = 0, seq = 0;

	smsr__smpp_encode_header(SMSR__SMPP_ENQUIRE_LINK, 0, 9, h);
	h[3] = 15;
	assert_int_equal(smsr__smpp_decode(h, 16, &p), -SMSR_EBADPDU);
	h[3] = 0;
	assert_int_equal(smsr__smpp_decode(h, 16, &p), -SMSR_EBADPDU);
	/* 64 KiB + 1, from the header alone. */
	h[1] = 1;
	h[3] = 1;
	assert_int_equal(smsr__smpp_decode(h, 16, &p), -SMSR_EBADPDU);
	assert_int_equal(smsr__smpp_peek(h, 16, &id, &seq), -SMSR_EBADPDU);
	/* 64 KiB exactly is a length we wait for. */
	h[3] = 0;
	assert_int_equal(smsr__smpp_decode(h, 16, &p), -EAGAIN);
	assert_int_equal(smsr__smpp_peek(h, 16, &id, &seq), 65536);
	assert_int_equal(id, SMSR__SMPP_ENQUIRE_LINK);
	assert_int_equal(seq, 9);
	/* Fewer than 16 bytes: need more, whatever they say. */
	assert_int_equal(smsr__smpp_peek(h, 15, NULL, NULL), -EAGAIN);
}

static void test_smpp_c_octet_strings_need_their_nul_within_max(void **state)
{
	/* bind_transmitter: system_id 16, password 9, system_type 13, address_range 41. */
	static const char ok[] = "0123456789abcde\0pass5678\0systype90ab\0\x34\1\1"
				 "0123456789012345678901234567890123456789";
	char b[sizeof(ok)];

	assert_int_equal(decode_body(SMSR__SMPP_BIND_TRANSMITTER, ok, sizeof(ok)),
			 16 + (int)sizeof(ok));
	for (size_t at = 0; at < sizeof(ok); at++) {
		/* Turning any NUL of a string into a char makes it too long. */
		if (ok[at] || (at > 36 && at < 40))
			continue;
		memcpy(b, ok, sizeof(ok));
		b[at] = 'x';
		assert_int_equal(decode_body(SMSR__SMPP_BIND_TRANSMITTER, b, sizeof(b)),
				 -SMSR_EBADPDU);
	}
	/* A string that runs to the end of the PDU. */
	assert_int_equal(decode_body(SMSR__SMPP_BIND_TRANSMITTER_RESP, "SMSC", 4), -SMSR_EBADPDU);
	assert_int_equal(decode_body(SMSR__SMPP_SUBMIT_SM_RESP, "id", 2), -SMSR_EBADPDU);
	/* message_id: 64 chars fine, 65 not. */
	char id[66];
	memset(id, 'm', sizeof(id));
	id[64] = 0;
	assert_int_equal(decode_body(SMSR__SMPP_SUBMIT_SM_RESP, id, 65), 16 + 65);
	id[64] = 'm';
	id[65] = 0;
	assert_int_equal(decode_body(SMSR__SMPP_SUBMIT_SM_RESP, id, 66), -SMSR_EBADPDU);
}

/* A submit_sm (or data_sm) body with these fields; the rest fixed. */
static size_t sm_body(uint8_t *out, bool data_sm, const char *service_type, const char *src,
		      const char *sched, uint8_t sm_length, size_t sm_bytes)
{
	struct app a = {.n = 0};

	app_s(&a, service_type);
	app(&a, "\1\1", 2);
	app_s(&a, src);
	app(&a, "\1\1", 2);
	app_s(&a, "8613800138000");
	app_u8(&a, 0);
	if (data_sm) {
		app(&a, "\1\0", 2);
	} else {
		app(&a, "\0\0", 2);
		app_s(&a, sched);
		app_s(&a, "");
		app(&a, "\1\0\0\0", 4);
		app_u8(&a, sm_length);
		memset(a.b + a.n, 'z', sm_bytes);
		a.n += sm_bytes;
	}
	memcpy(out, a.b, a.n);
	return a.n;
}

static void test_smpp_submit_sm_fields_are_checked(void **state)
{
	static const char a20[] = "01234567890123456789", a21[] = "012345678901234567890";
	static const char a64[] =
	    "0123456789012345678901234567890123456789012345678901234567890123";
	uint8_t b[512];
	size_t n;
	const uint32_t S = SMSR__SMPP_SUBMIT_SM;

	n = sm_body(b, false, "CMT", a20, "", 3, 3);
	assert_int_equal(decode_body(S, b, n), 16 + (int)n);
	n = sm_body(b, false, "CMTxx", a20, "0123456789abcdef", 0, 0);
	assert_int_equal(decode_body(S, b, n), 16 + (int)n);
	n = sm_body(b, false, "CMTxxx", a20, "", 0, 0);
	assert_int_equal(decode_body(S, b, n), -SMSR_EBADPDU);
	n = sm_body(b, false, "CMT", a21, "", 0, 0);
	assert_int_equal(decode_body(S, b, n), -SMSR_EBADPDU);
	/* Times: "" or exactly 16 chars. */
	n = sm_body(b, false, "", a20, "01234", 0, 0);
	assert_int_equal(decode_body(S, b, n), -SMSR_EBADPDU);
	n = sm_body(b, false, "", a20, "0123456789abcdefg", 0, 0);
	assert_int_equal(decode_body(S, b, n), -SMSR_EBADPDU);
	/* sm_length past the body, by one. */
	n = sm_body(b, false, "", a20, "", 4, 3);
	assert_int_equal(decode_body(S, b, n), -SMSR_EBADPDU);
	/* Body cut before sm_length. */
	n = sm_body(b, false, "", a20, "", 0, 0);
	assert_int_equal(decode_body(S, b, n - 1), -SMSR_EBADPDU);
	/* data_sm takes 64-char addresses; 65 is too long. */
	n = sm_body(b, true, "", a64, "", 0, 0);
	assert_int_equal(decode_body(SMSR__SMPP_DATA_SM, b, n), 16 + (int)n);
	assert_int_equal(decode_body(S, b, n), -SMSR_EBADPDU);
	char a65[66];
	memset(a65, '7', 65);
	a65[65] = 0;
	n = sm_body(b, true, "", a65, "", 0, 0);
	assert_int_equal(decode_body(SMSR__SMPP_DATA_SM, b, n), -SMSR_EBADPDU);
}

/* An enquire_link body of raw TLV bytes. */
static int decode_tlvs(const void *t, size_t n, struct smsr__smpp_pdu *p)
{
	uint8_t buf[256];
	size_t len = mk(buf, SMSR__SMPP_ENQUIRE_LINK, t, n);
	static uint8_t keep[256];

	/* Keep the bytes alive for the caller's look at @p. */
	memcpy(keep, buf, len);
	return smsr__smpp_decode(keep, len, p);
}

static void test_smpp_tlv_lengths_are_checked(void **state)
{
	struct smsr__smpp_pdu p;

	/* Trailing bytes that cannot be a TLV header. */
	assert_int_equal(decode_tlvs("\x04", 1, &p), -SMSR_EBADPDU);
	assert_int_equal(decode_tlvs("\x04\x24", 2, &p), -SMSR_EBADPDU);
	assert_int_equal(decode_tlvs("\x04\x24\0", 3, &p), -SMSR_EBADPDU);
	/* A value past the body, typed or not. */
	assert_int_equal(decode_tlvs("\x04\x24\0\x03xy", 6, &p), -SMSR_EBADPDU);
	assert_int_equal(decode_tlvs("\x14\x00\0\x01", 4, &p), -SMSR_EBADPDU);
	assert_int_equal(decode_tlvs("\x04\x24\0\x02xy", 6, &p), 22);
	assert_int_equal(p.tlv.message_payload_len, 2);
	/* Typed TLVs of the wrong size. */
	assert_int_equal(decode_tlvs("\x02\x0c\0\x01\x01", 5, &p), -SMSR_EBADPDU);
	assert_int_equal(decode_tlvs("\x02\x0e\0\x02\x01\x01", 6, &p), -SMSR_EBADPDU);
	assert_int_equal(decode_tlvs("\x04\x23\0\x02\x01\x01", 6, &p), -SMSR_EBADPDU);
	assert_int_equal(decode_tlvs("\x03\x81\0\x03\x01\x01\x01", 7, &p), -SMSR_EBADPDU);
	assert_int_equal(decode_tlvs("\x00\x1e\0\x00", 4, &p), -SMSR_EBADPDU);
	assert_int_equal(decode_tlvs("\x00\x1e\0\x03\x61\0\x62", 7, &p), -SMSR_EBADPDU);
	char rid[4 + 66];
	memcpy(rid, "\x00\x1e\0\x42", 4);
	memset(rid + 4, 'r', 65);
	rid[4 + 65] = 0;
	assert_int_equal(decode_tlvs(rid, sizeof(rid), &p), -SMSR_EBADPDU);
	rid[3] = 0x41;
	assert_int_equal(decode_tlvs(rid, 4 + 65, &p), -SMSR_EBADPDU);
	rid[4 + 64] = 0;
	assert_int_equal(decode_tlvs(rid, 4 + 65, &p), 16 + 4 + 65);
	assert_int_equal(p.tlv.receipted_message_id_len, 64);
}

static void test_smpp_receipted_message_id_without_nul_is_taken(void **state)
{
	struct smsr__smpp_pdu p;
	uint8_t out[64];

	assert_int_equal(decode_tlvs("\x00\x1e\0\x04"
				     "ab12",
				     8, &p),
			 24);
	assert_true(p.tlv.present & SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID);
	assert_int_equal(p.tlv.receipted_message_id_len, 4);
	assert_memory_equal(p.tlv.receipted_message_id, "ab12", 4);
	/* Re-encoded the spec's way, with its NUL. */
	assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), 25);
	assert_memory_equal(out + 16,
			    "\x00\x1e\0\x05"
			    "ab12\0",
			    9);
}

static void test_smpp_unknown_tlvs_are_kept_then_counted(void **state)
{
	struct app a = {.n = 0};
	struct smsr__smpp_pdu p, q;
	uint8_t out[256];

	for (int i = 0; i < SMSR__SMPP_MAX_UNKNOWN_TLV + 3; i++) {
		uint8_t t[6] = {0x15, (uint8_t)i, 0, 2, (uint8_t)i, (uint8_t)~i};
		app(&a, t, sizeof(t));
	}
	app(&a, "\x04\x27\0\x01\x02", 5); /* a typed one after them */
	assert_int_equal(decode_tlvs(a.b, a.n, &p), 16 + (int)a.n);
	assert_int_equal(p.tlv.n_unknown, SMSR__SMPP_MAX_UNKNOWN_TLV);
	assert_int_equal(p.tlv.n_skipped, 3);
	assert_int_equal(p.tlv.present, SMSR__SMPP_HAS_MESSAGE_STATE);
	assert_int_equal(p.tlv.message_state, 2);
	for (int i = 0; i < SMSR__SMPP_MAX_UNKNOWN_TLV; i++) {
		assert_int_equal(p.tlv.unknown[i].tag, 0x1500 + i);
		assert_int_equal(p.tlv.unknown[i].len, 2);
		assert_int_equal(p.tlv.unknown[i].val[0], i);
		assert_int_equal(p.tlv.unknown[i].val[1], (uint8_t)~i);
	}
	/* Re-encoded: the typed one, then the kept ones; the skipped are gone. */
	int n = smsr__smpp_encode(&p, out, sizeof(out));
	assert_int_equal(n, 16 + 5 + 6 * SMSR__SMPP_MAX_UNKNOWN_TLV);
	assert_int_equal(smsr__smpp_decode(out, (size_t)n, &q), n);
	assert_int_equal(q.tlv.n_skipped, 0);
	q.tlv.n_skipped = p.tlv.n_skipped;
	pdu_eq(&p, &q);
}

static void test_smpp_unknown_command_decodes_its_header(void **state)
{
	static const uint32_t ids[] = {0x00000003u, 0x00000021u, 0x00010200u, 0x8000ffffu, 0};
	uint8_t buf[64];
	struct smsr__smpp_pdu p;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		/* Whatever the body, even one no PDU could have. */
		size_t n = mk(buf, ids[i], "\xff\xff\xff", 3);

		assert_int_equal(smsr__smpp_decode(buf, n, &p), (int)n);
		assert_true(p.unknown_cmd);
		assert_int_equal(p.command_id, ids[i]);
		assert_int_equal(p.sequence_number, 7);
		assert_int_equal(p.command_length, n);
		assert_int_equal(smsr__smpp_encode(&p, buf, sizeof(buf)), -SMSR_EINVAL);
	}
	assert_string_equal(smsr__smpp_cmd_name(0x00000003u), "query_sm");
	assert_string_equal(smsr__smpp_cmd_name(0x00010200u), "unknown");
	assert_string_equal(smsr__smpp_cmd_name(SMSR__SMPP_DELIVER_SM_RESP), "deliver_sm_resp");
	assert_string_equal(smsr__smpp_cmd_name(SMSR__SMPP_GENERIC_NACK), "generic_nack");
}

static void test_smpp_header_only_response_has_no_body(void **state)
{
	static const uint32_t ids[] = {SMSR__SMPP_SUBMIT_SM_RESP, SMSR__SMPP_DELIVER_SM_RESP,
				       SMSR__SMPP_DATA_SM_RESP, SMSR__SMPP_BIND_TRANSCEIVER_RESP};
	uint8_t h[16], out[32];
	struct smsr__smpp_pdu p;

	for (size_t i = 0; i < 4; i++) {
		smsr__smpp_encode_header(ids[i], SMSR__SMPP_ESME_RTHROTTLED, 42, h);
		assert_int_equal(smsr__smpp_decode(h, 16, &p), 16);
		assert_true(p.no_body);
		assert_string_equal(p.resp.id, "");
		assert_int_equal(p.command_status, SMSR__SMPP_ESME_RTHROTTLED);
		assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), 16);
		assert_memory_equal(out, h, 16);
		/* Without the flag, the empty string is sent. */
		p.no_body = false;
		assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), 17);
	}
}

static void test_smpp_encoder_refuses_fields_over_their_max(void **state)
{
	uint8_t out[1024];
	struct smsr__smpp_pdu p;

	sample(&p, SMSR__SMPP_BIND_TRANSCEIVER);
	p.bind.system_id = "0123456789abcdef";
	assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), -SMSR_EINVAL);
	/* Even when it would not fit anyway. */
	assert_int_equal(smsr__smpp_encode(&p, out, 3), -SMSR_EINVAL);
	sample(&p, SMSR__SMPP_BIND_TRANSCEIVER);
	p.bind.password = "123456789";
	assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), -SMSR_EINVAL);
	sample(&p, SMSR__SMPP_SUBMIT_SM);
	p.sm.destination_addr = "861380013800012345678";
	assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), -SMSR_EINVAL);
	sample(&p, SMSR__SMPP_SUBMIT_SM);
	p.sm.validity_period = "1h";
	assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), -SMSR_EINVAL);
	sample(&p, SMSR__SMPP_SUBMIT_SM);
	p.sm.short_message = NULL;
	assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), -SMSR_EINVAL);
	sample(&p, SMSR__SMPP_SUBMIT_SM);
	p.tlv.callback_num_len = 3;
	assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), -SMSR_EINVAL);
	sample(&p, SMSR__SMPP_SUBMIT_SM);
	p.tlv.receipted_message_id_len = 65;
	assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), -SMSR_EINVAL);
	sample(&p, SMSR__SMPP_SUBMIT_SM);
	p.tlv.n_unknown = SMSR__SMPP_MAX_UNKNOWN_TLV + 1;
	assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), -SMSR_EINVAL);
	/* NULL strings are empty ones. */
	memset(&p, 0, sizeof(p));
	p.command_id = SMSR__SMPP_SUBMIT_SM;
	assert_int_equal(smsr__smpp_encode(&p, out, sizeof(out)), 16 + 17);
}

static void test_smpp_encoder_short_buffer_is_enospc(void **state)
{
	uint8_t buf[1024], out[1024];

	for (size_t i = 0; i < NKINDS; i++) {
		struct smsr__smpp_pdu p;
		size_t n = encode_sample(KINDS[i], buf, sizeof(buf));

		sample(&p, KINDS[i]);
		for (size_t cap = 0; cap < n; cap++)
			assert_int_equal(smsr__smpp_encode(&p, out, cap), -ENOSPC);
		assert_int_equal(smsr__smpp_encode(&p, out, n), (int)n);
	}
}

static void test_smpp_pdus_come_out_of_a_stream_in_order(void **state)
{
	uint8_t stream[8192];
	size_t total = 0, off = 0, i = 0;
	int rc;

	for (size_t k = 0; k < NKINDS; k++)
		total += encode_sample(KINDS[k], stream + total, sizeof(stream) - total);
	for (;;) {
		struct smsr__smpp_pdu p;

		rc = smsr__smpp_decode(stream + off, total - off, &p);
		if (rc < 0)
			break;
		assert_int_equal(p.command_id, KINDS[i]);
		off += (size_t)rc;
		i++;
	}
	assert_int_equal(rc, -EAGAIN);
	assert_int_equal(i, NKINDS);
	assert_int_equal(off, total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_smpp_every_kind_round_trips),
	    cmocka_unit_test(test_smpp_submit_sm_matches_the_spec_layout),
	    cmocka_unit_test(test_smpp_every_prefix_needs_more_and_changes_nothing),
	    cmocka_unit_test(test_smpp_guard_page_every_prefix_and_whole_pdu),
	    cmocka_unit_test(test_smpp_command_length_out_of_range_is_malformed),
	    cmocka_unit_test(test_smpp_c_octet_strings_need_their_nul_within_max),
	    cmocka_unit_test(test_smpp_submit_sm_fields_are_checked),
	    cmocka_unit_test(test_smpp_tlv_lengths_are_checked),
	    cmocka_unit_test(test_smpp_receipted_message_id_without_nul_is_taken),
	    cmocka_unit_test(test_smpp_unknown_tlvs_are_kept_then_counted),
	    cmocka_unit_test(test_smpp_unknown_command_decodes_its_header),
	    cmocka_unit_test(test_smpp_header_only_response_has_no_body),
	    cmocka_unit_test(test_smpp_encoder_refuses_fields_over_their_max),
	    cmocka_unit_test(test_smpp_encoder_short_buffer_is_enospc),
	    cmocka_unit_test(test_smpp_pdus_come_out_of_a_stream_in_order),
	};

	return cmocka_run_group_tests_name("smpp_pdu", tests, NULL, NULL);
}
