/* Filling struct retas_error; messages are translated when they are set. */
#include <stdio.h>
#include <string.h>

#include "retas-error.h"
#include "retas-i18n.h"

int retas_error_set(struct retas_error *err, int code, const char *reason, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	snprintf(err->reason, sizeof(err->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), _(fmt), ap);
	va_end(ap);
	return code;
}

void retas_error_prefix(struct retas_error *err, const char *fmt, ...)
{
	char head[128], old[sizeof(err->message)];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	snprintf(err->message, sizeof(err->message), "%s: %s", head, old);
}

void retas_error_clear(struct retas_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}
