//! FTP, SMTP and Telnet dissectors: command/reply pairing, secrets never in output,
//! segment invariance.

mod it_util;

use dissect::ftp::{self, FtpDissector, FtpFactory};
use dissect::smtp::{self, SmtpDissector, SmtpFactory};
use dissect::telnet::{TelnetDissector, TelnetFactory};
use dissect::{Attr, Direction, DissectorFactory, OpClass, Status, Transport};
use it_util::{assert_split_invariant, attr, ctx, json, text};

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

#[test]
fn ftp_login_transfer_and_data_channels() {
    let c = ctx(Transport::Tcp, 40000, 21);
    let script: &[(Direction, &[u8])] = &[
        (
            S,
            b"220-Welcome\r\n220-to the plant FTP\r\n220 ProFTPD 1.3.5 Server\r\n",
        ),
        (C, b"USER operator\r\n"),
        (S, b"331 Password required for operator\r\n"),
        (C, b"PASS hunter2-plc\r\n"),
        (S, b"230 User operator logged in\r\n"),
        (C, b"CWD /plc/projects\r\nPASV\r\n"),
        (
            S,
            b"250 CWD command successful\r\n227 Entering Passive Mode (10,0,0,1,195,80).\r\n",
        ),
        (C, b"RETR line3.ap15\r\n"),
        (
            S,
            b"150 Opening BINARY mode data connection\r\n226 Transfer complete\r\n",
        ),
        (C, b"EPRT |1|10.0.0.2|50000|\r\nSTOR new_logic.bin\r\n"),
        (
            S,
            b"200 EPRT command successful\r\n553 Could not create file\r\n",
        ),
        (C, b"QUIT\r\n"),
        (S, b"221 Goodbye.\r\n"),
    ];
    let out = assert_split_invariant(&|| Box::new(FtpDissector::new()), &c, script);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let seq: Vec<(u32, &str, bool)> = out
        .events
        .iter()
        .map(|e| (e.function, &*e.function_name, e.is_response))
        .collect();
    assert_eq!(
        seq,
        [
            (220, "greeting", true),
            (1, "user", false),
            (331, "user", true),
            (2, "pass", false),
            (230, "pass", true),
            (4, "cwd", false),
            (8, "pasv", false),
            (250, "cwd", true),
            (227, "pasv", true),
            (12, "retr", false),
            (150, "retr", true),
            (226, "retr", true),
            (9, "eprt", false),
            (13, "stor", false),
            (200, "eprt", true),
            (553, "stor", true),
            (6, "quit", false),
            (221, "quit", true),
        ]
    );
    let ev = |f: u32| out.events.iter().find(|e| e.function == f).unwrap();
    assert_eq!(text(ev(220), "banner"), "ProFTPD 1.3.5 Server");
    assert_eq!(text(ev(1), "user"), "operator");
    assert_eq!(attr(ev(2), "password_present"), Some(&Attr::Bool(true)));
    assert_eq!(text(ev(4), "path"), "/plc/projects");
    assert_eq!(text(ev(227), "data_channel"), "10.0.0.1:50000");
    assert_eq!(
        (text(ev(12), "file_name"), ev(12).op),
        ("line3.ap15", OpClass::Read)
    );
    assert_eq!(
        (text(ev(13), "file_name"), ev(13).op),
        ("new_logic.bin", OpClass::Write)
    );
    assert_eq!(text(ev(9), "data_channel"), "10.0.0.2:50000");
    assert_eq!(
        ev(553).status,
        Status::Exception {
            code: 553,
            name: "file_name_not_allowed".into()
        }
    );
    assert!(
        !json(&out).contains("hunter2"),
        "the password never appears in output"
    );
}

#[test]
fn ftp_auth_tls_ends_clear_text() {
    let c = ctx(Transport::Tcp, 40000, 21);
    let out = it_util::feed(
        &mut FtpDissector::new(),
        &c,
        &it_util::whole(&[
            (S, b"220 ready\r\n"),
            (C, b"AUTH TLS\r\n"),
            (S, b"234 AUTH TLS successful\r\n"),
            (
                C,
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 USER x\r\n",
            ),
        ]),
    );
    assert_eq!(out.events.len(), 3);
    assert!(out.anomalies.is_empty());
}

#[test]
fn ftp_data_channel_texts() {
    assert_eq!(
        ftp::host_port(b"Entering Passive Mode (192,168,1,10,4,1)").as_deref(),
        Some("192.168.1.10:1025")
    );
    assert_eq!(ftp::host_port(b"1,2,3,4,5"), None);
    assert_eq!(
        ftp::extended_port(b"Entering Extended Passive Mode (|||6446|)").as_deref(),
        Some(":6446")
    );
    assert_eq!(
        ftp::extended_port(b"|2|::1|21|").as_deref(),
        Some("[::1]:21")
    );
}

#[test]
fn ftp_probe_leaves_mail_to_smtp() {
    let f = FtpFactory;
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 4000, 2121), S, b"220 FTP ready\r\n"),
        2
    );
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 4000, 2121), C, b"USER anonymous\r\n"),
        2
    );
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 4000, 25), S, b"220 mail ready\r\n"),
        0
    );
    assert_eq!(
        f.probe(
            &ctx(Transport::Tcp, 4000, 2121),
            S,
            b"220 mx ESMTP Postfix\r\n"
        ),
        0
    );
    assert_eq!(
        SmtpFactory.probe(
            &ctx(Transport::Tcp, 4000, 2525),
            S,
            b"220 mx ESMTP Postfix\r\n"
        ),
        2
    );
    assert_eq!(
        SmtpFactory.probe(&ctx(Transport::Tcp, 4000, 25), S, b"220 mail ready\r\n"),
        1
    );
}

#[test]
fn smtp_envelope_domains_body_skipped_and_starttls() {
    let c = ctx(Transport::Tcp, 40000, 25);
    let script: &[(Direction, &[u8])] = &[
        (S, b"220 mx.example.org ESMTP\r\n"),
        (C, b"EHLO hmi-2.plant.local\r\n"),
        (
            S,
            b"250-mx.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
        ),
        (
            C,
            b"MAIL FROM:<alarms@plant.local> SIZE=100\r\nRCPT TO:<Ops@Example.ORG>\r\nDATA\r\n",
        ),
        (S, b"250 ok\r\n250 ok\r\n354 go ahead\r\n"),
        (
            C,
            b"Subject: x\r\n\r\nMAIL FROM:<not@a.command>\r\n..leading dot\r\n.\r\n",
        ),
        (S, b"250 queued\r\n"),
        (C, b"STARTTLS\r\n"),
        (S, b"220 ready for TLS\r\n"),
        (C, b"\x16\x03\x01\x00\x05hello"),
    ];
    let out = assert_split_invariant(&|| Box::new(SmtpDissector::new()), &c, script);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let seq: Vec<(u32, &str, bool)> = out
        .events
        .iter()
        .map(|e| (e.function, &*e.function_name, e.is_response))
        .collect();
    assert_eq!(
        seq,
        [
            (220, "greeting", true),
            (2, "ehlo", false),
            (250, "ehlo", true),
            (3, "mail", false),
            (4, "rcpt", false),
            (5, "data", false),
            (250, "mail", true),
            (250, "rcpt", true),
            (354, "data", true),
            (250, "reply", true),
            (12, "starttls", false),
            (220, "starttls", true),
        ]
    );
    assert_eq!(text(&out.events[1], "helo"), "hmi-2.plant.local");
    assert_eq!(text(&out.events[3], "from_domain"), "plant.local");
    assert_eq!(text(&out.events[4], "to_domain"), "example.org");
    assert_eq!(attr(&out.events[11], "starttls"), Some(&Attr::Bool(true)));
    assert!(
        !json(&out).contains("alarms@"),
        "local parts are not reported"
    );
}

#[test]
fn smtp_auth_credentials_are_skipped() {
    let c = ctx(Transport::Tcp, 40000, 587);
    let out = it_util::feed(
        &mut SmtpDissector::new(),
        &c,
        &it_util::whole(&[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"AUTH LOGIN\r\n"),
            (S, b"334 VXNlcm5hbWU6\r\n"),
            (C, b"c2VjcmV0LXVzZXI=\r\n"),
            (S, b"334 UGFzc3dvcmQ6\r\n"),
            (C, b"c2VjcmV0LXBhc3M=\r\n"),
            (S, b"235 Authentication successful\r\n"),
            (C, b"QUIT\r\n"),
        ]),
    );
    assert!(!json(&out).contains("c2VjcmV0"));
    let names: Vec<&str> = out.events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(names, ["greeting", "auth", "auth", "auth", "auth", "quit"]);
    assert_eq!(smtp::address_domain(b"FROM:<>").as_deref(), Some(""));
}

#[test]
fn telnet_negotiation_and_prompts_without_typed_text() {
    let c = ctx(Transport::Tcp, 40000, 23);
    let script: &[(Direction, &[u8])] = &[
        (S, b"\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01\xff\xfb\x03"),
        (C, b"\xff\xfb\x18\xff\xfd\x01\xff\xfa\x18\x00VT100\xff\xf0"),
        (S, b"\r\nPLC-7 maintenance\r\nlogin: "),
        (C, b"admin\r\n"),
        (S, b"Password: "),
        (C, b"t0ps3cret\r\n"),
        (S, b"\r\n$ "),
    ];
    let out = assert_split_invariant(&|| Box::new(TelnetDissector::new()), &c, script);
    let seq: Vec<(&str, bool)> = out
        .events
        .iter()
        .map(|e| (&*e.function_name, e.is_response))
        .collect();
    assert_eq!(
        seq,
        [
            ("negotiation", true),
            ("login_prompt", true),
            ("negotiation", false),
            ("password_prompt", true)
        ]
    );
    assert_eq!(
        attr(&out.events[0], "do"),
        Some(&Attr::List(vec![
            "terminal_type".into(),
            "terminal_speed".into()
        ]))
    );
    assert_eq!(text(&out.events[2], "terminal_type"), "VT100");
    let all = json(&out);
    assert!(!all.contains("t0ps3cret") && !all.contains("admin"));
    assert_eq!(
        TelnetFactory.probe(
            &ctx(Transport::Tcp, 4000, 2323),
            S,
            b"\xff\xfd\x18\xff\xfd\x20"
        ),
        2
    );
    assert_eq!(
        TelnetFactory.probe(&ctx(Transport::Tcp, 4000, 2323), S, b"\xff\xfd\x18\x00\x01"),
        0
    );
}

#[test]
fn ftp_a_hole_ending_at_a_line_start_loses_no_command() {
    let c = ctx(Transport::Tcp, 40000, 21);
    let mut d = FtpDissector::new();
    let mut out = dissect::Emitter::default();
    use dissect::Dissector;
    d.on_stream(&c, C, b"USER a\r\n", &mut out);
    d.on_gap(&c, C, 10, &mut out);
    d.on_stream(&c, C, b"RETR plan.pdf\r\n", &mut out);
    // A hole that ends inside a line: the rest of that line is dropped.
    d.on_gap(&c, C, 3, &mut out);
    d.on_stream(&c, C, b"E x.bin\r\nDELE y\r\n", &mut out);
    let names: Vec<&str> = out.events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(names, ["user", "retr", "dele"]);
}
