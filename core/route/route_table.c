/* SPDX-License-Identifier: MIT */
/*
 * Route table construction and lookup. See route_table.h.
 */
#include <stdlib.h>
#include <string.h>

#include "smsr/errors.h"
#include "route_table.h"

static int rule_matches_pair(const struct smsr__route_cfg *rule, int cls, int carrier)
{
	return (rule->classes & SMSR__CLASS_BIT(cls)) &&
	       (rule->carriers & SMSR__CARRIER_BIT(carrier));
}

int smsr__route_table_build(struct smsr__route_table **out, const struct smsr_config *cfg)
{
	struct smsr__route_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -SMSR_ENOMEM;
	t->rules = calloc(cfg->nroutes ? cfg->nroutes : 1, sizeof(*t->rules));
	if (!t->rules)
		goto err_nomem;
	memcpy(t->rules, cfg->routes, cfg->nroutes * sizeof(*t->rules));
	t->nrules = cfg->nroutes;
	for (int c = 1; c <= SMSR_NCLASS; c++) {
		for (int k = 0; k < SMSR_NCARRIER; k++) {
			uint16_t *m = calloc(t->nrules ? t->nrules : 1, sizeof(*m));
			uint16_t n = 0;

			if (!m)
				goto err_nomem;
			for (size_t i = 0; i < t->nrules; i++)
				if (rule_matches_pair(&t->rules[i], c, k))
					m[n++] = (uint16_t)i;
			t->match[c - 1][k] = m;
			t->nmatch[c - 1][k] = n;
		}
	}
	*out = t;
	return 0;
err_nomem:
	smsr__route_table_destroy(t);
	return -SMSR_ENOMEM;
}

const struct smsr__route_cfg *smsr__route_find(const struct smsr__route_table *t, int cls,
					       int carrier, const char *e164)
{
	const uint16_t *m = t->match[cls - 1][carrier];

	for (uint16_t i = 0; i < t->nmatch[cls - 1][carrier]; i++) {
		const struct smsr__route_cfg *rule = &t->rules[m[i]];

		if (rule->prefix[0] == '\0' ||
		    strncmp(e164, rule->prefix, strlen(rule->prefix)) == 0)
			return rule;
	}
	return NULL;
}

void smsr__route_table_destroy(struct smsr__route_table *t)
{
	if (!t)
		return;
	for (int c = 0; c < SMSR_NCLASS; c++)
		for (int k = 0; k < SMSR_NCARRIER; k++)
			free(t->match[c][k]);
	free(t->rules);
	free(t);
}
