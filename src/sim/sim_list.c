/*
 * Airtable's list records, by GET with query parameters or by POST
 * .../listRecords with the same options in a JSON body: filterByFormula
 * (the formula evaluator), sort, fields, maxRecords, pageSize and the
 * opaque offset backed by an iterator that expires.
 */
#include "sim/sim_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/util.h"
#include "sim/formula_eval.h"

#define MAX_SORTS 16
#define MAX_FIELDS_PARAM 1000

struct list_opts {
	int page_size;
	int max_records; /* 0 = all */
	const char *offset;
	const char *view;
	const char *formula;
	json_t *sort;	 /* [{"field","direction"}] */
	json_t *fields;	 /* names, or NULL for all */
	int by_id, as_strings, comment_count, cell_format_given;
	const char *tz, *locale;
};

static int invalid(struct sim_aterr *ae, const char *what)
{
	return sim_aterr_set(ae, 422, "INVALID_REQUEST_UNKNOWN",
			     "Invalid request: parameter validation failed. Check your request data. "
			     "(%s)",
			     what);
}

static int oom(struct sim_aterr *ae)
{
	return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
}

static int set_int(const char *v, int min, int max, int *out, const char *name,
		   struct sim_aterr *ae)
{
	if (!v || parse_int(v, min, max, out) < 0)
		return invalid(ae, name);
	return 0;
}

static int set_bool(const char *v, int *out, const char *name, struct sim_aterr *ae)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || !*v)
		*out = 0;
	else
		return invalid(ae, name);
	return 0;
}

/* "name", "name[]" or "name[N]". */
static int is_list_key(const char *k, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(k, name, n) != 0)
		return 0;
	k += n;
	if (!*k || strcmp(k, "[]") == 0)
		return 1;
	if (*k++ != '[' || !isdigit((unsigned char)*k))
		return 0;
	while (isdigit((unsigned char)*k))
		k++;
	return strcmp(k, "]") == 0;
}

/* "sort[N][field]" / "sort[N][direction]". */
static int sort_key(const char *k, int *idx, const char **member)
{
	int v = 0, digits = 0;

	if (strncmp(k, "sort[", 5) != 0)
		return 0;
	k += 5;
	while (isdigit((unsigned char)*k) && digits < 3) {
		v = v * 10 + (*k++ - '0');
		digits++;
	}
	if (!digits || strncmp(k, "][", 2) != 0)
		return 0;
	k += 2;
	if (strcmp(k, "field]") == 0)
		*member = "field";
	else if (strcmp(k, "direction]") == 0)
		*member = "direction";
	else
		return 0;
	*idx = v;
	return 1;
}

static int common_option(struct list_opts *lo, const char *k, const char *v, struct sim_aterr *ae,
			 int *handled)
{
	*handled = 1;
	if (strcmp(k, "pageSize") == 0)
		return set_int(v, 1, 100, &lo->page_size, "pageSize", ae);
	if (strcmp(k, "maxRecords") == 0)
		return set_int(v, 1, 1000000000, &lo->max_records, "maxRecords", ae);
	if (strcmp(k, "offset") == 0)
		lo->offset = v;
	else if (strcmp(k, "view") == 0)
		lo->view = v;
	else if (strcmp(k, "filterByFormula") == 0)
		lo->formula = v;
	else if (strcmp(k, "timeZone") == 0)
		lo->tz = v;
	else if (strcmp(k, "userLocale") == 0)
		lo->locale = v;
	else if (strcmp(k, "cellFormat") == 0) {
		lo->cell_format_given = 1;
		if (strcmp(v, "string") == 0)
			lo->as_strings = 1;
		else if (strcmp(v, "json") != 0)
			return invalid(ae, "cellFormat");
	} else
		*handled = 0;
	return 0;
}

static int parse_query(const struct sim_req *rq, struct list_opts *lo, struct sim_aterr *ae)
{
	json_t *sorts = json_object(), *pair;
	size_t i;
	int rc = -1;

	if (!sorts)
		return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
	json_array_foreach(rq->query, i, pair) {
		const char *k = json_string_value(json_array_get(pair, 0));
		const char *v = json_string_value(json_array_get(pair, 1));
		const char *member;
		int handled, idx;
		if (common_option(lo, k, v, ae, &handled) < 0)
			goto out;
		if (handled)
			continue;
		if (strcmp(k, "returnFieldsByFieldId") == 0) {
			if (set_bool(v, &lo->by_id, k, ae) < 0)
				goto out;
		} else if (is_list_key(k, "fields")) {
			if (!lo->fields && !(lo->fields = json_array())) {
				oom(ae);
				goto out;
			}
			if (json_array_size(lo->fields) >= MAX_FIELDS_PARAM) {
				invalid(ae, "fields");
				goto out;
			}
			if (json_array_append_new(lo->fields, json_string(v)) < 0) {
				oom(ae);
				goto out;
			}
		} else if (is_list_key(k, "recordMetadata")) {
			if (strcmp(v, "commentCount") != 0) {
				invalid(ae, "recordMetadata");
				goto out;
			}
			lo->comment_count = 1;
		} else if (sort_key(k, &idx, &member)) {
			char key[8];
			json_t *o;
			snprintf(key, sizeof(key), "%03d", idx);
			o = json_object_get(sorts, key);
			if (!o) {
				if (json_object_size(sorts) >= MAX_SORTS) {
					invalid(ae, "sort");
					goto out;
				}
				o = json_object();
				if (!o || json_object_set_new(sorts, key, o) < 0) {
					oom(ae);
					goto out;
				}
			}
			if (json_object_set_new(o, member, json_string(v)) < 0) {
				oom(ae);
				goto out;
			}
		} else {
			sim_aterr_set(ae, 422, "INVALID_REQUEST_UNKNOWN",
				      "Invalid request: parameter validation failed. Unknown query "
				      "parameter \"%s\"",
				      k);
			goto out;
		}
	}
	if (json_object_size(sorts)) {
		/* keys are zero-padded, so sorting them orders sort[0], sort[1], ... */
		const char *keys[MAX_SORTS];
		size_t n = 0;
		const char *k;
		json_t *v;
		json_object_foreach(sorts, k, v)
			keys[n++] = k;
		for (size_t a = 0; a < n; a++)
			for (size_t b = a + 1; b < n; b++)
				if (strcmp(keys[b], keys[a]) < 0) {
					const char *t = keys[a];
					keys[a] = keys[b];
					keys[b] = t;
				}
		lo->sort = json_array();
		if (!lo->sort) {
			oom(ae);
			goto out;
		}
		for (size_t a = 0; a < n; a++)
			if (json_array_append(lo->sort, json_object_get(sorts, keys[a])) < 0) {
				oom(ae);
				goto out;
			}
	}
	rc = 0;
out:
	json_decref(sorts);
	return rc;
}

static int parse_body(const json_t *body, struct list_opts *lo, struct sim_aterr *ae)
{
	const char *k;
	json_t *v;

	if (!json_is_object(body))
		return invalid(ae, "body");
	json_object_foreach((json_t *)body, k, v) {
		char num[32];
		const char *sv = NULL;
		int handled;
		if (json_is_string(v)) {
			sv = json_string_value(v);
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			sv = num;
		}
		if (strcmp(k, "returnFieldsByFieldId") == 0) {
			if (!json_is_boolean(v))
				return invalid(ae, k);
			lo->by_id = json_is_true(v);
			continue;
		}
		if (strcmp(k, "fields") == 0) {
			size_t i;
			json_t *f;
			if (!json_is_array(v) || json_array_size(v) > MAX_FIELDS_PARAM)
				return invalid(ae, k);
			json_array_foreach(v, i, f)
				if (!json_is_string(f))
					return invalid(ae, k);
			lo->fields = json_incref(v);
			continue;
		}
		if (strcmp(k, "sort") == 0) {
			size_t i;
			json_t *s;
			if (!json_is_array(v) || json_array_size(v) > MAX_SORTS)
				return invalid(ae, k);
			json_array_foreach(v, i, s)
				if (!json_is_object(s))
					return invalid(ae, k);
			lo->sort = json_incref(v);
			continue;
		}
		if (strcmp(k, "recordMetadata") == 0) {
			const char *what = json_string_value(json_array_get(v, 0));
			if (!json_is_array(v) || json_array_size(v) != 1 || !what ||
			    strcmp(what, "commentCount") != 0)
				return invalid(ae, k);
			lo->comment_count = 1;
			continue;
		}
		if (!sv) {
			if (strcmp(k, "pageSize") == 0 || strcmp(k, "maxRecords") == 0 ||
			    strcmp(k, "offset") == 0 || strcmp(k, "view") == 0 ||
			    strcmp(k, "filterByFormula") == 0 || strcmp(k, "cellFormat") == 0 ||
			    strcmp(k, "timeZone") == 0 || strcmp(k, "userLocale") == 0)
				return invalid(ae, k);
		} else {
			if (common_option(lo, k, sv, ae, &handled) < 0)
				return -1;
			if (handled)
				continue;
		}
		return sim_aterr_set(ae, 422, "INVALID_REQUEST_UNKNOWN",
				     "Invalid request: parameter validation failed. Unknown body "
				     "parameter \"%s\"",
				     k);
	}
	return 0;
}

static int view_exists(struct sim_table *t, const char *view)
{
	size_t i;
	json_t *v;

	json_array_foreach(t->views, i, v) {
		char vid[SIM_ID_MAX], seed[256];
		snprintf(seed, sizeof(seed), "%s/%s", t->id, json_string_value(v));
		sim_hash_id(vid, "viw", seed);
		if (strcmp(json_string_value(v), view) == 0 || strcmp(vid, view) == 0)
			return 1;
	}
	return 0;
}

static int check_opts(struct sim_table *t, struct list_opts *lo, struct sim_aterr *ae)
{
	size_t i;
	json_t *v;

	if (lo->as_strings && (!lo->tz || !lo->locale))
		return sim_aterr_set(ae, 422, "INVALID_REQUEST_UNKNOWN",
				     "The 'timeZone' and 'userLocale' parameters are required when "
				     "using 'string' as 'cellFormat'.");
	if (lo->view && !view_exists(t, lo->view))
		return sim_aterr_set(ae, 422,
				     sim_is_id(lo->view, "viw") ? "VIEW_ID_NOT_FOUND" : "VIEW_NAME_NOT_FOUND",
				     "View %s not found", lo->view);
	json_array_foreach(lo->fields, i, v)
		if (!sim_table_field(t, json_string_value(v)))
			return sim_aterr_set(ae, 422, "UNKNOWN_FIELD_NAME", "Unknown field name: \"%s\"",
					     json_string_value(v));
	json_array_foreach(lo->sort, i, v) {
		const char *f = json_string_value(json_object_get(v, "field"));
		const char *d = json_string_value(json_object_get(v, "direction"));
		if (!f)
			return invalid(ae, "sort");
		if (!sim_table_field(t, f))
			return sim_aterr_set(ae, 422, "UNKNOWN_FIELD_NAME", "Unknown field name: \"%s\"", f);
		if (d && strcmp(d, "asc") != 0 && strcmp(d, "desc") != 0)
			return invalid(ae, "sort direction");
	}
	return 0;
}

/* ---- matching ---- */

struct fctx {
	struct sim_table *t;
	struct sim_record *r;
};

static int64_t field_modified(const void *ud, const char *field)
{
	const struct fctx *c = ud;

	return sim_record_modified(c->t, c->r, field);
}

/* Primary values of a linked table, built once per listing: record id -> text. */
static json_t *primaries(struct sim_base *b, json_t *cache, const char *table_id)
{
	json_t *m = json_object_get(cache, table_id);
	struct sim_table *lt;

	if (m)
		return m;
	m = json_object();
	lt = sim_base_table(b, table_id);
	if (!m || json_object_set_new(cache, table_id, m) < 0)
		return NULL;
	for (size_t i = 0; lt && i < lt->nrecs; i++) {
		char prim[1024];
		sim_record_primary(lt, lt->recs[i], prim, sizeof(prim));
		if (json_object_set_new(m, lt->recs[i]->id, json_string(prim)) < 0)
			return NULL;
	}
	return m;
}

/*
 * The record as formulas see it: links show the linked records' primary
 * values and attachments their file names, as in Airtable formulas.
 */
static json_t *formula_fields(struct sim_base *b, struct sim_table *t, struct sim_record *r,
			      json_t *cache)
{
	json_t *o = json_copy(r->fields), *arr = NULL;
	char iso[32];
	int ok = 0;

	if (!o)
		goto out;
	for (size_t i = 0; i < t->nfields; i++) {
		struct sim_field *f = &t->fields[i];
		json_t *v = json_object_get(r->fields, f->name), *x;
		size_t k;
		if (f->kind == SIM_F_CREATED_TIME || f->kind == SIM_F_MODIFIED_TIME) {
			iso8601_ms(f->kind == SIM_F_CREATED_TIME ? r->created_ms
								  : sim_record_modified(t, r, NULL),
				   iso);
			if (json_object_set_new(o, f->name, json_string(iso)) < 0)
				goto out;
			continue;
		}
		if (!v || (f->kind != SIM_F_LINKS && f->kind != SIM_F_ATTACHMENTS))
			continue;
		arr = json_array();
		if (!arr)
			goto out;
		json_array_foreach(v, k, x) {
			json_t *shown;
			if (f->kind == SIM_F_LINKS) {
				json_t *m = primaries(b, cache, f->link_table);
				json_t *p = m ? json_object_get(m, json_string_value(x)) : NULL;
				shown = json_incref(p ? p : x);
			} else {
				struct sim_att *a =
					sim_base_att(b, json_string_value(json_object_get(x, "id")));
				shown = json_string(a ? a->filename : "");
			}
			if (json_array_append_new(arr, shown) < 0)
				goto out;
		}
		if (json_object_set(o, f->name, arr) < 0)
			goto out;
		json_decref(arr);
		arr = NULL;
	}
	ok = 1;
out:
	json_decref(arr);
	if (!ok) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

struct sort_key {
	int empty;
	double num;
	char *str;
};

struct sort_ctx {
	struct sort_key *keys; /* nrecs x nsort */
	size_t nsort;
	int desc[MAX_SORTS];
	int numeric[MAX_SORTS];
};

static int cmp_rec(const void *a, const void *b, void *ud)
{
	const struct sort_ctx *c = ud;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;

	for (size_t k = 0; k < c->nsort; k++) {
		const struct sort_key *x = &c->keys[ia * c->nsort + k];
		const struct sort_key *y = &c->keys[ib * c->nsort + k];
		int d;
		if (x->empty || y->empty)
			d = x->empty - y->empty ? (x->empty ? -1 : 1) : 0;
		else if (c->numeric[k])
			d = x->num < y->num ? -1 : x->num > y->num;
		else
			d = strcasecmp(x->str, y->str);
		if (d)
			return c->desc[k] ? -d : d;
	}
	return ia < ib ? -1 : ia > ib; /* stable: creation order */
}

static int make_key(struct sim_base *b, struct sim_table *t, struct sim_field *f,
		    struct sim_record *r, json_t *cache, struct sort_key *k, int *numeric)
{
	json_t *v = json_object_get(r->fields, f->name);

	memset(k, 0, sizeof(*k));
	*numeric = f->kind == SIM_F_NUMBER || f->kind == SIM_F_RATING || f->kind == SIM_F_CHECKBOX ||
		   f->kind == SIM_F_CREATED_TIME || f->kind == SIM_F_MODIFIED_TIME;
	if (f->kind == SIM_F_CREATED_TIME || f->kind == SIM_F_MODIFIED_TIME) {
		k->num = (double)(f->kind == SIM_F_CREATED_TIME ? r->created_ms
								: sim_record_modified(t, r, NULL));
		return 0;
	}
	if (!v) {
		k->empty = f->kind != SIM_F_CHECKBOX;
		return 0;
	}
	if (json_is_number(v) || json_is_boolean(v)) {
		*numeric = 1;
		k->num = json_is_boolean(v) ? json_is_true(v) : json_number_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		k->str = xstrdup(json_string_value(v));
		return k->str ? 0 : -1;
	}
	if (json_is_array(v)) {
		struct buf s;
		size_t i;
		json_t *x;
		buf_init(&s, 1024 * 1024);
		json_array_foreach(v, i, x) {
			const char *txt = json_string_value(x);
			if (f->kind == SIM_F_LINKS) {
				json_t *m = primaries(b, cache, f->link_table);
				txt = json_string_value(m ? json_object_get(m, txt) : NULL);
			} else if (f->kind == SIM_F_ATTACHMENTS) {
				struct sim_att *a =
					sim_base_att(b, json_string_value(json_object_get(x, "id")));
				txt = a ? a->filename : "";
			}
			if ((i && buf_puts(&s, ", ") < 0) || buf_puts(&s, txt ? txt : "") < 0)
				break;
		}
		k->str = xstrdup(buf_cstr(&s));
		buf_free(&s);
		return k->str ? 0 : -1;
	}
	k->str = xstrdup("");
	return k->str ? 0 : -1;
}

static int sort_records(struct sim_base *b, struct sim_table *t, const json_t *sort, size_t *idx,
			size_t n, json_t *cache, struct sim_aterr *ae)
{
	struct sort_ctx c;
	size_t bytes, ns = json_array_size(sort);
	int rc = -1;

	memset(&c, 0, sizeof(c));
	c.nsort = ns;
	if (size_mul(t->nrecs ? t->nrecs : 1, ns, &bytes) < 0 ||
	    !(c.keys = calloc(bytes, sizeof(*c.keys))))
		return sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
	for (size_t k = 0; k < ns; k++) {
		json_t *s = json_array_get(sort, k);
		const char *d = json_string_value(json_object_get(s, "direction"));
		struct sim_field *f = sim_table_field(t, json_string_value(json_object_get(s, "field")));
		c.desc[k] = d && strcmp(d, "desc") == 0;
		for (size_t i = 0; i < n; i++) {
			int numeric;
			if (make_key(b, t, f, t->recs[idx[i]], cache, &c.keys[idx[i] * ns + k],
				     &numeric) < 0) {
				sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
				goto out;
			}
			c.numeric[k] |= numeric;
		}
	}
	qsort_r(idx, n, sizeof(*idx), cmp_rec, &c);
	rc = 0;
out:
	for (size_t i = 0; i < t->nrecs * ns; i++)
		free(c.keys[i].str);
	free(c.keys);
	return rc;
}

/* The ids a listing matches, in order: filter, sort, then maxRecords. */
static json_t *match_ids(struct sim_base *b, struct sim_table *t, const struct list_opts *lo,
			 struct sim_aterr *ae)
{
	struct formula *f = NULL;
	json_t *cache = json_object(), *ids = NULL;
	size_t *idx = NULL, n = 0;
	int64_t now = now_ms();
	serr e;

	if (!cache || !(idx = calloc(t->nrecs + 1, sizeof(*idx)))) {
		oom(ae);
		goto out;
	}
	if (lo->formula && *lo->formula) {
		f = formula_parse(lo->formula, t->field_types, &e);
		if (!f) {
			sim_aterr_set(ae, 422, "INVALID_FILTER_BY_FORMULA",
				      "The formula for filtering records is invalid: %s", e.msg);
			goto out;
		}
	}
	for (size_t i = 0; i < t->nrecs; i++) {
		struct sim_record *r = t->recs[i];
		struct fctx c = { t, r };
		struct formula_record fr;
		int match = 1;
		if (f) {
			json_t *view = formula_fields(b, t, r, cache);
			fr.id = r->id;
			fr.created_ms = r->created_ms;
			fr.fields = view;
			fr.field_types = t->field_types;
			fr.field_modified_ms = field_modified;
			fr.ud = &c;
			fr.now_ms = now;
			/* a formula error in one record leaves it out, as in Airtable */
			if (!view || formula_eval_bool(f, &fr, &match, &e) < 0)
				match = 0;
			json_decref(view);
		}
		if (match)
			idx[n++] = i;
	}
	if (json_array_size(lo->sort) && sort_records(b, t, lo->sort, idx, n, cache, ae) < 0)
		goto out;
	if (lo->max_records && (size_t)lo->max_records < n)
		n = (size_t)lo->max_records;
	ids = json_array();
	for (size_t i = 0; ids && i < n; i++) {
		if (json_array_append_new(ids, json_string(t->recs[idx[i]]->id)) < 0) {
			json_decref(ids);
			ids = NULL;
		}
	}
	if (!ids)
		sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
out:
	formula_free(f);
	free(idx);
	json_decref(cache);
	return ids;
}

/* What decides the matched set: an offset is only good for the same listing. */
static void list_sig(const struct sim_table *t, const struct list_opts *lo, char out[65])
{
	struct sha256_ctx c;
	unsigned char h[32];
	char *sort = lo->sort ? json_dumps(lo->sort, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char num[32];

	sha256_init(&c);
	sha256_update(&c, t->id, strlen(t->id) + 1);
	sha256_update(&c, lo->formula ? lo->formula : "", strlen(lo->formula ? lo->formula : "") + 1);
	sha256_update(&c, lo->view ? lo->view : "", strlen(lo->view ? lo->view : "") + 1);
	snprintf(num, sizeof(num), "%d", lo->max_records);
	sha256_update(&c, num, strlen(num) + 1);
	sha256_update(&c, sort ? sort : "", strlen(sort ? sort : ""));
	free(sort);
	sha256_final(&c, h);
	for (int i = 0; i < 32; i++)
		snprintf(out + i * 2, 3, "%02x", h[i]);
}

static int bad_offset(struct sim_aterr *ae, const char *offset)
{
	return sim_aterr_set(ae, 422, "INVALID_OFFSET_VALUE",
			     "The value of offset %.100s is invalid for this listing", offset);
}

/* Resolve an offset to its iterator and position; fills ae when unusable. */
static int resolve_offset(struct sim *s, const char *base, struct sim_table *t,
			  const char *sig, const char *offset, struct sim_iter **it, size_t *pos,
			  struct sim_aterr *ae)
{
	char itr[SIM_ID_MAX];
	const char *slash = strchr(offset, '/');
	size_t n = slash ? (size_t)(slash - offset) : 0, i;
	json_t *v;

	if (!slash || n >= sizeof(itr))
		return bad_offset(ae, offset);
	memcpy(itr, offset, n);
	itr[n] = '\0';
	if (!sim_is_id(itr, "itr"))
		return bad_offset(ae, offset);
	*it = sim_iters_find(&s->iters, itr);
	if (!*it)
		return sim_aterr_set(ae, 422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
				     "The iterator of this offset is not available any more (it "
				     "expired); list the records again from the first page");
	if (strcmp((*it)->base, base) != 0 || strcmp((*it)->table, t->id) != 0 ||
	    strcmp((*it)->sig, sig) != 0)
		return bad_offset(ae, offset);
	json_array_foreach((*it)->ids, i, v) {
		if (strcmp(json_string_value(v), slash + 1) == 0) {
			*pos = i;
			return 0;
		}
	}
	return bad_offset(ae, offset);
}

void sim_list_records(struct sim *s, struct sim_req *rq, struct sim_resp *rs, struct sim_base *b,
		      struct sim_table *t, const json_t *body)
{
	struct list_opts lo;
	struct sim_aterr ae;
	struct sim_signer sg;
	struct sim_render ro;
	struct sim_iter *it = NULL;
	json_t *ids = NULL, *recs = NULL, *page;
	char sig[65], offset[2 * SIM_ID_MAX + 2] = "";
	size_t pos = 0, i;
	int64_t now = mono_ms();
	int ok = 0;

	memset(&lo, 0, sizeof(lo));
	lo.page_size = 100;
	if ((body ? parse_body(body, &lo, &ae) : parse_query(rq, &lo, &ae)) < 0 ||
	    check_opts(t, &lo, &ae) < 0)
		goto out;
	list_sig(t, &lo, sig);
	sim_iters_expire(&s->iters, now, s->o.offset_ttl_ms);
	if (lo.offset && *lo.offset) {
		if (resolve_offset(s, b->id, t, sig, lo.offset, &it, &pos, &ae) < 0)
			goto out;
		it->last_used = now;
		ids = json_incref(it->ids);
	} else {
		ids = match_ids(b, t, &lo, &ae);
		if (!ids)
			goto out;
	}
	sim_signer_now(s, &sg);
	memset(&ro, 0, sizeof(ro));
	ro.only = lo.fields;
	ro.by_field_id = lo.by_id;
	ro.as_strings = lo.as_strings;
	ro.comment_count = lo.comment_count;
	ro.signer = &sg;
	recs = json_array();
	if (!recs) {
		oom(&ae);
		goto out;
	}
	for (i = pos; i < json_array_size(ids) && json_array_size(recs) < (size_t)lo.page_size; i++) {
		struct sim_record *r = sim_table_record(t, json_string_value(json_array_get(ids, i)), NULL);
		json_t *rj;
		if (!r)
			continue; /* deleted since the listing began */
		rj = sim_record_json(b, t, r, &ro);
		if (!rj || json_array_append_new(recs, rj) < 0) {
			oom(&ae);
			goto out;
		}
	}
	if (i < json_array_size(ids)) {
		if (!it) {
			char itr[SIM_ID_MAX];
			if (sim_iters_add(&s->iters, b->id, t->id, sig, json_incref(ids), now, itr) < 0) {
				oom(&ae);
				goto out;
			}
			snprintf(offset, sizeof(offset), "%s/%s", itr,
				 json_string_value(json_array_get(ids, i)));
		} else {
			snprintf(offset, sizeof(offset), "%s/%s", it->id,
				 json_string_value(json_array_get(ids, i)));
		}
	}
	page = offset[0] ? json_pack("{s:o, s:s}", "records", recs, "offset", offset)
			: json_pack("{s:o}", "records", recs);
	recs = NULL;
	sim_resp_json(rs, 200, page);
	ok = 1;
out:
	if (!ok)
		sim_resp_aterr(rs, &ae);
	json_decref(recs);
	json_decref(ids);
	json_decref(lo.sort);
	json_decref(lo.fields);
}
