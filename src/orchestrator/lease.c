/* The lease keeper thread (see lease.h). */
#include "orchestrator/lease.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#define RENEW_BATCH 256

static void set_all(struct lease_keeper *k, enum queue_lease_state st)
{
	for (struct lease *l = k->head; l; l = l->next)
		atomic_store(&l->state, (int)st);
}

/* One renewal of every registered lease, in batches. */
static void renew_once(struct lease_keeper *k)
{
	const char *ids[RENEW_BATCH], *owners[RENEW_BATCH];
	enum queue_lease_state states[RENEW_BATCH];
	struct lease *ls[RENEW_BATCH];
	struct lease *from;
	int failed = 0;
	serr e;

	pthread_mutex_lock(&k->mu);
	from = k->head;
	while (from) {
		size_t n = 0;
		struct lease *l = from;

		for (; l && n < RENEW_BATCH; l = l->next, n++) {
			ls[n] = l;
			ids[n] = l->id;
			owners[n] = l->owner;
		}
		from = l;
		/* the list cannot change under us: add/remove take the mutex */
		if (store_ensure(&k->st, &e) < 0 ||
		    queue_renew(&k->st, ids, owners, n, k->lease_ms, states, &e) < 0) {
			log_warn("cannot renew run leases", "error=\"%s\"", e.msg);
			failed = 1;
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (atomic_load(&ls[i]->state) != QUEUE_LEASE_LOST)
				atomic_store(&ls[i]->state, (int)states[i]);
	}
	if (!failed) {
		k->last_ok = mono_ms();
		k->renewals++;
	} else if (mono_ms() - k->last_ok > k->lease_ms) {
		log_error("run leases expired while the database was unreachable; their runs stop",
			  NULL);
		set_all(k, QUEUE_LEASE_LOST);
	}
	pthread_mutex_unlock(&k->mu);
}

static void *keeper_main(void *arg)
{
	struct lease_keeper *k = arg;
	int every = k->lease_ms / 3 > 0 ? k->lease_ms / 3 : 1;

	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += every / 1000;
		ts.tv_nsec += (long)(every % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!k->stop && pthread_cond_timedwait(&k->cv, &k->mu, &ts) != ETIMEDOUT)
			;
		if (k->stop)
			break;
		if (!k->head)
			continue;
		pthread_mutex_unlock(&k->mu);
		renew_once(k);
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

int lease_keeper_start(struct lease_keeper *k, const struct store *like, int lease_ms, serr *e)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	memset(k, 0, sizeof(*k));
	store_init(&k->st);
	if (lease_ms < 100)
		return serr_set(e, "lease of %d ms is too short (at least 100)", lease_ms);
	k->lease_ms = lease_ms;
	k->last_ok = mono_ms();
	if (store_open_like(&k->st, like, e) < 0)
		return serr_wrap(e, "cannot start the lease keeper");
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* signals go to the thread that handles them, never to the keeper */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&k->thread, NULL, keeper_main, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		store_close(&k->st);
		pthread_cond_destroy(&k->cv);
		pthread_mutex_destroy(&k->mu);
		return serr_set(e, "cannot start the lease keeper thread: %s", strerror(rc));
	}
	k->started = 1;
	return 0;
}

void lease_keeper_stop(struct lease_keeper *k)
{
	if (!k->started) {
		store_close(&k->st);
		return;
	}
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	store_close(&k->st);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	k->started = 0;
}

void lease_keeper_add(struct lease_keeper *k, struct lease *l, const struct queue_claim *c)
{
	snprintf(l->id, sizeof(l->id), "%s", c->id);
	snprintf(l->owner, sizeof(l->owner), "%s", c->owner);
	atomic_store(&l->state, (int)QUEUE_LEASE_HELD);
	pthread_mutex_lock(&k->mu);
	l->next = k->head;
	k->head = l;
	pthread_mutex_unlock(&k->mu);
}

void lease_keeper_remove(struct lease_keeper *k, struct lease *l)
{
	pthread_mutex_lock(&k->mu);
	for (struct lease **p = &k->head; *p; p = &(*p)->next) {
		if (*p == l) {
			*p = l->next;
			break;
		}
	}
	l->next = NULL;
	pthread_mutex_unlock(&k->mu);
}

enum queue_lease_state lease_state(struct lease *l)
{
	return (enum queue_lease_state)atomic_load(&l->state);
}
