/*
 * stderr logging with sd-daemon priority prefixes. One fprintf per message
 * so lines from several threads do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retas-log.h"

static int max_level = -1;

int retas_log_parse_level(const char *name)
{
	static const struct {
		const char *name;
		int prio;
	} levels[] = {
		{"debug", LOG_DEBUG},     {"info", LOG_INFO}, {"notice", LOG_NOTICE},
		{"warning", LOG_WARNING}, {"err", LOG_ERR},   {"error", LOG_ERR},
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(levels[i].name, name) == 0)
			return levels[i].prio;
	return -1;
}

void retas_log_set_level(int priority)
{
	max_level = priority;
}

static int current_level(void)
{
	if (max_level < 0) {
		const char *env = getenv("RETAS_LOG_LEVEL");
		int l = env ? retas_log_parse_level(env) : -1;

		max_level = l >= 0 ? l : LOG_INFO;
	}
	return max_level;
}

void retas_log(int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (priority > current_level())
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "<%d>%s\n", priority, line);
}
