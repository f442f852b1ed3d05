/*
 * One reachability probe: GET of head office's /healthz on the sync
 * engine's multi handle, with the same transport settings as the uploads
 * (CA, pinned key, connect timeout) and, unlike an upload, a total timeout:
 * a probe is a few hundred bytes, and an answer that takes longer than that
 * means "not reachable now". The caller decides when to probe (on a network
 * change from sync-netwatch, on its backoff timer) and what to do with the
 * answer.
 */
#pragma once

#include "sync-http.h"
#include "sync-retry.h"

struct sync_probe;

/* r 0 when head office answered 2xx; otherwise a negative errno with kind
 * and status as sync-retry classifies them (status 0 without an answer).
 * Runs from the loop. The probe is finished and may be freed from here. */
typedef void (*sync_probe_fn)(void *userdata, int r, enum sync_fail kind, long status,
			      const char *retry_after);

/*
 * Starts GET url (absolute). timeout_ms 0 means 20000. cfg's strings are
 * borrowed until done. 0, -ENOMEM, -EINVAL. fn runs later, never from
 * inside this call.
 */
int sync_probe_start(struct sync_http *http, const struct sync_http_config *cfg, const char *url,
		     long timeout_ms, sync_probe_fn fn, void *userdata, struct sync_probe **out);
/* After the callback said r < 0: why, as sync_http_reason() words it
 * ("http" when head office answered with another status). */
const char *sync_probe_reason(const struct sync_probe *p);
/* Cancels a running probe (no callback) and frees. NULL is a no-op. */
void sync_probe_free(struct sync_probe *p);
