//! Settings: a new password proven with the current one, and a new email address confirmed
//! through the links Supabase emails — through HTTP against the server and its Auth twin.

use app::identity::api::{ChangeEmail, ChangePassword, SignIn, SignOut};
use leptos::server_fn::ServerFn;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{NO_CONFIRMATION, PASSWORD, TestApp, location, spawn_app_with};

const NEW_PASSWORD: &str = "lebih-rahasia-456";

/// A refused server-function call's status and error code.
async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["code"].as_str().unwrap_or_default().to_string(),
    )
}

async fn audit_count(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from public.audit_logs where action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn signs_in(app: &TestApp, email: &str, password: &str) -> bool {
    let browser = app.other_browser();
    let response = browser
        .post_form(SignIn::PATH, &[("email", email), ("password", password)])
        .await;
    location(&response) == "/dashboard"
}

#[tokio::test]
async fn a_new_password_needs_the_current_one_and_replaces_it() {
    let (app, pool) = spawn_app_with(&[NO_CONFIRMATION]).await;
    let anonymous = app.other_browser();
    app.sign_up_signed_in("ana@kilat.id", "Ana").await;

    let change = |current: &'static str, new: &'static str| {
        let app = &app;
        async move {
            app.call(
                ChangePassword::PATH,
                &[("current_password", current), ("password", new)],
            )
            .await
        }
    };
    assert_eq!(
        refusal(change("not-my-password", NEW_PASSWORD).await).await,
        (422, "current_password_wrong".into())
    );
    assert_eq!(
        refusal(change("", NEW_PASSWORD).await).await,
        (422, "current_password_missing".into())
    );
    assert_eq!(
        refusal(change(PASSWORD, PASSWORD).await).await,
        (422, "password_unchanged".into()),
        "Supabase's same_password is explained on the new-password field"
    );
    assert_eq!(
        refusal(change(PASSWORD, "short").await).await,
        (422, "password_too_short".into())
    );
    let anonymous_call = anonymous
        .call(
            ChangePassword::PATH,
            &[("current_password", PASSWORD), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(refusal(anonymous_call).await, (401, "not_signed_in".into()));
    assert_eq!(audit_count(&pool, "password.changed").await, 0);

    let changed = change(PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 200);
    assert_eq!(audit_count(&pool, "password.changed").await, 1);
    // The checks of the current password left no sessions behind: only this browser's.
    let sessions: i64 = sqlx::query_scalar(
        "select count(*) from auth.sessions s join auth.users u on u.id = s.user_id
         where u.email = 'ana@kilat.id'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(sessions, 1);
    assert_eq!(app.get("/dashboard").await.status(), 200, "still signed in");

    app.post_form(SignOut::PATH, &[]).await;
    assert!(
        !signs_in(&app, "ana@kilat.id", PASSWORD).await,
        "old password refused"
    );
    assert!(signs_in(&app, "ana@kilat.id", NEW_PASSWORD).await);
}

#[tokio::test]
async fn a_new_email_address_takes_effect_once_both_emailed_links_are_opened() {
    let (app, pool) = spawn_app_with(&[]).await;
    app.other_browser()
        .sign_up_confirmed("budi@kilat.id", "Budi")
        .await;
    app.sign_up_confirmed("ana@kilat.id", "Ana").await;

    for (email, code) in [
        ("ana@kilat.id", "email_unchanged"),
        ("Budi@Kilat.id", "email_in_use"),
        ("not-an-address", "email_invalid"),
    ] {
        let answer = app.call(ChangeEmail::PATH, &[("email", email)]).await;
        assert_eq!(refusal(answer).await, (422, code.into()), "{email}");
    }

    let asked = app
        .call(ChangeEmail::PATH, &[("email", "ana.baru@kilat.id")])
        .await;
    assert_eq!(asked.status(), 200);
    assert_eq!(asked.json::<Value>().await.unwrap(), "LinksSent");
    assert_eq!(audit_count(&pool, "email.change_requested").await, 1);
    let email_of_ana = || async {
        sqlx::query_scalar::<_, String>(
            "select email from auth.users where raw_user_meta_data ->> 'full_name' = 'Ana'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert_eq!(
        email_of_ana().await,
        "ana@kilat.id",
        "nothing changes before the links"
    );

    // Secure email change: one link to each address; the first one opened only says so.
    let links = app.links("type=email_change").await;
    assert_eq!(links.len(), 2, "{links:?}");
    let back = location(&app.client.get(&links[0]).send().await.unwrap());
    let half = app.client.get(app.on_app(&back)).send().await.unwrap();
    assert_eq!(
        location(&half),
        "/dashboard/settings?notice=email_half_confirmed"
    );
    let page = app
        .get("/dashboard/settings?notice=email_half_confirmed")
        .await;
    assert!(page.text().await.unwrap().contains("One link confirmed"));
    assert_eq!(email_of_ana().await, "ana@kilat.id");

    let back = location(&app.client.get(&links[1]).send().await.unwrap());
    assert!(back.contains("/auth/confirm?code="), "{back}");
    let done = app.client.get(app.on_app(&back)).send().await.unwrap();
    assert_eq!(location(&done), "/dashboard/settings?notice=email_changed");
    assert_eq!(email_of_ana().await, "ana.baru@kilat.id");
    let page = app
        .get("/dashboard/settings?notice=email_changed")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("ana.baru@kilat.id"),
        "the session shows the new address"
    );
    assert!(page.contains("Your email address is changed"));

    app.post_form(SignOut::PATH, &[]).await;
    assert!(signs_in(&app, "ana.baru@kilat.id", PASSWORD).await);
    assert!(!signs_in(&app, "ana@kilat.id", PASSWORD).await);
}

#[tokio::test]
async fn with_confirmation_off_a_new_email_address_applies_at_once() {
    let (app, _) = spawn_app_with(&[NO_CONFIRMATION]).await;
    app.sign_up_signed_in("ana@kilat.id", "Ana").await;
    let asked = app
        .call(ChangeEmail::PATH, &[("email", "ana.baru@kilat.id")])
        .await;
    assert_eq!(asked.status(), 200);
    assert_eq!(asked.json::<Value>().await.unwrap(), "Changed");
    let page = app.get("/dashboard/settings").await.text().await.unwrap();
    assert!(page.contains("ana.baru@kilat.id"), "{page}");
}

#[tokio::test]
async fn a_crafted_notice_in_a_link_never_reaches_the_settings_page() {
    let (app, _) = spawn_app_with(&[NO_CONFIRMATION]).await;
    app.sign_up_signed_in("ana@kilat.id", "Ana").await;
    let page = app
        .get("/dashboard/settings?notice=Send+your+password+to+evil%40example.com")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("settings-form"), "{page}");
    assert!(!page.contains("evil@example.com") && !page.contains("Send your password"));
    // A code of ours still shows its own message.
    let page = app
        .get("/dashboard/settings?notice=email_changed")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your email address is changed"), "{page}");
}
