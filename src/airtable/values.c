/*
 * Reading cell values the way Airtable sends them: empty values (empty
 * text, unchecked boxes, empty lists) are left out of "fields", so every
 * accessor reads an absent key as empty, false or zero.
 */
#include <string.h>

#include "airtable/airtable.h"

static const json_t *value(const json_t *fields, const char *name)
{
	if (!json_is_object(fields) || !name)
		return NULL;
	return json_object_get(fields, name);
}

const char *airtable_str(const json_t *fields, const char *name)
{
	const char *s = json_string_value(value(fields, name));
	return s ? s : "";
}

int airtable_bool(const json_t *fields, const char *name)
{
	return json_is_true(value(fields, name));
}

int airtable_number(const json_t *fields, const char *name, double *out)
{
	const json_t *v = value(fields, name);

	*out = 0;
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return 0;
}

size_t airtable_strings_len(const json_t *fields, const char *name)
{
	const json_t *v = value(fields, name);
	return json_is_array(v) ? json_array_size(v) : 0;
}

const char *airtable_strings_at(const json_t *fields, const char *name, size_t i)
{
	const json_t *v = value(fields, name);
	const char *s = json_is_array(v) ? json_string_value(json_array_get(v, i)) : NULL;
	return s ? s : "";
}

int airtable_strings_has(const json_t *fields, const char *name, const char *want)
{
	const json_t *v = value(fields, name), *item;
	size_t i;

	if (!json_is_array(v) || !want)
		return 0;
	json_array_foreach(v, i, item)
	{
		const char *s = json_string_value(item);
		if (s && strcmp(s, want) == 0)
			return 1;
	}
	return 0;
}

size_t airtable_attachments_len(const json_t *fields, const char *name)
{
	return airtable_strings_len(fields, name);
}

static const char *member(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

int airtable_attachment_at(const json_t *fields, const char *name, size_t i,
			   struct airtable_attachment *out)
{
	const json_t *v = value(fields, name), *a, *size;

	memset(out, 0, sizeof(*out));
	out->id = out->url = out->filename = out->type = "";
	if (!json_is_array(v) || !json_is_object(a = json_array_get(v, i)))
		return -1;
	out->id = member(a, "id");
	out->url = member(a, "url");
	out->filename = member(a, "filename");
	out->type = member(a, "type");
	size = json_object_get(a, "size");
	out->size = json_is_number(size) ? json_number_value(size) : 0;
	return 0;
}
