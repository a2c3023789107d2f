/*
 * Thin libcurl wrapper shared by the Airtable, Notion, OpenRouter and
 * attachment clients: one request, a capped response body, the status and
 * Retry-After. Transport failures (timeouts, refused connections) return -1
 * with `transport` set so callers can decide to retry; HTTP statuses are
 * returned as data. The bearer token is set as a header and never appears
 * in an error message.
 */
#ifndef SCOUT_CORE_HTTP_H
#define SCOUT_CORE_HTTP_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define HTTP_MAX_HEADERS 8

struct http_request {
	const char *method; /* "GET" when NULL */
	const char *url;
	const char *body; /* may be NULL */
	size_t body_len;
	const char *content_type; /* for the body; default application/json */
	const char *bearer;	  /* secret: Authorization: Bearer ... */
	const char *headers[HTTP_MAX_HEADERS]; /* extra "Name: value", NULL-terminated */
	long timeout_ms;			/* whole request; default 30000 */
	long connect_timeout_ms;		/* default 5000 */
	size_t max_response;			/* body cap; default 16 MiB */
};

struct http_response {
	long status;
	struct buf body;
	double retry_after_s; /* -1 when absent */
	char content_type[128];
	int transport;	/* 1 when the failure was a network/timeout error */
	int timed_out;
	int too_large;	/* body exceeded max_response */
};

struct http_client {
	void *curl; /* CURL *, reused for keep-alive */
	char errbuf[256];
};

/* Call once per process before threads start. */
int http_global_init(serr *e) SCOUT_MUST;

int http_client_init(struct http_client *c, serr *e) SCOUT_MUST;
void http_client_free(struct http_client *c);

void http_response_init(struct http_response *r);
void http_response_free(struct http_response *r);

/*
 * 0 when an HTTP response arrived (any status), -1 otherwise with e filled
 * (the URL's query string is left out of the message).
 */
int http_client_do(struct http_client *c, const struct http_request *req,
		   struct http_response *resp, serr *e) SCOUT_MUST;

/* Percent-encode s for a URL component. */
int http_urlencode(struct buf *out, const char *s) SCOUT_MUST;

#endif
