//! Commands on a state folder outside a run: what has been learnt (`baseline`), alert
//! triage (`alerts`), including "expected", which folds an alert's behaviour into the
//! baseline, and the protocol event log (`events`).
//!
//! They edit the learnt state in the store; run them while no capture writes to the same
//! folder (a running sensor saves its own state every minute and would overwrite them).

use anyhow::{bail, Context, Result};
use learn::{AssetDirectory, Engine, EngineConfig};
use records::AssetRecord;
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use store::{AlertFilter, AlertStatus, EventFilter, EventLine, Store};

/// An engine restored from the store, with the inventory's view of the assets.
fn restored_engine(store: &Store) -> Result<(Engine, Vec<AssetRecord>)> {
    let mut engine = Engine::new(EngineConfig::default());
    let saved = store.load_model_state()?;
    if saved.is_empty() {
        bail!(
            "{}: nothing learnt yet (run `gapwatch analyze --state` or `capture --state` first)",
            store.path().display()
        );
    }
    engine
        .restore(&saved)
        .map_err(|e| anyhow::anyhow!("{}: {e}", store.path().display()))?;
    let assets = store.load_assets()?;
    engine.set_assets(AssetDirectory::from_assets(&assets));
    Ok((engine, assets))
}

/// The addresses of `asset`: an IP, a MAC or an asset id as in the inventory.
fn resolve_asset(asset: &str, assets: &[AssetRecord]) -> Result<Vec<IpAddr>> {
    if let Ok(ip) = asset.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let wanted = asset.to_ascii_lowercase();
    let found = assets
        .iter()
        .find(|a| a.id == wanted || a.mac.is_some_and(|m| m.to_string() == wanted));
    match found {
        Some(a) if !a.ips.is_empty() => Ok(a.ips.iter().copied().collect()),
        Some(a) => bail!(
            "asset {}: has no IP address, so nothing was learnt about it",
            a.id
        ),
        None => bail!("asset {asset:?}: not an IP address, MAC or asset id in the inventory"),
    }
}

/// Saves `engine`'s state back to the store.
fn save(store: &mut Store, engine: &Engine) -> Result<()> {
    let at = store.model_state_saved_at()?.unwrap_or_default();
    store.save_model_state(&engine.save(), at)?;
    Ok(())
}

/// `gapwatch baseline --state DIR [ASSET] [--reset]`.
pub fn baseline(state: &Path, asset: Option<&str>, reset: bool) -> Result<()> {
    let mut store = Store::open(state)?;
    let (mut engine, assets) = restored_engine(&store)?;
    let ips = match asset {
        Some(a) => resolve_asset(a, &assets)?.into_iter().map(Some).collect(),
        None => vec![None],
    };
    if reset {
        for ip in &ips {
            engine.forget(*ip);
        }
        save(&mut store, &engine)?;
        match asset {
            Some(a) => println!("forgot what was learnt about {a}; it is learning afresh"),
            None => {
                println!("forgot everything learnt; learning starts again with the next packet")
            }
        }
        return Ok(());
    }
    let saved_at = store.model_state_saved_at()?.unwrap_or_default();
    match engine.learn_start() {
        Some(start) => println!(
            "learning since {start} ({} of packet time up to {saved_at})",
            learn::text::span(saved_at.micros_since(start) as f64 / 1e6)
        ),
        None => println!("nothing observed yet"),
    }
    let mut any = false;
    for ip in ips {
        for line in engine.baseline(ip) {
            println!("{line}");
            any = true;
        }
    }
    if !any {
        println!("nothing learnt about this asset yet");
    }
    Ok(())
}

/// `gapwatch alerts --state DIR [--set STATUS --id ID [--comment TEXT]] [--json]`.
pub fn alerts(
    state: &Path,
    set: Option<(u64, AlertStatus, Option<String>)>,
    json: bool,
) -> Result<()> {
    let mut store = Store::open(state)?;
    if let Some((id, status, comment)) = set {
        let stored = store
            .alert(id)?
            .with_context(|| format!("{}: no alert with id {id}", store.path().display()))?;
        let now = store
            .model_state_saved_at()?
            .unwrap_or(stored.alert.ts_last);
        store.set_alert_status(id, status, comment.as_deref(), now)?;
        if status == AlertStatus::Expected {
            let (mut engine, _) = restored_engine(&store)?;
            engine.accept_alert(&stored.alert);
            save(&mut store, &engine)?;
            println!("alert {id} marked expected; its behaviour is now part of the baseline");
        } else {
            println!("alert {id} marked {status}");
        }
        return Ok(());
    }
    let filter = AlertFilter {
        newest_first: false,
        ..AlertFilter::default()
    };
    for stored in store.alerts(&filter)? {
        let a = &stored.alert;
        if json {
            println!("{}", serde_json::to_string(a)?);
        } else {
            println!(
                "#{} {} {:<8} {:<20} {:<12} x{} {}\n    {}",
                a.id,
                a.ts,
                a.severity.name(),
                a.category.name(),
                stored.status,
                a.count,
                a.title,
                a.explanation
            );
        }
    }
    Ok(())
}

/// Prints the event log lines matching `filter`.
pub fn events(state: &Path, filter: &EventFilter, json: bool) -> Result<()> {
    let store = Store::open(state)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = store
        .event_lines(filter)?
        .iter()
        .try_for_each(|line| write_event_line(&mut out, line, json))
        .and_then(|()| out.flush());
    match written {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

fn write_event_line(out: &mut impl Write, line: &EventLine, json: bool) -> std::io::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, line)?;
        return writeln!(out);
    }
    let addr = |ip: Option<IpAddr>| ip.map_or_else(|| "-".to_string(), |ip| ip.to_string());
    let unit = line.unit.map(|u| format!(" unit {u}")).unwrap_or_default();
    let targets = if line.targets.is_empty() {
        String::new()
    } else {
        format!(" {}", line.targets)
    };
    writeln!(
        out,
        "{} {} -> {} {} {} {} ({}){unit}{targets} x{} [{}] until {}",
        line.ts_first,
        addr(line.src_ip),
        addr(line.dst_ip),
        line.protocol,
        if line.is_response {
            "response"
        } else {
            "request"
        },
        line.function_name,
        line.op,
        line.count,
        line.status,
        line.ts_last,
    )
}
