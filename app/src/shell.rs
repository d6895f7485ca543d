use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Link, Meta, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::components::layout::Layout;
use crate::components::theme::THEME_BOOT_SCRIPT;
use crate::i18n::use_locale;
use crate::pages::{
    admin::{
        AdminAiPage, AdminAuditPage, AdminMailPage, AdminPage, AdminPaymentPage, AdminPaymentsPage,
        AdminPeoplePage, AdminPersonPage, AdminSystemPage, AdminWaitlistPage, AdminWebhooksPage,
    },
    ai::{AiChatPage, AiGeneratePage},
    auth_error::AuthErrorPage,
    billing::{BillingPage, CheckoutPage, OrderPage},
    dashboard::DashboardPage,
    dev_mailbox::DevMailboxPage,
    forgot_password::ForgotPasswordPage,
    landing::LandingPage,
    legal::{PrivacyPage, TermsPage},
    login::LoginPage,
    magic_link_sent::MagicLinkSentPage,
    not_found::NotFound,
    outreach::{ContactPage, WaitlistPage},
    pricing::PricingPage,
    settings::SettingsPage,
    sign_up::SignUpPage,
    sign_up_success::SignUpSuccessPage,
    status::StatusPage,
    update_password::UpdatePasswordPage,
    verify_email::VerifyEmailPage,
};
use crate::t;

/// The site's public address (`SITE_URL`, no trailing slash), given as context: link previews
/// need absolute addresses.
#[derive(Clone, Debug, Default)]
pub struct SiteUrl(pub String);

/// Where avatars are served from: Supabase Storage's origin (`scheme://host[:port]` of
/// `SUPABASE_URL`), given as context so the page's policy lets those pictures load.
#[derive(Clone, Debug, Default)]
pub struct StorageOrigin(pub String);

/// The picture link previews show (1200 × 630, in `public/`).
const SHARE_IMAGE: &str = "/og.png";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    security::set_content_security_policy(&options);
    #[cfg(feature = "ssr")]
    let locale = crate::i18n::provide_request_locale();
    #[cfg(not(feature = "ssr"))]
    let locale = crate::i18n::use_locale();
    let nonce = use_nonce();
    view! {
        <!DOCTYPE html>
        <html lang=locale.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // Applies the stored theme before first paint, so dark mode never flashes white.
                <script nonce=nonce>{THEME_BOOT_SCRIPT}</script>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-white text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App/>
            </body>
        </html>
    }
}

/// Every page is rendered on the server, whole: `SsrMode::Async` waits for the page's data and
/// sends finished HTML, which needs no script to show and carries the status the data decided
/// (e.g. 404). Only `#[island]` components run in the browser.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale = use_locale();
    let site = use_context::<SiteUrl>().unwrap_or_default().0;

    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title formatter=|page: String| if page.is_empty() { "Kilat".to_string() } else { format!("{page} · Kilat") }/>
        <Meta property="og:site_name" content="Kilat"/>
        <Meta property="og:type" content="website"/>
        <Meta property="og:locale" content=match locale {
            crate::i18n::Locale::Id => "id_ID",
            crate::i18n::Locale::En => "en_US",
        }/>
        <Meta property="og:image" content=format!("{site}{SHARE_IMAGE}")/>
        <Meta property="og:image:width" content="1200"/>
        <Meta property="og:image:height" content="630"/>
        <Meta property="og:image:alt" content=t!(locale, layout.share_image_alt)/>
        <Meta name="twitter:card" content="summary_large_image"/>
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=LandingPage ssr=SsrMode::Async/>
                    <Route path=path!("/pricing") view=PricingPage ssr=SsrMode::Async/>
                    <Route path=path!("/waitlist") view=WaitlistPage ssr=SsrMode::Async/>
                    <Route path=path!("/contact") view=ContactPage ssr=SsrMode::Async/>
                    <Route path=path!("/terms") view=TermsPage ssr=SsrMode::Async/>
                    <Route path=path!("/privacy") view=PrivacyPage ssr=SsrMode::Async/>
                    <Route path=path!("/status") view=StatusPage ssr=SsrMode::Async/>
                    <Route path=path!("/dev/mailbox") view=DevMailboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/sign-up") view=SignUpPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/sign-up-success") view=SignUpSuccessPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/magic-link-sent") view=MagicLinkSentPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/verify-email") view=VerifyEmailPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/update-password") view=UpdatePasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/auth/error") view=AuthErrorPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard/settings") view=SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard/billing") view=BillingPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard/ai") view=AiChatPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard/ai/generate") view=AiGeneratePage ssr=SsrMode::Async/>
                    <Route path=path!("/checkout") view=CheckoutPage ssr=SsrMode::Async/>
                    <Route path=path!("/order/:id") view=OrderPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=AdminPeoplePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id") view=AdminPersonPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/payments") view=AdminPaymentsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/payments/:id") view=AdminPaymentPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/webhooks") view=AdminWebhooksPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=AdminAuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/waitlist") view=AdminWaitlistPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/ai") view=AdminAiPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/mail") view=AdminMailPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/system") view=AdminSystemPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// The Content-Security-Policy of the page a request renders. The shell writes it here (it knows
/// the nonce), and the server's `page_policy` middleware, which put this slot in the request,
/// sends it: a header set through Leptos' `ResponseOptions` was seen to go missing now and
/// then under concurrent navigations (a page then ran with the fallback policy, which blocks
/// its scripts), the slot never is.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub struct PagePolicy(std::sync::Arc<std::sync::Mutex<Option<String>>>);

#[cfg(feature = "ssr")]
impl PagePolicy {
    /// The policy the page asked for, if a page was rendered.
    pub fn take(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    fn set(&self, policy: String) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(policy);
    }
}

#[cfg(feature = "ssr")]
mod security {
    use leptos::config::{Env, LeptosOptions};
    use leptos::prelude::*;

    use super::PagePolicy;

    /// Asks for a Content-Security-Policy that admits only our own scripts (and the inline ones
    /// Leptos writes, by their per-response nonce), the WASM, and nothing framing the page.
    pub fn set_content_security_policy(options: &LeptosOptions) {
        let slot = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<PagePolicy>().cloned());
        let (Some(nonce), Some(slot)) = (use_nonce(), slot) else {
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
        let storage = use_context::<super::StorageOrigin>().unwrap_or_default().0;
        slot.set(format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: {storage}; \
             font-src 'self'; \
             connect-src {connect}; object-src 'none'; base-uri 'self'; form-action 'self'; \
             frame-ancestors 'none'"
        ));
    }
}
