/* SPDX-License-Identifier: MIT */
/*
 * SMPP 3.4 PDU codec: the PDUs an ESME sends and receives, as structs and
 * as bytes. Pure: no I/O, no allocation, no state; safe from any thread on
 * distinct arguments.
 *
 * The invariant that matters: the decoder never reads a byte past @len and
 * never accepts a PDU it could not re-encode. Every length (command_length,
 * sm_length, each TLV's length) is checked against the bytes there are, and
 * every C-octet string must hold its NUL within the spec's maximum (which
 * counts the NUL) and within the PDU. A decoded PDU is zero-copy: its
 * strings and octet fields point into the caller's buffer, which must stay
 * unchanged while the struct is used. C-octet strings are NUL-terminated in
 * that buffer, so they are plain `const char *`; an absent body gives "".
 *
 * Decoding follows the house decoder contract: bytes consumed (the PDU's
 * command_length), -EAGAIN while the buffer holds less than a whole PDU
 * (fewer than 16 header bytes, or fewer than command_length), or
 * -SMSR_EBADPDU when the bytes cannot be a PDU. A session answers
 * -SMSR_EBADPDU with generic_nack (ESME_RINVCMDLEN when command_length
 * itself is out of range, which makes the stream unframeable, so it then
 * closes the link; else ESME_RINVMSGLEN or ESME_RSYSERR) and carries on
 * with the next PDU: command_length is still good for skipping when the
 * header parsed, see smsr__smpp_peek().
 *
 * Command ids this codec does not model (query_sm, cancel_sm, replace_sm,
 * submit_multi, reserved or vendor ids) decode to their header only: the
 * call returns command_length, sets @unknown_cmd and leaves the body
 * unread, so the session can answer generic_nack with ESME_RINVCMDID and
 * keep the link.
 *
 * Optional parameters (TLVs): the ones SMSCs use are typed fields, each
 * with a bit in @tlv.present. Any other TLV is kept as {tag, len, value}
 * in @tlv.unknown (up to SMSR__SMPP_MAX_UNKNOWN_TLV, in wire order; more
 * are skipped and counted in @tlv.n_skipped) and re-emitted by the
 * encoder. A typed TLV of the wrong length is malformed; a typed TLV that
 * appears twice keeps its last value. TLVs are accepted after the
 * mandatory body of every PDU, not only those that list them in 3.4, so an
 * SMSC that adds some to submit_sm_resp (as 5.0 allows) still parses.
 */
#ifndef SMSR_CHAN_SMPP_PDU_H
#define SMSR_CHAN_SMPP_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMSR__SMPP_HDR_LEN 16u
/* The largest command_length accepted; the spec sets none. */
#define SMSR__SMPP_MAX_PDU	   65536u
#define SMSR__SMPP_MAX_UNKNOWN_TLV 8
/* The interface_version a bind of this codec announces. */
#define SMSR__SMPP_VERSION 0x34

/* Command ids (SMPP 3.4 §5.1.2.1). A response is its request | RESP. */
#define SMSR__SMPP_RESP			 0x80000000u
#define SMSR__SMPP_GENERIC_NACK		 0x80000000u
#define SMSR__SMPP_BIND_RECEIVER	 0x00000001u
#define SMSR__SMPP_BIND_RECEIVER_RESP	 0x80000001u
#define SMSR__SMPP_BIND_TRANSMITTER	 0x00000002u
#define SMSR__SMPP_BIND_TRANSMITTER_RESP 0x80000002u
#define SMSR__SMPP_SUBMIT_SM		 0x00000004u
#define SMSR__SMPP_SUBMIT_SM_RESP	 0x80000004u
#define SMSR__SMPP_DELIVER_SM		 0x00000005u
#define SMSR__SMPP_DELIVER_SM_RESP	 0x80000005u
#define SMSR__SMPP_UNBIND		 0x00000006u
#define SMSR__SMPP_UNBIND_RESP		 0x80000006u
#define SMSR__SMPP_BIND_TRANSCEIVER	 0x00000009u
#define SMSR__SMPP_BIND_TRANSCEIVER_RESP 0x80000009u
#define SMSR__SMPP_OUTBIND		 0x0000000Bu
#define SMSR__SMPP_ENQUIRE_LINK		 0x00000015u
#define SMSR__SMPP_ENQUIRE_LINK_RESP	 0x80000015u
#define SMSR__SMPP_ALERT_NOTIFICATION	 0x00000102u
#define SMSR__SMPP_DATA_SM		 0x00000103u
#define SMSR__SMPP_DATA_SM_RESP		 0x80000103u

/* command_status values (SMPP 3.4 §5.1.3), the ones a session uses. */
#define SMSR__SMPP_ESME_ROK		 0x00u
#define SMSR__SMPP_ESME_RINVMSGLEN	 0x01u
#define SMSR__SMPP_ESME_RINVCMDLEN	 0x02u
#define SMSR__SMPP_ESME_RINVCMDID	 0x03u
#define SMSR__SMPP_ESME_RINVBNDSTS	 0x04u
#define SMSR__SMPP_ESME_RALYBND		 0x05u
#define SMSR__SMPP_ESME_RSYSERR		 0x08u
#define SMSR__SMPP_ESME_RINVSRCADR	 0x0Au
#define SMSR__SMPP_ESME_RINVDSTADR	 0x0Bu
#define SMSR__SMPP_ESME_RINVMSGID	 0x0Cu
#define SMSR__SMPP_ESME_RBINDFAIL	 0x0Du
#define SMSR__SMPP_ESME_RINVPASWD	 0x0Eu
#define SMSR__SMPP_ESME_RINVSYSID	 0x0Fu
#define SMSR__SMPP_ESME_RMSGQFUL	 0x14u
#define SMSR__SMPP_ESME_RINVESMCLASS	 0x43u
#define SMSR__SMPP_ESME_RSUBMITFAIL	 0x45u
#define SMSR__SMPP_ESME_RTHROTTLED	 0x58u
#define SMSR__SMPP_ESME_RX_T_APPN	 0x64u
#define SMSR__SMPP_ESME_RX_P_APPN	 0x65u
#define SMSR__SMPP_ESME_RX_R_APPN	 0x66u
#define SMSR__SMPP_ESME_RINVOPTPARSTREAM 0xC0u
#define SMSR__SMPP_ESME_RDELIVERYFAILURE 0xFEu
#define SMSR__SMPP_ESME_RUNKNOWNERR	 0xFFu

/* TLV tags (SMPP 3.4 §5.3.2) of the typed optional parameters. */
#define SMSR__SMPP_TLV_PAYLOAD_TYPE	      0x0019u
#define SMSR__SMPP_TLV_RECEIPTED_MESSAGE_ID   0x001Eu
#define SMSR__SMPP_TLV_USER_MESSAGE_REFERENCE 0x0204u
#define SMSR__SMPP_TLV_SOURCE_PORT	      0x020Au
#define SMSR__SMPP_TLV_DESTINATION_PORT	      0x020Bu
#define SMSR__SMPP_TLV_SAR_MSG_REF_NUM	      0x020Cu
#define SMSR__SMPP_TLV_LANGUAGE_INDICATOR     0x020Du
#define SMSR__SMPP_TLV_SAR_TOTAL_SEGMENTS     0x020Eu
#define SMSR__SMPP_TLV_SAR_SEGMENT_SEQNUM     0x020Fu
#define SMSR__SMPP_TLV_SC_INTERFACE_VERSION   0x0210u
#define SMSR__SMPP_TLV_CALLBACK_NUM	      0x0381u
#define SMSR__SMPP_TLV_MS_AVAILABILITY_STATUS 0x0422u
#define SMSR__SMPP_TLV_NETWORK_ERROR_CODE     0x0423u
#define SMSR__SMPP_TLV_MESSAGE_PAYLOAD	      0x0424u
#define SMSR__SMPP_TLV_MORE_MESSAGES_TO_SEND  0x0426u
#define SMSR__SMPP_TLV_MESSAGE_STATE	      0x0427u

/* Bits of smsr__smpp_tlvs.present: which typed TLVs the PDU carries. */
enum smsr__smpp_tlv_bit {
	SMSR__SMPP_HAS_PAYLOAD_TYPE = 1u << 0,
	SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID = 1u << 1,
	SMSR__SMPP_HAS_USER_MESSAGE_REFERENCE = 1u << 2,
	SMSR__SMPP_HAS_SOURCE_PORT = 1u << 3,
	SMSR__SMPP_HAS_DESTINATION_PORT = 1u << 4,
	SMSR__SMPP_HAS_SAR_MSG_REF_NUM = 1u << 5,
	SMSR__SMPP_HAS_LANGUAGE_INDICATOR = 1u << 6,
	SMSR__SMPP_HAS_SAR_TOTAL_SEGMENTS = 1u << 7,
	SMSR__SMPP_HAS_SAR_SEGMENT_SEQNUM = 1u << 8,
	SMSR__SMPP_HAS_SC_INTERFACE_VERSION = 1u << 9,
	SMSR__SMPP_HAS_CALLBACK_NUM = 1u << 10,
	SMSR__SMPP_HAS_MS_AVAILABILITY_STATUS = 1u << 11,
	SMSR__SMPP_HAS_NETWORK_ERROR_CODE = 1u << 12,
	SMSR__SMPP_HAS_MESSAGE_PAYLOAD = 1u << 13,
	SMSR__SMPP_HAS_MORE_MESSAGES_TO_SEND = 1u << 14,
	SMSR__SMPP_HAS_MESSAGE_STATE = 1u << 15,
};

/* A TLV the codec has no field for: @val points at @len value bytes. */
struct smsr__smpp_tlv {
	uint16_t tag;
	uint16_t len;
	const uint8_t *val;
};

/*
 * Optional parameters. A field is meaningful only when its bit is set in
 * @present. receipted_message_id is pointer + length (no NUL counted, not
 * necessarily NUL-terminated): some SMSCs send it without its NUL, and the
 * decoder takes both forms; the encoder always writes the NUL.
 */
struct smsr__smpp_tlvs {
	uint32_t present;		  /* enum smsr__smpp_tlv_bit */
	const char *receipted_message_id; /* <= 64 chars, no NUL inside */
	const uint8_t *message_payload;
	const uint8_t *callback_num; /* 4..19 octets */
	uint16_t message_payload_len;
	uint16_t sar_msg_ref_num;
	uint16_t user_message_reference;
	uint16_t source_port;
	uint16_t destination_port;
	uint8_t receipted_message_id_len;
	uint8_t callback_num_len;
	uint8_t network_error_code[3]; /* network type, then error code (big-endian) */
	uint8_t message_state;
	uint8_t sar_total_segments;
	uint8_t sar_segment_seqnum;
	uint8_t sc_interface_version;
	uint8_t more_messages_to_send;
	uint8_t payload_type;
	uint8_t ms_availability_status;
	uint8_t language_indicator;
	uint8_t n_unknown;  /* entries used in @unknown */
	uint16_t n_skipped; /* unknown TLVs beyond @unknown: parsed, dropped */
	struct smsr__smpp_tlv unknown[SMSR__SMPP_MAX_UNKNOWN_TLV];
};

/* bind_transmitter, bind_receiver, bind_transceiver; outbind has the first two. */
struct smsr__smpp_bind {
	const char *system_id;	   /* max 15 chars */
	const char *password;	   /* max 8 */
	const char *system_type;   /* max 12 */
	const char *address_range; /* max 40 */
	uint8_t interface_version;
	uint8_t addr_ton;
	uint8_t addr_npi;
};

/*
 * submit_sm and deliver_sm; data_sm has service_type, the addresses,
 * esm_class, registered_delivery and data_coding (its text travels in the
 * message_payload TLV). Addresses are max 20 chars (64 in data_sm); the two
 * times are "" or exactly 16 chars; service_type max 5.
 */
struct smsr__smpp_sm {
	const char *service_type;
	const char *source_addr;
	const char *destination_addr;
	const char *schedule_delivery_time;
	const char *validity_period;
	const uint8_t *short_message; /* sm_length octets */
	uint8_t source_addr_ton;
	uint8_t source_addr_npi;
	uint8_t dest_addr_ton;
	uint8_t dest_addr_npi;
	uint8_t esm_class;
	uint8_t protocol_id;
	uint8_t priority_flag;
	uint8_t registered_delivery;
	uint8_t replace_if_present_flag;
	uint8_t data_coding;
	uint8_t sm_default_msg_id;
	uint8_t sm_length;
};

/*
 * The one-string bodies: submit_sm_resp, deliver_sm_resp, data_sm_resp
 * (message_id, max 64 chars) and bind_*_resp (system_id, max 15).
 */
struct smsr__smpp_resp {
	const char *id;
};

/* alert_notification: both addresses max 64 chars. */
struct smsr__smpp_alert {
	const char *source_addr;
	const char *esme_addr;
	uint8_t source_addr_ton;
	uint8_t source_addr_npi;
	uint8_t esme_addr_ton;
	uint8_t esme_addr_npi;
};

struct smsr__smpp_pdu {
	uint32_t command_length; /* set by decode; encode computes its own */
	uint32_t command_id;
	uint32_t command_status;
	uint32_t sequence_number;
	/* Decode: a command id this codec does not model; the body was not read. */
	bool unknown_cmd;
	/*
	 * A response sent as a bare header (the spec omits the body of a
	 * failed submit_sm_resp, and some SMSCs do the same for other
	 * responses): its string reads "". Encode honours it for responses.
	 */
	bool no_body;
	union {
		struct smsr__smpp_bind bind;
		struct smsr__smpp_sm sm;
		struct smsr__smpp_resp resp;
		struct smsr__smpp_alert alert;
	};
	struct smsr__smpp_tlvs tlv;
};

/*
 * Decode the PDU at the start of @buf (@len bytes, borrowed) into @pdu.
 * Returns the bytes consumed (command_length) when a whole PDU is there,
 * -EAGAIN when more bytes are needed, -SMSR_EBADPDU when they are not a
 * PDU. On success @pdu's pointers lend into @buf: keep @buf unchanged
 * while @pdu is in use. On any failure @pdu is untouched. Bytes after the
 * PDU are not looked at. Never reads past @buf + @len.
 */
int smsr__smpp_decode(const uint8_t *buf, size_t len, struct smsr__smpp_pdu *pdu);

/*
 * The header of the PDU at @buf, without looking at the body: what a
 * session needs to answer -SMSR_EBADPDU with a generic_nack carrying the
 * peer's sequence number, and to skip the PDU. Stores command_id and
 * sequence_number through @command_id and @sequence_number (either may be
 * NULL). Returns command_length (16..SMSR__SMPP_MAX_PDU), -EAGAIN with
 * fewer than 16 bytes, -SMSR_EBADPDU when command_length is out of range:
 * the stream has lost its framing and the link must close.
 */
int smsr__smpp_peek(const uint8_t *buf, size_t len, uint32_t *command_id,
		    uint32_t *sequence_number);

/*
 * Encode @pdu (borrowed; command_length is ignored and computed) into
 * @out, @cap bytes. Writes the typed TLVs whose bits are set, then the
 * kept unknown ones, after the body. Returns the bytes written; -ENOSPC
 * when @cap is too small; -SMSR_EINVAL for a command id this codec does
 * not model, a string longer than its SMPP maximum, a time that is
 * neither "" nor 16 chars, or a TLV value out of range. NULL strings are
 * "". On failure the contents of @out are unspecified. No allocation.
 */
int smsr__smpp_encode(const struct smsr__smpp_pdu *pdu, uint8_t *out, size_t cap);

/*
 * Encode a header-only PDU (enquire_link(_resp), unbind(_resp),
 * generic_nack, or any response with no body) into @out, which must hold
 * SMSR__SMPP_HDR_LEN bytes. Returns 16. The fast path for a session's
 * keep-alives and nacks.
 */
int smsr__smpp_encode_header(uint32_t command_id, uint32_t command_status, uint32_t sequence_number,
			     uint8_t *out);

/* Name of a command id for logs ("submit_sm", "deliver_sm_resp"); "unknown"
 * for the others. Static, never NULL. */
const char *smsr__smpp_cmd_name(uint32_t command_id);

#endif
