//! The OpenAPI document as the judge of every answer: the harness fetches `/openapi.json`
//! from the first server it starts, and checks each [`Reply`] it reads against it (the
//! status is documented for the operation, the body is valid against the schema
//! documented for that status and content type). A violation fails the test that saw it.
//!
//! A path the document does not have must answer 404, and a method a documented path does
//! not have 405 with `Allow`, each in the error shape of the path's dialect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use awc::http::Method;
use jsonschema::Validator;
use serde_json::{Value, json};

use crate::reply::Reply;

/// The error schema of each dialect, as named in the document's components.
const ACCOUNT_ERROR: &str = "AccountError";
const CHATAPI_ERROR: &str = "ChatApiError";

/// The served document, with its schemas compiled on first use.
pub struct ApiDocument {
    document: Value,
    /// Each documented path, split into segments (`None` for a `{parameter}`).
    paths: Vec<(String, Vec<Option<String>>)>,
    compiled: Mutex<HashMap<String, Arc<Validator>>>,
}

impl std::fmt::Debug for ApiDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiDocument")
            .field("paths", &self.paths.len())
            .finish_non_exhaustive()
    }
}

static DOCUMENT: OnceLock<ApiDocument> = OnceLock::new();

/// The document of this test process, once fetched.
pub fn api_document() -> Option<&'static ApiDocument> {
    DOCUMENT.get()
}

/// Keeps the first document fetched in this process (every server of it is the same binary).
pub(crate) fn remember_document(document: Value) -> &'static ApiDocument {
    if DOCUMENT.get().is_none() {
        // A concurrent first fetch may win; both documents are the same.
        let _ = DOCUMENT.set(ApiDocument::new(document));
    }
    DOCUMENT.get().expect("the document was just set")
}

/// `/a/b/` and `/a//b?x=1` as the server routes them (`NormalizePath::trim`): `/a/b`.
fn normalise(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    format!("/{}", segments.join("/"))
}

fn segments(template: &str) -> Vec<Option<String>> {
    template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
        .collect()
}

/// The account dialect's paths (the platform API speaks it); every other path speaks ChatAPI.
fn error_schema_of(path: &str) -> &'static str {
    if path.starts_with("/api/v1/accounts") || path.starts_with("/platform/") {
        ACCOUNT_ERROR
    } else {
        CHATAPI_ERROR
    }
}

impl ApiDocument {
    /// Wraps a document (as served at `/openapi.json`).
    pub fn new(document: Value) -> Self {
        let paths = document["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .keys()
                    .map(|template| (template.clone(), segments(template)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            document,
            paths,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The whole document.
    pub fn json(&self) -> &Value {
        &self.document
    }

    /// The documented path that `path` is an instance of: literal segments win over
    /// parameters, as the server's routes do (`/clients/me` before `/clients/{id}`).
    fn template_of(&self, path: &str) -> Option<&str> {
        let path = normalise(path);
        let mut wanted: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // `/files/{key}` is served as `/files/{key:.*}`, `/app/{path}` as `/app/{path:.+}`:
        // the key spans segments.
        if matches!(wanted.first(), Some(&("files" | "app"))) && wanted.len() > 2 {
            wanted.truncate(2);
        }
        self.paths
            .iter()
            .filter(|(_, template)| {
                template.len() == wanted.len()
                    && template
                        .iter()
                        .zip(&wanted)
                        .all(|(t, w)| t.as_deref().is_none_or(|t| t == *w))
            })
            .max_by_key(|(_, template)| template.iter().filter(|s| s.is_some()).count())
            .map(|(name, _)| name.as_str())
    }

    /// Checks one answer to `method path`; `Err` says what is wrong.
    pub fn check(&self, method: &Method, path: &str, reply: &Reply) -> Result<(), String> {
        let Some(template) = self.template_of(path) else {
            return self.check_refusal(method, path, 404, reply, "an undocumented path");
        };
        let operation = &self.document["paths"][template][method.as_str().to_ascii_lowercase()];
        if operation.is_null() {
            self.check_allow(template, reply)?;
            return self.check_refusal(method, path, 405, reply, "a method the path does not have");
        }
        let responses = &operation["responses"];
        let status = reply.status.to_string();
        let range = format!("{}XX", reply.status / 100);
        let documented = [status.as_str(), range.as_str(), "default"]
            .into_iter()
            .find(|key| !responses[*key].is_null())
            .ok_or_else(|| {
                let listed: Vec<&String> = responses
                    .as_object()
                    .map(|r| r.keys().collect())
                    .unwrap_or_default();
                format!("status {status} is not documented (documented: {listed:?})")
            })?;
        let pointer = format!(
            "/paths/{}/{}/responses/{documented}",
            escape(template),
            method.as_str().to_ascii_lowercase()
        );
        self.check_body(&pointer, reply)
    }

    /// A 404 or 405 that no operation documents: the dialect's error shape.
    fn check_refusal(
        &self,
        method: &Method,
        path: &str,
        status: u16,
        reply: &Reply,
        what: &str,
    ) -> Result<(), String> {
        if reply.status != status {
            return Err(format!(
                "{what} must answer {status}, answered {}",
                reply.status
            ));
        }
        if *method == Method::HEAD {
            // An answer to HEAD has no body.
            return Ok(());
        }
        let schema = json!({ "$ref": format!("#/components/schemas/{}", error_schema_of(&normalise(path))) });
        self.check_json(
            &format!("refusal {status} {}", error_schema_of(path)),
            &schema,
            reply,
        )
    }

    /// `Allow` lists exactly the methods the document has for `template`.
    fn check_allow(&self, template: &str, reply: &Reply) -> Result<(), String> {
        let mut documented: Vec<String> = self.document["paths"][template]
            .as_object()
            .map(|item| {
                item.keys()
                    .filter(|k| {
                        matches!(
                            k.as_str(),
                            "get"
                                | "put"
                                | "post"
                                | "delete"
                                | "options"
                                | "head"
                                | "patch"
                                | "trace"
                        )
                    })
                    .map(|k| k.to_ascii_uppercase())
                    .collect()
            })
            .unwrap_or_default();
        documented.sort();
        let mut allowed: Vec<String> = reply
            .header("allow")
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect();
        allowed.sort();
        if allowed == documented {
            Ok(())
        } else {
            Err(format!(
                "Allow is {allowed:?}, the document has {documented:?} for {template}"
            ))
        }
    }

    /// The body against the documented response at `pointer` (a JSON pointer).
    fn check_body(&self, pointer: &str, reply: &Reply) -> Result<(), String> {
        let response = self
            .document
            .pointer(pointer)
            .ok_or_else(|| format!("no response at {pointer}"))?;
        let response = self.resolve(response);
        let content = response["content"].as_object();
        let media_type = reply.header("content-type").map(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
        let Some(content) = content.filter(|c| !c.is_empty()) else {
            return if reply.body.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "a body ({}) where the document says there is none",
                    media_type.unwrap_or_default()
                ))
            };
        };
        let Some(media_type) = media_type else {
            return if reply.body.is_empty() {
                Err("an empty body without a content type where the document shows content".into())
            } else {
                Err("a body without a content type".into())
            };
        };
        let key = content
            .keys()
            .find(|k| media_matches(k, &media_type))
            .ok_or_else(|| {
                format!(
                    "content type {media_type} is not documented (documented: {:?})",
                    content.keys().collect::<Vec<_>>()
                )
            })?;
        let is_json = media_type == "application/json" || media_type.ends_with("+json");
        match &content[key]["schema"] {
            Value::Null => Ok(()),
            _ if !is_json => Ok(()),
            schema => {
                let cache_key = format!("{pointer}/content/{}", escape(key));
                self.check_json(&cache_key, schema, reply)
            }
        }
    }

    fn check_json(&self, cache_key: &str, schema: &Value, reply: &Reply) -> Result<(), String> {
        let body: Value = serde_json::from_slice(&reply.body)
            .map_err(|e| format!("the body is not JSON ({e})"))?;
        let validator = self.compiled(cache_key, schema)?;
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the body does not match the schema {}:\n  {}",
                compact(schema),
                errors.join("\n  ")
            ))
        }
    }

    /// `schema`, compiled once per process, with the document's components reachable by
    /// `$ref: #/components/...` (OpenAPI 3.1 schemas are JSON Schema 2020-12).
    fn compiled(&self, key: &str, schema: &Value) -> Result<Arc<Validator>, String> {
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(validator) = compiled.get(key) {
            return Ok(validator.clone());
        }
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.document["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("the schema {} does not compile: {e}", compact(schema)))?;
        let validator = Arc::new(validator);
        compiled.insert(key.to_owned(), validator.clone());
        Ok(validator)
    }

    /// A response object, following a `$ref` to `#/components/responses/...`.
    fn resolve<'a>(&'a self, response: &'a Value) -> &'a Value {
        match response["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => self.document.pointer(pointer).unwrap_or(response),
            None => response,
        }
    }
}

/// `application/json` matches `application/json`, `application/*` and `*/*`.
fn media_matches(documented: &str, actual: &str) -> bool {
    let documented = documented.to_ascii_lowercase();
    documented == actual
        || documented == "*/*"
        || documented
            .strip_suffix("/*")
            .is_some_and(|kind| actual.split('/').next() == Some(kind))
}

/// A JSON pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn compact(schema: &Value) -> String {
    let text = schema.to_string();
    if text.len() > 400 {
        format!("{}…", &text[..text.floor_char_boundary(400)])
    } else {
        text
    }
}

/// Panics when `reply` to `method path` is not what the document says.
pub(crate) fn assert_documented(
    document: &ApiDocument,
    method: &Method,
    path: &str,
    reply: &Reply,
) {
    if let Err(problem) = document.check(method, path, reply) {
        panic!(
            "the answer to {method} {path} breaks the OpenAPI document: {problem}\n\
             status {}, body: {}",
            reply.status,
            compact(&Value::String(reply.text()))
        );
    }
}
