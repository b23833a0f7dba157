//! Findings: one model's judgement that something deviated, with the numbers.

use records::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wire::MacAddr;

/// Alert categories (DESIGN.md), each with its MITRE ATT&CK for ICS techniques.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A device never seen before appears.
    NewDevice,
    /// A pair/service never seen, scored by how settled both sides were.
    NewConnection,
    /// Many targets/ports, or ICS discovery commands from an unusual source.
    Scan,
    /// A protocol operation this channel never did.
    UnusualOperation,
    /// Stop/start, program download/upload, firmware, restart, mode change.
    PlcControl,
    /// A written/reported process value outside its learnt range.
    ValueAnomaly,
    /// Polling cycle changed, device went silent, activity at an unusual time.
    TimingAnomaly,
    /// Traffic volume far outside the learnt distribution.
    VolumeAnomaly,
    /// Traffic to/from an address outside every zone, or public.
    ExternalConnection,
    /// A look-up of an internet name from inside the air gap.
    DnsExternal,
    /// Traffic between zones that policy or history does not allow.
    ItOtCrossing,
    /// Periodic, regular connections to a rare destination.
    Beaconing,
    /// An unusually large outbound transfer.
    Exfiltration,
    /// Remote-access or admin protocols into OT from a new source.
    LateralMovement,
    /// Remote-desktop/remote-support tools seen.
    RemoteAccess,
    /// Executables or scripts moved into OT.
    FileTransfer,
    /// Malformed frames, exception bursts, protocol on a wrong port.
    ProtocolAnomaly,
}

impl Category {
    /// The record name (`plc_control` ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::NewDevice => "new_device",
            Self::NewConnection => "new_connection",
            Self::Scan => "scan",
            Self::UnusualOperation => "unusual_operation",
            Self::PlcControl => "plc_control",
            Self::ValueAnomaly => "value_anomaly",
            Self::TimingAnomaly => "timing_anomaly",
            Self::VolumeAnomaly => "volume_anomaly",
            Self::ExternalConnection => "external_connection",
            Self::DnsExternal => "dns_external",
            Self::ItOtCrossing => "it_ot_crossing",
            Self::Beaconing => "beaconing",
            Self::Exfiltration => "exfiltration",
            Self::LateralMovement => "lateral_movement",
            Self::RemoteAccess => "remote_access",
            Self::FileTransfer => "file_transfer",
            Self::ProtocolAnomaly => "protocol_anomaly",
        }
    }

    /// MITRE ATT&CK for ICS technique ids this category usually maps to.
    pub fn attack(self) -> &'static [&'static str] {
        match self {
            Self::NewDevice => &["T0848"],
            Self::NewConnection => &["T0886"],
            Self::Scan => &["T0846", "T0888"],
            Self::UnusualOperation => &["T0855"],
            Self::PlcControl => &["T0843", "T0845", "T0816", "T0858"],
            Self::ValueAnomaly => &["T0836"],
            Self::TimingAnomaly => &["T0814"],
            Self::VolumeAnomaly => &["T0814", "T0882"],
            Self::ExternalConnection => &["T0883", "T0884"],
            Self::DnsExternal => &["T0869"],
            Self::ItOtCrossing => &["T0886"],
            Self::Beaconing => &["T0869"],
            Self::Exfiltration => &["T0882"],
            Self::LateralMovement => &["T0866", "T0822"],
            Self::RemoteAccess => &["T0822"],
            Self::FileTransfer => &["T0867"],
            Self::ProtocolAnomaly => &["T0855"],
        }
    }
}

/// One model's judgement that something deviated from what it learnt (or broke a rule
/// that holds regardless of learning).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Time of the evidence that triggered it.
    pub ts: Timestamp,
    /// Category.
    pub category: Category,
    /// Model that found it (`connections`, `operations` ...).
    pub model: &'static str,
    /// How surprising, given this entity's own history: 0.0 (expected) to 1.0 (never
    /// happened in a settled history). Severity combines it with criticality.
    pub score: f64,
    /// Fires even while learning (e.g. a PLC stop, traffic to a public address).
    pub policy: bool,
    /// Source address.
    pub src_ip: Option<IpAddr>,
    /// Source MAC.
    pub src_mac: Option<MacAddr>,
    /// Destination address.
    pub dst_ip: Option<IpAddr>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Protocol (dissector name or transport).
    pub protocol: Option<String>,
    /// One line.
    pub title: String,
    /// Plain words with the numbers behind the judgement.
    pub explanation: String,
    /// Flow the evidence belongs to, if any.
    pub flow_id: Option<u64>,
    /// What to fuse on beyond category and addresses (e.g. the operation), so distinct
    /// deviations of one channel stay distinct alerts.
    pub fuse_key: String,
}

impl Finding {
    /// A finding with the given basics; addresses, protocol and flow are set with the
    /// builder methods.
    pub fn new(
        ts: Timestamp,
        category: Category,
        model: &'static str,
        score: f64,
        title: impl Into<String>,
        explanation: impl Into<String>,
    ) -> Self {
        Self {
            ts,
            category,
            model,
            score: score.clamp(0.0, 1.0),
            policy: false,
            src_ip: None,
            src_mac: None,
            dst_ip: None,
            dst_port: None,
            protocol: None,
            title: title.into(),
            explanation: explanation.into(),
            flow_id: None,
            fuse_key: String::new(),
        }
    }

    /// Sets source and destination.
    pub fn between(
        mut self,
        src: Option<IpAddr>,
        dst: Option<IpAddr>,
        dst_port: Option<u16>,
    ) -> Self {
        self.src_ip = src;
        self.dst_ip = dst;
        self.dst_port = dst_port;
        self
    }

    /// Sets the protocol.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(protocol.into());
        self
    }

    /// Marks it as a policy finding (reported even while learning).
    pub fn policy(mut self) -> Self {
        self.policy = true;
        self
    }

    /// Sets the flow id.
    pub fn flow(mut self, id: u64) -> Self {
        self.flow_id = Some(id);
        self
    }

    /// Sets the source MAC.
    pub fn src_mac(mut self, mac: Option<MacAddr>) -> Self {
        self.src_mac = mac;
        self
    }

    /// Sets the fuse key.
    pub fn fuse_key(mut self, key: impl Into<String>) -> Self {
        self.fuse_key = key.into();
        self
    }
}
