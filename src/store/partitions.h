/*
 * Dynamic partitions: one per Airtable record, of kind "candidates" or
 * "jobs". A full sync registers the complete set of record ids; ids missing
 * from it are marked deleted (never forgotten) and lose the mark when they
 * come back.
 */
#ifndef SCOUT_STORE_PARTITIONS_H
#define SCOUT_STORE_PARTITIONS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define PARTITION_KEY_MAX 256

/* What one registration changed. */
struct partition_counts {
	int64_t seen;	 /* distinct keys given */
	int64_t added;	 /* keys never seen before */
	int64_t restored; /* keys that had been marked deleted */
	int64_t deleted; /* keys of the kind newly marked deleted */
};

struct partition {
	const char *key;
	const char *registered_at; /* ISO-8601 UTC */
	const char *last_seen_at;
	const char *deleted_at; /* NULL while the record exists */
};

struct partition_list {
	struct partition *items;
	size_t n;
	void *owner;
};

/*
 * keys is the complete set for kind, in one transaction: new keys are
 * inserted, known ones get last_seen_at (and lose deleted_at), keys of the
 * kind not in the set get deleted_at. d may be NULL. Runs inside the
 * caller's transaction when one is open.
 */
int partitions_register(struct store *s, const char *kind, const char *const *keys, size_t n,
			struct partition_counts *d, serr *e) SCOUT_MUST;

/* Register keys without touching the others (a record seen between full syncs). */
int partitions_add(struct store *s, const char *kind, const char *const *keys, size_t n,
		   struct partition_counts *d, serr *e) SCOUT_MUST;

void partition_list_init(struct partition_list *l);
void partition_list_free(struct partition_list *l);
/* Keys of kind in key order; deleted ones only when include_deleted. */
int partitions_list(struct store *s, const char *kind, int include_deleted,
		    struct partition_list *out, serr *e) SCOUT_MUST;

int partitions_count(struct store *s, const char *kind, int64_t *active, int64_t *deleted,
		     serr *e) SCOUT_MUST;

/* *found = 0 for an unknown key; *deleted = 1 when it is marked deleted. */
int partitions_get(struct store *s, const char *kind, const char *key, int *found, int *deleted,
		   serr *e) SCOUT_MUST;

#endif
