/* SPDX-License-Identifier: MIT */
/*
 * Test helper: run the real smsrd as a child process (see daemon.h).
 *
 * Readiness is the daemon's ready file, not a sleep: it is written once
 * the listeners are bound, and names the ephemeral TCP port.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#ifndef SMSRD_PATH
#error "SMSRD_PATH must name the smsrd binary"
#endif

#define WAIT_MS	     10000
#define MAX_ARGS     64
#define POLL_STEP_MS 10

static void nap_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int has_arg(const char *const *args, const char *name)
{
	for (; args && *args; args++)
		if (strcmp(*args, name) == 0)
			return 1;
	return 0;
}

/* Copy the value of line "@key=..." in @text into @out (@cap bytes). */
static int ready_value(const char *text, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');

		if (!nl)
			return 0; /* an unfinished line: still being written */
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			size_t n = (size_t)(nl - line) - klen - 1;

			if (n == 0 || n >= cap)
				return 0;
			memcpy(out, line + klen + 1, n);
			out[n] = '\0';
			return 1;
		}
		line = nl + 1;
	}
	return 0;
}

/* Has the ready file all the listeners we expect? */
static int read_ready(struct smsrd_proc *p, int want_tcp, int want_unix)
{
	char text[1024];
	FILE *f = fopen(p->ready_file, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (want_tcp && !ready_value(text, "tcp", p->tcp_addr, sizeof(p->tcp_addr)))
		return 0;
	if (want_unix && !ready_value(text, "unix", p->unix_path, sizeof(p->unix_path)))
		return 0;
	return 1;
}

static void cleanup_files(struct smsrd_proc *p)
{
	char sock[sizeof(p->dir) + 16];

	if (!p->dir[0])
		return;
	snprintf(sock, sizeof(sock), "%s/smsrd.sock", p->dir);
	unlink(sock);
	unlink(p->ready_file);
	rmdir(p->dir);
	p->dir[0] = '\0';
}

static pid_t spawn(struct smsrd_proc *p, const char *const *extra, const char *log)
{
	const char *argv[MAX_ARGS];
	char sock[sizeof(p->dir) + 16];
	size_t n = 0;
	pid_t parent = getpid(), pid;

	snprintf(sock, sizeof(sock), "%s/smsrd.sock", p->dir);
	argv[n++] = SMSRD_PATH;
	argv[n++] = "--tcp";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--unix";
	argv[n++] = sock;
	argv[n++] = "--ready-file";
	argv[n++] = p->ready_file;
	for (; extra && *extra && n < MAX_ARGS - 1; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (log) {
			int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

			if (fd < 0 || dup2(fd, 2) < 0)
				_exit(127);
		}
		execv(SMSRD_PATH, (char *const *)(uintptr_t)argv);
		fprintf(stderr, "exec %s: %s\n", SMSRD_PATH, strerror(errno));
		_exit(127);
	}
	return pid;
}

static int start(struct smsrd_proc *p, const char *const *extra_args, const char *log)
{
	int want_tcp = !has_arg(extra_args, "--tcp"), want_unix = !has_arg(extra_args, "--unix");
	int status;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/smsrd-test-XXXXXX");
	if (!mkdtemp(p->dir))
		return -errno;
	snprintf(p->ready_file, sizeof(p->ready_file), "%s/ready", p->dir);
	p->pid = spawn(p, extra_args, log);
	if (p->pid < 0) {
		p->pid = 0;
		cleanup_files(p);
		return -EAGAIN;
	}
	for (int waited = 0; waited < WAIT_MS; waited += POLL_STEP_MS) {
		if (read_ready(p, want_tcp, want_unix))
			return 0;
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			fprintf(stderr, "smsrd exited before it was ready (status 0x%x)\n", status);
			p->pid = 0;
			cleanup_files(p);
			return -ECHILD;
		}
		nap_ms(POLL_STEP_MS);
	}
	fprintf(stderr, "smsrd not ready after %d ms\n", WAIT_MS);
	smsrd_kill(p);
	return -ETIMEDOUT;
}

int smsrd_start(struct smsrd_proc *p, const char *const *extra_args)
{
	return start(p, extra_args, NULL);
}

int smsrd_start_logged(struct smsrd_proc *p, const char *const *extra_args, const char *log)
{
	return start(p, extra_args, log);
}

int smsrd_stop(struct smsrd_proc *p)
{
	int status = 0;
	pid_t r = 0;

	if (p->pid <= 0) {
		cleanup_files(p);
		return -1;
	}
	kill(p->pid, SIGTERM);
	for (int waited = 0; waited < WAIT_MS; waited += POLL_STEP_MS) {
		r = waitpid(p->pid, &status, WNOHANG);
		if (r == p->pid || (r < 0 && errno != EINTR))
			break;
		nap_ms(POLL_STEP_MS);
	}
	if (r != p->pid) {
		fprintf(stderr, "smsrd did not stop within %d ms: SIGKILL\n", WAIT_MS);
		smsrd_kill(p);
		return -1;
	}
	p->pid = 0;
	cleanup_files(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void smsrd_kill(struct smsrd_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	p->pid = 0;
	cleanup_files(p);
}
