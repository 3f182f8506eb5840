/* SPDX-License-Identifier: MIT */
/*
 * The parsed configuration (struct smsr_config), as the router reads it.
 *
 * cfg_parse.c turns libconfig text into this; router.c builds channels,
 * lanes, the carrier table and the route table from it. Everything in it is
 * validated: names are unique, every route's channels exist, numbers are in
 * range. The struct owns all its memory; cfg_free() releases it.
 */
#ifndef SMSR_CFG_H
#define SMSR_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smsr/channel.h"
#include "smsr/config.h"
#include "smsr/msg.h"
#include "msg/carrier.h"

#define SMSR__NAME_MAX	      31
#define SMSR__GROUPS_MAX      4
#define SMSR__GROUP_CHANS_MAX 8
#define SMSR__CHANS_MAX	      1024 /* channels in a config, and ever added to a router */

/* router.memory_budget: default and range, in bytes. */
#define SMSR__BUDGET_DEFAULT (256ull << 20)
#define SMSR__BUDGET_MIN     (1ull << 20)
#define SMSR__BUDGET_MAX     (1ull << 40)

/* Bit masks: classes use bit (class - 1), carriers bit (carrier). */
#define SMSR__CLASS_BIT(c)   (1u << ((c)-1))
#define SMSR__ALL_CLASSES    0x7u
#define SMSR__CARRIER_BIT(c) (1u << (c))

/* A channel's circuit breaker (chan_health.h), the same for every channel. */
struct smsr__health_cfg {
	uint32_t answer_timeout_ms;
	uint32_t report_silence_ms;
	uint32_t open_after;  /* consecutive failures */
	uint32_t error_pct;   /* error rate that opens */
	uint32_t degrade_pct; /* error rate that marks degraded */
	uint32_t min_samples; /* answers in the window before a rate counts */
	uint32_t cool_down_ms;
	uint32_t probes;
};

struct smsr__chan_cfg {
	char name[SMSR__NAME_MAX + 1];
	char driver[SMSR__NAME_MAX + 1];
	uint32_t carriers;		/* SMSR__CARRIER_BIT mask this channel serves */
	uint32_t classes;		/* SMSR__CLASS_BIT mask */
	uint32_t tps;			/* granted segments per second; 0 = unlimited */
	uint32_t burst;			/* token bucket depth in segments; 0 = tps / 10, min 1 */
	uint32_t window;		/* max submits awaiting an answer; 0 = unlimited */
	uint32_t v_window;		/* window slots only verification may use */
	uint32_t v_tokens;		/* bucket level only verification may dip below */
	uint32_t weight[SMSR_NCLASS];	/* notice vs marketing share; [0] unused */
	uint32_t lane_cap[SMSR_NCLASS]; /* max queued per lane */
	uint32_t dlr_timeout_ms;	/* give up waiting for a report */
	uint32_t submit_timeout_ms;	/* give up waiting for submit answer */
	double price;			/* per segment */
	struct smsr_param *params;	/* owned strings */
	size_t nparams;
};

struct smsr__group_cfg {
	uint32_t n;
	uint32_t chan[SMSR__GROUP_CHANS_MAX];	/* index into smsr_config.chans */
	uint32_t weight[SMSR__GROUP_CHANS_MAX]; /* >= 1 */
};

struct smsr__route_cfg {
	uint32_t classes;		/* SMSR__CLASS_BIT mask; all if unset */
	uint32_t carriers;		/* SMSR__CARRIER_BIT mask; all if unset */
	char prefix[SMSR_E164_MAX + 1]; /* E.164 prefix, "" = any */
	uint32_t ngroups;
	struct smsr__group_cfg groups[SMSR__GROUPS_MAX];
};

struct smsr_config {
	uint32_t node_id;		   /* 0..511, part of every message id */
	uint32_t workers;		   /* 1..64 */
	uint32_t validity_ms[SMSR_NCLASS]; /* per-class defaults */
	struct smsr__health_cfg health;	   /* every channel's breaker */
	uint32_t max_attempts;		   /* sends per message, first included */
	uint32_t retry_backoff_ms;	   /* before the 2nd attempt; doubles after */
	uint32_t resend_classes;	   /* SMSR__CLASS_BIT: resent when the outcome is unknown */
	uint32_t resend_undelivered;	   /* SMSR__CLASS_BIT: resent once after a failed receipt */
	/* Bytes of message records held, accept to final (router.memory_budget). */
	uint64_t memory_budget;
	struct smsr__score_cfg {
		bool enabled;
		double time_value[SMSR_NCLASS]; /* price units per second of waiting */
		double miss_cost[SMSR_NCLASS];	/* price units per undelivered message */
	} scoring;
	struct smsr__chan_cfg *chans;
	size_t nchans;
	struct smsr__route_cfg *routes;
	size_t nroutes;
	struct smsr__carrier_entry *prefixes; /* carrier prefix overrides */
	size_t nprefixes;
	struct smsr__carrier_entry *ported; /* ported numbers */
	size_t nported;
};

/* Release what @cfg owns (not @cfg itself) and zero it. */
void smsr__cfg_free(struct smsr_config *cfg);

/*
 * One channel, as a libconfig group in @text ("{ name = ...; driver = ...; }",
 * the syntax of a channels[] entry), into @out (owned params). 0, or
 * -SMSR_ECONFIG with a one-line reason in @err.
 */
int smsr__cfg_parse_channel(const char *text, struct smsr__chan_cfg *out, char *err, size_t errlen);
/* Deep copy of one channel's settings; release with smsr__cfg_chan_free(). */
int smsr__cfg_chan_copy(struct smsr__chan_cfg *dst, const struct smsr__chan_cfg *src);
void smsr__cfg_chan_free(struct smsr__chan_cfg *ch);

/* Deep copy @src into @dst (zeroed storage). 0 or -SMSR_ENOMEM. */
int smsr__cfg_copy(struct smsr_config *dst, const struct smsr_config *src);

#endif
