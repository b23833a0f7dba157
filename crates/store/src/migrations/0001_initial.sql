-- Schema v1: runs, flows, assets, meta.
-- Times are integer microseconds since the Unix epoch (packet time), MACs are text
-- `aa:bb:cc:dd:ee:ff`, IPs are text, sets are JSON arrays of strings (sorted).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per pipeline run (a capture file set or a live capture session). A row with
-- finished = 0 after a restart is a run that was interrupted.
CREATE TABLE runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at     INTEGER NOT NULL,
    source         TEXT    NOT NULL,
    packets        INTEGER NOT NULL DEFAULT 0,
    bytes          INTEGER NOT NULL DEFAULT 0,
    last_packet_at INTEGER,
    finished       INTEGER NOT NULL DEFAULT 0 CHECK (finished IN (0, 1)),
    finished_at    INTEGER,
    counters       TEXT    NOT NULL DEFAULT '{}'
);

CREATE TABLE flows (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id            INTEGER NOT NULL REFERENCES runs (id),
    flow_id           INTEGER NOT NULL,
    ts_start          INTEGER NOT NULL,
    ts_end            INTEGER NOT NULL,
    transport         TEXT    NOT NULL,
    vlan              INTEGER,
    src_ip            TEXT    NOT NULL,
    src_port          INTEGER NOT NULL,
    dst_ip            TEXT    NOT NULL,
    dst_port          INTEGER NOT NULL,
    src_mac           TEXT,
    dst_mac           TEXT,
    packets_to_server INTEGER NOT NULL,
    packets_to_client INTEGER NOT NULL,
    bytes_to_server   INTEGER NOT NULL,
    bytes_to_client   INTEGER NOT NULL,
    app               TEXT,
    state             TEXT    NOT NULL,
    gap_bytes         INTEGER NOT NULL
);
CREATE INDEX flows_ts_start ON flows (ts_start);
CREATE INDEX flows_src_ip ON flows (src_ip);
CREATE INDEX flows_dst_ip ON flows (dst_ip);

-- The inventory's current view of each device; a write replaces the whole row.
CREATE TABLE assets (
    id               TEXT PRIMARY KEY,
    mac              TEXT,
    vendor           TEXT,
    role             TEXT    NOT NULL,
    zone             TEXT,
    purdue_level     INTEGER,
    first_seen       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    is_gateway       INTEGER NOT NULL CHECK (is_gateway IN (0, 1)),
    identity         TEXT    NOT NULL,
    ips              TEXT    NOT NULL,
    hostnames        TEXT    NOT NULL,
    protocols_served TEXT    NOT NULL,
    protocols_used   TEXT    NOT NULL,
    peers            TEXT    NOT NULL
);
