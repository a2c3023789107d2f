/*
 * Heartbeats of scout's long-running processes (daemon, workers, sensor
 * loop, web UI): each writes a row (component, name) every few seconds with
 * its host, pid and a small JSON info object, so `scout doctor` and the web
 * UI can tell which processes live and which went silent. A clean shutdown
 * removes the row; a crash leaves it behind to go stale.
 */
#ifndef SCOUT_STORE_HEARTBEATS_H
#define SCOUT_STORE_HEARTBEATS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* How often the loops beat; a beat older than 3 intervals is stale. */
#define HEARTBEAT_INTERVAL_MS 5000
#define HEARTBEAT_STALE_FACTOR 3

struct heartbeat {
	const char *component; /* "worker", "sensors", "daemon", "web" */
	const char *name;
	const char *host;
	int pid;
	const char *started_at; /* ISO-8601 UTC */
	const char *beat_at;	/* ISO-8601 UTC */
	int64_t age_ms;		/* now - beat_at, by the database clock */
	int interval_ms;	/* how often the process promised to beat */
	int stale;		/* age_ms > HEARTBEAT_STALE_FACTOR * interval_ms */
	const char *info_json;	/* JSON object, "{}" when none was given */
};

struct heartbeat_list {
	struct heartbeat *items;
	size_t n;
	void *owner;
};

/*
 * Record that (component, name) is alive now: inserts the row with this
 * host, pid and started_at = now, or updates beat_at and info. A row of the
 * same name from another pid (a restarted process) gets a fresh started_at.
 * info_json may be NULL.
 */
int heartbeat_beat(struct store *s, const char *component, const char *name,
		   const char *info_json, serr *e) SCOUT_MUST;

/* heartbeat_beat for a process that beats every interval_ms (> 0) instead of the default. */
int heartbeat_beat_every(struct store *s, const char *component, const char *name,
			 int interval_ms, const char *info_json, serr *e) SCOUT_MUST;

void heartbeat_list_init(struct heartbeat_list *l);
void heartbeat_list_free(struct heartbeat_list *l);

/* Every heartbeat, ordered by component and name; component NULL = all. */
int heartbeat_list(struct store *s, const char *component, struct heartbeat_list *out,
		   serr *e) SCOUT_MUST;

/* Forget (component, name) on a clean shutdown; a missing row is fine. */
int heartbeat_remove(struct store *s, const char *component, const char *name,
		     serr *e) SCOUT_MUST;

#endif
