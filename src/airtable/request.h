/*
 * The request engine shared by the Airtable client's files (not a public
 * API): one logical call = pacing, the HTTP request, retries on 429, 5xx
 * and transport errors, and Airtable's error turned into a message.
 */
#ifndef SCOUT_AIRTABLE_REQUEST_H
#define SCOUT_AIRTABLE_REQUEST_H

#include <stddef.h>

#include <jansson.h>

#include "airtable/airtable.h"
#include "core/buf.h"
#include "core/err.h"

struct at_call {
	const char *method; /* GET, POST, PATCH, DELETE */
	const char *table;  /* for logs and error hints; NULL for the Meta API */
	const char *url;
	const char *body; /* JSON or NULL */
	size_t body_len;
	const char *ctx; /* start of an error message: "cannot list 'tblX'" */
	/* 0 for creates: not re-sent after a failure where Airtable may have applied it */
	int idempotent;
	/* deletes: after a retry, "record not found" means the first attempt went through */
	int missing_ok_on_retry;
};

/*
 * 0 with *out (may be NULL) = the parsed JSON answer (a new reference, or
 * NULL when a retried delete found its records gone); -1 with e filled and
 * at->last_error_type set to Airtable's error type when there was one.
 */
int at_request(struct airtable *at, const struct at_call *c, json_t **out, serr *e) SCOUT_MUST;

/* "<root>/<baseId>/<table>" with the table name percent-encoded. */
int at_table_url(const struct airtable *at, const char *table, struct buf *url, serr *e) SCOUT_MUST;

/* Append "name=value" (value percent-encoded) with '?' or '&' in front. */
int at_query_param(struct buf *url, const char *name, const char *value) SCOUT_MUST;

#endif
