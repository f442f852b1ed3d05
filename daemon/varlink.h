/*
 * A varlink server (https://varlink.org/Method-Call) on sd-event: NUL-
 * terminated JSON messages over a Unix stream socket, parsed with json-c.
 * Connections are non-blocking with their own input and output buffers;
 * a message over RD_VARLINK_MAX_MESSAGE bytes, malformed JSON, an unknown
 * interface or method and parameters of the wrong name or type are
 * answered with varlink errors by this file, before any handler runs, and
 * never disturb other connections. Handlers answer once, at once or later
 * (a call may wait for a worker thread).
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define RD_VARLINK_MAX_MESSAGE (1024 * 1024)
#define RD_VARLINK_SERVICE "org.varlink.service"

struct rd_varlink;
struct rd_conn;

struct rd_peer {
	int64_t uid; /* -1 when unknown or for the daemon itself */
	int64_t gid;
	int64_t pid;   /* 0 when unknown or for the daemon itself */
	bool in_group; /* gid or a supplementary group is the socket's group */
};

enum rd_param_type {
	RD_PARAM_STRING,
	RD_PARAM_INT,
	RD_PARAM_BOOL,
};

struct rd_param {
	const char *name;
	enum rd_param_type type;
	bool optional;
	size_t max_len; /* strings: longest accepted, in bytes */
};

enum {
	RD_METHOD_READ_ONLY = 1 << 0,	/* changes nothing; not audited */
	RD_METHOD_NEEDS_LOGIN = 1 << 1, /* a logged-in officer, from the same uid */
};

struct rd_call;

struct rd_method {
	const char *interface;
	const char *name;
	unsigned flags;
	const struct rd_param *params; /* terminated by an entry with name NULL */
	/* Returns 0 when it has answered, RD_CALL_PENDING when it will answer
	 * later through the call, or a negative errno, which this file answers
	 * with an internal error. */
	int (*handler)(struct rd_call *call);
};

#define RD_CALL_PENDING 1

struct rd_call {
	struct rd_varlink *server;
	struct rd_conn *conn; /* referenced; its peer may have gone meanwhile */
	const struct rd_method *method;
	json_object *request; /* owned */
	json_object *params;  /* borrowed from request; an object, maybe empty */
	struct rd_peer peer;
	bool oneway;
	bool more;	/* the caller asked for a stream of replies */
	void *userdata; /* the server's */
};

/* Checks a call before its handler (flags, credentials): returns 0 to go
 * on, or 1 when it has answered the call itself. */
typedef int (*rd_varlink_check_fn)(struct rd_call *call);

struct rd_varlink_config {
	/* The service's own interface: its ProtocolError and InternalError
	 * answer what no method can (malformed messages, handler failures). */
	const char *interface;
	const struct rd_method *const *methods; /* NULL-terminated */
	rd_varlink_check_fn check;
	unsigned max_connections;
	/* Connections one uid may hold at once, so a client that hoards them
	 * leaves room for everyone else; 0 means max_connections. */
	unsigned max_connections_per_uid;
	/* How long a message may take to arrive once its first byte has: a
	 * connection holding a partial message longer is answered with
	 * protocol.timeout and closed; 0 means no limit. */
	uint64_t message_timeout_usec;
	void *userdata;
	/* Called (when not NULL) as a connection closes, for whatever reason,
	 * with its rd_call_conn_id; not while rd_varlink_free closes them. */
	void (*hangup)(uint64_t conn_id, void *userdata);
};

/*
 * Listens on fd (already bound and listening, or -1 to bind path here with
 * mode 0660 and, when group is not NULL and exists, that group). A stale
 * socket file is replaced; a live one (another daemon) is -EADDRINUSE.
 */
int rd_varlink_new(sd_event *e, const struct rd_varlink_config *cfg, int fd, const char *path,
		   const char *group, struct rd_varlink **out);
/* Closes every connection (pending calls lose their peer) and the socket;
 * removes the socket file it created. */
void rd_varlink_free(struct rd_varlink *v);
unsigned rd_varlink_connections(const struct rd_varlink *v);
void rd_varlink_set_max_connections(struct rd_varlink *v, unsigned max);
/* The limits of struct rd_varlink_config, changed at reload; connections
 * already open stay open. */
void rd_varlink_set_limits(struct rd_varlink *v, unsigned max, unsigned per_uid,
			   uint64_t message_timeout_usec);

/*
 * The pure part of the wire protocol, shared by the server and the fuzz
 * target (tests/fuzz/fuzz-varlink.c): bytes to messages, messages to
 * validated calls. Neither touches a socket or the event loop.
 */
enum rd_frame_kind {
	RD_FRAME_NEED_MORE, /* no complete message yet; consume may be > 0 */
	RD_FRAME_MESSAGE,   /* a message of len bytes at the start, then its NUL */
	RD_FRAME_TOO_LARGE, /* a message over the limit: answer protocol.size */
	RD_FRAME_SKIPPED,   /* the rest of an oversize message was dropped */
};

struct rd_frame {
	enum rd_frame_kind kind;
	size_t len;	/* RD_FRAME_MESSAGE: the message without its NUL */
	size_t consume; /* bytes to drop from the buffer's start afterwards */
};

/*
 * Cuts the next message from buf[0..len): messages end at a NUL and hold at
 * most max bytes. *discarding carries the state between calls: set while
 * the rest of an oversize message is being skipped up to its NUL. Call
 * again after consuming out->consume bytes while the kind is not
 * RD_FRAME_NEED_MORE.
 */
void rd_varlink_frame(const char *buf, size_t len, size_t max, bool *discarding,
		      struct rd_frame *out);

struct rd_request {
	/* A valid call: its method, the message (owned) and its parameters
	 * (an object, borrowed from request). NULL method otherwise. */
	const struct rd_method *method;
	json_object *request;
	json_object *params;
	bool oneway;
	bool more;
	/* Not a valid call: the error to answer (owned), NULL when none is due
	 * (a oneway call to an unknown method), and for a protocol error what
	 * was wrong, for the log. */
	json_object *reply;
	const char *problem;
};

/*
 * Parses and validates one message (text[0..len), without its NUL) against
 * methods (NULL-terminated): JSON, the call's shape, its flags, the method
 * and the parameters' names, types and lengths. Malformed messages are
 * answered with protocol_error (the service's ProtocolError, even when
 * oneway), unknown methods and bad parameters with org.varlink.service
 * errors. Returns 0 with *out filled (free it with rd_request_clear), or
 * -ENOMEM.
 */
int rd_varlink_parse(const struct rd_method *const *methods, const char *protocol_error,
		     const char *text, size_t len, struct rd_request *out);
void rd_request_clear(struct rd_request *r);

/*
 * Answers a call and frees it. params (taken, may be NULL for {}) are the
 * reply's parameters. Safe when the peer has gone or the call is oneway:
 * the answer is then dropped. Always returns 0, so a handler can end with
 * `return rd_call_reply(...)`; when memory runs out the connection is
 * closed instead.
 */
int rd_call_reply(struct rd_call *call, json_object *params);
/* rd_call_continue for progress the caller may not want: dropped when it
 * did not ask for "more" or has gone. */
int rd_call_notify(struct rd_call *call, json_object *params);
/* Answers with a varlink error: error is its full name ("org.varlink.
 * service.InvalidParameter"), params (taken, may be NULL) its parameters. */
int rd_call_error(struct rd_call *call, const char *error, json_object *params);
/* One reply of a stream ("continues": true) to a call made with more;
 * the call stays open. params taken. Returns 0, or -EPIPE when the peer
 * has gone (the caller then ends the call with rd_call_reply). */
int rd_call_continue(struct rd_call *call, json_object *params);
/* The connection the call came on: an id never reused while the server
 * lives, 0 when it is gone already. */
uint64_t rd_call_conn_id(const struct rd_call *call);
/* Whether the caller's connection has closed (its answer will be dropped). */
bool rd_call_peer_gone(const struct rd_call *call);
/* The full method name of the call ("id.go.jambikota.dukcapil.retas.Status"). */
void rd_call_method_name(const struct rd_call *call, char *buf, size_t size);
