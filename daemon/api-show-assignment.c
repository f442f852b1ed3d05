/* ShowAssignment: the whole current surat tugas as the daemon verified it,
 * without the officers' PIN hashes. Read-only; officers read it before
 * they log in, so it needs no login. */
#include "api.h"

static int show_assignment(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	json_object *p;

	if (!d->st)
		return rd_api_refuse(call, NULL, "assignment.none", RD_NO_ARGS);
	p = json_object_new_object();
	json_object_object_add(p, "assignment", rd_api_assignment(d));
	return rd_call_reply(call, p);
}

const struct rd_method rd_api_show_assignment = {
    .interface = RD_INTERFACE,
    .name = "ShowAssignment",
    .flags = RD_METHOD_READ_ONLY,
    .handler = show_assignment,
};
