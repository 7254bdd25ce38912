//! The middleware that applies the allowances, before routing reaches a handler.

use std::net::IpAddr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, HttpResponse};
use chat_domain::TokenHash;

use super::buckets::{Allowance, Verdict};
use crate::AppState;
use crate::account::AccountApi;
use crate::chatapi::ChatApi;
use crate::error::{Dialect, Failure, RequestError};
use crate::extract::caller::presented_credential;

const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Which allowance a request uses: a `POST` to a route whose pattern ends in `/messages`
/// or `/reactions` is a send (both dialects); anything else is a request.
fn allowance_of(req: &ServiceRequest) -> Allowance {
    let send = req.method() == Method::POST
        && req.match_pattern().is_some_and(|pattern| {
            pattern.ends_with("/messages") || pattern.ends_with("/reactions")
        });
    if send {
        Allowance::Sends
    } else {
        Allowance::Requests
    }
}

/// A 429 in the dialect of `path`, with `Retry-After`.
fn refusal(path: &str, retry_after: u64) -> HttpResponse {
    let failure = Failure::Request(RequestError::RateLimited { retry_after });
    let mut response = if crate::is_account_dialect(path) {
        AccountApi::render(&failure)
    } else {
        ChatApi::render(&failure)
    };
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

fn report(headers: &mut HeaderMap, verdict: &Verdict) {
    headers.insert(LIMIT, HeaderValue::from(verdict.limit));
    headers.insert(REMAINING, HeaderValue::from(verdict.remaining));
    headers.insert(RESET, HeaderValue::from(verdict.reset));
}

/// Applies the allowances to a request that presents a credential (in any of the
/// headers that carry one):
///
/// 1. a client address that failed authentication too often is refused (429), whatever
///    the credential;
/// 2. the credential's bucket (keyed by its SHA-256, the stored form) gives one request,
///    or a send from its smaller allowance, else 429 — before the handler, so nothing of
///    the request is read or stored;
/// 3. the answer reports the allowance in `X-RateLimit-*`, and a 401 counts as a failure
///    of the client address.
///
/// The platform token is a credential like the others: its own bucket, the same allowance.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = req.app_data::<Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let presented = presented_credential(req.headers());
    if matches!(presented, Ok(None)) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let limits = &state.limits;
    let forwarded = req
        .headers()
        .get(FORWARDED_FOR)
        .and_then(|value| value.to_str().ok());
    let address: Option<IpAddr> = limits
        .config()
        .trusted_proxies
        .client(req.peer_addr().map(|peer| peer.ip()), forwarded);
    if let Some(retry_after) = address.and_then(|address| limits.refused_address(address)) {
        let response = refusal(req.path(), retry_after);
        return Ok(req.into_response(response).map_into_right_body());
    }
    let verdict = match presented.ok().flatten() {
        Some(secret) => Some(
            limits
                .take_shared(allowance_of(&req), &TokenHash::of(&secret))
                .await,
        ),
        None => None,
    };
    if let Some(
        verdict @ Verdict {
            retry_after: Some(retry_after),
            ..
        },
    ) = verdict
    {
        let mut response = refusal(req.path(), retry_after);
        report(response.headers_mut(), &verdict);
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut response = next.call(req).await?;
    if response.status() == StatusCode::UNAUTHORIZED
        && let Some(address) = address
    {
        limits.record_failure(address);
    }
    if let Some(verdict) = verdict {
        report(response.headers_mut(), &verdict);
    }
    Ok(response.map_into_left_body())
}
