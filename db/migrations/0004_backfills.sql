-- Partition status and backfills. A partition's status is derived from its
-- runs; a trigger on runs keeps one row per (job, partition) up to date so
-- status views never scan the runs table. Backfills queue one run per
-- selected partition through the queue and remember which run each
-- partition got.
-- Applied by `scout migrate` inside one transaction; do not add BEGIN/COMMIT.

-- The input hash the sensors and syncs last saw for the partition's record;
-- a partition whose latest success ran with another hash is stale.
ALTER TABLE partitions ADD COLUMN input_hash text;
ALTER TABLE partitions ADD COLUMN input_hash_at timestamptz;

-- The partitioned jobs whose status is tracked for every partition of their
-- kind (registered by scout the first time a job's status is read or a
-- backfill of it is requested): each gets a partition_runs row per
-- partition, so status views read partition_runs alone.
CREATE TABLE partition_jobs (
    job        text PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('candidates', 'jobs')),
    tracked_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (job, partition) of a tracked job, and per (job, partition)
-- that has had a run. `status` is derived from the runs of the partition:
-- the latest-created run decides when it is QUEUED (queued) or
-- STARTED/CANCELING (running); otherwise the latest-created run that ended
-- SUCCESS or FAILURE decides (succeeded, or stale when the input hash that
-- success ran with is known and differs from the partition's current one;
-- failed); no run, or only canceled ones, is missing. `active` and
-- `input_hash` copy the partition (not deleted; its current input hash).
CREATE TABLE partition_runs (
    job                text NOT NULL,
    partition_key      text NOT NULL,
    status             text NOT NULL CHECK (status IN
                           ('missing', 'queued', 'running', 'succeeded', 'failed', 'stale')),
    active             boolean NOT NULL DEFAULT false,
    input_hash         text,
    last_run_id        uuid,
    last_status        text,
    outcome            text CHECK (outcome IN ('SUCCESS', 'FAILURE')),
    outcome_run_id     uuid,
    success_run_id     uuid,
    success_input_hash text,
    updated_at         timestamptz, -- the latest run status change; NULL without runs
    PRIMARY KEY (job, partition_key)
);
-- Filtered pages and counts: the active rows of one status in key order.
CREATE INDEX partition_runs_status_idx ON partition_runs (job, status, partition_key)
    WHERE active;
-- A partition's change (input hash, deleted mark) reaches its rows of every job.
CREATE INDEX partition_runs_key_idx ON partition_runs (partition_key);

CREATE FUNCTION scout_partition_state(p_last_status text, p_outcome text,
                                      p_success_hash text, p_input_hash text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_last_status = 'QUEUED' THEN 'queued'
        WHEN p_last_status IN ('STARTED', 'CANCELING') THEN 'running'
        WHEN p_outcome = 'FAILURE' THEN 'failed'
        WHEN p_outcome = 'SUCCESS' AND p_success_hash IS NOT NULL AND p_input_hash IS NOT NULL
             AND p_success_hash <> p_input_hash THEN 'stale'
        WHEN p_outcome = 'SUCCESS' THEN 'succeeded'
        ELSE 'missing' END
$$;

-- Recompute the partition_runs row of (job, key) from its runs. The row is
-- locked first, so two transactions changing runs of one partition at once
-- are serialized, and the queries that follow (each with a fresh snapshot
-- under READ COMMITTED) see every run change committed before the lock.
CREATE FUNCTION scout_partition_runs_refresh(p_job text, p_key text, p_changed uuid,
                                             p_became_success boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    l   record;
    o   record;
    cur partition_runs%ROWTYPE;
    jk  text;
    ph  text;     -- the partition's input hash
    pa  boolean;  -- the partition is registered and not deleted
    sid uuid;
    sh  text;
BEGIN
    INSERT INTO partition_runs (job, partition_key, status)
        VALUES (p_job, p_key, 'missing')
        ON CONFLICT (job, partition_key) DO NOTHING;
    SELECT * INTO cur FROM partition_runs
        WHERE job = p_job AND partition_key = p_key FOR UPDATE;
    -- The partition the key names: of the job's kind when the job is
    -- tracked, else the only partition with that key (keys are Airtable
    -- record ids, unique across tables).
    SELECT kind INTO jk FROM partition_jobs WHERE job = p_job;
    SELECT p.input_hash, p.deleted_at IS NULL INTO ph, pa FROM partitions p
        WHERE p.kind = ANY (CASE WHEN jk IS NULL THEN ARRAY['candidates', 'jobs']
                                 ELSE ARRAY[jk] END)
          AND p.key = p_key
        ORDER BY p.kind LIMIT 1;
    pa := coalesce(pa, false);

    SELECT id, status INTO l FROM runs
        WHERE job = p_job AND partition_key = p_key
        ORDER BY created_at DESC, id DESC LIMIT 1;
    IF NOT FOUND THEN
        IF jk IS NOT NULL AND pa THEN
            UPDATE partition_runs SET status = 'missing', last_run_id = NULL,
                last_status = NULL, outcome = NULL, outcome_run_id = NULL,
                success_run_id = NULL, success_input_hash = NULL, updated_at = now(),
                active = true, input_hash = ph
                WHERE job = p_job AND partition_key = p_key;
        ELSE
            DELETE FROM partition_runs WHERE job = p_job AND partition_key = p_key;
        END IF;
        RETURN;
    END IF;
    SELECT id, status, tags ->> 'input_hash' AS input_hash INTO o FROM runs
        WHERE job = p_job AND partition_key = p_key AND status IN ('SUCCESS', 'FAILURE')
        ORDER BY created_at DESC, id DESC LIMIT 1;

    -- The input the latest success ran with: the hash its request carried,
    -- else the partition's hash when the success was recorded (a run
    -- started by hand carries none).
    sid := cur.success_run_id;
    sh := cur.success_input_hash;
    IF o.id IS NOT NULL AND o.status = 'SUCCESS'
       AND (sid IS DISTINCT FROM o.id OR (p_became_success AND o.id = p_changed)) THEN
        sid := o.id;
        sh := coalesce(o.input_hash, ph);
    END IF;

    UPDATE partition_runs SET
        status = scout_partition_state(l.status, o.status, sh, ph),
        active = pa, input_hash = ph,
        last_run_id = l.id, last_status = l.status, outcome = o.status,
        outcome_run_id = o.id, success_run_id = sid, success_input_hash = sh,
        updated_at = now()
        WHERE job = p_job AND partition_key = p_key;
END
$$;

CREATE FUNCTION scout_partition_runs_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM scout_partition_runs_refresh(OLD.job, OLD.partition_key, OLD.id, false);
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND (OLD.job IS DISTINCT FROM NEW.job
                             OR OLD.partition_key IS DISTINCT FROM NEW.partition_key)
       AND OLD.partition_key IS NOT NULL THEN
        PERFORM scout_partition_runs_refresh(OLD.job, OLD.partition_key, OLD.id, false);
    END IF;
    IF NEW.partition_key IS NOT NULL THEN
        PERFORM scout_partition_runs_refresh(NEW.job, NEW.partition_key, NEW.id,
            NEW.status = 'SUCCESS' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'SUCCESS'));
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER runs_partition_status_ins AFTER INSERT ON runs
    FOR EACH ROW WHEN (NEW.partition_key IS NOT NULL)
    EXECUTE FUNCTION scout_partition_runs_trigger();
CREATE TRIGGER runs_partition_status_upd AFTER UPDATE OF status, job, partition_key ON runs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.job IS DISTINCT FROM NEW.job
                       OR OLD.partition_key IS DISTINCT FROM NEW.partition_key)
    EXECUTE FUNCTION scout_partition_runs_trigger();
CREATE TRIGGER runs_partition_status_del AFTER DELETE ON runs
    FOR EACH ROW WHEN (OLD.partition_key IS NOT NULL)
    EXECUTE FUNCTION scout_partition_runs_trigger();

-- Partitions that are registered, deleted, restored or get a new input hash
-- update the rows of the jobs of their kind (and of untracked jobs that ran
-- on their key), set-based: a full sync is one statement.
CREATE FUNCTION scout_partitions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO partition_runs AS pr (job, partition_key, status, active, input_hash)
            SELECT j.job, n.key, 'missing', n.deleted_at IS NULL, n.input_hash
              FROM new_rows n JOIN partition_jobs j ON j.kind = n.kind
            ON CONFLICT (job, partition_key) DO UPDATE SET
                active = EXCLUDED.active, input_hash = EXCLUDED.input_hash,
                status = scout_partition_state(pr.last_status, pr.outcome,
                                               pr.success_input_hash, EXCLUDED.input_hash);
        UPDATE partition_runs pr SET active = n.deleted_at IS NULL, input_hash = n.input_hash,
               status = scout_partition_state(pr.last_status, pr.outcome,
                                              pr.success_input_hash, n.input_hash)
          FROM new_rows n
         WHERE pr.partition_key = n.key
           AND NOT EXISTS (SELECT 1 FROM partition_jobs j WHERE j.job = pr.job);
    ELSE
        UPDATE partition_runs pr SET active = c.active, input_hash = c.input_hash,
               status = scout_partition_state(pr.last_status, pr.outcome,
                                              pr.success_input_hash, c.input_hash)
          FROM (SELECT n.kind, n.key, n.input_hash, n.deleted_at IS NULL AS active
                  FROM new_rows n JOIN old_rows o ON o.kind = n.kind AND o.key = n.key
                 WHERE o.input_hash IS DISTINCT FROM n.input_hash
                    OR (o.deleted_at IS NULL) <> (n.deleted_at IS NULL)) c
         WHERE pr.partition_key = c.key
           AND (EXISTS (SELECT 1 FROM partition_jobs j WHERE j.job = pr.job AND j.kind = c.kind)
                OR NOT EXISTS (SELECT 1 FROM partition_jobs j WHERE j.job = pr.job));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER partitions_status_ins AFTER INSERT ON partitions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scout_partitions_changed();
CREATE TRIGGER partitions_status_upd AFTER UPDATE ON partitions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scout_partitions_changed();

-- Track a partitioned job: a row per partition of its kind. Writers of
-- partitions wait (SHARE lock) so no partition registered meanwhile is
-- left without its row. Returns false when the job was tracked already.
CREATE FUNCTION scout_track_partition_job(p_job text, p_kind text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM partition_jobs WHERE job = p_job AND kind = p_kind) THEN
        RETURN false;
    END IF;
    LOCK TABLE partitions IN SHARE MODE;
    INSERT INTO partition_jobs (job, kind) VALUES (p_job, p_kind)
        ON CONFLICT (job) DO UPDATE SET kind = EXCLUDED.kind, tracked_at = now();
    INSERT INTO partition_runs AS pr (job, partition_key, status, active, input_hash)
        SELECT p_job, p.key, 'missing', p.deleted_at IS NULL, p.input_hash
          FROM partitions p WHERE p.kind = p_kind
        ON CONFLICT (job, partition_key) DO UPDATE SET
            active = EXCLUDED.active, input_hash = EXCLUDED.input_hash,
            status = scout_partition_state(pr.last_status, pr.outcome,
                                           pr.success_input_hash, EXCLUDED.input_hash);
    -- runs on keys that are not partitions of the kind stay out of the views
    UPDATE partition_runs pr SET active = false
     WHERE pr.job = p_job AND pr.active
       AND NOT EXISTS (SELECT 1 FROM partitions p WHERE p.kind = p_kind AND p.key = pr.partition_key);
    RETURN true;
END
$$;

-- Rows for the runs that exist already.
INSERT INTO partition_runs (job, partition_key, status)
    SELECT DISTINCT job, partition_key, 'missing' FROM runs WHERE partition_key IS NOT NULL;
SELECT scout_partition_runs_refresh(job, partition_key, NULL, false) FROM partition_runs;

-- A backfill: one run per selected partition of a partitioned job, queued
-- in chunks. REQUESTED while its runs are being queued (a backfill left
-- REQUESTED by a process that died is finished by `scout backfill resume`),
-- RUNNING once every selected partition has a run, COMPLETED when every run
-- succeeded, FAILED when every run ended and some did not succeed,
-- CANCELED when cancelled (its queued runs are canceled; running ones finish).
CREATE TABLE backfills (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job                 text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('candidates', 'jobs')),
    selection           text NOT NULL CHECK (selection IN ('all', 'list', 'failed')),
    status              text NOT NULL DEFAULT 'REQUESTED' CHECK (status IN
                            ('REQUESTED', 'RUNNING', 'CANCELED', 'COMPLETED', 'FAILED')),
    num_selected        bigint NOT NULL DEFAULT 0,
    num_queued          bigint NOT NULL DEFAULT 0,  -- runs this backfill created
    num_already_pending bigint NOT NULL DEFAULT 0,  -- partitions that had a queued or running run
    -- the runs' outcome, kept once COMPLETED or FAILED (nothing changes after)
    num_succeeded       bigint,
    num_failed          bigint,
    num_canceled        bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    ended_at            timestamptz
);
CREATE INDEX backfills_created_idx ON backfills (created_at DESC);

-- The selected partitions of a backfill and the run each one got: the run
-- the backfill queued, or the run that was already queued or running for
-- it (pending_elsewhere). run_id is NULL until the partition is queued;
-- run_status follows that run's status (a trigger on runs), so progress is
-- counted from this table alone.
CREATE TABLE backfill_partitions (
    backfill_id       uuid NOT NULL REFERENCES backfills (id) ON DELETE CASCADE,
    partition_key     text NOT NULL,
    run_id            uuid,
    run_status        text,
    pending_elsewhere boolean NOT NULL DEFAULT false,
    PRIMARY KEY (backfill_id, partition_key)
);
CREATE INDEX backfill_partitions_unqueued_idx ON backfill_partitions (backfill_id, partition_key)
    WHERE run_id IS NULL;
CREATE INDEX backfill_partitions_status_idx ON backfill_partitions (backfill_id, run_status);
CREATE INDEX backfill_partitions_run_idx ON backfill_partitions (run_id) WHERE run_id IS NOT NULL;

CREATE FUNCTION scout_backfill_run_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE backfill_partitions SET run_status = NEW.status WHERE run_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER runs_backfill_status AFTER UPDATE OF status ON runs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION scout_backfill_run_status();
