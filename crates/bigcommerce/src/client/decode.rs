//! How the client decodes v2 listing bodies (pure, so benches decode the very same way).

use std::fmt;
use std::marker::PhantomData;

use cartograph_connector::Result;
use cartograph_http::Response;
use serde::de::{Deserialize, DeserializeOwned, Deserializer, SeqAccess, Visitor};

/// Decodes a v2 listing answer as the client does: `None` for a 204 or an empty body (past
/// the last page), else the JSON array, through [`Response::json`] (a bad row is an
/// [`ErrorKind::Decode`](cartograph_connector::ErrorKind::Decode) error naming its path,
/// e.g. `[3].id`).
///
/// Rows are collected without a length hint (JSON has none): a one-row answer (an order's
/// shipping address) takes room for one row, a longer one room for eight at the second
/// row, so typical order sub-resources are read with one allocation and no regrowth.
///
/// ```
/// use cartograph_bigcommerce::client::v2_rows;
/// use cartograph_bigcommerce::wire::OrderCoupon;
/// use cartograph_http::Response;
///
/// let page = Response::new(200, Default::default(), r#"[{"id": 3, "code": "SAVE5"}]"#);
/// let rows: Vec<OrderCoupon> = v2_rows(&page)?.expect("a page");
/// assert_eq!(rows[0].code, "SAVE5");
/// assert_eq!(v2_rows::<OrderCoupon>(&Response::new(204, Default::default(), ""))?, None);
/// # Ok::<(), cartograph_connector::Error>(())
/// ```
///
/// # Errors
/// As [`Response::json`].
pub fn v2_rows<T: DeserializeOwned>(response: &Response) -> Result<Option<Vec<T>>> {
    if response.status == 204 || response.is_empty() {
        return Ok(None);
    }
    response.json::<Rows<T>>().map(|rows| Some(rows.0))
}

/// A JSON array collected as described on [`v2_rows`].
struct Rows<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Rows<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_seq(RowsVisitor(PhantomData))
    }
}

struct RowsVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for RowsVisitor<T> {
    type Value = Rows<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // What `Vec<T>` says, so errors read as before.
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Rows<T>, A::Error> {
        let Some(first) = seq.next_element()? else {
            return Ok(Rows(Vec::new()));
        };
        let Some(second) = seq.next_element()? else {
            return Ok(Rows(vec![first]));
        };
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0).max(8));
        rows.push(first);
        rows.push(second);
        while let Some(row) = seq.next_element()? {
            rows.push(row);
        }
        Ok(Rows(rows))
    }
}

#[cfg(test)]
mod tests {
    use cartograph_connector::ErrorKind;
    use cartograph_http::http::HeaderMap;

    use super::*;
    use crate::wire::OrderProduct;

    fn response(body: &str) -> Response {
        Response::new(200, HeaderMap::default(), body.to_owned())
    }

    #[test]
    fn rows_decode_like_a_vec_at_every_length() {
        for n in 0..20_u64 {
            let body = serde_json::to_string(
                &(0..n)
                    .map(|id| serde_json::json!({"id": id, "name": format!("p{id}")}))
                    .collect::<Vec<_>>(),
            )
            .unwrap();
            let rows: Vec<OrderProduct> = v2_rows(&response(&body)).unwrap().unwrap();
            let want: Vec<OrderProduct> = serde_json::from_str(&body).unwrap();
            assert_eq!(rows, want, "{n} rows");
        }
    }

    #[test]
    fn bad_rows_name_their_path_and_empty_bodies_are_past_the_end() {
        let err = v2_rows::<OrderProduct>(&response(r#"[{"id": 1}, {"id": 2}, {"id": "x"}]"#))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert_eq!(err.field(), Some("[2].id"));
        let err = v2_rows::<OrderProduct>(&response(r#"{"id": 1}"#)).unwrap_err();
        assert!(err.to_string().contains("expected a sequence"), "{err}");
        assert_eq!(v2_rows::<OrderProduct>(&response(" \n")).unwrap(), None);
        let no_content = Response::new(204, HeaderMap::default(), "");
        assert_eq!(v2_rows::<OrderProduct>(&no_content).unwrap(), None);
    }
}
