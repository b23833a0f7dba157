//! Look-up events of unicast DNS: who asked which name, and what came back.
//!
//! One event per message. Function = the opcode (0 `query`, 4 `notify`, 5 `update` ...),
//! op `read` for queries (a look-up reads the name service) and `write` for dynamic
//! updates. Attributes: `query` (the first question's name), `qtype` (`A`, `AAAA`,
//! `PTR` ...); responses add the status (`ok`, or an exception with the RCODE:
//! 3 `nxdomain` ...) and `answers`, the addresses of the answer section's A/AAAA records
//! (at most [`MAX_ANSWERS`]). mDNS and LLMNR resolve link-local names only and are not
//! recorded as events.

use super::parser::{Message, RData, Section};
use crate::event::{Attr, Event, OpClass, Status};
use crate::{Direction, Emitter, FlowContext};

/// Most answer addresses listed in one event.
pub const MAX_ANSWERS: usize = 16;

/// Name of a response code (RFC 1035 §4.1.1, RFC 2136 §2.2).
pub fn rcode_name(rcode: u8) -> &'static str {
    match rcode {
        0 => "noerror",
        1 => "formerr",
        2 => "servfail",
        3 => "nxdomain",
        4 => "notimp",
        5 => "refused",
        6 => "yxdomain",
        7 => "yxrrset",
        8 => "nxrrset",
        9 => "notauth",
        10 => "notzone",
        _ => "unknown",
    }
}

/// Records `msg`, sent in `dir` on `ctx`, as one look-up event. `scratch` is reused
/// text space.
pub fn emit_lookup(
    ctx: &FlowContext,
    dir: Direction,
    msg: &Message<'_>,
    scratch: &mut String,
    out: &mut Emitter,
) {
    let opcode = msg.header.opcode();
    let code = u8::from(opcode);
    let op = if code == 5 {
        OpClass::Write
    } else {
        OpClass::Read
    };
    let response = msg.header.is_response();
    let ev = out.event(
        ctx,
        dir,
        Event::new("dns", op, u32::from(code), opcode.to_string(), response),
    );
    if let Some(q) = msg.questions().next() {
        scratch.clear();
        q.name.write_text(scratch);
        ev.attr("query", Attr::Text(scratch.clone()));
        ev.attr("qtype", Attr::Text(q.qtype.to_string()));
    }
    if !response {
        return;
    }
    let rcode = msg.header.rcode();
    ev.status = if rcode == 0 {
        Status::Ok
    } else {
        Status::Exception {
            code: u32::from(rcode),
            name: rcode_name(rcode).into(),
        }
    };
    let answers: Vec<String> = msg
        .records()
        .filter(|r| r.section == Section::Answer)
        .filter_map(|r| match r.rdata {
            RData::A(a) => Some(a.to_string()),
            RData::Aaaa(a) => Some(a.to_string()),
            _ => None,
        })
        .take(MAX_ANSWERS)
        .collect();
    ev.attr("answers", Attr::List(answers));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::parser::parse_message;
    use crate::Transport;
    use records::Timestamp;

    fn ctx() -> FlowContext {
        FlowContext {
            ts: Timestamp(1_000_000),
            transport: Transport::Udp,
            client_ip: "10.10.2.40".parse().unwrap(),
            client_port: 40000,
            client_mac: None,
            server_ip: "10.10.2.2".parse().unwrap(),
            server_port: 53,
            server_mac: None,
            vlan: None,
        }
    }

    /// A response for `www.example.com` A with `rcode` and one answer 203.0.113.50
    /// when `answer` is set.
    fn response(rcode: u8, answer: bool) -> Vec<u8> {
        let mut m = vec![
            0x12,
            0x34,
            0x81,
            0x80 | rcode,
            0,
            1,
            0,
            u8::from(answer),
            0,
            0,
            0,
            0,
        ];
        for label in ["www", "example", "com"] {
            m.push(label.len() as u8);
            m.extend_from_slice(label.as_bytes());
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        if answer {
            m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 50]);
        }
        m
    }

    #[test]
    fn responses_carry_name_type_status_and_addresses() {
        let mut out = Emitter::default();
        let mut scratch = String::new();
        let bytes = response(0, true);
        let msg = parse_message(&bytes).unwrap();
        emit_lookup(&ctx(), Direction::ToClient, &msg, &mut scratch, &mut out);
        let bytes = response(3, false);
        let msg = parse_message(&bytes).unwrap();
        emit_lookup(&ctx(), Direction::ToClient, &msg, &mut scratch, &mut out);
        let [ok, nx] = &out.events[..] else {
            panic!("two events expected, got {:?}", out.events);
        };
        assert_eq!(ok.src_ip, Some("10.10.2.2".parse().unwrap()));
        assert_eq!((ok.function, &*ok.function_name), (0, "query"));
        assert!(ok.is_response);
        assert_eq!(ok.status, Status::Ok);
        assert_eq!(
            ok.attrs,
            vec![
                ("query", Attr::Text("www.example.com".into())),
                ("qtype", Attr::Text("A".into())),
                ("answers", Attr::List(vec!["203.0.113.50".into()])),
            ]
        );
        assert_eq!(
            nx.status,
            Status::Exception {
                code: 3,
                name: "nxdomain".into()
            }
        );
        assert_eq!(nx.attrs[2], ("answers", Attr::List(vec![])));
    }
}
