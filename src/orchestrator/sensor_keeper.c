/*
 * The sensor loop's keeper: one thread with its own database connection
 * that takes and renews the leader lease and writes the loop's heartbeat,
 * so a long tick commit (a first full listing queues thousands of runs)
 * neither lets the lease lapse nor makes the heartbeat look stale.
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/sensor_internal.h"
#include "store/heartbeats.h"
#include "store/sensors.h"

#define KEEPER_STEP_MS 100
#define KEEPER_RETRY_MS 2000

static int ttl_ms_of(const struct config *cfg)
{
	return (cfg->sensor_lease_s > 0 ? cfg->sensor_lease_s : 30) * 1000;
}

static void renew(struct sensor_keeper *k, int ttl_ms)
{
	int held = 0;
	serr e;

	if (named_lease_acquire(&k->st, SENSOR_LEADER_LEASE, k->holder, ttl_ms, &held, &e) < 0) {
		log_warn("sensor loop: cannot renew the leader lease", "error=%s", e.msg);
		k->db_ok = 0;
		held = 0;
	}
	if (held)
		atomic_store(&k->renewed_at, mono_ms());
	if (held != atomic_load(&k->leader))
		log_info(held ? "sensor loop leads" : "sensor loop no longer leads", "holder=%s",
			 k->holder);
	atomic_store(&k->leader, held);
}

static void beat(struct sensor_keeper *k)
{
	char info[160];
	serr e;

	snprintf(info, sizeof(info), "{\"leader\":%s,\"in_flight\":%d,\"ticks\":%ld}",
		 atomic_load(&k->leader) ? "true" : "false", atomic_load(&k->inflight),
		 atomic_load(&k->ticks));
	if (heartbeat_beat_every(&k->st, "sensors", k->name, HEARTBEAT_INTERVAL_MS, info, &e) < 0) {
		log_warn("sensor loop: cannot write the heartbeat", "error=%s", e.msg);
		k->db_ok = 0;
	}
}

static void *keeper_main(void *arg)
{
	struct sensor_keeper *k = arg;
	int ttl_ms = ttl_ms_of(k->cfg);
	int64_t next_lease = 0, next_beat = 0;
	serr e;

	while (!atomic_load(&k->stop)) {
		int64_t now = mono_ms();

		if (!k->db_ok) {
			if (store_ensure(&k->st, &e) < 0) {
				atomic_store(&k->leader, 0);
				sleep_ms(KEEPER_RETRY_MS);
				continue;
			}
			k->db_ok = 1;
		}
		if (now >= next_lease) {
			renew(k, ttl_ms);
			next_lease = now + (k->db_ok ? ttl_ms / 3 : KEEPER_RETRY_MS);
		}
		if (now >= next_beat) {
			beat(k);
			next_beat = now + HEARTBEAT_INTERVAL_MS;
		}
		sleep_ms(KEEPER_STEP_MS);
	}
	return NULL;
}

int sensor_keeper_start(struct sensor_keeper *k, const struct config *cfg, const char *name,
			const char *holder, serr *e)
{
	int err;

	memset(k, 0, sizeof(*k));
	k->cfg = cfg;
	snprintf(k->name, sizeof(k->name), "%s", name);
	snprintf(k->holder, sizeof(k->holder), "%s", holder);
	atomic_init(&k->leader, 0);
	atomic_init(&k->stop, 0);
	atomic_init(&k->inflight, 0);
	atomic_init(&k->ticks, 0);
	atomic_init(&k->renewed_at, 0);
	store_init(&k->st);
	if (store_open(&k->st, cfg, e) < 0)
		return serr_wrap(e, "sensor loop keeper");
	k->db_ok = 1;
	/* Lead from the first moment when the lease is free: no wait for the thread. */
	renew(k, ttl_ms_of(cfg));
	if ((err = pthread_create(&k->thread, NULL, keeper_main, k)) != 0) {
		store_close(&k->st);
		return serr_set(e, "cannot start the sensor loop keeper: %s", strerror(err));
	}
	k->running = 1;
	return 0;
}

int sensor_keeper_leads(struct sensor_keeper *k)
{
	int64_t fresh = (int64_t)ttl_ms_of(k->cfg) * 2 / 3;

	/* A keeper that could not renew for most of the lease no longer trusts it. */
	return atomic_load(&k->leader) && mono_ms() - atomic_load(&k->renewed_at) < fresh;
}

void sensor_keeper_stop(struct sensor_keeper *k)
{
	serr e;

	if (!k->running)
		return;
	atomic_store(&k->stop, 1);
	pthread_join(k->thread, NULL);
	k->running = 0;
	if (atomic_load(&k->leader) &&
	    named_lease_release(&k->st, SENSOR_LEADER_LEASE, k->holder, &e) < 0)
		log_warn("sensor loop: cannot release the leader lease", "error=%s", e.msg);
	atomic_store(&k->leader, 0);
	if (heartbeat_remove(&k->st, "sensors", k->name, &e) < 0)
		log_warn("sensor loop: cannot remove the heartbeat", "error=%s", e.msg);
	store_close(&k->st);
}
