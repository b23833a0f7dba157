//! The views on the records of the lab's smoke capture.

mod common;

use std::path::PathBuf;
use views::assets::{AssetQuery, CSV_HEADER};
use views::map::MapQuery;

fn preview_dir() -> PathBuf {
    // target/views-preview under the workspace's target folder.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("views-preview");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn explore() {
    let (_dir, store) = common::smoke_store();
    let list = views::load::asset_list(&store).unwrap();
    for r in &list.rows {
        println!(
            "{} {:?} {} {:?} {}",
            r.asset.id, r.asset.ips, r.zone, r.kind, r.alerts
        );
    }
    let map = views::load::map(&store).unwrap();
    for n in &map.nodes {
        println!("{:?}", n);
    }
    for e in &map.edges {
        println!(
            "{} -> {} {:?} {} {}",
            map.nodes[e.from].label, map.nodes[e.to].label, e.protocols, e.crossing, e.alerting
        );
    }
    let learnt = views::load::learnt(&store).unwrap();
    let cx = views::load::asset(&store, "mac:00:80:f4:01:01:0b", learnt.as_ref())
        .unwrap()
        .unwrap();
    println!("{:#?}", cx.peers);
    println!("{:?}", cx.operation_mix);
    for c in &cx.cycles {
        println!("{} {} {}", c.label, c.cycle, c.intervals.len());
    }
    println!("{:#?}", cx.baseline);
    let dir = preview_dir();
    std::fs::write(
        dir.join("assets.html"),
        common::preview("Assets", views::assets::list(&list, &AssetQuery::default())),
    )
    .unwrap();
    std::fs::write(
        dir.join("asset-plc1.html"),
        common::preview("PLC", views::asset::page(&cx)),
    )
    .unwrap();
    std::fs::write(
        dir.join("map.html"),
        common::preview("Map", views::map::render(&map, &MapQuery::default())),
    )
    .unwrap();
    let _ = CSV_HEADER;
}
