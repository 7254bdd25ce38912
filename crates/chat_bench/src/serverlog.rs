//! The server's log, summed up for the report's notes.

use std::path::{Path, PathBuf};

/// The server log's warnings and errors, counted by message (without their time stamps).
pub fn summary(path: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return format!("The server's log ({}) could not be read.", path.display());
    };
    let (total, counts) = count(&[text]);
    if total == 0 {
        return format!(
            "The server logged no warnings or errors ({}).",
            path.display()
        );
    }
    format!(
        "The server logged {total} warnings or errors ({}): {}.",
        path.display(),
        top(&counts)
    )
}

/// The warnings and errors of several servers' logs (`who`: "the 3 nodes"), counted
/// together by message.
pub fn summary_of(who: &str, paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut texts = Vec::new();
    for path in paths {
        match std::fs::read_to_string(path) {
            Ok(text) => texts.push(text),
            Err(_) => return format!("The log {} could not be read.", path.display()),
        }
    }
    let (total, counts) = count(&texts);
    if total == 0 {
        return format!("{who} logged no warnings or errors ({}).", shown.join(", "));
    }
    format!(
        "{who} logged {total} warnings or errors ({}): {}.",
        shown.join(", "),
        top(&counts)
    )
}

/// Warnings and errors in all: how many, and each message's count, most frequent first.
fn count(texts: &[String]) -> (usize, Vec<(String, usize)>) {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut total = 0;
    for line in texts.iter().flat_map(|text| text.lines()) {
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
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    (total, counts)
}

/// The five most frequent messages: "2 × `WARN …`; …".
fn top(counts: &[(String, usize)]) -> String {
    let top: Vec<String> = counts
        .iter()
        .take(5)
        .map(|(m, n)| format!("{n} × `{}`", m.replace('`', "'")))
        .collect();
    format!(
        "{}{}",
        top.join("; "),
        if counts.len() > 5 { "; …" } else { "" }
    )
}
