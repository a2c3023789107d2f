/*
 * Airtable client set-up and the request engine: pacing before every
 * request, a hold after a 429, backoff with full jitter on 5xx and
 * transport errors, and Airtable's error bodies turned into messages that
 * name the table, the record and the config key to check.
 */
#include "airtable/airtable.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airtable/request.h"
#include "core/log.h"
#include "core/util.h"

#define AT_MSG_MAX 400 /* most of Airtable's message kept in ours */

static int base_id_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

int airtable_init(struct airtable *at, const struct config *cfg, serr *e)
{
	char key[128];
	const char *url;
	size_t n;
	struct buf root;
	int rc = -1;

	memset(at, 0, sizeof(*at));
	at->pacer.fd = -1;
	at->cfg = cfg;
	buf_init(&root, 4096);
	if (!cfg->airtable_api_key || !*cfg->airtable_api_key) {
		serr_set(e, "airtable: no api key: set AIRTABLE_API_KEY to a personal access token "
			    "(or 'airtable.api_key' in the config file)");
		goto out;
	}
	if (!cfg->airtable_base_id || !*cfg->airtable_base_id) {
		serr_set(e, "airtable: no base id: set AIRTABLE_BASE_ID to the base's id (app...)");
		goto out;
	}
	if (!base_id_ok(cfg->airtable_base_id)) {
		serr_set(e, "airtable: base id '%.64s' is not an Airtable id (letters and digits, "
			    "like 'appXXXXXXXXXXXXXX'): check AIRTABLE_BASE_ID",
			 cfg->airtable_base_id);
		goto out;
	}
	url = cfg->airtable_api_url ? cfg->airtable_api_url : "";
	if (!str_starts_with(url, "http://") && !str_starts_with(url, "https://")) {
		serr_set(e, "airtable: api url '%.200s' must start with http:// or https:// "
			    "(check AIRTABLE_API_URL)",
			 url);
		goto out;
	}
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (buf_append(&root, url, n) < 0 || buf_puts(&root, "/v0") < 0) {
		serr_set(e, "airtable: api url is longer than %zu bytes (check AIRTABLE_API_URL)",
			 root.max);
		goto out;
	}
	if (!(at->root = buf_detach(&root))) {
		serr_set(e, "airtable: out of memory");
		goto out;
	}
	at->penalty_ms = cfg->airtable_penalty_s > 0 ? (long)cfg->airtable_penalty_s * 1000 : 0;
	at->backoff_ms = cfg->airtable_backoff_ms > 0 ? cfg->airtable_backoff_ms : 0;
	at->max_retries = cfg->airtable_retries > 0 ? cfg->airtable_retries : 0;
	at->timeout_ms = cfg->airtable_timeout_ms > 0 ? cfg->airtable_timeout_ms : 30000;
	snprintf(key, sizeof(key), "airtable-%s", cfg->airtable_base_id);
	if (pacer_init(&at->pacer, cfg->home, key, cfg->airtable_rate, cfg->airtable_rate_margin,
		       e) < 0) {
		serr_wrap(e, "airtable: cannot set up request pacing (check airtable.requests_per_second, "
			     "airtable.rate_margin and SCOUT_HOME)");
		goto out;
	}
	if (http_client_init(&at->http, e) < 0) {
		serr_wrap(e, "airtable");
		goto out;
	}
	log_add_secret(cfg->airtable_api_key);
	rc = 0;
out:
	buf_free(&root);
	if (rc < 0)
		airtable_free(at);
	return rc;
}

void airtable_free(struct airtable *at)
{
	http_client_free(&at->http);
	pacer_free(&at->pacer);
	free(at->root);
	at->root = NULL;
}

int at_query_param(struct buf *url, const char *name, const char *value)
{
	if (buf_putc(url, strchr(buf_cstr(url), '?') ? '&' : '?') < 0 || buf_puts(url, name) < 0 ||
	    buf_putc(url, '=') < 0)
		return -1;
	return http_urlencode(url, value);
}

int at_table_url(const struct airtable *at, const char *table, struct buf *url, serr *e)
{
	if (!table || !*table)
		return serr_set(e, "airtable: no table given (check airtable.*_table in the config)");
	if (buf_printf(url, "%s/", at->root) < 0 || http_urlencode(url, at->cfg->airtable_base_id) < 0 ||
	    buf_putc(url, '/') < 0 || http_urlencode(url, table) < 0)
		return serr_set(e, "airtable: url for table '%.100s' is too long", table);
	return 0;
}

/* Full jitter: a uniform delay in [0, backoff * 2^attempt], capped. */
static int64_t backoff_delay(const struct airtable *at, int attempt)
{
	int64_t cap = at->backoff_ms;

	for (int i = 0; i < attempt && cap < AIRTABLE_BACKOFF_CAP_MS; i++)
		cap *= 2;
	if (cap > AIRTABLE_BACKOFF_CAP_MS)
		cap = AIRTABLE_BACKOFF_CAP_MS;
	if (cap <= 0)
		return 0;
	return (int64_t)(rand_u64() % (uint64_t)(cap + 1));
}

/* Control characters from a server would garble one-line messages. */
static void clean_text(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			*s = ' ';
}

/*
 * The field a message names: the first "quoted" name (Field "X" cannot
 * accept...), or what follows "unknown field name(s)" as 'x', "x" or ": x, y".
 */
static int field_in_message(const char *msg, char *out, size_t outsz)
{
	const char *p = strchr(msg, '"'), *q = NULL;
	size_t n;

	if (p) {
		p++;
		q = strchr(p, '"');
	} else if ((p = strcasestr(msg, "unknown field")) != NULL) {
		p += strcspn(p, "'\":");
		if (*p == '\'') {
			p++;
			q = strchr(p, '\'');
		} else if (*p == ':') {
			p += strspn(p + 1, " ") + 1;
			q = p + strcspn(p, ",");
		}
	}
	if (!p || !q || q <= p)
		return 0;
	n = (size_t)(q - p);
	if (n >= outsz)
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

/* The config key holding a table id, for hints. */
static const char *table_key(const struct config *cfg, const char *table)
{
	if (!table)
		return NULL;
	if (cfg->talent_table && strcmp(table, cfg->talent_table) == 0)
		return "airtable.talent_table";
	if (cfg->jobs_table && strcmp(table, cfg->jobs_table) == 0)
		return "airtable.jobs_table";
	if (cfg->ats_table && strcmp(table, cfg->ats_table) == 0)
		return "airtable.ats_table";
	return NULL;
}

/* What the user should check, from the error type, status and message. */
static void error_hint(const struct airtable *at, const struct at_call *c, long status,
		       const char *type, const char *msg, char *hint, size_t hintsz)
{
	char field[256];
	const char *key, *tkey;

	hint[0] = '\0';
	if (field_in_message(msg, field, sizeof(field)) &&
	    (key = airtable_field_key(at->cfg, c->table, field)) != NULL) {
		if (strstr(type, "UNKNOWN_FIELD") || strcasestr(msg, "unknown field"))
			snprintf(hint, hintsz, " (check %s in the config)", key);
		else
			snprintf(hint, hintsz, " (field '%s' is %s in the config)", field, key);
		return;
	}
	if (status == 401 || strcmp(type, "AUTHENTICATION_REQUIRED") == 0) {
		snprintf(hint, hintsz, " (check AIRTABLE_API_KEY)");
		return;
	}
	if (status == 403 || status == 404) {
		tkey = table_key(at->cfg, c->table);
		if (!c->table)
			snprintf(hint, hintsz, " (check AIRTABLE_BASE_ID and the token's scopes: "
					       "schema.bases:read is needed)");
		else if (tkey)
			snprintf(hint, hintsz, " (check AIRTABLE_BASE_ID, %s and the token's access "
					       "to the base)", tkey);
		else
			snprintf(hint, hintsz, " (check AIRTABLE_BASE_ID, the table name and the "
					       "token's access to the base)");
	}
}

/*
 * Airtable answers errors as {"error":{"type":T,"message":M}},
 * {"error":"NOT_FOUND"} or {"errors":[{"error":T,"message":M}]}.
 */
static void parse_error_body(const struct buf *body, char *type, size_t typesz, char *msg,
			     size_t msgsz)
{
	json_t *root = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
	json_t *err, *t = NULL, *m = NULL;

	type[0] = msg[0] = '\0';
	if (root && json_is_object(root)) {
		err = json_object_get(root, "error");
		if (json_is_object(err)) {
			t = json_object_get(err, "type");
			m = json_object_get(err, "message");
		} else if (json_is_string(err)) {
			t = err;
			m = json_object_get(root, "message");
		} else if (json_is_array(json_object_get(root, "errors"))) {
			err = json_array_get(json_object_get(root, "errors"), 0);
			t = json_object_get(err, "error");
			if (!json_is_string(t))
				t = json_object_get(err, "type");
			m = json_object_get(err, "message");
		}
	}
	if (json_is_string(t))
		snprintf(type, typesz, "%s", json_string_value(t));
	if (json_is_string(m))
		snprintf(msg, msgsz, "%s", json_string_value(m));
	else if (!root && body->len)
		snprintf(msg, msgsz, "%.*s", (int)(body->len < 200 ? body->len : 200), body->data);
	json_decref(root);
	clean_text(type);
	clean_text(msg);
}

static void describe_error(struct airtable *at, const struct at_call *c, long status,
			   const struct buf *body, serr *e)
{
	char type[64], msg[AT_MSG_MAX], hint[256];

	parse_error_body(body, type, sizeof(type), msg, sizeof(msg));
	snprintf(at->last_error_type, sizeof(at->last_error_type), "%s", type);
	error_hint(at, c, status, type, msg, hint, sizeof(hint));
	if (type[0])
		serr_set(e, "airtable: %s: %s%s%s%s", c->ctx, type, msg[0] ? ": " : "", msg, hint);
	else
		serr_set(e, "airtable: %s: HTTP %ld%s%s%s", c->ctx, status, msg[0] ? ": " : "", msg,
			 hint);
}

static int missing_record(long status, const char *type)
{
	return status == 404 || strstr(type, "NOT_FOUND") || strstr(type, "DOES_NOT_EXIST");
}

int at_request(struct airtable *at, const struct at_call *c, json_t **out, serr *e)
{
	struct http_request req;
	struct http_response resp;
	serr herr;
	char problem[512];
	const char *table = c->table ? c->table : "meta";
	int attempt = 0, rc = -1;

	if (out)
		*out = NULL;
	at->last_error_type[0] = '\0';
	memset(&req, 0, sizeof(req));
	req.method = c->method;
	req.url = c->url;
	req.body = c->body;
	req.body_len = c->body_len;
	req.bearer = at->cfg->airtable_api_key;
	req.timeout_ms = at->timeout_ms;
	http_response_init(&resp);
	for (;;) {
		int64_t t0, delay = 0;
		int hrc;

		if (pacer_wait(&at->pacer, e) < 0) {
			serr_wrap(e, "airtable: %s", c->ctx);
			goto out;
		}
		t0 = mono_ms();
		serr_clear(&herr);
		hrc = http_client_do(&at->http, &req, &resp, &herr);
		at->stats.requests++;
		at->last_status = hrc < 0 ? 0 : resp.status;
		log_debug("airtable request", "method=%s table=%s status=%ld ms=%lld attempt=%d",
			  c->method, table, at->last_status, (long long)(mono_ms() - t0), attempt);
		if (hrc < 0) {
			if (!resp.transport) {
				serr_set(e, "airtable: %s: %s", c->ctx, herr.msg);
				goto out;
			}
			at->stats.transport_errors++;
			snprintf(problem, sizeof(problem), "%s", herr.msg);
			if (!c->idempotent) {
				serr_set(e, "airtable: %s: %s; Airtable may have applied it, so it was "
					    "not sent again (check the table before retrying)",
					 c->ctx, herr.msg);
				goto out;
			}
			delay = backoff_delay(at, attempt);
		} else if (resp.status >= 200 && resp.status < 300) {
			json_error_t jerr;
			json_t *j = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0,
					       &jerr);
			if (!j) {
				serr_set(e, "airtable: %s: the answer is not valid JSON (%s at byte %d)",
					 c->ctx, jerr.text, jerr.position);
				goto out;
			}
			if (out)
				*out = j;
			else
				json_decref(j);
			rc = 0;
			goto out;
		} else if (resp.status == 429) {
			int64_t hold = at->penalty_ms;
			at->stats.rate_limited++;
			if (resp.retry_after_s > 0 && resp.retry_after_s * 1000 > (double)hold)
				hold = (int64_t)(resp.retry_after_s * 1000);
			snprintf(problem, sizeof(problem), "rate limited (429)");
			if (pacer_hold(&at->pacer, hold, e) < 0) {
				serr_wrap(e, "airtable: %s", c->ctx);
				goto out;
			}
			log_warn("airtable rate limited, holding every request to the base",
				 "table=%s hold_ms=%lld", table, (long long)hold);
		} else if (resp.status >= 500) {
			at->stats.server_errors++;
			describe_error(at, c, resp.status, &resp.body, &herr);
			snprintf(problem, sizeof(problem), "%s", herr.msg);
			if (!c->idempotent) {
				serr_set(e, "%s; Airtable may have applied it, so it was not sent again "
					    "(check the table before retrying)",
					 herr.msg);
				goto out;
			}
			delay = backoff_delay(at, attempt);
			if (resp.retry_after_s > 0 && resp.retry_after_s * 1000 > (double)delay)
				delay = resp.retry_after_s * 1000 < AIRTABLE_BACKOFF_CAP_MS
						? (int64_t)(resp.retry_after_s * 1000)
						: AIRTABLE_BACKOFF_CAP_MS;
		} else {
			describe_error(at, c, resp.status, &resp.body, e);
			if (c->missing_ok_on_retry && attempt > 0 &&
			    missing_record(resp.status, at->last_error_type)) {
				log_warn("airtable records already gone after a retry",
					 "method=%s table=%s", c->method, table);
				at->last_error_type[0] = '\0';
				rc = 0;
			}
			goto out;
		}
		if (attempt >= at->max_retries) {
			if (strncmp(problem, "airtable: ", 10) == 0)
				serr_set(e, "%s (gave up after %d retries)", problem, attempt);
			else
				serr_set(e, "airtable: %s: %s (gave up after %d retries)", c->ctx, problem,
					 attempt);
			goto out;
		}
		attempt++;
		at->stats.retries++;
		log_warn("airtable request retried", "method=%s table=%s attempt=%d delay_ms=%lld "
			 "reason=\"%.200s\"", c->method, table, attempt, (long long)delay, problem);
		sleep_ms(delay);
	}
out:
	http_response_free(&resp);
	return rc;
}
