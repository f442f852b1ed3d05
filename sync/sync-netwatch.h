/*
 * Reachability hints for the sync engine (DESIGN.md §4): an rtnetlink
 * socket on the sd-event loop that notices a link coming up, a new address
 * and a default route appearing or going, and tells the caller once per
 * burst (a cable plugged in brings link, addresses and routes within a
 * second; the caller should probe HQ once, not ten times). The caller
 * then probes head office's /healthz and, when it answers, cuts its
 * backoff short. No polling: the kernel wakes us.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

enum {
	SYNC_NET_LINK_UP = 1 << 0,	 /* a non-loopback link became running */
	SYNC_NET_ADDR_NEW = 1 << 1,	 /* an address other than host scope appeared */
	SYNC_NET_DEFAULT_ROUTE = 1 << 2, /* a default route was added or removed */
	SYNC_NET_OVERRUN = 1 << 3,	 /* the kernel dropped events: anything may have changed */
};

struct sync_netwatch;

/* events: the SYNC_NET_* bits seen since the last call. */
typedef void (*sync_netwatch_fn)(void *userdata, unsigned events);

/*
 * Opens a NETLINK_ROUTE socket in the calling thread's network namespace,
 * subscribed to links, IPv4/IPv6 addresses and routes, and watches it on
 * event. fn runs from the loop debounce_ms after the first event of a
 * burst (0 means 500). 0 or a negative errno.
 */
int sync_netwatch_new(sd_event *event, uint64_t debounce_ms, sync_netwatch_fn fn, void *userdata,
		      struct sync_netwatch **out);
/* NULL is a no-op. */
void sync_netwatch_free(struct sync_netwatch *w);
