/* SPDX-License-Identifier: MIT */
/*
 * The router's monotonic clock, for hosts and tools (include/smsr/msg.h).
 * Inside the library the inline smsr__now_ns() (clock.h) is used.
 */
#include "smsr/msg.h"
#include "clock.h"

uint64_t smsr_now_ns(void)
{
	return smsr__now_ns();
}
