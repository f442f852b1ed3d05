/* VerifyAudit: walks the audit log's hash chain and runs SQLite's
 * integrity check, so an officer or technician can check the store from
 * the command line (retas audit verify). Read-only. */
#include <inttypes.h>
#include <stdlib.h>

#include "api.h"
#include "audit.h"
#include "retas-util.h"

static int verify_audit(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	struct rd_audit_check c;
	char head[RD_AUDIT_HASH_LEN * 2 + 1];
	char *integrity = NULL;
	json_object *p;
	int r;

	r = rd_audit_verify(d->store, &c);
	if (r < 0)
		return r;
	r = rd_store_integrity_check(d->store, &integrity);
	if (r < 0)
		return r;
	retas_hex_encode(c.head, sizeof(c.head), head);
	p = json_object_new_object();
	json_object_object_add(p, "rows", json_object_new_int64(c.rows));
	json_object_object_add(p, "ok", json_object_new_boolean(c.first_bad == 0));
	if (c.first_bad) {
		json_object_object_add(p, "first_bad", json_object_new_int64(c.first_bad));
		json_object_object_add(p, "problem", json_object_new_string(c.problem));
	}
	json_object_object_add(p, "head", json_object_new_string(head));
	json_object_object_add(p, "integrity", json_object_new_string(integrity));
	free(integrity);
	return rd_call_reply(call, p);
}

const struct rd_method rd_api_verify_audit = {
    .interface = RD_INTERFACE,
    .name = "VerifyAudit",
    .flags = RD_METHOD_READ_ONLY,
    .handler = verify_audit,
};
