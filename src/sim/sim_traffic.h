/*
 * What the simulator tracks about its traffic: pending injected faults, the
 * Airtable rate limiter (a sliding 1-second window of arrivals per base and
 * the penalty after a violation), the Notion limiter (a token bucket with
 * an average rate), the request log and the counters behind /_sim/stats.
 * Callers hold the sim lock.
 */
#ifndef SCOUT_SIM_SIM_TRAFFIC_H
#define SCOUT_SIM_SIM_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sim/sim.h"
#include "sim/sim_http.h"

#define SIM_MAX_FAULTS 64
#define SIM_MAX_RATE_BASES 256
#define SIM_RATE_RING 1024
#define SIM_MAX_LOG 20000

struct sim_window {
	int64_t t[SIM_RATE_RING]; /* arrival times, monotonic ms */
	size_t next, n;
};

struct sim_rate_base {
	char base[SIM_ID_MAX];
	struct sim_window accepted; /* what the limit is measured on */
	struct sim_window all;	    /* every arrival, for max_per_second */
	int64_t penalty_until;	    /* monotonic ms */
	long requests, limited;
	int max_window;
};

struct sim_traffic {
	struct sim_fault faults[SIM_MAX_FAULTS];
	size_t nfaults;
	long faults_applied;
	struct sim_rate_base *bases;
	size_t nbases;
	double notion_tokens;
	int64_t notion_refill; /* monotonic ms of the last refill */
	long notion_requests, notion_limited;
	long att_requests;
	json_t *log;
	long log_dropped;
};

int sim_traffic_init(struct sim_traffic *t) SCOUT_MUST;
void sim_traffic_free(struct sim_traffic *t);

/* Queue a fault (RESET drops all; EXPIRE_OFFSETS is applied by the caller). */
int sim_traffic_add_fault(struct sim_traffic *t, const struct sim_fault *f, serr *e) SCOUT_MUST;
json_t *sim_traffic_faults(const struct sim_traffic *t);

/*
 * Take the faults that match this request: latency faults add up into
 * *latency_ms; the first other matching fault is copied to *hit (return 1).
 */
int sim_traffic_match(struct sim_traffic *t, const struct sim_req *rq, int *latency_ms,
		      struct sim_fault *hit);

/* 1 when this Airtable request is over the base's limit or in its penalty. */
int sim_traffic_airtable(struct sim_traffic *t, const char *base, int64_t arrival, double rate,
			 int penalty_ms);
/* Count a 429 the caller produced (a fault) against a base. */
void sim_traffic_airtable_limited(struct sim_traffic *t, const char *base);
/* 1 when this Notion request is over the average; *retry_after_s says when to come back. */
int sim_traffic_notion(struct sim_traffic *t, int64_t now, double rate, double burst,
		       int *retry_after_s);
/* Forget penalties and recent arrivals: the limiter starts afresh (after a configuration change). */
void sim_traffic_clear_penalties(struct sim_traffic *t);

void sim_traffic_log(struct sim_traffic *t, const struct sim_req *rq, int status);
json_t *sim_traffic_stats(const struct sim_traffic *t);
void sim_traffic_reset_stats(struct sim_traffic *t);

#endif
