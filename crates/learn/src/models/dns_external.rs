//! `dns_external`: look-ups of internet names from inside the air gap.
//!
//! The model learns the internal namespace: every name answered only with private
//! addresses teaches its parent domain (`portal.plant.lan` → `plant.lan`), on top of
//! names that are private by form (single labels, `.local`, `.lan`, `.home.arpa`,
//! `.internal` ..., reverse look-ups of private addresses). A look-up of any other name
//! that does not come back with private addresses — NXDOMAIN, a failure, no address, no
//! answer at all, or a public address — is a policy finding (`dns_external`, reported
//! while learning too). Look-ups are judged [`HOLD_MICROS`] after the first query, so
//! the answers of sibling queries (A and AAAA) can teach the namespace first, and all
//! queries of one name in that time become one finding.
//!
//! Names that betray an internet dependency (NTP pools, OCSP/CRL, update, antivirus,
//! telemetry and connectivity-check endpoints) get that dependency explained; seen in a
//! TLS SNI or an HTTP `Host` they are an `external_connection` finding as well.
//!
//! Score: 0.95 when the name resolved to a public address (the resolver reaches the
//! internet); 0.7 for a failed look-up of a name this host never looked up before; 0.4
//! for a failed look-up it repeats (background chatter of an OS expecting internet).

use super::names::{
    attr_list, attr_text, host_name, internet_dependency, is_private_by_form, normal_name,
};
use super::routine::{clock, evict_oldest, Sightings};
use crate::assets::{is_public, AssetDirectory};
use crate::finding::{Category, Finding};
use crate::model::{Cx, Model};
use crate::text::thousands;
use dissect::{Event, Status};
use records::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use wire::MacAddr;

/// Time between the first query of a name and its judgement.
pub const HOLD_MICROS: i64 = 5_000_000;
/// Learnt internal suffixes.
pub const MAX_SUFFIXES: usize = 1024;
/// Look-ups awaiting judgement.
pub const MAX_PENDING: usize = 1024;
/// (host, name) pairs remembered.
pub const MAX_SEEN: usize = 4096;
/// Names the operator accepted.
pub const MAX_ACCEPTED: usize = 1024;
/// Two identical queries closer than this are copies of one packet.
const COPY_MICROS: i64 = 1_000;
/// A tell-tale name in SNI/Host is reported again after this long.
const REPEAT_MICROS: i64 = 600_000_000;

/// Queries of one name from one host to one resolver, awaiting judgement.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Pending {
    first: i64,
    queries: u64,
    responses: u64,
    nxdomain: u64,
    failures: u64,
    private_answer: bool,
    public_answers: BTreeSet<IpAddr>,
    qtypes: BTreeSet<String>,
    mac: Option<MacAddr>,
    last_query: i64,
    last_qtype: String,
}

/// A learnt internal suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Suffix {
    answers: u64,
    last: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    suffixes: Vec<(String, Suffix)>,
    pending: Vec<((IpAddr, IpAddr, String), Pending)>,
    seen: Vec<((IpAddr, String), Sightings)>,
    accepted: Vec<String>,
    evicted: [u64; 4],
}

/// The `dns_external` model.
#[derive(Debug, Default)]
pub struct DnsExternal {
    suffixes: BTreeMap<String, Suffix>,
    /// (client, resolver, name) → queries.
    pending: BTreeMap<(IpAddr, IpAddr, String), Pending>,
    /// (client, name) → internet look-ups and tell-tale connections.
    seen: BTreeMap<(IpAddr, String), Sightings>,
    accepted: BTreeSet<String>,
    /// Evictions: suffixes, pending, seen, accepted.
    evicted: [u64; 4],
}

const MODEL: &str = "dns_external";

impl DnsExternal {
    /// A model with nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when `name` (lower case) belongs to the internal namespace.
    fn is_internal(&self, name: &str) -> bool {
        if is_private_by_form(name) {
            return true;
        }
        let mut rest = name;
        loop {
            if self.suffixes.contains_key(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) => rest = parent,
                None => return false,
            }
        }
    }

    /// Learns the parent domain of `name`, answered with private addresses only.
    fn learn_suffix(&mut self, name: &str, now: Timestamp) {
        // The parent of `a.b.c` is `b.c`; a two-label name teaches only itself, so a
        // privately answered `host.com` never makes all of `.com` internal.
        let suffix = match name.split_once('.') {
            Some((_, parent)) if parent.contains('.') => parent,
            _ => name,
        };
        if let Some(s) = self.suffixes.get_mut(suffix) {
            s.answers += 1;
            s.last = now.micros();
            return;
        }
        self.evicted[0] += evict_oldest(&mut self.suffixes, MAX_SUFFIXES, |s: &Suffix| s.last);
        self.suffixes.insert(
            suffix.to_string(),
            Suffix {
                answers: 1,
                last: now.micros(),
            },
        );
    }

    fn on_dns(&mut self, cx: &mut Cx<'_>, event: &Event) {
        let (Some(src), Some(dst), Some(query)) =
            (event.src_ip, event.dst_ip, attr_text(event, "query"))
        else {
            return;
        };
        let name = normal_name(query);
        let (client, server) = if event.is_response {
            (dst, src)
        } else {
            (src, dst)
        };
        let answers = || {
            attr_list(event, "answers")
                .iter()
                .filter_map(|a| a.parse::<IpAddr>().ok())
        };
        if event.is_response && answers().next().is_some() && !answers().any(is_public) {
            self.learn_suffix(&name, cx.now);
            if !self.pending.is_empty() {
                if let Some(p) = self.pending.get_mut(&(client, server, name.into_owned())) {
                    p.private_answer = true;
                }
            }
            return;
        }
        if self.is_internal(&name) {
            return;
        }
        let key = (client, server, name.into_owned());
        if !self.pending.contains_key(&key) {
            self.evicted[1] += evict_oldest(&mut self.pending, MAX_PENDING, |p: &Pending| p.first);
        }
        let p = self.pending.entry(key).or_insert_with(|| Pending {
            first: cx.now.micros(),
            last_query: i64::MIN / 2,
            ..Pending::default()
        });
        if event.is_response {
            p.responses += 1;
            match &event.status {
                Status::Exception { code: 3, .. } => p.nxdomain += 1,
                Status::Exception { .. } => p.failures += 1,
                _ => {}
            }
            for a in answers().filter(|a| is_public(*a)) {
                if p.public_answers.len() < 4 {
                    p.public_answers.insert(a);
                }
            }
        } else {
            let qtype = attr_text(event, "qtype").unwrap_or("");
            // A query routed between segments is seen once per segment a few
            // microseconds apart: count it once.
            let copy = cx.now.micros() - p.last_query < COPY_MICROS && p.last_qtype == qtype;
            p.last_query = cx.now.micros();
            if p.last_qtype != qtype {
                p.last_qtype = qtype.to_string();
            }
            if copy {
                return;
            }
            p.queries += 1;
            p.mac = p.mac.or(event.src_mac);
            if !qtype.is_empty() && p.qtypes.len() < 4 && !p.qtypes.contains(qtype) {
                p.qtypes.insert(qtype.to_string());
            }
        }
    }

    /// Counts a sighting of `name` by `client`; returns the sightings before this one.
    fn see(
        &mut self,
        client: IpAddr,
        name: &str,
        now: Timestamp,
        learning: bool,
    ) -> Option<Sightings> {
        let key = (client, name.to_string());
        let before = self.seen.get(&key).copied();
        match self.seen.get_mut(&key) {
            Some(s) => s.see(now, learning),
            None => {
                self.evicted[2] += evict_oldest(&mut self.seen, MAX_SEEN, |s: &Sightings| s.last);
                self.seen.insert(key, Sightings::new(now, learning));
            }
        }
        before
    }

    /// Other internet names `client` looked up (for context in explanations).
    fn other_names(&self, client: IpAddr, name: &str) -> usize {
        self.seen
            .range((client, String::new())..)
            .take_while(|((c, _), _)| *c == client)
            .filter(|((_, n), _)| n != name)
            .count()
    }

    fn namespace(&self) -> String {
        let mut learnt: Vec<(&String, &Suffix)> = self.suffixes.iter().collect();
        learnt.sort_by(|a, b| b.1.answers.cmp(&a.1.answers).then(a.0.cmp(b.0)));
        let names: Vec<&str> = learnt.iter().take(4).map(|(n, _)| n.as_str()).collect();
        if names.is_empty() {
            "no internal domain has been learnt yet; names private by form are single \
             labels, .local, .lan, .internal and reverse look-ups of private addresses"
                .to_string()
        } else {
            format!(
                "internal names end in {} (learnt from private answers) or are private by \
                 form (single labels, .local, .lan, reverse look-ups of private addresses)",
                names.join(", ")
            )
        }
    }

    fn judge(&mut self, cx: &mut Cx<'_>, key: (IpAddr, IpAddr, String), p: Pending) {
        let (client, server, name) = key;
        if p.private_answer || self.is_internal(&name) || self.accepted.contains(&name) {
            return;
        }
        // A service or text record answered without error says nothing about where the
        // name lives (an AD domain's SRV records carry no address): only address
        // look-ups, failures and public answers are judged.
        let address_query = p.qtypes.is_empty()
            || p.qtypes
                .iter()
                .any(|t| matches!(t.as_str(), "A" | "AAAA" | "ANY"));
        if p.public_answers.is_empty()
            && p.nxdomain == 0
            && p.failures == 0
            && p.responses > 0
            && !address_query
        {
            return;
        }
        let when = Timestamp(p.first);
        let before = self.see(client, &name, when, cx.learning);
        let outcome = if !p.public_answers.is_empty() {
            let list: Vec<String> = p.public_answers.iter().map(IpAddr::to_string).collect();
            format!(
                "it resolved to the public address{} {}, so the resolver reaches the internet",
                if list.len() == 1 { "" } else { "es" },
                list.join(", ")
            )
        } else if p.nxdomain > 0 {
            "the answer was NXDOMAIN (no such name)".to_string()
        } else if p.failures > 0 {
            "the resolver failed or refused it".to_string()
        } else if p.responses > 0 {
            "the answer held no address".to_string()
        } else {
            "no answer came back".to_string()
        };
        let score = if !p.public_answers.is_empty() {
            0.95
        } else if before.is_some() {
            0.4
        } else {
            0.7
        };
        let dependency = internet_dependency(&name)
            .map(|d| format!(" The name stands for {d}."))
            .unwrap_or_default();
        let history = match before {
            Some(s) => format!(
                " This host looked this name up {} time{} before, first at {}.",
                thousands(s.count),
                if s.count == 1 { "" } else { "s" },
                clock(Timestamp(s.first))
            ),
            None => match self.other_names(client, &name) {
                0 => " It is the first internet name this host looked up.".to_string(),
                n => format!(" This host looked up {n} other internet names before."),
            },
        };
        let qtypes: Vec<&str> = p.qtypes.iter().map(String::as_str).collect();
        let explanation = format!(
            "{} looked up the internet name {name}{} via {} {} time{} from {}: {outcome}. \
             The name is outside this network's namespace ({}).{dependency}{history}",
            cx.assets.label(client),
            if qtypes.is_empty() {
                String::new()
            } else {
                format!(" ({})", qtypes.join(", "))
            },
            cx.assets.label(server),
            thousands(p.queries.max(1)),
            if p.queries > 1 { "s" } else { "" },
            clock(when),
            self.namespace(),
        );
        let finding = Finding::new(
            when,
            Category::DnsExternal,
            MODEL,
            score,
            format!(
                "DNS look-up of internet name {name} from {}",
                cx.assets.label(client)
            ),
            explanation,
        )
        .between(Some(client), Some(server), Some(53))
        .protocol("dns")
        .src_mac(p.mac)
        .fuse_key("dns")
        .policy();
        cx.report(finding);
    }

    /// A tell-tale internet name in a TLS SNI or HTTP `Host`.
    fn on_host(&mut self, cx: &mut Cx<'_>, event: &Event, value: &str, field: &str) {
        let (Some(client), Some(server)) = (event.src_ip, event.dst_ip) else {
            return;
        };
        let Some(name) = host_name(value) else {
            return;
        };
        let Some(dependency) = internet_dependency(&name) else {
            return;
        };
        if self.is_internal(&name) || self.accepted.contains(name.as_ref()) {
            return;
        }
        let before = self.see(client, &name, cx.now, cx.learning);
        if before.is_some_and(|s| cx.now.micros() - s.last < REPEAT_MICROS) {
            return;
        }
        let explanation = format!(
            "{} connected to {} port {} naming {name} in its {field} at {}. The name stands \
             for {dependency}; an air-gapped network has no such dependency. The name is \
             outside this network's namespace ({}).",
            cx.assets.label(client),
            cx.assets.label(server),
            event.dst_port,
            clock(cx.now),
            self.namespace()
        );
        let finding = Finding::new(
            cx.now,
            Category::ExternalConnection,
            MODEL,
            if is_public(server) { 0.95 } else { 0.7 },
            format!(
                "Internet dependency {name} in {field} from {}",
                cx.assets.label(client)
            ),
            explanation,
        )
        .between(Some(client), Some(server), Some(event.dst_port))
        .protocol(event.protocol)
        .src_mac(event.src_mac)
        .fuse_key(format!("dependency {name}"))
        .policy();
        cx.report(finding);
    }
}

impl Model for DnsExternal {
    fn name(&self) -> &'static str {
        MODEL
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        match event.protocol {
            "dns" => self.on_dns(cx, event),
            "tls" if !event.is_response => {
                if let Some(sni) = attr_text(event, "sni") {
                    self.on_host(cx, event, sni, "TLS server name (SNI)");
                }
            }
            "http" if !event.is_response => {
                if let Some(host) = attr_text(event, "host") {
                    self.on_host(cx, event, host, "HTTP Host header");
                }
            }
            _ => {}
        }
    }

    fn tick(&mut self, cx: &mut Cx<'_>) {
        let due: Vec<(IpAddr, IpAddr, String)> = self
            .pending
            .iter()
            .filter(|(_, p)| cx.now.micros() - p.first >= HOLD_MICROS)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            if let Some(p) = self.pending.remove(&key) {
                self.judge(cx, key, p);
            }
        }
    }

    fn save(&self) -> serde_json::Value {
        let state = State {
            suffixes: self.suffixes.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            pending: self
                .pending
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            seen: self.seen.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            accepted: self.accepted.iter().cloned().collect(),
            evicted: self.evicted,
        };
        serde_json::to_value(state).unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let state: State = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.suffixes = state.suffixes.into_iter().take(MAX_SUFFIXES).collect();
        self.pending = state.pending.into_iter().take(MAX_PENDING).collect();
        self.seen = state.seen.into_iter().take(MAX_SEEN).collect();
        self.accepted = state.accepted.into_iter().take(MAX_ACCEPTED).collect();
        self.evicted = state.evicted;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        if ip.is_none() {
            for (suffix, s) in &self.suffixes {
                out.push(format!(
                    "Internal DNS domain {suffix}: {} private answer{}, last at {}",
                    thousands(s.answers),
                    if s.answers == 1 { "" } else { "s" },
                    clock(Timestamp(s.last))
                ));
            }
            for name in &self.accepted {
                out.push(format!("Internet name {name} accepted as expected"));
            }
        }
        for ((client, name), s) in &self.seen {
            if ip.is_some_and(|ip| ip != *client) {
                continue;
            }
            out.push(format!(
                "{} uses the internet name {name}: {} time{} from {} to {}{}",
                assets.label(*client),
                thousands(s.count),
                if s.count == 1 { "" } else { "s" },
                clock(Timestamp(s.first)),
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
                self.suffixes.clear();
                self.pending.clear();
                self.seen.clear();
                self.accepted.clear();
            }
            Some(ip) => {
                self.pending.retain(|(c, s, _), _| *c != ip && *s != ip);
                self.seen.retain(|(c, _), _| *c != ip);
            }
        }
    }

    /// Accepts the name of the finding (or of the alert the operator marked
    /// expected, whose model reads `operator`) and, for a DNS alert, every internet name
    /// the same host looked up since the alert began: the alert stood for all of them.
    fn accept(&mut self, finding: &Finding) {
        let own = finding.model == MODEL || finding.model == "operator";
        let ours = match finding.category {
            Category::DnsExternal => true,
            Category::ExternalConnection => finding.fuse_key.starts_with("dependency "),
            _ => false,
        };
        if !own || !ours {
            return;
        }
        // The name follows the fixed start of the titles this model writes.
        let mut names: Vec<String> = ["DNS look-up of internet name ", "Internet dependency "]
            .iter()
            .find_map(|prefix| finding.title.strip_prefix(prefix))
            .and_then(|rest| rest.split(' ').next())
            .map(str::to_string)
            .into_iter()
            .collect();
        if let (Category::DnsExternal, Some(client)) = (finding.category, finding.src_ip) {
            names.extend(
                self.seen
                    .range((client, String::new())..)
                    .take_while(|((c, _), _)| *c == client)
                    .filter(|(_, s)| s.last >= finding.ts.micros())
                    .map(|((_, n), _)| n.clone()),
            );
        }
        for name in names {
            if !self.accepted.contains(&name) && self.accepted.len() >= MAX_ACCEPTED {
                if let Some(first) = self.accepted.iter().next().cloned() {
                    self.accepted.remove(&first);
                    self.evicted[3] += 1;
                }
            }
            self.accepted.insert(name);
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("suffixes_evicted", self.evicted[0]),
            ("pending_evicted", self.evicted[1]),
            ("seen_evicted", self.evicted[2]),
            ("accepted_evicted", self.evicted[3]),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dissect::{Attr, OpClass};

    const T0: i64 = 1_795_854_890_631_000;
    const EWS: &str = "10.10.2.40";
    const DNS: &str = "10.10.2.2";

    fn dns(ts: i64, name: &str, qtype: &str, response: Option<(u32, &[&str])>) -> Event {
        let mut ev = Event::new("dns", OpClass::Read, 0, "query", response.is_some());
        ev.ts = Timestamp(ts);
        let (src, dst) = if response.is_some() {
            (DNS, EWS)
        } else {
            (EWS, DNS)
        };
        ev.src_ip = Some(src.parse().unwrap());
        ev.dst_ip = Some(dst.parse().unwrap());
        ev.attr("query", Attr::Text(name.into()));
        ev.attr("qtype", Attr::Text(qtype.into()));
        if let Some((rcode, answers)) = response {
            ev.status = match rcode {
                0 => Status::Ok,
                n => Status::Exception {
                    code: n,
                    name: "nxdomain".into(),
                },
            };
            let answers = answers.iter().map(|a| a.to_string()).collect();
            ev.attr("answers", Attr::List(answers));
        }
        ev
    }

    fn run(model: &mut DnsExternal, learning: bool, events: &[Event]) -> Vec<Finding> {
        let assets = AssetDirectory::default();
        let mut findings = Vec::new();
        for ev in events {
            let mut cx = Cx::new(ev.ts, learning, &assets, &mut findings);
            model.on_event(&mut cx, ev);
        }
        let end = events.last().map_or(0, |e| e.ts.micros()) + HOLD_MICROS;
        let mut cx = Cx::new(Timestamp(end), learning, &assets, &mut findings);
        model.tick(&mut cx);
        findings
    }

    #[test]
    fn internal_names_and_their_search_domain_variants_are_silent() {
        let mut model = DnsExternal::new();
        let events = [
            dns(T0, "plc2.plant.example", "A", None),
            dns(T0 + 1, "plc2.plant.example", "AAAA", None),
            dns(
                T0 + 2,
                "plc2.plant.example",
                "A",
                Some((0, &["10.10.1.12"])),
            ),
            dns(T0 + 3, "plc2.plant.example", "AAAA", Some((0, &[]))),
            dns(T0 + 4, "hist1.plant.example", "AAAA", Some((3, &[]))),
            dns(T0 + 5, "www.google.com.plant.example", "A", Some((3, &[]))),
            dns(T0 + 6, "10.3.10.10.in-addr.arpa", "PTR", Some((0, &[]))),
            dns(T0 + 7, "plc1", "A", Some((3, &[]))),
            // A directory's service records carry no address: not judged.
            dns(T0 + 8, "_ldap._tcp.corp.example.org", "SRV", None),
            dns(T0 + 9, "_ldap._tcp.corp.example.org", "SRV", Some((0, &[]))),
        ];
        assert_eq!(run(&mut model, true, &events), vec![]);
        let mut lines = Vec::new();
        model.baseline(None, &AssetDirectory::default(), &mut lines);
        assert_eq!(
            lines,
            vec!["Internal DNS domain plant.example: 1 private answer, last at 08:34:50 UTC"]
        );
    }

    #[test]
    fn internet_look_ups_are_policy_findings_with_the_outcome() {
        let mut model = DnsExternal::new();
        let events = [
            dns(T0, "plc2.plant.lan", "A", Some((0, &["10.10.1.12"]))),
            dns(T0 + 10, "Update.Vendor-Cloud.com", "A", None),
            dns(T0 + 15, "update.vendor-cloud.com", "A", None),
            dns(T0 + 11, "update.vendor-cloud.com", "AAAA", None),
            dns(
                T0 + 20,
                "update.vendor-cloud.com",
                "A",
                Some((0, &["203.0.113.50"])),
            ),
            dns(T0 + 21, "update.vendor-cloud.com", "AAAA", Some((3, &[]))),
            dns(T0 + 1_000_000, "pastebin.com", "A", None),
        ];
        let findings = run(&mut model, true, &events);
        assert_eq!(findings.len(), 2);
        let f = &findings[0];
        assert!(f.policy);
        assert_eq!(f.category, Category::DnsExternal);
        assert_eq!(f.score, 0.7);
        assert_eq!(
            f.title,
            "DNS look-up of internet name pastebin.com from 10.10.2.40"
        );
        assert_eq!(
            f.explanation,
            "10.10.2.40 looked up the internet name pastebin.com (A) via 10.10.2.2 1 time \
             from 08:34:51 UTC: no answer came back. The name is outside this network's \
             namespace (internal names end in plant.lan (learnt from private answers) or \
             are private by form (single labels, .local, .lan, reverse look-ups of private \
             addresses)). It is the first internet name this host looked up."
        );
        let f = &findings[1];
        assert_eq!(f.score, 0.95);
        assert_eq!(
            (f.src_ip, f.dst_port),
            (Some(EWS.parse().unwrap()), Some(53))
        );
        assert_eq!(
            f.explanation,
            "10.10.2.40 looked up the internet name update.vendor-cloud.com (A, AAAA) via \
             10.10.2.2 2 times from 08:34:50 UTC: it resolved to the public address \
             203.0.113.50, so the resolver reaches the internet. The name is outside this \
             network's namespace (internal names end in plant.lan (learnt from private \
             answers) or are private by form (single labels, .local, .lan, reverse look-ups \
             of private addresses)). The name stands for software or operating-system \
             updates from the internet. This host looked up 1 other internet names before."
        );
        // The operator accepts the alert the earliest finding opened: every name the
        // host looked up since stays silent. A new name then scores 0.7, its repeat 0.4.
        let mut operator = findings[1].clone();
        operator.model = "operator";
        model.accept(&operator);
        let again = [
            dns(T0 + 60_000_000, "update.vendor-cloud.com", "A", None),
            dns(T0 + 60_000_001, "pastebin.com", "A", Some((3, &[]))),
        ];
        assert_eq!(run(&mut model, false, &again), vec![]);
        let github = |ts| [dns(ts, "api.github.com", "A", Some((3, &[])))];
        let first = run(&mut model, false, &github(T0 + 120_000_000));
        let second = run(&mut model, false, &github(T0 + 240_000_000));
        assert_eq!((first[0].score, second[0].score), (0.7, 0.4));
        assert!(second[0]
            .explanation
            .contains("the answer was NXDOMAIN (no such name). The name is outside"));
        assert!(second[0]
            .explanation
            .ends_with("This host looked this name up 1 time before, first at 08:36:50 UTC."));
        let mut restored = DnsExternal::new();
        restored.restore(model.save()).unwrap();
        assert_eq!(restored.save(), model.save());
    }

    #[test]
    fn tell_tale_names_in_sni_are_external_connections() {
        let mut model = DnsExternal::new();
        let mut ev = Event::new("tls", OpClass::Session, 1, "client_hello", false);
        ev.ts = Timestamp(T0);
        ev.src_ip = Some(EWS.parse().unwrap());
        ev.dst_ip = Some("203.0.113.50".parse().unwrap());
        ev.dst_port = 443;
        ev.attr("sni", Attr::Text("time.windows.com".into()));
        let findings = run(&mut model, false, &[ev.clone(), ev]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].category, Category::ExternalConnection);
        assert_eq!(
            findings[0].explanation,
            "10.10.2.40 connected to 203.0.113.50 (outside address) port 443 naming \
             time.windows.com in its TLS server name (SNI) at 08:34:50 UTC. The name stands \
             for an internet time (NTP) source: the host expects to set its clock from the \
             internet; an air-gapped network has no such dependency. The name is outside \
             this network's namespace (no internal domain has been learnt yet; names \
             private by form are single labels, .local, .lan, .internal and reverse \
             look-ups of private addresses)."
        );
    }
}
