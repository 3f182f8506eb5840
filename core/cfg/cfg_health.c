/* SPDX-License-Identifier: MIT */
/*
 * router.health, router.retry and router.scoring: the circuit breaker's
 * limits, the retry policy and how channels are scored, for every channel.
 * See docs/config.md for each setting.
 */
#include <libconfig.h>

#include "smsr/errors.h"
#include "cfg.h"
#include "cfg_check.h"

static const char *const health_keys[] = {"answer_timeout", "report_silence", "open_after",
					  "error_rate",	    "degraded_rate",  "min_samples",
					  "cool_down",	    "probes",	      NULL};
static const char *const retry_keys[] = {"max_attempts", "backoff", "resend_unanswered",
					 "resend_undelivered", NULL};
static const char *const scoring_keys[] = {"enabled", "time_value", "miss_cost", NULL};
static const char *const class_keys[] = {"verification", "notice", "marketing", NULL};

void smsr__cfg_health_defaults(struct smsr_config *cfg)
{
	cfg->health = (struct smsr__health_cfg){
	    .answer_timeout_ms = 1000,
	    .report_silence_ms = 1500,
	    .open_after = 5,
	    .error_pct = 50,
	    .degrade_pct = 20,
	    .min_samples = 20,
	    .cool_down_ms = 1000,
	    .probes = 3,
	};
	cfg->max_attempts = 3;
	cfg->retry_backoff_ms = 200;
	cfg->resend_classes = SMSR__CLASS_BIT(SMSR_CLASS_VERIFICATION);
	cfg->resend_undelivered = SMSR__CLASS_BIT(SMSR_CLASS_VERIFICATION);
	/* A code a second late costs about a code's price; a missed one,
	 * twenty. A promotion ten minutes late, a fifth of its price. */
	cfg->scoring = (struct smsr__score_cfg){
	    .enabled = true,
	    .time_value = {0.05, 0.001, 0.00002},
	    .miss_cost = {1.0, 0.05, 0},
	};
}

/* A group of per-class numbers, each 0..@hi. */
static int class_numbers(struct smsr__cfg_ctx *c, const config_setting_t *g, const char *key,
			 double hi, double out[SMSR_NCLASS])
{
	const config_setting_t *s = config_setting_get_member(g, key);
	int rc;

	if (!s)
		return 0;
	rc = smsr__cfg_check_keys(c, s, class_keys);
	for (int k = 0; rc >= 0 && k < SMSR_NCLASS; k++)
		rc = smsr__cfg_get_double(c, s, class_keys[k], 0, hi, &out[k]);
	return rc < 0 ? rc : 0;
}

static int parse_scoring(struct smsr__cfg_ctx *c, const config_setting_t *router,
			 struct smsr__score_cfg *sc)
{
	const config_setting_t *s = config_setting_get_member(router, "scoring");
	const config_setting_t *e;
	int rc;

	if (!s)
		return 0;
	if ((rc = smsr__cfg_check_keys(c, s, scoring_keys)) < 0)
		return rc;
	e = config_setting_get_member(s, "enabled");
	if (e && config_setting_type(e) != CONFIG_TYPE_BOOL)
		return smsr__cfg_fail(c, e, NULL, "must be true or false");
	if (e)
		sc->enabled = config_setting_get_bool(e);
	if ((rc = class_numbers(c, s, "time_value", 1000, sc->time_value)) < 0)
		return rc;
	return class_numbers(c, s, "miss_cost", 1000, sc->miss_cost);
}

static int parse_breaker(struct smsr__cfg_ctx *c, const config_setting_t *h,
			 struct smsr__health_cfg *hc)
{
	int rc;

	if ((rc = smsr__cfg_check_keys(c, h, health_keys)) < 0 ||
	    (rc = smsr__cfg_get_duration(c, h, "answer_timeout", 100, 600000,
					 &hc->answer_timeout_ms)) < 0 ||
	    (rc = smsr__cfg_get_duration(c, h, "report_silence", 100, 3600000,
					 &hc->report_silence_ms)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, h, "open_after", 1, 100000, &hc->open_after)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, h, "error_rate", 1, 100, &hc->error_pct)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, h, "degraded_rate", 0, 100, &hc->degrade_pct)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, h, "min_samples", 1, 1000000, &hc->min_samples)) < 0 ||
	    (rc = smsr__cfg_get_duration(c, h, "cool_down", 10, 600000, &hc->cool_down_ms)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, h, "probes", 1, 1000, &hc->probes)) < 0)
		return rc;
	if (hc->degrade_pct >= hc->error_pct)
		return smsr__cfg_fail(c, h, "degraded_rate", "must be below error_rate (%u)",
				      hc->error_pct);
	return 0;
}

/* A list of classes at @key of @g into *@mask: [] is none. */
static int class_list(struct smsr__cfg_ctx *c, const config_setting_t *g, const char *key,
		      uint32_t *mask)
{
	const config_setting_t *list = config_setting_get_member(g, key);
	int rc;

	if (list && config_setting_is_array(list) && config_setting_length(list) == 0) {
		*mask = 0;
		return 0;
	}
	rc = smsr__cfg_get_classes(c, g, key, mask);
	return rc < 0 ? rc : 0;
}

int smsr__cfg_parse_health(struct smsr__cfg_ctx *c, const config_setting_t *router,
			   struct smsr_config *cfg)
{
	const config_setting_t *h = config_setting_get_member(router, "health");
	const config_setting_t *r = config_setting_get_member(router, "retry");
	int rc;

	if (h && (rc = parse_breaker(c, h, &cfg->health)) < 0)
		return rc;
	if ((rc = parse_scoring(c, router, &cfg->scoring)) < 0)
		return rc;
	if (!r)
		return 0;
	if ((rc = smsr__cfg_check_keys(c, r, retry_keys)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, r, "max_attempts", 1, 10, &cfg->max_attempts)) < 0 ||
	    (rc = smsr__cfg_get_duration(c, r, "backoff", 1, 600000, &cfg->retry_backoff_ms)) < 0)
		return rc;
	if ((rc = class_list(c, r, "resend_unanswered", &cfg->resend_classes)) < 0)
		return rc;
	return class_list(c, r, "resend_undelivered", &cfg->resend_undelivered);
}
