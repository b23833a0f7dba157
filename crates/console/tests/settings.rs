//! User management from the settings page: add (password shown once, in the response
//! only), change role, remove; every change audited.

mod common;

use common::{hidden_csrf, Fixture, PASSWORD};
use reqwest::header::{COOKIE, LOCATION};
use reqwest::StatusCode;

#[tokio::test]
async fn admins_add_change_and_remove_users() {
    let f = Fixture::start().await;
    let admin = f.login("admin", PASSWORD).await.expect("login");
    let post = |path: &str, form: Vec<(&str, &str)>| {
        let mut form = form;
        form.push(("csrf", &admin.csrf));
        f.client
            .post(f.url(path))
            .header(COOKIE, &admin.cookie)
            .form(&form)
            .send()
    };
    let r = post(
        "/settings/users",
        vec![("name", "night-shift"), ("role", "analyst")],
    )
    .await
    .expect("add");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.url().query().is_none(), "no password in a URL");
    let page = r.text().await.expect("body");
    let marker = "night-shift</strong>: <code>";
    let start = page.find(marker).expect("password shown") + marker.len();
    let password = &page[start..start + 20];
    assert!(hidden_csrf(&page).is_some());

    let s = f
        .login("night-shift", password)
        .await
        .expect("new user signs in");
    let r = f
        .client
        .get(f.url("/settings"))
        .header(COOKIE, &s.cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "an analyst is no admin");

    let r = post("/settings/users/night-shift/role", vec![("role", "viewer")])
        .await
        .expect("role");
    assert_eq!(
        r.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
        Some("/settings")
    );
    // The role change ended the user's sessions.
    let r = f
        .client
        .get(f.url("/"))
        .header(COOKIE, &s.cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let r = post("/settings/users/admin/remove", vec![])
        .await
        .expect("remove self");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post("/settings/users/night-shift/remove", vec![])
        .await
        .expect("remove");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(f.login("night-shift", password).await.is_err());

    let log = f.accounts.audit_log(100).expect("audit");
    let by_admin: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e.user == "admin" && e.action.starts_with("user_"))
        .map(|e| (e.action.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        by_admin,
        vec![
            ("user_remove", "removed night-shift"),
            ("user_role", "night-shift is now viewer"),
            ("user_add", "added night-shift as analyst"),
        ]
    );
    let r = f
        .client
        .get(f.url("/audit"))
        .header(COOKIE, &admin.cookie)
        .send()
        .await
        .expect("audit");
    assert!(r
        .text()
        .await
        .expect("body")
        .contains("added night-shift as analyst"));
    f.stop().await;
}

#[tokio::test]
async fn admins_replace_the_zone_file_and_bad_files_are_refused_with_the_reason() {
    let f = Fixture::start().await;
    let admin = f.login("admin", PASSWORD).await.expect("login");
    let post = |zones: &str| {
        let form = vec![("zones", zones), ("csrf", admin.csrf.as_str())];
        f.client
            .post(f.url("/settings/zones"))
            .header(COOKIE, &admin.cookie)
            .form(&form)
            .send()
    };
    let page = post("not a zone file")
        .await
        .expect("post")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("Zone file not saved: zone file, line 1: no [[zone]] table"),
        "{page}"
    );
    assert_eq!(*f.backend.zones.lock().unwrap(), None);

    let file =
        "[[zone]]\nname = \"control\"\ncidrs = [\"10.10.1.0/24\"]\npurdue = 1\nkind = \"ot\"\n";
    let r = post(file).await.expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("body");
    assert!(
        page.contains("Zone file saved and applied: 1 zone."),
        "{page}"
    );
    // The form shows the file now in use.
    assert!(page.contains("name = &quot;control&quot;"), "{page}");
    assert_eq!(f.backend.zones.lock().unwrap().as_deref(), Some(file));
    let log = f.accounts.audit_log(10).expect("audit");
    assert!(log.iter().any(|e| e.user == "admin"
        && e.action == "zones_set"
        && e.detail == "zone file replaced: 1 zone"));
    f.stop().await;
}

#[tokio::test]
async fn admins_set_the_learning_period_and_bad_periods_are_refused_with_the_reason() {
    let f = Fixture::start().await;
    let admin = f.login("admin", PASSWORD).await.expect("login");
    let post = |cookie: &str, csrf: &str, period: &str| {
        let form = vec![("period", period.to_string()), ("csrf", csrf.to_string())];
        f.client
            .post(f.url("/settings/learning"))
            .header(COOKIE, cookie)
            .form(&form)
            .send()
    };
    let page = f
        .client
        .get(f.url("/settings"))
        .header(COOKIE, &admin.cookie)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    // The current period and progress, and the form filled with the period.
    assert!(page.contains("<th>Period</th><td>7 days</td>"), "{page}");
    assert!(
        page.contains("50 %, until 2025-11-28T05:00:00.000000Z"),
        "{page}"
    );
    assert!(page.contains("name=\"period\" value=\"1w\""), "{page}");

    for (bad, reason) in [
        ("soon", "duration \"soon\": expected a number with a unit"),
        ("5y", "duration \"5y\": unknown unit \"y\""),
        ("700d", "duration \"700d\": at most 366 days"),
    ] {
        let page = post(&admin.cookie, &admin.csrf, bad)
            .await
            .expect("post")
            .text()
            .await
            .expect("body");
        let expected = format!("Learning period not changed: {reason}").replace('"', "&quot;");
        assert!(page.contains(&expected), "{bad}: {page}");
    }
    assert_eq!(*f.backend.learning.lock().unwrap(), None);

    // Without the CSRF token, or as an analyst, nothing changes.
    let r = post(&admin.cookie, "0badc0de", "15m").await.expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let analyst = f.login("analyst", PASSWORD).await.expect("login");
    let r = post(&analyst.cookie, &analyst.csrf, "15m")
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(*f.backend.learning.lock().unwrap(), None);

    let r = post(&admin.cookie, &admin.csrf, " 15m ")
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("body");
    assert!(page.contains("Learning period set: 15 min."), "{page}");
    assert!(page.contains("<th>Period</th><td>15 min</td>"), "{page}");
    assert_eq!(*f.backend.learning.lock().unwrap(), Some(900_000_000));
    let log = f.accounts.audit_log(10).expect("audit");
    let entries: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e.action == "learning_set")
        .map(|e| (e.user.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        entries,
        vec![("admin", "learning period set to 15m (was 1w)")]
    );
    f.stop().await;
}

#[tokio::test]
async fn the_verdict_says_when_it_was_built_and_health_lists_each_interface() {
    let f = Fixture::start().await;
    let viewer = f.login("viewer", PASSWORD).await.expect("login");
    let get = |path: &str| {
        f.client
            .get(f.url(path))
            .header(COOKIE, &viewer.cookie)
            .send()
    };
    let as_of = "<p class=\"as-of\">As of 2025-11-28 03:20:00 UTC</p>";
    let page = get("/airgap")
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(page.contains(as_of), "{page}");
    let page = get("/").await.expect("get").text().await.expect("body");
    assert!(page.contains(as_of), "{page}");
    for row in [
        "<tr class=\"iface\"><th>Interface eth1</th><td>1000 packets, 0 dropped</td></tr>",
        "<tr class=\"iface\"><th>Interface eth2</th><td>234 packets, 7 dropped</td></tr>",
    ] {
        assert!(page.contains(row), "{row} in {page}");
    }
    f.stop().await;
}
