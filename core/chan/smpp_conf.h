/* SPDX-License-Identifier: MIT */
/*
 * The SMPP driver's settings: a channel's "params" (strings, docs/config.md
 * "SMPP channels") read into one struct, checked whole at open so that a
 * bad setting refuses the channel (and a reload) with its reason rather
 * than failing later on the worker.
 */
#ifndef SMSR_CHAN_SMPP_CONF_H
#define SMSR_CHAN_SMPP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smsr/channel.h"
#include "chan/smpp_dlr.h"
#include "chan/smpp_text.h"

#define SMSR__SMPP_BINDS_MAX   16
#define SMSR__SMPP_SENDERS_MAX 32
#define SMSR__SMPP_STATUS_MAX  32

enum smsr__smpp_bind_mode {
	SMSR__SMPP_TRX = 0, /* transceivers: submits and receipts on each */
	SMSR__SMPP_TX_RX,   /* transmitters for submits, receivers for receipts and MO */
};

struct smsr__smpp_sender {
	char signature[64]; /* the text between 【 and 】, UTF-8 */
	char addr[21];
};

struct smsr__smpp_conf {
	char host[256];
	char port[8];
	char system_id[16];
	char password[9];
	char system_type[13];
	char address_range[41];
	char service_type[6];
	char source_addr[21]; /* sender when no signature matches */
	uint8_t mode;	      /* enum smsr__smpp_bind_mode */
	uint8_t binds;	      /* transceivers, or transmitters */
	uint8_t rx_binds;     /* receivers (tx_rx) */
	uint32_t window;      /* submits awaiting an answer, per bind */
	uint8_t src_ton, src_npi, dst_ton, dst_npi;
	bool src_ton_set;		/* else chosen by the address: alphanumeric 5/0 */
	uint8_t registered_delivery[4]; /* by class (index enum smsr_class) */
	struct smsr__smpp_enc_opts enc; /* coding, concatenation */
	uint8_t id_format;		/* enum smsr__smpp_id_format */
	uint8_t dlr_flags;		/* SMSR__SMPP_ACCEPTED_DELIVERED */
	uint32_t enquire_link_ms;	/* idle time before an enquire_link */
	uint32_t response_timeout_ms;	/* bind, enquire_link, unbind answers */
	uint32_t submit_timeout_ms;	/* a submit_sm unanswered this long: unknown */
	uint32_t reconnect_min_ms, reconnect_max_ms;
	uint32_t permanent[SMSR__SMPP_STATUS_MAX]; /* command_status that fail at once */
	uint32_t temporary[SMSR__SMPP_STATUS_MAX]; /* ... that are retried */
	uint8_t npermanent, ntemporary;
	struct smsr__smpp_sender senders[SMSR__SMPP_SENDERS_MAX];
	uint8_t nsenders;
};

/*
 * Read @params (@n of them, borrowed) into @c, defaults for what is
 * absent. Returns 0, or -SMSR_ECONFIG with a one-line reason in @err
 * (@errlen bytes). Pure; any thread.
 */
int smsr__smpp_conf_parse(const struct smsr_param *params, size_t n, struct smsr__smpp_conf *c,
			  char *err, size_t errlen);

/*
 * What a submit_sm_resp's @status means: 0 accepted; -SMSR_ETHROTTLED
 * (0x58, 0x14); -SMSR_EREJECTED for permanent codes; -SMSR_ECHANERR for
 * temporary ones. The channel's lists first, then the defaults.
 */
int smsr__smpp_status_outcome(const struct smsr__smpp_conf *c, uint32_t status);

/* The source address for a message signed @sender ("【A】" or ""). */
const char *smsr__smpp_sender_addr(const struct smsr__smpp_conf *c, const char *sender);

#endif
