/*
 * The daemon's parent process (see daemon.h): the table of child kinds,
 * the supervision loop, stop/drain/reload handling and the daemon's own
 * heartbeat. The children's loops live in worker.c and sensor.c.
 */
#include "orchestrator/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/sensor.h"
#include "orchestrator/supervisor.h"
#include "orchestrator/worker.h"
#include "store/heartbeats.h"
#include "store/migrate.h"
#include "store/store.h"

#define LOOP_MS 100
#define NAME_LEN 128

/* The sensor loop finishes the ticks in flight on stop; it has no stop-now. */
static int sensors_child(const struct config *cfg, const char *name,
			 volatile sig_atomic_t *stop, volatile sig_atomic_t *stop_now, serr *e)
{
	struct sensor_loop_opts o = { .name = name, .stop = stop, .max_ticks = 0 };

	(void)stop_now;
	return sensor_loop_main(cfg, &o, e);
}

/* The worker drains on stop, and releases its runs on stop_now. */
static int worker_child(const struct config *cfg, const char *name, volatile sig_atomic_t *stop,
			volatile sig_atomic_t *stop_now, serr *e)
{
	struct worker_opts o;

	worker_opts_init(&o);
	o.name = name;
	o.stop = stop;
	o.stop_now = stop_now;
	return worker_main(cfg, &o, e);
}

/* What the daemon runs: one line per kind of child. */
static const struct child_kind kind_sensors = { "sensors", sensors_child, 0 };
static const struct child_kind kind_worker = { "worker", worker_child, 1 };

struct daemon {
	const struct daemon_opts *o;
	const struct config *cfg; /* current: the caller's, or a reloaded one */
	struct config *loaded;	  /* owned reloaded configuration, or NULL */
	struct store st;
	int store_open;
	struct supervisor sv;
	char name[NAME_LEN];
	char host[256];
	int next_worker; /* number of the next worker slot */
	int draining, hard;
	int64_t kill_at_ms, next_beat_ms;
	int killed;
};

void daemon_opts_init(struct daemon_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->workers = -1;
}

static int flag(volatile sig_atomic_t *f)
{
	return f && *f;
}

/* A child's heartbeat row goes when the child is not coming back. */
static void on_child_exit(const struct child_slot *slot, pid_t pid, int status, void *ud)
{
	struct daemon *d = ud;
	serr e;

	(void)pid;
	(void)status;
	if (!slot->retire && !d->sv.stopping)
		return;
	if (store_ensure(&d->st, &e) < 0 ||
	    heartbeat_remove(&d->st, slot->kind->component, slot->name, &e) < 0)
		log_warn("cannot remove a child's heartbeat", "name=%s error=\"%s\"", slot->name,
			 e.msg);
}

static int add_worker(struct daemon *d, serr *e)
{
	char name[NAME_LEN + 32];

	snprintf(name, sizeof(name), "%s/worker-%d", d->name, ++d->next_worker);
	return supervisor_add(&d->sv, &kind_worker, name, e);
}

static int add_sensors(struct daemon *d, serr *e)
{
	char name[NAME_LEN + 32];

	snprintf(name, sizeof(name), "%s/sensors", d->name);
	return supervisor_add(&d->sv, &kind_sensors, name, e);
}

static int worker_count(const struct daemon *d, const struct config *cfg, serr *e)
{
	int n = d->o->workers >= 0 ? d->o->workers : cfg->daemon_workers;

	if (n < 0 || n > DAEMON_WORKERS_MAX)
		return serr_set(e, "daemon.workers is %d: use 0 to %d", n, DAEMON_WORKERS_MAX);
	return n;
}

/* Grow or shrink the worker slots to n. */
static int resize_workers(struct daemon *d, int n, serr *e)
{
	size_t have = supervisor_active(&d->sv, "worker");

	while (have < (size_t)n) {
		if (add_worker(d, e) < 0)
			return -1;
		have++;
	}
	for (size_t i = d->sv.n; i-- > 0 && have > (size_t)n;) {
		struct child_slot *s = &d->sv.slots[i];

		if (s->kind == &kind_worker && !s->retire && !s->done) {
			supervisor_retire(&d->sv, i);
			have--;
		}
	}
	return 0;
}

/* SIGHUP: a bad file keeps the old configuration running. */
static void reload(struct daemon *d)
{
	struct config *next = calloc(1, sizeof(*next));
	enum log_level lvl;
	serr e;
	int n;

	if (!next) {
		log_error("cannot reload the configuration: out of memory", NULL);
		return;
	}
	if (config_load(next, &e) < 0 || (n = worker_count(d, next, &e)) < 0) {
		log_error("cannot reload the configuration; keeping the current one",
			  "error=\"%s\"", e.msg);
		config_free(next);
		free(next);
		return;
	}
	if (log_level_parse(next->log_level, &lvl) == 0)
		log_set_level(lvl);
	supervisor_set_config(&d->sv, next);
	d->sv.backoff_ms = next->daemon_restart_backoff_ms > 0 ? next->daemon_restart_backoff_ms
							       : d->sv.backoff_ms;
	if (d->loaded) {
		config_free(d->loaded);
		free(d->loaded);
	}
	d->loaded = next;
	d->cfg = next;
	supervisor_restart_all(&d->sv);
	if (resize_workers(d, n, &e) < 0)
		log_error("cannot resize the workers after a reload", "error=\"%s\"", e.msg);
	log_info("configuration reloaded; restarting children", "workers=%d file=%s", n,
		 next->config_path ? next->config_path : "(none)");
}

static char *beat_info(const struct daemon *d)
{
	json_t *o = json_object(), *kids = json_array();
	char *s = NULL;

	if (!o || !kids)
		goto out;
	for (size_t i = 0; i < d->sv.n; i++) {
		const struct child_slot *c = &d->sv.slots[i];
		json_t *k;

		if (c->done)
			continue;
		k = json_pack("{s:s,s:s,s:I,s:i}", "component", c->kind->component, "name", c->name,
			      "pid", (json_int_t)c->pid, "restarts", c->restarts);
		if (!k || json_array_append_new(kids, k) < 0)
			goto out;
	}
	if (json_object_set_new(o, "workers",
				json_integer((json_int_t)supervisor_active(&d->sv, "worker"))) < 0 ||
	    json_object_set_new(o, "draining", json_boolean(d->draining)) < 0 ||
	    json_object_set(o, "children", kids) < 0)
		goto out;
	s = json_dumps(o, JSON_COMPACT);
out:
	json_decref(kids);
	json_decref(o);
	return s;
}

static void beat(struct daemon *d)
{
	char *info;
	serr e;

	if (mono_ms() < d->next_beat_ms)
		return;
	d->next_beat_ms = mono_ms() + HEARTBEAT_INTERVAL_MS;
	info = beat_info(d);
	if (store_ensure(&d->st, &e) < 0 ||
	    heartbeat_beat(&d->st, "daemon", d->name, info, &e) < 0)
		log_warn("cannot record the daemon's heartbeat", "error=\"%s\"", e.msg);
	free(info);
}

/*
 * Rows of this host whose process is gone and whose beat is stale: left by
 * a daemon that was killed. A live process elsewhere is never touched.
 */
static void prune_dead(struct daemon *d)
{
	struct heartbeat_list l;
	serr e;

	heartbeat_list_init(&l);
	if (heartbeat_list(&d->st, NULL, &l, &e) < 0) {
		log_warn("cannot list heartbeats", "error=\"%s\"", e.msg);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct heartbeat *h = &l.items[i];

		if (!h->stale || strcmp(h->host, d->host) != 0 || h->pid <= 0 ||
		    kill((pid_t)h->pid, 0) == 0 || errno != ESRCH)
			continue;
		if (heartbeat_remove(&d->st, h->component, h->name, &e) < 0)
			log_warn("cannot remove a dead process's heartbeat", "error=\"%s\"", e.msg);
		else
			log_info("removed the heartbeat of a dead process",
				 "component=%s name=%s pid=%d beat_at=%s", h->component, h->name,
				 h->pid, h->beat_at);
	}
	heartbeat_list_free(&l);
}

static int daemon_start(struct daemon *d, serr *e)
{
	int applied = 0, n;

	if (gethostname(d->host, sizeof(d->host)) < 0)
		snprintf(d->host, sizeof(d->host), "unknown");
	d->host[sizeof(d->host) - 1] = '\0';
	if (d->o->name && *d->o->name)
		snprintf(d->name, sizeof(d->name), "%s", d->o->name);
	else
		snprintf(d->name, sizeof(d->name), "%.100s:%ld", d->host, (long)getpid());
	if ((n = worker_count(d, d->cfg, e)) < 0)
		return -1;
	store_init(&d->st);
	if (store_open(&d->st, d->cfg, e) < 0)
		return serr_wrap(e, "daemon");
	d->store_open = 1;
	if (store_migrate(&d->st, &applied, e) < 0)
		return serr_wrap(e, "daemon");
	prune_dead(d);
	supervisor_init(&d->sv, d->cfg, d->cfg->daemon_restart_backoff_ms);
	d->sv.on_exit = on_child_exit;
	d->sv.on_exit_ud = d;
	if (add_sensors(d, e) < 0 || resize_workers(d, n, e) < 0)
		return -1;
	log_info("daemon started", "name=%s workers=%d", d->name, n);
	return 0;
}

static void check_stop(struct daemon *d)
{
	const struct daemon_opts *o = d->o;

	if (!d->draining && (flag(o->stop) || flag(o->stop_now) || (o->idle && o->idle(o->idle_ud)))) {
		d->draining = 1;
		supervisor_stop(&d->sv);
		supervisor_signal(&d->sv, SIGTERM);
		log_info("daemon draining: children finish their current work",
			 "children=%zu", supervisor_running(&d->sv));
	}
	if (!d->hard && flag(o->stop_now)) {
		d->hard = 1;
		supervisor_signal(&d->sv, SIGTERM);
		d->kill_at_ms = mono_ms() + (d->cfg->daemon_kill_after_ms > 0
						     ? d->cfg->daemon_kill_after_ms
						     : 10000);
		log_info("daemon stopping now: children release their runs and exit",
			 "children=%zu", supervisor_running(&d->sv));
	}
	if (d->hard && !d->killed && mono_ms() >= d->kill_at_ms && supervisor_running(&d->sv)) {
		d->killed = 1;
		log_warn("children did not stop in time; killing them", "children=%zu",
			 supervisor_running(&d->sv));
		supervisor_signal(&d->sv, SIGKILL);
	}
}

static void pause_loop(void)
{
	struct timespec ts = { 0, LOOP_MS * 1000000L };

	/* a signal cuts the pause short, so stops are handled at once */
	nanosleep(&ts, NULL);
}

int daemon_main(const struct config *cfg, const struct daemon_opts *o, serr *e)
{
	struct daemon *d = calloc(1, sizeof(*d));
	serr te;
	int rc = -1;

	if (!d)
		return serr_set(e, "cannot start the daemon: out of memory");
	d->o = o;
	d->cfg = cfg;
	if (daemon_start(d, e) < 0)
		goto out;
	for (;;) {
		check_stop(d);
		if (!d->draining && flag(o->reload)) {
			*o->reload = 0;
			reload(d);
		}
		if (d->store_open)
			d->sv.close_fd = PQsocket(d->st.conn);
		if (supervisor_tick(&d->sv, &te) < 0)
			log_error("cannot start a child", "error=\"%s\"", te.msg);
		if (d->draining && supervisor_running(&d->sv) == 0)
			break;
		beat(d);
		pause_loop();
	}
	if (store_ensure(&d->st, &te) < 0 || heartbeat_remove(&d->st, "daemon", d->name, &te) < 0)
		log_warn("cannot remove the daemon's heartbeat", "error=\"%s\"", te.msg);
	log_info("daemon stopped", "name=%s", d->name);
	rc = 0;
out:
	supervisor_free(&d->sv);
	if (d->store_open)
		store_close(&d->st);
	if (d->loaded) {
		config_free(d->loaded);
		free(d->loaded);
	}
	free(d);
	return rc;
}
