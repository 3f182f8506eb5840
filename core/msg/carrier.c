/* SPDX-License-Identifier: MIT */
/*
 * Carrier lookup tables: a digit trie of prefixes plus a hash set of ported
 * numbers, built once and then only read.
 *
 * Invariant: after smsr__carrier_table_create() returns, nothing in the
 * table is written again, so any number of threads may look up at once
 * without locks or atomics; a new configuration builds a new table.
 *
 * A lookup probes the ported set (digits as an integer, one or two slots)
 * and then walks the trie, remembering the deepest node that carries a
 * carrier: that is the longest matching prefix, in at most 15 steps. Built-in prefixes go in first
 * and configured ones after, so a configured prefix of equal length replaces the built-in one;
 * among configured entries with the same key, the last one wins.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "carrier.h"

#define NO_CARRIER 0xff

/* Trie node: child index per digit (0 = none; the root is never a child). */
struct trie_node {
	uint32_t child[10];
	uint8_t carrier; /* NO_CARRIER when no prefix ends here */
};

struct smsr__carrier_table {
	struct trie_node *nodes;
	uint32_t nnodes;
	uint32_t cap;
	/*
	 * Ported numbers, open addressing with linear probing. A slot holds
	 * (number << 8) | carrier; 0 is empty, which no number can be since
	 * E.164 country codes never start with 0.
	 */
	uint64_t *ported;
	uint64_t ported_mask; /* capacity - 1; capacity is a power of two */
	size_t nported;
};

/*
 * Mainland ranges as allocated by MIIT, as of 2024 (MIIT numbering
 * allocations, cross-checked with the carriers' published 号段 lists).
 * Keys are digits after "+86". Four-digit keys refine a three-digit one
 * (1349 inside 134, 1740-1745, 170x MVNO blocks). 140-144 and 1064 are
 * 13-digit IoT ranges that never receive person-to-person SMS; 1440 is
 * kept because China Mobile sends to it.
 */
static const struct {
	char key[5];
	uint8_t carrier;
} builtin[] = {
    /* China Mobile, incl. data/IoT 147, 148, 172, 1440 and MVNO 165, 1703/5/6 */
    {"134", SMSR_CARRIER_CMCC},
    {"135", SMSR_CARRIER_CMCC},
    {"136", SMSR_CARRIER_CMCC},
    {"137", SMSR_CARRIER_CMCC},
    {"138", SMSR_CARRIER_CMCC},
    {"139", SMSR_CARRIER_CMCC},
    {"147", SMSR_CARRIER_CMCC},
    {"148", SMSR_CARRIER_CMCC},
    {"150", SMSR_CARRIER_CMCC},
    {"151", SMSR_CARRIER_CMCC},
    {"152", SMSR_CARRIER_CMCC},
    {"157", SMSR_CARRIER_CMCC},
    {"158", SMSR_CARRIER_CMCC},
    {"159", SMSR_CARRIER_CMCC},
    {"165", SMSR_CARRIER_CMCC},
    {"172", SMSR_CARRIER_CMCC},
    {"178", SMSR_CARRIER_CMCC},
    {"182", SMSR_CARRIER_CMCC},
    {"183", SMSR_CARRIER_CMCC},
    {"184", SMSR_CARRIER_CMCC},
    {"187", SMSR_CARRIER_CMCC},
    {"188", SMSR_CARRIER_CMCC},
    {"195", SMSR_CARRIER_CMCC},
    {"197", SMSR_CARRIER_CMCC},
    {"198", SMSR_CARRIER_CMCC},
    {"1440", SMSR_CARRIER_CMCC},
    {"1703", SMSR_CARRIER_CMCC},
    {"1705", SMSR_CARRIER_CMCC},
    {"1706", SMSR_CARRIER_CMCC},
    /* China Unicom, incl. data/IoT 145, 146 and MVNO 167, 171, 1704/7/8/9 */
    {"130", SMSR_CARRIER_CUCC},
    {"131", SMSR_CARRIER_CUCC},
    {"132", SMSR_CARRIER_CUCC},
    {"145", SMSR_CARRIER_CUCC},
    {"146", SMSR_CARRIER_CUCC},
    {"155", SMSR_CARRIER_CUCC},
    {"156", SMSR_CARRIER_CUCC},
    {"166", SMSR_CARRIER_CUCC},
    {"167", SMSR_CARRIER_CUCC},
    {"171", SMSR_CARRIER_CUCC},
    {"175", SMSR_CARRIER_CUCC},
    {"176", SMSR_CARRIER_CUCC},
    {"185", SMSR_CARRIER_CUCC},
    {"186", SMSR_CARRIER_CUCC},
    {"196", SMSR_CARRIER_CUCC},
    {"1704", SMSR_CARRIER_CUCC},
    {"1707", SMSR_CARRIER_CUCC},
    {"1708", SMSR_CARRIER_CUCC},
    {"1709", SMSR_CARRIER_CUCC},
    /* China Telecom, incl. satellite 1349, 1740-1745, data 149, MVNO 162, 1700/1/2 */
    {"133", SMSR_CARRIER_CTCC},
    {"1349", SMSR_CARRIER_CTCC},
    {"149", SMSR_CARRIER_CTCC},
    {"153", SMSR_CARRIER_CTCC},
    {"162", SMSR_CARRIER_CTCC},
    {"173", SMSR_CARRIER_CTCC},
    {"1740", SMSR_CARRIER_CTCC},
    {"1741", SMSR_CARRIER_CTCC},
    {"1742", SMSR_CARRIER_CTCC},
    {"1743", SMSR_CARRIER_CTCC},
    {"1744", SMSR_CARRIER_CTCC},
    {"1745", SMSR_CARRIER_CTCC},
    {"177", SMSR_CARRIER_CTCC},
    {"180", SMSR_CARRIER_CTCC},
    {"181", SMSR_CARRIER_CTCC},
    {"189", SMSR_CARRIER_CTCC},
    {"190", SMSR_CARRIER_CTCC},
    {"191", SMSR_CARRIER_CTCC},
    {"193", SMSR_CARRIER_CTCC},
    {"199", SMSR_CARRIER_CTCC},
    {"1700", SMSR_CARRIER_CTCC},
    {"1701", SMSR_CARRIER_CTCC},
    {"1702", SMSR_CARRIER_CTCC},
    /* China Broadnet */
    {"192", SMSR_CARRIER_CBN},
};

/* Digits of a key or number after the '+', or 0 if it is not '+' and 1-15 digits. */
static size_t e164_digits(const char *s, size_t len)
{
	if (len < 2 || len > SMSR_E164_MAX || s[0] != '+' || s[1] == '0')
		return 0;
	for (size_t i = 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return len - 1;
}

static int node_new(struct smsr__carrier_table *t, uint32_t *idx)
{
	if (t->nnodes == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 256;
		struct trie_node *n;

		if (t->cap > UINT32_MAX / 2)
			return -SMSR_ENOMEM;
		n = realloc(t->nodes, cap * sizeof(*n));
		if (!n)
			return -SMSR_ENOMEM;
		t->nodes = n;
		t->cap = cap;
	}
	memset(&t->nodes[t->nnodes], 0, sizeof(t->nodes[0]));
	t->nodes[t->nnodes].carrier = NO_CARRIER;
	*idx = t->nnodes++;
	return 0;
}

/* Add @n digits of @digits under the root; a later insert of the same key wins. */
static int trie_insert(struct smsr__carrier_table *t, const char *digits, size_t n, uint8_t carrier)
{
	uint32_t cur = 0;

	for (size_t i = 0; i < n; i++) {
		int d = digits[i] - '0';
		uint32_t next = t->nodes[cur].child[d];

		if (!next) {
			int rc = node_new(t, &next);

			if (rc < 0)
				return rc;
			t->nodes[cur].child[d] = next;
		}
		cur = next;
	}
	t->nodes[cur].carrier = carrier;
	return 0;
}

static uint64_t digits_value(const char *digits, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(digits[i] - '0');
	return v;
}

static size_t ported_slot(const struct smsr__carrier_table *t, uint64_t number)
{
	/* Fibonacci hashing: numbers share long prefixes, so mix them well. */
	return (size_t)((number * 0x9e3779b97f4a7c15ull) >> 20) & t->ported_mask;
}

static void ported_put(struct smsr__carrier_table *t, uint64_t number, uint8_t carrier)
{
	size_t i = ported_slot(t, number);

	while (t->ported[i] && t->ported[i] >> 8 != number)
		i = (i + 1) & t->ported_mask;
	t->ported[i] = number << 8 | carrier;
}

static int ported_build(struct smsr__carrier_table *t, const struct smsr__carrier_entry *ported,
			size_t nported)
{
	size_t cap = 16;

	if (nported == 0)
		return 0;
	if (nported > SIZE_MAX / 4 / sizeof(uint64_t))
		return -SMSR_ENOMEM;
	while (cap < nported * 2) /* load <= 1/2 keeps probes short */
		cap *= 2;
	t->ported = calloc(cap, sizeof(uint64_t));
	if (!t->ported)
		return -SMSR_ENOMEM;
	t->ported_mask = cap - 1;
	t->nported = nported;
	for (size_t i = 0; i < nported; i++) {
		const char *k = ported[i].key;
		size_t n = e164_digits(k, strlen(k));

		ported_put(t, digits_value(k + 1, n), ported[i].carrier);
	}
	return 0;
}

/* Entries must be '+' and 1-15 digits (no leading 0) naming a real carrier. */
static bool entries_valid(const struct smsr__carrier_entry *e, size_t n)
{
	if (n && !e)
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(e[i].key, sizeof(e[i].key));

		if (len == sizeof(e[i].key) || !e164_digits(e[i].key, len) ||
		    e[i].carrier >= SMSR_NCARRIER)
			return false;
	}
	return true;
}

static int prefixes_build(struct smsr__carrier_table *t, const struct smsr__carrier_entry *prefixes,
			  size_t nprefixes)
{
	uint32_t root;
	int rc = node_new(t, &root);

	for (size_t i = 0; rc == 0 && i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		char key[8] = "86";

		memcpy(key + 2, builtin[i].key, strlen(builtin[i].key) + 1);
		rc = trie_insert(t, key, strlen(key), builtin[i].carrier);
	}
	for (size_t i = 0; rc == 0 && i < nprefixes; i++) {
		const char *k = prefixes[i].key;

		rc = trie_insert(t, k + 1, strlen(k) - 1, prefixes[i].carrier);
	}
	return rc;
}

int smsr__carrier_table_create(struct smsr__carrier_table **out,
			       const struct smsr__carrier_entry *prefixes, size_t nprefixes,
			       const struct smsr__carrier_entry *ported, size_t nported)
{
	struct smsr__carrier_table *t;
	int rc;

	if (!out || !entries_valid(prefixes, nprefixes) || !entries_valid(ported, nported))
		return -SMSR_EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -SMSR_ENOMEM;
	rc = prefixes_build(t, prefixes, nprefixes);
	if (rc < 0)
		goto err_table;
	rc = ported_build(t, ported, nported);
	if (rc < 0)
		goto err_table;
	*out = t;
	return 0;

err_table:
	smsr__carrier_table_destroy(t);
	return rc;
}

static int ported_find(const struct smsr__carrier_table *t, uint64_t number)
{
	size_t i = ported_slot(t, number);

	for (;;) {
		uint64_t slot = t->ported[i];

		if (!slot)
			return -1;
		if (slot >> 8 == number)
			return (int)(slot & 0xff);
		i = (i + 1) & t->ported_mask;
	}
}

enum smsr_carrier smsr__carrier_lookup(const struct smsr__carrier_table *t, const char *e164,
				       size_t len)
{
	const struct trie_node *nodes;
	uint8_t best = NO_CARRIER;
	uint32_t cur = 0;
	size_t n;

	if (!t || !e164)
		return SMSR_CARRIER_UNKNOWN;
	n = e164_digits(e164, len);
	if (!n)
		return SMSR_CARRIER_UNKNOWN; /* not normalized: nothing to say */
	nodes = t->nodes;
	if (t->nported) {
		int c = ported_find(t, digits_value(e164 + 1, n));

		if (c >= 0)
			return (enum smsr_carrier)c;
	}
	for (size_t i = 1; i <= n; i++) {
		cur = nodes[cur].child[e164[i] - '0'];
		if (!cur)
			break;
		if (nodes[cur].carrier != NO_CARRIER)
			best = nodes[cur].carrier;
	}
	if (best != NO_CARRIER)
		return (enum smsr_carrier)best;
	return n >= 2 && e164[1] == '8' && e164[2] == '6' ? SMSR_CARRIER_UNKNOWN
							  : SMSR_CARRIER_INTL;
}

void smsr__carrier_table_destroy(struct smsr__carrier_table *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->ported);
	free(t);
}
