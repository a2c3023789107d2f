/*
 * The sensor loop and the foreground tick. The loop competes for the leader
 * lease (its keeper thread holds and renews it, sensor_keeper.c); the
 * leader reads every sensor's state on the database clock,
 * starts a child for each enabled sensor that is due, and commits each
 * result as it arrives, so a slow or hung sensor (killed at its deadline)
 * never delays another. Each commit is conditional on the state version
 * the tick started from: even two leaders (a lease lost mid-tick) commit a
 * due tick once.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/backfill.h"
#include "orchestrator/sensor_internal.h"
#include "store/sensors.h"

#define LOOP_MAX_INFLIGHT 64
#define LOOP_WAKE_MS 1000 /* longest sleep: notices new leadership and enabled flags */
#define LOOP_RETRY_MS 2000 /* pause after a database error */

struct loop {
	const struct config *cfg;
	const struct sensor_loop_opts *o;
	struct store st;
	struct sensor_keeper keeper;
	char holder[256];
	const char *name;
	int db_ok;
	long ticks; /* recorded by this loop */
	struct sensor_child kids[LOOP_MAX_INFLIGHT];
	int used[LOOP_MAX_INFLIGHT];
	int64_t next_sched;
	struct backfill_keeper backfills; /* the leader finishes stalled backfills */
};

static int stop_requested(const struct loop *l)
{
	if (l->o->stop && *l->o->stop)
		return 1;
	return l->o->max_ticks > 0 && l->ticks >= l->o->max_ticks;
}

static int inflight(const struct loop *l)
{
	int n = 0;

	for (int i = 0; i < LOOP_MAX_INFLIGHT; i++)
		n += l->used[i];
	return n;
}

static int is_inflight(const struct loop *l, const struct sensor_def *d)
{
	for (int i = 0; i < LOOP_MAX_INFLIGHT; i++)
		if (l->used[i] && l->kids[i].tick.def == d)
			return 1;
	return 0;
}

static int tick_start_from(struct sensor_tick_start *t, const struct sensor_def *d,
			   const struct sensor_state *s, serr *e)
{
	t->def = d;
	snprintf(t->started_at, sizeof(t->started_at), "%s", s->now ? s->now : "");
	t->started_ms = s->now_ms;
	t->version = s->version;
	t->cursor_before = NULL;
	if (s->cursor && !(t->cursor_before = strdup(s->cursor)))
		return serr_set(e, "out of memory");
	return 0;
}

static void db_failed(struct loop *l, const char *what, const serr *e)
{
	log_warn("sensor loop: database error", "what=%s error=%s", what, e->msg);
	l->db_ok = 0;
}

static void spawn(struct loop *l, const struct sensor_def *d, const struct sensor_state *s)
{
	int slot = -1;
	serr e;

	for (int i = 0; i < LOOP_MAX_INFLIGHT && slot < 0; i++)
		if (!l->used[i])
			slot = i;
	if (slot < 0) {
		log_warn("sensor loop: too many ticks in flight", "sensor=%s max=%d", d->name,
			 LOOP_MAX_INFLIGHT);
		return;
	}
	sensor_child_init(&l->kids[slot]);
	if (tick_start_from(&l->kids[slot].tick, d, s, &e) < 0 ||
	    sensor_child_spawn(&l->kids[slot], l->cfg, 0, &e) < 0) {
		struct sensor_tick_outcome out;
		serr ce;

		/* Recorded as a FAILURE, so the sensor waits its interval before trying again. */
		log_error("sensor tick cannot start", "sensor=%s error=%s", d->name, e.msg);
		sensor_tick_outcome_init(&out);
		if (sensor_commit(&l->st, l->cfg, &l->kids[slot].tick, l->holder, NULL, e.msg, &out,
				  &ce) < 0)
			db_failed(l, "record a sensor tick", &ce);
		sensor_tick_outcome_free(&out);
		sensor_child_free(&l->kids[slot]);
		return;
	}
	l->used[slot] = 1;
	log_debug("sensor tick started", "sensor=%s pid=%d", d->name, (int)l->kids[slot].pid);
}

/* Start every enabled sensor that is due and not ticking already. */
static void schedule(struct loop *l, int64_t now)
{
	struct sensor_state_list sl;
	size_t ndefs = sensor_defs_count();
	int64_t wait = LOOP_WAKE_MS;
	serr e;

	if (now < l->next_sched)
		return;
	sensor_state_list_init(&sl);
	if (sensors_state_list(&l->st, NULL, &sl, &e) < 0) {
		db_failed(l, "read the sensors' state", &e);
		l->next_sched = now + LOOP_RETRY_MS;
		return;
	}
	for (size_t i = 0; i < ndefs; i++) {
		const struct sensor_def *d = sensor_def_at(i);
		const struct sensor_state *s = NULL;
		int64_t ival;

		for (size_t k = 0; d && k < sl.n; k++)
			if (strcmp(sl.items[k].name, d->name) == 0)
				s = &sl.items[k];
		if (!d)
			continue;
		if (!s) {
			/* A sensor defined since the rows were made: it gets its row, and a tick next time. */
			if (sensors_ensure(&l->st, d->name, d->default_enabled, &e) < 0)
				db_failed(l, "create a sensor's state", &e);
			wait = 0;
			continue;
		}
		if (!s->enabled || is_inflight(l, d))
			continue;
		ival = (int64_t)sensor_def_interval(d, l->cfg) * 1000;
		if (s->since_tick_ms < 0 || s->since_tick_ms >= ival)
			spawn(l, d, s);
		else if (ival - s->since_tick_ms < wait)
			wait = ival - s->since_tick_ms;
	}
	sensor_state_list_free(&sl);
	l->next_sched = now + wait;
}

/* Commit a finished (or killed) child's tick and free its slot. */
static void complete(struct loop *l, int slot)
{
	struct sensor_child *c = &l->kids[slot];
	struct sensor_tick_outcome out;
	struct sensor_result res;
	serr e, ce;
	int ok;

	sensor_result_init(&res);
	sensor_tick_outcome_init(&out);
	ok = sensor_child_finish(c, &res, &e) == 0;
	if (sensor_commit(&l->st, l->cfg, &c->tick, l->holder, ok ? &res : NULL,
			  ok ? NULL : e.msg, &out, &ce) < 0)
		db_failed(l, "record a sensor tick", &ce);
	else if (!out.superseded)
		l->ticks++;
	sensor_tick_outcome_free(&out);
	sensor_result_free(&res);
	sensor_child_free(c);
	l->used[slot] = 0;
	/* A tick ended: look again soon (its next due time moved). */
	l->next_sched = 0;
}

/* Wait for child output or the next deadline; finish what is done. */
static void pump_children(struct loop *l, int64_t now, int64_t wake_at)
{
	struct pollfd pf[LOOP_MAX_INFLIGHT];
	int n = 0;
	int64_t until = wake_at;
	serr e;

	for (int i = 0; i < LOOP_MAX_INFLIGHT; i++) {
		if (!l->used[i])
			continue;
		if (l->kids[i].deadline < until)
			until = l->kids[i].deadline;
		if (l->kids[i].fd >= 0) {
			pf[n++] = (struct pollfd){ l->kids[i].fd, POLLIN, 0 };
		}
	}
	if (until < now)
		until = now;
	if (poll(n ? pf : NULL, (nfds_t)n, (int)(until - now)) < 0 && errno != EINTR)
		log_warn("sensor loop: poll failed", "error=%s", strerror(errno));
	now = mono_ms();
	for (int i = 0; i < LOOP_MAX_INFLIGHT; i++) {
		struct sensor_child *c = &l->kids[i];
		int r;

		if (!l->used[i])
			continue;
		r = sensor_child_pump(c, &e);
		if (r < 0) {
			log_warn("sensor loop: lost a tick's output", "sensor=%s error=%s",
				 c->tick.def->name, e.msg);
			sensor_child_kill(c);
			r = 1;
		}
		if (r == 0 && now >= c->deadline) {
			log_warn("sensor tick timed out: stopping it", "sensor=%s timeout_s=%d",
				 c->tick.def->name, c->timeout_s);
			c->timed_out = 1;
			sensor_child_kill(c);
			r = 1;
		}
		if (r == 1)
			complete(l, i);
	}
}

static void make_holder(struct loop *l)
{
	char host[128] = "";
	char rnd[9];

	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	rand_hex(rnd, 8);
	snprintf(l->holder, sizeof(l->holder), "%s@%s:%d:%s", l->name, host, (int)getpid(), rnd);
}

static int loop_start(struct loop *l, serr *e)
{
	size_t n;

	if (sensor_defs_register_from_env(e) < 0)
		return -1;
	store_init(&l->st);
	if (store_open(&l->st, l->cfg, e) < 0)
		return serr_wrap(e, "sensor loop");
	l->db_ok = 1;
	make_holder(l);
	n = sensor_defs_count();
	for (size_t i = 0; i < n; i++) {
		const struct sensor_def *d = sensor_def_at(i);
		if (d && sensors_ensure(&l->st, d->name, d->default_enabled, e) < 0)
			goto fail;
	}
	if (sensor_keeper_start(&l->keeper, l->cfg, l->name, l->holder, e) < 0)
		goto fail;
	return 0;
fail:
	store_close(&l->st);
	return serr_wrap(e, "sensor loop");
}

static void loop_end(struct loop *l)
{
	for (int i = 0; i < LOOP_MAX_INFLIGHT; i++)
		if (l->used[i])
			sensor_child_free(&l->kids[i]);
	sensor_keeper_stop(&l->keeper);
	store_close(&l->st);
}

int sensor_loop_main(const struct config *cfg, const struct sensor_loop_opts *o, serr *e)
{
	struct loop *l = calloc(1, sizeof(*l));
	int rc = -1;

	if (!l)
		return serr_set(e, "out of memory starting the sensor loop");
	l->cfg = cfg;
	l->o = o;
	l->name = o->name && *o->name ? o->name : "sensors";
	if (loop_start(l, e) < 0)
		goto out;
	log_info("sensor loop started", "holder=%s sensors=%zu", l->holder, sensor_defs_count());
	for (;;) {
		int64_t now = mono_ms(), wake = now + LOOP_WAKE_MS;
		int stopping = stop_requested(l), leads;

		atomic_store(&l->keeper.inflight, inflight(l));
		atomic_store(&l->keeper.ticks, l->ticks);
		if (stopping && inflight(l) == 0)
			break;
		if (!l->db_ok) {
			if (store_ensure(&l->st, e) < 0) {
				log_warn("sensor loop: database unreachable", "error=%s", e->msg);
				sleep_ms(LOOP_RETRY_MS);
				continue;
			}
			l->db_ok = 1;
		}
		leads = sensor_keeper_leads(&l->keeper);
		if (!stopping && leads) {
			int64_t queued = 0;

			schedule(l, now);
			if (l->next_sched < wake)
				wake = l->next_sched;
			if (backfill_keeper_step(&l->st, &l->backfills, now, &queued, e) < 0)
				db_failed(l, "finish stalled backfills", e);
			else if (l->backfills.n && now + 50 < wake)
				wake = now + 50; /* more chunks to queue: come back soon */
		}
		pump_children(l, now, wake);
	}
	log_info("sensor loop stopped", "holder=%s ticks=%ld", l->holder, l->ticks);
	loop_end(l);
	rc = 0;
out:
	free(l);
	return rc;
}

int sensor_tick_now(const struct config *cfg, struct store *st, const char *name, int commit,
		    const char *holder, struct sensor_tick_outcome *out, serr *e)
{
	const struct sensor_def *d;
	struct sensor_state_list sl;
	struct sensor_child c;
	struct sensor_result res;
	serr ee;
	int rc = -1;

	sensor_state_list_init(&sl);
	sensor_child_init(&c);
	sensor_result_init(&res);
	if (sensor_defs_register_from_env(e) < 0)
		goto out;
	if (!(d = sensor_def_find(name))) {
		serr_set(e, "sensor '%s' is not defined (see `scout sensor list`)", name ? name : "");
		goto out;
	}
	if (sensors_ensure(st, d->name, d->default_enabled, e) < 0 ||
	    sensors_state_list(st, d->name, &sl, e) < 0)
		goto out;
	if (sl.n != 1) {
		serr_set(e, "sensor '%s' has no state row", d->name);
		goto out;
	}
	if (tick_start_from(&c.tick, d, &sl.items[0], e) < 0)
		goto out;
	if (sensor_child_run(&c, cfg, !commit, &res, &ee) < 0) {
		if (commit) {
			if (sensor_commit(st, cfg, &c.tick, holder, NULL, ee.msg, out, e) < 0)
				goto out;
		} else {
			snprintf(out->status, sizeof(out->status), "FAILURE");
			free(out->error);
			if (!(out->error = strdup(ee.msg))) {
				serr_set(e, "out of memory");
				goto out;
			}
		}
		rc = 0;
		goto out;
	}
	if (commit) {
		if (sensor_commit(st, cfg, &c.tick, holder, &res, NULL, out, e) < 0)
			goto out;
		rc = 0;
		goto out;
	}
	/* A preview: what the tick would request and where the cursor would go. */
	snprintf(out->status, sizeof(out->status), "%s",
		 json_array_size(res.requests) ? "SUCCESS" : "SKIPPED");
	out->requests = json_incref(res.requests);
	out->metadata = json_incref(res.metadata);
	if ((c.tick.cursor_before && !(out->cursor_before = strdup(c.tick.cursor_before))) ||
	    (res.cursor && !(out->cursor_after = strdup(res.cursor))) ||
	    (!res.cursor && c.tick.cursor_before &&
	     !(out->cursor_after = strdup(c.tick.cursor_before))) ||
	    (res.skip_reason && !(out->reason = strdup(res.skip_reason)))) {
		serr_set(e, "out of memory");
		goto out;
	}
	rc = 0;
out:
	sensor_result_free(&res);
	sensor_child_free(&c);
	sensor_state_list_free(&sl);
	return rc;
}
