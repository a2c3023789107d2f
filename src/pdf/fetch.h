/*
 * Download of CV attachments. Airtable attachment URLs are signed and
 * expire after a few hours, so they are fetched right after a listing;
 * the size cap is enforced while the bytes arrive, never after.
 */
#ifndef SCOUT_PDF_FETCH_H
#define SCOUT_PDF_FETCH_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/http.h"

/* pdf_fetch's return value when the file is larger than max (record it as PDF_TOO_LARGE). */
#define PDF_FETCH_TOO_LARGE (-2)

/*
 * GET url into out (appended). 0 on success; PDF_FETCH_TOO_LARGE (with
 * out->overflow set) when the body passes max bytes; -1 on any other failure (e says what: expired
 * link, HTTP status, network). Transport errors and 5xx are retried a few
 * times with backoff. The URL's query string (its signature) never
 * appears in messages or logs.
 */
int pdf_fetch(struct http_client *h, const char *url, size_t max, struct buf *out,
	      serr *e) SCOUT_MUST;

#endif
