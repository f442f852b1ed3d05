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
