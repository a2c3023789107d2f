-- Hold back runs whose concurrency tags are paused (see 0007_pauses.sql):
-- after OpenRouter answers 402 the 'llm' tag is paused, and instead of
-- claiming every LLM run only to fail it, the claim skips them until the
-- pause is a minute old; then one run probes, and a run that hits 402 again
-- renews the pause (checked_at). Same function as in 0002_queue.sql with
-- the paused tags added to the tags that cannot be claimed now.

CREATE OR REPLACE FUNCTION scout_claim_run(p_worker text, p_owner text, p_lease_ms int,
                                p_max_running int, p_tag_limits jsonb, p_run_id uuid)
RETURNS TABLE (c_id text, c_job text, c_partition_key text, c_attempt int,
               c_max_attempts int, c_resume_from_step text, c_tags text)
LANGUAGE plpgsql VOLATILE
-- plain index scans mark the entries of ended runs dead as they pass them;
-- bitmap scans would wade through every run since the last vacuum
SET enable_bitmapscan = off
AS $$
DECLARE
    v_limits jsonb := coalesce(p_tag_limits, '{}'::jsonb);
    v_full text[] := '{}';
    v_tags text[];
    v_limited text[];
    v_id uuid;
    v_try int;
BEGIN
    IF p_run_id IS NOT NULL THEN
        v_limits := '{}'::jsonb;
        p_max_running := 0;
    ELSIF v_limits <> '{}'::jsonb THEN
        -- tags at their limit by a count without the lock: it steers the
        -- choice of candidate; the count under the lock decides
        SELECT coalesce(array_agg(l.key), '{}') INTO v_full
          FROM jsonb_each_text(v_limits) l
         WHERE (SELECT count(*) FROM runs r WHERE r.status IN ('STARTED', 'CANCELING')
                   AND r.concurrency_tags @> ARRAY[l.key]) >= l.value::int;
    END IF;
    IF p_run_id IS NULL THEN
        -- tags paused after a 402 (out of credits) wait; once a pause is a
        -- minute old its runs go again, and the first one probes the API
        v_full := v_full || ARRAY(SELECT p.tag FROM pauses p
                                   WHERE p.checked_at > now() - interval '60 seconds');
    END IF;
    FOR v_try IN 1..3 LOOP
        v_id := NULL;
        IF p_run_id IS NULL THEN
            SELECT r.id, r.concurrency_tags INTO v_id, v_tags FROM runs r
             WHERE r.status = 'QUEUED' AND r.not_before <= now()
               AND NOT (r.concurrency_tags && v_full)
             ORDER BY r.priority DESC, r.created_at
             LIMIT 1 FOR UPDATE SKIP LOCKED;
        ELSE
            SELECT r.id, r.concurrency_tags INTO v_id, v_tags FROM runs r
             WHERE r.id = p_run_id AND r.status = 'QUEUED' FOR UPDATE SKIP LOCKED;
        END IF;
        IF v_id IS NULL THEN
            RETURN;
        END IF;
        SELECT coalesce(array_agg(k), '{}') INTO v_limited
          FROM jsonb_object_keys(v_limits) k WHERE k = ANY (v_tags);
        IF p_max_running > 0 OR cardinality(v_limited) > 0 THEN
            BEGIN
                PERFORM scout_take_run(v_id, p_worker, p_owner, p_lease_ms);
                PERFORM pg_advisory_xact_lock(7364528301);
                IF p_max_running > 0 AND (SELECT count(*) FROM runs r
                        WHERE r.status IN ('STARTED', 'CANCELING')) > p_max_running THEN
                    RAISE EXCEPTION USING ERRCODE = 'SQ001', MESSAGE = 'global limit';
                END IF;
                IF EXISTS (SELECT 1 FROM jsonb_each_text(v_limits) l
                            WHERE l.key = ANY (v_limited)
                              AND (SELECT count(*) FROM runs r
                                    WHERE r.status IN ('STARTED', 'CANCELING')
                                      AND r.concurrency_tags @> ARRAY[l.key]) > l.value::int) THEN
                    RAISE EXCEPTION USING ERRCODE = 'SQ002', MESSAGE = 'tag limit';
                END IF;
            EXCEPTION
                WHEN SQLSTATE 'SQ001' THEN
                    RETURN;
                WHEN SQLSTATE 'SQ002' THEN
                    v_full := v_full || v_limited;
                    CONTINUE;
            END;
        ELSE
            -- no limit applies: no lock and no subtransaction
            PERFORM scout_take_run(v_id, p_worker, p_owner, p_lease_ms);
        END IF;
        RETURN QUERY SELECT r.id::text, r.job, r.partition_key, r.attempt, r.max_attempts,
                            r.resume_from_step, r.tags::text
                       FROM runs r WHERE r.id = v_id;
        RETURN;
    END LOOP;
END
$$;
