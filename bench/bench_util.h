/* SPDX-License-Identifier: MIT */
/*
 * Shared bits for the benchmarks: a monotonic clock, medians, waiting for
 * a router to finish, and the JSON line every result is printed as:
 *   {"bench":"route","metric":"route_path_msgs_per_sec","value":3.1e6,"unit":"msg/s",...}
 * Header-only so each bench stays one file.
 */
#ifndef SMSR_BENCH_UTIL_H
#define SMSR_BENCH_UTIL_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smsr/smsr.h"

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of @n samples (sorts @v in place). */
static inline double bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Percentile @p (0..100) of @n samples, sorting @v in place. */
static inline double bench_percentile(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* One result line. @extra is either NULL or a preformatted ,"k":v list. */
static inline void bench_emit(const char *bench, const char *metric, double value, const char *unit,
			      int runs, const char *extra)
{
	printf(
	    "{\"bench\":\"%s\",\"metric\":\"%s\",\"value\":%.6g,\"unit\":\"%s\",\"runs\":%d%s}\n",
	    bench, metric, value, unit, runs, extra ? extra : "");
	fflush(stdout);
}

/* Append ,"name":[v0,v1,...] to the string in @buf (@size bytes). */
static inline void bench_append_array(char *buf, size_t size, const char *name, const double *v,
				      int n)
{
	size_t len = strlen(buf);

	len += (size_t)snprintf(buf + len, size - len, ",\"%s\":[", name);
	for (int i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%.4g", i ? "," : "", v[i]);
	if (len < size)
		snprintf(buf + len, size - len, "]");
}

/*
 * Wait (at most @max_ms) until @finals final events have reached @accepted
 * and @r holds nothing queued, in flight or waiting to be retried.
 */
static inline void bench_wait_finals(struct smsr_router *r, _Atomic uint64_t *finals,
				     uint64_t accepted, unsigned max_ms)
{
	uint64_t end = bench_now_ns() + max_ms * 1000000ull;
	struct smsr_stats s;

	while (bench_now_ns() < end) {
		smsr_router_stats(r, &s);
		if (atomic_load(finals) >= accepted && !s.queued_now && !s.inflight_now &&
		    !s.retrying_now)
			return;
		usleep(2000);
	}
}

/*
 * Wait (up to 5 s) for smsrd's --ready-file @ready to name its TCP
 * listener; copy it into @addr (64 bytes). 0, or -1 on timeout.
 */
static inline int bench_wait_ready(const char *ready, char addr[64])
{
	for (int i = 0; i < 100; i++) {
		char line[128];
		FILE *f;

		usleep(50000);
		f = fopen(ready, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "tcp=", 4))
				sscanf(line + 4, "%63s", addr);
		fclose(f);
		if (addr[0])
			return 0;
	}
	return -1;
}

#endif
