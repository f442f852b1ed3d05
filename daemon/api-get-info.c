/* org.varlink.service.GetInfo: who this service is and which interfaces it
 * offers, so generic varlink tools can find their way. */
#include <string.h>

#include "api.h"
#include "config.h"

static int get_info(struct rd_call *call)
{
	json_object *p = json_object_new_object(), *list = json_object_new_array();

	json_object_object_add(p, "vendor",
			       json_object_new_string("Dinas Kependudukan dan Pencatatan Sipil "
						      "Kota Jambi"));
	json_object_object_add(p, "product", json_object_new_string("retasd"));
	json_object_object_add(p, "version", json_object_new_string(RETAS_VERSION));
	json_object_object_add(p, "url", json_object_new_string("https://jambikota.go.id/"));
	json_object_array_add(list, json_object_new_string(RD_VARLINK_SERVICE));
	json_object_array_add(list, json_object_new_string(RD_INTERFACE));
	json_object_object_add(p, "interfaces", list);
	return rd_call_reply(call, p);
}

const struct rd_method rd_api_get_info = {
    .interface = RD_VARLINK_SERVICE,
    .name = "GetInfo",
    .flags = RD_METHOD_READ_ONLY,
    .handler = get_info,
};
