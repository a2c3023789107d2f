/* The per-run context handed to steps, with lazily created clients (see context.h). */
#include "orchestrator/context.h"

#include <stdlib.h>
#include <string.h>

#include "airtable/airtable.h"
#include "config/config.h"
#include "notion/notion.h"
#include "store/runs.h"

void job_ctx_init(struct job_ctx *c, const struct config *cfg, struct store *st,
		  const struct job_def *def, const char *partition)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->store = st;
	c->def = def;
	c->partition = partition;
}

void job_ctx_free(struct job_ctx *c)
{
	if (c->at) {
		airtable_free(c->at);
		free(c->at);
	}
	if (c->notion) {
		notion_free(c->notion);
		free(c->notion);
	}
	if (c->http) {
		http_client_free(c->http);
		free(c->http);
	}
	c->at = NULL;
	c->notion = NULL;
	c->http = NULL;
}

int job_ctx_airtable(struct job_ctx *c, struct airtable **out, serr *e)
{
	if (!c->at) {
		struct airtable *at = calloc(1, sizeof(*at));
		if (!at)
			return serr_set(e, "out of memory");
		if (airtable_init(at, c->cfg, e) < 0) {
			free(at);
			return -1;
		}
		c->at = at;
	}
	*out = c->at;
	return 0;
}

int job_ctx_notion(struct job_ctx *c, struct notion **out, serr *e)
{
	if (!c->notion) {
		struct notion *n = calloc(1, sizeof(*n));
		if (!n)
			return serr_set(e, "out of memory");
		if (notion_init(n, c->cfg, e) < 0) {
			free(n);
			return -1;
		}
		c->notion = n;
	}
	*out = c->notion;
	return 0;
}

int job_ctx_http(struct job_ctx *c, struct http_client **out, serr *e)
{
	if (!c->http) {
		struct http_client *h = calloc(1, sizeof(*h));
		if (!h)
			return serr_set(e, "out of memory");
		if (http_client_init(h, e) < 0) {
			free(h);
			return -1;
		}
		c->http = h;
	}
	*out = c->http;
	return 0;
}

int job_ctx_materialize(struct job_ctx *c, const char *asset, json_t *metadata, serr *e)
{
	char *text = NULL;
	int rc;

	if (metadata) {
		text = json_dumps(metadata, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(metadata);
		if (!text)
			return serr_set(e, "out of memory encoding metadata of '%s'", asset);
	}
	rc = runs_event_add(c->store, c->run_id, "MATERIALIZATION", c->step, "info", asset, text, e);
	free(text);
	return rc;
}
