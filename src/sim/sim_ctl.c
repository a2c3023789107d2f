/*
 * The simulator's test-only endpoints under /_sim (no auth, never part of
 * the real APIs): load and read bases, edit records as a recruiter, inject
 * faults, read the request log and counters, change limits; and the
 * attachment downloads behind the signed URLs records carry, which need no
 * auth, like Airtable's CDN, but expire.
 */
#include "sim/sim_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static int is(const struct sim_req *rq, const char *method)
{
	return strcmp(rq->method, method) == 0;
}

static void load(struct sim *s, struct sim_resp *rs, const json_t *body)
{
	serr e;
	json_t *tables = json_object_get(body, "tables"), *t, *out;
	size_t i;

	if (!body) {
		sim_resp_ctl_error(rs, 400, "the body must be a base in the docs/simulator.md format");
		return;
	}
	if (sim_load_base(s, body, &e) < 0) {
		sim_resp_ctl_error(rs, 400, "%s", e.msg);
		return;
	}
	out = json_pack("{s:s, s:[]}", "id", json_string_value(json_object_get(body, "id")), "tables");
	json_array_foreach(tables, i, t) {
		json_t *recs = json_object_get(t, "records");
		if (out && json_array_append_new(json_object_get(out, "tables"),
						 json_pack("{s:O?, s:O?, s:I}", "id", json_object_get(t, "id"),
							   "name", json_object_get(t, "name"), "records",
							   (json_int_t)json_array_size(recs))) < 0) {
			json_decref(out);
			out = NULL;
		}
	}
	sim_resp_json(rs, 200, out);
}

/* /_sim/bases/{id}/tables/{table}/records[/{rec}] */
static void record_edit(struct sim *s, struct sim_req *rq, struct sim_resp *rs, const json_t *body)
{
	const char *base = rq->segs[2], *table = rq->segs[4];
	const char *rec = rq->nsegs == 7 ? rq->segs[6] : NULL;
	json_t *fields = json_object_get(body, "fields");
	char id[SIM_ID_MAX];
	serr e;

	if (is(rq, "DELETE") && rec) {
		if (sim_delete_record(s, base, table, rec, &e) < 0)
			sim_resp_ctl_error(rs, 404, "%s", e.msg);
		else
			sim_resp_json(rs, 200, json_pack("{s:s, s:b}", "id", rec, "deleted", 1));
		return;
	}
	if (!is(rq, "POST") && !is(rq, "PATCH")) {
		sim_resp_ctl_error(rs, 405, "use POST to edit or create, DELETE to delete");
		return;
	}
	if (!json_is_object(fields)) {
		sim_resp_ctl_error(rs, 400, "the body must be {\"fields\": {...}}");
		return;
	}
	if (rec) {
		if (sim_edit_record(s, base, table, rec, fields, &e) < 0) {
			sim_resp_ctl_error(rs, 422, "%s", e.msg);
			return;
		}
		snprintf(id, sizeof(id), "%s", rec);
	} else if (sim_create_record(s, base, table, fields, id, &e) < 0) {
		sim_resp_ctl_error(rs, 422, "%s", e.msg);
		return;
	}
	sim_resp_json(rs, 200, json_pack("{s:s}", "id", id));
}

static void faults(struct sim *s, struct sim_req *rq, struct sim_resp *rs, const json_t *body)
{
	struct sim_fault f;
	json_t *list;
	size_t i;
	json_t *one;
	serr e;

	if (is(rq, "DELETE")) {
		sim_fault_init(&f, SIM_FAULT_RESET);
		if (sim_add_fault(s, &f, &e) < 0) {
			sim_resp_ctl_error(rs, 400, "%s", e.msg);
			return;
		}
	} else if (is(rq, "POST")) {
		list = json_is_array(body) ? json_incref((json_t *)body) : json_pack("[O]", body);
		if (!body || !list) {
			json_decref(list);
			sim_resp_ctl_error(rs, 400, "the body must be a fault object or an array of them");
			return;
		}
		json_array_foreach(list, i, one) {
			if (sim_fault_parse(&f, one, &e) < 0 || sim_add_fault(s, &f, &e) < 0) {
				json_decref(list);
				sim_resp_ctl_error(rs, 400, "fault %zu: %s", i, e.msg);
				return;
			}
		}
		json_decref(list);
	} else if (!is(rq, "GET")) {
		sim_resp_ctl_error(rs, 405, "use GET, POST or DELETE");
		return;
	}
	pthread_mutex_lock(&s->lock);
	list = sim_traffic_faults(&s->traffic);
	pthread_mutex_unlock(&s->lock);
	sim_resp_json(rs, 200, list ? json_pack("{s:o}", "pending", list) : NULL);
}

static void config(struct sim *s, struct sim_req *rq, struct sim_resp *rs, const json_t *body)
{
	serr e;

	if (is(rq, "POST")) {
		if (!body || sim_configure(s, body, &e) < 0) {
			sim_resp_ctl_error(rs, 400, "%s", body ? e.msg : "the body must be a JSON object");
			return;
		}
	} else if (!is(rq, "GET")) {
		sim_resp_ctl_error(rs, 405, "use GET or POST");
		return;
	}
	sim_resp_json(rs, 200, sim_config_json(s));
}

void sim_ctl_handle(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *what = rq->nsegs > 1 ? rq->segs[1] : "";
	json_t *body = NULL;

	if (sim_req_json(rq, rs, &body) < 0)
		return;
	if (strcmp(what, "health") == 0 && rq->nsegs == 2) {
		sim_resp_json(rs, 200, json_pack("{s:b, s:s}", "ok", 1, "url", s->url));
	} else if (strcmp(what, "bases") == 0 && rq->nsegs == 2 && is(rq, "POST")) {
		load(s, rs, body);
	} else if (strcmp(what, "bases") == 0 && rq->nsegs == 3 && is(rq, "GET")) {
		json_t *dump = sim_dump_base(s, rq->segs[2]);
		if (dump)
			sim_resp_json(rs, 200, dump);
		else
			sim_resp_ctl_error(rs, 404, "unknown base '%s'", rq->segs[2]);
	} else if (strcmp(what, "bases") == 0 && (rq->nsegs == 6 || rq->nsegs == 7) &&
		   strcmp(rq->segs[3], "tables") == 0 && strcmp(rq->segs[5], "records") == 0) {
		record_edit(s, rq, rs, body);
	} else if (strcmp(what, "faults") == 0 && rq->nsegs == 2) {
		faults(s, rq, rs, body);
	} else if (strcmp(what, "requests") == 0 && rq->nsegs == 2 && is(rq, "GET")) {
		json_t *log = sim_requests(s);
		sim_resp_json(rs, 200, log ? json_pack("{s:o}", "requests", log) : NULL);
	} else if (strcmp(what, "requests") == 0 && rq->nsegs == 2 && is(rq, "DELETE")) {
		sim_requests_clear(s);
		sim_resp_json(rs, 200, json_pack("{s:b}", "ok", 1));
	} else if (strcmp(what, "stats") == 0 && rq->nsegs == 2 && is(rq, "GET")) {
		sim_resp_json(rs, 200, sim_stats(s));
	} else if (strcmp(what, "stats") == 0 && rq->nsegs == 2 && is(rq, "DELETE")) {
		sim_stats_reset(s);
		sim_resp_json(rs, 200, json_pack("{s:b}", "ok", 1));
	} else if (strcmp(what, "config") == 0 && rq->nsegs == 2) {
		config(s, rq, rs, body);
	} else {
		sim_resp_ctl_error(rs, 404, "no control endpoint %s %s (see docs/simulator.md)",
				   rq->method, rq->path);
	}
	json_decref(body);
}

static void plain(struct sim_resp *rs, int status, const char *text)
{
	buf_reset(&rs->body);
	snprintf(rs->content_type, sizeof(rs->content_type), "text/plain; charset=utf-8");
	rs->status = buf_puts(&rs->body, text) < 0 ? 500 : status;
}

void sim_attachment_handle(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *expires = sim_q_get(rq, "expires"), *sig = sim_q_get(rq, "sig");
	struct sim_att *a = NULL;
	char want[65];
	int64_t until;

	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
		plain(rs, 405, "method not allowed\n");
		return;
	}
	for (size_t i = 0; rq->nsegs == 4 && !a && i < s->nbases; i++)
		a = sim_base_att(s->bases[i], rq->segs[2]);
	if (!a || !a->blob) {
		plain(rs, 404, "not found\n");
		return;
	}
	if (!expires || !sig || parse_i64(expires, 0, INT64_MAX, &until) < 0) {
		plain(rs, 403, "access denied: the URL is not signed\n");
		return;
	}
	sim_att_sig(s->secret, a, expires, want);
	if (strcmp(want, sig) != 0) {
		plain(rs, 403, "access denied: bad signature\n");
		return;
	}
	if (now_ms() >= until) {
		plain(rs, 410, "this attachment URL has expired; list the record again for a fresh one\n");
		return;
	}
	buf_reset(&rs->body);
	rs->body.max = a->blob->len + 1;
	if (buf_append(&rs->body, a->blob->data, a->blob->len) < 0) {
		plain(rs, 500, "out of memory\n");
		return;
	}
	snprintf(rs->content_type, sizeof(rs->content_type), "%s", a->type);
	free(rs->disposition);
	rs->disposition = NULL;
	{
		struct buf d;
		buf_init(&d, 1024);
		if (buf_puts(&d, "inline; filename=\"") == 0) {
			for (const char *p = a->filename; *p; p++)
				if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
				    buf_putc(&d, *p) < 0)
					break;
			if (buf_putc(&d, '"') == 0)
				rs->disposition = buf_detach(&d);
		}
		buf_free(&d);
	}
	rs->status = 200;
}
