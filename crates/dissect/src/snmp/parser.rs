//! SNMP messages (v1, v2c, v3) in BER: pure, bounded functions over bytes.
//!
//! Only definite lengths of at most four bytes and single-byte tags are accepted (SNMP
//! uses nothing else); every structure is walked at a fixed depth, and varbind values
//! are not descended into.

/// Most varbinds read from one PDU.
pub const MAX_VARBINDS: usize = 64;
/// Most arcs of an OID.
pub const MAX_OID_ARCS: usize = 128;

/// Why bytes are not an SNMP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnmpError {
    /// Shorter than a length says.
    Truncated,
    /// A tag other than the one the structure requires.
    UnexpectedTag,
    /// A length form SNMP does not use (indefinite, over four bytes).
    BadLength,
    /// An INTEGER wider than 64 bits or empty.
    BadInteger,
    /// An OID with an overlong sub-identifier or too many arcs.
    BadOid,
    /// A version other than 0, 1 or 3.
    BadVersion,
}

impl SnmpError {
    /// Short reason used in anomalies.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Truncated => "BER element shorter than its length",
            Self::UnexpectedTag => "unexpected BER tag",
            Self::BadLength => "unsupported BER length form",
            Self::BadInteger => "malformed INTEGER",
            Self::BadOid => "malformed OBJECT IDENTIFIER",
            Self::BadVersion => "unknown SNMP version",
        }
    }
}

/// One BER element: tag and content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Tag byte.
    pub tag: u8,
    /// Content octets.
    pub value: &'a [u8],
}

/// Reads one element from the front of `b`; returns it and the rest.
pub fn tlv(b: &[u8]) -> Result<(Tlv<'_>, &[u8]), SnmpError> {
    let tag = *b.first().ok_or(SnmpError::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(SnmpError::UnexpectedTag);
    }
    let first = *b.get(1).ok_or(SnmpError::Truncated)?;
    let (len, hdr) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(SnmpError::BadLength);
        }
        let bytes = b.get(2..2 + n).ok_or(SnmpError::Truncated)?;
        (
            bytes.iter().fold(0usize, |a, &x| a << 8 | usize::from(x)),
            2 + n,
        )
    };
    let end = hdr.checked_add(len).ok_or(SnmpError::BadLength)?;
    let value = b.get(hdr..end).ok_or(SnmpError::Truncated)?;
    Ok((Tlv { tag, value }, &b[end..]))
}

fn expect(b: &[u8], tag: u8) -> Result<(&[u8], &[u8]), SnmpError> {
    let (t, rest) = tlv(b)?;
    if t.tag != tag {
        return Err(SnmpError::UnexpectedTag);
    }
    Ok((t.value, rest))
}

/// Decodes a two's-complement INTEGER of up to 8 octets (9 with a leading zero).
pub fn integer(v: &[u8]) -> Result<i64, SnmpError> {
    let v = match v {
        [0, rest @ ..] if rest.len() == 8 => rest,
        _ => v,
    };
    if v.is_empty() || v.len() > 8 {
        return Err(SnmpError::BadInteger);
    }
    let neg = v[0] & 0x80 != 0 && v.len() < 8;
    let mut x: i64 = if neg { -1 } else { 0 };
    for &b in v {
        x = (x << 8) | i64::from(b);
    }
    Ok(x)
}

/// Unsigned value of Counter32/Gauge32/TimeTicks/Counter64 content.
pub fn unsigned(v: &[u8]) -> Result<u64, SnmpError> {
    let v = match v {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => v,
    };
    if v.is_empty() || v.len() > 8 {
        return Err(SnmpError::BadInteger);
    }
    Ok(v.iter().fold(0u64, |a, &b| a << 8 | u64::from(b)))
}

/// Dotted text of an OID's content octets.
pub fn oid_text(v: &[u8]) -> Result<String, SnmpError> {
    use std::fmt::Write;
    if v.is_empty() {
        return Err(SnmpError::BadOid);
    }
    let mut s = String::with_capacity(v.len() * 3);
    let mut arc: u64 = 0;
    let mut arcs = 0;
    let mut first = true;
    for (i, &b) in v.iter().enumerate() {
        if arc > (u64::MAX >> 7) {
            return Err(SnmpError::BadOid);
        }
        arc = arc << 7 | u64::from(b & 0x7f);
        if b & 0x80 != 0 {
            if i + 1 == v.len() {
                return Err(SnmpError::BadOid);
            }
            continue;
        }
        arcs += 1;
        if arcs > MAX_OID_ARCS {
            return Err(SnmpError::BadOid);
        }
        if first {
            let (x, y) = match arc {
                0..=39 => (0, arc),
                40..=79 => (1, arc - 40),
                _ => (2, arc - 80),
            };
            let _ = write!(s, "{x}.{y}");
            first = false;
        } else {
            let _ = write!(s, ".{arc}");
        }
        arc = 0;
    }
    Ok(s)
}

/// A varbind value, as far as gapwatch uses it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// INTEGER.
    Integer(i64),
    /// Counter32, Gauge32, TimeTicks, Counter64.
    Unsigned(u64),
    /// OCTET STRING.
    Octets(&'a [u8]),
    /// NULL, noSuchObject, noSuchInstance, endOfMibView, and anything else.
    Other(u8),
}

/// One variable binding.
#[derive(Clone, Debug, PartialEq)]
pub struct VarBind<'a> {
    /// OID in dotted text.
    pub oid: String,
    /// Value.
    pub value: Value<'a>,
}

/// A PDU's fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Pdu<'a> {
    /// PDU type (context tag number 0–8).
    pub pdu_type: u8,
    /// request-id (0 for v1 traps).
    pub request_id: i64,
    /// error-status (non-repeaters for GetBulk; generic-trap for v1 traps).
    pub error_status: i64,
    /// error-index (max-repetitions for GetBulk; specific-trap for v1 traps).
    pub error_index: i64,
    /// v1 trap enterprise OID.
    pub enterprise: Option<String>,
    /// Variable bindings (capped at [`MAX_VARBINDS`]).
    pub varbinds: Vec<VarBind<'a>>,
    /// More varbinds than the cap were present.
    pub truncated: bool,
}

/// An SNMP message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message<'a> {
    /// 0 = v1, 1 = v2c, 3 = v3.
    pub version: i64,
    /// v1/v2c community (never reported: it is a password).
    pub community: Option<&'a [u8]>,
    /// v3 USM user name.
    pub user: Option<&'a [u8]>,
    /// v3 authoritative engine id.
    pub engine_id: Option<&'a [u8]>,
    /// v3 msgFlags.
    pub v3_flags: Option<u8>,
    /// The PDU, unless v3 encrypted it.
    pub pdu: Option<Pdu<'a>>,
}

fn parse_pdu(b: &[u8]) -> Result<Pdu<'_>, SnmpError> {
    let (t, _) = tlv(b)?;
    if t.tag & 0xe0 != 0xa0 || t.tag & 0x1f > 8 {
        return Err(SnmpError::UnexpectedTag);
    }
    let pdu_type = t.tag & 0x1f;
    let mut r = t.value;
    let mut pdu = Pdu {
        pdu_type,
        request_id: 0,
        error_status: 0,
        error_index: 0,
        enterprise: None,
        varbinds: Vec::new(),
        truncated: false,
    };
    if pdu_type == 4 {
        let (ent, rest) = expect(r, 0x06)?;
        pdu.enterprise = Some(oid_text(ent)?);
        let (_, rest) = tlv(rest)?; // agent-addr
        let (g, rest) = expect(rest, 0x02)?;
        let (s, rest) = expect(rest, 0x02)?;
        let (_, rest) = tlv(rest)?; // time-stamp
        pdu.error_status = integer(g)?;
        pdu.error_index = integer(s)?;
        r = rest;
    } else {
        let (id, rest) = expect(r, 0x02)?;
        let (es, rest) = expect(rest, 0x02)?;
        let (ei, rest) = expect(rest, 0x02)?;
        pdu.request_id = integer(id)?;
        pdu.error_status = integer(es)?;
        pdu.error_index = integer(ei)?;
        r = rest;
    }
    let (mut list, _) = expect(r, 0x30)?;
    while !list.is_empty() {
        let (vb, rest) = expect(list, 0x30)?;
        list = rest;
        if pdu.varbinds.len() >= MAX_VARBINDS {
            pdu.truncated = true;
            continue;
        }
        let (oid, rest) = expect(vb, 0x06)?;
        let (v, _) = tlv(rest)?;
        let value = match v.tag {
            0x02 => Value::Integer(integer(v.value)?),
            0x41 | 0x42 | 0x43 | 0x46 => Value::Unsigned(unsigned(v.value)?),
            0x04 => Value::Octets(v.value),
            other => Value::Other(other),
        };
        pdu.varbinds.push(VarBind {
            oid: oid_text(oid)?,
            value,
        });
    }
    Ok(pdu)
}

/// Parses one SNMP message.
pub fn parse_message(b: &[u8]) -> Result<Message<'_>, SnmpError> {
    let (msg, _) = expect(b, 0x30)?;
    let (v, rest) = expect(msg, 0x02)?;
    let version = integer(v)?;
    match version {
        0 | 1 => {
            let (community, rest) = expect(rest, 0x04)?;
            Ok(Message {
                version,
                community: Some(community),
                user: None,
                engine_id: None,
                v3_flags: None,
                pdu: Some(parse_pdu(rest)?),
            })
        }
        3 => {
            let (global, rest) = expect(rest, 0x30)?;
            let (_, g) = expect(global, 0x02)?; // msgID
            let (_, g) = expect(g, 0x02)?; // msgMaxSize
            let (flags, g) = expect(g, 0x04)?;
            let (model, _) = expect(g, 0x02)?;
            let (sec, rest) = expect(rest, 0x04)?;
            let mut m = Message {
                version,
                community: None,
                user: None,
                engine_id: None,
                v3_flags: flags.first().copied(),
                pdu: None,
            };
            // User-based security model: read engine id and user name.
            if integer(model)? == 3 {
                if let Ok((usm, _)) = expect(sec, 0x30) {
                    let (engine, u) = expect(usm, 0x04)?;
                    let (_, u) = expect(u, 0x02)?;
                    let (_, u) = expect(u, 0x02)?;
                    let (user, _) = expect(u, 0x04)?;
                    m.engine_id = Some(engine);
                    m.user = Some(user);
                }
            }
            let (data, _) = tlv(rest)?;
            if data.tag == 0x30 {
                let (_, s) = expect(data.value, 0x04)?; // contextEngineID
                let (_, s) = expect(s, 0x04)?; // contextName
                m.pdu = Some(parse_pdu(s)?);
            } else if data.tag != 0x04 {
                return Err(SnmpError::UnexpectedTag);
            }
            Ok(m)
        }
        _ => Err(SnmpError::BadVersion),
    }
}
