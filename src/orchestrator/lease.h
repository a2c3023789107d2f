/*
 * Keeping the leases of running runs alive. A keeper is one thread with its
 * own database connection that renews every registered lease every third
 * of the lease in one statement, and flags each run whose cancellation was
 * requested or whose lease was lost, so the run stops at its next step
 * boundary. When renewals fail for a whole lease, every lease counts as
 * lost: the reaper may have handed the runs to other workers.
 */
#ifndef SCOUT_ORCHESTRATOR_LEASE_H
#define SCOUT_ORCHESTRATOR_LEASE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/err.h"
#include "store/queue.h"
#include "store/store.h"

/* One held lease; lives in the caller's memory while registered. */
struct lease {
	char id[QUEUE_ID_MAX];
	char owner[QUEUE_OWNER_MAX];
	atomic_int state; /* enum queue_lease_state */
	struct lease *next;
};

struct lease_keeper {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lease *head;
	struct store st;
	int lease_ms;
	int stop;
	int started;
	int64_t last_ok; /* mono_ms of the last successful renewal */
	long renewals;	 /* statements that succeeded, for tests and heartbeats */
};

/*
 * Open the keeper's own connection to the database `like` is connected to
 * and start its thread. lease_ms is the lease length (renewed every third).
 */
int lease_keeper_start(struct lease_keeper *k, const struct store *like, int lease_ms,
		       serr *e) SCOUT_MUST;
/* Stop the thread and close the connection; safe on a keeper that never started. */
void lease_keeper_stop(struct lease_keeper *k);

/* Start renewing c's lease, tracked in l (state HELD). */
void lease_keeper_add(struct lease_keeper *k, struct lease *l, const struct queue_claim *c);
void lease_keeper_remove(struct lease_keeper *k, struct lease *l);

enum queue_lease_state lease_state(struct lease *l);


#endif
