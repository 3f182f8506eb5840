/* SPDX-License-Identifier: MIT */
/*
 * Overload: smsrd on the embedded default configuration, flooded by
 * `smsr-load --rate 0` (as fast as it answers) for --seconds (default 20;
 * the reference run is 60), far beyond what the default channels send
 * (~2,800 segments/s in all). smsrd's resident memory is sampled from
 * /proc/PID/status every 250 ms.
 *
 *   overload_rss_mb_peak  the largest VmRSS seen, with the budget it ran
 *                         under (router.memory_budget of the default),
 *                         smsrd's RSS before the load, the curve (RSS at
 *                         each tenth of the run) and whether it plateaued:
 *                         last_third_growth_mb is the peak of the last
 *                         third of the run less the peak before it;
 *                         plateau when that is under 2% of the peak
 *   overload_probe_codes_accepted
 *                         one verification code a second, valid 60 s, on a
 *                         connection of its own during the flood (whose
 *                         codes, a fifth of it, fill the same lanes): how
 *                         many were accepted (the others were answered
 *                         busy), how many of those were handed off and how
 *                         many expired, and the slowest one's wait for
 *                         hand-off, from a subscription to the probes' events
 *
 * Bounded: the load runs --seconds (and is stopped 30 s later if still
 * running); the bench then waits at most the probes' validity and 10 s for
 * their hand-offs, then stops smsrd. smsrd and smsr-load are started
 * from the directory of this program (the build tree), on loopback.
 */
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "cfg/cfg.h"
#include "smsr/client.h"

#define SAMPLE_MS	  250
#define PROBES_MAX	  600
#define CURVE		  10
#define PROBE_VALIDITY_MS 60000 /* what a login code is worth */

static char bindir[4096], smsrd_addr[64], load_json[512];
static pid_t smsrd_pid, load_pid;

static int spawn_smsrd(const char *dir)
{
	char bin[4200], ready[128];

	snprintf(bin, sizeof(bin), "%s/smsrd", bindir);
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	smsrd_pid = fork();
	if (smsrd_pid == 0) {
		execl(bin, "smsrd", "-q", "--tcp", "127.0.0.1:0", "--unix", "off", "--ready-file",
		      ready, (char *)NULL);
		_exit(127);
	}
	return smsrd_pid > 0 ? bench_wait_ready(ready, smsrd_addr) : -1;
}

/* smsr-load --rate 0 for @seconds, its JSON summary into @out. */
static int spawn_load(unsigned seconds, const char *out)
{
	char bin[4200], dur[16];

	snprintf(bin, sizeof(bin), "%s/smsr-load", bindir);
	snprintf(dur, sizeof(dur), "%u", seconds);
	load_pid = fork();
	if (load_pid == 0) {
		if (!freopen(out, "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(126);
		execl(bin, "smsr-load", "-a", smsrd_addr, "--rate", "0", "--duration", dur,
		      "--json", (char *)NULL);
		_exit(127);
	}
	return load_pid > 0 ? 0 : -1;
}

static double rss_mb(pid_t pid)
{
	char path[64], line[256];
	double kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atof(line + 6);
	fclose(f);
	return kb / 1024;
}

/* --- probe codes ----------------------------------------------------------- */
struct probes {
	pthread_t t;
	_Atomic int stop; /* send no more; wait (30 s at most) for those accepted */
	unsigned sent, accepted, busy, other, expired, left;
	uint64_t wait_ns_max;
	bool open[PROBES_MAX]; /* accepted, not yet handed off or expired */
};

static void probe_event(struct probes *p, const Smsr__V1__Event *e)
{
	unsigned k;

	if (!e->client_ref || sscanf(e->client_ref, "probe-%u", &k) != 1 || k >= p->sent ||
	    !p->open[k])
		return;
	p->open[k] = false;
	if (e->type == SMSR__V1__EVENT_TYPE__EVENT_TYPE_HANDOFF) {
		p->left++;
		if (e->time_unix_ns > e->accepted_unix_ns &&
		    e->time_unix_ns - e->accepted_unix_ns > p->wait_ns_max)
			p->wait_ns_max = e->time_unix_ns - e->accepted_unix_ns;
	} else {
		p->expired++;
	}
}

static bool probes_open(const struct probes *p)
{
	for (unsigned k = 0; k < p->sent; k++)
		if (p->open[k])
			return true;
	return false;
}

static void probe_send(struct probes *p, struct smsr_client *c)
{
	static const char *const to[] = {"13812345678", "13012345678", "13312345678"};
	static const char text[] = "【淘宝网】验证码 528104，您正在登录淘宝，切勿告知他人。";
	char ref[32];
	struct smsr_msg m = {.recipient = to[p->sent % 3],
			     .text = text,
			     .text_len = sizeof(text) - 1,
			     .cls = SMSR_CLASS_VERIFICATION,
			     .validity_ms = PROBE_VALIDITY_MS,
			     .client_ref = ref};
	struct smsr_result res;
	int rc;

	snprintf(ref, sizeof(ref), "probe-%u", p->sent);
	rc = smsr_client_submit(c, &m, 1, &res, 10000);
	if (rc == 1) {
		p->accepted++;
		p->open[p->sent] = true;
	} else if (rc == 0 && res.status == -SMSR_EBUSY) {
		p->busy++;
	} else {
		p->other++;
	}
	p->sent++;
}

static void *probe_main(void *arg)
{
	struct probes *p = arg;
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubscribeRequest sub = SMSR__V1__SUBSCRIBE_REQUEST__INIT;
	Smsr__V1__EventType types[] = {SMSR__V1__EVENT_TYPE__EVENT_TYPE_HANDOFF,
				       SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED,
				       SMSR__V1__EVENT_TYPE__EVENT_TYPE_EXPIRED};
	struct smsr_client *c;
	Smsr__V1__Response *r;
	uint64_t next = bench_now_ns(), until = 0;

	if (smsr_client_connect(&c, smsrd_addr, NULL) < 0)
		return NULL;
	sub.n_types = 3;
	sub.types = types;
	sub.client_ref_prefix = "probe-";
	req.body_case = SMSR__V1__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	if (smsr_client_call(c, &req, &r, 5000) < 0) {
		smsr_client_close(c);
		return NULL;
	}
	smsr_client_free(r);
	for (;;) {
		if (atomic_load(&p->stop) && !until)
			until = bench_now_ns() + (PROBE_VALIDITY_MS + 10000) * 1000000ull;
		if (until && (!probes_open(p) || bench_now_ns() > until))
			break;
		if (!until && bench_now_ns() >= next && p->sent < PROBES_MAX) {
			probe_send(p, c);
			next += 1000000000ull;
		}
		while (smsr_client_recv(c, &r, 50) == 0) {
			if (r->body_case == SMSR__V1__RESPONSE__BODY_EVENT)
				probe_event(p, r->event);
			smsr_client_free(r);
		}
	}
	smsr_client_close(c);
	return NULL;
}

/* --- the run ------------------------------------------------------------------ */
static uint64_t default_budget(void)
{
	struct smsr_config *cfg;
	uint64_t b = 0;

	if (smsr_config_create(&cfg) == 0 &&
	    smsr_config_parse(cfg, smsr_config_default_text(), NULL, 0) == 0)
		b = cfg->memory_budget;
	smsr_config_destroy(cfg);
	return b;
}

static double max_of(const double *v, size_t from, size_t to)
{
	double m = 0;

	for (size_t i = from; i < to; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

static long json_field(const char *json, const char *key)
{
	char pat[64];
	const char *at;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	at = strstr(json, pat);
	return at ? atol(at + strlen(pat)) : -1;
}

static void report(const double *rss, size_t n, double idle, unsigned seconds, uint64_t budget,
		   const struct probes *p)
{
	double peak = max_of(rss, 0, n),
	       growth = max_of(rss, n * 2 / 3, n) - max_of(rss, 0, n * 2 / 3);
	double curve[CURVE];
	char extra[1024];

	for (int i = 0; i < CURVE; i++)
		curve[i] = rss[(size_t)(i + 1) * n / CURVE - 1];
	snprintf(extra, sizeof(extra),
		 ",\"seconds\":%u,\"budget_mb\":%.0f,\"idle_rss_mb\":%.1f,"
		 "\"last_third_growth_mb\":%.1f,\"plateau\":%s,\"accepted\":%ld,\"rejected\":%ld,"
		 "\"load_msgs_per_sec\":%ld",
		 seconds, (double)budget / (1 << 20), idle, growth,
		 growth < 0.02 * peak ? "true" : "false", json_field(load_json, "accepted"),
		 json_field(load_json, "rejected"), json_field(load_json, "msgs_per_sec"));
	bench_append_array(extra, sizeof(extra), "curve_mb", curve, CURVE);
	bench_emit("overload", "overload_rss_mb_peak", peak, "MB", 1, extra);
	snprintf(extra, sizeof(extra),
		 ",\"probe_validity_s\":%d,\"probes\":%u,\"busy\":%u,\"other\":%u,"
		 "\"handed_off\":%u,\"expired\":%u,\"handoff_wait_ms_max\":%.1f",
		 PROBE_VALIDITY_MS / 1000, p->sent, p->busy, p->other, p->left, p->expired,
		 (double)p->wait_ns_max / 1e6);
	bench_emit("overload", "overload_probe_codes_accepted", p->accepted, "codes", 1, extra);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/smsr-bench-overload-XXXXXX", out[128], exe[4096], cmd[160];
	unsigned seconds =
	    argc == 3 && !strcmp(argv[1], "--seconds") ? (unsigned)atoi(argv[2]) : 20;
	static double rss[(3600 + 60) * 1000 / SAMPLE_MS];
	static struct probes p;
	size_t n = 0, cap = sizeof(rss) / sizeof(rss[0]);
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	uint64_t t0, budget = default_budget();
	double idle;
	FILE *f;

	if (seconds < 3 || seconds > 3600 || len <= 0 || !mkdtemp(dir)) {
		fprintf(stderr, "usage: bench_overload [--seconds 3..3600]\n");
		return 2;
	}
	exe[len] = '\0';
	snprintf(bindir, sizeof(bindir), "%s", dirname(exe));
	snprintf(out, sizeof(out), "%s/load.json", dir);
	signal(SIGPIPE, SIG_IGN);
	if (spawn_smsrd(dir) < 0) {
		fprintf(stderr, "bench_overload: cannot start smsrd next to this program\n");
		goto out;
	}
	sleep(1);
	idle = rss_mb(smsrd_pid);
	if (spawn_load(seconds, out) < 0 || pthread_create(&p.t, NULL, probe_main, &p))
		goto out;
	/* Sample until the load is done (bounded: its duration and 30 s). */
	t0 = bench_now_ns();
	while (n < cap && bench_now_ns() - t0 < (seconds + 30) * 1000000000ull) {
		if (waitpid(load_pid, NULL, WNOHANG) == load_pid) {
			load_pid = 0;
			break;
		}
		rss[n++] = rss_mb(smsrd_pid);
		usleep(SAMPLE_MS * 1000);
	}
	atomic_store(&p.stop, 1);
	pthread_join(p.t, NULL);
	f = fopen(out, "r");
	if (f) {
		if (!fgets(load_json, sizeof(load_json), f))
			load_json[0] = '\0';
		fclose(f);
	}
	if (n >= CURVE)
		report(rss, n, idle, seconds, budget, &p);
out:
	if (load_pid > 0) {
		kill(load_pid, SIGTERM);
		waitpid(load_pid, NULL, 0);
	}
	if (smsrd_pid > 0) {
		kill(smsrd_pid, SIGTERM);
		waitpid(smsrd_pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	return n >= CURVE ? 0 : 1;
}
