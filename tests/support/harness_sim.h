/*
 * The simulator for tests: start it in process on an ephemeral port with
 * test-friendly limits, load a small recruiting base (the seed's three
 * tables with their ids, links between them, an attachment and a Notion
 * page), call it over HTTP, stop it.
 */
#ifndef SCOUT_TESTS_HARNESS_SIM_H
#define SCOUT_TESTS_HARNESS_SIM_H

#include <jansson.h>

#include "sim/sim.h"

#define HARNESS_SIM_KEY "harnessKey.0123456789abcdef"
#define HARNESS_SIM_BASE "appHarnessBase001"
#define HARNESS_TALENT "tblOkLOSo4Zjwp0yF"
#define HARNESS_JOBS "tbl9KNjT3G08f6oXh"
#define HARNESS_ATS "tblrbhITEIBOxwcQV"
#define HARNESS_PAGE "0f3c2a9e4b7d4e5f8a1b2c3d4e5f6a7b" /* the Notion job description */
#define HARNESS_NOTION_VERSION "2022-06-28"

/* Records of the small base. */
#define HARNESS_ADA "recAdaLovelace001"
#define HARNESS_GRACE "recGraceHopper001"
#define HARNESS_LINUS "recLinusTorvalds1"
#define HARNESS_JOB_RUST "recJobRustEng0001"
#define HARNESS_JOB_DATA "recJobDataEng0001"
#define HARNESS_ATS_RUST "recAtsRustEng0001"

struct harness_sim_opts {
	int penalty_ms;		/* default 1000 */
	double airtable_rate;	/* default 5, as Airtable */
	int offset_ttl_ms;	/* default 300000 */
	double notion_rate;	/* default 3, as Notion */
	int load_small_base;	/* default 1 */
};

void harness_sim_opts_init(struct harness_sim_opts *o);

/* A running simulator (with the small base unless told otherwise), or NULL with a message on stderr. */
struct sim *harness_sim_start(const struct harness_sim_opts *o);
void harness_sim_stop(struct sim *s);

/* The small base in the load format (new reference). */
json_t *harness_sim_small_base(void);

/* A table of n records {"Name": "Person 0001", "Number": i} for paging tests (new reference). */
json_t *harness_sim_numbered_table(const char *id, const char *name, int n);

struct harness_sim_reply {
	long status;		/* 0 when no HTTP answer arrived */
	json_t *json;		/* parsed body, or NULL */
	char *body;		/* raw body */
	size_t len;
	double retry_after;	/* -1 when absent */
	int transport;		/* 1: timeout or connection error */
	int timed_out;
};

/*
 * One request to the simulator: path_query is appended to its URL; bearer
 * NULL sends no Authorization; header is one extra "Name: value" or NULL.
 * 0 when an HTTP answer arrived.
 */
int harness_sim_call(struct sim *s, const char *method, const char *path_query, const char *body,
		     const char *bearer, const char *header, long timeout_ms,
		     struct harness_sim_reply *out);
/* An Airtable call with the harness key and the default timeout. */
int harness_sim_airtable(struct sim *s, const char *method, const char *path_query,
			 const char *body, struct harness_sim_reply *out);
/* A Notion call with the harness key and a Notion-Version header. */
int harness_sim_notion(struct sim *s, const char *path_query, struct harness_sim_reply *out);
void harness_sim_reply_free(struct harness_sim_reply *r);

/* The error type of an Airtable error body ({"error":{"type"}}, {"error":"X"} or {"errors":[...]}). */
const char *harness_sim_error_type(const struct harness_sim_reply *r);

#endif
