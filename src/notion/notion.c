/* Notion API client: page ids from URLs, paced and retried requests, page -> markdown (see notion.h). */
#include "notion/notion.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"
#include "notion/markdown.h"

#define NOTION_MAX_URL 4096
#define NOTION_MAX_WAIT_MS 60000
#define NOTION_PACE_MARGIN 0.95

/* ---- page ids ---- */

static int is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 32 hex digits, or the 8-4-4-4-12 dashed form, exactly n bytes of s -> dashed lowercase. */
static int parse_id(const char *s, size_t n, char out[37])
{
	char hex[33];
	size_t k = 0;

	if (n == 32) {
		for (size_t i = 0; i < 32; i++) {
			if (!is_hex(s[i]))
				return -1;
			hex[k++] = (char)tolower((unsigned char)s[i]);
		}
	} else if (n == 36) {
		for (size_t i = 0; i < 36; i++) {
			int dash = i == 8 || i == 13 || i == 18 || i == 23;
			if (dash ? s[i] != '-' : !is_hex(s[i]))
				return -1;
			if (!dash)
				hex[k++] = (char)tolower((unsigned char)s[i]);
		}
	} else {
		return -1;
	}
	hex[32] = '\0';
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	return 0;
}

/* The id at the end of a path segment: "Title-<32hex>", "<32hex>" or a dashed id. */
static int id_from_segment(const char *seg, size_t n, char out[37])
{
	if (n == 32 || n == 36)
		if (parse_id(seg, n, out) == 0)
			return 0;
	if (n > 33 && seg[n - 33] == '-' && parse_id(seg + n - 32, 32, out) == 0)
		return 0;
	if (n > 37 && seg[n - 37] == '-' && parse_id(seg + n - 36, 36, out) == 0)
		return 0;
	return -1;
}

static int host_is_notion(const char *h, size_t n)
{
	static const char *const roots[] = { "notion.so", "notion.site", "notion.com" };

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		size_t r = strlen(roots[i]);
		if (n == r && strncasecmp(h, roots[i], r) == 0)
			return 1;
		if (n > r + 1 && h[n - r - 1] == '.' && strncasecmp(h + n - r, roots[i], r) == 0)
			return 1;
	}
	return 0;
}

/* The input, shortened and printable, for error messages. */
static void shown_input(const char *s, char *out, size_t outsz)
{
	size_t n = 0;

	for (; *s && n + 4 < outsz && n < 120; s++)
		out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7F || *s == '\'') ? '_' : *s;
	if (*s && n + 4 < outsz) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* The value of key in a query string (no leading '?'), or NULL; *vlen set. */
static const char *query_value(const char *q, size_t qlen, const char *key, size_t *vlen)
{
	size_t klen = strlen(key), i = 0;

	while (i < qlen) {
		size_t end = i;
		while (end < qlen && q[end] != '&')
			end++;
		if (end - i > klen && strncmp(q + i, key, klen) == 0 && q[i + klen] == '=') {
			*vlen = end - i - klen - 1;
			return q + i + klen + 1;
		}
		i = end + 1;
	}
	return NULL;
}

int notion_page_id_from_url(const char *url, char out[37], serr *e)
{
	char shown[160];
	const char *s, *end, *host, *path, *query = NULL, *frag;
	size_t hlen, plen, qlen = 0, vlen;
	const char *v;

	if (!url)
		url = "";
	shown_input(url, shown, sizeof(shown));
	s = url;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (end - s > NOTION_MAX_URL)
		return serr_set(e, "notion link '%s' is longer than %d characters", shown, NOTION_MAX_URL);
	if (end == s)
		return serr_set(e, "notion link is empty: expected a notion.so page link or page id");
	/* a bare id */
	if (parse_id(s, (size_t)(end - s), out) == 0)
		return 0;

	if ((size_t)(end - s) > 8 && strncasecmp(s, "https://", 8) == 0)
		s += 8;
	else if ((size_t)(end - s) > 7 && strncasecmp(s, "http://", 7) == 0)
		s += 7;
	else if ((size_t)(end - s) > 9 && strncasecmp(s, "notion://", 9) == 0)
		s += 9;
	host = s;
	while (s < end && *s != '/' && *s != '?' && *s != '#')
		s++;
	hlen = (size_t)(s - host);
	if (memchr(host, '@', hlen))
		return serr_set(e, "'%s' is not a notion page link (it carries user info)", shown);
	/* a port is allowed only as :443 */
	if (hlen > 4 && strncmp(host + hlen - 4, ":443", 4) == 0)
		hlen -= 4;
	if (!host_is_notion(host, hlen))
		return serr_set(e, "'%s' is not a notion page link: expected a notion.so or notion.site address",
				shown);
	path = s;
	while (s < end && *s != '?' && *s != '#')
		s++;
	plen = (size_t)(s - path);
	if (s < end && *s == '?') {
		query = ++s;
		while (s < end && *s != '#')
			s++;
		qlen = (size_t)(s - query);
	}
	frag = s; /* "#<block id>" anchors point inside the page: ignored */
	(void)frag;

	/* a page opened as a peek over a database view: ?v=<view>&p=<page> */
	if (query && (v = query_value(query, qlen, "p", &vlen)) != NULL &&
	    parse_id(v, vlen, out) == 0)
		return 0;
	/* the last non-empty path segment */
	while (plen && path[plen - 1] == '/')
		plen--;
	{
		size_t segstart = plen;
		while (segstart && path[segstart - 1] != '/')
			segstart--;
		if (plen > segstart && id_from_segment(path + segstart, plen - segstart, out) == 0)
			return 0;
	}
	return serr_set(e, "notion link '%s' names no page: expected .../Title-<32 hex id> or a page id",
			shown);
}

/* ---- requests ---- */

int notion_init(struct notion *n, const struct config *cfg, serr *e)
{
	memset(n, 0, sizeof(*n));
	n->cfg = cfg;
	n->pacer.fd = -1;
	if (!cfg->notion_api_key || !*cfg->notion_api_key)
		return serr_set(e, "NOTION_API_KEY is not set: create an internal integration in Notion and export its secret");
	if (!cfg->notion_api_url || !*cfg->notion_api_url)
		return serr_set(e, "notion.api_url is empty: set NOTION_API_URL (default https://api.notion.com)");
	log_add_secret(cfg->notion_api_key);
	if (pacer_init(&n->pacer, cfg->home, "notion", cfg->notion_rate > 0 ? cfg->notion_rate : 3,
		       NOTION_PACE_MARGIN, e) < 0)
		return -1;
	if (http_client_init(&n->http, e) < 0) {
		pacer_free(&n->pacer);
		return -1;
	}
	return 0;
}

void notion_free(struct notion *n)
{
	if (!n)
		return;
	http_client_free(&n->http);
	pacer_free(&n->pacer);
}

static int64_t backoff_ms(const struct notion *n, int attempt)
{
	int64_t base = n->cfg->notion_backoff_ms > 0 ? n->cfg->notion_backoff_ms : 500;
	int64_t d = base << (attempt < 16 ? attempt : 16);

	if (d > 30000)
		d = 30000;
	return d + (int64_t)(rand_u64() % (uint64_t)(d / 2 + 1));
}

/* Notion's error body {"object":"error","status","code","message"}, printable and short. */
static void error_parts(const struct buf *body, char *code, size_t csz, char *msg, size_t msz)
{
	json_t *j = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
	const char *c = json_string_value(json_object_get(j, "code"));
	const char *m = json_string_value(json_object_get(j, "message"));

	shown_input(c ? c : "unknown", code, csz);
	shown_input(m ? m : "no message", msg, msz);
	json_decref(j);
}

static int fail_status(long status, const struct buf *body, const char *what,
		       serr *e)
{
	char code[160], msg[160];

	error_parts(body, code, sizeof(code), msg, sizeof(msg));
	if (status == 401)
		serr_set(e, "notion rejected the api key for %s (401 %s: %s): check NOTION_API_KEY",
			 what, code, msg);
	else if (status == 403)
		serr_set(e, "the notion integration may not read %s (403 %s: %s): give it the 'read content' capability and share the page with it",
			 what, code, msg);
	else if (status == 404)
		serr_set(e, "%s was not found or is not shared with the notion integration (404 %s: %s): open the page in Notion, choose '...' > 'Connections' and add the integration",
			 what, code, msg);
	else
		serr_set(e, "notion refused the request for %s (%ld %s: %s)", what, status, code, msg);
	log_redact(e->msg);
	return -1;
}

int notion_get(struct notion *n, const char *path, const char *what, json_t **out, serr *e)
{
	struct http_request req;
	struct http_response resp;
	struct buf url;
	char version[128];
	int retries = n->cfg->notion_retries >= 0 ? n->cfg->notion_retries : 0, rc = -1;
	const char *root = n->cfg->notion_api_url;
	size_t rl = strlen(root);

	*out = NULL;
	http_response_init(&resp);
	buf_init(&url, NOTION_MAX_URL * 2);
	while (rl && root[rl - 1] == '/')
		rl--;
	if (buf_append(&url, root, rl) < 0 || buf_printf(&url, "/v1/%s", path) < 0) {
		serr_set(e, "notion url for %s is too long", what);
		goto out;
	}
	snprintf(version, sizeof(version), "Notion-Version: %s", n->cfg->notion_version);
	memset(&req, 0, sizeof(req));
	req.url = url.data;
	req.bearer = n->cfg->notion_api_key;
	req.headers[0] = version;
	req.headers[1] = "Accept: application/json";
	req.timeout_ms = n->cfg->notion_timeout_ms > 0 ? n->cfg->notion_timeout_ms : 30000;
	req.max_response = 8u * 1024 * 1024;

	for (int attempt = 0;; attempt++) {
		int64_t wait;

		if (pacer_wait(&n->pacer, e) < 0)
			goto out;
		n->stats.requests++;
		if (http_client_do(&n->http, &req, &resp, e) < 0) {
			if (resp.too_large)
				goto out;
			n->stats.transport_errors++;
			if (attempt >= retries) {
				serr_wrap(e, "notion request for %s failed after %d attempts", what,
					  attempt + 1);
				goto out;
			}
			log_warn("notion request failed, retrying", "attempt=%d timed_out=%d",
				 attempt + 1, resp.timed_out);
			wait = backoff_ms(n, attempt);
		} else if (resp.status == 200) {
			json_error_t je;
			*out = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &je);
			if (!*out || !json_is_object(*out)) {
				json_decref(*out);
				*out = NULL;
				serr_set(e, "notion answered %s with invalid json: %s", what, je.text);
				goto out;
			}
			rc = 0;
			goto out;
		} else if (resp.status == 429 || resp.status >= 500) {
			if (resp.status == 429)
				n->stats.rate_limited++;
			else
				n->stats.server_errors++;
			if (attempt >= retries) {
				char code[160], msg[160];
				error_parts(&resp.body, code, sizeof(code), msg, sizeof(msg));
				serr_set(e, "notion kept failing for %s (%ld %s: %s) after %d attempts: try again later",
					 what, resp.status, code, msg, attempt + 1);
				goto out;
			}
			wait = resp.retry_after_s >= 0 ? (int64_t)(resp.retry_after_s * 1000)
						       : backoff_ms(n, attempt);
			if (wait > NOTION_MAX_WAIT_MS)
				wait = NOTION_MAX_WAIT_MS;
			log_warn("notion asked to slow down or failed, retrying",
				 "status=%ld wait_ms=%lld attempt=%d", resp.status, (long long)wait,
				 attempt + 1);
			if (resp.status == 429) {
				/* every process on the machine waits, not only this one */
				if (pacer_hold(&n->pacer, wait, e) < 0)
					goto out;
				n->stats.retries++;
				continue;
			}
		} else {
			fail_status(resp.status, &resp.body, what, e);
			goto out;
		}
		n->stats.retries++;
		sleep_ms(wait);
	}
out:
	http_response_free(&resp);
	buf_free(&url);
	return rc;
}

/* ---- page -> markdown ---- */

struct fetch {
	struct notion *n;
	const char *page_id;
	long max_blocks;
	int max_depth;
	int depth_warned;
};

/* Ids go into URL paths: only hex digits and dashes are accepted. */
static int safe_id(const char *id)
{
	size_t n = 0;

	if (!id)
		return 0;
	for (; id[n]; n++)
		if (!is_hex(id[n]) && id[n] != '-')
			return 0;
	return n >= 32 && n <= 36;
}

static int fetch_children(struct fetch *f, const char *block_id, int depth, json_t **out, serr *e)
{
	json_t *all = json_array(), *resp = NULL;
	struct buf path, cursor;
	char what[160];
	int rc = -1;

	buf_init(&path, 4096);
	buf_init(&cursor, 1024);
	if (!all) {
		serr_set(e, "out of memory reading notion page '%s'", f->page_id);
		goto out;
	}
	if (depth == 0)
		snprintf(what, sizeof(what), "notion page '%s'", f->page_id);
	else
		snprintf(what, sizeof(what), "block '%s' of notion page '%s'", block_id, f->page_id);
	for (;;) {
		json_t *results, *b, *next;
		size_t i;

		buf_reset(&path);
		if (buf_printf(&path, "blocks/%s/children?page_size=100", block_id) < 0 ||
		    (cursor.len && (buf_puts(&path, "&start_cursor=") < 0 ||
				    http_urlencode(&path, cursor.data) < 0))) {
			serr_set(e, "notion cursor for %s is too long", what);
			goto out;
		}
		if (notion_get(f->n, path.data, what, &resp, e) < 0)
			goto out;
		results = json_object_get(resp, "results");
		if (!json_is_array(results)) {
			serr_set(e, "notion answered %s without a results list", what);
			goto out;
		}
		json_array_foreach(results, i, b) {
			if (++f->n->blocks > f->max_blocks) {
				serr_set(e, "notion page '%s' has more than %ld blocks (notion.max_blocks): shorten the page or raise the limit",
					 f->page_id, f->max_blocks);
				goto out;
			}
			if (json_array_append(all, b) < 0) {
				serr_set(e, "out of memory reading %s", what);
				goto out;
			}
		}
		next = json_object_get(resp, "next_cursor");
		if (!json_is_true(json_object_get(resp, "has_more")))
			break;
		if (!json_is_string(next) || !*json_string_value(next) ||
		    strcmp(json_string_value(next), buf_cstr(&cursor)) == 0) {
			serr_set(e, "notion said %s has more blocks but gave no new cursor", what);
			goto out;
		}
		buf_reset(&cursor);
		if (buf_puts(&cursor, json_string_value(next)) < 0) {
			serr_set(e, "notion cursor for %s is too long", what);
			goto out;
		}
		json_decref(resp);
		resp = NULL;
	}
	{
		size_t i;
		json_t *b;
		json_array_foreach(all, i, b) {
			const char *type = json_string_value(json_object_get(b, "type"));
			const char *id = json_string_value(json_object_get(b, "id"));
			json_t *kids = NULL;

			if (!json_is_true(json_object_get(b, "has_children")) || !type ||
			    !strcmp(type, "child_page") || !strcmp(type, "child_database"))
				continue;
			if (depth + 1 >= f->max_depth) {
				if (!f->depth_warned)
					log_warn("notion blocks nested too deep were left out",
						 "page=%s max_depth=%d", f->page_id, f->max_depth);
				f->depth_warned = 1;
				continue;
			}
			if (!safe_id(id)) {
				serr_set(e, "notion page '%s' has a block with a malformed id", f->page_id);
				goto out;
			}
			if (fetch_children(f, id, depth + 1, &kids, e) < 0)
				goto out;
			if (json_object_set_new(b, "children", kids) < 0) {
				serr_set(e, "out of memory reading %s", what);
				goto out;
			}
		}
	}
	*out = all;
	all = NULL;
	rc = 0;
out:
	json_decref(resp);
	json_decref(all);
	buf_free(&path);
	buf_free(&cursor);
	return rc;
}

static int is_string_value(const json_t *j, const char *want)
{
	const char *s = json_string_value(j);

	return s && strcmp(s, want) == 0;
}

/* The page's title property (whatever its name), as plain text. */
static int page_title(const json_t *page, struct buf *title, serr *e)
{
	const json_t *props = json_object_get(page, "properties"), *p;
	const char *k;

	json_object_foreach((json_t *)props, k, p) {
		if (is_string_value(json_object_get(p, "type"), "title"))
			return notion_plain_text(json_object_get(p, "title"), title, e);
	}
	return 0;
}

int notion_page_markdown(struct notion *n, const char *page_id, struct buf *md, serr *e)
{
	struct fetch f;
	struct buf path, title, body;
	json_t *page = NULL, *blocks = NULL;
	char id[37], what[80];
	int rc = -1;

	buf_init(&path, 256);
	buf_init(&title, 64 * 1024);
	buf_init(&body, md->max);
	if (notion_page_id_from_url(page_id, id, e) < 0)
		goto out;
	snprintf(what, sizeof(what), "notion page '%s'", id);
	n->blocks = 0;
	if (buf_printf(&path, "pages/%s", id) < 0 || notion_get(n, path.data, what, &page, e) < 0)
		goto out;
	if (!is_string_value(json_object_get(page, "object"), "page")) {
		serr_set(e, "%s is not a page: link the job description page itself", what);
		goto out;
	}
	if (json_is_true(json_object_get(page, "archived")) ||
	    json_is_true(json_object_get(page, "in_trash")))
		log_warn("notion page is archived", "page=%s", id);
	if (page_title(page, &title, e) < 0)
		goto out;
	for (size_t i = 0; i < title.len; i++)
		if (title.data[i] == '\n' || title.data[i] == '\r')
			title.data[i] = ' ';
	f.n = n;
	f.page_id = id;
	f.max_blocks = n->cfg->notion_max_blocks > 0 ? n->cfg->notion_max_blocks : 5000;
	f.max_depth = n->cfg->notion_max_depth > 0 ? n->cfg->notion_max_depth : 8;
	if (f.max_depth > 30)
		f.max_depth = 30;
	f.depth_warned = 0;
	if (fetch_children(&f, id, 0, &blocks, e) < 0)
		goto out;
	if (buf_printf(&body, "# %s\n\n", title.len ? title.data : "Untitled") < 0) {
		serr_set(e, "%s: title does not fit", what);
		goto out;
	}
	if (notion_blocks_md(blocks, &body, e) < 0) {
		serr_wrap(e, "%s", what);
		goto out;
	}
	if (buf_append(md, body.data, body.len) < 0) {
		serr_set(e, "%s: markdown (%zu bytes) does not fit the buffer", what, body.len);
		goto out;
	}
	log_info("notion page converted", "page=%s blocks=%ld bytes=%zu", id, n->blocks, body.len);
	rc = 0;
out:
	json_decref(page);
	json_decref(blocks);
	buf_free(&path);
	buf_free(&title);
	buf_free(&body);
	return rc;
}
