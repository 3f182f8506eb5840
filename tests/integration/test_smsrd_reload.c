/* SPDX-License-Identifier: MIT */
/*
 * Description: live reconfiguration of the real smsrd. Started on a config
 * file routing to channel A, it is sent SIGHUP after the file changed to
 * route to a new channel B: new messages go to B, A is gone. A broken file
 * and SIGHUP: rejected, B still takes messages. Then the admin protocol: a
 * reload call with a document (C added and routed to), a bad document
 * (invalid_config, nothing changes), and channel_admin add. Every wait is
 * bounded.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "smsr/client.h"

#define CALL_MS 5000

static const char *cfg_a = "channels = ( { name = \"A\"; driver = \"sim\"; } );\n"
			   "routes = ( { groups = ( [\"A\"] ); } );\n";
static const char *cfg_b = "channels = ( { name = \"B\"; driver = \"sim\"; } );\n"
			   "routes = ( { groups = ( [\"B\"] ); } );\n";
static const char *cfg_bc = "channels = ( { name = \"B\"; driver = \"sim\"; },\n"
			    "             { name = \"C\"; driver = \"sim\"; } );\n"
			    "routes = ( { groups = ( [\"C\"] ); } );\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Submit one notice; the name of the channel it was queued on (static). */
static const char *submit_channel(struct smsr_client *c)
{
	static char name[64];
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__SubmitRequest sr = SMSR__V1__SUBMIT_REQUEST__INIT;
	Smsr__V1__Message m, *mp = &m;
	struct smsr_msg msg = {.recipient = "+8613812345678",
			       .text = "Your parcel has shipped",
			       .text_len = 23,
			       .cls = SMSR_CLASS_NOTICE};
	Smsr__V1__Response *r = NULL;

	smsr_client_msg_to_pb(&m, &msg);
	sr.n_messages = 1;
	sr.messages = &mp;
	req.body_case = SMSR__V1__REQUEST__BODY_SUBMIT;
	req.submit = &sr;
	assert_int_equal(smsr_client_call(c, &req, &r, CALL_MS), 0);
	assert_null(r->error);
	assert_int_equal(r->submit->n_results, 1);
	assert_int_equal(r->submit->results[0]->status, 0);
	snprintf(name, sizeof(name), "%s", r->submit->results[0]->channel);
	smsr_client_free(r);
	return name;
}

/* Poll (bounded) until a submit lands on @want. */
static void wait_channel(struct smsr_client *c, const char *want)
{
	for (int i = 0; i < 200; i++) {
		if (strcmp(submit_channel(c), want) == 0)
			return;
		usleep(25000);
	}
	fail_msg("messages never went to %s", want);
}

/* A reload call with @text; returns 0 or the error code (negative). */
static int reload_call(struct smsr_client *c, const char *text, size_t *nchans)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__ReloadRequest rl = SMSR__V1__RELOAD_REQUEST__INIT;
	Smsr__V1__Response *r = NULL;
	int rc;

	rl.config = strdup(text);
	req.body_case = SMSR__V1__REQUEST__BODY_RELOAD;
	req.reload = &rl;
	assert_int_equal(smsr_client_call(c, &req, &r, CALL_MS), 0);
	free(rl.config);
	rc = smsr_client_error(r);
	if (rc == 0 && nchans)
		*nchans = r->reload->n_channels;
	smsr_client_free(r);
	return rc;
}

static int add_call(struct smsr_client *c, const char *name, const char *text)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__ChannelAdminRequest a = SMSR__V1__CHANNEL_ADMIN_REQUEST__INIT;
	Smsr__V1__ChannelAdd add = SMSR__V1__CHANNEL_ADD__INIT;
	Smsr__V1__Response *r = NULL;
	int rc;

	add.config = strdup(text);
	a.name = strdup(name);
	a.op_case = SMSR__V1__CHANNEL_ADMIN_REQUEST__OP_ADD;
	a.add = &add;
	req.body_case = SMSR__V1__REQUEST__BODY_CHANNEL_ADMIN;
	req.channel_admin = &a;
	assert_int_equal(smsr_client_call(c, &req, &r, CALL_MS), 0);
	free(add.config);
	free(a.name);
	rc = smsr_client_error(r);
	if (rc == 0)
		assert_string_equal(r->channel_admin->channel->name, name);
	smsr_client_free(r);
	return rc;
}

static void test_smsrd_reloads_live(void **state)
{
	char path[] = "/tmp/smsr-reload-XXXXXX";
	int fd = mkstemp(path);
	const char *args[] = {"-c", path, NULL};
	struct smsr_client_opts o = {.timeout_ms = CALL_MS};
	struct smsrd_proc p;
	struct smsr_client *c = NULL;
	size_t n = 0;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, cfg_a);
	assert_int_equal(smsrd_start(&p, args), 0);
	assert_int_equal(smsr_client_connect(&c, p.tcp_addr, &o), 0);
	assert_string_equal(submit_channel(c), "A");
	/* SIGHUP with a new file: B replaces A. */
	write_file(path, cfg_b);
	assert_int_equal(kill(p.pid, SIGHUP), 0);
	wait_channel(c, "B");
	/* A broken file: rejected, B stays. */
	write_file(path, "channels = ( { name = \"X\"; driver = \"sim\"; } ); routes = oops;\n");
	assert_int_equal(kill(p.pid, SIGHUP), 0);
	usleep(200000);
	assert_string_equal(submit_channel(c), "B");
	/* Over the protocol: a document adds C and routes to it. */
	assert_int_equal(reload_call(c, cfg_bc, &n), 0);
	assert_int_equal(n, 3); /* A (removed), B, C */
	assert_string_equal(submit_channel(c), "C");
	assert_int_equal(reload_call(c, "channels = ( );", NULL), -SMSR_ECONFIG);
	assert_int_equal(reload_call(c, cfg_a, NULL) == 0, 1); /* and back to A */
	assert_string_equal(submit_channel(c), "A");
	/* channel_admin add: the named channel opens; a name mismatch is refused. */
	assert_int_equal(add_call(c, "D", "{ name = \"D\"; driver = \"sim\"; }"), 0);
	assert_int_equal(add_call(c, "E", "{ name = \"F\"; driver = \"sim\"; }"), -SMSR_ECONFIG);
	assert_int_equal(add_call(c, "D", "{ name = \"D\"; driver = \"sim\"; }"), -SMSR_EEXIST);
	smsr_client_close(c);
	assert_int_equal(smsrd_stop(&p), 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_smsrd_reloads_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
