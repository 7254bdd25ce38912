//! The summary as PostgreSQL prints it, read by a plain scan.
//!
//! `json_agg` and `json_build_object` print every summary alike:
//! `[{"emoji" : "👍", "users" : [[2, "p-3"], [3, "p-6"]]}, ...]`. Read through serde's
//! visitors, such a text cost about 1.5 µs a message, most of a page's extra time with
//! reactions (docs/benchmarks/findings.md). This scan reads that shape only: the two keys
//! in that order, whole numbers, strings without escapes, any JSON whitespace. At the first
//! byte it does not expect it gives up, and the caller reads the text with serde instead,
//! which accepts every JSON of the summary's shape and reports what is wrong with the rest;
//! so the scan either agrees with serde or has no say.

use chat_domain::{Reactions, UserId};

/// The reactions of `text` added to `reactions`, or `None` when the text is not in
/// PostgreSQL's print of the shape or a reaction is refused (then `reactions` holds part
/// of it, to be thrown away).
pub(super) fn scan(text: &str, reactions: &mut Reactions) -> Option<()> {
    let mut s = Scanner { text, at: 0 };
    s.byte(b'[')?;
    if s.peek()? == b']' {
        s.at += 1;
        return s.end();
    }
    loop {
        s.byte(b'{')?;
        s.key("emoji")?;
        let emoji = s.string()?;
        s.byte(b',')?;
        s.key("users")?;
        s.byte(b'[')?;
        if s.peek()? != b']' {
            loop {
                s.byte(b'[')?;
                let id = s.integer()?;
                s.byte(b',')?;
                let label = s.string()?;
                s.byte(b']')?;
                reactions.push_stored_user(UserId(id), label).ok()?;
                if !s.comma_or(b']')? {
                    break;
                }
            }
        } else {
            s.at += 1;
        }
        s.byte(b'}')?;
        reactions.finish_stored(emoji).ok()?;
        if !s.comma_or(b']')? {
            return s.end();
        }
    }
}

struct Scanner<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Scanner<'t> {
    /// The next byte that is not JSON whitespace, not taken.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.text.as_bytes().get(self.at) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    /// Takes `expected` (after whitespace).
    fn byte(&mut self, expected: u8) -> Option<()> {
        (self.peek()? == expected).then(|| self.at += 1)
    }

    /// Takes `,` (answers true) or `close` (false).
    fn comma_or(&mut self, close: u8) -> Option<bool> {
        let b = self.peek()?;
        self.at += 1;
        match b {
            b',' => Some(true),
            b if b == close => Some(false),
            _ => None,
        }
    }

    /// Takes `"name" :`.
    fn key(&mut self, name: &str) -> Option<()> {
        (self.string()? == name).then_some(())?;
        self.byte(b':')
    }

    /// Takes a string without escapes or control characters, and answers its text.
    fn string(&mut self) -> Option<&'t str> {
        self.byte(b'"')?;
        let rest = self.text.as_bytes().get(self.at..)?;
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        // The bytes before an ASCII quote end at a character boundary.
        let text = self.text.get(self.at..self.at + len)?;
        self.at += len + 1;
        Some(text)
    }

    /// Takes a whole number (`-` and digits, without a leading zero, that fits an i64).
    fn integer(&mut self) -> Option<i64> {
        self.peek()?;
        let bytes = self.text.as_bytes();
        let start = self.at;
        let negative = bytes.get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        let digits = self.at;
        while bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let len = self.at - digits;
        let leading_zero = len > 1 && bytes.get(digits) == Some(&b'0');
        let fraction = matches!(bytes.get(self.at), Some(b'.' | b'e' | b'E'));
        if len == 0 || leading_zero || fraction {
            return None;
        }
        self.text.get(start..self.at)?.parse().ok()
    }

    /// Only whitespace is left.
    fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan's reading, if it has one, and serde's.
    fn both(text: &str) -> (Option<Reactions>, Option<Reactions>) {
        let mut scanned = Reactions::new();
        let scanned = scan(text, &mut scanned).map(|()| scanned);
        let mut visited = Reactions::new();
        let visited = super::super::visit(text, &mut visited)
            .ok()
            .map(|()| visited);
        (scanned, visited)
    }

    /// PostgreSQL's print of a summary (`json_agg` of `json_build_object`).
    fn printed(entries: &[(&str, &[(i64, &str)])]) -> String {
        let entries: Vec<String> = entries
            .iter()
            .map(|(emoji, users)| {
                let users: Vec<String> = users
                    .iter()
                    .map(|(id, label)| format!("[{id}, \"{label}\"]"))
                    .collect();
                format!(
                    "{{\"emoji\" : \"{emoji}\", \"users\" : [{}]}}",
                    users.join(", ")
                )
            })
            .collect();
        format!("[{}]", entries.join(", \n "))
    }

    #[test]
    fn postgres_prints_are_scanned_as_serde_reads_them() {
        let users: &[(i64, &str)] = &[(2, "p-3"), (3, "p 6"), (-4, "ünï"), (0, "x")];
        for text in [
            "[]".to_owned(),
            " [ ] ".to_owned(),
            printed(&[("👍", &users[..1])]),
            printed(&[("👍", users), ("❤️", &users[1..]), (":+1:", &users[3..])]),
            printed(&[("👩🏽‍💻", users)])
                .replace(" : ", "\t:\n")
                .replace(", ", ",\r\n "),
            r#"[{"emoji":"🎉","users":[[9223372036854775807,"max"]]}]"#.to_owned(),
        ] {
            let (scanned, visited) = both(&text);
            assert!(scanned.is_some(), "not scanned: {text}");
            assert_eq!(scanned, visited, "{text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_serde() {
        let refused = [
            // Readable JSON of the shape, in another print.
            r#"[{"users": [[1, "a"]], "emoji": "👍"}]"#,
            r#"[{"emoji": "👍", "users": [[1, "a"]], "extra": 1}]"#,
            r#"[{"emoji": "\ud83d\udc4d", "users": [[1, "a"]]}]"#,
            r#"[{"emoji": "👍", "users": [[1, "say \"hi\""]]}]"#,
            // Not of the shape, or refused reactions.
            r#"[{"emoji": "👍", "users": [[1e3, "a"]]}]"#,
            r#"[{"emoji": "👍", "users": [[1.5, "a"]]}]"#,
            r#"[{"emoji": "👍", "users": [[01, "a"]]}]"#,
            r#"[{"emoji": "👍", "users": [[9223372036854775808, "a"]]}]"#,
            r#"[{"emoji": "👍", "users": [[-, "a"]]}]"#,
            r#"[{"emoji": "👍", "users": []}]"#,
            r#"[{"emoji": "👍", "users": [[1, ""]]}]"#,
            r#"[{"emoji": "ok", "users": [[1, "a"]]}]"#,
            r#"[{"emoji": "👍", "users": [[1, "a"]]}] x"#,
            r#"[{"emoji": "👍", "users": [[1, "a"]]},]"#,
            r#"[{"emoji": "👍", "users": [[1, "a", 2]]}]"#,
            r#"[{"emoji": "👍", "users": [[1, "a"]]}"#,
            "[{\"emoji\": \"👍\", \"users\": [[1, \"a\tb\"]]}]",
            r#"{"emoji": "👍"}"#,
            "",
        ];
        for text in refused {
            let (scanned, visited) = both(text);
            assert_eq!(scanned, None, "scanned: {text}");
            let readable = refused
                .iter()
                .position(|t| *t == text)
                .is_some_and(|i| i < 4);
            assert_eq!(visited.is_some(), readable, "serde on {text}: {visited:?}");
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_refused() {
        let text = b"[{\"emoji\" : \"\xf0\x9f\", \"users\" : [[1, \"a\"]]}]";
        assert!(super::super::parse(text).is_err());
    }

    #[test]
    fn every_cut_of_a_print_is_refused_or_read_alike() {
        let text = printed(&[("👍", &[(2, "p-3"), (3, "p-6")]), ("🎉", &[(4, "é")])]);
        for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
            let (scanned, visited) = both(&text[..end]);
            assert_eq!(scanned, None, "scanned a cut: {}", &text[..end]);
            assert_eq!(visited, None, "serde read a cut: {}", &text[..end]);
        }
    }
}
