/*
 * The Airtable sensors' evaluations: the Talent and Customers STT records
 * whose input fields changed since the cursor (LAST_MODIFIED_TIME over the
 * input fields only, minus an overlap window), one run request per record
 * keyed by record id and input hash. See orchestrator/sensor.h for the
 * contract: they read Airtable and never write to the database.
 */
#ifndef SCOUT_PIPELINE_SENSORS_H
#define SCOUT_PIPELINE_SENSORS_H

#include "core/err.h"
#include "orchestrator/sensor.h"

/* airtable_candidate_sensor: requests the definition's job per changed Talent record. */
int sensor_eval_airtable_candidates(const struct sensor_eval_ctx *ctx, const char *cursor,
				    struct sensor_result *out, serr *e) SCOUT_MUST;

/* airtable_job_sensor: the same over Customers STT. */
int sensor_eval_airtable_jobs(const struct sensor_eval_ctx *ctx, const char *cursor,
			      struct sensor_result *out, serr *e) SCOUT_MUST;

#endif
