//! Keyset cursors for the admin lists: the position after the last row shown, as an opaque
//! string (`<microseconds>.<id>`) that travels in the page's address. A cursor that does not
//! read back is the caller's mistake, never a server fault.

use std::{fmt::Display, str::FromStr};

use app::admin::{PAGE_SIZE, Page};
use time::OffsetDateTime;

/// How many rows a list's query asks for: a page and one more, which tells whether another page
/// follows.
pub const PAGE_QUERY_LIMIT: i64 = PAGE_SIZE as i64 + 1;

/// The page of `rows` (read with [`PAGE_QUERY_LIMIT`], in the list's order): the first
/// [`PAGE_SIZE`] made into items by `item`, and, when more followed, the cursor of the last one
/// kept, where `position` says a row stands.
pub fn page<Row, Id: Display, T, E>(
    mut rows: Vec<Row>,
    position: impl Fn(&Row) -> Cursor<Id>,
    item: impl FnMut(Row) -> Result<T, E>,
) -> Result<Page<T>, E> {
    let next = (rows.len() > PAGE_SIZE).then(|| position(&rows[PAGE_SIZE - 1]).encode());
    rows.truncate(PAGE_SIZE);
    let items = rows.into_iter().map(item).collect::<Result<_, E>>()?;
    Ok(Page { items, next })
}

/// A list position: the sort time and the id that breaks ties between equal times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor<Id> {
    pub at: OffsetDateTime,
    pub id: Id,
}

/// The cursor's text could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this list position is not one the server made")]
pub struct BadCursor;

impl<Id: Display> Cursor<Id> {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at.unix_timestamp_nanos() / 1_000, self.id)
    }
}

impl<Id: FromStr> Cursor<Id> {
    /// `None` for no cursor (the first page).
    pub fn decode(text: Option<&str>) -> Result<Option<Self>, BadCursor> {
        let Some(text) = text.filter(|text| !text.is_empty()) else {
            return Ok(None);
        };
        let (micros, id) = text.split_once('.').ok_or(BadCursor)?;
        let micros: i128 = micros.parse().map_err(|_| BadCursor)?;
        let at =
            OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| BadCursor)?;
        let id = id.parse().map_err(|_| BadCursor)?;
        Ok(Some(Self { at, id }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_cursor_reads_back_to_the_microsecond() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_000).unwrap();
        let cursor = Cursor {
            at,
            id: Uuid::nil(),
        };
        assert_eq!(Cursor::decode(Some(&cursor.encode())), Ok(Some(cursor)));
        let cursor = Cursor { at, id: 42_i64 };
        assert_eq!(Cursor::decode(Some(&cursor.encode())), Ok(Some(cursor)));
        assert_eq!(Cursor::<i64>::decode(None), Ok(None));
        assert_eq!(Cursor::<i64>::decode(Some("")), Ok(None));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "x",
            "1.",
            ".1",
            "1.2.3",
            "99999999999999999999999999999.1",
            "1.not-a-uuid",
            "\r\n.1",
        ] {
            assert_eq!(Cursor::<Uuid>::decode(Some(text)), Err(BadCursor), "{text}");
        }
        assert_eq!(Cursor::<i64>::decode(Some("1.1.1")), Err(BadCursor));
    }
}
