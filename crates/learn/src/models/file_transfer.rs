//! `file_transfer`: executables, scripts and firmware images moved into OT.
//!
//! Transfers are read from protocol events that carry file names: SMB create-for-write
//! and write (the server receives) and read (the client receives); FTP `STOR`/`APPE`
//! (server receives) and `RETR` (client receives); HTTP uploads (`POST`/`PUT`/`PATCH`,
//! server receives) and successful downloads (`GET` responses, client receives). A file
//! counts when its extension marks code or firmware ([`file_kind`]). Only receivers in
//! an OT zone matter.
//!
//! Transfers seen while learning make their (sender, receiver, file name) routine;
//! after learning, a transfer that is not routine is a finding until it settles (see
//! [`super::routine`]). Repeated events of one transfer (SMB reads chunk by chunk)
//! within [`BURST_MICROS`] count once.
//!
//! Score: 0.9 when the receiver never received code before; otherwise the Good–Turing
//! surprise of a new file among what it received, mapped into 0.3–0.9.

use super::names::attr_text;
use super::routine::{clock, evict_oldest, Sightings};
use crate::assets::{AssetDirectory, ZoneKind};
use crate::finding::{Category, Finding};
use crate::model::{Cx, Model};
use crate::stats::{surprise, unseen_probability};
use crate::text::thousands;
use dissect::{Event, OpClass, Status};
use records::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// (sender, receiver, file) histories kept.
pub const MAX_TRANSFERS: usize = 4096;
/// Events of one file between one pair closer than this are one transfer.
pub const BURST_MICROS: i64 = 60_000_000;

const MODEL: &str = "file_transfer";

/// What kind of code a file name stands for, by extension; `web` is true for HTTP
/// downloads, where `.js` is ordinary page content and `.com` a host name.
pub fn file_kind(name: &str, web: bool) -> Option<&'static str> {
    let base = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .trim_matches(|c: char| c == '"' || c.is_whitespace());
    let (_, ext) = base.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    Some(match ext.as_str() {
        "exe" | "dll" | "sys" | "scr" | "cpl" | "ocx" => "Windows executable",
        "com" if !web => "Windows executable",
        "msi" | "msp" | "msu" | "deb" | "rpm" | "apk" => "installer package",
        "ps1" | "psm1" | "bat" | "cmd" | "vbs" | "vbe" | "jse" | "wsf" | "hta" | "lnk" | "reg" => {
            "Windows script"
        }
        "js" if !web => "Windows script",
        "sh" | "py" | "pyc" | "pl" | "rb" => "script",
        "jar" | "class" => "Java program",
        "elf" | "so" | "ko" => "Linux executable",
        "bin" | "hex" | "img" | "fw" | "rom" | "srec" | "s19" | "upd" => "firmware image",
        _ => return None,
    })
}

/// One transfer as events describe it.
struct Transfer<'a> {
    sender: IpAddr,
    receiver: IpAddr,
    file: &'a str,
    how: &'static str,
    port: u16,
    protocol: &'static str,
    web: bool,
}

/// The transfer an event describes, if it moves a named file.
fn transfer(event: &Event) -> Option<Transfer<'_>> {
    let (src, dst) = (event.src_ip?, event.dst_ip?);
    let file = attr_text(event, "file_name")?;
    let (sender, receiver, how, web) = match (event.protocol, event.function, event.is_response) {
        ("smb", 5, false) if event.op == OpClass::Write => {
            (src, dst, "SMB (create for write)", false)
        }
        ("smb", 9, false) => (src, dst, "SMB (write)", false),
        ("smb", 8, false) => (dst, src, "SMB (read)", false),
        ("ftp", 13 | 14, false) => (src, dst, "FTP (STOR)", false),
        ("ftp", 12, false) => (dst, src, "FTP (RETR)", false),
        ("http", 3 | 4 | 9, false) => (src, dst, "HTTP (upload)", false),
        // Downloads are judged on the response: only a successful one moved the file.
        ("http", 1, true) if event.status == Status::Ok => (src, dst, "HTTP (download)", true),
        _ => return None,
    };
    Some(Transfer {
        sender,
        receiver,
        file,
        how,
        port: if event.is_response {
            event.src_port
        } else {
            event.dst_port
        },
        protocol: event.protocol,
        web,
    })
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    transfers: Vec<((IpAddr, IpAddr, String), Sightings)>,
    evicted: u64,
}

/// The `file_transfer` model.
#[derive(Debug, Default)]
pub struct FileTransfer {
    /// (sender, receiver, lower-case file name) → transfers.
    transfers: BTreeMap<(IpAddr, IpAddr, String), Sightings>,
    evicted: u64,
}

impl FileTransfer {
    /// A model with nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    /// What `receiver` received besides `key`: (transfers, files, files once).
    fn received(&self, receiver: IpAddr) -> (u64, u64, u64) {
        let (mut total, mut files, mut singletons) = (0, 0, 0);
        for ((_, r, _), s) in &self.transfers {
            if *r == receiver {
                total += s.count;
                files += 1;
                singletons += u64::from(s.count == 1);
            }
        }
        (total, files, singletons)
    }
}

impl Model for FileTransfer {
    fn name(&self) -> &'static str {
        MODEL
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        if !matches!(event.protocol, "smb" | "ftp" | "http") {
            return;
        }
        let Some(t) = transfer(event) else {
            return;
        };
        let Some(kind) = file_kind(t.file, t.web) else {
            return;
        };
        let (zone, zone_kind) = cx.assets.zone(t.receiver);
        if zone_kind != ZoneKind::Ot {
            return;
        }
        let file = t.file.to_ascii_lowercase();
        let key = (t.sender, t.receiver, file);
        if let Some(s) = self.transfers.get_mut(&key) {
            if cx.now.micros() - s.last < BURST_MICROS {
                s.last = cx.now.micros();
                s.learnt |= cx.learning;
                return;
            }
        }
        let (total, files, singletons) = self.received(t.receiver);
        let before = self.transfers.get(&key).copied();
        match self.transfers.get_mut(&key) {
            Some(s) => s.see(cx.now, cx.learning),
            None => {
                self.evicted +=
                    evict_oldest(&mut self.transfers, MAX_TRANSFERS, |s: &Sightings| s.last);
                self.transfers
                    .insert(key, Sightings::new(cx.now, cx.learning));
            }
        }
        if cx.learning || before.is_some_and(|b| b.is_routine()) {
            return;
        }
        let score = if total == 0 {
            0.9
        } else {
            0.3 + 0.6 * surprise(unseen_probability(singletons, total))
        };
        let history = match (before, total) {
            (Some(b), _) => format!(
                "The same file went this way {} time{} since {}, all after learning: not \
                 routine yet.",
                thousands(b.count),
                if b.count == 1 { "" } else { "s" },
                clock(Timestamp(b.first))
            ),
            (None, 0) => format!(
                "No executable, script or firmware image was ever moved into {} before.",
                t.receiver
            ),
            (None, _) => format!(
                "It received {} other file{} of code {} time{}, never this one from this \
                 sender.",
                files,
                if files == 1 { "" } else { "s" },
                thousands(total),
                if total == 1 { "" } else { "s" }
            ),
        };
        let share = attr_text(event, "share")
            .map(|s| format!(" on share {s}"))
            .unwrap_or_default();
        let explanation = format!(
            "{} moved the {kind} {} to {} over {}{share} at {}. {} is in the OT zone \
             {zone}. {history}",
            cx.assets.label(t.sender),
            t.file,
            cx.assets.label(t.receiver),
            t.how,
            clock(cx.now),
            t.receiver,
        );
        let finding = Finding::new(
            cx.now,
            Category::FileTransfer,
            MODEL,
            score,
            format!(
                "{kind} {} moved into {}",
                t.file,
                cx.assets.label(t.receiver)
            ),
            explanation,
        )
        .between(Some(t.sender), Some(t.receiver), Some(t.port))
        .protocol(t.protocol)
        .fuse_key(format!("file {}", t.receiver));
        cx.report(finding);
    }

    fn save(&self) -> serde_json::Value {
        let state = State {
            transfers: self
                .transfers
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            evicted: self.evicted,
        };
        serde_json::to_value(state).unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let state: State = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.transfers = state.transfers.into_iter().take(MAX_TRANSFERS).collect();
        self.evicted = state.evicted;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        for ((sender, receiver, file), s) in &self.transfers {
            if ip.is_some_and(|ip| ip != *sender && ip != *receiver) {
                continue;
            }
            out.push(format!(
                "{} moves {file} to {}: {} time{} from {} to {} ({})",
                assets.label(*sender),
                assets.label(*receiver),
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
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            None => self.transfers.clear(),
            Some(ip) => self.transfers.retain(|(s, r, _), _| *s != ip && *r != ip),
        }
    }

    /// Makes the finding's transfer routine (also from an alert the operator marked
    /// expected, whose model reads `operator`), and every other transfer from the same
    /// sender to the same receiver since the alert began: the alert stood for all.
    fn accept(&mut self, finding: &Finding) {
        if finding.category != Category::FileTransfer
            || (finding.model != MODEL && finding.model != "operator")
        {
            return;
        }
        let (Some(sender), Some(receiver)) = (finding.src_ip, finding.dst_ip) else {
            return;
        };
        for ((s, r, _), seen) in self.transfers.iter_mut() {
            if *s == sender && *r == receiver && seen.last >= finding.ts.micros() {
                seen.learnt = true;
            }
        }
        // The title is `<kind> <file> moved into <receiver>`; file names may hold spaces.
        let Some(head) = finding.title.split(" moved into ").next() else {
            return;
        };
        let file = FILE_KINDS
            .iter()
            .find_map(|k| head.strip_prefix(k).and_then(|r| r.strip_prefix(' ')));
        if let Some(file) = file {
            let s = self
                .transfers
                .entry((sender, receiver, file.to_ascii_lowercase()))
                .or_insert_with(|| Sightings::new(finding.ts, true));
            s.learnt = true;
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![("transfers_evicted", self.evicted)]
    }
}

/// Every kind [`file_kind`] names, for reading titles back.
const FILE_KINDS: &[&str] = &[
    "Windows executable",
    "installer package",
    "Windows script",
    "script",
    "Java program",
    "Linux executable",
    "firmware image",
];

#[cfg(test)]
mod tests {
    use super::*;
    use dissect::Attr;
    use records::Role;

    const T0: i64 = 1_795_854_985_673_000;

    fn assets() -> AssetDirectory {
        let asset = crate::assets::test_asset;
        AssetDirectory::from_assets(&[
            asset("10.10.1.11", Role::Plc, "plc1"),
            asset("10.10.2.40", Role::EngineeringWorkstation, "ews1"),
            asset("10.10.4.10", Role::ItHost, "itws1"),
        ])
    }

    fn event(
        ts: i64,
        protocol: &'static str,
        function: u32,
        op: OpClass,
        src: &str,
        dst: &str,
        file: &str,
    ) -> Event {
        let mut ev = Event::new(protocol, op, function, "x", false);
        ev.ts = Timestamp(ts);
        ev.src_ip = Some(src.parse().unwrap());
        ev.dst_ip = Some(dst.parse().unwrap());
        ev.dst_port = match protocol {
            "smb" => 445,
            _ => 21,
        };
        ev.attr("file_name", Attr::Text(file.into()));
        ev
    }

    fn feed(model: &mut FileTransfer, learning: bool, events: &[Event]) -> Vec<Finding> {
        let assets = assets();
        let mut findings = Vec::new();
        for ev in events {
            let mut cx = Cx::new(ev.ts, learning, &assets, &mut findings);
            model.on_event(&mut cx, ev);
        }
        findings
    }

    #[test]
    fn kinds_by_extension() {
        assert_eq!(
            file_kind("tools\\PsExec.EXE", false),
            Some("Windows executable")
        );
        assert_eq!(file_kind("/fw/plc1_v2.hex", false), Some("firmware image"));
        assert_eq!(file_kind("run.ps1", false), Some("Windows script"));
        assert_eq!(file_kind("app.js", true), None);
        assert_eq!(file_kind("app.js", false), Some("Windows script"));
        assert_eq!(file_kind("shift-report.csv", false), None);
        assert_eq!(file_kind("README", false), None);
    }

    #[test]
    fn learnt_transfers_are_silent_and_new_code_into_ot_is_reported() {
        let mut model = FileTransfer::new();
        let stor = |ts| {
            event(
                ts,
                "ftp",
                13,
                OpClass::Write,
                "10.10.2.40",
                "10.10.1.11",
                "logic.bin",
            )
        };
        assert!(feed(&mut model, true, &[stor(T0)]).is_empty());
        let hour = 3_600_000_000;
        let write = |ts| {
            event(
                ts,
                "smb",
                9,
                OpClass::Write,
                "10.10.4.10",
                "10.10.2.40",
                "tools\\payload.exe",
            )
        };
        let later = [
            stor(T0 + hour),
            write(T0 + 2 * hour),
            write(T0 + 2 * hour + 1_000_000),
            // Into an IT host: not OT.
            event(
                T0 + 2 * hour,
                "smb",
                8,
                OpClass::Read,
                "10.10.4.10",
                "10.10.2.40",
                "x.exe",
            ),
        ];
        let findings = feed(&mut model, false, &later);
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.score, 0.9);
        assert_eq!(f.category, Category::FileTransfer);
        assert_eq!(
            f.title,
            "Windows executable tools\\payload.exe moved into 10.10.2.40 (engineering workstation ews1)"
        );
        assert_eq!(
            f.explanation,
            "10.10.4.10 (IT host itws1) moved the Windows executable tools\\payload.exe to \
             10.10.2.40 (engineering workstation ews1) over SMB (write) at 10:36:25 UTC. \
             10.10.2.40 is in the OT zone 10.10.2.0/24. No executable, script or firmware \
             image was ever moved into 10.10.2.40 before."
        );
        let mut operator = f.clone();
        operator.model = "operator";
        model.accept(&operator);
        let mut restored = FileTransfer::new();
        restored.restore(model.save()).unwrap();
        assert!(feed(&mut restored, false, &[write(T0 + 3 * hour)]).is_empty());
        let mut lines = Vec::new();
        restored.baseline(Some("10.10.1.11".parse().unwrap()), &assets(), &mut lines);
        assert_eq!(
            lines,
            vec![
                "10.10.2.40 (engineering workstation ews1) moves logic.bin to 10.10.1.11 \
                 (PLC plc1): 2 times from 08:36:25 UTC to 09:36:25 UTC (routine)"
            ]
        );
    }

    #[test]
    fn a_second_new_file_scores_by_what_the_receiver_got_before() {
        let mut model = FileTransfer::new();
        let pull = |ts, file| {
            event(
                ts,
                "ftp",
                12,
                OpClass::Read,
                "10.10.1.11",
                "10.10.2.40",
                file,
            )
        };
        // The PLC pulls firmware from the workstation (RETR: the client receives).
        assert!(feed(
            &mut model,
            true,
            &[pull(T0, "fw1.bin"), pull(T0 + 120_000_000, "fw1.bin")]
        )
        .is_empty());
        let findings = feed(&mut model, false, &[pull(T0 + 3_600_000_000, "evil.bin")]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].src_ip, Some("10.10.2.40".parse().unwrap()));
        assert_eq!(findings[0].dst_ip, Some("10.10.1.11".parse().unwrap()));
        // 2 transfers of one file, none once: Good–Turing 1/3 unseen → 0.3 + 0.6 × 2/3.
        assert!((findings[0].score - 0.7).abs() < 1e-9);
        assert!(findings[0].explanation.ends_with(
            "It received 1 other file of code 2 times, never this one from this sender."
        ));
    }
}
