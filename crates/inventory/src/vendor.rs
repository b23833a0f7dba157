//! MAC vendor names from the IEEE registry built into the binary.
//!
//! The registry is the `oui-data` crate's snapshot of the IEEE MA-L, MA-M, MA-S, CID and
//! IAB listings. The version pinned in Cargo.lock, 0.2.4, was published on 2026-10-17 with
//! the IEEE files of that time; it needs no network and no files.

use wire::MacAddr;

/// The organisation the IEEE registered `mac`'s prefix to; `None` for locally
/// administered, group or unregistered addresses.
pub fn vendor_of(mac: MacAddr) -> Option<&'static str> {
    if mac.is_local() || mac.is_group() {
        return None;
    }
    // Upper-case hex without separators on the stack: the registry's lookup fast path.
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = [0u8; 12];
    for (i, b) in mac.0.iter().enumerate() {
        buf[2 * i] = HEX[usize::from(b >> 4)];
        buf[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
    let text = std::str::from_utf8(&buf).ok()?;
    // Some registry entries end in stray separators ("Siemens AG,").
    oui_data::lookup(text).map(|rec| rec.organization().trim_end_matches([',', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_registered_vendors() {
        // 00:1b:1b is registered to Siemens; 00:80:f4 to Telemecanique (Schneider).
        assert_eq!(
            vendor_of(MacAddr([0x00, 0x1b, 0x1b, 1, 2, 3])),
            Some("Siemens AG")
        );
        let schneider = vendor_of(MacAddr([0x00, 0x80, 0xf4, 1, 2, 3])).unwrap_or_default();
        assert!(
            schneider.to_ascii_uppercase().contains("TELEMECANIQUE"),
            "{schneider}"
        );
    }

    #[test]
    fn local_and_group_addresses_have_no_vendor() {
        assert_eq!(vendor_of(MacAddr([0x02, 0, 0, 0, 0, 1])), None);
        assert_eq!(vendor_of(MacAddr::BROADCAST), None);
    }
}
