/*
 * `scout sensor list | start NAME | stop NAME | tick NAME [--wait] |
 * preview NAME | ticks NAME [--limit N] | reset NAME`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/util.h"
#include "orchestrator/sensor.h"
#include "store/runs.h"
#include "store/sensors.h"

#define WAIT_POLL_MS 1000

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static int usage(void)
{
	fputs("usage: scout sensor list\n"
	      "       scout sensor start|stop|reset NAME\n"
	      "       scout sensor tick NAME [--wait] [--json]\n"
	      "       scout sensor preview NAME [--json]\n"
	      "       scout sensor ticks NAME [--limit N]\n",
	      stderr);
	return 2;
}

static int sensor_list(struct store *st, const struct config *cfg)
{
	struct sensor_state_list sl;
	size_t n = sensor_defs_count();
	serr e;
	int rc = 1;

	sensor_state_list_init(&sl);
	for (size_t i = 0; i < n; i++) {
		const struct sensor_def *d = sensor_def_at(i);
		if (d && sensors_ensure(st, d->name, d->default_enabled, &e) < 0)
			goto out;
	}
	if (sensors_state_list(st, NULL, &sl, &e) < 0)
		goto out;
	printf("%-28s  %-7s  %8s  %-24s  %-8s  %-24s  %s\n", "SENSOR", "ENABLED", "INTERVAL",
	       "CURSOR", "LAST", "LAST TICK", "JOB");
	for (size_t i = 0; i < n; i++) {
		const struct sensor_def *d = sensor_def_at(i);
		const struct sensor_state *s = NULL;
		char ival[32];

		for (size_t k = 0; d && k < sl.n; k++)
			if (strcmp(sl.items[k].name, d->name) == 0)
				s = &sl.items[k];
		if (!d || !s)
			continue;
		snprintf(ival, sizeof(ival), "%ds", sensor_def_interval(d, cfg));
		printf("%-28s  %-7s  %8s  %-24s  %-8s  %-24s  %s\n", d->name,
		       s->enabled ? "on" : "off", ival, or_dash(s->cursor), or_dash(s->last_status),
		       or_dash(s->last_ended_at), or_dash(d->job));
		if (s->last_status && strcmp(s->last_status, "FAILURE") == 0 && s->last_error)
			printf("    last error: %s\n", s->last_error);
	}
	rc = 0;
out:
	if (rc)
		cli_fail(&e);
	sensor_state_list_free(&sl);
	return rc;
}

static int set_enabled(struct store *st, const char *name, int on)
{
	serr e;

	if (sensor_defs_register_from_env(&e) < 0)
		return cli_fail(&e);
	if (!sensor_def_find(name)) {
		fprintf(stderr, "scout: sensor '%s' is not defined (see `scout sensor list`)\n", name);
		return 1;
	}
	if (sensors_set_enabled(st, name, on, &e) < 0)
		return cli_fail(&e);
	printf("%s %s\n", name, on ? "started" : "stopped");
	return 0;
}

static int reset_cursor(struct store *st, const char *name)
{
	const struct sensor_def *d;
	serr e;

	if (sensor_defs_register_from_env(&e) < 0)
		return cli_fail(&e);
	if (!(d = sensor_def_find(name))) {
		fprintf(stderr, "scout: sensor '%s' is not defined (see `scout sensor list`)\n", name);
		return 1;
	}
	if (sensors_ensure(st, d->name, d->default_enabled, &e) < 0 ||
	    sensors_reset_cursor(st, name, &e) < 0)
		return cli_fail(&e);
	printf("%s: cursor cleared; the next tick lists every record\n", name);
	return 0;
}

static void print_json(const struct sensor_tick_outcome *o)
{
	json_t *j = json_pack("{s:s,s:I,s:O?,s:O?,s:O?,s:s?,s:s?,s:s?,s:s?}", "status", o->status,
			      "tick_id", (json_int_t)o->tick_id, "requests", o->requests, "run_ids",
			      o->run_ids, "metadata", o->metadata, "cursor_before", o->cursor_before,
			      "cursor_after", o->cursor_after, "reason", o->reason, "error",
			      o->error);
	char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(j);
}

static void print_requests(const json_t *reqs)
{
	size_t i;
	json_t *r;

	json_array_foreach(reqs, i, r)
		printf("  %-28s  %-20s  %s\n",
		       or_dash(json_string_value(json_object_get(r, "job"))),
		       or_dash(json_string_value(json_object_get(r, "partition_key"))),
		       or_dash(json_string_value(json_object_get(r, "run_key"))));
}

/* Follow the tick's runs until each ended; 0 when all succeeded. */
static int wait_runs(struct store *st, const json_t *ids)
{
	struct run_list l;
	size_t i;
	json_t *id;
	int failed = 0;
	serr e;

	run_list_init(&l);
	json_array_foreach(ids, i, id) {
		for (;;) {
			const char *status;
			if (runs_get(st, json_string_value(id), &l, &e) < 0) {
				run_list_free(&l);
				return cli_fail(&e);
			}
			status = l.n ? l.items[0].status : "CANCELED";
			if (strcmp(status, "SUCCESS") == 0 || strcmp(status, "FAILURE") == 0 ||
			    strcmp(status, "CANCELED") == 0) {
				printf("run %s %s\n", json_string_value(id), status);
				failed += strcmp(status, "SUCCESS") != 0;
				break;
			}
			sleep_ms(WAIT_POLL_MS);
		}
	}
	run_list_free(&l);
	return failed ? 1 : 0;
}

static int tick(struct store *st, const struct config *cfg, const char *name, int commit,
		int wait, int json)
{
	struct sensor_tick_outcome o;
	char holder[200], host[128] = "";
	serr e;
	int rc = 1;

	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	snprintf(holder, sizeof(holder), "cli@%s:%d", host, (int)getpid());
	sensor_tick_outcome_init(&o);
	if (sensor_tick_now(cfg, st, name, commit, holder, &o, &e) < 0) {
		cli_fail(&e);
		goto out;
	}
	if (json) {
		print_json(&o);
	} else if (o.superseded) {
		printf("%s: another tick committed first; nothing recorded\n", name);
	} else if (!commit) {
		printf("%s would request %zu runs; cursor %s -> %s%s%s\n", name,
		       json_array_size(o.requests), or_dash(o.cursor_before), or_dash(o.cursor_after),
		       o.reason ? "; " : "", o.reason ? o.reason : "");
		print_requests(o.requests);
	} else {
		size_t i;
		json_t *id;

		printf("tick %lld %s: %s\n", (long long)o.tick_id, o.status,
		       o.error ? o.error : or_dash(o.reason));
		printf("cursor %s -> %s\n", or_dash(o.cursor_before), or_dash(o.cursor_after));
		json_array_foreach(o.run_ids, i, id)
			printf("run %s\n", json_string_value(id));
	}
	if (strcmp(o.status, "FAILURE") == 0) {
		fprintf(stderr, "scout: sensor '%s' failed: %s\n", name, or_dash(o.error));
		goto out;
	}
	rc = commit && wait ? wait_runs(st, o.run_ids) : 0;
out:
	sensor_tick_outcome_free(&o);
	return rc;
}

static int ticks(struct store *st, const char *name, int limit)
{
	struct sensor_tick_list l;
	serr e;

	sensor_tick_list_init(&l);
	if (sensors_ticks(st, name, limit, &l, &e) < 0)
		return cli_fail(&e);
	printf("%-8s  %-24s  %-8s  %5s  %-24s  %s\n", "TICK", "STARTED", "STATUS", "RUNS",
	       "CURSOR AFTER", "REASON");
	for (size_t i = 0; i < l.n; i++) {
		const struct sensor_tick *t = &l.items[i];
		printf("%-8lld  %-24s  %-8s  %5d  %-24s  %s\n", (long long)t->id, t->started_at,
		       t->status, t->run_count, or_dash(t->cursor_after),
		       t->error ? t->error : or_dash(t->reason));
	}
	sensor_tick_list_free(&l);
	return 0;
}

int cmd_sensor(int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : NULL, *name = NULL;
	int wait = 0, json = 0, limit = 20, rc;
	struct config cfg;
	struct store st;
	serr e;

	if (!verb)
		return usage();
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--wait") == 0 && strcmp(verb, "tick") == 0)
			wait = 1;
		else if (strcmp(argv[i], "--json") == 0 &&
			 (strcmp(verb, "tick") == 0 || strcmp(verb, "preview") == 0))
			json = 1;
		else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc &&
			 strcmp(verb, "ticks") == 0) {
			if (parse_int(argv[++i], 1, 10000, &limit) < 0)
				return usage();
		} else if (argv[i][0] == '-' || name)
			return usage();
		else
			name = argv[i];
	}
	if (strcmp(verb, "list") != 0 && !name)
		return usage();
	if (strcmp(verb, "list") != 0 && strcmp(verb, "start") != 0 && strcmp(verb, "stop") != 0 &&
	    strcmp(verb, "tick") != 0 && strcmp(verb, "preview") != 0 &&
	    strcmp(verb, "ticks") != 0 && strcmp(verb, "reset") != 0)
		return usage();
	if (sensor_defs_register_from_env(&e) < 0)
		return cli_fail(&e);
	if (cli_config(&cfg) < 0)
		return 1;
	if (cli_store(&cfg, &st) < 0) {
		config_free(&cfg);
		return 1;
	}
	if (strcmp(verb, "list") == 0)
		rc = sensor_list(&st, &cfg);
	else if (strcmp(verb, "start") == 0 || strcmp(verb, "stop") == 0)
		rc = set_enabled(&st, name, strcmp(verb, "start") == 0);
	else if (strcmp(verb, "reset") == 0)
		rc = reset_cursor(&st, name);
	else if (strcmp(verb, "ticks") == 0)
		rc = ticks(&st, name, limit);
	else
		rc = tick(&st, &cfg, name, strcmp(verb, "tick") == 0, wait, json);
	store_close(&st);
	config_free(&cfg);
	return rc;
}
