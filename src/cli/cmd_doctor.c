/*
 * `scout doctor [--forget-stale]`: checks what scout needs and prints one
 * line per finding, "ok", "warn", "fail" or "skip", then exits 1 when
 * anything failed. It never starts anything (not even the private cluster)
 * and never prints a secret: every line goes through the log redaction.
 * --forget-stale removes the heartbeat rows it reports as stale, for
 * processes known to be gone for good.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "airtable/airtable.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "pipeline/llm_ctx.h"
#include "core/log.h"
#include "core/util.h"
#include "store/cluster.h"
#include "store/heartbeats.h"
#include "store/migrate.h"
#include "store/store.h"

#define STUCK_GRACE_S 60 /* the reaper gets this long to re-queue an expired run */
#define LIST_MAX 10	 /* findings of one kind printed one by one */
#define LIST_MAX_S "10"

enum verdict { V_OK, V_WARN, V_FAIL, V_SKIP };

struct doctor {
	int fails, warns;
	int forget_stale;
};

static void report(struct doctor *d, enum verdict v, const char *check, const char *fmt, ...)
	SCOUT_PRINTF(4, 5);

static void report(struct doctor *d, enum verdict v, const char *check, const char *fmt, ...)
{
	static const char *const names[] = { "ok", "warn", "fail", "skip" };
	char detail[SERR_MAX + 256], line[SERR_MAX + 512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%-4s  %-11s %s", names[v], check, detail);
	log_redact(line);
	puts(line);
	if (v == V_FAIL)
		d->fails++;
	else if (v == V_WARN)
		d->warns++;
}

static void format_age(int64_t ms, char *out, size_t n)
{
	int64_t s = ms / 1000;

	if (s < 120)
		snprintf(out, n, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(out, n, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 172800)
		snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
	else
		snprintf(out, n, "%lldd%02lldh", (long long)(s / 86400), (long long)(s / 3600 % 24));
}

/* The URL to check, from DATABASE_URL or the private cluster (never started here). */
static int check_cluster(struct doctor *d, const struct config *cfg, struct buf *url)
{
	int running = 0;
	serr e;

	if (cfg->database_url && *cfg->database_url) {
		report(d, V_SKIP, "cluster", "DATABASE_URL is set: scout uses that server, not a "
					     "private cluster");
		return buf_puts(url, cfg->database_url);
	}
	if (cluster_status(cfg->home, &running, url, &e) < 0) {
		report(d, V_FAIL, "cluster", "cannot check the private cluster under '%s': %s",
		       cfg->home, e.msg);
		return -1;
	}
	if (!running) {
		report(d, V_FAIL, "cluster", "the private cluster under '%s' is not running: "
					     "start it with `scout db start` or `scout daemon`",
		       cfg->home);
		return -1;
	}
	report(d, V_OK, "cluster", "private cluster under '%s' is running", cfg->home);
	return 0;
}

static void check_migrations(struct doctor *d, struct store *st)
{
	struct migration *m = NULL;
	PGresult *r = NULL;
	size_t n = 0, pending = 0;
	int exists = 0, bad = 0;
	serr e;

	if (migrations_list(&m, &n, &e) < 0 ||
	    store_table_exists(st, "schema_migrations", &exists, &e) < 0) {
		report(d, V_FAIL, "migrations", "%s", e.msg);
		goto out;
	}
	if (!exists) {
		report(d, V_WARN, "migrations", "none applied: run `scout migrate`");
		goto out;
	}
	if (store_exec(st, "read schema_migrations",
		       "SELECT version::text, name, checksum FROM schema_migrations ORDER BY version",
		       0, NULL, &r, &e) < 0) {
		report(d, V_FAIL, "migrations", "%s", e.msg);
		goto out;
	}
	for (int row = 0; row < PQntuples(r); row++) {
		const char *name = PQgetvalue(r, row, 1), *sum = PQgetvalue(r, row, 2);
		const struct migration *f = NULL;
		int v = 0;

		if (parse_int(PQgetvalue(r, row, 0), 0, 999999, &v) == 0)
			for (size_t i = 0; i < n; i++)
				if (m[i].version == v)
					f = &m[i];
		if (!f) {
			report(d, V_FAIL, "migrations", "the database has migration %04d '%s' that "
							"this scout does not know: run a newer scout",
			       v, name);
			bad = 1;
		} else if (strcmp(f->checksum, sum) != 0) {
			report(d, V_FAIL, "migrations", "migration %04d '%s' changed after it was "
							"applied: restore the file as it was",
			       v, name);
			bad = 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		int found = 0;
		char vs[16];

		snprintf(vs, sizeof(vs), "%d", m[i].version);
		for (int row = 0; row < PQntuples(r) && !found; row++)
			found = strcmp(PQgetvalue(r, row, 0), vs) == 0;
		pending += !found;
	}
	if (bad)
		goto out;
	if (pending)
		report(d, V_WARN, "migrations", "%zu of %zu pending: run `scout migrate` (every "
						"scout command that opens the database applies them)",
		       pending, n);
	else
		report(d, V_OK, "migrations", "all %zu applied", n);
out:
	PQclear(r);
	free(m);
}

static void check_heartbeats(struct doctor *d, struct store *st)
{
	struct heartbeat_list l;
	size_t live = 0, stale = 0, by[4] = { 0 };
	static const char *const comps[] = { "daemon", "worker", "sensors", "web" };
	int exists = 0;
	serr e;

	heartbeat_list_init(&l);
	if (store_table_exists(st, "heartbeats", &exists, &e) < 0 ||
	    (exists && heartbeat_list(st, NULL, &l, &e) < 0)) {
		report(d, V_FAIL, "processes", "%s", e.msg);
		goto out;
	}
	if (!exists) {
		report(d, V_SKIP, "processes", "no heartbeats table yet: run `scout migrate`");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct heartbeat *h = &l.items[i];
		char age[32], ival[32];

		if (!h->stale) {
			live++;
			for (size_t c = 0; c < 4; c++)
				by[c] += strcmp(h->component, comps[c]) == 0;
			continue;
		}
		if (++stale > LIST_MAX)
			continue;
		format_age(h->age_ms, age, sizeof(age));
		format_age(h->interval_ms, ival, sizeof(ival));
		report(d, V_FAIL, "processes",
		       "%s '%s' (host %s, pid %d) last beat %s ago, at %s (beats every %s): it "
		       "died or hangs%s",
		       h->component, h->name, h->host, h->pid, age, h->beat_at, ival,
		       d->forget_stale ? "; row removed" : "; `scout doctor --forget-stale` "
							   "removes the row once it is gone for good");
		if (d->forget_stale && heartbeat_remove(st, h->component, h->name, &e) < 0)
			report(d, V_FAIL, "processes", "%s", e.msg);
	}
	if (stale > LIST_MAX)
		report(d, V_FAIL, "processes", "%zu more stale heartbeats", stale - LIST_MAX);
	if (live == 0)
		report(d, V_WARN, "processes", "no scout process is running: start `scout daemon` "
					       "(or `scout worker`)");
	else
		report(d, V_OK, "processes", "%zu live: %zu daemon, %zu worker, %zu sensors, %zu web",
		       live, by[0], by[1], by[2], by[3]);
out:
	heartbeat_list_free(&l);
}

static void check_stuck_runs(struct doctor *d, struct store *st)
{
	char grace[16];
	const char *p[1] = { grace };
	PGresult *r = NULL;
	int exists = 0, n;
	int64_t total = 0;
	serr e;

	if (store_column_exists(st, "runs", "lease_expires_at", &exists, &e) < 0) {
		report(d, V_FAIL, "runs", "%s", e.msg);
		return;
	}
	if (!exists) {
		report(d, V_SKIP, "runs", "the run queue is not in this database yet: run `scout "
					  "migrate`");
		return;
	}
	snprintf(grace, sizeof(grace), "%d", STUCK_GRACE_S);
	if (store_exec(st, "find runs stuck with an expired lease",
		       "SELECT id::text, job, coalesce(partition_key, ''), coalesce(worker, ''),"
		       " (extract(epoch FROM (now() - lease_expires_at)) * 1000)::bigint,"
		       " count(*) OVER () FROM runs"
		       " WHERE status = 'STARTED'"
		       " AND lease_expires_at < now() - make_interval(secs => $1::int)"
		       " ORDER BY lease_expires_at LIMIT " LIST_MAX_S,
		       1, p, &r, &e) < 0) {
		report(d, V_FAIL, "runs", "%s", e.msg);
		return;
	}
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		int64_t ms = 0;
		char age[32];

		if (parse_i64(PQgetvalue(r, i, 4), INT64_MIN, INT64_MAX, &ms) < 0)
			ms = 0;
		format_age(ms, age, sizeof(age));
		report(d, V_FAIL, "runs",
		       "run %s of '%s'%s%s is STARTED but its lease expired %s ago (worker '%s'): "
		       "no worker reaps it; start `scout worker` or `scout daemon`",
		       PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), *PQgetvalue(r, i, 2) ? " partition " : "",
		       PQgetvalue(r, i, 2), age, PQgetvalue(r, i, 3));
	}
	if (n > 0 && parse_i64(PQgetvalue(r, 0, 5), 0, INT64_MAX, &total) == 0 && total > n)
		report(d, V_FAIL, "runs", "%lld runs stuck in all", (long long)total);
	if (n == 0)
		report(d, V_OK, "runs", "no run is stuck with an expired lease");
	PQclear(r);
}

/* After a 402 LLM work waits in the queue: say so, with the reason. */
static void check_llm_pause(struct doctor *d, struct store *st)
{
	struct llm_pause pz;
	int exists = 0;
	serr e;

	if (store_table_exists(st, "pauses", &exists, &e) < 0) {
		report(d, V_FAIL, "llm", "%s", e.msg);
		return;
	}
	if (!exists) {
		report(d, V_SKIP, "llm", "no pauses table yet: run `scout migrate`");
		return;
	}
	if (llm_pause_get(st, LLM_PAUSE_TAG, &pz, &e) < 0) {
		report(d, V_FAIL, "llm", "%s", e.msg);
		return;
	}
	if (pz.paused)
		report(d, V_FAIL, "llm", "llm work is paused since %s: %s (add credits; the next "
					 "llm run probes the api and clears the pause)",
		       pz.since, pz.reason);
	else
		report(d, V_OK, "llm", "llm work is not paused");
}

static void check_sensors(struct doctor *d, struct store *st)
{
	PGresult *r = NULL;
	int exists = 0, late = 0, n;
	serr e;

	if (store_table_exists(st, "sensor_state", &exists, &e) < 0) {
		report(d, V_FAIL, "sensors", "%s", e.msg);
		return;
	}
	if (!exists) {
		report(d, V_SKIP, "sensors", "no sensors table yet: run `scout migrate`");
		return;
	}
	/* The interval is what the last tick scheduled: next_tick_at - last_tick_at. */
	if (store_exec(st, "read the sensors' state",
		       "SELECT name, last_tick_at IS NULL,"
		       " (extract(epoch FROM (now() - last_tick_at)) * 1000)::bigint,"
		       " (extract(epoch FROM (next_tick_at - last_tick_at)) * 1000)::bigint"
		       " FROM sensor_state WHERE enabled ORDER BY name",
		       0, NULL, &r, &e) < 0) {
		report(d, V_FAIL, "sensors", "%s", e.msg);
		return;
	}
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		const char *name = PQgetvalue(r, i, 0);
		int64_t age = 0, ival = 0;
		char a[32], iv[32];

		if (strcmp(PQgetvalue(r, i, 1), "t") == 0) {
			report(d, V_WARN, "sensors", "'%s' is enabled but never ticked: is `scout "
						     "daemon` running?",
			       name);
			continue;
		}
		if (parse_i64(PQgetvalue(r, i, 2), INT64_MIN, INT64_MAX, &age) < 0 ||
		    parse_i64(PQgetvalue(r, i, 3), INT64_MIN, INT64_MAX, &ival) < 0 || ival <= 0)
			continue;
		if (age <= 2 * ival)
			continue;
		late++;
		format_age(age, a, sizeof(a));
		format_age(ival, iv, sizeof(iv));
		report(d, V_FAIL, "sensors", "'%s' is enabled but last ticked %s ago (interval %s): "
					     "no sensor loop runs it; start `scout daemon`",
		       name, a, iv);
	}
	if (!late)
		report(d, V_OK, "sensors", "%d enabled, none late", n);
	PQclear(r);
}

static int find_on_path(const char *tool, char *out, size_t n)
{
	const char *path = getenv("PATH"), *p;
	struct stat sb;

	if (strchr(tool, '/')) {
		snprintf(out, n, "%s", tool);
		return access(out, X_OK);
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p;) {
		size_t len = strcspn(p, ":");

		if (len && (size_t)snprintf(out, n, "%.*s/%s", (int)len, p, tool) < n &&
		    stat(out, &sb) == 0 && S_ISREG(sb.st_mode) && access(out, X_OK) == 0)
			return 0;
		p += len;
		if (*p == ':')
			p++;
	}
	return -1;
}

static void check_pdftotext(struct doctor *d, const struct config *cfg)
{
	const char *tool = cfg->pdf_tool && *cfg->pdf_tool ? cfg->pdf_tool : "pdftotext";
	char path[4096];

	if (find_on_path(tool, path, sizeof(path)) == 0)
		report(d, V_OK, "pdftotext", "%s", path);
	else
		report(d, V_FAIL, "pdftotext", "'%s' not found or not executable: install "
					       "poppler-utils or set pdf.pdftotext",
		       tool);
}

static void check_airtable(struct doctor *d, const struct config *cfg)
{
	struct airtable at;
	serr e;

	if (!cfg->airtable_api_key || !*cfg->airtable_api_key || !cfg->airtable_base_id ||
	    !*cfg->airtable_base_id) {
		report(d, V_SKIP, "airtable", "skipped: AIRTABLE_API_KEY and AIRTABLE_BASE_ID are "
					      "not both set");
		return;
	}
	if (airtable_init(&at, cfg, &e) < 0) {
		report(d, V_FAIL, "airtable", "%s", e.msg);
		return;
	}
	at.max_retries = 1;
	if (airtable_check_mapping(&at, &e) < 0)
		report(d, V_FAIL, "airtable", "%s", e.msg);
	else
		report(d, V_OK, "airtable", "base %s reachable at %s; the three tables and every "
					    "mapped field exist",
		       cfg->airtable_base_id, cfg->airtable_api_url);
	airtable_free(&at);
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor d = { 0, 0, 0 };
	struct config cfg;
	struct store st;
	struct buf url;
	serr e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--forget-stale") == 0) {
			d.forget_stale = 1;
		} else {
			fprintf(stderr, "usage: scout doctor [--forget-stale]\n");
			return 2;
		}
	}
	if (cli_config(&cfg) < 0)
		return 1;
	buf_init(&url, 0);
	store_init(&st);
	if (check_cluster(&d, &cfg, &url) == 0) {
		if (store_open_url(&st, buf_cstr(&url), &e) < 0) {
			report(&d, V_FAIL, "database", "%s", e.msg);
		} else {
			const char *ver = PQparameterStatus(st.conn, "server_version");

			report(&d, V_OK, "database", "reachable (PostgreSQL %s)", ver ? ver : "?");
			check_migrations(&d, &st);
			check_heartbeats(&d, &st);
			check_stuck_runs(&d, &st);
			check_llm_pause(&d, &st);
			check_sensors(&d, &st);
		}
	} else {
		report(&d, V_FAIL, "database", "not checked: no server to connect to");
	}
	check_pdftotext(&d, &cfg);
	check_airtable(&d, &cfg);
	printf("%d failed, %d warnings\n", d.fails, d.warns);
	store_close(&st);
	buf_free(&url);
	config_free(&cfg);
	return d.fails ? 1 : 0;
}
