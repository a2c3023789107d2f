/*
 * The Airtable formula language as the simulator needs it: a parser for
 * filterByFormula (tokenizer + precedence climbing, with limits on length,
 * nesting and argument counts) and an evaluator that follows Airtable's
 * value model (blank vs "" vs 0, arrays joined with ", ", dates compared as
 * datetimes). Anything outside the supported subset is a parse error, which
 * the simulator reports as 422 INVALID_FILTER_BY_FORMULA.
 */
#ifndef SCOUT_SIM_FORMULA_EVAL_H
#define SCOUT_SIM_FORMULA_EVAL_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

/* Limits that keep untrusted formulas from exhausting time or memory. */
#define FORMULA_MAX_LEN (64 * 1024)   /* bytes of formula text */
#define FORMULA_MAX_DEPTH 64          /* nesting of parentheses, calls, unary ops */
#define FORMULA_MAX_ARGS 256          /* arguments of one function call */
#define FORMULA_MAX_NODES 16384       /* nodes of one parsed formula */
#define FORMULA_MAX_STRING (1024 * 1024) /* bytes of any intermediate string */

/* What a formula can see of one record. */
struct formula_record {
	const char *id;               /* RECORD_ID() */
	int64_t created_ms;           /* CREATED_TIME() */
	const json_t *fields;         /* field name -> value, Airtable API shape */
	const json_t *field_types;    /* field name -> type string ("number", "checkbox", ...) */
	/* Last modification of one field (epoch ms), -1 when the field is unknown. */
	int64_t (*field_modified_ms)(const void *ud, const char *field);
	const void *ud;
	int64_t now_ms;               /* NOW()/TODAY() */
};

struct formula; /* a parsed formula */

/*
 * Parse text against the table's field types (field name -> type string).
 * NULL with a message on a syntax error, an unknown function or an unknown
 * field (the message names it).
 */
struct formula *formula_parse(const char *text, const json_t *field_types, serr *e);

/* Evaluate for filterByFormula: *out is 1 when the record matches. */
int formula_eval_bool(const struct formula *f, const struct formula_record *r, int *out,
		      serr *e) SCOUT_MUST;

/* Evaluate to a JSON value (string, number, true/false, null for blank, array). */
int formula_eval_json(const struct formula *f, const struct formula_record *r, json_t **out,
		      serr *e) SCOUT_MUST;

void formula_free(struct formula *f);

#endif
