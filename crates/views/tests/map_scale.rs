//! The map at 500 nodes: large zones fold into group nodes that expand on request,
//! and the layout stays the same between renders.

mod common;

use learn::ZoneKind;
use records::Role;
use std::collections::BTreeSet;
use views::load::{MapData, MapEdge, MapNode};
use views::map::MapQuery;

/// 500 assets in 6 subnets: 2 control cells of 150 PLCs, a supervisory subnet, 3 IT.
fn plant() -> MapData {
    let mut nodes = Vec::new();
    let zones: [(&str, ZoneKind, u8, Role, usize); 6] = [
        ("10.1.1.0/24", ZoneKind::Ot, 1, Role::Plc, 150),
        ("10.1.2.0/24", ZoneKind::Ot, 1, Role::Plc, 150),
        ("10.1.10.0/24", ZoneKind::Ot, 2, Role::Hmi, 6),
        ("10.2.1.0/24", ZoneKind::It, 4, Role::ItHost, 120),
        ("10.2.2.0/24", ZoneKind::It, 4, Role::ItHost, 70),
        ("10.3.0.0/24", ZoneKind::It, 3, Role::Historian, 4),
    ];
    for (z, (zone, kind, level, role, n)) in zones.iter().enumerate() {
        for i in 0..*n {
            let ip = format!("10.{}.{}.{}", z, i / 200, i % 200 + 1);
            nodes.push(MapNode {
                id: Some(format!("ip:{ip}")),
                label: ip.clone(),
                ip: ip.parse().ok(),
                role: *role,
                zone: zone.to_string(),
                kind: *kind,
                level: *level,
                level_estimated: true,
                alerts: u64::from(i == 7),
            });
        }
    }
    let mut edges = Vec::new();
    // Every HMI polls every PLC; some IT hosts reach the historians; one IT host an HMI.
    for hmi in 300..306 {
        for plc in 0..300 {
            edges.push(edge(hmi, plc, false, false));
        }
    }
    for it in 306..330 {
        edges.push(edge(it, 496 + it % 4, true, false));
    }
    edges.push(edge(310, 301, true, true));
    MapData {
        nodes,
        edges,
        pairs_truncated: false,
    }
}

fn edge(from: usize, to: usize, crossing: bool, alerting: bool) -> MapEdge {
    MapEdge {
        from,
        to,
        protocols: BTreeSet::from(["modbus".to_string()]),
        flows: 10,
        bytes: 10_000,
        crossing,
        it_ot: alerting,
        alerting,
    }
}

#[test]
fn large_zones_fold_into_groups_that_expand_by_query() {
    let data = plant();
    assert_eq!(data.nodes.len(), 500);
    let folded = views::map::render(&data, &MapQuery::default()).into_string();
    // 4 zones above 8 nodes fold; the HMI and historian zones stay node by node.
    assert_eq!(folded.matches("<g class=\"v-node v-group").count(), 4);
    assert_eq!(folded.matches("<g class=\"v-node v-").count(), 4 + 6 + 4);
    assert!(
        folded.contains("<a href=\"/map?expand=10.1.1.0%2F24\">"),
        "group link"
    );
    assert!(folded.contains(">150 assets</text>"));
    // The alerting IT → HMI edge is drawn.
    assert!(folded.contains("v-edge v-crossing v-it-ot v-alert-edge"));

    let q = MapQuery::from_query_str("expand=10.1.1.0%2F24");
    let one = views::map::render(&data, &q).into_string();
    assert_eq!(one.matches("<g class=\"v-node v-group").count(), 3);
    assert!(one.contains("<a href=\"/assets/ip:10.0.0.8\">"));
    // The group links of an expanded map keep the zones already open.
    assert!(one.contains("/map?expand=10.1.1.0%2F24%2C10.1.2.0%2F24"));

    let all = views::map::render(&data, &MapQuery::from_query_str("all=1")).into_string();
    assert_eq!(all.matches("<g class=\"v-node v-").count(), 500);
    assert_eq!(
        all,
        views::map::render(&data, &MapQuery::from_query_str("all=1")).into_string()
    );

    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
        })
        .join("views-preview");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, q) in [
        ("map-500", ""),
        ("map-500-expanded", "expand=10.1.1.0%2F24"),
        ("map-500-all", "all=1"),
    ] {
        let page = common::preview(
            name,
            views::map::render(&data, &MapQuery::from_query_str(q)),
        );
        std::fs::write(dir.join(format!("{name}.html")), page).unwrap();
    }
}
