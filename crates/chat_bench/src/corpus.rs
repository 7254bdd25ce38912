//! The text of the benchmark's messages where their words matter (the history that search
//! reads, the sends that feed the search index): sentences of 4 to 16 words drawn from a
//! fixed vocabulary of [`VOCABULARY`] words with a Zipf spread (the word of rank *k* is
//! drawn with probability (1/*k*) / H(N), as word frequencies in natural text roughly are).
//!
//! The 100 most frequent ranks are common English words (stop words among them, which the
//! `english` text-search configuration drops, as it does in real messages: about 58 % of the
//! words drawn); [`SEARCH_WORD`] sits at rank [`SEARCH_RANK`]; every other rank is a made-up
//! word of three syllables ("kedilo"), distinct from the others. Everything is
//! deterministic: the same seed gives the same sentence on every run and machine.

/// Words in the vocabulary.
pub const VOCABULARY: usize = 4000;

/// The word the search row looks for, and its rank in the vocabulary (the rarest: about
/// 0.026 % of messages hold it, as a specific word people search for — a product, a refund,
/// a name — does).
pub const SEARCH_WORD: &str = "refund";
pub const SEARCH_RANK: usize = VOCABULARY;

/// A common word, searched too for the report (no target): about 0.11 % of messages hold it.
pub const COMMON_WORD: &str = "invoice";
pub const COMMON_RANK: usize = 1000;

/// Distinct sentences of the history (a power of two: see `sql::history_rooms`).
pub const SENTENCES: usize = 65_536;

/// Shortest and longest sentence, in words.
const MIN_WORDS: u64 = 4;
const MAX_WORDS: u64 = 16;

/// Ranks 1 to 100: the most frequent words of English, most frequent first.
const COMMON: [&str; 100] = [
    "the", "be", "to", "of", "and", "a", "in", "that", "have", "I", "it", "for", "not", "on",
    "with", "he", "as", "you", "do", "at", "this", "but", "his", "by", "from", "they", "we", "say",
    "her", "she", "or", "an", "will", "my", "one", "all", "would", "there", "their", "what", "so",
    "up", "out", "if", "about", "who", "get", "which", "go", "me", "when", "make", "can", "like",
    "time", "no", "just", "him", "know", "take", "people", "into", "year", "your", "good", "some",
    "could", "them", "see", "other", "than", "then", "now", "look", "only", "come", "its", "over",
    "think", "also", "back", "after", "use", "two", "how", "our", "work", "first", "well", "way",
    "even", "new", "want", "because", "any", "these", "give", "day", "most", "us",
];

/// The syllables of the made-up words.
const SYLLABLES: [&str; 16] = [
    "ba", "ke", "di", "lo", "mu", "ra", "se", "ti", "vo", "na", "pe", "zu", "go", "fi", "ha", "ju",
];

/// The vocabulary with its Zipf weights.
#[derive(Debug, Clone)]
pub struct Corpus {
    words: Vec<String>,
    /// Cumulative probability of ranks 1..=k, at index k-1 (the last is 1).
    cumulative: Vec<f64>,
}

impl Default for Corpus {
    fn default() -> Self {
        Self::new()
    }
}

impl Corpus {
    pub fn new() -> Self {
        let mut words: Vec<String> = COMMON.iter().map(|w| (*w).to_owned()).collect();
        // The made-up words, in a scrambled order of their syllables (2531 is odd, so
        // j ↦ 2531·j mod 4096 visits every three-syllable word once).
        let mut made_up = (0..4096usize).map(|j| {
            let n = (j * 2531) % 4096;
            format!(
                "{}{}{}",
                SYLLABLES[n / 256],
                SYLLABLES[(n / 16) % 16],
                SYLLABLES[n % 16]
            )
        });
        while words.len() < VOCABULARY {
            if words.len() + 1 == SEARCH_RANK {
                words.push(SEARCH_WORD.to_owned());
            } else if words.len() + 1 == COMMON_RANK {
                words.push(COMMON_WORD.to_owned());
            } else if let Some(word) = made_up.next() {
                words.push(word);
            } else {
                break;
            }
        }
        let harmonic: f64 = (1..=words.len()).map(|k| 1.0 / k as f64).sum();
        let mut total = 0.0;
        let mut cumulative: Vec<f64> = (1..=words.len())
            .map(|k| {
                total += 1.0 / k as f64 / harmonic;
                total
            })
            .collect();
        if let Some(last) = cumulative.last_mut() {
            *last = 1.0;
        }
        Self { words, cumulative }
    }

    /// The word of `rank` (1-based).
    pub fn word(&self, rank: usize) -> Option<&str> {
        self.words.get(rank.checked_sub(1)?).map(String::as_str)
    }

    /// Probability that one drawn word is the word of `rank`.
    pub fn probability(&self, rank: usize) -> f64 {
        let at = |k: usize| {
            k.checked_sub(1)
                .and_then(|i| self.cumulative.get(i))
                .copied()
                .unwrap_or(0.0)
        };
        at(rank) - at(rank.saturating_sub(1))
    }

    /// The expected share of sentences that hold the word of `rank` at least once.
    pub fn expected_share(&self, rank: usize) -> f64 {
        let p = self.probability(rank);
        let lengths = MIN_WORDS..=MAX_WORDS;
        let n = lengths.clone().count() as f64;
        lengths
            .map(|len| 1.0 - (1.0 - p).powi(len as i32))
            .sum::<f64>()
            / n
    }

    /// The sentence of `seed`: 4 to 16 words, the first capitalised, ending with a full
    /// stop (one in five with a question mark).
    pub fn sentence(&self, seed: u64) -> String {
        let mut rng = SplitMix64(seed);
        let len = MIN_WORDS + rng.next() % (MAX_WORDS - MIN_WORDS + 1);
        let mut out = String::with_capacity(len as usize * 7);
        for i in 0..len {
            let u = rng.unit();
            let index = self
                .cumulative
                .partition_point(|c| *c <= u)
                .min(self.words.len() - 1);
            let word = &self.words[index];
            if i == 0 {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    out.extend(first.to_uppercase());
                    out.push_str(chars.as_str());
                }
            } else {
                out.push(' ');
                out.push_str(word);
            }
        }
        out.push(if rng.next().is_multiple_of(5) {
            '?'
        } else {
            '.'
        });
        out
    }

    /// The history's sentences, `SENTENCES` of them (fixed seeds, apart from the sends').
    pub fn history(&self) -> Vec<String> {
        (0..SENTENCES as u64)
            .map(|i| self.sentence(i ^ 0x5EED_0000_0000))
            .collect()
    }
}

/// A small, fast, well-mixed generator (Steele, Lea & Flood's SplitMix64).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A seed for client `task`'s `iteration`-th sentence (distinct from the history's).
pub fn send_seed(task: usize, iteration: u64) -> u64 {
    ((task as u64) << 40) ^ iteration ^ 0xC0FF_EE00_0000_0000
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_vocabulary_is_distinct_and_holds_the_search_word() {
        let corpus = Corpus::new();
        assert_eq!(corpus.words.len(), VOCABULARY);
        let distinct: HashSet<&str> = corpus.words.iter().map(String::as_str).collect();
        assert_eq!(distinct.len(), VOCABULARY);
        assert_eq!(corpus.word(1), Some("the"));
        assert_eq!(corpus.word(SEARCH_RANK), Some(SEARCH_WORD));
        assert_eq!(corpus.word(COMMON_RANK), Some(COMMON_WORD));
        assert_eq!(corpus.word(VOCABULARY + 1), None);
    }

    #[test]
    fn words_follow_zipf() {
        let corpus = Corpus::new();
        // p(k) = 1/(k·H(N)); H(4000) ≈ 8.87.
        assert!((corpus.probability(1) - 1.0 / 8.87).abs() < 0.001);
        assert!((corpus.probability(1) / corpus.probability(10) - 10.0).abs() < 1e-6);
        let sentences = corpus.history();
        let words: Vec<&str> = sentences.iter().flat_map(|s| s.split(' ')).collect();
        let mean = words.len() as f64 / sentences.len() as f64;
        assert!((mean - 10.0).abs() < 0.1, "mean length {mean}");
        // "the" (rank 1) is about 11 % of the words drawn: capitalised when first.
        let the = words
            .iter()
            .filter(|w| w.trim_end_matches(['.', '?']).eq_ignore_ascii_case("the"))
            .count() as f64
            / words.len() as f64;
        assert!((the - corpus.probability(1)).abs() < 0.005, "the: {the}");
        // The search word: in about 0.11 % of the sentences.
        let holding = sentences
            .iter()
            .filter(|s| {
                s.split(' ').any(|w| {
                    w.trim_end_matches(['.', '?'])
                        .eq_ignore_ascii_case(COMMON_WORD)
                })
            })
            .count() as f64
            / sentences.len() as f64;
        let expected = corpus.expected_share(COMMON_RANK);
        assert!((0.0009..0.0014).contains(&expected), "expected {expected}");
        assert!(
            (holding - expected).abs() < expected * 0.35,
            "{holding} vs {expected}"
        );
    }

    #[test]
    fn sentences_are_deterministic_and_plain() {
        let corpus = Corpus::new();
        assert_eq!(corpus.sentence(7), corpus.sentence(7));
        assert_ne!(corpus.sentence(7), corpus.sentence(8));
        let s = corpus.sentence(send_seed(3, 9));
        assert!(s.ends_with('.') || s.ends_with('?'));
        assert!(
            s.chars()
                .all(|c| c.is_ascii_alphabetic() || " .?".contains(c))
        );
        assert!(s.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
    }
}
