-- Matchmaking results and the change log that keeps the in-memory
-- candidate pool fresh without reloading it.
-- Applied by `scout migrate` inside one transaction; do not add BEGIN/COMMIT.

-- One row per ranking of a job: how many candidates were in the pool and
-- which candidates near the top were left out and why
-- ([{record_id, score, reason}]). Earlier runs stay for history.
-- run_id names one ranking; a job run that ranks every job makes several.
CREATE TABLE match_runs (
    run_id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_record_id  text NOT NULL,
    job_run_id     uuid REFERENCES runs (id) ON DELETE SET NULL, -- the orchestrator run
    pool_size      int NOT NULL CHECK (pool_size >= 0),
    excluded       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(excluded) = 'array'),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX match_runs_job_idx ON match_runs (job_record_id, created_at DESC);

-- The top candidates of one ranking, with every component of the score and
-- the weights that produced it, so a recruiter sees why.
CREATE TABLE matches (
    id                     bigserial PRIMARY KEY,
    job_record_id          text NOT NULL,
    candidate_record_id    text NOT NULL,
    run_id                 uuid NOT NULL REFERENCES match_runs (run_id) ON DELETE CASCADE,
    rank                   int NOT NULL CHECK (rank >= 1),
    score                  double precision NOT NULL,
    vector                 double precision NOT NULL,
    skills                 double precision NOT NULL,
    comp                   double precision NOT NULL,
    location               double precision NOT NULL,
    penalty                double precision NOT NULL,
    boost                  double precision NOT NULL,
    v_role                 double precision NOT NULL,
    v_domain               double precision NOT NULL,
    v_culture              double precision NOT NULL,
    s_coverage             double precision NOT NULL,
    s_semantic             double precision NOT NULL,
    verified               boolean NOT NULL DEFAULT false,
    highlighted            boolean NOT NULL DEFAULT false,
    surfaced_by_highlight  boolean NOT NULL DEFAULT false,
    weights                jsonb NOT NULL CHECK (jsonb_typeof(weights) = 'object'),
    created_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, rank),
    UNIQUE (run_id, candidate_record_id)
);
CREATE INDEX matches_job_run_idx ON matches (job_record_id, run_id);

-- Candidates whose matchable data changed (the normalized row, its flags,
-- skills or vectors), stamped with the id of the changing transaction. A
-- loader remembers the xmin of the snapshot it last loaded under: every
-- transaction below it had ended by then, so rows with xid >= that mark are
-- all it must reload (a few twice). A record no longer in
-- normalized_candidates is removed from the pool.
CREATE TABLE candidate_pool_changes (
    record_id  text PRIMARY KEY,
    xid        xid8 NOT NULL
);
CREATE INDEX candidate_pool_changes_xid_idx ON candidate_pool_changes (xid);

CREATE FUNCTION scout_candidate_pool_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_id text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_id := OLD.record_id;
    ELSE
        v_id := NEW.record_id;
    END IF;
    INSERT INTO candidate_pool_changes (record_id, xid)
    VALUES (v_id, pg_current_xact_id())
    ON CONFLICT (record_id) DO UPDATE SET xid = EXCLUDED.xid
    WHERE candidate_pool_changes.xid <> EXCLUDED.xid;
    IF TG_OP = 'UPDATE' AND OLD.record_id <> NEW.record_id THEN
        INSERT INTO candidate_pool_changes (record_id, xid)
        VALUES (OLD.record_id, pg_current_xact_id())
        ON CONFLICT (record_id) DO UPDATE SET xid = EXCLUDED.xid
        WHERE candidate_pool_changes.xid <> EXCLUDED.xid;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER normalized_candidates_pool_touch
    AFTER INSERT OR UPDATE OR DELETE ON normalized_candidates
    FOR EACH ROW EXECUTE FUNCTION scout_candidate_pool_touch();
CREATE TRIGGER candidate_skills_pool_touch
    AFTER INSERT OR UPDATE OR DELETE ON candidate_skills
    FOR EACH ROW EXECUTE FUNCTION scout_candidate_pool_touch();
CREATE TRIGGER candidate_vectors_pool_touch
    AFTER INSERT OR UPDATE OR DELETE ON candidate_vectors
    FOR EACH ROW EXECUTE FUNCTION scout_candidate_pool_touch();

-- Candidates normalized before this migration count as changed once.
INSERT INTO candidate_pool_changes (record_id, xid)
SELECT record_id, pg_current_xact_id() FROM normalized_candidates;
