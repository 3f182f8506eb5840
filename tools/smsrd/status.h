/* SPDX-License-Identifier: MIT */
/*
 * The status store: every accepted message's recent history, for the
 * `status` call (proto/PROTOCOL.md section 6.3).
 *
 * Router workers record events (several at once, millions per second in
 * total); the loop thread accepts messages and reads histories. The store
 * is one fixed ring of message slots, each with its own spinlock, plus an
 * id index, a client_ref index, a carrier msgid index and a byte ring for
 * client_ref and tags. An event goes straight to its message's slot by the
 * tag its ACCEPTED event returned, so a worker takes no lock but that
 * slot's (and the msgid index's when the event brings a msgid). Everything
 * is allocated at create: recording never allocates.
 *
 * Invariant: the live slots are the contiguous run of insertion sequence
 * numbers [tail, head); the id and client_ref chains link newer to older
 * entries only, so an entry outside the window ends a chain and eviction
 * never has to unlink from them.
 *
 * Memory: 192 B of slot, 112 B of string ring, 12-24 B of hash heads and
 * 32-64 B of msgid log per message: 348 B at the default 262,144 messages
 * (87 MiB, touched as used). A message whose client_ref and tags take more
 * than 112 B borrows ring space from its neighbours, so with long strings
 * throughout the store keeps fewer messages (at worst 112/192 of them),
 * never more memory.
 *
 * Eviction is oldest first.
 *
 * Fidelity: event times are exact to the nanosecond up to 2.4 hours after
 * acceptance and to the microsecond after that; channel indexes above 1022
 * and attempts above 127 are clamped; a message keeps one (reason,
 * op_code) pair, that of its latest event carrying one (the router sets
 * them on final events only), reported on that event.
 */
#ifndef SMSRD_STATUS_H
#define SMSRD_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "smsr/msg.h"

#define STATUS_HIST_MAX	   12  /* events kept: the first 11 and the latest */
#define STATUS_BY_REF_MAX  256 /* most messages one by_ref query returns */
#define STATUS_MSGID_MAX   23  /* carrier msgid bytes kept (the router's own limit) */
#define STATUS_DEFAULT_MAX 262144u

struct status_store;

struct status_ev {
	uint64_t ts_ns;	 /* CLOCK_MONOTONIC */
	uint8_t type;	 /* enum smsr_event_type */
	uint8_t attempt; /* 1 on the first try */
	int16_t channel; /* channel index, -1 when none */
	int32_t reason;	 /* -SMSR_E* or 0 */
	int32_t op_code; /* operator's code or 0 */
};

struct status_msg {
	uint64_t id, accepted_ns;
	uint8_t cls, carrier, nhist, final; /* final: the latest event is final */
	uint8_t segments;		    /* billable segments */
	char recipient[SMSR_E164_MAX + 1];
	char client_ref[SMSR_REF_MAX + 1]; /* "" when none */
	char tags[SMSR_TAGS_MAX + 1];	   /* "" when none */
	char carrier_msgid[STATUS_MSGID_MAX + 1];
	struct status_ev hist[STATUS_HIST_MAX]; /* oldest first, @nhist of them */
};

struct status_store_stats {
	uint64_t stored;    /* accepted messages recorded */
	uint64_t evicted;   /* dropped for room (slots or string ring) */
	uint64_t forgotten; /* dropped for age (retention) */
	uint64_t ignored;   /* events of unknown messages */
	uint64_t capacity;  /* slots (max_msgs) */
	uint64_t bytes;	    /* memory reserved at create */
};

/*
 * Create a store for @max_msgs messages (0: STATUS_DEFAULT_MAX). Messages
 * accepted more than
 * @retention_ns ago are forgotten (0: kept until evicted). Stores the store
 * in @out (NULL on failure). Returns 0, -SMSR_EINVAL (@max_msgs above
 * 2^26) or -SMSR_ENOMEM; on failure nothing is allocated.
 */
int status_store_create(struct status_store **out, size_t max_msgs, uint64_t retention_ns);

/* Free @s (NULL is fine). No other call may be running. */
void status_store_destroy(struct status_store *s);

/*
 * Record @ev (borrowed for the call). An ACCEPTED event creates the
 * message, evicting the oldest when full; any other event is
 * appended to its message's history, or ignored when the message is
 * unknown (never accepted, evicted or forgotten). REJECTED events are not
 * stored. Called on router worker threads (and ACCEPTED on the submitting
 * threads), concurrently; events of one
 * message must come in order from one thread at a time. Never allocates;
 * spins briefly at most. Returns where the message is kept (0: nowhere):
 * given back in a later event's tag, that event goes straight there
 * instead of through the id index (the tag is checked, so a stale one
 * costs only the lookup it would have made anyway).
 */
uint64_t status_store_record(struct status_store *s, const struct smsr_event *ev);

/* smsr_event_cb adapter: @arg is the store. */
void status_store_event_cb(void *arg, const struct smsr_event *ev);

/*
 * Copy message @id into @out (caller storage). Returns 0 or
 * -SMSR_ENOTFOUND (unknown, evicted or older than the retention).
 * Thread-safe; spins briefly at most.
 */
int status_store_get(struct status_store *s, uint64_t id, struct status_msg *out);

/*
 * Copy up to @max (at most STATUS_BY_REF_MAX) of the most recently stored
 * messages whose client_ref is exactly @ref (borrowed) into @out, highest
 * id first. Returns how many (0: none). Thread-safe.
 */
int status_store_by_ref(struct status_store *s, const char *ref, struct status_msg *out, int max);

/*
 * Find the message that channel @channel's carrier knows as @carrier_msgid
 * (borrowed; compared on its first STATUS_MSGID_MAX bytes): store its id in
 * @id and return 0, or return -SMSR_ENOTFOUND. When several match, the
 * highest id wins. Thread-safe.
 */
int status_store_by_carrier_msgid(struct status_store *s, int channel, const char *carrier_msgid,
				  uint64_t *id);

/*
 * Link the carrier msgids recorded since the last call (or lookup) into the
 * msgid index, a chunk at a time. Recording only logs them; smsrd's loop
 * calls this every turn, so that a lookup never has much left to link
 * (~4 ns an entry). Thread-safe.
 */
void status_store_link(struct status_store *s);

/* Totals so far, into @out (caller storage). Thread-safe. */
void status_store_stats(struct status_store *s, struct status_store_stats *out);

#endif
