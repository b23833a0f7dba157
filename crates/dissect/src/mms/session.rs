//! ISO session (X.225) and presentation (X.226) layers, just far enough to reach the MMS
//! PDU: data transfer SPDUs with fully-encoded presentation data, and the connect/accept
//! SPDUs whose user data carries the ACSE association and the MMS initiate PDU.

use super::ber;

/// Session SPDU identifiers.
pub mod spdu {
    /// Give tokens / data transfer (both 0x01).
    pub const DATA: u8 = 0x01;
    /// Finish.
    pub const FINISH: u8 = 0x09;
    /// Disconnect.
    pub const DISCONNECT: u8 = 0x0a;
    /// Refuse.
    pub const REFUSE: u8 = 0x0c;
    /// Connect.
    pub const CONNECT: u8 = 0x0d;
    /// Accept.
    pub const ACCEPT: u8 = 0x0e;
    /// Abort.
    pub const ABORT: u8 = 0x19;
    /// Abort accept.
    pub const ABORT_ACCEPT: u8 = 0x1a;
}

/// Reads an SPDU length indicator: one byte, or 0xff and two bytes.
fn spdu_len(data: &[u8]) -> Option<(usize, &[u8])> {
    match data {
        [0xff, a, b, rest @ ..] => Some((usize::from(u16::from_be_bytes([*a, *b])), rest)),
        [l, rest @ ..] if *l != 0xff => Some((usize::from(*l), rest)),
        _ => None,
    }
}

/// True when `tsdu` starts like an ISO session SPDU of a kind MMS uses, with a consistent
/// length.
pub fn looks_like_spdu(tsdu: &[u8]) -> bool {
    let Some((&si, rest)) = tsdu.split_first() else {
        return false;
    };
    match si {
        spdu::DATA => tsdu.starts_with(&[0x01, 0x00, 0x01, 0x00]),
        spdu::CONNECT | spdu::ACCEPT => {
            spdu_len(rest).is_some_and(|(l, body)| l == body.len() && l > 0)
        }
        spdu::FINISH | spdu::DISCONNECT | spdu::REFUSE | spdu::ABORT | spdu::ABORT_ACCEPT => {
            spdu_len(rest).is_some_and(|(l, body)| l <= body.len())
        }
        _ => false,
    }
}

/// What a TSDU carries for MMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionPayload<'a> {
    /// An MMS PDU (BER, from its identifier).
    Mms(&'a [u8]),
    /// A session-level message without MMS content.
    Control(u8),
}

/// Unwraps session and presentation down to the MMS PDU.
pub fn unwrap(tsdu: &[u8]) -> Option<SessionPayload<'_>> {
    let (&si, rest) = tsdu.split_first()?;
    match si {
        spdu::DATA => {
            let ppdu = tsdu.get(4..)?;
            presentation_data(ppdu).map(SessionPayload::Mms)
        }
        spdu::CONNECT | spdu::ACCEPT => {
            let (len, body) = spdu_len(rest)?;
            let mut params = body.get(..len)?;
            // Parameters and parameter groups; user data is PI 0xc1.
            while let [code, tail @ ..] = params {
                let (plen, tail) = spdu_len(tail)?;
                let value = tail.get(..plen)?;
                if *code == 0xc1 {
                    return connect_user_data(value).map(SessionPayload::Mms);
                }
                params = &tail[plen..];
            }
            Some(SessionPayload::Control(si))
        }
        _ => Some(SessionPayload::Control(si)),
    }
}

/// Fully-encoded presentation data: [APPLICATION 1] { PDV-list { context id,
/// single-ASN1-type [0] MMS PDU } }.
fn presentation_data(ppdu: &[u8]) -> Option<&[u8]> {
    let user_data = ber::child(ppdu, 0x61)?;
    let pdv = ber::child(user_data, 0x30)?;
    ber::child(pdv, 0xa0)
}

/// CP/CPA presentation PDU → user data → ACSE AARQ/AARE → user information → EXTERNAL →
/// single-ASN1-type: the MMS initiate PDU.
fn connect_user_data(cp: &[u8]) -> Option<&[u8]> {
    let set = ber::child(cp, 0x31)?;
    let normal = ber::child(set, 0xa2)?;
    let acse = presentation_data(normal)?;
    let apdu = ber::child(acse, 0x60).or_else(|| ber::child(acse, 0x61))?;
    let info = ber::child(apdu, 0xbe)?;
    let external = ber::child(info, 0x28)?;
    ber::child(external, 0xa0)
}
