//! MQTT events against tshark, capture by capture: every control packet by type
//! (`tshark -Y mqtt -e mqtt.msgtype`), topics of PUBLISH.

mod common;

use common::{events, num, setup, tshark};
use std::collections::BTreeMap;

const CAPTURES: &[(&str, u64)] = &[
    ("malcolm-test-artifacts/pcap/protocols/MQTT.pcap", 20),
    ("ndpi/tests/cfgs/default/pcap/mqtt.pcap", 8),
];

#[test]
fn mqtt_packets_and_topics_equal_tsharks() {
    let Some(dir) = setup() else { return };
    for (name, total) in CAPTURES {
        let cap = dir.join(name);
        let evs = events(&cap, "mqtt");
        let mut ours: BTreeMap<u64, u64> = BTreeMap::new();
        for e in &evs {
            *ours
                .entry(e["function"].as_u64().expect("function"))
                .or_default() += 1;
        }
        let mut theirs: BTreeMap<u64, u64> = BTreeMap::new();
        let out = tshark(
            &cap,
            &[
                "-Y",
                "mqtt",
                "-T",
                "fields",
                "-E",
                "occurrence=a",
                "-E",
                "aggregator=,",
                "-e",
                "mqtt.msgtype",
            ],
        );
        for t in out
            .lines()
            .flat_map(|l| l.split(','))
            .filter(|t| !t.is_empty())
        {
            *theirs.entry(num(t)).or_default() += 1;
        }
        assert_eq!(ours, theirs, "{name}");
        assert_eq!(evs.len() as u64, *total, "{name}");
        let mut our_topics: Vec<String> = evs
            .iter()
            .filter(|e| e["function"] == 3)
            .map(|e| e["topic"].as_str().unwrap_or("").to_string())
            .collect();
        let mut their_topics: Vec<String> = tshark(
            &cap,
            &[
                "-Y",
                "mqtt.msgtype==3",
                "-T",
                "fields",
                "-E",
                "occurrence=a",
                "-E",
                "aggregator=\u{1}",
                "-e",
                "mqtt.topic",
            ],
        )
        .lines()
        .flat_map(|l| l.split('\u{1}').map(str::to_string).collect::<Vec<_>>())
        .filter(|t| !t.is_empty())
        .collect();
        our_topics.sort();
        their_topics.sort();
        assert_eq!(our_topics, their_topics, "{name}");
        assert!(
            evs.iter().all(|e| e["password"].is_null()),
            "no password field ever"
        );
    }
}
