/*
 * A real slow link for tests and benchmarks: two network namespaces, the
 * van's and head office's, joined by a veth pair whose both ends are shaped
 * with tbf, made with ip(8) and tc(8). The calling thread enters either
 * side with setns(), so every socket it (or a process it spawns) opens
 * lives there. An atexit handler takes the namespaces down. A failed
 * precondition ends the program with a message (cmocka's assertions).
 */
#pragma once

#define SHAPED_LINK_VAN_ADDR "10.79.0.1"
#define SHAPED_LINK_HQ_ADDR "10.79.0.2"

/* Makes the pair at rate_kbit. Exits 77 when namespaces or tc cannot be
 * used here. */
void shaped_link_make(unsigned rate_kbit);
/* Reshapes both ends. */
void shaped_link_rate(unsigned rate_kbit);
/* Switches the calling thread into the van's or head office's namespace;
 * shaped_link_leave goes back to the one the program started in. */
void shaped_link_enter_van(void);
void shaped_link_enter_hq(void);
void shaped_link_leave(void);
/* The van's namespace name, for ip netns exec. */
const char *shaped_link_van_ns(void);
