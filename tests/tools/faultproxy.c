/*
 * faultproxy: a TCP proxy on loopback that breaks connections on purpose,
 * so the sync tests can show an upload surviving a cut, a reset, a stall
 * or a slow start. Each accepted connection is forwarded to the target port
 * and takes the fault in force when it was accepted:
 *
 *   pass               forward untouched
 *   cut N              close both sides (FIN) once N client->server bytes
 *                      reached the server
 *   reset N            the same with RST (SO_LINGER 0)
 *   stall N MS         after N client->server bytes forward nothing either
 *                      way for MS milliseconds, then carry on
 *   delay MS           forward nothing for MS milliseconds after accepting
 *
 * Options set the first fault (--cut N, --reset N, --stall N:MS,
 * --delay MS, --count K for how many connections it applies to, then pass).
 * Lines on stdin change it between connections: the same words, optionally
 * followed by a count K; "target PORT" sends new connections to another
 * port (a server restarted on a new one); "stats" prints counters; "quit"
 * ends. Every command
 * is answered with one line ("ok", "stats ...", "error ..."), so a test
 * knows it took effect. Events go to stdout as lines too ("conn 3 cut
 * 65536"). The first line is "listening 127.0.0.1:PORT".
 *
 * One thread, poll(); every wait is bounded by the next stall's end or the
 * lifetime (--lifetime S, default 300), and EOF on stdin ends the proxy, so
 * a test that dies never leaves it behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define BUF_SIZE 65536

enum mode { MODE_PASS, MODE_CUT, MODE_RESET, MODE_STALL, MODE_DELAY };

struct fault {
	enum mode mode;
	uint64_t after; /* client->server bytes before it strikes */
	int64_t ms;	/* stall or delay */
	long count;	/* connections left it applies to; -1 all */
};

struct pipe_buf {
	char data[BUF_SIZE];
	size_t len, off;
	bool eof, shut;
	uint64_t total; /* written to the far side */
};

struct conn {
	bool used;
	unsigned id;
	int cfd, sfd;
	struct fault fault;
	bool fault_done;
	int64_t paused_until;
	struct pipe_buf up, down;
};

static struct conn conns[MAX_CONNS];
static struct fault current;
static unsigned next_id = 1;
static uint64_t total_conns, total_up, total_down;
static int target_port;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void conn_close(struct conn *c, bool reset, const char *why)
{
	if (reset) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		setsockopt(c->cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		setsockopt(c->sfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(c->cfd);
	close(c->sfd);
	say("conn %u %s up=%" PRIu64 " down=%" PRIu64, c->id, why, c->up.total, c->down.total);
	c->used = false;
}

static struct fault take_fault(void)
{
	struct fault f = current;

	if (current.count > 0 && --current.count == 0)
		current = (struct fault){.mode = MODE_PASS, .count = -1};
	return f;
}

static void accept_one(int lfd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct conn *c = NULL;
	int cfd, sfd, one = 1;

	cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (int i = 0; i < MAX_CONNS && !c; i++)
		if (!conns[i].used)
			c = &conns[i];
	if (!c) {
		close(cfd);
		say("conn refused: too many");
		return;
	}
	/* Loopback: connect answers at once, refused when the target is
	 * down (a server being restarted), which the client sees as a
	 * closed connection. */
	sfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_port = htons((uint16_t)target_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sfd < 0 || connect(sfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		say("conn %u upstream %s", next_id++, strerror(errno));
		if (sfd >= 0)
			close(sfd);
		close(cfd);
		return;
	}
	fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL) | O_NONBLOCK);
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->id = next_id++;
	c->cfd = cfd;
	c->sfd = sfd;
	c->fault = take_fault();
	if (c->fault.mode == MODE_DELAY) {
		c->paused_until = now_ms() + c->fault.ms;
		c->fault_done = true;
	}
	total_conns++;
	say("conn %u open", c->id);
}

/* Strikes a pending cut/reset/stall once its byte count reached the
 * server. Returns false when the connection is gone. */
static bool check_fault(struct conn *c)
{
	if (c->fault_done || c->fault.mode == MODE_PASS || c->up.total < c->fault.after)
		return true;
	c->fault_done = true;
	switch (c->fault.mode) {
	case MODE_CUT:
		conn_close(c, false, "cut");
		return false;
	case MODE_RESET:
		conn_close(c, true, "reset");
		return false;
	case MODE_STALL:
		c->paused_until = now_ms() + c->fault.ms;
		say("conn %u stall %" PRId64 " at %" PRIu64, c->id, c->fault.ms, c->up.total);
		return true;
	default:
		return true;
	}
}

/* How much may be read from the client now: a pending fault's byte count
 * is never overrun. */
static size_t up_room(const struct conn *c)
{
	size_t room = BUF_SIZE;

	if (!c->fault_done && (c->fault.mode == MODE_CUT || c->fault.mode == MODE_RESET ||
			       c->fault.mode == MODE_STALL)) {
		uint64_t left = c->fault.after - c->up.total;
		if (left < room)
			room = (size_t)left;
	}
	return room;
}

/* Moves bytes one way. Returns false on a broken connection. */
static bool pump_read(int fd, struct pipe_buf *b, size_t room)
{
	ssize_t n;

	if (room == 0)
		return true;
	n = read(fd, b->data, room);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		b->eof = true;
	b->len = (size_t)n;
	b->off = 0;
	return true;
}

static bool pump_write(int fd, struct pipe_buf *b, uint64_t *counter)
{
	ssize_t n = send(fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	b->off += (size_t)n;
	b->total += (uint64_t)n;
	*counter += (uint64_t)n;
	if (b->off == b->len)
		b->len = b->off = 0;
	return true;
}

static int parse_fault(char *words[], int n, struct fault *f)
{
	char *end;
	int k = 1;

	memset(f, 0, sizeof(*f));
	f->count = -1;
	if (n < 1)
		return -1;
	if (strcmp(words[0], "pass") == 0) {
		f->mode = MODE_PASS;
	} else if (strcmp(words[0], "cut") == 0 || strcmp(words[0], "reset") == 0) {
		f->mode = words[0][0] == 'c' ? MODE_CUT : MODE_RESET;
		if (n < 2)
			return -1;
		f->after = strtoull(words[1], &end, 10);
		if (*end)
			return -1;
		k = 2;
	} else if (strcmp(words[0], "stall") == 0) {
		f->mode = MODE_STALL;
		if (n < 3)
			return -1;
		f->after = strtoull(words[1], &end, 10);
		if (*end)
			return -1;
		f->ms = strtoll(words[2], &end, 10);
		if (*end || f->ms < 0)
			return -1;
		k = 3;
	} else if (strcmp(words[0], "delay") == 0) {
		f->mode = MODE_DELAY;
		if (n < 2)
			return -1;
		f->ms = strtoll(words[1], &end, 10);
		if (*end || f->ms < 0)
			return -1;
		k = 2;
	} else {
		return -1;
	}
	if (n > k) {
		f->count = strtol(words[k], &end, 10);
		if (*end || f->count < 1 || n > k + 1)
			return -1;
	}
	return 0;
}

/* Returns false on quit. */
static bool command(char *line)
{
	char *words[8], *save = NULL;
	int n = 0;
	struct fault f;

	for (char *w = strtok_r(line, " \t\r", &save); w && n < 8;
	     w = strtok_r(NULL, " \t\r", &save))
		words[n++] = w;
	if (n == 0)
		return true;
	if (strcmp(words[0], "quit") == 0)
		return false;
	if (strcmp(words[0], "target") == 0) {
		char *end;
		long port = n == 2 ? strtol(words[1], &end, 10) : 0;
		if (n != 2 || *end || port < 1 || port > 65535) {
			say("error: bad port");
			return true;
		}
		target_port = (int)port;
		say("ok");
		return true;
	}
	if (strcmp(words[0], "stats") == 0) {
		say("stats conns=%" PRIu64 " up=%" PRIu64 " down=%" PRIu64, total_conns, total_up,
		    total_down);
		return true;
	}
	if (parse_fault(words, n, &f) < 0) {
		say("error: bad command");
		return true;
	}
	current = f;
	say("ok");
	return true;
}

static int usage(void)
{
	fprintf(stderr, "usage: faultproxy --target PORT [--cut N | --reset N | --stall N:MS | "
			"--delay MS] [--count K] [--lifetime S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"target", required_argument, NULL, 't'},	{"cut", required_argument, NULL, 'c'},
	    {"reset", required_argument, NULL, 'r'},	{"stall", required_argument, NULL, 's'},
	    {"delay", required_argument, NULL, 'd'},	{"count", required_argument, NULL, 'k'},
	    {"lifetime", required_argument, NULL, 'l'}, {NULL, 0, NULL, 0},
	};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t salen = sizeof(sa);
	char inbuf[4096];
	size_t inlen = 0;
	long lifetime = 300;
	int64_t deadline;
	bool running = true;
	int lfd, opt, one = 1;
	char *end;

	current = (struct fault){.mode = MODE_PASS, .count = -1};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			target_port = atoi(optarg);
			break;
		case 'c':
		case 'r':
			current.mode = opt == 'c' ? MODE_CUT : MODE_RESET;
			current.after = strtoull(optarg, &end, 10);
			if (*end)
				return usage();
			break;
		case 's':
			current.mode = MODE_STALL;
			current.after = strtoull(optarg, &end, 10);
			if (*end != ':')
				return usage();
			current.ms = strtoll(end + 1, &end, 10);
			if (*end)
				return usage();
			break;
		case 'd':
			current.mode = MODE_DELAY;
			current.ms = strtoll(optarg, &end, 10);
			if (*end)
				return usage();
			break;
		case 'k':
			current.count = strtol(optarg, &end, 10);
			if (*end || current.count < 1)
				return usage();
			break;
		case 'l':
			lifetime = strtol(optarg, &end, 10);
			if (*end || lifetime < 1)
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (target_port <= 0 || target_port > 65535 || optind != argc)
		return usage();
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		perror("faultproxy: listen");
		return 1;
	}
	say("listening 127.0.0.1:%u", ntohs(sa.sin_port));
	deadline = now_ms() + lifetime * 1000;

	while (running) {
		struct pollfd pfd[2 + 2 * MAX_CONNS];
		struct conn *owner[2 + 2 * MAX_CONNS];
		int64_t now = now_ms(), wait = deadline - now;
		nfds_t n = 0;

		if (wait <= 0) {
			say("lifetime over");
			break;
		}
		pfd[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			short ce = 0, se = 0;

			if (!c->used)
				continue;
			if (c->paused_until > now) {
				if (c->paused_until - now < wait)
					wait = c->paused_until - now;
				continue;
			}
			if (c->up.len)
				se |= POLLOUT;
			else if (!c->up.eof && up_room(c) > 0)
				ce |= POLLIN;
			if (c->down.len)
				ce |= POLLOUT;
			else if (!c->down.eof)
				se |= POLLIN;
			owner[n] = c;
			pfd[n++] = (struct pollfd){.fd = c->cfd, .events = ce};
			owner[n] = c;
			pfd[n++] = (struct pollfd){.fd = c->sfd, .events = se};
		}
		if (poll(pfd, n, (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			perror("faultproxy: poll");
			break;
		}
		if (pfd[0].revents & POLLIN)
			accept_one(lfd);
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			ssize_t r = read(STDIN_FILENO, inbuf + inlen, sizeof(inbuf) - 1 - inlen);
			char *nl;

			if (r <= 0) {
				running = false;
				break;
			}
			inlen += (size_t)r;
			while (running && (nl = memchr(inbuf, '\n', inlen))) {
				*nl = '\0';
				running = command(inbuf);
				inlen -= (size_t)(nl + 1 - inbuf);
				memmove(inbuf, nl + 1, inlen);
			}
			if (inlen == sizeof(inbuf) - 1)
				inlen = 0;
		}
		for (nfds_t i = 2; i + 1 < n; i += 2) {
			struct conn *c = owner[i];
			short cr = pfd[i].revents, sr = pfd[i + 1].revents;
			bool ok = true;

			if (!c->used)
				continue;
			if (cr & POLLIN)
				ok = pump_read(c->cfd, &c->up, up_room(c));
			if (ok && (sr & POLLIN))
				ok = pump_read(c->sfd, &c->down, BUF_SIZE);
			if (ok && (sr & POLLOUT))
				ok = pump_write(c->sfd, &c->up, &total_up);
			if (ok && (cr & POLLOUT))
				ok = pump_write(c->cfd, &c->down, &total_down);
			if (ok && ((cr | sr) & (POLLERR | POLLNVAL)))
				ok = false;
			if (!ok) {
				conn_close(c, false, "broken");
				continue;
			}
			if (!check_fault(c))
				continue;
			/* Half-close once a side ended and its bytes are out. */
			if (c->up.eof && !c->up.len && !c->up.shut) {
				shutdown(c->sfd, SHUT_WR);
				c->up.shut = true;
			}
			if (c->down.eof && !c->down.len && !c->down.shut) {
				shutdown(c->cfd, SHUT_WR);
				c->down.shut = true;
			}
			if (c->up.shut && c->down.shut)
				conn_close(c, false, "closed");
			else if ((cr & POLLHUP) && c->down.shut)
				conn_close(c, false, "closed");
		}
	}
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used)
			conn_close(&conns[i], false, "closed");
	close(lfd);
	return 0;
}
