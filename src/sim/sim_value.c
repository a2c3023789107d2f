/*
 * Validation of one cell value per field type, as the Airtable API does it:
 * the accepted JSON shapes, the typecast conversions (text from numbers,
 * numbers and checkboxes from text, select choices created on demand),
 * Airtable's error types and messages, and the normalized form the model
 * stores (empty values become "no value").
 */
#include "sim/sim_base.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	int rc = -1;

	if (json_is_string(v) && (flags & SIM_NORM_TYPECAST))
		src = json_pack("[O]", v);
	else if (json_is_array(v) && json_array_size(v) <= MAX_ARRAY)
		src = json_incref((json_t *)v);
	else
		return bad_value(ae, f);
	arr = json_array();
	if (!src || !arr) {
		sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
		goto out;
	}
	json_array_foreach(src, i, x) {
		const char *id = json_string_value(x);
		json_t *y;
		size_t k;
		int dup = 0;
		if (!id) {
			bad_value(ae, f);
			goto out;
		}
		if (!sim_is_id(id, "rec") && !((flags & SIM_NORM_LOAD) && *id)) {
			sim_aterr_set(ae, 422, "INVALID_RECORD_ID",
				      "Value \"%s\" is not a valid record ID", id);
			goto out;
		}
		if (!(flags & SIM_NORM_LOAD) && (!lt || !sim_table_record(lt, id, NULL))) {
			sim_aterr_set(ae, 422, "ROW_DOES_NOT_EXIST",
				      "Record ID %s does not exist in table \"%s\"", id,
				      lt ? lt->name : f->link_table);
			goto out;
		}
		json_array_foreach(arr, k, y)
			if (strcmp(json_string_value(y), id) == 0)
				dup = 1;
		if (!dup && json_array_append(arr, x) < 0) {
			sim_aterr_set(ae, 500, "SERVER_ERROR", "out of memory");
			goto out;
		}
	}
	*out = json_array_size(arr) ? json_incref(arr) : NULL;
	rc = 0;
out:
	json_decref(src);
	json_decref(arr);
	return rc;
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
