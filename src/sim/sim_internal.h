/*
 * The simulator's state shared by its files: the server, the options, one
 * lock over everything (bases, Notion pages, iterators, traffic), and the
 * handlers of the three APIs. Handlers of /v0, /v1 and attachments run
 * with the lock held; control handlers take it through the public API.
 */
#ifndef SCOUT_SIM_SIM_INTERNAL_H
#define SCOUT_SIM_SIM_INTERNAL_H

#include <pthread.h>

#include "sim/sim.h"
#include "sim/sim_base.h"
#include "sim/sim_http.h"
#include "sim/sim_iter.h"
#include "sim/sim_notion.h"
#include "sim/sim_openrouter.h"
#include "sim/sim_traffic.h"

#define SIM_MAX_BASES 64
#define SIM_MAX_URL 16000 /* Airtable refuses URLs of this length or more */

struct MHD_Daemon;

struct sim {
	struct MHD_Daemon *d;
	struct sim_opts o;
	char *api_key;
	char url[64];
	char secret[33];	/* signs attachment URLs */
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* held requests wait on it; sim_stop wakes them */
	int stopping;
	struct sim_base *bases[SIM_MAX_BASES];
	size_t nbases;
	struct sim_notion notion;
	struct sim_iters iters;
	struct sim_traffic traffic;
	struct sim_openrouter openrouter; /* has its own lock */
};

struct sim_base *sim_find_base(struct sim *s, const char *id);
/* Attachment URLs minted now expire after attachment_ttl_ms. */
void sim_signer_now(struct sim *s, struct sim_signer *sg);

void sim_airtable_handle(struct sim *s, struct sim_req *rq, struct sim_resp *rs);
/* List records; body is the listRecords JSON body, or NULL for GET with query parameters. */
void sim_list_records(struct sim *s, struct sim_req *rq, struct sim_resp *rs, struct sim_base *b,
		      struct sim_table *t, const json_t *body);
void sim_notion_handle(struct sim *s, struct sim_req *rq, struct sim_resp *rs);
void sim_attachment_handle(struct sim *s, struct sim_req *rq, struct sim_resp *rs);
/* The limits in force (new reference), for GET /_sim/config. */
json_t *sim_config_json(struct sim *s);
/* Control endpoints: called without the lock. */
void sim_ctl_handle(struct sim *s, struct sim_req *rq, struct sim_resp *rs);

#endif
