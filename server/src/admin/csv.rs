//! CSV for the admin exports: RFC 4180 records, made safe to open in a spreadsheet, written in
//! chunks to a channel that the HTTP answer streams from (see [`super::exports`]).
//!
//! Two escapes, in this order:
//! - **Formula injection**: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as
//!   a formula (and some treat a leading TAB or CR the same way), and much of what we export
//!   was typed by strangers: a waitlist name, a user agent, an order id. Such a field gets a
//!   leading `'`, which spreadsheets read as "text" and do not show.
//! - **RFC 4180**: a field holding a comma, a quote, a CR or an LF is quoted, with every inner
//!   quote doubled; the `'` above goes inside the quotes. Records end with CRLF.

use std::borrow::Cow;

use axum::body::Bytes;
use tokio::sync::mpsc;

/// What a written chunk aims at: big enough that a 100,000-row export is a few hundred writes,
/// small enough that an export in flight holds little memory (see [`CHUNKS_IN_FLIGHT`]).
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Chunks waiting for the client at most: a slow reader holds the query back instead of the
/// server buffering the table.
pub const CHUNKS_IN_FLIGHT: usize = 2;

/// One chunk of the answer's body, or the failure that ends it early.
pub type Chunk = Result<Bytes, std::io::Error>;

/// `value` as one CSV field.
pub fn field(value: &str) -> Cow<'_, str> {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = value.contains([',', '"', '\r', '\n']);
    if !formula && !quoted {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 4);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
    Cow::Owned(out)
}

/// Appends one record to `out`: the fields escaped, separated by commas, ended by CRLF. `None`
/// (a database NULL) is an empty field.
pub fn push_record<'a>(out: &mut String, fields: impl IntoIterator<Item = Option<&'a str>>) {
    for (i, value) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some(value) = value {
            out.push_str(&field(value));
        }
    }
    out.push_str("\r\n");
}

/// The reader of the export went away (the client closed the connection): stop reading rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the export's reader went away")]
pub struct ReaderGone;

/// Writes records into chunks of about [`CHUNK_BYTES`] and sends each to the answer's body,
/// waiting while the client is behind.
pub struct CsvWriter {
    buffer: String,
    out: mpsc::Sender<Chunk>,
}

impl CsvWriter {
    /// A writer and the receiving end its answer streams from.
    pub fn channel() -> (Self, mpsc::Receiver<Chunk>) {
        let (out, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
        (
            Self {
                buffer: String::with_capacity(CHUNK_BYTES + 1024),
                out,
            },
            receiver,
        )
    }

    /// One record (see [`push_record`]), sent on once the chunk is full.
    pub async fn record<'a>(
        &mut self,
        fields: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Result<(), ReaderGone> {
        push_record(&mut self.buffer, fields);
        if self.buffer.len() >= CHUNK_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends what is written so far.
    pub async fn flush(&mut self) -> Result<(), ReaderGone> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, String::with_capacity(CHUNK_BYTES + 1024));
        self.out
            .send(Ok(Bytes::from(chunk)))
            .await
            .map_err(|_| ReaderGone)
    }

    /// Ends the body with an error instead of its last rows: the client sees a broken download,
    /// never a file that looks complete but is not.
    pub async fn fail(self, why: &str) {
        let _ = self
            .out
            .send(Err(std::io::Error::other(why.to_string())))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[Option<&str>]) -> String {
        let mut out = String::new();
        push_record(&mut out, fields.iter().copied());
        out
    }

    #[test]
    fn plain_fields_are_left_as_they_are() {
        for plain in [
            "",
            "ana@kilat.id",
            "Siti Rahayu",
            "payment.success",
            "2026-12-04T03:00:00Z",
            "42",
            "a'b",
            " leading space",
            "trailing tab\t",
            "Déwi 🌩",
        ] {
            assert_eq!(field(plain), plain, "{plain:?}");
            assert!(matches!(field(plain), Cow::Borrowed(_)), "{plain:?}");
        }
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted_with_inner_quotes_doubled() {
        assert_eq!(field("Rahayu, Siti"), "\"Rahayu, Siti\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("\""), "\"\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("windows\r\nline"), "\"windows\r\nline\"");
        assert_eq!(field("a\rb"), "\"a\rb\"");
        assert_eq!(field(","), "\",\"");
    }

    #[test]
    fn every_formula_lead_gets_an_apostrophe() {
        for (raw, safe) in [
            ("=1+1", "'=1+1"),
            ("+62 812 3456", "'+62 812 3456"),
            ("-2", "'-2"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\tcmd", "'\tcmd"),
            (
                "=HYPERLINK(\"http://evil.example\";\"x\")",
                "'=HYPERLINK(\"http://evil.example\";\"x\")",
            ),
        ] {
            // The quoted one holds a quote and is quoted too (below); the rest are bare.
            if !raw.contains('"') {
                assert_eq!(field(raw), safe, "{raw:?}");
            }
        }
        // Only the first character counts.
        assert_eq!(field("a=1"), "a=1");
        assert_eq!(field("1-2"), "1-2");
        assert_eq!(field("x@kilat.id"), "x@kilat.id");
    }

    #[test]
    fn the_apostrophe_goes_inside_the_quotes() {
        assert_eq!(
            field("=HYPERLINK(\"http://evil.example\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""
        );
        assert_eq!(field("-1,5"), "\"'-1,5\"");
        assert_eq!(field("@a\nb"), "\"'@a\nb\"");
        // A leading CR is both a formula lead and a line break.
        assert_eq!(field("\r=1"), "\"'\r=1\"");
        assert_eq!(field("\t\"x\""), "\"'\t\"\"x\"\"\"");
    }

    #[test]
    fn a_record_separates_fields_with_commas_and_ends_with_crlf() {
        assert_eq!(
            record(&[Some("a"), Some("b,c"), None, Some("=d")]),
            "a,\"b,c\",,'=d\r\n"
        );
        assert_eq!(record(&[None]), "\r\n");
        assert_eq!(record(&[None, None]), ",\r\n");
        assert_eq!(record(&[]), "\r\n");
    }

    /// A reader in the RFC's terms, to check that every escaped field reads back as written.
    fn parse(text: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') if field.is_empty() => quoted = true,
                (false, ',') => record.push(std::mem::take(&mut field)),
                (false, '\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                (false, c) => field.push(c),
            }
        }
        assert!(!quoted && field.is_empty() && record.is_empty(), "{text:?}");
        records
    }

    #[test]
    fn every_field_reads_back_as_written_but_for_the_apostrophe() {
        let nasty = [
            "plain",
            "",
            "comma, inside",
            "\"quoted\"",
            "line\nbreak",
            "crlf\r\ninside",
            "=1+1",
            "+1",
            "-1",
            "@x",
            "\tx",
            "\rx",
            "=\"a\",\nb",
            "'already",
            ",,,",
            "\"\"\"",
        ];
        let mut text = String::new();
        push_record(&mut text, nasty.iter().map(|s| Some(*s)));
        push_record(&mut text, nasty.iter().rev().map(|s| Some(*s)));
        let records = parse(&text);
        assert_eq!(records.len(), 2);
        for (read, written) in records[0].iter().zip(nasty) {
            let expected = if written.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{written}")
            } else {
                written.to_string()
            };
            assert_eq!(read, &expected);
        }
        assert_eq!(records[1].len(), nasty.len());
    }

    #[tokio::test]
    async fn the_writer_sends_whole_chunks_then_the_rest_when_flushed() {
        let (mut writer, mut chunks) = CsvWriter::channel();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(chunk) = chunks.recv().await {
                got.push(chunk.unwrap());
            }
            got
        });
        let row = "x".repeat(1000);
        for _ in 0..200 {
            writer.record([Some(row.as_str())]).await.unwrap();
        }
        writer.flush().await.unwrap();
        drop(writer);
        let got = reader.await.unwrap();
        assert_eq!(got.iter().map(Bytes::len).sum::<usize>(), 200 * 1002);
        assert!(got.len() >= 3, "{} chunks", got.len());
        assert!(got[..got.len() - 1].iter().all(|c| c.len() >= CHUNK_BYTES));
    }

    #[tokio::test]
    async fn a_writer_whose_reader_left_stops() {
        let (mut writer, chunks) = CsvWriter::channel();
        drop(chunks);
        let row = "y".repeat(CHUNK_BYTES);
        assert_eq!(writer.record([Some(row.as_str())]).await, Err(ReaderGone));
    }
}
