use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Link, Meta, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute,
    components::{Route, Router, Routes},
    lazy_route, path,
};

use crate::components::layout::Layout;
use crate::components::theme::THEME_BOOT_SCRIPT;
use crate::pages::{
    admin::AdminPage, auth_error::AuthErrorPage, dashboard::DashboardPage,
    dev_mailbox::DevMailboxPage, forgot_password::ForgotPasswordPage, landing::LandingPage,
    login::LoginPage, magic_link_sent::MagicLinkSentPage, not_found::NotFound,
    settings::SettingsPage, sign_up::SignUpPage, sign_up_success::SignUpSuccessPage,
    update_password::UpdatePasswordPage, verify_email::VerifyEmailPage,
};

/// Every page but the landing page is a lazy route: with `cargo leptos --split` its code is a
/// separate WASM chunk, fetched when the page is first shown, so the landing page ships only
/// what it needs. (Without `--split` they are ordinary routes.)
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),+ $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    )+};
}

lazy_pages! {
    DevMailboxRoute => DevMailboxPage,
    LoginRoute => LoginPage,
    MagicLinkSentRoute => MagicLinkSentPage,
    SignUpRoute => SignUpPage,
    SignUpSuccessRoute => SignUpSuccessPage,
    VerifyEmailRoute => VerifyEmailPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    UpdatePasswordRoute => UpdatePasswordPage,
    AuthErrorRoute => AuthErrorPage,
    DashboardRoute => DashboardPage,
    SettingsRoute => SettingsPage,
    AdminRoute => AdminPage,
}

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    security::set_content_security_policy(&options);
    let nonce = use_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // Applies the stored theme before first paint, so dark mode never flashes white.
                <script nonce=nonce>{THEME_BOOT_SCRIPT}</script>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-white text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Marks the document once the WASM has taken over; end-to-end tests wait for it.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title formatter=|page: String| if page.is_empty() { "Kilat".to_string() } else { format!("{page} · Kilat") }/>
        <Meta name="description" content="Kilat: the full-stack Rust SaaS foundation for Indonesian products."/>
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=LandingPage/>
                    <Route path=path!("/dev/mailbox") view={Lazy::<DevMailboxRoute>::new()}/>
                    <Route path=path!("/auth/login") view={Lazy::<LoginRoute>::new()}/>
                    <Route path=path!("/auth/sign-up") view={Lazy::<SignUpRoute>::new()}/>
                    <Route path=path!("/auth/sign-up-success") view={Lazy::<SignUpSuccessRoute>::new()}/>
                    <Route path=path!("/auth/magic-link-sent") view={Lazy::<MagicLinkSentRoute>::new()}/>
                    <Route path=path!("/auth/verify-email") view={Lazy::<VerifyEmailRoute>::new()}/>
                    <Route path=path!("/auth/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()}/>
                    <Route path=path!("/auth/update-password") view={Lazy::<UpdatePasswordRoute>::new()}/>
                    <Route path=path!("/auth/error") view={Lazy::<AuthErrorRoute>::new()}/>
                    <Route path=path!("/dashboard") view={Lazy::<DashboardRoute>::new()}/>
                    <Route path=path!("/dashboard/settings") view={Lazy::<SettingsRoute>::new()}/>
                    <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()}/>
                </Routes>
            </Layout>
        </Router>
    }
}

#[cfg(feature = "ssr")]
mod security {
    use leptos::config::{Env, LeptosOptions};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    /// Sends a Content-Security-Policy that admits only our own scripts (and the inline ones
    /// Leptos writes, by their per-response nonce), the WASM, and nothing framing the page.
    pub fn set_content_security_policy(options: &LeptosOptions) {
        let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) else {
            return;
        };
        // In development cargo-leptos reloads the page over a websocket on its reload port.
        let connect = if options.env == Env::DEV {
            format!(
                "'self' ws://localhost:{0} ws://127.0.0.1:{0}",
                options.reload_port
            )
        } else {
            "'self'".to_string()
        };
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; \
             connect-src {connect}; object-src 'none'; base-uri 'self'; form-action 'self'; \
             frame-ancestors 'none'"
        );
        if let Ok(value) = http::HeaderValue::from_str(&policy) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}
