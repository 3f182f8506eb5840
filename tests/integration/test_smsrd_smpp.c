/* SPDX-License-Identifier: MIT */
/*
 * Description: smsrd with an SMPP channel (a config file, as an operator
 * writes it) to a real SMSC (tests/peers/smsc.js) on loopback, over the
 * wire protocol: submitted messages reach the SMSC and their status ends
 * as the receipts say (delivered; failed undelivered with the operator's
 * code), the status history keeps the carrier's message id; an MO "TD"
 * from the SMSC opts the sender out of marketing; and a wrong password
 * leaves the channel down with reason bind_failed and exactly one log
 * line however often the bind is retried. Skips (77) without node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "evlog.h"
#include "smsc.h"
#include "smsr/client.h"

#define CALL_MS 5000

struct rig {
	struct smsc_proc smsc;
	struct smsrd_proc d;
	struct smsr_client *c;
	char conf[128], log[128];
};

static void rig_start(struct rig *g, const char *const *peer, const char *password)
{
	struct smsr_client_opts o = {.timeout_ms = CALL_MS};
	FILE *f;

	assert_int_equal(smsc_start(&g->smsc, peer), 0);
	snprintf(g->conf, sizeof(g->conf), "%s/smsr.conf", g->smsc.dir);
	snprintf(g->log, sizeof(g->log), "%s/smsrd.log", g->smsc.dir);
	f = fopen(g->conf, "w");
	assert_non_null(f);
	fprintf(f,
		"# One SMPP channel, as docs/config.md shows it.\n"
		"channels = ( {\n"
		"  name = \"cmcc-smpp\"; driver = \"smpp\"; window = 64; tps = 500;\n"
		"  params = { host = \"127.0.0.1\"; port = \"%d\"; system_id = \"smsr\";\n"
		"             password = \"%s\"; source_addr = \"10690001\";\n"
		"             reconnect_min = \"200\"; reconnect_max = \"400\"; };\n"
		"} );\n"
		"routes = ( { groups = ( [\"cmcc-smpp\"] ); } );\n",
		g->smsc.port, password);
	fclose(f);
	assert_int_equal(smsrd_start_logged(&g->d, (const char *[]){"-c", g->conf, NULL}, g->log),
			 0);
	assert_int_equal(smsr_client_connect(&g->c, g->d.tcp_addr, &o), 0);
}

static void rig_stop(struct rig *g)
{
	smsr_client_close(g->c);
	assert_int_equal(smsrd_stop(&g->d), 0);
	unlink(g->conf);
	unlink(g->log);
	smsc_stop(&g->smsc);
}

/* The channel's state from the channels call, or -1. */
static int chan_state(struct smsr_client *c, char *reason, size_t cap)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__ChannelListRequest cl = SMSR__V1__CHANNEL_LIST_REQUEST__INIT;
	Smsr__V1__Response *r = NULL;
	int st = -1;

	req.body_case = SMSR__V1__REQUEST__BODY_CHANNEL_LIST;
	req.channel_list = &cl;
	assert_int_equal(smsr_client_call(c, &req, &r, CALL_MS), 0);
	if (r->channel_list && r->channel_list->n_channels) {
		st = (int)r->channel_list->channels[0]->state;
		if (reason)
			snprintf(reason, cap, "%s", r->channel_list->channels[0]->down_reason);
	}
	smsr_client_free(r);
	return st;
}

static bool wait_state(struct smsr_client *c, int want, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 20) {
		if (chan_state(c, NULL, 0) == want)
			return true;
		sleep_ms(20);
	}
	return false;
}

/* The message's latest state name ("delivered", ...) and its carrier id. */
static void status_of(struct smsr_client *c, uint64_t id, char *state, size_t cap, char *msgid,
		      size_t mcap, int *op_code)
{
	Smsr__V1__Request req = SMSR__V1__REQUEST__INIT;
	Smsr__V1__StatusRequest st = SMSR__V1__STATUS_REQUEST__INIT;
	Smsr__V1__Response *r = NULL;

	st.key_case = SMSR__V1__STATUS_REQUEST__KEY_ID;
	st.id = id;
	req.body_case = SMSR__V1__REQUEST__BODY_STATUS;
	req.status = &st;
	assert_int_equal(smsr_client_call(c, &req, &r, CALL_MS), 0);
	state[0] = msgid[0] = '\0';
	if (r->status && r->status->n_messages) {
		const Smsr__V1__MessageStatus *ms = r->status->messages[0];

		for (size_t i = 0; i < ms->n_history; i++) {
			const Smsr__V1__Event *e = ms->history[i];

			snprintf(state, cap, "%d", (int)e->type);
			if (e->carrier_msgid && e->carrier_msgid[0])
				snprintf(msgid, mcap, "%s", e->carrier_msgid);
			*op_code = (int)e->op_code;
		}
	}
	smsr_client_free(r);
}

static int setup(void **state)
{
	if (!smsc_available()) {
		fprintf(stderr, "skipped: node or tests/peers/node_modules missing\n");
		exit(77);
	}
	return 0;
}

static void test_smsrd_smpp_submits_follow_receipts(void **state)
{
	struct rig g;
	struct smsr_msg m[2] = {
	    {.recipient = "+8613812345678", .text = "Your code is 381920", .text_len = 19},
	    {.recipient = "+8613900001111", .text = "Your parcel is out", .text_len = 18},
	};
	struct smsr_result res[2];
	char st[16], msgid[64];
	int op = 0;

	rig_start(&g, (const char *[]){"--receipt-rule", "8613900:UNDELIV:034", NULL}, "secret");
	assert_true(wait_state(g.c, SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_UP, 5000));
	assert_int_equal(smsr_client_submit(g.c, m, 2, res, CALL_MS), 2);
	assert_true(smsc_wait(&g.smsc, "receipts_acked", 2, 10000));
	for (int i = 0; i < 250; i++) {
		status_of(g.c, res[1].id, st, sizeof(st), msgid, sizeof(msgid), &op);
		if (atoi(st) == SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED)
			break;
		sleep_ms(20);
	}
	assert_int_equal(atoi(st), SMSR__V1__EVENT_TYPE__EVENT_TYPE_FAILED);
	assert_int_equal(op, 34);
	status_of(g.c, res[0].id, st, sizeof(st), msgid, sizeof(msgid), &op);
	assert_int_equal(atoi(st), SMSR__V1__EVENT_TYPE__EVENT_TYPE_DELIVERED);
	/* The carrier's id, as the SMSC gave it, in the history. */
	assert_true(strlen(msgid) >= 8);
	assert_int_equal(
	    smsc_log_wait(&g.smsc, (const char *[]){"\"submit_sm\"", msgid, NULL}, 1, 3000), 1);
	rig_stop(&g);
}

static void test_smsrd_smpp_mo_td_opts_out(void **state)
{
	struct rig g;
	struct smsr_msg m = {.recipient = "+8613800000001",
			     .text = "【店铺】双11大促，全场5折，回TD退订",
			     .cls = SMSR_CLASS_MARKETING};
	struct smsr_result res;

	m.text_len = strlen(m.text);
	rig_start(&g, NULL, "secret");
	assert_true(wait_state(g.c, SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_UP, 5000));
	assert_int_equal(smsc_ctl(&g.smsc,
				  "{\"cmd\":\"mo\",\"from\":\"+8613800000001\",\"to\":\"10690001\","
				  "\"text\":\"退订\"}",
				  NULL, 0),
			 0);
	assert_true(smsc_wait(&g.smsc, "mos_acked", 1, 5000));
	for (int i = 0; i < 100; i++) {
		assert_true(smsr_client_submit(g.c, &m, 1, &res, CALL_MS) >= 0);
		if (res.status == -SMSR_EOPTEDOUT)
			break;
		sleep_ms(20);
	}
	assert_int_equal(res.status, -SMSR_EOPTEDOUT);
	rig_stop(&g);
}

static void test_smsrd_smpp_wrong_password_logs_once(void **state)
{
	struct rig g;
	char reason[64] = "";
	long lines = 0;
	FILE *f;
	char line[512];

	rig_start(&g, (const char *[]){"--password", "right", NULL}, "wrong");
	assert_true(smsc_wait(&g.smsc, "binds_refused", 4, 10000));
	assert_int_equal(chan_state(g.c, reason, sizeof(reason)),
			 SMSR__V1__CHANNEL_STATE__CHANNEL_STATE_DOWN);
	assert_string_equal(reason, "bind_failed");
	f = fopen(g.log, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		lines += strstr(line, "channel cmcc-smpp: down (bind_failed") != NULL;
	fclose(f);
	assert_int_equal(lines, 1);
	rig_stop(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_smsrd_smpp_submits_follow_receipts),
	    cmocka_unit_test(test_smsrd_smpp_mo_td_opts_out),
	    cmocka_unit_test(test_smsrd_smpp_wrong_password_logs_once),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
