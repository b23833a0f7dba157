//! Niagara Fox dissector: hello handshake, identity, framing.

mod stream_util;
use dissect::fox::{FoxDissector, FoxFactory};
use dissect::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, IdentityField, Observation, OpClass,
    Transport,
};
use stream_util::{assert_split_invariant, ctx};

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
