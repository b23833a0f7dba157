//! NTP dissector (UDP 123).
//!
//! Function = the NTP mode: 0 `reserved`, 1 `symmetric_active`, 2 `symmetric_passive`,
//! 3 `client`, 4 `server`, 5 `broadcast`, 6 `control`, 7 `private`.
//! Time-transfer modes (1–5) are op `read` with attributes `version`, `stratum`,
//! `reference_id`, `transmit_time`; server and symmetric-passive messages are responses
//! (a stratum-0 server reply is a kiss-o'-death: status exception named `kiss_<code>`).
//! Mode 6 (control, op diagnostic; `write_variables`/`configure`/... op write) carries
//! `control_opcode` / `control_op`; mode 7 (private, op diagnostic) carries
//! `request_code` / `request` and `monlist = true` for the MON_GETLIST requests behind the
//! well-known amplification attack. Both set the attribute `control = true`.

use crate::event::{Attr, OpClass, Status};
use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext};

/// Protocol name in records.
pub const PROTOCOL: &str = "ntp";
/// Seconds from the NTP era 0 epoch (1900) to the Unix epoch.
const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

/// Why a datagram is not NTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NtpError {
    /// Shorter than its mode's header.
    Truncated,
    /// Version outside 1–4.
    BadVersion,
}

/// What one NTP datagram says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ntp {
    /// Modes 1–5.
    Time {
        /// Version.
        version: u8,
        /// Mode.
        mode: u8,
        /// Stratum.
        stratum: u8,
        /// Reference id.
        reference_id: [u8; 4],
        /// Transmit timestamp (NTP 64-bit format).
        transmit: u64,
    },
    /// Mode 6.
    Control {
        /// Version.
        version: u8,
        /// Response bit.
        response: bool,
        /// Error bit.
        error: bool,
        /// Opcode.
        opcode: u8,
        /// Sequence.
        sequence: u16,
    },
    /// Mode 7.
    Private {
        /// Version.
        version: u8,
        /// Response bit.
        response: bool,
        /// Implementation number.
        implementation: u8,
        /// Request code.
        request_code: u8,
    },
    /// Mode 0.
    Reserved {
        /// Version.
        version: u8,
    },
}

/// Parses one datagram.
pub fn parse(b: &[u8]) -> Result<Ntp, NtpError> {
    let first = *b.first().ok_or(NtpError::Truncated)?;
    let version = (first >> 3) & 7;
    let mode = first & 7;
    if !(1..=4).contains(&version) {
        return Err(NtpError::BadVersion);
    }
    match mode {
        0 => Ok(Ntp::Reserved { version }),
        1..=5 => {
            let h = b.get(..48).ok_or(NtpError::Truncated)?;
            let mut reference_id = [0u8; 4];
            reference_id.copy_from_slice(&h[12..16]);
            let mut t = [0u8; 8];
            t.copy_from_slice(&h[40..48]);
            Ok(Ntp::Time {
                version,
                mode,
                stratum: h[1],
                reference_id,
                transmit: u64::from_be_bytes(t),
            })
        }
        6 => {
            let h = b.get(..12).ok_or(NtpError::Truncated)?;
            Ok(Ntp::Control {
                version,
                response: h[1] & 0x80 != 0,
                error: h[1] & 0x40 != 0,
                opcode: h[1] & 0x1f,
                sequence: u16::from_be_bytes([h[2], h[3]]),
            })
        }
        _ => {
            let h = b.get(..8).ok_or(NtpError::Truncated)?;
            Ok(Ntp::Private {
                version,
                response: first & 0x80 != 0,
                implementation: h[2],
                request_code: h[3],
            })
        }
    }
}

/// Name of a mode.
pub fn mode_name(mode: u8) -> &'static str {
    match mode {
        0 => "reserved",
        1 => "symmetric_active",
        2 => "symmetric_passive",
        3 => "client",
        4 => "server",
        5 => "broadcast",
        6 => "control",
        _ => "private",
    }
}

/// Name of a mode 6 opcode.
pub fn control_op_name(op: u8) -> String {
    match op {
        1 => "read_status".into(),
        2 => "read_variables".into(),
        3 => "write_variables".into(),
        4 => "read_clock_variables".into(),
        5 => "write_clock_variables".into(),
        6 => "set_trap".into(),
        7 => "async_message".into(),
        8 => "configure".into(),
        9 => "save_config".into(),
        10 => "read_mru".into(),
        11 => "read_ordlist".into(),
        12 => "unset_trap".into(),
        n => format!("unknown-{n}"),
    }
}

/// Name of a mode 7 request code (ntpd's list).
pub fn private_request_name(code: u8) -> String {
    match code {
        0 => "peer_list".into(),
        1 => "peer_list_sum".into(),
        2 => "peer_info".into(),
        3 => "peer_stats".into(),
        4 => "sys_info".into(),
        5 => "sys_stats".into(),
        6 => "io_stats".into(),
        7 => "mem_stats".into(),
        8 => "loop_info".into(),
        9 => "timer_stats".into(),
        10 => "config".into(),
        11 => "unconfig".into(),
        12 => "set_sys_flag".into(),
        13 => "clr_sys_flag".into(),
        16 => "get_restrict".into(),
        17 => "resaddflags".into(),
        18 => "ressubflags".into(),
        19 => "unrestrict".into(),
        20 => "mon_getlist".into(),
        42 => "mon_getlist_1".into(),
        n => format!("unknown-{n}"),
    }
}

/// Reference id as text: four ASCII characters for stratum 0/1, an IPv4 address (or an
/// IPv6 hash, printed the same way) above.
pub fn reference_id_text(stratum: u8, id: [u8; 4]) -> String {
    if stratum <= 1 {
        id.iter()
            .take_while(|&&c| c != 0)
            .filter(|c| c.is_ascii_graphic())
            .map(|&c| char::from(c))
            .collect()
    } else {
        std::net::Ipv4Addr::from(id).to_string()
    }
}

/// An NTP timestamp as RFC 3339 text (era 0, with the 2036 rollover into era 1 assumed
/// for seconds below 1968).
pub fn ntp_time_text(t: u64) -> String {
    let secs = (t >> 32) as i64;
    // Era 0 ends in 2036: small second counts belong to era 1.
    let secs = if secs < 2_147_483_648 {
        secs + (1 << 32)
    } else {
        secs
    };
    let nanos = (((t & 0xffff_ffff) * 1_000_000_000) >> 32) as u32;
    records::Timestamp::from_parts(secs - NTP_UNIX_OFFSET, nanos).to_string()
}

/// Stateless per-flow NTP dissector.
#[derive(Debug, Default)]
pub struct NtpDissector;

impl NtpDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self
    }
}

/// Emits the event for one datagram.
pub fn emit_datagram(ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
    let msg = match parse(data) {
        Ok(m) => m,
        Err(e) => {
            out.anomaly(PROTOCOL, format!("{e:?}").to_lowercase());
            return;
        }
    };
    match msg {
        Ntp::Reserved { version } => {
            out.begin(ctx, dir, PROTOCOL, OpClass::Other, 0, "reserved", false)
                .attr("version", Attr::UInt(version.into()));
        }
        Ntp::Time {
            version,
            mode,
            stratum,
            reference_id,
            transmit,
        } => {
            let response = matches!(mode, 2 | 4);
            let ev = out.begin(
                ctx,
                dir,
                PROTOCOL,
                OpClass::Read,
                mode.into(),
                mode_name(mode),
                response,
            );
            ev.attr("version", Attr::UInt(version.into()))
                .attr("stratum", Attr::UInt(stratum.into()))
                .attr(
                    "reference_id",
                    Attr::Text(reference_id_text(stratum, reference_id)),
                );
            if transmit != 0 {
                ev.attr("transmit_time", Attr::Text(ntp_time_text(transmit)));
            }
            if response {
                ev.status = if stratum == 0 && mode == 4 {
                    Status::Exception {
                        code: u32::from_be_bytes(reference_id),
                        name: format!("kiss_{}", reference_id_text(0, reference_id).to_lowercase())
                            .into(),
                    }
                } else {
                    Status::Ok
                };
            }
        }
        Ntp::Control {
            version,
            response,
            error,
            opcode,
            sequence,
        } => {
            let op = if matches!(opcode, 3 | 5 | 6 | 8 | 9 | 12) {
                OpClass::Write
            } else {
                OpClass::Diagnostic
            };
            let ev = out.begin(ctx, dir, PROTOCOL, op, 6, "control", response);
            ev.attr("version", Attr::UInt(version.into()))
                .attr("control", Attr::Bool(true))
                .attr("control_opcode", Attr::UInt(opcode.into()))
                .attr("control_op", Attr::Text(control_op_name(opcode)))
                .attr("sequence", Attr::UInt(sequence.into()));
            if response {
                ev.status = if error {
                    Status::Exception {
                        code: 1,
                        name: "error".into(),
                    }
                } else {
                    Status::Ok
                };
            }
        }
        Ntp::Private {
            version,
            response,
            implementation,
            request_code,
        } => {
            let ev = out.begin(
                ctx,
                dir,
                PROTOCOL,
                OpClass::Diagnostic,
                7,
                "private",
                response,
            );
            ev.attr("version", Attr::UInt(version.into()))
                .attr("control", Attr::Bool(true))
                .attr("implementation", Attr::UInt(implementation.into()))
                .attr("request_code", Attr::UInt(request_code.into()))
                .attr("request", Attr::Text(private_request_name(request_code)));
            if matches!(request_code, 20 | 42) {
                ev.attr("monlist", Attr::Bool(true));
            }
            if response {
                ev.status = Status::Ok;
            }
        }
    }
}

impl Dissector for NtpDissector {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn on_stream(
        &mut self,
        _ctx: &FlowContext,
        _dir: Direction,
        data: &[u8],
        _out: &mut Emitter,
    ) -> usize {
        data.len()
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        emit_datagram(ctx, dir, data, out);
    }
}

/// Recognises NTP: UDP port 123 with a well-formed header (content alone is too weak to
/// claim other ports).
#[derive(Clone, Copy, Debug, Default)]
pub struct NtpFactory;

impl DissectorFactory for NtpFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Udp
            || (ctx.server_port != 123 && ctx.client_port != 123)
        {
            return 0;
        }
        if parse(first_payload).is_ok() {
            3
        } else {
            1
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(NtpDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(NtpFactory)]
}
