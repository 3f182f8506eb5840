/* SPDX-License-Identifier: MIT */
/*
 * Typed, validated reads of libconfig settings for cfg_parse.c.
 *
 * Every reader checks one setting's type and range and, on failure, writes
 * the one-line message "line N: path.to.setting: what is wrong" to the
 * context and returns -SMSR_ECONFIG. The path is rebuilt from the setting's
 * position in the document ("channels[2].reserve.window"), so callers never
 * track it. Readers return 1 when the setting was present and stored, 0 when
 * it was absent (the output is left as it was, holding the default), or a
 * negative code.
 */
#ifndef SMSR_CFG_CHECK_H
#define SMSR_CFG_CHECK_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

/* Carrier mask meaning "all carriers", unknown (+86 unassigned ranges) included. */
#define SMSR__ALL_CARRIERS ((1u << SMSR_NCARRIER) - 1)

struct smsr__cfg_ctx {
	char *err; /* caller's buffer; may be NULL */
	size_t errlen;
};

/*
 * Write "line N: <path of @s>[.@key]: <message>" to @c and return
 * -SMSR_ECONFIG. @key names a member of @s that is missing (may be NULL).
 * The line is omitted when libconfig knows none (the root).
 */
int smsr__cfg_fail(struct smsr__cfg_ctx *c, const config_setting_t *s, const char *key,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Require @s to be a group whose members are all in @allowed (NULL-ended). */
int smsr__cfg_check_keys(struct smsr__cfg_ctx *c, const config_setting_t *s,
			 const char *const *allowed);

/* Integer member @key of @group, in @lo..@hi. */
int smsr__cfg_get_u32(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
		      uint32_t lo, uint32_t hi, uint32_t *out);

/* Number (integer or float) member @key, finite, in @lo..@hi. */
int smsr__cfg_get_double(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			 double lo, double hi, double *out);

/* Duration member @key ("250ms", "30s", "5m", "24h", "3d" or integer ms), in ms. */
int smsr__cfg_get_duration(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			   uint32_t lo_ms, uint32_t hi_ms, uint32_t *out);

/* Parse a duration string @s into *@ms. 0 or -SMSR_EINVAL (bad form, overflow). */
int smsr__cfg_parse_duration(const char *s, uint64_t *ms);

/*
 * Size member @key ("512KB", "256MB", "2GB": binary units, 1 MB = 2^20 bytes;
 * or an integer number of bytes), in @lo..@hi bytes (@lo, @hi whole MB, GB).
 */
int smsr__cfg_get_bytes(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			uint64_t lo, uint64_t hi, uint64_t *out);

/* Parse a size string @s into *@bytes. 0 or -SMSR_EINVAL (bad form). */
int smsr__cfg_parse_bytes(const char *s, uint64_t *bytes);

/* Name member @key: 1..31 characters of [A-Za-z0-9_.-], into @out. */
int smsr__cfg_get_name(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
		       char out[SMSR__NAME_MAX + 1]);

/* True if @s is 1..31 characters of [A-Za-z0-9_.-]. */
int smsr__cfg_name_ok(const char *s, size_t len);

/*
 * E.164 prefix member @key: "+" and 1..15 digits (or "" when @allow_empty),
 * into @out.
 */
int smsr__cfg_get_e164(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
		       int allow_empty, char out[SMSR_E164_MAX + 1]);

/* Carrier name member @key of @group ("cmcc", ... no "unknown"). Stores the carrier. */
int smsr__cfg_get_carrier(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			  uint8_t *out);

/* Non-empty array of class names, as a SMSR__CLASS_BIT mask. */
int smsr__cfg_get_classes(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			  uint32_t *out);

/* Non-empty array of carrier names ("unknown" allowed), as a SMSR__CARRIER_BIT mask. */
int smsr__cfg_get_carriers(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			   uint32_t *out);

/* Member @key of @group that must be a list (or absent: returns NULL, no error). */
int smsr__cfg_get_list(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
		       config_setting_t **out);

/* Router-level health and retry settings (cfg_health.c). */
void smsr__cfg_health_defaults(struct smsr_config *cfg);
int smsr__cfg_parse_health(struct smsr__cfg_ctx *c, const config_setting_t *router,
			   struct smsr_config *cfg);

#endif
