/* SPDX-License-Identifier: MIT */
/*
 * Driver parameter helpers: channels' "params" settings reach drivers as
 * key/value strings; these read them.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "smsr/channel.h"

const char *smsr_param_str(const struct smsr_param *params, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (params[i].key && strcmp(params[i].key, key) == 0)
			return params[i].value;
	return NULL;
}

int smsr_param_double(const struct smsr_param *params, size_t n, const char *key, double *out)
{
	const char *v = smsr_param_str(params, n, key);
	char *end;
	double d;

	if (!v)
		return 0;
	errno = 0;
	d = strtod(v, &end);
	if (end == v || *end != '\0' || errno != 0 || !isfinite(d))
		return -SMSR_ECONFIG;
	*out = d;
	return 1;
}
