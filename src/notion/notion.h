/*
 * Notion API client for job descriptions: the page id from any notion.so /
 * notion.site URL, then the page's title and block tree (cursor paging,
 * nested children) turned into markdown. Requests carry the Notion-Version
 * header, are paced to Notion's average of 3 per second across every
 * scout process on the machine, honour Retry-After on 429, and retry 5xx
 * and timeouts with backoff and jitter.
 */
#ifndef SCOUT_NOTION_NOTION_H
#define SCOUT_NOTION_NOTION_H

#include <jansson.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/http.h"
#include "core/pacer.h"

struct notion_stats {
	long requests;
	long retries;
	long rate_limited;
	long server_errors;
	long transport_errors;
};

struct notion {
	const struct config *cfg;
	struct http_client http;
	struct pacer pacer;
	struct notion_stats stats;
	long blocks; /* blocks fetched for the page being converted */
};

/*
 * notion.so / notion.site URLs in all their shapes (workspace/Title-<32hex>,
 * ?p=<id> peeks, ?v= views, #block anchors, dashed or undashed ids) or a
 * bare id -> the dashed lowercase page id in out. Anything else: -1 and a
 * message naming the input.
 */
int notion_page_id_from_url(const char *url, char out[37], serr *e) SCOUT_MUST;

/* Uses cfg->notion_api_url, notion_api_key, notion_version, notion_rate, home. */
int notion_init(struct notion *n, const struct config *cfg, serr *e) SCOUT_MUST;
void notion_free(struct notion *n);

/*
 * "# Title" and then the page's blocks as markdown, appended to md.
 * Nested children are fetched recursively (depth bounded by
 * notion.max_depth, total by notion.max_blocks). Errors name the page and
 * what to do (e.g. share the page with the integration).
 */
int notion_page_markdown(struct notion *n, const char *page_id, struct buf *md,
			 serr *e) SCOUT_MUST;

/*
 * GET /v1/<path> with pacing and retries; *out gets the parsed JSON body
 * (new reference). what names the object for error messages.
 */
int notion_get(struct notion *n, const char *path, const char *what, json_t **out,
	       serr *e) SCOUT_MUST;

#endif
