//! Who started a flow: the client (initiator) and the server (responder).
//!
//! The rule, in order:
//! 1. TCP SYN without ACK: its sender is the client. TCP SYN+ACK: its receiver is.
//! 2. Exactly one side uses a service port (below 1024, or a well-known OT/IT port in
//!    [`SERVICE_PORTS`]): that side is the server.
//! 3. Otherwise, TCP: the lower port is the server (equal ports: the sender of the first
//!    packet seen is the client). UDP and other protocols: the sender of the first
//!    packet seen is the client, because datagram peers with two high ports (RTP, P2P
//!    discovery) have no meaningful lower port.
//! 4. ICMP/ICMPv6: the sender of the first packet is the client unless that packet is a
//!    reply (echo, timestamp, address-mask reply), then its receiver is.

use wire::TcpFlags;

/// Ports at or above 1024 that identify a server: industrial protocols first, then
/// common IT services. Sorted, for binary search.
pub const SERVICE_PORTS: &[u16] = &[
    1089,  // FF HSE
    1433,  // MS SQL (historians)
    1521,  // Oracle
    1883,  // MQTT
    1911,  // Niagara Fox
    2222,  // EtherNet/IP implicit (Rockwell)
    2404,  // IEC 60870-5-104
    3306,  // MySQL
    3389,  // RDP
    4712,  // Siemens / PMU (IEEE C37.118)
    4713,  // IEEE C37.118
    4840,  // OPC UA
    4843,  // OPC UA over TLS
    5007,  // Mitsubishi MELSEC
    5094,  // HART-IP
    5432,  // PostgreSQL
    5900,  // VNC
    5901,  // VNC display 1
    8080,  // HTTP alternate
    8443,  // HTTPS alternate
    8883,  // MQTT over TLS
    9600,  // OMRON FINS
    18245, // GE SRTP
    20000, // DNP3
    34962, // Profinet RT unicast
    34963, // Profinet RT multicast
    34964, // Profinet context manager
    44818, // EtherNet/IP
    47808, // BACnet/IP
    48898, // ADS/AMS (Beckhoff)
];

/// True for ports that identify the server side of a flow.
pub fn is_service_port(port: u16) -> bool {
    port < 1024 || SERVICE_PORTS.binary_search(&port).is_ok()
}

/// Inputs to the initiator decision: the first packet seen of a new flow.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FirstPacket {
    /// TCP with these flags.
    Tcp(TcpFlags),
    /// UDP.
    Udp,
    /// ICMP or ICMPv6 with this type.
    Icmp { v6: bool, icmp_type: u8 },
    /// Another protocol.
    Other,
}

/// True when the sender of the first packet (from `sport` to `dport`) is the client.
pub(crate) fn sender_is_client(first: FirstPacket, sport: u16, dport: u16) -> bool {
    match first {
        FirstPacket::Tcp(flags) if flags.has(TcpFlags::SYN) => !flags.has(TcpFlags::ACK),
        FirstPacket::Icmp { v6, icmp_type } => !is_icmp_reply(v6, icmp_type),
        FirstPacket::Tcp(_) | FirstPacket::Udp | FirstPacket::Other => {
            match (is_service_port(sport), is_service_port(dport)) {
                (false, true) => true,
                (true, false) => false,
                _ if matches!(first, FirstPacket::Tcp(_)) && sport != dport => sport > dport,
                _ => true,
            }
        }
    }
}

fn is_icmp_reply(v6: bool, icmp_type: u8) -> bool {
    if v6 {
        // Echo reply, multicast listener report, node information reply.
        matches!(icmp_type, 129 | 131 | 140)
    } else {
        // Echo, timestamp, information and address mask replies.
        matches!(icmp_type, 0 | 14 | 16 | 18)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ports_are_sorted() {
        assert!(SERVICE_PORTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn rules_pick_the_expected_client() {
        let syn = FirstPacket::Tcp(TcpFlags(TcpFlags::SYN));
        let synack = FirstPacket::Tcp(TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
        let ack = FirstPacket::Tcp(TcpFlags(TcpFlags::ACK));
        assert!(sender_is_client(syn, 502, 40000));
        assert!(!sender_is_client(synack, 40000, 502));
        assert!(!sender_is_client(ack, 502, 40000));
        assert!(sender_is_client(ack, 40000, 20000));
        assert!(!sender_is_client(ack, 30000, 40000));
        assert!(sender_is_client(FirstPacket::Udp, 30000, 40000));
        assert!(!sender_is_client(FirstPacket::Udp, 53, 40000));
        let reply = FirstPacket::Icmp {
            v6: false,
            icmp_type: 0,
        };
        assert!(!sender_is_client(reply, 0, 0));
    }
}
