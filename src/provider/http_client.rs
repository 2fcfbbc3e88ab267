//! The HTTP client the providers share: timeouts, a pool sized for the requests in
//! flight, and a trust store only where it is needed.

use super::settings::{ModelSettings, ProviderKind};

/// A client for `settings`, sized for `concurrency` requests at once.
pub(super) fn build(
    settings: &ModelSettings,
    concurrency: usize,
) -> reqwest::Result<reqwest::Client> {
    crate::net::install_tls_provider();
    let http = reqwest::Client::builder()
        .timeout(settings.request_timeout)
        .connect_timeout(settings.patience.connect_timeout)
        .pool_max_idle_per_host(concurrency.max(1))
        .user_agent(concat!("tdg/", env!("CARGO_PKG_VERSION")));
    let plain_http = settings.provider == ProviderKind::Embedded
        || settings.base_urls.iter().all(|url| {
            url.get(..7)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
        });
    if !plain_http {
        return http.build();
    }
    // Plain HTTP (a local server) and the in-process engine need no trust store:
    // loading the system's certificates is most of the start-up time before the first
    // request, and fails where none are installed. A redirect to https is then
    // refused, saying so.
    http.tls_certs_only([])
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().scheme() == "https" {
                attempt.error("the server redirects to https: give --base-url the https:// address")
            } else if attempt.previous().len() >= 10 {
                attempt.error("too many redirects")
            } else {
                attempt.follow()
            }
        }))
        .build()
}
