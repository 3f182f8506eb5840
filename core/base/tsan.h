/* SPDX-License-Identifier: MIT */
/*
 * ThreadSanitizer annotations for the orderings Concurrency Kit provides.
 *
 * ck_pr_* are inline asm, so TSan sees none of the happens-before edges a
 * ck_ring hand-off or a ck_epoch grace period creates, and reports every
 * access to a handed-off record or a retired snapshot as a race.
 * SMSR__TSAN_RELEASE(p) before the publishing ck call and
 * SMSR__TSAN_ACQUIRE(p) after the consuming one state the edge ck
 * guarantees, on the object it guarantees it for; nothing else is hidden
 * (a write after the release is still reported). Outside a TSan build both
 * are nothing.
 */
#ifndef SMSR_TSAN_H
#define SMSR_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define SMSR__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SMSR__TSAN 1
#endif
#endif

#ifdef SMSR__TSAN
#include <sanitizer/tsan_interface.h>
#include <stdint.h>
#define SMSR__TSAN_RELEASE(p) __tsan_release((void *)(uintptr_t)(p))
#define SMSR__TSAN_ACQUIRE(p) __tsan_acquire((void *)(uintptr_t)(p))
#else
#define SMSR__TSAN_RELEASE(p) ((void)(p))
#define SMSR__TSAN_ACQUIRE(p) ((void)(p))
#endif

#endif
