/*
 * rtnetlink watcher. RTM_NEWLINK arrives for every flag or statistics
 * change, so links are remembered by index and only the transition to
 * running (IFF_RUNNING, or IFF_LOWER_UP for drivers that set only that)
 * counts. Addresses of host scope (loopback) and routes other than a
 * default unicast one are ignored.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "retas-util.h"
#include "sync-netwatch.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

#define NW_MAX_LINKS 64

struct link_state {
	int ifindex;
	bool running;
};

struct sync_netwatch {
	sd_event *event;
	int fd;
	sd_event_source *io, *timer;
	uint64_t debounce_us;
	unsigned pending;
	sync_netwatch_fn fn;
	void *userdata;
	struct link_state links[NW_MAX_LINKS];
	unsigned n_links;
	uint32_t dump_seq; /* of our RTM_GETLINK: its answers are the start state */
	bool dumping;
};

static void note(struct sync_netwatch *w, unsigned bits)
{
	if (!bits)
		return;
	/* Debounced from the first event of a burst, not re-armed by later
	 * ones: a flapping link still reports every debounce interval. */
	if (!w->pending) {
		if (sd_event_source_set_time_relative(w->timer, w->debounce_us) >= 0)
			sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
	}
	w->pending |= bits;
}

static unsigned on_link(struct sync_netwatch *w, const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct link_state *l = NULL;
	bool running, was;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || (ifi->ifi_flags & IFF_LOOPBACK))
		return 0;
	running = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & (IFF_RUNNING | IFF_LOWER_UP));
	for (unsigned i = 0; i < w->n_links && !l; i++)
		if (w->links[i].ifindex == ifi->ifi_index)
			l = &w->links[i];
	if (h->nlmsg_type == RTM_DELLINK) {
		if (l)
			*l = w->links[--w->n_links];
		return 0;
	}
	was = l && l->running;
	if (!l && w->n_links < NW_MAX_LINKS) {
		l = &w->links[w->n_links++];
		l->ifindex = ifi->ifi_index;
	}
	if (l)
		l->running = running;
	return running && !was ? SYNC_NET_LINK_UP : 0;
}

static unsigned on_addr(const struct nlmsghdr *h)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);

	if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) ||
	    ifa->ifa_scope == RT_SCOPE_HOST)
		return 0;
	return SYNC_NET_ADDR_NEW;
}

static unsigned on_route(const struct nlmsghdr *h)
{
	const struct rtmsg *rt = NLMSG_DATA(h);

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)) || rt->rtm_dst_len != 0 ||
	    rt->rtm_type != RTN_UNICAST || rt->rtm_table != RT_TABLE_MAIN)
		return 0;
	return SYNC_NET_DEFAULT_ROUTE;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct sync_netwatch *w = userdata;
	/* Aligned for struct nlmsghdr. */
	uint32_t buf[8192 / sizeof(uint32_t)];
	unsigned bits = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS)
				bits |= SYNC_NET_OVERRUN;
			/* EAGAIN: drained. Another error: the next wakeup
			 * tries again; the socket stays. */
			if (errno != ENOBUFS)
				break;
			continue;
		}
		if (n == 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (w->dumping && h->nlmsg_seq == w->dump_seq) {
				/* Links running before we started are no news. */
				if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
					w->dumping = false;
				else if (h->nlmsg_type == RTM_NEWLINK)
					on_link(w, h);
				continue;
			}
			switch (h->nlmsg_type) {
			case RTM_NEWLINK:
			case RTM_DELLINK:
				bits |= on_link(w, h);
				break;
			case RTM_NEWADDR:
				bits |= on_addr(h);
				break;
			case RTM_NEWROUTE:
			case RTM_DELROUTE:
				bits |= on_route(h);
				break;
			default:
				break;
			}
		}
	}
	note(w, bits);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct sync_netwatch *w = userdata;
	unsigned bits = w->pending;

	w->pending = 0;
	if (bits)
		w->fn(w->userdata, bits);
	return 0;
}

/* Asks for every link once, so that the state of links already up is
 * known before the first event. */
static int request_links(struct sync_netwatch *w)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req = {
	    .h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		  .nlmsg_type = RTM_GETLINK,
		  .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		  .nlmsg_seq = 1},
	    .ifi = {.ifi_family = AF_UNSPEC},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	w->dump_seq = req.h.nlmsg_seq;
	w->dumping = true;
	if (sendto(w->fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

int sync_netwatch_new(sd_event *event, uint64_t debounce_ms, sync_netwatch_fn fn, void *userdata,
		      struct sync_netwatch **out)
{
	struct sockaddr_nl sa = {
	    .nl_family = AF_NETLINK,
	    .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
			 RTMGRP_IPV6_ROUTE,
	};
	struct sync_netwatch *w;
	int r, rcvbuf = 1 << 20;

	if (!fn)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->event = sd_event_ref(event);
	w->fn = fn;
	w->userdata = userdata;
	w->debounce_us = (debounce_ms ? debounce_ms : 500) * 1000;
	w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (w->fd < 0) {
		r = -errno;
		goto fail;
	}
	/* A burst of routes (a VPN coming up) must not overrun a small
	 * buffer; when it still does, ENOBUFS is reported as OVERRUN. */
	setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(w->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	r = request_links(w);
	if (r < 0)
		goto fail;
	r = sd_event_add_io(event, &w->io, w->fd, EPOLLIN, on_io, w);
	if (r < 0)
		goto fail;
	r = sd_event_add_time(event, &w->timer, CLOCK_MONOTONIC, 0, 10000, on_timer, w);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
	sd_event_source_set_description(w->io, "sync-netwatch");
	sd_event_source_set_description(w->timer, "sync-netwatch-debounce");
	*out = w;
	return 0;
fail:
	sync_netwatch_free(w);
	return r;
}

void sync_netwatch_free(struct sync_netwatch *w)
{
	if (!w)
		return;
	sd_event_source_disable_unref(w->io);
	sd_event_source_disable_unref(w->timer);
	if (w->fd >= 0)
		close(w->fd);
	sd_event_unref(w->event);
	free(w);
}
