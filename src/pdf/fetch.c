/* Capped, retried download of attachment URLs (see fetch.h). */
#include "pdf/fetch.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define FETCH_ATTEMPTS 4
#define FETCH_BACKOFF_MS 500
#define FETCH_MAX_WAIT_MS 60000

/* scheme://host/path without the query string or fragment (they carry signatures). */
static void shown_url(const char *url, char *out, size_t outsz)
{
	size_t n = strcspn(url, "?#");

	if (n > 200)
		n = 200;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

static int64_t backoff_ms(int attempt)
{
	int64_t d = (int64_t)FETCH_BACKOFF_MS << attempt;

	return d + (int64_t)(rand_u64() % (uint64_t)(d / 2 + 1));
}

int pdf_fetch(struct http_client *h, const char *url, size_t max, struct buf *out, serr *e)
{
	struct http_request req;
	struct http_response resp;
	char shown[256];
	int rc = -1;

	http_response_init(&resp);
	if (!url || !(str_starts_with(url, "https://") || str_starts_with(url, "http://"))) {
		serr_set(e, "attachment url is not an http(s) url");
		goto out;
	}
	shown_url(url, shown, sizeof(shown));
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.timeout_ms = 120000;
	/* the cap is enforced by the transfer itself: a bigger body aborts it */
	req.max_response = max ? max : 1;
	for (int attempt = 0;; attempt++) {
		int last = attempt + 1 >= FETCH_ATTEMPTS;
		int64_t wait;

		if (http_client_do(h, &req, &resp, e) < 0) {
			if (resp.too_large) {
				serr_set(e, "attachment '%s' is larger than %zu bytes", shown, max);
				out->overflow = 1;
				rc = PDF_FETCH_TOO_LARGE;
				goto out;
			}
			if (last)
				goto out;
			log_warn("attachment download failed, retrying", "attempt=%d", attempt + 1);
			sleep_ms(backoff_ms(attempt));
			continue;
		}
		if (resp.status == 200)
			break;
		if (resp.status == 403 || resp.status == 410) {
			serr_set(e, "attachment link '%s' has expired or is refused (HTTP %ld): list the record again for a fresh link",
				 shown, resp.status);
			goto out;
		}
		if (resp.status == 404) {
			serr_set(e, "attachment '%s' no longer exists (HTTP 404)", shown);
			goto out;
		}
		if (resp.status != 429 && resp.status < 500) {
			serr_set(e, "attachment download '%s' failed with HTTP %ld", shown, resp.status);
			goto out;
		}
		if (last) {
			serr_set(e, "attachment download '%s' failed with HTTP %ld after %d attempts",
				 shown, resp.status, FETCH_ATTEMPTS);
			goto out;
		}
		wait = resp.retry_after_s >= 0 ? (int64_t)(resp.retry_after_s * 1000) : backoff_ms(attempt);
		if (wait > FETCH_MAX_WAIT_MS)
			wait = FETCH_MAX_WAIT_MS;
		log_warn("attachment download answered with a retryable status", "status=%ld attempt=%d",
			 resp.status, attempt + 1);
		sleep_ms(wait);
	}
	if (buf_append(out, resp.body.data ? resp.body.data : "", resp.body.len) < 0) {
		serr_set(e, "attachment '%s' (%zu bytes) does not fit the buffer", shown, resp.body.len);
		out->overflow = 1;
		rc = PDF_FETCH_TOO_LARGE;
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}
