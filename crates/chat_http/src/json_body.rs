//! JSON response bodies written into one buffer per thread.
//!
//! actix-web's `HttpResponseBuilder::json` serializes into a fresh `String` that starts at
//! 128 bytes and doubles as it fills: a page of 50 messages (25–35 KiB) is copied through
//! nine ever larger blocks, and each large request to the allocator makes glibc's malloc
//! first consolidate the small blocks freed since. Here each worker thread keeps one
//! buffer that has grown to its largest body, serializes into it, and copies the result
//! into a body of exactly its size: one allocation a response.

use std::cell::Cell;

use actix_web::HttpResponse;
use actix_web::HttpResponseBuilder;
use actix_web::error::JsonPayloadError;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use serde::Serialize;

/// What a thread's buffer starts with.
const START: usize = 16 * 1024;
/// A buffer that grew past this for one large body is not kept for the next.
const KEEP: usize = 1024 * 1024;

thread_local! {
    static BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The response with `value` as its JSON body (`application/json`), or a 500 if it cannot
/// be serialized (as `HttpResponseBuilder::json` answers).
pub fn json<T: Serialize + ?Sized>(mut response: HttpResponseBuilder, value: &T) -> HttpResponse {
    match to_bytes(value) {
        Ok(body) => response.insert_header(ContentType::json()).body(body),
        Err(error) => HttpResponse::from_error(JsonPayloadError::Serialize(error)),
    }
}

/// `value` as JSON, written into this thread's buffer and copied out at its size.
fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, serde_json::Error> {
    let mut buffer = BUFFER.take();
    buffer.clear();
    if buffer.capacity() == 0 {
        buffer.reserve(START);
    }
    let written =
        serde_json::to_writer(&mut buffer, value).map(|()| Bytes::copy_from_slice(&buffer));
    if buffer.capacity() <= KEEP {
        BUFFER.set(buffer);
    }
    written
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use serde_json::json;

    use super::*;

    #[test]
    fn bodies_are_the_values_json_whatever_came_before() {
        let big = json!({ "data": vec!["x".repeat(100); 500], "status": "success" });
        let small = json!({ "status": "ok" });
        for value in [&big, &small, &big, &small] {
            let response = json(HttpResponse::Ok(), value);
            assert_eq!(response.status(), 200);
            let content_type = response.headers().get("content-type").cloned();
            assert_eq!(
                content_type.as_ref().map(|v| v.as_bytes()),
                Some(&b"application/json"[..])
            );
            let body = response.into_body().try_into_bytes().unwrap_or_default();
            let read: serde_json::Value =
                serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
            assert_eq!(&read, value);
        }
    }

    #[test]
    fn a_huge_body_is_not_kept_for_the_next() {
        let huge = "x".repeat(2 * KEEP);
        assert_eq!(to_bytes(&huge).map(|b| b.len()).ok(), Some(huge.len() + 2));
        assert_eq!(BUFFER.take().capacity(), 0);
        assert_eq!(
            to_bytes("small").ok(),
            Some(Bytes::from_static(b"\"small\""))
        );
        assert!(BUFFER.take().capacity() >= START);
    }

    #[test]
    fn values_that_cannot_be_json_are_a_500() {
        let map = std::collections::HashMap::from([((1, 2), "tuple keys are not JSON")]);
        assert_eq!(json(HttpResponse::Ok(), &map).status(), 500);
    }
}
