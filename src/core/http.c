/* libcurl-based HTTP requests with capped bodies (see http.h). */
#include "core/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

int http_global_init(serr *e)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return serr_set(e, "cannot initialise libcurl");
	return 0;
}

int http_client_init(struct http_client *c, serr *e)
{
	c->curl = curl_easy_init();
	c->errbuf[0] = '\0';
	if (!c->curl)
		return serr_set(e, "cannot create a libcurl handle");
	return 0;
}

void http_client_free(struct http_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

void http_response_init(struct http_response *r)
{
	r->status = 0;
	buf_init(&r->body, 0);
	r->retry_after_s = -1;
	r->content_type[0] = '\0';
	r->transport = 0;
	r->timed_out = 0;
	r->too_large = 0;
}

void http_response_free(struct http_response *r)
{
	buf_free(&r->body);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_response *r = ud;
	size_t n;

	if (size_mul(size, nmemb, &n) < 0)
		return 0;
	if (buf_append(&r->body, ptr, n) < 0) {
		r->too_large = 1;
		return 0; /* aborts the transfer */
	}
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_response *r = ud;
	size_t n = size * nmemb;
	char line[256];
	size_t l = n < sizeof(line) - 1 ? n : sizeof(line) - 1;

	memcpy(line, ptr, l);
	line[l] = '\0';
	while (l && (line[l - 1] == '\r' || line[l - 1] == '\n'))
		line[--l] = '\0';
	if (strncasecmp(line, "Retry-After:", 12) == 0) {
		const char *v = line + 12;
		double d;
		while (*v == ' ')
			v++;
		if (parse_double(v, &d) == 0 && d >= 0)
			r->retry_after_s = d;
	} else if (strncasecmp(line, "Content-Type:", 13) == 0) {
		const char *v = line + 13;
		while (*v == ' ')
			v++;
		snprintf(r->content_type, sizeof(r->content_type), "%s", v);
	} else if (strncmp(line, "HTTP/", 5) == 0) {
		/* a new response (redirect or 100-continue) resets per-response headers */
		r->retry_after_s = -1;
	}
	return n;
}

/* The URL without its query string, for error messages. */
static void url_for_message(const char *url, char *out, size_t outsz)
{
	size_t n = strcspn(url, "?");

	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

int http_client_do(struct http_client *c, const struct http_request *req,
		   struct http_response *resp, serr *e)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL, *tmp;
	struct buf auth;
	char ct[160], shown[512];
	const char *method = req->method ? req->method : "GET";
	CURLcode cc;
	int rc = -1;

	buf_init(&auth, 4096);
	buf_reset(&resp->body);
	resp->body.max = req->max_response ? req->max_response : 16u * 1024 * 1024;
	resp->status = 0;
	resp->retry_after_s = -1;
	resp->content_type[0] = '\0';
	resp->transport = 0;
	resp->timed_out = 0;
	resp->too_large = 0;
	url_for_message(req->url, shown, sizeof(shown));

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : 30000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms ? req->connect_timeout_ms : 5000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "scout/1");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	c->errbuf[0] = '\0';

	if (req->bearer && *req->bearer) {
		if (buf_printf(&auth, "Authorization: Bearer %s", req->bearer) < 0) {
			serr_set(e, "api key is too long");
			goto out;
		}
		if (!(tmp = curl_slist_append(hdrs, auth.data)))
			goto oom;
		hdrs = tmp;
	}
	for (int i = 0; i < HTTP_MAX_HEADERS && req->headers[i]; i++) {
		if (!(tmp = curl_slist_append(hdrs, req->headers[i])))
			goto oom;
		hdrs = tmp;
	}
	if (req->body) {
		snprintf(ct, sizeof(ct), "Content-Type: %s",
			 req->content_type ? req->content_type : "application/json");
		if (!(tmp = curl_slist_append(hdrs, ct)))
			goto oom;
		hdrs = tmp;
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	if (!(tmp = curl_slist_append(hdrs, "Expect:")))
		goto oom;
	hdrs = tmp;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(method, "GET") != 0 && !(strcmp(method, "POST") == 0 && req->body))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);

	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		resp->transport = 1;
		if (resp->too_large) {
			resp->transport = 0;
			serr_set(e, "response from '%s' is larger than %zu bytes", shown,
				 resp->body.max);
		} else {
			resp->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
			serr_set(e, "request to '%s' failed: %s", shown,
				 c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
		}
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	rc = 0;
	goto out;
oom:
	serr_set(e, "out of memory building request to '%s'", shown);
out:
	curl_slist_free_all(hdrs);
	/* the header held the key: wipe it before freeing */
	if (auth.data)
		memset(auth.data, 0, auth.len);
	buf_free(&auth);
	return rc;
}

int http_urlencode(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			if (buf_putc(out, (char)ch) < 0)
				return -1;
		} else {
			char enc[3] = { '%', hex[ch >> 4], hex[ch & 15] };
			if (buf_append(out, enc, 3) < 0)
				return -1;
		}
	}
	return 0;
}
