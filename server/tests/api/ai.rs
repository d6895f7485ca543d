//! AI through HTTP: plan and sign-in checks, answers streamed from the local AI twin (run by
//! each test, and configured as the app's real provider), race-free monthly quotas, stopping,
//! the per-plan rate limit, and the person's conversations.

use std::time::Duration;

use axum::Router;
use kilat_server::{
    ai::ProviderKind,
    local::ai_twin::{self, AiTwin, FailureKind, Switch},
};
use reqwest::{Response, header};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{NO_CONFIRMATION, TestApp, TestDb, spawn_app_on};

/// An OpenAI twin of this test's own, served on a free port.
async fn start_twin() -> (AiTwin, String) {
    let twin = AiTwin::new(ProviderKind::OpenAi);
    twin.set_token_delay(Duration::ZERO);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/openai/v1", listener.local_addr().unwrap());
    let router = Router::new().nest("/openai/v1", ai_twin::openai_router(twin.clone()));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (twin, base)
}

struct Setup {
    app: TestApp,
    pool: PgPool,
    twin: AiTwin,
}

/// The app with the twin as its OpenAI provider and `vars`, and a signed-in person on `plan`.
async fn signed_in_on(plan: &str, vars: &[(&str, &str)]) -> (Setup, Uuid) {
    let (twin, base) = start_twin().await;
    let db = TestDb::migrated().await;
    let mut all = vec![
        NO_CONFIRMATION,
        ("OPENAI_API_KEY", ai_twin::LOCAL_OPENAI_API_KEY),
        ("OPENAI_BASE_URL", base.as_str()),
        ("AI_MODEL", "twin-model"),
    ];
    all.extend_from_slice(vars);
    let app = spawn_app_on(db.pool.clone(), &all).await;
    let email = format!("ai-{}@kilat.test", Uuid::new_v4().simple());
    app.sign_up_signed_in(&email, "Ana AI").await;
    let user: Uuid = sqlx::query_scalar("select id from auth.users where email = $1")
        .bind(&email)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    set_plan(&db.pool, user, plan).await;
    (
        Setup {
            app,
            pool: db.pool,
            twin,
        },
        user,
    )
}

async fn set_plan(pool: &PgPool, user: Uuid, plan: &str) {
    sqlx::query(
        "update public.subscriptions set plan = $2::public.subscription_plan, status = 'active',
           current_period_start = case when $2 = 'FREE' then null else now() end,
           current_period_end = case when $2 = 'FREE' then null else now() + interval '1 month' end
         where user_id = $1",
    )
    .bind(user)
    .bind(plan)
    .execute(pool)
    .await
    .unwrap();
}

async fn post_json(app: &TestApp, path: &str, body: Value) -> Response {
    app.client
        .post(format!("{}{path}", app.address))
        .header(header::ORIGIN, &app.address)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn chat(app: &TestApp, body: Value) -> Response {
    post_json(app, "/api/ai/chat", body).await
}

/// The events of a finished stream: `(event, data)`.
async fn events_of(response: Response) -> Vec<(String, Value)> {
    let text = response.text().await.unwrap();
    text.split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    event = Some(name.to_string());
                } else if let Some(more) = line.strip_prefix("data: ") {
                    data.push_str(more);
                }
            }
            Some((event?, serde_json::from_str(&data).ok()?))
        })
        .collect()
}

fn answer_text(events: &[(String, Value)]) -> String {
    events
        .iter()
        .filter(|(event, _)| event == "text")
        .map(|(_, data)| data["text"].as_str().unwrap().to_string())
        .collect()
}

fn end_of(events: &[(String, Value)]) -> Value {
    events
        .iter()
        .find(|(event, _)| event == "end")
        .map(|(_, data)| data.clone())
        .expect("an end event")
}

async fn usage_rows(pool: &PgPool, user: Uuid) -> Vec<(String, String, i32, i32)> {
    sqlx::query_as(
        "select provider, kind::text, prompt_tokens, completion_tokens from public.ai_usage
         where user_id = $1 order by created_at",
    )
    .bind(user)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_chat_streams_the_twins_answer_keeps_the_conversation_and_counts_its_tokens() {
    let (setup, user) = signed_in_on("PRO", &[]).await;
    let response = chat(&setup.app, json!({ "message": "Tolong buat list ide" })).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(response.headers()["x-ratelimit-limit"], "40");
    let events = events_of(response).await;
    assert_eq!(events[0].0, "start");
    let conversation: Uuid = events[0].1["conversation_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let text = answer_text(&events);
    assert!(
        text.starts_with("Hello from the local OpenAI twin. You said: Tolong buat list ide"),
        "{text}"
    );
    assert!(text.contains("\n- "), "the list trigger: {text}");

    let end = end_of(&events);
    assert_eq!(end["status"], "complete");
    let served = setup.twin.served(Some("twin-model"));
    assert_eq!(served.len(), 1);
    assert_eq!(
        end["usage"],
        json!({ "prompt_tokens": served[0].prompt_tokens, "completion_tokens": served[0].completion_tokens })
    );
    assert_eq!(
        usage_rows(&setup.pool, user).await,
        [(
            "openai".to_string(),
            "chat".to_string(),
            served[0].prompt_tokens as i32,
            served[0].completion_tokens as i32
        )]
    );
    let total = u64::from(served[0].prompt_tokens + served[0].completion_tokens);
    assert_eq!(end["meter"]["used"], total);
    assert_eq!(end["meter"]["held"], 0);
    assert_eq!(end["meter"]["allowance"], 100_000);
    assert_eq!(end["meter"]["plan"], "PRO");

    // The conversation continues with its history; the twin is sent both turns.
    let again = chat(
        &setup.app,
        json!({ "message": "lagi", "conversation_id": conversation }),
    )
    .await;
    let again = events_of(again).await;
    assert!(answer_text(&again).contains("You said: lagi"));
    let shown: Value = setup
        .app
        .get(&format!("/api/ai/conversations/{conversation}"))
        .await
        .json()
        .await
        .unwrap();
    let roles: Vec<&str> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(shown["conversation"]["title"], "Tolong buat list ide");
    let second = &setup.twin.served(Some("twin-model"))[1];
    assert!(
        second.prompt_tokens > served[0].prompt_tokens + 10,
        "the history went along"
    );
}

#[tokio::test]
async fn the_plan_decides_who_may_ask_and_every_refusal_says_what_to_do() {
    let (setup, user) = signed_in_on("FREE", &[]).await;
    let refused = chat(&setup.app, json!({ "message": "halo" })).await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "plan_without_ai");
    assert_eq!(body["upgrade_url"], "/pricing");
    assert!(
        setup.twin.served(None).is_empty(),
        "the provider was not called"
    );

    set_plan(&setup.pool, user, "BASIC").await;
    for (body, code) in [
        (json!({ "message": "  " }), "message_missing"),
        (json!({ "message": "x".repeat(8_001) }), "message_too_long"),
        (json!({ "message": 42 }), "message_missing"),
        (
            json!({ "message": "hi", "conversation_id": Uuid::new_v4() }),
            "conversation_not_found",
        ),
    ] {
        let response = chat(&setup.app, body).await;
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["code"], code);
        assert!(status == 400 || status == 404, "{code}: {status}");
        assert!(!answer["message"].as_str().unwrap().is_empty());
    }
    let template = post_json(
        &setup.app,
        "/api/ai/generate",
        json!({ "template": "poem", "input": "x" }),
    )
    .await;
    assert_eq!(template.status(), 400);

    let anonymous = setup.app.other_browser();
    let response = chat(&anonymous, json!({ "message": "halo" })).await;
    assert_eq!(response.status(), 401);

    // In Indonesian when asked.
    let response = setup
        .app
        .client
        .post(format!("{}/api/ai/chat?lang=id", setup.app.address))
        .header(header::ORIGIN, &setup.app.address)
        .json(&json!({ "message": "" }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Tulis pesan dulu.");
}

#[tokio::test]
async fn switched_off_ai_answers_503() {
    let (setup, _) = signed_in_on("PRO", &[("ENABLE_AI", "false")]).await;
    let response = chat(&setup.app, json!({ "message": "halo" })).await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "feature_off");
}

#[tokio::test]
async fn twenty_concurrent_requests_near_the_limit_never_exceed_the_allowance() {
    // A small allowance: each request holds its prompt's bound plus 64 answer tokens.
    let (setup, user) = signed_in_on(
        "BASIC",
        &[
            ("PLAN_BASIC_AI_TOKENS", "1500"),
            ("AI_MAX_TOKENS", "64"),
            ("RATE_LIMIT_AI_BASIC", "100/5m"),
        ],
    )
    .await;
    setup.twin.set_token_delay(Duration::from_millis(2));
    let requests = (0..20).map(|i| {
        let app = &setup.app;
        async move { chat(app, json!({ "message": format!("long-answer {i}") })).await }
    });
    // While they run, what is held and what is settled never pass the allowance together.
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = tokio::spawn({
        let (pool, watching) = (setup.pool.clone(), watching.clone());
        async move {
            let mut most = 0_i64;
            while watching.load(std::sync::atomic::Ordering::Relaxed) {
                let now: i64 = sqlx::query_scalar(
                    "select ((select coalesce(sum(total_tokens), 0) from public.ai_usage where user_id = $1)
                          + (select coalesce(sum(tokens), 0) from public.ai_reservations where user_id = $1))::bigint",
                )
                .bind(user)
                .fetch_one(&pool)
                .await
                .unwrap();
                most = most.max(now);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            most
        }
    });
    let responses = futures_util::future::join_all(requests).await;
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    let most = sampler.await.unwrap();
    assert!(most <= 1500, "held + used reached {most} of 1500");
    let mut answered = 0;
    let mut refused = 0;
    for response in responses {
        match response.status().as_u16() {
            200 => {
                answered += 1;
                let _ = events_of(response).await;
            }
            429 => {
                refused += 1;
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["code"], "quota_reached");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        answered >= 1 && refused >= 1,
        "{answered} answered, {refused} refused"
    );
    let used: i64 = sqlx::query_scalar(
        "select coalesce(sum(total_tokens), 0)::bigint from public.ai_usage where user_id = $1",
    )
    .bind(user)
    .fetch_one(&setup.pool)
    .await
    .unwrap();
    assert!(used <= 1500, "{used} tokens used of 1500");
    assert_eq!(
        usage_rows(&setup.pool, user).await.len(),
        answered,
        "one row per answer"
    );
    let served = setup.twin.served(None);
    let twin_total: u64 = served
        .iter()
        .map(|r| u64::from(r.prompt_tokens + r.completion_tokens))
        .sum();
    assert_eq!(
        twin_total, used as u64,
        "ai_usage matches the twin's counts"
    );
    let held: i64 =
        sqlx::query_scalar("select count(*) from public.ai_reservations where user_id = $1")
            .bind(user)
            .fetch_one(&setup.pool)
            .await
            .unwrap();
    assert_eq!(held, 0, "every hold was settled");
}

#[tokio::test]
async fn ultimate_is_unlimited() {
    let (setup, user) = signed_in_on("ULTIMATE", &[("PLAN_ULTIMATE_AI_TOKENS", "unlimited")]).await;
    sqlx::query(
        "insert into public.ai_usage (user_id, provider, model, kind, prompt_tokens, completion_tokens)
         values ($1, 'openai', 'm', 'chat', 2000000000, 0)",
    )
    .bind(user)
    .execute(&setup.pool)
    .await
    .unwrap();
    let response = chat(&setup.app, json!({ "message": "halo" })).await;
    assert_eq!(response.status(), 200);
    let end = end_of(&events_of(response).await);
    assert_eq!(end["meter"]["allowance"], Value::Null);
}

#[tokio::test]
async fn stopping_an_answer_cancels_the_provider_and_counts_what_it_produced() {
    let (setup, user) = signed_in_on("PRO", &[("AI_MAX_TOKENS", "2000")]).await;
    setup.twin.set_token_delay(Duration::from_millis(20));
    let mut response = chat(&setup.app, json!({ "message": "long-answer please" })).await;
    assert_eq!(response.status(), 200);
    let mut seen = String::new();
    while seen.matches("event: text").count() < 5 {
        let chunk = response.chunk().await.unwrap().expect("more of the answer");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let read = seen.matches("event: text").count() as i32;
    drop(response);

    // The app settles, and the twin notices the closed connection, each in its own time.
    let mut rows = Vec::new();
    let mut served = Vec::new();
    for _ in 0..100 {
        rows = usage_rows(&setup.pool, user).await;
        served = setup.twin.served(None);
        if !rows.is_empty() && !served.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rows.len(), 1, "the stopped answer was counted");
    assert_eq!(served.len(), 1);
    assert!(served[0].cancelled, "the twin saw the request cancelled");
    let produced = served[0].completion_tokens as i32;
    assert!(produced < 1_000, "stopped long before its end: {produced}");
    let counted = rows[0].3;
    assert!(
        read <= counted && counted <= produced,
        "read {read}, counted {counted}, produced {produced}"
    );
    let kept: String = sqlx::query_scalar(
        "select status from public.ai_messages where user_id = $1 and role = 'assistant'",
    )
    .bind(user)
    .fetch_one(&setup.pool)
    .await
    .unwrap();
    assert_eq!(kept, "stopped");
}

#[tokio::test]
async fn the_rate_limit_follows_the_plan_with_its_headers() {
    let (setup, _) = signed_in_on("PRO", &[("RATE_LIMIT_AI_PRO", "2/5m")]).await;
    for remaining in ["1", "0"] {
        let response = chat(&setup.app, json!({ "message": "halo" })).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-ratelimit-remaining"], remaining);
        let _ = events_of(response).await;
    }
    let refused = chat(&setup.app, json!({ "message": "halo" })).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["x-ratelimit-limit"], "2");
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(setup.twin.served(None).len(), 2);
    let held: i64 = sqlx::query_scalar("select count(*) from public.ai_reservations")
        .fetch_one(&setup.pool)
        .await
        .unwrap();
    assert_eq!(held, 0, "the refused request's hold was given back");
}

#[tokio::test]
async fn a_provider_failure_is_a_retryable_503_or_a_failed_end_and_nothing_is_lost() {
    let (setup, user) = signed_in_on("PRO", &[]).await;
    setup
        .twin
        .set_switch(Switch::new(FailureKind::Overloaded).times(1))
        .unwrap();
    let response = chat(&setup.app, json!({ "message": "halo" })).await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "provider_busy");
    assert!(usage_rows(&setup.pool, user).await.is_empty());

    setup
        .twin
        .set_switch(
            Switch::new(FailureKind::ErrorMidStream)
                .after_tokens(3)
                .times(1),
        )
        .unwrap();
    let response = chat(&setup.app, json!({ "message": "halo lagi" })).await;
    assert_eq!(response.status(), 200);
    let events = events_of(response).await;
    let end = end_of(&events);
    assert_eq!(end["status"], "failed");
    assert_eq!(end["error"]["code"], "provider_busy");
    assert_eq!(answer_text(&events).split_whitespace().count(), 3);
    let rows = usage_rows(&setup.pool, user).await;
    assert_eq!(rows.len(), 1, "what was produced is counted");
    assert_eq!(rows[0].3, 3);
}

#[tokio::test]
async fn conversations_are_listed_renamed_and_deleted_by_their_owner_only() {
    let (setup, _) = signed_in_on("PRO", &[]).await;
    let response = chat(&setup.app, json!({ "message": "Pertama" })).await;
    let id = events_of(response).await[0].1["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let list: Value = setup
        .app
        .get("/api/ai/conversations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["conversations"][0]["title"], "Pertama");

    let renamed = setup
        .app
        .client
        .patch(format!("{}/api/ai/conversations/{id}", setup.app.address))
        .header(header::ORIGIN, &setup.app.address)
        .json(&json!({ "title": "Ide usaha\r\nX-Evil: 1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(renamed["title"], "Ide usaha");

    // Someone else sees none of it.
    let other = setup.app.other_browser();
    other
        .sign_up_signed_in(
            &format!("other-{}@kilat.test", Uuid::new_v4().simple()),
            "Budi",
        )
        .await;
    assert_eq!(
        other
            .get(&format!("/api/ai/conversations/{id}"))
            .await
            .status(),
        404
    );
    let theirs: Value = other
        .get("/api/ai/conversations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["conversations"], json!([]));
    let continued = chat(
        &other,
        json!({ "message": "mine now", "conversation_id": id }),
    )
    .await;
    assert_eq!(
        continued.status(),
        404,
        "B cannot continue A's conversation"
    );
    let delete = |app: &TestApp| {
        app.client
            .delete(format!("{}/api/ai/conversations/{id}", app.address))
            .header(header::ORIGIN, &app.address)
            .send()
    };
    assert_eq!(delete(&other).await.unwrap().status(), 404);
    assert_eq!(delete(&setup.app).await.unwrap().status(), 204);
    assert_eq!(
        setup
            .app
            .get(&format!("/api/ai/conversations/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        setup
            .app
            .get("/api/ai/conversations/not-a-uuid")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn generation_streams_with_its_template_and_counts_as_generate() {
    let (setup, user) = signed_in_on("BASIC", &[]).await;
    let response = post_json(
        &setup.app,
        "/api/ai/generate",
        json!({ "template": "product_description", "input": "Kopi gayo 250 gram" }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let events = events_of(response).await;
    assert_eq!(events[0].1["conversation_id"], Value::Null);
    assert!(answer_text(&events).contains("Kopi gayo 250 gram"));
    assert_eq!(usage_rows(&setup.pool, user).await[0].1, "generate");
    let meter: Value = setup.app.get("/api/ai/usage").await.json().await.unwrap();
    assert_eq!(meter["plan"], "BASIC");
    assert_eq!(meter["allowance"], 10_000);
    assert!(meter["used"].as_u64().unwrap() > 0);
}
