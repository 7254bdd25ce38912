//! The room list as an account grows: the ChatAPI list of an account with a thousand rooms,
//! then of the same account with a million (CONTRACT §12, issue 17: a list's `total` must
//! not count the account's rooms).

use crate::*;

/// The latency at the largest size, as a multiple of the latency at the smallest.
const ROOM_SCALE_FACTOR: f64 = 1.3;

impl Run<'_> {
    /// `GET /api/v1/rooms?limit=20` with the API key of an account of its own, at one
    /// client, with the account holding each of `profile.room_scale` rooms (made through
    /// the platform API, then grown in bulk SQL between the points).
    pub(crate) fn room_scale_phase(&mut self) -> anyhow::Result<()> {
        let sizes = self.profile.room_scale.clone();
        let (Some(&first), Some(&last)) = (sizes.first(), sizes.last()) else {
            return Ok(());
        };
        let (account, key) = self.scale_account()?;
        let url = format!(
            "{}/api/v1/rooms?limit=20",
            self.args.server.trim_end_matches('/')
        );
        let mut points: Vec<(i64, Summary, f64)> = Vec::new();
        let mut held = 0;
        for &size in &sizes {
            let began = Instant::now();
            held += sql::rooms::add_rooms(&mut self.conn, account, held, size)?;
            let seeded = began.elapsed().as_secs_f64();
            let (url, key) = (url.clone(), key.clone());
            let summary = self.http(
                &format!("room list at {} rooms · c=1", millions(size)),
                1,
                self.profile.timing,
                Arc::new(move |_, _| Req::get(url.clone(), setup::api_key_header(&key))),
            )?;
            points.push((held, summary, seeded));
        }
        let Some((_, base, _)) = points.first().cloned() else {
            return Ok(());
        };
        for (held, summary, seeded) in &points {
            let mut row = Row::measured(
                "room_list_scale",
                &format!(
                    "room list, an account of {} rooms (GET /api/v1/rooms?limit=20)",
                    millions(*held)
                ),
                Some(1),
                summary,
            )
            .labelled(format!("room list, {} rooms", millions(*held)));
            if *held != first {
                let judged = (*held == last).then_some(ROOM_SCALE_FACTOR);
                row = row
                    .factor_of(&format!("at {} rooms", millions(first)), &base, judged)
                    .with_target_text(format!(
                        "p50 ≤ {ROOM_SCALE_FACTOR}× its value at {} rooms",
                        millions(first)
                    ));
            }
            self.results.push(row.with_note(format!(
                "rooms made in one INSERT … SELECT ({seeded:.1} s, the triggers keeping the \
                 account's room counts) and VACUUM ANALYZE; an account of its own, no members"
            )));
        }
        Ok(())
    }

    /// The row's own account, through the platform API: its id and API key.
    fn scale_account(&self) -> anyhow::Result<(i64, String)> {
        let server = self.args.server.clone();
        let token = self.args.platform_token.clone();
        actix_rt::System::new().block_on(async move {
            setup::create_account(
                &Api::new(&server),
                &token,
                "Bench rooms",
                "room list at scale",
            )
            .await
        })
    }
}
