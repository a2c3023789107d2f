/*
 * Writes to the simulator's Airtable model: value validation per field type
 * (with the API's typecast conversions), creates, PATCH/PUT updates,
 * upserts, deletes, and the inverse side of linked-record fields, which
 * Airtable keeps in step on every write.
 */
#include "sim/sim_base.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

#define MAX_ARRAY 10000 /* elements of one multi-value cell */

static int bad_value(struct sim_aterr *ae, const struct sim_field *f)
{
	return sim_aterr_set(ae, 422, "INVALID_VALUE_FOR_COLUMN",
			     "Field \"%s\" cannot accept the provided value", f->name);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int has_choice(const struct sim_field *f, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(f->choices, i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
			return 1;
	return 0;
}

int sim_field_add_choices(struct sim_field *f, const json_t *value)
{
	size_t i;
	json_t *v;

	if (f->kind != SIM_F_SELECT && f->kind != SIM_F_MULTISELECT)
		return 0;
	if (json_is_string(value)) {
		char id[SIM_ID_MAX];
		if (has_choice(f, json_string_value(value)))
			return 0;
		sim_new_id(id, "sel");
		return json_array_append_new(f->choices, json_pack("{s:s, s:O, s:s}", "id", id, "name",
								   value, "color", "blueLight2"));
	}
	json_array_foreach(value, i, v)
		if (sim_field_add_choices(f, v) < 0)
			return -1;
	return 0;
}

/* Typecast turns numbers and booleans into text. */
static json_t *scalar_text(const json_t *v)
{
	char tmp[64];

	if (json_is_string(v))
		return json_incref((json_t *)v);
	if (json_is_integer(v)) {
		snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
		return json_string(tmp);
	}
	if (json_is_real(v)) {
		snprintf(tmp, sizeof(tmp), "%.15g", json_real_value(v));
		return json_string(tmp);
	}
	if (json_is_boolean(v))
		return json_string(json_is_true(v) ? "true" : "false");
	return NULL;
}

static int norm_text(const struct sim_field *f, const json_t *v, int tc, json_t **out,
		     struct sim_aterr *ae)
{
	json_t *s = json_is_string(v) ? json_incref((json_t *)v) : (tc ? scalar_text(v) : NULL);

	if (!s)
		return bad_value(ae, f);
	if (utf8_chars(json_string_value(s)) > SIM_MAX_TEXT) {
		json_decref(s);
		return sim_aterr_set(ae, 422, "INVALID_VALUE_FOR_COLUMN",
				     "Field \"%s\" cannot accept the provided value: more than %d "
				     "characters",
				     f->name, SIM_MAX_TEXT);
	}
	if (json_string_length(s) == 0) {
		json_decref(s);
		s = NULL;
	}
	*out = s;
	return 0;
}

static int norm_number(const struct sim_field *f, const json_t *v, int tc, json_t **out,
		       struct sim_aterr *ae)
{
	double d;

	if (json_is_number(v)) {
		d = json_number_value(v);
	} else if (tc && json_is_string(v)) {
		if (json_string_length(v) == 0) {
			*out = NULL;
			return 0;
		}
		if (parse_double(json_string_value(v), &d) < 0)
			return bad_value(ae, f);
	} else {
		return bad_value(ae, f);
	}
	if (!isfinite(d))
		return bad_value(ae, f);
	if (f->kind == SIM_F_RATING) {
		if (d == 0) {
			*out = NULL;
			return 0;
		}
		if (d != floor(d) || d < 1 || d > f->rating_max)
			return bad_value(ae, f);
	}
	*out = sim_is_integral(d) ? json_integer((json_int_t)d) : json_real(d);
	return *out ? 0 : sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
}

static int norm_checkbox(const struct sim_field *f, const json_t *v, int tc, json_t **out,
			 struct sim_aterr *ae)
{
	int on;

	if (json_is_boolean(v)) {
		on = json_is_true(v);
	} else if (tc && json_is_string(v)) {
		const char *s = json_string_value(v);
		on = strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
		     strcasecmp(s, "checked") == 0 || strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0;
	} else if (tc && json_is_number(v)) {
		on = json_number_value(v) != 0;
	} else {
		return bad_value(ae, f);
	}
	*out = on ? json_true() : NULL;
	return 0;
}

static int bad_choice(struct sim_aterr *ae, const char *name)
{
	/* Airtable quotes the option twice in this message */
	return sim_aterr_set(ae, 422, "INVALID_MULTIPLE_CHOICE_OPTIONS",
			     "Insufficient permissions to create new select option \"\"%s\"\"", name);
}

static int norm_select(const struct sim_field *f, const json_t *v, int tc, json_t **out,
		       struct sim_aterr *ae)
{
	json_t *s = json_is_string(v) ? json_incref((json_t *)v)
				      : (tc && !json_is_boolean(v) ? scalar_text(v) : NULL);

	if (!s)
		return bad_value(ae, f);
	if (json_string_length(s) == 0) {
		json_decref(s);
		*out = NULL;
		return 0;
	}
	if (!tc && !has_choice(f, json_string_value(s))) {
		bad_choice(ae, json_string_value(s));
		json_decref(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* Typecast splits "a, b" into choices. */
static json_t *split_commas(const char *s)
{
	json_t *arr = json_array();
	const char *p = s;

	while (arr && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		while (n && isspace((unsigned char)*p))
			p++, n--;
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n && json_array_append_new(arr, json_stringn(p, n)) < 0) {
			json_decref(arr);
			return NULL;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return arr;
}

static int norm_multiselect(const struct sim_field *f, const json_t *v, int tc, json_t **out,
			    struct sim_aterr *ae)
{
	json_t *src = NULL, *arr = json_array(), *x;
	size_t i;
	int rc = -1;

	if (json_is_array(v))
		src = json_incref((json_t *)v);
	else if (tc && json_is_string(v))
		src = split_commas(json_string_value(v));
	if (!src || !arr || json_array_size(src) > MAX_ARRAY) {
		bad_value(ae, f);
		goto out;
	}
	json_array_foreach(src, i, x) {
		json_t *s = NULL, *y;
		size_t k;
		int dup = 0;
		if (norm_select(f, x, tc, &s, ae) < 0)
			goto out;
		if (!s)
			continue;
		json_array_foreach(arr, k, y)
			if (json_equal(y, s))
				dup = 1;
		if (!dup && json_array_append(arr, s) < 0) {
			json_decref(s);
			goto out;
		}
		json_decref(s);
	}
	*out = json_array_size(arr) ? json_incref(arr) : NULL;
	rc = 0;
out:
	json_decref(src);
	json_decref(arr);
	return rc;
}

static int norm_date(const struct sim_field *f, const json_t *v, json_t **out, struct sim_aterr *ae)
{
	int64_t ms;
	char iso[32];

	if (!json_is_string(v))
		return bad_value(ae, f);
	if (json_string_length(v) == 0) {
		*out = NULL;
		return 0;
	}
	if (iso8601_parse(json_string_value(v), &ms) < 0)
		return bad_value(ae, f);
	iso8601_ms(ms, iso);
	if (f->kind == SIM_F_DATE)
		iso[10] = '\0';
	*out = json_string(iso);
	return *out ? 0 : sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
}

static int bad_att(struct sim_aterr *ae, const struct sim_field *f, const char *why)
{
	return sim_aterr_set(ae, 422, "INVALID_ATTACHMENT_OBJECT",
			     "Invalid attachment object for field \"%s\": %s", f->name, why);
}

/* The attachment a simulator download URL points at, so a copy shares its bytes. */
static struct sim_att *own_att(struct sim_base *b, const char *url)
{
	const char *p = strstr(url, "/_sim/attachments/");
	char id[SIM_ID_MAX];
	size_t n;

	if (!p)
		return NULL;
	p += strlen("/_sim/attachments/");
	n = strcspn(p, "/?");
	if (n == 0 || n >= sizeof(id))
		return NULL;
	memcpy(id, p, n);
	id[n] = '\0';
	return sim_base_att(b, id);
}

static int norm_attachments(struct sim_base *b, const struct sim_field *f, const json_t *v,
			    json_t **out, struct sim_aterr *ae)
{
	json_t *arr, *a;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > MAX_ARRAY)
		return bad_value(ae, f);
	arr = json_array();
	if (!arr)
		return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
	json_array_foreach(v, i, a) {
		const char *id = json_string_value(json_object_get(a, "id"));
		const char *url = json_string_value(json_object_get(a, "url"));
		const char *fn = json_string_value(json_object_get(a, "filename"));
		struct sim_att *att;
		if (!json_is_object(a)) {
			json_decref(arr);
			return bad_att(ae, f, "each attachment must be an object");
		}
		if (id) {
			if (!sim_base_att(b, id)) {
				json_decref(arr);
				return bad_att(ae, f, "unknown attachment id");
			}
		} else if (url && (str_starts_with(url, "http://") || str_starts_with(url, "https://"))) {
			struct sim_att *src = own_att(b, url);
			const char *base = strrchr(url, '/');
			char name[256];
			size_t n;
			if (!fn) {
				/* the file name is the URL's last path segment */
				base = base ? base + 1 : url;
				n = strcspn(base, "?#");
				snprintf(name, sizeof(name), "%.*s", (int)(n < 255 ? n : 255), base);
				fn = name[0] ? name : "file";
			}
			att = src ? sim_att_new(b, fn, src->type, src->blob, src->ext_url, src->size)
				  : sim_att_new(b, fn, NULL, NULL, url, 0);
			if (!att) {
				json_decref(arr);
				return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
			}
			id = att->id;
		} else {
			json_decref(arr);
			return bad_att(ae, f, "an attachment needs an 'id' or an http(s) 'url'");
		}
		if (json_array_append_new(arr, json_pack("{s:s}", "id", id)) < 0) {
			json_decref(arr);
			return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
		}
	}
	*out = json_array_size(arr) ? arr : NULL;
	if (!*out)
		json_decref(arr);
	return 0;
}

static int norm_links(struct sim_base *b, const struct sim_field *f, const json_t *v, int flags,
		      json_t **out, struct sim_aterr *ae)
{
	struct sim_table *lt = sim_base_table(b, f->link_table);
	json_t *src, *arr, *x;
	size_t i;

	if (json_is_string(v) && (flags & SIM_NORM_TYPECAST))
		src = json_pack("[O]", v);
	else if (json_is_array(v) && json_array_size(v) <= MAX_ARRAY)
		src = json_incref((json_t *)v);
	else
		return bad_value(ae, f);
	arr = json_array();
	if (!src || !arr)
		goto oom;
	json_array_foreach(src, i, x) {
		const char *id = json_string_value(x);
		json_t *y;
		size_t k;
		int dup = 0;
		if (!id) {
			bad_value(ae, f);
			goto fail;
		}
		if (!sim_is_id(id, "rec") && !((flags & SIM_NORM_LOAD) && *id)) {
			sim_aterr_set(ae, 422, "INVALID_RECORD_ID",
				      "Value \"%s\" is not a valid record ID", id);
			goto fail;
		}
		if (!(flags & SIM_NORM_LOAD) && (!lt || !sim_table_record(lt, id, NULL))) {
			sim_aterr_set(ae, 422, "ROW_DOES_NOT_EXIST",
				      "Record ID %s does not exist in table \"%s\"", id,
				      lt ? lt->name : f->link_table);
			goto fail;
		}
		json_array_foreach(arr, k, y)
			if (strcmp(json_string_value(y), id) == 0)
				dup = 1;
		if (!dup && json_array_append(arr, x) < 0)
			goto oom;
	}
	json_decref(src);
	*out = json_array_size(arr) ? arr : NULL;
	if (!*out)
		json_decref(arr);
	return 0;
oom:
	sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
fail:
	json_decref(src);
	json_decref(arr);
	return -1;
}

int sim_field_normalize(struct sim_base *b, struct sim_table *t, struct sim_field *f,
			const json_t *v, int flags, json_t **out, struct sim_aterr *ae)
{
	int tc = (flags & SIM_NORM_TYPECAST) != 0;

	(void)t;
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	switch (f->kind) {
	case SIM_F_TEXT:
		return norm_text(f, v, tc, out, ae);
	case SIM_F_NUMBER:
	case SIM_F_RATING:
		return norm_number(f, v, tc, out, ae);
	case SIM_F_CHECKBOX:
		return norm_checkbox(f, v, tc, out, ae);
	case SIM_F_SELECT:
		return norm_select(f, v, tc, out, ae);
	case SIM_F_MULTISELECT:
		return norm_multiselect(f, v, tc, out, ae);
	case SIM_F_DATE:
	case SIM_F_DATETIME:
		return norm_date(f, v, out, ae);
	case SIM_F_ATTACHMENTS:
		return norm_attachments(b, f, v, out, ae);
	case SIM_F_LINKS:
		return norm_links(b, f, v, flags, out, ae);
	default:
		return sim_aterr_set(ae, 422, "INVALID_VALUE_FOR_COLUMN",
				     "Field \"%s\" cannot accept a value because the field is computed",
				     f->name);
	}
}

/* ---- links ---- */

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
