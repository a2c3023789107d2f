/*
 * The role-fitness step: the LLM scores a normalized candidate 0-100 for
 * each of the candidate's desired job categories (Airtable "Desired Job
 * Category"), with a short reason, stored in candidate_role_fitness.
 */
#ifndef SCOUT_PIPELINE_FITNESS_H
#define SCOUT_PIPELINE_FITNESS_H

#include "core/err.h"

struct job_ctx;

int step_role_fitness(struct job_ctx *ctx, serr *e) SCOUT_MUST;

#endif
