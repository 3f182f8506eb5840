/* SPDX-License-Identifier: MIT */
/*
 * The status store (status.h): one ring of message slots numbered by
 * insertion sequence, three hash indexes and a byte ring for strings.
 *
 * Three locks, each on a line of its own, so that the threads that record
 * at full rate never pull each other's lines for nothing:
 *   - the accept lock: the window [tail, head), the id and client_ref
 *     indexes and the string ring. Taken to accept a message and to look
 *     one up by id or client_ref; in smsrd both happen on the loop thread.
 *   - a lock in each slot: the slot's contents. A router worker recording
 *     an event takes only its message's slot, found by the event's tag; the
 *     slot's lines are the ones it writes anyway.
 *   - the carrier msgid lock: that index, taken for an event that brings a
 *     msgid and for lookups by msgid.
 * Order: accept, then msgid, then slot. A thread holding the msgid lock may
 * lock a second slot; nobody else ever waits for two.
 *
 * The id and client_ref indexes are chains of sequence numbers, newest
 * first, built only when a message is accepted; the live window is
 * contiguous and eviction takes the tail, so the first link outside the
 * window ends a chain and nothing is ever unlinked. Eviction therefore
 * touches only the slot being reused (the tail, when the store is full).
 *
 * The carrier msgid index is a log of entries (message sequence, slot,
 * hash, next older entry of the bucket), appended when a msgid is
 * recorded: a msgid arrives late and may change on a retry, so its chains
 * are ordered by log position rather than by message. The log holds at
 * least twice as many entries as the store holds messages; an entry about
 * to be overwritten whose message is still stored with that msgid is
 * appended again, so no stored message loses its msgid. An entry is
 * checked against its slot on lookup (a stale one — message evicted, or
 * msgid changed — simply does not match). Appending only writes the log,
 * in order; the first lookup after it links the new entries into their
 * buckets' chains, so the random bucket writes are paid only by a store
 * whose msgids are looked up (delivery reports injected from outside) or
 * whose owner links them now and then (status_store_link(): smsrd's loop,
 * every turn, in bulk, where the writes overlap: ~4 ns an entry).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status.h"

#define NIL	       UINT32_MAX
#define RING_PER_MSG   112 /* string ring bytes per slot */
#define RING_MIN       512 /* > the longest client_ref + tags */
#define MSGS_MAX       (1u << 26)
#define RETENTION_POPS 8    /* forgotten per accept at most: bounded critical sections */
#define CM_LINK_CHUNK  4096 /* msgid entries linked per hold of the lock */

/* A packed event: bits 0-43 time since acceptance (bit 43 set: in µs),
 * 44-46 type, 47-53 attempt, 54-63 channel (1023: none). */
#define EV_T_US	   (1ull << 43)
#define EV_T_MAX   (EV_T_US - 1)
#define EV_CH_NONE 1023u

struct slot {
	atomic_uint lock;
	uint32_t seq; /* insertion sequence of the message held */
	uint64_t id, accepted_ns;
	uint32_t id_next, ref_next; /* sequence of the next older entry of the bucket */
	uint32_t str_off;	    /* client_ref then tags in the string ring */
	int32_t reason, op_code;    /* of event code_ev (flags) */
	int16_t cm_chan;
	uint8_t ref_len, tags_len, skip; /* skip: ring bytes wasted before str_off */
	uint8_t cls, carrier, nhist;
	uint8_t flags;		       /* FL_FINAL | code event index + 1 */
	uint8_t cm_len;		       /* 0: no carrier msgid */
	uint8_t segments;	       /* billable segments */
	char recipient[SMSR_E164_MAX]; /* NUL-padded */
	char cm[STATUS_MSGID_MAX];     /* NUL-padded */
	uint64_t ev[STATUS_HIST_MAX];
};
#define FL_FINAL 0x10u
#define FL_CODE	 0x0fu

_Static_assert(sizeof(struct slot) == 192, "a slot is three cache lines");

/* One carrier msgid index entry; the log position is its name. */
struct cm_ent {
	uint32_t seq, idx1, hash, next; /* idx1: slot index + 1, 0 never written */
};

struct status_store {
	struct slot *slots;
	uint32_t *id_b, *ref_b, *cm_b; /* bucket heads */
	struct cm_ent *log;
	char *ring;
	void *mem;
	uint32_t cap, bmask, lmask, ring_size;
	uint64_t retention_ns, bytes;

	/* The accepting side, under its lock. */
	struct {
		_Alignas(64) atomic_uint lock;
		uint32_t head, tail_idx; /* next sequence; the tail's slot */
		atomic_uint tail;	 /* written under the lock, read by the msgid side */
		uint32_t ring_head, ring_used;
		uint64_t stored, evicted, forgotten;
	} acc;

	/* The carrier msgid side, under its lock. */
	struct {
		_Alignas(64) atomic_uint lock;
		uint32_t next;	    /* log position of the next entry */
		uint32_t linked;    /* entries before it are in their buckets' chains */
		uint32_t tail_seen; /* acc.tail as last read: never ahead of it */
	} cmx;

	_Alignas(64) atomic_uint_fast64_t ignored;
};

/* --- small helpers -------------------------------------------------------- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static inline void spin_lock(atomic_uint *l)
{
	while (atomic_exchange_explicit(l, 1, memory_order_acquire))
		while (atomic_load_explicit(l, memory_order_relaxed))
			cpu_relax();
}

static inline void spin_unlock(atomic_uint *l)
{
	atomic_store_explicit(l, 0, memory_order_release);
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/*
 * The id index's hash. The router's ids are (ms << 22 | node << 13 | seq),
 * and one batch's ids are consecutive: hashing the millisecond and the node
 * but adding the sequence keeps a batch's buckets side by side, a cache
 * line for 16 messages rather than a miss for each.
 */
static inline uint64_t id_hash(uint64_t id)
{
	return mix64(id >> 13) + (id & 8191);
}

/* Eight bytes a step; the last, partial word zero-padded (the length is
 * hashed too, so padding cannot collide with NULs). */
__attribute__((noinline)) static uint64_t hash_bytes(uint64_t h, const char *p, size_t n)
{
	size_t i = 0;
	uint64_t w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, p + i, n - i);
	return mix64((h ^ w) * 0x9e3779b97f4a7c15ull ^ n);
}

static inline uint64_t cm_hash(int chan, const char *cm, size_t n)
{
	return hash_bytes(0xcbf29ce484222325ull ^ (uint16_t)chan, cm, n);
}

static inline int16_t clamp_chan16(int32_t c)
{
	return c < -1 ? -1 : c > INT16_MAX ? INT16_MAX : (int16_t)c;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint32_t acc_tail(const struct status_store *s)
{
	return atomic_load_explicit(&s->acc.tail, memory_order_relaxed);
}

/* Is @seq live? Under the accept lock. */
static inline bool in_window(const struct status_store *s, uint32_t seq)
{
	uint32_t tail = acc_tail(s);

	return seq - tail < s->acc.head - tail;
}

/* The slot index of live sequence @seq. Under the accept lock. */
static inline uint32_t seq_idx(const struct status_store *s, uint32_t seq)
{
	uint32_t idx = s->acc.tail_idx + (seq - acc_tail(s));

	return idx >= s->cap ? idx - s->cap : idx;
}

static inline bool too_old(const struct status_store *s, const struct slot *sl, uint64_t now)
{
	return s->retention_ns && now > sl->accepted_ns && now - sl->accepted_ns > s->retention_ns;
}

static inline bool ref_eq(const struct status_store *s, const struct slot *sl, const char *ref,
			  size_t len)
{
	return sl->ref_len == len && memcmp(s->ring + sl->str_off, ref, len) == 0;
}

static inline bool cm_eq(const struct slot *sl, int16_t chan, const char *cm, size_t len)
{
	return sl->cm_len == len && sl->cm_chan == chan && memcmp(sl->cm, cm, len) == 0;
}

/* --- packed events -------------------------------------------------------- */

static uint64_t ev_pack(const struct smsr_event *ev, uint64_t accepted_ns)
{
	uint64_t d = ev->ts_ns > accepted_ns ? ev->ts_ns - accepted_ns : 0;
	uint64_t att = ev->attempt > 127 ? 127 : ev->attempt;
	uint64_t ch = ev->channel < 0	   ? EV_CH_NONE
		      : ev->channel > 1022 ? 1022
					   : (uint32_t)ev->channel;

	if (d > EV_T_MAX)
		d = EV_T_US | (d / 1000 > EV_T_MAX ? EV_T_MAX : d / 1000);
	return d | (uint64_t)(ev->type & 7) << 44 | att << 47 | ch << 54;
}

static void ev_unpack(uint64_t p, uint64_t accepted_ns, struct status_ev *out)
{
	uint64_t d = p & (EV_T_US | EV_T_MAX);
	uint32_t ch = (uint32_t)(p >> 54);

	if (d & EV_T_US)
		d = (d & EV_T_MAX) * 1000;
	out->ts_ns = accepted_ns + d;
	out->type = (uint8_t)(p >> 44 & 7);
	out->attempt = (uint8_t)(p >> 47 & 127);
	out->channel = ch == EV_CH_NONE ? -1 : (int16_t)ch;
	out->reason = 0;
	out->op_code = 0;
}

/* --- the carrier msgid log ------------------------------------------------ */

/* Is log position @n still in the log (not overwritten)? */
static inline bool cm_in_log(const struct status_store *s, uint32_t n)
{
	return s->cmx.next - 1 - n <= s->lmask;
}

/*
 * Does @e's message still hold the msgid @e was written for? Under the
 * msgid lock; @held is the slot the caller has locked already (or NIL).
 */
static bool cm_ent_live(struct status_store *s, const struct cm_ent *e, uint32_t held)
{
	struct slot *sl;
	bool live;

	uint32_t idx = e->idx1 - 1;

	if (idx >= s->cap || (int32_t)(e->seq - s->cmx.tail_seen) < 0)
		return false; /* never written, or evicted long ago */
	s->cmx.tail_seen = acc_tail(s);
	if ((int32_t)(e->seq - s->cmx.tail_seen) < 0)
		return false;
	sl = &s->slots[idx];
	if (idx != held)
		spin_lock(&sl->lock);
	live = sl->seq == e->seq && sl->id && sl->cm_len &&
	       (uint32_t)cm_hash(sl->cm_chan, sl->cm, sl->cm_len) == e->hash;
	if (idx != held)
		spin_unlock(&sl->lock);
	return live;
}

/* Index slot @idx (message @seq) under msgid hash @h. Under the msgid lock
 * and slot @idx's. */
static void cm_append(struct status_store *s, uint32_t seq, uint32_t idx, uint32_t h)
{
	const uint32_t held = idx;

	for (;;) {
		uint32_t n = s->cmx.next++;
		struct cm_ent *e = &s->log[n & s->lmask], old = *e;
		bool carry = cm_ent_live(s, &old, held);

		*e = (struct cm_ent){.seq = seq, .idx1 = idx + 1, .hash = h};
		if (!carry)
			return;
		/* Still somebody's msgid: keep it in the log. */
		seq = old.seq;
		idx = old.idx1 - 1;
		h = old.hash;
	}
}

/*
 * Link the entries appended since the last lookup into their buckets'
 * chains, in log order (so chains stay newest first). Done by lookups, not
 * by the workers that append: a store whose msgids are never looked up
 * never pays for the random bucket writes. Under the msgid lock; at most
 * @max entries (the rest stay for the next call). Returns whether all are.
 */
static bool cm_link(struct status_store *s, uint32_t max)
{
	uint32_t n = s->cmx.linked;

	if (s->cmx.next - n > s->lmask + 1)
		n = s->cmx.next - (s->lmask + 1); /* the older ones are overwritten */
	for (; n != s->cmx.next && max; n++, max--) {
		struct cm_ent *e = &s->log[n & s->lmask];

		e->next = s->cm_b[e->hash & s->bmask];
		s->cm_b[e->hash & s->bmask] = n;
	}
	s->cmx.linked = n;
	return n == s->cmx.next;
}

/* Give @sl (message @seq, slot @idx) msgid @cm. Under the msgid lock and
 * the slot's. */
static void cm_set(struct status_store *s, struct slot *sl, uint32_t seq, uint32_t idx,
		   int16_t chan, const char *cm, size_t len)
{
	if (cm_eq(sl, chan, cm, len))
		return; /* the same msgid again (a report repeats it) */
	memset(sl->cm, 0, sizeof(sl->cm));
	memcpy(sl->cm, cm, len);
	sl->cm_len = (uint8_t)len;
	sl->cm_chan = chan;
	cm_append(s, seq, idx, (uint32_t)cm_hash(chan, cm, len));
}

/* --- recording ------------------------------------------------------------ */

/* What record() works out before taking a lock. */
struct prep {
	uint64_t h, ref_h;
	size_t cm_len, ref_len, tags_len;
	int16_t chan;
};

static void evict_tail(struct status_store *s)
{
	struct slot *sl = &s->slots[s->acc.tail_idx];

	/* Fields only the accepting side writes: no slot lock needed. */
	s->acc.ring_used -= (uint32_t)sl->skip + sl->ref_len + sl->tags_len;
	atomic_store_explicit(&s->acc.tail, acc_tail(s) + 1, memory_order_relaxed);
	if (++s->acc.tail_idx == s->cap)
		s->acc.tail_idx = 0;
}

/* Make room for one more message with @len string bytes; returns its ring
 * offset and stores the bytes skipped at the ring's end in @skip. */
static uint32_t make_room(struct status_store *s, uint64_t now, uint32_t len, uint8_t *skip)
{
	for (int n = 0; s->retention_ns && n < RETENTION_POPS && acc_tail(s) != s->acc.head; n++) {
		if (!too_old(s, &s->slots[s->acc.tail_idx], now))
			break;
		evict_tail(s);
		s->acc.forgotten++;
	}
	if (s->acc.head - acc_tail(s) == s->cap) {
		evict_tail(s);
		s->acc.evicted++;
	}
	for (;;) {
		uint32_t off = s->acc.ring_head, sk = 0;

		if (off + len > s->ring_size) {
			sk = s->ring_size - off;
			off = 0;
		}
		if (s->acc.ring_used + sk + len <= s->ring_size) {
			s->acc.ring_used += sk + len;
			s->acc.ring_head = off + len == s->ring_size ? 0 : off + len;
			*skip = (uint8_t)sk;
			return off;
		}
		if (s->acc.head == acc_tail(s)) {
			s->acc.ring_head = 0; /* empty: start over */
			continue;
		}
		evict_tail(s);
		s->acc.evicted++;
	}
}

/* Append @ev to @sl: keep the first STATUS_HIST_MAX - 1 and the latest.
 * Under the slot's lock. */
static void append(struct slot *sl, const struct smsr_event *ev)
{
	unsigned i = sl->nhist < STATUS_HIST_MAX ? sl->nhist++ : STATUS_HIST_MAX - 1;
	unsigned code = sl->flags & FL_CODE;

	sl->ev[i] = ev_pack(ev, sl->accepted_ns);
	if (ev->reason || ev->op_code) {
		sl->reason = ev->reason;
		sl->op_code = ev->op_code;
		code = i + 1;
	} else if (code == i + 1) {
		code = 0; /* the event that carried them was replaced */
	}
	sl->flags = (uint8_t)(code | (SMSR_EV_FINAL & SMSR_EV_MASK(ev->type) ? FL_FINAL : 0));
}

static inline uint64_t tag_of(uint32_t seq, uint32_t idx)
{
	return (uint64_t)(idx + 1) << 32 | seq;
}

/* Under the accept lock. Returns the new message's tag. */
static uint64_t accept_msg(struct status_store *s, const struct smsr_event *ev,
			   const struct prep *p)
{
	uint32_t len = (uint32_t)(p->ref_len + p->tags_len), seq, idx;
	uint8_t skip;
	uint32_t off = make_room(s, ev->accepted_ns, len, &skip);
	struct slot *sl;

	seq = s->acc.head;
	idx = seq_idx(s, seq);
	sl = &s->slots[idx];
	if (p->ref_len)
		memcpy(s->ring + off, ev->client_ref, p->ref_len);
	if (p->tags_len)
		memcpy(s->ring + off + p->ref_len, ev->tags, p->tags_len);

	/* A worker may still be recording into the evicted message here. */
	spin_lock(&sl->lock);
	sl->seq = seq;
	sl->id = ev->id;
	sl->accepted_ns = ev->accepted_ns;
	sl->str_off = off;
	sl->skip = skip;
	sl->ref_len = (uint8_t)p->ref_len;
	sl->tags_len = (uint8_t)p->tags_len;
	sl->reason = sl->op_code = 0;
	sl->cls = ev->cls;
	sl->carrier = ev->carrier;
	sl->segments = (uint8_t)(ev->segments > 255 ? 255 : ev->segments);
	sl->nhist = sl->flags = sl->cm_len = 0;
	memset(sl->recipient, 0, sizeof(sl->recipient));
	if (ev->recipient)
		memcpy(sl->recipient, ev->recipient, strnlen(ev->recipient, SMSR_E164_MAX));
	append(sl, ev);
	spin_unlock(&sl->lock);

	sl->id_next = s->id_b[p->h & s->bmask];
	s->id_b[p->h & s->bmask] = seq;
	if (p->ref_len) {
		sl->ref_next = s->ref_b[(uint32_t)p->ref_h & s->bmask];
		s->ref_b[(uint32_t)p->ref_h & s->bmask] = seq;
	}
	s->acc.head++;
	s->acc.stored++;
	return tag_of(seq, idx);
}

/* Find @id: its slot index, and its sequence in @seq_out; NIL if not
 * stored. Under the accept lock. */
static uint32_t find_id(const struct status_store *s, uint64_t h, uint64_t id, uint32_t *seq_out)
{
	uint32_t seq = s->id_b[h & s->bmask];

	while (in_window(s, seq)) {
		uint32_t idx = seq_idx(s, seq);
		const struct slot *sl = &s->slots[idx];

		if (sl->id == id) {
			*seq_out = seq;
			return idx;
		}
		seq = sl->id_next;
	}
	return NIL;
}

/* Record @ev into slot @idx if it still holds message @seq. */
static bool record_at(struct status_store *s, uint32_t seq, uint32_t idx,
		      const struct smsr_event *ev, const struct prep *p)
{
	struct slot *sl = &s->slots[idx];
	bool hit;

	if (p->cm_len)
		spin_lock(&s->cmx.lock);
	spin_lock(&sl->lock);
	hit = sl->seq == seq && sl->id == ev->id;
	if (hit) {
		append(sl, ev);
		if (p->cm_len)
			cm_set(s, sl, seq, idx, p->chan, ev->carrier_msgid, p->cm_len);
	}
	spin_unlock(&sl->lock);
	if (p->cm_len)
		spin_unlock(&s->cmx.lock);
	return hit;
}

uint64_t status_store_record(struct status_store *s, const struct smsr_event *ev)
{
	struct prep p = {.h = id_hash(ev->id)};
	uint64_t tag = ev->tag;
	uint32_t seq = (uint32_t)tag, idx = (uint32_t)(tag >> 32) - 1;

	if (ev->type == SMSR_EV_REJECTED || ev->type >= SMSR_EV_COUNT || ev->id == 0)
		return 0;
	if (ev->carrier_msgid && ev->carrier_msgid[0]) {
		p.chan = clamp_chan16(ev->channel);
		p.cm_len = strnlen(ev->carrier_msgid, STATUS_MSGID_MAX);
	}
	if (ev->type == SMSR_EV_ACCEPTED) {
		if (ev->client_ref) {
			p.ref_len = strnlen(ev->client_ref, SMSR_REF_MAX);
			p.ref_h = hash_bytes(0xcbf29ce484222325ull, ev->client_ref, p.ref_len);
		}
		if (ev->tags)
			p.tags_len = strnlen(ev->tags, SMSR_TAGS_MAX);
		spin_lock(&s->acc.lock);
		tag = accept_msg(s, ev, &p);
		spin_unlock(&s->acc.lock);
		return tag;
	}
	/* The tag leads straight to the slot; without one, or with a stale
	 * one, the id index. */
	if (tag && idx < s->cap && record_at(s, seq, idx, ev, &p))
		return tag;
	spin_lock(&s->acc.lock);
	idx = find_id(s, p.h, ev->id, &seq);
	spin_unlock(&s->acc.lock);
	if (idx != NIL && record_at(s, seq, idx, ev, &p))
		return tag_of(seq, idx);
	atomic_fetch_add_explicit(&s->ignored, 1, memory_order_relaxed);
	return 0;
}

void status_store_event_cb(void *arg, const struct smsr_event *ev)
{
	status_store_record(arg, ev);
}

/* --- queries -------------------------------------------------------------- */

/* Under the accept lock (the ring) and the slot's lock. */
static void copy_out(const struct status_store *s, const struct slot *sl, struct status_msg *out)
{
	const char *str = s->ring + sl->str_off;
	unsigned code = sl->flags & FL_CODE;

	out->id = sl->id;
	out->accepted_ns = sl->accepted_ns;
	out->cls = sl->cls;
	out->carrier = sl->carrier;
	out->segments = sl->segments;
	out->nhist = sl->nhist;
	out->final = !!(sl->flags & FL_FINAL);
	memcpy(out->recipient, sl->recipient, SMSR_E164_MAX);
	out->recipient[SMSR_E164_MAX] = '\0';
	memcpy(out->client_ref, str, sl->ref_len);
	out->client_ref[sl->ref_len] = '\0';
	memcpy(out->tags, str + sl->ref_len, sl->tags_len);
	out->tags[sl->tags_len] = '\0';
	memcpy(out->carrier_msgid, sl->cm, sl->cm_len);
	out->carrier_msgid[sl->cm_len] = '\0';
	for (unsigned i = 0; i < sl->nhist; i++)
		ev_unpack(sl->ev[i], sl->accepted_ns, &out->hist[i]);
	if (code) {
		out->hist[code - 1].reason = sl->reason;
		out->hist[code - 1].op_code = sl->op_code;
	}
}

/* Copy slot @idx out unless too old. Under the accept lock. */
static bool copy_slot(struct status_store *s, uint32_t idx, uint64_t now, struct status_msg *out)
{
	struct slot *sl = &s->slots[idx];
	bool ok;

	spin_lock(&sl->lock);
	ok = !too_old(s, sl, now);
	if (ok)
		copy_out(s, sl, out);
	spin_unlock(&sl->lock);
	return ok;
}

int status_store_get(struct status_store *s, uint64_t id, struct status_msg *out)
{
	uint64_t h = id_hash(id), now = s->retention_ns ? now_ns() : 0;
	uint32_t seq, idx;
	int ret = -SMSR_ENOTFOUND;

	spin_lock(&s->acc.lock);
	idx = find_id(s, h, id, &seq);
	if (idx != NIL && copy_slot(s, idx, now, out))
		ret = 0;
	spin_unlock(&s->acc.lock);
	return ret;
}

int status_store_by_ref(struct status_store *s, const char *ref, struct status_msg *out, int max)
{
	size_t len = ref ? strnlen(ref, SMSR_REF_MAX + 1) : 0;
	uint64_t now = s->retention_ns ? now_ns() : 0;
	uint32_t seq;
	int n = 0;

	if (len == 0 || len > SMSR_REF_MAX || max <= 0)
		return 0;
	if (max > STATUS_BY_REF_MAX)
		max = STATUS_BY_REF_MAX;
	spin_lock(&s->acc.lock);
	seq = s->ref_b[(uint32_t)hash_bytes(0xcbf29ce484222325ull, ref, len) & s->bmask];
	/* Newest first: the chain is in sequence order, ids rise with it
	 * from one accepting thread. */
	for (; n < max && in_window(s, seq); seq = s->slots[seq_idx(s, seq)].ref_next) {
		uint32_t idx = seq_idx(s, seq);

		if (ref_eq(s, &s->slots[idx], ref, len) && copy_slot(s, idx, now, &out[n]))
			n++;
	}
	spin_unlock(&s->acc.lock);
	/* Highest id first even when several threads accepted. */
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && out[k - 1].id < out[k].id; k--) {
			struct status_msg t = out[k];

			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

void status_store_link(struct status_store *s)
{
	bool done;

	/* In chunks, letting the workers in between. */
	do {
		spin_lock(&s->cmx.lock);
		done = cm_link(s, CM_LINK_CHUNK);
		spin_unlock(&s->cmx.lock);
	} while (!done);
}

int status_store_by_carrier_msgid(struct status_store *s, int channel, const char *carrier_msgid,
				  uint64_t *id)
{
	size_t len = carrier_msgid ? strnlen(carrier_msgid, STATUS_MSGID_MAX) : 0;
	int16_t chan = clamp_chan16(channel);
	uint64_t now = s->retention_ns ? now_ns() : 0, best = 0;
	uint32_t h, n, steps = 0;

	if (len == 0)
		return -SMSR_ENOTFOUND;
	h = (uint32_t)cm_hash(chan, carrier_msgid, len);
	status_store_link(s);
	spin_lock(&s->cmx.lock);
	cm_link(s, UINT32_MAX); /* what came in meanwhile: a few at most */
	for (n = s->cm_b[h & s->bmask]; cm_in_log(s, n) && steps++ <= s->lmask;) {
		const struct cm_ent *e = &s->log[n & s->lmask];

		if (e->hash == h && e->idx1 - 1 < s->cap) {
			struct slot *sl = &s->slots[e->idx1 - 1];
			uint32_t tail = acc_tail(s);

			spin_lock(&sl->lock);
			if (sl->seq == e->seq && e->seq - tail < s->cap && sl->id > best &&
			    cm_eq(sl, chan, carrier_msgid, len) && !too_old(s, sl, now))
				best = sl->id;
			spin_unlock(&sl->lock);
		}
		if ((int32_t)(n - e->next) <= 0)
			break; /* links only go back in the log */
		n = e->next;
	}
	spin_unlock(&s->cmx.lock);
	if (!best)
		return -SMSR_ENOTFOUND;
	*id = best;
	return 0;
}

void status_store_stats(struct status_store *s, struct status_store_stats *out)
{
	*out = (struct status_store_stats){.capacity = s->cap, .bytes = s->bytes};
	spin_lock(&s->acc.lock);
	out->stored = s->acc.stored;
	out->evicted = s->acc.evicted;
	out->forgotten = s->acc.forgotten;
	spin_unlock(&s->acc.lock);
	out->ignored = atomic_load_explicit(&s->ignored, memory_order_relaxed);
}

/* --- lifecycle ------------------------------------------------------------ */

static size_t up64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

int status_store_create(struct status_store **out, size_t max_msgs, uint64_t retention_ns)
{
	struct status_store *s;
	size_t slots_sz, heads_sz, log_sz, ring_sz;
	uint32_t nb = 1, nl = 1;
	char *p;

	*out = NULL;
	if (max_msgs == 0)
		max_msgs = STATUS_DEFAULT_MAX;
	if (max_msgs > MSGS_MAX)
		return -SMSR_EINVAL;
	s = aligned_alloc(64, up64(sizeof(*s)));
	if (!s)
		return -SMSR_ENOMEM;
	memset(s, 0, sizeof(*s));
	s->cap = (uint32_t)max_msgs;
	while (nb < s->cap)
		nb *= 2;
	while (nl < 2 * s->cap)
		nl *= 2;
	s->bmask = nb - 1;
	s->lmask = nl - 1;
	s->ring_size = s->cap * RING_PER_MSG < RING_MIN ? RING_MIN : s->cap * RING_PER_MSG;
	s->retention_ns = retention_ns;

	slots_sz = up64((size_t)s->cap * sizeof(struct slot));
	heads_sz = up64((size_t)nb * sizeof(uint32_t));
	log_sz = up64((size_t)nl * sizeof(struct cm_ent));
	ring_sz = up64(s->ring_size);
	/* Zeroed and touched as used: a zero slot holds no message (ids are
	 * never 0) and a zero log entry was never written. */
	s->mem = calloc(1, slots_sz + 3 * heads_sz + log_sz + ring_sz + 64);
	if (!s->mem) {
		free(s);
		return -SMSR_ENOMEM;
	}
	s->bytes = up64(sizeof(*s)) + slots_sz + 3 * heads_sz + log_sz + ring_sz;
	p = (char *)(((uintptr_t)s->mem + 63) & ~(uintptr_t)63);
	s->slots = (struct slot *)(void *)p;
	s->id_b = (uint32_t *)(void *)(p + slots_sz);
	s->ref_b = (uint32_t *)(void *)(p + slots_sz + heads_sz);
	s->cm_b = (uint32_t *)(void *)(p + slots_sz + 2 * heads_sz);
	s->log = (struct cm_ent *)(void *)(p + slots_sz + 3 * heads_sz);
	s->ring = p + slots_sz + 3 * heads_sz + log_sz;
	memset(s->id_b, 0xff, 2 * heads_sz); /* NIL: outside every window */
	/* Log positions start at twice the log's size, so bucket heads of 0
	 * are outside the log. */
	s->cmx.next = s->cmx.linked = 2 * nl;
	atomic_init(&s->acc.lock, 0);
	atomic_init(&s->acc.tail, 0);
	atomic_init(&s->cmx.lock, 0);
	atomic_init(&s->ignored, 0);
	*out = s;
	return 0;
}

void status_store_destroy(struct status_store *s)
{
	if (!s)
		return;
	free(s->mem);
	free(s);
}
