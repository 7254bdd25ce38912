//! The seeds of the accounts' JWT signing secrets (`signing_secrets`). Only seeds are
//! stored; the secret is derived from a seed and the server's `CHAT_SECRET_KEY` by the
//! use case. The current seed has `retired_at` NULL; the one it replaced is usable until
//! `retired_at` + 24 hours, and deleted by the next replacement (so at most one previous
//! secret works: replacing twice ends a leaked secret at once).
//!
//! Every instant is the database's `now()` (one clock for every node), which is the
//! transaction's start: the seed a replacement retires and the one it makes share it.

use chat_app::{AccountAccess, SigningKeys, SigningSeed, StoreError};
use chat_domain::{AccountId, Features};
use diesel::dsl::{AsExprOf, IntervalDsl, Sub, now};
use diesel::pg::data_types::PgInterval;
use diesel::prelude::*;
use diesel::sql_types::Timestamptz;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::corrupt;
use crate::schema::{accounts, signing_secrets};
use crate::translate;

/// How long a replaced secret keeps verifying tokens, in hours.
const RETIRED_USABLE_HOURS: i32 = 24;

/// `now() - 24 hours`: a seed retired at or before this instant is no longer usable.
fn usable_cutoff() -> Sub<AsExprOf<now, Timestamptz>, PgInterval> {
    now.into_sql::<Timestamptz>() - RETIRED_USABLE_HOURS.hours()
}

/// One row of `signing_secrets`, as the port returns it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = signing_secrets, check_for_backend(diesel::pg::Pg))]
struct SeedRow {
    seed: Vec<u8>,
    created_at: OffsetDateTime,
    retired_at: Option<OffsetDateTime>,
}

impl SeedRow {
    fn into_seed(self, account: i64) -> Result<SigningSeed, StoreError> {
        let seed = <[u8; 32]>::try_from(self.seed.as_slice())
            .map_err(|_| corrupt("signing seed of account", account, "not 32 bytes"))?;
        Ok(SigningSeed {
            seed,
            created_at: self.created_at,
            retired_at: self.retired_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = signing_secrets)]
struct NewSeedRow<'a> {
    account_id: i64,
    seed: &'a [u8],
}

/// Makes `seed` the account's current one, in one transaction: the account row is locked
/// (`FOR NO KEY UPDATE`: concurrent replacements of one account take turns, while inserts
/// that merely reference the account are not held up), every seed retired earlier
/// is deleted, the current one is retired now, the new one inserted. `NotFound` for a
/// missing account.
pub(super) fn replace(
    conn: &mut PgConnection,
    account: AccountId,
    seed: [u8; 32],
) -> Result<SigningSeed, StoreError> {
    let row = conn
        .transaction(|conn| {
            accounts::table
                .find(account.0)
                .select(accounts::id)
                .for_no_key_update()
                .first::<i64>(conn)?;
            let of_account = signing_secrets::account_id.eq(account.0);
            // Only the secret being replaced stays usable: replacing twice ends a leaked
            // secret at once, rather than 24 hours after it was first replaced.
            diesel::delete(
                signing_secrets::table
                    .filter(of_account)
                    .filter(signing_secrets::retired_at.is_not_null()),
            )
            .execute(conn)?;
            diesel::update(
                signing_secrets::table
                    .filter(of_account)
                    .filter(signing_secrets::retired_at.is_null()),
            )
            .set(signing_secrets::retired_at.eq(now))
            .execute(conn)?;
            diesel::insert_into(signing_secrets::table)
                .values(NewSeedRow {
                    account_id: account.0,
                    seed: &seed,
                })
                .returning(SeedRow::as_returning())
                .get_result::<SeedRow>(conn)
        })
        .map_err(translate)?;
    row.into_seed(account.0)
}

/// An account with one of its usable seeds (none when it has no usable seed).
#[derive(Debug, Queryable)]
struct KeyRow {
    account_id: i64,
    account_active: bool,
    chat_rooms_enabled: bool,
    seed: Option<Vec<u8>>,
    created_at: Option<OffsetDateTime>,
    retired_at: Option<OffsetDateTime>,
}

/// The account with this UUID and its usable seeds, newest (current) first, in one query: the
/// account by its unique UUID index, left-joined with its seeds through
/// `signing_secrets_account_id_idx`. `None` for an unknown UUID.
pub(super) fn find(
    conn: &mut PgConnection,
    client: Uuid,
) -> Result<Option<SigningKeys>, StoreError> {
    let usable = signing_secrets::retired_at
        .is_null()
        .or(signing_secrets::retired_at.gt(usable_cutoff().nullable()));
    let rows: Vec<KeyRow> = accounts::table
        .left_join(
            signing_secrets::table.on(signing_secrets::account_id.eq(accounts::id).and(usable)),
        )
        .filter(accounts::uuid.eq(client))
        // Replacements take turns (the account lock), so the identity is their order.
        .order_by(signing_secrets::id.desc())
        .select((
            accounts::id,
            accounts::is_active,
            accounts::chat_rooms_enabled,
            signing_secrets::seed.nullable(),
            signing_secrets::created_at.nullable(),
            signing_secrets::retired_at.nullable(),
        ))
        .load(conn)
        .map_err(translate)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let (account_id, account_active, chat_rooms) = (
        first.account_id,
        first.account_active,
        first.chat_rooms_enabled,
    );
    let seeds = rows
        .into_iter()
        .filter_map(|row| match (row.seed, row.created_at) {
            (Some(seed), Some(created_at)) => Some(SeedRow {
                seed,
                created_at,
                retired_at: row.retired_at,
            }),
            // The left join's row of an account without a usable seed.
            _ => None,
        })
        .map(|row| row.into_seed(account_id))
        .collect::<Result<_, _>>()?;
    Ok(Some(SigningKeys {
        account: AccountAccess {
            id: AccountId(account_id),
            uuid: client,
            features: Features { chat_rooms },
        },
        account_active,
        seeds,
    }))
}
