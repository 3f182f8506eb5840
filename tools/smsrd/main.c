/* SPDX-License-Identifier: MIT */
/*
 * smsrd: options, configuration, start and stop. See smsrd.h for the design
 * and proto/PROTOCOL.md for the protocol; `smsrd --help` for the options.
 */
#include <errno.h>
#include <libconfig.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "smsrd.h"
#include "status.h"

static const char usage[] =
    "usage: smsrd [options]\n"
    "  -c, --config FILE      router and daemon configuration (libconfig syntax,\n"
    "                         docs/config.md); default: the embedded default\n"
    "  --tcp HOST:PORT|off    TCP listener (default 127.0.0.1:7800; port 0: any free)\n"
    "  --unix PATH|off        Unix socket (default /run/smsrd/smsrd.sock as root,\n"
    "                         else $XDG_RUNTIME_DIR/smsrd.sock or /tmp/smsrd-UID.sock)\n"
    "  --ready-file PATH      once listening, write tcp=, unix= and pid= lines there\n"
    "  --optout-file PATH     keep the opt-out list (MO STOP/TD replies) in this log\n"
    "                         and replay it at start (default: in memory only)\n"
    "  --data-dir DIR         keep accepted messages in a journal in DIR/journal:\n"
    "                         a submit is answered once durable, and what was not\n"
    "                         final comes back at the next start (default: none)\n"
    "  --journal-mode M       sync (default with a data dir), batch or off\n"
    "  --journal-batch-ms N   batch mode: flush every N ms, 1..1000 (default 10)\n"
    "  --journal-keep         never delete journal segments (forensics, tests)\n"
    "  --history-days N       with a data dir: keep each message's history in\n"
    "                         DIR/history.db for N days after its last event,\n"
    "                         1..3650 (default 7); the history call, smsrctl history\n"
    "  --token T              a client token (repeatable); tokens turn auth on\n"
    "  --admin-token T        an admin token (repeatable)\n"
    "  --max-connections N    1..65536 (default 1024), Unix clients included\n"
    "  --unix-reserve N       of those, slots only the Unix socket may take (default 8)\n"
    "  --max-frame N          bytes of payload per frame, 4096..67108864 (default 1048576)\n"
    "  --max-calls N          calls in flight per connection, 1..65536 (default 1024)\n"
    "  --max-batch N          messages per submit, 1..100000 (default 1000)\n"
    "  --max-subscriptions-total N  on the whole server, 0..1048576 (default 8192)\n"
    "  --auth-timeout MS      to authenticate when tokens are on (default 5000)\n"
    "  --frame-timeout MS     to finish a frame once begun (default 10000)\n"
    "  --idle-timeout S       no call and no subscription: closed (default 600; 0 never)\n"
    "  --input-budget MB      unframed input of all connections (default 256)\n"
    "  --drain-timeout S      at a stop, wait up to S seconds for subscribers to\n"
    "                         take their events (default 10)\n"
    "  (every smsrd.KEY number of the config file is --KEY too; docs/config.md)\n"
    "  -q, --quiet            log errors only\n"
    "SIGTERM or SIGINT: stop accepting, finish what is queued (up to 5 s), stop the\n"
    "router, write every subscriber its events (up to --drain-timeout), close.\n"
    "SIGHUP: re-read the configuration file (channels, routes; rejected whole if bad).\n";

static void defaults(struct smsrd_opts *o)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	memset(o, 0, sizeof(*o));
	snprintf(o->tcp, sizeof(o->tcp), "127.0.0.1:7800");
	if (geteuid() == 0)
		snprintf(o->unix_path, sizeof(o->unix_path), "/run/smsrd/smsrd.sock");
	else if (xdg && xdg[0])
		snprintf(o->unix_path, sizeof(o->unix_path), "%s/smsrd.sock", xdg);
	else
		snprintf(o->unix_path, sizeof(o->unix_path), "/tmp/smsrd-%u.sock",
			 (unsigned)geteuid());
	o->max_frame = 1u << 20;
	o->max_calls = 1024;
	o->max_conns = 1024;
	o->max_batch = 1000;
	o->max_subs = 16;
	o->max_subs_total = 8192;
	o->drain_timeout_s = 10;
	o->sub_queue = SMSRD_SUBQ_DEFAULT;
	o->status_max = 262144;
	o->status_retention_s = 3600;
	o->unix_reserve = 8;
	o->auth_timeout_ms = 5000;
	o->frame_timeout_ms = 10000;
	o->idle_timeout_s = 600;
	o->input_budget_mb = 256;
}

static int add_token(char **list, unsigned *n, const char *t)
{
	if (*n >= SMSRD_MAX_TOKENS || !t[0]) {
		fprintf(stderr, "smsrd: too many tokens, or an empty one\n");
		return -1;
	}
	list[(*n)++] = strdup(t);
	return 0;
}

/*
 * The daemon's numeric limits: one table for the config file (smsrd.KEY)
 * and the command line (--KEY with '-' for '_'), so both check the same
 * ranges.
 */
struct limit {
	const char *key;
	size_t off; /* of the uint32_t in struct smsrd_opts */
	uint32_t lo, hi;
};

#define LIMIT(key, field, lo, hi)                               \
	{                                                       \
		key, offsetof(struct smsrd_opts, field), lo, hi \
	}
static const struct limit limits[] = {
    LIMIT("max_connections", max_conns, 1, 65536),
    LIMIT("max_frame", max_frame, 4096, 64u << 20),
    LIMIT("max_calls", max_calls, 1, 65536),
    LIMIT("max_batch", max_batch, 1, 100000),
    LIMIT("max_subscriptions", max_subs, 0, 1024),
    LIMIT("max_subscriptions_total", max_subs_total, 0, 1u << 20),
    LIMIT("drain_timeout", drain_timeout_s, 0, 3600),
    LIMIT("subscription_queue", sub_queue, 16, SMSRD_SUBQ_MAX),
    LIMIT("status_messages", status_max, 0, 1u << 26),
    LIMIT("status_retention", status_retention_s, 0, 30 * 86400),
    LIMIT("unix_reserve", unix_reserve, 0, 1024),
    LIMIT("auth_timeout", auth_timeout_ms, 100, 600000),
    LIMIT("frame_timeout", frame_timeout_ms, 100, 600000),
    LIMIT("idle_timeout", idle_timeout_s, 0, 7 * 86400),
    LIMIT("input_budget", input_budget_mb, 1, 65536),
};

static const struct limit *limit_find(const char *key)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (!strcmp(limits[i].key, key))
			return &limits[i];
	return NULL;
}

/* Set @l from @v (@where names it in the message). 0, or -1 said on stderr. */
static int limit_set(struct smsrd_opts *o, const struct limit *l, long long v, const char *where)
{
	if (v < (long long)l->lo || v > (long long)l->hi) {
		fprintf(stderr, "smsrd: %s: %lld is out of range %u..%u\n", where, v, l->lo, l->hi);
		return -1;
	}
	*(uint32_t *)((char *)o + l->off) = (uint32_t)v;
	return 0;
}

/* --max-frame N and the like: the table's key with '-' for '_'. */
static const struct limit *limit_flag(const char *flag)
{
	char key[40];
	size_t n = strlen(flag);

	if (n < 3 || n - 2 >= sizeof(key) || flag[0] != '-' || flag[1] != '-')
		return NULL;
	for (size_t i = 2; i <= n; i++)
		key[i - 2] = flag[i] == '-' ? '_' : flag[i];
	return limit_find(key);
}

static int limit_arg(struct smsrd_opts *o, const struct limit *l, const char *flag, const char *v)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (!*v || *end || errno) {
		fprintf(stderr, "smsrd: %s: '%s' is not a number\n", flag, v);
		return -1;
	}
	return limit_set(o, l, n, flag);
}

static int cfg_tokens(config_setting_t *g, const char *key, char **list, unsigned *n)
{
	config_setting_t *a = config_setting_get_member(g, key);

	for (int i = 0; a && i < config_setting_length(a); i++) {
		const char *t = config_setting_get_string_elem(a, i);

		if (!t || add_token(list, n, t))
			return -1;
	}
	return 0;
}

static int journal_mode(struct smsrd_opts *o, const char *v, const char *where)
{
	if (!strcmp(v, "sync"))
		o->journal_mode = SMSR_JOURNAL_SYNC;
	else if (!strcmp(v, "batch"))
		o->journal_mode = SMSR_JOURNAL_BATCH;
	else if (!strcmp(v, "off"))
		o->journal_mode = SMSR_JOURNAL_OFF;
	else {
		fprintf(stderr, "smsrd: %s: journal_mode: sync, batch or off, not \"%s\"\n", where,
			v);
		return -1;
	}
	return 0;
}

static int journal_batch(struct smsrd_opts *o, long long v, const char *where)
{
	if (v < 1 || v > 1000) {
		fprintf(stderr, "smsrd: %s: journal_batch_ms: 1..1000\n", where);
		return -1;
	}
	o->journal_batch_ms = (uint32_t)v;
	return 0;
}

/* The daemon's own section, "smsrd { ... }", of the configuration file. */
static int load_daemon_cfg(struct smsrd_opts *o, const char *path)
{
	static const char *const keys[] = {"listen_tcp",   "listen_unix",      "tokens",
					   "admin_tokens", "optout_file",      "data_dir",
					   "journal_mode", "journal_batch_ms", NULL};
	config_t cf;
	config_setting_t *g;
	const char *str;
	int rc = -1;

	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		rc = 0; /* the router's parser reports the error with more detail */
		goto out;
	}
	g = config_lookup(&cf, "smsrd");
	if (!g) {
		rc = 0;
		goto out;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const char *name = config_setting_name(config_setting_get_elem(g, (unsigned)i));
		int k = 0;

		while (keys[k] && strcmp(keys[k], name))
			k++;
		if (!keys[k] && !limit_find(name)) {
			fprintf(stderr, "smsrd: %s: line %d: smsrd.%s: unknown setting\n", path,
				config_setting_source_line(config_setting_get_elem(g, (unsigned)i)),
				name);
			goto out;
		}
	}
	if (config_setting_lookup_string(g, "listen_tcp", &str))
		snprintf(o->tcp, sizeof(o->tcp), "%s", str);
	if (config_setting_lookup_string(g, "listen_unix", &str))
		snprintf(o->unix_path, sizeof(o->unix_path), "%s", str);
	if (config_setting_lookup_string(g, "optout_file", &str))
		snprintf(o->optout_file, sizeof(o->optout_file), "%s", str);
	if (config_setting_lookup_string(g, "data_dir", &str))
		snprintf(o->data_dir, sizeof(o->data_dir), "%s", str);
	if (config_setting_lookup_string(g, "journal_mode", &str) && journal_mode(o, str, path))
		goto out;
	{
		int ms;

		if (config_setting_lookup_int(g, "journal_batch_ms", &ms) &&
		    journal_batch(o, (long long)ms, path))
			goto out;
	}
	if (cfg_tokens(g, "tokens", o->tokens, &o->ntokens) ||
	    cfg_tokens(g, "admin_tokens", o->admin_tokens, &o->nadmin))
		goto out;
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		long long v;
		char where[300];

		if (!config_setting_lookup_int64(g, limits[i].key, &v))
			continue;
		snprintf(where, sizeof(where), "%s: smsrd.%s", path, limits[i].key);
		if (limit_set(o, &limits[i], v, where))
			goto out;
	}
	rc = 0;
out:
	config_destroy(&cf);
	return rc;
}

static int parse_args(struct smsrd_opts *o, int argc, char **argv, const char **cfg_path)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool has = v != NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			exit(0);
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = true;
			continue;
		} else if (!strcmp(a, "--journal-keep")) {
			o->journal_keep = true;
			continue;
		}
		if (!has) {
			fprintf(stderr, "smsrd: %s: missing value or unknown option\n%s", a, usage);
			return -1;
		}
		i++;
		if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			*cfg_path = v;
			if (load_daemon_cfg(o, v))
				return -1;
		} else if (!strcmp(a, "--tcp"))
			snprintf(o->tcp, sizeof(o->tcp), "%s", strcmp(v, "off") ? v : "");
		else if (!strcmp(a, "--unix"))
			snprintf(o->unix_path, sizeof(o->unix_path), "%s",
				 strcmp(v, "off") ? v : "");
		else if (!strcmp(a, "--ready-file"))
			snprintf(o->ready_file, sizeof(o->ready_file), "%s", v);
		else if (!strcmp(a, "--optout-file"))
			snprintf(o->optout_file, sizeof(o->optout_file), "%s", v);
		else if (!strcmp(a, "--data-dir"))
			snprintf(o->data_dir, sizeof(o->data_dir), "%s", v);
		else if (!strcmp(a, "--journal-mode")) {
			if (journal_mode(o, v, "--journal-mode"))
				return -1;
		} else if (!strcmp(a, "--history-days")) {
			char *end;
			long long d = strtoll(v, &end, 10);

			if (*end || d < 1 || d > 3650) {
				fprintf(stderr, "smsrd: --history-days: 1..3650\n");
				return -1;
			}
			o->history_days = (uint32_t)d;
		} else if (!strcmp(a, "--journal-batch-ms")) {
			char *end;
			long long ms = strtoll(v, &end, 10);

			if (*end || journal_batch(o, ms, "--journal-batch-ms"))
				return -1;
		} else if (!strcmp(a, "--token")) {
			if (add_token(o->tokens, &o->ntokens, v))
				return -1;
		} else if (!strcmp(a, "--admin-token")) {
			if (add_token(o->admin_tokens, &o->nadmin, v))
				return -1;
		} else if (limit_flag(a)) {
			if (limit_arg(o, limit_flag(a), a, v))
				return -1;
		} else {
			fprintf(stderr, "smsrd: unknown option %s\n%s", a, usage);
			return -1;
		}
	}
	return 0;
}

/*
 * Resident bytes of this process now, or 0 if unknown. Under a sanitizer
 * (the test builds) it is mostly the sanitizer's shadow memory (TSan: ~140
 * MB at start, against 16 MB in release), a cost of the build and not of
 * smsrd: 0 there, so the budget means the same in every build.
 */
static uint64_t rss_bytes(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return 0;
#endif
	f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

/*
 * router.memory_budget bounds smsrd as a whole: the status store's full
 * size (touched as it fills, over minutes), what the process holds once
 * set up (code, workers, buffers) and a sixteenth of the budget for what
 * the records' charge does not see (the allocator's partly used pages,
 * the lanes' rings) are charged to it; the router's messages get the rest.
 */
static int reserve_memory(struct srv *s)
{
	struct status_store_stats ss;
	struct smsr_stats st;
	uint64_t own;

	status_store_stats(s->st, &ss);
	smsr_router_stats(s->r, &st);
	own = ss.bytes + rss_bytes() + (st.mem_budget + st.mem_reserved) / 16;
	if (smsr_router_reserve_memory(s->r, own) < 0) {
		fprintf(stderr,
			"smsrd: router.memory_budget (%llu MB) leaves no room for messages: "
			"smsrd itself holds %llu MB (%llu MB of it the status store, "
			"smsrd.status_messages); raise the budget or lower status_messages\n",
			(unsigned long long)((st.mem_budget + st.mem_reserved) >> 20),
			(unsigned long long)(own >> 20), (unsigned long long)(ss.bytes >> 20));
		return -1;
	}
	return 0;
}

static void on_durable(void *arg, uint64_t seq)
{
	struct srv *s = arg;
	uint64_t one = 1;

	(void)seq;
	if (s->held_conns) /* answers wait: wake the loop */
		(void)!write(s->event_fd, &one, sizeof(one));
}

static void on_log(void *arg, const char *line)
{
	fprintf(stderr, "smsrd: %s\n", line);
}

/* DIR/journal for the router, DIR made to exist first. 0, or -1 said. */
static int journal_path(const struct smsrd_opts *o, char *out, size_t cap)
{
	struct stat st;

	if (stat(o->data_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "smsrd: data dir %s: %s\n", o->data_dir,
			errno ? strerror(errno) : "not a directory");
		return -1;
	}
	if ((size_t)snprintf(out, cap, "%s/journal", o->data_dir) >= cap) {
		fprintf(stderr, "smsrd: data dir %s: path too long\n", o->data_dir);
		return -1;
	}
	if (mkdir(out, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "smsrd: %s: %s\n", out, strerror(errno));
		return -1;
	}
	return 0;
}

static int make_router(struct srv *s, const char *cfg_path)
{
	struct smsr_config *cfg = NULL;
	struct smsr_router_opts ro = {.on_event = hub_event, .arg = s->hub};
	char err[512], jdir[300], hist[300];
	int rc;

	if (s->o.data_dir[0]) {
		if (journal_path(&s->o, jdir, sizeof(jdir)) < 0)
			return -1;
		ro.journal_dir = jdir;
		ro.journal_mode = s->o.journal_mode;
		ro.journal_batch_ms = s->o.journal_batch_ms;
		ro.journal_keep = s->o.journal_keep;
		snprintf(hist, sizeof(hist), "%s/history.db", s->o.data_dir);
		ro.archive_path = hist;
		ro.archive_retention_s = (s->o.history_days ? s->o.history_days : 7) * 86400u;
		ro.on_durable = on_durable;
		ro.on_log = on_log;
		ro.log_arg = s;
	}

	if (cfg_path) {
		if (smsr_config_create(&cfg) ||
		    smsr_config_load_file(cfg, cfg_path, err, sizeof(err))) {
			fprintf(stderr, "smsrd: %s: %s\n", cfg_path, err);
			smsr_config_destroy(cfg);
			return -1;
		}
	}
	rc = smsr_router_create(&s->r, cfg, &ro);
	smsr_config_destroy(cfg);
	if (rc) {
		fprintf(stderr, "smsrd: router: %s\n", smsr_strerror(rc));
		return -1;
	}
	/* Before the start: what the journal brings back is messages, not smsrd. */
	if (reserve_memory(s) < 0)
		return -1;
	rc = smsr_router_start(s->r);
	if (rc) {
		fprintf(stderr, "smsrd: router: %s\n", smsr_strerror(rc));
		return -1;
	}
	s->cfg_path = cfg_path;
	srv_refresh_channels(s);
	return 0;
}

int main(int argc, char **argv)
{
	static struct srv s;
	const char *cfg_path = NULL;
	struct timespec rt;
	sigset_t set;
	int rc = 1;

	defaults(&s.o);
	if (parse_args(&s.o, argc, argv, &cfg_path))
		return 2;
	/* Block the stop signals everywhere (the workers inherit this); the
	 * loop reads them from a signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	s.start_ns = smsr_now_ns();
	clock_gettime(CLOCK_REALTIME, &rt);
	s.wall_offset_ns =
	    (int64_t)((uint64_t)rt.tv_sec * SMSRD_S + (uint64_t)rt.tv_nsec) - (int64_t)s.start_ns;
	arena_init(&s.ar);
	s.event_fd = eventfd(0, EFD_CLOEXEC);
	s.hub = hub_create(16384, s.event_fd);
	if (!s.hub || status_store_create(&s.st, s.o.status_max ? s.o.status_max : 1024,
					  (uint64_t)s.o.status_retention_s * SMSRD_S)) {
		fprintf(stderr, "smsrd: out of memory\n");
		return 1;
	}
	/* status_messages = 0: no histories kept (status answers not_found). */
	hub_set_status(s.hub, s.o.status_max ? s.st : NULL);
	s.optout_fd = -1;
	if (make_router(&s, cfg_path) == 0 && optout_log_open(&s) == 0 && srv_listen(&s) == 0) {
		rc = srv_run(&s);
		if (!s.o.quiet) {
			struct smsr_stats st;
			uint64_t stopped, unknown;

			smsr_router_stats(s.r, &st);
			hub_stop_counts(s.hub, &stopped, &unknown);
			fprintf(stderr,
				"smsrd: stopped: %llu accepted, %llu delivered, %llu failed, "
				"%llu expired, %llu router_stopped (never sent), %llu "
				"outcome_unknown_at_stop (sent, delivery unknown); %llu "
				"connections served\n",
				(unsigned long long)st.accepted, (unsigned long long)st.delivered,
				(unsigned long long)(st.failed - stopped - unknown),
				(unsigned long long)st.expired, (unsigned long long)stopped,
				(unsigned long long)unknown,
				(unsigned long long)s.stats.conns_total);
		}
	}
	if (s.r)
		smsr_router_destroy(s.r);
	optout_log_close(&s);
	status_store_destroy(s.st);
	hub_destroy(s.hub);
	arena_fini(&s.ar);
	close(s.event_fd);
	for (unsigned i = 0; i < s.o.ntokens; i++)
		free(s.o.tokens[i]);
	for (unsigned i = 0; i < s.o.nadmin; i++)
		free(s.o.admin_tokens[i]);
	return rc;
}
