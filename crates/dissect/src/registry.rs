//! Dissector selection: which parser handles a new flow.

use crate::{Direction, Dissector, FlowContext};

/// Creates dissectors for one protocol and says whether a flow looks like it.
pub trait DissectorFactory: Send + Sync {
    /// Protocol name.
    fn name(&self) -> &'static str;

    /// Confidence (0 = no, 1 = port only, 2 = content matches, 3 = port and content)
    /// that the flow carries this protocol, given its first payload in `dir`.
    fn probe(&self, ctx: &FlowContext, dir: Direction, first_payload: &[u8]) -> u8;

    /// A fresh dissector for one flow.
    fn create(&self) -> Box<dyn Dissector>;
}

/// The usual probe answer: 3 on the protocol's port with matching content, 2 for
/// matching content on another port, 1 for the port alone, 0 otherwise.
pub fn confidence(on_port: bool, content_matches: bool) -> u8 {
    match (on_port, content_matches) {
        (true, true) => 3,
        (false, true) => 2,
        (true, false) => 1,
        (false, false) => 0,
    }
}

/// The dissectors gapwatch knows, in probe order.
pub struct Registry {
    factories: Vec<Box<dyn DissectorFactory>>,
}

impl Registry {
    /// The dissectors that name hosts (NBNS, DNS, mDNS, LLMNR, DHCP, DHCPv6): what the
    /// sensor core runs to name assets, and the baseline of `gapwatch bench`.
    pub fn names_only() -> Self {
        Self {
            factories: Self::name_factories(),
        }
    }

    fn name_factories() -> Vec<Box<dyn DissectorFactory>> {
        Vec::from([
            // NBNS before DNS: its messages are also plausible DNS, and on odd ports
            // (content match only, a tie) the first registered wins.
            Box::new(crate::nbns::NbnsFactory) as Box<dyn DissectorFactory>,
            Box::new(crate::dns::DnsFactory::dns()),
            Box::new(crate::dns::DnsFactory::mdns()),
            Box::new(crate::dns::DnsFactory::llmnr()),
            Box::new(crate::dhcp::DhcpFactory),
            Box::new(crate::dhcp::Dhcpv6Factory),
        ])
    }

    /// A registry with every built-in dissector.
    pub fn builtin() -> Self {
        Self {
            factories: Self::name_factories()
                .into_iter()
                // Industrial protocols first: on a tie they win over IT protocols.
                .chain(crate::modbus::factories())
                .chain(crate::dnp3::factories())
                .chain(crate::s7comm::factories())
                .chain(crate::mms::factories())
                .chain(crate::iec104::factories())
                .chain(crate::enip::factories())
                .chain(crate::bacnet::factories())
                .chain(crate::opcua::factories())
                .chain(crate::fins::factories())
                .chain(crate::hartip::factories())
                .chain(crate::c37118::factories())
                .chain(crate::ads::factories())
                .chain(crate::fox::factories())
                .chain(crate::mqtt::factories())
                .chain(crate::http::factories())
                .chain(crate::tls::factories())
                .chain(crate::ssh::factories())
                .chain(crate::smb::factories())
                .chain(crate::rdp::factories())
                .chain(crate::ftp::factories())
                .chain(crate::telnet::factories())
                .chain(crate::smtp::factories())
                .chain(crate::ntp::factories())
                .chain(crate::snmp::factories())
                .collect(),
        }
    }

    /// A registry with exactly these factories (tests).
    pub fn with(factories: Vec<Box<dyn DissectorFactory>>) -> Self {
        Self { factories }
    }

    /// Picks the best dissector for a flow from its first payload, if any matches.
    /// Ties go to the factory registered first.
    pub fn select(
        &self,
        ctx: &FlowContext,
        dir: Direction,
        first_payload: &[u8],
    ) -> Option<Box<dyn Dissector>> {
        let mut best: Option<(&dyn DissectorFactory, u8)> = None;
        for f in &self.factories {
            let score = f.probe(ctx, dir, first_payload);
            if score > 0 && best.is_none_or(|(_, b)| score > b) {
                best = Some((f.as_ref(), score));
            }
        }
        best.map(|(f, _)| f.create())
    }
}
