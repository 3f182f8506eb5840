/* SPDX-License-Identifier: MIT */
/* Monotonic and wall clocks in nanoseconds. */
#ifndef SMSR_CLOCK_H
#define SMSR_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t smsr__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t smsr__wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000ull;
}

static inline uint64_t smsr__wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define SMSR__MS 1000000ull
#define SMSR__S	 1000000000ull

#endif
