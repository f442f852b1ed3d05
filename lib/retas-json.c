/* Typed, checked access to json-c objects. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "retas-json.h"

int retas_json_parse(const char *text, size_t len, json_object **out)
{
	struct json_tokener *tok;
	json_object *obj;
	size_t used;
	int r = -EINVAL;

	if (len > INT32_MAX)
		return -E2BIG;
	tok = json_tokener_new_ex(RETAS_JSON_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	/* A bare number or literal only ends at the end of input: say so by
	 * feeding the terminating NUL. */
	if (!obj && json_tokener_get_error(tok) == json_tokener_continue) {
		obj = json_tokener_parse_ex(tok, "", 1);
		used = len;
	} else {
		used = json_tokener_get_parse_end(tok);
	}
	if (!obj || json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	while (used < len && strchr(" \t\r\n", text[used]) && text[used])
		used++;
	if (used != len)
		goto out;
	*out = obj;
	obj = NULL;
	r = 0;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return r;
}

static int get_typed(json_object *obj, const char *key, json_type type, json_object **out)
{
	json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object))
		return -EINVAL;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return -ENOENT;
	if (!json_object_is_type(v, type))
		return -EINVAL;
	*out = v;
	return 0;
}

int retas_json_get_string(json_object *obj, const char *key, const char **out)
{
	json_object *v;
	int r = get_typed(obj, key, json_type_string, &v);

	if (r == 0)
		*out = json_object_get_string(v);
	return r;
}

int retas_json_get_int64(json_object *obj, const char *key, int64_t *out)
{
	json_object *v;
	int r = get_typed(obj, key, json_type_int, &v);

	if (r == 0)
		*out = json_object_get_int64(v);
	return r;
}

int retas_json_get_bool(json_object *obj, const char *key, bool *out)
{
	json_object *v;
	int r = get_typed(obj, key, json_type_boolean, &v);

	if (r == 0)
		*out = json_object_get_boolean(v);
	return r;
}

int retas_json_get_object(json_object *obj, const char *key, json_object **out)
{
	return get_typed(obj, key, json_type_object, out);
}

int retas_json_get_array(json_object *obj, const char *key, json_object **out)
{
	return get_typed(obj, key, json_type_array, out);
}

int retas_json_to_string(json_object *obj, char **out)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	char *dup;

	if (!s)
		return -ENOMEM;
	dup = strdup(s);
	if (!dup)
		return -ENOMEM;
	*out = dup;
	return 0;
}
