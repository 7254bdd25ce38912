//! Multipart uploads: building a `multipart/form-data` body, and sending it.

use awc::http::Method;

use crate::app::{Reply, TestApp};

/// A `multipart/form-data` body of text `fields` and `files` (`(field, file name, bytes)`);
/// answers its content type (with the boundary) and its bytes.
pub fn multipart_body(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "chat-tests-boundary-7d1f0c9a2b3e4f5a";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// The first bytes of a PNG file (its signature and an IHDR chunk of a 1×1 image).
pub const PNG_BYTES: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, b'I', b'H', b'D', b'R',
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89,
];

impl TestApp {
    /// Sends raw `body` with the given `content_type` (e.g. a multipart body).
    pub async fn send_as(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self.client.request(method.clone(), self.url(path));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let response = request
            .insert_header(("content-type", content_type))
            .send_body(body)
            .await
            .expect("the request is answered");
        self.reply(&method, path, response).await
    }
}
