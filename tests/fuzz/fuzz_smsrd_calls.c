/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for smsrd's call path: framing, the pre-decode check
 * (pb_check.c), unpacking and the dispatcher with every call kind, against
 * a real router on the embedded default configuration (its worker threads
 * running, simulated channels). Nothing is mocked but the socket: a
 * connection's input is the fuzz input and its answers pile up in its
 * output buffer, which is then dropped.
 *
 * The first input byte sets the connection's rights: bit 0 authenticated,
 * bit 1 admin, bit 2 tokens configured (so auth calls and the 512-byte
 * pre-auth limit are exercised). The rest is the byte stream, as received.
 *
 * Build: cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSMSR_FUZZ=ON
 * -DSMSR_SANITIZE=ON && cmake --build build-fuzz --target fuzz_smsrd_calls
 * Run:   ./build-fuzz/fuzz_smsrd_calls -max_len=8192 -runs=N CORPUS_DIR
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "smsrd.h"
#include "status.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct srv S;
static char *tok[1] = {"tok"}, *adm[1] = {"adm"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct smsr_router_opts ro = {.on_event = hub_event};

	(void)argc, (void)argv;
	S.o.max_frame = 1u << 20;
	S.o.max_calls = 1024;
	S.o.max_conns = 1024;
	S.o.max_batch = 1000;
	S.o.max_subs = 16;
	S.o.sub_queue = 1024;
	S.o.input_budget_mb = 256;
	S.o.quiet = true;
	S.optout_fd = -1;
	arena_init(&S.ar);
	S.event_fd = eventfd(0, EFD_CLOEXEC);
	S.hub = hub_create(16384, S.event_fd);
	if (!S.hub || status_store_create(&S.st, 65536, 60 * SMSRD_S))
		abort();
	hub_set_status(S.hub, S.st);
	ro.arg = S.hub;
	if (smsr_router_create(&S.r, NULL, &ro) || smsr_router_start(S.r))
		abort();
	srv_refresh_channels(&S);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn *c;

	if (size < 1)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return 0;
	c->fd = -1;
	c->authed = data[0] & 1;
	c->admin = c->authed && (data[0] & 2);
	S.o.ntokens = S.o.nadmin = (data[0] & 4) ? 1 : 0;
	S.o.tokens[0] = tok[0];
	S.o.admin_tokens[0] = adm[0];
	conn_input(&S, c, data + 1, size - 1);
	/* What the loop would do after the turn: drain events, forget. */
	hub_drain(&S);
	sub_close_all(&S, c, 0);
	S.dirty = NULL;
	conn_in_release(&S, c);
	buf_free(&c->out);
	buf_free(&c->wr);
	free(c);
	arena_reset(&S.ar);
	return 0;
}
