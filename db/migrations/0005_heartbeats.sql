-- Heartbeats of scout's long-running processes: the daemon, its worker and
-- sensor-loop children, standalone `scout worker` processes and the web UI.
-- Each process upserts its row every interval_ms; a clean shutdown deletes
-- it, so a row whose beat_at is older than a few intervals names a process
-- that died or hangs (`scout doctor` reports it with its host and pid).
CREATE TABLE heartbeats (
    component   text NOT NULL CHECK (component IN ('daemon', 'worker', 'sensors', 'web')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    host        text NOT NULL,
    pid         int NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    beat_at     timestamptz NOT NULL DEFAULT now(),
    interval_ms int NOT NULL DEFAULT 5000 CHECK (interval_ms > 0),
    info        jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (component, name)
);
