/* SPDX-License-Identifier: MIT */
/*
 * Test helper: the node-smpp SMSC peer as a child process (smsc.h).
 */
#include "smsc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SMSR_SOURCE_DIR
#define SMSR_SOURCE_DIR "."
#endif
#define PEER_DIR SMSR_SOURCE_DIR "/tests/peers"

static void nap_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

bool smsc_available(void)
{
	return access("/usr/bin/node", X_OK) == 0 &&
	       access(PEER_DIR "/node_modules/smpp/package.json", R_OK) == 0;
}

static int read_ready(struct smsc_proc *s, const char *file)
{
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(file, "r");
		int status;

		if (f) {
			char line[256] = "";
			char *p, *q;

			if (fgets(line, sizeof(line), f) && (p = strstr(line, "\"port\":")) &&
			    (q = strstr(line, "\"control\":"))) {
				s->port = atoi(p + 7);
				s->control_port = atoi(q + 10);
				fclose(f);
				return 0;
			}
			fclose(f);
		}
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return -1;
		}
		nap_ms(10);
	}
	return -1;
}

static int connect_control(struct smsc_proc *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)s->control_port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	s->ctl_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->ctl_fd < 0 || connect(s->ctl_fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return 0;
}

static void child(struct smsc_proc *s, int in, const char *ready, const char *const *extra)
{
	const char *argv[64] = {"node",
				PEER_DIR "/smsc.js",
				"--port",
				"0",
				"--control-port",
				"0",
				"--ready-file",
				ready,
				"--log",
				s->log,
				"--exit-on-stdin-eof",
				"--max-runtime",
				"600"};
	size_t n = 13;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	dup2(in, 0);
	for (size_t i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	char *av[64];

	argv[n] = NULL;
	memcpy(av, argv, sizeof(av)); /* execv's argv is not const; it does not write */
	execv("/usr/bin/node", av);
	_exit(127);
}

int smsc_start(struct smsc_proc *s, const char *const *extra_args)
{
	char ready[128];
	int pipefd[2];

	memset(s, 0, sizeof(*s));
	s->ctl_fd = s->stdin_fd = -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/smsr-smsc-XXXXXX");
	if (!mkdtemp(s->dir) || pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	snprintf(ready, sizeof(ready), "%s/ready", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/pdus.log", s->dir);
	s->pid = fork();
	if (s->pid == 0)
		child(s, pipefd[0], ready, extra_args);
	close(pipefd[0]);
	s->stdin_fd = pipefd[1];
	if (s->pid < 0 || read_ready(s, ready) < 0 || connect_control(s) < 0) {
		smsc_stop(s);
		return -1;
	}
	return 0;
}

void smsc_stop(struct smsc_proc *s)
{
	char path[128];

	if (s->ctl_fd >= 0)
		close(s->ctl_fd);
	if (s->stdin_fd >= 0)
		close(s->stdin_fd);
	s->ctl_fd = s->stdin_fd = -1;
	if (s->pid > 0) {
		int status;

		kill(s->pid, SIGTERM);
		for (int i = 0; i < 500 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
			nap_ms(10);
		if (kill(s->pid, 0) == 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
		}
		s->pid = 0;
	}
	if (s->dir[0]) {
		snprintf(path, sizeof(path), "%s/ready", s->dir);
		unlink(path);
		unlink(s->log);
		rmdir(s->dir);
		s->dir[0] = '\0';
	}
}

int smsc_ctl(struct smsc_proc *s, const char *json, char *ans, size_t cap)
{
	static char buf[65536];
	size_t len = strlen(json), have = 0;
	struct pollfd pfd = {.fd = s->ctl_fd, .events = POLLIN};

	if (send(s->ctl_fd, json, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(s->ctl_fd, "\n", 1, MSG_NOSIGNAL) != 1)
		return -1;
	while (have < sizeof(buf) - 1 && !memchr(buf, '\n', have)) {
		ssize_t n;

		if (poll(&pfd, 1, 15000) <= 0)
			return -1;
		n = recv(s->ctl_fd, buf + have, sizeof(buf) - 1 - have, 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	buf[have] = '\0';
	if (ans && cap) {
		snprintf(ans, cap, "%s", buf);
		ans[strcspn(ans, "\n")] = '\0';
	}
	return strstr(buf, "\"ok\":true") ? 0 : -1;
}

long smsc_stat(struct smsc_proc *s, const char *counter)
{
	char ans[4096], key[64];
	const char *p;

	if (smsc_ctl(s, "{\"cmd\":\"stats\"}", ans, sizeof(ans)) < 0)
		return -1;
	snprintf(key, sizeof(key), "\"%s\":", counter);
	p = strstr(ans, key);
	return p ? atol(p + strlen(key)) : -1;
}

bool smsc_wait(struct smsc_proc *s, const char *counter, long n, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 20) {
		if (smsc_stat(s, counter) >= n)
			return true;
		nap_ms(20);
	}
	return false;
}

long smsc_log_count(struct smsc_proc *s, const char *const *needles)
{
	FILE *f = fopen(s->log, "r");
	char *line = NULL;
	size_t cap = 0;
	long count = 0;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		bool all = true;

		for (size_t i = 0; needles[i] && all; i++)
			all = strstr(line, needles[i]) != NULL;
		count += all;
	}
	free(line);
	fclose(f);
	return count;
}

long smsc_log_wait(struct smsc_proc *s, const char *const *needles, long n, unsigned ms)
{
	long got = smsc_log_count(s, needles);

	for (unsigned t = 0; got < n && t < ms; t += 10) {
		nap_ms(10);
		got = smsc_log_count(s, needles);
	}
	if (got == n)
		nap_ms(50); /* a line too many would come now, if at all */
	return got == n ? smsc_log_count(s, needles) : got;
}
