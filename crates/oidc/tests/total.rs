//! `Verifier::verify` is total: arbitrary strings, mutated valid tokens and correctly signed garbage never panic,
//! and a valid token changed in any way is never accepted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

mod common;

use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use redoubt_oidc::Verifier;

struct Fixture {
    verifier: Verifier,
    tokens: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let f = Fixture { verifier: verifier(), tokens: vec![valid_rs256(), valid_es256()] };
        for t in &f.tokens {
            f.verifier.verify(t, NOW).unwrap();
        }
        f
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, char),
    Insert(usize, char),
    Delete(usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn token_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => prop::sample::select("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".chars().collect::<Vec<_>>()),
        1 => prop::sample::select(vec!['.', '=', '+', '/', ' ', '\0', 'é']),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), token_char()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        2 => (any::<usize>(), token_char()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        2 => any::<usize>().prop_map(Mutation::Delete),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Duplicate(a, b)),
    ]
}

fn apply(token: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    for m in mutations {
        let len = chars.len().max(1);
        match *m {
            Mutation::Replace(i, c) => {
                if !chars.is_empty() {
                    chars[i % len] = c;
                }
            }
            Mutation::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
            Mutation::Delete(i) => {
                if !chars.is_empty() {
                    chars.remove(i % len);
                }
            }
            Mutation::Truncate(i) => chars.truncate(i % len),
            Mutation::Duplicate(a, b) => {
                let (a, b) = (a % len, b % len);
                let (from, to) = (a.min(b), a.max(b));
                let copy: Vec<char> = chars.get(from..to).unwrap_or_default().to_vec();
                chars.splice(to..to, copy);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_are_refused(s in any::<String>(), dotted in "[A-Za-z0-9_=.-]{0,400}") {
        let f = fixture();
        prop_assert!(f.verifier.verify(&s, NOW).is_err());
        prop_assert!(f.verifier.verify(&dotted, NOW).is_err());
    }

    #[test]
    fn mutated_tokens_are_never_accepted(which in 0usize..2, mutations in prop::collection::vec(mutation(), 1..4)) {
        let f = fixture();
        let token = &f.tokens[which];
        let mutated = apply(token, &mutations);
        prop_assume!(&mutated != token);
        prop_assert!(f.verifier.verify(&mutated, NOW).is_err(), "accepted {:?}", mutations);
    }

    #[test]
    fn signed_garbage_never_panics(header in any::<Vec<u8>>(), payload in any::<Vec<u8>>(), json in "\\{[ -~]{0,200}\\}") {
        // Correctly signed, so the header and claims parsers see the bytes.
        let f = fixture();
        let es = r#"{"alg":"ES256","kid":"ec-1"}"#;
        for (h, p) in [(header.as_slice(), payload.as_slice()), (es.as_bytes(), payload.as_slice()), (es.as_bytes(), json.as_bytes())] {
            let input = format!("{}.{}", b64(h), b64(p));
            let token = format!("{input}.{}", b64(&es256_signature(input.as_bytes())));
            let _ = f.verifier.verify(&token, NOW);
        }
    }
}
