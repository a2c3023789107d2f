/*
 * Loading a base in the docs/simulator.md format into the simulator's
 * model: table and field schemas, link fields resolved in both directions,
 * records validated like API writes (attachments may carry their bytes),
 * and every linked id checked once all tables are in.
 */
#include "sim/sim_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/util.h"

#define MAX_TABLES 64
#define MAX_FIELDS 500	 /* Airtable's per-table field limit */
#define MAX_ATTACHMENT (64u * 1024 * 1024)

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Ids given in a load file: 1..31 characters of [A-Za-z0-9]. */
static int valid_loaded_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SIM_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr(b62, s[i]))
			return 0;
	return 1;
}

static const struct {
	const char *name;
	enum sim_ftype kind;
} ftypes[] = {
	{ "singleLineText", SIM_F_TEXT },
	{ "multilineText", SIM_F_TEXT },
	{ "richText", SIM_F_TEXT },
	{ "email", SIM_F_TEXT },
	{ "url", SIM_F_TEXT },
	{ "phoneNumber", SIM_F_TEXT },
	{ "number", SIM_F_NUMBER },
	{ "currency", SIM_F_NUMBER },
	{ "percent", SIM_F_NUMBER },
	{ "duration", SIM_F_NUMBER },
	{ "rating", SIM_F_RATING },
	{ "checkbox", SIM_F_CHECKBOX },
	{ "singleSelect", SIM_F_SELECT },
	{ "multipleSelects", SIM_F_MULTISELECT },
	{ "date", SIM_F_DATE },
	{ "dateTime", SIM_F_DATETIME },
	{ "multipleAttachments", SIM_F_ATTACHMENTS },
	{ "multipleRecordLinks", SIM_F_LINKS },
	{ "createdTime", SIM_F_CREATED_TIME },
	{ "lastModifiedTime", SIM_F_MODIFIED_TIME },
	{ "formula", SIM_F_COMPUTED },
	{ "rollup", SIM_F_COMPUTED },
	{ "count", SIM_F_COMPUTED },
	{ "multipleLookupValues", SIM_F_COMPUTED },
	{ "autoNumber", SIM_F_COMPUTED },
	{ "createdBy", SIM_F_COMPUTED },
	{ "lastModifiedBy", SIM_F_COMPUTED },
	{ "button", SIM_F_COMPUTED },
};

static int ftype_lookup(const char *name, enum sim_ftype *out)
{
	for (size_t i = 0; i < sizeof(ftypes) / sizeof(ftypes[0]); i++) {
		if (strcmp(ftypes[i].name, name) == 0) {
			*out = ftypes[i].kind;
			return 0;
		}
	}
	return -1;
}

int sim_att_from_load(struct sim_base *b, const json_t *j, json_t **out, struct sim_aterr *ae)
{
	const char *data = json_string_value(json_object_get(j, "data_base64"));
	struct sim_blob *blob;
	struct sim_att *a;

	blob = calloc(1, sizeof(*blob));
	if (!blob)
		return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
	if (!data || base64_decode(data, &blob->data, &blob->len) < 0 || blob->len > MAX_ATTACHMENT) {
		free(blob->data);
		free(blob);
		return sim_aterr_set(ae, 422, "INVALID_ATTACHMENT_OBJECT",
				     "'data_base64' is not valid base64 or exceeds 64 MiB");
	}
	a = sim_att_new(b, json_string_value(json_object_get(j, "filename")),
			json_string_value(json_object_get(j, "type")), blob, NULL, blob->len);
	if (!a) {
		free(blob->data);
		free(blob);
		return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
	}
	*out = json_pack("{s:s}", "id", a->id);
	return *out ? 0 : sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
}

static int parse_choices(struct sim_field *f, const json_t *opts, serr *e)
{
	json_t *ch = json_object_get(opts, "choices"), *c;
	size_t i;

	f->choices = json_array();
	if (!f->choices)
		return serr_set(e, "out of memory");
	if (ch && !json_is_array(ch))
		return serr_set(e, "'options.choices' must be an array");
	json_array_foreach(ch, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *id = json_string_value(json_object_get(c, "id"));
		const char *color = json_string_value(json_object_get(c, "color"));
		char sid[SIM_ID_MAX], seed[1024];
		if (json_is_string(c))
			name = json_string_value(c);
		if (!name || !*name)
			return serr_set(e, "choice %zu has no 'name'", i);
		snprintf(seed, sizeof(seed), "%s/%s", f->id, name);
		sim_hash_id(sid, "sel", seed);
		if (json_array_append_new(f->choices,
					  json_pack("{s:s, s:s, s:s}", "id", id ? id : sid, "name", name,
						    "color", color ? color : "blueLight2")) < 0)
			return serr_set(e, "out of memory");
	}
	return 0;
}

static int load_field(struct sim_table *t, struct sim_field *f, const json_t *j, serr *e)
{
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *type = json_string_value(json_object_get(j, "type"));
	const char *id = json_string_value(json_object_get(j, "id"));
	json_t *opts = json_object_get(j, "options");
	char seed[1024];

	if (!name || !*name)
		return serr_set(e, "a field has no 'name'");
	if (strchr(name, '}'))
		return serr_set(e, "field '%s': a name cannot contain '}'", name);
	f->name = xstrdup(name);
	if (!f->name)
		return serr_set(e, "out of memory");
	if (!type || ftype_lookup(type, &f->kind) < 0)
		return serr_set(e, "field '%s': unknown type '%s' (see docs/simulator.md)", name,
				type ? type : "(none)");
	f->type = xstrdup(type);
	if (!f->type)
		return serr_set(e, "out of memory");
	if (id) {
		if (!valid_loaded_id(id))
			return serr_set(e, "field '%s': invalid id '%s'", name, id);
		snprintf(f->id, sizeof(f->id), "%s", id);
	} else {
		snprintf(seed, sizeof(seed), "%s/%s", t->id, name);
		sim_hash_id(f->id, "fld", seed);
	}
	if (opts && !json_is_object(opts))
		return serr_set(e, "field '%s': 'options' must be an object", name);
	f->rating_max = 5;
	if (f->kind == SIM_F_SELECT || f->kind == SIM_F_MULTISELECT) {
		if (parse_choices(f, opts, e) < 0)
			return serr_wrap(e, "field '%s'", name);
	} else if (f->kind == SIM_F_LINKS) {
		const char *lt = json_string_value(json_object_get(opts, "linkedTableId"));
		const char *inv = json_string_value(json_object_get(opts, "inverseField"));
		if (!inv)
			inv = json_string_value(json_object_get(opts, "inverseLinkFieldId"));
		if (!lt)
			return serr_set(e, "field '%s': 'options.linkedTableId' is required", name);
		snprintf(f->link_table, sizeof(f->link_table), "%s", lt);
		if (inv && !(f->inverse = xstrdup(inv)))
			return serr_set(e, "out of memory");
	} else if (f->kind == SIM_F_RATING) {
		json_t *m = json_object_get(opts, "max");
		if (m) {
			if (!json_is_integer(m) || json_integer_value(m) < 1 || json_integer_value(m) > 10)
				return serr_set(e, "field '%s': 'options.max' must be 1..10", name);
			f->rating_max = (int)json_integer_value(m);
		}
	} else if (f->kind == SIM_F_NUMBER) {
		json_t *p = json_object_get(opts, "precision");
		if (json_is_integer(p) && json_integer_value(p) >= 0 && json_integer_value(p) <= 8)
			f->precision = (int)json_integer_value(p);
	}
	return 0;
}

static int load_table_schema(struct sim_table *t, const json_t *j, serr *e)
{
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *id = json_string_value(json_object_get(j, "id"));
	json_t *fields = json_object_get(j, "fields"), *views = json_object_get(j, "views"), *f;
	size_t i;

	if (!name || !*name)
		return serr_set(e, "a table has no 'name'");
	t->name = xstrdup(name);
	if (!t->name)
		return serr_set(e, "out of memory");
	if (id) {
		if (!valid_loaded_id(id))
			return serr_set(e, "table '%s': invalid id '%s'", name, id);
		snprintf(t->id, sizeof(t->id), "%s", id);
	} else {
		sim_hash_id(t->id, "tbl", name);
	}
	if (!json_is_array(fields) || json_array_size(fields) == 0 ||
	    json_array_size(fields) > MAX_FIELDS)
		return serr_set(e, "table '%s': 'fields' must be an array of 1..%d fields", name,
				MAX_FIELDS);
	t->fields = calloc(json_array_size(fields), sizeof(*t->fields));
	t->field_types = json_object();
	if (!t->fields || !t->field_types)
		return serr_set(e, "out of memory");
	json_array_foreach(fields, i, f) {
		t->nfields = i + 1;
		if (load_field(t, &t->fields[i], f, e) < 0)
			return serr_wrap(e, "table '%s'", name);
		for (size_t k = 0; k < i; k++)
			if (strcmp(t->fields[k].name, t->fields[i].name) == 0 ||
			    strcmp(t->fields[k].id, t->fields[i].id) == 0)
				return serr_set(e, "table '%s': field '%s' is defined twice", name,
						t->fields[i].name);
		if (json_object_set_new(t->field_types, t->fields[i].name,
					json_string(t->fields[i].type)) < 0)
			return serr_set(e, "out of memory");
	}
	if (views) {
		json_t *v;
		if (!json_is_array(views))
			return serr_set(e, "table '%s': 'views' must be an array", name);
		t->views = json_array();
		if (!t->views)
			return serr_set(e, "out of memory");
		json_array_foreach(views, i, v) {
			const char *vn = json_is_string(v) ? json_string_value(v)
							   : json_string_value(json_object_get(v, "name"));
			if (!vn || json_array_append_new(t->views, json_string(vn)) < 0)
				return serr_set(e, "table '%s': view %zu has no name", name, i);
		}
	} else {
		t->views = json_pack("[s]", "Grid view");
		if (!t->views)
			return serr_set(e, "out of memory");
	}
	return 0;
}

/* Check every link field's target table and inverse, and make both sides name each other. */
static int resolve_links(struct sim_base *b, serr *e)
{
	for (size_t i = 0; i < b->ntables; i++) {
		struct sim_table *t = &b->tables[i];
		for (size_t k = 0; k < t->nfields; k++) {
			struct sim_field *f = &t->fields[k], *inv;
			struct sim_table *lt;
			if (f->kind != SIM_F_LINKS)
				continue;
			lt = sim_base_table(b, f->link_table);
			if (!lt)
				return serr_set(e, "table '%s': field '%s' links to unknown table '%s'",
						t->name, f->name, f->link_table);
			/* store the id even when the load named the table */
			snprintf(f->link_table, sizeof(f->link_table), "%s", lt->id);
			if (!f->inverse)
				continue;
			inv = sim_table_field(lt, f->inverse);
			if (!inv || inv->kind != SIM_F_LINKS)
				return serr_set(e,
						"table '%s': field '%s': inverse field '%s' is not a link "
						"field of table '%s'",
						t->name, f->name, f->inverse, lt->name);
			if (strcmp(inv->name, f->inverse) != 0) {
				char *n = xstrdup(inv->name);
				if (!n)
					return serr_set(e, "out of memory");
				free(f->inverse);
				f->inverse = n;
			}
			if (strcmp(inv->link_table, t->id) != 0 && strcmp(inv->link_table, t->name) != 0)
				return serr_set(e,
						"table '%s': field '%s': inverse field '%s' of '%s' does "
						"not link back to '%s'",
						t->name, f->name, inv->name, lt->name, t->name);
			if (!inv->inverse) {
				inv->inverse = xstrdup(f->name);
				if (!inv->inverse)
					return serr_set(e, "out of memory");
			} else if (strcmp(inv->inverse, f->name) != 0 &&
				   strcmp(inv->inverse, f->id) != 0) {
				return serr_set(e,
						"table '%s': field '%s' and '%s' of '%s' disagree on their "
						"inverse",
						t->name, f->name, inv->name, lt->name);
			}
		}
	}
	return 0;
}

static int id_taken(struct sim_base *b, const char *id)
{
	for (size_t i = 0; i < b->ntables; i++)
		if (sim_table_record(&b->tables[i], id, NULL))
			return 1;
	return 0;
}

/* Normalize a loaded value: attachments may carry bytes, computed fields keep what was given. */
static int load_value(struct sim_base *b, struct sim_table *t, struct sim_field *f, json_t *v,
		      json_t **out, struct sim_aterr *ae)
{
	if (f->kind == SIM_F_COMPUTED) {
		*out = json_is_null(v) ? NULL : json_deep_copy(v);
		return 0;
	}
	if (f->kind == SIM_F_CREATED_TIME || f->kind == SIM_F_MODIFIED_TIME) {
		*out = NULL; /* computed from the record */
		return 0;
	}
	if (f->kind == SIM_F_ATTACHMENTS && json_is_array(v)) {
		size_t i;
		json_t *a, *arr = json_array();
		if (!arr)
			return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
		json_array_foreach(v, i, a) {
			json_t *one;
			if (json_is_string(json_object_get(a, "data_base64"))) {
				if (sim_att_from_load(b, a, &one, ae) < 0) {
					json_decref(arr);
					return -1;
				}
			} else {
				json_t *single = json_pack("[O]", a), *norm = NULL;
				if (!single || sim_field_normalize(b, t, f, single, SIM_NORM_LOAD, &norm, ae) < 0) {
					json_decref(single);
					json_decref(arr);
					return -1;
				}
				json_decref(single);
				one = norm ? json_incref(json_array_get(norm, 0)) : NULL;
				json_decref(norm);
			}
			if (one && json_array_append_new(arr, one) < 0) {
				json_decref(arr);
				return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
			}
		}
		if (json_array_size(arr) == 0) {
			json_decref(arr);
			arr = NULL;
		}
		*out = arr;
		return 0;
	}
	/* links are checked once every table has its records */
	return sim_field_normalize(b, t, f, v, SIM_NORM_LOAD, out, ae);
}

static int load_record(struct sim_base *b, struct sim_table *t, const json_t *j, int64_t now,
		       serr *e)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *ct = json_string_value(json_object_get(j, "createdTime"));
	json_t *fields = json_object_get(j, "fields"), *mt = json_object_get(j, "fieldModifiedTimes");
	struct sim_record *r = calloc(1, sizeof(*r));
	struct sim_aterr ae;
	const char *k;
	json_t *v;

	if (!r)
		return serr_set(e, "out of memory");
	if (id) {
		if (!valid_loaded_id(id) || id_taken(b, id)) {
			sim_record_free(r);
			return serr_set(e, "table '%s': record id '%s' is invalid or used twice",
					t->name, id);
		}
		snprintf(r->id, sizeof(r->id), "%s", id);
	} else {
		do
			sim_new_id(r->id, "rec");
		while (id_taken(b, r->id));
	}
	r->fields = json_object();
	r->mtimes = json_object();
	if (!r->fields || !r->mtimes || sim_table_add_record(t, r) < 0) {
		sim_record_free(r);
		return serr_set(e, "table '%s': out of memory or more than %d records", t->name,
				SIM_MAX_RECORDS);
	}
	r->created_ms = now;
	if (ct && iso8601_parse(ct, &r->created_ms) < 0)
		return serr_set(e, "table '%s': record '%s': invalid 'createdTime' '%s'", t->name,
				r->id, ct);
	if (fields && !json_is_object(fields))
		return serr_set(e, "table '%s': record '%s': 'fields' must be an object", t->name,
				r->id);
	json_object_foreach(fields, k, v) {
		struct sim_field *f = sim_table_field(t, k);
		json_t *norm = NULL;
		if (!f)
			return serr_set(e, "table '%s': record '%s': unknown field '%s'", t->name, r->id,
					k);
		if (load_value(b, t, f, v, &norm, &ae) < 0)
			return serr_set(e, "table '%s': record '%s': field '%s': %s", t->name, r->id,
					f->name, ae.msg);
		if (norm && json_object_set_new(r->fields, f->name, norm) < 0)
			return serr_set(e, "out of memory");
	}
	json_object_foreach(mt, k, v) {
		int64_t ms;
		if (!sim_table_field(t, k) || !json_is_string(v) ||
		    iso8601_parse(json_string_value(v), &ms) < 0)
			return serr_set(e, "table '%s': record '%s': bad 'fieldModifiedTimes' entry '%s'",
					t->name, r->id, k);
		if (json_object_set_new(r->mtimes, sim_table_field(t, k)->name, json_integer(ms)) < 0)
			return serr_set(e, "out of memory");
	}
	/* a loaded value was last changed when the record was made, unless told otherwise */
	json_object_foreach(r->fields, k, v) {
		if (!json_object_get(r->mtimes, k) &&
		    json_object_set_new(r->mtimes, k, json_integer(r->created_ms)) < 0)
			return serr_set(e, "out of memory");
	}
	return 0;
}

/* Every linked id of a loaded base must name a record of the linked table. */
static int check_link_targets(struct sim_base *b, serr *e)
{
	for (size_t i = 0; i < b->ntables; i++) {
		struct sim_table *t = &b->tables[i];
		for (size_t k = 0; k < t->nfields; k++) {
			struct sim_field *f = &t->fields[k];
			struct sim_table *lt;
			if (f->kind != SIM_F_LINKS)
				continue;
			lt = sim_base_table(b, f->link_table);
			for (size_t r = 0; r < t->nrecs; r++) {
				json_t *ids = json_object_get(t->recs[r]->fields, f->name), *id;
				size_t x;
				json_array_foreach(ids, x, id) {
					if (!sim_table_record(lt, json_string_value(id), NULL))
						return serr_set(e,
								"table '%s': record '%s': field '%s': "
								"linked record '%s' does not exist in '%s'",
								t->name, t->recs[r]->id, f->name,
								json_string_value(id), lt->name);
				}
			}
		}
	}
	return 0;
}

/* Schemas first (links need every table), then records, then the link checks. */
static int load_tables(struct sim_base *b, const json_t *tables, int64_t now, serr *e)
{
	size_t i;
	json_t *t;

	json_array_foreach(tables, i, t) {
		b->ntables = i + 1;
		if (load_table_schema(&b->tables[i], t, e) < 0)
			return -1;
		for (size_t k = 0; k < i; k++)
			if (strcmp(b->tables[k].id, b->tables[i].id) == 0 ||
			    strcmp(b->tables[k].name, b->tables[i].name) == 0)
				return serr_set(e, "table '%s' is defined twice", b->tables[i].name);
	}
	if (resolve_links(b, e) < 0)
		return -1;
	json_array_foreach(tables, i, t) {
		json_t *recs = json_object_get(t, "records"), *r;
		size_t k;
		if (recs && !json_is_array(recs))
			return serr_set(e, "table '%s': 'records' must be an array", b->tables[i].name);
		json_array_foreach(recs, k, r) {
			if (load_record(b, &b->tables[i], r, now, e) < 0)
				return -1;
		}
	}
	if (check_link_targets(b, e) < 0 || sim_base_link_all(b, now, e) < 0)
		return -1;
	return 0;
}

struct sim_base *sim_base_load(const json_t *j, serr *e)
{
	struct sim_base *b = NULL;
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *name = json_string_value(json_object_get(j, "name"));
	json_t *tables = json_object_get(j, "tables");
	int ok = 0;

	if (!json_is_object(j)) {
		serr_set(e, "a base must be a JSON object");
		goto out;
	}
	if (!id || !valid_loaded_id(id)) {
		serr_set(e, "the base needs an 'id' of 1..31 letters and digits (like 'appXXXXXXXXXXXXXX')");
		goto out;
	}
	if (!json_is_array(tables) || json_array_size(tables) > MAX_TABLES) {
		serr_set(e, "base '%s': 'tables' must be an array of at most %d tables", id, MAX_TABLES);
		goto out;
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->tables = calloc(json_array_size(tables) + 1, sizeof(*b->tables))) ||
	    !(b->name = xstrdup(name ? name : id))) {
		serr_set(e, "out of memory");
		goto out;
	}
	snprintf(b->id, sizeof(b->id), "%s", id);
	if (load_tables(b, tables, now_ms(), e) < 0) {
		serr_wrap(e, "base '%s'", id);
		goto out;
	}
	ok = 1;
out:
	if (!ok) {
		sim_base_free(b);
		b = NULL;
	}
	return b;
}

