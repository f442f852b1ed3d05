/*
 * The varlink wire protocol for retasd. Each connection reads into its own
 * buffer, cuts messages at their NUL, and handles one call at a time: while
 * a call is pending (a PIN check on the worker) the connection stops
 * reading, which is also the back-pressure against a peer that writes
 * without reading answers. A message that grows past the limit without a
 * NUL is answered with an error and skipped up to its NUL, so the peer can
 * carry on with its next message.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "retas-json.h"
#include "retas-log.h"
#include "varlink.h"

#define READ_CHUNK (64 * 1024)
#define OUT_HIGH_WATER (4 * 1024 * 1024)
#define REFUSAL_LOG_USEC (10ULL * 1000 * 1000)

struct rd_conn {
	unsigned ref;
	uint64_t id; /* unique for the server's life, for rd_varlink_config.hangup */
	struct rd_varlink *server;
	struct rd_conn *next, **pprev;
	int fd;
	sd_event_source *io;
	struct rd_peer peer;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off, out_cap;
	bool discarding; /* skipping an oversize message up to its NUL */
	bool busy;	 /* a call is pending */
	bool processing; /* inside conn_process, so replies must not re-enter it */
	bool read_eof;
	bool dead;
	sd_event_source *timer; /* the message deadline, made when first needed */
	uint64_t partial_since; /* CLOCK_MONOTONIC µs a partial message began, 0 none */
};

struct rd_varlink {
	sd_event *event;
	struct rd_varlink_config cfg;
	int fd;
	char *path; /* the socket file we created, removed on free */
	int64_t group_gid;
	sd_event_source *accept_source;
	struct rd_conn *conns;
	unsigned n_conns;
	uint64_t last_conn_id;
	bool closing; /* rd_varlink_free: no hang-up callbacks */
	char protocol_error[160];
	char internal_error[160];
	/* Refusals are logged at most once per REFUSAL_LOG_USEC, with a count,
	 * so a peer knocking thousands of times does not flood the journal. */
	uint64_t refusal_logged;
	unsigned refusals;
};

static void conn_close(struct rd_conn *c);
static void conn_process(struct rd_conn *c);
static int conn_update(struct rd_conn *c);

static struct rd_conn *conn_ref(struct rd_conn *c)
{
	c->ref++;
	return c;
}

static void conn_unref(struct rd_conn *c)
{
	if (!c || --c->ref > 0)
		return;
	sd_event_source_disable_unref(c->timer);
	/* Wipe what may have held a PIN before giving the memory back. */
	if (c->in)
		explicit_bzero(c->in, c->in_cap);
	free(c->in);
	free(c->out);
	free(c);
}

static void call_free(struct rd_call *call)
{
	if (!call)
		return;
	json_object_put(call->request);
	if (call->conn) {
		call->conn->busy = false;
		conn_unref(call->conn);
	}
	free(call);
}

void rd_call_method_name(const struct rd_call *call, char *buf, size_t size)
{
	snprintf(buf, size, "%s.%s", call->method->interface, call->method->name);
}

/* Appends one message and its NUL to the output buffer. */
static int conn_queue(struct rd_conn *c, json_object *msg)
{
	const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len, need;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	need = c->out_len + len + 1;
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *grown;

		while (cap < need)
			cap *= 2;
		grown = realloc(c->out, cap);
		if (!grown)
			return -ENOMEM;
		c->out = grown;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, text, len + 1);
	c->out_len += len + 1;
	return 0;
}

static int conn_flush(struct rd_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* Sends msg (taken) on c, unless c has gone. */
static int conn_send(struct rd_conn *c, json_object *msg)
{
	int r = 0;

	if (!c->dead) {
		r = conn_queue(c, msg);
		if (r == 0)
			r = conn_flush(c);
		if (r < 0) {
			log_debug("varlink: connection of pid %lld: send failed: %s",
				  (long long)c->peer.pid, strerror(-r));
			conn_close(c);
		}
	}
	json_object_put(msg);
	return r;
}

static json_object *make_error(const char *error, json_object *params)
{
	json_object *msg = json_object_new_object();

	if (!msg) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(msg, "error", json_object_new_string(error));
	json_object_object_add(msg, "parameters", params ? params : json_object_new_object());
	return msg;
}

/* Answers something that is not a valid call. */
static void conn_protocol_error(struct rd_conn *c, const char *reason, const char *message)
{
	json_object *p = json_object_new_object();

	log_debug("varlink: pid %lld: %s", (long long)c->peer.pid, message);
	json_object_object_add(p, "reason", json_object_new_string(reason));
	json_object_object_add(p, "message", json_object_new_string(message));
	conn_send(c, make_error(c->server->protocol_error, p));
}

static void finish(struct rd_call *call, json_object *msg)
{
	struct rd_conn *c = call->conn;

	if (c && !call->oneway && msg)
		conn_send(c, msg);
	else if (c && !call->oneway)
		conn_close(c); /* out of memory: the peer learns from the hang-up */
	else
		json_object_put(msg);
	if (c) {
		conn_ref(c);
		call_free(call);
		if (!c->processing && !c->dead) {
			conn_process(c);
			if (!c->dead)
				conn_update(c);
		}
		conn_unref(c);
	} else {
		call_free(call);
	}
}

int rd_call_reply(struct rd_call *call, json_object *params)
{
	json_object *msg = json_object_new_object();

	if (!msg)
		json_object_put(params);
	else
		json_object_object_add(msg, "parameters",
				       params ? params : json_object_new_object());
	finish(call, msg);
	return 0;
}

int rd_call_notify(struct rd_call *call, json_object *params)
{
	int r;

	if (!call->more) {
		json_object_put(params);
		return 0;
	}
	r = rd_call_continue(call, params);
	return r == -EPIPE ? 0 : r;
}

int rd_call_error(struct rd_call *call, const char *error, json_object *params)
{
	finish(call, make_error(error, params));
	return 0;
}

int rd_call_continue(struct rd_call *call, json_object *params)
{
	struct rd_conn *c = call->conn;
	json_object *msg;

	if (!c || c->dead || call->oneway) {
		json_object_put(params);
		return -EPIPE;
	}
	msg = json_object_new_object();
	if (!msg) {
		json_object_put(params);
		return -ENOMEM;
	}
	json_object_object_add(msg, "parameters", params ? params : json_object_new_object());
	json_object_object_add(msg, "continues", json_object_new_boolean(1));
	conn_send(c, msg);
	if (c->dead)
		return -EPIPE;
	conn_update(c);
	return 0;
}

static json_object *one_param(const char *key, const char *value)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, key, json_object_new_string(value));
	return p;
}

static const struct rd_method *find_method(const struct rd_method *const *methods,
					   const char *iface, const char *name, bool *iface_known)
{
	*iface_known = false;
	for (size_t i = 0; methods[i]; i++) {
		const struct rd_method *m = methods[i];

		if (strcmp(m->interface, iface) != 0)
			continue;
		*iface_known = true;
		if (strcmp(m->name, name) == 0)
			return m;
	}
	return NULL;
}

/* NULL when params fit the method, else the name of the first bad one. */
static const char *check_params(const struct rd_method *m, json_object *params)
{
	const struct rd_param *decl = m->params;

	json_object_object_foreach(params, key, val)
	{
		const struct rd_param *p = NULL;

		for (size_t i = 0; decl && decl[i].name; i++)
			if (strcmp(decl[i].name, key) == 0)
				p = &decl[i];
		if (!p)
			return key;
		switch (p->type) {
		case RD_PARAM_STRING:
			if (!json_object_is_type(val, json_type_string) ||
			    (size_t)json_object_get_string_len(val) > p->max_len ||
			    strlen(json_object_get_string(val)) !=
				(size_t)json_object_get_string_len(val))
				return key;
			break;
		case RD_PARAM_INT:
			if (!json_object_is_type(val, json_type_int))
				return key;
			break;
		case RD_PARAM_BOOL:
			if (!json_object_is_type(val, json_type_boolean))
				return key;
			break;
		}
	}
	for (size_t i = 0; decl && decl[i].name; i++)
		if (!decl[i].optional && !json_object_object_get_ex(params, decl[i].name, NULL))
			return decl[i].name;
	return NULL;
}

static int get_flag(json_object *req, const char *key, bool *out)
{
	json_object *v;

	*out = false;
	if (!json_object_object_get_ex(req, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	*out = json_object_get_boolean(v);
	return 0;
}

void rd_varlink_frame(const char *buf, size_t len, size_t max, bool *discarding,
		      struct rd_frame *out)
{
	const char *nul = len > 0 ? memchr(buf, '\0', len) : NULL;

	*out = (struct rd_frame){.kind = RD_FRAME_NEED_MORE};
	if (*discarding) {
		if (!nul) {
			out->consume = len;
		} else {
			out->kind = RD_FRAME_SKIPPED;
			out->consume = (size_t)(nul - buf) + 1;
			*discarding = false;
		}
	} else if (!nul) {
		/* Without its NUL a message over the limit can only grow: answer
		 * now and skip the rest as it comes. */
		if (len > max) {
			out->kind = RD_FRAME_TOO_LARGE;
			out->consume = len;
			*discarding = true;
		}
	} else if ((size_t)(nul - buf) > max) {
		out->kind = RD_FRAME_TOO_LARGE;
		out->consume = (size_t)(nul - buf) + 1;
	} else {
		out->kind = RD_FRAME_MESSAGE;
		out->len = (size_t)(nul - buf);
		out->consume = out->len + 1;
	}
}

void rd_request_clear(struct rd_request *r)
{
	json_object_put(r->request);
	json_object_put(r->reply);
	*r = (struct rd_request){0};
}

static json_object *protocol_error(const char *error, const char *reason, const char *message)
{
	json_object *p = json_object_new_object();

	if (!p)
		return NULL;
	json_object_object_add(p, "reason", json_object_new_string(reason));
	json_object_object_add(p, "message", json_object_new_string(message));
	return make_error(error, p);
}

int rd_varlink_parse(const struct rd_method *const *methods, const char *protocol_err,
		     const char *text, size_t len, struct rd_request *out)
{
	struct rd_request q = {0};
	json_object *req = NULL, *params = NULL, *mv;
	const struct rd_method *m = NULL;
	char iface[256];
	const char *method, *dot, *bad, *reason = NULL;
	bool oneway = false, more = false, upgrade = false, iface_known;
	int r = 0;

	if (retas_json_parse(text, len, &req) < 0) {
		reason = "protocol.json";
		q.problem = "the message is not valid JSON";
		goto out;
	}
	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "method", &mv) ||
	    !json_object_is_type(mv, json_type_string)) {
		reason = "protocol.request";
		q.problem = "the message is not an object with a string 'method'";
		goto out;
	}
	if (get_flag(req, "oneway", &oneway) < 0 || get_flag(req, "more", &more) < 0 ||
	    get_flag(req, "upgrade", &upgrade) < 0) {
		reason = "protocol.request";
		q.problem = "'oneway', 'more' and 'upgrade' must be booleans";
		goto out;
	}
	if (json_object_object_get_ex(req, "parameters", &params) &&
	    !json_object_is_type(params, json_type_null)) {
		if (!json_object_is_type(params, json_type_object)) {
			q.reply = make_error(RD_VARLINK_SERVICE ".InvalidParameter",
					     one_param("parameter", "parameters"));
			goto out;
		}
	} else {
		params = json_object_new_object();
		if (!params || json_object_object_add(req, "parameters", params) < 0) {
			json_object_put(params);
			r = -ENOMEM;
			goto out;
		}
	}
	method = json_object_get_string(mv);
	if (strlen(method) != (size_t)json_object_get_string_len(mv)) {
		/* A NUL (\u0000) inside the name: no method is called that, even
		 * if the part before the NUL is one. The answer names it whole. */
		json_object *p = json_object_new_object();

		json_object_object_add(p, "method",
				       json_object_new_string_len(
					   method, json_object_get_string_len(mv)));
		q.reply = make_error(RD_VARLINK_SERVICE ".MethodNotFound", p);
		goto out;
	}
	dot = strrchr(method, '.');
	if (!dot || dot == method || !dot[1] || (size_t)(dot - method) >= sizeof(iface)) {
		q.reply = make_error(RD_VARLINK_SERVICE ".MethodNotFound",
				     one_param("method", method));
		goto out;
	}
	memcpy(iface, method, (size_t)(dot - method));
	iface[dot - method] = '\0';
	m = find_method(methods, iface, dot + 1, &iface_known);
	if (!m) {
		q.reply = iface_known ? make_error(RD_VARLINK_SERVICE ".MethodNotFound",
						   one_param("method", method))
				      : make_error(RD_VARLINK_SERVICE ".InterfaceNotFound",
						   one_param("interface", iface));
		goto out;
	}
	if (upgrade) {
		m = NULL;
		q.reply = make_error(RD_VARLINK_SERVICE ".InvalidParameter",
				     one_param("parameter", "upgrade"));
		goto out;
	}
	bad = check_params(m, params);
	if (bad) {
		m = NULL;
		q.reply = make_error(RD_VARLINK_SERVICE ".InvalidParameter",
				     one_param("parameter", bad));
		goto out;
	}
	q.method = m;
	q.request = req;
	req = NULL;
	q.params = params;
	q.oneway = oneway;
	q.more = more && !oneway;
out:
	if (r == 0 && reason) {
		/* Not a call at all, so its oneway cannot hold back the answer. */
		q.reply = protocol_error(protocol_err, reason, q.problem);
		if (!q.reply)
			r = -ENOMEM;
	} else if (r == 0 && !q.method) {
		if (oneway) {
			json_object_put(q.reply);
			q.reply = NULL;
		} else if (!q.reply) {
			r = -ENOMEM;
		}
	}
	json_object_put(req);
	if (r < 0)
		rd_request_clear(&q);
	else
		*out = q;
	return r;
}

static void handle_message(struct rd_conn *c, const char *text, size_t len)
{
	struct rd_varlink *v = c->server;
	struct rd_request q;
	struct rd_call *call;
	int r;

	r = rd_varlink_parse(v->cfg.methods, v->protocol_error, text, len, &q);
	if (r < 0) {
		conn_close(c); /* out of memory: the peer learns from the hang-up */
		return;
	}
	if (!q.method) {
		if (q.problem)
			log_debug("varlink: pid %lld: %s", (long long)c->peer.pid, q.problem);
		if (q.reply)
			conn_send(c, steal_ptr(q.reply));
		goto out;
	}
	call = calloc(1, sizeof(*call));
	if (!call) {
		conn_protocol_error(c, "protocol.memory", "out of memory");
		goto out;
	}
	call->server = v;
	call->conn = conn_ref(c);
	call->method = q.method;
	call->request = steal_ptr(q.request);
	call->params = q.params;
	call->peer = c->peer;
	call->oneway = q.oneway;
	call->more = q.more;
	call->userdata = v->cfg.userdata;
	c->busy = true;

	r = v->cfg.check ? v->cfg.check(call) : 0;
	if (r == 0)
		r = call->method->handler(call);
	if (r < 0) {
		char name[256];

		rd_call_method_name(call, name, sizeof(name));
		log_error("varlink: %s failed: %s", name, strerror(-r));
		rd_call_error(call, v->internal_error,
			      one_param("message", "the daemon could not complete the call"));
	}
out:
	rd_request_clear(&q);
}

static void consume(struct rd_conn *c, size_t n)
{
	/* Whatever the message held (a PIN) does not linger in the buffer. */
	memmove(c->in, c->in + n, c->in_len - n);
	explicit_bzero(c->in + c->in_len - n, n);
	c->in_len -= n;
}

static void conn_process(struct rd_conn *c)
{
	conn_ref(c);
	c->processing = true;
	while (!c->dead && !c->busy && c->in_len > 0) {
		struct rd_frame f;

		rd_varlink_frame(c->in, c->in_len, RD_VARLINK_MAX_MESSAGE, &c->discarding, &f);
		if (f.kind == RD_FRAME_TOO_LARGE)
			conn_protocol_error(c, "protocol.size", "the message is larger than 1 MiB");
		else if (f.kind == RD_FRAME_MESSAGE)
			handle_message(c, c->in, f.len);
		if (!c->dead)
			consume(c, f.consume);
		if (f.kind == RD_FRAME_NEED_MORE)
			break;
		/* Each message gets the whole timeout from its first byte. */
		c->partial_since = 0;
	}
	/* A big message leaves a big buffer; an idle connection keeps none. */
	if (!c->dead && c->in_len == 0 && c->in_cap > 4 * READ_CHUNK) {
		explicit_bzero(c->in, c->in_cap);
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
	c->processing = false;
	conn_unref(c);
}

static int conn_read(struct rd_conn *c)
{
	for (;;) {
		ssize_t n;

		/* Room for one more chunk; the buffer never holds much more than
		 * the largest message because messages are cut as they arrive. */
		if (c->in_cap - c->in_len < READ_CHUNK) {
			size_t cap = c->in_len + READ_CHUNK;
			char *grown = malloc(cap);

			if (!grown)
				return -ENOMEM;
			if (c->in) {
				memcpy(grown, c->in, c->in_len);
				explicit_bzero(c->in, c->in_cap);
				free(c->in);
			}
			c->in = grown;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		if (n == 0) {
			c->read_eof = true;
			return 0;
		}
		c->in_len += (size_t)n;
		conn_process(c);
		if (c->dead || c->busy || c->out_len - c->out_off > OUT_HIGH_WATER)
			return 0;
	}
}

static int on_conn_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct rd_conn *c = userdata;
	char message[128];

	conn_ref(c);
	log_info("varlink: closing the connection of pid %lld (uid %lld): a message took "
		 "longer than %llu ms to arrive",
		 (long long)c->peer.pid, (long long)c->peer.uid,
		 (unsigned long long)(c->server->cfg.message_timeout_usec / 1000));
	snprintf(message, sizeof(message), "the message did not arrive within %llu ms",
		 (unsigned long long)(c->server->cfg.message_timeout_usec / 1000));
	conn_protocol_error(c, "protocol.timeout", message);
	conn_close(c);
	conn_unref(c);
	return 0;
}

/*
 * Arms the deadline while the buffer holds part of a message the peer is
 * still sending (or the rest of an oversize one being skipped), so a peer
 * trickling a never-ending message cannot hold its connection for ever.
 * Not while a call is pending: then the unread bytes wait on us.
 */
static int conn_update_deadline(struct rd_conn *c)
{
	uint64_t timeout = c->server->cfg.message_timeout_usec, now;
	int r;

	if (timeout == 0 || c->busy || (c->in_len == 0 && !c->discarding)) {
		c->partial_since = 0;
		return c->timer ? sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) : 0;
	}
	r = sd_event_now(c->server->event, CLOCK_MONOTONIC, &now);
	if (r < 0)
		return r;
	if (c->partial_since == 0)
		c->partial_since = now;
	if (!c->timer) {
		r = sd_event_add_time(c->server->event, &c->timer, CLOCK_MONOTONIC,
				      c->partial_since + timeout, 0, on_conn_timeout, c);
		if (r < 0)
			return r;
		(void)sd_event_source_set_description(c->timer, "varlink-message-deadline");
		return 0;
	}
	r = sd_event_source_set_time(c->timer, c->partial_since + timeout);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
	return r;
}

static int conn_update(struct rd_conn *c)
{
	uint32_t events = 0;
	bool pending_out = c->out_off < c->out_len;
	int r;

	if (c->read_eof && !c->busy && !pending_out && !c->dead) {
		conn_close(c);
		return 0;
	}
	r = conn_update_deadline(c);
	if (r < 0)
		return r;
	if (!c->busy && !c->read_eof && c->out_len - c->out_off <= OUT_HIGH_WATER)
		events |= EPOLLIN;
	if (pending_out)
		events |= EPOLLOUT;
	return sd_event_source_set_io_events(c->io, events);
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct rd_conn *c = userdata;
	int r = 0;

	conn_ref(c);
	/* A peer that has closed both ways cannot read an answer; while a
	 * call is pending a level-triggered hang-up would otherwise wake the
	 * loop again and again. */
	if ((revents & EPOLLHUP) && c->busy)
		r = -ECONNRESET;
	if (r == 0 && (revents & EPOLLOUT))
		r = conn_flush(c);
	if (r == 0 && (revents & (EPOLLIN | EPOLLHUP)) && !c->busy && !c->read_eof)
		r = conn_read(c);
	if (r == 0 && (revents & EPOLLERR) && !(revents & EPOLLIN))
		r = -ECONNRESET;
	if (r < 0) {
		log_debug("varlink: connection of pid %lld: %s", (long long)c->peer.pid,
			  strerror(-r));
		conn_close(c);
	} else if (!c->dead) {
		conn_update(c);
	}
	conn_unref(c);
	return 0;
}

static void conn_close(struct rd_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	c->io = sd_event_source_disable_unref(c->io);
	c->timer = sd_event_source_disable_unref(c->timer);
	close(c->fd);
	c->fd = -1;
	if (c->next)
		c->next->pprev = c->pprev;
	*c->pprev = c->next;
	c->server->n_conns--;
	if (c->server->cfg.hangup && !c->server->closing)
		c->server->cfg.hangup(c->id, c->server->cfg.userdata);
	conn_unref(c);
}

static bool peer_in_group(int fd, int64_t gid, int64_t primary)
{
	gid_t groups[128];
	socklen_t len = sizeof(groups);

	if (gid < 0)
		return false;
	if (primary == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if ((int64_t)groups[i] == gid)
			return true;
	return false;
}

/* Tells a peer turned away why, if its socket takes it at once, and hangs up. */
static void turn_away(struct rd_varlink *v, int fd, const char *message)
{
	json_object *p = json_object_new_object(), *msg;
	const char *text;

	json_object_object_add(p, "reason", json_object_new_string("protocol.connections"));
	json_object_object_add(p, "message", json_object_new_string(message));
	msg = make_error(v->protocol_error, p);
	text = msg ? json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN) : NULL;
	if (text)
		(void)send(fd, text, strlen(text) + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	json_object_put(msg);
	close(fd);
}

static void log_refusal(struct rd_varlink *v, const struct rd_peer *peer, const char *what,
			unsigned n)
{
	uint64_t now = 0;

	v->refusals++;
	(void)sd_event_now(v->event, CLOCK_MONOTONIC, &now);
	if (v->refusal_logged != 0 && now < v->refusal_logged + REFUSAL_LOG_USEC)
		return;
	log_warning("varlink: refusing a connection of uid %lld (pid %lld): %u %s; "
		    "%u refused since the last such message",
		    (long long)peer->uid, (long long)peer->pid, n, what, v->refusals);
	v->refusal_logged = now;
	v->refusals = 0;
}

/* Closes fd and returns true when the limits leave no room for this peer. */
static bool refuse_connection(struct rd_varlink *v, int fd, const struct rd_peer *peer)
{
	unsigned per_uid = v->cfg.max_connections_per_uid, same = 0;
	char message[160];

	if (v->n_conns >= v->cfg.max_connections) {
		log_refusal(v, peer, "connections open", v->n_conns);
		snprintf(message, sizeof(message), "retasd has %u connections open, its limit",
			 v->n_conns);
		turn_away(v, fd, message);
		return true;
	}
	if (per_uid == 0)
		return false;
	for (const struct rd_conn *c = v->conns; c; c = c->next)
		if (c->peer.uid == peer->uid)
			same++;
	if (same < per_uid)
		return false;
	log_refusal(v, peer, "connections held by that uid", same);
	snprintf(message, sizeof(message),
		 "uid %lld holds %u connections, the most one user may hold", (long long)peer->uid,
		 same);
	turn_away(v, fd, message);
	return true;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct rd_varlink *v = userdata;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct rd_peer peer;
	struct rd_conn *c;
	int cfd, r;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warning("varlink: accept: %m");
		return 0;
	}
	peer = (struct rd_peer){.uid = -1, .gid = -1, .pid = 0};
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		peer.uid = cred.uid;
		peer.gid = cred.gid;
		peer.pid = cred.pid;
	}
	if (refuse_connection(v, cfd, &peer))
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->ref = 1;
	c->id = ++v->last_conn_id;
	c->server = v;
	c->fd = cfd;
	c->peer = peer;
	c->peer.in_group = peer_in_group(cfd, v->group_gid, c->peer.gid);
	r = sd_event_add_io(v->event, &c->io, cfd, EPOLLIN, on_conn_io, c);
	if (r < 0) {
		log_warning("varlink: cannot watch a connection: %s", strerror(-r));
		close(cfd);
		free(c);
		return 0;
	}
	(void)sd_event_source_set_description(c->io, "varlink-connection");
	c->next = v->conns;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &v->conns;
	v->conns = c;
	v->n_conns++;
	return 0;
}

/* Removes a socket file nobody listens on any more; a live one is an error. */
static int clear_stale(const struct sockaddr_un *sa, socklen_t salen)
{
	struct stat st;
	int fd, r = 0;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, salen) == 0)
		r = -EADDRINUSE;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		r = unlink(sa->sun_path) < 0 && errno != ENOENT ? -errno : 0;
	else
		r = -errno;
	close(fd);
	return r;
}

static int bind_socket(struct rd_varlink *v, const char *path, const char *group)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t salen;
	mode_t old_mask;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("socket path %s is longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	r = clear_stale(&sa, salen);
	if (r < 0) {
		if (r == -EADDRINUSE)
			log_error("%s: another retasd is listening there", path);
		else
			log_error("%s: cannot replace the old socket: %s", path, strerror(-r));
		return r;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Never world-accessible, not even between bind and chmod. */
	old_mask = umask(0117);
	r = bind(fd, (const struct sockaddr *)&sa, salen) < 0 ? -errno : 0;
	umask(old_mask);
	if (r < 0) {
		log_error("%s: bind: %s", path, strerror(-r));
		goto fail;
	}
	v->path = strdup(path);
	if (!v->path) {
		r = -ENOMEM;
		goto fail;
	}
	if (chmod(path, 0660) < 0) {
		r = -errno;
		log_error("%s: chmod: %s", path, strerror(-r));
		goto fail;
	}
	if (v->group_gid >= 0 && chown(path, (uid_t)-1, (gid_t)v->group_gid) < 0)
		log_warning("%s: cannot give the socket to group %s: %m", path, group);
	if (listen(fd, 64) < 0) {
		r = -errno;
		goto fail;
	}
	v->fd = fd;
	return 0;
fail:
	close(fd);
	return r;
}

int rd_varlink_new(sd_event *e, const struct rd_varlink_config *cfg, int fd, const char *path,
		   const char *group, struct rd_varlink **out)
{
	struct rd_varlink *v = calloc(1, sizeof(*v));
	struct group *gr;
	int r;

	if (!v)
		return -ENOMEM;
	v->event = sd_event_ref(e);
	v->cfg = *cfg;
	v->fd = -1;
	v->group_gid = -1;
	snprintf(v->protocol_error, sizeof(v->protocol_error), "%s.ProtocolError", cfg->interface);
	snprintf(v->internal_error, sizeof(v->internal_error), "%s.InternalError", cfg->interface);
	if (group && (gr = getgrnam(group)))
		v->group_gid = gr->gr_gid;
	if (fd >= 0)
		v->fd = fd;
	else if ((r = bind_socket(v, path, group)) < 0)
		goto fail;
	r = sd_event_add_io(e, &v->accept_source, v->fd, EPOLLIN, on_accept, v);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_description(v->accept_source, "varlink-accept");
	*out = v;
	return 0;
fail:
	rd_varlink_free(v);
	return r;
}

void rd_varlink_free(struct rd_varlink *v)
{
	if (!v)
		return;
	v->closing = true;
	while (v->conns)
		conn_close(v->conns);
	sd_event_source_disable_unref(v->accept_source);
	if (v->fd >= 0)
		close(v->fd);
	if (v->path)
		unlink(v->path);
	free(v->path);
	sd_event_unref(v->event);
	free(v);
}

uint64_t rd_call_conn_id(const struct rd_call *call)
{
	return call->conn ? call->conn->id : 0;
}

bool rd_call_peer_gone(const struct rd_call *call)
{
	return !call->conn || call->conn->dead;
}

unsigned rd_varlink_connections(const struct rd_varlink *v)
{
	return v->n_conns;
}

void rd_varlink_set_max_connections(struct rd_varlink *v, unsigned max)
{
	v->cfg.max_connections = max;
}

void rd_varlink_set_limits(struct rd_varlink *v, unsigned max, unsigned per_uid,
			   uint64_t message_timeout_usec)
{
	v->cfg.max_connections = max;
	v->cfg.max_connections_per_uid = per_uid;
	v->cfg.message_timeout_usec = message_timeout_usec;
}
