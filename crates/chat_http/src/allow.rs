//! Which methods each path has, for `405 Method Not Allowed` with `Allow`: read from the
//! OpenAPI document, which lists exactly the routes served (every route is registered
//! through `utoipa-actix-web`).

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use utoipa::openapi::OpenApi;

/// Every documented path with the methods it answers.
#[derive(Debug, Default)]
pub(crate) struct MethodTable {
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

impl MethodTable {
    /// The methods of every path of `document`.
    pub(crate) fn of(document: &OpenApi) -> Self {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                    (Method::OPTIONS, item.options.is_some()),
                    (Method::HEAD, item.head.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::TRACE, item.trace.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, served)| served.then_some(method))
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods `path` answers, or `None` when no route has this path.
    pub(crate) fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.routes
            .iter()
            .find(|(resource, _)| resource.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_with_parameters_lists_its_methods() {
        let table = MethodTable {
            routes: vec![(
                ResourceDef::new("/api/v1/rooms/{room_id}"),
                vec![Method::GET, Method::PUT],
            )],
        };
        assert_eq!(
            table.allowed("/api/v1/rooms/abc"),
            Some([Method::GET, Method::PUT].as_slice())
        );
        assert_eq!(table.allowed("/api/v1/rooms/abc/x"), None);
    }
}
