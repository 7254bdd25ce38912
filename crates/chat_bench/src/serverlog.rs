//! The server's log, summed up for the report's notes.

use std::path::Path;

/// The server log's warnings and errors, counted by message (without their time stamps).
pub fn summary(path: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return format!("The server's log ({}) could not be read.", path.display());
    };
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut total = 0;
    for line in text.lines() {
        if !(line.contains(" WARN ") || line.contains(" ERROR ")) {
            continue;
        }
        total += 1;
        // "2026-…Z  WARN target: message": drop the time stamp.
        let message: String = line
            .split_once(' ')
            .map_or(line, |(_, rest)| rest.trim_start())
            .chars()
            .take(200)
            .collect();
        match counts.iter_mut().find(|(m, _)| *m == message) {
            Some((_, n)) => *n += 1,
            None => counts.push((message, 1)),
        }
    }
    if total == 0 {
        return format!(
            "The server logged no warnings or errors ({}).",
            path.display()
        );
    }
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let top: Vec<String> = counts
        .iter()
        .take(5)
        .map(|(m, n)| format!("{n} × `{}`", m.replace('`', "'")))
        .collect();
    format!(
        "The server logged {total} warnings or errors ({}): {}{}.",
        path.display(),
        top.join("; "),
        if counts.len() > 5 { "; …" } else { "" }
    )
}
