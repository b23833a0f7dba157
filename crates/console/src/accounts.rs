//! Accounts in `STATE/console.db`: users with roles and argon2id hashes, sessions with
//! idle and absolute expiry and a CSRF token each, API tokens (stored hashed), login
//! throttling with temporary lockout, and the audit log.

use crate::clock::Clock;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// The accounts database file inside the state folder.
pub const ACCOUNTS_FILE: &str = "console.db";
/// A session ends after this long without a request (seconds).
pub const IDLE_SECS: i64 = 30 * 60;
/// A session ends this long after login, however active (seconds).
pub const ABSOLUTE_SECS: i64 = 12 * 60 * 60;
/// Failed logins for one user name before it is locked.
pub const MAX_FAILURES: u32 = 5;
/// How long a lock lasts (seconds).
pub const LOCK_SECS: i64 = 15 * 60;
/// Failed logins from one address within [`LOCK_SECS`] before it is throttled.
pub const MAX_FAILURES_PER_IP: u32 = 20;
/// Most addresses the per-address throttle tracks; beyond it the oldest are dropped.
const MAX_TRACKED_IPS: usize = 10_000;
/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// What a user may do. Each role includes those below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads every page except settings and audit.
    Viewer,
    /// A viewer who also triages alerts.
    Analyst,
    /// An analyst who also manages users and reads the audit log.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Analyst, Role::Admin];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?} (viewer, analyst or admin)"))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of the accounts database.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// SQLite failed.
    #[error("{path}: {op}: {source}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// A request the rules refuse (bad name, short password, unknown user ...).
    #[error("{0}")]
    Invalid(String),
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// A signed-in user as a request sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// User name.
    pub user: String,
    /// Role.
    pub role: Role,
    /// The session's CSRF token; `None` for bearer-token requests (no ambient
    /// credentials, so nothing to forge).
    pub csrf: Option<String>,
}

/// The outcome of a login attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Signed in: the session token for the cookie.
    Ok {
        /// The session token (kept only hashed in the database).
        token: String,
        /// The user's role.
        role: Role,
    },
    /// Wrong name or password.
    Failed,
    /// The user name is locked after too many failures (until this Unix time).
    Locked(i64),
    /// This address sent too many failures.
    Throttled,
}

/// A user as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Unix time of creation.
    pub created: i64,
}

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// Unix time.
    pub ts: i64,
    /// Who (user name, or the name tried for failed logins).
    pub user: String,
    /// Client address, when over the network.
    pub ip: Option<String>,
    /// What (`login_ok`, `login_failed`, `triage` ...).
    pub action: String,
    /// Details in plain words.
    pub detail: String,
}

/// The accounts database, shared by the console's request handlers.
pub struct Accounts {
    conn: Mutex<Connection>,
    path: PathBuf,
    clock: Arc<dyn Clock>,
    /// Failed logins per client address: (window start, count).
    ip_failures: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    name    TEXT PRIMARY KEY,
    role    TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    hash    TEXT NOT NULL,
    created INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user       TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created    INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    user       TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lockouts (
    name         TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    ts     INTEGER NOT NULL,
    user   TEXT NOT NULL,
    ip     TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
";

/// A random token: 32 bytes as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// A random password of 20 characters from an unambiguous alphabet.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| {
            let i = (rng.next_u32() as usize) % ALPHABET.len();
            char::from(ALPHABET[i])
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Equal without an early exit, so timing tells nothing of where two tokens differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl Accounts {
    /// Opens (creating if needed) `state/console.db`; the file is made private (0600).
    pub fn open(state: &Path, clock: Arc<dyn Clock>) -> Result<Accounts, AccountError> {
        std::fs::create_dir_all(state).map_err(|e| {
            AccountError::Invalid(format!("{}: cannot create: {e}", state.display()))
        })?;
        let path = state.join(ACCOUNTS_FILE);
        let sql = |op| {
            let path = path.clone();
            move |source| AccountError::Sql { path, op, source }
        };
        let conn = Connection::open(&path).map_err(sql("open"))?;
        restrict_mode(&path);
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql("set busy timeout"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql("enable WAL"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql("enable foreign keys"))?;
        conn.execute_batch(SCHEMA).map_err(sql("create schema"))?;
        // The write-ahead log and its index hold the same secrets as the database.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.clone().into_os_string();
            side.push(suffix);
            restrict_mode(Path::new(&side));
        }
        Ok(Accounts {
            conn: Mutex::new(conn),
            path,
            clock,
            ip_failures: Mutex::new(HashMap::new()),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (every
        // change is one statement or transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn err(&self, op: &'static str) -> impl FnOnce(rusqlite::Error) -> AccountError + '_ {
        move |source| AccountError::Sql {
            path: self.path.clone(),
            op,
            source,
        }
    }

    /// The clock in use (Unix seconds).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Adds a user. Fails if the name is taken or the password too short.
    pub fn add_user(&self, name: &str, role: Role, password: &str) -> Result<(), AccountError> {
        if !valid_name(name) {
            return Err(AccountError::Invalid(format!(
                "user name {name:?}: use 1-64 letters, digits, '.', '_' or '-'"
            )));
        }
        let hash = hash_password(password)?;
        let added = self
            .conn()
            .execute(
                "INSERT INTO users (name, role, hash, created) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO NOTHING",
                params![name, role.as_str(), hash, self.now()],
            )
            .map_err(self.err("add user"))?;
        if added == 0 {
            return Err(AccountError::Invalid(format!("user {name:?} exists")));
        }
        Ok(())
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, AccountError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT name, role, created FROM users ORDER BY name")
            .map_err(self.err("list users"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(self.err("list users"))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, role, created) = row.map_err(self.err("list users"))?;
            let role = role.parse().map_err(AccountError::Invalid)?;
            out.push(User {
                name,
                role,
                created,
            });
        }
        Ok(out)
    }

    /// Removes a user with their sessions and tokens. Returns false when unknown.
    pub fn remove_user(&self, name: &str) -> Result<bool, AccountError> {
        let n = self
            .conn()
            .execute("DELETE FROM users WHERE name = ?1", [name])
            .map_err(self.err("remove user"))?;
        Ok(n > 0)
    }

    /// Changes a user's role; their sessions end so the new role applies at once.
    pub fn set_role(&self, name: &str, role: Role) -> Result<bool, AccountError> {
        let conn = self.conn();
        let n = conn
            .execute(
                "UPDATE users SET role = ?2 WHERE name = ?1",
                params![name, role.as_str()],
            )
            .map_err(self.err("set role"))?;
        conn.execute("DELETE FROM sessions WHERE user = ?1", [name])
            .map_err(self.err("set role"))?;
        Ok(n > 0)
    }

    /// Sets a user's password; their sessions end.
    pub fn set_password(&self, name: &str, password: &str) -> Result<bool, AccountError> {
        let hash = hash_password(password)?;
        let conn = self.conn();
        let n = conn
            .execute(
                "UPDATE users SET hash = ?2 WHERE name = ?1",
                params![name, hash],
            )
            .map_err(self.err("set password"))?;
        conn.execute("DELETE FROM sessions WHERE user = ?1", [name])
            .map_err(self.err("set password"))?;
        Ok(n > 0)
    }

    /// Issues an API token for a user; only its hash is kept.
    pub fn issue_token(&self, name: &str) -> Result<String, AccountError> {
        if self.role_of(name)?.is_none() {
            return Err(AccountError::Invalid(format!("no user {name:?}")));
        }
        let token = format!("gw_{}", random_token());
        self.conn()
            .execute(
                "INSERT INTO tokens (token_hash, user, created) VALUES (?1, ?2, ?3)",
                params![sha256_hex(&token), name, self.now()],
            )
            .map_err(self.err("issue token"))?;
        Ok(token)
    }

    fn role_of(&self, name: &str) -> Result<Option<Role>, AccountError> {
        let role: Option<String> = self
            .conn()
            .query_row("SELECT role FROM users WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err("read user"))?;
        role.map(|r| r.parse().map_err(AccountError::Invalid))
            .transpose()
    }

    /// Checks a name and password from `ip`, with throttling and lockout, and opens a
    /// session on success. Every outcome is audited.
    pub fn login(
        &self,
        name: &str,
        password: &str,
        ip: Option<IpAddr>,
    ) -> Result<LoginOutcome, AccountError> {
        let now = self.now();
        let ip_text = ip.map(|i| i.to_string());
        if let Some(ip) = ip {
            if self.ip_throttled(ip, now) {
                self.audit(
                    name,
                    ip_text.as_deref(),
                    "login_throttled",
                    "too many failures from this address",
                )?;
                return Ok(LoginOutcome::Throttled);
            }
        }
        let locked_until: Option<i64> = self
            .conn()
            .query_row(
                "SELECT locked_until FROM lockouts WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err("read lockout"))?;
        if let Some(until) = locked_until.filter(|u| *u > now) {
            self.audit(
                name,
                ip_text.as_deref(),
                "login_locked",
                "user name is locked",
            )?;
            return Ok(LoginOutcome::Locked(until));
        }
        let stored: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT hash, role FROM users WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err("read user"))?;
        // An unknown name costs a hash check too, so timing does not tell names apart.
        let (hash, role) = match &stored {
            Some((hash, role)) => (hash.as_str(), role.parse::<Role>().ok()),
            None => (dummy_hash(), None),
        };
        let ok = verify_password(password, hash) && role.is_some();
        match (ok, role) {
            (true, Some(role)) => {
                self.conn()
                    .execute("DELETE FROM lockouts WHERE name = ?1", [name])
                    .map_err(self.err("clear lockout"))?;
                let token = random_token();
                self.conn()
                    .execute(
                        "INSERT INTO sessions (token_hash, user, csrf, created, last_seen)
                         VALUES (?1, ?2, ?3, ?4, ?4)",
                        params![sha256_hex(&token), name, random_token(), now],
                    )
                    .map_err(self.err("open session"))?;
                self.audit(
                    name,
                    ip_text.as_deref(),
                    "login_ok",
                    &format!("role {role}"),
                )?;
                Ok(LoginOutcome::Ok { token, role })
            }
            _ => {
                if let Some(ip) = ip {
                    self.count_ip_failure(ip, now);
                }
                self.count_failure(name, now)?;
                self.audit(
                    name,
                    ip_text.as_deref(),
                    "login_failed",
                    "wrong name or password",
                )?;
                Ok(LoginOutcome::Failed)
            }
        }
    }

    fn count_failure(&self, name: &str, now: i64) -> Result<(), AccountError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO lockouts (name, failures, locked_until) VALUES (?1, 1, 0)
             ON CONFLICT (name) DO UPDATE SET failures = failures + 1",
            [name],
        )
        .map_err(self.err("count failure"))?;
        conn.execute(
            "UPDATE lockouts SET failures = 0, locked_until = ?2
             WHERE name = ?1 AND failures >= ?3",
            params![name, now + LOCK_SECS, MAX_FAILURES],
        )
        .map_err(self.err("lock user"))?;
        Ok(())
    }

    fn ip_failures(&self) -> MutexGuard<'_, HashMap<IpAddr, (i64, u32)>> {
        self.ip_failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ip_throttled(&self, ip: IpAddr, now: i64) -> bool {
        self.ip_failures()
            .get(&ip)
            .is_some_and(|(start, n)| now - start < LOCK_SECS && *n >= MAX_FAILURES_PER_IP)
    }

    fn count_ip_failure(&self, ip: IpAddr, now: i64) {
        let mut map = self.ip_failures();
        if map.len() >= MAX_TRACKED_IPS && !map.contains_key(&ip) {
            map.retain(|_, (start, _)| now - *start < LOCK_SECS);
            if map.len() >= MAX_TRACKED_IPS {
                map.clear();
            }
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now - entry.0 >= LOCK_SECS {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// The user behind a session token, if the session is live; touches it.
    pub fn session(&self, token: &str) -> Result<Option<Principal>, AccountError> {
        let now = self.now();
        let hash = sha256_hex(token);
        let conn = self.conn();
        let row: Option<(String, String, String, i64, i64)> = conn
            .query_row(
                "SELECT s.user, u.role, s.csrf, s.created, s.last_seen
                 FROM sessions s JOIN users u ON u.name = s.user WHERE s.token_hash = ?1",
                [&hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(self.err("read session"))?;
        let Some((user, role, csrf, created, last_seen)) = row else {
            return Ok(None);
        };
        if now - last_seen > IDLE_SECS || now - created > ABSOLUTE_SECS {
            conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [&hash])
                .map_err(self.err("expire session"))?;
            return Ok(None);
        }
        conn.execute(
            "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1",
            params![hash, now],
        )
        .map_err(self.err("touch session"))?;
        let Ok(role) = role.parse() else {
            return Ok(None);
        };
        Ok(Some(Principal {
            user,
            role,
            csrf: Some(csrf),
        }))
    }

    /// The user behind an API token, if any.
    pub fn token(&self, token: &str) -> Result<Option<Principal>, AccountError> {
        let row: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT t.user, u.role FROM tokens t JOIN users u ON u.name = t.user
                 WHERE t.token_hash = ?1",
                [sha256_hex(token)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err("read token"))?;
        Ok(row.and_then(|(user, role)| {
            role.parse().ok().map(|role| Principal {
                user,
                role,
                csrf: None,
            })
        }))
    }

    /// Ends a session.
    pub fn logout(&self, token: &str) -> Result<(), AccountError> {
        self.conn()
            .execute(
                "DELETE FROM sessions WHERE token_hash = ?1",
                [sha256_hex(token)],
            )
            .map_err(self.err("end session"))?;
        Ok(())
    }

    /// Appends to the audit log.
    pub fn audit(
        &self,
        user: &str,
        ip: Option<&str>,
        action: &str,
        detail: &str,
    ) -> Result<(), AccountError> {
        self.conn()
            .execute(
                "INSERT INTO audit (ts, user, ip, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![self.now(), user, ip, action, detail],
            )
            .map_err(self.err("write audit log"))?;
        Ok(())
    }

    /// The latest `limit` audit entries, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, AccountError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT id, ts, user, ip, action, detail FROM audit ORDER BY id DESC LIMIT ?1")
            .map_err(self.err("read audit log"))?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    ts: r.get(1)?,
                    user: r.get(2)?,
                    ip: r.get(3)?,
                    action: r.get(4)?,
                    detail: r.get(5)?,
                })
            })
            .map_err(self.err("read audit log"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.err("read audit log"))
    }
}

/// The argon2id hash (PHC string) of `password`.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AccountError::Invalid(format!(
            "password too short: at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fixed argon2id hash of a random password, checked for unknown user names.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// Makes a file readable by its owner only.
pub(crate) fn restrict_mode(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // Best effort: a file system without modes keeps the file as it is.
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}
