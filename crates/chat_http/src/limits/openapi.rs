//! The 429 in the OpenAPI document: written once, added to every operation that answers
//! 401 (the routes that take a credential), in that route's own error shape.

use utoipa::openapi::header::Header;
use utoipa::openapi::{Object, OpenApi, RefOr, Response, Type};

fn integer_header(description: &str) -> Header {
    let mut header = Header::new(Object::with_type(Type::Integer));
    header.description = Some(description.to_owned());
    header
}

/// The headers of every answer to a credential, and of its 429.
fn rate_headers(response: &mut Response) {
    for (name, description) in [
        ("X-RateLimit-Limit", "The allowance this request used"),
        ("X-RateLimit-Remaining", "What is left of it"),
        ("X-RateLimit-Reset", "When it is whole again (unix seconds)"),
    ] {
        response
            .headers
            .insert(name.to_owned(), RefOr::T(integer_header(description)));
    }
}

/// Adds `429` (with `Retry-After` and `X-RateLimit-*`) to every operation that answers
/// `401`, with the body of that `401` (so each dialect's error shape), and documents the
/// `X-RateLimit-*` headers on its other answers.
pub fn document_rate_limits(api: &mut OpenApi) {
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            let Some(RefOr::T(unauthorized)) = responses.get("401") else {
                continue;
            };
            let mut limited = Response::new(
                "Too many requests: the credential's allowance is spent, or the client address \
                 failed authentication too often (RATE_LIMITED / `Too many requests`); retry \
                 after Retry-After seconds",
            );
            limited.content = unauthorized.content.clone();
            limited.headers.insert(
                "Retry-After".to_owned(),
                RefOr::T(integer_header("Seconds to wait")),
            );
            for response in responses.values_mut() {
                if let RefOr::T(response) = response {
                    rate_headers(response);
                }
            }
            rate_headers(&mut limited);
            responses.insert("429".to_owned(), RefOr::T(limited));
        }
    }
}
