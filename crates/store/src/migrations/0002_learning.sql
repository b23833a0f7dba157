-- Schema v2: learnt model state and alerts with their triage.
-- Times are integer microseconds since the Unix epoch.

-- One row per model (and one for the engine): its learnt state as JSON, replaced on
-- each save. `saved_at` is the packet time of the save.
CREATE TABLE model_state (
    name     TEXT PRIMARY KEY,
    json     TEXT    NOT NULL,
    saved_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per alert id. The detection columns (ts .. json) are replaced when the engine
-- writes the alert again (it grows while open); the triage columns (status, comment,
-- updated_at) belong to the operator and are only changed by a triage update.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    ts         INTEGER NOT NULL,
    ts_last    INTEGER NOT NULL,
    category   TEXT    NOT NULL,
    severity   TEXT    NOT NULL
        CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    score      REAL    NOT NULL,
    src_ip     TEXT,
    dst_ip     TEXT,
    json       TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'acknowledged', 'resolved', 'expected')),
    comment    TEXT,
    updated_at INTEGER
);
CREATE INDEX alerts_ts ON alerts (ts);
CREATE INDEX alerts_severity_ts ON alerts (severity, ts);
CREATE INDEX alerts_category_ts ON alerts (category, ts);
CREATE INDEX alerts_status_ts ON alerts (status, ts);
CREATE INDEX alerts_src_ip ON alerts (src_ip);
CREATE INDEX alerts_dst_ip ON alerts (dst_ip);
