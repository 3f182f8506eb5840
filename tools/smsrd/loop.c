/* SPDX-License-Identifier: MIT */
/*
 * The io_uring loop: listeners, connections, the hub's eventfd and the
 * signalfd, all on one ring. Every completion is dispatched by the op in
 * its user_data; a connection's ops carry its generation, so a completion
 * that outlives its connection is recognised and only its buffer recycled.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "smsrd.h"
#include "status.h"
#include "wire_frame.h"

#define BGID	   7
#define NBUFS	   512u
#define BUFSZ	   (16u << 10)
#define RING_DEPTH 4096u
#define GRACE_NS   (5 * SMSRD_S)
#define LINGER_NS  (2 * SMSRD_S)

enum op {
	OP_ACCEPT_TCP = 1,
	OP_ACCEPT_UNIX,
	OP_RECV,
	OP_SEND,
	OP_EVENTFD,
	OP_SIGNAL,
	OP_CANCEL
};

static uint64_t ud(enum op op, const struct conn *c)
{
	return (uint64_t)op | (c ? ((uint64_t)c->idx << 8 | (uint64_t)c->gen << 32) : 0);
}

static struct io_uring_sqe *get_sqe(struct srv *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

	if (!sqe) {
		io_uring_submit(&s->ring);
		sqe = io_uring_get_sqe(&s->ring);
	}
	return sqe; /* never NULL right after a submit */
}

/* --- listeners ------------------------------------------------------------ */
/* "host:port", "[v6]:port" or "localhost:port" into @sa; -1 if not numeric. */
static int parse_listen(const char *spec, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	size_t hl = colon ? (size_t)(colon - spec) : 0;
	char *end;
	unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;

	if (!colon || !colon[1] || *end || port > 65535 || hl >= sizeof(host))
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(sa, 0, sizeof(*sa));
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*len = sizeof(*s4);
	return inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1", &s4->sin_addr) ==
		       1
		   ? 0
		   : -1;
}

static int listen_tcp(struct srv *s)
{
	struct sockaddr_storage sa;
	socklen_t sl;
	char host[INET6_ADDRSTRLEN];
	int fd, one = 1;
	bool v6;

	if (parse_listen(s->o.tcp, &sa, &sl)) {
		fprintf(stderr,
			"smsrd: --tcp %s: want IPv4:PORT, [IPv6]:PORT or localhost:PORT "
			"(numeric; port 0-65535)\n",
			s->o.tcp);
		return -1;
	}
	v6 = sa.ss_family == AF_INET6;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) /* [::]:PORT means IPv6 only; listen on 0.0.0.0 separately for v4 */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sl) || listen(fd, 1024)) {
		fprintf(stderr, "smsrd: tcp %s: %s\n", s->o.tcp, strerror(errno));
		close(fd);
		return -1;
	}
	sl = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	if (v6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(s->o.tcp, sizeof(s->o.tcp), "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(s->o.tcp, sizeof(s->o.tcp), "%s:%u", host, ntohs(s4->sin_port));
	}
	s->tcp_fd = fd;
	return 0;
}

/*
 * What is at the socket path before we bind: nothing, or a stale socket
 * (nobody accepts on it: removed), else a refusal — a live socket is
 * another server's, and anything that is not a socket is not ours to
 * delete.
 */
static int clear_unix_path(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "smsrd: unix %s: exists and is not a socket; not touching it\n",
			sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		fprintf(stderr,
			"smsrd: unix %s: another server is listening there (a second smsrd?); "
			"stop it or choose another --unix path\n",
			sa->sun_path);
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED) {
		fprintf(stderr, "smsrd: unix %s: cannot tell whether it is in use: %s\n",
			sa->sun_path, strerror(errno));
		return -errno;
	}
	return unlink(sa->sun_path) < 0 && errno != ENOENT ? -errno : 0; /* stale */
}

static int listen_unix(struct srv *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(s->o.unix_path)], *slash;
	struct stat st;
	int fd;

	if (strlen(s->o.unix_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "smsrd: unix %s: path too long\n", s->o.unix_path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", s->o.unix_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0750); /* ours if we create it; an existing one is left as is */
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->o.unix_path);
	if (clear_unix_path(&sa) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Not world-writable: owner and group only, from the start. */
	mode_t old = umask(0117);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));

	umask(old);
	if (rc || listen(fd, 1024)) {
		fprintf(stderr, "smsrd: unix %s: %s\n", s->o.unix_path, strerror(errno));
		close(fd);
		return -1;
	}
	if (stat(sa.sun_path, &st) == 0) {
		s->unix_ino = st.st_ino;
		s->unix_dev = st.st_dev;
	}
	s->unix_fd = fd;
	return 0;
}

static void arm_accept(struct srv *s, int fd, enum op op)
{
	struct io_uring_sqe *sqe = get_sqe(s);

	io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, ud(op, NULL));
}

static void arm_read(struct srv *s, int fd, void *buf, unsigned len, enum op op)
{
	struct io_uring_sqe *sqe = get_sqe(s);

	io_uring_prep_read(sqe, fd, buf, len, 0);
	io_uring_sqe_set_data64(sqe, ud(op, NULL));
}

static int setup_bufs(struct srv *s)
{
	struct io_uring_buf_reg reg = {0};
	void *mem;

	if (posix_memalign(&mem, 4096, NBUFS * sizeof(struct io_uring_buf)))
		return -1;
	s->br = mem;
	s->bufs = malloc((size_t)NBUFS * BUFSZ);
	if (!s->bufs)
		return -1;
	io_uring_buf_ring_init(s->br);
	reg.ring_addr = (unsigned long)s->br;
	reg.ring_entries = NBUFS;
	reg.bgid = BGID;
	if (io_uring_register_buf_ring(&s->ring, &reg, 0)) {
		fprintf(stderr, "smsrd: io_uring_register_buf_ring failed\n");
		return -1;
	}
	for (unsigned i = 0; i < NBUFS; i++)
		io_uring_buf_ring_add(s->br, s->bufs + (size_t)i * BUFSZ, BUFSZ, (unsigned short)i,
				      io_uring_buf_ring_mask(NBUFS), (int)i);
	io_uring_buf_ring_advance(s->br, NBUFS);
	return 0;
}

static void recycle(struct srv *s, unsigned bid)
{
	io_uring_buf_ring_add(s->br, s->bufs + (size_t)bid * BUFSZ, BUFSZ, (unsigned short)bid,
			      io_uring_buf_ring_mask(NBUFS), 0);
	io_uring_buf_ring_advance(s->br, 1);
}

static void write_ready_file(struct srv *s)
{
	char tmp[300];
	FILE *f;

	if (!s->o.ready_file[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->o.ready_file);
	f = fopen(tmp, "w");
	if (!f)
		return;
	if (s->tcp_fd >= 0)
		fprintf(f, "tcp=%s\n", s->o.tcp);
	if (s->unix_fd >= 0)
		fprintf(f, "unix=%s\n", s->o.unix_path);
	fprintf(f, "pid=%d\n", (int)getpid());
	fclose(f);
	rename(tmp, s->o.ready_file);
}

int srv_listen(struct srv *s)
{
	struct io_uring_params p = {.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN};
	sigset_t set;
	int rc;

	s->tcp_fd = s->unix_fd = -1;
	rc = io_uring_queue_init_params(RING_DEPTH, &s->ring, &p);
	if (rc < 0) {
		p.flags = 0; /* an older kernel */
		rc = io_uring_queue_init_params(RING_DEPTH, &s->ring, &p);
	}
	if (rc < 0) {
		fprintf(stderr, "smsrd: io_uring_queue_init: %s\n", strerror(-rc));
		return -1;
	}
	if (setup_bufs(s))
		return -1;
	if (s->o.tcp[0] && listen_tcp(s))
		return -1;
	if (s->o.unix_path[0] && listen_unix(s))
		return -1;
	if (s->tcp_fd < 0 && s->unix_fd < 0) {
		fprintf(stderr, "smsrd: no listener (both --tcp and --unix are off)\n");
		return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	s->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (s->tcp_fd >= 0)
		arm_accept(s, s->tcp_fd, OP_ACCEPT_TCP);
	if (s->unix_fd >= 0)
		arm_accept(s, s->unix_fd, OP_ACCEPT_UNIX);
	arm_read(s, s->event_fd, &s->efd_val, sizeof(s->efd_val), OP_EVENTFD);
	arm_read(s, s->signal_fd, s->sig_buf, sizeof(s->sig_buf), OP_SIGNAL);
	io_uring_submit(&s->ring);
	if (!s->o.quiet)
		fprintf(stderr, "smsrd %s: listening on%s%s%s%s; %d channels\n", SMSRD_VERSION,
			s->tcp_fd >= 0 ? " tcp " : "", s->tcp_fd >= 0 ? s->o.tcp : "",
			s->unix_fd >= 0 ? " unix " : "", s->unix_fd >= 0 ? s->o.unix_path : "",
			s->nchans);
	write_ready_file(s);
	return 0;
}

/* --- connections ---------------------------------------------------------- */
static void arm_recv(struct srv *s, struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(s);

	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, ud(OP_RECV, c));
	c->recv_armed = true;
}

static void cancel_recv(struct srv *s, struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(s);

	io_uring_prep_cancel64(sqe, ud(OP_RECV, c), 0);
	io_uring_sqe_set_data64(sqe, ud(OP_CANCEL, NULL));
}

static void new_conn(struct srv *s, int fd, bool is_unix)
{
	struct conn *c;
	uint32_t i;
	int one = 1;

	/* The last unix_reserve slots are the Unix socket's (when it is on):
	 * an operator on the host can always get in, whatever TCP holds. */
	uint32_t reserve = s->unix_fd < 0			? 0
			   : s->o.unix_reserve < s->o.max_conns ? s->o.unix_reserve
								: s->o.max_conns - 1;

	if (s->stopping || s->nconns >= s->o.max_conns ||
	    (!is_unix && s->nconns_tcp + reserve >= s->o.max_conns)) {
		/* Over the limit: say so once, then close. */
		uint8_t frame[64];
		Smsr__V1__Response resp = SMSR__V1__RESPONSE__INIT;
		Smsr__V1__Error err = SMSR__V1__ERROR__INIT;
		int code = s->stopping ? SMSR_ESHUTDOWN : SMSR_EBUSY;

		err.code = (uint32_t)code;
		err.name = pb_str(smsr_errname(-code));
		err.retry_after_ms = 100;
		resp.error = &err;
		size_t n = smsr__v1__response__get_packed_size(&resp);

		if (n + 4 <= sizeof(frame)) {
			smsr__frame_put_header(frame, (uint32_t)n);
			smsr__v1__response__pack(&resp, frame + 4);
			(void)!send(fd, frame, n + 4, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		close(fd);
		return;
	}
	for (i = 0; i < s->conns_cap && s->conns[i]; i++)
		;
	if (i == s->conns_cap) {
		uint32_t ncap = s->conns_cap ? s->conns_cap * 2 : 64;
		struct conn **n = realloc(s->conns, ncap * sizeof(*n));

		if (!n) {
			close(fd);
			return;
		}
		memset(n + s->conns_cap, 0, (ncap - s->conns_cap) * sizeof(*n));
		s->conns = n;
		s->conns_cap = ncap;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	static uint32_t gen;
	c->fd = fd;
	c->idx = i;
	c->gen = ++gen;
	c->is_unix = is_unix;
	c->authed = s->o.ntokens + s->o.nadmin == 0;
	c->admin = c->authed;
	if (!is_unix)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->opened_ns = c->last_call_ns = smsr_now_ns();
	s->conns[i] = c;
	s->nconns++;
	s->nconns_tcp += !is_unix;
	s->stats.conns_total++;
	arm_recv(s, c);
}

static void free_conn(struct srv *s, struct conn *c)
{
	sub_close_all(s, c, 0);
	close(c->fd);
	if (c->wait_seq)
		s->held_conns--;
	s->conns[c->idx] = NULL;
	s->nconns--;
	s->nconns_tcp -= !c->is_unix;
	conn_in_release(s, c);
	buf_free(&c->out);
	buf_free(&c->wr);
	free(c);
}

/* Stop reading; the connection goes once its output is written. */
void conn_close(struct srv *s, struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	conn_mark_dirty(s, c);
}

void conn_mark_dirty(struct srv *s, struct conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->next_dirty = s->dirty;
	s->dirty = c;
}

void conn_hold(struct srv *s, struct conn *c, size_t before, uint64_t seq)
{
	if (!c->wait_seq) {
		c->ready = before;
		s->held_conns++;
	}
	if (seq > c->wait_seq)
		c->wait_seq = seq; /* what came after waits with it: answers stay in order */
}

/* Bytes of @c's output that may go now: all, or those before a hold. */
static size_t sendable(struct srv *s, struct conn *c)
{
	if (c->wait_seq && smsr_router_durable_seq(s->r) >= c->wait_seq) {
		c->wait_seq = 0;
		s->held_conns--;
	}
	return c->wait_seq ? c->ready : c->out.len;
}

/* Hand the first @n bytes of @c's output to the send buffer (empty now). */
static void take_out(struct conn *c, size_t n)
{
	struct buf t;

	if (n == c->out.len) {
		t = c->wr;
		c->wr = c->out;
		c->out = t;
		c->out.len = 0;
		c->wr_answers = c->out_answers;
		c->out_answers = 0;
	} else {
		c->wr.len = 0;
		if (buf_reserve(&c->wr, n))
			return; /* out of memory: it stays for the next turn */
		memcpy(c->wr.p, c->out.p, n);
		c->wr.len = n;
		memmove(c->out.p, c->out.p + n, c->out.len - n);
		c->out.len -= n;
		c->ready -= n;
		c->wr_answers = 0; /* counted with out until all of it moves */
	}
	c->wr_off = 0;
}

static void start_send(struct srv *s, struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->send_busy || c->dead)
		return;
	if (c->wr_off >= c->wr.len) {
		size_t n = sendable(s, c);

		if (!n)
			return;
		take_out(c, n);
		if (c->wr_off >= c->wr.len)
			return;
	}
	sqe = get_sqe(s);
	io_uring_prep_send(sqe, c->fd, c->wr.p + c->wr_off, c->wr.len - c->wr_off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud(OP_SEND, c));
	c->send_busy = true;
}

static size_t backlog(const struct conn *c)
{
	return c->out.len + (c->wr.len - c->wr_off);
}

/* After a turn: write, pause or resume reading, close. */
static void service(struct srv *s, struct conn *c, uint64_t now)
{
	if (c->dead) {
		if (!c->recv_armed && !c->send_busy)
			free_conn(s, c);
		return;
	}
	if (!c->closing) {
		bool was = c->paused;

		c->paused = backlog(c) > SMSRD_OUT_HIGH || c->resume_ns > now ||
			    c->out_answers + c->wr_answers >= s->o.max_calls;
		if (was && !c->paused)
			conn_process(s, c); /* frames that waited */
		sub_flush(s, c);
	}
	start_send(s, c);
	if (c->closing && !c->send_busy && !backlog(c)) {
		shutdown(c->fd, SHUT_RDWR);
		c->dead = true;
		if (c->recv_armed)
			cancel_recv(s, c);
		else
			free_conn(s, c);
		return;
	}
	/* Reading: armed unless paused with a full input buffer, or closing. */
	if (!c->recv_armed && !c->closing && !(c->paused && c->in.len >= s->o.max_frame))
		arm_recv(s, c);
	else if (c->recv_armed && c->paused && c->in.len >= s->o.max_frame)
		cancel_recv(s, c);
}

static struct conn *conn_of(struct srv *s, uint64_t u)
{
	uint32_t idx = (uint32_t)(u >> 8) & 0xffffff, gen = (uint32_t)(u >> 32);

	if (idx >= s->conns_cap || !s->conns[idx] || s->conns[idx]->gen != gen)
		return NULL;
	return s->conns[idx];
}

static void on_recv(struct srv *s, struct io_uring_cqe *cqe)
{
	struct conn *c = conn_of(s, cqe->user_data);
	bool more = cqe->flags & IORING_CQE_F_MORE;

	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

		if (c && cqe->res > 0 && !c->dead && !c->closing)
			conn_input(s, c, s->bufs + (size_t)bid * BUFSZ, (size_t)cqe->res);
		recycle(s, bid);
	}
	if (!c)
		return;
	if (!more)
		c->recv_armed = false;
	if (cqe->res == 0 || (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED)) {
		c->closing = true; /* the peer went: nothing more can be written */
		c->dead = true;
	}
	conn_mark_dirty(s, c);
}

static void on_send(struct srv *s, struct io_uring_cqe *cqe)
{
	struct conn *c = conn_of(s, cqe->user_data);

	if (!c)
		return;
	c->send_busy = false;
	if (cqe->res < 0) {
		c->dead = true;
		c->closing = true;
	} else {
		c->wr_off += (size_t)cqe->res;
		if (c->wr_off >= c->wr.len) {
			c->wr.len = c->wr_off = 0;
			c->wr_answers = 0;
		}
	}
	conn_mark_dirty(s, c);
}

static void on_signal(struct srv *s, struct io_uring_cqe *cqe)
{
	const struct signalfd_siginfo *si = (const void *)s->sig_buf;

	if (cqe->res >= (int)sizeof(*si)) {
		if (si->ssi_signo == SIGHUP) {
			if (!s->stopping)
				srv_reload_file(s);
		} else if (!s->stopping) {
			if (!s->o.quiet)
				fprintf(stderr, "smsrd: %s: stopping\n",
					si->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			s->stopping = true;
		}
	}
	arm_read(s, s->signal_fd, s->sig_buf, sizeof(s->sig_buf), OP_SIGNAL);
}

static void on_cqe(struct srv *s, struct io_uring_cqe *cqe)
{
	enum op op = (enum op)(cqe->user_data & 0xff);

	switch (op) {
	case OP_ACCEPT_TCP:
	case OP_ACCEPT_UNIX:
		if (cqe->res >= 0)
			new_conn(s, cqe->res, op == OP_ACCEPT_UNIX);
		if (!(cqe->flags & IORING_CQE_F_MORE) && !s->stopping)
			arm_accept(s, op == OP_ACCEPT_TCP ? s->tcp_fd : s->unix_fd, op);
		break;
	case OP_RECV:
		on_recv(s, cqe);
		break;
	case OP_SEND:
		on_send(s, cqe);
		break;
	case OP_EVENTFD:
		arm_read(s, s->event_fd, &s->efd_val, sizeof(s->efd_val), OP_EVENTFD);
		break;
	case OP_SIGNAL:
		on_signal(s, cqe);
		break;
	case OP_CANCEL:
		break;
	}
}

/* --- timeouts ------------------------------------------------------------- */
static void time_out(struct srv *s, struct conn *c, const char *what, uint32_t limit,
		     const char *unit)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "%s within %u %s: closing", what, limit, unit);
	conn_reply_error(s, c, 0, SMSR_ECONNTIMEOUT, msg);
	if (c->in.len)
		conn_in_release(s, c);
	conn_close(s, c);
}

/*
 * Close the connections past a deadline: not authenticated in
 * auth_timeout (tokens on), a frame begun and not finished in
 * frame_timeout (slow senders), no call and no subscription for
 * idle_timeout. Each gets one error frame, connection_timeout, first.
 */
static void reap(struct srv *s, uint64_t now)
{
	uint64_t auth = (uint64_t)s->o.auth_timeout_ms * SMSRD_MS;
	uint64_t frame = (uint64_t)s->o.frame_timeout_ms * SMSRD_MS;
	uint64_t idle = (uint64_t)s->o.idle_timeout_s * SMSRD_S;

	for (uint32_t i = 0; i < s->conns_cap; i++) {
		struct conn *c = s->conns[i];

		if (!c || c->closing || c->dead)
			continue;
		if (!c->authed && now - c->opened_ns > auth)
			time_out(s, c, "no auth call", s->o.auth_timeout_ms, "ms");
		else if (c->partial_ns && now - c->partial_ns > frame)
			time_out(s, c, "a frame not completed", s->o.frame_timeout_ms, "ms");
		else if (idle && !c->nsubs && !backlog(c) && now - c->last_call_ns > idle)
			time_out(s, c, "no call", s->o.idle_timeout_s, "s");
	}
}

/*
 * Reports that matched no message (a receipt for an id the router does not
 * hold, a report after its message's timeout): at most one line a second,
 * however many came.
 */
static void log_stale(struct srv *s)
{
	struct smsr_stats st;

	smsr_router_stats(s->r, &st);
	if (st.stale_reports > s->stale_seen && !s->o.quiet && s->stale_seen != UINT64_MAX)
		fprintf(stderr,
			"smsrd: %llu delivery reports matched no message in the last second "
			"(stale: acknowledged and dropped; %llu in all)\n",
			(unsigned long long)(st.stale_reports - s->stale_seen),
			(unsigned long long)st.stale_reports);
	s->stale_seen = st.stale_reports;
}

/* --- stopping ------------------------------------------------------------- */
static void close_listeners(struct srv *s)
{
	if (s->tcp_fd >= 0) {
		shutdown(s->tcp_fd, SHUT_RDWR);
		close(s->tcp_fd);
		s->tcp_fd = -1;
	}
	if (s->unix_fd >= 0) {
		struct stat st;

		close(s->unix_fd);
		s->unix_fd = -1;
		/* Only our own socket: never one another server put there since. */
		if (stat(s->o.unix_path, &st) == 0 && st.st_ino == s->unix_ino &&
		    st.st_dev == s->unix_dev)
			unlink(s->o.unix_path);
	}
}

static bool router_idle(struct srv *s)
{
	struct smsr_stats st;

	smsr_router_stats(s->r, &st);
	return st.queued_now == 0 && st.inflight_now == 0;
}

/*
 * SIGTERM: stop accepting, tell every client, let the router finish what it
 * holds (bounded by GRACE_NS), then stop it on a thread of its own while the
 * loop keeps moving its final events (what is left ends router_stopped, or
 * outcome_unknown_at_stop if a carrier may have it) from the hub into the
 * subscriptions; the workers wait for room rather than drop them. Then write
 * every subscription's queue to its socket, end the subscriptions, write
 * everything out (bounded by LINGER_NS) and close. The drain timeout bounds
 * the time from the router's stop to the last subscription event written.
 */
enum stop_phase {
	RUNNING,
	GRACE,
	STOPPING, /* the router stops on stop_main; the loop drains the hub */
	DRAIN,	  /* the subscriptions' queues go out */
	LINGER,
	DONE
};

struct stop {
	enum stop_phase ph;
	struct srv *s;
	uint64_t t0, drain_end;
	uint64_t sent0; /* events_sent when the drain began */
	pthread_t thread;
	bool threaded;
	_Atomic bool router_done;
};

static void *stop_main(void *arg)
{
	struct stop *st = arg;
	uint64_t one = 1;

	smsr_router_stop(st->s->r);
	atomic_store(&st->router_done, true);
	(void)!write(st->s->event_fd, &one, sizeof(one)); /* wake the loop */
	return NULL;
}

static void start_router_stop(struct srv *s, struct stop *st, uint64_t now)
{
	st->drain_end = now + (uint64_t)s->o.drain_timeout_s * SMSRD_S;
	st->sent0 = s->stats.events_sent;
	hub_hold(s->hub, st->drain_end);
	st->threaded = pthread_create(&st->thread, NULL, stop_main, st) == 0;
	if (!st->threaded) {
		/* No thread: stop here, and nobody drains meanwhile. */
		hub_hold(s->hub, 0);
		smsr_router_stop(s->r);
		atomic_store(&st->router_done, true);
	}
}

static bool all_written(struct srv *s)
{
	if (hub_unwritten(s))
		return false;
	for (uint32_t i = 0; i < s->conns_cap; i++)
		if (s->conns[i] && !s->conns[i]->dead && backlog(s->conns[i]))
			return false;
	return true;
}

static void end_drain(struct srv *s, struct stop *st, uint64_t now)
{
	size_t left = hub_unwritten(s), bytes = 0;

	for (uint32_t i = 0; i < s->conns_cap; i++)
		if (s->conns[i] && !s->conns[i]->dead)
			bytes += backlog(s->conns[i]);
	if (!s->o.quiet && (left || bytes))
		fprintf(stderr,
			"smsrd: stop: drain timeout (%u s): %zu subscription events and %zu bytes "
			"of output not written\n",
			s->o.drain_timeout_s, left, bytes);
	else if (!s->o.quiet)
		fprintf(stderr,
			"smsrd: stop: every subscription event written, %llu since the router "
			"began to stop, the last %.3f s after it stopped\n",
			(unsigned long long)(s->stats.events_sent - st->sent0),
			(double)(now - st->t0) / 1e9);
	for (uint32_t i = 0; i < s->conns_cap; i++)
		if (s->conns[i]) {
			sub_close_all(s, s->conns[i], SMSR_ESHUTDOWN);
			conn_close(s, s->conns[i]);
		}
}

static void step_stop(struct srv *s, struct stop *st, uint64_t now)
{
	switch (st->ph) {
	case RUNNING:
		close_listeners(s);
		for (uint32_t i = 0; i < s->conns_cap; i++)
			if (s->conns[i] && !s->conns[i]->dead) {
				conn_reply_error(s, s->conns[i], 0, SMSR_ESHUTDOWN,
						 "the server is stopping");
				conn_mark_dirty(s, s->conns[i]);
			}
		st->t0 = now;
		st->ph = GRACE;
		break;
	case GRACE:
		if (!router_idle(s) && now - st->t0 < GRACE_NS)
			break;
		start_router_stop(s, st, now);
		st->ph = STOPPING;
		break;
	case STOPPING:
		if (!atomic_load(&st->router_done))
			break;
		if (st->threaded)
			pthread_join(st->thread, NULL);
		hub_hold(s->hub, 0);
		hub_drain(s); /* the last final events */
		st->t0 = now;
		st->ph = DRAIN;
		break;
	case DRAIN:
		if (!all_written(s) && now < st->drain_end)
			break;
		end_drain(s, st, now);
		st->t0 = now;
		st->ph = LINGER;
		break;
	case LINGER:
		if (s->nconns == 0 || now - st->t0 > LINGER_NS)
			st->ph = DONE;
		break;
	case DONE:
		break;
	}
}

int srv_run(struct srv *s)
{
	struct stop st = {.ph = RUNNING, .s = s};

	while (st.ph != DONE) {
		struct __kernel_timespec ts = {.tv_nsec = 20 * 1000000};
		struct io_uring_cqe *cqe, *wait;
		unsigned head, n = 0;
		uint64_t now;

		if (st.ph != RUNNING)
			ts.tv_nsec = 5 * 1000000;
		for (uint32_t i = 0; i < s->conns_cap; i++)
			if (s->conns[i] && s->conns[i]->resume_ns)
				ts.tv_nsec = 1000000;
		io_uring_submit_and_wait_timeout(&s->ring, &wait, 1, &ts, NULL);
		io_uring_for_each_cqe (&s->ring, head, cqe) {
			on_cqe(s, cqe);
			n++;
		}
		io_uring_cq_advance(&s->ring, n);
		arena_reset(&s->ar);
		hub_drain(s);
		if (s->st)
			status_store_link(s->st); /* no msgid lookup has much left to link */
		now = smsr_now_ns();
		if (now >= s->next_reap_ns) {
			reap(s, now);
			s->next_reap_ns = now + 100 * SMSRD_MS;
		}
		if (now >= s->next_stale_ns) {
			log_stale(s);
			s->next_stale_ns = now + SMSRD_S;
		}
		for (uint32_t i = 0; i < s->conns_cap; i++) {
			struct conn *c = s->conns[i];

			if (c && c->resume_ns && c->resume_ns <= now) {
				c->resume_ns = 0;
				conn_mark_dirty(s, c);
			}
		}
		if (s->held_conns && smsr_router_durable_seq(s->r) != s->durable_seen) {
			/* The journal made more durable: answers may go. */
			s->durable_seen = smsr_router_durable_seq(s->r);
			for (uint32_t i = 0; i < s->conns_cap; i++)
				if (s->conns[i] && s->conns[i]->wait_seq)
					conn_mark_dirty(s, s->conns[i]);
		}
		while (s->dirty) {
			struct conn *c = s->dirty;

			s->dirty = c->next_dirty;
			c->dirty = false;
			service(s, c, now);
		}
		arena_reset(&s->ar);
		if (s->stopping)
			step_stop(s, &st, now);
	}
	for (uint32_t i = 0; i < s->conns_cap; i++)
		if (s->conns[i])
			free_conn(s, s->conns[i]);
	io_uring_queue_exit(&s->ring);
	free(s->bufs);
	free(s->br);
	free(s->conns);
	return 0;
}
