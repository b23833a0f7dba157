//! IEEE C37.118 events against tshark, capture by capture: command frames by command,
//! header and configuration frames by type, data frames as one event per stream start.

mod common;

use common::{events, num, setup, tshark};
use std::collections::BTreeMap;

/// Function number of frames other than commands: this plus the frame type.
const FRAME_BASE: u64 = 0x100;
const DATA: u64 = FRAME_BASE;
const HEADER: u64 = FRAME_BASE + 1;

/// (capture, extra tshark decode-as, stream starts we report, header frames tshark misses).
/// Stream starts: one per direction that carries data frames, again after each
/// "turn off transmission" (tshark: data frames 252, 356, 1, 1, 3002, 1342, 422, 422, 422,
/// 4704, 4704, 608 — counted, not events).
/// Header frames: c37_1100_clean_tcp and c37118_1100_unclean hold an empty 16-byte header
/// frame (frame 6) that tshark's dissector does not recognise; it has a valid check word.
const CAPTURES: &[(&str, &[&str], u64, u64)] = &[
    (
        "icsnpp-synchrophasor/tests/traces/C37.118_1PMU_TCP.pcap",
        &[],
        1,
        0,
    ),
    (
        "icsnpp-synchrophasor/tests/traces/C37.118_1PMU_UDP.pcap",
        &[],
        1,
        0,
    ),
    (
        "icsnpp-synchrophasor/tests/traces/C37.118_1PMU_UDP_minimal.pcap",
        &[],
        1,
        0,
    ),
    (
        "icsnpp-synchrophasor/tests/traces/C37.118_1PMU_UDP_minimal_otherport.pcap",
        &["-d", "udp.port==40713,synphasor"],
        1,
        0,
    ),
    (
        "icsnpp-synchrophasor/tests/traces/C37.118_2PMUsInSync_TCP.pcap",
        &[],
        2,
        0,
    ),
    (
        "icsnpp-synchrophasor/tests/traces/C37.118_4in1PMU_TCP.pcap",
        &[],
        2,
        0,
    ),
    (
        "icsnpp-synchrophasor/tests/traces/c37118_1100_unclean.pcap",
        &[],
        1,
        1,
    ),
    (
        "icsnpp-synchrophasor/tests/traces/c37_1100_clean_tcp.pcap",
        &[],
        1,
        1,
    ),
    (
        "icsnpp-synchrophasor/tests/traces/c37_1100_fullclean.pcap",
        &[],
        1,
        0,
    ),
    (
        "icsnpp-synchrophasor/tests/traces/c37_pmu_clean.pcap",
        &[],
        4,
        0,
    ),
    (
        "icsnpp-synchrophasor/tests/traces/c37_pmu_unclean.pcap",
        &[],
        4,
        0,
    ),
    ("ndpi/tests/cfgs/default/pcap/ieee_c37118.pcap", &[], 2, 0),
];

#[test]
fn c37118_commands_and_configuration_equal_tsharks() {
    let Some(dir) = setup() else { return };
    for (name, decode, starts, missed_headers) in CAPTURES {
        let cap = dir.join(name);
        let evs = events(&cap, "c37118");
        let mut ours: BTreeMap<u64, u64> = BTreeMap::new();
        for e in &evs {
            *ours
                .entry(e["function"].as_u64().expect("function"))
                .or_default() += 1;
        }
        let mut args: Vec<&str> = decode.to_vec();
        args.extend([
            "-Y",
            "synphasor",
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
            "-e",
            "synphasor.frtype",
            "-e",
            "synphasor.command",
        ]);
        let mut theirs: BTreeMap<u64, u64> = BTreeMap::new();
        let mut data_frames = 0;
        for line in tshark(&cap, &args).lines() {
            let (types, cmds) = line.split_once('\t').expect("two fields");
            let mut cmds = cmds.split(',').filter(|c| !c.is_empty());
            for t in types.split(',') {
                match num(t) {
                    0 => data_frames += 1,
                    4 => {
                        *theirs
                            .entry(num(cmds.next().expect("command field")))
                            .or_default() += 1
                    }
                    t => *theirs.entry(FRAME_BASE + t).or_default() += 1,
                }
            }
        }
        assert!(data_frames > 0, "{name}: tshark sees data frames");
        if *missed_headers > 0 {
            *theirs.entry(HEADER).or_default() += missed_headers;
        }
        theirs.insert(DATA, *starts);
        assert_eq!(ours, theirs, "{name}");
    }
}

#[test]
fn c37118_configuration_names_the_stations_tshark_names() {
    let Some(dir) = setup() else { return };
    let cap = dir.join("icsnpp-synchrophasor/tests/traces/C37.118_4in1PMU_TCP.pcap");
    let evs = events(&cap, "c37118");
    let cfg = evs
        .iter()
        .find(|e| e["function_name"] == "config2")
        .expect("a configuration frame 2");
    let names: Vec<&str> = cfg["stations"]
        .as_array()
        .expect("stations")
        .iter()
        .map(|s| s.as_str().unwrap_or(""))
        .collect();
    // tshark shows station names only as text: `tshark -r F -Y synphasor.frtype==3 -V`
    // prints Station #1: "PMU1            " ... Station #4: "PMU4            ".
    assert_eq!(names, ["PMU1", "PMU2", "PMU3", "PMU4"]);
    let ids: Vec<String> = cfg["pmu_idcodes"]
        .as_array()
        .expect("idcodes")
        .iter()
        .map(|s| s.as_str().unwrap_or("").to_string())
        .collect();
    // tshark -r F -Y 'synphasor.frtype==3' -T fields -E occurrence=a -e synphasor.idcode_data_source
    let out = tshark(
        &cap,
        &[
            "-Y",
            "synphasor.frtype==3",
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=|",
            "-e",
            "synphasor.idcode_data_source",
        ],
    );
    let theirs: Vec<String> = out
        .lines()
        .next()
        .expect("tshark sees it")
        .split('|')
        .map(|s| s.trim().to_string())
        .collect();
    assert_eq!(ids, theirs);
    assert_eq!(ids, ["61", "62", "63", "64"]);
}
