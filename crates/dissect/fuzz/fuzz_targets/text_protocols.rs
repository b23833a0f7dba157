//! Fuzzes the FTP, SMTP and Telnet dissectors (line framing, replies, commands,
//! negotiation) through their stream paths.
#![no_main]

#[path = "common.rs"]
mod common;
#[path = "stream_common.rs"]
mod stream_common;

use dissect::ftp::{self, lines, FtpDissector};
use dissect::smtp::{self, SmtpDissector};
use dissect::telnet::TelnetDissector;
use dissect::Transport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lines::reply_line(data);
    let _ = lines::command_line(data);
    let _ = lines::starts_line(true, data);
    let _ = lines::starts_line(false, data);
    let _ = ftp::host_port(data);
    let _ = ftp::extended_port(data);
    let _ = smtp::address_domain(data);
    stream_common::drive(&mut FtpDissector::new(), &common::ctx(Transport::Tcp, 40000, 21), data);
    stream_common::drive(&mut SmtpDissector::new(), &common::ctx(Transport::Tcp, 40000, 25), data);
    stream_common::drive(&mut TelnetDissector::new(), &common::ctx(Transport::Tcp, 40000, 23), data);
});
