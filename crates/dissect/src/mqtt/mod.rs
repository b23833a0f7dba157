//! MQTT (TCP 1883; 8883 is TLS and not seen here).
//!
//! One event per control packet: CONNECT (client id, protocol level, clean session, will,
//! user name and password *presence* — never their values) and CONNACK as session,
//! PUBLISH as write with the topic as target (`topic:<name>`; payloads are not kept, only
//! their length), SUBSCRIBE/UNSUBSCRIBE as read with each topic filter as a target, acks
//! as responses, PING and DISCONNECT as session. CONNACK return codes and SUBACK failures
//! become the status.

pub mod parser;

use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, OpClass, Status,
    Transport,
};
use parser::{packet_name, parse_connect, parse_fixed_header, string_at, varint_at, FixedHeader};

/// Well-known MQTT port.
pub const MQTT_PORT: u16 = 1883;
const PROTO: &str = "mqtt";
/// Longest topic kept.
pub const MAX_TOPIC: usize = 256;
/// Most topic filters reported per SUBSCRIBE.
const MAX_FILTERS: usize = 32;
/// Bytes of a packet buffered at most: longer packets (large payloads) are handled from
/// this prefix and the rest skipped.
pub const MAX_BUFFERED: usize = 70_000;

/// The MQTT dissector of one flow.
#[derive(Debug, Default)]
pub struct MqttDissector {
    level: u8,
    skip: [usize; 2],
    lost: [bool; 2],
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

fn text(b: &[u8], cap: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(cap)]).into_owned()
}

fn connack_name(level: u8, code: u8) -> std::borrow::Cow<'static, str> {
    if level == 5 {
        return match code {
            0x80 => "unspecified_error".into(),
            0x81 => "malformed_packet".into(),
            0x82 => "protocol_error".into(),
            0x84 => "unsupported_protocol_version".into(),
            0x85 => "client_identifier_not_valid".into(),
            0x86 => "bad_user_name_or_password".into(),
            0x87 => "not_authorized".into(),
            0x88 => "server_unavailable".into(),
            0x89 => "server_busy".into(),
            0x8A => "banned".into(),
            n => format!("unknown-{n}").into(),
        };
    }
    match code {
        1 => "unacceptable_protocol_version".into(),
        2 => "identifier_rejected".into(),
        3 => "server_unavailable".into(),
        4 => "bad_user_name_or_password".into(),
        5 => "not_authorized".into(),
        n => format!("unknown-{n}").into(),
    }
}

impl MqttDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one packet (`body` is the variable header and payload, possibly only a
    /// prefix of it for very long packets).
    pub fn handle_packet(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        h: &FixedHeader,
        body: &[u8],
        out: &mut Emitter,
    ) {
        let t = h.packet_type;
        let (op, is_response) = match t {
            1 | 14 | 15 => (OpClass::Session, false),
            2 => (OpClass::Session, true),
            3 | 6 => (OpClass::Write, false),
            4 | 5 | 7 => (OpClass::Write, true),
            8 | 10 => (OpClass::Read, false),
            9 | 11 => (OpClass::Read, true),
            12 => (OpClass::Session, false),
            13 => (OpClass::Session, true),
            _ => (OpClass::Other, false),
        };
        let mut ev = Event::new(PROTO, op, u32::from(t), packet_name(t), is_response);
        if is_response {
            ev.status = Status::Ok;
        }
        let result: Result<(), parser::MqttError> = (|| {
            match t {
                1 => {
                    let c = parse_connect(body)?;
                    self.level = c.level;
                    ev.attr("client_id", Attr::Text(text(c.client_id, MAX_TOPIC)))
                        .attr("protocol_level", Attr::UInt(c.level.into()))
                        .attr("keep_alive", Attr::UInt(c.keep_alive.into()))
                        .attr("clean_session", Attr::Bool(c.flags & 0x02 != 0))
                        .attr("will", Attr::Bool(c.flags & 0x04 != 0))
                        .attr("user_name_present", Attr::Bool(c.flags & 0x80 != 0))
                        .attr("password_present", Attr::Bool(c.flags & 0x40 != 0));
                }
                2 => {
                    let b = body.get(..2).ok_or(parser::MqttError::Truncated)?;
                    ev.attr("session_present", Attr::Bool(b[0] & 0x01 != 0));
                    if b[1] != 0 {
                        ev.status = Status::Exception {
                            code: u32::from(b[1]),
                            name: connack_name(self.level, b[1]),
                        };
                    }
                }
                3 => {
                    let (topic, mut at) = string_at(body, 0)?;
                    let qos = (h.flags >> 1) & 0x03;
                    if qos > 0 {
                        let id = body.get(at..at + 2).ok_or(parser::MqttError::Truncated)?;
                        ev.attr(
                            "packet_id",
                            Attr::UInt(u16::from_be_bytes([id[0], id[1]]).into()),
                        );
                        at += 2;
                    }
                    if self.level == 5 {
                        let (plen, next) = varint_at(body, at)?;
                        at = next + plen;
                    }
                    let topic = text(topic, MAX_TOPIC);
                    ev.target(format!("topic:{topic}"), 0, 1);
                    ev.attr("topic", Attr::Text(topic))
                        .attr("qos", Attr::UInt(qos.into()))
                        .attr("retain", Attr::Bool(h.flags & 0x01 != 0))
                        .attr("dup", Attr::Bool(h.flags & 0x08 != 0))
                        .attr(
                            "payload_len",
                            Attr::UInt(h.remaining.saturating_sub(at) as u64),
                        );
                }
                4..=7 | 9 | 11 => {
                    let id = body.get(..2).ok_or(parser::MqttError::Truncated)?;
                    ev.attr(
                        "packet_id",
                        Attr::UInt(u16::from_be_bytes([id[0], id[1]]).into()),
                    );
                    if t == 9 {
                        let mut at = 2;
                        if self.level == 5 {
                            let (plen, next) = varint_at(body, at)?;
                            at = next + plen;
                        }
                        let codes = body.get(at..).unwrap_or_default();
                        if let Some(&bad) = codes.iter().find(|&&c| c >= 0x80) {
                            ev.status = Status::Exception {
                                code: u32::from(bad),
                                name: "subscription_refused".into(),
                            };
                        }
                    } else if matches!(t, 4 | 5 | 7) && self.level == 5 {
                        if let Some(&code) = body.get(2) {
                            if code >= 0x80 {
                                ev.status = Status::Exception {
                                    code: u32::from(code),
                                    name: format!("reason-{code}").into(),
                                };
                            }
                        }
                    }
                }
                8 | 10 => {
                    let id = body.get(..2).ok_or(parser::MqttError::Truncated)?;
                    ev.attr(
                        "packet_id",
                        Attr::UInt(u16::from_be_bytes([id[0], id[1]]).into()),
                    );
                    let mut at = 2;
                    if self.level == 5 {
                        let (plen, next) = varint_at(body, at)?;
                        at = next + plen;
                    }
                    let mut topics = Vec::new();
                    while at < body.len() && topics.len() < MAX_FILTERS {
                        let (f, next) = string_at(body, at)?;
                        at = next + usize::from(t == 8);
                        let f = text(f, MAX_TOPIC);
                        ev.target(format!("topic:{f}"), 0, 1);
                        topics.push(f);
                    }
                    ev.attr("topics", Attr::List(topics));
                }
                _ => {}
            }
            Ok(())
        })();
        if let Err(e) = result {
            out.anomaly(PROTO, format!("malformed {}: {e}", packet_name(t)));
        }
        out.event(ctx, dir, ev);
    }
}

impl Dissector for MqttDissector {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn on_stream(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) -> usize {
        let idx = dir_index(dir);
        if self.lost[idx] {
            // MQTT has no sync marker: after a gap or a framing error the direction is
            // given up rather than misread.
            return data.len();
        }
        let mut consumed = 0;
        while consumed < data.len() {
            if self.skip[idx] > 0 {
                let n = self.skip[idx].min(data.len() - consumed);
                self.skip[idx] -= n;
                consumed += n;
                continue;
            }
            let rest = &data[consumed..];
            match parse_fixed_header(rest) {
                Ok(None) => break,
                Ok(Some(h)) => {
                    let total = h.header_len + h.remaining;
                    if let Some(pkt) = rest.get(..total) {
                        self.handle_packet(ctx, dir, &h, &pkt[h.header_len..], out);
                        consumed += total;
                    } else if rest.len() >= MAX_BUFFERED {
                        self.handle_packet(ctx, dir, &h, &rest[h.header_len..], out);
                        self.skip[idx] = total - rest.len();
                        consumed += rest.len();
                    } else {
                        break;
                    }
                }
                Err(e) => {
                    out.anomaly(PROTO, format!("malformed packet: {e}; direction abandoned"));
                    self.lost[idx] = true;
                    return data.len();
                }
            }
        }
        consumed
    }

    fn on_datagram(
        &mut self,
        _ctx: &FlowContext,
        _dir: Direction,
        _data: &[u8],
        _out: &mut Emitter,
    ) {
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, len: u64, out: &mut Emitter) {
        let idx = dir_index(dir);
        // A gap inside a skipped payload costs nothing.
        if (self.skip[idx] as u64) >= len {
            self.skip[idx] -= len as usize;
            return;
        }
        out.anomaly(PROTO, "stream gap: MQTT framing lost for this direction");
        self.lost[idx] = true;
    }
}

/// Content check: a whole or partial CONNECT with the MQTT protocol name.
pub fn content_matches(payload: &[u8]) -> bool {
    match parse_fixed_header(payload) {
        Ok(Some(h)) if h.packet_type == 1 => {
            let body = &payload[h.header_len..];
            string_at(body, 0).is_ok_and(|(n, _)| n == b"MQTT" || n == b"MQIsdp")
        }
        _ => false,
    }
}

/// Recognises MQTT flows.
#[derive(Clone, Copy, Debug)]
pub struct MqttFactory;

impl DissectorFactory for MqttFactory {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != Transport::Tcp {
            return 0;
        }
        let on_port = ctx.server_port == MQTT_PORT || ctx.client_port == MQTT_PORT;
        crate::registry::confidence(on_port, content_matches(first_payload))
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(MqttDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(MqttFactory)]
}
