/* SPDX-License-Identifier: MIT */
/*
 * smsrctl: the admin command line, built on the public API only: the
 * classifier offline, and smsrd's calls (proto/PROTOCOL.md) through the
 * client library.
 *
 * Subcommands live in one table; adding one is a function and a row.
 * Output is for humans by default; --json prints one JSON object per
 * answer (per event for watch) on stdout. Failures print the stable reason
 * name ("busy", "not_found", "connection_lost") and exit non-zero.
 * Exit status: 0 success, 1 failure of the command itself (including a
 * rejected message), 2 usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smsr/client.h"
#include "smsr/msg.h"

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(int argc, char **argv);
};

/* Global options, set once by main() before a command runs. */
static struct {
	const char *addr;
	const char *token;
	int json;
	int timeout_ms;
} gopt = {.timeout_ms = 10000};

static int cmd_classify(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_ping(int argc, char **argv);
static int cmd_submit(int argc, char **argv);
static int cmd_status(int argc, char **argv);
static int cmd_history(int argc, char **argv);
static int cmd_watch(int argc, char **argv);
static int cmd_channels(int argc, char **argv);
static int cmd_stats(int argc, char **argv);
static int cmd_reload(int argc, char **argv);

static const struct command commands[] = {
    {"classify", "[--tsv [-v]]",
     "classify one message per stdin line; --tsv reads class<TAB>text lines\n"
     "\tand prints accuracy and the confusion matrix (-v: list misses)",
     cmd_classify},
    {"submit", "[opts] RECIPIENT TEXT",
     "submit one message; opts: --class C --ref R --sender S --tags T\n"
     "\t--validity MS",
     cmd_submit},
    {"status", "ID | --ref REF [--limit N]", "status history of a message (or by client ref)",
     cmd_status},
    {"history", "ID | --ref REF | --to NUMBER | --channel NAME [--since T] [--until T]",
     "the archive's record (smsrd with --data-dir), across restarts: a message's\n"
     "\tevents, the messages with a client ref or to a number, a channel's events;\n"
     "\tT: Unix seconds or AGE like 90m, 24h, 7d; --limit N (default 100) --newest",
     cmd_history},
    {"watch", "[filters]",
     "print events as they happen until Ctrl-C; filters: --class C --channel NAME\n"
     "\t(both repeatable) --ref-prefix P --final; --count N: stop after N",
     cmd_watch},
    {"channels", "[list [NAME]]",
     "list channels; or: pause|resume|drain|remove NAME,\n"
     "\tadd NAME 'CONFIG', rate NAME TPS, weight NAME W, ctl NAME KEY VALUE",
     cmd_channels},
    {"reload", "[FILE]",
     "apply a whole configuration while traffic flows (channels added, removed,\n"
     "\treplaced; routes swapped); no FILE: smsrd re-reads its own file",
     cmd_reload},
    {"stats", "", "router and daemon counters", cmd_stats},
    {"ping", "", "round trip and the server's limits", cmd_ping},
    {"help", "", "print this help", cmd_help},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: smsrctl [-a ADDR] [-t TOKEN] [--json] [--timeout MS] <command> [args]\n"
		"  ADDR: host:port or a Unix socket path (default %s);\n"
		"  TOKEN may also come from $SMSRCTL_TOKEN\n\ncommands:\n",
		SMSR_CLIENT_DEFAULT_ADDR);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s%s%s\n\t%s\n", commands[i].name, *commands[i].args ? " " : "",
			commands[i].args, commands[i].help);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

/* Strip a trailing "\n" or "\r\n" from @line (@len bytes); returns the new length. */
static size_t chomp(char *line, size_t len)
{
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return len;
}

/* Tally of a labelled run: conf[expected][got], classes 1..3. */
struct tally {
	unsigned long conf[SMSR_NCLASS + 1][SMSR_NCLASS + 1];
	unsigned long total, right, skipped;
};

static void tsv_line(struct tally *t, char *line, size_t len, int verbose)
{
	char *tab = memchr(line, '\t', len);
	int want;
	enum smsr_class got;

	if (!tab) {
		t->skipped++;
		return;
	}
	*tab = '\0';
	want = smsr_class_parse(line);
	if (want < SMSR_CLASS_VERIFICATION) {
		t->skipped++; /* the header line, or a bad label */
		return;
	}
	got = smsr_classify(tab + 1, len - (size_t)(tab + 1 - line));
	t->conf[want][got]++;
	t->total++;
	if ((int)got == want)
		t->right++;
	else if (verbose)
		fprintf(stderr, "MISS want=%s got=%s\t%s\n", smsr_class_name(want),
			smsr_class_name(got), tab + 1);
}

static void tsv_report(const struct tally *t)
{
	printf("accuracy %.2f%% (%lu/%lu)\n", t->total ? 100.0 * t->right / t->total : 0.0,
	       t->right, t->total);
	printf("%-14s %12s %12s %12s\n", "want\\got", "verification", "notice", "marketing");
	for (int w = 1; w <= SMSR_NCLASS; w++) {
		printf("%-14s", smsr_class_name(w));
		for (int g = 1; g <= SMSR_NCLASS; g++)
			printf(" %12lu", t->conf[w][g]);
		printf("\n");
	}
}

static int cmd_classify(int argc, char **argv)
{
	int tsv = 0, verbose = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct tally t = {0};

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tsv") == 0) {
			tsv = 1;
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
		} else {
			fprintf(stderr, "smsrctl classify: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = chomp(line, (size_t)n);

		if (tsv)
			tsv_line(&t, line, len, verbose);
		else
			puts(smsr_class_name(smsr_classify(line, len)));
	}
	free(line);
	if (tsv)
		tsv_report(&t);
	return ferror(stdin) || fflush(stdout) ? 1 : 0;
}

/* ---------------------------------------------------------------- talking to smsrd */

static int usage_err(const char *cmd, const char *what)
{
	fprintf(stderr, "smsrctl %s: %s\n", cmd, what);
	return 2;
}

/* If argv[*i] is option @name, return its value (advancing *@i), else NULL. */
static const char *opt(int argc, char **argv, int *i, const char *name, int *bad)
{
	if (strcmp(argv[*i], name) != 0)
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "smsrctl: %s needs a value\n", name);
		*bad = 1;
		return NULL;
	}
	return argv[++*i];
}

/* Parse a decimal unsigned @s into *@v; 0 on success. */
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	*v = strtoull(s, &end, 10);
	return *end ? -1 : 0;
}

static int connect_or_say(struct smsr_client **c)
{
	struct smsr_client_opts o = {.token = gopt.token, .timeout_ms = gopt.timeout_ms};
	int rc = smsr_client_connect(c, gopt.addr, &o);

	if (rc < 0)
		fprintf(stderr, "smsrctl: connect %s: %s\n",
			gopt.addr ? gopt.addr : SMSR_CLIENT_DEFAULT_ADDR, smsr_errname(rc));
	return rc;
}

static void say_error(const Smsr__V1__Error *e)
{
	if (gopt.json) {
		printf("{\"error\":");
		smsr_client_json(stdout, &e->base);
		printf("}\n");
	} else {
		fprintf(stderr, "smsrctl: %s%s%s\n", e->name && *e->name ? e->name : "unknown",
			e->message && *e->message ? ": " : "", e->message ? e->message : "");
	}
}

/*
 * Connect, make the call @req and check the answer has body @want.
 * Returns the Response (free it) or NULL after saying what went wrong.
 */
static Smsr__V1__Response *call(Smsr__V1__Request *req, int want, struct smsr_client **keep)
{
	struct smsr_client *c = NULL;
	Smsr__V1__Response *r = NULL;
	int rc = connect_or_say(&c);

	if (rc < 0)
		return NULL;
	rc = smsr_client_call(c, req, &r, gopt.timeout_ms);
	if (rc < 0) {
		fprintf(stderr, "smsrctl: %s\n", smsr_errname(rc));
		r = NULL;
	} else if (r->error) {
		say_error(r->error);
		smsr_client_free(r);
		r = NULL;
	} else if ((int)r->body_case != want) {
		fprintf(stderr, "smsrctl: unexpected answer (body %d)\n", (int)r->body_case);
		smsr_client_free(r);
		r = NULL;
	}
	if (keep && r)
		*keep = c;
	else
		smsr_client_close(c);
	return r;
}

/* One JSON object and a newline: the --json form of an answer. */
static void json_line(const ProtobufCMessage *m)
{
	smsr_client_json(stdout, m);
	putchar('\n');
}

static const char *nz(const char *s)
{
	return s && *s ? s : "-";
}

/* ---------------------------------------------------------------- ping, submit, status */

static int cmd_ping(int argc, char **argv)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__PingRequest ping = SMSR__V1__PING_REQUEST__INIT;
	struct timespec t0, t1;
	Smsr__V1__Response *r;
	const Smsr__V1__ServerInfo *si;

	if (argc > 1)
		return usage_err("ping", "takes no arguments");
	req.body_case = SMSR__V1__REQUEST__BODY_PING;
	req.ping = &ping;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = call(&req, SMSR__V1__RESPONSE__BODY_PING, NULL);
	if (!r)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	si = r->ping->server;
	if (gopt.json) {
		json_line(&r->ping->base);
	} else if (si) {
		printf("smsrd %s protocol %u: max_frame %u max_calls %u max_batch %u auth %s; "
		       "round trip %.3f ms (connect included)\n",
		       si->version, si->protocol_version, si->max_frame, si->max_calls,
		       si->max_batch, si->auth_required ? "required" : "off",
		       (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			   (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	}
	smsr_client_free(r);
	return 0;
}

static int cmd_submit(int argc, char **argv)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubmitRequest sub = SMSR__V1__SUBMIT_REQUEST__INIT;
	Smsr__V1__Message m, *mp = &m;
	struct smsr_msg msg = {0};
	const char *pos[2], *v, *cls = NULL, *validity = NULL;
	Smsr__V1__Response *r;
	const Smsr__V1__SubmitResult *res;
	int npos = 0, bad = 0, rc;
	uint64_t u = 0;

	for (int i = 1; i < argc && !bad; i++) {
		if ((v = opt(argc, argv, &i, "--class", &bad)))
			cls = v;
		else if ((v = opt(argc, argv, &i, "--ref", &bad)))
			msg.client_ref = v;
		else if ((v = opt(argc, argv, &i, "--sender", &bad)))
			msg.sender = v;
		else if ((v = opt(argc, argv, &i, "--tags", &bad)))
			msg.tags = v;
		else if ((v = opt(argc, argv, &i, "--validity", &bad)))
			validity = v;
		else if (!bad && npos < 2)
			pos[npos++] = argv[i];
		else if (!bad)
			return usage_err("submit", "too many arguments");
	}
	if (bad || npos != 2)
		return usage_err("submit", "usage: submit [opts] RECIPIENT TEXT");
	if (cls && (rc = smsr_class_parse(cls)) < 0)
		return usage_err("submit", "--class: auto, verification, notice or marketing");
	msg.cls = cls ? (enum smsr_class)rc : SMSR_CLASS_AUTO;
	if (validity && (parse_u64(validity, &u) < 0 || u > UINT32_MAX))
		return usage_err("submit", "--validity: milliseconds");
	msg.validity_ms = (uint32_t)u;
	msg.recipient = pos[0];
	msg.text = pos[1];
	msg.text_len = strlen(pos[1]);
	smsr_client_msg_to_pb(&m, &msg);
	sub.n_messages = 1;
	sub.messages = &mp;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	req.submit = &sub;
	r = call(&req, SMSR__V1__RESPONSE__BODY_SUBMIT, NULL);
	if (!r)
		return 1;
	if (r->submit->n_results != 1) {
		fprintf(stderr, "smsrctl: %zu results for 1 message\n", r->submit->n_results);
		smsr_client_free(r);
		return 1;
	}
	res = r->submit->results[0];
	if (gopt.json)
		json_line(&r->submit->base);
	else if (res->status == 0)
		printf("accepted id=%" PRIu64 " class=%s carrier=%s segments=%u channel=%s\n",
		       res->id, smsr_class_name((enum smsr_class)res->cls),
		       smsr_carrier_name((enum smsr_carrier)res->carrier), res->segments,
		       nz(res->channel));
	else
		fprintf(stderr, "smsrctl: rejected: %s\n", nz(res->reason));
	rc = res->status ? 1 : 0;
	smsr_client_free(r);
	return rc;
}

static int cmd_status(int argc, char **argv)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__StatusRequest st;
	Smsr__V1__Response *r;
	const char *v, *ref = NULL, *limit = NULL, *id = NULL;
	uint64_t u = 0;
	int bad = 0;

	smsr__v1__status_request__init(&st);
	for (int i = 1; i < argc && !bad; i++) {
		if ((v = opt(argc, argv, &i, "--ref", &bad)))
			ref = v;
		else if ((v = opt(argc, argv, &i, "--limit", &bad)))
			limit = v;
		else if (!bad && !id)
			id = argv[i];
		else if (!bad)
			bad = 1;
	}
	if (bad || !!ref == !!id)
		return usage_err("status", "usage: status ID | status --ref REF [--limit N]");
	if (id) {
		if (parse_u64(id, &st.id) < 0 || st.id == 0)
			return usage_err("status", "ID: a message id");
		st.key_case = SMSR__V1__STATUS_REQUEST__KEY_ID;
	} else {
		st.client_ref = (char *)(uintptr_t)ref;
		st.key_case = SMSR__V1__STATUS_REQUEST__KEY_CLIENT_REF;
	}
	if (limit && (parse_u64(limit, &u) < 0 || u > 100))
		return usage_err("status", "--limit: 1..100");
	st.limit = (uint32_t)u;
	req.body_case = SMSR__V1__REQUEST__BODY_STATUS;
	req.status = &st;
	r = call(&req, SMSR__V1__RESPONSE__BODY_STATUS, NULL);
	if (!r)
		return 1;
	if (gopt.json)
		json_line(&r->status->base);
	else
		for (size_t i = 0; i < r->status->n_messages; i++)
			smsr_client_print_status(stdout, r->status->messages[i]);
	smsr_client_free(r);
	return 0;
}

/* ---------------------------------------------------------------- history */

/* Unix seconds, or an age ("90m", "24h", "7d") before now, as Unix ns. */
static int parse_when(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	unsigned long long mult = *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 0;

	if (end == v || (*end && (!mult || end[1])))
		return -1;
	if (mult) {
		unsigned long long now = (unsigned long long)time(NULL);

		n = n * mult > now ? 0 : now - n * mult;
	}
	*out = (uint64_t)n * 1000000000ull;
	return 0;
}

static void print_hmsg(const Smsr__V1__HistoryMessage *m)
{
	time_t t = (time_t)(m->accepted_unix_ns / 1000000000ull);
	char when[32];

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
	printf("%llu  %s  %s  %s  ref=%s  events=%u  %s%s%s\n", (unsigned long long)m->id, when,
	       m->recipient, smsr_class_name((enum smsr_class)m->cls), m->client_ref, m->events,
	       m->final ? smsr_event_name((enum smsr_event_type)m->final_type)
			: smsr_event_name((enum smsr_event_type)m->last_type),
	       m->final && m->final_reason[0] ? " " : "", m->final ? m->final_reason : "");
}

static int history_args(int argc, char **argv, Smsr__V1__HistoryRequest *h, uint64_t *limit)
{
	const char *v;
	int bad = 0;

	for (int i = 1; i < argc && !bad; i++) {
		if ((v = opt(argc, argv, &i, "--ref", &bad)))
			h->key_case = SMSR__V1__HISTORY_REQUEST__KEY_CLIENT_REF,
			h->client_ref = argv[i];
		else if ((v = opt(argc, argv, &i, "--to", &bad)))
			h->key_case = SMSR__V1__HISTORY_REQUEST__KEY_RECIPIENT,
			h->recipient = argv[i];
		else if ((v = opt(argc, argv, &i, "--channel", &bad)))
			h->key_case = SMSR__V1__HISTORY_REQUEST__KEY_CHANNEL, h->channel = argv[i];
		else if ((v = opt(argc, argv, &i, "--since", &bad)))
			bad = parse_when(v, &h->from_unix_ns);
		else if ((v = opt(argc, argv, &i, "--until", &bad)))
			bad = parse_when(v, &h->to_unix_ns);
		else if ((v = opt(argc, argv, &i, "--limit", &bad)))
			bad = parse_u64(v, limit) < 0 || *limit == 0;
		else if (!bad && !strcmp(argv[i], "--newest"))
			h->newest_first = 1;
		else if (!bad && h->key_case == SMSR__V1__HISTORY_REQUEST__KEY__NOT_SET &&
			 parse_u64(argv[i], &h->id) == 0 && h->id)
			h->key_case = SMSR__V1__HISTORY_REQUEST__KEY_ID;
		else
			bad = 1;
	}
	return bad || h->key_case == SMSR__V1__HISTORY_REQUEST__KEY__NOT_SET ? -1 : 0;
}

static int cmd_history(int argc, char **argv)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__HistoryRequest h;
	Smsr__V1__Response *r;
	uint8_t cursor[64];
	uint64_t limit = 100, shown = 0;

	smsr__v1__history_request__init(&h);
	if (history_args(argc, argv, &h, &limit) < 0)
		return usage_err("history", "usage: history ID | --ref REF | --to NUMBER | "
					    "--channel NAME [--since T] [--until T] [--limit N] "
					    "[--newest]");
	req.body_case = SMSR__V1__REQUEST__BODY_HISTORY;
	req.history = &h;
	do {
		h.limit = (uint32_t)(limit - shown < 1000 ? limit - shown : 1000);
		r = call(&req, SMSR__V1__RESPONSE__BODY_HISTORY, NULL);
		if (!r)
			return 1;
		if (gopt.json)
			json_line(&r->history->base);
		for (size_t i = 0; !gopt.json && i < r->history->n_events; i++)
			smsr_client_print_event(stdout, r->history->events[i]);
		for (size_t i = 0; !gopt.json && i < r->history->n_messages; i++)
			print_hmsg(r->history->messages[i]);
		shown += r->history->n_events + r->history->n_messages;
		h.cursor.len =
		    r->history->next_cursor.len < sizeof(cursor) ? r->history->next_cursor.len : 0;
		memcpy(cursor, r->history->next_cursor.data, h.cursor.len);
		h.cursor.data = cursor;
		smsr_client_free(r);
	} while (h.cursor.len && shown < limit);
	return 0;
}

/* ---------------------------------------------------------------- watch */

static volatile sig_atomic_t stop_watch;

static void on_sigint(int sig)
{
	(void)sig;
	stop_watch = 1;
}

/* End the subscription @sub: unsubscribe, and report its counters. */
static void unsubscribe(struct smsr_client *c, uint64_t sub)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__UnsubscribeRequest un = SMSR__V1__UNSUBSCRIBE_REQUEST__INIT;
	Smsr__V1__Response *r;

	un.subscription = sub;
	req.body_case = SMSR__V1__REQUEST__BODY_UNSUBSCRIBE;
	req.unsubscribe = &un;
	if (smsr_client_call(c, &req, &r, 2000) < 0)
		return;
	if (r->body_case == SMSR__V1__RESPONSE__BODY_UNSUBSCRIBE && !gopt.json)
		fprintf(stderr, "events: %" PRIu64 " delivered, %" PRIu64 " dropped\n",
			r->unsubscribe->delivered, r->unsubscribe->dropped);
	smsr_client_free(r);
}

/* Print the stream's events until Ctrl-C, @count events (0: no limit) or an error. */
static int watch_loop(struct smsr_client *c, uint64_t sub, uint64_t count)
{
	Smsr__V1__Response *r;
	uint64_t seen = 0;
	int rc = 0;

	while (!stop_watch && (!count || seen < count)) {
		rc = smsr_client_recv(c, &r, 200);
		if (rc == -SMSR_ETIMEOUT) {
			rc = 0;
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "smsrctl: %s\n", smsr_errname(rc));
			return 1;
		}
		if (r->error && (r->call_id == sub || r->call_id == 0)) {
			say_error(r->error); /* the server ended the stream */
			smsr_client_free(r);
			return 1;
		}
		if (r->call_id == sub && r->body_case == SMSR__V1__RESPONSE__BODY_EVENT) {
			if (gopt.json)
				json_line(&r->event->base);
			else
				smsr_client_print_event(stdout, r->event);
			fflush(stdout);
			seen++;
		}
		smsr_client_free(r);
	}
	unsubscribe(c, sub);
	return 0;
}

static int cmd_watch(int argc, char **argv)
{
	static const Smsr__V1__EventType finals[] = {SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED,
						     SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED,
						     SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED};
	Smsr__V1__MessageClass classes[4];
	char *chans[32];
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubscribeRequest s;
	struct sigaction sa = {.sa_handler = on_sigint};
	struct smsr_client *c = NULL;
	Smsr__V1__Response *r;
	const char *v;
	uint64_t count = 0;
	int bad = 0, rc;

	smsr__v1__subscribe_request__init(&s);
	s.classes = classes;
	s.channels = chans;
	for (int i = 1; i < argc && !bad; i++) {
		if ((v = opt(argc, argv, &i, "--class", &bad))) {
			if ((rc = smsr_class_parse(v)) <= 0 || s.n_classes >= 4)
				return usage_err("watch",
						 "--class: verification, notice or marketing");
			classes[s.n_classes++] = (Smsr__V1__MessageClass)rc;
		} else if ((v = opt(argc, argv, &i, "--channel", &bad))) {
			if (s.n_channels >= 32)
				return usage_err("watch", "at most 32 --channel");
			chans[s.n_channels++] = (char *)(uintptr_t)v;
		} else if ((v = opt(argc, argv, &i, "--ref-prefix", &bad))) {
			s.client_ref_prefix = (char *)(uintptr_t)v;
		} else if ((v = opt(argc, argv, &i, "--count", &bad))) {
			if (parse_u64(v, &count) < 0)
				return usage_err("watch", "--count: a number");
		} else if (!bad && strcmp(argv[i], "--final") == 0) {
			s.types = (Smsr__V1__EventType *)(uintptr_t)finals;
			s.n_types = 3;
		} else if (!bad) {
			return usage_err("watch", "unknown argument (see smsrctl help)");
		}
	}
	if (bad)
		return 2;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &s;
	r = call(&req, SMSR__V1__RESPONSE__BODY_SUBSCRIBE, &c);
	if (!r)
		return 1;
	if (!gopt.json)
		fprintf(stderr, "watching (queue limit %u); Ctrl-C to stop\n",
			r->subscribe->queue_limit);
	uint64_t sub = r->call_id;

	smsr_client_free(r);
	sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: the wait wakes up */
	sigaction(SIGTERM, &sa, NULL);
	rc = watch_loop(c, sub, count);
	smsr_client_close(c);
	return rc;
}

/* ---------------------------------------------------------------- channels, stats */

static int channels_list(const char *name)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__ChannelListRequest cl;
	Smsr__V1__Response *r;

	smsr__v1__channel_list_request__init(&cl);
	cl.name = (char *)(uintptr_t)(name ? name : "");
	req.body_case = SMSR__V1__REQUEST__BODY_CHANNEL_LIST;
	req.channel_list = &cl;
	r = call(&req, SMSR__V1__RESPONSE__BODY_CHANNEL_LIST, NULL);
	if (!r)
		return 1;
	if (gopt.json) {
		json_line(&r->channel_list->base);
	} else {
		smsr_client_print_channels(stdout, r->channel_list->channels,
					   r->channel_list->n_channels);
	}
	smsr_client_free(r);
	return 0;
}

/* Fill @a's op from the words after "channels OP NAME"; 0 or a usage error. */
static int admin_op(Smsr__V1__ChannelAdminRequest *a, const char *op, int n, char **w)
{
	static Smsr__V1__ChannelPause pause = SMSR__V1__CHANNEL_PAUSE__INIT;
	static Smsr__V1__ChannelResume resume = SMSR__V1__CHANNEL_RESUME__INIT;
	static Smsr__V1__ChannelDrain drain = SMSR__V1__CHANNEL_DRAIN__INIT;
	static Smsr__V1__ChannelRemove rm = SMSR__V1__CHANNEL_REMOVE__INIT;
	static Smsr__V1__ChannelAdd add;
	static Smsr__V1__ChannelSetRate rate = SMSR__V1__CHANNEL_SET_RATE__INIT;
	static Smsr__V1__ChannelSetWeight weight = SMSR__V1__CHANNEL_SET_WEIGHT__INIT;
	static Smsr__V1__ChannelCtl ctl;
	uint64_t u;
	int bare = n == 0;

	if (strcmp(op, "pause") == 0 && bare) {
		a->op_case = SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_PAUSE, a->pause = &pause;
	} else if (strcmp(op, "resume") == 0 && bare) {
		a->op_case = SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_RESUME, a->resume = &resume;
	} else if (strcmp(op, "drain") == 0 && bare) {
		a->op_case = SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_DRAIN, a->drain = &drain;
	} else if (strcmp(op, "remove") == 0 && bare) {
		a->op_case = SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_REMOVE, a->remove = &rm;
	} else if (strcmp(op, "add") == 0 && n == 1) {
		smsr__v1__channel_add__init(&add);
		add.config = w[0];
		a->op_case = SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_ADD, a->add = &add;
	} else if (strcmp(op, "rate") == 0 && n == 1 && parse_u64(w[0], &u) == 0 &&
		   u <= UINT32_MAX) {
		rate.tps = (uint32_t)u;
		a->op_case = SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_SET_RATE, a->set_rate = &rate;
	} else if (strcmp(op, "weight") == 0 && n == 1 && parse_u64(w[0], &u) == 0 &&
		   u <= UINT32_MAX) {
		weight.weight = (uint32_t)u;
		a->op_case = SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_SET_WEIGHT,
		a->set_weight = &weight;
	} else if (strcmp(op, "ctl") == 0 && n == 2) {
		smsr__v1__channel_ctl__init(&ctl);
		ctl.key = w[0];
		ctl.value = w[1];
		a->op_case = SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_CTL, a->ctl = &ctl;
	} else {
		return usage_err("channels", "usage: channels [list [NAME]] | pause|resume|drain|"
					     "remove NAME | add NAME CONFIG | rate NAME TPS |\n"
					     "\tweight NAME W | ctl NAME KEY VALUE");
	}
	return 0;
}

static int cmd_channels(int argc, char **argv)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__ChannelAdminRequest a;
	Smsr__V1__Response *r;
	int rc;

	if (argc < 2 || strcmp(argv[1], "list") == 0) {
		if (argc > 3)
			return usage_err("channels", "usage: channels list [NAME]");
		return channels_list(argc == 3 ? argv[2] : NULL);
	}
	if (argc < 3)
		return admin_op(&a, "", 0, NULL);
	smsr__v1__channel_admin_request__init(&a);
	a.name = argv[2];
	rc = admin_op(&a, argv[1], argc - 3, argv + 3);
	if (rc)
		return rc;
	req.body_case = SMSR__V1__REQUEST__BODY_CHANNEL_ADMIN;
	req.channel_admin = &a;
	r = call(&req, SMSR__V1__RESPONSE__BODY_CHANNEL_ADMIN, NULL);
	if (!r)
		return 1;
	if (gopt.json) {
		json_line(&r->channel_admin->base);
	} else if (r->channel_admin->channel) {
		smsr_client_print_channels(stdout, &r->channel_admin->channel, 1);
	} else {
		printf("%s: %s\n", argv[2], argv[1]);
	}
	smsr_client_free(r);
	return 0;
}

/* The whole of @path, malloc'd and NUL-terminated; NULL with a message. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n = -1;

	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (16l << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	if (!buf)
		fprintf(stderr, "smsrctl: %s: %s\n", path, f ? "cannot read it" : strerror(errno));
	if (f)
		fclose(f);
	return buf;
}

static int cmd_reload(int argc, char **argv)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__ReloadRequest rl = SMSR__V1__RELOAD_REQUEST__INIT;
	Smsr__V1__Response *r;
	char *text = NULL;

	if (argc > 2)
		return usage_err("reload", "usage: reload [FILE]");
	if (argc == 2 && !(text = slurp(argv[1])))
		return 1;
	rl.config = text ? text : "";
	req.body_case = SMSR__V1__REQUEST__BODY_RELOAD;
	req.reload = &rl;
	r = call(&req, SMSR__V1__RESPONSE__BODY_RELOAD, NULL);
	free(text);
	if (!r)
		return 1;
	if (gopt.json)
		json_line(&r->reload->base);
	else
		smsr_client_print_channels(stdout, r->reload->channels, r->reload->n_channels);
	smsr_client_free(r);
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__StatsRequest st = SMSR__V1__STATS_REQUEST__INIT;
	Smsr__V1__Response *r;

	if (argc > 1)
		return usage_err("stats", "takes no arguments");
	req.body_case = SMSR__V1__REQUEST__BODY_STATS;
	req.stats = &st;
	r = call(&req, SMSR__V1__RESPONSE__BODY_STATS, NULL);
	if (!r)
		return 1;
	if (gopt.json)
		json_line(&r->stats->base);
	else
		smsr_client_print_stats(stdout, r->stats);
	smsr_client_free(r);
	return 0;
}

/* ---------------------------------------------------------------- main */

/* Parse the global options; returns the index of the command word, or -1. */
static int global_opts(int argc, char **argv)
{
	const char *v;
	uint64_t u;
	int i, bad = 0;

	gopt.token = getenv("SMSRCTL_TOKEN");
	for (i = 1; i < argc && argv[i][0] == '-' && !bad; i++) {
		if ((v = opt(argc, argv, &i, "-a", &bad)))
			gopt.addr = v;
		else if ((v = opt(argc, argv, &i, "-t", &bad)))
			gopt.token = v;
		else if ((v = opt(argc, argv, &i, "--timeout", &bad)))
			gopt.timeout_ms =
			    parse_u64(v, &u) == 0 && u > 0 && u < INT32_MAX ? (int)u : -1;
		else if (strcmp(argv[i], "--json") == 0)
			gopt.json = 1;
		else if (!bad)
			bad = 1;
	}
	if (bad || gopt.timeout_ms < 0) {
		fprintf(stderr, "smsrctl: bad option '%s'\n", argv[i - 1]);
		return -1;
	}
	return i;
}

/* Take a --json given after the command word out of @argv. */
static int take_json(int argc, char **argv)
{
	int n = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			gopt.json = 1;
		else
			argv[n++] = argv[i];
	}
	return n;
}

int main(int argc, char **argv)
{
	int first = global_opts(argc, argv);

	if (first < 0) {
		usage(stderr);
		return 2;
	}
	if (first >= argc) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[first], commands[i].name) != 0)
			continue;
		if (commands[i].run != cmd_classify)
			argc = first + take_json(argc - first, argv + first);
		return commands[i].run(argc - first, argv + first);
	}
	fprintf(stderr, "smsrctl: unknown command '%s'\n", argv[first]);
	usage(stderr);
	return 2;
}
