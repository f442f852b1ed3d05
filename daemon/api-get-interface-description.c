/* org.varlink.service.GetInterfaceDescription: the IDL of an interface this
 * service offers, so the API describes itself. */
#include <string.h>

#include "api.h"

static const struct rd_param params[] = {
    {"interface", RD_PARAM_STRING, .max_len = 255},
    {NULL},
};

static int get_interface_description(struct rd_call *call)
{
	const char *iface =
	    json_object_get_string(json_object_object_get(call->params, "interface"));
	const char *text = NULL;
	json_object *p;

	if (strcmp(iface, RD_INTERFACE) == 0)
		text = rd_interface_description;
	else if (strcmp(iface, RD_VARLINK_SERVICE) == 0)
		text = rd_service_description;
	p = json_object_new_object();
	if (!text) {
		json_object_object_add(p, "interface", json_object_new_string(iface));
		return rd_call_error(call, RD_VARLINK_SERVICE ".InterfaceNotFound", p);
	}
	json_object_object_add(p, "description", json_object_new_string(text));
	return rd_call_reply(call, p);
}

const struct rd_method rd_api_get_interface_description = {
    .interface = RD_VARLINK_SERVICE,
    .name = "GetInterfaceDescription",
    .flags = RD_METHOD_READ_ONLY,
    .params = params,
    .handler = get_interface_description,
};
