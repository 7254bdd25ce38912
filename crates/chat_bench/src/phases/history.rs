//! Growth: send and list measured again as the stored history grows.

use crate::*;

impl Run<'_> {
    /// Grows the history to `target` stored messages (when there are fewer), then measures
    /// send and list; answers whether the run can go on growing.
    pub(crate) fn growth_step(
        &mut self,
        world: &World,
        target: i64,
        points: &mut Vec<GrowthPoint>,
    ) -> bool {
        let stored = sql::stored_messages(&mut self.conn).unwrap_or(0);
        if target > stored {
            let grown = self.phase(
                &format!("history: bulk insert up to {} messages", millions(target)),
                |r| {
                    growth::grow_to(
                        &r.ui,
                        &r.args.database_url,
                        &mut r.conn,
                        world.account_id,
                        &world.history_sender,
                        target,
                    )
                },
            );
            let Some(grown) = grown else {
                return false;
            };
            let note = format!(
                "History to {}: {} messages inserted in {:.1} s ({:.0}/s, without its {} plain \
                 indexes: {}), which were built again in {:.1} s.",
                millions(target),
                grown.added,
                grown.insert.as_secs_f64(),
                grown.added as f64 / grown.insert.as_secs_f64().max(1e-9),
                grown.indexes.len(),
                grown.indexes.join(", "),
                grown.rebuild.as_secs_f64()
            );
            self.ui.say(format!("  {note}"));
            self.notes.push(note);
        }
        match self.phase(
            &format!("growth: send and list at {}", millions(target)),
            |r| r.growth_point(world, target),
        ) {
            Some(point) => {
                points.push(point);
                true
            }
            None => false,
        }
    }

    pub(crate) fn growth_point(
        &mut self,
        world: &World,
        target: i64,
    ) -> anyhow::Result<GrowthPoint> {
        // Sockets closed by the socket phases should be gone by now.
        let sessions = sql::presence_sessions(&mut self.conn)?;
        if sessions > 0 && !self.presence_noted {
            self.presence_noted = true;
            let note = format!(
                "{sessions} presence sessions were still open when the growth at {} was \
                 measured, long after every socket had closed: sessions the server failed to \
                 close (its log shows why).",
                millions(target)
            );
            self.ui.say(format!("  {note}"));
            self.notes.push(note);
        }
        sql::settle_point(&mut self.conn)?;
        let stored = sql::stored_messages(&mut self.conn)?;
        let table_bytes = sql::messages_bytes(&mut self.conn)?;
        let c = self.profile.growth_concurrency;
        let timing = self.profile.timing;
        let send = self.http(
            &format!("send at {stored} stored · c={c}"),
            c,
            timing,
            self.send_req(world, false, c),
        )?;
        let list = self.http(
            &format!("list newest 50 at {stored} stored · c={c}"),
            c,
            timing,
            self.list_req(world, c),
        )?;
        Ok(GrowthPoint {
            target,
            stored,
            table_bytes,
            send,
            list,
        })
    }

    pub(crate) fn growth_rows(&mut self, points: &[GrowthPoint]) {
        let Some(base) = points.first() else {
            return;
        };
        let top = points.iter().map(|p| p.target).max().unwrap_or(0);
        let full_top = 5_000_000;
        for (what, id, pick) in [
            (
                "send",
                "growth_send",
                (|p: &GrowthPoint| &p.send) as fn(&GrowthPoint) -> &Summary,
            ),
            ("list newest 50", "growth_list", |p: &GrowthPoint| &p.list),
        ] {
            for point in points {
                let measurement = format!("{what} with {} messages stored", millions(point.stored));
                let mut row = Row::measured(
                    id,
                    &measurement,
                    Some(self.profile.growth_concurrency),
                    pick(point),
                )
                .labelled(format!("{what}, {} stored", millions(point.stored)));
                let mut notes = Vec::new();
                if id == "growth_send" {
                    notes.push(format!(
                        "messages table {} with its indexes",
                        report::bytes(point.table_bytes as f64)
                    ));
                }
                if !std::ptr::eq(point, base) {
                    let judged = (point.target == top).then_some(GROWTH_FACTOR);
                    row =
                        row.factor_of(&format!("at {}", millions(base.stored)), pick(base), judged);
                    if judged.is_some() && top < full_top {
                        notes.push(format!(
                            "judged at {} instead of 5M (quick mode)",
                            millions(top)
                        ));
                    }
                }
                if !notes.is_empty() {
                    row = row.with_note(notes.join("; "));
                }
                self.results.push(row);
            }
        }
    }
}
