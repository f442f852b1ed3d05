/* Queue: where the van's records stand with head office (waiting,
 * uploading, acknowledged, quarantined), the bytes still to go, and the
 * last contact with head office and its outcome. Read-only. */
#include <stdlib.h>

#include "api.h"
#include "sync.h"

static int queue(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	struct rd_sync_queue q;
	json_object *p;
	uint64_t wakeups, probes;
	int64_t next;
	size_t n;
	int r;

	r = rd_outbox_queue(d, &q);
	if (r < 0)
		return r;
	rd_sync_counters(d->sync, &wakeups, &probes);
	next = rd_sync_next_attempt_ms(d->sync);
	p = json_object_new_object();
	json_object_object_add(p, "waiting", json_object_new_int64(q.waiting));
	json_object_object_add(p, "uploading", json_object_new_int64(q.uploading));
	json_object_object_add(p, "acknowledged", json_object_new_int64(q.acknowledged));
	json_object_object_add(p, "quarantined", json_object_new_int64(q.quarantined));
	json_object_object_add(p, "purged", json_object_new_int64(q.purged));
	json_object_object_add(p, "bytes_waiting", json_object_new_int64(q.bytes_waiting));
	json_object_object_add(p, "batch_bytes", json_object_new_int64(q.batch_bytes));
	json_object_object_add(p, "batch_offset", json_object_new_int64(q.batch_offset));
	json_object_object_add(p, "phase",
			       json_object_new_string(rd_sync_phase_name(rd_sync_phase(d->sync))));
	if (next >= 0)
		json_object_object_add(p, "next_attempt_ms", json_object_new_int64(next));
	if (q.last_contact_ms) {
		json_object_object_add(p, "last_contact", rd_api_time(q.last_contact_ms));
		json_object_object_add(p, "last_outcome", json_object_new_string(q.last_outcome));
	}
	{
		struct rd_quarantined *list = NULL;
		json_object *a = json_object_new_array();

		n = 0;
		r = rd_outbox_quarantined(d, &list, &n);
		if (r < 0) {
			json_object_put(a);
			json_object_put(p);
			return r;
		}
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "id", json_object_new_string(list[i].id));
			json_object_object_add(e, "seq", json_object_new_int64(list[i].seq));
			json_object_object_add(e, "reason", json_object_new_string(list[i].reason));
			if (list[i].batch_id[0])
				json_object_object_add(e, "batch_id",
						       json_object_new_string(list[i].batch_id));
			if (list[i].settled_ms)
				json_object_object_add(e, "settled",
						       rd_api_time(list[i].settled_ms));
			json_object_array_add(a, e);
		}
		free(list);
		json_object_object_add(p, "quarantine", a);
	}
	json_object_object_add(p, "wakeups", json_object_new_int64((int64_t)wakeups));
	json_object_object_add(p, "probes", json_object_new_int64((int64_t)probes));
	return rd_call_reply(call, p);
}

const struct rd_method rd_api_queue = {
    .interface = RD_INTERFACE,
    .name = "Queue",
    .flags = RD_METHOD_READ_ONLY,
    .handler = queue,
};
