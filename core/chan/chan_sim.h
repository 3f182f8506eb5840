/* SPDX-License-Identifier: MIT */
/*
 * The simulated carrier: a deterministic model of a carrier gateway.
 *
 * The model (smsr__sim_*) decides, from a seed, what a carrier would do with
 * each submit: answer after a latency drawn from a distribution, accept or
 * refuse, deliver or not, report delivery after a delay — and it can be put
 * into fault modes (down, black hole, throttling, permanent rejection, lost
 * delivery reports). It does no I/O and calls nothing: the driver glue in
 * chan_sim.c pulls due reports from it and hands them to the router, which
 * keeps the model testable on its own. Same seed, same calls, same times:
 * same reports.
 */
#ifndef SMSR_CHAN_SIM_H
#define SMSR_CHAN_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smsr/channel.h"

enum smsr__sim_fault {
	SMSR__SIM_OK = 0,
	SMSR__SIM_DOWN,	     /* refuses submits; pending answers fail channel_down */
	SMSR__SIM_BLACKHOLE, /* takes submits, never answers */
	SMSR__SIM_THROTTLE,  /* answers every submit with throttled */
	SMSR__SIM_REJECT,    /* answers every submit with a permanent rejection */
	SMSR__SIM_NODLR,     /* accepts, never reports delivery */
};

enum smsr__sim_kind {
	SMSR__SIM_SUBMIT_RESP = 1,
	SMSR__SIM_DLR = 2,
};

struct smsr__sim_report {
	uint8_t kind; /* enum smsr__sim_kind */
	uint64_t token;
	int status;	/* 0 or -SMSR_E* as smsr_chan_submit_done()/dlr() take */
	int op_code;	/* operator code (SMPP command_status / DLR err) */
	char msgid[24]; /* carrier message id for accepted submits; "" for DLRs */
};

struct smsr__sim;

int smsr__sim_create(struct smsr__sim **out, const struct smsr_param *params, size_t nparams,
		     uint64_t seed);
void smsr__sim_destroy(struct smsr__sim *s);
/* 0 taken (a report will follow unless black-holed), or -SMSR_ECHANDOWN /
 * -SMSR_ENOMEM with nothing changed. */
int smsr__sim_submit(struct smsr__sim *s, uint64_t token, uint64_t now_ns);
/* Pop one report due at or before @now_ns: 1 and *@rep filled, or 0. */
int smsr__sim_next(struct smsr__sim *s, uint64_t now_ns, struct smsr__sim_report *rep);
/* Earliest pending report or scheduled fault change; UINT64_MAX if none;
 * 0 ("poll now") before the first timed call when a fault is configured.
 * The model's clock never runs backwards: an earlier @now_ns than one
 * already seen counts as the latest seen. */
uint64_t smsr__sim_deadline(const struct smsr__sim *s);
/* "fault" = none|down|blackhole|throttle|reject|nodlr (restarts the fault
 * schedule at @now_ns with the current fault_at_ms / fault_for_ms, so set
 * those first); other params too. -SMSR_ENOTFOUND for an unknown key. */
int smsr__sim_ctl(struct smsr__sim *s, const char *key, const char *value, uint64_t now_ns);
/* Is the simulated link up at @now_ns (applies scheduled faults)? */
bool smsr__sim_up(struct smsr__sim *s, uint64_t now_ns);

#endif
