/* Request parsing and response building for the simulator (see sim_http.h). */
#include "sim/sim_http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode n bytes of s; plus_space turns '+' into ' ' (query strings). */
static char *decode(const char *s, size_t n, int plus_space)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			*o++ = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
			i += 2;
		} else if (s[i] == '+' && plus_space) {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static int parse_query(struct sim_req *rq, const char *q, serr *e)
{
	const char *p = q;

	while (*p) {
		size_t n = strcspn(p, "&");
		const char *eq = memchr(p, '=', n);
		char *k, *v;
		json_t *pair;
		if (n) {
			k = decode(p, eq ? (size_t)(eq - p) : n, 1);
			v = eq ? decode(eq + 1, n - (size_t)(eq - p) - 1, 1) : xstrdup("");
			pair = (k && v) ? json_pack("[s,s]", k, v) : NULL;
			free(k);
			free(v);
			/* json_pack fails on invalid UTF-8: keep the pair with a marker */
			if (!pair)
				pair = json_pack("[s,s]", "\xef\xbf\xbd", "");
			if (!pair || json_array_append_new(rq->query, pair) < 0)
				return serr_set(e, "out of memory");
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return 0;
}

int sim_req_init(struct sim_req *rq, const char *raw, size_t max_body, serr *e)
{
	size_t plen;
	const char *q;

	memset(rq, 0, sizeof(*rq));
	buf_init(&rq->body, max_body ? max_body : 1);
	rq->start_ms = now_ms();
	rq->start_mono = mono_ms();
	rq->raw = xstrdup(raw ? raw : "/");
	rq->query = json_array();
	if (!rq->raw || !rq->query)
		return serr_set(e, "out of memory");
	rq->raw_len = strlen(rq->raw);
	q = strchr(rq->raw, '?');
	plen = q ? (size_t)(q - rq->raw) : rq->raw_len;
	rq->path = decode(rq->raw, plen, 0);
	if (!rq->path)
		return serr_set(e, "out of memory");
	for (const char *p = rq->raw; p < rq->raw + plen;) {
		size_t n;
		if (*p == '/') {
			p++;
			continue;
		}
		n = strcspn(p, "/?");
		if (rq->nsegs == SIM_MAX_SEGS)
			break; /* such a path matches no route */
		rq->segs[rq->nsegs] = decode(p, n, 0);
		if (!rq->segs[rq->nsegs])
			return serr_set(e, "out of memory");
		rq->nsegs++;
		p += n;
	}
	if (q && parse_query(rq, q + 1, e) < 0)
		return -1;
	return 0;
}

void sim_req_free(struct sim_req *rq)
{
	free(rq->raw);
	free(rq->path);
	for (size_t i = 0; i < rq->nsegs; i++)
		free(rq->segs[i]);
	json_decref(rq->query);
	buf_free(&rq->body);
	free(rq->auth);
	free(rq->notion_version);
	memset(rq, 0, sizeof(*rq));
}

const char *sim_q_get(const struct sim_req *rq, const char *key)
{
	size_t i;
	json_t *pair;

	json_array_foreach(rq->query, i, pair)
		if (strcmp(json_string_value(json_array_get(pair, 0)), key) == 0)
			return json_string_value(json_array_get(pair, 1));
	return NULL;
}

json_t *sim_q_object(const struct sim_req *rq)
{
	json_t *o = json_object(), *pair;
	size_t i;

	json_array_foreach(rq->query, i, pair) {
		const char *k = json_string_value(json_array_get(pair, 0));
		json_t *v = json_array_get(pair, 1), *have = json_object_get(o, k);
		int rc;
		if (!o)
			break;
		if (!have)
			rc = json_object_set(o, k, v);
		else if (json_is_array(have))
			rc = json_array_append(have, v);
		else
			rc = json_object_set_new(o, k, json_pack("[O,O]", have, v));
		if (rc < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

void sim_resp_init(struct sim_resp *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->status = 500;
	buf_init(&rs->body, 0);
	snprintf(rs->content_type, sizeof(rs->content_type), "application/json; charset=utf-8");
	rs->retry_after = -1;
}

void sim_resp_free(struct sim_resp *rs)
{
	buf_free(&rs->body);
	free(rs->disposition);
	rs->disposition = NULL;
}

void sim_resp_json(struct sim_resp *rs, int status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;

	json_decref(j);
	buf_reset(&rs->body);
	snprintf(rs->content_type, sizeof(rs->content_type), "application/json; charset=utf-8");
	if (!s || buf_puts(&rs->body, s) < 0) {
		free(s);
		buf_reset(&rs->body);
		rs->status = 500;
		if (buf_puts(&rs->body, "{\"error\":{\"type\":\"SERVER_ERROR\",\"message\":\"out of memory\"}}") < 0)
			buf_reset(&rs->body);
		return;
	}
	free(s);
	rs->status = status;
}

void sim_resp_airtable(struct sim_resp *rs, int status, const char *type, const char *msg)
{
	sim_resp_json(rs, status, json_pack("{s:{s:s, s:s}}", "error", "type", type, "message", msg));
}

void sim_resp_aterr(struct sim_resp *rs, const struct sim_aterr *ae)
{
	sim_resp_airtable(rs, ae->status ? ae->status : 500, ae->type[0] ? ae->type : "SERVER_ERROR",
			  ae->msg);
}

void sim_resp_not_found(struct sim_resp *rs)
{
	sim_resp_json(rs, 404, json_pack("{s:s}", "error", "NOT_FOUND"));
}

void sim_resp_notion(struct sim_resp *rs, int status, const char *code, const char *fmt, ...)
{
	char msg[1024], rid[40], hex[33];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rand_hex(hex, 32);
	snprintf(rid, sizeof(rid), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		 hex + 20);
	sim_resp_json(rs, status, json_pack("{s:s, s:i, s:s, s:s, s:s}", "object", "error", "status",
					    status, "code", code, "message", msg, "request_id", rid));
}

void sim_resp_ctl_error(struct sim_resp *rs, int status, const char *fmt, ...)
{
	char msg[SERR_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim_resp_json(rs, status, json_pack("{s:s}", "error", msg));
}

int sim_req_json(struct sim_req *rq, struct sim_resp *rs, json_t **out)
{
	json_error_t je;

	*out = NULL;
	if (rq->body.len == 0)
		return 0;
	*out = json_loadb(rq->body.data, rq->body.len, 0, &je);
	if (*out)
		return 0;
	if (rq->api == SIM_API_NOTION)
		sim_resp_notion(rs, 400, "invalid_json", "Error parsing JSON body.");
	else if (rq->api == SIM_API_CONTROL)
		sim_resp_ctl_error(rs, 400, "invalid json at line %d: %s", je.line, je.text);
	else
		sim_resp_airtable(rs, 400, "INVALID_REQUEST_BODY", "Could not parse request body");
	return -1;
}
