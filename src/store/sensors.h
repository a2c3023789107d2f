/*
 * Data access for sensors: their state (enabled flag, cursor, schedule),
 * the tick history, the requests waiting for a partition's run to end, the
 * named leases that elect the one process evaluating sensors, and the two
 * run look-ups a tick's commit needs. Every time is the database's clock,
 * so processes on machines with different clocks agree on what is due.
 */
#ifndef SCOUT_STORE_SENSORS_H
#define SCOUT_STORE_SENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

#define SENSOR_NAME_MAX 128

/* One sensor's row, with its last tick and the database clock at the read. */
struct sensor_state {
	const char *name;
	int enabled;
	const char *cursor; /* NULL when never set */
	int64_t version;    /* committed ticks; a tick commits only from the version it read */
	const char *last_tick_at; /* ISO-8601 UTC, NULL when never ticked */
	const char *next_tick_at;
	int64_t since_tick_ms; /* database now - last_tick_at; -1 when never ticked */
	const char *now;       /* the database clock when the row was read */
	int64_t now_ms;	       /* the same, epoch milliseconds */
	const char *last_status; /* of the latest tick, NULL when none */
	const char *last_reason;
	const char *last_error;
	const char *last_ended_at;
};

struct sensor_state_list {
	struct sensor_state *items;
	size_t n;
	void *owner;
};

/* A tick to record. */
struct sensor_tick_rec {
	const char *sensor;
	const char *started_at; /* ISO-8601 UTC, the database clock */
	const char *status;	/* SKIPPED, SUCCESS or FAILURE */
	const char *reason;	/* may be NULL */
	const char *error;	/* may be NULL */
	const char *cursor_before;
	const char *cursor_after;
	int requested;
	const char *const *run_ids;
	size_t nruns;
	const char *holder;
	const char *metadata_json; /* JSON object or NULL */
};

/* A recorded tick, as read back. */
struct sensor_tick {
	int64_t id;
	const char *sensor;
	const char *started_at;
	const char *ended_at;
	int64_t started_ms; /* epoch milliseconds of started_at */
	const char *status;
	const char *reason;
	const char *error;
	const char *cursor_before;
	const char *cursor_after;
	int requested;
	int run_count;
	const char *run_ids_json; /* JSON array of run ids */
	const char *holder;
	const char *metadata_json;
};

struct sensor_tick_list {
	struct sensor_tick *items;
	size_t n;
	void *owner;
};

/* A request that waits until its partition has no QUEUED or STARTED run. */
struct sensor_pending {
	const char *job;
	const char *partition_key;
	const char *run_key; /* may be NULL */
	const char *tags_json;
	int priority;
};

struct sensor_pending_list {
	struct sensor_pending *items;
	size_t n;
	void *owner;
};

/* 1 for SKIPPED, SUCCESS and FAILURE. */
int sensor_tick_status_valid(const char *status);

/* Create the row of a sensor (with its default) unless it exists. */
int sensors_ensure(struct store *s, const char *name, int default_enabled, serr *e) SCOUT_MUST;

/* Turn a sensor on or off (creating its row); the cursor is kept. */
int sensors_set_enabled(struct store *s, const char *name, int enabled, serr *e) SCOUT_MUST;

/* Forget the cursor, so the next tick starts from scratch (a full listing). */
int sensors_reset_cursor(struct store *s, const char *name, serr *e) SCOUT_MUST;

void sensor_state_list_init(struct sensor_state_list *l);
void sensor_state_list_free(struct sensor_state_list *l);
/* Every sensor's row by name, or only `name` (out->n == 0 when it has no row). */
int sensors_state_list(struct store *s, const char *name, struct sensor_state_list *out,
		       serr *e) SCOUT_MUST;

/*
 * Commit the schedule of a tick: version + 1, last_tick_at = started_at,
 * next_tick_at = started_at + interval_s, and the cursor when set_cursor
 * (cursor NULL clears it). Only from expected_version: *won = 0 (nothing
 * changed) when another tick committed first. Inside the caller's
 * transaction when one is open.
 */
int sensors_state_advance(struct store *s, const char *name, int64_t expected_version,
			  int set_cursor, const char *cursor, const char *started_at,
			  int interval_s, int *won, serr *e) SCOUT_MUST;

/* Record a tick; its id goes to *id (may be NULL). */
int sensors_tick_insert(struct store *s, const struct sensor_tick_rec *t, int64_t *id,
			serr *e) SCOUT_MUST;

void sensor_tick_list_init(struct sensor_tick_list *l);
void sensor_tick_list_free(struct sensor_tick_list *l);
/* Ticks newest first, of one sensor (NULL: all), at most limit (0: 100). */
int sensors_ticks(struct store *s, const char *sensor, int limit, struct sensor_tick_list *out,
		  serr *e) SCOUT_MUST;
/* Ticks of a sensor with this status (NULL: any). */
int sensors_tick_count(struct store *s, const char *sensor, const char *status, int64_t *n,
		       serr *e) SCOUT_MUST;

/* Keep a request for later; it replaces the one waiting for the same partition. */
int sensors_pending_put(struct store *s, const char *sensor, const struct sensor_pending *p,
			serr *e) SCOUT_MUST;
void sensor_pending_list_init(struct sensor_pending_list *l);
void sensor_pending_list_free(struct sensor_pending_list *l);
/* The oldest `limit` requests waiting for this sensor (0: 1000). */
int sensors_pending_list(struct store *s, const char *sensor, int limit,
			 struct sensor_pending_list *out, serr *e) SCOUT_MUST;
int sensors_pending_delete(struct store *s, const char *sensor, const char *job,
			   const char *partition_key, serr *e) SCOUT_MUST;

/* The run key of a run (*has_key = 0 when it has none); fails for an unknown run. */
int sensors_run_key(struct store *s, const char *run_id, struct buf *run_key, int *has_key,
		    serr *e) SCOUT_MUST;
/*
 * The run key of the newest keyed run of (job, partition) that `sensor`
 * requested (its tags name it); *found = 0 when none.
 */
int sensors_latest_run_key(struct store *s, const char *job, const char *partition_key,
			   const char *sensor, struct buf *run_key, int *found, serr *e) SCOUT_MUST;

/*
 * Take or renew the lease `name` for `holder` for ttl_ms: *held = 1 when
 * holder has it now (it was free, expired, or already holder's), 0 when
 * another holder's lease is still running. Atomic: two processes never
 * both hold it.
 */
int named_lease_acquire(struct store *s, const char *name, const char *holder, int ttl_ms, int *held,
		  serr *e) SCOUT_MUST;
/* Give the lease up if holder has it (a clean stop lets another take it at once). */
int named_lease_release(struct store *s, const char *name, const char *holder, serr *e) SCOUT_MUST;
/* The current holder of an unexpired lease into holder (empty when free). */
int named_lease_holder(struct store *s, const char *name, struct buf *holder, serr *e) SCOUT_MUST;

#endif
