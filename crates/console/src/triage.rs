//! Alert triage, shared by the alert page's form and the API.

use crate::accounts::Principal;
use crate::web::{blocking, write_store, WebError};
use crate::AppState;
use records::Timestamp;
use std::sync::Arc;
use store::AlertStatus;

/// A triage request, from the alert page's form or the API's JSON body.
#[derive(serde::Deserialize)]
pub(crate) struct TriageRequest {
    /// `acknowledged`, `resolved`, `expected` ...
    pub(crate) status: String,
    pub(crate) comment: Option<String>,
}

/// Longest comment kept.
pub(crate) const MAX_COMMENT: usize = 2000;

/// Sets alert `id` to `status` with `comment`, as `who` from `ip`. Marking it expected
/// first hands the alert to the running engine (so its behaviour joins the baseline);
/// the change is audited.
pub(crate) async fn triage(
    state: &Arc<AppState>,
    who: &Principal,
    ip: Option<String>,
    id: u64,
    status: AlertStatus,
    comment: Option<String>,
) -> Result<(), WebError> {
    let comment = comment
        .map(|c| c.trim().chars().take(MAX_COMMENT).collect::<String>())
        .filter(|c| !c.is_empty());
    let now = state.accounts.now();
    let backend = state.backend.clone();
    let note = comment.clone();
    write_store(state, move |store| {
        let stored = store
            .alert(id)?
            .ok_or_else(|| WebError::NotFound(format!("no alert {id}")))?;
        if status == AlertStatus::Expected && stored.status != AlertStatus::Expected {
            backend
                .accept_alert(&stored.alert)
                .map_err(WebError::Unavailable)?;
        }
        let at = Timestamp(now.saturating_mul(1_000_000));
        store.set_alert_status(id, status, note.as_deref(), at)?;
        Ok(())
    })
    .await?;
    let accounts = state.accounts.clone();
    let user = who.user.clone();
    let detail = match &comment {
        Some(c) => format!("alert {id} marked {status}: {c}"),
        None => format!("alert {id} marked {status}"),
    };
    blocking(move || accounts.audit(&user, ip.as_deref(), "triage", &detail)).await??;
    Ok(())
}
