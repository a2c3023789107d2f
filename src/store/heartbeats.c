/* Heartbeats of long-running processes (see heartbeats.h). */
#include "store/heartbeats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define HB_NAME_MAX 200
#define HB_INFO_MAX (64 * 1024)

static const char *const components[] = { "daemon", "worker", "sensors", "web" };

static int check_names(const char *component, const char *name, serr *e)
{
	int known = 0;

	for (size_t i = 0; component && i < sizeof(components) / sizeof(components[0]); i++)
		if (strcmp(component, components[i]) == 0)
			known = 1;
	if (!known)
		return serr_set(e, "heartbeat component '%s' is unknown: use daemon, worker, sensors "
				   "or web",
				component ? component : "");
	if (!name || !*name)
		return serr_set(e, "heartbeat of '%s' has an empty name", component);
	if (strlen(name) > HB_NAME_MAX)
		return serr_set(e, "heartbeat name '%.40s...' of '%s' is longer than %d characters",
				name, component, HB_NAME_MAX);
	return 0;
}

int heartbeat_beat_every(struct store *s, const char *component, const char *name,
			 int interval_ms, const char *info_json, serr *e)
{
	char host[256], pid[24], ival[24], what[HB_NAME_MAX + 64];
	const char *p[6];

	if (check_names(component, name, e) < 0)
		return -1;
	if (interval_ms <= 0)
		return serr_set(e, "heartbeat interval of '%s' '%s' must be positive, not %d",
				component, name, interval_ms);
	if (info_json && strlen(info_json) > HB_INFO_MAX)
		return serr_set(e, "heartbeat info of '%s' '%s' is larger than %d bytes", component,
				name, HB_INFO_MAX);
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(ival, sizeof(ival), "%d", interval_ms);
	snprintf(what, sizeof(what), "record the heartbeat of %s '%s'", component, name);
	p[0] = component;
	p[1] = name;
	p[2] = host;
	p[3] = pid;
	p[4] = ival;
	p[5] = info_json ? info_json : "{}";
	/* A restarted process under the same name (new host or pid) starts over. */
	return store_exec(s, what,
			  "INSERT INTO heartbeats (component, name, host, pid, interval_ms, info)"
			  " VALUES ($1, $2, $3, $4::int, $5::int, $6::jsonb)"
			  " ON CONFLICT (component, name) DO UPDATE SET"
			  "  started_at = CASE WHEN heartbeats.host = excluded.host"
			  "   AND heartbeats.pid = excluded.pid THEN heartbeats.started_at"
			  "   ELSE now() END,"
			  "  host = excluded.host, pid = excluded.pid, beat_at = now(),"
			  "  interval_ms = excluded.interval_ms, info = excluded.info",
			  6, p, NULL, e);
}

int heartbeat_beat(struct store *s, const char *component, const char *name,
		   const char *info_json, serr *e)
{
	return heartbeat_beat_every(s, component, name, HEARTBEAT_INTERVAL_MS, info_json, e);
}

void heartbeat_list_init(struct heartbeat_list *l)
{
	l->items = NULL;
	l->n = 0;
	l->owner = NULL;
}

void heartbeat_list_free(struct heartbeat_list *l)
{
	free(l->items);
	PQclear(l->owner);
	heartbeat_list_init(l);
}

static int fill(PGresult *r, struct heartbeat_list *out, serr *e)
{
	size_t n = (size_t)PQntuples(r), bytes;

	if (n == 0)
		return 0;
	if (size_mul(n, sizeof(*out->items), &bytes) < 0 || !(out->items = calloc(1, bytes)))
		return serr_set(e, "cannot list heartbeats: out of memory for %zu rows", n);
	for (size_t i = 0; i < n; i++) {
		struct heartbeat *h = &out->items[i];
		int row = (int)i;

		h->component = PQgetvalue(r, row, 0);
		h->name = PQgetvalue(r, row, 1);
		h->host = PQgetvalue(r, row, 2);
		h->started_at = PQgetvalue(r, row, 4);
		h->beat_at = PQgetvalue(r, row, 5);
		h->info_json = PQgetvalue(r, row, 8);
		if (parse_int(PQgetvalue(r, row, 3), -2147483647, 2147483647, &h->pid) < 0 ||
		    parse_i64(PQgetvalue(r, row, 6), INT64_MIN, INT64_MAX, &h->age_ms) < 0 ||
		    parse_int(PQgetvalue(r, row, 7), 1, 2147483647, &h->interval_ms) < 0)
			return serr_set(e, "cannot list heartbeats: bad pid, age or interval in the "
					   "row of %s '%s'",
					h->component, h->name);
		h->stale = h->age_ms > (int64_t)HEARTBEAT_STALE_FACTOR * h->interval_ms;
	}
	out->n = n;
	return 0;
}

int heartbeat_list(struct store *s, const char *component, struct heartbeat_list *out, serr *e)
{
	const char *p[1] = { component };
	PGresult *r = NULL;

	heartbeat_list_free(out);
	if (store_exec(s, "list heartbeats",
		       "SELECT component, name, host, pid, " TS("started_at") ", " TS("beat_at") ","
		       " (extract(epoch FROM (now() - beat_at)) * 1000)::bigint, interval_ms,"
		       " info::text FROM heartbeats"
		       " WHERE $1::text IS NULL OR component = $1 ORDER BY component, name",
		       1, p, &r, e) < 0)
		return -1;
	if (fill(r, out, e) < 0) {
		PQclear(r);
		heartbeat_list_free(out);
		return -1;
	}
	out->owner = r;
	return 0;
}

int heartbeat_remove(struct store *s, const char *component, const char *name, serr *e)
{
	char what[HB_NAME_MAX + 64];
	const char *p[2] = { component, name };

	if (check_names(component, name, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "remove the heartbeat of %s '%s'", component, name);
	return store_exec(s, what, "DELETE FROM heartbeats WHERE component = $1 AND name = $2", 2, p,
			  NULL, e);
}
