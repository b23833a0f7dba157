//! The views on the records of the lab's smoke capture (see tests/common).

mod common;

use std::path::PathBuf;
use views::assets::{AssetQuery, CSV_HEADER};
use views::map::MapQuery;

const PLC1: &str = "mac:00:80:f4:01:01:0b";

fn preview_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("views-preview");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The first-column names of the table rows, in order.
fn names(html: &str) -> Vec<String> {
    html.split("<tr")
        .skip(2)
        .filter_map(|row| {
            let link = row.split("<a href=\"/assets/").nth(1)?;
            let text = link.split('>').nth(1)?;
            Some(text.split('<').next()?.to_string())
        })
        .collect()
}

#[test]
fn inventory_shows_filters_sorts_and_exports_the_smoke_assets() {
    let (_dir, store) = common::smoke_store();
    let list = views::load::asset_list(&store).unwrap();
    assert_eq!(list.rows.len(), 19);

    let all = views::assets::list(&list, &AssetQuery::default()).into_string();
    std::fs::write(
        preview_dir().join("assets.html"),
        common::preview("Assets", views::assets::list(&list, &AssetQuery::default())),
    )
    .unwrap();
    // The PLC at 10.10.1.11: its OUI vendor (Schneider's Telemecanique prefix) and role.
    let plc = all
        .split("<tr")
        .find(|r| r.contains(">10.10.1.11</a>"))
        .expect("row of 10.10.1.11");
    assert!(plc.contains("TELEMECANIQUE ELECTRIQUE"), "{plc}");
    assert!(plc.contains("v-role-plc") && plc.contains(">PLC<"), "{plc}");
    assert!(plc.contains("/assets/mac:00:80:f4:01:01:0b"), "{plc}");
    // Default order: addresses in address order, then hostnames.
    let order = names(&all);
    assert_eq!(order.len(), 19);
    assert_eq!(&order[..3], ["10.10.1.1", "10.10.1.11", "10.10.1.13"]);
    assert_eq!(
        &order[16..],
        ["itws1", "plc2.plant.lan", "portal.plant.lan"]
    );

    let q = AssetQuery::from_query_str("role=plc&sort=vendor&dir=desc");
    let plcs = names(&views::assets::list(&list, &q).into_string());
    assert_eq!(
        plcs,
        ["10.10.1.15", "10.10.1.11", "plc2.plant.lan", "10.10.1.14"],
        "WAGO, TELEMECANIQUE, Siemens, Rockwell"
    );
    let q = AssetQuery::from_query_str("zone=10.10.2.0%2F24&sort=ip");
    let sup = names(&views::assets::list(&list, &q).into_string());
    assert_eq!(
        sup,
        [
            "10.10.2.1",
            "10.10.2.2",
            "10.10.2.10",
            "10.10.2.20",
            "10.10.2.30",
            "ews1"
        ]
    );
    let q = AssetQuery::from_query_str("q=PLANT.LAN");
    assert_eq!(
        names(&views::assets::list(&list, &q).into_string()),
        ["plc2.plant.lan", "portal.plant.lan"]
    );
    let q = AssetQuery::from_query_str("vendor=vmware,%20inc.&sort=alerts&dir=desc");
    assert_eq!(
        names(&views::assets::list(&list, &q).into_string()),
        ["portal.plant.lan", "10.10.3.20", "10.10.4.2"]
    );
    let q = AssetQuery::from_query_str("q=asyncua");
    assert_eq!(
        names(&views::assets::list(&list, &q).into_string()),
        ["10.10.2.20"]
    );
    // Paging: 19 rows at 5 per page, page 4 holds the last 4; past the end shows the last.
    let q = AssetQuery::from_query_str("per_page=5&page=4");
    let page = views::assets::list(&list, &q).into_string();
    assert_eq!(names(&page).len(), 4);
    assert!(page.contains("Assets 16–19 of 19"), "{page}");
    assert!(page.contains("page=3") && !page.contains("rel=\"next\""));
    assert_eq!(
        names(
            &views::assets::list(&list, &AssetQuery::from_query_str("per_page=5&page=99"))
                .into_string()
        ),
        names(&page)
    );

    // CSV: header and the PLCs by address.
    let csv = views::assets::csv(&list, &AssetQuery::from_query_str("role=plc&sort=ip"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], CSV_HEADER.join(","));
    assert_eq!(lines.len(), 5);
    assert_eq!(
        lines[1],
        "mac:00:80:f4:01:01:0b,10.10.1.11,10.10.1.11,00:80:f4:01:01:0b,TELEMECANIQUE ELECTRIQUE,,,,,,plc,10.10.1.0/24,1,true,2026-11-28T08:07:34.897797Z,2026-11-28T08:07:38.817551Z,modbus,0"
    );
    assert!(lines[2].starts_with("mac:00:1b:1b:01:01:0c,plc2.plant.lan,10.10.1.12,"));
    assert!(lines[4].starts_with("mac:00:30:de:01:01:0f,10.10.1.15,10.10.1.15,"));
    assert!(lines[4].ends_with(",bacnet,1"), "{}", lines[4]);
    // A field with a comma is quoted.
    let csv = views::assets::csv(&list, &AssetQuery::from_query_str("q=giga-byte"));
    assert!(csv.contains("\"GIGA-BYTE TECHNOLOGY CO.,LTD.\""), "{csv}");
}

#[test]
fn asset_page_lists_identity_peers_alerts_charts_and_baseline() {
    let (_dir, store) = common::smoke_store();
    let learnt = views::load::learnt(&store).unwrap().expect("learnt state");
    let cx = views::load::asset(&store, PLC1, Some(&learnt))
        .unwrap()
        .unwrap();
    let peers: Vec<String> = cx.peers.iter().map(|p| p.ip.to_string()).collect();
    assert_eq!(peers, ["10.10.2.10", "10.10.2.20", "10.10.2.30"]);
    assert_eq!(
        (cx.peers[0].flows, cx.peers[0].packets, cx.peers[0].bytes),
        (1, 722, 44_400)
    );
    assert!(cx
        .peers
        .iter()
        .all(|p| p.served.contains("modbus") && p.used.is_empty()));
    assert_eq!(cx.cycles.len(), 3);
    assert!(
        (cx.cycles[0].cycle - 1.0).abs() < 0.01,
        "{:?}",
        cx.cycles[0]
    );
    assert!((cx.cycles[1].cycle - 5.0).abs() < 0.05);
    assert!((cx.cycles[2].cycle - 10.0).abs() < 0.05);
    assert_eq!(cx.operation_mix[0].label, "modbus read_holding_registers");
    assert_eq!(cx.operation_mix[0].value, 152);

    let html = views::asset::page(&cx).into_string();
    std::fs::write(
        preview_dir().join("asset-plc1.html"),
        common::preview("10.10.1.11", views::asset::page(&cx)),
    )
    .unwrap();
    for (peer, role) in [
        ("mac:00:14:22:01:02:0a\">10.10.2.10", "HMI"),
        ("mac:3c:ec:ef:01:02:14\">10.10.2.20", "SCADA server"),
        ("mac:3c:52:82:01:02:1e\">10.10.2.30", "historian"),
    ] {
        assert!(
            html.contains(&format!("<a href=\"/assets/{peer}</a>")),
            "{peer}"
        );
        assert!(html.contains(&format!("<td>{role}</td>")), "{role}");
    }
    assert!(html.contains("TELEMECANIQUE ELECTRIQUE"));
    assert!(html.contains("44.4 kB"));
    assert!(html.contains("No alert names this asset."));
    // Activity, protocol mix, operation mix and three polling histograms, all SVG.
    assert_eq!(html.matches("<svg").count(), 7, "{html}");
    assert!(html.contains("every 1.00 s"), "{html}");
    assert!(html.contains("10.10.2.20 (SCADA server) sends 24 modbus requests to 10.10.1.11 (PLC)"));
    // No inline script or style attribute (CSP default-src 'self').
    assert!(!html.contains("style=") && !html.contains("<script>") && !html.contains("<style"));

    // An asset with alerts links each to its page.
    let itws = views::load::asset(&store, "mac:00:0f:ea:01:04:0a", Some(&learnt))
        .unwrap()
        .unwrap();
    assert_eq!(
        itws.alerts.iter().map(|a| a.alert.id).collect::<Vec<_>>(),
        [5, 4]
    );
    let html = views::asset::page(&itws).into_string();
    assert!(html.contains("<a href=\"/alerts/5\">10.10.4.10 beacons to 10.10.3.10 port 80 (http) every 15.0 s</a>"), "{html}");
    assert!(views::load::asset(&store, "mac:00:00:00:00:00:00", None)
        .unwrap()
        .is_none());
}

#[test]
fn map_has_one_linked_node_per_asset_in_purdue_layers_and_highlights_crossings() {
    let (_dir, store) = common::smoke_store();
    let map = views::load::map(&store).unwrap();
    let svg = views::map::render(&map, &MapQuery::default()).into_string();
    std::fs::write(
        preview_dir().join("map.html"),
        common::preview("Map", views::map::render(&map, &MapQuery::default())),
    )
    .unwrap();
    let list = views::load::asset_list(&store).unwrap();
    for row in &list.rows {
        let link = format!("<a href=\"/assets/{}\"><g class=\"v-node", row.asset.id);
        assert_eq!(svg.matches(&link).count(), 1, "{}", row.asset.id);
    }
    assert_eq!(svg.matches("<g class=\"v-node ").count(), 19);
    // The historian (OT, 10.10.2.30) fetches from the web portal (IT, 10.10.3.10).
    let node = |ip: &str| {
        map.nodes
            .iter()
            .position(|n| n.ip.map(|i| i.to_string()).as_deref() == Some(ip))
            .unwrap()
    };
    let edge = map
        .edges
        .iter()
        .find(|e| e.from == node("10.10.2.30") && e.to == node("10.10.3.10"))
        .expect("historian → portal");
    assert!(edge.crossing && edge.it_ot && !edge.alerting);
    assert_eq!(edge.protocols.iter().collect::<Vec<_>>(), ["http"]);
    assert!(svg.contains("class=\"v-edge v-crossing v-it-ot\""), "{svg}");
    assert!(
        svg.contains("<title>10.10.2.30 → portal.plant.lan: http, "),
        "{svg}"
    );
    // The beaconing workstation's alerting edge and node.
    assert!(svg.contains("<title>itws1 → portal.plant.lan: http, tls, "));
    assert!(svg.contains("v-edge v-crossing v-alert-edge"));
    assert!(svg.contains("v-node v-it v-alerting"));
    // Layers top to bottom; the PLC sits below the HMI that polls it.
    let y_of = |label: &str| -> f64 {
        let at = svg.find(&format!(">{label}</text>")).unwrap();
        let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
        tag.split("y=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(y_of("10.10.1.11") > y_of("10.10.2.10"));
    assert!(y_of("10.10.2.10") > y_of("itws1"));
    // Deterministic: the same data draws the same map.
    assert_eq!(
        svg,
        views::map::render(&views::load::map(&store).unwrap(), &MapQuery::default()).into_string()
    );
    assert!(!svg.contains("style="));
}
