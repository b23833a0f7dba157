//! Zone suggestion on the plant lab's devices (asset records of
//! `lab/captures/normal.pcap.gz`, see `tests/fixtures/README.md`).

use records::{AssetRecord, Role, Timestamp};
use serde_json::Value;
use std::collections::BTreeSet;
use zones::{suggest, suggest_policy, ZoneKind, ZonePolicy};

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn role(name: &str) -> Role {
    match name {
        "plc" => Role::Plc,
        "rtu" => Role::Rtu,
        "ied" => Role::Ied,
        "hmi" => Role::Hmi,
        "scada_server" => Role::ScadaServer,
        "engineering_workstation" => Role::EngineeringWorkstation,
        "historian" => Role::Historian,
        "it_host" => Role::ItHost,
        "network" => Role::Network,
        "gateway" => Role::Gateway,
        _ => Role::Unknown,
    }
}

fn lab_assets() -> Vec<AssetRecord> {
    include_str!("fixtures/lab_normal_assets.jsonl")
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            AssetRecord {
                kind: "asset",
                id: v["id"].as_str().unwrap().to_string(),
                mac: None,
                ips: strings(&v["ips"])
                    .iter()
                    .map(|s| s.parse().unwrap())
                    .collect(),
                vendor: None,
                hostnames: strings(&v["hostnames"]),
                identity: Default::default(),
                role: role(v["role"].as_str().unwrap()),
                zone: None,
                purdue_level: None,
                first_seen: Timestamp(0),
                last_seen: Timestamp(0),
                protocols_served: strings(&v["protocols_served"]),
                protocols_used: strings(&v["protocols_used"]),
                peers: strings(&v["peers"])
                    .iter()
                    .map(|s| s.parse().unwrap())
                    .collect(),
                is_gateway: v["is_gateway"].as_bool().unwrap(),
            }
        })
        .collect()
}

#[test]
fn the_lab_gets_control_supervisory_dmz_and_office_zones() {
    let assets = lab_assets();
    assert_eq!(assets.len(), 19);
    let policy = suggest_policy(&assets);
    let zones: Vec<(&str, ZoneKind, Option<u8>, String, &str)> = policy
        .zones()
        .iter()
        .map(|z| {
            (
                z.name.as_str(),
                z.kind,
                z.purdue,
                z.cidrs[0].to_string(),
                z.description.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        zones,
        vec![
            (
                "control-10-10-1",
                ZoneKind::Ot,
                Some(1),
                "10.10.1.0/24".to_string(),
                "6 devices observed: 4 PLC, 2 RTU"
            ),
            (
                "supervisory-10-10-2",
                ZoneKind::Ot,
                Some(2),
                "10.10.2.0/24".to_string(),
                "5 devices observed: 2 HMI, 1 SCADA server, 1 historian, 1 IT host"
            ),
            (
                "dmz-10-10-3",
                ZoneKind::Dmz,
                Some(3),
                "10.10.3.0/24".to_string(),
                "2 devices observed: 2 IT host"
            ),
            (
                "it-10-10-4",
                ZoneKind::It,
                Some(4),
                "10.10.4.0/24".to_string(),
                "2 devices observed: 2 IT host"
            ),
        ]
    );
    let rules: Vec<String> = policy
        .rules()
        .iter()
        .map(|r| format!("{} -> {} {:?}", r.from, r.to, r.protocols))
        .collect();
    assert_eq!(
        rules,
        vec![
            "supervisory-10-10-2 -> control-10-10-1 [\"bacnet\", \"dnp3\", \"enip\", \"iec104\", \"modbus\", \"s7comm\"]",
            "supervisory-10-10-2 -> dmz-10-10-3 [\"http\"]",
            "dmz-10-10-3 -> supervisory-10-10-2 [\"dns\"]",
            "it-10-10-4 -> dmz-10-10-3 [\"ftp\", \"http\", \"ssh\", \"tls\"]",
        ]
    );
    // What the plant must never do is not allowed.
    assert!(!policy.allows("it-10-10-4", "control-10-10-1", Some(502), Some("modbus")));
    assert!(!policy.allows("it-10-10-4", "supervisory-10-10-2", None, Some("http")));
    assert!(!policy.allows(
        "control-10-10-1",
        "supervisory-10-10-2",
        None,
        Some("modbus")
    ));
}

#[test]
fn the_suggested_file_parses_back_to_the_same_policy() {
    let assets = lab_assets();
    let text = suggest(&assets);
    let parsed = ZonePolicy::parse(&text, "suggested.toml").unwrap();
    let direct = suggest_policy(&assets);
    assert_eq!(parsed.zones(), direct.zones());
    assert_eq!(parsed.rules(), direct.rules());
    let plc = "10.10.1.11".parse().unwrap();
    assert_eq!(parsed.place(plc, None).name(), "control-10-10-1");
    assert_eq!(
        parsed.place("10.10.9.9".parse().unwrap(), None).name(),
        "unzoned"
    );
}
