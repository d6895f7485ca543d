//! How a capability's error travels from a server function to the browser: a stable code (and,
//! for people reading the raw answer, the fixed message it stands for) with the HTTP status the
//! refusal deserves. Only real faults answer 5xx.

use serde::{Deserialize, Serialize};

/// The JSON body of a refused server function, e.g.
/// `{"code":"invalid_credentials","message":"That email and password …"}`.
///
/// Decoding reads only `code` (and the numbers): the words shown are always the fixed message
/// of that code, so a crafted `__err` in a link cannot put its own text on a page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub code: String,
    #[serde(default)]
    pub message: String,
    /// The form field a field error belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

/// What a server function's own plumbing (not its body) failed at, in the terms a capability's
/// error enum needs: the request could not be read, or the server could not be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlumbingFailure {
    /// The arguments were missing or malformed (400).
    BadRequest,
    /// The body was larger than the server accepts (413).
    TooLarge,
    /// The browser could not reach the server, or could not read its answer.
    Unreachable,
    /// Anything else: a fault on our side.
    Fault,
}

impl PlumbingFailure {
    pub fn of(error: &leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match error {
            E::Args(_) | E::MissingArg(_) => PlumbingFailure::BadRequest,
            // On the server, reading the request body (too long, not UTF-8); in the browser,
            // reading the answer.
            E::Deserialization(message) if cfg!(feature = "ssr") => {
                if message.contains("length limit") {
                    PlumbingFailure::TooLarge
                } else {
                    PlumbingFailure::BadRequest
                }
            }
            E::Request(_) | E::Deserialization(_) => PlumbingFailure::Unreachable,
            _ => PlumbingFailure::Fault,
        }
    }
}

/// Gives the server function's answer the refusal's HTTP status. A plain form post (a browser
/// without JavaScript, `Accept: text/html`) is left alone: server functions answer it with a
/// redirect back to the form carrying the error, which a 4xx would keep the browser from
/// following.
#[cfg(feature = "ssr")]
pub fn answer_status(status: u16) {
    use leptos::prelude::use_context;
    let plain_form_post = use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    });
    if plain_form_post {
        return;
    }
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(status),
    ) {
        response.set_status(status);
    }
}

/// Implements `FromServerFnError` for a capability error that converts to and from
/// [`WireError`] and has `status()` and `from_plumbing()`: JSON on the wire, and the answer
/// gets the error's status when it is encoded (so no server function can forget it).
#[macro_export]
macro_rules! refusal_over_the_wire {
    ($error:ty) => {
        impl leptos::server_fn::error::FromServerFnError for $error {
            type Encoder = leptos::server_fn::codec::JsonEncoding;

            fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
                let failure = $crate::refusal::PlumbingFailure::of(&value);
                if failure == $crate::refusal::PlumbingFailure::Fault {
                    leptos::logging::error!("server function failed: {value}");
                }
                Self::from_plumbing(failure)
            }

            fn ser(&self) -> leptos::server_fn::Bytes {
                #[cfg(feature = "ssr")]
                $crate::refusal::answer_status(self.status());
                <leptos::server_fn::codec::JsonEncoding as leptos::server_fn::Encodes<Self>>::encode(
                    self,
                )
                .unwrap_or_else(|_| leptos::server_fn::Bytes::from_static(br#"{"code":"unavailable"}"#))
            }
        }
    };
}

/// The error of a server function that refuses nothing of its own (a development page, a
/// read-only probe): only the plumbing can fail, and a malformed request is still a 4xx.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "WireError", from = "WireError")]
pub enum RequestError {
    BadRequest,
    TooLarge,
    Unreachable,
    Unavailable,
}

/// In English: logs and API readers.
impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message(crate::i18n::Locale::En))
    }
}

impl std::error::Error for RequestError {}

impl RequestError {
    /// What the person reads, in `locale`.
    pub fn message(&self, locale: crate::i18n::Locale) -> &'static str {
        match self {
            RequestError::BadRequest => crate::t!(locale, errors.request_bad),
            RequestError::TooLarge => crate::t!(locale, errors.request_too_large),
            RequestError::Unreachable => crate::t!(locale, errors.unreachable),
            RequestError::Unavailable => crate::t!(locale, errors.unavailable),
        }
    }

    const ALL: [RequestError; 4] = [
        RequestError::BadRequest,
        RequestError::TooLarge,
        RequestError::Unreachable,
        RequestError::Unavailable,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            RequestError::BadRequest => "bad_request",
            RequestError::TooLarge => "too_large",
            RequestError::Unreachable => "unreachable",
            RequestError::Unavailable => "unavailable",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            RequestError::BadRequest => 400,
            RequestError::TooLarge => 413,
            RequestError::Unreachable | RequestError::Unavailable => 503,
        }
    }

    fn from_plumbing(failure: PlumbingFailure) -> Self {
        match failure {
            PlumbingFailure::BadRequest => RequestError::BadRequest,
            PlumbingFailure::TooLarge => RequestError::TooLarge,
            PlumbingFailure::Unreachable => RequestError::Unreachable,
            PlumbingFailure::Fault => RequestError::Unavailable,
        }
    }
}

impl From<RequestError> for WireError {
    fn from(error: RequestError) -> Self {
        WireError {
            code: error.code().to_string(),
            message: error.to_string(),
            field: None,
            retry_after_secs: None,
        }
    }
}

impl From<WireError> for RequestError {
    fn from(wire: WireError) -> Self {
        RequestError::ALL
            .into_iter()
            .find(|error| error.code() == wire.code)
            .unwrap_or(RequestError::Unavailable)
    }
}

crate::refusal_over_the_wire!(RequestError);
