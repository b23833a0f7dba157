//! HTTP/1.x dissector: synthetic exchanges per feature, split-segment invariance.

mod it_util;

use dissect::http::{parser, HttpDissector, HttpFactory};
use dissect::{Attr, Direction, Dissector, DissectorFactory, OpClass, Status, Transport};
use it_util::{assert_split_invariant, attr, ctx, feed, text, whole};

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn make() -> Box<dyn Dissector> {
    Box::new(HttpDissector::new())
}

#[test]
fn get_and_response_with_content_length_body() {
    let c = ctx(Transport::Tcp, 40000, 80);
    let script: &[(Direction, &[u8])] = &[
        (C, b"GET /firmware/plc-7_v2.bin?x=1 HTTP/1.1\r\nHost: updates.plant.local\r\nUser-Agent: curl/8.0\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nServer: lighttpd\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n0123456789"),
    ];
    let out = assert_split_invariant(&make, &c, script);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let [req, resp] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (req.function, &*req.function_name, req.op, req.is_response),
        (1, "get", OpClass::Read, false)
    );
    assert_eq!(text(req, "host"), "updates.plant.local");
    assert_eq!(text(req, "uri"), "/firmware/plc-7_v2.bin?x=1");
    assert_eq!(text(req, "user_agent"), "curl/8.0");
    assert_eq!(text(req, "file_name"), "plc-7_v2.bin");
    assert!(resp.is_response);
    assert_eq!(resp.function, 1);
    assert_eq!(resp.status, Status::Ok);
    assert_eq!(attr(resp, "status_code"), Some(&Attr::UInt(200)));
    assert_eq!(attr(resp, "content_length"), Some(&Attr::UInt(10)));
    assert_eq!(text(resp, "content_type"), "application/octet-stream");
    assert_eq!(text(resp, "file_name"), "plc-7_v2.bin");
}

#[test]
fn pipelined_requests_pair_with_responses_in_order() {
    let c = ctx(Transport::Tcp, 40000, 8080);
    let script: &[(Direction, &[u8])] = &[
        (C, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\nDELETE /c HTTP/1.1\r\nHost: h\r\n\r\n"),
        // The HEAD response announces a length but has no body.
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
    ];
    let out = assert_split_invariant(&make, &c, script);
    let names: Vec<(&str, bool)> = out
        .events
        .iter()
        .map(|e| (&*e.function_name, e.is_response))
        .collect();
    assert_eq!(
        names,
        [
            ("get", false),
            ("head", false),
            ("delete", false),
            ("get", true),
            ("head", true),
            ("delete", true)
        ]
    );
    assert_eq!(out.events[2].op, OpClass::Write);
    assert_eq!(
        out.events[5].status,
        Status::Exception {
            code: 404,
            name: "not_found".into()
        }
    );
    assert!(out.anomalies.is_empty());
}

#[test]
fn chunked_bodies_are_skipped_whatever_their_content() {
    let c = ctx(Transport::Tcp, 40000, 80);
    let script: &[(Direction, &[u8])] = &[
        (C, b"POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5\r\nGET /\r\n18;ext=1\r\nHTTP/1.1 200 OK\r\n\r\n12345\r\n0\r\nTrailer: x\r\n\r\n"),
        (S, b"HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        (C, b"PUT /cfg/plant.xml HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"),
        (S, b"HTTP/1.1 204 No Content\r\n\r\n"),
    ];
    let out = assert_split_invariant(&make, &c, script);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let names: Vec<&str> = out.events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(names, ["post", "post", "put", "put"]);
    assert_eq!(attr(&out.events[0], "chunked"), Some(&Attr::Bool(true)));
    assert_eq!(out.events[0].op, OpClass::Write);
    assert_eq!(text(&out.events[2], "file_name"), "plant.xml");
}

#[test]
fn content_disposition_names_the_transferred_file() {
    let c = ctx(Transport::Tcp, 40000, 80);
    let out = feed(
        make().as_mut(),
        &c,
        &whole(&[
            (C, b"GET /download?id=7 HTTP/1.0\r\n\r\n"),
            (S, b"HTTP/1.0 200 OK\r\nContent-Disposition: attachment; filename=\"project.ap15\"\r\n\r\nbody until close ... GET / HTTP/1.1\r\n\r\n"),
        ]),
    );
    assert_eq!(out.events.len(), 2);
    assert_eq!(text(&out.events[1], "file_name"), "project.ap15");
    // The request names what the target's path ends with; the response the real file.
    assert_eq!(text(&out.events[0], "file_name"), "download");
}

#[test]
fn malformed_head_is_an_anomaly_and_the_next_request_is_found() {
    let c = ctx(Transport::Tcp, 40000, 80);
    let out = feed(
        make().as_mut(),
        &c,
        &whole(&[(
            C,
            b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\ngarbage\r\nOPTIONS * HTTP/1.1\r\n\r\n",
        )]),
    );
    assert_eq!(out.anomalies.len(), 1, "{:?}", out.anomalies);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].function_name, "options");
}

#[test]
fn conflicting_content_lengths_are_refused() {
    assert_eq!(
        parser::parse_head(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
        Err(parser::HttpError::BadContentLength)
    );
}

#[test]
fn a_hole_inside_a_body_keeps_the_framing() {
    let c = ctx(Transport::Tcp, 40000, 80);
    let mut d = HttpDissector::new();
    let mut out = dissect::Emitter::default();
    let n = d.on_stream(
        &c,
        C,
        b"PUT /x.bin HTTP/1.1\r\nContent-Length: 1000\r\n\r\n0123",
        &mut out,
    );
    assert_eq!(n, 49);
    d.on_gap(&c, C, 900, &mut out);
    let rest = [b'a'; 96];
    assert_eq!(d.on_stream(&c, C, &rest, &mut out), 96);
    d.on_stream(&c, C, b"GET /next HTTP/1.1\r\n\r\n", &mut out);
    assert_eq!(out.events.len(), 2);
    assert_eq!(text(&out.events[1], "uri"), "/next");
}

#[test]
fn head_longer_than_the_cap_is_an_anomaly() {
    let mut big = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', parser::MAX_HEAD));
    assert_eq!(
        parser::parse_head(&big),
        Err(parser::HttpError::HeadTooLong)
    );
}

#[test]
fn probe_claims_request_and_status_lines_only() {
    let f = HttpFactory;
    let odd = ctx(Transport::Tcp, 40000, 8888);
    assert_eq!(
        f.probe(&odd, C, b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"),
        2
    );
    assert_eq!(f.probe(&odd, S, b"HTTP/1.1 200 OK\r\n"), 2);
    assert_eq!(f.probe(&odd, C, b"GETX / HTTP/1.1\r\n"), 0);
    assert_eq!(f.probe(&odd, C, b"GET / SMTP/1.0\r\n"), 0);
    assert_eq!(f.probe(&odd, C, b"\x00\x01\x00\x00\x00\x06\x01\x03"), 0);
    let web = ctx(Transport::Tcp, 40000, 80);
    assert_eq!(f.probe(&web, C, b"GET / HTTP/1.1\r\n\r\n"), 3);
    assert_eq!(f.probe(&web, C, b"\x16\x03\x01"), 1);
}

#[test]
fn uri_basenames() {
    assert_eq!(parser::uri_basename("/a/b/c.txt?q=/x"), Some("c.txt"));
    assert_eq!(parser::uri_basename("/a/b/"), None);
    assert_eq!(
        parser::uri_basename("http://host/dir/f.gz#frag"),
        Some("f.gz")
    );
    assert_eq!(parser::uri_basename("http://host"), None);
    assert_eq!(parser::uri_basename("*"), None);
}
