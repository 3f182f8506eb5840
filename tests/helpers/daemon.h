/* SPDX-License-Identifier: MIT */
/*
 * Test helper: the real smsrd (SMSRD_PATH) as a child process, listening
 * on an ephemeral TCP port on 127.0.0.1 and on a Unix socket in a fresh
 * temporary directory, so tests can run in parallel. Every wait here is
 * bounded (10 s); the child gets SIGKILL if the test process dies.
 */
#ifndef SMSR_TEST_DAEMON_H
#define SMSR_TEST_DAEMON_H

#include <sys/types.h>

struct smsrd_proc {
	pid_t pid;	     /* 0 when not running */
	char tcp_addr[64];   /* "127.0.0.1:PORT"; "" when TCP is off */
	char unix_path[108]; /* the Unix socket; "" when off */
	char dir[64];	     /* temporary directory holding both files */
	char ready_file[96];
};

/*
 * Start smsrd with `--tcp 127.0.0.1:0 --unix DIR/smsrd.sock --ready-file
 * DIR/ready` and then @extra_args (borrowed, NULL-terminated, may be NULL;
 * e.g. "--token", "t1"), wait until its ready file names its listeners and
 * fill @p. Returns 0, or a negative errno (-ETIMEDOUT after 10 s, -ECHILD
 * when the daemon exited first); nothing is left running on failure.
 */
int smsrd_start(struct smsrd_proc *p, const char *const *extra_args);

/* The same, with smsrd's stderr written to the file @log (created). */
int smsrd_start_logged(struct smsrd_proc *p, const char *const *extra_args, const char *log);

/*
 * SIGTERM, then wait up to 10 s (SIGKILL after that) and remove the
 * temporary files. Returns the exit status, or -1 if it had to be killed
 * or died of a signal.
 */
int smsrd_stop(struct smsrd_proc *p);

/* SIGKILL at once, reap and clean up: a crash, for tests of the client. */
void smsrd_kill(struct smsrd_proc *p);

#endif
