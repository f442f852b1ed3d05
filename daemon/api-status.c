/* Status: the state of the van, read-only and open to anyone who may
 * connect. Answers from memory, so it costs no disk access. */
#include "api.h"
#include "config.h"
#include "sync.h"

static int status(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	json_object *p = json_object_new_object(), *v;

	json_object_object_add(p, "state",
			       json_object_new_string(rd_phase_name(rd_state_phase(d))));
	json_object_object_add(p, "version", json_object_new_string(RETAS_VERSION));
	json_object_object_add(p, "now", rd_api_time(rd_daemon_now(d)));
	json_object_object_add(p, "device_key_id", json_object_new_string(d->device_key_id));
	json_object_object_add(p, "hq_key", json_object_new_boolean(d->config->have_hq_sign_key));
	if ((v = rd_api_assignment_summary(d)))
		json_object_object_add(p, "assignment", v);
	if ((v = rd_api_login_info(d)))
		json_object_object_add(p, "login", v);
	if ((v = rd_api_session(d)))
		json_object_object_add(p, "session", v);
	{
		struct rd_sync_progress sp;
		const char *outcome;
		int64_t last;

		rd_sync_status(d->sync, &sp, &last, &outcome);
		v = rd_api_sync_progress(&sp);
		if (last) {
			json_object_object_add(v, "last_contact", rd_api_time(last));
			json_object_object_add(v, "last_outcome", json_object_new_string(outcome));
		}
		json_object_object_add(p, "sync", v);
	}
	return rd_call_reply(call, p);
}

const struct rd_method rd_api_status = {
    .interface = RD_INTERFACE,
    .name = "Status",
    .flags = RD_METHOD_READ_ONLY,
    .handler = status,
};
