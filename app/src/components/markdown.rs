//! Model output as safe Markdown: a small parser of the subset chat answers use, rendered as
//! Leptos views. Nothing in the text ever becomes markup of its own: there is no raw HTML, so
//! `<script>` or `<img onerror>` in an answer is shown as the characters it is, and a link
//! becomes a link only when its address is `http:`, `https:` or `mailto:`.
//!
//! The subset: paragraphs (a single line break stays a line break, as people expect in a
//! chat), `#` headings, fenced code blocks (```` ``` ```` or `~~~`, with the language as a
//! `language-…` class; an unclosed fence runs to the end, so a streaming answer shows its code
//! as it arrives), bullet and numbered lists (one level of nesting), `---` rules, and inline
//! `**strong**`, `*emphasis*`, `` `code` ``, `[text](url)` and backslash escapes.
//!
//! The views carry no classes: whatever shows them styles their elements (see
//! `pages::ai::MARKDOWN`), so the browser bundle holds no styling of its own.
//!
//! Both passes are linear in the input: the inline parser finds closing backticks and brackets
//! through position lists it walks once, emphasis uses a delimiter stack (capped, so nesting
//! stays shallow enough to render and drop without deep recursion), and a link address is
//! looked for within a bounded distance.

use leptos::prelude::*;

/// A block of the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Paragraph(Vec<Inline>),
    /// `#` to `######`.
    Heading {
        level: u8,
        content: Vec<Inline>,
    },
    Code {
        /// The fence's info word, when it is a plausible language name.
        language: Option<String>,
        text: String,
    },
    List(List),
    Rule,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct List {
    pub ordered: bool,
    /// The first item's number (ordered lists).
    pub start: u64,
    pub items: Vec<ListItem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListItem {
    pub content: Vec<Inline>,
    /// Items indented under this one (deeper levels join this one).
    pub sublist: Option<List>,
}

/// A piece of text inside a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Code(String),
    /// Only ever an `http:`, `https:` or `mailto:` address.
    Link {
        url: String,
        content: Vec<Inline>,
    },
    LineBreak,
}

/// Emphasis openers waiting for their closer at once; more are shown as text.
const MAX_OPEN_EMPHASIS: usize = 32;
/// The longest link address looked for.
const MAX_URL_BYTES: usize = 1024;
/// The longest run of `*` that marks emphasis (`***` is both); longer runs are text, so one
/// opener nests at most this deep.
const MAX_STAR_RUN: usize = 3;
/// The longest language name kept from a code fence.
const MAX_LANGUAGE_CHARS: usize = 32;

// ---------------------------------------------------------------------------------------------
// Blocks

struct Fence {
    marker: u8,
    length: usize,
    indent: usize,
}

/// A code fence's opening line: the fence and the info string after it.
fn fence_open(line: &str) -> Option<(Fence, &str)> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let marker = *trimmed.as_bytes().first()?;
    if marker != b'`' && marker != b'~' {
        return None;
    }
    let length = trimmed.bytes().take_while(|&b| b == marker).count();
    if length < 3 {
        return None;
    }
    let info = trimmed[length..].trim();
    // "```code``` on one line" is inline code, not a fence.
    if marker == b'`' && info.contains('`') {
        return None;
    }
    Some((
        Fence {
            marker,
            length,
            indent,
        },
        info,
    ))
}

fn closes_fence(line: &str, fence: &Fence) -> bool {
    let trimmed = line.trim();
    trimmed.len() >= fence.length && trimmed.bytes().all(|b| b == fence.marker)
}

/// The language of a fence's info string, when it looks like one (`rust`, `c++`, `objective-c`).
fn fence_language(info: &str) -> Option<String> {
    let word = info.split_whitespace().next()?;
    let plausible = word.chars().count() <= MAX_LANGUAGE_CHARS
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '#' | '.'));
    plausible.then(|| word.to_string())
}

/// `# Title` → (1, "Title").
fn heading(line: &str) -> Option<(u8, &str)> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let level = trimmed.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &trimmed[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let mut text = rest.trim();
    // A closing run of `#`s, when set off by a space (or all there is).
    let without = text.trim_end_matches('#');
    if without.is_empty() || without.ends_with([' ', '\t']) {
        text = without.trim_end();
    }
    Some((level as u8, text))
}

/// `---`, `***` or `___` (three or more, spaces allowed between).
fn is_rule(line: &str) -> bool {
    let trimmed = line.trim();
    let Some(marker) = trimmed.bytes().next() else {
        return false;
    };
    matches!(marker, b'-' | b'*' | b'_')
        && trimmed.bytes().filter(|&b| b == marker).count() >= 3
        && trimmed
            .bytes()
            .all(|b| b == marker || b == b' ' || b == b'\t')
}

struct Marker<'a> {
    indent: usize,
    ordered: bool,
    number: u64,
    text: &'a str,
}

/// A list item's line: `- text`, `* text`, `+ text`, `1. text` or `1) text`.
fn list_marker(line: &str) -> Option<Marker<'_>> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let bytes = trimmed.as_bytes();
    let (ordered, number, marker_len) = match bytes.first()? {
        b'-' | b'*' | b'+' => (false, 1, 1),
        b'0'..=b'9' => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 9 || !matches!(bytes.get(digits), Some(b'.' | b')')) {
                return None;
            }
            (true, trimmed[..digits].parse().ok()?, digits + 1)
        }
        _ => return None,
    };
    let rest = &trimmed[marker_len..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some(Marker {
        indent,
        ordered,
        number,
        text: rest.trim(),
    })
}

/// A list while its lines are read: each item's text lines joined by `\n`.
struct OpenList {
    ordered: bool,
    start: u64,
    indent: usize,
    items: Vec<OpenItem>,
    blank_before: bool,
}

struct OpenItem {
    text: String,
    sublist: Option<(bool, u64, Vec<String>)>,
}

impl OpenList {
    fn new(marker: &Marker) -> Self {
        OpenList {
            ordered: marker.ordered,
            start: marker.number,
            indent: marker.indent,
            items: vec![OpenItem {
                text: marker.text.to_string(),
                sublist: None,
            }],
            blank_before: false,
        }
    }

    /// Takes an item line if it belongs to this list.
    fn take_item(&mut self, marker: &Marker) -> bool {
        if marker.indent >= self.indent + 2 {
            let Some(last) = self.items.last_mut() else {
                return false;
            };
            let sublist = last
                .sublist
                .get_or_insert_with(|| (marker.ordered, marker.number, Vec::new()));
            sublist.2.push(marker.text.to_string());
        } else if marker.ordered == self.ordered {
            self.items.push(OpenItem {
                text: marker.text.to_string(),
                sublist: None,
            });
        } else {
            return false;
        }
        self.blank_before = false;
        true
    }

    /// Takes a line that continues the last item, if it does.
    fn take_continuation(&mut self, line: &str) -> bool {
        let indented = line.len() - line.trim_start().len() >= 2;
        if self.blank_before && !indented {
            return false;
        }
        let Some(last) = self.items.last_mut() else {
            return false;
        };
        let target = match &mut last.sublist {
            Some((_, _, items)) => match items.last_mut() {
                Some(item) => item,
                None => &mut last.text,
            },
            None => &mut last.text,
        };
        target.push('\n');
        target.push_str(line.trim());
        self.blank_before = false;
        true
    }

    fn finish(self) -> Block {
        let items = self
            .items
            .into_iter()
            .map(|item| ListItem {
                content: parse_inline(&item.text),
                sublist: item.sublist.map(|(ordered, start, items)| List {
                    ordered,
                    start,
                    items: items
                        .iter()
                        .map(|text| ListItem {
                            content: parse_inline(text),
                            sublist: None,
                        })
                        .collect(),
                }),
            })
            .collect();
        Block::List(List {
            ordered: self.ordered,
            start: self.start,
            items,
        })
    }
}

/// The blocks of `source`.
pub fn parse(source: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Option<OpenList> = None;
    let flush_paragraph = |paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(parse_inline(&paragraph.join("\n"))));
            paragraph.clear();
        }
    };
    let flush_list = |list: &mut Option<OpenList>, blocks: &mut Vec<Block>| {
        if let Some(open) = list.take() {
            blocks.push(open.finish());
        }
    };
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        if let Some((fence, info)) = fence_open(line) {
            flush_paragraph(&mut paragraph, &mut blocks);
            flush_list(&mut list, &mut blocks);
            let mut text = String::new();
            for line in lines.by_ref() {
                if closes_fence(line, &fence) {
                    break;
                }
                // The fence's own indentation is not part of the code.
                let indent = line.len() - line.trim_start_matches(' ').len();
                text.push_str(&line[indent.min(fence.indent)..]);
                text.push('\n');
            }
            text.pop();
            blocks.push(Block::Code {
                language: fence_language(info),
                text,
            });
            continue;
        }
        if line.trim().is_empty() {
            flush_paragraph(&mut paragraph, &mut blocks);
            if let Some(open) = &mut list {
                open.blank_before = true;
            }
            continue;
        }
        if let Some((level, text)) = heading(line) {
            flush_paragraph(&mut paragraph, &mut blocks);
            flush_list(&mut list, &mut blocks);
            blocks.push(Block::Heading {
                level,
                content: parse_inline(text),
            });
            continue;
        }
        if is_rule(line) {
            flush_paragraph(&mut paragraph, &mut blocks);
            flush_list(&mut list, &mut blocks);
            blocks.push(Block::Rule);
            continue;
        }
        if let Some(marker) = list_marker(line) {
            flush_paragraph(&mut paragraph, &mut blocks);
            if !list.as_mut().is_some_and(|open| open.take_item(&marker)) {
                flush_list(&mut list, &mut blocks);
                list = Some(OpenList::new(&marker));
            }
            continue;
        }
        if list
            .as_mut()
            .is_some_and(|open| open.take_continuation(line))
        {
            continue;
        }
        flush_list(&mut list, &mut blocks);
        paragraph.push(line.trim());
    }
    flush_paragraph(&mut paragraph, &mut blocks);
    flush_list(&mut list, &mut blocks);
    blocks
}

// ---------------------------------------------------------------------------------------------
// Inlines

/// Whether a link may point at `url`: web and mail addresses only.
pub fn is_safe_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = ["https://", "http://", "mailto:"]
        .iter()
        .find(|scheme| lower.starts_with(**scheme))
        .map(|scheme| &url[scheme.len()..]);
    rest.is_some_and(|rest| {
        !rest.is_empty() && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

/// Positions of one byte in the text, walked forwards once.
struct Positions {
    at: Vec<usize>,
    next: usize,
}

impl Positions {
    fn of(bytes: &[u8], byte: u8) -> Self {
        Positions {
            at: bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == byte)
                .map(|(i, _)| i)
                .collect(),
            next: 0,
        }
    }

    /// The first position at or after `from` (calls must not go backwards).
    fn first_from(&mut self, from: usize) -> Option<usize> {
        while self.at.get(self.next).is_some_and(|&at| at < from) {
            self.next += 1;
        }
        self.at.get(self.next).copied()
    }
}

/// Runs of backticks by length, each list walked forwards once.
struct BacktickRuns {
    by_length: std::collections::HashMap<usize, Positions>,
}

impl BacktickRuns {
    fn of(bytes: &[u8]) -> Self {
        let mut by_length: std::collections::HashMap<usize, Positions> = Default::default();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'`' {
                let length = bytes[i..].iter().take_while(|&&b| b == b'`').count();
                by_length
                    .entry(length)
                    .or_insert_with(|| Positions {
                        at: Vec::new(),
                        next: 0,
                    })
                    .at
                    .push(i);
                i += length;
            } else {
                i += 1;
            }
        }
        BacktickRuns { by_length }
    }

    /// Where the next run of exactly `length` backticks at or after `from` starts.
    fn next(&mut self, length: usize, from: usize) -> Option<usize> {
        self.by_length.get_mut(&length)?.first_from(from)
    }
}

/// A piece while emphasis is worked out: finished, or a run of `*` still waiting.
enum Piece {
    Done(Inline),
    Stars(usize),
}

struct InlineParser<'a> {
    source: &'a str,
    pieces: Vec<Piece>,
    /// Indices into `pieces` of the runs that may still open emphasis, innermost last.
    openers: Vec<usize>,
    text: String,
    backticks: BacktickRuns,
    open_brackets: Positions,
    close_brackets: Positions,
    close_parens: Positions,
    links: bool,
}

/// The inline content of one block's text.
pub fn parse_inline(source: &str) -> Vec<Inline> {
    InlineParser::new(source, true).run()
}

fn is_special(byte: u8) -> bool {
    matches!(byte, b'*' | b'`' | b'[' | b'\\' | b'\n')
}

impl<'a> InlineParser<'a> {
    fn new(source: &'a str, links: bool) -> Self {
        let bytes = source.as_bytes();
        InlineParser {
            source,
            pieces: Vec::new(),
            openers: Vec::new(),
            text: String::new(),
            backticks: BacktickRuns::of(bytes),
            open_brackets: Positions::of(bytes, b'['),
            close_brackets: Positions::of(bytes, b']'),
            close_parens: Positions::of(bytes, b')'),
            links,
        }
    }

    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            let text = std::mem::take(&mut self.text);
            self.pieces.push(Piece::Done(Inline::Text(text)));
        }
    }

    fn push(&mut self, inline: Inline) {
        self.flush_text();
        self.pieces.push(Piece::Done(inline));
    }

    fn run(mut self) -> Vec<Inline> {
        let source = self.source;
        let bytes = source.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    self.push(Inline::LineBreak);
                    i += 1;
                }
                b'\\' => match bytes.get(i + 1) {
                    Some(&next) if next.is_ascii_punctuation() => {
                        self.text.push(next as char);
                        i += 2;
                    }
                    _ => {
                        self.text.push('\\');
                        i += 1;
                    }
                },
                b'`' => i = self.code_span(i),
                b'[' if self.links => i = self.link(i),
                b'*' => i = self.stars(i),
                _ => {
                    let end = bytes[i..]
                        .iter()
                        .position(|&b| is_special(b))
                        .map_or(bytes.len(), |offset| i + offset);
                    // `[` outside link parsing is special only to stop here; keep it as text.
                    let end = if end == i { i + 1 } else { end };
                    self.text.push_str(&source[i..end]);
                    i = end;
                }
            }
        }
        self.flush_text();
        finish(self.pieces)
    }

    /// `` `code` ``: the next run of as many backticks closes it; without one they are text.
    fn code_span(&mut self, start: usize) -> usize {
        let bytes = self.source.as_bytes();
        let length = bytes[start..].iter().take_while(|&&b| b == b'`').count();
        let after = start + length;
        match self.backticks.next(length, after) {
            Some(close) => {
                let mut code = self.source[after..close].replace('\n', " ");
                if code.len() >= 2
                    && code.starts_with(' ')
                    && code.ends_with(' ')
                    && !code.trim().is_empty()
                {
                    code = code[1..code.len() - 1].to_string();
                }
                self.push(Inline::Code(code));
                close + length
            }
            None => {
                self.text.push_str(&self.source[start..after]);
                after
            }
        }
    }

    /// `[text](url)`: a link for a safe address, the whole of it as text for any other; a `[`
    /// that starts no such thing is text.
    fn link(&mut self, start: usize) -> usize {
        let bytes = self.source.as_bytes();
        let close = self.close_brackets.first_from(start + 1);
        let nested = self.open_brackets.first_from(start + 1);
        let parsed = close
            .filter(|&close| nested.is_none_or(|open| open > close))
            .filter(|&close| bytes.get(close + 1) == Some(&b'('))
            // No `)` near enough: no address to read.
            .filter(|&close| {
                self.close_parens
                    .first_from(close + 2)
                    .is_some_and(|paren| paren - (close + 2) <= MAX_URL_BYTES)
            })
            .and_then(|close| {
                let url_start = close + 2;
                let mut depth = 0usize;
                for (offset, &byte) in bytes[url_start..].iter().take(MAX_URL_BYTES).enumerate() {
                    match byte {
                        b'(' => depth += 1,
                        b')' if depth == 0 => return Some((close, url_start, url_start + offset)),
                        b')' => depth -= 1,
                        b if b.is_ascii_whitespace() || b.is_ascii_control() => return None,
                        _ => {}
                    }
                }
                None
            });
        let Some((close, url_start, url_end)) = parsed else {
            self.text.push('[');
            return start + 1;
        };
        let url = &self.source[url_start..url_end];
        if is_safe_url(url) {
            let label = &self.source[start + 1..close];
            let content = if label.trim().is_empty() {
                vec![Inline::Text(url.to_string())]
            } else {
                InlineParser::new(label, false).run()
            };
            self.push(Inline::Link {
                url: url.to_string(),
                content,
            });
        } else {
            self.text.push_str(&self.source[start..=url_end]);
        }
        url_end + 1
    }

    /// A run of `*`: closes the nearest open emphasis it can, opens one with what is left.
    fn stars(&mut self, start: usize) -> usize {
        let source = self.source;
        let length = source.as_bytes()[start..]
            .iter()
            .take_while(|&&b| b == b'*')
            .count();
        let end = start + length;
        let before = source[..start].chars().next_back();
        let after = source[end..].chars().next();
        let marks = length <= MAX_STAR_RUN;
        let can_close = marks && before.is_some_and(|c| !c.is_whitespace());
        let can_open = marks && after.is_some_and(|c| !c.is_whitespace());
        let mut left = length;
        if can_close {
            self.flush_text();
            while left > 0 {
                let Some(&opener) = self.openers.last() else {
                    break;
                };
                let Piece::Stars(open_count) = self.pieces[opener] else {
                    break;
                };
                let used = if open_count >= 2 && left >= 2 { 2 } else { 1 };
                let inner = finish(self.pieces.drain(opener + 1..).collect());
                let node = if used == 2 {
                    Inline::Strong(inner)
                } else {
                    Inline::Emphasis(inner)
                };
                if open_count == used {
                    self.pieces.pop();
                    self.openers.pop();
                } else {
                    self.pieces[opener] = Piece::Stars(open_count - used);
                }
                self.pieces.push(Piece::Done(node));
                left -= used;
            }
        }
        if left > 0 {
            if can_open && self.openers.len() < MAX_OPEN_EMPHASIS {
                self.flush_text();
                self.openers.push(self.pieces.len());
                self.pieces.push(Piece::Stars(left));
            } else {
                self.text.extend(std::iter::repeat_n('*', left));
            }
        }
        end
    }
}

/// Pieces as inlines: unmatched `*` runs become text, neighbouring texts one.
fn finish(pieces: Vec<Piece>) -> Vec<Inline> {
    let mut inlines: Vec<Inline> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let inline = match piece {
            Piece::Done(inline) => inline,
            Piece::Stars(count) => Inline::Text("*".repeat(count)),
        };
        match (inlines.last_mut(), inline) {
            (Some(Inline::Text(previous)), Inline::Text(text)) => previous.push_str(&text),
            (_, inline) => inlines.push(inline),
        }
    }
    inlines
}

// ---------------------------------------------------------------------------------------------
// Views

/// A stretch of text with the styles around it: inline content flattened, so rendering is a
/// fixed set of view types (no recursion, no type erasure) and stays small in the WASM.
struct Styled {
    text: String,
    strong: bool,
    emphasis: bool,
    code: bool,
}

enum Run {
    Text(Styled),
    Break,
    Link { url: String, parts: Vec<Styled> },
}

fn flatten(inlines: Vec<Inline>, strong: bool, emphasis: bool, runs: &mut Vec<Run>) {
    for inline in inlines {
        match inline {
            Inline::Text(text) => runs.push(Run::Text(Styled {
                text,
                strong,
                emphasis,
                code: false,
            })),
            Inline::Code(text) => runs.push(Run::Text(Styled {
                text,
                strong,
                emphasis,
                code: true,
            })),
            Inline::LineBreak => runs.push(Run::Break),
            Inline::Strong(inner) => flatten(inner, true, emphasis, runs),
            Inline::Emphasis(inner) => flatten(inner, strong, true, runs),
            Inline::Link { url, content } => {
                let mut inner = Vec::new();
                flatten(content, strong, emphasis, &mut inner);
                let parts = inner
                    .into_iter()
                    .filter_map(|run| match run {
                        Run::Text(styled) => Some(styled),
                        Run::Break => Some(Styled {
                            text: " ".into(),
                            strong: false,
                            emphasis: false,
                            code: false,
                        }),
                        Run::Link { .. } => None,
                    })
                    .collect();
                runs.push(Run::Link { url, parts });
            }
        }
    }
}

fn styled_view(styled: Styled) -> impl IntoView {
    use leptos::either::EitherOf5;
    let Styled {
        text,
        strong,
        emphasis,
        code,
    } = styled;
    match (code, strong, emphasis) {
        (true, _, _) => EitherOf5::A(view! { <code>{text}</code> }),
        (false, true, true) => EitherOf5::B(view! { <strong><em>{text}</em></strong> }),
        (false, true, false) => EitherOf5::C(view! { <strong>{text}</strong> }),
        (false, false, true) => EitherOf5::D(view! { <em>{text}</em> }),
        (false, false, false) => EitherOf5::E(text),
    }
}

fn inlines_view(inlines: Vec<Inline>) -> impl IntoView {
    use leptos::either::EitherOf3;
    let mut runs = Vec::new();
    flatten(inlines, false, false, &mut runs);
    runs.into_iter()
        .map(|run| match run {
            Run::Text(styled) => EitherOf3::A(styled_view(styled)),
            Run::Break => EitherOf3::B(view! { <br/> }),
            Run::Link { url, parts } => EitherOf3::C(view! {
                <a href=url rel="noopener noreferrer nofollow" target="_blank">
                    {parts.into_iter().map(styled_view).collect_view()}
                </a>
            }),
        })
        .collect_view()
}

/// A list nested in an item: its items' own nesting is already flattened into it.
fn sublist_view(list: List) -> impl IntoView {
    let items = list
        .items
        .into_iter()
        .map(|item| view! { <li>{inlines_view(item.content)}</li> })
        .collect_view();
    if list.ordered {
        leptos::either::Either::Left(view! { <ol start=list.start>{items}</ol> })
    } else {
        leptos::either::Either::Right(view! { <ul>{items}</ul> })
    }
}

fn list_view(list: List) -> impl IntoView {
    let items = list
        .items
        .into_iter()
        .map(|item| view! { <li>{inlines_view(item.content)}{item.sublist.map(sublist_view)}</li> })
        .collect_view();
    if list.ordered {
        leptos::either::Either::Left(view! { <ol start=list.start>{items}</ol> })
    } else {
        leptos::either::Either::Right(view! { <ul>{items}</ul> })
    }
}

fn block_view(block: Block) -> impl IntoView {
    use leptos::either::EitherOf8;
    // The page has its own h1 and h2s: an answer's headings start below them.
    match block {
        Block::Paragraph(inlines) => EitherOf8::A(view! { <p>{inlines_view(inlines)}</p> }),
        Block::Heading { level: 1, content } => {
            EitherOf8::B(view! { <h3>{inlines_view(content)}</h3> })
        }
        Block::Heading { level: 2, content } => {
            EitherOf8::C(view! { <h4>{inlines_view(content)}</h4> })
        }
        Block::Heading { level: 3, content } => {
            EitherOf8::D(view! { <h5>{inlines_view(content)}</h5> })
        }
        Block::Heading { content, .. } => EitherOf8::E(view! { <h6>{inlines_view(content)}</h6> }),
        Block::Code { language, text } => EitherOf8::F(view! {
            <pre><code class=language.map(|language| format!("language-{language}"))>{text}</code></pre>
        }),
        Block::List(list) => EitherOf8::G(list_view(list)),
        Block::Rule => EitherOf8::H(view! { <hr/> }),
    }
}

/// `source` rendered: views built node by node, so its text is only ever text.
pub fn markdown_view(source: &str) -> impl IntoView + use<> {
    parse(source).into_iter().map(block_view).collect_view()
}

/// In the browser: replaces what `parent` shows with `source` rendered.
#[cfg(feature = "hydrate")]
pub fn render_into(parent: &leptos::web_sys::Element, source: &str) {
    use leptos::tachys::view::{Mountable, Render};
    parent.set_text_content(None);
    let mut rendered = markdown_view(source).build();
    rendered.mount(parent, None);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.to_string())
    }

    /// The HTML the views render to (rendering to a string needs the server's `ssr` build:
    /// `cargo test -p app --features ssr`, as `scripts/test` runs it).
    #[cfg(feature = "ssr")]
    fn html(source: &str) -> String {
        use leptos::prelude::RenderHtml;
        markdown_view(source).to_html()
    }

    #[test]
    fn paragraphs_keep_single_line_breaks_and_split_at_blank_lines() {
        assert_eq!(
            parse("one\ntwo\n\nthree"),
            vec![
                Block::Paragraph(vec![text("one"), Inline::LineBreak, text("two")]),
                Block::Paragraph(vec![text("three")]),
            ]
        );
        assert_eq!(parse("  \n\n"), vec![]);
        assert_eq!(parse("a\r\nb"), parse("a\nb"));
    }

    #[test]
    fn strong_emphasis_and_code_nest_as_written() {
        assert_eq!(
            parse_inline("**bold** and *it* and `x*y`"),
            vec![
                Inline::Strong(vec![text("bold")]),
                text(" and "),
                Inline::Emphasis(vec![text("it")]),
                text(" and "),
                Inline::Code("x*y".into()),
            ]
        );
        assert_eq!(
            parse_inline("**bold *and italic***"),
            vec![Inline::Strong(vec![
                text("bold "),
                Inline::Emphasis(vec![text("and italic")])
            ])]
        );
        assert_eq!(
            parse_inline("***both***"),
            vec![Inline::Emphasis(vec![Inline::Strong(vec![text("both")])])]
        );
        assert_eq!(
            parse_inline("*a **b** c*"),
            vec![Inline::Emphasis(vec![
                text("a "),
                Inline::Strong(vec![text("b")]),
                text(" c")
            ])]
        );
    }

    #[test]
    fn unmatched_or_spaced_stars_stay_text() {
        assert_eq!(parse_inline("2 * 3 * 4"), vec![text("2 * 3 * 4")]);
        assert_eq!(parse_inline("**not closed"), vec![text("**not closed")]);
        assert_eq!(parse_inline("closed only*"), vec![text("closed only*")]);
        assert_eq!(
            parse_inline("**a*"),
            vec![text("*"), Inline::Emphasis(vec![text("a")])]
        );
        assert_eq!(parse_inline("*"), vec![text("*")]);
        assert_eq!(parse_inline("\\*not\\*"), vec![text("*not*")]);
        assert_eq!(parse_inline("a\\b"), vec![text("a\\b")]);
    }

    #[test]
    fn code_spans_need_a_closing_run_of_the_same_length() {
        assert_eq!(
            parse_inline("``a ` b`` and `c`"),
            vec![
                Inline::Code("a ` b".into()),
                text(" and "),
                Inline::Code("c".into())
            ]
        );
        assert_eq!(parse_inline("`open"), vec![text("`open")]);
        assert_eq!(parse_inline("` `"), vec![Inline::Code(" ".into())]);
        assert_eq!(
            parse_inline("`` `ticks` ``"),
            vec![Inline::Code("`ticks`".into())]
        );
    }

    #[test]
    fn links_are_links_only_for_web_and_mail_addresses() {
        assert_eq!(
            parse_inline("see [the *docs*](https://kilat.id/docs?a=1) now"),
            vec![
                text("see "),
                Inline::Link {
                    url: "https://kilat.id/docs?a=1".into(),
                    content: vec![text("the "), Inline::Emphasis(vec![text("docs")])],
                },
                text(" now"),
            ]
        );
        assert_eq!(
            parse_inline("[mail](mailto:halo@kilat.id)"),
            vec![Inline::Link {
                url: "mailto:halo@kilat.id".into(),
                content: vec![text("mail")]
            }]
        );
        assert_eq!(
            parse_inline("[wiki](https://en.wikipedia.org/wiki/Kilat_(film))"),
            vec![Inline::Link {
                url: "https://en.wikipedia.org/wiki/Kilat_(film)".into(),
                content: vec![text("wiki")]
            }]
        );
        for hostile in [
            "[a link](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html,hi)",
            "[x](//evil.example)",
            "[x](/relative)",
            "[x](vbscript:msgbox)",
            "[x](https:)",
        ] {
            assert_eq!(parse_inline(hostile), vec![text(hostile)], "{hostile}");
        }
        assert_eq!(parse_inline("[not a link]"), vec![text("[not a link]")]);
        assert_eq!(
            parse_inline("[a [b](https://x.y)"),
            vec![
                text("[a "),
                Inline::Link {
                    url: "https://x.y".into(),
                    content: vec![text("b")]
                }
            ]
        );
        assert_eq!(
            parse_inline("[spaced](https://x.y z)"),
            vec![text("[spaced](https://x.y z)")]
        );
    }

    #[test]
    fn fenced_code_keeps_its_text_and_language_and_runs_on_when_unclosed() {
        assert_eq!(
            parse("```rust\nfn main() {\n    *x* <b>\n}\n```\nafter"),
            vec![
                Block::Code {
                    language: Some("rust".into()),
                    text: "fn main() {\n    *x* <b>\n}".into()
                },
                Block::Paragraph(vec![text("after")]),
            ]
        );
        assert_eq!(
            parse("text\n~~~\nstill *code*\n\n# not a heading"),
            vec![
                Block::Paragraph(vec![text("text")]),
                Block::Code {
                    language: None,
                    text: "still *code*\n\n# not a heading".into()
                },
            ]
        );
        assert_eq!(
            parse("```\" onmouseover=\"x\n1\n```"),
            vec![Block::Code {
                language: None,
                text: "1".into()
            }]
        );
        assert_eq!(
            parse("```js```"),
            vec![Block::Paragraph(vec![Inline::Code("js".into())])]
        );
        assert_eq!(
            parse("1. run:\n   ```sh\n   cargo test\n   ```\n2. done"),
            vec![
                Block::List(List {
                    ordered: true,
                    start: 1,
                    items: vec![ListItem {
                        content: vec![text("run:")],
                        sublist: None
                    }]
                }),
                Block::Code {
                    language: Some("sh".into()),
                    text: "cargo test".into()
                },
                Block::List(List {
                    ordered: true,
                    start: 2,
                    items: vec![ListItem {
                        content: vec![text("done")],
                        sublist: None
                    }]
                }),
            ]
        );
    }

    #[test]
    fn lists_headings_and_rules() {
        let item = |s: &str| ListItem {
            content: vec![text(s)],
            sublist: None,
        };
        assert_eq!(
            parse("# Title #\n- one\n* two\n  more\n\n- three\n    - nested\n3) third\n---"),
            vec![
                Block::Heading {
                    level: 1,
                    content: vec![text("Title")]
                },
                Block::List(List {
                    ordered: false,
                    start: 1,
                    items: vec![
                        item("one"),
                        ListItem {
                            content: vec![text("two"), Inline::LineBreak, text("more")],
                            sublist: None
                        },
                        ListItem {
                            content: vec![text("three")],
                            sublist: Some(List {
                                ordered: false,
                                start: 1,
                                items: vec![item("nested")]
                            })
                        },
                    ]
                }),
                Block::List(List {
                    ordered: true,
                    start: 3,
                    items: vec![item("third")]
                }),
                Block::Rule,
            ]
        );
        assert_eq!(
            parse("#hashtag\n####### seven"),
            vec![Block::Paragraph(vec![
                text("#hashtag"),
                Inline::LineBreak,
                text("####### seven")
            ])]
        );
        assert_eq!(
            parse("- a\n\nafter"),
            vec![
                Block::List(List {
                    ordered: false,
                    start: 1,
                    items: vec![item("a")]
                }),
                Block::Paragraph(vec![text("after")]),
            ]
        );
    }

    #[test]
    fn hostile_markup_parses_as_plain_text() {
        assert_eq!(
            parse(
                "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[a link](javascript:alert(1))"
            ),
            vec![
                Block::Paragraph(vec![text("<script>alert(1)</script>")]),
                Block::Paragraph(vec![text("<img src=x onerror=alert(1)>")]),
                Block::Paragraph(vec![text("[a link](javascript:alert(1))")]),
            ]
        );
        assert_eq!(
            parse("<b>*hi*</b>"),
            vec![Block::Paragraph(vec![
                text("<b>"),
                Inline::Emphasis(vec![text("hi")]),
                text("</b>")
            ])]
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn hostile_markup_renders_as_inert_text() {
        let answer = "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[a link](javascript:alert(1))";
        let out = html(answer);
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.contains("<a "), "{out}");
        assert!(
            out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{out}"
        );
        assert!(out.contains("&lt;img src=x onerror=alert(1)&gt;"), "{out}");
        assert!(out.contains("[a link](javascript:alert(1))"), "{out}");

        // Attribute values are escaped too.
        let out = html("[x](https://a.b/\"onmouseover=\"alert(1))\n```a\"b\nx\n```");
        assert!(!out.contains("\"onmouseover"), "{out}");
        assert!(!out.contains("language-a\"b"), "{out}");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn safe_links_open_in_a_new_tab_without_the_opener_or_a_referrer() {
        let out = html("[Kilat](https://kilat.id)");
        assert!(out.contains("href=\"https://kilat.id\""), "{out}");
        assert!(
            out.contains("rel=\"noopener noreferrer nofollow\""),
            "{out}"
        );
        assert!(out.contains("target=\"_blank\""), "{out}");
        let out = html("```rust\nlet x = 1;\n```");
        assert!(out.contains("class=\"language-rust\""), "{out}");
        let out = html("# Big\n\n1. a\n2. b");
        assert!(out.contains("<h3"), "{out}");
        assert!(out.contains("<ol start=\"1\""), "{out}");
    }

    #[test]
    fn long_hostile_input_parses_in_linear_time() {
        let cases = [
            "*a ".repeat(40_000),
            "[".repeat(100_000),
            "[a](".repeat(30_000),
            "[a](http://x ".repeat(10_000),
            "` `` ```".repeat(20_000),
            "**".repeat(60_000),
            "- *x\n".repeat(20_000),
            "```\n".repeat(20_000),
            format!("{}{}", "*".repeat(50_000), "a*".repeat(50_000)),
            "\\".repeat(100_000),
        ];
        let started = std::time::Instant::now();
        for case in &cases {
            let blocks = parse(case);
            assert!(!blocks.is_empty());
            #[cfg(feature = "ssr")]
            let _ = html(case);
        }
        // Quadratic work on these inputs would take minutes; linear takes well under a second
        // (a generous bound, for a slow CI machine in debug).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn deep_emphasis_is_capped_so_rendering_stays_shallow() {
        let depth = |inlines: &[Inline]| {
            fn depth(inline: &Inline) -> usize {
                match inline {
                    Inline::Strong(inner) | Inline::Emphasis(inner) => {
                        1 + inner.iter().map(depth).max().unwrap_or(0)
                    }
                    _ => 0,
                }
            }
            inlines.iter().map(depth).max().unwrap_or(0)
        };
        let source = format!("{}x{}", "*a ".repeat(5_000), " a*".repeat(5_000));
        assert_eq!(depth(&parse_inline(&source)), MAX_OPEN_EMPHASIS);
        // One long run opens nothing; `***` opens at most three levels.
        let source = format!("{}{}", "*".repeat(5_000), "a*".repeat(5_000));
        assert!(depth(&parse_inline(&source)) <= 1);
        assert_eq!(parse_inline("****x****"), vec![text("****x****")]);
    }
}
