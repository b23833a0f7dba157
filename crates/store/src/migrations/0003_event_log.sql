-- Schema v3: the protocol event log, one line per minute per kind of message.
-- Times are integer microseconds since the Unix epoch.

-- Messages of one kind (sender, receiver, protocol, function, direction, status, unit)
-- within one minute of packet time fold into one line with their count, first and last
-- time and the points they addressed; a polled register costs one line a minute, not
-- one a second. The oldest lines go when the log outgrows its cap.
CREATE TABLE event_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_first      INTEGER NOT NULL,
    ts_last       INTEGER NOT NULL,
    src_ip        TEXT,
    dst_ip        TEXT,
    protocol      TEXT    NOT NULL,
    op            TEXT    NOT NULL,
    function      INTEGER NOT NULL,
    function_name TEXT    NOT NULL,
    is_response   INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    unit          INTEGER,
    targets       TEXT    NOT NULL,
    count         INTEGER NOT NULL
);
CREATE INDEX event_log_ts ON event_log (ts_first);
CREATE INDEX event_log_src_ip ON event_log (src_ip, ts_first);
CREATE INDEX event_log_dst_ip ON event_log (dst_ip, ts_first);
CREATE INDEX event_log_protocol ON event_log (protocol, ts_first);
