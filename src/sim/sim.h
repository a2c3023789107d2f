/*
 * The local simulator of the Airtable Web API (/v0) and the Notion API (/v1)
 * that every test and the demo talk to instead of the real services. One
 * HTTP server on 127.0.0.1 (libmicrohttpd, a thread per connection, so a
 * held or slow request never blocks the others) follows the documented
 * behaviour strictly: bearer auth, paging with offsets that expire, empty
 * values omitted, batches of at most 10 records, field and select-option
 * validation, linked records kept in step on both sides, attachment URLs
 * that expire, and the per-base rate limit with its 429 penalty.
 *
 * Test-only control endpoints live under /_sim (no auth); every one of them
 * has a C twin below for in-process tests. docs/simulator.md describes the
 * load format and the control API.
 */
#ifndef SCOUT_SIM_SIM_H
#define SCOUT_SIM_SIM_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct sim_opts {
	int port;		/* 0 = an ephemeral port; read it back with sim_url() */
	const char *api_key;	/* bearer required on /v0 and /v1 (copied) */
	double airtable_rate;	/* requests per second per base (default 5) */
	int penalty_ms;		/* every request to a base answers 429 this long after a violation (30000) */
	int offset_ttl_ms;	/* list offsets expire after this long unused (300000) */
	int attachment_ttl_ms;	/* attachment URLs expire after this long (2 h) */
	double notion_rate;	/* Notion requests per second on average (3) */
	double notion_burst;	/* Notion requests allowed at once above the average (default = notion_rate) */
	int max_body;		/* request body cap in bytes (10 MiB); larger bodies get 413 */
	int quiet;		/* 1: no log line per request */
};

/* Defaults as documented by Airtable and Notion. */
void sim_opts_init(struct sim_opts *o);

struct sim;

/* Start serving; NULL with a message when the port cannot be bound. */
struct sim *sim_start(const struct sim_opts *o, serr *e);
/* "http://127.0.0.1:PORT", valid until sim_stop(). */
const char *sim_url(const struct sim *s);
/* Stop the server, wake held requests, free everything. NULL is fine. */
void sim_stop(struct sim *s);

/*
 * Load a base in the docs/simulator.md format (replacing a base with the
 * same id; its Notion pages are added to the Notion store). Validates every
 * value like an API write would; the message names the table, record and
 * field at fault.
 */
int sim_load_base(struct sim *s, const json_t *base, serr *e) SCOUT_MUST;

/*
 * New reference: {"id", "tables": [{"id","name","fields":[schema],
 * "records":[{"id","createdTime","fields":{as the API returns them},
 * "fieldModifiedTimes":{"Field": "ISO time"}}]}]}, or NULL for an unknown base.
 */
json_t *sim_dump_base(struct sim *s, const char *base_id);

/*
 * Change a record as a recruiter would in the Airtable UI: values are
 * validated like an API PATCH without typecast, modified times are bumped
 * (inverse links included). table is an id or a name. Not rate limited and
 * not in the request log.
 */
int sim_edit_record(struct sim *s, const char *base, const char *table, const char *record_id,
		    const json_t *fields, serr *e) SCOUT_MUST;
/* Create a record as a recruiter; its id goes to id_out (at least 32 bytes). */
int sim_create_record(struct sim *s, const char *base, const char *table, const json_t *fields,
		      char *id_out, serr *e) SCOUT_MUST;
/* Delete a record as a recruiter (links to it are removed on the other side). */
int sim_delete_record(struct sim *s, const char *base, const char *table, const char *record_id,
		      serr *e) SCOUT_MUST;

/* Fault injection: the next `count` requests matching the filters get the fault. */
enum sim_fault_kind {
	SIM_FAULT_429 = 1,	/* the API's rate-limit answer (no penalty starts) */
	SIM_FAULT_503,
	SIM_FAULT_500,
	SIM_FAULT_TIMEOUT,	/* hold the request timeout_ms, then close without answering */
	SIM_FAULT_EXPIRE_OFFSETS, /* every list offset handed out so far expires now */
	SIM_FAULT_LATENCY,	/* answer normally after latency_ms */
	SIM_FAULT_RESET,	/* drop every pending fault */
	/* OpenRouter (/api/v1) answers; on /v0 and /v1 they answer 500 (502 answers 502) */
	SIM_FAULT_502,		/* provider error, {"error":{"code":502,...}} */
	SIM_FAULT_402,		/* out of credits */
	SIM_FAULT_ERROR_BODY,	/* status 200 whose body carries "error" */
	SIM_FAULT_TRUNCATED,	/* the answer cut in half, finish_reason "length" */
	SIM_FAULT_INVALID_JSON, /* the answer wrapped in prose: not JSON */
	SIM_FAULT_EMPTY_CONTENT, /* an empty answer */
};

struct sim_fault {
	enum sim_fault_kind kind;
	int count;		/* matching requests that get it (default 1) */
	char path_contains[256]; /* "" = any path; matched against the path and the raw URL */
	char method[16];	/* "" = any method */
	int latency_ms;
	int timeout_ms;		/* default 60000 */
};

void sim_fault_init(struct sim_fault *f, enum sim_fault_kind kind);
int sim_fault_parse(struct sim_fault *f, const json_t *j, serr *e) SCOUT_MUST;
int sim_add_fault(struct sim *s, const struct sim_fault *f, serr *e) SCOUT_MUST;

/*
 * Request log (new reference): [{"method","path","query":{k: v or [v...]},
 * "status" (0 when the connection was closed without an answer),
 * "api" ("airtable"|"notion"|"attachment"), "base" (or null), "start_ms",
 * "end_ms", "body_size", "fault" (when one was applied)}], oldest first.
 */
json_t *sim_requests(struct sim *s);
void sim_requests_clear(struct sim *s);

/*
 * Counters (new reference): {"bases": {"appX": {"requests", "rate_limited",
 * "max_per_second"}}, "notion": {"requests", "rate_limited"},
 * "attachments": {"requests"}, "faults_applied"}. max_per_second is the
 * largest number of requests that arrived within any 1-second window.
 */
json_t *sim_stats(struct sim *s);
void sim_stats_reset(struct sim *s);

/*
 * Change limits while running: {"penalty_ms", "airtable_rate",
 * "offset_ttl_ms", "attachment_ttl_ms", "notion_rate", "notion_burst",
 * "llm_latency_ms"} (each optional). Clears running penalties and the
 * limiter's window. llm_latency_ms delays every /api/v1 answer (benchmarks).
 */
int sim_configure(struct sim *s, const json_t *cfg, serr *e) SCOUT_MUST;

/*
 * The last chat completion request bodies the OpenRouter simulator
 * received (new reference), oldest first, file data replaced by its size.
 */
json_t *sim_llm_requests(struct sim *s);

#endif
