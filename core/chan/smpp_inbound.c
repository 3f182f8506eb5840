/* SPDX-License-Identifier: MIT */
/*
 * What an SMSC sends a bind: answers to our submits, binds and
 * keep-alives; receipts and MO messages (deliver_sm, data_sm); its own
 * enquire_link and unbind.
 *
 * Answers become the router's submit answers (one per message, once every
 * part is answered); receipts go to the router by carrier id
 * (smsr_chan_receipt), which matches them whichever bind they came on; MO
 * messages are reassembled when long and handed to the router
 * (smsr_chan_mo). Every deliver_sm is acknowledged ESME_ROK — a receipt
 * that matches nothing too, since refusing it would only make the SMSC
 * send it again.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan/smpp_int.h"

#define ID_CAP	    (SMSR_CARRIER_ID_MAX + 1)
#define ESM_TYPE    0x3C /* esm_class: message type bits */
#define ESM_RECEIPT 0x04
#define ESM_UDHI    0x40

void smsr__smpp_publish(struct smsr__smpp *d)
{
	bool up = false, bind_failed = false;
	int reason;

	for (unsigned i = 0; i < d->nbinds; i++) {
		up |= i < d->ntx && d->binds[i].state == SMSR__SMPP_BOUND;
		bind_failed |= d->binds[i].bind_failures > 0;
	}
	reason = up ? 0 : bind_failed ? -SMSR_EBINDFAILED : -SMSR_ELINKDOWN;
	if (up == d->up && reason == d->reason)
		return;
	d->up = up;
	d->reason = reason;
	smsr_chan_set_up(d->chan, up, reason);
}

static void msg_done(struct smsr__smpp *d, struct smsr__smpp_msg *m)
{
	const char *ids[SMSR__SMPP_MAX_PARTS];

	if (m->status < 0) {
		smsr_chan_submit_done(d->chan, m->token, m->status, m->op_code, NULL);
	} else {
		for (unsigned i = 0; i < m->nparts; i++)
			ids[i] = m->ids + (size_t)i * ID_CAP;
		smsr_chan_submit_parts(d->chan, m->token, 0, 0, ids, m->nparts);
	}
	free(m);
}

void smsr__smpp_part_done(struct smsr__smpp *d, const struct smsr__smpp_pending *p, int outcome,
			  int op_code, const char *id, size_t idlen)
{
	char key[ID_CAP];
	struct smsr__smpp_msg *m = p->msg;

	if (outcome == 0 && smsr__smpp_id_norm(d->conf.id_format, SMSR__SMPP_ID_RESP, id, idlen,
					       key, sizeof(key)) < 0) {
		outcome = -SMSR_ECHANERR; /* accepted, but no id to follow it by */
		op_code = 0;
	}
	if (!m) {
		smsr_chan_submit_done(d->chan, p->token, outcome, op_code,
				      outcome == 0 ? key : NULL);
		return;
	}
	if (outcome == 0)
		memcpy(m->ids + (size_t)p->part * ID_CAP, key, strlen(key) + 1);
	else if (m->status == 0)
		m->status = outcome, m->op_code = op_code;
	if (++m->answered == m->nparts)
		msg_done(d, m);
}

static void on_submit_resp(struct smsr__smpp_bind_s *b, const struct smsr__smpp_pdu *pdu)
{
	struct smsr__smpp_pending p;
	int outcome;

	if (!smsr__smpp_win_take(b, pdu->sequence_number, &p))
		return; /* timed out already, or not ours */
	b->d->stats.submit_resp++;
	outcome = smsr__smpp_status_outcome(&b->d->conf, pdu->command_status);
	smsr__smpp_part_done(b->d, &p, outcome, (int)pdu->command_status, pdu->resp.id,
			     strlen(pdu->resp.id));
}

static void on_nack(struct smsr__smpp_bind_s *b, const struct smsr__smpp_pdu *pdu)
{
	struct smsr__smpp_pending p;

	b->d->stats.generic_nacks++;
	if (smsr__smpp_win_take(b, pdu->sequence_number, &p))
		smsr__smpp_part_done(b->d, &p, -SMSR_ECHANERR, (int)pdu->command_status, NULL, 0);
	else if (b->state == SMSR__SMPP_BINDING && pdu->sequence_number == b->bind_seq)
		smsr__smpp_bind_bound(b, false, -SMSR_EBINDFAILED);
}

/* --- receipts -------------------------------------------------------------- */

/* The text receipt's err field alone ("err:0B" hex, "err:034" decimal, as
 * smsr__smpp_receipt_parse() reads it), for receipts whose TLVs say the rest. */
static int text_err(const uint8_t *t, size_t len)
{
	const uint8_t *p = memmem(t, len, "err:", 4);
	const uint8_t *end = t + len;
	char digits[12];
	size_t n = 0;
	bool hex = false;

	if (!p)
		p = memmem(t, len, "ERR:", 4);
	if (!p)
		return 0;
	for (p += 4; p < end && *p == ' '; p++)
		;
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2, hex = true;
	for (; p < end && n < sizeof(digits) - 1 && isxdigit(*p); p++) {
		hex |= !isdigit(*p);
		digits[n++] = (char)*p;
	}
	digits[n] = '\0';
	return n ? (int)strtol(digits, NULL, hex ? 16 : 10) : 0;
}

static void on_receipt(struct smsr__smpp *d, const struct smsr__smpp_pdu *pdu, const uint8_t *text,
		       size_t len)
{
	const struct smsr__smpp_tlvs *t = &pdu->tlv;
	const uint32_t tlvs = SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID | SMSR__SMPP_HAS_MESSAGE_STATE;
	struct smsr__smpp_receipt r = {0};
	const char *id = NULL;
	size_t idlen = 0;
	char key[ID_CAP];
	uint8_t stat;
	int outcome, err = 0;

	/* The TLVs name the id and the state: the text is read for err only. */
	if ((t->present & tlvs) == tlvs)
		err = t->present & SMSR__SMPP_HAS_NETWORK_ERROR_CODE ? 0 : text_err(text, len);
	else if (smsr__smpp_receipt_parse((const char *)text, len, &r) == 0)
		id = r.id, idlen = r.id_len, err = r.has_err ? r.err : 0;
	if (t->present & SMSR__SMPP_HAS_RECEIPTED_MESSAGE_ID)
		id = t->receipted_message_id, idlen = t->receipted_message_id_len;
	stat = t->present & SMSR__SMPP_HAS_MESSAGE_STATE
		   ? smsr__smpp_stat_from_state(t->message_state)
		   : r.stat;
	if (t->present & SMSR__SMPP_HAS_NETWORK_ERROR_CODE) {
		int code = smsr__smpp_net_error(t->network_error_code, 3, NULL);

		if (code >= 0)
			err = code;
	}
	d->stats.receipts++;
	outcome = smsr__smpp_stat_outcome(stat, d->conf.dlr_flags);
	if (outcome == SMSR__SMPP_NOT_FINAL)
		return;
	if (!id ||
	    smsr__smpp_id_norm(d->conf.id_format, SMSR__SMPP_ID_RECEIPT, id, idlen, key,
			       sizeof(key)) < 0 ||
	    smsr_chan_receipt(d->chan, key, outcome, err) < 0)
		d->stats.stale_receipts++;
}

/* --- MO -------------------------------------------------------------------- */

static void mo_deliver(struct smsr__smpp *d, const struct smsr__smpp_sm *sm, const char *text,
		       size_t len)
{
	char from[32];

	/* An international number comes without its '+'. */
	snprintf(from, sizeof(from), "%s%s",
		 sm->source_addr_ton == 1 && sm->source_addr[0] != '+' ? "+" : "", sm->source_addr);
	d->stats.mo++;
	smsr_chan_mo(d->chan, from, sm->destination_addr, text, len);
}

static void on_mo(struct smsr__smpp *d, const struct smsr__smpp_pdu *pdu, const uint8_t *data,
		  size_t len)
{
	const struct smsr__smpp_tlvs *t = &pdu->tlv;
	struct smsr__smpp_concat_info ci = {0};
	char part[SMSR__SMPP_DEC_BOUND(255) + 1];
	size_t whole_len = 0;
	int n, skip = 0;

	if ((pdu->sm.esm_class & ESM_UDHI) && (skip = smsr__smpp_udh_concat(data, len, &ci)) < 0)
		return;
	if (!ci.total && (t->present & SMSR__SMPP_HAS_SAR_TOTAL_SEGMENTS) &&
	    (t->present & SMSR__SMPP_HAS_SAR_SEGMENT_SEQNUM)) {
		ci.total = t->sar_total_segments;
		ci.seq = t->sar_segment_seqnum;
		ci.ref = t->sar_msg_ref_num;
	}
	if (len - (size_t)skip > 255 * 3)
		return;
	n = smsr__smpp_text_decode(pdu->sm.data_coding, data + skip, len - (size_t)skip, part,
				   sizeof(part));
	if (n < 0)
		return;
	if (ci.total <= 1) {
		mo_deliver(d, &pdu->sm, part, (size_t)n);
		return;
	}
	if (smsr__smpp_mo_asm_add(&d->mo, pdu->sm.source_addr, ci.ref, ci.total, ci.seq, part,
				  (size_t)n, d->now, d->mo_text, sizeof(d->mo_text),
				  &whole_len) == 1)
		mo_deliver(d, &pdu->sm, d->mo_text, whole_len);
}

static void on_deliver(struct smsr__smpp_bind_s *b, const struct smsr__smpp_pdu *pdu)
{
	struct smsr__smpp *d = b->d;
	const uint8_t *data = pdu->sm.short_message;
	size_t len = pdu->sm.sm_length;
	struct smsr__smpp_pdu resp = {.command_id = pdu->command_id | SMSR__SMPP_RESP,
				      .sequence_number = pdu->sequence_number};

	d->stats.deliver_sm++;
	if ((pdu->command_id == SMSR__SMPP_DATA_SM || len == 0) &&
	    (pdu->tlv.present & SMSR__SMPP_HAS_MESSAGE_PAYLOAD))
		data = pdu->tlv.message_payload, len = pdu->tlv.message_payload_len;
	if ((pdu->sm.esm_class & ESM_TYPE) == ESM_RECEIPT)
		on_receipt(d, pdu, data, len);
	else if ((pdu->sm.esm_class & ESM_TYPE) == 0)
		on_mo(d, pdu, data, len);
	resp.resp.id = "";
	if (smsr__smpp_send(b, &resp) < 0)
		smsr__smpp_send_header(b, resp.command_id, 0, resp.sequence_number);
}

void smsr__smpp_on_pdu(struct smsr__smpp_bind_s *b, const struct smsr__smpp_pdu *pdu)
{
	switch (pdu->command_id) {
	case SMSR__SMPP_SUBMIT_SM_RESP:
	case SMSR__SMPP_DATA_SM_RESP:
		on_submit_resp(b, pdu);
		break;
	case SMSR__SMPP_DELIVER_SM:
	case SMSR__SMPP_DATA_SM:
		on_deliver(b, pdu);
		break;
	case SMSR__SMPP_ENQUIRE_LINK:
		smsr__smpp_send_header(b, SMSR__SMPP_ENQUIRE_LINK_RESP, 0, pdu->sequence_number);
		break;
	case SMSR__SMPP_ENQUIRE_LINK_RESP:
		b->enquire_at = 0;
		break;
	case SMSR__SMPP_BIND_TRANSCEIVER_RESP:
	case SMSR__SMPP_BIND_TRANSMITTER_RESP:
	case SMSR__SMPP_BIND_RECEIVER_RESP:
		if (b->state == SMSR__SMPP_BINDING && pdu->sequence_number == b->bind_seq)
			smsr__smpp_bind_bound(b, pdu->command_status == 0, -SMSR_EBINDFAILED);
		break;
	case SMSR__SMPP_GENERIC_NACK:
		on_nack(b, pdu);
		break;
	case SMSR__SMPP_UNBIND:
		smsr__smpp_send_header(b, SMSR__SMPP_UNBIND_RESP, 0, pdu->sequence_number);
		smsr__smpp_bind_lost(b, -SMSR_ELINKDOWN);
		break;
	case SMSR__SMPP_UNBIND_RESP:
		smsr__smpp_bind_lost(b, -SMSR_ELINKDOWN);
		break;
	default: /* alert_notification, outbind, a request an ESME does not serve */
		if (!(pdu->command_id & SMSR__SMPP_RESP) &&
		    pdu->command_id != SMSR__SMPP_ALERT_NOTIFICATION)
			smsr__smpp_send_header(b, SMSR__SMPP_GENERIC_NACK,
					       SMSR__SMPP_ESME_RINVCMDID, pdu->sequence_number);
		break;
	}
}
