/* The simulator's Airtable data model: ids, lookups, rendering and the Meta API schema (see sim_base.h). */
#include "sim/sim_base.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"


static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int sim_aterr_set(struct sim_aterr *ae, int status, const char *type, const char *fmt, ...)
{
	va_list ap;

	if (!ae)
		return -1;
	ae->status = status;
	snprintf(ae->type, sizeof(ae->type), "%s", type);
	va_start(ap, fmt);
	vsnprintf(ae->msg, sizeof(ae->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void sim_new_id(char out[SIM_ID_MAX], const char *prefix)
{
	size_t n = strlen(prefix);

	memcpy(out, prefix, n);
	for (size_t i = 0; i < 14; i++)
		out[n + i] = b62[rand_u64() % 62];
	out[n + 14] = '\0';
}

void sim_hash_id(char out[SIM_ID_MAX], const char *prefix, const char *seed)
{
	unsigned char h[32];
	struct sha256_ctx c;
	size_t n = strlen(prefix);

	sha256_init(&c);
	sha256_update(&c, seed, strlen(seed));
	sha256_final(&c, h);
	memcpy(out, prefix, n);
	for (size_t i = 0; i < 14; i++)
		out[n + i] = b62[h[i] % 62];
	out[n + 14] = '\0';
}

int sim_is_id(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strlen(s) != n + 14 || strncmp(s, prefix, n) != 0)
		return 0;
	for (size_t i = n; s[i]; i++)
		if (!strchr(b62, s[i]))
			return 0;
	return 1;
}

void sim_att_free(struct sim_att *a)
{
	if (!a)
		return;
	if (a->blob && --a->blob->refs == 0) {
		free(a->blob->data);
		free(a->blob);
	}
	free(a->filename);
	free(a->type);
	free(a->ext_url);
	free(a);
}

void sim_record_free(struct sim_record *r)
{
	if (!r)
		return;
	json_decref(r->fields);
	json_decref(r->mtimes);
	free(r);
}

static void table_free(struct sim_table *t)
{
	for (size_t i = 0; i < t->nfields; i++) {
		free(t->fields[i].name);
		free(t->fields[i].type);
		free(t->fields[i].inverse);
		json_decref(t->fields[i].choices);
	}
	free(t->fields);
	for (size_t i = 0; i < t->nrecs; i++)
		sim_record_free(t->recs[i]);
	free(t->recs);
	free(t->name);
	json_decref(t->views);
	json_decref(t->field_types);
}

void sim_base_free(struct sim_base *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->ntables; i++)
		table_free(&b->tables[i]);
	free(b->tables);
	for (size_t i = 0; i < b->natts; i++)
		sim_att_free(b->atts[i]);
	free(b->atts);
	free(b->name);
	free(b);
}

struct sim_table *sim_base_table(struct sim_base *b, const char *id_or_name)
{
	for (size_t i = 0; i < b->ntables; i++)
		if (strcmp(b->tables[i].id, id_or_name) == 0)
			return &b->tables[i];
	for (size_t i = 0; i < b->ntables; i++)
		if (strcmp(b->tables[i].name, id_or_name) == 0)
			return &b->tables[i];
	return NULL;
}

struct sim_field *sim_table_field(struct sim_table *t, const char *name_or_id)
{
	for (size_t i = 0; i < t->nfields; i++)
		if (strcmp(t->fields[i].name, name_or_id) == 0)
			return &t->fields[i];
	for (size_t i = 0; i < t->nfields; i++)
		if (strcmp(t->fields[i].id, name_or_id) == 0)
			return &t->fields[i];
	return NULL;
}

struct sim_record *sim_table_record(struct sim_table *t, const char *id, size_t *index)
{
	for (size_t i = 0; i < t->nrecs; i++) {
		if (strcmp(t->recs[i]->id, id) == 0) {
			if (index)
				*index = i;
			return t->recs[i];
		}
	}
	return NULL;
}

struct sim_att *sim_base_att(struct sim_base *b, const char *id)
{
	for (size_t i = 0; i < b->natts; i++)
		if (strcmp(b->atts[i]->id, id) == 0)
			return b->atts[i];
	return NULL;
}

int64_t sim_record_modified(const struct sim_table *t, const struct sim_record *r,
			    const char *name)
{
	const char *k;
	json_t *v;
	int64_t best = r->created_ms;

	if (name && *name) {
		int known = 0;
		for (size_t i = 0; i < t->nfields; i++)
			if (strcmp(t->fields[i].name, name) == 0)
				known = 1;
		if (!known)
			return -1;
		v = json_object_get(r->mtimes, name);
		return v ? (int64_t)json_integer_value(v) : r->created_ms;
	}
	json_object_foreach(r->mtimes, k, v) {
		if ((int64_t)json_integer_value(v) > best)
			best = (int64_t)json_integer_value(v);
	}
	return best;
}

void sim_record_primary(struct sim_table *t, struct sim_record *r, char *out, size_t outsz)
{
	json_t *v;

	out[0] = '\0';
	if (t->nfields == 0)
		return;
	v = json_object_get(r->fields, t->fields[0].name);
	if (json_is_string(v))
		snprintf(out, outsz, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, outsz, "%.15g", json_real_value(v));
}

void sim_att_sig(const char *secret, const struct sim_att *a, const char *expires, char out[65])
{
	struct sha256_ctx c;
	unsigned char h[32];

	sha256_init(&c);
	sha256_update(&c, secret, strlen(secret) + 1);
	sha256_update(&c, a->id, strlen(a->id) + 1);
	sha256_update(&c, a->filename, strlen(a->filename) + 1);
	sha256_update(&c, expires, strlen(expires));
	sha256_final(&c, h);
	for (int i = 0; i < 16; i++)
		snprintf(out + i * 2, 3, "%02x", h[i]);
}

/* The signed download URL of an attachment, as Airtable's CDN would hand out. */
static int att_url(struct buf *out, const struct sim_att *a, const struct sim_signer *sg)
{
	char expires[32], sig[65];
	struct buf name;
	int rc = -1;

	if (!a->blob)
		return buf_puts(out, a->ext_url ? a->ext_url : "");
	buf_init(&name, 4096);
	snprintf(expires, sizeof(expires), "%lld", (long long)sg->expires_ms);
	sim_att_sig(sg->secret, a, expires, sig);
	/* keep the file name readable but safe in a path */
	for (const char *p = a->filename; *p; p++) {
		unsigned char c = (unsigned char)*p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '-' || c == '_';
		if ((ok ? buf_putc(&name, (char)c) : buf_printf(&name, "%%%02X", c)) < 0)
			goto out;
	}
	if (buf_printf(out, "%s/_sim/attachments/%s/%s?expires=%s&sig=%s", sg->root, a->id,
		       name.len ? name.data : "file", expires, sig) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&name);
	return rc;
}

static json_t *att_json(struct sim_att *a, const struct sim_signer *sg)
{
	struct buf url;
	json_t *o = NULL;

	buf_init(&url, 64 * 1024);
	if (att_url(&url, a, sg) < 0)
		goto out;
	o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", a->id, "url", buf_cstr(&url), "filename",
		      a->filename, "size", (json_int_t)a->size, "type", a->type);
out:
	buf_free(&url);
	return o;
}

/* Join the elements of an array value as Airtable's string cell format does. */
static json_t *join_strings(json_t *arr)
{
	struct buf b;
	size_t i;
	json_t *v, *out = NULL;

	buf_init(&b, 1024 * 1024);
	json_array_foreach(arr, i, v) {
		if (i && buf_puts(&b, ", ") < 0)
			goto out;
		if (json_is_string(v) && buf_puts(&b, json_string_value(v)) < 0)
			goto out;
		if (json_is_object(v)) {
			json_t *fn = json_object_get(v, "filename"), *u = json_object_get(v, "url");
			if (buf_printf(&b, "%s (%s)", json_string_value(fn) ? json_string_value(fn) : "",
				       json_string_value(u) ? json_string_value(u) : "") < 0)
				goto out;
		}
	}
	out = json_string(buf_cstr(&b));
out:
	buf_free(&b);
	return out;
}

static json_t *as_string_cell(struct sim_field *f, json_t *v)
{
	char tmp[64];

	if (json_is_string(v))
		return json_incref(v);
	if (json_is_array(v))
		return join_strings(v);
	if (json_is_true(v))
		return json_string("checked");
	if (json_is_integer(v)) {
		snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
		return json_string(tmp);
	}
	if (json_is_real(v)) {
		snprintf(tmp, sizeof(tmp), "%.*f", f->precision > 8 ? 8 : f->precision,
			 json_real_value(v));
		return json_string(tmp);
	}
	return json_incref(v);
}

json_t *sim_value_json(struct sim_base *b, struct sim_table *t, struct sim_field *f,
		       struct sim_record *r, const struct sim_render *o)
{
	json_t *v = NULL, *stored;
	char iso[32];

	switch (f->kind) {
	case SIM_F_CREATED_TIME:
		iso8601_ms(r->created_ms, iso);
		v = json_string(iso);
		break;
	case SIM_F_MODIFIED_TIME:
		iso8601_ms(sim_record_modified(t, r, NULL), iso);
		v = json_string(iso);
		break;
	case SIM_F_ATTACHMENTS: {
		size_t i;
		json_t *a;
		stored = json_object_get(r->fields, f->name);
		if (!stored)
			return NULL;
		v = json_array();
		if (!v)
			return NULL;
		json_array_foreach(stored, i, a) {
			struct sim_att *att = sim_base_att(b, json_string_value(json_object_get(a, "id")));
			json_t *aj;
			if (!att)
				continue;
			aj = att_json(att, o->signer);
			if (!aj || json_array_append_new(v, aj) < 0) {
				json_decref(v);
				return NULL;
			}
		}
		break;
	}
	case SIM_F_LINKS:
		stored = json_object_get(r->fields, f->name);
		if (!stored)
			return NULL;
		if (o->as_strings) {
			/* the string format shows the linked records' primary values */
			struct sim_table *lt = sim_base_table(b, f->link_table);
			size_t i;
			json_t *id;
			v = json_array();
			if (!v)
				return NULL;
			json_array_foreach(stored, i, id) {
				struct sim_record *lr = lt ? sim_table_record(lt, json_string_value(id), NULL)
							   : NULL;
				char prim[1024];
				if (!lr)
					continue;
				sim_record_primary(lt, lr, prim, sizeof(prim));
				if (json_array_append_new(v, json_string(prim)) < 0) {
					json_decref(v);
					return NULL;
				}
			}
		} else {
			v = json_deep_copy(stored);
		}
		break;
	default:
		stored = json_object_get(r->fields, f->name);
		if (!stored)
			return NULL;
		v = json_deep_copy(stored);
		break;
	}
	if (v && o->as_strings) {
		json_t *s = as_string_cell(f, v);
		json_decref(v);
		v = s;
	}
	return v;
}

static int wanted(const json_t *only, const struct sim_field *f)
{
	size_t i;
	json_t *n;

	if (!only)
		return 1;
	json_array_foreach(only, i, n) {
		const char *s = json_string_value(n);
		if (s && (strcmp(s, f->name) == 0 || strcmp(s, f->id) == 0))
			return 1;
	}
	return 0;
}

json_t *sim_record_json(struct sim_base *b, struct sim_table *t, struct sim_record *r,
			const struct sim_render *o)
{
	json_t *rec = NULL, *fields = json_object();
	char iso[32];

	if (!fields)
		goto out;
	for (size_t i = 0; i < t->nfields; i++) {
		struct sim_field *f = &t->fields[i];
		json_t *v;
		if (!wanted(o->only, f))
			continue;
		v = sim_value_json(b, t, f, r, o);
		if (v && json_object_set_new(fields, o->by_field_id ? f->id : f->name, v) < 0)
			goto out;
	}
	iso8601_ms(r->created_ms, iso);
	rec = json_pack("{s:s, s:s, s:O}", "id", r->id, "createdTime", iso, "fields", fields);
	if (rec && o->comment_count && json_object_set_new(rec, "commentCount", json_integer(0)) < 0) {
		json_decref(rec);
		rec = NULL;
	}
out:
	json_decref(fields);
	return rec;
}

/* The Meta API's options object of a field, or NULL when it has none. */
static json_t *field_options(struct sim_table *t, struct sim_field *f, int load_format)
{
	(void)t;
	switch (f->kind) {
	case SIM_F_SELECT:
	case SIM_F_MULTISELECT:
		return json_pack("{s:O}", "choices", f->choices);
	case SIM_F_LINKS:
		if (load_format)
			return f->inverse ? json_pack("{s:s, s:s}", "linkedTableId", f->link_table,
						      "inverseField", f->inverse)
					  : json_pack("{s:s}", "linkedTableId", f->link_table);
		return json_pack("{s:s, s:b, s:b}", "linkedTableId", f->link_table, "isReversed", 0,
				 "prefersSingleRecordLink", 0);
	case SIM_F_RATING:
		return json_pack("{s:i, s:s, s:s}", "max", f->rating_max, "icon", "star", "color",
				 "yellowBright");
	case SIM_F_NUMBER:
		return json_pack("{s:i}", "precision", f->precision);
	case SIM_F_CHECKBOX:
		return json_pack("{s:s, s:s}", "icon", "check", "color", "greenBright");
	default:
		return NULL;
	}
}

static json_t *field_schema(struct sim_base *b, struct sim_table *t, struct sim_field *f,
			    int load_format)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "id", f->id, "name", f->name, "type", f->type);
	json_t *opt = field_options(t, f, load_format);
	int ok = 0;

	if (!o)
		goto out;
	if (f->kind == SIM_F_LINKS && !load_format && f->inverse) {
		struct sim_table *lt = b ? sim_base_table(b, f->link_table) : NULL;
		struct sim_field *inv = lt ? sim_table_field(lt, f->inverse) : NULL;
		if (inv && opt && json_object_set_new(opt, "inverseLinkFieldId", json_string(inv->id)) < 0)
			goto out;
	}
	if (opt && json_object_set(o, "options", opt) < 0)
		goto out;
	ok = 1;
out:
	json_decref(opt);
	if (!ok) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static json_t *table_meta(struct sim_base *b, struct sim_table *t)
{
	json_t *fields = json_array(), *views = json_array(), *o = NULL;
	size_t i;
	json_t *v;

	if (!fields || !views)
		goto out;
	for (i = 0; i < t->nfields; i++) {
		json_t *f = field_schema(b, t, &t->fields[i], 0);
		if (!f || json_array_append_new(fields, f) < 0)
			goto out;
	}
	json_array_foreach(t->views, i, v) {
		char vid[SIM_ID_MAX], seed[256];
		snprintf(seed, sizeof(seed), "%s/%s", t->id, json_string_value(v));
		sim_hash_id(vid, "viw", seed);
		if (json_array_append_new(views, json_pack("{s:s, s:O, s:s}", "id", vid, "name", v,
							   "type", "grid")) < 0)
			goto out;
	}
	o = json_pack("{s:s, s:s, s:s, s:O, s:O}", "id", t->id, "name", t->name, "primaryFieldId",
		      t->nfields ? t->fields[0].id : "", "fields", fields, "views", views);
out:
	json_decref(fields);
	json_decref(views);
	return o;
}

json_t *sim_table_meta(struct sim_base *b, struct sim_table *t)
{
	return table_meta(b, t);
}

json_t *sim_base_dump(struct sim_base *b, const struct sim_signer *sg)
{
	json_t *tables = json_array(), *out = NULL;
	struct sim_render ro = { .signer = sg };

	if (!tables)
		return NULL;
	for (size_t i = 0; i < b->ntables; i++) {
		struct sim_table *t = &b->tables[i];
		json_t *fields = json_array(), *recs = json_array(), *tj;
		if (!fields || !recs) {
			json_decref(fields);
			json_decref(recs);
			goto out;
		}
		tj = json_pack("{s:s, s:s, s:o, s:O, s:o}", "id", t->id, "name", t->name, "fields",
			       fields, "views", t->views, "records", recs);
		if (!tj || json_array_append_new(tables, tj) < 0)
			goto out;
		for (size_t k = 0; k < t->nfields; k++) {
			json_t *f = field_schema(b, t, &t->fields[k], 1);
			if (!f || json_array_append_new(fields, f) < 0)
				goto out;
		}
		for (size_t k = 0; k < t->nrecs; k++) {
			struct sim_record *r = t->recs[k];
			json_t *rj = sim_record_json(b, t, r, &ro), *mt = json_object();
			const char *name;
			json_t *ms;
			if (!rj || !mt || json_object_set_new(rj, "fieldModifiedTimes", mt) < 0) {
				json_decref(rj);
				goto out;
			}
			json_object_foreach(r->mtimes, name, ms) {
				char iso[32];
				iso8601_ms((int64_t)json_integer_value(ms), iso);
				if (json_object_set_new(mt, name, json_string(iso)) < 0) {
					json_decref(rj);
					goto out;
				}
			}
			if (json_array_append_new(recs, rj) < 0)
				goto out;
		}
	}
	out = json_pack("{s:s, s:s, s:O}", "id", b->id, "name", b->name ? b->name : b->id,
			"tables", tables);
out:
	json_decref(tables);
	return out;
}

static int base_add_att(struct sim_base *b, struct sim_att *a)
{
	if (b->natts == b->capatts) {
		size_t ncap = b->capatts ? b->capatts * 2 : 64, bytes;
		struct sim_att **p;
		if (size_mul(ncap, sizeof(*p), &bytes) < 0)
			return -1;
		p = realloc(b->atts, bytes);
		if (!p)
			return -1;
		b->atts = p;
		b->capatts = ncap;
	}
	b->atts[b->natts++] = a;
	return 0;
}

struct sim_att *sim_att_new(struct sim_base *b, const char *filename, const char *type,
			    struct sim_blob *blob, const char *ext_url, size_t size)
{
	struct sim_att *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	sim_new_id(a->id, "att");
	a->filename = xstrdup(filename && *filename ? filename : "file");
	a->type = xstrdup(type && *type ? type : "application/octet-stream");
	a->ext_url = ext_url ? xstrdup(ext_url) : NULL;
	a->size = size;
	if (!a->filename || !a->type || (ext_url && !a->ext_url) || base_add_att(b, a) < 0) {
		sim_att_free(a);
		return NULL;
	}
	a->blob = blob;
	if (blob)
		blob->refs++;
	return a;
}

int sim_table_add_record(struct sim_table *t, struct sim_record *r)
{
	if (t->nrecs >= SIM_MAX_RECORDS)
		return -1;
	if (t->nrecs == t->caprecs) {
		size_t ncap = t->caprecs ? t->caprecs * 2 : 128, bytes;
		struct sim_record **p;
		if (size_mul(ncap, sizeof(*p), &bytes) < 0)
			return -1;
		p = realloc(t->recs, bytes);
		if (!p)
			return -1;
		t->recs = p;
		t->caprecs = ncap;
	}
	t->recs[t->nrecs++] = r;
	return 0;
}

int sim_is_integral(double d)
{
	return isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0;
}
