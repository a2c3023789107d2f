-- Foundation schema: raw copies of the three Airtable tables, the registered
-- partitions (one per Airtable record) and the run/event log of jobs.
-- Applied by `scout migrate` inside one transaction; do not add BEGIN/COMMIT.

-- Talent records as ingested: every Airtable field as jsonb, the CV text from
-- the Airtable text fields and from the PDF attachments, and the input hash
-- that lets an unchanged record be skipped.
CREATE TABLE raw_candidates (
    record_id            text PRIMARY KEY,
    fields               jsonb NOT NULL,
    cv_text_airtable     text,
    cv_text_pdf          text,
    cv_files             jsonb,          -- [{filename, size, sha256, status}]
    input_hash           text NOT NULL,
    airtable_created_at  timestamptz,
    airtable_modified_at timestamptz,
    ingested_at          timestamptz NOT NULL DEFAULT now(),
    extraction_errors    jsonb NOT NULL DEFAULT '[]'
);

-- Customers STT (jobs) records with the resolved job description.
CREATE TABLE raw_jobs (
    record_id            text PRIMARY KEY,
    fields               jsonb NOT NULL,
    description_text     text,
    description_source   text CHECK (description_source IN ('notion', 'text', 'none')),
    notion_page_id       text,
    input_hash           text NOT NULL,
    airtable_created_at  timestamptz,
    airtable_modified_at timestamptz,
    ingested_at          timestamptz NOT NULL DEFAULT now(),
    extraction_errors    jsonb NOT NULL DEFAULT '[]'
);

-- ATS rows: one per job, with the Talent record ids linked in each stage.
CREATE TABLE ats_rows (
    record_id              text PRIMARY KEY,
    job_record_id          text,           -- the linked job; NULL when unlinked
    open_position          text,
    job_status             text,
    fields                 jsonb NOT NULL,
    potential_fit          text[] NOT NULL DEFAULT '{}',
    ai_rejection           text[] NOT NULL DEFAULT '{}',
    shortlisted            text[] NOT NULL DEFAULT '{}',
    client_introduction    text[] NOT NULL DEFAULT '{}',
    interview1             text[] NOT NULL DEFAULT '{}',
    interview2             text[] NOT NULL DEFAULT '{}',
    interview3             text[] NOT NULL DEFAULT '{}',
    interview4             text[] NOT NULL DEFAULT '{}',
    assignment             text[] NOT NULL DEFAULT '{}',
    hired                  text[] NOT NULL DEFAULT '{}',
    introduction_rejected  text[] NOT NULL DEFAULT '{}',
    interview_rejected     text[] NOT NULL DEFAULT '{}',
    assignment_rejected    text[] NOT NULL DEFAULT '{}',
    negotiations_rejection text[] NOT NULL DEFAULT '{}',
    talent_rejected_job    text[] NOT NULL DEFAULT '{}',
    considered_on_hold     text[] NOT NULL DEFAULT '{}',
    negotiations           text,
    airtable_modified_at   timestamptz,
    ingested_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ats_rows_job_idx ON ats_rows (job_record_id);

-- Dynamic partitions, keyed by Airtable record id. Records deleted in
-- Airtable get deleted_at, and lose it again when they reappear.
CREATE TABLE partitions (
    kind          text NOT NULL CHECK (kind IN ('candidates', 'jobs')),
    key           text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    PRIMARY KEY (kind, key)
);

-- Runs of jobs. `worker` names the process that runs it; the orchestrator
-- adds its lease columns (lease expiry, heartbeat, retry time) in a later
-- migration, and claims QUEUED runs with FOR UPDATE SKIP LOCKED.
CREATE TABLE runs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job           text NOT NULL,
    partition_key text,
    run_key       text,
    status        text NOT NULL CHECK (status IN
                      ('QUEUED', 'STARTED', 'SUCCESS', 'FAILURE', 'CANCELING', 'CANCELED')),
    tags          jsonb NOT NULL DEFAULT '{}',
    priority      int NOT NULL DEFAULT 0,
    attempt       int NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    ended_at      timestamptz,
    error         text,
    worker        text
);
CREATE INDEX runs_status_idx ON runs (status);
CREATE INDEX runs_job_partition_idx ON runs (job, partition_key, created_at DESC);
CREATE UNIQUE INDEX runs_run_key_idx ON runs (job, run_key) WHERE run_key IS NOT NULL;

CREATE TABLE run_steps (
    run_id     uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step       text NOT NULL,
    status     text NOT NULL CHECK (status IN ('STARTED', 'SUCCESS', 'FAILURE', 'SKIPPED')),
    started_at timestamptz,
    ended_at   timestamptz,
    error      text,
    PRIMARY KEY (run_id, step)
);

-- The event log of runs, in insertion order (id).
CREATE TABLE run_events (
    id       bigserial PRIMARY KEY,
    run_id   uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    ts       timestamptz NOT NULL DEFAULT clock_timestamp(),
    type     text NOT NULL CHECK (type IN ('RUN_START', 'RUN_SUCCESS', 'RUN_FAILURE',
                 'STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE', 'MATERIALIZATION', 'LOG')),
    step     text,
    level    text CHECK (level IN ('debug', 'info', 'warn', 'error')),
    message  text,
    metadata jsonb
);
CREATE INDEX run_events_run_idx ON run_events (run_id, id);
