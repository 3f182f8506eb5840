/* SPDX-License-Identifier: MIT */
/*
 * The opt-out list on disk: an append-only log of changes, one line each,
 * "out +8613812345678" or "in +8613812345678", replayed into the router
 * when smsrd starts. A change is written and fdatasync'ed before the inject
 * call that made it is answered, so an acknowledged opt-out survives a
 * crash. Lines that do not read are reported with their number and
 * skipped; the file is never rewritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "smsrd.h"

int optout_log_open(struct srv *s)
{
	char line[64];
	unsigned n = 0, applied = 0, bad = 0;
	FILE *f;

	s->optout_fd = -1;
	if (!s->o.optout_file[0])
		return 0;
	f = fopen(s->o.optout_file, "re");
	if (!f && errno != ENOENT) {
		fprintf(stderr, "smsrd: %s: %s\n", s->o.optout_file, strerror(errno));
		return -1;
	}
	while (f && fgets(line, sizeof(line), f)) {
		char word[8], num[32];
		int out;

		n++;
		if (sscanf(line, "%7s %31s", word, num) != 2 ||
		    ((out = !strcmp(word, "out")) == 0 && strcmp(word, "in")) ||
		    smsr_router_optout(s->r, num, out) < 0) {
			fprintf(stderr, "smsrd: %s: line %u does not read; skipped\n",
				s->o.optout_file, n);
			bad++;
			continue;
		}
		applied++;
	}
	if (f)
		fclose(f);
	s->optout_fd = open(s->o.optout_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (s->optout_fd < 0) {
		fprintf(stderr, "smsrd: %s: %s\n", s->o.optout_file, strerror(errno));
		return -1;
	}
	if (!s->o.quiet)
		fprintf(stderr, "smsrd: opt-out list %s: %u changes replayed%s\n", s->o.optout_file,
			applied, bad ? " (some lines skipped)" : "");
	return 0;
}

int optout_log_append(struct srv *s, int action, const char *number)
{
	char e164[SMSR_E164_MAX + 1], line[64];
	int n;

	if (s->optout_fd < 0)
		return 0;
	if (smsr_e164_normalize(number, e164) < 0)
		return -SMSR_EBADNUMBER;
	n = snprintf(line, sizeof(line), "%s %s\n", action == SMSR_MO_OPT_OUT ? "out" : "in", e164);
	if (write(s->optout_fd, line, (size_t)n) != n || fdatasync(s->optout_fd) < 0) {
		fprintf(stderr, "smsrd: %s: %s: the change holds until a restart only\n",
			s->o.optout_file, strerror(errno));
		return -SMSR_EINTERNAL;
	}
	return 0;
}

void optout_log_close(struct srv *s)
{
	if (s->optout_fd >= 0)
		close(s->optout_fd);
	s->optout_fd = -1;
}
