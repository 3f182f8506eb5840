/* SPDX-License-Identifier: MIT */
/*
 * Socket side of the smsrd client: connecting, buffered non-blocking
 * writes and reads, and cutting the byte stream into frames.
 *
 * Invariant: the socket is only ever touched through poll() with a
 * deadline, so partial transfers, EINTR and a silent server all end in
 * either progress or -SMSR_ETIMEOUT; any socket failure or EOF becomes
 * the sticky -SMSR_ECONNLOST.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client_int.h"
#include "wire_frame.h"

#define READ_CHUNK (64u * 1024)
#define QUEUE_HIGH (256u * 1024)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t smsr__cl_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
}

/* Milliseconds left until @deadline, for poll(): -1 forever, 0 passed. */
static int ms_left(int64_t deadline)
{
	int64_t left;

	if (deadline == INT64_MAX)
		return -1;
	left = deadline - now_ms();
	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Wait for @events on @fd until @deadline. Returns revents, 0 on timeout. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	do {
		n = poll(&pfd, 1, ms_left(deadline));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return POLLERR;
	return n ? pfd.revents : 0;
}

/* ---------------------------------------------------------------- connect */

/* Connect @fd to @sa without blocking past @deadline. */
static int connect_fd(int fd, const struct sockaddr *sa, socklen_t salen, int64_t deadline)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	int ev;

	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR && errno != EAGAIN)
		return -SMSR_ECONNLOST;
	ev = wait_fd(fd, POLLOUT, deadline);
	if (ev == 0)
		return -SMSR_ETIMEOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0)
		return -SMSR_ECONNLOST;
	return 0;
}

static int connect_unix(const char *path, int64_t deadline)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, rc;

	if (!*path || strlen(path) >= sizeof(sun.sun_path))
		return -EINVAL;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = connect_fd(fd, (const struct sockaddr *)&sun, sizeof(sun), deadline);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Split "host:port" or "[v6]:port" into @host (@hcap bytes) and the port. */
static int split_hostport(const char *addr, char *host, size_t hcap, const char **port)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t hlen;

	if (!colon || !colon[1])
		return -EINVAL;
	hlen = (size_t)(colon - addr);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= hcap)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = colon + 1;
	return 0;
}

static int connect_tcp(const char *addr, int64_t deadline)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char host[256];
	const char *port;
	int fd = -1, rc, one = 1;

	rc = split_hostport(addr, host, sizeof(host), &port);
	if (rc < 0)
		return rc;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -EINVAL;
	rc = -SMSR_ECONNLOST;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		rc = connect_fd(fd, ai->ai_addr, ai->ai_addrlen, deadline);
		if (rc == 0)
			break;
		close(fd);
		fd = -1;
		if (rc == -SMSR_ETIMEOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return rc;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int smsr__cl_connect(const char *addr, int timeout_ms)
{
	int64_t deadline = smsr__cl_deadline(timeout_ms);

	if (strncmp(addr, "unix:", 5) == 0)
		return connect_unix(addr + 5, deadline);
	if (addr[0] == '/' || addr[0] == '.')
		return connect_unix(addr, deadline);
	return connect_tcp(addr, deadline);
}

/* ---------------------------------------------------------------- I/O */

/* Make room for @want more bytes at the end of @b. */
static int buf_reserve(struct cl_buf *b, size_t want)
{
	size_t live = b->len - b->off, cap;
	uint8_t *p;

	if (b->cap - b->len >= want)
		return 0;
	if (b->off && b->cap - live >= want) {
		memmove(b->p, b->p + b->off, live);
		b->off = 0;
		b->len = live;
		return 0;
	}
	cap = b->cap ? b->cap : READ_CHUNK;
	while (cap - live < want)
		cap *= 2;
	p = malloc(cap);
	if (!p)
		return -SMSR_ENOMEM;
	if (live)
		memcpy(p, b->p + b->off, live);
	free(b->p);
	b->p = p;
	b->cap = cap;
	b->off = 0;
	b->len = live;
	return 0;
}

static void fail(struct smsr_client *c, int err)
{
	if (!c->err)
		c->err = err;
}

/* Read what the socket has now. Returns bytes read, 0 if none, or an error. */
static int read_some(struct smsr_client *c)
{
	size_t total = 0;
	ssize_t n;
	int rc;

	for (;;) {
		rc = buf_reserve(&c->in, READ_CHUNK);
		if (rc < 0)
			return rc;
		n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
		if (n > 0) {
			c->in.len += (size_t)n;
			total += (size_t)n;
			if (total >= 4 * READ_CHUNK)
				break; /* let the caller look at what it has */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		fail(c, -SMSR_ECONNLOST); /* EOF or a socket error */
		break;
	}
	return total ? (int)(total > INT32_MAX ? INT32_MAX : total) : c->err;
}

/* Write what the socket takes now. Returns 0 or the sticky error. */
static int write_some(struct smsr_client *c)
{
	ssize_t n;

	while (c->out.off < c->out.len) {
		n = send(c->fd, c->out.p + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out.off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		fail(c, -SMSR_ECONNLOST);
		return c->err;
	}
	c->out.off = c->out.len = 0;
	return 0;
}

int smsr__cl_queue(struct smsr_client *c, const Smsr__V1__Request *req)
{
	size_t n = smsr__v1__request__get_packed_size(req);
	int rc;

	if (n == 0 || n > c->max_frame)
		return n ? -SMSR_EFRAMETOOBIG : -SMSR_EINVAL;
	rc = buf_reserve(&c->out, SMSR_FRAME_HDR + n);
	if (rc < 0)
		return rc;
	smsr__frame_put_header(c->out.p + c->out.len, (uint32_t)n);
	smsr__v1__request__pack(req, c->out.p + c->out.len + SMSR_FRAME_HDR);
	c->out.len += SMSR_FRAME_HDR + n;
	/* A large queue goes out now, as far as the socket takes it unasked. */
	if (c->out.len - c->out.off >= QUEUE_HIGH)
		write_some(c);
	return 0;
}

int smsr__cl_flush(struct smsr_client *c, int64_t deadline)
{
	int ev, rc;

	for (;;) {
		if (c->err)
			return c->err;
		rc = write_some(c);
		if (rc < 0)
			return rc;
		if (c->out.len == 0)
			return 0;
		ev = wait_fd(c->fd, POLLOUT | POLLIN, deadline);
		if (ev == 0)
			return -SMSR_ETIMEOUT;
		if (ev & POLLIN) {
			rc = read_some(c);
			if (rc < 0 && rc != -SMSR_ECONNLOST)
				return rc;
		}
		if (ev & (POLLERR | POLLNVAL))
			fail(c, -SMSR_ECONNLOST);
	}
}

/* Adopt the server's frame limit from a ServerInfo when the user set none. */
static void note_server_info(struct smsr_client *c, const Smsr__V1__Response *r)
{
	const Smsr__V1__ServerInfo *si = NULL;

	if (r->body_case == SMSR__V1__RESPONSE__BODY_PING && r->ping)
		si = r->ping->server;
	else if (r->body_case == SMSR__V1__RESPONSE__BODY_AUTH && r->auth)
		si = r->auth->server;
	if (si && c->adopt_frame && si->max_frame > c->max_frame)
		c->max_frame = si->max_frame;
}

/*
 * Cut the next frame out of the receive buffer. Returns 1 with *@out set,
 * 0 when no whole frame is there, or a negative code.
 */
static int take_frame(struct smsr_client *c, Smsr__V1__Response **out)
{
	const uint8_t *payload;
	uint32_t plen;
	int n;

	n = smsr__frame_next(c->in.p + c->in.off, c->in.len - c->in.off, c->max_frame, &payload,
			     &plen);
	if (n == -EAGAIN)
		return 0;
	if (n < 0) {
		fail(c, n); /* framing is lost: nothing after this can be trusted */
		return n;
	}
	c->in.off += (size_t)n;
	if (c->in.off == c->in.len)
		c->in.off = c->in.len = 0;
	*out = smsr__v1__response__unpack(NULL, plen, payload);
	if (!*out)
		return -SMSR_EBADPROTO;
	note_server_info(c, *out);
	return 1;
}

int smsr__cl_read_frame(struct smsr_client *c, Smsr__V1__Response **out, int64_t deadline)
{
	int rc, ev;
	short want;

	for (;;) {
		rc = take_frame(c, out);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		if (c->err)
			return c->err;
		rc = read_some(c);
		if (rc > 0)
			continue;
		if (rc < 0 && rc != -SMSR_ECONNLOST)
			return rc;
		if (c->err)
			continue; /* hand out whole frames that came before the EOF */
		if (ms_left(deadline) == 0)
			return -SMSR_ETIMEOUT;
		want = POLLIN | (c->out.len > c->out.off ? POLLOUT : 0);
		ev = wait_fd(c->fd, want, deadline);
		if (ev & POLLOUT) {
			rc = write_some(c);
			if (rc < 0)
				continue;
		}
		if (ev & (POLLERR | POLLNVAL))
			fail(c, -SMSR_ECONNLOST);
	}
}
