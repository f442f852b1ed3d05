/*
 * The sentences behind retasd's refusal reasons. retasd answers a refused
 * call with a stable reason id ("login.locked") and named arguments; the
 * daemon renders the English sentence for its log and for generic varlink
 * tools, and retas renders the same sentence through gettext for the
 * officer. Both take it from this one table, so the two never drift.
 * Templates are English msgids with {name} placeholders filled from the
 * arguments; translators keep the placeholders.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

/* The template for reason (an untranslated msgid), or NULL when the table
 * has none. Reasons "st.FIELD" without an entry of their own share the
 * "st.*" template with the arguments field and detail. */
const char *retas_reason_template(const char *reason);

/* Fills each {name} in tmpl from args (an object whose members are strings
 * or numbers); a placeholder without an argument stays as it is. *out is a
 * new string the caller frees. 0 or -ENOMEM. */
int retas_reason_format(const char *tmpl, json_object *args, char **out);

/* The sentence for reason and args, translated through gettext when
 * translate is set. -ENOENT when the table has no template. */
int retas_reason_render(const char *reason, json_object *args, bool translate, char **out);
