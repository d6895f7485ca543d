//! An incremental decoder for server-sent events, as the WHATWG HTML standard parses an event
//! stream (§9.2 "Server-sent events", "Parsing an event stream" and "Interpreting an event
//! stream"), for reading providers' streamed answers.
//!
//! Bytes are fed as they arrive, split anywhere — inside a line, between `\r` and `\n`, inside a
//! multi-byte character — and complete events come out. Lines end in `\n`, `\r\n` or `\r`; a
//! leading byte order mark is skipped; `:` lines are comments (keep-alives); one space after the
//! field's colon is dropped; `data` lines join with `\n`; `id` and `retry` are read and ignored
//! (nothing here reconnects); an event not closed by a blank line when the body ends is dropped.
//! Text that is not UTF-8 becomes U+FFFD, as the standard's decoder does.
//!
//! The upstream is not trusted with our memory: a line or an event's data longer than
//! [`MAX_EVENT_BYTES`] is an error, not a buffer that grows.

use std::collections::VecDeque;

/// The longest line, and the most data one event may carry. Providers' events are a few hundred
/// bytes; a whole answer of tens of thousands of tokens fits many times over.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event` field, or `message` when the event named none.
    pub event: String,
    /// The `data` lines joined with `\n`.
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("an event stream line or event is longer than {limit} bytes")]
    TooLarge { limit: usize },
}

/// Feed bytes with [`SseDecoder::feed`], then take events with [`SseDecoder::next_event`].
#[derive(Debug)]
pub struct SseDecoder {
    limit: usize,
    /// The first bytes, held until they show whether the stream starts with a BOM.
    start: Vec<u8>,
    past_start: bool,
    /// The current line, without its end.
    line: Vec<u8>,
    /// The last byte fed was a `\r`: a `\n` first in the next feed belongs to it.
    after_cr: bool,
    event_type: String,
    data: String,
    ready: VecDeque<SseEvent>,
    failed: bool,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::with_limit(MAX_EVENT_BYTES)
    }

    /// A decoder whose lines and events may be at most `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            limit,
            start: Vec::with_capacity(BOM.len()),
            past_start: false,
            line: Vec::new(),
            after_cr: false,
            event_type: String::new(),
            data: String::new(),
            ready: VecDeque::new(),
            failed: false,
        }
    }

    /// Decodes the next bytes of the stream. On an error the events completed before it can still
    /// be taken; the decoder accepts nothing more.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), SseError> {
        if self.failed {
            return Err(self.too_large());
        }
        if !self.past_start {
            let take = (BOM.len() - self.start.len()).min(bytes.len());
            self.start.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.start.len() < BOM.len() && BOM.starts_with(&self.start) {
                return Ok(());
            }
            self.past_start = true;
            let start = std::mem::take(&mut self.start);
            if start != BOM {
                self.consume(&start)?;
            }
        }
        self.consume(bytes)
    }

    /// The next complete event, oldest first.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    fn too_large(&self) -> SseError {
        SseError::TooLarge { limit: self.limit }
    }

    fn fail(&mut self) -> SseError {
        self.failed = true;
        self.line = Vec::new();
        self.data = String::new();
        self.too_large()
    }

    fn consume(&mut self, mut bytes: &[u8]) -> Result<(), SseError> {
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.extend_line(&bytes[..end])?;
            self.end_line()?;
            let was_cr = bytes[end] == b'\r';
            bytes = &bytes[end + 1..];
            if was_cr {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.extend_line(bytes)
    }

    fn extend_line(&mut self, part: &[u8]) -> Result<(), SseError> {
        if self.line.len() + part.len() > self.limit {
            return Err(self.fail());
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), SseError> {
        let line = std::mem::take(&mut self.line);
        let result = self.interpret(&line);
        // Keep the allocation for the next line.
        self.line = line;
        self.line.clear();
        result
    }

    fn interpret(&mut self, line: &[u8]) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"event" => self.event_type = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                let value = String::from_utf8_lossy(value);
                if self.data.len() + value.len() + 1 > self.limit {
                    return Err(self.fail());
                }
                self.data.push_str(&value);
                self.data.push('\n');
            }
            // `id` and `retry` serve reconnecting, which a provider's answer never does; other
            // fields are ignored by the standard.
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self) {
        let event_type = std::mem::take(&mut self.event_type);
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        self.ready.push_back(SseEvent {
            event: if event_type.is_empty() {
                "message".to_string()
            } else {
                event_type
            },
            data,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str) -> SseEvent {
        SseEvent {
            event: name.into(),
            data: data.into(),
        }
    }

    fn decode_in<'a>(
        decoder: &mut SseDecoder,
        chunks: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<SseEvent>, SseError> {
        for chunk in chunks {
            decoder.feed(chunk)?;
        }
        Ok(std::iter::from_fn(|| decoder.next_event()).collect())
    }

    fn decode(bytes: &[u8]) -> Vec<SseEvent> {
        decode_in(&mut SseDecoder::new(), [bytes]).expect("decodes")
    }

    #[test]
    fn events_end_at_blank_lines_with_any_line_ending() {
        let expected = vec![event("message", "one"), event("update", "two")];
        assert_eq!(
            decode(b"data: one\n\nevent: update\ndata: two\n\n"),
            expected
        );
        assert_eq!(
            decode(b"data: one\r\n\r\nevent: update\r\ndata: two\r\n\r\n"),
            expected
        );
        assert_eq!(
            decode(b"data: one\r\revent: update\rdata: two\r\r"),
            expected
        );
        assert_eq!(
            decode(b"data: one\r\n\revent: update\ndata: two\r\n\n"),
            expected
        );
    }

    #[test]
    fn every_split_of_the_stream_gives_the_same_events() {
        let body = "\u{FEFF}: hello\r\nevent: a\r\ndata: één\r\ndata:😀\r\n\r\n\
                    data: x\rid: 7\r\r: ping\n\ndata: last\n\n"
            .as_bytes();
        let expected = vec![
            event("a", "één\n😀"),
            event("message", "x"),
            event("message", "last"),
        ];
        assert_eq!(decode(body), expected);
        for chunks in crate::ai::test_support::chunkings(body) {
            assert_eq!(
                decode_in(&mut SseDecoder::new(), chunks.iter().copied()).expect("decodes"),
                expected,
                "chunked as {chunks:?}"
            );
        }
    }

    #[test]
    fn a_cr_at_the_end_of_one_read_and_lf_at_the_start_of_the_next_are_one_line_end() {
        let mut decoder = SseDecoder::new();
        let events = decode_in(&mut decoder, [&b"data: a\r"[..], b"\n", b"\r", b"\n"]);
        assert_eq!(events, Ok(vec![event("message", "a")]));
        // Two CRs are two line ends: a blank line, hence an event.
        let events = decode_in(&mut SseDecoder::new(), [&b"data: b\r"[..], b"\r"]);
        assert_eq!(events, Ok(vec![event("message", "b")]));
    }

    #[test]
    fn comments_are_skipped() {
        assert_eq!(
            decode(b": keep-alive\n\n:\n\ndata: a\n: between\ndata: b\n\n"),
            vec![event("message", "a\nb")]
        );
    }

    #[test]
    fn one_space_after_the_colon_is_dropped_and_no_more() {
        assert_eq!(
            decode(b"data:tight\n\ndata: spaced\n\ndata:  two\n\ndata\n\ndata:\n\n"),
            vec![
                event("message", "tight"),
                event("message", "spaced"),
                event("message", " two"),
                event("message", ""),
                event("message", ""),
            ]
        );
    }

    #[test]
    fn data_lines_join_with_newlines() {
        assert_eq!(
            decode(b"data: {\ndata: \"a\": 1\ndata: }\n\n"),
            vec![event("message", "{\n\"a\": 1\n}")]
        );
        assert_eq!(decode(b"data:\ndata:\n\n"), vec![event("message", "\n")]);
    }

    #[test]
    fn a_leading_bom_is_skipped_even_when_split_but_only_at_the_start() {
        let body = b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n";
        let expected = vec![event("message", "a")];
        assert_eq!(decode(body), expected);
        let events = decode_in(
            &mut SseDecoder::new(),
            [&body[..1], &body[1..2], &body[2..]],
        );
        assert_eq!(events, Ok(expected));
        // A partial BOM is not a BOM: its bytes are text (here, an ignored field name).
        assert_eq!(
            decode(b"\xEF\xBBdata: a\n\ndata: b\n\n"),
            vec![event("message", "b")]
        );
        // A stream shorter than a BOM is fine.
        assert_eq!(decode(b"\n"), vec![]);
    }

    #[test]
    fn an_event_not_closed_by_a_blank_line_is_not_dispatched() {
        assert_eq!(decode(b"data: a\n\ndata: b\n"), vec![event("message", "a")]);
        assert_eq!(decode(b"data: a\n\ndata: b"), vec![event("message", "a")]);
    }

    #[test]
    fn an_event_without_data_is_not_dispatched_and_does_not_name_the_next() {
        assert_eq!(
            decode(b"event: ping\n\ndata: a\n\nevent: x\nid: 1\nretry: 10\n\n"),
            vec![event("message", "a")]
        );
    }

    #[test]
    fn a_multibyte_character_split_across_reads_is_kept_whole() {
        let body = "data: 日本\n\n".as_bytes();
        for at in 0..body.len() {
            let events = decode_in(&mut SseDecoder::new(), [&body[..at], &body[at..]]);
            assert_eq!(events, Ok(vec![event("message", "日本")]));
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters() {
        assert_eq!(
            decode(b"event: \xFF\ndata: a\xC3\xFFb\xE6\x97\n\n"),
            vec![event("\u{FFFD}", "a\u{FFFD}\u{FFFD}b\u{FFFD}")]
        );
    }

    #[test]
    fn an_over_long_line_is_an_error_not_a_growing_buffer() {
        let mut decoder = SseDecoder::with_limit(16);
        assert_eq!(decoder.feed(b"data: ok\n\ndata: 0123"), Ok(()));
        assert_eq!(
            decoder.feed(b"456789abcdef"),
            Err(SseError::TooLarge { limit: 16 })
        );
        // What completed before the error is still there; nothing more is accepted.
        assert_eq!(decoder.next_event(), Some(event("message", "ok")));
        assert_eq!(decoder.feed(b"\n\n"), Err(SseError::TooLarge { limit: 16 }));
        assert_eq!(decoder.next_event(), None);
        // Without line ends, at the real limit.
        let mut decoder = SseDecoder::new();
        let chunk = vec![b'a'; 64 * 1024];
        let mut result = Ok(());
        for _ in 0..=(MAX_EVENT_BYTES / chunk.len()) {
            result = result.and_then(|()| decoder.feed(&chunk));
        }
        assert_eq!(
            result,
            Err(SseError::TooLarge {
                limit: MAX_EVENT_BYTES
            })
        );
        assert!(decoder.line.capacity() <= MAX_EVENT_BYTES);
    }

    #[test]
    fn an_event_of_many_short_data_lines_is_bounded_too() {
        let mut decoder = SseDecoder::with_limit(16);
        let result = decode_in(
            &mut decoder,
            [&b"data: 12345\ndata: 12345\ndata: 12345\n"[..]],
        );
        assert_eq!(result, Err(SseError::TooLarge { limit: 16 }));
        // Comments and ignored fields are bounded by the line limit alone: they are never kept.
        let mut decoder = SseDecoder::with_limit(16);
        let many = b": 0123456789\n".repeat(1000);
        assert_eq!(decode_in(&mut decoder, [&many[..]]), Ok(vec![]));
    }
}
