/* Profiles, CV text and job descriptions for the sample-base generator (see generate_internal.h). */
#include "sim/generate_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define YEAR_NOW 2026

/* Archetypes weighted the way an agency's pool looks: mostly engineers. */
static const int arch_weight[] = { 10, 7, 10, 8, 8, 6, 5, 5, 4, 5, 5, 4, 4, 4, 3 };

static const struct archetype *pick_archetype(struct rng *r)
{
	int total = 0, x;

	for (size_t i = 0; i < gen_narchetypes && i < COUNT(arch_weight); i++)
		total += arch_weight[i];
	x = rng_int(r, 0, total - 1);
	for (size_t i = 0; i < gen_narchetypes && i < COUNT(arch_weight); i++) {
		if (x < arch_weight[i])
			return &gen_archetypes[i];
		x -= arch_weight[i];
	}
	return &gen_archetypes[0];
}

static int has_skill(const struct gen_candidate *c, const char *s)
{
	for (size_t i = 0; i < c->nskills; i++)
		if (strcmp(c->skills[i], s) == 0)
			return 1;
	return 0;
}

static int in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

/* Yearly pay by seniority (USD), scaled by where the candidate lives. */
static void compensation(struct rng *r, struct gen_candidate *c)
{
	static const int base[] = { 40000, 70000, 110000, 150000 };
	static const struct {
		const char *region;
		int pct;
	} scale[] = {
		{ "North America", 135 }, { "Western Europe", 100 }, { "Eastern Europe", 75 },
		{ "Latin America", 65 },  { "South Asia", 50 },	    { "East Asia", 95 },
		{ "Southeast Asia", 60 }, { "Africa", 55 },	    { "Middle East", 95 },
	};
	int pct = 100, v;

	for (size_t i = 0; i < COUNT(scale); i++)
		if (strcmp(scale[i].region, c->region->name) == 0)
			pct = scale[i].pct;
	v = base[c->level] * pct / 100 + rng_int(r, -8, 15) * 1000;
	c->comp_min = (v / 5000) * 5000;
	c->comp_max = ((v * 125 / 100) / 5000) * 5000;
	c->comp_currency = strcmp(c->region->name, "Western Europe") == 0 && rng_chance(r, 60)
				   ? "EUR"
				   : "USD";
}

void gen_candidate_profile(struct rng *r, struct gen_candidate *c)
{
	const char *first, *last;
	char f[48], l[48];

	memset(c, 0, sizeof(*c));
	c->region = &gen_regions[rng_index(r, gen_nregions)];
	first = c->region->first[rng_index(r, c->region->nfirst)];
	last = c->region->last[rng_index(r, c->region->nlast)];
	snprintf(c->first, sizeof(c->first), "%s", first);
	snprintf(c->last, sizeof(c->last), "%s", last);
	snprintf(c->name, sizeof(c->name), "%s %s", first, last);
	c->place = &c->region->places[rng_index(r, c->region->nplaces)];
	c->arch = pick_archetype(r);
	c->years = 1 + rng_int(r, 0, 3) + rng_int(r, 0, 4) + rng_int(r, 0, 5);
	c->level = c->years < 2 ? 0 : c->years < 5 ? 1 : c->years < 8 ? 2 : 3;

	/* the archetype's core skills first, then a spread, sometimes an outlier */
	for (size_t i = 0; i < 3; i++)
		if (rng_chance(r, 85))
			c->skills[c->nskills++] = c->arch->skills[i];
	while (c->nskills < (size_t)rng_int(r, 5, 8)) {
		const char *s = c->arch->skills[rng_index(r, 12)];
		if (!has_skill(c, s))
			c->skills[c->nskills++] = s;
	}
	if (c->nskills < 8 && rng_chance(r, 20)) {
		const char *s = gen_skills[rng_index(r, gen_nskills)];
		if (!has_skill(c, s))
			c->skills[c->nskills++] = s;
	}
	for (size_t i = 0; i < c->nskills; i++)
		c->skill_years[i] = rng_int(r, 1, c->years);

	gen_ascii_slug(first, 0, f, sizeof(f));
	gen_ascii_slug(last, 0, l, sizeof(l));
	switch (rng_int(r, 0, 3)) {
	case 0:
		snprintf(c->handle, sizeof(c->handle), "%s%s", f, l);
		break;
	case 1:
		snprintf(c->handle, sizeof(c->handle), "%s-%s", f, l);
		break;
	case 2:
		snprintf(c->handle, sizeof(c->handle), "%.1s%s%d", f, l, rng_int(r, 1, 99));
		break;
	default:
		snprintf(c->handle, sizeof(c->handle), "%s_%s", f, c->arch->engineering ? "dev" : "xyz");
		break;
	}
	c->nphases = 1 + (c->years >= 3) + (c->years >= 6) + (c->years >= 10);
	for (int i = 0; i < c->nphases;) {
		const char *co = gen_past_companies[rng_index(r, gen_npast_companies)];
		if (!in_list(c->companies, (size_t)i, co))
			c->companies[i++] = co;
	}
	compensation(r, c);
}

struct vars {
	const char *s1, *s2, *co, *domain;
	int n;
};

/* Fill {s1} {s2} {co} {n} {domain} in a template. */
static int expand(struct buf *b, const char *t, const struct vars *v)
{
	while (*t) {
		const char *open = strchr(t, '{'), *close;
		if (!open)
			return buf_puts(b, t);
		if (buf_append(b, t, (size_t)(open - t)) < 0)
			return -1;
		close = strchr(open, '}');
		if (!close)
			return buf_puts(b, open);
		if (!strncmp(open, "{s1}", 4)) {
			if (buf_puts(b, v->s1) < 0)
				return -1;
		} else if (!strncmp(open, "{s2}", 4)) {
			if (buf_puts(b, v->s2) < 0)
				return -1;
		} else if (!strncmp(open, "{co}", 4)) {
			if (buf_puts(b, v->co) < 0)
				return -1;
		} else if (!strncmp(open, "{n}", 3)) {
			if (buf_printf(b, "%d", v->n) < 0)
				return -1;
		} else if (!strncmp(open, "{domain}", 8)) {
			if (buf_puts(b, v->domain) < 0)
				return -1;
		} else if (buf_append(b, open, (size_t)(close - open + 1)) < 0) {
			return -1;
		}
		t = close + 1;
	}
	return 0;
}

static void vars_for(struct rng *r, const struct gen_candidate *c, struct vars *v)
{
	v->s1 = c->nskills ? c->skills[0] : c->arch->skills[0];
	v->s2 = c->nskills > 1 ? c->skills[1] : c->arch->skills[1];
	v->co = c->companies[0];
	v->domain = c->arch->domain;
	v->n = rng_int(r, 3, 60);
}

/* The title held in a past position: one seniority step lower per step back. */
static const char *title_for(const struct gen_candidate *c, int phase, char *out, size_t outsz)
{
	int level = c->level - phase;
	const char *pre = level >= 3 ? "Lead " : level == 2 ? "Senior " : level <= 0 ? "Junior " : "";

	snprintf(out, outsz, "%s%s", pre, c->arch->title);
	return out;
}

int gen_summary(struct rng *r, const struct gen_candidate *c, struct buf *out)
{
	static const char *const wants[] = {
		"Looking for a remote role in a small team that ships fast.",
		"Open to senior individual-contributor roles with real ownership.",
		"Interested in early-stage teams building open infrastructure.",
		"Wants to grow into a lead role and mentor others.",
		"Prefers async, remote-first teams with a few hours of overlap.",
		"Happy to relocate for the right team.",
	};
	struct vars v;
	char title[96];
	int shape = rng_int(r, 0, 2);

	vars_for(r, c, &v);
	if (shape == 0) {
		if (buf_printf(out, "%s with %d years of experience in %s. ", title_for(c, 0, title, sizeof(title)), c->years,
			       c->arch->domain) < 0)
			return -1;
	} else if (shape == 1) {
		if (buf_printf(out, "I am a %s based in %s and have spent %d years on %s. ",
			       c->arch->title, c->place->city, c->years, c->arch->domain) < 0)
			return -1;
	} else if (buf_printf(out, "%d years in %s, most recently at %s. ", c->years,
			      c->arch->domain, c->companies[0]) < 0) {
		return -1;
	}
	if (expand(out, c->arch->achievements[rng_index(r, 3)], &v) < 0 || buf_puts(out, ". ") < 0)
		return -1;
	if (c->nskills >= 3 &&
	    buf_printf(out, "Strongest in %s, %s and %s. ", c->skills[0], c->skills[1], c->skills[2]) < 0)
		return -1;
	return buf_puts(out, wants[rng_index(r, COUNT(wants))]);
}

/* Thousands separators: 120000 -> "120,000". */
static void money(int v, char *out, size_t outsz)
{
	if (v >= 1000)
		snprintf(out, outsz, "%d,%03d", v / 1000, v % 1000);
	else
		snprintf(out, outsz, "%d", v);
}

static int line(struct buf *store, const char *s)
{
	if (buf_puts(store, s) < 0)
		return -1;
	return buf_putc(store, '\0');
}

static int linef(struct buf *store, const char *fmt, ...) SCOUT_PRINTF(2, 3);
static int linef(struct buf *store, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(store, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	return buf_putc(store, '\0');
}

static const char *skill_level(int years)
{
	return years >= 6 ? "expert" : years >= 3 ? "advanced" : years >= 2 ? "intermediate"
									    : "working knowledge";
}

static int cv_experience(struct rng *r, const struct gen_candidate *c, struct buf *s)
{
	int end = YEAR_NOW, span = c->years / c->nphases;
	char title[96];

	if (line(s, "# Experience") < 0)
		return -1;
	for (int p = 0; p < c->nphases; p++) {
		int from = p == c->nphases - 1 ? YEAR_NOW - c->years : end - (span > 0 ? span : 1);
		size_t d1 = rng_index(r, 6), d2 = (d1 + 1 + rng_index(r, 5)) % 6;
		if (from > end)
			from = end;
		if (p == 0) {
			if (linef(s, "%s, %s (%d - present)", title_for(c, p, title, sizeof(title)),
				  c->companies[p], from) < 0)
				return -1;
		} else if (linef(s, "%s, %s (%d - %d)", title_for(c, p, title, sizeof(title)),
				 c->companies[p], from, end) < 0) {
			return -1;
		}
		if (linef(s, "- %s", c->arch->duties[d1]) < 0 || linef(s, "- %s", c->arch->duties[d2]) < 0)
			return -1;
		end = from;
	}
	return 0;
}

static int cv_projects(struct rng *r, const struct gen_candidate *c, struct buf *s)
{
	static const char *const awards[] = { "finalist", "winner, best DeFi project", "honourable mention",
					      "winner, best use of zero-knowledge", "top 10" };
	static const char *const things[] = { "a gas-efficient token vesting tool",
					      "an open-source indexer", "a wallet recovery flow",
					      "a cross-chain bridge monitor", "a DAO voting dashboard",
					      "a privacy-preserving payroll app" };
	int n = rng_int(r, c->arch->engineering ? 1 : 0, 3);

	if (n == 0)
		return 0;
	if (line(s, "# Projects and Hackathons") < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		int hack = rng_chance(r, 60);
		if (hack) {
			if (linef(s, "- %s %d: built %s with %s (%s)",
				  gen_hackathons[rng_index(r, gen_nhackathons)], rng_int(r, 2021, 2025),
				  things[rng_index(r, COUNT(things))], c->skills[rng_index(r, c->nskills)],
				  awards[rng_index(r, COUNT(awards))]) < 0)
				return -1;
		} else if (linef(s, "- Open source: maintainer of %s in %s, %d GitHub stars",
				 things[rng_index(r, COUNT(things))], c->skills[0],
				 rng_int(r, 40, 4000)) < 0) {
			return -1;
		}
	}
	return 0;
}

int gen_cv_lines(struct rng *r, const struct gen_candidate *c, const char *summary,
		 struct buf *s)
{
	static const char *const extras[] = { "open to token allocation", "full-time employment",
					      "employment or contractor", "negotiable for equity" };
	static const char *const remote[] = { "open to remote work", "remote only",
					      "open to relocation within the region",
					      "hybrid in the city is fine" };
	char lo[32], hi[32];
	int grad = YEAR_NOW - c->years - rng_int(r, 0, 2);

	money(c->comp_min, lo, sizeof(lo));
	money(c->comp_max, hi, sizeof(hi));
	if (linef(s, "# %s", c->name) < 0 ||
	    linef(s, "%s | %s, %s", c->arch->title, c->place->city, c->place->country) < 0 ||
	    linef(s, "github.com/%s | linkedin.com/in/%s", c->handle, c->handle) < 0 ||
	    line(s, "# Summary") < 0 || line(s, summary) < 0 || cv_experience(r, c, s) < 0 ||
	    cv_projects(r, c, s) < 0 || line(s, "# Skills") < 0)
		return -1;
	for (size_t i = 0; i < c->nskills; i++)
		if (linef(s, "- %s: %s (%d year%s)", c->skills[i], skill_level(c->skill_years[i]),
			  c->skill_years[i], c->skill_years[i] == 1 ? "" : "s") < 0)
			return -1;
	if (line(s, "# Compensation") < 0 ||
	    linef(s, "Expected: %s %s - %s per year, %s", c->comp_currency, lo, hi,
		  extras[rng_index(r, COUNT(extras))]) < 0 ||
	    line(s, "# Location") < 0 ||
	    linef(s, "%s, %s (timezone %s); %s", c->place->city, c->place->country, c->place->tz,
		  remote[rng_index(r, COUNT(remote))]) < 0 ||
	    line(s, "# Education") < 0 ||
	    linef(s, "%s, %s (%d)", rng_chance(r, 70) ? "B.Sc. Computer Science" : "M.Sc. Engineering",
		  gen_universities[rng_index(r, gen_nuniversities)], grad) < 0 ||
	    line(s, "# Languages") < 0)
		return -1;
	if (strcmp(c->region->name, "North America") == 0)
		return line(s, "English (native), Spanish (basic)");
	return linef(s, "English (fluent), %s (native)", c->region->language);
}

/* ---- job descriptions ---- */

static json_t *blk(const char *type, const char *text)
{
	return json_pack("{s:s, s:s}", "type", type, "text", text);
}

static json_t *blkf(const char *type, const char *fmt, ...) SCOUT_PRINTF(2, 3);
static json_t *blkf(const char *type, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return blk(type, text);
}

static int add(json_t *arr, json_t *b)
{
	return b ? json_array_append_new(arr, b) : -1;
}

static int add_children(json_t *parent, json_t *kids)
{
	if (!parent || !kids)
		return -1;
	return json_object_set_new(parent, "children", kids);
}

static int jd_long_section(struct rng *r, const struct gen_job *j, json_t *a)
{
	static const char *const topics[] = { "code review", "on-call", "documentation",
					      "planning", "incident reviews", "releases",
					      "security", "hiring", "mentoring", "testing" };
	static const char *const verbs[] = { "We write down", "We keep", "We automate",
					     "We measure", "We review", "We share" };

	if (add(a, blk("heading_2", "How we work (team handbook excerpts)")) < 0)
		return -1;
	for (int i = 1; i <= 112; i++) {
		const char *type = i % 3 == 0 ? "paragraph" : "bulleted_list_item";
		if (add(a, blkf(type, "%d. %s how we handle %s on the %s team; it keeps %s calm.", i,
				verbs[rng_index(r, COUNT(verbs))], topics[rng_index(r, COUNT(topics))],
				j->arch->title, j->company)) < 0)
			return -1;
	}
	return 0;
}

json_t *gen_jd_blocks(struct rng *r, const struct gen_job *j, int long_page)
{
	static const char *const about[] = {
		"{co} builds {domain} for teams and individuals in more than forty countries.",
		"Founded in 2021, {co} is a remote-first team working on {domain}, backed by leading crypto funds.",
		"{co} is a profitable, {n}-person company focused on {domain}.",
	};
	static const char *const benefits[] = { "Token allocation with a four-year vest",
						"Home office budget", "Annual team offsite",
						"Learning budget of 2,000 USD a year",
						"Flexible hours and unlimited paid leave" };
	static const char *const steps[] = { "Intro call with the recruiter (30 minutes)",
					     "Technical conversation with the hiring manager",
					     "Paid take-home assignment or pairing session",
					     "Meet the team and the founders", "Offer" };
	char lo[32], hi[32], slug[64], careers[128];
	struct vars v = { "", "", j->company, j->arch->domain, rng_int(r, 12, 150) };
	struct buf aboutf;
	json_t *a = json_array(), *b = NULL, *kids;

	buf_init(&aboutf, 4096);
	if (!a || expand(&aboutf, about[rng_index(r, COUNT(about))], &v) < 0)
		goto fail;
	money(j->salary_min, lo, sizeof(lo));
	money(j->salary_max, hi, sizeof(hi));
	gen_ascii_slug(j->company, 0, slug, sizeof(slug));
	snprintf(careers, sizeof(careers), "https://www.%s.io/careers", slug);
	/* a rich-text opening: bold, italic and a link, as pasted job posts have */
	if (add(a, json_pack("{s:s, s:[{s:s, s:b}, {s:s}, {s:s, s:b}, {s:s}, {s:s, s:s}, {s:s}]}",
			     "type", "paragraph", "rich_text", "text", j->company, "bold", 1, "text",
			     " is hiring a ", "text", j->title, "italic", 1, "text",
			     ". Read more on ", "text", "our careers page", "link", careers, "text",
			     ".")) < 0 ||
	    add(a, blkf("heading_2", "About %s", j->company)) < 0 || add(a, blk("paragraph", aboutf.data)) < 0 ||
	    add(a, blk("heading_2", "The role")) < 0 ||
	    add(a, blkf("paragraph", "You will work on %s with a small senior team, owning your work from design to production.",
			j->arch->domain)) < 0 ||
	    add(a, blk("heading_2", "What the team has been doing")) < 0)
		goto fail;
	for (size_t i = 0, start = rng_index(r, 6); i < 4; i++)
		if (add(a, blk("bulleted_list_item", j->arch->duties[(start + i) % 6])) < 0)
			goto fail;
	if (add(a, blk("heading_2", "Requirements")) < 0)
		goto fail;
	for (size_t i = 0; i < j->nmust; i++) {
		b = blkf("bulleted_list_item", "%d+ years with %s", j->senior + 1 + (int)(i % 3),
			 j->must[i]);
		if (i < 2) {
			/* two levels of nesting under the first requirement */
			json_t *k1 = blk("bulleted_list_item", "Production experience, not only side projects");
			if (i == 0 &&
			    add_children(k1, json_pack("[o]", blk("paragraph", "Open-source work counts as production experience."))) < 0) {
				json_decref(k1);
				goto fail;
			}
			kids = json_pack("[o,o]", k1,
					 blkf("bulleted_list_item", "Can explain trade-offs of %s to non-specialists", j->must[i]));
			if (add_children(b, kids) < 0)
				goto fail;
		}
		kids = b;
		b = NULL; /* owned by the array from here, even when appending fails */
		if (add(a, kids) < 0)
			goto fail;
	}
	if (add(a, blk("heading_2", "Nice to have")) < 0)
		goto fail;
	for (size_t i = 0; i < j->nnice; i++)
		if (add(a, blkf("bulleted_list_item", "Experience with %s", j->nice[i])) < 0)
			goto fail;
	if (add(a, blk("heading_2", "Compensation and benefits")) < 0 ||
	    add(a, blkf("paragraph", "Salary: USD %s - %s per year, depending on experience.", lo, hi)) < 0)
		goto fail;
	for (size_t i = 0, start = rng_index(r, 5); i < 3; i++)
		if (add(a, blk("bulleted_list_item", benefits[(start + i) % 5])) < 0)
			goto fail;
	if (add(a, blk("heading_3", "Location and timezone")) < 0 ||
	    add(a, blkf("paragraph", "%s. The team is based around %s (%s); we need at least four hours of overlap.",
			j->setup, j->place->city, j->place->tz)) < 0 ||
	    add(a, json_pack("{s:s}", "type", "divider")) < 0 ||
	    add(a, blk("heading_2", "Hiring process")) < 0)
		goto fail;
	for (size_t i = 0; i < COUNT(steps); i++)
		if (add(a, blk("numbered_list_item", steps[i])) < 0)
			goto fail;
	if (add(a, blk("heading_3", "Before you apply")) < 0)
		goto fail;
	if (add(a, json_pack("{s:s, s:s, s:b}", "type", "to_do", "text",
			     "Link your GitHub or portfolio", "checked", 0)) < 0 ||
	    add(a, json_pack("{s:s, s:s, s:b}", "type", "to_do", "text",
			     "Read our public engineering blog", "checked", 1)) < 0)
		goto fail;
	if (add(a, blk("quote", "We hire for curiosity and care; everything else can be learned.")) < 0)
		goto fail;
	if (long_page && jd_long_section(r, j, a) < 0)
		goto fail;
	buf_free(&aboutf);
	return a;
fail:
	buf_free(&aboutf);
	json_decref(b);
	json_decref(a);
	return NULL;
}

/* Plain text of a block list: the shape recruiters paste into a long-text field. */
static int blocks_text(const json_t *blocks, int depth, struct buf *out)
{
	size_t i;
	const json_t *b;
	int num = 0;

	json_array_foreach(blocks, i, b) {
		const char *type = json_string_value(json_object_get(b, "type"));
		const char *text = json_string_value(json_object_get(b, "text"));
		struct buf joined;
		size_t k;
		json_t *seg;
		int rc;

		buf_init(&joined, 0);
		json_array_foreach(json_object_get(b, "rich_text"), k, seg)
			if (buf_puts(&joined, json_string_value(json_object_get(seg, "text")) ?
						      json_string_value(json_object_get(seg, "text")) : "") < 0) {
				buf_free(&joined);
				return -1;
			}
		if (!text && joined.len)
			text = joined.data;
		if (!type || !text) {
			buf_free(&joined);
			continue;
		}
		num = strcmp(type, "numbered_list_item") == 0 ? num + 1 : 0;
		if (!strncmp(type, "heading_", 8))
			rc = buf_printf(out, "\n%s\n", text);
		else if (!strcmp(type, "bulleted_list_item"))
			rc = buf_printf(out, "%*s- %s\n", depth * 2, "", text);
		else if (!strcmp(type, "numbered_list_item"))
			rc = buf_printf(out, "%*s%d. %s\n", depth * 2, "", num, text);
		else if (!strcmp(type, "to_do"))
			rc = buf_printf(out, "%*s[%c] %s\n", depth * 2, "",
					json_is_true(json_object_get(b, "checked")) ? 'x' : ' ', text);
		else
			rc = buf_printf(out, "%*s%s\n", depth * 2, "", text);
		buf_free(&joined);
		if (rc < 0)
			return -1;
		if (json_object_get(b, "children") &&
		    blocks_text(json_object_get(b, "children"), depth + 1, out) < 0)
			return -1;
	}
	return 0;
}

int gen_jd_text(struct rng *r, const struct gen_job *j, struct buf *out)
{
	json_t *blocks = gen_jd_blocks(r, j, 0);
	int rc;

	if (!blocks)
		return -1;
	rc = buf_printf(out, "%s at %s\n", j->title, j->company) < 0 ? -1 : blocks_text(blocks, 0, out);
	json_decref(blocks);
	return rc;
}
