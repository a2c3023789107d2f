-- Normalized data: the validated LLM answers for candidates and jobs with
-- their main values as columns and their lists as child tables, the
-- embedding vectors and their cache, the log of LLM calls, and what scout
-- last wrote to each (N) cell of Airtable.
-- Applied by `scout migrate` inside one transaction; do not add BEGIN/COMMIT.

-- One row per normalized Talent record. `normalized` is the whole validated
-- answer; the columns repeat what matching and the UI filter on. model,
-- prompt_version and input_hash say what produced it, so an unchanged record
-- is not sent to the LLM again. The flags are not part of normalization:
-- a new normalization keeps them.
CREATE TABLE normalized_candidates (
    record_id                  text PRIMARY KEY,
    model                      text NOT NULL,
    prompt_version             int NOT NULL CHECK (prompt_version > 0),
    input_hash                 text NOT NULL,
    normalized                 jsonb NOT NULL CHECK (jsonb_typeof(normalized) = 'object'),
    full_name                  text,
    seniority_level            text CHECK (seniority_level IN
                                   ('intern', 'junior', 'mid', 'senior', 'staff', 'principal',
                                    'executive')),
    years_of_experience        double precision CHECK (years_of_experience BETWEEN 0 AND 60),
    comp_min_annual_usd        double precision CHECK (comp_min_annual_usd >= 0),
    comp_max_annual_usd        double precision CHECK (comp_max_annual_usd >= 0),
    comp_currency              text CHECK (comp_currency ~ '^[A-Z]{3}$'),
    comp_period                text CHECK (comp_period IN ('hour', 'month', 'year')),
    location_city              text,
    location_country           text,
    timezone                   text,
    is_excluded                boolean NOT NULL DEFAULT false,  -- Job Status = Fraud
    verified                   boolean NOT NULL DEFAULT false,  -- (N) Verification Status
    highlighted                boolean NOT NULL DEFAULT false,  -- Highlight Talent
    prompt_injection_flag      boolean NOT NULL DEFAULT false,
    prompt_injection_evidence  text,
    normalized_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (comp_min_annual_usd IS NULL OR comp_max_annual_usd IS NULL
           OR comp_min_annual_usd <= comp_max_annual_usd)
);

-- One row per skill; canonical is the lowercase name matching joins on.
CREATE TABLE candidate_skills (
    record_id  text NOT NULL REFERENCES normalized_candidates (record_id) ON DELETE CASCADE,
    canonical  text NOT NULL CHECK (canonical <> '' AND canonical = lower(canonical)),
    name       text NOT NULL,
    rating     smallint NOT NULL CHECK (rating BETWEEN 1 AND 10),
    evidence   text NOT NULL,
    position   int NOT NULL,
    PRIMARY KEY (record_id, canonical)
);
CREATE INDEX candidate_skills_canonical_idx ON candidate_skills (canonical);

-- Positions, newest first (position 0). Months are 'YYYY-MM'; end_month
-- NULL means the position is current.
CREATE TABLE candidate_experiences (
    record_id    text NOT NULL REFERENCES normalized_candidates (record_id) ON DELETE CASCADE,
    position     int NOT NULL,
    company      text NOT NULL,
    title        text NOT NULL,
    start_month  text CHECK (start_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    end_month    text CHECK (end_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    description  text NOT NULL,
    domain       text,
    PRIMARY KEY (record_id, position)
);

CREATE TABLE candidate_projects (
    record_id    text NOT NULL REFERENCES normalized_candidates (record_id) ON DELETE CASCADE,
    position     int NOT NULL,
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('project', 'hackathon', 'open_source',
                                               'publication')),
    description  text NOT NULL,
    url          text,
    skills       text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (record_id, position)
);

-- Soft attributes (communication, leadership, ...) with their evidence.
CREATE TABLE candidate_attributes (
    record_id  text NOT NULL REFERENCES normalized_candidates (record_id) ON DELETE CASCADE,
    position   int NOT NULL,
    name       text NOT NULL,
    value      text NOT NULL,
    evidence   text NOT NULL,
    PRIMARY KEY (record_id, position)
);

-- How well a candidate fits each desired job category (0-100), with what
-- produced the score.
CREATE TABLE candidate_role_fitness (
    record_id       text NOT NULL REFERENCES normalized_candidates (record_id) ON DELETE CASCADE,
    category        text NOT NULL,
    score           smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    reason          text NOT NULL,
    model           text NOT NULL,
    prompt_version  int NOT NULL CHECK (prompt_version > 0),
    scored_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (record_id, category)
);

-- One row per normalized Customers STT record (a job).
CREATE TABLE normalized_jobs (
    record_id                  text PRIMARY KEY,
    model                      text NOT NULL,
    prompt_version             int NOT NULL CHECK (prompt_version > 0),
    input_hash                 text NOT NULL,
    normalized                 jsonb NOT NULL CHECK (jsonb_typeof(normalized) = 'object'),
    job_title                  text,
    seniority_level            text CHECK (seniority_level IN
                                   ('intern', 'junior', 'mid', 'senior', 'staff', 'principal',
                                    'executive')),
    min_years_experience       double precision CHECK (min_years_experience BETWEEN 0 AND 60),
    salary_min_annual_usd      double precision CHECK (salary_min_annual_usd >= 0),
    salary_max_annual_usd      double precision CHECK (salary_max_annual_usd >= 0),
    salary_currency            text CHECK (salary_currency ~ '^[A-Z]{3}$'),
    salary_period              text CHECK (salary_period IN ('hour', 'month', 'year')),
    location_city              text,
    location_country           text,
    timezone                   text,
    work_setup                 text CHECK (work_setup IN ('remote', 'hybrid', 'onsite')),
    prompt_injection_flag      boolean NOT NULL DEFAULT false,
    prompt_injection_evidence  text,
    normalized_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (salary_min_annual_usd IS NULL OR salary_max_annual_usd IS NULL
           OR salary_min_annual_usd <= salary_max_annual_usd)
);

-- Skills a job asks for; a skill is must-have or nice-to-have, not both.
CREATE TABLE job_required_skills (
    job_record_id        text NOT NULL REFERENCES normalized_jobs (record_id) ON DELETE CASCADE,
    canonical            text NOT NULL CHECK (canonical <> '' AND canonical = lower(canonical)),
    name                 text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('must_have', 'nice_to_have')),
    expected_capability  text NOT NULL,
    position             int NOT NULL,
    PRIMARY KEY (job_record_id, canonical)
);
CREATE INDEX job_required_skills_canonical_idx ON job_required_skills (canonical);

-- Embedding vectors. kind: narrative_<name>, skill:<canonical>,
-- position:<n>, project:<n> (candidates), requirement:<canonical> (jobs).
-- text_hash is the SHA-256 of the embedded text (the embedding_cache key).
CREATE TABLE candidate_vectors (
    record_id   text NOT NULL REFERENCES normalized_candidates (record_id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (length(kind) BETWEEN 1 AND 300),
    model       text NOT NULL,
    dimensions  int NOT NULL CHECK (dimensions > 0),
    vector      real[] NOT NULL CHECK (cardinality(vector) = dimensions),
    text_hash   text NOT NULL CHECK (text_hash ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (record_id, kind)
);

CREATE TABLE job_vectors (
    record_id   text NOT NULL REFERENCES normalized_jobs (record_id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (length(kind) BETWEEN 1 AND 300),
    model       text NOT NULL,
    dimensions  int NOT NULL CHECK (dimensions > 0),
    vector      real[] NOT NULL CHECK (cardinality(vector) = dimensions),
    text_hash   text NOT NULL CHECK (text_hash ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (record_id, kind)
);

-- Every text embedded once per (model, dimensions): a skill name shared by
-- thousands of candidates costs one embedding.
CREATE TABLE embedding_cache (
    model       text NOT NULL,
    dimensions  int NOT NULL CHECK (dimensions > 0),
    text_hash   text NOT NULL CHECK (text_hash ~ '^[0-9a-f]{64}$'),
    vector      real[] NOT NULL CHECK (cardinality(vector) = dimensions),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, dimensions, text_hash)
);

-- One row per LLM request made for a purpose (normalize, fitness, embed,
-- pdf): tokens, cost, attempts and outcome, per run and per record.
CREATE TABLE llm_calls (
    id                 bigserial PRIMARY KEY,
    run_id             uuid REFERENCES runs (id) ON DELETE SET NULL,
    record_id          text,
    purpose            text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 100),
    model              text NOT NULL,
    prompt_tokens      bigint NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens  bigint NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    cost_usd           double precision NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    attempts           int NOT NULL DEFAULT 1 CHECK (attempts >= 0),
    status             text NOT NULL CHECK (status IN ('ok', 'invalid', 'error')),
    error              text,
    at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_calls_run_idx ON llm_calls (run_id);
CREATE INDEX llm_calls_record_idx ON llm_calls (record_id, at DESC);

-- What scout last wrote to each (N) cell: a current value that differs is
-- a person's edit, which scout keeps. NULL = scout wrote an empty cell.
CREATE TABLE airtable_writes (
    table_id            text NOT NULL,
    record_id           text NOT NULL,
    field               text NOT NULL,
    last_written_value  text,
    written_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_id, record_id, field)
);
