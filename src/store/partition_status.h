/*
 * The status of each partition of a partitioned job, derived from its runs:
 * missing (no run, or only canceled ones), queued, running, succeeded,
 * failed, or stale (the latest success ran with another input than the
 * partition has now). A trigger on runs keeps one row per (job, partition)
 * in partition_runs, so listing and counting never scan the runs table;
 * partitions carry the input hash the sensors and syncs last saw.
 */
#ifndef SCOUT_STORE_PARTITION_STATUS_H
#define SCOUT_STORE_PARTITION_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

enum partition_state {
	PSTATE_MISSING = 0,
	PSTATE_QUEUED,
	PSTATE_RUNNING,
	PSTATE_SUCCEEDED,
	PSTATE_FAILED,
	PSTATE_STALE,
	PSTATE_COUNT
};

/* "missing", "queued", ... */
const char *partition_state_name(enum partition_state s);
/* 0 and *out for a known name, -1 otherwise. */
int partition_state_parse(const char *name, enum partition_state *out) SCOUT_MUST;

/*
 * Record the input hash the partition's record has now (hash NULL clears
 * it). A partition whose latest success ran with another hash becomes
 * stale. The partition must be registered.
 */
int partitions_set_input_hash(struct store *s, const char *kind, const char *key,
			      const char *hash, serr *e) SCOUT_MUST;

/*
 * The same for n partitions in one statement (a sensor tick over many
 * records); the last hash given for a key wins. Fails, changing nothing,
 * when a key is not registered.
 */
int partitions_set_input_hashes(struct store *s, const char *kind, const char *const *keys,
				const char *const *hashes, size_t n, serr *e) SCOUT_MUST;

/* One partition of a job and its status. */
struct partition_status {
	const char *key;
	enum partition_state state;
	const char *last_run_id;  /* NULL when no run */
	const char *last_status;  /* run status of the latest run, NULL when none */
	const char *updated_at;	  /* ISO-8601 UTC of the latest status change, NULL when none */
	const char *input_hash;	  /* the partition's current input hash, NULL when unknown */
};

struct partition_status_list {
	struct partition_status *items;
	size_t n;
	void *owner;
};

struct partition_status_counts {
	int64_t n[PSTATE_COUNT]; /* indexed by enum partition_state */
	int64_t total;		 /* active partitions of the job's kind */
};

void partition_status_list_init(struct partition_status_list *l);
void partition_status_list_free(struct partition_status_list *l);

#define PARTITION_STATUS_LIMIT_MAX 100000

/*
 * Active (not deleted) partitions of the job's kind with their status, in
 * key order; filter NULL lists every status. job must be a partitioned job
 * definition. limit 1..PARTITION_STATUS_LIMIT_MAX.
 */
int partition_status_list(struct store *s, const char *job, const enum partition_state *filter,
			  int limit, int64_t offset, struct partition_status_list *out,
			  serr *e) SCOUT_MUST;

/* How many active partitions of the job's kind are in each status. */
int partition_status_counts(struct store *s, const char *job,
			    struct partition_status_counts *out, serr *e) SCOUT_MUST;

/* One partition's status; *found = 0 when the key is not an active partition. */
int partition_status_get(struct store *s, const char *job, const char *key,
			 struct partition_status_list *out, int *found, serr *e) SCOUT_MUST;

#endif
