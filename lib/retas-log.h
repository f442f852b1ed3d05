/*
 * Logging to stderr with the <N> priority prefixes that journald and
 * sd-daemon(3) understand. Library code logs at debug level at most; the
 * programs log once, where they handle an error.
 */
#pragma once

#include <syslog.h>

/* Messages above this priority (numerically) are dropped. Default LOG_INFO;
 * RETAS_LOG_LEVEL=debug|info|notice|warning|err in the environment or the
 * setter change it. */
void retas_log_set_level(int priority);
int retas_log_parse_level(const char *name);

void retas_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) retas_log(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) retas_log(LOG_INFO, __VA_ARGS__)
#define log_notice(...) retas_log(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) retas_log(LOG_WARNING, __VA_ARGS__)
#define log_error(...) retas_log(LOG_ERR, __VA_ARGS__)
