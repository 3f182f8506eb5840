/* SPDX-License-Identifier: MIT */
/*
 * Test helper: the SMSC peer (tests/peers/smsc.js, node-smpp) as a child
 * process on loopback, with its control port. The child's stdin is a pipe
 * this process holds, so it exits when the test does; every wait is
 * bounded. Tests skip (77) when node or the peer's modules are missing.
 */
#ifndef SMSR_TEST_SMSC_H
#define SMSR_TEST_SMSC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct smsc_proc {
	pid_t pid;
	int port, control_port;
	int ctl_fd;   /* connected control socket */
	int stdin_fd; /* the child's stdin: closing it stops the child */
	char dir[64];
	char log[96]; /* its log of PDUs received, one JSON line each */
};

/* True when node and tests/peers/node_modules are there. */
bool smsc_available(void);

/*
 * Start the peer with @extra_args (borrowed, NULL-terminated, may be NULL)
 * after --port 0 --control-port 0 --ready-file --log. 0, or -1 (nothing
 * left running).
 */
int smsc_start(struct smsc_proc *s, const char *const *extra_args);

/* Stop it (SIGTERM, bounded wait, SIGKILL) and remove its files. */
void smsc_stop(struct smsc_proc *s);

/*
 * Send one control command (@json, a JSON object without newline) and read
 * the one-line answer into @ans (@cap bytes, may be NULL). Returns 0 if the
 * answer says "ok":true, else -1. Bounded by 15 s.
 */
int smsc_ctl(struct smsc_proc *s, const char *json, char *ans, size_t cap);

/* A counter from {"cmd":"stats"} (e.g. "submit_sm"), or -1. */
long smsc_stat(struct smsc_proc *s, const char *counter);

/* Wait until stats counter @counter reaches @n, up to @ms. True if it did. */
bool smsc_wait(struct smsc_proc *s, const char *counter, long n, unsigned ms);

/* Lines of the log containing every one of @needles (NULL-terminated). */
long smsc_log_count(struct smsc_proc *s, const char *const *needles);
/*
 * The same, once it reaches @n or after @ms: the peer writes its log a moment
 * after it answers (batched), so a test that has seen the answers waits for
 * the lines. Returns the count then (more than @n shows too).
 */
long smsc_log_wait(struct smsc_proc *s, const char *const *needles, long n, unsigned ms);

#endif
