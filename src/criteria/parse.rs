//! From the text of a criterion to its syntax tree: a recursive descent
//! over the bytes, each node keeping the byte position it came from so
//! that the compiler can say where a refused part is.
//!
//! ```text
//! criteria  := and ( "||" and )*
//! and       := unary ( "&&" unary )*
//! unary     := "!" unary | "(" criteria ")" | test
//! test      := PATH [ OPERATOR values ]
//! values    := VALUE | "(" VALUE ( "||" VALUE )* ")"
//! ```

use super::CriteriaError;

/// Parentheses and `!` nested deeper than this are refused, so that no
/// criterion can exhaust the stack.
pub(super) const MAX_NESTING: usize = 64;

/// An operator as written; the negated ones are kept apart from their
/// positive form until compilation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    EqNoCase,
    NeNoCase,
    Regex,
    RegexNoCase,
    NotRegex,
    NotRegexNoCase,
    Substr,
    SubstrNoCase,
    NotSubstr,
    Lt,
    Le,
    Gt,
    Ge,
    In,
}

/// The spellings of the operators, longest first wherever one is the
/// start of another (`!=*` before `!=`, `<>*` before `<>` before `<`).
pub(super) const OPERATORS: &[(&str, Op)] = &[
    ("!<>", Op::NotSubstr),
    ("!=*", Op::NeNoCase),
    ("!~*", Op::NotRegexNoCase),
    ("<>*", Op::SubstrNoCase),
    ("==", Op::Eq),
    ("=*", Op::EqNoCase),
    ("!=", Op::Ne),
    ("~*", Op::RegexNoCase),
    ("!~", Op::NotRegex),
    ("<>", Op::Substr),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("=", Op::Eq),
    ("~", Op::Regex),
    ("<", Op::Lt),
    (">", Op::Gt),
    ("in", Op::In),
];

/// A piece of the criterion text and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Spanned<T> {
    pub(super) at: usize,
    pub(super) item: T,
}

/// The syntax tree.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ast {
    Or(Vec<Ast>),
    And(Vec<Ast>),
    Not(Box<Ast>),
    Test {
        path: Spanned<String>,
        /// `None` for a bare path: the value exists.
        op: Option<Spanned<Op>>,
        /// Any of these (one unless a list was given).
        values: Vec<Spanned<String>>,
    },
}

/// Parses a whole criterion.
pub(super) fn parse(text: &str) -> Result<Ast, CriteriaError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
        depth: 0,
    };
    p.skip_space();
    if p.at == p.bytes.len() {
        return Err(p.error("the criterion is empty"));
    }
    let ast = p.or()?;
    p.skip_space();
    if p.at < p.bytes.len() {
        let reason = if p.bytes[p.at] == b')' {
            "this `)` closes no `(`"
        } else {
            "expected `&&`, `||` or the end of the criterion"
        };
        return Err(p.error(reason));
    }
    Ok(ast)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, reason: impl Into<String>) -> CriteriaError {
        CriteriaError::new(self.at, reason)
    }

    fn skip_space(&mut self) {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn peek(&self, word: &str) -> bool {
        self.bytes[self.at..].starts_with(word.as_bytes())
    }

    /// Takes `word` after optional space.
    fn eat(&mut self, word: &str) -> bool {
        self.skip_space();
        let found = self.peek(word);
        if found {
            self.at += word.len();
        }
        found
    }

    fn deeper(&mut self) -> Result<(), CriteriaError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error(format!(
                "parentheses and `!` are nested more than {MAX_NESTING} deep"
            )));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Ast, CriteriaError> {
        let mut terms = vec![self.and()?];
        while self.eat("||") {
            terms.push(self.and()?);
        }
        Ok(match terms.len() {
            1 => terms.remove(0),
            _ => Ast::Or(terms),
        })
    }

    fn and(&mut self) -> Result<Ast, CriteriaError> {
        let mut terms = vec![self.unary()?];
        while self.eat("&&") {
            terms.push(self.unary()?);
        }
        Ok(match terms.len() {
            1 => terms.remove(0),
            _ => Ast::And(terms),
        })
    }

    fn unary(&mut self) -> Result<Ast, CriteriaError> {
        self.skip_space();
        match self.bytes.get(self.at) {
            None => Err(self.error("the criterion ends where a test was expected")),
            Some(b'!') => {
                self.deeper()?;
                self.at += 1;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Ast::Not(Box::new(inner)))
            }
            Some(b'(') => {
                let open = self.at;
                self.deeper()?;
                self.at += 1;
                let inner = self.or()?;
                self.depth -= 1;
                if !self.eat(")") {
                    return Err(match self.bytes.get(self.at) {
                        None => CriteriaError::new(open, "this `(` is never closed"),
                        Some(_) => self.error("expected `&&`, `||` or `)`"),
                    });
                }
                Ok(inner)
            }
            Some(b) if b.is_ascii_alphabetic() => self.test(),
            Some(_) => Err(self.error("expected a path (such as Analyzer.Name), `!` or `(`")),
        }
    }

    fn test(&mut self) -> Result<Ast, CriteriaError> {
        let path = self.path()?;
        self.skip_space();
        let at = self.at;
        let op = OPERATORS.iter().find(|(spelling, _)| self.peek(spelling));
        let Some(&(spelling, op)) = op else {
            return Ok(Ast::Test {
                path,
                op: None,
                values: Vec::new(),
            });
        };
        // `in` is a word: `inside` is no operator.
        if op == Op::In
            && self
                .bytes
                .get(at + 2)
                .is_some_and(|b| b.is_ascii_alphanumeric())
        {
            return Err(self.error("expected an operator, `&&`, `||` or the end"));
        }
        self.at += spelling.len();
        let op = Some(Spanned { at, item: op });
        let values = self.values()?;
        Ok(Ast::Test { path, op, values })
    }

    /// A path: names of letters, digits, `-` and `_`, each optionally
    /// followed by an index in parentheses (digits with an optional `-`,
    /// or `*`), joined by dots. Its meaning is checked by the compiler.
    fn path(&mut self) -> Result<Spanned<String>, CriteriaError> {
        let start = self.at;
        loop {
            let name = self.at;
            while self
                .bytes
                .get(self.at)
                .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
            {
                self.at += 1;
            }
            if self.at == name {
                return Err(self.error("expected a name in the path"));
            }
            if self.bytes.get(self.at) == Some(&b'(') {
                let open = self.at;
                let close = self.bytes[open..]
                    .iter()
                    .position(|&b| b == b')')
                    .map(|n| open + n);
                let inner = close.map(|c| &self.bytes[open + 1..c]);
                let digits = inner.map(|i| i.strip_prefix(b"-").unwrap_or(i));
                match (close, inner, digits) {
                    (Some(c), Some(b"*"), _) => self.at = c + 1,
                    (Some(c), _, Some(d)) if !d.is_empty() && d.iter().all(u8::is_ascii_digit) => {
                        self.at = c + 1
                    }
                    _ => {
                        self.at = open + 1;
                        return Err(self.error(
                            "an index is a whole number (negative counts from the end) \
                             or `*`, closed by `)`",
                        ));
                    }
                }
            }
            if self.bytes.get(self.at) == Some(&b'.') {
                self.at += 1;
            } else {
                break;
            }
        }
        Ok(Spanned {
            at: start,
            item: self.text[start..self.at].to_string(),
        })
    }

    fn values(&mut self) -> Result<Vec<Spanned<String>>, CriteriaError> {
        self.skip_space();
        if self.bytes.get(self.at) != Some(&b'(') {
            return Ok(vec![self.value()?]);
        }
        let open = self.at;
        self.at += 1;
        let mut values = vec![self.value()?];
        while self.eat("||") {
            values.push(self.value()?);
        }
        if !self.eat(")") {
            return Err(match self.bytes.get(self.at) {
                None => CriteriaError::new(open, "this list of values is never closed"),
                Some(_) => self.error("expected `||` or `)` in a list of values"),
            });
        }
        Ok(values)
    }

    /// One value: quoted with `"` or `'` (a backslash escapes the quote
    /// and itself, and stays as written before anything else, so that
    /// regular expressions keep theirs), or bare up to a space, a
    /// parenthesis, a quote, `&&` or `||`.
    fn value(&mut self) -> Result<Spanned<String>, CriteriaError> {
        self.skip_space();
        let at = self.at;
        match self.bytes.get(self.at) {
            Some(&quote @ (b'"' | b'\'')) => {
                let mut text = String::new();
                let mut i = at + 1;
                // Runs of plain bytes are copied whole, so that the text
                // stays valid UTF-8 (every byte looked at is ASCII).
                let mut run = i;
                loop {
                    match self.bytes.get(i) {
                        None => {
                            return Err(CriteriaError::new(at, "this quoted value is never closed"))
                        }
                        Some(&b) if b == quote => {
                            text.push_str(&self.text[run..i]);
                            self.at = i + 1;
                            return Ok(Spanned { at, item: text });
                        }
                        Some(b'\\') => {
                            text.push_str(&self.text[run..i]);
                            match self.bytes.get(i + 1) {
                                Some(&b) if b == quote || b == b'\\' => {
                                    text.push(char::from(b));
                                    i += 2;
                                }
                                _ => {
                                    text.push('\\');
                                    i += 1;
                                }
                            }
                            run = i;
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            _ => {
                while let Some(&b) = self.bytes.get(self.at) {
                    if b.is_ascii_whitespace()
                        || matches!(b, b'(' | b')' | b'"' | b'\'')
                        || self.peek("&&")
                        || self.peek("||")
                    {
                        break;
                    }
                    self.at += 1;
                }
                if self.at == at {
                    return Err(self.error("expected a value"));
                }
                Ok(Spanned {
                    at,
                    item: self.text[at..self.at].to_string(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(path: &str, op: Option<Op>, values: &[&str]) -> Ast {
        Ast::Test {
            path: Spanned {
                at: 0,
                item: path.to_string(),
            },
            op: op.map(|item| Spanned { at: 0, item }),
            values: values
                .iter()
                .map(|v| Spanned {
                    at: 0,
                    item: v.to_string(),
                })
                .collect(),
        }
    }

    /// The tree with every position set to 0.
    fn shape(ast: Ast) -> Ast {
        match ast {
            Ast::Or(t) => Ast::Or(t.into_iter().map(shape).collect()),
            Ast::And(t) => Ast::And(t.into_iter().map(shape).collect()),
            Ast::Not(t) => Ast::Not(Box::new(shape(*t))),
            Ast::Test { path, op, values } => Ast::Test {
                path: Spanned { at: 0, ..path },
                op: op.map(|o| Spanned { at: 0, ..o }),
                values: values.into_iter().map(|v| Spanned { at: 0, ..v }).collect(),
            },
        }
    }

    #[test]
    fn precedence_lists_and_quotes() {
        let ast =
            shape(parse(r#"A == 1 || !B(*).C ~* 'x\'y\d' && (D || E in (a/8 || b))"#).unwrap());
        assert_eq!(
            ast,
            Ast::Or(vec![
                test("A", Some(Op::Eq), &["1"]),
                Ast::And(vec![
                    Ast::Not(Box::new(test("B(*).C", Some(Op::RegexNoCase), &[r"x'y\d"]))),
                    Ast::Or(vec![
                        test("D", None, &[]),
                        test("E", Some(Op::In), &["a/8", "b"])
                    ]),
                ]),
            ])
        );
    }

    #[test]
    fn longest_operator_wins() {
        for (spelling, op) in OPERATORS {
            let text = format!("Priority {spelling} x");
            assert_eq!(
                shape(parse(&text).unwrap()),
                test("Priority", Some(*op), &["x"])
            );
            let text = format!("Priority{spelling}\"x\"");
            if *op != Op::In {
                assert_eq!(
                    shape(parse(&text).unwrap()),
                    test("Priority", Some(*op), &["x"])
                );
            }
        }
    }

    #[test]
    fn errors_say_where() {
        let at = |text: &str| parse(text).unwrap_err().position();
        assert_eq!(at(""), 0);
        assert_eq!(at("A == "), 5);
        assert_eq!(at("(A"), 0);
        assert_eq!(at("A == 'x"), 5);
        assert_eq!(at("A(x).B"), 2);
        assert_eq!(at("A && || B"), 5);
        assert_eq!(at("A B"), 2);
        assert_eq!(at("A)"), 1);
        assert_eq!(at("A == (x || y"), 5);
        assert_eq!(at("A inside"), 2);
        assert_eq!(at(&"!".repeat(100)), MAX_NESTING);
    }
}
