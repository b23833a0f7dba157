//! The event log: lines read back as written, filters and paging.

use records::Timestamp;
use store::{Batch, EventFilter, EventLine, Store};

fn line(n: i64, src: &str, protocol: &str, op: &str, name: &str) -> EventLine {
    EventLine {
        ts_first: Timestamp(n * 60_000_000),
        ts_last: Timestamp(n * 60_000_000 + 59_000_000),
        src_ip: Some(src.parse().unwrap()),
        dst_ip: Some("10.0.0.5".parse().unwrap()),
        protocol: protocol.to_string(),
        op: op.to_string(),
        function: 3,
        function_name: name.to_string(),
        is_response: false,
        status: "none".to_string(),
        unit: Some(1),
        targets: "holding_register 0-19".to_string(),
        count: 60,
    }
}

#[test]
fn lines_read_back_as_written_and_filters_select_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let run = store.begin_run("test", Timestamp(0)).unwrap();
    let mut batch = Batch::new(run);
    batch.event_lines = vec![
        line(1, "10.0.0.20", "modbus", "read", "read_holding_registers"),
        line(2, "10.0.0.20", "modbus", "write", "write_single_register"),
        line(3, "10.0.0.30", "s7comm", "control", "plc_stop"),
    ];
    store.write_batch(&batch).unwrap();
    assert_eq!(store.count_event_lines().unwrap(), 3);
    let all = store.event_lines(&EventFilter::default()).unwrap();
    assert_eq!(all, batch.event_lines);
    let pick = |f: EventFilter| -> Vec<String> {
        store
            .event_lines(&f)
            .unwrap()
            .into_iter()
            .map(|l| l.function_name)
            .collect()
    };
    assert_eq!(
        pick(EventFilter {
            protocol: Some("modbus".into()),
            ..Default::default()
        }),
        ["read_holding_registers", "write_single_register"]
    );
    assert_eq!(
        pick(EventFilter {
            ip: Some("10.0.0.30".parse().unwrap()),
            ..Default::default()
        }),
        ["plc_stop"]
    );
    assert_eq!(
        pick(EventFilter {
            op: Some("write".into()),
            ..Default::default()
        }),
        ["write_single_register"]
    );
    // Text is matched literally: `_` is no wildcard.
    assert_eq!(
        pick(EventFilter {
            text: Some("plc_".into()),
            ..Default::default()
        }),
        ["plc_stop"]
    );
    // A line overlapping the window's start counts; one starting at its end does not.
    assert_eq!(
        pick(EventFilter {
            from: Some(Timestamp(2 * 60_000_000 + 30_000_000)),
            to: Some(Timestamp(3 * 60_000_000)),
            ..Default::default()
        }),
        ["write_single_register"]
    );
    assert_eq!(
        pick(EventFilter {
            newest_first: true,
            limit: Some(1),
            offset: Some(1),
            ..Default::default()
        }),
        ["write_single_register"]
    );
}
