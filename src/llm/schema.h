/*
 * JSON Schema validation of LLM answers, in C, before anything is stored.
 * The subset is the one strict structured outputs (OpenAI, and OpenRouter
 * providers with require_parameters) accept: type (one name or an array of
 * names), properties, required, additionalProperties, enum, const, items,
 * minItems/maxItems, minimum/maximum, exclusiveMinimum/exclusiveMaximum,
 * multipleOf, minLength/maxLength, pattern (POSIX extended regex, search
 * semantics as in JSON Schema: unanchored unless the pattern anchors
 * itself), anyOf and $ref to "#" or "#/$defs/<name>". Annotations
 * (description, title, default, examples, $comment, $schema, $id) are
 * ignored; any other keyword is a schema error rather than silently skipped.
 *
 * Errors name the JSON path of the offending value:
 *   "$.skills[3].rating: 11 is above the maximum 10"
 */
#ifndef SCOUT_LLM_SCHEMA_H
#define SCOUT_LLM_SCHEMA_H

#include <jansson.h>

#include "core/err.h"

/* Deepest nesting of a value (and of $ref chains) that is validated. */
#define SCHEMA_MAX_DEPTH 64
/* Most values visited in one validation (anyOf trials count too). */
#define SCHEMA_MAX_NODES 500000
/* Errors listed in one message; the rest are counted. */
#define SCHEMA_MAX_ERRORS 6

/*
 * 0 when value is valid against schema. Otherwise -1 and e lists up to
 * SCHEMA_MAX_ERRORS problems, each "<json path>: <problem>", separated by
 * "; ". A broken schema (unknown keyword, unresolvable $ref, bad regex) is
 * reported as "invalid schema ..." rather than as an invalid value.
 */
int schema_validate(const json_t *schema, const json_t *value, serr *e) SCOUT_MUST;

/*
 * 0 when the schema follows the rules of strict structured outputs: the
 * root is an object schema; every object schema lists all its properties
 * in required and has additionalProperties false; arrays have items; only
 * the keywords above are used, except minLength/maxLength (providers
 * reject them in strict mode; check lengths in C); patterns compile and
 * use no ECMA-only escapes (\d \w \s \b); every $ref resolves; and the
 * documented size limits hold (5000 properties, 10 levels of object
 * nesting, 1000 enum values, 120000 characters of names and enum/const
 * strings). e names the schema location ("#/properties/skills/items").
 */
int schema_check_strict(const json_t *schema, serr *e) SCOUT_MUST;

/*
 * 0 when name is an IANA time zone of the system tz database: a relative
 * name of letters, digits, '_', '+', '-' and '/', no "..", no leading '/',
 * at most 64 characters, whose file under /usr/share/zoneinfo (or $TZDIR)
 * is a regular TZif file.
 */
int schema_check_timezone(const char *name, serr *e) SCOUT_MUST;

/*
 * Format a JSON value for an error message: numbers as written, strings
 * quoted with '...' and cut at 40 characters, control characters shown
 * as '?', containers as "an object"/"an array". Always NUL-terminates.
 */
void schema_describe_value(const json_t *v, char *out, size_t outsz);

#endif
