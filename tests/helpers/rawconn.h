/* SPDX-License-Identifier: MIT */
/*
 * Test helper: raw connections to smsrd, for tests that must send exactly
 * the bytes a broken or hostile client sends (half frames, NULs, floods).
 * Every read is bounded by a timeout in milliseconds; failures of the
 * test's own setup fail the test (cmocka).
 */
#ifndef SMSR_TEST_RAWCONN_H
#define SMSR_TEST_RAWCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smsr.pb-c.h"

/* Connect to "host:port" / "[v6]:port" (TCP_NODELAY) or a Unix socket path
 * (anything with a '/'). Returns the fd, or -1 when refused. */
int raw_dial(const char *addr);
/* Send all of @p; stops quietly if the server closed. */
void raw_send_all(int fd, const void *p, size_t n);
/* Frame (4-byte big-endian length) and send @req, or raw @payload bytes. */
void raw_send_req(int fd, Smsr__V1__Request *req);
void raw_send_frame(int fd, const uint8_t *payload, size_t n);
/* The next Response within @ms, or NULL (closed or timeout). */
Smsr__V1__Response *raw_read_resp(int fd, int ms);
/* The next Response for @call_id (others dropped), or NULL. */
Smsr__V1__Response *raw_wait_call(int fd, uint64_t call_id, int ms);
/* Does the server close @fd within @ms (reading and dropping what comes)? */
bool raw_closed_by_peer(int fd, int ms);
/* Assert @r (freed) is the error @code (positive) on @call_id. */
void raw_expect_error(Smsr__V1__Response *r, uint64_t call_id, int code);

#endif
