/* SPDX-License-Identifier: MIT */
/*
 * router.health and router.retry: the circuit breaker's limits and the
 * retry policy, for every channel. See docs/config.md for each setting.
 */
#include <libconfig.h>

#include "smsr/errors.h"
#include "cfg.h"
#include "cfg_check.h"

static const char *const health_keys[] = {"answer_timeout", "report_silence", "open_after",
					  "error_rate",	    "degraded_rate",  "min_samples",
					  "cool_down",	    "probes",	      NULL};
static const char *const retry_keys[] = {"max_attempts", "backoff", "resend_unanswered", NULL};

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

int smsr__cfg_parse_health(struct smsr__cfg_ctx *c, const config_setting_t *router,
			   struct smsr_config *cfg)
{
	const config_setting_t *h = config_setting_get_member(router, "health");
	const config_setting_t *r = config_setting_get_member(router, "retry");
	const config_setting_t *list;
	int rc;

	if (h && (rc = parse_breaker(c, h, &cfg->health)) < 0)
		return rc;
	if (!r)
		return 0;
	if ((rc = smsr__cfg_check_keys(c, r, retry_keys)) < 0 ||
	    (rc = smsr__cfg_get_u32(c, r, "max_attempts", 1, 10, &cfg->max_attempts)) < 0 ||
	    (rc = smsr__cfg_get_duration(c, r, "backoff", 1, 600000, &cfg->retry_backoff_ms)) < 0)
		return rc;
	list = config_setting_get_member(r, "resend_unanswered");
	if (list && config_setting_is_array(list) && config_setting_length(list) == 0) {
		cfg->resend_classes = 0; /* [] : never resend */
		return 0;
	}
	rc = smsr__cfg_get_classes(c, r, "resend_unanswered", &cfg->resend_classes);
	return rc < 0 ? rc : 0;
}
