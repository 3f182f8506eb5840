/* SPDX-License-Identifier: MIT */
/*
 * smsr_strerror() and smsr_errname(), generated from the SMSR_ERRORS list so
 * that names and descriptions can never drift from the codes.
 */
#include <stdio.h>
#include <string.h>

#include "smsr/errors.h"

struct err_entry {
	int code;
	const char *name;
	const char *desc;
};

static const struct err_entry err_table[] = {
#define ERR_ROW(sym, code, name, desc) {code, name, desc},
    SMSR_ERRORS(ERR_ROW)
#undef ERR_ROW
};

static const struct err_entry *err_find(int err)
{
	int code = -err;

	if (code < SMSR_EINVAL)
		return NULL;
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == code)
			return &err_table[i];
	return NULL;
}

const char *smsr_strerror(int err)
{
	const struct err_entry *e = err_find(err);

	if (err == 0)
		return "success";
	if (e)
		return e->desc;
	if (err < 0 && -err < SMSR_EINVAL)
		return strerror(-err); /* glibc's table is static and thread-safe to read */
	return "unknown error";
}

const char *smsr_errname(int err)
{
	const struct err_entry *e = err_find(err);

	if (err == 0)
		return "ok";
	if (e)
		return e->name;
	switch (-err) {
	case 12: /* ENOMEM */
		return "out_of_memory";
	case 22: /* EINVAL */
		return "invalid_argument";
	case 11: /* EAGAIN */
		return "busy";
	}
	return "unknown";
}
