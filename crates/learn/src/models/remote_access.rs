//! `remote_access`: remote-desktop and remote-support tools.
//!
//! Sessions: RDP from its connection request (the `rdp` dissector), VNC (5900–5903),
//! TeamViewer (5938), AnyDesk (7070, 6568) and Radmin (4899) from flows on their ports
//! that carried data both ways (a refused or scanned port is not a session). Sessions
//! seen while learning make their (client, server, tool) routine; after learning a
//! session of a pair that is not routine is a finding, until it settles (see
//! [`super::routine`]).
//!
//! Remote-support vendors named in DNS queries, TLS SNI or HTTP `Host` (TeamViewer,
//! AnyDesk, ScreenConnect ...) are policy findings: in an air gap they mean a tool
//! that reaches out to the internet for a remote operator.
//!
//! Score of a session: 0.9 when the client never used this tool before; otherwise the
//! Good–Turing surprise of a new server among the client's sessions with the tool,
//! mapped into 0.3–0.9 (an admin who hops between many hosts is less surprising); plus
//! 0.1 when the server sits in an OT zone.

use super::names::{attr_text, host_name, remote_support_vendor};
use super::routine::{clock, evict_oldest, Sightings};
use crate::assets::{AssetDirectory, ZoneKind};
use crate::finding::{Category, Finding};
use crate::model::{Cx, Model};
use crate::stats::{surprise, unseen_probability};
use crate::text::{span, thousands};
use dissect::Event;
use records::{FlowRecord, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use wire::MacAddr;

/// (client, server, tool) session histories kept.
pub const MAX_SESSIONS: usize = 4096;
/// (client, vendor name) sightings kept.
pub const MAX_NAMES: usize = 1024;
/// A vendor name is reported again after this long.
const REPEAT_MICROS: i64 = 600_000_000;

const MODEL: &str = "remote_access";

/// A remote-access tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tool {
    /// Microsoft Remote Desktop.
    Rdp,
    /// VNC (RFB).
    Vnc,
    /// TeamViewer.
    TeamViewer,
    /// AnyDesk.
    AnyDesk,
    /// Radmin.
    Radmin,
}

impl Tool {
    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rdp => "RDP",
            Self::Vnc => "VNC",
            Self::TeamViewer => "TeamViewer",
            Self::AnyDesk => "AnyDesk",
            Self::Radmin => "Radmin",
        }
    }

    /// `a VNC`, `an RDP` ...
    fn with_article(self) -> String {
        let article = match self {
            Self::Rdp | Self::AnyDesk => "an",
            _ => "a",
        };
        format!("{article} {}", self.name())
    }

    /// Protocol name in findings.
    fn protocol(self) -> &'static str {
        match self {
            Self::Rdp => "rdp",
            Self::Vnc => "vnc",
            Self::TeamViewer => "teamviewer",
            Self::AnyDesk => "anydesk",
            Self::Radmin => "radmin",
        }
    }

    /// The tool a server port belongs to.
    pub fn of_port(port: u16) -> Option<Self> {
        Some(match port {
            3389 => Self::Rdp,
            5900..=5903 => Self::Vnc,
            5938 => Self::TeamViewer,
            7070 | 6568 => Self::AnyDesk,
            4899 => Self::Radmin,
            _ => return None,
        })
    }

    const ALL: [Self; 5] = [
        Self::Rdp,
        Self::Vnc,
        Self::TeamViewer,
        Self::AnyDesk,
        Self::Radmin,
    ];
}

/// True when a flow carried data both ways, not just a handshake or a refusal: three
/// packets each way and more bytes back than bare headers.
fn carried_data(flow: &FlowRecord) -> bool {
    flow.packets_to_server >= 3
        && flow.packets_to_client >= 3
        && flow.bytes_to_client > 60 * flow.packets_to_client
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    sessions: Vec<((IpAddr, IpAddr, Tool), Sightings)>,
    names: Vec<((IpAddr, String), Sightings)>,
    accepted: Vec<String>,
    evicted: [u64; 2],
}

/// The `remote_access` model.
#[derive(Debug, Default)]
pub struct RemoteAccess {
    sessions: BTreeMap<(IpAddr, IpAddr, Tool), Sightings>,
    names: BTreeMap<(IpAddr, String), Sightings>,
    accepted: BTreeSet<String>,
    /// Evictions: sessions, names.
    evicted: [u64; 2],
}

/// One session as the model judges it.
struct Session<'a> {
    ts: Timestamp,
    client: IpAddr,
    server: IpAddr,
    port: u16,
    tool: Tool,
    mac: Option<MacAddr>,
    flow: Option<u64>,
    /// Extra facts (`as user "bob"`).
    detail: &'a str,
}

impl RemoteAccess {
    /// A model with nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    /// The client's history with `tool` besides `server`: (servers, sessions, servers
    /// seen in one session only).
    fn history(&self, client: IpAddr, tool: Tool) -> (u64, u64, u64) {
        let lo = (client, IpAddr::from([0u8; 4]), Tool::Rdp);
        let (mut servers, mut total, mut singletons) = (0, 0, 0);
        for ((c, _, t), s) in self.sessions.range(lo..) {
            if *c != client {
                break;
            }
            if *t == tool {
                servers += 1;
                total += s.count;
                singletons += u64::from(s.count == 1);
            }
        }
        (servers, total, singletons)
    }

    fn session(&mut self, cx: &mut Cx<'_>, s: Session<'_>) {
        let key = (s.client, s.server, s.tool);
        let (servers, total, singletons) = self.history(s.client, s.tool);
        let before = self.sessions.get(&key).copied();
        match self.sessions.get_mut(&key) {
            Some(seen) => seen.see(s.ts, cx.learning),
            None => {
                self.evicted[0] +=
                    evict_oldest(&mut self.sessions, MAX_SESSIONS, |v: &Sightings| v.last);
                self.sessions.insert(key, Sightings::new(s.ts, cx.learning));
            }
        }
        if cx.learning || before.is_some_and(|b| b.is_routine()) {
            return;
        }
        let (zone, kind) = cx.assets.zone(s.server);
        let mut score = if total == 0 {
            0.9
        } else {
            0.3 + 0.6 * surprise(unseen_probability(singletons, total))
        };
        if kind == ZoneKind::Ot {
            score = (score + 0.1).min(1.0);
        }
        let tool = s.tool.name();
        let history = match (before, total) {
            (Some(b), _) => format!(
                "This pair first used {tool} at {} ({} session{} since, {} ago), after \
                 learning: it is not routine yet.",
                clock(Timestamp(b.first)),
                thousands(b.count),
                if b.count == 1 { "" } else { "s" },
                span((s.ts.micros() - b.first) as f64 / 1e6)
            ),
            (None, 0) => format!("{} never used {tool} before.", cx.assets.label(s.client)),
            (None, _) => format!(
                "{} used {tool} {} time{} to {} other host{}, never to this one.",
                cx.assets.label(s.client),
                thousands(total),
                if total == 1 { "" } else { "s" },
                servers,
                if servers == 1 { "" } else { "s" }
            ),
        };
        let where_ = if kind == ZoneKind::Ot {
            format!(" {} is in the OT zone {zone}.", s.server)
        } else {
            String::new()
        };
        let explanation = format!(
            "{} opened {} session to {} on port {} at {}{}.{where_} {history}",
            cx.assets.label(s.client),
            s.tool.with_article(),
            cx.assets.label(s.server),
            s.port,
            clock(s.ts),
            s.detail,
        );
        let mut finding = Finding::new(
            s.ts,
            Category::RemoteAccess,
            MODEL,
            score,
            format!(
                "{tool} session from {} to {}",
                cx.assets.label(s.client),
                cx.assets.label(s.server)
            ),
            explanation,
        )
        .between(Some(s.client), Some(s.server), Some(s.port))
        .protocol(s.tool.protocol())
        .src_mac(s.mac)
        .fuse_key(format!("{} {}", s.tool.protocol(), s.server));
        if let Some(id) = s.flow {
            finding = finding.flow(id);
        }
        cx.report(finding);
    }

    /// A remote-support vendor's name in a DNS query, SNI or HTTP Host.
    fn vendor_name(&mut self, cx: &mut Cx<'_>, event: &Event, value: &str, field: &str) {
        let (Some(client), Some(server)) = (event.src_ip, event.dst_ip) else {
            return;
        };
        let Some(name) = host_name(value) else {
            return;
        };
        let Some(vendor) = remote_support_vendor(&name) else {
            return;
        };
        if self.accepted.contains(name.as_ref()) {
            return;
        }
        let key = (client, name.into_owned());
        let before = self.names.get(&key).copied();
        match self.names.get_mut(&key) {
            Some(s) => s.see(cx.now, cx.learning),
            None => {
                self.evicted[1] += evict_oldest(&mut self.names, MAX_NAMES, |v: &Sightings| v.last);
                self.names
                    .insert(key.clone(), Sightings::new(cx.now, cx.learning));
            }
        }
        if before.is_some_and(|b| cx.now.micros() - b.last < REPEAT_MICROS) {
            return;
        }
        let name = key.1;
        let history = match before {
            Some(b) => format!(
                " It named it {} time{} before, first at {}.",
                thousands(b.count),
                if b.count == 1 { "" } else { "s" },
                clock(Timestamp(b.first))
            ),
            None => String::new(),
        };
        let explanation = format!(
            "{} named {name} ({vendor}) in a {field} to {} at {}. Remote-support tools \
             reach out to their vendor's internet service so an outside operator can take \
             over the host; an air-gapped network has no such path.{history}",
            cx.assets.label(client),
            cx.assets.label(server),
            clock(cx.now),
        );
        let finding = Finding::new(
            cx.now,
            Category::RemoteAccess,
            MODEL,
            0.9,
            format!(
                "Remote-support service {name} named by {}",
                cx.assets.label(client)
            ),
            explanation,
        )
        .between(Some(client), Some(server), Some(event.dst_port))
        .protocol(event.protocol)
        .src_mac(event.src_mac)
        .fuse_key(format!("vendor {name}"))
        .policy();
        cx.report(finding);
    }
}

impl Model for RemoteAccess {
    fn name(&self) -> &'static str {
        MODEL
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        if event.is_response {
            return;
        }
        match event.protocol {
            "rdp" if event.function == 1 => {
                let (Some(client), Some(server)) = (event.src_ip, event.dst_ip) else {
                    return;
                };
                let detail = attr_text(event, "user")
                    .map(|u| format!(" as user \"{u}\""))
                    .unwrap_or_default();
                self.session(
                    cx,
                    Session {
                        ts: event.ts,
                        client,
                        server,
                        port: event.dst_port,
                        tool: Tool::Rdp,
                        mac: event.src_mac,
                        flow: None,
                        detail: &detail,
                    },
                );
            }
            "dns" => {
                if let Some(q) = attr_text(event, "query") {
                    self.vendor_name(cx, event, q, "DNS query");
                }
            }
            "tls" => {
                if let Some(sni) = attr_text(event, "sni") {
                    self.vendor_name(cx, event, sni, "TLS server name (SNI)");
                }
            }
            "http" => {
                if let Some(host) = attr_text(event, "host") {
                    self.vendor_name(cx, event, host, "HTTP Host header");
                }
            }
            _ => {}
        }
    }

    fn on_flow_end(&mut self, cx: &mut Cx<'_>, flow: &FlowRecord) {
        // RDP is judged from its connection request; other dissected protocols on these
        // ports are not remote desktops.
        if flow.app.is_some() {
            return;
        }
        let Some(tool) = Tool::of_port(flow.dst_port) else {
            return;
        };
        if !carried_data(flow) {
            return;
        }
        let detail = format!(
            " ({} packets, {} s)",
            thousands(flow.packets_to_server + flow.packets_to_client),
            flow.ts_end.micros_since(flow.ts_start) / 1_000_000
        );
        self.session(
            cx,
            Session {
                ts: flow.ts_start,
                client: flow.src_ip,
                server: flow.dst_ip,
                port: flow.dst_port,
                tool,
                mac: flow.src_mac,
                flow: Some(flow.id),
                detail: &detail,
            },
        );
    }

    fn save(&self) -> serde_json::Value {
        let state = State {
            sessions: self.sessions.iter().map(|(k, v)| (*k, *v)).collect(),
            names: self.names.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            accepted: self.accepted.iter().cloned().collect(),
            evicted: self.evicted,
        };
        serde_json::to_value(state).unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let state: State = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.sessions = state.sessions.into_iter().take(MAX_SESSIONS).collect();
        self.names = state.names.into_iter().take(MAX_NAMES).collect();
        self.accepted = state.accepted.into_iter().take(MAX_NAMES).collect();
        self.evicted = state.evicted;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        for ((client, server, tool), s) in &self.sessions {
            if ip.is_some_and(|ip| ip != *client && ip != *server) {
                continue;
            }
            out.push(format!(
                "{} uses {} to {}: {} session{} from {} to {} ({})",
                assets.label(*client),
                tool.name(),
                assets.label(*server),
                thousands(s.count),
                if s.count == 1 { "" } else { "s" },
                clock(Timestamp(s.first)),
                clock(Timestamp(s.last)),
                if s.is_routine() {
                    "routine"
                } else {
                    "not routine yet"
                }
            ));
        }
        for ((client, name), s) in &self.names {
            if ip.is_some_and(|ip| ip != *client) {
                continue;
            }
            out.push(format!(
                "{} names the remote-support service {name}: {} time{}, last at {}{}",
                assets.label(*client),
                thousands(s.count),
                if s.count == 1 { "" } else { "s" },
                clock(Timestamp(s.last)),
                if self.accepted.contains(name) {
                    " (accepted as expected)"
                } else {
                    ""
                }
            ));
        }
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            None => {
                self.sessions.clear();
                self.names.clear();
                self.accepted.clear();
            }
            Some(ip) => {
                self.sessions.retain(|(c, s, _), _| *c != ip && *s != ip);
                self.names.retain(|(c, _), _| *c != ip);
            }
        }
    }

    /// Makes the finding's session pair routine or its vendor name accepted (also from
    /// an alert the operator marked expected, whose model reads `operator`).
    fn accept(&mut self, finding: &Finding) {
        if finding.category != Category::RemoteAccess
            || (finding.model != MODEL && finding.model != "operator")
        {
            return;
        }
        if let Some(name) = finding.fuse_key.strip_prefix("vendor ") {
            if self.accepted.len() < MAX_NAMES {
                self.accepted.insert(name.to_string());
            }
            return;
        }
        let tool = Tool::ALL
            .into_iter()
            .find(|t| finding.protocol.as_deref() == Some(t.protocol()));
        if let (Some(client), Some(server), Some(tool)) = (finding.src_ip, finding.dst_ip, tool) {
            let s = self
                .sessions
                .entry((client, server, tool))
                .or_insert_with(|| Sightings::new(finding.ts, true));
            s.learnt = true;
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("sessions_evicted", self.evicted[0]),
            ("names_evicted", self.evicted[1]),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dissect::{Attr, OpClass};
    use records::{FlowState, Role, TransportKind};

    const T0: i64 = 1_795_854_985_673_000;

    fn assets() -> AssetDirectory {
        let asset = crate::assets::test_asset;
        AssetDirectory::from_assets(&[
            asset("10.10.2.10", Role::Hmi, "hmi1"),
            asset("10.10.2.40", Role::EngineeringWorkstation, "ews1"),
            asset("10.10.4.10", Role::ItHost, "itws1"),
        ])
    }

    fn rdp(ts: i64, client: &str, server: &str) -> Event {
        let mut ev = Event::new("rdp", OpClass::Session, 1, "connection_request", false);
        ev.ts = Timestamp(ts);
        ev.src_ip = Some(client.parse().unwrap());
        ev.dst_ip = Some(server.parse().unwrap());
        ev.dst_port = 3389;
        ev.attr("user", Attr::Text("operator".into()));
        ev
    }

    fn feed(model: &mut RemoteAccess, learning: bool, events: &[Event]) -> Vec<Finding> {
        let assets = assets();
        let mut findings = Vec::new();
        for ev in events {
            let mut cx = Cx::new(ev.ts, learning, &assets, &mut findings);
            model.on_event(&mut cx, ev);
        }
        findings
    }

    #[test]
    fn learnt_rdp_is_silent_and_a_new_source_into_ot_is_high() {
        let mut model = RemoteAccess::new();
        let learnt = [rdp(T0, "10.10.2.40", "10.10.2.10")];
        assert!(feed(&mut model, true, &learnt).is_empty());
        let later = [
            rdp(T0 + 3_600_000_000, "10.10.2.40", "10.10.2.10"),
            rdp(T0 + 3_700_000_000, "10.10.4.10", "10.10.2.10"),
        ];
        let findings = feed(&mut model, false, &later);
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert!(!f.policy);
        assert_eq!(f.score, 1.0);
        assert_eq!(f.protocol.as_deref(), Some("rdp"));
        assert_eq!(
            f.title,
            "RDP session from 10.10.4.10 (IT host itws1) to 10.10.2.10 (HMI hmi1)"
        );
        assert_eq!(
            f.explanation,
            "10.10.4.10 (IT host itws1) opened an RDP session to 10.10.2.10 (HMI hmi1) on port \
             3389 at 09:38:05 UTC as user \"operator\". 10.10.2.10 is in the OT zone \
             10.10.2.0/24. 10.10.4.10 (IT host itws1) never used RDP before."
        );
        // Accepted by the operator, the pair is routine; state survives a restart.
        let mut operator = f.clone();
        operator.model = "operator";
        model.accept(&operator);
        let mut restored = RemoteAccess::new();
        restored.restore(model.save()).unwrap();
        let again = [rdp(T0 + 3_800_000_000, "10.10.4.10", "10.10.2.10")];
        assert!(feed(&mut restored, false, &again).is_empty());
        let mut lines = Vec::new();
        restored.baseline(Some("10.10.4.10".parse().unwrap()), &assets(), &mut lines);
        assert_eq!(
            lines,
            vec![
                "10.10.4.10 (IT host itws1) uses RDP to 10.10.2.10 (HMI hmi1): 2 sessions from \
                 09:38:05 UTC to 09:39:45 UTC (routine)"
            ]
        );
    }

    fn vnc(id: u64, back: u64, bytes_back: u64) -> FlowRecord {
        FlowRecord {
            kind: "flow",
            id,
            ts_start: Timestamp(T0),
            ts_end: Timestamp(T0 + 90_000_000),
            transport: TransportKind::Tcp,
            vlan: None,
            src_ip: "10.10.2.40".parse().unwrap(),
            src_port: 50000,
            dst_ip: "10.10.2.10".parse().unwrap(),
            dst_port: 5900,
            src_mac: None,
            dst_mac: None,
            packets_to_server: 40,
            packets_to_client: back,
            bytes_to_server: 4000,
            bytes_to_client: bytes_back,
            app: None,
            state: FlowState::Closed,
            gap_bytes: 0,
        }
    }

    #[test]
    fn vnc_sessions_need_data_both_ways() {
        let assets = assets();
        let mut findings = Vec::new();
        let mut model = RemoteAccess::new();
        let mut cx = Cx::new(Timestamp(T0), false, &assets, &mut findings);
        model.on_flow_end(&mut cx, &vnc(1, 2, 100));
        model.on_flow_end(&mut cx, &vnc(2, 60, 250_000));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].flow_id, Some(2));
        assert_eq!(
            findings[0].explanation,
            "10.10.2.40 (engineering workstation ews1) opened a VNC session to 10.10.2.10 \
             (HMI hmi1) on port 5900 at 08:36:25 UTC (100 packets, 90 s). 10.10.2.10 is in \
             the OT zone 10.10.2.0/24. 10.10.2.40 (engineering workstation ews1) never used \
             VNC before."
        );
    }

    #[test]
    fn remote_support_vendor_names_are_policy() {
        let mut model = RemoteAccess::new();
        let mut ev = Event::new("dns", OpClass::Read, 0, "query", false);
        ev.ts = Timestamp(T0);
        ev.src_ip = Some("10.10.2.40".parse().unwrap());
        ev.dst_ip = Some("10.10.2.2".parse().unwrap());
        ev.dst_port = 53;
        ev.attr("query", Attr::Text("router4.teamviewer.com".into()));
        let findings = feed(&mut model, true, &[ev.clone(), ev]);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].policy);
        assert_eq!(
            findings[0].explanation,
            "10.10.2.40 (engineering workstation ews1) named router4.teamviewer.com \
             (TeamViewer) in a DNS query to 10.10.2.2 at 08:36:25 UTC. Remote-support tools \
             reach out to their vendor's internet service so an outside operator can take \
             over the host; an air-gapped network has no such path."
        );
    }
}
