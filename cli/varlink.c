/*
 * The client half of the varlink wire protocol, blocking with poll() and
 * one deadline for the whole call: a daemon that accepts and never answers
 * costs the officer CLI_CALL_TIMEOUT_MS, not forever.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "retas-json.h"
#include "retas-reason.h"
#include "retas-time.h"
#include "retas-util.h"
#include "varlink.h"

#define MAX_REPLY (16 * 1024 * 1024)

/* Waits for events on fd until the deadline; 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline - retas_time_mono_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			return 0;
	}
}

static int connect_socket(const char *path, int64_t deadline, int *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_(closep) int fd = -1;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		socklen_t len = sizeof(r);

		/* A full backlog answers EAGAIN on Unix sockets: wait for room. */
		if (errno != EAGAIN && errno != EINPROGRESS)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &r, &len) < 0)
			return -errno;
		if (r)
			return -r;
	}
	*out = steal_fd(fd);
	return 0;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to and without the first NUL into a new buffer. */
static int recv_message(int fd, int64_t deadline, char **out, size_t *out_len)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		char *nul;
		ssize_t n;
		int r;

		if (cap - len < 4096) {
			char *grown;

			if (cap >= MAX_REPLY)
				return -EMSGSIZE;
			cap = cap ? cap * 2 : 8192;
			grown = realloc(buf, cap);
			if (!grown)
				return -ENOMEM;
			buf = grown;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			r = wait_fd(fd, POLLIN, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		nul = memchr(buf + len, '\0', (size_t)n);
		len += (size_t)n;
		if (nul) {
			*out_len = (size_t)(nul - buf);
			*out = steal_ptr(buf);
			return 0;
		}
	}
}

static int unreachable(const struct cli_ctx *ctx, int r)
{
	if (r == -ETIMEDOUT)
		cli_error(_("retasd at %s did not answer within %d seconds"), ctx->socket_path,
			  CLI_CALL_TIMEOUT_MS / 1000);
	else if (r == -ECONNRESET)
		cli_error(_("retasd at %s closed the connection without an answer"),
			  ctx->socket_path);
	else
		cli_error(_("cannot reach retasd at %s: %s"), ctx->socket_path, strerror(-r));
	return CLI_EXIT_UNREACHABLE;
}

/* Fills out from a parsed answer (taken). */
static void reply_fill(json_object *reply, struct cli_reply *out)
{
	json_object *v;

	out->msg = reply;
	out->error = NULL;
	if (json_object_object_get_ex(reply, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		out->error = json_object_get_string(v);
	if (!json_object_object_get_ex(reply, "parameters", &v) ||
	    !json_object_is_type(v, json_type_object)) {
		v = json_object_new_object();
		json_object_object_add(reply, "parameters", v);
	}
	out->params = v;
}

/* cli_call, handing the connection to *keep when keep is not NULL. */
static int call_on(struct cli_ctx *ctx, const char *method, json_object *params,
		   struct cli_reply *out, int *keep)
{
	int64_t deadline = retas_time_mono_ms() + CLI_CALL_TIMEOUT_MS;
	json_object *call = json_object_new_object(), *reply = NULL;
	_cleanup_(closep) int fd = -1;
	_cleanup_(freep) char *text = NULL;
	char name[256];
	const char *req;
	size_t len = 0;
	int r;

	if (strchr(method, '.'))
		snprintf(name, sizeof(name), "%s", method);
	else
		snprintf(name, sizeof(name), "%s.%s", CLI_INTERFACE, method);
	json_object_object_add(call, "method", json_object_new_string(name));
	if (params)
		json_object_object_add(call, "parameters", params);
	req = json_object_to_json_string_ext(call, JSON_C_TO_STRING_PLAIN);

	r = connect_socket(ctx->socket_path, deadline, &fd);
	if (r == 0)
		r = send_all(fd, req, strlen(req) + 1, deadline);
	/* The request may hold a PIN. */
	explicit_bzero((char *)req, strlen(req));
	json_object_put(call);
	if (r == 0)
		r = recv_message(fd, deadline, &text, &len);
	if (r < 0)
		return unreachable(ctx, r);
	if (retas_json_parse(text, len, &reply) < 0 ||
	    !json_object_is_type(reply, json_type_object)) {
		json_object_put(reply);
		cli_error(_("retasd at %s answered with something that is not varlink"),
			  ctx->socket_path);
		return CLI_EXIT_UNREACHABLE;
	}
	reply_fill(reply, out);
	if (keep)
		*keep = steal_fd(fd);
	return CLI_EXIT_OK;
}

int cli_call(struct cli_ctx *ctx, const char *method, json_object *params, struct cli_reply *out)
{
	return call_on(ctx, method, params, out, NULL);
}

int cli_call_keep(struct cli_ctx *ctx, const char *method, json_object *params,
		  struct cli_reply *out, int *fd)
{
	return call_on(ctx, method, params, out, fd);
}

int cli_call_stream(struct cli_ctx *ctx, const char *method, json_object *params,
		    int64_t timeout_ms, cli_progress_fn progress, void *userdata,
		    const volatile int *stop, struct cli_reply *out)
{
	int64_t deadline = retas_time_mono_ms() + CLI_CALL_TIMEOUT_MS;
	json_object *call = json_object_new_object(), *reply, *v;
	_cleanup_(closep) int fd = -1;
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0, cap = 0;
	char name[256];
	const char *req;
	int r;

	snprintf(name, sizeof(name), "%s.%s", CLI_INTERFACE, method);
	json_object_object_add(call, "method", json_object_new_string(name));
	json_object_object_add(call, "more", json_object_new_boolean(true));
	if (params)
		json_object_object_add(call, "parameters", params);
	req = json_object_to_json_string_ext(call, JSON_C_TO_STRING_PLAIN);
	r = connect_socket(ctx->socket_path, deadline, &fd);
	if (r == 0)
		r = send_all(fd, req, strlen(req) + 1, deadline);
	json_object_put(call);
	if (r < 0)
		return unreachable(ctx, r);
	deadline = retas_time_mono_ms() + timeout_ms;
	for (;;) {
		char *nul = buf ? memchr(buf, '\0', len) : NULL;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left;
		ssize_t n;
		int k;

		if (nul) {
			size_t mlen = (size_t)(nul - buf);

			reply = NULL;
			if (retas_json_parse(buf, mlen, &reply) < 0 ||
			    !json_object_is_type(reply, json_type_object)) {
				json_object_put(reply);
				cli_error(_("retasd at %s answered with something that is not varlink"),
					  ctx->socket_path);
				return CLI_EXIT_UNREACHABLE;
			}
			memmove(buf, nul + 1, len - mlen - 1);
			len -= mlen + 1;
			if (json_object_object_get_ex(reply, "continues", &v) &&
			    json_object_get_boolean(v)) {
				if (progress && json_object_object_get_ex(reply, "parameters", &v))
					progress(v, userdata);
				json_object_put(reply);
				deadline = retas_time_mono_ms() + timeout_ms;
				continue;
			}
			reply_fill(reply, out);
			return CLI_EXIT_OK;
		}
		if (stop && *stop)
			return -EINTR;
		left = deadline - retas_time_mono_ms();
		if (left <= 0)
			return unreachable(ctx, -ETIMEDOUT);
		k = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		if (k < 0 && errno != EINTR)
			return unreachable(ctx, -errno);
		if (k <= 0)
			continue;
		if (cap - len < 4096) {
			char *grown;

			if (cap >= MAX_REPLY)
				return unreachable(ctx, -EMSGSIZE);
			cap = cap ? cap * 2 : 8192;
			grown = realloc(buf, cap);
			if (!grown)
				return unreachable(ctx, -ENOMEM);
			buf = grown;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return unreachable(ctx, -errno);
		if (n == 0)
			return unreachable(ctx, -ECONNRESET);
		len += (size_t)n;
	}
}

void cli_reply_clear(struct cli_reply *r)
{
	json_object_put(r->msg);
	memset(r, 0, sizeof(*r));
}

void cli_print_json(const struct cli_reply *r)
{
	printf("%s\n", json_object_to_json_string_ext(r->msg, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
}

const char *cli_str(json_object *obj, const char *path)
{
	char key[64];

	while (obj) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		json_object *v;

		if (n >= sizeof(key))
			return "";
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(obj, key, &v) || !v)
			return "";
		if (!dot)
			return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
									: "";
		obj = v;
		path = dot + 1;
	}
	return "";
}

const char *cli_time(const char *rfc3339, char *buf)
{
	int64_t ms;
	int offset;

	if (retas_time_parse_rfc3339(rfc3339, &ms, &offset) == 0 &&
	    offset == RETAS_WIB_OFFSET_MIN && strlen(rfc3339) >= 16)
		snprintf(buf, 64, "%.10s %.5s WIB", rfc3339, rfc3339 + 11);
	else
		snprintf(buf, 64, "%s", rfc3339);
	return buf;
}

int cli_report_error(const struct cli_reply *r)
{
	const char *e = r->error;
	const char *dot = strrchr(e, '.');
	const char *name = dot ? dot + 1 : e;
	char *sentence = NULL;

	if (strcmp(e, CLI_INTERFACE ".Refused") == 0) {
		json_object *args = NULL;

		json_object_object_get_ex(r->params, "args", &args);
		if (retas_reason_render(cli_str(r->params, "reason"), args, true, &sentence) == 0)
			cli_error("%s", sentence);
		else
			cli_error("%s", cli_str(r->params, "message"));
		free(sentence);
	} else if (strcmp(name, "InvalidParameter") == 0) {
		cli_error(_("retasd refused the parameter '%s'"), cli_str(r->params, "parameter"));
	} else if (strcmp(name, "MethodNotFound") == 0 || strcmp(name, "InterfaceNotFound") == 0) {
		cli_error(_("retasd does not know this command's call (%s); is it an older "
			    "version?"),
			  e);
	} else if (strcmp(e, CLI_INTERFACE ".ProtocolError") == 0) {
		cli_error(_("retasd could not read the request: %s"),
			  cli_str(r->params, "message"));
	} else if (strcmp(e, CLI_INTERFACE ".InternalError") == 0) {
		cli_error(_("retasd failed (see its log): %s"), cli_str(r->params, "message"));
	} else {
		cli_error(_("retasd answered with the error %s"), e);
	}
	return CLI_EXIT_REFUSED;
}

int cli_finish(struct cli_ctx *ctx, const struct cli_reply *r, bool *print)
{
	*print = false;
	if (ctx->json) {
		/* The answer on stdout for scripts, the sentence on stderr for
		 * whoever watches them. */
		cli_print_json(r);
		return r->error ? cli_report_error(r) : CLI_EXIT_OK;
	}
	if (r->error)
		return cli_report_error(r);
	*print = true;
	return CLI_EXIT_OK;
}
