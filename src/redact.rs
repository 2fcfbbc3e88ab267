//! Keeping secrets out of everything tdg logs or stores: URLs lose their userinfo and
//! their key-like query parameters, and text loses `Authorization: Basic` credentials.
//!
//! A base URL may carry a secret (`http://user:KEY@host`, `?api_key=KEY`). Requests
//! need it, but the log, the checkpoint's settings, error messages and
//! `qa_generation_failures.jsonl` must not see it, so every URL that leaves the
//! provider module for a human or a file goes through [`url`] first, and every text a
//! server sent back through [`text`] (with the secrets known to the client).

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Query parameter names whose values are secrets (compared without case; a name
/// that ends in one of these, like `x-api-key` or `access_token`, counts too).
const SECRET_PARAMETERS: [&str; 6] = ["key", "api_key", "apikey", "token", "password", "secret"];

/// `url` without its userinfo and with the values of key-like query parameters
/// replaced: `http://u:KEY@host/p?key=K&x=1` becomes
/// `http://host/p?key=[REDACTED]&x=1`. Text that is not a URL comes back as is.
pub fn url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let (scheme, rest) = url.split_at(scheme_end);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let (path, query_and_fragment) = tail.split_at(tail.find('?').unwrap_or(tail.len()));
    let mut out = format!("{scheme}{host}{path}");
    if let Some(query_and_fragment) = query_and_fragment.strip_prefix('?') {
        let (query, fragment) = query_and_fragment
            .split_once('#')
            .map_or((query_and_fragment, None), |(q, f)| (q, Some(f)));
        let parameters: Vec<String> = query
            .split('&')
            .map(|parameter| match parameter.split_once('=') {
                Some((name, _)) if is_secret_parameter(name) => format!("{name}={REDACTED}"),
                _ => parameter.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&parameters.join("&"));
        if let Some(fragment) = fragment {
            out.push('#');
            out.push_str(fragment);
        }
    }
    out
}

fn is_secret_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    SECRET_PARAMETERS
        .iter()
        .any(|secret| name == *secret || name.ends_with(&format!("_{secret}")))
}

/// The secrets a URL carries (its userinfo's password, and the values
/// of key-like query parameters), and the base64 form of its `user:password` that
/// goes out in an `Authorization: Basic` header, for [`text`] to remove.
pub fn secrets_in_url(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let Some(rest) = url.split_once("://").map(|(_, rest)| rest) else {
        return secrets;
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        secrets.push(basic_credentials(userinfo));
        if let Some((_, password)) = userinfo.split_once(':') {
            secrets.push(password.to_string());
        }
    }
    if let Some((_, query)) = rest.split_once('?') {
        let query = query.split('#').next().unwrap_or_default();
        secrets.extend(
            query
                .split('&')
                .filter_map(|parameter| parameter.split_once('='))
                .filter(|(name, _)| is_secret_parameter(name))
                .map(|(_, value)| value.to_string()),
        );
    }
    secrets.retain(|secret| secret.len() >= 4);
    secrets
}

/// `text` with each of `secrets` and every `Basic <credentials>` replaced.
pub fn text(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|secret| secret.len() >= 4) {
        out = out.replace(secret.as_str(), REDACTED);
    }
    redact_basic_credentials(&out)
}

/// Replaces the credentials after every `Basic ` (any case), as an echoed
/// `Authorization: Basic dXNlcjpLRVk=` header would show them.
fn redact_basic_credentials(text: &str) -> String {
    const SCHEME: &str = "basic ";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find(SCHEME) {
        let start = search + found + SCHEME.len();
        let credentials = text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || "+/=-_.".contains(c)))
            .unwrap_or(text.len() - start);
        search = start + credentials;
        if credentials > 0 && !text[start..search].starts_with(REDACTED) {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = search;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The base64 of `userinfo`, as it travels in an `Authorization: Basic` header.
fn basic_credentials(userinfo: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(userinfo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_userinfo_and_key_parameters() {
        assert_eq!(
            url("http://user:SECRET@127.0.0.1:8080/v1?key=K1&x=1&api_key=K2&access_token=K3#f"),
            "http://127.0.0.1:8080/v1?key=[REDACTED]&x=1&api_key=[REDACTED]&access_token=[REDACTED]#f"
        );
        assert_eq!(url("https://api.openai.com"), "https://api.openai.com");
        assert_eq!(
            url("http://a@b@host?token=t"),
            "http://host?token=[REDACTED]"
        );
        assert_eq!(url("not a url"), "not a url");
    }

    #[test]
    fn text_loses_the_secrets_their_base64_and_basic_credentials() {
        let secrets = secrets_in_url("http://user:SECRET@host/?api_key=QUERYKEY");
        assert!(
            secrets.contains(&"dXNlcjpTRUNSRVQ=".to_string()),
            "{secrets:?}"
        );
        let echoed =
            "bad auth SECRET (authorization: Basic dXNlcjpTRUNSRVQ=, key QUERYKEY) basic Zm9v";
        let clean = text(echoed, &secrets);
        assert_eq!(
            clean,
            "bad auth [REDACTED] (authorization: Basic [REDACTED], key [REDACTED]) basic [REDACTED]"
        );
        assert_eq!(text("Basic", &[]), "Basic");
    }
}
