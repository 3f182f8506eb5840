/* SPDX-License-Identifier: MIT */
/*
 * Router configuration.
 *
 * A configuration is text in libconfig syntax (see README "Configuration"
 * and smsr_config_default_text() for a complete, commented example): router
 * settings, carrier prefix overrides and ported numbers, channels and route
 * rules. Parsing validates the whole document: a bad configuration is
 * rejected whole with a message naming the line and the setting, and the
 * struct passed in is left as it was.
 */
#ifndef SMSR_CONFIG_H
#define SMSR_CONFIG_H

#include <stddef.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

struct smsr_config;

/* Allocate an empty configuration. Returns 0 or -SMSR_ENOMEM. */
SMSR_API int smsr_config_create(struct smsr_config **out);

/*
 * Replace @cfg's content by the document @text (NUL-terminated, borrowed).
 * On error returns -SMSR_ECONFIG (or -SMSR_ENOMEM), writes a one-line
 * explanation to @err (may be NULL) and leaves @cfg unchanged.
 */
SMSR_API int smsr_config_parse(struct smsr_config *cfg, const char *text, char *err, size_t errlen);

/* As smsr_config_parse(), reading the file at @path. */
SMSR_API int smsr_config_load_file(struct smsr_config *cfg, const char *path, char *err,
				   size_t errlen);

/*
 * The embedded default configuration: simulated channels for China Mobile,
 * Unicom, Telecom and international (a primary and a backup each), plus a
 * dedicated verification channel. Static text; never NULL.
 */
SMSR_API const char *smsr_config_default_text(void);

/* Number of channels and route rules in @cfg. */
SMSR_API int smsr_config_channel_count(const struct smsr_config *cfg);
SMSR_API int smsr_config_route_count(const struct smsr_config *cfg);

SMSR_API void smsr_config_destroy(struct smsr_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
