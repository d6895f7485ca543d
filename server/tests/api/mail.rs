use kilat_server::{
    local,
    mail::{Email, MailError, Mailer},
    outbound::http_client,
};

use crate::helpers::spawn_app;

fn welcome(to: &str) -> Email {
    Email {
        from: "Kilat <no-reply@kilat.local>".into(),
        to: vec![to.into()],
        subject: "Confirm your email".into(),
        html: "<p>Confirm</p>".into(),
        text: "Confirm: http://127.0.0.1:54321/auth/v1/verify?token=t&type=signup".into(),
        reply_to: None,
    }
}

#[tokio::test]
async fn the_resend_client_delivers_to_the_local_twin_once_per_idempotency_key() {
    let stand_ins = local::start(0, None, None).await.unwrap();
    let mailer = Mailer::new(
        http_client(),
        format!("{}/resend", stand_ins.base_url),
        "re_test",
    );

    let first = mailer
        .send(&welcome("ana@kilat.id"), "signup-ana")
        .await
        .unwrap();
    let retried = mailer
        .send(&welcome("ana@kilat.id"), "signup-ana")
        .await
        .unwrap();
    assert_eq!(first, retried, "a retried send is the same message");
    mailer
        .send(&welcome("budi@kilat.id"), "signup-budi")
        .await
        .unwrap();

    let messages = stand_ins.mailbox.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].email.to, ["budi@kilat.id"], "newest first");
    assert_eq!(messages[1].id.to_string(), first);
}

#[tokio::test]
async fn the_twin_refuses_what_resend_refuses() {
    let stand_ins = local::start(0, None, None).await.unwrap();
    let resend = format!("{}/resend", stand_ins.base_url);
    let bad_address = Mailer::new(http_client(), &resend, "re_test")
        .send(&welcome("not-an-address"), "k1")
        .await
        .unwrap_err();
    assert!(
        matches!(bad_address, MailError::Rejected { status: 422, .. }),
        "{bad_address:?}"
    );
    let no_key = Mailer::new(http_client(), &resend, "")
        .send(&welcome("ana@kilat.id"), "k2")
        .await
        .unwrap_err();
    assert!(
        matches!(no_key, MailError::Rejected { status: 401, .. }),
        "{no_key:?}"
    );
    assert!(stand_ins.mailbox.messages().is_empty());
}

#[tokio::test]
async fn the_mailbox_page_says_what_will_appear_there() {
    let app = spawn_app().await;
    let response = app.get("/dev/mailbox").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Local mailbox"));
    assert!(html.contains("No email yet"), "{html}");
}

#[tokio::test]
async fn the_mailbox_page_is_unavailable_with_real_email() {
    let db = crate::helpers::TestDb::migrated().await;
    let app = crate::helpers::spawn_app_on(
        db.pool,
        &[
            ("RESEND_API_KEY", "re_live"),
            ("SUPABASE_URL", "https://x.supabase.co"),
            ("SUPABASE_ANON_KEY", "anon"),
        ],
    )
    .await;
    let html = app.get("/dev/mailbox").await.text().await.unwrap();
    assert!(html.contains("exists only in local development"), "{html}");
}
