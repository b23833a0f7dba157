//! Niagara Fox dissector: hello handshake, identity, framing.

// Helpers shared by this file's tests (each protocol's test file carries its own copy).
#[allow(dead_code)]
mod util {
    use dissect::{Direction, Dissector, Emitter, Event, FlowContext, Transport};
    use std::net::{IpAddr, Ipv4Addr};

    pub fn ctx(transport: Transport, server_port: u16) -> FlowContext {
        FlowContext {
            transport,
            vlan: None,
            client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            client_port: 40000,
            client_mac: None,
            server_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            server_port,
            server_mac: None,
            ts: records::Timestamp(0),
        }
    }

    /// Plays the stream layer's contract: delivers `chunks` in order, keeping what the
    /// dissector did not consume and presenting it again with the next chunk.
    pub fn feed(
        d: &mut dyn Dissector,
        ctx: &FlowContext,
        dir: Direction,
        chunks: &[&[u8]],
        out: &mut Emitter,
    ) {
        let mut buf: Vec<u8> = Vec::new();
        for c in chunks {
            buf.extend_from_slice(c);
            let n = d.on_stream(ctx, dir, &buf, out);
            assert!(n <= buf.len());
            buf.drain(..n);
        }
    }

    /// Events from `stream` fed whole, split in two at every offset, and byte by byte
    /// must all be identical; returns the events of the whole feed.
    pub fn assert_split_invariant(
        make: &dyn Fn() -> Box<dyn Dissector>,
        ctx: &FlowContext,
        dir: Direction,
        stream: &[u8],
    ) -> (Vec<Event>, Emitter) {
        let mut whole = Emitter::default();
        feed(make().as_mut(), ctx, dir, &[stream], &mut whole);
        for cut in 0..=stream.len() {
            let mut out = Emitter::default();
            feed(
                make().as_mut(),
                ctx,
                dir,
                &[&stream[..cut], &stream[cut..]],
                &mut out,
            );
            assert_eq!(out.events, whole.events, "split at {cut}");
            assert_eq!(out.observations, whole.observations, "split at {cut}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        let mut out = Emitter::default();
        feed(make().as_mut(), ctx, dir, &bytes, &mut out);
        assert_eq!(out.events, whole.events, "byte by byte");
        let events = whole.events.clone();
        (events, whole)
    }
}

use dissect::fox::{FoxDissector, FoxFactory};
use dissect::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, IdentityField, Observation, OpClass,
    Transport,
};
use util::{assert_split_invariant, ctx};

const CLIENT_HELLO: &[u8] = b"fox a 0 -1 fox hello\n{\nfox.version=s:1.0\nid=i:1\nhostName=s:ENG-WS\napp.name=s:Workbench\napp.version=s:4.4.73.24\nvm.name=s:Java HotSpot(TM) 64-Bit Server VM\nos.name=s:Windows 10\n};;\n";
const STATION_HELLO: &[u8] = b"fox a 1 0 fox hello\n{\nfox.version=s:1.0\nid=i:2\nhostName=s:JACE-1\napp.name=s:Station\napp.version=s:4.4.73.24\nstation.name=s:Plant_North\nbrandId=s:vykon\n};;\n";

#[test]
fn station_hello_names_the_station_and_its_software() {
    let c = ctx(Transport::Tcp, 1911);
    let mut d = FoxDissector::new();
    let mut out = Emitter::default();
    d.on_stream(&c, Direction::ToServer, CLIENT_HELLO, &mut out);
    d.on_stream(&c, Direction::ToClient, STATION_HELLO, &mut out);
    let [client, station] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (client.op, &*client.function_name, client.is_response),
        (OpClass::Session, "fox_hello", false)
    );
    assert!(client
        .attrs
        .contains(&("os_name", Attr::Text("Windows 10".into()))));
    assert!(station.is_response);
    assert!(station
        .attrs
        .contains(&("station_name", Attr::Text("Plant_North".into()))));
    let station_ids: Vec<(IdentityField, &str)> = out
        .observations
        .iter()
        .filter_map(|o| match o {
            Observation::Identity {
                field, value, ip, ..
            } if *ip == Some(c.server_ip) => Some((*field, value.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        station_ids,
        [
            (IdentityField::Product, "Station"),
            (IdentityField::Firmware, "4.4.73.24"),
            (IdentityField::Vendor, "vykon")
        ]
    );
}

#[test]
fn a_hello_split_at_every_offset_gives_the_same_events() {
    let c = ctx(Transport::Tcp, 1911);
    let mut s = CLIENT_HELLO.to_vec();
    s.extend_from_slice(b"fox a 2 -1 fox login\n{\nusername=s:admin\n};;\n");
    let (events, whole) = assert_split_invariant(
        &|| Box::new(FoxDissector::new()),
        &c,
        Direction::ToServer,
        &s,
    );
    let got: Vec<&str> = events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(got, ["fox_hello", "fox_login"]);
    assert_eq!(whole.observations.len(), 2);
}

#[test]
fn probe_wants_a_fox_header_line() {
    let f = FoxFactory;
    assert_eq!(
        f.probe(
            &ctx(Transport::Tcp, 1911),
            Direction::ToServer,
            CLIENT_HELLO
        ),
        3
    );
    assert_eq!(
        f.probe(
            &ctx(Transport::Tcp, 4000),
            Direction::ToServer,
            CLIENT_HELLO
        ),
        2
    );
    assert_eq!(
        f.probe(
            &ctx(Transport::Tcp, 4000),
            Direction::ToServer,
            b"fox trot\n"
        ),
        0
    );
}
