/* SPDX-License-Identifier: MIT */
/*
 * The SMPP driver's settings from a channel's params. Every key is listed
 * in docs/config.md ("SMPP channels"); an unknown key is refused, so that a
 * misspelt setting never silently keeps its default.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan/smpp_conf.h"
#include "chan/smpp_pdu.h"
#include "smsr/msg.h"

static const char *const keys[] = {
    "host",
    "port",
    "system_id",
    "password",
    "system_type",
    "address_range",
    "service_type",
    "source_addr",
    "bind_mode",
    "binds",
    "rx_binds",
    "window",
    "source_ton",
    "source_npi",
    "dest_ton",
    "dest_npi",
    "senders",
    "coding",
    "gsm_dcs",
    "concat",
    "udh_ref16",
    "max_parts",
    "dlr_id_format",
    "enquire_link",
    "response_timeout",
    "submit_timeout",
    "reconnect_min",
    "reconnect_max",
    "permanent_status",
    "temporary_status",
    "registered_delivery_verification",
    "registered_delivery_notice",
    "registered_delivery_marketing",
    "accepted_is_delivered",
    NULL,
};

/* Permanent unless a channel says otherwise: the message can never pass
 * as it is (bad length, addresses, esm_class, TON/NPI, validity), or the
 * carrier refused it for good. Everything else not throttling is
 * temporary. */
static const uint32_t permanent_default[] = {
    0x01, /* RINVMSGLEN */ 0x0A,   /* RINVSRCADR */
    0x0B, /* RINVDSTADR */ 0x33,   /* RINVNUMDESTS */
    0x43, /* RINVESMCLASS */ 0x48, /* RINVSRCTON */
    0x49, /* RINVSRCNPI */ 0x50,   /* RINVDSTTON */
    0x51, /* RINVDSTNPI */ 0x62,   /* RINVEXPIRY */
    0x65, /* RX_P_APPN */ 0x66,	   /* RX_R_APPN */
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -SMSR_ECONFIG;
}

static int get_str(const struct smsr_param *p, size_t n, const char *key, char *out, size_t cap,
		   char *err, size_t errlen)
{
	const char *v = smsr_param_str(p, n, key);

	if (!v)
		return 0;
	if (strlen(v) >= cap)
		return fail(err, errlen, "smpp: %s is longer than %zu characters", key, cap - 1);
	memcpy(out, v, strlen(v) + 1);
	return 1;
}

static int get_uint(const struct smsr_param *p, size_t n, const char *key, uint32_t lo, uint32_t hi,
		    uint32_t *out, char *err, size_t errlen)
{
	const char *v = smsr_param_str(p, n, key);
	unsigned long long x;
	char *end;

	if (!v)
		return 0;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (end == v || *end || errno || v[0] == '-' || x < lo || x > hi)
		return fail(err, errlen, "smpp: %s must be a whole number in %u..%u, not \"%s\"",
			    key, lo, hi, v);
	*out = (uint32_t)x;
	return 1;
}

/* "0x0B, 0x0A, 69" into @out; returns the count or -SMSR_ECONFIG. */
static int get_codes(const struct smsr_param *p, size_t n, const char *key, uint32_t *out,
		     char *err, size_t errlen)
{
	const char *v = smsr_param_str(p, n, key);
	int count = 0;

	while (v && *v) {
		unsigned long x;
		char *end;

		while (*v == ' ' || *v == ',')
			v++;
		if (!*v)
			break;
		errno = 0;
		x = strtoul(v, &end, 0);
		if (end == v || errno || x > 0xFFFFFFFFul || count == SMSR__SMPP_STATUS_MAX)
			return fail(err, errlen, "smpp: %s: a list of up to %d status codes", key,
				    SMSR__SMPP_STATUS_MAX);
		out[count++] = (uint32_t)x;
		v = end;
	}
	return count;
}

/* "淘宝网=10690001; 京东=1069002" */
static int get_senders(const struct smsr_param *p, size_t n, struct smsr__smpp_conf *c, char *err,
		       size_t errlen)
{
	const char *v = smsr_param_str(p, n, "senders");

	while (v && *v) {
		const char *eq = strchr(v, '='), *end = eq ? strpbrk(eq, ";,") : NULL;
		struct smsr__smpp_sender *s = &c->senders[c->nsenders];
		size_t sl, al;

		while (*v == ' ')
			v++;
		if (!eq)
			return fail(err, errlen, "smpp: senders: \"signature=address; ...\"");
		if (!end)
			end = eq + strlen(eq);
		sl = (size_t)(eq - v);
		al = (size_t)(end - eq - 1);
		while (sl && v[sl - 1] == ' ')
			sl--;
		if (c->nsenders == SMSR__SMPP_SENDERS_MAX || sl == 0 ||
		    sl >= sizeof(s->signature) || al == 0 || al >= sizeof(s->addr))
			return fail(err, errlen,
				    "smpp: senders: up to %d entries, signatures under 64 bytes, "
				    "addresses 1..20 characters",
				    SMSR__SMPP_SENDERS_MAX);
		memcpy(s->signature, v, sl);
		memcpy(s->addr, eq + 1, al);
		c->nsenders++;
		v = *end ? end + 1 : end;
	}
	return 0;
}

static int get_enum(const struct smsr_param *p, size_t n, const char *key, const char *const *names,
		    uint8_t *out, char *err, size_t errlen)
{
	const char *v = smsr_param_str(p, n, key);

	if (!v)
		return 0;
	for (uint8_t i = 0; names[i]; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 1;
		}
	}
	return fail(err, errlen, "smpp: %s: unknown value \"%s\"", key, v);
}

static int get_id_format(const struct smsr_param *p, size_t n, struct smsr__smpp_conf *c, char *err,
			 size_t errlen)
{
	const char *v = smsr_param_str(p, n, "dlr_id_format");
	int f = v ? smsr__smpp_id_format_parse(v) : SMSR__SMPP_ID_AS_IS;

	if (f < 0)
		return fail(err, errlen,
			    "smpp: dlr_id_format: as_is, hex_to_dec, dec_to_hex, "
			    "case_insensitive or strip_zeros, not \"%s\"",
			    v);
	c->id_format = (uint8_t)f;
	return 0;
}

static void defaults(struct smsr__smpp_conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->port, "2775");
	c->binds = 1;
	c->rx_binds = 1;
	c->window = 64;
	c->dst_ton = 1; /* international: E.164 without its '+' */
	c->dst_npi = 1;
	for (int k = 0; k < 4; k++)
		c->registered_delivery[k] = 1;
	c->enquire_link_ms = 30000;
	c->response_timeout_ms = 10000;
	c->submit_timeout_ms = 30000;
	c->reconnect_min_ms = 1000;
	c->reconnect_max_ms = 30000;
}

static int check_keys(const struct smsr_param *p, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		while (keys[k] && strcmp(keys[k], p[i].key) != 0)
			k++;
		if (!keys[k])
			return fail(err, errlen, "smpp: unknown setting \"%s\"", p[i].key);
	}
	return 0;
}

static int parse_strings(const struct smsr_param *p, size_t n, struct smsr__smpp_conf *c, char *err,
			 size_t errlen)
{
	static const struct {
		const char *key;
		size_t off, cap;
	} s[] = {
#define S(k, f) {k, offsetof(struct smsr__smpp_conf, f), sizeof(((struct smsr__smpp_conf *)0)->f)}
	    S("host", host),
	    S("port", port),
	    S("system_id", system_id),
	    S("password", password),
	    S("system_type", system_type),
	    S("address_range", address_range),
	    S("service_type", service_type),
	    S("source_addr", source_addr),
#undef S
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (get_str(p, n, s[i].key, (char *)c + s[i].off, s[i].cap, err, errlen) < 0)
			return -SMSR_ECONFIG;
	if (!c->host[0])
		return fail(err, errlen, "smpp: host is required");
	if (!c->system_id[0])
		return fail(err, errlen, "smpp: system_id is required");
	return 0;
}

static int parse_numbers(const struct smsr_param *p, size_t n, struct smsr__smpp_conf *c, char *err,
			 size_t errlen)
{
	static const char *const rd[] = {"registered_delivery_verification",
					 "registered_delivery_notice",
					 "registered_delivery_marketing"};
	uint32_t v;
	int rc = 0;

#define U(key, lo, hi, dst)                                                  \
	do {                                                                 \
		if ((rc = get_uint(p, n, key, lo, hi, &v, err, errlen)) < 0) \
			return rc;                                           \
		if (rc)                                                      \
			dst = v;                                             \
	} while (0)
	U("binds", 1, SMSR__SMPP_BINDS_MAX / 2, c->binds);
	U("rx_binds", 1, SMSR__SMPP_BINDS_MAX / 2, c->rx_binds);
	U("window", 1, 65536, c->window);
	U("source_npi", 0, 255, c->src_npi);
	U("dest_ton", 0, 255, c->dst_ton);
	U("dest_npi", 0, 255, c->dst_npi);
	U("gsm_dcs", 0, 1, c->enc.dcs_gsm);
	U("max_parts", 1, 255, c->enc.max_parts);
	U("udh_ref16", 0, 1, c->enc.ref16);
	U("enquire_link", 1000, 3600000, c->enquire_link_ms);
	U("response_timeout", 100, 600000, c->response_timeout_ms);
	U("submit_timeout", 100, 600000, c->submit_timeout_ms);
	U("reconnect_min", 10, 3600000, c->reconnect_min_ms);
	U("reconnect_max", 10, 3600000, c->reconnect_max_ms);
	for (int k = 0; k < 3; k++)
		U(rd[k], 0, 255, c->registered_delivery[k + 1]);
	U("accepted_is_delivered", 0, 1, c->dlr_flags);
#undef U
	if ((rc = get_uint(p, n, "source_ton", 0, 255, &v, err, errlen)) < 0)
		return rc;
	c->src_ton = (uint8_t)v;
	c->src_ton_set = rc > 0;
	if (c->reconnect_max_ms < c->reconnect_min_ms)
		return fail(err, errlen, "smpp: reconnect_max is below reconnect_min");
	return 0;
}

int smsr__smpp_conf_parse(const struct smsr_param *p, size_t n, struct smsr__smpp_conf *c,
			  char *err, size_t errlen)
{
	static const char *const modes[] = {"transceiver", "tx_rx", NULL};
	static const char *const concat[] = {"udh", "sar", "payload", NULL};
	static const char *const coding[] = {"auto", "latin1", "ucs2", NULL};
	int rc;

	defaults(c);
	if (check_keys(p, n, err, errlen) < 0 || parse_strings(p, n, c, err, errlen) < 0 ||
	    parse_numbers(p, n, c, err, errlen) < 0 ||
	    get_enum(p, n, "bind_mode", modes, &c->mode, err, errlen) < 0 ||
	    get_enum(p, n, "concat", concat, &c->enc.concat, err, errlen) < 0 ||
	    get_enum(p, n, "coding", coding, &c->enc.pref, err, errlen) < 0 ||
	    get_senders(p, n, c, err, errlen) < 0)
		return -SMSR_ECONFIG;
	if ((rc = get_id_format(p, n, c, err, errlen)) < 0)
		return rc;
	if ((rc = get_codes(p, n, "permanent_status", c->permanent, err, errlen)) < 0)
		return rc;
	c->npermanent = (uint8_t)rc;
	if ((rc = get_codes(p, n, "temporary_status", c->temporary, err, errlen)) < 0)
		return rc;
	c->ntemporary = (uint8_t)rc;
	return 0;
}

static bool listed(const uint32_t *v, size_t n, uint32_t status)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == status)
			return true;
	return false;
}

int smsr__smpp_status_outcome(const struct smsr__smpp_conf *c, uint32_t status)
{
	if (status == SMSR__SMPP_ESME_ROK)
		return 0;
	if (listed(c->permanent, c->npermanent, status))
		return -SMSR_EREJECTED;
	if (listed(c->temporary, c->ntemporary, status))
		return -SMSR_ECHANERR;
	if (status == SMSR__SMPP_ESME_RTHROTTLED || status == SMSR__SMPP_ESME_RMSGQFUL)
		return -SMSR_ETHROTTLED;
	if (listed(permanent_default, sizeof(permanent_default) / sizeof(permanent_default[0]),
		   status))
		return -SMSR_EREJECTED;
	return -SMSR_ECHANERR;
}

const char *smsr__smpp_sender_addr(const struct smsr__smpp_conf *c, const char *sender)
{
	for (size_t i = 0; sender && *sender && i < c->nsenders; i++)
		if (strcmp(c->senders[i].signature, sender) == 0)
			return c->senders[i].addr;
	return c->source_addr;
}
