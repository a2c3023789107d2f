/*
 * The one logging function of scout. A line is
 *   2026-11-29T01:50:00.123Z pid=123 level=info run=.. job=.. record=.. msg="..." k=v
 * on stderr. The run/job/record context is per thread, so a worker sets it
 * once per run. Registered secrets are replaced by "[redacted]" in every
 * line, as a second line of defence behind never formatting them at all.
 */
#ifndef SCOUT_CORE_LOG_H
#define SCOUT_CORE_LOG_H

#include "core/err.h"

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Optional sink that receives every line after it is written (the run log). */
typedef void (*log_hook_fn)(enum log_level lvl, const char *line, void *ud);

void log_set_level(enum log_level lvl);
int log_level_parse(const char *s, enum log_level *out);
void log_set_context(const char *run, const char *job, const char *record);
void log_set_hook(log_hook_fn fn, void *ud);
/* Never let this string appear in a log line (API keys, tokens). */
void log_add_secret(const char *secret);
/* Replace every registered secret in s (in place, same length or shorter). */
void log_redact(char *s);

/* msg is a fixed human message; kvfmt (may be NULL) formats extra key=value pairs. */
void log_write(enum log_level lvl, const char *msg, const char *kvfmt, ...) SCOUT_PRINTF(3, 4);

#define log_debug(msg, ...) log_write(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_write(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_write(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_write(LOG_ERROR, msg, __VA_ARGS__)

#endif
