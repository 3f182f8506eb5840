/* SPDX-License-Identifier: MIT */
/*
 * The status store (status.h): per shard, a ring of message slots numbered
 * by insertion sequence, three hash indexes and a byte ring for strings.
 *
 * The id and client_ref indexes are chains of sequence numbers, newest
 * first, built only when a message is accepted; the live window [tail,
 * head) is contiguous and eviction takes the tail, so the first link that
 * falls outside the window ends a chain and nothing is ever unlinked. The
 * carrier msgid index is different: a msgid arrives late and may change on
 * a retry, so its chain is doubly linked by slot index and unlinked
 * explicitly. The string ring is filled in the same order as the slots, so
 * making room in it is evicting from the tail too.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status.h"

#define NIL	       UINT32_MAX
#define RING_PER_MSG   112 /* string ring bytes per slot */
#define RING_MIN       512 /* > the longest client_ref + tags */
#define SHARDS_MAX     64
#define SHARD_MIN      1024 /* messages per shard before splitting */
#define MSGS_MAX       (1u << 26)
#define RETENTION_POPS 8 /* forgotten per accept at most: bounded critical sections */

/* A packed event: bits 0-43 time since acceptance (bit 43 set: in µs),
 * 44-46 type, 47-53 attempt, 54-63 channel (1023: none). */
#define EV_T_US	   (1ull << 43)
#define EV_T_MAX   (EV_T_US - 1)
#define EV_CH_NONE 1023u

struct slot {
	uint64_t id, accepted_ns;
	uint32_t id_next, ref_next; /* sequence of the next older entry of the bucket */
	uint32_t cm_prev, cm_next;  /* slot index, NIL */
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

struct shard {
	_Alignas(64) atomic_int lock;
	uint32_t head, tail, tail_idx; /* live sequences [tail, head); tail's slot */
	uint32_t ring_head, ring_used;
	uint64_t stored, evicted, forgotten, ignored;
	struct slot *slots;
	uint32_t *id_b, *ref_b, *cm_b; /* bucket heads */
	char *ring;
};

struct status_store {
	struct shard *sh;
	void *mem;
	uint32_t nshards, cap, bmask, ring_size;
	uint64_t retention_ns, bytes;
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

static inline void shard_lock(struct shard *sh)
{
	while (atomic_exchange_explicit(&sh->lock, 1, memory_order_acquire))
		while (atomic_load_explicit(&sh->lock, memory_order_relaxed))
			cpu_relax();
}

static inline void shard_unlock(struct shard *sh)
{
	atomic_store_explicit(&sh->lock, 0, memory_order_release);
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t hash_bytes(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 0x100000001b3ull;
	return mix64(h);
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

static inline bool in_window(const struct shard *sh, uint32_t seq)
{
	return seq - sh->tail < sh->head - sh->tail;
}

/* The slot of live sequence @seq. */
static inline struct slot *seq_slot(const struct status_store *s, const struct shard *sh,
				    uint32_t seq)
{
	uint32_t idx = sh->tail_idx + (seq - sh->tail);

	return &sh->slots[idx >= s->cap ? idx - s->cap : idx];
}

static inline bool too_old(const struct status_store *s, const struct slot *sl, uint64_t now)
{
	return s->retention_ns && now > sl->accepted_ns && now - sl->accepted_ns > s->retention_ns;
}

static inline bool ref_eq(const struct shard *sh, const struct slot *sl, const char *ref,
			  size_t len)
{
	return sl->ref_len == len && memcmp(sh->ring + sl->str_off, ref, len) == 0;
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

/* --- the carrier msgid chain ---------------------------------------------- */

static void cm_unlink(struct status_store *s, struct shard *sh, uint32_t idx)
{
	struct slot *sl = &sh->slots[idx];

	if (sl->cm_prev != NIL)
		sh->slots[sl->cm_prev].cm_next = sl->cm_next;
	else
		sh->cm_b[cm_hash(sl->cm_chan, sl->cm, sl->cm_len) & s->bmask] = sl->cm_next;
	if (sl->cm_next != NIL)
		sh->slots[sl->cm_next].cm_prev = sl->cm_prev;
	sl->cm_len = 0;
}

static void cm_set(struct status_store *s, struct shard *sh, struct slot *sl, int16_t chan,
		   const char *cm, size_t len, uint64_t h)
{
	uint32_t idx = (uint32_t)(sl - sh->slots), b = (uint32_t)h & s->bmask;

	if (cm_eq(sl, chan, cm, len))
		return;
	if (sl->cm_len)
		cm_unlink(s, sh, idx);
	memset(sl->cm, 0, sizeof(sl->cm));
	memcpy(sl->cm, cm, len);
	sl->cm_len = (uint8_t)len;
	sl->cm_chan = chan;
	sl->cm_prev = NIL;
	sl->cm_next = sh->cm_b[b];
	if (sl->cm_next != NIL)
		sh->slots[sl->cm_next].cm_prev = idx;
	sh->cm_b[b] = idx;
}

/* --- recording ------------------------------------------------------------ */

/* What record() works out before taking the lock. */
struct prep {
	uint64_t h, cm_h, ref_h;
	size_t cm_len, ref_len, tags_len;
	int16_t chan;
};

static void evict_tail(struct status_store *s, struct shard *sh)
{
	struct slot *sl = &sh->slots[sh->tail_idx];

	if (sl->cm_len)
		cm_unlink(s, sh, sh->tail_idx);
	sh->ring_used -= (uint32_t)sl->skip + sl->ref_len + sl->tags_len;
	sh->tail++;
	if (++sh->tail_idx == s->cap)
		sh->tail_idx = 0;
}

/* Make room for one more message with @len string bytes; returns its ring
 * offset and stores the bytes skipped at the ring's end in @skip. */
static uint32_t make_room(struct status_store *s, struct shard *sh, uint64_t now, uint32_t len,
			  uint8_t *skip)
{
	for (int n = 0; s->retention_ns && n < RETENTION_POPS && sh->tail != sh->head; n++) {
		if (!too_old(s, &sh->slots[sh->tail_idx], now))
			break;
		evict_tail(s, sh);
		sh->forgotten++;
	}
	if (sh->head - sh->tail == s->cap) {
		evict_tail(s, sh);
		sh->evicted++;
	}
	for (;;) {
		uint32_t off = sh->ring_head, sk = 0;

		if (off + len > s->ring_size) {
			sk = s->ring_size - off;
			off = 0;
		}
		if (sh->ring_used + sk + len <= s->ring_size) {
			sh->ring_used += sk + len;
			sh->ring_head = off + len == s->ring_size ? 0 : off + len;
			*skip = (uint8_t)sk;
			return off;
		}
		if (sh->head == sh->tail) {
			sh->ring_head = 0; /* empty: start over */
			continue;
		}
		evict_tail(s, sh);
		sh->evicted++;
	}
}

static struct slot *accept_msg(struct status_store *s, struct shard *sh,
			       const struct smsr_event *ev, const struct prep *p)
{
	uint32_t len = (uint32_t)(p->ref_len + p->tags_len), seq, idx;
	uint8_t skip;
	uint32_t off = make_room(s, sh, ev->accepted_ns, len, &skip);
	struct slot *sl;

	seq = sh->head;
	idx = sh->tail_idx + (seq - sh->tail);
	sl = &sh->slots[idx >= s->cap ? idx - s->cap : idx];
	sl->id = ev->id;
	sl->accepted_ns = ev->accepted_ns;
	sl->str_off = off;
	sl->skip = skip;
	sl->ref_len = (uint8_t)p->ref_len;
	sl->tags_len = (uint8_t)p->tags_len;
	if (p->ref_len)
		memcpy(sh->ring + off, ev->client_ref, p->ref_len);
	if (p->tags_len)
		memcpy(sh->ring + off + p->ref_len, ev->tags, p->tags_len);
	sl->reason = sl->op_code = 0;
	sl->cls = ev->cls;
	sl->carrier = ev->carrier;
	sl->segments = (uint8_t)(ev->segments > 255 ? 255 : ev->segments);
	sl->nhist = sl->flags = sl->cm_len = 0;
	memset(sl->recipient, 0, sizeof(sl->recipient));
	if (ev->recipient)
		memcpy(sl->recipient, ev->recipient, strnlen(ev->recipient, SMSR_E164_MAX));

	sl->id_next = sh->id_b[(uint32_t)(p->h >> 32) & s->bmask];
	sh->id_b[(uint32_t)(p->h >> 32) & s->bmask] = seq;
	if (p->ref_len) {
		sl->ref_next = sh->ref_b[(uint32_t)p->ref_h & s->bmask];
		sh->ref_b[(uint32_t)p->ref_h & s->bmask] = seq;
	}
	sh->head++;
	sh->stored++;
	return sl;
}

static struct slot *find_id(const struct status_store *s, const struct shard *sh, uint64_t h,
			    uint64_t id, uint32_t *seq_out)
{
	uint32_t seq = sh->id_b[(uint32_t)(h >> 32) & s->bmask];

	while (in_window(sh, seq)) {
		struct slot *sl = seq_slot(s, sh, seq);

		if (sl->id == id) {
			*seq_out = seq;
			return sl;
		}
		seq = sl->id_next;
	}
	return NULL;
}

/*
 * The message this thread recorded last: a message's events mostly come in
 * a row on one thread (handed off, submitted, delivered), and finding it
 * again by its index is a cache miss or two per event. Checked under the
 * shard's lock: the slot must still be live and still this message's.
 */
static _Thread_local struct {
	const struct status_store *s;
	uint64_t id;
	uint32_t seq;
} last;

static struct slot *find_recent(const struct status_store *s, const struct shard *sh, uint64_t h,
				uint64_t id)
{
	uint32_t seq;
	struct slot *sl;

	if (last.s == s && last.id == id && in_window(sh, last.seq)) {
		sl = seq_slot(s, sh, last.seq);
		if (sl->id == id)
			return sl;
	}
	sl = find_id(s, sh, h, id, &seq);
	if (sl) {
		last.s = s;
		last.id = id;
		last.seq = seq;
	}
	return sl;
}

/* Append @ev to @sl: keep the first STATUS_HIST_MAX - 1 and the latest. */
static void append(struct status_store *s, struct shard *sh, struct slot *sl,
		   const struct smsr_event *ev, const struct prep *p)
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
	if (p->cm_len)
		cm_set(s, sh, sl, p->chan, ev->carrier_msgid, p->cm_len, p->cm_h);
}

/* The slot @tag (from status_store_record) names, if it still holds @id. */
static struct slot *tagged(const struct status_store *s, const struct shard *sh, uint64_t tag,
			   uint64_t id)
{
	uint32_t idx = (uint32_t)tag, off;

	if ((tag >> 32) != (uint64_t)(sh - s->sh) + 1 || idx >= s->cap)
		return NULL;
	off = idx >= sh->tail_idx ? idx - sh->tail_idx : idx + s->cap - sh->tail_idx;
	if (off >= sh->head - sh->tail || sh->slots[idx].id != id)
		return NULL; /* forgotten since */
	return &sh->slots[idx];
}

uint64_t status_store_record(struct status_store *s, const struct smsr_event *ev)
{
	struct prep p = {.h = mix64(ev->id)};
	struct shard *sh = &s->sh[p.h & (s->nshards - 1)];
	struct slot *sl;
	uint64_t tag = 0;

	if (ev->type == SMSR_EV_REJECTED || ev->type >= SMSR_EV_COUNT || ev->id == 0)
		return 0;
	if (ev->carrier_msgid && ev->carrier_msgid[0]) {
		p.chan = clamp_chan16(ev->channel);
		p.cm_len = strnlen(ev->carrier_msgid, STATUS_MSGID_MAX);
		p.cm_h = cm_hash(p.chan, ev->carrier_msgid, p.cm_len);
	}
	if (ev->type == SMSR_EV_ACCEPTED) {
		if (ev->client_ref) {
			p.ref_len = strnlen(ev->client_ref, SMSR_REF_MAX);
			p.ref_h = hash_bytes(0xcbf29ce484222325ull, ev->client_ref, p.ref_len);
		}
		if (ev->tags)
			p.tags_len = strnlen(ev->tags, SMSR_TAGS_MAX);
	}
	shard_lock(sh);
	if (ev->type == SMSR_EV_ACCEPTED)
		sl = accept_msg(s, sh, ev, &p);
	else if (!ev->tag || !(sl = tagged(s, sh, ev->tag, ev->id)))
		sl = find_recent(s, sh, p.h, ev->id);
	if (sl) {
		append(s, sh, sl, ev, &p);
		tag = (uint64_t)(sh - s->sh + 1) << 32 | (uint32_t)(sl - sh->slots);
	} else {
		sh->ignored++;
	}
	shard_unlock(sh);
	return tag;
}

void status_store_event_cb(void *arg, const struct smsr_event *ev)
{
	status_store_record(arg, ev);
}

/* --- queries -------------------------------------------------------------- */

static void copy_out(const struct shard *sh, const struct slot *sl, struct status_msg *out)
{
	const char *str = sh->ring + sl->str_off;
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

int status_store_get(struct status_store *s, uint64_t id, struct status_msg *out)
{
	uint64_t h = mix64(id), now = s->retention_ns ? now_ns() : 0;
	struct shard *sh = &s->sh[h & (s->nshards - 1)];
	struct slot *sl;
	uint32_t seq;
	int ret = -SMSR_ENOTFOUND;

	shard_lock(sh);
	sl = find_id(s, sh, h, id, &seq);
	if (sl && !too_old(s, sl, now)) {
		copy_out(sh, sl, out);
		ret = 0;
	}
	shard_unlock(sh);
	return ret;
}

struct cand {
	uint64_t id;
	uint32_t seq, shard;
};

/* Insert @x into @c (@n of at most @max, highest id first). */
static void cand_add(struct cand *c, int *n, int max, struct cand x)
{
	int i;

	if (*n == max) {
		if (c[max - 1].id >= x.id)
			return;
		i = max - 1;
	} else {
		i = (*n)++;
	}
	for (; i > 0 && c[i - 1].id < x.id; i--)
		c[i] = c[i - 1];
	c[i] = x;
}

/* Gather the newest @max entries of @ref from every shard into @c. */
static int by_ref_gather(struct status_store *s, const char *ref, size_t len, struct cand *c,
			 int max)
{
	uint32_t b = (uint32_t)hash_bytes(0xcbf29ce484222325ull, ref, len) & s->bmask;
	uint64_t now = s->retention_ns ? now_ns() : 0;
	int n = 0;

	for (uint32_t k = 0; k < s->nshards; k++) {
		struct shard *sh = &s->sh[k];
		int got = 0;

		shard_lock(sh);
		for (uint32_t seq = sh->ref_b[b]; got < max && in_window(sh, seq);) {
			struct slot *sl = seq_slot(s, sh, seq);

			if (ref_eq(sh, sl, ref, len) && !too_old(s, sl, now)) {
				cand_add(c, &n, max, (struct cand){sl->id, seq, k});
				got++;
			}
			seq = sl->ref_next;
		}
		shard_unlock(sh);
	}
	return n;
}

int status_store_by_ref(struct status_store *s, const char *ref, struct status_msg *out, int max)
{
	struct cand c[STATUS_BY_REF_MAX];
	size_t len = ref ? strnlen(ref, SMSR_REF_MAX + 1) : 0;
	int n, k = 0;

	if (len == 0 || len > SMSR_REF_MAX || max <= 0)
		return 0;
	if (max > STATUS_BY_REF_MAX)
		max = STATUS_BY_REF_MAX;
	n = by_ref_gather(s, ref, len, c, max);
	for (int i = 0; i < n; i++) {
		struct shard *sh = &s->sh[c[i].shard];

		/* Evicted since the gathering: then it is skipped. */
		shard_lock(sh);
		if (in_window(sh, c[i].seq)) {
			struct slot *sl = seq_slot(s, sh, c[i].seq);

			if (sl->id == c[i].id)
				copy_out(sh, sl, &out[k++]);
		}
		shard_unlock(sh);
	}
	return k;
}

int status_store_by_carrier_msgid(struct status_store *s, int channel, const char *carrier_msgid,
				  uint64_t *id)
{
	size_t len = carrier_msgid ? strnlen(carrier_msgid, STATUS_MSGID_MAX) : 0;
	int16_t chan = clamp_chan16(channel);
	uint32_t b;
	uint64_t now = s->retention_ns ? now_ns() : 0, best = 0;

	if (len == 0)
		return -SMSR_ENOTFOUND;
	b = (uint32_t)cm_hash(chan, carrier_msgid, len) & s->bmask;
	for (uint32_t k = 0; k < s->nshards; k++) {
		struct shard *sh = &s->sh[k];

		shard_lock(sh);
		for (uint32_t i = sh->cm_b[b]; i != NIL; i = sh->slots[i].cm_next) {
			const struct slot *sl = &sh->slots[i];

			if (sl->id > best && cm_eq(sl, chan, carrier_msgid, len) &&
			    !too_old(s, sl, now))
				best = sl->id;
		}
		shard_unlock(sh);
	}
	if (!best)
		return -SMSR_ENOTFOUND;
	*id = best;
	return 0;
}

void status_store_stats(struct status_store *s, struct status_store_stats *out)
{
	*out = (struct status_store_stats){.capacity = (uint64_t)s->cap * s->nshards,
					   .bytes = s->bytes};
	for (uint32_t k = 0; k < s->nshards; k++) {
		struct shard *sh = &s->sh[k];

		shard_lock(sh);
		out->stored += sh->stored;
		out->evicted += sh->evicted;
		out->forgotten += sh->forgotten;
		out->ignored += sh->ignored;
		shard_unlock(sh);
	}
}

/* --- lifecycle ------------------------------------------------------------ */

static size_t up64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

int status_store_create(struct status_store **out, size_t max_msgs, uint64_t retention_ns)
{
	struct status_store *s;
	size_t slots_sz, heads_sz, ring_sz, per;
	uint32_t nb = 1;
	char *p;

	if (max_msgs == 0)
		max_msgs = STATUS_DEFAULT_MAX;
	if (max_msgs > MSGS_MAX)
		return -SMSR_EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -SMSR_ENOMEM;
	s->nshards = 1;
	while (s->nshards < SHARDS_MAX && (size_t)s->nshards * 2 * SHARD_MIN <= max_msgs)
		s->nshards *= 2;
	s->cap = (uint32_t)((max_msgs + s->nshards - 1) / s->nshards);
	while (nb < s->cap)
		nb *= 2;
	s->bmask = nb - 1;
	s->ring_size = s->cap * RING_PER_MSG < RING_MIN ? RING_MIN : s->cap * RING_PER_MSG;
	s->retention_ns = retention_ns;

	slots_sz = up64((size_t)s->cap * sizeof(struct slot));
	heads_sz = up64((size_t)nb * sizeof(uint32_t));
	ring_sz = up64(s->ring_size);
	per = slots_sz + 3 * heads_sz + ring_sz;
	s->sh = aligned_alloc(64, (size_t)s->nshards * sizeof(struct shard));
	if (!s->sh)
		goto err_shards;
	s->mem = aligned_alloc(64, per * s->nshards);
	if (!s->mem)
		goto err_mem;
	s->bytes = sizeof(*s) + s->nshards * (sizeof(struct shard) + per);
	p = s->mem;
	for (uint32_t k = 0; k < s->nshards; k++, p += per) {
		struct shard *sh = &s->sh[k];

		memset(sh, 0, sizeof(*sh));
		atomic_init(&sh->lock, 0);
		sh->slots = (struct slot *)(void *)p;
		sh->id_b = (uint32_t *)(void *)(p + slots_sz);
		sh->ref_b = (uint32_t *)(void *)(p + slots_sz + heads_sz);
		sh->cm_b = (uint32_t *)(void *)(p + slots_sz + 2 * heads_sz);
		sh->ring = p + slots_sz + 3 * heads_sz;
		memset(sh->id_b, 0xff, 3 * heads_sz); /* NIL, and outside every window */
	}
	*out = s;
	return 0;
err_mem:
	free(s->sh);
err_shards:
	free(s);
	return -SMSR_ENOMEM;
}

void status_store_destroy(struct status_store *s)
{
	if (!s)
		return;
	free(s->mem);
	free(s->sh);
	free(s);
}
