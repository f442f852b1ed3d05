/* Logout: ends the current officer's login. Needs that login (from the
 * same user account), like every call that acts for an officer. */
#include <string.h>

#include "api.h"
#include "retas-log.h"

static int logout(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	json_object *detail = json_object_new_object();
	int idx = rd_state_petugas_index(d, d->login.nip);
	int r;

	json_object_object_add(detail, "petugas", json_object_new_int(idx));
	r = rd_store_txn_begin(d->store);
	if (r == 0) {
		r = rd_store_login_clear(d->store);
		if (r == 0)
			r = rd_api_audit(call, "ok", "", detail);
		if (r == 0)
			r = rd_store_txn_commit(d->store);
		else
			rd_store_txn_rollback(d->store);
	}
	json_object_put(detail);
	if (r < 0)
		return rd_api_store_failed(call, r);
	d->logged_in = false;
	memset(&d->login, 0, sizeof(d->login));
	rd_state_arm_idle(d);
	log_info("officer %d logged out", idx);
	return rd_call_reply(call, NULL);
}

const struct rd_method rd_api_logout = {
    .interface = RD_INTERFACE,
    .name = "Logout",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .handler = logout,
};
