/*
 * Small JSON builders the API modules share: members that are NULL in the
 * store become JSON null, instants are RFC 3339 in WIB, and the minutes a
 * step took are measured against its SOP time standard the same way
 * everywhere.
 */
#pragma once

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdint.h>

/* Adds key: s, or null when s is NULL. 0 or -ENOMEM. */
int hq_json_add_str(json_object *o, const char *key, const char *s);
int hq_json_add_int(json_object *o, const char *key, int64_t v);
int hq_json_add_bool(json_object *o, const char *key, int v);
/* Adds key: RFC 3339 (WIB) of ms, or null when ms <= 0. */
int hq_json_add_time(json_object *o, const char *key, int64_t ms);
/* Column col of st as a string member, or null. */
int hq_json_add_col(json_object *o, const char *key, sqlite3_stmt *st, int col);

/*
 * A step of an SOP: when it started and finished (ms, 0 when not yet) and
 * its standard (minutes, at most std_max). Adds to arr an object
 * {step, name, role, started, done, minutes, standard, within}, minutes
 * and within being null until both ends are known.
 */
int hq_json_add_step(json_object *arr, int step, const char *name, const char *role,
		     int64_t started_ms, int64_t done_ms, int std_min, int std_max);
