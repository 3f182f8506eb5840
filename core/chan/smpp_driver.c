/* SPDX-License-Identifier: MIT */
/*
 * The built-in SMPP 3.4 driver ("smpp"): a channel is an account on an
 * SMSC, reached through one or more binds (transceivers, or transmitters
 * plus receivers), each a connection on the owning worker's io_uring.
 *
 * The router paces the channel (its tps is shared by all binds) and bounds
 * its window; the driver spreads submits round robin over the binds that
 * are bound and have room, encodes the text (GSM-7, Latin-1 or UCS-2; long
 * texts as parts by UDH, SAR or message_payload) and sends one submit_sm
 * per part. Settings: docs/config.md, "SMPP channels".
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "chan/smpp_int.h"

#define ENC_CAP SMSR__SMPP_ENC_BOUND(4096)

struct smpp_scratch {
	uint8_t buf[ENC_CAP];
	struct smsr__smpp_enc enc;
};

static int resolve(struct smsr__smpp *d)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res;

	/* open() runs on the host's thread (create, add, reload), never on a
	 * worker: the one place a name lookup may block. */
	if (getaddrinfo(d->conf.host, d->conf.port, &hints, &res) != 0)
		return -SMSR_ECONFIG;
	memcpy(&d->addr, res->ai_addr, res->ai_addrlen);
	d->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void binds_init(struct smsr__smpp *d)
{
	uint32_t slots = 4;

	while (slots < 4 * d->conf.window)
		slots *= 2;
	d->ntx = d->conf.binds;
	d->nbinds = d->conf.binds + (d->conf.mode == SMSR__SMPP_TX_RX ? d->conf.rx_binds : 0);
	for (uint8_t i = 0; i < d->nbinds; i++) {
		struct smsr__smpp_bind_s *b = &d->binds[i];

		b->d = d;
		b->index = i;
		b->role = d->conf.mode == SMSR__SMPP_TRX ? SMSR__SMPP_ROLE_TRX
			  : i < d->ntx			 ? SMSR__SMPP_ROLE_TX
							 : SMSR__SMPP_ROLE_RX;
		b->backoff_ms = d->conf.reconnect_min_ms;
		b->win_mask = slots - 1;
	}
}

static void smpp_close(void *state)
{
	struct smsr__smpp *d = state;

	for (uint8_t i = 0; i < d->nbinds; i++) {
		smsr__smpp_bind_close(&d->binds[i]);
		free(d->binds[i].win);
	}
	smsr__smpp_mo_asm_fini(&d->mo);
	free(d->scratch);
	free(d);
}

static int smpp_open(struct smsr_chan *chan, const struct smsr_param *params, size_t n,
		     uint64_t seed, void **state)
{
	struct smsr__smpp *d = calloc(1, sizeof(*d));
	char err[160];

	if (!d)
		return -SMSR_ENOMEM;
	d->chan = chan;
	d->rng = seed | 1;
	d->next_seq = 1;
	d->next_ref = (uint16_t)seed;
	d->reason = -SMSR_ELINKDOWN;
	if (smsr__smpp_conf_parse(params, n, &d->conf, err, sizeof(err)) < 0 || resolve(d) < 0) {
		free(d);
		return -SMSR_ECONFIG;
	}
	binds_init(d);
	d->scratch = malloc(sizeof(struct smpp_scratch));
	if (!d->scratch ||
	    smsr__smpp_mo_asm_init(&d->mo, 64, 256u << 10, 60ull * 1000000000ull) < 0) {
		free(d->scratch);
		free(d);
		return -SMSR_ENOMEM;
	}
	for (uint8_t i = 0; i < d->nbinds; i++) {
		d->binds[i].win = calloc(d->binds[i].win_mask + 1, sizeof(*d->binds[i].win));
		if (!d->binds[i].win) {
			smpp_close(d);
			return -SMSR_ENOMEM;
		}
	}
	smsr_chan_set_up(chan, false, -SMSR_ELINKDOWN);
	*state = d;
	return 0;
}

/* A submitting bind with room for @nparts more parts, or NULL. */
static struct smsr__smpp_bind_s *pick(struct smsr__smpp *d, unsigned nparts, bool *any_bound)
{
	for (unsigned k = 0; k < d->ntx; k++) {
		struct smsr__smpp_bind_s *b = &d->binds[(d->rr + k) % d->ntx];
		bool room = true;

		if (b->state != SMSR__SMPP_BOUND)
			continue;
		*any_bound = true;
		if (b->inflight + nparts > d->conf.window || smsr_conn_queued(b->conn) > (8u << 20))
			continue;
		for (unsigned i = 0; i < nparts && room; i++) {
			uint32_t seq = d->next_seq + i;

			room = smsr__smpp_win_free(b, seq > 0x7FFFFFFFu ? seq - 0x7FFFFFFFu : seq);
		}
		if (!room)
			continue;
		d->rr = (uint8_t)((d->rr + k + 1) % d->ntx);
		return b;
	}
	return NULL;
}

static void fill_addrs(const struct smsr__smpp *d, const struct smsr_submit *sub,
		       struct smsr__smpp_sm *sm)
{
	const struct smsr__smpp_conf *c = &d->conf;
	const char *src = smsr__smpp_sender_addr(c, sub->sender);
	bool digits = src[0] != '\0';

	for (const char *p = src[0] == '+' ? src + 1 : src; *p; p++)
		digits &= *p >= '0' && *p <= '9';
	if (c->src_ton_set) {
		sm->source_addr_ton = c->src_ton;
		sm->source_addr_npi = c->src_npi;
	} else if (!digits) { /* alphanumeric sender */
		sm->source_addr_ton = src[0] ? 5 : 0;
		sm->source_addr_npi = 0;
	} else {
		sm->source_addr_ton = src[0] == '+' ? 1 : 0;
		sm->source_addr_npi = 1;
	}
	sm->source_addr = src[0] == '+' ? src + 1 : src;
	sm->destination_addr = sub->recipient[0] == '+' ? sub->recipient + 1 : sub->recipient;
	sm->dest_addr_ton = c->dst_ton;
	sm->dest_addr_npi = c->dst_npi;
	sm->service_type = c->service_type;
	sm->registered_delivery = c->registered_delivery[sub->cls < 4 ? sub->cls : 0];
}

/* Send @enc's parts of @sub on @b; the parts that could not go are failed. */
static void send_parts(struct smsr__smpp *d, struct smsr__smpp_bind_s *b,
		       const struct smsr_submit *sub, const struct smpp_scratch *s,
		       struct smsr__smpp_msg *m, uint64_t now)
{
	const struct smsr__smpp_enc *enc = &s->enc;
	struct smsr__smpp_pdu pdu = {.command_id = SMSR__SMPP_SUBMIT_SM};
	bool payload = d->conf.enc.concat == SMSR__SMPP_CONCAT_PAYLOAD;

	fill_addrs(d, sub, &pdu.sm);
	pdu.sm.esm_class = enc->udh ? 0x40 : 0;
	pdu.sm.data_coding = enc->dcs;
	for (unsigned i = 0; i < enc->nparts; i++) {
		const uint8_t *bytes = s->buf + enc->part[i].off;
		struct smsr__smpp_pending p = {.part = (uint8_t)i, .token = sub->token, .msg = m};

		pdu.tlv.present = 0;
		if (payload || enc->part[i].len > 255) {
			pdu.tlv.present = SMSR__SMPP_HAS_MESSAGE_PAYLOAD;
			pdu.tlv.message_payload = bytes;
			pdu.tlv.message_payload_len = enc->part[i].len;
			pdu.sm.sm_length = 0;
		} else {
			pdu.sm.short_message = bytes;
			pdu.sm.sm_length = (uint8_t)enc->part[i].len;
			pdu.tlv.message_payload_len = 0;
		}
		if (enc->nparts > 1 && !enc->udh) { /* SAR */
			pdu.tlv.present |= SMSR__SMPP_HAS_SAR_MSG_REF_NUM |
					   SMSR__SMPP_HAS_SAR_TOTAL_SEGMENTS |
					   SMSR__SMPP_HAS_SAR_SEGMENT_SEQNUM;
			pdu.tlv.sar_msg_ref_num = enc->ref;
			pdu.tlv.sar_total_segments = enc->nparts;
			pdu.tlv.sar_segment_seqnum = (uint8_t)(i + 1);
		}
		p.seq = pdu.sequence_number = smsr__smpp_seq(d);
		p.sent_ns = now;
		if (smsr__smpp_send(b, &pdu) < 0) {
			smsr__smpp_part_done(d, &p, -SMSR_ECHANERR, 0, NULL, 0);
			continue;
		}
		d->stats.submit_sm++;
		smsr__smpp_win_put(b, &p);
	}
}

static int smpp_submit(void *state, const struct smsr_submit *sub, uint64_t now)
{
	struct smsr__smpp *d = state;
	struct smpp_scratch *s = d->scratch;
	struct smsr__smpp_bind_s *b;
	struct smsr__smpp_msg *m = NULL;
	bool any_bound = false;
	int n;

	d->now = now;
	n = smsr__smpp_text_encode(&d->conf.enc, sub->text, sub->text_len, d->next_ref, s->buf,
				   sizeof(s->buf), &s->enc);
	if (n < 0) {
		/* It can never go as it is: take it and say why. */
		smsr_chan_submit_done(d->chan, sub->token, n == -ENOSPC ? -SMSR_ETOOLONG : n, 0,
				      NULL);
		return 0;
	}
	b = pick(d, (unsigned)n, &any_bound);
	if (!b)
		return any_bound ? -SMSR_EBUSY : -SMSR_ECHANDOWN;
	d->next_ref++;
	if (n > 1) {
		m = malloc(sizeof(*m) + (size_t)n * (SMSR_CARRIER_ID_MAX + 1));
		if (!m)
			return -SMSR_EBUSY;
		*m = (struct smsr__smpp_msg){.token = sub->token, .nparts = (uint8_t)n};
	}
	send_parts(d, b, sub, s, m, now);
	return 0;
}

static uint64_t smpp_poll(void *state, uint64_t now)
{
	struct smsr__smpp *d = state;
	uint64_t next = UINT64_MAX;

	d->now = now;
	for (uint8_t i = 0; i < d->nbinds; i++) {
		uint64_t t;

		smsr__smpp_bind_tick(&d->binds[i], now);
		t = smsr__smpp_bind_next(&d->binds[i]);
		if (t < next)
			next = t;
	}
	smsr__smpp_mo_asm_expire(&d->mo, now);
	if (smsr__smpp_mo_asm_next_expiry(&d->mo) < next)
		next = smsr__smpp_mo_asm_next_expiry(&d->mo);
	return next;
}

static const struct smsr_driver smpp_driver = {
    .name = "smpp",
    .open = smpp_open,
    .submit = smpp_submit,
    .poll = smpp_poll,
    .close = smpp_close,
};

const struct smsr_driver *smsr_driver_smpp(void)
{
	return &smpp_driver;
}
