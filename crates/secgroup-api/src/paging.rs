//! Paging, in Alibaba's two styles: page numbers (`PageNumber`/`PageSize`) and opaque
//! tokens (`MaxResults`/`NextToken`). Listings are computed whole and then cut, so both
//! styles share [`Paging::cut`].

use std::ops::RangeInclusive;

use secgroup_domain::ops::Window;
use secgroup_rpc::RpcError;

use crate::errors::invalid;
use crate::input::Input;

/// One page of a listing, as the request asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Page `number` (from 1) of `size` items.
    Pages { number: usize, size: usize },
    /// At most `max` items from `offset` (which a `NextToken` encodes).
    Tokens { offset: usize, max: usize },
}

/// A cut listing: the items of the page, how many there are in all, and the token of the
/// next page (`""` on the last page, and always in the page-number style).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub next_token: String,
}

impl Paging {
    /// The slice of the listing this page is, for a domain listing that cuts it itself.
    pub fn window(self) -> Window {
        match self {
            Paging::Pages { number, size } => Window {
                offset: number.saturating_sub(1).saturating_mul(size),
                limit: size,
            },
            Paging::Tokens { offset, max } => Window { offset, limit: max },
        }
    }

    /// The token of the page after this one, once `returned` of `total` items came back
    /// (`""` on the last page, and always in the page-number style).
    pub fn next_token(self, total: usize, returned: usize) -> String {
        let end = self.window().offset.saturating_add(returned);
        match self {
            Paging::Tokens { .. } if end < total => next_token::encode(end),
            _ => String::new(),
        }
    }

    /// The items of this page out of `all`.
    pub fn cut<T>(self, all: Vec<T>) -> PageOf<T> {
        let (total, items) = self.window().cut(all);
        let next_token = self.next_token(total, items.len());
        PageOf {
            items,
            total,
            next_token,
        }
    }
}

impl Input<'_> {
    /// `PageNumber` (from 1, default 1) and `PageSize` within `sizes` (default
    /// `default_size`); a bad value is `InvalidParameter` naming it.
    pub fn pages(
        &mut self,
        sizes: RangeInclusive<i64>,
        default_size: i64,
    ) -> Result<Paging, RpcError> {
        let number = self
            .int_in("PageNumber", 1..=i64::from(u32::MAX), || {
                invalid("PageNumber")
            })?
            .unwrap_or(1);
        let size = self
            .int_in("PageSize", sizes, || invalid("PageSize"))?
            .unwrap_or(default_size);
        Ok(Paging::Pages {
            number: usize::try_from(number).unwrap_or(usize::MAX),
            size: usize::try_from(size).unwrap_or(usize::MAX),
        })
    }

    /// `NextToken` (one of ours, else `bad_token`) from the first item when absent.
    pub fn next_token(&mut self, bad_token: impl FnOnce() -> RpcError) -> Result<usize, RpcError> {
        match self.non_empty("NextToken") {
            None => Ok(0),
            Some(token) => next_token::decode(token).ok_or_else(bad_token),
        }
    }
}

/// Offset-based opaque `NextToken`s.
pub mod next_token {
    /// A token for the item at `offset`.
    pub fn encode(offset: usize) -> String {
        format!("{:016x}", (offset as u64) ^ SALT)
    }
    /// The offset a token stands for; `None` when it is not one of ours.
    pub fn decode(token: &str) -> Option<usize> {
        if token.len() != 16 {
            return None;
        }
        u64::from_str_radix(token, 16)
            .ok()
            .and_then(|v| usize::try_from(v ^ SALT).ok())
    }
    /// Keeps tokens from looking like plain counters.
    const SALT: u64 = 0x5ec9_a0b1_7e57_1d00;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_others() {
        assert_eq!(next_token::decode(&next_token::encode(42)), Some(42));
        assert_eq!(next_token::decode("zz"), None);
        assert_eq!(next_token::decode("not-a-hex-token!"), None);
    }

    #[test]
    fn both_styles_cut_the_same_listing() {
        let pages = Paging::Pages { number: 2, size: 2 };
        assert_eq!(
            pages.cut(vec![1, 2, 3]),
            PageOf {
                items: vec![3],
                total: 3,
                next_token: String::new()
            }
        );
        let first = Paging::Tokens { offset: 0, max: 2 }.cut(vec![1, 2, 3]);
        assert_eq!(first.items, vec![1, 2]);
        let offset = next_token::decode(&first.next_token).expect("a next page");
        let last = Paging::Tokens { offset, max: 2 }.cut(vec![1, 2, 3]);
        assert_eq!((last.items, last.next_token), (vec![3], String::new()));
        assert_eq!(
            Paging::Pages { number: 3, size: 2 }
                .cut(vec![1, 2, 3])
                .items,
            Vec::<i32>::new()
        );
    }
}
