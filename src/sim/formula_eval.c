/* Airtable formula parser and evaluator for the simulator (see formula_eval.h). */
#include "sim/formula_eval.h"

#include <stdlib.h>

struct formula {
	int unused;
};

struct formula *formula_parse(const char *text, const json_t *field_types, serr *e)
{
	(void)text;
	(void)field_types;
	serr_set(e, "formula evaluation is not available yet");
	return NULL;
}

int formula_eval_bool(const struct formula *f, const struct formula_record *r, int *out, serr *e)
{
	(void)f;
	(void)r;
	*out = 0;
	return serr_set(e, "formula evaluation is not available yet");
}

int formula_eval_json(const struct formula *f, const struct formula_record *r, json_t **out,
		      serr *e)
{
	(void)f;
	(void)r;
	*out = NULL;
	return serr_set(e, "formula evaluation is not available yet");
}

void formula_free(struct formula *f)
{
	free(f);
}
