/* SPDX-License-Identifier: MIT */
/*
 * A sink SMSC for the benchmarks, on smsr's own SMPP codec
 * (chan/smpp_pdu.h), listening on 127.0.0.1: it accepts any bind, answers
 * enquire_link and unbind, and answers every submit_sm at once with a
 * submit_sm_resp (the message id a hex counter) and, when the submit asks
 * for a receipt (registered_delivery), a deliver_sm receipt right behind
 * it (esm_class 0x04, receipted_message_id and message_state TLVs, the
 * usual "id:... stat:DELIVRD" text); it counts the deliver_sm_resps.
 *
 * One thread with epoll over all connections. What one recv() brought is
 * answered whole and sent with one send(); a connection is not read while
 * 4 MB of answers wait to be written, so the peer's reading paces it.
 *
 * Control from other threads: @down closes every connection (at once,
 * sink_wake()) and refuses new ones while set; while @record is set the
 * sink notes the wall-clock time of each read that held a submit_sm in
 * @rec (up to REC_MAX, @nrec published with release order). The counters
 * are added once per wake-up.
 */
#ifndef SMSR_BENCH_SMPP_SINK_H
#define SMSR_BENCH_SMPP_SINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SINK_CONNS 16
#define REC_MAX	   65536

struct sink_conn {
	int fd; /* -1: free */
	uint32_t events, seq;
	bool closing; /* unbind answered: close once flushed */
	size_t in_len, out_off, out_len;
	uint8_t *in, *out;
};

struct sink {
	int lfd, ep, wake;
	uint16_t port;
	pthread_t thread;
	_Atomic int tid;
	_Atomic bool stop, down, record;
	_Atomic uint64_t binds, submits, receipts, acks;
	_Atomic uint32_t nrec;
	uint64_t rec[REC_MAX]; /* CLOCK_REALTIME of reads with submits, while record */
	uint64_t read_ns;      /* this read's, until a submit is noted */
	uint64_t next_id;
	uint64_t n_sub, n_rcp, n_ack; /* this read's, added to the atomics after */
	struct sink_conn c[SINK_CONNS];
};

/* Listen on 127.0.0.1:0 (s->port) and start @s's thread (@s zeroed). 0 or -1. */
int sink_start(struct sink *s);
/* Stop the thread, close everything, free the buffers. */
void sink_stop(struct sink *s);
/* Wake the thread (to act on @down at once). Any thread. */
void sink_wake(struct sink *s);

#endif
