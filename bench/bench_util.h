/* SPDX-License-Identifier: MIT */
/*
 * Shared bits for the benchmarks: a monotonic clock, medians and the JSON
 * line every result is printed as:
 *   {"bench":"route","metric":"route_path_msgs_per_sec","value":3.1e6,"unit":"msg/s",...}
 * Header-only so each bench stays one file.
 */
#ifndef SMSR_BENCH_UTIL_H
#define SMSR_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

#endif
