//! Categories of order and cart lines, from the catalog.
//!
//! Order products (`/v2/orders/{id}/products`) carry a `product_id` but no categories. For a
//! batch of orders (a listing page, or one order) or a cart's lines, [`LineCategories::fill`]
//! reads the category ids of the products not seen yet with one `id:in` lookup per
//! [`ID_CHUNK`](crate::client::ID_CHUNK) products, then the names of the categories not seen
//! yet the same way, and writes each line's category names, most specific last. Both caches
//! are bounded (oldest entry out first). A product's categories are as the catalog gave them
//! when the connector last read the product (a line lookup, or the product stream, which
//! refreshes them); a category's name as when first read (re-read once evicted).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

use cartograph_connector::Result;
use cartograph_model::{LineItem, Order};

use crate::bounded::Bounded;
use crate::client::Client;

/// Products whose category ids are remembered.
pub(crate) const PRODUCT_CAPACITY: usize = 50_000;
/// Categories whose names and parents are remembered.
pub(crate) const CATEGORY_CAPACITY: usize = 10_000;

/// What the catalog says of a category: its name (`None` when the catalog does not have
/// it, e.g. deleted) and parent (0 = top level).
#[derive(Debug, Clone)]
struct CategoryInfo {
    name: Option<String>,
    parent: u64,
}

/// The line-category caches of one connector.
#[derive(Debug)]
pub(crate) struct LineCategories {
    products: Mutex<Bounded<u64, Vec<u64>>>,
    categories: Mutex<Bounded<u64, CategoryInfo>>,
}

impl Default for LineCategories {
    fn default() -> Self {
        Self::with_capacity(PRODUCT_CAPACITY, CATEGORY_CAPACITY)
    }
}

impl LineCategories {
    /// Caches holding at most `products` products and `categories` categories.
    pub(crate) fn with_capacity(products: usize, categories: usize) -> Self {
        Self {
            products: Mutex::new(Bounded::new(products)),
            categories: Mutex::new(Bounded::new(categories)),
        }
    }

    /// Sets the categories of every line of `orders` that names a catalog product (lines
    /// that already have categories are left alone). Products the catalog no longer has get
    /// none; a category it no longer has is named by its id.
    ///
    /// # Errors
    /// A lookup failed (the orders are left unchanged).
    pub(crate) async fn fill(&self, client: &Client, orders: &mut [Order]) -> Result<()> {
        self.fill_lines(
            client,
            orders
                .iter_mut()
                .flat_map(|o| o.line_items.iter_mut())
                .collect(),
        )
        .await
    }

    /// [`fill`](Self::fill) for any lines (a cart's, an order's).
    ///
    /// # Errors
    /// A lookup failed (the lines are left unchanged).
    pub(crate) async fn fill_lines(
        &self,
        client: &Client,
        lines: Vec<&mut LineItem>,
    ) -> Result<()> {
        let wanted: BTreeSet<u64> = lines
            .iter()
            .filter(|l| l.categories.is_empty())
            .filter_map(|l| product_id(l.product_id.as_deref()))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut known = self.known_products(&wanted);
        let missing: Vec<u64> = wanted
            .iter()
            .copied()
            .filter(|id| !known.contains_key(id))
            .collect();
        if !missing.is_empty() {
            let found = client.product_categories(&missing).await?;
            let mut found: HashMap<u64, Vec<u64>> =
                found.into_iter().map(|p| (p.id, p.categories)).collect();
            let mut cache = self.products.lock().unwrap_or_else(PoisonError::into_inner);
            for id in missing {
                // Absent products are remembered as uncategorised: asking again would
                // cost a request per page for nothing.
                let categories = found.remove(&id).unwrap_or_default();
                cache.insert(id, categories.clone());
                known.insert(id, categories);
            }
        }
        let names = self
            .names(client, known.values().flatten().copied())
            .await?;
        for line in lines {
            if !line.categories.is_empty() {
                continue;
            }
            if let Some(ids) = product_id(line.product_id.as_deref()).and_then(|p| known.get(&p)) {
                line.categories = ordered_names(ids, &names);
            }
        }
        Ok(())
    }

    /// Records the category ids of products read from the catalog anyway (product
    /// listings and reads), so that lines of those products need no lookup and a product
    /// moved to other categories is seen at its next product sync.
    pub(crate) fn remember(&self, products: impl IntoIterator<Item = (u64, Vec<u64>)>) {
        let mut cache = self.products.lock().unwrap_or_else(PoisonError::into_inner);
        for (id, categories) in products {
            cache.insert(id, categories);
        }
    }

    /// The cached category ids of the products in `wanted`.
    fn known_products(&self, wanted: &BTreeSet<u64>) -> HashMap<u64, Vec<u64>> {
        let cache = self.products.lock().unwrap_or_else(PoisonError::into_inner);
        wanted
            .iter()
            .filter_map(|id| cache.get(id).map(|c| (*id, c.clone())))
            .collect()
    }

    /// Name and parent of every category in `ids`, reading the ones not cached.
    async fn names(
        &self,
        client: &Client,
        ids: impl Iterator<Item = u64>,
    ) -> Result<HashMap<u64, CategoryInfo>> {
        let ids: BTreeSet<u64> = ids.collect();
        let mut out: HashMap<u64, CategoryInfo> = {
            let cache = self
                .categories
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            ids.iter()
                .filter_map(|id| cache.get(id).map(|c| (*id, c.clone())))
                .collect()
        };
        let missing: Vec<u64> = ids.into_iter().filter(|id| !out.contains_key(id)).collect();
        if missing.is_empty() {
            return Ok(out);
        }
        let mut found: HashMap<u64, CategoryInfo> = client
            .categories_by_id(&missing)
            .await?
            .into_iter()
            .map(|c| {
                let name = Some(c.name.trim().to_owned()).filter(|n| !n.is_empty());
                (
                    c.id,
                    CategoryInfo {
                        name,
                        parent: c.parent_id,
                    },
                )
            })
            .collect();
        let mut cache = self
            .categories
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for id in missing {
            let info = found.remove(&id).unwrap_or(CategoryInfo {
                name: None,
                parent: 0,
            });
            cache.insert(id, info.clone());
            out.insert(id, info);
        }
        Ok(out)
    }
}

/// A catalog product id (`None` for blanks, zero and non-numeric ids).
fn product_id(id: Option<&str>) -> Option<u64> {
    id?.trim().parse().ok().filter(|id| *id > 0)
}

/// The names of a product's categories, most specific last: ordered by how many of the
/// product's other categories are ancestors of each (walking the parents read so far, so a
/// category comes after its parent when the product is in both), then in the catalog's
/// order; a category without a name is named by its id.
fn ordered_names(ids: &[u64], info: &HashMap<u64, CategoryInfo>) -> Vec<String> {
    let own: BTreeSet<u64> = ids.iter().copied().collect();
    let depth = |id: u64| {
        let mut depth = 0usize;
        let mut seen = BTreeSet::from([id]);
        let mut at = id;
        while let Some(parent) = info.get(&at).map(|c| c.parent).filter(|p| *p != 0) {
            if !seen.insert(parent) {
                break; // a cycle: the catalog never has one, but never loop on it
            }
            if own.contains(&parent) {
                depth += 1;
            }
            at = parent;
        }
        depth
    };
    let mut ordered: Vec<(usize, usize, u64)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().copied().enumerate() {
        if seen.insert(id) {
            ordered.push((depth(id), i, id));
        }
    }
    ordered.sort_unstable();
    ordered
        .into_iter()
        .map(|(_, _, id)| {
            info.get(&id)
                .and_then(|c| c.name.clone())
                .unwrap_or_else(|| id.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests;
