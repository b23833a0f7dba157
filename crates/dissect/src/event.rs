//! Protocol events: what one message did, in terms every protocol shares.
//!
//! An [`Event`] is one request or response (or one unsolicited message) with its
//! operation class, the protocol's numeric function and its name, the status, the unit it
//! addressed, the data points it touched ([`Target`]) and the values it carried
//! ([`PointValue`]), plus protocol-specific attributes. Learning works on the shared part,
//! so a model written once applies to Modbus registers, DNP3 points, IEC 104 IOAs and CIP
//! attributes alike.

use records::Timestamp;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::borrow::Cow;
use std::net::IpAddr;
use wire::MacAddr;

/// What an operation does to the device, coarsely.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpClass {
    /// Reads data.
    Read,
    /// Writes data or set points.
    Write,
    /// Changes the device's state: start/stop, restart, operate, mode change.
    Control,
    /// Moves or changes logic/firmware: program upload/download, block transfer.
    Program,
    /// Diagnostics and maintenance functions.
    Diagnostic,
    /// Asks who the device is: identification, discovery.
    Identify,
    /// Session management: connect, login, keep-alive.
    Session,
    /// Anything else.
    Other,
}

impl OpClass {
    /// The class's name as records spell it (`read`, `write` ...).
    pub fn name(self) -> &'static str {
        match self {
            OpClass::Read => "read",
            OpClass::Write => "write",
            OpClass::Control => "control",
            OpClass::Program => "program",
            OpClass::Diagnostic => "diagnostic",
            OpClass::Identify => "identify",
            OpClass::Session => "session",
            OpClass::Other => "other",
        }
    }
}

/// The outcome a message reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Status {
    /// Requests, and messages that carry no status.
    #[default]
    None,
    /// Success.
    Ok,
    /// The device refused or failed the request: protocol code and its name.
    Exception {
        /// Numeric code.
        code: u32,
        /// Name (`illegal_data_address`, `unknown-<n>` ...).
        name: Cow<'static, str>,
    },
}

/// A range of data points a message addresses, in one address space of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Target {
    /// Address space: `holding_register`, `coil`, `db`, `ioa`, `g30` ...
    pub space: Cow<'static, str>,
    /// First address (protocol numbering, 0-based where the wire is 0-based).
    pub start: u64,
    /// Number of points.
    pub count: u32,
}

/// A value carried by a message for one data point.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PointValue {
    /// Address space, as in [`Target::space`].
    pub space: Cow<'static, str>,
    /// Point address.
    pub address: u64,
    /// The value, as a number (booleans 0/1).
    pub value: f64,
}

/// A protocol-specific attribute value.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Attr {
    /// Text (names, URIs, file names, SNI ...).
    Text(String),
    /// A fixed or interned name (`complex_ack`, `present_value`): text that costs no
    /// allocation. Serialised like [`Attr::Text`].
    Name(&'static str),
    /// Unsigned number.
    UInt(u64),
    /// Signed number.
    Int(i64),
    /// Flag.
    Bool(bool),
    /// List of texts.
    List(Vec<String>),
}

impl Attr {
    /// The text of a [`Attr::Text`] or [`Attr::Name`].
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            Self::Name(s) => Some(s),
            _ => None,
        }
    }
}

impl From<Cow<'static, str>> for Attr {
    /// A name when the text is borrowed (static or interned), else owned text.
    fn from(text: Cow<'static, str>) -> Self {
        match text {
            Cow::Borrowed(s) => Self::Name(s),
            Cow::Owned(s) => Self::Text(s),
        }
    }
}

/// One protocol message.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Capture time of the packet that completed the message.
    pub ts: Timestamp,
    /// Protocol (dissector name).
    pub protocol: &'static str,
    /// Sender address (`None` for layer-2 protocols).
    pub src_ip: Option<IpAddr>,
    /// Sender port (0 without ports).
    pub src_port: u16,
    /// Receiver address (`None` for layer-2 protocols).
    pub dst_ip: Option<IpAddr>,
    /// Receiver port (0 without ports).
    pub dst_port: u16,
    /// Sender MAC, when the link layer carries one.
    pub src_mac: Option<MacAddr>,
    /// Receiver MAC, when the link layer carries one.
    pub dst_mac: Option<MacAddr>,
    /// Innermost VLAN id.
    pub vlan: Option<u16>,
    /// Operation class.
    pub op: OpClass,
    /// The protocol's numeric function / service / type code.
    pub function: u32,
    /// Its name (`read_holding_registers`, `unknown-<n>` ...).
    pub function_name: Cow<'static, str>,
    /// A response (or acknowledgement) rather than a request.
    pub is_response: bool,
    /// Status.
    pub status: Status,
    /// The unit addressed: Modbus unit id, DNP3 destination, IEC 104 common address ...
    pub unit: Option<u32>,
    /// Points addressed.
    pub targets: Vec<Target>,
    /// Values carried.
    pub values: Vec<PointValue>,
    /// Protocol-specific attributes, serialised as top-level fields.
    pub attrs: Vec<(&'static str, Attr)>,
}

impl Event {
    /// A new event with no addresses, unit, targets, values or attributes; time 0.
    /// Dissectors pass it to [`crate::Emitter::event`], which fills time and addresses
    /// from the flow.
    pub fn new(
        protocol: &'static str,
        op: OpClass,
        function: u32,
        function_name: impl Into<Cow<'static, str>>,
        is_response: bool,
    ) -> Self {
        Self {
            ts: Timestamp::default(),
            protocol,
            src_ip: None,
            src_port: 0,
            dst_ip: None,
            dst_port: 0,
            src_mac: None,
            dst_mac: None,
            vlan: None,
            op,
            function,
            function_name: function_name.into(),
            is_response,
            status: Status::None,
            unit: None,
            targets: Vec::new(),
            values: Vec::new(),
            attrs: Vec::new(),
        }
    }

    /// Makes this event a new one with these head fields, keeping the buffers of its
    /// lists; addresses and time are left for the emitter to fill.
    pub(crate) fn reset(
        &mut self,
        protocol: &'static str,
        op: OpClass,
        function: u32,
        function_name: Cow<'static, str>,
        is_response: bool,
    ) {
        self.protocol = protocol;
        self.op = op;
        self.function = function;
        self.function_name = function_name;
        self.is_response = is_response;
        self.status = Status::None;
        self.unit = None;
        self.targets.clear();
        self.values.clear();
        self.attrs.clear();
    }

    /// Adds an attribute.
    pub fn attr(&mut self, name: &'static str, value: Attr) -> &mut Self {
        self.attrs.push((name, value));
        self
    }

    /// Adds a target range.
    pub fn target(
        &mut self,
        space: impl Into<Cow<'static, str>>,
        start: u64,
        count: u32,
    ) -> &mut Self {
        self.targets.push(Target {
            space: space.into(),
            start,
            count,
        });
        self
    }

    /// Adds a point value.
    pub fn value(
        &mut self,
        space: impl Into<Cow<'static, str>>,
        address: u64,
        value: f64,
    ) -> &mut Self {
        self.values.push(PointValue {
            space: space.into(),
            address,
            value,
        });
        self
    }
}

impl Serialize for Event {
    /// The `event` record of DESIGN.md: fixed fields, then the attributes as top-level
    /// fields (an attribute never overrides a fixed field).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const FIXED: &[&str] = &[
            "kind",
            "ts",
            "protocol",
            "src_ip",
            "src_port",
            "dst_ip",
            "dst_port",
            "vlan",
            "op",
            "function",
            "function_name",
            "is_response",
            "status",
            "exception",
            "exception_name",
            "unit",
            "targets",
            "values",
        ];
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kind", "event")?;
        map.serialize_entry("ts", &self.ts)?;
        map.serialize_entry("protocol", self.protocol)?;
        map.serialize_entry("src_ip", &self.src_ip)?;
        map.serialize_entry("src_port", &self.src_port)?;
        map.serialize_entry("dst_ip", &self.dst_ip)?;
        map.serialize_entry("dst_port", &self.dst_port)?;
        map.serialize_entry("src_mac", &self.src_mac)?;
        map.serialize_entry("dst_mac", &self.dst_mac)?;
        map.serialize_entry("vlan", &self.vlan)?;
        map.serialize_entry("op", &self.op)?;
        map.serialize_entry("function", &self.function)?;
        map.serialize_entry("function_name", &self.function_name)?;
        map.serialize_entry("is_response", &self.is_response)?;
        match &self.status {
            Status::None => map.serialize_entry("status", &Option::<&str>::None)?,
            Status::Ok => map.serialize_entry("status", "ok")?,
            Status::Exception { code, name } => {
                map.serialize_entry("status", "exception")?;
                map.serialize_entry("exception", code)?;
                map.serialize_entry("exception_name", name)?;
            }
        }
        map.serialize_entry("unit", &self.unit)?;
        map.serialize_entry("targets", &self.targets)?;
        map.serialize_entry("values", &self.values)?;
        for (name, value) in &self.attrs {
            if !FIXED.contains(name) {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_the_event_record_with_attributes_at_top_level() {
        let mut e = Event::new("modbus", OpClass::Write, 6, "write_single_register", true);
        e.ts = Timestamp::from_parts(1_764_300_000, 5_000);
        e.src_ip = Some("10.1.1.5".parse().unwrap());
        e.src_port = 502;
        e.dst_ip = Some("10.1.1.20".parse().unwrap());
        e.dst_port = 40001;
        e.unit = Some(1);
        e.status = Status::Exception {
            code: 2,
            name: "illegal_data_address".into(),
        };
        e.target("holding_register", 9, 1)
            .value("holding_register", 9, 1500.0);
        e.attr("transaction_id", Attr::UInt(7))
            .attr("kind", Attr::Text("not allowed".into()));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "kind": "event", "ts": "2025-11-28T03:20:00.000005Z", "protocol": "modbus",
                "src_ip": "10.1.1.5", "src_port": 502, "dst_ip": "10.1.1.20", "dst_port": 40001,
                "src_mac": null, "dst_mac": null, "vlan": null, "op": "write", "function": 6,
                "function_name": "write_single_register", "is_response": true,
                "status": "exception", "exception": 2, "exception_name": "illegal_data_address",
                "unit": 1, "targets": [{"space": "holding_register", "start": 9, "count": 1}],
                "values": [{"space": "holding_register", "address": 9, "value": 1500.0}],
                "transaction_id": 7
            })
        );
    }
}
