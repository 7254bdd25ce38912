//! Statements written as SQL text that PostgreSQL plans once per connection.
//!
//! Diesel caches a prepared statement for the queries its DSL builds, but never for
//! `sql_query` (raw text could differ on every call). A statement written as text is then
//! parsed and planned again on every execution; for a search, planning took a quarter of
//! the statement's time (docs/benchmarks/findings.md). A [`Prepared`] statement is text
//! whose `$n` placeholders are bound by number, as with `sql_query`, and that diesel
//! caches by its text and bind types: its text must therefore come from the code, never
//! from a request (values are always bound), and the number of different texts a caller
//! makes must stay small (each is prepared once on each pooled connection).

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};

/// A value bound to a statement, with its SQL type.
trait BindValue: Send {
    fn push<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

struct Bound<ST, V> {
    value: V,
    sql_type: PhantomData<fn() -> ST>,
}

impl<ST, V> BindValue for Bound<ST, V>
where
    Pg: HasSqlType<ST>,
    V: ToSql<ST, Pg> + Send,
{
    fn push<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<ST, V>(&self.value)
    }
}

/// A piece of the statement: text, or the bind of that number (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Sql(String),
    Bind(usize),
}

/// Values bound in order (the first is `$1`), then the text that uses them.
#[derive(Default)]
pub(crate) struct Binds {
    values: Vec<Box<dyn BindValue>>,
}

impl Binds {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Binds `value` as the next parameter, and answers its placeholder (`$n`).
    pub(crate) fn bind<ST, V>(&mut self, value: V) -> String
    where
        Pg: HasSqlType<ST>,
        V: ToSql<ST, Pg> + Send + 'static,
        ST: 'static,
    {
        self.values.push(Box::new(Bound::<ST, V> {
            value,
            sql_type: PhantomData,
        }));
        format!("${}", self.values.len())
    }

    /// Binds `value` as the next parameter, for a text written with its numbers already.
    pub(crate) fn with<ST, V>(mut self, value: V) -> Self
    where
        Pg: HasSqlType<ST>,
        V: ToSql<ST, Pg> + Send + 'static,
        ST: 'static,
    {
        self.bind::<ST, V>(value);
        self
    }

    /// How many values are bound.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// The statement of `sql`, whose `$n` are the values bound here (each may be used
    /// more than once). A placeholder without its value is refused when the statement
    /// runs (as a query builder error).
    pub(crate) fn into_statement(self, sql: &str) -> Prepared {
        Prepared {
            parts: split(sql),
            values: self.values,
        }
    }
}

/// The text cut at its placeholders: `$` and digits.
fn split(sql: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let digits: usize = sql[at + c.len_utf8()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        if c != '$' || digits == 0 {
            text.push(c);
            continue;
        }
        let number = &sql[at + 1..at + 1 + digits];
        for _ in 0..digits {
            chars.next();
        }
        if !text.is_empty() {
            parts.push(Part::Sql(std::mem::take(&mut text)));
        }
        // At most the digits of a usize: a longer number is no bind of ours (0 never is).
        parts.push(Part::Bind(number.parse().unwrap_or(0)));
    }
    if !text.is_empty() {
        parts.push(Part::Sql(text));
    }
    parts
}

/// A statement of text and bound values that diesel prepares once per connection (see the
/// module's documentation). Load it into `QueryableByName` rows, or execute it.
pub(crate) struct Prepared {
    parts: Vec<Part>,
    values: Vec<Box<dyn BindValue>>,
}

impl QueryFragment<Pg> for Prepared {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for part in &self.parts {
            match part {
                Part::Sql(sql) => out.push_sql(sql),
                Part::Bind(number) => {
                    let value = number
                        .checked_sub(1)
                        .and_then(|index| self.values.get(index))
                        .ok_or_else(|| {
                            diesel::result::Error::QueryBuilderError(
                                format!("${number} has no value bound").into(),
                            )
                        })?;
                    value.push(out.reborrow())?;
                }
            }
        }
        Ok(())
    }
}

/// No static id: diesel keys its cache of prepared statements by the text and the bind
/// types.
impl QueryId for Prepared {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared {}

#[cfg(test)]
mod tests {
    use diesel::sql_types::{BigInt, Text};
    use diesel::{Connection, PgConnection, QueryableByName};

    use super::*;

    #[test]
    fn placeholders_cut_the_text() {
        assert_eq!(
            split("SELECT $1, $12 + $1::int, '$' || x$ FROM t"),
            vec![
                Part::Sql("SELECT ".to_owned()),
                Part::Bind(1),
                Part::Sql(", ".to_owned()),
                Part::Bind(12),
                Part::Sql(" + ".to_owned()),
                Part::Bind(1),
                Part::Sql("::int, '$' || x$ FROM t".to_owned()),
            ]
        );
        assert_eq!(
            split("é$2é"),
            vec![
                Part::Sql("é".to_owned()),
                Part::Bind(2),
                Part::Sql("é".to_owned())
            ]
        );
        assert_eq!(split(""), Vec::new());
    }

    #[derive(Debug, QueryableByName, PartialEq)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        n: i64,
        #[diesel(sql_type = Text)]
        s: String,
    }

    /// A statement runs with its values, a value used twice included, and is prepared once
    /// for the connection: the second run finds it among the connection's statements.
    #[test]
    fn statements_run_with_their_values_and_are_prepared_once() {
        let database = chat_test_db::TestDatabase::new();
        let mut conn = PgConnection::establish(database.url())
            .unwrap_or_else(|e| panic!("the test database: {e}"));
        let statement = |n: i64, s: &str| {
            let mut binds = Binds::new();
            let n = binds.bind::<BigInt, _>(n);
            let s = binds.bind::<Text, _>(s.to_owned());
            binds.into_statement(&format!("SELECT {n} + {n} AS n, {s} AS s"))
        };
        let rows: Vec<Row> = statement(2, "a")
            .load(&mut conn)
            .unwrap_or_else(|e| panic!("first: {e}"));
        assert_eq!(
            rows,
            [Row {
                n: 4,
                s: "a".to_owned()
            }]
        );
        let rows: Vec<Row> = statement(5, "b")
            .load(&mut conn)
            .unwrap_or_else(|e| panic!("second: {e}"));
        assert_eq!(
            rows,
            [Row {
                n: 10,
                s: "b".to_owned()
            }]
        );
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            count: i64,
        }
        let prepared: Count = diesel::sql_query(
            "SELECT count(*) AS count FROM pg_prepared_statements \
             WHERE statement LIKE 'SELECT $1 + $2 AS n%'",
        )
        .get_result(&mut conn)
        .unwrap_or_else(|e| panic!("pg_prepared_statements: {e}"));
        assert_eq!(prepared.count, 1);
    }

    #[test]
    fn a_placeholder_without_a_value_is_an_error() {
        let database = chat_test_db::TestDatabase::new();
        let mut conn = PgConnection::establish(database.url())
            .unwrap_or_else(|e| panic!("the test database: {e}"));
        let mut binds = Binds::new();
        let one = binds.bind::<BigInt, _>(1_i64);
        let result = binds
            .into_statement(&format!("SELECT {one} + $2 AS n, 'x' AS s"))
            .load::<Row>(&mut conn);
        assert!(
            matches!(result, Err(diesel::result::Error::QueryBuilderError(_))),
            "{:?}",
            result.map(|rows| rows.len())
        );
    }
}
