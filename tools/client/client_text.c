/* SPDX-License-Identifier: MIT */
/*
 * Human-readable text for smsrd's answers: one line per event, a status
 * history, a channel table, the counters. What smsrctl prints; kept in the
 * client library so other tools print the same. Times are UTC with
 * milliseconds, names are the stable ones (classes, carriers, event types,
 * reasons), and an absent string prints as "-" so every line splits on
 * blanks into the same fields.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "smsr/client.h"
#include "smsr/msg.h"

/* "2024-05-01T12:00:00.123Z" for @ns since the epoch. */
static const char *fmt_time(uint64_t ns, char *buf, size_t cap)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03uZ", (unsigned)(ns / 1000000u % 1000u));
	return buf;
}

static const char *event_name(int t)
{
	if (t == SMSR__V1__EVENT_TYPE__EVENT_TYPE_OVERFLOW)
		return "overflow";
	return smsr_event_name((enum smsr_event_type)t);
}

static const char *chan_state(int s)
{
	static const char *const names[] = {"up",	"down",	   "paused",
					    "draining", "removed", "degraded"};

	return s >= 0 && s < 6 ? names[s] : "other";
}

static const char *nz(const char *s)
{
	return s && *s ? s : "-";
}

void smsr_client_print_event(FILE *f, const Smsr__V1__Event *e)
{
	char tbuf[40];

	if (e->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_OVERFLOW) {
		fprintf(f, "%s overflow dropped=%" PRIu64 "\n", fmt_time(e->time_unix_ns, tbuf, 40),
			e->dropped);
		return;
	}
	if (e->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_CHANNEL) {
		fprintf(f, "%s channel %s state=%s", fmt_time(e->time_unix_ns, tbuf, 40),
			nz(e->channel), chan_state(e->channel_state));
		if (e->reason_code)
			fprintf(f, " reason=%s", nz(e->reason));
		fputc('\n', f);
		return;
	}
	fprintf(f, "%s id=%" PRIu64 " %s class=%s carrier=%s channel=%s attempt=%u ref=%s to=%s",
		fmt_time(e->time_unix_ns, tbuf, 40), e->id, event_name(e->type),
		smsr_class_name((enum smsr_class)e->cls),
		smsr_carrier_name((enum smsr_carrier)e->carrier), nz(e->channel), e->attempt,
		nz(e->client_ref), nz(e->recipient));
	if (e->reason_code)
		fprintf(f, " reason=%s", nz(e->reason));
	if (e->op_code)
		fprintf(f, " op=%d", e->op_code);
	if (e->carrier_msgid && *e->carrier_msgid)
		fprintf(f, " cmid=%s", e->carrier_msgid);
	fputc('\n', f);
}

void smsr_client_print_status(FILE *f, const Smsr__V1__MessageStatus *ms)
{
	char tbuf[40];

	fprintf(f,
		"id=%" PRIu64 " state=%s%s to=%s class=%s carrier=%s segments=%u ref=%s tags=%s\n",
		ms->id, event_name(ms->state), ms->final ? " (final)" : "", nz(ms->recipient),
		smsr_class_name((enum smsr_class)ms->cls),
		smsr_carrier_name((enum smsr_carrier)ms->carrier), ms->segments, nz(ms->client_ref),
		nz(ms->tags));
	for (size_t i = 0; i < ms->n_history; i++) {
		const Smsr__V1__Event *e = ms->history[i];

		fprintf(f, "  %s %-9s channel=%s attempt=%u", fmt_time(e->time_unix_ns, tbuf, 40),
			event_name(e->type), nz(e->channel), e->attempt);
		if (e->reason_code)
			fprintf(f, " reason=%s", nz(e->reason));
		if (e->op_code)
			fprintf(f, " op=%d", e->op_code);
		if (e->carrier_msgid && *e->carrier_msgid)
			fprintf(f, " cmid=%s", e->carrier_msgid);
		fputc('\n', f);
	}
}

static void channel_header(FILE *f)
{
	fprintf(f, "%-14s %-6s %-9s %6s %6s %5s %5s %15s %9s %9s %9s %7s %9s %6s %6s %5s %7s %s\n",
		"NAME", "DRIVER", "STATE", "TPS", "WINDOW", "INFL", "DLR", "QUEUED(V/N/M)",
		"SUBMITTED", "DELIVERED", "FAILED", "EXPIRED", "THROTTLED", "SEND/S", "P99_MS",
		"DLV%", "RETRIED", "SCORE(V/N/M)");
}

static void channel_row(FILE *f, const Smsr__V1__ChannelInfo *ci)
{
	uint64_t q[SMSR_NCLASS + 1] = {0};
	char queued[48];

	for (size_t i = 0; i < ci->n_lanes; i++)
		if (ci->lanes[i]->cls >= 1 && ci->lanes[i]->cls <= SMSR_NCLASS)
			q[ci->lanes[i]->cls] += ci->lanes[i]->queued;
	snprintf(queued, sizeof(queued), "%" PRIu64 "/%" PRIu64 "/%" PRIu64, q[1], q[2], q[3]);
	fprintf(f,
		"%-14s %-6s %-9s %6u %6u %5u %5u %15s %9" PRIu64 " %9" PRIu64 " %9" PRIu64
		" %7" PRIu64 " %9" PRIu64,
		ci->name, ci->driver, chan_state(ci->state), ci->tps, ci->window, ci->inflight,
		ci->awaiting_dlr, queued, ci->submitted, ci->delivered, ci->failed, ci->expired,
		ci->throttled);
	fprintf(f, " %6u %6.1f %5.1f %7" PRIu64 " ", ci->send_tps, ci->latency_p99_us / 1000.0,
		ci->delivery_permille / 10.0, ci->retried + ci->resent + ci->redelivered);
	for (size_t i = 0; i < ci->n_lanes; i++)
		fprintf(f, "%s%.4f", i ? "/" : "", ci->lanes[i]->score);
	if (ci->down_code)
		fprintf(f, " (%s)", nz(ci->down_reason));
	fputc('\n', f);
}

void smsr_client_print_stats(FILE *f, const Smsr__V1__StatsResponse *s)
{
	const Smsr__V1__ServerStats *sv = s->server;

	fprintf(f, "submitted %" PRIu64 "  accepted %" PRIu64 "  rejected %" PRIu64 "\n",
		s->submitted, s->accepted, s->rejected);
	for (size_t i = 0; i < s->n_rejected_by_reason; i++)
		fprintf(f, "  rejected %-20s %" PRIu64 "\n", s->rejected_by_reason[i]->name,
			s->rejected_by_reason[i]->count);
	for (size_t i = 0; i < s->n_by_class; i++)
		fprintf(f, "  accepted %-20s %" PRIu64 "\n",
			smsr_class_name((enum smsr_class)s->by_class[i]->cls),
			s->by_class[i]->count);
	fprintf(f, "queued %" PRIu64 "  inflight %" PRIu64 "  retrying %" PRIu64 "\n",
		s->queued_now, s->inflight_now, s->retrying_now);
	fprintf(f, "retried %" PRIu64 "  resent %" PRIu64 "\n", s->retried, s->resent);
	fprintf(f,
		"mo replies %" PRIu64 "  opt-outs %" PRIu64 "  opt-ins %" PRIu64
		"  opted out now %" PRIu64 "\n",
		s->mo_received, s->opt_outs, s->opt_ins, s->opted_out_now);
	fprintf(f,
		"memory %.1f of %.1f MB for messages (%.1f MB reserved)  busy: lanes %" PRIu64
		"  memory %" PRIu64 "  late %" PRIu64 "\n",
		(double)s->mem_held / 1048576.0, (double)s->mem_budget / 1048576.0,
		(double)s->mem_reserved / 1048576.0, s->busy_lanes, s->busy_memory, s->busy_late);
	fprintf(f,
		"delivered %" PRIu64 "  failed %" PRIu64 "  expired %" PRIu64
		"  stale reports %" PRIu64 "\n",
		s->delivered, s->failed, s->expired, s->stale_reports);
	if (sv)
		fprintf(f,
			"server: connections %" PRIu64 " (%" PRIu64 " since start)  calls %" PRIu64
			"  subscriptions %" PRIu64 "  events sent %" PRIu64 " dropped %" PRIu64
			"  protocol errors %" PRIu64 "  uptime %.1f s\n",
			sv->connections, sv->connections_total, sv->calls, sv->subscriptions,
			sv->events_sent, sv->events_dropped, sv->protocol_errors,
			(double)sv->uptime_ns / 1e9);
}

void smsr_client_print_channels(FILE *f, Smsr__V1__ChannelInfo *const *v, size_t n)
{
	channel_header(f);
	for (size_t i = 0; i < n; i++)
		channel_row(f, v[i]);
}
