//! TLS record layer, handshake hellos and certificate names: pure functions over bytes.

/// Largest record payload accepted (2^14 plus the expansion TLS 1.2 allows).
pub const MAX_RECORD: usize = 16384 + 2048;
/// Largest handshake message reassembled (certificate chains are the big ones).
pub const MAX_HANDSHAKE: usize = 64 * 1024;
/// Most cipher suites / extensions / list items kept from one hello.
pub const MAX_ITEMS: usize = 128;
/// Deepest DER nesting walked.
pub const MAX_DER_DEPTH: usize = 8;

/// Record content types.
pub mod content {
    /// change_cipher_spec.
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    /// alert.
    pub const ALERT: u8 = 21;
    /// handshake.
    pub const HANDSHAKE: u8 = 22;
    /// application_data.
    pub const APPLICATION_DATA: u8 = 23;
    /// heartbeat.
    pub const HEARTBEAT: u8 = 24;
}

/// Handshake message types gapwatch reads.
pub mod hs {
    /// client_hello.
    pub const CLIENT_HELLO: u8 = 1;
    /// server_hello.
    pub const SERVER_HELLO: u8 = 2;
    /// certificate.
    pub const CERTIFICATE: u8 = 11;
}

/// Why bytes are not the TLS structure expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsError {
    /// Shorter than its lengths say.
    Truncated,
    /// A record header with an unknown type or version, or an oversized length.
    BadRecordHeader,
    /// A length field inconsistent with its container.
    BadLength,
    /// A handshake message longer than [`MAX_HANDSHAKE`].
    HandshakeTooLong,
    /// A certificate that is not the DER expected.
    BadCertificate,
}

impl TlsError {
    /// Short reason used in anomalies.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Truncated => "structure shorter than its length fields",
            Self::BadRecordHeader => "malformed TLS record header",
            Self::BadLength => "length field inconsistent with its container",
            Self::HandshakeTooLong => "handshake message longer than the cap",
            Self::BadCertificate => "certificate is not well-formed DER",
        }
    }
}

/// A record header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// Content type.
    pub content_type: u8,
    /// Record-layer version.
    pub version: u16,
    /// Payload length.
    pub length: usize,
}

/// Parses a 5-byte record header; `Ok(None)` when fewer than 5 bytes are present.
pub fn parse_record_header(b: &[u8]) -> Result<Option<RecordHeader>, TlsError> {
    let Some(h) = b.get(..5) else {
        // Validate the bytes present so garbage is rejected early.
        if let Some(&t) = b.first() {
            if !(20..=24).contains(&t) {
                return Err(TlsError::BadRecordHeader);
            }
        }
        if let Some(&v) = b.get(1) {
            if v != 3 {
                return Err(TlsError::BadRecordHeader);
            }
        }
        return Ok(None);
    };
    let content_type = h[0];
    let version = u16::from_be_bytes([h[1], h[2]]);
    let length = usize::from(u16::from_be_bytes([h[3], h[4]]));
    if !(20..=24).contains(&content_type) || h[1] != 3 || h[2] > 4 || length > MAX_RECORD {
        return Err(TlsError::BadRecordHeader);
    }
    Ok(Some(RecordHeader {
        content_type,
        version,
        length,
    }))
}

/// True for GREASE values (RFC 8701): 0x?a?a with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    let [a, b] = v.to_be_bytes();
    a == b && a & 0x0f == 0x0a
}

/// A bounds-checked big-endian reader.
#[derive(Clone, Copy, Debug)]
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], TlsError> {
        if self.b.len() < n {
            return Err(TlsError::Truncated);
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    fn u8(&mut self) -> Result<u8, TlsError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, TlsError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u24(&mut self) -> Result<usize, TlsError> {
        let s = self.take(3)?;
        Ok(usize::from(s[0]) << 16 | usize::from(s[1]) << 8 | usize::from(s[2]))
    }
    fn vec8(&mut self) -> Result<&'a [u8], TlsError> {
        let n = usize::from(self.u8()?);
        self.take(n)
    }
    fn vec16(&mut self) -> Result<&'a [u8], TlsError> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
    fn vec24(&mut self) -> Result<&'a [u8], TlsError> {
        let n = self.u24()?;
        self.take(n)
    }
    fn is_empty(&self) -> bool {
        self.b.is_empty()
    }
}

/// A handshake message: (type, body, bytes it took).
pub type Handshake<'a> = (u8, &'a [u8], usize);

/// Splits a handshake message off the front of `b`: (type, body, bytes used), `Ok(None)`
/// until it is complete.
pub fn split_handshake(b: &[u8]) -> Result<Option<Handshake<'_>>, TlsError> {
    let Some(h) = b.get(..4) else {
        return Ok(None);
    };
    let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
    if len > MAX_HANDSHAKE {
        return Err(TlsError::HandshakeTooLong);
    }
    match b.get(4..4 + len) {
        Some(body) => Ok(Some((h[0], body, 4 + len))),
        None => Ok(None),
    }
}

/// Fields of a ClientHello (lists capped at [`MAX_ITEMS`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// legacy_version.
    pub legacy_version: u16,
    /// Cipher suites in wire order (GREASE included).
    pub ciphers: Vec<u16>,
    /// Extension types in wire order (GREASE included).
    pub extensions: Vec<u16>,
    /// server_name host name.
    pub sni: Option<String>,
    /// ALPN protocol names in order.
    pub alpn: Vec<String>,
    /// supported_versions list.
    pub supported_versions: Vec<u16>,
    /// signature_algorithms in wire order.
    pub signature_algorithms: Vec<u16>,
}

fn push_capped<T>(v: &mut Vec<T>, x: T) {
    if v.len() < MAX_ITEMS {
        v.push(x);
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(255)]).into_owned()
}

/// Parses a ClientHello body (after the 4-byte handshake header).
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello, TlsError> {
    let mut r = Reader::new(body);
    let mut ch = ClientHello {
        legacy_version: r.u16()?,
        ..ClientHello::default()
    };
    r.take(32)?;
    r.vec8()?; // session id
    let mut suites = Reader::new(r.vec16()?);
    while !suites.is_empty() {
        push_capped(&mut ch.ciphers, suites.u16()?);
    }
    r.vec8()?; // compression methods
    if r.is_empty() {
        return Ok(ch);
    }
    let mut exts = Reader::new(r.vec16()?);
    while !exts.is_empty() {
        let ty = exts.u16()?;
        let data = exts.vec16()?;
        push_capped(&mut ch.extensions, ty);
        let mut d = Reader::new(data);
        match ty {
            0 => {
                let mut list = Reader::new(d.vec16()?);
                while !list.is_empty() {
                    let kind = list.u8()?;
                    let name = list.vec16()?;
                    if kind == 0 && ch.sni.is_none() {
                        ch.sni = Some(lossy(name));
                    }
                }
            }
            16 => {
                let mut list = Reader::new(d.vec16()?);
                while !list.is_empty() {
                    let p = list.vec8()?;
                    if ch.alpn.len() < MAX_ITEMS {
                        ch.alpn.push(lossy(p));
                    }
                }
            }
            43 => {
                let mut list = Reader::new(d.vec8()?);
                while !list.is_empty() {
                    push_capped(&mut ch.supported_versions, list.u16()?);
                }
            }
            13 => {
                let mut list = Reader::new(d.vec16()?);
                while !list.is_empty() {
                    push_capped(&mut ch.signature_algorithms, list.u16()?);
                }
            }
            _ => {}
        }
    }
    Ok(ch)
}

/// Fields of a ServerHello.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// legacy_version.
    pub legacy_version: u16,
    /// The version chosen: supported_versions when present, else legacy_version.
    pub version: u16,
    /// Cipher suite chosen.
    pub cipher: u16,
    /// HelloRetryRequest (TLS 1.3) rather than a ServerHello.
    pub retry_request: bool,
}

const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Parses a ServerHello body.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, TlsError> {
    let mut r = Reader::new(body);
    let legacy_version = r.u16()?;
    let random = r.take(32)?;
    r.vec8()?;
    let cipher = r.u16()?;
    r.u8()?;
    let mut sh = ServerHello {
        legacy_version,
        version: legacy_version,
        cipher,
        retry_request: random == HRR_RANDOM,
    };
    if r.is_empty() {
        return Ok(sh);
    }
    let mut exts = Reader::new(r.vec16()?);
    while !exts.is_empty() {
        let ty = exts.u16()?;
        let data = exts.vec16()?;
        if ty == 43 {
            sh.version = Reader::new(data).u16()?;
        }
    }
    Ok(sh)
}

/// Version name (`tls1.2` ...).
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "ssl3".into(),
        0x0301 => "tls1.0".into(),
        0x0302 => "tls1.1".into(),
        0x0303 => "tls1.2".into(),
        0x0304 => "tls1.3".into(),
        other => format!("0x{other:04x}"),
    }
}

/// The first certificate's DER from a Certificate message body (TLS 1.2 layout).
pub fn first_certificate(body: &[u8]) -> Result<Option<&[u8]>, TlsError> {
    let mut r = Reader::new(body);
    let mut list = Reader::new(r.vec24()?);
    if list.is_empty() {
        return Ok(None);
    }
    Ok(Some(list.vec24()?))
}

/// SHA-256 of a certificate's DER as 64 lower-case hex digits.
pub fn certificate_sha256(der: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    let mut hex = String::with_capacity(64);
    for b in sha2::Sha256::digest(der) {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// One DER element: (tag, content, total bytes).
fn der(b: &[u8]) -> Result<(u8, &[u8], usize), TlsError> {
    let tag = *b.first().ok_or(TlsError::BadCertificate)?;
    let first = *b.get(1).ok_or(TlsError::BadCertificate)?;
    let (len, hdr) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 {
            return Err(TlsError::BadCertificate);
        }
        let bytes = b.get(2..2 + n).ok_or(TlsError::BadCertificate)?;
        let len = bytes.iter().fold(0usize, |a, &x| a << 8 | usize::from(x));
        (len, 2 + n)
    };
    let content = b.get(hdr..hdr + len).ok_or(TlsError::BadCertificate)?;
    Ok((tag, content, hdr + len))
}

/// Iterates the DER elements of a constructed value.
fn der_children(mut b: &[u8]) -> impl Iterator<Item = Result<(u8, &[u8]), TlsError>> {
    std::iter::from_fn(move || {
        if b.is_empty() {
            return None;
        }
        match der(b) {
            Ok((tag, content, n)) => {
                b = &b[n..];
                Some(Ok((tag, content)))
            }
            Err(e) => {
                b = &[];
                Some(Err(e))
            }
        }
    })
}

/// The common name of a DER Name (last CN attribute wins, as in most displays).
fn name_cn(name: &[u8]) -> Result<Option<String>, TlsError> {
    const CN: &[u8] = &[0x55, 0x04, 0x03];
    let mut cn = None;
    for rdn in der_children(name).take(MAX_ITEMS) {
        let (tag, set) = rdn?;
        if tag != 0x31 {
            return Err(TlsError::BadCertificate);
        }
        for atv in der_children(set).take(MAX_ITEMS) {
            let (_, seq) = atv?;
            let mut parts = der_children(seq);
            let (Some(Ok((0x06, oid))), Some(Ok((_, value)))) = (parts.next(), parts.next()) else {
                return Err(TlsError::BadCertificate);
            };
            if oid == CN {
                cn = Some(lossy(value));
            }
        }
    }
    Ok(cn)
}

/// Subject and issuer common names of a DER X.509 certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertNames {
    /// Subject CN.
    pub subject_cn: Option<String>,
    /// Issuer CN.
    pub issuer_cn: Option<String>,
}

/// Walks Certificate → tbsCertificate → issuer / subject.
pub fn certificate_names(cert: &[u8]) -> Result<CertNames, TlsError> {
    let (tag, body, _) = der(cert)?;
    if tag != 0x30 {
        return Err(TlsError::BadCertificate);
    }
    let (tag, tbs, _) = der(body)?;
    if tag != 0x30 {
        return Err(TlsError::BadCertificate);
    }
    let mut fields = der_children(tbs);
    let mut next = || {
        fields
            .next()
            .ok_or(TlsError::BadCertificate)
            .and_then(|r| r)
    };
    let mut f = next()?;
    if f.0 == 0xa0 {
        f = next()?; // explicit version; f is now the serial number
    }
    if f.0 != 0x02 {
        return Err(TlsError::BadCertificate);
    }
    let _signature = next()?;
    let (itag, issuer) = next()?;
    let _validity = next()?;
    let (stag, subject) = next()?;
    if itag != 0x30 || stag != 0x30 {
        return Err(TlsError::BadCertificate);
    }
    Ok(CertNames {
        subject_cn: name_cn(subject)?,
        issuer_cn: name_cn(issuer)?,
    })
}

/// JA4 TLS version label.
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

fn hex12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".into();
    }
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(s.as_bytes());
    let mut out = String::with_capacity(12);
    for b in &d[..6] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn hex_list(v: &[u16]) -> String {
    let mut s = String::with_capacity(v.len() * 5);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("{x:04x}"));
    }
    s
}

/// The JA4 client fingerprint of a ClientHello over TCP (FoxIO JA4 specification):
/// `t<version><d|i><ciphers:02><extensions:02><alpn>_<sha256(sorted ciphers)[..12]>_
/// <sha256(sorted extensions without SNI/ALPN "_" signature algorithms)[..12]>`.
pub fn ja4(ch: &ClientHello) -> String {
    let version = ch
        .supported_versions
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .max()
        .unwrap_or(ch.legacy_version);
    let sni = if ch.extensions.contains(&0) { 'd' } else { 'i' };
    let mut ciphers: Vec<u16> = ch
        .ciphers
        .iter()
        .copied()
        .filter(|&c| !is_grease(c))
        .collect();
    let exts: Vec<u16> = ch
        .extensions
        .iter()
        .copied()
        .filter(|&e| !is_grease(e))
        .collect();
    let alpn = match ch.alpn.first().map(|s| s.as_bytes()) {
        Some(&[first, .., last]) if alnum(first) && alnum(last) => {
            format!("{}{}", char::from(first), char::from(last))
        }
        Some(&[only]) if alnum(only) => format!("{0}{0}", char::from(only)),
        Some(p) if !p.is_empty() => {
            // Non-alphanumeric ends: first hex digit of the first byte, last of the last.
            let f = format!("{:02x}", p[0]);
            let l = format!("{:02x}", p[p.len() - 1]);
            format!("{}{}", &f[..1], &l[1..])
        }
        _ => "00".into(),
    };
    let a = format!(
        "t{}{}{:02}{:02}{}",
        ja4_version(version),
        sni,
        ciphers.len().min(99),
        exts.len().min(99),
        alpn
    );
    ciphers.sort_unstable();
    let mut sorted_exts: Vec<u16> = exts.into_iter().filter(|&e| e != 0 && e != 16).collect();
    sorted_exts.sort_unstable();
    let sigs: Vec<u16> = ch
        .signature_algorithms
        .iter()
        .copied()
        .filter(|&s| !is_grease(s))
        .collect();
    let mut c = hex_list(&sorted_exts);
    if !sigs.is_empty() {
        c.push('_');
        c.push_str(&hex_list(&sigs));
    }
    let c = if sorted_exts.is_empty() {
        "000000000000".to_string()
    } else {
        hex12(&c)
    };
    format!("{a}_{}_{c}", hex12(&hex_list(&ciphers)))
}
