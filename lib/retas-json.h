/*
 * json-c helpers that check what they read: a missing member is -ENOENT, a
 * member of another type -EINVAL, so callers can name the offending field.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retas-util.h"

RETAS_DEFINE_CLEANUP(json_object, json_object_put)

#define RETAS_JSON_MAX_DEPTH 32

/* Parses exactly len bytes as one JSON value; trailing whitespace is allowed,
 * anything else after the value is -EINVAL. The caller owns *out. */
int retas_json_parse(const char *text, size_t len, json_object **out);

/* Borrowed results: valid as long as obj is. */
int retas_json_get_string(json_object *obj, const char *key, const char **out);
int retas_json_get_int64(json_object *obj, const char *key, int64_t *out);
int retas_json_get_bool(json_object *obj, const char *key, bool *out);
int retas_json_get_object(json_object *obj, const char *key, json_object **out);
int retas_json_get_array(json_object *obj, const char *key, json_object **out);

/* Serialises compactly (no spaces) into a new string the caller frees. */
int retas_json_to_string(json_object *obj, char **out);
