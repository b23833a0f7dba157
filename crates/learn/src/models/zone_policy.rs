//! Zone policy: with an operator's zone file, a connection between two zones the file
//! does not allow is an `it_ot_crossing`, and traffic with a private address outside
//! every zone is an `external_connection` — both policy findings, reported from the
//! first packet, learning or not. Without a zone file this model is silent (the
//! connections model judges crossings against learnt history instead).

use crate::assets::AssetDirectory;
use crate::finding::{Category, Finding};
use crate::input::FlowOpen;
use crate::model::{Cx, Model};
use records::FlowRecord;
use std::net::IpAddr;
use zones::Placement;

/// The zone-policy model. It learns nothing: the zone file is the baseline.
#[derive(Debug, Default)]
pub struct ZonePolicyModel;

impl ZonePolicyModel {
    /// The model.
    pub fn new() -> Self {
        Self
    }
}

fn describe(placement: &Placement<'_>) -> String {
    match placement {
        Placement::Zone(z) => match z.purdue {
            Some(level) => format!("zone {} ({}, Purdue level {level})", z.name, z.kind.name()),
            None => format!("zone {} ({})", z.name, z.kind.name()),
        },
        Placement::External => "no zone (a public address)".to_string(),
        Placement::Unzoned => "no zone (a private address outside every zone)".to_string(),
    }
}

/// One connection, as the zone policy judges it.
struct Crossing {
    id: u64,
    ts: records::Timestamp,
    transport: records::TransportKind,
    client: IpAddr,
    client_mac: Option<wire::MacAddr>,
    server: IpAddr,
    port: u16,
    /// Known at the end of a flow; at its start only the zones and the port are.
    protocol: Option<&'static str>,
}

/// Reports `c` when the zone file does not allow it. At a flow's start (no protocol
/// yet) only zone pairs with no rule at all are judged; rules that name protocols are
/// judged when the flow ends and its protocol is known.
fn judge(cx: &mut Cx<'_>, c: &Crossing) {
    let Some(policy) = cx.assets.policy() else {
        return;
    };
    let client = policy.place(c.client, None);
    let server = policy.place(c.server, None);
    let port = (c.port != 0).then_some(c.port);
    let assets = cx.assets;
    let what = match (port, c.protocol) {
        (Some(p), Some(app)) => format!("{:?} port {p} ({app})", c.transport).to_lowercase(),
        (Some(p), None) => format!("{:?} port {p}", c.transport).to_lowercase(),
        (None, _) => format!("{:?}", c.transport).to_lowercase(),
    };
    let finding = match (&client, &server) {
        (Placement::Zone(from), Placement::Zone(to)) => {
            if from.name == to.name {
                return;
            }
            let any_rule = policy
                .rules()
                .iter()
                .any(|r| r.from == from.name && r.to == to.name);
            let allowed = match c.protocol {
                None => any_rule,
                Some(app) => policy.allows(&from.name, &to.name, port, Some(app)),
            };
            // A pair with no rule at all was reported when the flow opened.
            if allowed || (c.protocol.is_some() && !any_rule) {
                return;
            }
            Finding::new(
                c.ts,
                Category::ItOtCrossing,
                "zone_policy",
                0.95,
                format!(
                    "{} → {}: crossing the zone file does not allow",
                    from.name, to.name
                ),
                format!(
                    "{} in {} opened {what} on {} in {}. The zone file allows no such \
                     traffic from {} to {}.",
                    assets.label(c.client),
                    describe(&client),
                    assets.label(c.server),
                    describe(&server),
                    from.name,
                    to.name
                ),
            )
            .fuse_key(format!("{}>{}", from.name, to.name))
        }
        (Placement::Unzoned, _) | (_, Placement::Unzoned) if c.protocol.is_none() => {
            let outside = if matches!(client, Placement::Unzoned) {
                c.client
            } else {
                c.server
            };
            Finding::new(
                c.ts,
                Category::ExternalConnection,
                "zone_policy",
                0.9,
                format!("Traffic with {outside}, outside every zone"),
                format!(
                    "{} in {} opened {what} on {} in {}. {outside} belongs to no zone of \
                     the zone file: an unknown network is reachable.",
                    assets.label(c.client),
                    describe(&client),
                    assets.label(c.server),
                    describe(&server)
                ),
            )
            .fuse_key(format!("unzoned {outside}"))
        }
        // Public addresses are the external model's.
        _ => return,
    };
    cx.report(
        finding
            .between(Some(c.client), Some(c.server), port)
            .src_mac(c.client_mac)
            .flow(c.id)
            .policy(),
    );
}

impl Model for ZonePolicyModel {
    fn name(&self) -> &'static str {
        "zone_policy"
    }

    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        if flow.to_group {
            return;
        }
        let crossing = Crossing {
            id: flow.id,
            ts: flow.ts,
            transport: flow.transport,
            client: flow.client_ip,
            client_mac: flow.client_mac,
            server: flow.server_ip,
            port: flow.server_port,
            protocol: None,
        };
        judge(cx, &crossing);
    }

    fn on_flow_end(&mut self, cx: &mut Cx<'_>, flow: &FlowRecord) {
        // Rules that name protocols can only be judged once the protocol is known.
        let Some(app) = flow.app else { return };
        if crate::assets::is_group(flow.dst_ip) {
            return;
        }
        let crossing = Crossing {
            id: flow.id,
            ts: flow.ts_start,
            transport: flow.transport,
            client: flow.src_ip,
            client_mac: flow.src_mac,
            server: flow.dst_ip,
            port: flow.dst_port,
            protocol: Some(app),
        };
        judge(cx, &crossing);
    }

    fn save(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    fn restore(&mut self, _state: serde_json::Value) -> Result<(), String> {
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        let Some(policy) = assets.policy() else {
            return;
        };
        match ip {
            Some(ip) => out.push(format!(
                "{} is in {} of the zone file",
                assets.label(ip),
                describe(&policy.place(ip, None))
            )),
            None => out.push(format!(
                "zone file: {} zones, {} allowed crossings",
                policy.zones().len(),
                policy.rules().len()
            )),
        }
    }

    fn forget(&mut self, _ip: Option<IpAddr>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::{Timestamp, TransportKind};
    use std::sync::Arc;

    fn policy() -> zones::ZonePolicy {
        let text = r#"
[[zone]]
name = "control"
cidrs = ["10.10.1.0/24"]
kind = "ot"
purdue = 1

[[zone]]
name = "supervisory"
cidrs = ["10.10.2.0/24"]
kind = "ot"
purdue = 2

[[zone]]
name = "office"
cidrs = ["10.10.4.0/24"]
kind = "it"
purdue = 4

[[allow]]
from = "supervisory"
to = "control"
protocols = ["modbus"]
"#;
        zones::ZonePolicy::parse(text, "zones.toml").unwrap()
    }

    fn open(client: &str, server: &str, port: u16) -> FlowOpen {
        FlowOpen {
            id: 7,
            ts: Timestamp(1_000_000),
            transport: TransportKind::Tcp,
            client_ip: client.parse().unwrap(),
            client_port: 40000,
            client_mac: None,
            server_ip: server.parse().unwrap(),
            server_port: port,
            server_mac: None,
            to_group: false,
        }
    }

    fn run(flow: &FlowOpen) -> Vec<Finding> {
        let mut assets = AssetDirectory::default();
        assets.set_policy(Some(Arc::new(policy())));
        let mut findings = Vec::new();
        let mut cx = Cx::new(flow.ts, true, &assets, &mut findings);
        ZonePolicyModel::new().on_flow_open(&mut cx, flow);
        findings
    }

    #[test]
    fn crossings_the_file_does_not_allow_alert_even_while_learning() {
        assert!(run(&open("10.10.2.10", "10.10.1.11", 502)).is_empty());
        assert!(run(&open("10.10.1.11", "10.10.1.12", 102)).is_empty());
        let f = run(&open("10.10.4.10", "10.10.1.11", 502));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].category, Category::ItOtCrossing);
        assert_eq!(
            f[0].explanation,
            "10.10.4.10 in zone office (it, Purdue level 4) opened tcp port 502 on 10.10.1.11 \
             in zone control (ot, Purdue level 1). The zone file allows no such traffic from \
             office to control."
        );
        // supervisory → control has a rule naming a protocol: judged at the flow's end.
        assert!(run(&open("10.10.2.10", "10.10.1.11", 102)).is_empty());
    }

    fn end(client: &str, server: &str, port: u16, app: &'static str) -> Vec<Finding> {
        let mut assets = AssetDirectory::default();
        assets.set_policy(Some(Arc::new(policy())));
        let flow = FlowRecord {
            kind: "flow",
            id: 9,
            ts_start: Timestamp(1_000_000),
            ts_end: Timestamp(2_000_000),
            transport: TransportKind::Tcp,
            vlan: None,
            src_ip: client.parse().unwrap(),
            src_port: 40000,
            dst_ip: server.parse().unwrap(),
            dst_port: port,
            src_mac: None,
            dst_mac: None,
            packets_to_server: 3,
            packets_to_client: 3,
            bytes_to_server: 300,
            bytes_to_client: 300,
            app: Some(app),
            state: records::FlowState::Closed,
            gap_bytes: 0,
        };
        let mut findings = Vec::new();
        let mut cx = Cx::new(flow.ts_end, false, &assets, &mut findings);
        ZonePolicyModel::new().on_flow_end(&mut cx, &flow);
        findings
    }

    #[test]
    fn protocol_rules_are_judged_when_the_protocol_is_known() {
        assert!(end("10.10.2.10", "10.10.1.11", 502, "modbus").is_empty());
        let f = end("10.10.2.10", "10.10.1.12", 102, "s7comm");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].fuse_key, "supervisory>control");
        assert!(f[0].explanation.contains("tcp port 102 (s7comm)"));
        // No rule at all for office → control: already reported at the flow's start.
        assert!(end("10.10.4.10", "10.10.1.11", 502, "modbus").is_empty());
    }

    #[test]
    fn private_addresses_outside_every_zone_are_external() {
        let f = run(&open("10.10.2.40", "192.168.7.5", 443));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].category, Category::ExternalConnection);
        assert!(run(&open("10.10.2.40", "203.0.113.50", 443)).is_empty());
    }
}
