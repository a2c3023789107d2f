/*
 * The Airtable Web API routes of the simulator: records (get, create,
 * update with PATCH or PUT, upsert, delete) and the Meta API's table
 * schema. Listing lives in sim_list.c. Bodies are checked strictly: an
 * unknown member is refused rather than ignored, as a misspelt option
 * would otherwise change nothing silently.
 */
#include "sim/sim_internal.h"

#include <stdio.h>
#include <string.h>

#include "core/util.h"

static void model_not_found(struct sim_resp *rs)
{
	sim_resp_airtable(rs, 403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
			  "Invalid permissions, or the requested model was not found. Check that "
			  "both your user and your token have the required permissions, and that "
			  "the model names and/or ids are correct.");
}

static void invalid_request(struct sim_resp *rs, const char *detail)
{
	char msg[512];

	snprintf(msg, sizeof(msg),
		 "Invalid request: parameter validation failed. Check your request data. (%s)",
		 detail);
	sim_resp_airtable(rs, 422, "INVALID_REQUEST_UNKNOWN", msg);
}

static int only_keys(const json_t *o, const char *const *allowed, size_t n, const char **bad)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		int ok = 0;
		for (size_t i = 0; i < n; i++)
			if (strcmp(k, allowed[i]) == 0)
				ok = 1;
		if (!ok) {
			*bad = k;
			return -1;
		}
	}
	return 0;
}

/* A boolean body member; absent is false. */
static int body_bool(const json_t *body, const char *key, int *out)
{
	json_t *v = json_object_get(body, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

/* Airtable's answer to a malformed records array (create and update word it differently). */
static void bad_records(struct sim_resp *rs, int update)
{
	sim_resp_airtable(rs, 422, "INVALID_RECORDS",
			  update ? "You must provide an array of up to 10 record objects, each with an "
				   "\"id\" ID field and a \"fields\" object for cell values."
				 : "You must provide an array of up to 10 record objects, each with a "
				   "\"fields\" object for cell values.");
}

static json_t *render_ids(struct sim *s, struct sim_base *b, struct sim_table *t, json_t *ids,
			  int by_id)
{
	struct sim_signer sg;
	struct sim_render ro = { .by_field_id = by_id, .signer = &sg };
	json_t *arr = json_array(), *id;
	size_t i;

	sim_signer_now(s, &sg);
	json_array_foreach(ids, i, id) {
		struct sim_record *r = sim_table_record(t, json_string_value(id), NULL);
		json_t *rj = r ? sim_record_json(b, t, r, &ro) : NULL;
		if (!arr || !rj || json_array_append_new(arr, rj) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static void get_record(struct sim *s, struct sim_req *rq, struct sim_resp *rs,
		       struct sim_base *b, struct sim_table *t, const char *id)
{
	struct sim_record *r = sim_table_record(t, id, NULL);
	struct sim_signer sg;
	struct sim_render ro = { .signer = &sg };
	size_t i;
	json_t *pair;

	json_array_foreach(rq->query, i, pair) {
		const char *k = json_string_value(json_array_get(pair, 0));
		const char *v = json_string_value(json_array_get(pair, 1));
		if (strcmp(k, "returnFieldsByFieldId") == 0) {
			ro.by_field_id = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
		} else if (strcmp(k, "cellFormat") == 0) {
			if (strcmp(v, "json") != 0 && strcmp(v, "string") != 0) {
				invalid_request(rs, "cellFormat");
				return;
			}
			ro.as_strings = strcmp(v, "string") == 0;
		} else if (strcmp(k, "timeZone") != 0 && strcmp(k, "userLocale") != 0) {
			invalid_request(rs, k);
			return;
		}
	}
	if (ro.as_strings && (!sim_q_get(rq, "timeZone") || !sim_q_get(rq, "userLocale"))) {
		invalid_request(rs, "timeZone and userLocale are required with cellFormat=string");
		return;
	}
	if (!r) {
		sim_resp_airtable(rs, 404, "MODEL_ID_NOT_FOUND", "Record not found");
		return;
	}
	sim_signer_now(s, &sg);
	sim_resp_json(rs, 200, sim_record_json(b, t, r, &ro));
}

static void create_records(struct sim *s, struct sim_resp *rs, struct sim_base *b,
			   struct sim_table *t, const json_t *body)
{
	static const char *const allowed[] = { "records", "fields", "typecast",
					       "returnFieldsByFieldId" };
	struct sim_wrec w[SIM_MAX_BATCH];
	struct sim_wresult res = { 0 };
	struct sim_aterr ae;
	json_t *records = json_object_get(body, "records"), *fields = json_object_get(body, "fields");
	int typecast, by_id, single = 0;
	const char *bad;
	size_t n = 0, i;
	json_t *rec;

	if (!json_is_object(body) || only_keys(body, allowed, 4, &bad) < 0) {
		invalid_request(rs, json_is_object(body) ? bad : "body");
		return;
	}
	if (body_bool(body, "typecast", &typecast) < 0 ||
	    body_bool(body, "returnFieldsByFieldId", &by_id) < 0) {
		invalid_request(rs, "typecast and returnFieldsByFieldId are booleans");
		return;
	}
	if (fields && !records) {
		single = 1;
		w[0].id = NULL;
		w[0].fields = fields;
		n = 1;
	} else if (json_is_array(records) && !fields && json_array_size(records) <= SIM_MAX_BATCH) {
		json_array_foreach(records, i, rec) {
			static const char *const rec_allowed[] = { "fields" };
			if (!json_is_object(rec) || only_keys(rec, rec_allowed, 1, &bad) < 0) {
				bad_records(rs, 0);
				goto out;
			}
			w[n].id = NULL;
			w[n].fields = json_object_get(rec, "fields");
			n++;
		}
	} else {
		bad_records(rs, 0);
		goto out;
	}
	sim_wresult_init(&res);
	if (sim_table_write(b, t, SIM_W_CREATE, w, n, typecast, NULL, now_ms(), &res, &ae) < 0) {
		sim_resp_aterr(rs, &ae);
		goto out;
	}
	if (single) {
		json_t *arr = render_ids(s, b, t, res.ids, by_id);
		sim_resp_json(rs, 200, arr ? json_incref(json_array_get(arr, 0)) : NULL);
		json_decref(arr);
	} else {
		json_t *arr = render_ids(s, b, t, res.ids, by_id);
		sim_resp_json(rs, 200, arr ? json_pack("{s:o}", "records", arr) : NULL);
	}
out:
	sim_wresult_free(&res);
}

static void update_records(struct sim *s, struct sim_req *rq, struct sim_resp *rs,
			   struct sim_base *b, struct sim_table *t, const json_t *body,
			   const char *path_id)
{
	static const char *const batch_allowed[] = { "records", "typecast", "performUpsert",
						     "returnFieldsByFieldId" };
	static const char *const single_allowed[] = { "fields", "typecast", "returnFieldsByFieldId" };
	enum sim_wmode mode = strcmp(rq->method, "PUT") == 0 ? SIM_W_PUT : SIM_W_PATCH;
	struct sim_wrec w[SIM_MAX_BATCH];
	struct sim_wresult res = { 0 };
	struct sim_aterr ae;
	json_t *records = json_object_get(body, "records"), *upsert = json_object_get(body, "performUpsert");
	json_t *merge_on = NULL, *rec;
	int typecast, by_id;
	const char *bad;
	size_t n = 0, i;

	if (!json_is_object(body)) {
		invalid_request(rs, "body");
		return;
	}
	if (path_id ? only_keys(body, single_allowed, 3, &bad) < 0
		    : only_keys(body, batch_allowed, 4, &bad) < 0) {
		invalid_request(rs, bad);
		return;
	}
	if (body_bool(body, "typecast", &typecast) < 0 ||
	    body_bool(body, "returnFieldsByFieldId", &by_id) < 0) {
		invalid_request(rs, "typecast and returnFieldsByFieldId are booleans");
		return;
	}
	if (upsert) {
		static const char *const up_allowed[] = { "fieldsToMergeOn" };
		if (!json_is_object(upsert) || only_keys(upsert, up_allowed, 1, &bad) < 0) {
			invalid_request(rs, "performUpsert");
			return;
		}
		merge_on = json_object_get(upsert, "fieldsToMergeOn");
		if (!merge_on) {
			invalid_request(rs, "performUpsert.fieldsToMergeOn");
			return;
		}
	}
	if (path_id) {
		if (!sim_table_record(t, path_id, NULL)) {
			sim_resp_airtable(rs, 404, "MODEL_ID_NOT_FOUND", "Record not found");
			goto out;
		}
		w[0].id = path_id;
		w[0].fields = json_object_get(body, "fields");
		n = 1;
	} else {
		if (!json_is_array(records) || json_array_size(records) > SIM_MAX_BATCH) {
			bad_records(rs, 1);
			goto out;
		}
		json_array_foreach(records, i, rec) {
			static const char *const rec_allowed[] = { "id", "fields" };
			json_t *id = json_object_get(rec, "id");
			if (!json_is_object(rec) || only_keys(rec, rec_allowed, 2, &bad) < 0 ||
			    (id && !json_is_string(id)) || (!id && !merge_on)) {
				bad_records(rs, 1);
				goto out;
			}
			w[n].id = json_string_value(id);
			w[n].fields = json_object_get(rec, "fields");
			n++;
		}
	}
	sim_wresult_init(&res);
	if (sim_table_write(b, t, mode, w, n, typecast, merge_on, now_ms(), &res, &ae) < 0) {
		sim_resp_aterr(rs, &ae);
		goto out;
	}
	if (path_id) {
		json_t *arr = render_ids(s, b, t, res.ids, by_id);
		sim_resp_json(rs, 200, arr ? json_incref(json_array_get(arr, 0)) : NULL);
		json_decref(arr);
	} else {
		json_t *arr = render_ids(s, b, t, res.ids, by_id);
		if (merge_on)
			sim_resp_json(rs, 200,
				      arr ? json_pack("{s:O, s:O, s:o}", "createdRecords", res.created,
						      "updatedRecords", res.updated, "records", arr)
					  : NULL);
		else
			sim_resp_json(rs, 200, arr ? json_pack("{s:o}", "records", arr) : NULL);
	}
out:
	sim_wresult_free(&res);
}

static void delete_records(struct sim_req *rq, struct sim_resp *rs, struct sim_base *b,
			   struct sim_table *t, const char *path_id)
{
	const char *ids[SIM_MAX_BATCH + 1];
	struct sim_aterr ae;
	size_t n = 0, i;
	json_t *pair, *arr;

	if (path_id) {
		ids[n++] = path_id;
	} else {
		json_array_foreach(rq->query, i, pair) {
			const char *k = json_string_value(json_array_get(pair, 0));
			if (strcmp(k, "records[]") != 0 && strcmp(k, "records") != 0 &&
			    strncmp(k, "records[", 8) != 0) {
				invalid_request(rs, k);
				return;
			}
			if (n == SIM_MAX_BATCH) {
				n++;
				break;
			}
			ids[n++] = json_string_value(json_array_get(pair, 1));
		}
	}
	if (sim_table_delete(b, t, ids, n, now_ms(), &ae) < 0) {
		if (path_id && ae.status == 404)
			sim_resp_airtable(rs, 404, "MODEL_ID_NOT_FOUND", "Record not found");
		else
			sim_resp_aterr(rs, &ae);
		return;
	}
	if (path_id) {
		sim_resp_json(rs, 200, json_pack("{s:s, s:b}", "id", path_id, "deleted", 1));
		return;
	}
	arr = json_array();
	for (i = 0; arr && i < n; i++)
		if (json_array_append_new(arr, json_pack("{s:s, s:b}", "id", ids[i], "deleted", 1)) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	sim_resp_json(rs, 200, arr ? json_pack("{s:o}", "records", arr) : NULL);
}

static void meta(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	if (strcmp(rq->method, "GET") != 0) {
		sim_resp_not_found(rs);
		return;
	}
	if (rq->nsegs == 3 && strcmp(rq->segs[2], "bases") == 0) {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < s->nbases; i++) {
			if (json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "id",
								 s->bases[i]->id, "name",
								 s->bases[i]->name, "permissionLevel",
								 "create")) < 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		sim_resp_json(rs, 200, arr ? json_pack("{s:o}", "bases", arr) : NULL);
		return;
	}
	if (rq->nsegs == 5 && strcmp(rq->segs[2], "bases") == 0 &&
	    strcmp(rq->segs[4], "tables") == 0) {
		struct sim_base *b = sim_find_base(s, rq->segs[3]);
		json_t *arr;
		if (!b) {
			model_not_found(rs);
			return;
		}
		arr = json_array();
		for (size_t i = 0; arr && i < b->ntables; i++) {
			json_t *tj = sim_table_meta(b, &b->tables[i]);
			if (!tj || json_array_append_new(arr, tj) < 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		sim_resp_json(rs, 200, arr ? json_pack("{s:o}", "tables", arr) : NULL);
		return;
	}
	sim_resp_not_found(rs);
}

void sim_airtable_handle(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_base *b;
	struct sim_table *t;
	const char *m = rq->method;
	json_t *body = NULL;

	if (rq->nsegs >= 2 && strcmp(rq->segs[1], "meta") == 0) {
		meta(s, rq, rs);
		return;
	}
	if (rq->nsegs < 3 || rq->nsegs > 4) {
		sim_resp_not_found(rs);
		return;
	}
	b = sim_find_base(s, rq->segs[1]);
	if (!b) {
		model_not_found(rs);
		return;
	}
	t = sim_base_table(b, rq->segs[2]);
	if (!t) {
		model_not_found(rs);
		return;
	}
	if ((strcmp(m, "POST") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "PUT") == 0) &&
	    sim_req_json(rq, rs, &body) < 0)
		return;
	if (rq->nsegs == 3) {
		if (strcmp(m, "GET") == 0)
			sim_list_records(s, rq, rs, b, t, NULL);
		else if (strcmp(m, "POST") == 0)
			create_records(s, rs, b, t, body);
		else if (strcmp(m, "PATCH") == 0 || strcmp(m, "PUT") == 0)
			update_records(s, rq, rs, b, t, body, NULL);
		else if (strcmp(m, "DELETE") == 0)
			delete_records(rq, rs, b, t, NULL);
		else
			sim_resp_not_found(rs);
	} else if (strcmp(rq->segs[3], "listRecords") == 0 && strcmp(m, "POST") == 0) {
		json_t *empty = body ? NULL : json_object();
		sim_list_records(s, rq, rs, b, t, body ? body : empty);
		json_decref(empty);
	} else if (!sim_is_id(rq->segs[3], "rec") && !sim_table_record(t, rq->segs[3], NULL)) {
		sim_resp_not_found(rs);
	} else if (strcmp(m, "GET") == 0) {
		get_record(s, rq, rs, b, t, rq->segs[3]);
	} else if (strcmp(m, "PATCH") == 0 || strcmp(m, "PUT") == 0) {
		update_records(s, rq, rs, b, t, body, rq->segs[3]);
	} else if (strcmp(m, "DELETE") == 0) {
		delete_records(rq, rs, b, t, rq->segs[3]);
	} else {
		sim_resp_not_found(rs);
	}
	json_decref(body);
}
