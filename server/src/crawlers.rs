//! What search engines read: `/robots.txt` (the public pages may be crawled, accounts and APIs
//! not) and `/sitemap.xml` (every public page, with its Indonesian and English addresses as
//! `hreflang` alternates: `?lang=` picks a page's language over any other preference).

use app::i18n::Locale;
use app::pages::PUBLIC_PATHS;
use axum::{
    Router,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};

pub fn router<S: Clone + Send + Sync + 'static>(site_url: &str) -> Router<S> {
    let site = Site(site_url.trim_end_matches('/').to_string().into());
    Router::new()
        .route("/robots.txt", get(robots))
        .route("/sitemap.xml", get(sitemap))
        .with_state(site)
}

/// The public origin, `SITE_URL` without its trailing slash.
#[derive(Clone)]
struct Site(std::sync::Arc<str>);

async fn robots(State(Site(site)): State<Site>) -> Response {
    let body = format!(
        "User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /auth/\nDisallow: /dashboard\n\
         Disallow: /admin\nDisallow: /dev/\n\nSitemap: {site}/sitemap.xml\n"
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn sitemap(State(Site(site)): State<Site>) -> Response {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for path in PUBLIC_PATHS {
        let page = format!("{site}{path}");
        for locale in Locale::ALL {
            xml.push_str(&format!(
                "  <url>\n    <loc>{page}?lang={}</loc>\n",
                locale.code()
            ));
            for alternate in Locale::ALL {
                xml.push_str(&format!(
                    "    <xhtml:link rel=\"alternate\" hreflang=\"{0}\" href=\"{page}?lang={0}\"/>\n",
                    alternate.code()
                ));
            }
            xml.push_str(&format!(
                "    <xhtml:link rel=\"alternate\" hreflang=\"x-default\" href=\"{page}\"/>\n  </url>\n"
            ));
        }
    }
    xml.push_str("</urlset>\n");
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}
