/*
 * What a running step sees: the configuration, the store, the run it
 * belongs to, its partition, the job's private state and the external
 * clients, created on first use so a step that never talks to Notion never
 * opens a Notion client.
 */
#ifndef SCOUT_ORCHESTRATOR_CONTEXT_H
#define SCOUT_ORCHESTRATOR_CONTEXT_H

#include <jansson.h>

#include "core/err.h"
#include "core/http.h"

struct config;
struct store;
struct airtable;
struct notion;
struct job_def;

struct job_ctx {
	const struct config *cfg;
	struct store *store;
	const struct job_def *def;
	char run_id[64];
	const char *partition; /* NULL when the run covers every record */
	const char *step;
	void *state;
	struct airtable *at;
	struct notion *notion;
	struct http_client *http;
	/* counters the steps add to; reported in the run's final event */
	long records_written;
};

void job_ctx_init(struct job_ctx *c, const struct config *cfg, struct store *st,
		  const struct job_def *def, const char *partition);
void job_ctx_free(struct job_ctx *c);

int job_ctx_airtable(struct job_ctx *c, struct airtable **out, serr *e) SCOUT_MUST;
int job_ctx_notion(struct job_ctx *c, struct notion **out, serr *e) SCOUT_MUST;
int job_ctx_http(struct job_ctx *c, struct http_client **out, serr *e) SCOUT_MUST;

/*
 * Record that the step produced or updated an asset (a table row set, an
 * Airtable write) with metadata such as rows written; metadata is stolen.
 */
int job_ctx_materialize(struct job_ctx *c, const char *asset, json_t *metadata,
			serr *e) SCOUT_MUST;

#endif
