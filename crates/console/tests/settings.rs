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
