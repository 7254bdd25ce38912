//! The migrated template that test databases are cloned from.
//!
//! One template per set of migrations, named after hashes of their folder's path and of
//! their files (`chat_template_<folder>_<files>`, see [`name_for`]), so a changed migration
//! makes a new template and every test process of a run agrees on the name without talking
//! to the others. The first process that finds it missing builds it; the others wait for
//! it. The migrations run once, not once per test; the template stays on the server for
//! the next run, until a changed migration replaces it.
//!
//! The name comes from the files, the content from the `apply` step (the binary's embedded
//! migrations): editing a migration while a test run is going on can leave a template whose
//! name does not match its content. Drop the `chat_template_%` databases to start afresh.
//!
//! Advisory locks on the server's maintenance database (the one of `DATABASE_URL`) keep
//! the processes apart: a clone holds [`LOCK_KEY`] shared, a builder holds it exclusively,
//! so a template is never cloned while it is built or dropped. A template is ready once it
//! is flagged `IS_TEMPLATE` (the builder's last step, with `ALLOW_CONNECTIONS false`, as
//! `CREATE DATABASE … TEMPLATE` fails while anyone is connected to its source): a builder
//! that crashed leaves an unflagged database, which the next builder drops and rebuilds.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use diesel::sql_types::{Bool, Text};
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use sha2::{Digest, Sha256};

use crate::conninfo::{plain, with_database};

/// The schema a migrated test database starts with: the folder of migration files (whose
/// contents name the template, so a changed migration makes a new one) and the step that
/// applies them to a database.
#[derive(Clone, Copy)]
pub struct Migrations {
    /// The migrations folder, e.g. `concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations")`.
    pub dir: &'static str,
    /// Applies every migration to the database at the URL given (the same migrations as
    /// the files of `dir`, e.g. the store's embedded ones).
    pub apply: fn(&str) -> Result<(), String>,
}

impl Migrations {
    /// The name of these migrations' template database: `chat_template_<folder>_<files>`,
    /// hashes of the folder's path and of its files.
    ///
    /// # Panics
    /// When the folder cannot be read.
    pub fn template_name(&self) -> String {
        name_for(Path::new(self.dir))
    }
}

impl fmt::Debug for Migrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrations")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// The advisory lock key of template building ("chattplt" in ASCII).
const LOCK_KEY: i64 = 0x6368_6174_7470_6c74;

/// Every template's name starts with this.
const PREFIX: &str = "chat_template_";

/// Bumped when the way templates are built changes, so old ones are not reused.
const FORMAT: &[u8] = b"chat_test_db template 1";

/// The template's name for the migration files under `dir`:
/// `chat_template_<folder>_<files>`, a hash of the folder's path, then one of its files.
///
/// The first part is its family: a new template drops the old ones of its family (an
/// earlier state of the same migrations) but leaves alone those of another checkout, or of
/// tests of this crate, that share the server.
pub(crate) fn name_for(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir)
        .unwrap_or_else(|e| panic!("cannot find the migrations folder {}: {e}", dir.display()));
    let mut files = Vec::new();
    collect_files(&dir, &mut files);
    files.sort();
    let mut hash = Sha256::new();
    hash.update(FORMAT);
    for file in &files {
        let contents = std::fs::read(file)
            .unwrap_or_else(|e| panic!("cannot read migration file {}: {e}", file.display()));
        let relative = file.strip_prefix(&dir).unwrap_or(file);
        hash.update(relative.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update((contents.len() as u64).to_le_bytes());
        hash.update(&contents);
    }
    let family = Sha256::digest(dir.to_string_lossy().as_bytes());
    format!(
        "{}{}_{}",
        PREFIX,
        hex(&family[..4]),
        hex(&hash.finalize()[..8])
    )
}

/// The family part of a template's name, with its trailing `_`.
fn family_of(template: &str) -> &str {
    template.rfind('_').map_or(template, |at| &template[..=at])
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the migrations folder {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// Creates database `name` as a clone of `template`, building the template first when it
/// is missing. `conn` is a connection to the maintenance database of `admin_url`.
pub(crate) fn clone_into(
    conn: &mut PgConnection,
    admin_url: &str,
    template: &str,
    name: &str,
    migrations: &Migrations,
) {
    lock(conn, "pg_advisory_lock_shared");
    if is_ready(conn, template) {
        create_from(conn, template, name);
        lock(conn, "pg_advisory_unlock_shared");
        return;
    }
    lock(conn, "pg_advisory_unlock_shared");
    lock(conn, "pg_advisory_lock");
    // Someone else may have built it while this process waited.
    if !is_ready(conn, template) {
        build(conn, admin_url, template, migrations);
        drop_others(conn, template);
    }
    create_from(conn, template, name);
    lock(conn, "pg_advisory_unlock");
}

/// Builds `template`: a new database, migrated, then flagged as a template nobody may
/// connect to. Runs under the exclusive lock.
fn build(conn: &mut PgConnection, admin_url: &str, template: &str, migrations: &Migrations) {
    // What a builder that crashed left (never flagged, so never used).
    execute(
        conn,
        &format!("DROP DATABASE IF EXISTS \"{template}\" WITH (FORCE)"),
    );
    execute(conn, &format!("CREATE DATABASE \"{template}\""));
    let url = plain(&with_database(admin_url, template));
    if let Err(e) = (migrations.apply)(&url) {
        panic!("cannot migrate the template database {template}: {e}");
    }
    execute(
        conn,
        &format!("ALTER DATABASE \"{template}\" WITH ALLOW_CONNECTIONS false IS_TEMPLATE true"),
    );
    // Connections the migration step left open would make every clone wait, then fail.
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind::<Text, _>(template)
    .execute(conn)
    .unwrap_or_else(|e| panic!("cannot close connections to {template}: {e}"));
}

/// Drops the other templates of `template`'s family (earlier states of the same
/// migrations). Best effort: a failure only leaves a database behind.
fn drop_others(conn: &mut PgConnection, template: &str) {
    #[derive(QueryableByName)]
    struct Database {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    let others = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2",
    )
    .bind::<Text, _>(family_of(template))
    .bind::<Text, _>(template)
    .load::<Database>(conn);
    let others = match others {
        Ok(others) => others,
        Err(e) => {
            eprintln!("chat_test_db: cannot list old templates: {e}");
            return;
        }
    };
    for Database { datname } in others {
        let dropped = diesel::sql_query(format!(
            "ALTER DATABASE \"{datname}\" WITH IS_TEMPLATE false"
        ))
        .execute(conn)
        .and_then(|_| {
            diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)"
            ))
            .execute(conn)
        });
        if let Err(e) = dropped {
            eprintln!("chat_test_db: cannot drop old template {datname}: {e}");
        }
    }
}

/// Whether `template` exists and is flagged as a template (fully built).
fn is_ready(conn: &mut PgConnection, template: &str) -> bool {
    #[derive(QueryableByName)]
    struct Ready {
        #[diesel(sql_type = Bool)]
        datistemplate: bool,
    }
    diesel::sql_query("SELECT datistemplate FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(template)
        .load::<Ready>(conn)
        .unwrap_or_else(|e| panic!("cannot look for the template database {template}: {e}"))
        .first()
        .is_some_and(|ready| ready.datistemplate)
}

fn create_from(conn: &mut PgConnection, template: &str, name: &str) {
    execute(
        conn,
        &format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
    );
}

/// Calls the advisory lock `function` on [`LOCK_KEY`].
fn lock(conn: &mut PgConnection, function: &str) {
    diesel::sql_query(format!("SELECT {function}($1)"))
        .bind::<diesel::sql_types::BigInt, _>(LOCK_KEY)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{function} on the template lock failed: {e}"));
}

fn execute(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[cfg(test)]
mod tests {
    use super::{family_of, name_for};

    #[test]
    fn the_name_follows_the_files() {
        let dir =
            std::env::temp_dir().join(format!("chat_test_db-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("2026-01-01-000001_a")).expect("temp dir");
        std::fs::write(dir.join("2026-01-01-000001_a/up.sql"), "CREATE TABLE a ();")
            .expect("written");
        let first = name_for(&dir);
        assert!(first.starts_with("chat_template_"), "{first}");
        assert_eq!(first.len(), "chat_template_".len() + 8 + 1 + 16);
        assert!(first.len() < 64, "PostgreSQL names are at most 63 bytes");
        assert_eq!(name_for(&dir), first, "the same files, the same name");
        std::fs::write(dir.join("2026-01-01-000001_a/up.sql"), "CREATE TABLE b ();")
            .expect("written");
        let changed = name_for(&dir);
        assert_ne!(changed, first, "a changed migration makes a new template");
        std::fs::create_dir_all(dir.join("2026-01-01-000002_b")).expect("temp dir");
        std::fs::write(dir.join("2026-01-01-000002_b/up.sql"), "").expect("written");
        let added = name_for(&dir);
        assert_ne!(added, changed, "so does a new one");
        assert_eq!(family_of(&added), family_of(&first), "of the same family");
        assert_eq!(family_of(&first).len(), "chat_template_".len() + 8 + 1);
        std::fs::remove_dir_all(&dir).expect("removed");
    }
}
