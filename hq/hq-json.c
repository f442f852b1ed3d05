/* JSON builders shared by the API modules. */
#include <errno.h>
#include <stdio.h>

#include "hq-json.h"
#include "retas-time.h"

static int add(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return -ENOMEM;
	json_object_object_add(o, key, v);
	return 0;
}

int hq_json_add_str(json_object *o, const char *key, const char *s)
{
	if (!s) {
		json_object_object_add(o, key, NULL);
		return 0;
	}
	return add(o, key, json_object_new_string(s));
}

int hq_json_add_int(json_object *o, const char *key, int64_t v)
{
	return add(o, key, json_object_new_int64(v));
}

int hq_json_add_bool(json_object *o, const char *key, int v)
{
	return add(o, key, json_object_new_boolean(v));
}

int hq_json_add_time(json_object *o, const char *key, int64_t ms)
{
	char buf[RETAS_RFC3339_MAX];

	if (ms <= 0) {
		json_object_object_add(o, key, NULL);
		return 0;
	}
	retas_time_format_rfc3339(ms, RETAS_WIB_OFFSET_MIN, buf);
	return add(o, key, json_object_new_string(buf));
}

int hq_json_add_col(json_object *o, const char *key, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		json_object_object_add(o, key, NULL);
		return 0;
	}
	return add(o, key, json_object_new_string((const char *)sqlite3_column_text(st, col)));
}

int hq_json_add_step(json_object *arr, int step, const char *name, const char *role,
		     int64_t started_ms, int64_t done_ms, int std_min, int std_max)
{
	json_object *o = json_object_new_object();
	char std[16];
	int r = 0;

	if (!o)
		return -ENOMEM;
	json_object_array_add(arr, o);
	if (std_min == std_max)
		snprintf(std, sizeof(std), "%d", std_max);
	else
		snprintf(std, sizeof(std), "%d-%d", std_min, std_max);
	r |= hq_json_add_int(o, "step", step);
	r |= hq_json_add_str(o, "name", name);
	r |= hq_json_add_str(o, "role", role);
	r |= hq_json_add_time(o, "started", started_ms);
	r |= hq_json_add_time(o, "done", done_ms);
	if (started_ms > 0 && done_ms > 0) {
		double minutes = (double)(done_ms - started_ms) / 60000.0;

		r |= add(o, "minutes",
			 json_object_new_double(((int64_t)(minutes * 10 + 0.5)) / 10.0));
		r |=
		    hq_json_add_bool(o, "within", done_ms - started_ms <= (int64_t)std_max * 60000);
	} else {
		json_object_object_add(o, "minutes", NULL);
		json_object_object_add(o, "within", NULL);
	}
	r |= hq_json_add_str(o, "standard_min", std);
	return r ? -ENOMEM : 0;
}
