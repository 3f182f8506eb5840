/* SPDX-License-Identifier: MIT */
/*
 * Description: the router with a journal (public API): accepted messages
 * are durable once smsr_router_durable_seq() passes their durable_seq, and
 * on_durable says so; a process that dies without stopping (a child that
 * _exit()s with messages queued, in flight and awaiting receipts) leaves
 * them in the journal, and the next router on the same directory brings
 * every one back with its id: queued ones are sent, those awaiting a
 * receipt wait for it (here: until their report timeout), codes handed off
 * with no answer are resent, promotions in that state fail unknown_outcome.
 * Every message the child had acknowledged reaches exactly one final state.
 * New ids are above the old ones. A second router on a locked directory is
 * refused.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "evlog.h"
#include "smsr/smsr.h"

#define N_PER_CLASS 100

/* Remove @dir and the files in it (segments, LOCK). */
static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

struct durable_seen {
	_Atomic uint64_t calls, last;
};

static void on_durable(void *arg, uint64_t seq)
{
	struct durable_seen *d = arg;

	atomic_fetch_add(&d->calls, 1);
	atomic_store(&d->last, seq);
}

static struct smsr_router *open_router(const char *dir, const char *cfg_text, struct evlog *log,
				       struct durable_seen *d, int *err)
{
	struct smsr_config *cfg = test_config(cfg_text);
	struct smsr_router_opts o = {.on_event = log ? evlog_cb : NULL,
				     .arg = log,
				     .journal_dir = dir,
				     .on_durable = on_durable,
				     .log_arg = d};
	struct smsr_router *r = NULL;

	*err = smsr_router_create(&r, cfg, &o);
	smsr_config_destroy(cfg);
	return r;
}

/* Slow channels: some messages stay queued, some in flight, some await
 * their reports when the child dies. */
/* Slow channels, promotions on A and the rest on B: some messages stay
 * queued, some in flight, some await their reports when the child dies. */
static const char *cfg_slow =
    "channels = ( { name = \"A\"; driver = \"sim\"; classes = [\"marketing\"]; tps = 200;\n"
    "  window = 20; params = { latency_ms = 300; dlr_delay_ms = 60000; }; },\n"
    " { name = \"B\"; driver = \"sim\"; classes = [\"verification\", \"notice\"]; tps = 200;\n"
    "  window = 20; params = { latency_ms = 300; dlr_delay_ms = 60000; }; } );\n"
    "routes = ( { classes = [\"marketing\"]; groups = ( [\"A\"] ); },\n"
    "  { classes = [\"verification\", \"notice\"]; groups = ( [\"B\"] ); } );\n";

/* The same channels, fast now; receipts the sim never sends for the old
 * carrier ids end with the report timeout (and their silence must not open
 * the breaker as no_reports, which would resend the codes). */
static const char *cfg_fast =
    "router = { health = { report_silence = \"1h\"; }; };\n"
    "channels = ( { name = \"A\"; driver = \"sim\"; classes = [\"marketing\"];\n"
    "  dlr_timeout = \"2s\"; params = { latency_ms = 1; dlr_delay_ms = 5; }; },\n"
    " { name = \"B\"; driver = \"sim\"; classes = [\"verification\", \"notice\"];\n"
    "  dlr_timeout = \"2s\"; params = { latency_ms = 1; dlr_delay_ms = 5; }; } );\n"
    "routes = ( { classes = [\"marketing\"]; groups = ( [\"A\"] ); },\n"
    "  { classes = [\"verification\", \"notice\"]; groups = ( [\"B\"] ); } );\n";

static void child(const char *dir, int out)
{
	static const enum smsr_class cls[3] = {SMSR_CLASS_VERIFICATION, SMSR_CLASS_NOTICE,
					       SMSR_CLASS_MARKETING};
	struct durable_seen d = {0};
	struct smsr_router *r;
	uint64_t need = 0;
	int err;

	r = open_router(dir, cfg_slow, NULL, &d, &err);
	if (!r || smsr_router_start(r) < 0)
		_exit(2);
	for (int i = 0; i < 3 * N_PER_CLASS; i++) {
		const char *t = "Your code is 123456";
		struct smsr_msg m = {.recipient = "13812345678",
				     .text = t,
				     .text_len = strlen(t),
				     .cls = cls[i % 3]};
		struct smsr_result res;

		if (smsr_router_submit(r, &m, &res) != 0)
			_exit(3);
		if (res.durable_seq > need)
			need = res.durable_seq;
		/* Acknowledged only once durable, as a host would. */
		while (smsr_router_durable_seq(r) < res.durable_seq)
			usleep(100);
		if (write(out, &res.id, sizeof(res.id)) != sizeof(res.id))
			_exit(4);
	}
	if (atomic_load(&d.calls) == 0 || atomic_load(&d.last) < need)
		_exit(5);
	usleep(400 * 1000); /* some go out, some are answered */
	_exit(0);	    /* dies: no stop, no final events, no journal close */
}

static void test_journal_brings_back_what_a_crash_left(void **state)
{
	char dir[] = "/tmp/smsr-jr-XXXXXX";
	uint64_t ids[3 * N_PER_CLASS], max_old = 0;
	struct durable_seen d = {0};
	struct evlog log;
	struct smsr_router *r;
	int pipefd[2], status, err, n = 0;
	pid_t pid;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		child(dir, pipefd[1]);
	}
	close(pipefd[1]);
	while (n < 3 * N_PER_CLASS && read(pipefd[0], &ids[n], sizeof(ids[n])) == sizeof(ids[n]))
		max_old = ids[n] > max_old ? ids[n] : max_old, n++;
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(n, 3 * N_PER_CLASS);

	evlog_init(&log);
	r = open_router(dir, cfg_fast, &log, &d, &err);
	assert_int_equal(err, 0);
	assert_int_equal(smsr_router_start(r), 0);
	assert_true(evlog_wait_finals(&log, (uint64_t)n, 20000));
	for (int i = 0; i < n; i++)
		assert_int_equal(evlog_finals_of(&log, ids[i]), 1);
	assert_int_equal(evlog_not_one_final(&log), 0);
	{
		long unk = 0, dlrto = 0;

		pthread_mutex_lock(&log.lock);
		for (size_t i = 0; i < log.n; i++) {
			unk += log.v[i].type == SMSR_EV_FAILED &&
			       log.v[i].reason == -SMSR_EUNKNOWNOUTCOME;
			dlrto +=
			    log.v[i].type == SMSR_EV_FAILED && log.v[i].reason == -SMSR_EDLRTIMEOUT;
		}
		pthread_mutex_unlock(&log.lock);
		fprintf(stderr,
			"back after the crash: %d; delivered %llu, awaited their receipts %ld, "
			"unknown outcome %ld\n",
			n, (unsigned long long)evlog_count(&log, SMSR_EV_DELIVERED), dlrto, unk);
		/* The crash left some in each state. */
		assert_true(dlrto > 0);
		assert_true(unk > 0);
		assert_true(evlog_count(&log, SMSR_EV_DELIVERED) > 0);
	}
	/* Promotions handed off with no answer are not sent twice. */
	assert_int_equal(evlog_count(&log, SMSR_EV_DELIVERED) + evlog_count(&log, SMSR_EV_FAILED) +
			     evlog_count(&log, SMSR_EV_EXPIRED),
			 (uint64_t)n);
	{
		const char *t = "Your parcel is out";
		struct smsr_msg m = {.recipient = "13812345678", .text = t, .text_len = strlen(t)};
		struct smsr_result res;

		assert_int_equal(smsr_router_submit(r, &m, &res), 0);
		assert_true(res.id > max_old);
	}
	smsr_router_destroy(r);
	evlog_fini(&log);

	/* Everything ended: a third start finds nothing to bring back. */
	evlog_init(&log);
	r = open_router(dir, cfg_fast, &log, &d, &err);
	assert_int_equal(err, 0);
	assert_int_equal(smsr_router_start(r), 0);
	sleep_ms(300);
	assert_int_equal(evlog_count(&log, SMSR_EV_ACCEPTED), 0);
	smsr_router_destroy(r);
	evlog_fini(&log);
	rm_dir(dir);
}

static void test_journal_directory_is_locked(void **state)
{
	char dir[] = "/tmp/smsr-jl-XXXXXX";
	struct durable_seen d = {0};
	struct smsr_router *a, *b;
	int err;

	assert_non_null(mkdtemp(dir));
	a = open_router(dir, cfg_fast, NULL, &d, &err);
	assert_int_equal(err, 0);
	b = open_router(dir, cfg_fast, NULL, &d, &err);
	assert_null(b);
	assert_int_equal(err, -SMSR_EJOURNALLOCKED);
	smsr_router_destroy(a);
	/* Released with the router. */
	b = open_router(dir, cfg_fast, NULL, &d, &err);
	assert_int_equal(err, 0);
	smsr_router_destroy(b);
	/* A directory that is not there is a clear error. */
	b = open_router("/nonexistent/smsr-journal", cfg_fast, NULL, &d, &err);
	assert_null(b);
	assert_int_equal(err, -SMSR_ECONFIG);
	rm_dir(dir);
}

struct hist {
	unsigned n;
	uint8_t types[32];
	char chan[32], msgid[64];
};

static int on_hist_event(void *arg, const struct smsr_history_event *ev)
{
	struct hist *h = arg;

	if (h->n < 32)
		h->types[h->n] = ev->type;
	h->n++;
	if (ev->channel)
		snprintf(h->chan, sizeof(h->chan), "%s", ev->channel);
	if (ev->carrier_msgid)
		snprintf(h->msgid, sizeof(h->msgid), "%s", ev->carrier_msgid);
	return 0;
}

static int on_hist_msg(void *arg, const struct smsr_history_msg *m)
{
	unsigned *n = arg;

	(*n)++;
	return 0;
}

/* A message's history, by id, once its final event is archived (bounded). */
static struct hist history_of(struct smsr_router *r, uint64_t id)
{
	struct hist h;

	for (int i = 0; i < 300; i++) {
		struct smsr_history_page pg = {0};

		memset(&h, 0, sizeof(h));
		assert_true(smsr_router_history(r, id, &pg, on_hist_event, &h) >= 0);
		if (h.n &&
		    (h.types[h.n - 1] == SMSR_EV_DELIVERED || h.types[h.n - 1] == SMSR_EV_FAILED))
			break;
		sleep_ms(10);
	}
	return h;
}

/* The history archive: a message's events by id, messages by client
 * reference and by number in a time range, a channel's events; and all of
 * it still there after a restart. */
static void test_journal_history_survives_restart(void **state)
{
	char dir[] = "/tmp/smsr-jh-XXXXXX", db[64];
	struct durable_seen d = {0};
	struct evlog log;
	struct smsr_config *cfg;
	struct smsr_router_opts o = {.on_event = evlog_cb, .arg = &log, .log_arg = &d};
	struct smsr_router *r;
	struct smsr_result res;
	struct smsr_msg m = {.recipient = "13812345678",
			     .text = "Your parcel is out",
			     .text_len = 18,
			     .client_ref = "order-77"};
	struct smsr_history_page pg = {0};
	struct hist h;
	unsigned nmsg = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/history.db", dir);
	o.journal_dir = dir;
	o.archive_path = db;
	for (int round = 0; round < 2; round++) {
		evlog_init(&log);
		cfg = test_config(cfg_fast);
		assert_int_equal(smsr_router_create(&r, cfg, &o), 0);
		smsr_config_destroy(cfg);
		assert_int_equal(smsr_router_start(r), 0);
		if (round == 0) {
			assert_int_equal(smsr_router_submit(r, &m, &res), 0);
			assert_true(evlog_wait_finals(&log, 1, 5000));
		}
		h = history_of(r, res.id);
		/* accepted, handed off, submitted (carrier id), delivered */
		assert_int_equal(h.n, 4);
		assert_int_equal(h.types[0], SMSR_EV_ACCEPTED);
		assert_int_equal(h.types[1], SMSR_EV_HANDOFF);
		assert_int_equal(h.types[2], SMSR_EV_SUBMITTED);
		assert_int_equal(h.types[3], SMSR_EV_DELIVERED);
		assert_string_equal(h.chan, "B");
		assert_true(strlen(h.msgid) > 0);
		nmsg = 0;
		memset(&pg, 0, sizeof(pg));
		assert_int_equal(smsr_router_history_by_ref(r, "order-77", &pg, on_hist_msg, &nmsg),
				 1);
		assert_int_equal(nmsg, 1);
		nmsg = 0;
		memset(&pg, 0, sizeof(pg));
		assert_int_equal(smsr_router_history_by_recipient(
				     r, "+8613812345678", 0, UINT64_MAX, &pg, on_hist_msg, &nmsg),
				 1);
		memset(&h, 0, sizeof(h));
		memset(&pg, 0, sizeof(pg));
		assert_true(smsr_router_history_by_channel(r, "B", 0, UINT64_MAX, &pg,
							   on_hist_event, &h) >= 3);
		smsr_router_destroy(r);
		evlog_fini(&log);
	}
	rm_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_journal_brings_back_what_a_crash_left),
	    cmocka_unit_test(test_journal_directory_is_locked),
	    cmocka_unit_test(test_journal_history_survives_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
