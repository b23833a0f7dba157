-- Schema v3: roll-ups that keep the console's pages fast on large stores.
-- `Store::write_batch` keeps them in step with the flows it inserts, in the same
-- transaction (one upsert per distinct pair or hour of the batch); they are filled
-- once here from the flows already stored. Times are integer microseconds since the Unix epoch. Sums are taken in
-- floating point and cast back, so they saturate at i64::MAX like the flow counters
-- instead of failing on overflow.

-- One row per (client, server, application) pair: the network map's edges and an
-- asset's peers, without scanning the flows.
CREATE TABLE flow_pairs (
    src_ip   TEXT    NOT NULL,
    dst_ip   TEXT    NOT NULL,
    app      TEXT    NOT NULL, -- '' for flows without an application protocol
    flows    INTEGER NOT NULL,
    packets  INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts  INTEGER NOT NULL,
    PRIMARY KEY (src_ip, dst_ip, app)
) WITHOUT ROWID;
CREATE INDEX flow_pairs_dst_ip ON flow_pairs (dst_ip);

-- One row per (address, hour): flows and bytes an address took part in, by the hour
-- the flow started in. `hour` is ts_start / 3,600,000,000.
CREATE TABLE ip_hours (
    ip    TEXT    NOT NULL,
    hour  INTEGER NOT NULL,
    flows INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (ip, hour)
) WITHOUT ROWID;

INSERT INTO flow_pairs
    SELECT src_ip, dst_ip, coalesce(app, ''), count(*),
        CAST(total(packets_to_server + 0.0 + packets_to_client) AS INTEGER),
        CAST(total(bytes_to_server + 0.0 + bytes_to_client) AS INTEGER),
        min(ts_start), max(ts_end)
    FROM flows GROUP BY src_ip, dst_ip, coalesce(app, '');

INSERT INTO ip_hours
    SELECT ip, hour, count(*), CAST(total(bytes) AS INTEGER) FROM (
        SELECT src_ip AS ip, ts_start / 3600000000 AS hour,
            bytes_to_server + 0.0 + bytes_to_client AS bytes FROM flows
        UNION ALL
        SELECT dst_ip, ts_start / 3600000000, bytes_to_server + 0.0 + bytes_to_client
            FROM flows WHERE dst_ip <> src_ip)
    GROUP BY ip, hour;

-- Which address pairs have untriaged alerts, and how many, read from the index alone.
CREATE INDEX alerts_status_pair ON alerts (status, src_ip, dst_ip);
