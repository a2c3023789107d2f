/*
 * Writes to the simulator's Airtable model: creates, PATCH/PUT updates,
 * upserts and deletes, each validated whole before anything changes, and
 * the inverse side of linked-record fields, which Airtable keeps in step on
 * every write. Cell values are checked in sim_value.c.
 */
#include "sim/sim_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static int array_has(const json_t *arr, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return 1;
	return 0;
}

/* Add or remove `id` in r's link field `name`, stamping the change. */
static int link_edit(struct sim_record *r, const char *name, const char *id, int add, int64_t now)
{
	json_t *arr = json_object_get(r->fields, name);
	size_t i;
	json_t *v;

	if (add) {
		if (arr && array_has(arr, id))
			return 0;
		if (!arr) {
			arr = json_array();
			if (!arr || json_object_set_new(r->fields, name, arr) < 0)
				return -1;
		}
		if (json_array_append_new(arr, json_string(id)) < 0)
			return -1;
	} else {
		int found = 0;
		json_array_foreach(arr, i, v) {
			if (strcmp(json_string_value(v), id) == 0) {
				if (json_array_remove(arr, i) < 0)
					return -1;
				found = 1;
				break;
			}
		}
		if (!found)
			return 0;
		if (json_array_size(arr) == 0 && json_object_del(r->fields, name) < 0)
			return -1;
	}
	return json_object_set_new(r->mtimes, name, json_integer(now));
}

/* Mirror a change of r's link field f (old -> new) on the linked records. */
static int link_mirror(struct sim_base *b, struct sim_field *f, struct sim_record *r,
		       const json_t *old, const json_t *new, int64_t now)
{
	struct sim_table *lt;
	size_t i;
	json_t *v;

	if (f->kind != SIM_F_LINKS || !f->inverse)
		return 0;
	lt = sim_base_table(b, f->link_table);
	if (!lt)
		return 0;
	json_array_foreach(old, i, v) {
		struct sim_record *x;
		if (new && array_has(new, json_string_value(v)))
			continue;
		x = sim_table_record(lt, json_string_value(v), NULL);
		if (x && link_edit(x, f->inverse, r->id, 0, now) < 0)
			return -1;
	}
	json_array_foreach(new, i, v) {
		struct sim_record *x;
		if (old && array_has(old, json_string_value(v)))
			continue;
		x = sim_table_record(lt, json_string_value(v), NULL);
		if (x && link_edit(x, f->inverse, r->id, 1, now) < 0)
			return -1;
	}
	return 0;
}

/* Set one field of a record; a change of value stamps the field and its inverse links. */
static int set_value(struct sim_base *b, struct sim_field *f, struct sim_record *r, json_t *nv,
		     int64_t now)
{
	json_t *old = json_object_get(r->fields, f->name);
	int rc = -1;

	if ((!old && !nv) || (old && nv && json_equal(old, nv)))
		return 0;
	json_incref(old);
	if (nv) {
		if (json_object_set(r->fields, f->name, nv) < 0)
			goto out;
	} else if (json_object_del(r->fields, f->name) < 0) {
		goto out;
	}
	if (json_object_set_new(r->mtimes, f->name, json_integer(now)) < 0)
		goto out;
	rc = link_mirror(b, f, r, old, nv, now);
out:
	json_decref(old);
	return rc;
}

int sim_base_link_all(struct sim_base *b, int64_t now, serr *e)
{
	(void)now;
	for (size_t i = 0; i < b->ntables; i++) {
		struct sim_table *t = &b->tables[i];
		for (size_t k = 0; k < t->nfields; k++) {
			struct sim_field *f = &t->fields[k];
			struct sim_table *lt;
			if (f->kind != SIM_F_LINKS || !f->inverse)
				continue;
			lt = sim_base_table(b, f->link_table);
			for (size_t r = 0; lt && r < t->nrecs; r++) {
				json_t *ids = json_object_get(t->recs[r]->fields, f->name), *id;
				size_t x;
				json_array_foreach(ids, x, id) {
					struct sim_record *o = sim_table_record(lt, json_string_value(id), NULL);
					json_t *back = o ? json_object_get(o->fields, f->inverse) : NULL;
					if (!o || (back && array_has(back, t->recs[r]->id)))
						continue;
					/* a one-sided load: the other side was last changed with o itself */
					if (link_edit(o, f->inverse, t->recs[r]->id, 1, o->created_ms) < 0)
						return serr_set(e, "out of memory");
				}
			}
		}
	}
	return 0;
}

/* ---- writes ---- */

void sim_wresult_init(struct sim_wresult *r)
{
	r->ids = json_array();
	r->created = json_array();
	r->updated = json_array();
}

void sim_wresult_free(struct sim_wresult *r)
{
	json_decref(r->ids);
	json_decref(r->created);
	json_decref(r->updated);
	r->ids = r->created = r->updated = NULL;
}

/* Normalize the "fields" of one request record into name -> value (null = clear). */
static int normalize_fields(struct sim_base *b, struct sim_table *t, const json_t *fields,
			    int typecast, json_t **out, struct sim_aterr *ae)
{
	json_t *norm = json_object(), *v;
	const char *k;

	if (!norm)
		return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
	json_object_foreach((json_t *)fields, k, v) {
		struct sim_field *f = sim_table_field(t, k);
		json_t *nv = NULL;
		if (!f) {
			json_decref(norm);
			return sim_aterr_set(ae, 422, "UNKNOWN_FIELD_NAME", "Unknown field name: \"%s\"", k);
		}
		if (sim_field_normalize(b, t, f, v, typecast ? SIM_NORM_TYPECAST : 0, &nv, ae) < 0) {
			json_decref(norm);
			return -1;
		}
		if (json_object_set_new(norm, f->name, nv ? nv : json_null()) < 0) {
			json_decref(norm);
			return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
		}
	}
	*out = norm;
	return 0;
}

static int same_value(const json_t *stored, const json_t *want)
{
	if (json_is_null(want))
		want = NULL;
	if (!stored || !want)
		return !stored && !want;
	return json_equal(stored, want);
}

/* The one record whose merge fields equal the request's, NULL for none, -1 for several. */
static int upsert_match(struct sim_table *t, const json_t *merge_on, const json_t *norm,
			struct sim_record **found, struct sim_aterr *ae)
{
	*found = NULL;
	for (size_t i = 0; i < t->nrecs; i++) {
		size_t k;
		json_t *name;
		int all = 1;
		json_array_foreach(merge_on, k, name) {
			const char *n = sim_table_field(t, json_string_value(name))->name;
			if (!same_value(json_object_get(t->recs[i]->fields, n), json_object_get(norm, n)))
				all = 0;
		}
		if (!all)
			continue;
		if (*found)
			return sim_aterr_set(ae, 422, "INVALID_VALUE_FOR_COLUMN",
					     "Cannot update more than one record with an upsert: "
					     "several records match the fields to merge on");
		*found = t->recs[i];
	}
	return 0;
}

static int check_merge_on(struct sim_table *t, const json_t *merge_on, struct sim_aterr *ae)
{
	size_t i;
	json_t *n;

	if (!json_is_array(merge_on) || json_array_size(merge_on) < 1 || json_array_size(merge_on) > 3)
		return sim_aterr_set(ae, 422, "INVALID_REQUEST_UNKNOWN",
				     "Invalid request: 'performUpsert.fieldsToMergeOn' must name 1 to 3 "
				     "fields");
	json_array_foreach(merge_on, i, n) {
		struct sim_field *f = json_is_string(n) ? sim_table_field(t, json_string_value(n)) : NULL;
		if (!f)
			return sim_aterr_set(ae, 422, "UNKNOWN_FIELD_NAME", "Unknown field name: \"%s\"",
					     json_is_string(n) ? json_string_value(n) : "?");
		if (f->kind == SIM_F_LINKS || f->kind == SIM_F_ATTACHMENTS ||
		    f->kind == SIM_F_COMPUTED || f->kind == SIM_F_CREATED_TIME ||
		    f->kind == SIM_F_MODIFIED_TIME || f->kind == SIM_F_MULTISELECT)
			return sim_aterr_set(ae, 422, "INVALID_REQUEST_UNKNOWN",
					     "Invalid request: field \"%s\" cannot be used to merge on",
					     f->name);
	}
	return 0;
}

static struct sim_record *new_record(struct sim_base *b, struct sim_table *t, int64_t now)
{
	struct sim_record *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	for (;;) {
		int taken = 0;
		sim_new_id(r->id, "rec");
		for (size_t i = 0; i < b->ntables; i++)
			if (sim_table_record(&b->tables[i], r->id, NULL))
				taken = 1;
		if (!taken)
			break;
	}
	r->created_ms = now;
	r->fields = json_object();
	r->mtimes = json_object();
	if (!r->fields || !r->mtimes || sim_table_add_record(t, r) < 0) {
		sim_record_free(r);
		return NULL;
	}
	return r;
}

/* Apply one validated record. */
static int apply_one(struct sim_base *b, struct sim_table *t, enum sim_wmode mode,
		     struct sim_record *r, const json_t *norm, int typecast, int64_t now)
{
	if (mode == SIM_W_PUT) {
		for (size_t i = 0; i < t->nfields; i++) {
			struct sim_field *f = &t->fields[i];
			json_t *v = json_object_get(norm, f->name);
			if (f->kind == SIM_F_COMPUTED || f->kind == SIM_F_CREATED_TIME ||
			    f->kind == SIM_F_MODIFIED_TIME)
				continue;
			if (typecast && v && sim_field_add_choices(f, v) < 0)
				return -1;
			if (set_value(b, f, r, json_is_null(v) ? NULL : v, now) < 0)
				return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < t->nfields; i++) {
		struct sim_field *f = &t->fields[i];
		json_t *v = json_object_get(norm, f->name);
		if (!v)
			continue;
		if (typecast && sim_field_add_choices(f, v) < 0)
			return -1;
		if (set_value(b, f, r, json_is_null(v) ? NULL : v, now) < 0)
			return -1;
	}
	return 0;
}

int sim_table_write(struct sim_base *b, struct sim_table *t, enum sim_wmode mode,
		    const struct sim_wrec *recs, size_t n, int typecast, const json_t *merge_on,
		    int64_t now, struct sim_wresult *res, struct sim_aterr *ae)
{
	json_t *norms[SIM_MAX_BATCH] = { 0 };
	struct sim_record *targets[SIM_MAX_BATCH] = { 0 };
	int rc = -1;

	if (!res->ids || !res->created || !res->updated)
		return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
	if (n == 0 || n > SIM_MAX_BATCH)
		return sim_aterr_set(ae, 422, "INVALID_RECORDS",
				     mode == SIM_W_CREATE
					     ? "You must provide an array of up to 10 record objects, each "
					       "with a \"fields\" object for cell values."
					     : "You must provide an array of up to 10 record objects, each "
					       "with an \"id\" ID field and a \"fields\" object for cell "
					       "values.");
	if (merge_on && check_merge_on(t, merge_on, ae) < 0)
		return -1;
	/* validate everything before changing anything */
	for (size_t i = 0; i < n; i++) {
		if (!json_is_object(recs[i].fields)) {
			sim_aterr_set(ae, 422, "INVALID_RECORDS",
				      "You must provide a \"fields\" object for cell values.");
			goto out;
		}
		if (normalize_fields(b, t, recs[i].fields, typecast, &norms[i], ae) < 0)
			goto out;
		if (mode == SIM_W_CREATE)
			continue;
		if (recs[i].id) {
			targets[i] = sim_table_record(t, recs[i].id, NULL);
			if (!targets[i]) {
				sim_aterr_set(ae, 422, "ROW_DOES_NOT_EXIST",
					      "Record ID %s does not exist in this table", recs[i].id);
				goto out;
			}
		} else if (merge_on) {
			size_t k;
			json_t *name;
			json_array_foreach(merge_on, k, name) {
				const char *fname = sim_table_field(t, json_string_value(name))->name;
				if (!json_object_get(norms[i], fname)) {
					sim_aterr_set(ae, 422, "INVALID_REQUEST_UNKNOWN",
						      "Invalid request: every record of an upsert must set "
						      "the field to merge on \"%s\"",
						      fname);
					goto out;
				}
			}
			if (upsert_match(t, merge_on, norms[i], &targets[i], ae) < 0)
				goto out;
		} else {
			sim_aterr_set(ae, 422, "INVALID_RECORDS",
				      "You must provide an array of up to 10 record objects, each with "
				      "an \"id\" ID field and a \"fields\" object for cell values.");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct sim_record *r = targets[i];
		int created = 0;
		if (!r) {
			r = new_record(b, t, now);
			if (!r) {
				sim_aterr_set(ae, 422, "TABLE_RECORD_LIMIT_EXCEEDED",
					      "The table has reached its record limit");
				goto out;
			}
			created = 1;
		}
		if (apply_one(b, t, created ? SIM_W_PATCH : mode, r, norms[i], typecast, now) < 0 ||
		    json_array_append_new(res->ids, json_string(r->id)) < 0 ||
		    json_array_append_new(created ? res->created : res->updated, json_string(r->id)) <
			    0) {
			sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < n && i < SIM_MAX_BATCH; i++)
		json_decref(norms[i]);
	return rc;
}

/* Take a deleted record's id out of every link field that points at its table. */
static int unlink_everywhere(struct sim_base *b, struct sim_table *t, const char *id, int64_t now)
{
	for (size_t i = 0; i < b->ntables; i++) {
		struct sim_table *o = &b->tables[i];
		for (size_t k = 0; k < o->nfields; k++) {
			struct sim_field *f = &o->fields[k];
			if (f->kind != SIM_F_LINKS || strcmp(f->link_table, t->id) != 0)
				continue;
			for (size_t r = 0; r < o->nrecs; r++)
				if (link_edit(o->recs[r], f->name, id, 0, now) < 0)
					return -1;
		}
	}
	return 0;
}

int sim_table_delete(struct sim_base *b, struct sim_table *t, const char *const *ids, size_t n,
		     int64_t now, struct sim_aterr *ae)
{
	if (n == 0 || n > SIM_MAX_BATCH)
		return sim_aterr_set(ae, 422, "INVALID_RECORDS",
				     "You must provide an array of up to 10 record IDs.");
	for (size_t i = 0; i < n; i++)
		if (!sim_table_record(t, ids[i], NULL))
			return sim_aterr_set(ae, 404, "MODEL_ID_NOT_FOUND",
					     "Could not find record %s in table \"%s\"", ids[i], t->name);
	for (size_t i = 0; i < n; i++) {
		size_t idx;
		struct sim_record *r = sim_table_record(t, ids[i], &idx);
		char id[SIM_ID_MAX];
		if (!r)
			continue; /* the same id twice in one request */
		snprintf(id, sizeof(id), "%s", r->id);
		memmove(&t->recs[idx], &t->recs[idx + 1], (t->nrecs - idx - 1) * sizeof(t->recs[0]));
		t->nrecs--;
		sim_record_free(r);
		if (unlink_everywhere(b, t, id, now) < 0)
			return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
	}
	return 0;
}
