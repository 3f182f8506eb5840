/* SPDX-License-Identifier: MIT */
/*
 * smsr error codes.
 *
 * Every smsr call that can fail returns an int: >= 0 is success (or a
 * count), < 0 is either -errno or -SMSR_E*. Domain errors come from the one
 * list below; each has a stable lower-case name that logs, the protocol and
 * clients share, so a client sees the same reason an operator's log shows.
 * Codes and names never change meaning once released; new ones are appended.
 */
#ifndef SMSR_ERRORS_H
#define SMSR_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SMSR_BUILDING) && defined(__GNUC__)
#define SMSR_API __attribute__((visibility("default")))
#else
#define SMSR_API
#endif

/* X(symbol, code, stable name, description) */
#define SMSR_ERRORS(X)                                                                             \
	X(SMSR_EINVAL, 1000, "invalid_argument", "invalid argument")                               \
	X(SMSR_ENOMEM, 1001, "out_of_memory", "out of memory")                                     \
	X(SMSR_EBADNUMBER, 1002, "invalid_number", "recipient is not a valid phone number")        \
	X(SMSR_EBADUTF8, 1003, "invalid_utf8", "text is not valid UTF-8")                          \
	X(SMSR_EEMPTY, 1004, "empty_text", "text is empty")                                        \
	X(SMSR_ETOOLONG, 1005, "text_too_long", "text needs more segments than allowed")           \
	X(SMSR_EBADCLASS, 1006, "invalid_class", "unknown message class")                          \
	X(SMSR_EBADVALIDITY, 1007, "invalid_validity", "validity is out of range")                 \
	X(SMSR_EBADREF, 1008, "invalid_client_ref", "client reference is too long or not UTF-8")   \
	X(SMSR_EBADSENDER, 1009, "invalid_sender", "sender signature is too long or not UTF-8")    \
	X(SMSR_EBADTAGS, 1010, "invalid_tags", "tags are too long or not UTF-8")                   \
	X(SMSR_ENOROUTE, 1011, "no_route", "no route rule matches the message")                    \
	X(SMSR_ENOCHANNEL, 1012, "no_channel", "no channel of the route can take messages now")    \
	X(SMSR_EBUSY, 1013, "busy", "queues are full, retry later")                                \
	X(SMSR_ENOTRUNNING, 1014, "not_running", "the router is not running")                      \
	X(SMSR_EEXPIRED, 1015, "expired", "validity ran out before the message could be sent")     \
	X(SMSR_ECONFIG, 1016, "invalid_config", "the configuration is invalid")                    \
	X(SMSR_ENOTFOUND, 1017, "not_found", "no such object")                                     \
	X(SMSR_EEXIST, 1018, "already_exists", "an object of that name already exists")            \
	X(SMSR_ENODRIVER, 1019, "no_driver", "no channel driver of that name")                     \
	X(SMSR_ESTATE, 1020, "invalid_state", "the object is not in a state that allows this")     \
	X(SMSR_ETHROTTLED, 1021, "throttled", "the carrier throttled the submit")                  \
	X(SMSR_EREJECTED, 1022, "carrier_rejected", "the carrier rejected the message")            \
	X(SMSR_EUNDELIVERED, 1023, "undelivered", "the carrier reported the message undelivered")  \
	X(SMSR_ETIMEOUT, 1024, "timeout", "no answer from the channel in time")                    \
	X(SMSR_ECHANDOWN, 1025, "channel_down", "the channel is down")                             \
	X(SMSR_ECHANERR, 1026, "channel_error", "the channel reported a temporary error")          \
	X(SMSR_EDLRTIMEOUT, 1027, "dlr_timeout", "no delivery report arrived in time")             \
	X(SMSR_ESTOPPED, 1028, "router_stopped", "the router stopped before the message was sent") \
	X(SMSR_EBLACKHOLE, 1029, "black_hole", "the channel takes submits but stopped answering")  \
	X(SMSR_ENOREPORTS, 1030, "no_reports", "the channel stopped sending delivery reports")     \
	X(SMSR_EFAILING, 1031, "failing", "the channel failed too often: its breaker is open")     \
	X(SMSR_EOPTEDOUT, 1032, "opted_out", "the recipient opted out of marketing messages")      \
	X(SMSR_ESTOPUNKNOWN, 1033, "outcome_unknown_at_stop",                                      \
	  "the router stopped after the message was sent: delivery not known; do not resend")      \
	X(SMSR_EBINDFAILED, 1034, "bind_failed",                                                   \
	  "the carrier refused the bind (system_id, password, system_type or address)")            \
	X(SMSR_ELINKDOWN, 1035, "link_down", "the connection to the carrier was lost")             \
	X(SMSR_EBADPDU, 1036, "malformed_pdu",                                                     \
	  "the peer sent a protocol unit that does not parse")                                     \
	X(SMSR_ECARRIEREXPIRED, 1037, "carrier_expired",                                           \
	  "the carrier's validity ran out before the handset took the message")                    \
	X(SMSR_ECARRIERDELETED, 1038, "carrier_deleted", "the carrier deleted the message")        \
	X(SMSR_EDLRUNKNOWN, 1039, "delivery_unknown",                                              \
	  "the carrier's final report says the delivery state is unknown")                         \
	X(SMSR_ESTORAGEFULL, 1040, "storage_full",                                                 \
	  "the journal's disk is full: not accepted, retry later")                                 \
	X(SMSR_ESTORAGE, 1041, "storage_failed",                                                   \
	  "the journal cannot write or sync: not accepted until an operator acts")                 \
	X(SMSR_EJOURNALLOCKED, 1042, "journal_locked",                                             \
	  "another process holds the journal directory")                                           \
	X(SMSR_EUNKNOWNOUTCOME, 1043, "unknown_outcome",                                           \
	  "a restart found it handed to a carrier with no answer: it may have been sent; "         \
	  "not resent (its class is not resent)")                                                  \
	X(SMSR_EFRAMETOOBIG, 1100, "frame_too_large",                                              \
	  "frame is larger than the maximum frame size")                                           \
	X(SMSR_EBADFRAME, 1101, "bad_frame", "frame header announces an empty frame")              \
	X(SMSR_EBADPROTO, 1102, "bad_protobuf", "frame payload is not a valid protobuf message")   \
	X(SMSR_EUNKNOWNCALL, 1103, "unknown_call", "request has no body or an unknown call kind")  \
	X(SMSR_EUNAUTH, 1104, "unauthenticated", "the call needs a valid token")                   \
	X(SMSR_EFORBIDDEN, 1105, "forbidden", "the call needs an admin token")                     \
	X(SMSR_ETOOMANYCALLS, 1106, "too_many_calls",                                              \
	  "too many calls in flight on this connection")                                           \
	X(SMSR_ESHUTDOWN, 1107, "shutting_down", "the server is shutting down")                    \
	X(SMSR_EINTERNAL, 1108, "internal", "unexpected server-side failure")                      \
	X(SMSR_ECONNLOST, 1109, "connection_lost",                                                 \
	  "the connection to the server failed or was closed (client side)")                       \
	X(SMSR_ENULBYTE, 1110, "nul_in_string", "a string field holds a NUL byte")                 \
	X(SMSR_ETOOCOMPLEX, 1111, "request_too_complex",                                           \
	  "the request has more elements, unknown fields or nesting than the server decodes")      \
	X(SMSR_ECONNTIMEOUT, 1112, "connection_timeout",                                           \
	  "the connection was closed: no auth, no complete frame or no call in time")

enum smsr_error {
#define SMSR__ERR_ENUM(sym, code, name, desc) sym = code,
	SMSR_ERRORS(SMSR__ERR_ENUM)
#undef SMSR__ERR_ENUM
};

/*
 * Human-readable description of @err (a negative smsr or errno code, or 0).
 * Returns a static string; never NULL. Thread-safe.
 */
SMSR_API const char *smsr_strerror(int err);

/*
 * Stable machine name of @err ("invalid_number", "busy", ...). 0 is "ok";
 * -ENOMEM, -EINVAL and -EAGAIN map to their smsr names; anything else is
 * "unknown". Static, never NULL, thread-safe.
 */
SMSR_API const char *smsr_errname(int err);

#ifdef __cplusplus
}
#endif
#endif
