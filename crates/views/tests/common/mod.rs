//! A store built from the records `gapwatch analyze --json --learn 10s --state DIR
//! lab/captures/smoke.pcap` wrote: its flows, assets and alerts (tests/data/smoke.jsonl)
//! and the learnt model state it saved (tests/data/smoke_model_state.json).
#![allow(dead_code)]

use records::{AssetRecord, FlowRecord, FlowState, Identity, Role, Timestamp, TransportKind};
use serde::Serialize;
use serde_json::Value;
use store::{Batch, ModelSnapshot, Store};

const SMOKE: &str = include_str!("../data/smoke.jsonl");
const MODEL_STATE: &str = include_str!("../data/smoke_model_state.json");

/// The variant of `all` whose JSON form is `v`.
fn variant<T: Serialize + Copy>(all: &[T], v: &Value) -> T {
    *all.iter()
        .find(|x| serde_json::to_value(x).unwrap() == *v)
        .unwrap_or_else(|| panic!("unknown value {v}"))
}

fn text(v: &Value, k: &str) -> Option<String> {
    v[k].as_str().map(str::to_string)
}

fn ts(v: &Value, k: &str) -> Timestamp {
    v[k].as_str().unwrap().parse().unwrap()
}

fn set<T: std::str::FromStr + Ord>(v: &Value, k: &str) -> std::collections::BTreeSet<T>
where
    T::Err: std::fmt::Debug,
{
    v[k].as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().parse().unwrap())
        .collect()
}

pub fn flow(v: &Value) -> FlowRecord {
    use FlowState::*;
    use TransportKind::*;
    FlowRecord {
        kind: "flow",
        id: v["id"].as_u64().unwrap(),
        ts_start: ts(v, "ts_start"),
        ts_end: ts(v, "ts_end"),
        transport: variant(&[Tcp, Udp, Icmp, Icmpv6, Other], &v["transport"]),
        vlan: v["vlan"].as_u64().map(|x| x as u16),
        src_ip: v["src_ip"].as_str().unwrap().parse().unwrap(),
        src_port: v["src_port"].as_u64().unwrap() as u16,
        dst_ip: v["dst_ip"].as_str().unwrap().parse().unwrap(),
        dst_port: v["dst_port"].as_u64().unwrap() as u16,
        src_mac: v["src_mac"].as_str().map(|m| m.parse().unwrap()),
        dst_mac: v["dst_mac"].as_str().map(|m| m.parse().unwrap()),
        packets_to_server: v["packets_to_server"].as_u64().unwrap(),
        packets_to_client: v["packets_to_client"].as_u64().unwrap(),
        bytes_to_server: v["bytes_to_server"].as_u64().unwrap(),
        bytes_to_client: v["bytes_to_client"].as_u64().unwrap(),
        app: v["app"]
            .as_str()
            .map(|a| &*Box::leak(a.to_string().into_boxed_str())),
        state: variant(
            &[
                SynSent,
                Established,
                Midstream,
                Closed,
                Reset,
                Active,
                Evicted,
            ],
            &v["state"],
        ),
        gap_bytes: v["gap_bytes"].as_u64().unwrap_or(0),
    }
}

pub fn asset(v: &Value) -> AssetRecord {
    use Role::*;
    let id = &v["identity"];
    AssetRecord {
        kind: "asset",
        id: text(v, "id").unwrap(),
        mac: v["mac"].as_str().map(|m| m.parse().unwrap()),
        ips: set(v, "ips"),
        vendor: text(v, "vendor"),
        hostnames: set(v, "hostnames"),
        identity: Identity {
            vendor: text(id, "vendor"),
            product: text(id, "product"),
            model: text(id, "model"),
            firmware: text(id, "firmware"),
            serial: text(id, "serial"),
            ssh_host_key: text(id, "ssh_host_key"),
            tls_certificate: text(id, "tls_certificate"),
            sources: serde_json::from_value(id["sources"].clone()).unwrap_or_default(),
        },
        role: variant(
            &[
                Plc,
                Rtu,
                Ied,
                Hmi,
                ScadaServer,
                EngineeringWorkstation,
                Historian,
                ItHost,
                Network,
                Gateway,
                Unknown,
            ],
            &v["role"],
        ),
        zone: text(v, "zone"),
        purdue_level: v["purdue_level"].as_u64().map(|l| l as u8),
        first_seen: ts(v, "first_seen"),
        last_seen: ts(v, "last_seen"),
        protocols_served: set(v, "protocols_served"),
        protocols_used: set(v, "protocols_used"),
        peers: set(v, "peers"),
        is_gateway: v["is_gateway"].as_bool().unwrap_or(false),
    }
}

/// The smoke capture's batch: every flow, asset and alert, and the learnt state.
pub fn smoke_batch(store: &mut Store) -> Batch {
    let run = store.begin_run("smoke.pcap", Timestamp(0)).unwrap();
    let mut batch = Batch::new(run);
    for line in SMOKE.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        match v["kind"].as_str().unwrap() {
            "flow" => batch.flows.push(flow(&v)),
            "asset" => batch.assets.push(asset(&v)),
            "alert" => batch.alerts.push(serde_json::from_value(v).unwrap()),
            _ => {}
        }
    }
    let state: Value = serde_json::from_str(MODEL_STATE).unwrap();
    batch.model_state = Some(ModelSnapshot {
        at: Timestamp(state["saved_at"].as_i64().unwrap()),
        states: state["states"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s[0].as_str().unwrap().to_string(),
                    s[1].as_str().unwrap().to_string(),
                )
            })
            .collect(),
    });
    batch
}

/// A temporary store holding the smoke capture's records.
pub fn smoke_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let batch = smoke_batch(&mut store);
    store.write_batch(&batch).unwrap();
    (dir, store)
}

/// Wraps page content in a minimal document linking the views' stylesheet, for
/// previews.
pub fn preview(title: &str, body: maud::Markup) -> String {
    let css = views::static_files()
        .iter()
        .find(|f| f.0 == "views.css")
        .map(|f| f.2)
        .unwrap_or("");
    maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (maud::PreEscaped(css)) "body{font-family:sans-serif;margin:1.2rem;color:#1a202c}" }
            }
            body { (body) }
        }
    }
    .into_string()
}
