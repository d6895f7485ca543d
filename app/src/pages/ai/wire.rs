//! The AI routes' wire formats, as the browser reads and writes them: server-sent events cut
//! from a response's bytes as they arrive, and the JSON bodies of requests.

/// Server-sent events cut from the bytes of a response as they arrive.
#[derive(Default)]
pub struct EventReader {
    pending: Vec<u8>,
    /// How far `pending` is known to hold no blank line.
    scanned: usize,
}

impl EventReader {
    /// Every event `bytes` completes, as (name, data). Events without a name are `message`;
    /// comments (the keep-alives) are skipped.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<(String, String)> {
        // Line ends may be CRLF: the CRs carry nothing.
        self.pending
            .extend(bytes.iter().copied().filter(|&byte| byte != b'\r'));
        let mut events = Vec::new();
        loop {
            let from = self.scanned.saturating_sub(1);
            let Some(offset) = self.pending[from..]
                .windows(2)
                .position(|pair| pair == b"\n\n")
            else {
                self.scanned = self.pending.len();
                break;
            };
            let end = from + offset;
            let block: Vec<u8> = self.pending.drain(..end + 2).collect();
            self.scanned = 0;
            let block = String::from_utf8_lossy(&block[..end]);
            let mut name = String::new();
            let mut data: Vec<&str> = Vec::new();
            for line in block.split('\n') {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => name = value.to_string(),
                    "data" => data.push(value),
                    _ => {}
                }
            }
            if !data.is_empty() {
                if name.is_empty() {
                    name = "message".into();
                }
                events.push((name, data.join("\n")));
            }
        }
        events
    }
}

/// A JSON object of string fields, e.g. `{"message":"…"}`.
pub fn json_body(fields: &[(&str, &str)]) -> String {
    let mut body = String::from("{");
    for (index, (key, value)) in fields.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        push_json_string(&mut body, key);
        body.push(':');
        push_json_string(&mut body, value);
    }
    body.push('}');
    body
}

fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::{EventReader, json_body};

    #[test]
    fn request_bodies_are_json_whatever_the_message_holds() {
        let body = json_body(&[
            ("message", "say \"hi\"\\ \n\t\u{1}é 😀"),
            ("conversation_id", "c1"),
        ]);
        assert_eq!(
            body,
            r#"{"message":"say \"hi\"\\ \n\t\u0001é 😀","conversation_id":"c1"}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["message"], "say \"hi\"\\ \n\t\u{1}é 😀");
        assert_eq!(json_body(&[]), "{}");
    }

    #[test]
    fn events_are_cut_where_they_end_however_the_bytes_arrive() {
        let stream = "event: start\ndata: {\"conversation_id\":\"c1\"}\n\n: keep-alive\n\nevent: text\r\ndata: {\"text\":\"Halo \u{1F600}\"}\r\n\r\nevent: end\ndata: {\"status\":\"complete\"}\n\n";
        let expected = vec![
            (
                "start".to_string(),
                "{\"conversation_id\":\"c1\"}".to_string(),
            ),
            (
                "text".to_string(),
                "{\"text\":\"Halo \u{1F600}\"}".to_string(),
            ),
            ("end".to_string(), "{\"status\":\"complete\"}".to_string()),
        ];
        // Whole, and one byte at a time (splitting the emoji's bytes and every line end).
        assert_eq!(EventReader::default().feed(stream.as_bytes()), expected);
        let mut reader = EventReader::default();
        let mut events = Vec::new();
        for byte in stream.as_bytes() {
            events.extend(reader.feed(std::slice::from_ref(byte)));
        }
        assert_eq!(events, expected);
    }

    #[test]
    fn unnamed_and_multi_line_data_and_an_unfinished_event() {
        let mut reader = EventReader::default();
        assert_eq!(
            reader.feed(b"data: a\ndata: b\n\nevent: text\ndata: {\"text\":"),
            vec![("message".to_string(), "a\nb".to_string())]
        );
        assert_eq!(
            reader.feed(b"\"x\"}\n\n"),
            vec![("text".to_string(), "{\"text\":\"x\"}".to_string())]
        );
        assert!(reader.feed(b"event: nothing\n\n").is_empty());
    }
}
