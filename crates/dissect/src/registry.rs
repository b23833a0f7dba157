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

/// The dissectors gapwatch knows, in probe order.
pub struct Registry {
    factories: Vec<Box<dyn DissectorFactory>>,
}

impl Registry {
    /// A registry with every built-in dissector.
    pub fn builtin() -> Self {
        Self {
            factories: vec![
                // NBNS before DNS: its messages are also plausible DNS, and on odd ports
                // (content match only, a tie) the first registered wins.
                Box::new(crate::nbns::NbnsFactory),
                Box::new(crate::dns::DnsFactory::dns()),
                Box::new(crate::dns::DnsFactory::mdns()),
                Box::new(crate::dns::DnsFactory::llmnr()),
                Box::new(crate::dhcp::DhcpFactory),
                Box::new(crate::dhcp::Dhcpv6Factory),
            ],
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
