//! Migrated databases are clones of a template built once, however many tests ask at
//! once; a half-built template is rebuilt; a changed migration makes a new template and
//! drops the old one.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use chat_test_db::{DEFAULT_DATABASE_URL, Migrations, TestDatabase};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

/// A migrations folder of its own (so templates of its own), with one file of `sql`.
/// Drops its templates and itself at the end.
struct Folder {
    dir: PathBuf,
    migrations: Migrations,
}

impl Folder {
    fn new(sql: &str, apply: fn(&str) -> Result<(), String>) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "chat_test_db-migrations-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(dir.join("2026-01-01-000001_first")).unwrap();
        let migrations = Migrations {
            dir: Box::leak(dir.to_string_lossy().into_owned().into_boxed_str()),
            apply,
        };
        let folder = Folder { dir, migrations };
        folder.write(sql);
        folder
    }

    fn write(&self, sql: &str) {
        std::fs::write(self.dir.join("2026-01-01-000001_first/up.sql"), sql).unwrap();
    }

    /// The templates of this folder (any state of its files): name, flagged as a
    /// template, open to connections.
    fn templates(&self) -> Vec<(String, bool, bool)> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            datname: String,
            #[diesel(sql_type = Bool)]
            datistemplate: bool,
            #[diesel(sql_type = Bool)]
            datallowconn: bool,
        }
        diesel::sql_query(
            "SELECT datname, datistemplate, datallowconn FROM pg_database \
             WHERE starts_with(datname, $1) ORDER BY datname",
        )
        .bind::<Text, _>(self.family())
        .load::<Row>(&mut admin())
        .unwrap()
        .into_iter()
        .map(|row| (row.datname, row.datistemplate, row.datallowconn))
        .collect()
    }

    fn family(&self) -> String {
        let name = self.migrations.template_name();
        name[..=name.rfind('_').unwrap()].to_owned()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let mut conn = admin();
        for (name, _, _) in self.templates() {
            for sql in [
                format!("ALTER DATABASE \"{name}\" WITH IS_TEMPLATE false"),
                format!("DROP DATABASE \"{name}\" WITH (FORCE)"),
            ] {
                if let Err(e) = diesel::sql_query(&sql).execute(&mut conn) {
                    eprintln!("{sql}: {e}");
                }
            }
        }
        drop(std::fs::remove_dir_all(&self.dir));
    }
}

fn admin() -> PgConnection {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
    PgConnection::establish(&url).unwrap()
}

fn count(url: &str, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<Count>(&mut PgConnection::establish(url).unwrap())
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

fn rows(db: &TestDatabase, table: &str) -> i64 {
    count(db.url(), &format!("SELECT count(*) AS n FROM {table}"))
}

fn run(url: &str, sql: &str) -> Result<(), String> {
    let mut conn = PgConnection::establish(url).map_err(|e| e.to_string())?;
    diesel::sql_query(sql)
        .execute(&mut conn)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Creates table `applied` with one row.
fn create_applied(url: &str) -> Result<(), String> {
    run(url, "CREATE TABLE applied (n int)")?;
    run(url, "INSERT INTO applied VALUES (1)")
}

static CONCURRENT_RUNS: AtomicUsize = AtomicUsize::new(0);

fn counted_apply(url: &str) -> Result<(), String> {
    CONCURRENT_RUNS.fetch_add(1, Ordering::SeqCst);
    // Slow enough that the others find the template missing and wait for it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    create_applied(url)
}

#[test]
fn tests_asking_at_once_migrate_one_template_and_each_get_a_clone() {
    let folder = Folder::new("-- concurrent", counted_apply);
    let databases: Vec<TestDatabase> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| TestDatabase::migrated(&folder.migrations)))
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(CONCURRENT_RUNS.load(Ordering::SeqCst), 1, "migrated once");
    let mut names: Vec<&str> = databases.iter().map(TestDatabase::name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 6, "each its own database");
    for db in &databases {
        assert_eq!(rows(db, "applied"), 1);
        assert!(db.url().contains("gssencmode=disable"), "{}", db.name());
    }
    // Each clone is its own.
    run(databases[0].url(), "INSERT INTO applied VALUES (2)").unwrap();
    assert_eq!(rows(&databases[1], "applied"), 1);
    let template = folder.migrations.template_name();
    assert_eq!(
        folder.templates(),
        [(template, true, false)],
        "one template, flagged, closed to connections"
    );
}

#[test]
fn a_half_built_template_is_rebuilt() {
    let folder = Folder::new("-- half", create_applied);
    // What a builder that crashed mid-migration leaves: the database, never flagged.
    let template = folder.migrations.template_name();
    run(&admin_url(), &format!("CREATE DATABASE \"{template}\"")).unwrap();
    let db = TestDatabase::migrated(&folder.migrations);
    assert_eq!(rows(&db, "applied"), 1);
    assert_eq!(folder.templates(), [(template, true, false)]);
}

#[test]
fn a_changed_migration_makes_a_new_template_and_drops_the_old_one() {
    let folder = Folder::new("-- first", create_applied);
    let first = folder.migrations.template_name();
    drop(TestDatabase::migrated(&folder.migrations));
    assert_eq!(folder.templates(), [(first.clone(), true, false)]);

    folder.write("-- changed");
    let second = folder.migrations.template_name();
    assert_ne!(second, first);
    let db = TestDatabase::migrated(&folder.migrations);
    assert_eq!(rows(&db, "applied"), 1);
    assert_eq!(folder.templates(), [(second, true, false)]);
}

#[test]
fn a_new_database_is_empty() {
    let db = TestDatabase::new();
    assert_eq!(
        count(
            db.url(),
            "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'"
        ),
        0
    );
    let name = db.name().to_owned();
    drop(db);
    assert_eq!(
        count(
            &admin_url(),
            &format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'")
        ),
        0,
        "dropped with the value"
    );
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}
