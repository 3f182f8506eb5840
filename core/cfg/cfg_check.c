/* SPDX-License-Identifier: MIT */
/*
 * Typed, validated reads of libconfig settings; see cfg_check.h.
 *
 * The rule that matters: a reader either stores a value it has fully
 * checked or reports exactly one error naming the line and the setting's
 * path. Nothing here allocates, so a failed read leaves nothing to undo.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "smsr/errors.h"
#include "smsr/msg.h"
#include "cfg_check.h"

/* Append to @buf (size @len) at offset @n, never past the end; returns the new offset. */
static size_t append(char *buf, size_t len, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t len, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (n >= len)
		return n;
	va_start(ap, fmt);
	w = vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	if (w < 0)
		return n;
	return (size_t)w >= len - n ? len - 1 : n + (size_t)w;
}

/* Write the path of @s ("channels[2].reserve") to @buf; the root is "". */
static size_t path_of(const config_setting_t *s, char *buf, size_t len, size_t n)
{
	const config_setting_t *parent = config_setting_parent(s);

	if (!parent)
		return n;
	n = path_of(parent, buf, len, n);
	if (config_setting_name(s) && config_setting_is_group(parent))
		return append(buf, len, n, "%s%s", n ? "." : "", config_setting_name(s));
	return append(buf, len, n, "[%d]", config_setting_index(s));
}

int smsr__cfg_fail(struct smsr__cfg_ctx *c, const config_setting_t *s, const char *key,
		   const char *fmt, ...)
{
	char path[160] = "";
	size_t n = path_of(s, path, sizeof(path), 0);
	size_t off = 0;
	va_list ap;

	if (key)
		append(path, sizeof(path), n, "%s%s", n ? "." : "", key);
	if (!c->err || c->errlen == 0)
		return -SMSR_ECONFIG;
	if (config_setting_source_file(s)) /* from an @include */
		off = append(c->err, c->errlen, 0, "%s: ", config_setting_source_file(s));
	if (config_setting_source_line(s))
		off = append(c->err, c->errlen, off, "line %u: ", config_setting_source_line(s));
	if (path[0])
		off = append(c->err, c->errlen, off, "%s: ", path);
	va_start(ap, fmt);
	if (off < c->errlen)
		vsnprintf(c->err + off, c->errlen - off, fmt, ap);
	va_end(ap);
	return -SMSR_ECONFIG;
}

int smsr__cfg_check_keys(struct smsr__cfg_ctx *c, const config_setting_t *s,
			 const char *const *allowed)
{
	int n = config_setting_length(s);

	if (!config_setting_is_group(s))
		return smsr__cfg_fail(c, s, NULL, "must be a group { ... }");
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		const char *const *a = allowed;

		while (*a && strcmp(*a, config_setting_name(m)) != 0)
			a++;
		if (!*a)
			return smsr__cfg_fail(c, m, NULL, "unknown setting");
	}
	return 0;
}

int smsr__cfg_get_u32(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
		      uint32_t lo, uint32_t hi, uint32_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	long long v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return smsr__cfg_fail(c, s, NULL, "must be an integer %u..%u", lo, hi);
	v = config_setting_get_int64(s);
	if (v < (long long)lo || v > (long long)hi)
		return smsr__cfg_fail(c, s, NULL, "must be %u..%u", lo, hi);
	*out = (uint32_t)v;
	return 1;
}

int smsr__cfg_get_double(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			 double lo, double hi, double *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	double v;

	if (!s)
		return 0;
	if (!config_setting_is_number(s))
		return smsr__cfg_fail(c, s, NULL, "must be a number %g..%g", lo, hi);
	v = config_setting_type(s) == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
							: (double)config_setting_get_int64(s);
	if (!isfinite(v) || v < lo || v > hi)
		return smsr__cfg_fail(c, s, NULL, "must be %g..%g", lo, hi);
	*out = v;
	return 1;
}

struct unit {
	const char *name;
	uint64_t mult;
};

/* Digits then one of @units' names ("250ms", "64MB"): *@out = number x mult. */
static int parse_with_unit(const char *s, const struct unit *units, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	for (; isdigit((unsigned char)*p); p++) {
		if (p - s >= 12)
			return -SMSR_EINVAL; /* far beyond any range we accept */
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -SMSR_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(p, units[i].name) == 0) {
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -SMSR_EINVAL;
}

int smsr__cfg_parse_duration(const char *s, uint64_t *ms)
{
	static const struct unit units[] = {
	    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};

	return parse_with_unit(s, units, sizeof(units) / sizeof(units[0]), ms);
}

/* Format @ms as the largest whole unit ("7d", "30s", "250ms") into @buf. */
static const char *fmt_duration(uint32_t ms, char *buf, size_t len)
{
	if (ms && ms % 86400000u == 0)
		snprintf(buf, len, "%ud", ms / 86400000u);
	else if (ms && ms % 3600000u == 0)
		snprintf(buf, len, "%uh", ms / 3600000u);
	else if (ms && ms % 60000u == 0)
		snprintf(buf, len, "%um", ms / 60000u);
	else if (ms && ms % 1000u == 0)
		snprintf(buf, len, "%us", ms / 1000u);
	else
		snprintf(buf, len, "%ums", ms);
	return buf;
}

int smsr__cfg_get_duration(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			   uint32_t lo_ms, uint32_t hi_ms, uint32_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	char lo[16], hi[16];
	uint64_t v;

	if (!s)
		return 0;
	fmt_duration(lo_ms, lo, sizeof(lo));
	fmt_duration(hi_ms, hi, sizeof(hi));
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (smsr__cfg_parse_duration(config_setting_get_string(s), &v) < 0)
			return smsr__cfg_fail(c, s, NULL,
					      "\"%s\" is not a duration (e.g. \"250ms\", \"30s\", "
					      "\"5m\", \"24h\", \"3d\")",
					      config_setting_get_string(s));
	} else if (config_setting_type(s) == CONFIG_TYPE_INT ||
		   config_setting_type(s) == CONFIG_TYPE_INT64) {
		long long i = config_setting_get_int64(s);

		v = i < 0 ? UINT64_MAX : (uint64_t)i;
	} else {
		return smsr__cfg_fail(c, s, NULL, "must be a duration string or milliseconds");
	}
	if (v < lo_ms || v > hi_ms)
		return smsr__cfg_fail(c, s, NULL, "must be %s..%s", lo, hi);
	*out = (uint32_t)v;
	return 1;
}

int smsr__cfg_parse_bytes(const char *s, uint64_t *bytes)
{
	static const struct unit units[] = {
	    {"KB", 1ull << 10}, {"MB", 1ull << 20}, {"GB", 1ull << 30}};

	return parse_with_unit(s, units, sizeof(units) / sizeof(units[0]), bytes);
}

int smsr__cfg_get_bytes(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			uint64_t lo, uint64_t hi, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	uint64_t v;

	if (!s)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (smsr__cfg_parse_bytes(config_setting_get_string(s), &v) < 0)
			return smsr__cfg_fail(c, s, NULL,
					      "\"%s\" is not a size (e.g. \"512KB\", \"256MB\", "
					      "\"2GB\", or bytes)",
					      config_setting_get_string(s));
	} else if (config_setting_type(s) == CONFIG_TYPE_INT ||
		   config_setting_type(s) == CONFIG_TYPE_INT64) {
		long long i = config_setting_get_int64(s);

		v = i < 0 ? UINT64_MAX : (uint64_t)i;
	} else {
		return smsr__cfg_fail(c, s, NULL, "must be a size string or bytes");
	}
	if (v < lo || v > hi)
		return smsr__cfg_fail(c, s, NULL, "must be %lluMB..%lluGB",
				      (unsigned long long)(lo >> 20),
				      (unsigned long long)(hi >> 30));
	*out = v;
	return 1;
}

int smsr__cfg_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > SMSR__NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return 0;
	return 1;
}

/* Member @key of @group as a string setting; 0 absent, 1 found, < 0 wrong type. */
static int get_string(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
		      const config_setting_t **s, const char **v)
{
	*s = config_setting_get_member(group, key);
	if (!*s)
		return 0;
	if (config_setting_type(*s) != CONFIG_TYPE_STRING)
		return smsr__cfg_fail(c, *s, NULL, "must be a string");
	*v = config_setting_get_string(*s);
	return 1;
}

int smsr__cfg_get_name(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
		       char out[SMSR__NAME_MAX + 1])
{
	const config_setting_t *s;
	const char *v = "";
	int rc = get_string(c, group, key, &s, &v);

	if (rc <= 0)
		return rc;
	if (!smsr__cfg_name_ok(v, strlen(v)))
		return smsr__cfg_fail(c, s, NULL,
				      "\"%s\" must be 1..%d characters of A-Z a-z 0-9 _ . -", v,
				      SMSR__NAME_MAX);
	memcpy(out, v, strlen(v) + 1);
	return 1;
}

int smsr__cfg_get_e164(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
		       int allow_empty, char out[SMSR_E164_MAX + 1])
{
	const config_setting_t *s;
	const char *v = "";
	int rc = get_string(c, group, key, &s, &v);
	size_t len;

	if (rc <= 0)
		return rc;
	len = strlen(v);
	if (!(allow_empty && len == 0)) {
		int ok = len >= 2 && len <= SMSR_E164_MAX && v[0] == '+';

		for (size_t i = 1; ok && i < len; i++)
			ok = isdigit((unsigned char)v[i]);
		if (!ok)
			return smsr__cfg_fail(
			    c, s, NULL, "\"%s\" is not an E.164 prefix (\"+\" and 1..15 digits)",
			    v);
	}
	memcpy(out, v, len + 1);
	return 1;
}

/* Carrier by name, "unknown" included when @allow_unknown; < 0 if none. */
static int carrier_parse(const char *name, int allow_unknown)
{
	if (allow_unknown && strcmp(name, "unknown") == 0)
		return SMSR_CARRIER_UNKNOWN;
	return smsr__carrier_parse(name);
}

int smsr__cfg_get_carrier(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			  uint8_t *out)
{
	const config_setting_t *s;
	const char *v = "";
	int rc = get_string(c, group, key, &s, &v);
	int k;

	if (rc <= 0)
		return rc;
	k = carrier_parse(v, 0);
	if (k < 0)
		return smsr__cfg_fail(c, s, NULL,
				      "unknown carrier \"%s\" (cmcc, cucc, ctcc, cbn, intl)", v);
	*out = (uint8_t)k;
	return 1;
}

/* Array @key of names into a bit mask; @classes picks the name space. */
static int get_mask(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
		    int classes, uint32_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	uint32_t mask = 0;
	int n;

	if (!s)
		return 0;
	n = config_setting_length(s);
	if (!config_setting_is_array(s) || n == 0 ||
	    config_setting_type(config_setting_get_elem(s, 0)) != CONFIG_TYPE_STRING)
		return smsr__cfg_fail(c, s, NULL, "must be a non-empty array of %s names [\"...\"]",
				      classes ? "class" : "carrier");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		int k = classes ? smsr_class_parse(v) : carrier_parse(v, 1);
		uint32_t bit;

		if (classes && k <= 0)
			return smsr__cfg_fail(
			    c, e, NULL, "unknown class \"%s\" (verification, notice, marketing)",
			    v);
		if (!classes && k < 0)
			return smsr__cfg_fail(
			    c, e, NULL,
			    "unknown carrier \"%s\" (cmcc, cucc, ctcc, cbn, intl, unknown)", v);
		bit = classes ? SMSR__CLASS_BIT(k) : SMSR__CARRIER_BIT(k);
		if (mask & bit)
			return smsr__cfg_fail(c, e, NULL, "\"%s\" is listed twice", v);
		mask |= bit;
	}
	*out = mask;
	return 1;
}

int smsr__cfg_get_classes(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			  uint32_t *out)
{
	return get_mask(c, group, key, 1, out);
}

int smsr__cfg_get_carriers(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
			   uint32_t *out)
{
	return get_mask(c, group, key, 0, out);
}

int smsr__cfg_get_list(struct smsr__cfg_ctx *c, const config_setting_t *group, const char *key,
		       config_setting_t **out)
{
	config_setting_t *s = config_setting_get_member(group, key);

	*out = NULL;
	if (!s)
		return 0;
	if (!config_setting_is_list(s))
		return smsr__cfg_fail(c, s, NULL, "must be a list ( ... )");
	*out = s;
	return 1;
}
