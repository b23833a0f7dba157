//! Host names that betray an internet dependency or a remote-support tool, and the
//! small name helpers the air-gap models share.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How a pattern matches a lower-case name.
#[derive(Clone, Copy)]
enum Pat {
    /// The name is this domain or inside it.
    Domain(&'static str),
    /// The first label is this word, optionally followed by digits (`ntp`, `ntp2`).
    First(&'static str),
    /// Some label contains this text.
    Word(&'static str),
}

/// Internet dependencies: what kind of service a name stands for.
const DEPENDENCIES: &[(Pat, &str)] = {
    use Pat::*;
    const TIME: &str = "an internet time (NTP) source: the host expects to set its clock \
                        from the internet";
    const CERT: &str = "online certificate checking (OCSP/CRL): software on the host \
                        validates certificates against the internet";
    const UPDATE: &str = "software or operating-system updates from the internet";
    const AV: &str = "antivirus signatures or cloud look-ups from the internet";
    const CLOUD: &str = "a cloud or telemetry service on the internet";
    const CHECK: &str = "an operating-system internet connectivity check";
    const LICENSE: &str = "online licence activation";
    &[
        (Domain("ntp.org"), TIME),
        (Domain("time.windows.com"), TIME),
        (Domain("time.apple.com"), TIME),
        (Domain("time.google.com"), TIME),
        (Domain("time.cloudflare.com"), TIME),
        (Domain("time.nist.gov"), TIME),
        (Domain("ntp.ubuntu.com"), TIME),
        (First("ntp"), TIME),
        (First("time"), TIME),
        (First("ocsp"), CERT),
        (First("crl"), CERT),
        (Domain("pki.goog"), CERT),
        (Domain("lencr.org"), CERT),
        (Domain("digicert.com"), CERT),
        (Domain("ctldl.windowsupdate.com"), CERT),
        (Domain("windowsupdate.com"), UPDATE),
        (Domain("update.microsoft.com"), UPDATE),
        (Domain("delivery.mp.microsoft.com"), UPDATE),
        (Domain("download.microsoft.com"), UPDATE),
        (Domain("ubuntu.com"), UPDATE),
        (Domain("debian.org"), UPDATE),
        (Domain("fedoraproject.org"), UPDATE),
        (Domain("swcdn.apple.com"), UPDATE),
        (Domain("update.googleapis.com"), UPDATE),
        (First("update"), UPDATE),
        (First("updates"), UPDATE),
        (First("download"), UPDATE),
        (Word("liveupdate"), AV),
        (Domain("wdcp.microsoft.com"), AV),
        (Domain("wdcpalt.microsoft.com"), AV),
        (Word("symantec"), AV),
        (Word("mcafee"), AV),
        (Word("kaspersky"), AV),
        (Word("avast"), AV),
        (Word("sophos"), AV),
        (Word("trendmicro"), AV),
        (Word("bitdefender"), AV),
        (Word("crowdstrike"), AV),
        (Domain("eset.com"), AV),
        (Domain("data.microsoft.com"), CLOUD),
        (First("telemetry"), CLOUD),
        (Domain("amazonaws.com"), CLOUD),
        (Domain("azure.com"), CLOUD),
        (Domain("azure-devices.net"), CLOUD),
        (Domain("windows.net"), CLOUD),
        (Domain("googleapis.com"), CLOUD),
        (Domain("cloudfront.net"), CLOUD),
        (Domain("msftconnecttest.com"), CHECK),
        (Domain("msftncsi.com"), CHECK),
        (Domain("connectivitycheck.gstatic.com"), CHECK),
        (Domain("captive.apple.com"), CHECK),
        (Domain("detectportal.firefox.com"), CHECK),
        (Domain("nmcheck.gnome.org"), CHECK),
        (First("license"), LICENSE),
        (First("licensing"), LICENSE),
        (First("activation"), LICENSE),
    ]
};

/// Remote-support and remote-desktop vendors by name.
const REMOTE_SUPPORT: &[(Pat, &str)] = {
    use Pat::*;
    &[
        (Word("teamviewer"), "TeamViewer"),
        (Word("anydesk"), "AnyDesk"),
        (Word("logmein"), "LogMeIn"),
        (Word("gotomypc"), "GoTo"),
        (Word("gotoassist"), "GoTo"),
        (Word("splashtop"), "Splashtop"),
        (Word("bomgar"), "BeyondTrust"),
        (Word("beyondtrust"), "BeyondTrust"),
        (Word("screenconnect"), "ScreenConnect"),
        (Domain("connectwise.com"), "ConnectWise"),
        (Word("rustdesk"), "RustDesk"),
        (Word("ammyy"), "Ammyy Admin"),
        (Word("ultraviewer"), "UltraViewer"),
        (Word("supremocontrol"), "Supremo"),
        (Word("remotepc"), "RemotePC"),
        (Domain("dwservice.net"), "DWService"),
        (Domain("assist.zoho.com"), "Zoho Assist"),
        (Domain("remotedesktop.google.com"), "Chrome Remote Desktop"),
        (Domain("parsec.app"), "Parsec"),
        (Word("ngrok"), "ngrok tunnel"),
        (Word("remote-support"), "a remote-support service"),
        (Word("remotesupport"), "a remote-support service"),
    ]
};

fn matches(name: &str, pat: Pat) -> bool {
    match pat {
        Pat::Domain(d) => {
            name == d
                || (name.len() > d.len()
                    && name.ends_with(d)
                    && name.as_bytes()[name.len() - d.len() - 1] == b'.')
        }
        Pat::First(w) => {
            let first = name.split('.').next().unwrap_or("");
            name.contains('.')
                && first
                    .strip_prefix(w)
                    .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
        }
        Pat::Word(w) => name.split('.').any(|label| label.contains(w)),
    }
}

fn lookup(name: &str, table: &[(Pat, &'static str)]) -> Option<&'static str> {
    table
        .iter()
        .find(|(pat, _)| matches(name, *pat))
        .map(|(_, what)| *what)
}

/// What internet service `name` (lower case) stands for, when it is a tell-tale one.
pub fn internet_dependency(name: &str) -> Option<&'static str> {
    lookup(name, DEPENDENCIES)
}

/// The remote-support vendor `name` (lower case) belongs to.
pub fn remote_support_vendor(name: &str) -> Option<&'static str> {
    lookup(name, REMOTE_SUPPORT)
}

/// Top-level names that never resolve on the internet (RFC 6761, RFC 6762, RFC 8375 and
/// names in common private use).
const PRIVATE_TLDS: &[&str] = &[
    "local",
    "lan",
    "internal",
    "localdomain",
    "localhost",
    "intranet",
    "corp",
    "home",
    "private",
    "test",
    "invalid",
    "example",
];

/// True when `name` (lower case, no trailing dot) cannot be an internet look-up by its
/// form alone: a single label, a private top-level name, `home.arpa`, a reverse look-up
/// of a non-public address, or another `.arpa` name that is not a reverse look-up.
pub fn is_private_by_form(name: &str) -> bool {
    let Some((_, tld)) = name.rsplit_once('.') else {
        return true;
    };
    if PRIVATE_TLDS.contains(&tld) {
        return true;
    }
    if tld == "arpa" {
        return match reverse_ip(name) {
            Some(ip) => !crate::assets::is_public(ip),
            None => true,
        };
    }
    false
}

/// The address a full reverse name (`4.3.2.1.in-addr.arpa`, 32-nibble `ip6.arpa`) stands
/// for.
pub fn reverse_ip(name: &str) -> Option<IpAddr> {
    if let Some(rest) = name.strip_suffix(".in-addr.arpa") {
        let mut octets = [0u8; 4];
        let mut parts = rest.split('.');
        for slot in octets.iter_mut().rev() {
            *slot = parts.next()?.parse().ok()?;
        }
        return parts
            .next()
            .is_none()
            .then(|| IpAddr::V4(Ipv4Addr::from(octets)));
    }
    let rest = name.strip_suffix(".ip6.arpa")?;
    let mut value: u128 = 0;
    let mut n = 0;
    for (i, nibble) in rest.split('.').enumerate() {
        let digit = u128::from(u8::from_str_radix(nibble, 16).ok()?);
        if nibble.len() != 1 || i >= 32 {
            return None;
        }
        value |= digit << (4 * i);
        n += 1;
    }
    (n == 32).then(|| IpAddr::V6(Ipv6Addr::from(value)))
}

/// A name in lower case without a trailing dot, borrowed when it already is.
pub fn normal_name(name: &str) -> Cow<'_, str> {
    let name = name.trim_end_matches('.');
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// A host name from an SNI or an HTTP `Host` value: lower case, without port and
/// trailing dot; `None` for addresses and empty values.
pub fn host_name(value: &str) -> Option<Cow<'_, str>> {
    let host = value.trim();
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => match host.rsplit_once(':') {
            Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host,
        },
    };
    let host = host.trim_end_matches('.');
    if host.is_empty() || host.parse::<IpAddr>().is_ok() {
        return None;
    }
    Some(normal_name(host))
}

/// The text attribute `name` of `event`.
pub fn attr_text<'a>(event: &'a dissect::Event, name: &str) -> Option<&'a str> {
    event.attrs.iter().find_map(|(k, v)| match v {
        dissect::Attr::Text(t) if *k == name => Some(t.as_str()),
        _ => None,
    })
}

/// The list attribute `name` of `event` (empty when absent).
pub fn attr_list<'a>(event: &'a dissect::Event, name: &str) -> &'a [String] {
    event
        .attrs
        .iter()
        .find_map(|(k, v)| match v {
            dissect::Attr::List(l) if *k == name => Some(l.as_slice()),
            _ => None,
        })
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tell_tale_names() {
        assert_eq!(
            internet_dependency("0.pool.ntp.org"),
            internet_dependency("time.windows.com")
        );
        assert!(internet_dependency("ocsp.digicert.com")
            .unwrap()
            .contains("OCSP"));
        assert!(internet_dependency("update.vendor-cloud.com")
            .unwrap()
            .contains("updates"));
        assert_eq!(internet_dependency("plc2.plant.lan"), None);
        assert_eq!(internet_dependency("timeserver.example.org"), None);
        assert_eq!(
            remote_support_vendor("router2.teamviewer.com"),
            Some("TeamViewer")
        );
        assert_eq!(
            remote_support_vendor("relay-1.net.anydesk.com"),
            Some("AnyDesk")
        );
        assert_eq!(remote_support_vendor("portal.plant.lan"), None);
    }

    #[test]
    fn private_forms_and_reverse_names() {
        for name in [
            "plc1",
            "hmi.local",
            "x.home.arpa",
            "10.3.10.10.in-addr.arpa",
            "10.in-addr.arpa",
        ] {
            assert!(is_private_by_form(name), "{name}");
        }
        for name in [
            "www.google.com",
            "50.113.0.203.in-addr.arpa",
            "plant.lan.example.com",
        ] {
            assert!(!is_private_by_form(name), "{name}");
        }
        let v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
        assert_eq!(reverse_ip(v6), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(
            host_name("Portal.Plant.LAN:8443").as_deref(),
            Some("portal.plant.lan")
        );
        assert_eq!(host_name("203.0.113.50:8080"), None);
        assert_eq!(host_name("[2001:db8::1]:443"), None);
    }
}
