//! Avatars through HTTP, as a browser uploads them, stored in the local Storage twin over
//! Storage's real protocol.

use std::time::Duration;

use app::avatar::{REMOVE_PATH, UPLOAD_PATH};
use image::ImageFormat;
use reqwest::{Response, header};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};
use crate::pictures::{GPS, contains, picture, png_declaring, png_of_exactly, with_exif_gps};

const TWO_MIB: usize = 2 * 1024 * 1024;

/// A server where sign-up signs in at once, and Ana signed in on it.
async fn ana(vars: &[(&str, &str)]) -> (TestApp, PgPool, Uuid) {
    let mut all = vec![("LOCAL_AUTH_EMAIL_CONFIRMATION", "false")];
    all.extend_from_slice(vars);
    let (app, pool) = spawn_app_with(&all).await;
    app.sign_up_signed_in("ana@kilat.test", "Ana Putri").await;
    let id = user_id(&pool, "ana@kilat.test").await;
    (app, pool, id)
}

async fn user_id(pool: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar("select id from auth.users where email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Uploads `file` as the settings page's script does: the raw file, asking for JSON.
async fn upload(app: &TestApp, file: Vec<u8>, declared_type: &str) -> Response {
    app.client
        .post(format!("{}{UPLOAD_PATH}", app.address))
        .header(header::ORIGIN, &app.address)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, declared_type)
        .body(file)
        .send()
        .await
        .unwrap()
}

/// Posts `file` as a form without JavaScript does: `multipart/form-data`, the file in `avatar`.
async fn upload_form(app: &TestApp, file: &[u8], file_name: &str, declared_type: &str) -> Response {
    let boundary = "kilat-test-boundary-7d1e";
    let body = [
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"{file_name}\"\r\nContent-Type: {declared_type}\r\n\r\n"
        )
        .as_bytes(),
        file,
        format!("\r\n--{boundary}--\r\n").as_bytes(),
    ]
    .concat();
    app.client
        .post(format!("{}{UPLOAD_PATH}", app.address))
        .header(header::ORIGIN, &app.address)
        .header(header::ACCEPT, "text/html")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The profile's avatar columns (path, whether a time is set) and the objects in Ana's folder.
async fn stored(pool: &PgPool, user: Uuid) -> (Option<String>, bool, i64) {
    let (path, dated): (Option<String>, bool) = sqlx::query_as(
        "select avatar_path, avatar_updated_at is not null from public.profiles where id = $1",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .unwrap();
    let objects: i64 = sqlx::query_scalar(
        "select count(*) from storage.objects where bucket_id = 'avatars' and name like $1",
    )
    .bind(format!("{user}/%"))
    .fetch_one(pool)
    .await
    .unwrap();
    (path, dated, objects)
}

async fn json(response: Response) -> serde_json::Value {
    response.json().await.unwrap()
}

/// Fetches a signed URL as a browser's `<img>` does.
async fn fetch(url: &str) -> (u16, Vec<u8>, Option<String>) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    (
        status,
        response.bytes().await.unwrap().to_vec(),
        content_type,
    )
}

#[tokio::test]
async fn exactly_two_mebibytes_is_accepted_and_one_byte_more_is_refused_with_nothing_stored() {
    let (app, pool, ana) = ana(&[]).await;
    let too_big = upload(&app, png_of_exactly(TWO_MIB + 1), "image/png").await;
    assert_eq!(too_big.status(), 413);
    assert_eq!(json(too_big).await["code"], "avatar_too_large");
    assert_eq!(stored(&pool, ana).await, (None, false, 0));

    let fits = upload(&app, png_of_exactly(TWO_MIB), "image/png").await;
    assert_eq!(fits.status(), 200);
    let url = json(fits).await["url"].as_str().unwrap().to_string();
    assert_eq!(
        stored(&pool, ana).await,
        (Some(format!("{ana}/avatar")), true, 1)
    );
    let (status, bytes, content_type) = fetch(&url).await;
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("image/png"));
    assert_eq!(image::guess_format(&bytes).unwrap(), ImageFormat::Png);
    // Stored anew: the 2 MiB of padding did not travel with the picture.
    assert!(bytes.len() < 64 * 1024, "{} bytes", bytes.len());
}

#[tokio::test]
async fn each_picture_type_becomes_the_avatar_in_the_header() {
    let (app, _, _) = ana(&[]).await;
    for (format, mime) in [
        (ImageFormat::Jpeg, "image/jpeg"),
        (ImageFormat::Png, "image/png"),
        (ImageFormat::WebP, "image/webp"),
        (ImageFormat::Gif, "image/gif"),
    ] {
        // The declared type is ignored: the bytes decide.
        let response = upload(&app, picture(format, 300, 200), "application/octet-stream").await;
        assert_eq!(response.status(), 200, "{mime}");
        let url = json(response).await["url"].as_str().unwrap().to_string();
        let (status, bytes, content_type) = fetch(&url).await;
        assert_eq!((status, content_type.as_deref()), (200, Some(mime)));
        assert_eq!(image::guess_format(&bytes).unwrap(), format);

        let dashboard = app.page("/dashboard").await;
        assert!(
            dashboard.contains(&format!(r#"src="{}""#, url.replace('&', "&amp;"))),
            "{mime}: the header shows the new picture"
        );
        assert!(!dashboard.contains(r#"data-testid="avatar-initials""#));
    }
}

#[tokio::test]
async fn hostile_files_are_refused_with_the_reason_in_the_persons_language() {
    let (app, pool, ana) = ana(&[]).await;
    let jpeg = picture(ImageFormat::Jpeg, 400, 400);
    let gif = picture(ImageFormat::Gif, 16, 16);
    let cases: Vec<(&str, Vec<u8>, &str, u16)> = vec![
        (
            "svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
            "avatar_not_a_picture",
            415,
        ),
        (
            "html",
            b"<!doctype html><script>alert(1)</script>".to_vec(),
            "avatar_not_a_picture",
            415,
        ),
        (
            "png header on garbage",
            [b"\x89PNG\r\n\x1a\n".as_slice(), &[0x42; 500]].concat(),
            "avatar_damaged",
            422,
        ),
        (
            "an ELF program",
            [b"\x7fELF\x02\x01\x01\0".as_slice(), &[0; 500]].concat(),
            "avatar_not_a_picture",
            415,
        ),
        (
            "a GIF/HTML polyglot",
            [
                gif.as_slice(),
                b"<html><script>alert(document.cookie)</script>",
            ]
            .concat(),
            "avatar_hidden_content",
            422,
        ),
        (
            "a truncated JPEG",
            jpeg[..jpeg.len() * 2 / 3].to_vec(),
            "avatar_damaged",
            422,
        ),
        (
            "a 30000 x 30000 PNG",
            png_declaring(30_000, 30_000),
            "avatar_too_many_pixels",
            422,
        ),
        (
            "a 10000 x 9000 PNG (each side allowed, 90 megapixels not)",
            png_declaring(10_000, 9_000),
            "avatar_too_many_pixels",
            422,
        ),
        ("nothing", Vec::new(), "avatar_missing", 400),
    ];
    for (what, file, code, status) in cases {
        let response = upload(&app, file.clone(), "image/png").await;
        assert_eq!(response.status(), status, "{what}");
        let answer = json(response).await;
        assert_eq!(answer["code"], code, "{what}");
        assert!(answer["message"].as_str().unwrap().len() > 10, "{what}");

        // Posted as a form named like a picture, it comes back to settings with the reason.
        let response = upload_form(&app, &file, "me.png", "image/png").await;
        assert_eq!(response.status(), 303, "{what}");
        assert_eq!(
            response.headers()[header::LOCATION],
            format!("/dashboard/settings?error={code}#avatar").as_str(),
            "{what}"
        );
    }
    assert_eq!(stored(&pool, ana).await, (None, false, 0), "nothing stored");

    let indonesian = app
        .client
        .post(format!("{}{UPLOAD_PATH}?lang=id", app.address))
        .header(header::ORIGIN, &app.address)
        .header(header::ACCEPT, "application/json")
        .body(b"<svg/>".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(indonesian).await["message"],
        "Berkas itu bukan gambar JPEG, PNG, WebP, atau GIF."
    );
}

#[tokio::test]
async fn what_storage_serves_has_no_exif_or_gps() {
    let (app, _, _) = ana(&[]).await;
    let photo = with_exif_gps(&picture(ImageFormat::Jpeg, 640, 480));
    assert!(contains(&photo, GPS));
    let response = upload_form(&app, &photo, "holiday.jpg", "image/jpeg").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()[header::LOCATION],
        "/dashboard/settings?notice=avatar_saved#avatar"
    );
    let dashboard = app.page("/dashboard").await;
    let url = dashboard
        .split(r#"data-testid="avatar-picture""#)
        .next()
        .and_then(|before| before.rsplit("src=\"").next())
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let (status, bytes, _) = fetch(&url).await;
    assert_eq!(status, 200, "{url}");
    assert_eq!(image::guess_format(&bytes).unwrap(), ImageFormat::Jpeg);
    assert!(!contains(&bytes, GPS));
    assert!(!contains(&bytes, b"Exif"));
}

#[tokio::test]
async fn a_signed_url_serves_only_its_own_picture() {
    let (app, pool, ana) = ana(&[]).await;
    let budi = app.other_browser();
    budi.sign_up_signed_in("budi@kilat.test", "Budi").await;
    let budi_id = user_id(&pool, "budi@kilat.test").await;
    let ana_url =
        json(upload(&app, picture(ImageFormat::Png, 64, 64), "image/png").await).await["url"]
            .as_str()
            .unwrap()
            .to_string();
    let budi_upload = upload(&budi, picture(ImageFormat::Gif, 64, 64), "image/gif").await;
    assert_eq!(budi_upload.status(), 200);
    assert_eq!(fetch(&ana_url).await.0, 200);

    let refused = |status: u16, what: &str| {
        assert!((400..500).contains(&status), "{what}: {status}");
    };
    // Ana's token on Budi's picture.
    let (path, query) = ana_url.split_once('?').unwrap();
    let budi_path = format!(
        "{}?{query}",
        path.replace(&ana.to_string(), &budi_id.to_string())
    );
    let (status, bytes, _) = fetch(&budi_path).await;
    refused(status, "another person's path");
    assert!(image::guess_format(&bytes).is_err(), "no picture served");
    // A path changed by one letter, a token changed by one letter.
    refused(fetch(&format!("{path}x?{query}")).await.0, "a longer path");
    refused(fetch(&format!("{ana_url}A")).await.0, "a tampered token");
}

#[tokio::test]
async fn two_uploads_at_once_leave_one_object_and_a_profile_naming_the_last() {
    let (app, pool, ana) = ana(&[]).await;
    let (first, second) = tokio::join!(
        upload(&app, picture(ImageFormat::Png, 120, 120), "image/png"),
        upload(&app, picture(ImageFormat::Jpeg, 90, 90), "image/jpeg"),
    );
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    assert_eq!(
        stored(&pool, ana).await,
        (Some(format!("{ana}/avatar")), true, 1)
    );
    // The row and the object agree: the stored type is the one the profile's last change made.
    let audits: i64 = sqlx::query_scalar(
        "select count(*) from public.audit_logs where action = 'avatar.updated' and target_id = $1",
    )
    .bind(ana.to_string())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audits, 2);
    let (last_type,): (String,) = sqlx::query_as(
        "select metadata ->> 'content_type' from public.audit_logs
         where action = 'avatar.updated' and target_id = $1 order by id desc limit 1",
    )
    .bind(ana.to_string())
    .fetch_one(&pool)
    .await
    .unwrap();
    let stored_type: String = sqlx::query_scalar(
        "select metadata ->> 'mimetype' from storage.objects where bucket_id = 'avatars' and name = $1",
    )
    .bind(format!("{ana}/avatar"))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored_type, last_type);
}

#[tokio::test]
async fn removing_the_avatar_deletes_the_object_and_the_header_shows_initials_again() {
    let (app, pool, ana) = ana(&[]).await;
    assert_eq!(
        upload(&app, picture(ImageFormat::Png, 64, 64), "image/png")
            .await
            .status(),
        200
    );
    let removed = app.post_form(REMOVE_PATH, &[]).await;
    assert_eq!(removed.status(), 303);
    assert_eq!(
        removed.headers()[header::LOCATION],
        "/dashboard/settings?notice=avatar_removed#avatar"
    );
    assert_eq!(stored(&pool, ana).await, (None, false, 0));
    let dashboard = app.page("/dashboard").await;
    assert!(dashboard.contains(r#"data-testid="avatar-initials""#));
    assert!(dashboard.contains(">AP</span>"), "Ana Putri's initials");
    // Removing again is no error.
    assert_eq!(app.post_form(REMOVE_PATH, &[]).await.status(), 303);
    let audits: Vec<String> = sqlx::query_scalar(
        "select action from public.audit_logs where target_id = $1 and action like 'avatar.%' order by id",
    )
    .bind(ana.to_string())
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(audits, ["avatar.updated", "avatar.removed"]);
}

#[tokio::test]
async fn pages_reuse_a_signed_url_instead_of_signing_at_every_render() {
    let (app, _, _) = ana(&[]).await;
    let first =
        json(upload(&app, picture(ImageFormat::Png, 64, 64), "image/png").await).await["url"]
            .as_str()
            .unwrap()
            .replace('&', "&amp;");
    // Spread over more than two seconds: a URL signed anew would carry a later `iat`.
    for render in 0..100 {
        let page = app.page("/dashboard").await;
        assert!(page.contains(&first), "render {render} shows the first URL");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_visitor_cannot_upload_and_a_person_is_limited() {
    let (app, _, _) = ana(&[("RATE_LIMIT_AVATAR", "2/1h")]).await;
    let visitor = app.other_browser();
    let response = upload(&visitor, picture(ImageFormat::Png, 8, 8), "image/png").await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(response).await["code"], "not_signed_in");

    for _ in 0..2 {
        let response = upload(&app, picture(ImageFormat::Png, 8, 8), "image/png").await;
        assert_eq!(response.status(), 200);
    }
    let refused = upload(&app, picture(ImageFormat::Png, 8, 8), "image/png").await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(json(refused).await["code"], "rate_limited");

    // From another site, refused before anything is read.
    let cross_site = app
        .client
        .post(format!("{}{UPLOAD_PATH}", app.address))
        .header(header::ORIGIN, "https://evil.example")
        .body(picture(ImageFormat::Png, 8, 8))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
}
