/* SPDX-License-Identifier: MIT */
/*
 * Test helper: raw connections to smsrd (see rawconn.h).
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "evlog.h"
#include "rawconn.h"
#include "smsr/smsr.h"

static int dial_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0 && strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int raw_dial(const char *addr)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *ai;
	char host[64];
	const char *colon = strrchr(addr, ':');
	size_t hl = colon ? (size_t)(colon - addr) : 0;
	int fd, one = 1;

	if (strchr(addr, '/'))
		return dial_unix(addr);
	assert_true(colon && hl < sizeof(host));
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	assert_int_equal(getaddrinfo(host, colon + 1, &hints, &ai), 0);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	} else {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	freeaddrinfo(ai);
	return fd;
}

void raw_send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the server may have closed: the reader will see it */
		b += w;
		n -= (size_t)w;
	}
}

void raw_send_frame(int fd, const uint8_t *payload, size_t n)
{
	uint8_t *b = malloc(n + 4);

	assert_non_null(b);
	b[0] = (uint8_t)(n >> 24), b[1] = (uint8_t)(n >> 16), b[2] = (uint8_t)(n >> 8),
	b[3] = (uint8_t)n;
	memcpy(b + 4, payload, n);
	raw_send_all(fd, b, n + 4);
	free(b);
}

void raw_send_req(int fd, Smsr__V1__Request *req)
{
	size_t n = smsr__v1__request__get_packed_size(req);
	uint8_t *b = malloc(n ? n : 1);

	assert_non_null(b);
	smsr__v1__request__pack(req, b);
	raw_send_frame(fd, b, n);
	free(b);
}

/* Read exactly @n bytes within @ms; 0, or -1 on close/timeout. */
static int read_n(int fd, uint8_t *b, size_t n, int ms)
{
	uint64_t end = test_now_ns() + (uint64_t)ms * 1000000u;

	while (n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = (int64_t)(end - test_now_ns()) / 1000000;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		ssize_t r = recv(fd, b, n, 0);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

Smsr__V1__Response *raw_read_resp(int fd, int ms)
{
	uint8_t h[4], *b;
	uint32_t n;
	Smsr__V1__Response *r;

	if (read_n(fd, h, 4, ms))
		return NULL;
	n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	b = malloc(n ? n : 1);
	if (read_n(fd, b, n, ms)) {
		free(b);
		return NULL;
	}
	r = smsr__v1__response__unpack(NULL, n, b);
	free(b);
	assert_non_null(r);
	return r;
}

Smsr__V1__Response *raw_wait_call(int fd, uint64_t call_id, int ms)
{
	uint64_t end = test_now_ns() + (uint64_t)ms * 1000000u;

	while (test_now_ns() < end) {
		Smsr__V1__Response *r = raw_read_resp(fd, ms);

		if (!r || r->call_id == call_id)
			return r;
		smsr__v1__response__free_unpacked(r, NULL);
	}
	return NULL;
}

bool raw_closed_by_peer(int fd, int ms)
{
	uint8_t b[256];
	uint64_t end = test_now_ns() + (uint64_t)ms * 1000000u;

	while (test_now_ns() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, 100) > 0) {
			ssize_t r = recv(fd, b, sizeof(b), 0);

			if (r <= 0)
				return true;
		}
	}
	return false;
}

void raw_expect_error(Smsr__V1__Response *r, uint64_t call_id, int code)
{
	assert_non_null(r);
	assert_int_equal(r->call_id, call_id);
	assert_non_null(r->error);
	assert_int_equal(r->error->code, code);
	assert_string_equal(r->error->name, smsr_errname(-code));
	smsr__v1__response__free_unpacked(r, NULL);
}
