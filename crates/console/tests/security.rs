//! Security of the console over real HTTPS: every route in the table refuses anonymous
//! callers and lower roles, writes need the CSRF token, lockout, login and logout,
//! session expiry, headers and the generated key's mode.

mod common;

use common::{Fixture, PASSWORD};
use console::routes::ROUTES;
use console::Role;
use reqwest::header::{COOKIE, LOCATION};
use reqwest::StatusCode;

async fn call(
    f: &Fixture,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
) -> reqwest::Response {
    let mut req = match method {
        "POST" => f.client.post(f.url(path)),
        _ => f.client.get(f.url(path)),
    };
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    if method == "POST" {
        let mut form = vec![
            ("status", "acknowledged"),
            ("role", "viewer"),
            ("name", "newuser"),
        ];
        if let Some(t) = csrf {
            form.push(("csrf", t));
        }
        req = req.form(&form);
    }
    req.send().await.expect("request")
}

#[tokio::test]
async fn every_route_refuses_anonymous_callers_and_lower_roles() {
    let f = Fixture::start().await;
    let mut sessions = Vec::new();
    for role in Role::ALL {
        sessions.push((role, f.login(role.as_str(), PASSWORD).await.expect("login")));
    }
    let mut checked = 0;
    for route in ROUTES {
        let Some(min) = route.min_role else { continue };
        // Anonymous: pages redirect to the login form, the API answers 401.
        let r = call(&f, route.method, route.sample, None, None).await;
        if route.path.starts_with("/api/") {
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "{} {}",
                route.method,
                route.path
            );
        } else {
            assert_eq!(
                r.status(),
                StatusCode::SEE_OTHER,
                "{} {}",
                route.method,
                route.path
            );
            assert_eq!(
                r.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
                Some("/login")
            );
        }
        // A forged session cookie is no better.
        let r = call(
            &f,
            route.method,
            route.sample,
            Some("__Host-gw_session=00ff"),
            None,
        )
        .await;
        assert!(matches!(
            r.status(),
            StatusCode::UNAUTHORIZED | StatusCode::SEE_OTHER
        ));
        for (role, session) in &sessions {
            if *role >= min {
                continue;
            }
            let r = call(
                &f,
                route.method,
                route.sample,
                Some(&session.cookie),
                Some(&session.csrf),
            )
            .await;
            assert_eq!(
                r.status(),
                StatusCode::FORBIDDEN,
                "{role} on {} {}",
                route.method,
                route.path
            );
        }
        checked += 1;
    }
    assert_eq!(
        checked,
        ROUTES.iter().filter(|r| r.min_role.is_some()).count()
    );
    assert!(checked >= 20);
    // Unknown paths are 404, not an open door.
    let r = call(&f, "GET", "/nope", None, None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    f.stop().await;
}

#[tokio::test]
async fn posts_without_or_with_a_wrong_csrf_token_fail() {
    let f = Fixture::start().await;
    let admin = f.login("admin", PASSWORD).await.expect("login");
    for route in ROUTES
        .iter()
        .filter(|r| r.method == "POST" && r.min_role.is_some())
    {
        let none = call(&f, "POST", route.sample, Some(&admin.cookie), None).await;
        assert_eq!(
            none.status(),
            StatusCode::FORBIDDEN,
            "{} without token",
            route.path
        );
        let wrong = call(
            &f,
            "POST",
            route.sample,
            Some(&admin.cookie),
            Some("0badc0de"),
        )
        .await;
        assert_eq!(
            wrong.status(),
            StatusCode::FORBIDDEN,
            "{} wrong token",
            route.path
        );
    }
    // The API checks the header the same way.
    let r = f
        .client
        .post(f.url("/api/v1/alerts/3/triage"))
        .header(COOKIE, &admin.cookie)
        .header("x-csrf-token", "nope")
        .json(&serde_json::json!({"status": "resolved"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The login form has its own token.
    let r = f
        .client
        .post(f.url("/login"))
        .form(&[("name", "admin"), ("password", PASSWORD), ("csrf", "x")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With the right token the same write goes through.
    let ok = call(
        &f,
        "POST",
        "/alerts/3/triage",
        Some(&admin.cookie),
        Some(&admin.csrf),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        ok.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
        Some("/alerts/3")
    );
    f.stop().await;
}

#[tokio::test]
async fn five_failures_lock_the_user_for_fifteen_minutes() {
    let f = Fixture::start().await;
    for _ in 0..5 {
        assert_eq!(
            f.login("analyst", "wrong password!!")
                .await
                .err()
                .as_deref(),
            Some("/login?e=failed")
        );
    }
    // Locked: even the right password is refused, and says so.
    assert_eq!(
        f.login("analyst", PASSWORD).await.err().as_deref(),
        Some("/login?e=locked")
    );
    // Another user is not affected.
    assert!(f.login("viewer", PASSWORD).await.is_ok());
    f.clock.advance(15 * 60 + 1);
    assert!(f.login("analyst", PASSWORD).await.is_ok());
    let log = f.accounts.audit_log(100).expect("audit");
    let count = |action: &str| {
        log.iter()
            .filter(|e| e.action == action && e.user == "analyst")
            .count()
    };
    assert_eq!(count("login_failed"), 5);
    assert_eq!(count("login_locked"), 1);
    assert_eq!(count("login_ok"), 1);
    f.stop().await;
}

#[tokio::test]
async fn login_logout_and_session_expiry() {
    let f = Fixture::start().await;
    let s = f.login("viewer", PASSWORD).await.expect("login");
    let page = call(&f, "GET", "/", Some(&s.cookie), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    // Idle for 29 minutes: still signed in (and the request renews the idle timer).
    f.clock.advance(29 * 60);
    assert_eq!(
        call(&f, "GET", "/alerts", Some(&s.cookie), None)
            .await
            .status(),
        StatusCode::OK
    );
    // Idle for 31 minutes: gone.
    f.clock.advance(31 * 60);
    assert_eq!(
        call(&f, "GET", "/alerts", Some(&s.cookie), None)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // Active all along, but 12 hours after login: gone too.
    let s = f.login("viewer", PASSWORD).await.expect("login");
    for _ in 0..25 {
        f.clock.advance(29 * 60);
        let r = call(&f, "GET", "/", Some(&s.cookie), None).await;
        if r.status() != StatusCode::OK {
            break;
        }
    }
    assert_eq!(
        call(&f, "GET", "/", Some(&s.cookie), None).await.status(),
        StatusCode::SEE_OTHER
    );

    // Logout ends the session at once.
    let s = f.login("viewer", PASSWORD).await.expect("login");
    let r = call(&f, "POST", "/logout", Some(&s.cookie), Some(&s.csrf)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        call(&f, "GET", "/", Some(&s.cookie), None).await.status(),
        StatusCode::SEE_OTHER
    );
    let log = f.accounts.audit_log(100).expect("audit");
    assert!(log
        .iter()
        .any(|e| e.action == "logout" && e.user == "viewer"));
    f.stop().await;
}

#[tokio::test]
async fn responses_carry_security_headers_and_secure_cookies() {
    let f = Fixture::start().await;
    let r = f
        .client
        .get(f.url("/login"))
        .send()
        .await
        .expect("login page");
    let h = r.headers();
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert!(get("strict-transport-security").starts_with("max-age=31536000"));
    assert!(get("content-security-policy").starts_with("default-src 'self'"));
    assert_eq!(get("x-frame-options"), "DENY");
    assert_eq!(get("x-content-type-options"), "nosniff");
    assert_eq!(get("referrer-policy"), "no-referrer");
    let cookie = get("set-cookie");
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let body = r.text().await.expect("body");
    assert!(
        !body.contains("<script>") && !body.contains("style="),
        "no inline script or style"
    );
    // Even a 404 has them.
    let r = f.client.get(f.url("/nope")).send().await.expect("404");
    assert_eq!(
        r.headers()
            .get("x-frame-options")
            .and_then(|v| v.to_str().ok()),
        Some("DENY")
    );
    // The generated key is private.
    use std::os::unix::fs::PermissionsExt;
    let key = console::tls::generated_dir(f.dir.path()).join("key.pem");
    let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    for file in ["console.db", "console.db-wal", "console.db-shm"] {
        let mode = std::fs::metadata(f.dir.path().join(file))
            .expect("accounts file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    let cert = std::fs::read_to_string(console::tls::generated_dir(f.dir.path()).join("cert.pem"))
        .expect("cert");
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
    f.stop().await;
}
