//! The REST API: bearer tokens and sessions, responses valid against the OpenAPI
//! document's schemas, and triage through the API changing the stored status.

mod common;

use common::{Fixture, PASSWORD};
use console::Role;
use reqwest::header::{AUTHORIZATION, COOKIE};
use reqwest::StatusCode;
use serde_json::Value;
use store::{AlertStatus, Store};

/// A validator for `components.schemas.NAME` of the OpenAPI document.
fn schema(name: &str) -> jsonschema::Validator {
    let doc: Value =
        serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json parses");
    let text = serde_json::to_string(&doc["components"]["schemas"])
        .expect("schemas")
        .replace("#/components/schemas/", "#/$defs/");
    let defs: Value = serde_json::from_str(&text).expect("defs");
    let root = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
        "$ref": format!("#/$defs/{name}"),
    });
    jsonschema::validator_for(&root).expect("valid schema")
}

fn assert_valid(name: &str, value: &Value) {
    let validator = schema(name);
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{value}");
}

async fn get_json(f: &Fixture, path: &str, token: &str) -> (StatusCode, Value) {
    let r = f
        .client
        .get(f.url(path))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .expect("request");
    let status = r.status();
    (status, r.json().await.expect("json"))
}

#[tokio::test]
async fn responses_match_the_openapi_document() {
    let f = Fixture::start().await;
    let token = f.accounts.issue_token("viewer").expect("token");

    let (s, health) = get_json(&f, "/api/v1/health", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_valid("Health", &health);
    assert_eq!(health["packets"], 1234);

    let (s, assets) = get_json(&f, "/api/v1/assets?limit=5&offset=2", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_valid("AssetPage", &assets);
    assert_eq!(assets["total"], 20);
    assert_eq!(assets["items"].as_array().map(Vec::len), Some(5));
    let id = assets["items"][0]["id"].as_str().expect("id").to_string();
    let (s, one) = get_json(&f, &format!("/api/v1/assets/{id}"), &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_valid("Asset", &one);
    assert_eq!(one, assets["items"][0]);

    let (s, alerts) = get_json(&f, "/api/v1/alerts?severity=high&limit=1000", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_valid("AlertPage", &alerts);
    // Severity is (n / 4) % 4 for n in 1..=40: high or critical for n / 4 in {2, 3, 6, 7}
    // plus n = 40 (n / 4 = 10, 10 % 4 = 2).
    assert_eq!(alerts["total"], 17);
    let items = alerts["items"].as_array().expect("items");
    assert!(
        items
            .windows(2)
            .all(|w| w[0]["ts"].as_str() >= w[1]["ts"].as_str()),
        "newest first"
    );
    let (s, alert) = get_json(&f, "/api/v1/alerts/9", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_valid("Alert", &alert);
    assert_eq!(alert["category"], "plc_control");
    assert_eq!(alert["status"], "open");

    let (s, err) = get_json(&f, "/api/v1/alerts/999", &token).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_valid("Error", &err);
    let (s, err) = get_json(&f, "/api/v1/alerts?severity=extreme", &token).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_valid("Error", &err);

    let (s, flows) = get_json(&f, "/api/v1/flows", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_valid("FlowList", &flows);

    let (s, doc) = get_json(&f, "/api/v1/openapi.json", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    // A bad token is refused.
    let (s, _) = get_json(&f, "/api/v1/health", "gw_00").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    f.stop().await;
}

#[tokio::test]
async fn triage_through_the_api_changes_the_stored_status() {
    let f = Fixture::start().await;
    let viewer = f.accounts.issue_token("viewer").expect("token");
    let analyst = f.accounts.issue_token("analyst").expect("token");
    let post = |token: String, body: Value| {
        f.client
            .post(f.url("/api/v1/alerts/7/triage"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .json(&body)
            .send()
    };
    let r = post(viewer, serde_json::json!({"status": "resolved"}))
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = post(
        analyst.clone(),
        serde_json::json!({"status": "expected", "comment": "weekly backup"}),
    )
    .await
    .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    assert_valid("Alert", &body);
    assert_eq!(body["status"], "expected");
    assert_eq!(body["comment"], "weekly backup");

    let store = Store::open(f.dir.path()).expect("store");
    let stored = store.alert(7).expect("query").expect("alert 7");
    assert_eq!(stored.status, AlertStatus::Expected);
    assert_eq!(stored.comment.as_deref(), Some("weekly backup"));
    assert_eq!(
        stored.updated_at.map(|t| t.micros()),
        Some(common::T0 * 1_000_000)
    );
    // "expected" reached the engine once.
    assert_eq!(*f.backend.accepted.lock().expect("lock"), vec![7]);

    let r = post(analyst, serde_json::json!({"status": "bogus"}))
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // With a session, the header carries the CSRF token.
    let s = f
        .login(Role::Admin.as_str(), PASSWORD)
        .await
        .expect("login");
    let r = f
        .client
        .post(f.url("/api/v1/alerts/8/triage"))
        .header(COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .json(&serde_json::json!({"status": "acknowledged"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        store.alert(8).expect("q").expect("a").status,
        AlertStatus::Acknowledged
    );
    let log = f.accounts.audit_log(50).expect("audit");
    assert!(log.iter().any(|e| e.action == "triage"
        && e.user == "analyst"
        && e.detail == "alert 7 marked expected: weekly backup"));
    assert!(log
        .iter()
        .any(|e| e.action == "triage" && e.user == "admin"));
    f.stop().await;
}

#[tokio::test]
async fn evidence_captures_download_for_viewers() {
    let f = Fixture::start().await;
    let evidence = f.dir.path().join("evidence");
    std::fs::create_dir_all(&evidence).expect("evidence dir");
    let pcap = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00test".to_vec();
    std::fs::write(evidence.join("alert-3.pcap"), &pcap).expect("write");
    let s = f.login("viewer", PASSWORD).await.expect("login");
    let r = f
        .client
        .get(f.url("/alerts/3/evidence.pcap"))
        .header(COOKIE, &s.cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(header("content-type"), "application/vnd.tcpdump.pcap");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"alert-3.pcap\""
    );
    assert_eq!(r.bytes().await.expect("body").to_vec(), pcap);
    // The alert page links it; an alert without a capture says so.
    let page = |id: u32| {
        f.client
            .get(f.url(&format!("/alerts/{id}")))
            .header(COOKIE, &s.cookie)
            .send()
    };
    let text = page(3).await.expect("get").text().await.expect("body");
    assert!(text.contains("href=\"/alerts/3/evidence.pcap\""));
    let text = page(4).await.expect("get").text().await.expect("body");
    assert!(text.contains("no capture file"));
    let r = f
        .client
        .get(f.url("/alerts/4/evidence.pcap"))
        .header(COOKIE, &s.cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    f.stop().await;
}
